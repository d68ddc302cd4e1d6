/* test_model.c - forward pass, losses and gradients (doc/design.md,
 * "Gradients", "Saturation").  The gradients are checked against finite
 * differences of the loss, against the textbook formula, and in saturation
 * against references evaluated here in quad precision (__float128). */
#include <criterion/criterion.h>
#include <float.h>
#include <math.h>
#include <quadmath.h>
#include <stdlib.h>
#include <string.h>

#include "mdatt.h"
#include "internal.h" /* MDATT_PACK_MAX: which evaluation path a size takes */

typedef __float128 quad;

static const mdatt_loss LOSSES[] = {MDATT_LOSS_LOGISTIC, MDATT_LOSS_EXPONENTIAL,
                                    MDATT_LOSS_CORRELATION};

static void make_instance(mdatt_instance *in, int n, int T, int d, uint64_t seed)
{
    mdatt_gen_settings g;
    mdatt_gen_default_settings(&g);
    g.n = n; g.T = T; g.d = d; g.seed = seed;
    cr_assert_eq(mdatt_gen(&g, in), MDATT_OK);
}

static double *random_matrix(int m, uint64_t seed, double scale)
{
    mdatt_rng r;
    double *x = malloc((size_t)m * sizeof *x);
    mdatt_rng_seed(&r, seed);
    for (int j = 0; j < m; j++) x[j] = scale * mdatt_rng_normal(&r);
    return x;
}

static double nrm2(const double *x, int m)
{
    double s = 0;
    for (int j = 0; j < m; j++) s += x[j] * x[j];
    return sqrt(s);
}

static double loss_at(const mdatt_instance *in, const double *W, const double *v, mdatt_loss l,
                      mdatt_work *w)
{
    mdatt_eval ev;
    cr_assert_eq(mdatt_eval_grad(in, W, v, l, w, &ev, NULL, NULL, NULL), MDATT_OK);
    return ev.loss;
}

/* Fourth-order central difference of L along coordinate j of x. */
static double fd(const mdatt_instance *in, double *W, double *v, double *x, int j,
                 mdatt_loss l, mdatt_work *w)
{
    const double h = 1e-3, x0 = x[j];
    double f[4];
    const double off[4] = {-2, -1, 1, 2};
    for (int k = 0; k < 4; k++) {
        x[j] = x0 + off[k] * h;
        f[k] = loss_at(in, W, v, l, w);
    }
    x[j] = x0;
    return (f[0] - 8 * f[1] + 8 * f[2] - f[3]) / (12 * h);
}

Test(model, gradients_match_finite_differences)
{
    const int n = 5, T = 6, d = 7;
    for (uint64_t seed = 1; seed <= 3; seed++)
        for (size_t il = 0; il < 3; il++) {
            mdatt_instance in;
            make_instance(&in, n, T, d, seed);
            mdatt_work *w = mdatt_work_new(&in);
            double *W = random_matrix(d * d, 100 + seed, 0.8), *v = in.v;
            double G[49], g[7], fdW[49], fdv[7], err = 0;
            mdatt_grad gW = {G, 0}, gv = {g, 0};
            for (int j = 0; j < d; j++) v[j] *= 2.0;
            cr_assert_eq(mdatt_eval_grad(&in, W, v, LOSSES[il], w, NULL, &gW, &gv, NULL),
                         MDATT_OK);
            for (int j = 0; j < d * d; j++) {
                G[j] *= exp(gW.log_scale);
                fdW[j] = fd(&in, W, v, W, j, LOSSES[il], w);
            }
            for (int j = 0; j < d; j++) {
                g[j] *= exp(gv.log_scale);
                fdv[j] = fd(&in, W, v, v, j, LOSSES[il], w);
            }
            for (int j = 0; j < d * d; j++) err += (G[j] - fdW[j]) * (G[j] - fdW[j]);
            err = sqrt(err) / nrm2(fdW, d * d);
            cr_expect(err < 1e-6, "W: seed %d loss %s: rel err %g", (int)seed,
                      mdatt_loss_name(LOSSES[il]), err);
            err = 0;
            for (int j = 0; j < d; j++) err += (g[j] - fdv[j]) * (g[j] - fdv[j]);
            err = sqrt(err) / nrm2(fdv, d);
            cr_expect(err < 1e-6, "v: seed %d loss %s: rel err %g", (int)seed,
                      mdatt_loss_name(LOSSES[il]), err);
            free(W);
            mdatt_work_free(w);
            mdatt_instance_free(&in);
        }
}

