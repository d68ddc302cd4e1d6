/* common.h - helpers shared by the proofs-check programs: TAP output, and an
 * independent few-line reimplementation of the mathematics of doc/design.md
 * (norms, mirror maps, Bregman divergences, risk and gradients, SVM rows and
 * certificates).  The programs compare libmdatt / libattsvm against these
 * formulas, so nothing here calls the code under test except the RNG and the
 * generator (which only choose the instances).
 *
 * Everything is static inline: each program uses a different subset. */
#ifndef MDATT_PROOFS_COMMON_H
#define MDATT_PROOFS_COMMON_H

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "attsvm.h"
#include "mdatt.h"

/* ------------------------------------------------------------------- TAP */

/** TAP state: planned count, next test number, failures. */
typedef struct {
    int planned, next, failed;
} pc_tap;

static inline void pc_plan(pc_tap *t, int n)
{
    t->planned = n;
    t->next = 1;
    t->failed = 0;
    printf("1..%d\n", n);
    fflush(stdout);
}

/** One TAP line: "ok k - <what> (max violation V, tol TOL)". */
static inline int pc_ok(pc_tap *t, int pass, double viol, double tol, const char *fmt, ...)
{
    va_list ap;
    printf("%s %d - ", pass ? "ok" : "not ok", t->next++);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf(" (max violation %.3g, tol %.3g)\n", viol, tol);
    fflush(stdout);
    if (!pass) t->failed++;
    return pass;
}

/** A diagnostic line "# ...". */
static inline void pc_diag(const char *fmt, ...)
{
    va_list ap;
    printf("# ");
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    fflush(stdout);
}

/** Final verdict; returns the exit status (0 pass, 1 fail). */
static inline int pc_done(pc_tap *t, const char *prog, double seconds)
{
    if (t->next - 1 != t->planned) {
        printf("# %s: ran %d of %d planned checks\n", prog, t->next - 1, t->planned);
        t->failed++;
    }
    printf("# %s: %s (%d of %d failed, %.2f s)\n", prog, t->failed ? "FAIL" : "PASS", t->failed,
           t->planned, seconds);
    return t->failed ? 1 : 0;
}

static inline double pc_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/** max(*acc, v) that also records NaN as an infinite violation. */
static inline void pc_max(double *acc, double v)
{
    if (isnan(v)) v = INFINITY;
    if (v > *acc) *acc = v;
}

/* ----------------------------------------------------------------- random */

static inline void pc_normal_vec(mdatt_rng *r, double *x, size_t m, double sd)
{
    for (size_t j = 0; j < m; j++) x[j] = sd * mdatt_rng_normal(r);
}

/** The paper's generator with an explicit seed and shape. */
static inline mdatt_status pc_gen(uint64_t seed, int n, int T, int d, mdatt_instance *in)
{
    mdatt_gen_settings gs;
    mdatt_gen_default_settings(&gs);
    gs.n = n;
    gs.T = T;
    gs.d = d;
    gs.seed = seed;
    return mdatt_gen(&gs, in);
}

/* ------------------------------------------------- norms and mirror maps */

/** q = p/(p-1) (inf for p = 1, 1 for p = inf). */
static inline double pc_dual(double p)
{
    if (p == 1.0) return INFINITY;
    if (isinf(p)) return 1.0;
    return p / (p - 1.0);
}

/** ||x||_p in long double, scaled by the largest entry. */
static inline long double pc_norm(const double *x, size_t m, double p)
{
    long double mx = 0;
    for (size_t j = 0; j < m; j++)
        if (fabsl((long double)x[j]) > mx) mx = fabsl((long double)x[j]);
    if (mx == 0 || isinf(p)) return mx;
    long double s = 0;
    for (size_t j = 0; j < m; j++) s += powl(fabsl((long double)x[j]) / mx, (long double)p);
    return mx * powl(s, 1.0L / (long double)p);
}

/** psi(W) = sum |w|^p / p in long double. */
static inline long double pc_psi(const double *W, size_t m, double p)
{
    long double s = 0;
    for (size_t j = 0; j < m; j++) s += powl(fabsl((long double)W[j]), (long double)p);
    return s / (long double)p;
}

/** grad psi: sign(w)|w|^(p-1). */
static inline double pc_map1(double w, double p)
{
    return w == 0.0 ? 0.0 : copysign((double)powl(fabsl((long double)w), (long double)p - 1.0L), w);
}

/** (grad psi)^{-1}: sign(t)|t|^(1/(p-1)). */
static inline double pc_inv1(double t, double p)
{
    return t == 0.0 ? 0.0
                    : copysign((double)powl(fabsl((long double)t), 1.0L / ((long double)p - 1.0L)), t);
}