/* Stable and textbook gradients agree away from saturation, on the hand-loop
 * path (small) and on the OpenBLAS path (large). */
static void check_against_naive(int n, int T, int d, uint64_t seed)
{
    mdatt_instance in;
    make_instance(&in, n, T, d, seed);
    mdatt_work *w = mdatt_work_new(&in);
    double *W = random_matrix(d * d, seed + 7, 1.0 / sqrt(d));
    double *G = malloc(sizeof(double) * d * d), *Gn = malloc(sizeof(double) * d * d);
    double *g = malloc(sizeof(double) * d), *gn = malloc(sizeof(double) * d);
    for (size_t il = 0; il < 3; il++) {
        mdatt_grad gW = {G, 0}, gv = {g, 0};
        mdatt_eval ev, evn;
        double eW = 0, ev_ = 0, nW = 0, nv = 0;
        cr_assert_eq(mdatt_eval_grad(&in, W, in.v, LOSSES[il], w, &ev, &gW, &gv, NULL), MDATT_OK);
        cr_assert_eq(mdatt_eval_grad_naive(&in, W, in.v, LOSSES[il], &evn, Gn, gn), MDATT_OK);
        for (int j = 0; j < d * d; j++) {
            double x = G[j] * exp(gW.log_scale);
            eW += (x - Gn[j]) * (x - Gn[j]);
            nW += Gn[j] * Gn[j];
        }
        for (int j = 0; j < d; j++) {
            double x = g[j] * exp(gv.log_scale);
            ev_ += (x - gn[j]) * (x - gn[j]);
            nv += gn[j] * gn[j];
        }
        cr_expect(sqrt(eW / nW) < 1e-12, "%dx%dx%d W rel err %g", n, T, d, sqrt(eW / nW));
        cr_expect(sqrt(ev_ / nv) < 1e-12, "%dx%dx%d v rel err %g", n, T, d, sqrt(ev_ / nv));
        cr_expect(fabs(ev.loss - evn.loss) <= 1e-13 * fabs(evn.loss), "loss %.17g vs %.17g",
                  ev.loss, evn.loss);
        if (LOSSES[il] != MDATT_LOSS_CORRELATION)
            cr_expect(fabs(ev.log_loss - log(evn.loss)) < 1e-13);
        cr_expect(fabs(ev.smax_mean - evn.smax_mean) < 1e-14);
        /* G is scaled so that max |G_jk| is in [1/2, 1) */
        double mx = 0;
        for (int j = 0; j < d * d; j++) mx = fmax(mx, fabs(G[j]));
        cr_expect(mx >= 0.5 && mx < 1.0);
    }
    free(W); free(G); free(Gn); free(g); free(gn);
    mdatt_work_free(w);
    mdatt_instance_free(&in);
}

Test(model, stable_equals_textbook_unsaturated_small) { check_against_naive(6, 8, 10, 4); }
Test(model, stable_equals_textbook_unsaturated_blas) { check_against_naive(40, 40, 32, 5); }
/* the packed path with padding in every dimension (n, T, d not multiples
 * of 4), with 1 to 4 blocks of 4 columns of Z (d = 16: the outer product's
 * general loop, d = 13: its last row through the spill buffer), and the
 * hand-loop path on the caller's X (n*T*d above the packed size, n*d*d
 * below the OpenBLAS size) */
Test(model, stable_equals_textbook_unsaturated_packed_odd_sizes)
{
    check_against_naive(5, 6, 7, 8);
    check_against_naive(9, 3, 5, 9);
    check_against_naive(13, 9, 11, 10);
    check_against_naive(5, 6, 16, 11);
    check_against_naive(7, 5, 13, 12);
}
Test(model, stable_equals_textbook_unsaturated_unpacked) { check_against_naive(30, 64, 10, 6); }

/* ------------------------------------------------------ quad references */

/* The textbook gradient (design.md (4) verbatim) in quad precision,
 * logistic loss.  identity = 1 evaluates instead the cancellation-free
 * identity sum_{t!=a} s_t((h_t - h_a) + D)(x_t - x_a), D = sum s_u (h_a - h_u),
 * which quad resolves at any saturation (its exponent range is 1e+-4932). */