static inline void pc_map(const double *W, double *th, size_t m, double p)
{
    for (size_t j = 0; j < m; j++) th[j] = pc_map1(W[j], p);
}

static inline void pc_inv(const double *th, double *W, size_t m, double p)
{
    for (size_t j = 0; j < m; j++) W[j] = pc_inv1(th[j], p);
}

/** One coordinate of D_psi in long double: |a|^p/p - |b|^p/p - sign(b)|b|^(p-1)(a-b). */
static inline long double pc_breg1(long double a, long double b, long double p)
{
    if (a == b) return 0;
    long double ab = fabsl(b), bp1 = ab == 0 ? 0 : powl(ab, p - 1.0L);
    long double t = powl(fabsl(a), p) / p - ab * bp1 / p - (b < 0 ? -bp1 : bp1) * (a - b);
    return t;
}

/** D_psi(A, B) in long double (design.md (10)). */
static inline long double pc_bregman(const double *A, const double *B, size_t m, double p)
{
    long double s = 0;
    for (size_t j = 0; j < m; j++) s += pc_breg1(A[j], B[j], p);
    return s;
}

/** D_psi(A/||A||_p, B/||B||_p) in long double. */
static inline long double pc_bregman_dir(const double *A, const double *B, size_t m, double p)
{
    long double na = pc_norm(A, m, p), nb = pc_norm(B, m, p), s = 0;
    for (size_t j = 0; j < m; j++) s += pc_breg1(A[j] / na, B[j] / nb, p);
    return s;
}

/* ------------------------------------------------------- risk, gradients */

/** l(u) and l'(u) of design.md (3). */
static inline double pc_loss1(mdatt_loss l, double u, double *dl)
{
    switch (l) {
    case MDATT_LOSS_EXPONENTIAL:
        *dl = -exp(-u);
        return exp(-u);
    case MDATT_LOSS_CORRELATION:
        *dl = -1.0;
        return -u;
    default:
        *dl = -1.0 / (1.0 + exp(u));
        return u > 0 ? log1p(exp(-u)) : -u + log1p(exp(u));
    }
}

/** design.md (4), verbatim and in long double: L(W, v), and (if non-NULL)
 *  gW = sum_i c_i X_i^T J_i h_i z_i^T, gv = sum_i c_i X_i^T s_i, with
 *  c_i = l'(Y_i f_i) Y_i / n.  Accurate while softmax is not saturated. */
static inline double pc_risk_grad(const mdatt_instance *in, const double *W, const double *v,
                                  mdatt_loss loss, double *gW, double *gv)
{
    const int n = in->n, T = in->T, d = in->d;
    long double L = 0;
    long double *aW = gW ? calloc((size_t)d * d, sizeof *aW) : NULL;
    long double *av = gv ? calloc((size_t)d, sizeof *av) : NULL;
    long double *sc = malloc((size_t)T * sizeof *sc), *h = malloc((size_t)T * sizeof *h);
    long double *u = malloc((size_t)d * sizeof *u), *g = malloc((size_t)d * sizeof *g);
    for (int i = 0; i < n; i++) {
        const double *X = in->X + (size_t)i * T * d, *z = in->Z + (size_t)i * d;
        for (int j = 0; j < d; j++) {          /* u = W z */
            long double s = 0;
            for (int k = 0; k < d; k++) s += (long double)W[j * d + k] * z[k];
            u[j] = s;
        }
        long double mx = -INFINITY, Z = 0, f = 0;
        for (int t = 0; t < T; t++) {
            long double a = 0, hh = 0;
            for (int j = 0; j < d; j++) {
                a += X[t * d + j] * u[j];
                hh += (long double)X[t * d + j] * v[j];
            }
            sc[t] = a;
            h[t] = hh;
            if (a > mx) mx = a;
        }
        for (int t = 0; t < T; t++) Z += (sc[t] = expl(sc[t] - mx));
        for (int t = 0; t < T; t++) f += (sc[t] /= Z) * h[t];
        double dl;
        L += pc_loss1(loss, in->Y[i] * (double)f, &dl);
        const long double c = (long double)dl * in->Y[i] / n;
        if (gW) {
            for (int j = 0; j < d; j++) g[j] = 0;
            for (int t = 0; t < T; t++)
                for (int j = 0; j < d; j++) g[j] += sc[t] * (h[t] - f) * X[t * d + j];
            for (int j = 0; j < d; j++)
                for (int k = 0; k < d; k++) aW[j * d + k] += c * g[j] * z[k];
        }
        if (gv)
            for (int t = 0; t < T; t++)
                for (int j = 0; j < d; j++) av[j] += c * sc[t] * X[t * d + j];
    }
    if (gW)
        for (int j = 0; j < d * d; j++) gW[j] = (double)aW[j];
    if (gv)
        for (int j = 0; j < d; j++) gv[j] = (double)av[j];
    free(aW);
    free(av);
    free(sc);
    free(h);
    free(u);
    free(g);
    return (double)(L / n);
}