static void quad_grad(const mdatt_instance *in, const double *W, const double *v, int identity,
                      quad *gW, quad *gv)
{
    const int n = in->n, T = in->T, d = in->d;
    quad a[512], s[512], h[512], g[64];
    cr_assert(T <= 512 && d <= 64);
    for (int j = 0; j < d * d; j++) gW[j] = 0;
    for (int j = 0; j < d; j++) gv[j] = 0;
    for (int i = 0; i < n; i++) {
        const double *X = in->X + (size_t)i * T * d, *z = in->Z + (size_t)i * d;
        quad amax = -1e300Q, Z = 0, f = 0, c, u;
        int al = 0;
        for (int t = 0; t < T; t++) {
            a[t] = 0;
            h[t] = 0;
            for (int j = 0; j < d; j++) {
                quad wz = 0;
                for (int k = 0; k < d; k++) wz += (quad)W[j * d + k] * z[k];
                a[t] += X[t * d + j] * wz;
                h[t] += (quad)X[t * d + j] * v[j];
            }
            if (a[t] > amax) { amax = a[t]; al = t; }
        }
        for (int t = 0; t < T; t++) { s[t] = expq(a[t] - amax); Z += s[t]; }
        for (int t = 0; t < T; t++) { s[t] /= Z; f += s[t] * h[t]; }
        for (int j = 0; j < d; j++) g[j] = 0;
        if (!identity) {
            for (int t = 0; t < T; t++)
                for (int j = 0; j < d; j++) g[j] += s[t] * (h[t] - f) * X[t * d + j];
        } else {
            quad D = 0;
            for (int t = 0; t < T; t++) if (t != al) D += s[t] * (h[al] - h[t]);
            f = h[al] - D;
            for (int t = 0; t < T; t++)
                if (t != al)
                    for (int j = 0; j < d; j++)
                        g[j] += s[t] * ((h[t] - h[al]) + D) * ((quad)X[t * d + j] - X[al * d + j]);
        }
        u = in->Y[i] * f;
        c = -1 / (1 + expq(u)) * in->Y[i] / n;
        for (int j = 0; j < d; j++)
            for (int k = 0; k < d; k++) gW[j * d + k] += c * g[j] * z[k];
        for (int t = 0; t < T; t++)
            for (int j = 0; j < d; j++) gv[j] += c * s[t] * X[t * d + j];
    }
}

/* ||G e^ls / |G e^ls| - g/|g| || and |log|G e^ls| - log|g|| with g in quad.
 * g is first scaled by a power of two (frexpq/ldexpq, exact) so that the
 * rest runs in double: valgrind emulates the x87 parts of libquadmath's
 * sqrtq/logq in 64 bits, which breaks them far outside double range. */
static void compare_quad(const double *G, double ls, const quad *g, int m, double *derr,
                         double *lerr)
{
    quad gmax = 0;
    double y[256], sy = 0, sG = 0, s = 0, ng, nG, logng;
    int e;
    cr_assert(m <= 256);
    for (int j = 0; j < m; j++) if (fabsq(g[j]) > gmax) gmax = fabsq(g[j]);
    frexpq(gmax, &e);
    for (int j = 0; j < m; j++) { y[j] = (double)ldexpq(g[j], -e); sy += y[j] * y[j]; }
    for (int j = 0; j < m; j++) sG += G[j] * G[j];
    ng = sqrt(sy);
    nG = sqrt(sG);
    for (int j = 0; j < m; j++) s += (G[j] / nG - y[j] / ng) * (G[j] / nG - y[j] / ng);
    *derr = sqrt(s);
    logng = e * M_LN2 + log(ng);
    *lerr = fabs(log(nG) + ls - logng) / fmax(1.0, fabs(logng));
}

/* W = c W_dir with the largest non-selected probability about e^logt. */
static double *saturated_W(const mdatt_instance *in, uint64_t seed, double logt)
{
    const int n = in->n, T = in->T, d = in->d;
    double *W = random_matrix(d * d, seed, 1.0), gap = INFINITY;
    for (int i = 0; i < n; i++) {
        double a[64], u[64], top = -INFINITY, second = -INFINITY;
        for (int j = 0; j < d; j++) {
            u[j] = 0;
            for (int k = 0; k < d; k++) u[j] += W[j * d + k] * in->Z[i * d + k];
        }
        for (int t = 0; t < T; t++) {
            a[t] = 0;
            for (int j = 0; j < d; j++) a[t] += in->X[(i * T + t) * d + j] * u[j];
            if (a[t] > top) { second = top; top = a[t]; }
            else if (a[t] > second) second = a[t];
        }
        gap = fmin(gap, top - second);
    }
    for (int j = 0; j < d * d; j++) W[j] *= -logt / gap;
    return W;
}

Test(model, saturated_direction_matches_quad_naive_where_quad_resolves)
{
    /* off-top probabilities <= 1e-20: quad's naive formula still has ~14
     * correct digits there; the naive double formula has none */
    const int n = 4, T = 5, d = 6, m = d * d;
    for (uint64_t seed = 1; seed <= 4; seed++) {
        mdatt_instance in;
        make_instance(&in, n, T, d, seed);
        mdatt_work *w = mdatt_work_new(&in);
        double *W = saturated_W(&in, 50 + seed, log(1e-20)), G[36], Gn[36], g[6], derr, lerr;
        quad qW[36], qv[6];
        mdatt_grad gW = {G, 0}, gv = {g, 0};
        mdatt_eval ev;
        cr_assert_eq(mdatt_eval_grad(&in, W, in.v, MDATT_LOSS_LOGISTIC, w, &ev, &gW, &gv, NULL),
                     MDATT_OK);
        cr_expect(ev.log1m_smax_max < log(1e-19) && ev.log1m_smax_max > log(1e-21),
                  "saturation level %g", ev.log1m_smax_max);
        quad_grad(&in, W, in.v, 0, qW, qv);
        compare_quad(G, gW.log_scale, qW, m, &derr, &lerr);
        cr_expect(derr <= 1e-12, "seed %d: stable W direction err %g", (int)seed, derr);
        cr_expect(lerr <= 1e-12, "seed %d: log magnitude err %g", (int)seed, lerr);
        compare_quad(g, gv.log_scale, qv, d, &derr, &lerr);
        cr_expect(derr <= 1e-12 && lerr <= 1e-12, "v block %g %g", derr, lerr);
        /* the textbook formula in double fails here */
        cr_assert_eq(mdatt_eval_grad_naive(&in, W, in.v, MDATT_LOSS_LOGISTIC, NULL, Gn, NULL),
                     MDATT_OK);
        compare_quad(Gn, 0.0, qW, m, &derr, &lerr);
        cr_expect(derr > 1e-3, "seed %d: naive double should fail, err %g", (int)seed, derr);
        free(W);
        mdatt_work_free(w);
        mdatt_instance_free(&in);
    }
}

Test(model, deep_saturation_direction_exact_beyond_double_range)
{
    /* 1e-50 .. 1e-300 and 1e-400 (where the gradient's magnitude itself
     * underflows double): compared with the identity evaluated in quad */
    const double levels[] = {-50, -100, -200, -300, -400};      /* log10 */
    const int n = 4, T = 5, d = 6, m = d * d;
    for (size_t il = 0; il < sizeof levels / sizeof *levels; il++)
        for (uint64_t seed = 1; seed <= 3; seed++) {
            mdatt_instance in;
            make_instance(&in, n, T, d, seed);
            mdatt_work *w = mdatt_work_new(&in);
            double *W = saturated_W(&in, 60 + seed, levels[il] * M_LN10), G[36], Gn[36], g[6], derr, lerr;
            quad qW[36], qv[6];
            mdatt_grad gW = {G, 0}, gv = {g, 0};
            mdatt_eval ev;
            cr_assert_eq(mdatt_eval_grad(&in, W, in.v, MDATT_LOSS_LOGISTIC, w, &ev, &gW, &gv,
                                         NULL), MDATT_OK);
            quad_grad(&in, W, in.v, 1, qW, qv);
            compare_quad(G, gW.log_scale, qW, m, &derr, &lerr);
            cr_expect(derr <= 1e-12, "level 1e%g seed %d: direction err %g", levels[il],
                      (int)seed, derr);
            cr_expect(lerr <= 1e-12, "level 1e%g: log-magnitude err %g", levels[il], lerr);
            cr_expect(isfinite(gW.log_scale) && isfinite(ev.log_loss) && isfinite(ev.loss));
            cr_expect(fabs(ev.log1m_smax_max - levels[il] * M_LN10) < 1e-6 * fabs(levels[il]),
                      "log(1 - s_max) %g", ev.log1m_smax_max);
            if (levels[il] < -330) cr_expect(exp(gW.log_scale) == 0.0);
            cr_assert_eq(mdatt_eval_grad_naive(&in, W, in.v, MDATT_LOSS_LOGISTIC, NULL, Gn, NULL),
                         MDATT_OK);
            if (nrm2(Gn, m) > 0) {
                compare_quad(Gn, 0.0, qW, m, &derr, &lerr);
                cr_expect(derr > 1e-3, "naive double should fail, err %g", derr);
            }
            free(W);
            mdatt_work_free(w);
            mdatt_instance_free(&in);
        }
}