/** Selected tokens argmax_t x_it^T W z_i and max_i log(1 - s_{i,alpha_i}),
 *  the latter as log(sum_{t != a} e^{a_t - a_a}) - log(1 + sum ...). */
static inline double pc_log1m_smax(const mdatt_instance *in, const double *W, int *alpha)
{
    const int T = in->T, d = in->d;
    double worst = -INFINITY;
    long double *sc = malloc((size_t)T * sizeof *sc);
    for (int i = 0; i < in->n; i++) {
        const double *X = in->X + (size_t)i * T * d, *z = in->Z + (size_t)i * d;
        int a = 0;
        for (int t = 0; t < T; t++) {
            long double s = 0;
            for (int j = 0; j < d; j++)
                for (int k = 0; k < d; k++) s += (long double)X[t * d + j] * W[j * d + k] * z[k];
            sc[t] = s;
            if (s > sc[a]) a = t;
        }
        long double r = 0;
        for (int t = 0; t < T; t++)
            if (t != a) r += expl(sc[t] - sc[a]);
        double l1m = (double)(logl(r) - log1pl(r));
        if (alpha) alpha[i] = a;
        if (l1m > worst) worst = l1m;
    }
    free(sc);
    return worst;
}

/* ------------------------------------------------------------------ SVM */

/** The oracle's view of an instance. */
static inline attsvm_data pc_view(const mdatt_instance *in)
{
    attsvm_data D;
    D.n = in->n;
    D.T = in->T;
    D.d = in->d;
    D.X = in->X;
    D.Z = in->Z;
    D.Y = in->Y;
    D.v = in->v;
    return D;
}

/** Rows A_it = (x_ia - x_it) z_i^T (W target, t != alpha_i, i major) or
 *  Y_i x_ia (v target), built here from doc/design.md.  Returns m. */
static inline int pc_svm_rows(const mdatt_instance *in, const int *alpha, int target_v,
                              double **Aout, int *nx)
{
    const int n = in->n, T = in->T, d = in->d;
    int m = target_v ? n : n * (T - 1);
    *nx = target_v ? d : d * d;
    double *A = calloc((size_t)m * *nx, sizeof *A);
    int r = 0;
    for (int i = 0; i < n; i++) {
        const double *X = in->X + (size_t)i * T * d, *z = in->Z + (size_t)i * d;
        const double *xa = X + (size_t)alpha[i] * d;
        if (target_v) {
            for (int j = 0; j < d; j++) A[(size_t)r * d + j] = in->Y[i] * xa[j];
            r++;
            continue;
        }
        for (int t = 0; t < T; t++) {
            if (t == alpha[i]) continue;
            for (int j = 0; j < d; j++)
                for (int k = 0; k < d; k++)
                    A[(size_t)r * d * d + j * d + k] = (xa[j] - X[t * d + j]) * z[k];
            r++;
        }
    }
    *Aout = A;
    return m;
}

/** min_r a_r . x (long double). */
static inline double pc_min_margin(const double *A, int m, int nx, const double *x)
{
    long double mn = INFINITY;
    for (int r = 0; r < m; r++) {
        long double s = 0;
        for (int j = 0; j < nx; j++) s += (long double)A[(size_t)r * nx + j] * x[j];
        if (s < mn) mn = s;
    }
    return (double)mn;
}

/** Weak-duality lower bound sum(lambda) / ||A^T lambda||_q (lambda dense, m). */
static inline double pc_dual_bound(const double *A, int m, int nx, const double *lam, double p)
{
    double *u = calloc((size_t)nx, sizeof *u);
    long double sl = 0;
    for (int j = 0; j < nx; j++) {
        long double s = 0;
        for (int r = 0; r < m; r++) s += (long double)lam[r] * A[(size_t)r * nx + j];
        u[j] = (double)s;
    }
    for (int r = 0; r < m; r++) sl += lam[r];
    double lb = (double)(sl / pc_norm(u, (size_t)nx, pc_dual(p)));
    free(u);
    return lb;
}

/** Upper bound ||x||_p / min(1, min_r a_r.x): x scaled up to feasibility. */
static inline double pc_primal_bound(const double *A, int m, int nx, const double *x, double p)
{
    double mm = pc_min_margin(A, m, nx, x);
    if (!(mm > 0)) return INFINITY;
    return (double)(pc_norm(x, (size_t)nx, p) / (mm < 1 ? mm : 1.0));
}

#endif