Test(model, deep_saturation_unpacked_path)
{
    /* the same on the unpacked path (n*T*d = 16896 above the packed size):
     * off-top probabilities 1e-100 (|l'(u)| a normal double, s_max's
     * complement not) and 1e-400 (the magnitude underflows) */
    const double levels[] = {-100, -400};
    const int n = 33, T = 64, d = 8, m = d * d;
    for (size_t il = 0; il < 2; il++) {
        mdatt_instance in;
        make_instance(&in, n, T, d, 7);
        mdatt_work *w = mdatt_work_new(&in);
        double *W = saturated_W(&in, 90 + il, levels[il] * M_LN10), G[64], g[8], derr, lerr;
        quad qW[64], qv[8];
        mdatt_grad gW = {G, 0}, gv = {g, 0};
        cr_assert_eq(mdatt_eval_grad(&in, W, in.v, MDATT_LOSS_LOGISTIC, w, NULL, &gW, &gv, NULL),
                     MDATT_OK);
        quad_grad(&in, W, in.v, 1, qW, qv);
        compare_quad(G, gW.log_scale, qW, m, &derr, &lerr);
        cr_expect(derr <= 1e-12 && lerr <= 1e-12, "level 1e%g: W direction %g, log magnitude %g",
                  levels[il], derr, lerr);
        compare_quad(g, gv.log_scale, qv, d, &derr, &lerr);
        cr_expect(derr <= 1e-12 && lerr <= 1e-12, "level 1e%g: v direction %g, log magnitude %g",
                  levels[il], derr, lerr);
        free(W);
        mdatt_work_free(w);
        mdatt_instance_free(&in);
    }
}

Test(model, small_loss_derivative_times_small_probability)
{
    /* |l'(u)| ~ e^-300 and off-top probabilities ~ 1e-200: each factor is a
     * normal double, their product is not; the direction must stay exact */
    const int n = 4, T = 5, d = 6, m = d * d;
    mdatt_instance in;
    make_instance(&in, n, T, d, 3);
    mdatt_work *w = mdatt_work_new(&in);
    double *W = saturated_W(&in, 70, -200 * M_LN10), G[36], g[6], derr, lerr, fm = INFINITY;
    quad qW[36], qv[6];
    mdatt_grad gW = {G, 0}, gv = {g, 0};
    mdatt_eval ev;
    for (int i = 0; i < n; i++) {     /* labels agreeing with f; margins >= 300 */
        mdatt_instance one = in;
        mdatt_eval e1;
        one.n = 1; one.X = in.X + i * T * d; one.Y = in.Y + i; one.Z = in.Z + i * d;
        in.Y[i] = 1.0;
        cr_assert_eq(mdatt_eval_grad_naive(&one, W, in.v, MDATT_LOSS_CORRELATION, &e1, NULL,
                                           NULL), MDATT_OK);
        in.Y[i] = -e1.loss > 0 ? 1.0 : -1.0;
        fm = fmin(fm, fabs(e1.loss));
    }
    for (int j = 0; j < d; j++) in.v[j] *= 300.0 / fm;
    cr_assert_eq(mdatt_eval_grad(&in, W, in.v, MDATT_LOSS_LOGISTIC, w, &ev, &gW, &gv, NULL),
                 MDATT_OK);
    quad_grad(&in, W, in.v, 1, qW, qv);
    compare_quad(G, gW.log_scale, qW, m, &derr, &lerr);
    cr_expect(derr <= 1e-12 && lerr <= 1e-12, "W: %g %g", derr, lerr);
    compare_quad(g, gv.log_scale, qv, d, &derr, &lerr);
    cr_expect(derr <= 1e-12 && lerr <= 1e-12, "v: %g %g", derr, lerr);
    cr_expect(gW.log_scale < -700 && isfinite(ev.log_loss));
    free(W);
    mdatt_work_free(w);
    mdatt_instance_free(&in);
}

/* v with margins Y_i f_i = c_i exactly (to rounding), Y_i = +1: f is linear
 * in v, f_i = a_i^T v with a_i = X_i^T s_i (s_i the softmax at W, in double
 * here), so v = A^T y with (A A^T) y = c (n <= d, Gaussian elimination). */
static void set_margins(mdatt_instance *in, const double *W, const double *c)
{
    const int n = in->n, T = in->T, d = in->d;
    double A[4][16], M[4][5];
    cr_assert(n <= 4 && d <= 16 && T <= 512);
    for (int i = 0; i < n; i++) {
        double sc[512], u[16], amax = -INFINITY, Z = 0;
        const double *X = in->X + (size_t)i * T * d;
        for (int j = 0; j < d; j++) {
            u[j] = 0;
            for (int k = 0; k < d; k++) u[j] += W[j * d + k] * in->Z[i * d + k];
        }
        for (int t = 0; t < T; t++) {
            sc[t] = 0;
            for (int j = 0; j < d; j++) sc[t] += X[t * d + j] * u[j];
            amax = fmax(amax, sc[t]);
        }
        for (int t = 0; t < T; t++) Z += sc[t] = exp(sc[t] - amax);
        for (int j = 0; j < d; j++) {
            A[i][j] = 0;
            for (int t = 0; t < T; t++) A[i][j] += sc[t] / Z * X[t * d + j];
        }
        in->Y[i] = 1.0;
    }
    for (int i = 0; i < n; i++) {
        for (int k = 0; k < n; k++) {
            M[i][k] = 0;
            for (int j = 0; j < d; j++) M[i][k] += A[i][j] * A[k][j];
        }
        M[i][n] = c[i];
    }
    for (int k = 0; k < n; k++)         /* A A^T is positive definite */
        for (int i = k + 1; i < n; i++)
            for (int l = n; l >= k; l--) M[i][l] -= M[i][k] / M[k][k] * M[k][l];
    for (int i = n - 1; i >= 0; i--) {
        for (int k = i + 1; k < n; k++) M[i][n] -= M[i][k] * M[k][n];
        M[i][n] /= M[i][i];
    }
    for (int j = 0; j < d; j++) {
        in->v[j] = 0;
        for (int i = 0; i < n; i++) in->v[j] += A[i][j] * M[i][n];
    }
}

Test(model, loss_derivative_beyond_double_range_matches_quad)
{
    /* Moderate W (no saturation) and large ||v||: margins 745..748, where
     * l'(u) = -e^-u / (1 + e^-u) is below the double range (e^-745 rounds
     * to 0), so the weights come from the log-domain fallback L_i =
     * log|l'(u_i)| - log n + dmax_i - log1p(S_i) (header of model.c) in both
     * blocks.  Margins one apart give the samples weights 1, e^-1, e^-2, e^-3:
     * a wrong term in L_i or a wrong sign moves the direction by >= 1e-3.
     * Packed evaluation (T = 5, T = 64: n T d <= MDATT_PACK_MAX) and the
     * unpacked one (T = 300, d = 16: n T d > MDATT_PACK_MAX), which decides
     * per sample between the direct and the log-domain weights. */
    const int sizes[3][3] = {{4, 5, 6}, {4, 64, 8}, {4, 300, 16}};   /* d <= 16 */
    const double c[4] = {745.0, 746.0, 747.0, 748.0};
    for (int is = 0; is < 3; is++)
        for (uint64_t seed = 1; seed <= 3; seed++) {
            const int n = sizes[is][0], T = sizes[is][1], d = sizes[is][2], m = d * d;
            mdatt_instance in;
            make_instance(&in, n, T, d, seed);
            cr_assert_eq((size_t)n * T * d > MDATT_PACK_MAX, is == 2);
            mdatt_work *w = mdatt_work_new(&in);
            double *W = random_matrix(m, 80 + seed, 0.5), G[256], g[16], derr, lerr;
            quad qW[256], qv[16];
            mdatt_grad gW = {G, 0}, gv = {g, 0};
            mdatt_eval ev;
            set_margins(&in, W, c);
            cr_assert_eq(mdatt_eval_grad(&in, W, in.v, MDATT_LOSS_LOGISTIC, w, &ev, &gW, &gv,
                                         NULL), MDATT_OK);
            cr_expect(ev.smax_min < 0.99 && ev.loss == 0.0, "T=%d seed %d: not the regime "
                      "(smax_min %g, loss %g)", T, (int)seed, ev.smax_min, ev.loss);
            quad_grad(&in, W, in.v, 1, qW, qv);
            compare_quad(G, gW.log_scale, qW, m, &derr, &lerr);
            cr_expect(derr <= 1e-10 && lerr <= 1e-12, "T=%d seed %d: W block direction %g, "
                      "log magnitude %g", T, (int)seed, derr, lerr);
            compare_quad(g, gv.log_scale, qv, d, &derr, &lerr);
            cr_expect(derr <= 1e-10 && lerr <= 1e-12, "T=%d seed %d: v block direction %g, "
                      "log magnitude %g", T, (int)seed, derr, lerr);
            free(W);
            mdatt_work_free(w);
            mdatt_instance_free(&in);
        }
}

Test(model, sample_without_w_gradient_does_not_set_the_scale)
{
    /* Log-domain regime (margins beyond 745): the weights are
     * exp(L_i - max L) with the maximum over the samples that have a W
     * gradient.  Sample 0's tokens are all equal: its softmax is uniform, its
     * g~_0 = 0, and its L_0 (smallest margin) is 855 above the others': if it
     * set the scale every other weight would underflow.  The last sample's
     * L is 860 below the largest: if it set the scale the others' weights
     * would overflow.  Samples 1 and 2: weights 1 and e^-1. */
    const int sizes[2][3] = {{4, 5, 6}, {4, 300, 16}};
    const double c[4] = {745.0, 1600.0, 1601.0, 2460.0};
    for (int is = 0; is < 2; is++) {
        const int n = sizes[is][0], T = sizes[is][1], d = sizes[is][2], m = d * d;
        mdatt_instance in;
        make_instance(&in, n, T, d, 5);
        for (int t = 1; t < T; t++)
            memcpy(in.X + (size_t)t * d, in.X, sizeof(double) * d);
        mdatt_work *w = mdatt_work_new(&in);
        double *W = random_matrix(m, 90, 0.5), G[256], g[16], derr, lerr;
        quad qW[256], qv[16];
        mdatt_grad gW = {G, 0}, gv = {g, 0};
        mdatt_eval ev;
        set_margins(&in, W, c);
        cr_assert_eq(mdatt_eval_grad(&in, W, in.v, MDATT_LOSS_LOGISTIC, w, &ev, &gW, &gv, NULL),
                     MDATT_OK);
        quad_grad(&in, W, in.v, 1, qW, qv);
        compare_quad(G, gW.log_scale, qW, m, &derr, &lerr);
        cr_expect(derr <= 1e-10 && lerr <= 1e-12, "T=%d: W block direction %g, log magnitude %g",
                  T, derr, lerr);
        compare_quad(g, gv.log_scale, qv, d, &derr, &lerr);
        cr_expect(derr <= 1e-10 && lerr <= 1e-12, "T=%d: v block direction %g, log magnitude %g",
                  T, derr, lerr);
        free(W);
        mdatt_work_free(w);
        mdatt_instance_free(&in);
    }
}

Test(model, log_loss_finite_when_loss_underflows)
{
    /* margins of ~1000: L underflows to 0, log L must stay exact */
    const int n = 5, T = 4, d = 5;
    mdatt_instance in;
    make_instance(&in, n, T, d, 9);
    mdatt_work *w = mdatt_work_new(&in);
    double *W = random_matrix(d * d, 9, 1.0), f[5];
    mdatt_eval ev;
    /* labels that agree with the model: every margin positive */
    cr_assert_eq(mdatt_eval_grad_naive(&in, W, in.v, MDATT_LOSS_CORRELATION, &ev, NULL, NULL),
                 MDATT_OK);
    for (int i = 0; i < n; i++) {
        in.Y[i] = 1.0;
        mdatt_eval e1;
        mdatt_instance one = in;
        one.n = 1; one.X = in.X + i * T * d; one.Y = in.Y + i; one.Z = in.Z + i * d;
        cr_assert_eq(mdatt_eval_grad_naive(&one, W, in.v, MDATT_LOSS_CORRELATION, &e1, NULL, NULL),
                     MDATT_OK);
        f[i] = -e1.loss;           /* correlation loss is -Y f */
        in.Y[i] = f[i] > 0 ? 1.0 : -1.0;
        f[i] = fabs(f[i]);
    }
    {   /* f is linear in v: scale v so that the smallest margin is 1000 */
        double fm = INFINITY, sc;
        for (int i = 0; i < n; i++) fm = fmin(fm, f[i]);
        sc = 1000.0 / fm;
        for (int j = 0; j < d; j++) in.v[j] *= sc;
        for (int i = 0; i < n; i++) f[i] *= sc;
    }
    for (size_t il = 0; il < 3; il++) {
        quad s = 0, ref;
        cr_assert_eq(mdatt_eval_grad(&in, W, in.v, LOSSES[il], w, &ev, NULL, NULL, NULL),
                     MDATT_OK);
        cr_expect(!isnan(ev.log_loss));
        if (LOSSES[il] == MDATT_LOSS_CORRELATION) {
            cr_expect(ev.loss < 0 && ev.log_loss == -INFINITY);
            continue;
        }
        for (int i = 0; i < n; i++)
            s += LOSSES[il] == MDATT_LOSS_LOGISTIC ? log1pq(expq(-(quad)f[i])) : expq(-(quad)f[i]);
        ref = logq(s / n);
        cr_expect(ev.loss == 0.0, "%s: loss %g should underflow", mdatt_loss_name(LOSSES[il]),
                  ev.loss);
        cr_expect(isfinite(ev.log_loss));
        cr_expect(fabs(ev.log_loss - (double)ref) < 1e-10 * fabsq(ref), "%s: %.17g vs %.17g",
                  mdatt_loss_name(LOSSES[il]), ev.log_loss, (double)ref);
    }
    free(W);
    mdatt_work_free(w);
    mdatt_instance_free(&in);
}

Test(model, alpha_ties_take_lowest_index_and_T1)
{
    mdatt_instance in;
    make_instance(&in, 3, 4, 3, 2);
    mdatt_work *w = mdatt_work_new(&in);
    double W[9] = {0}, G[9], g[3];
    int alpha[3] = {9, 9, 9};
    mdatt_grad gW = {G, 0}, gv = {g, 0};
    mdatt_eval ev;
    cr_assert_eq(mdatt_eval_grad(&in, W, in.v, 0, w, &ev, &gW, &gv, alpha), MDATT_OK);
    for (int i = 0; i < 3; i++) cr_expect_eq(alpha[i], 0);
    cr_expect(fabs(ev.smax_mean - 0.25) < 1e-15);
    mdatt_work_free(w);
    mdatt_instance_free(&in);

    /* one token per sample: s = 1, no W gradient */
    make_instance(&in, 3, 1, 3, 2);
    w = mdatt_work_new(&in);
    cr_assert_eq(mdatt_eval_grad(&in, W, in.v, 0, w, &ev, &gW, &gv, alpha), MDATT_OK);
    cr_expect(gW.log_scale == -INFINITY && G[0] == 0.0);
    cr_expect(isfinite(gv.log_scale) && ev.smax_min == 1.0 && ev.log1m_smax_max == -INFINITY);
    mdatt_work_free(w);
    mdatt_instance_free(&in);
}

Test(model, argument_errors)
{
    mdatt_instance in, other;
    make_instance(&in, 3, 4, 3, 2);
    make_instance(&other, 3, 5, 3, 2);
    mdatt_work *w = mdatt_work_new(&other);
    double W[9] = {0}, G[9];
    mdatt_grad gW = {G, 0};
    cr_expect_eq(mdatt_eval_grad(&in, W, in.v, 0, w, NULL, &gW, NULL, NULL), MDATT_EINVAL);
    mdatt_work_free(w);
    w = mdatt_work_new(&in);
    cr_expect_eq(mdatt_eval_grad(&in, W, in.v, (mdatt_loss)7, w, NULL, &gW, NULL, NULL),
                 MDATT_EINVAL);
    W[4] = NAN;
    cr_expect_eq(mdatt_eval_grad(&in, W, in.v, 0, w, NULL, &gW, NULL, NULL), MDATT_ENUMERIC);
    W[4] = INFINITY;
    cr_expect_eq(mdatt_eval_grad(&in, W, in.v, 0, w, NULL, &gW, NULL, NULL), MDATT_ENUMERIC);
    cr_expect(mdatt_work_new(NULL) == NULL);
    mdatt_work_free(w);
    mdatt_work_free(NULL);
    mdatt_instance_free(&in);
    mdatt_instance_free(&other);
}

Test(model, loss_names)
{
    mdatt_loss l;
    for (size_t k = 0; k < 3; k++) {
        cr_expect_eq(mdatt_loss_parse(mdatt_loss_name(LOSSES[k]), &l), MDATT_OK);
        cr_expect_eq(l, LOSSES[k]);
    }
    cr_expect_str_eq(mdatt_loss_name(MDATT_LOSS_LOGISTIC), "logistic");
    cr_expect_eq(mdatt_loss_parse("hinge", &l), MDATT_EINVAL);
    cr_expect_eq(mdatt_loss_parse(NULL, &l), MDATT_EINVAL);
}

/* mdatt_work_new refuses an instance with no sample, no token or no feature
 * (each alone; the others valid) instead of sizing a workspace for it. */
Test(model, work_new_refuses_empty_shapes)
{
    mdatt_instance in;
    make_instance(&in, 3, 4, 3, 2);
    mdatt_work *w = mdatt_work_new(&in);
    cr_expect_not_null(w);
    mdatt_work_free(w);
    int *dims[3] = {&in.n, &in.T, &in.d};
    for (int k = 0; k < 3; k++)
        for (int bad = 0; bad >= -1; bad--) {
            const int keep = *dims[k];
            *dims[k] = bad;
            w = mdatt_work_new(&in);
            cr_expect_null(w, "dimension %d = %d accepted", k, bad);
            mdatt_work_free(w);
            *dims[k] = keep;
        }
    mdatt_instance_free(&in);
}
