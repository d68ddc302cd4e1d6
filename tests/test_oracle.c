/* test_oracle.c - libattsvm against closed forms, planted KKT optima,
 * invariances and its independent certificate checker.
 *
 * Every optimal answer is re-checked by attsvm_certify() (which sees only A,
 * x and lambda) and by a second, even smaller checker written here.
 */
#include <criterion/criterion.h>
#include <float.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "attsvm.h"
#include "../oracle/cert.h"   /* attsvm__finish, for the rescaling window */

/* ---------------------------------------------------------------- helpers */

typedef struct {
    uint64_t s;
} trng;

static double tr_unif(trng *r) /* splitmix64 -> (0, 1) */
{
    uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return ((double)(z >> 11) + 0.5) / 9007199254740992.0;
}

static double tr_gauss(trng *r)
{
    return sqrt(-2.0 * log(tr_unif(r))) * cos(2.0 * M_PI * tr_unif(r));
}

static void tr_unit(trng *r, double *x, int d)
{
    double s = 0.0;
    for (int j = 0; j < d; j++) {
        x[j] = tr_gauss(r);
        s += x[j] * x[j];
    }
    for (int j = 0; j < d; j++)
        x[j] /= sqrt(s);
}

/* The paper's synthetic instance (unit-sphere tokens, queries and decoder). */
typedef struct {
    int n, T, d;
    double *X, *Z, *Y, *v;
    int *alpha;
} inst;

static inst make_inst(int n, int T, int d, uint64_t seed)
{
    trng r = {seed};
    inst I = {n, T, d, malloc(sizeof(double) * n * T * d), malloc(sizeof(double) * n * d),
              malloc(sizeof(double) * n), malloc(sizeof(double) * d), malloc(sizeof(int) * n)};
    tr_unit(&r, I.v, d);
    for (int i = 0; i < n; i++) {
        for (int t = 0; t < T; t++)
            tr_unit(&r, I.X + ((size_t)i * T + t) * d, d);
        tr_unit(&r, I.Z + (size_t)i * d, d);
        I.Y[i] = tr_unif(&r) < 0.5 ? -1.0 : 1.0;
    }
    attsvm_data D = {n, T, d, I.X, I.Z, I.Y, I.v};
    attsvm_global_alpha(&D, I.alpha, NULL);
    return I;
}

static void free_inst(inst *I)
{
    free(I->X);
    free(I->Z);
    free(I->Y);
    free(I->v);
    free(I->alpha);
}

static attsvm_data view(const inst *I)
{
    return (attsvm_data){I->n, I->T, I->d, I->X, I->Z, I->Y, I->v};
}

static double qexp(double p)
{
    return p == 1.0 ? INFINITY : isinf(p) ? 1.0 : p / (p - 1.0);
}

static double tnorm(const double *x, int n, double p)
{
    double mx = 0.0, s = 0.0;
    for (int j = 0; j < n; j++)
        mx = fmax(mx, fabs(x[j]));
    if (isinf(p) || mx == 0.0)
        return mx;
    for (int j = 0; j < n; j++)
        s += pow(fabs(x[j]) / mx, p);
    return mx * pow(s, 1.0 / p);
}

/* Check an OPTIMAL answer with attsvm_certify and with our own arithmetic. */
static void check_answer(const double *A, int m, int nx, double p, const attsvm_result *r,
                         double gap_tol, double viol_tol)
{
    cr_assert_eq(r->status, ATTSVM_OPTIMAL, "status %s: %s", attsvm_strerror(r->status),
                 r->message);
    cr_assert_not_null(r->x);
    attsvm_cert c;
    attsvm_certify(A, m, nx, p, r->x, r->dual, r->ndual, &c);
    cr_assert(c.gap <= gap_tol && c.gap >= -1e-13, "p=%g: certified gap %.3g", p, c.gap);
    cr_assert(c.max_violation <= viol_tol, "p=%g: violation %.3g", p, c.max_violation);
    cr_assert(fabs(c.upper - r->objective) <= 1e-12 * r->objective, "p=%g: UB %.17g vs %.17g",
              p, c.upper, r->objective);
    /* Our own lower bound: sum(lambda) / ||A^T lambda||_q with lambda >= 0. */
    double *u = calloc((size_t)nx, sizeof *u), sl = 0.0;
    for (int k = 0; k < r->ndual; k++) {
        cr_assert(r->dual[k].lambda > 0.0);
        cr_assert(r->dual[k].row >= 0 && r->dual[k].row < m);
        sl += r->dual[k].lambda;
        for (int j = 0; j < nx; j++)
            u[j] += r->dual[k].lambda * A[(size_t)r->dual[k].row * nx + j];
    }
    /* Our own feasibility check: every row within viol_tol of its half-space,
     * relative to ||a||_q ||x||_p. */
    const double xn = tnorm(r->x, nx, p);
    for (int i = 0; i < m; i++) {
        double ax = 0.0;
        for (int j = 0; j < nx; j++)
            ax += A[(size_t)i * nx + j] * r->x[j];
        cr_assert(1.0 - ax <= viol_tol * tnorm(A + (size_t)i * nx, nx, qexp(p)) * xn,
                  "p=%g: row %d a.x = %.17g", p, i, ax);
    }
    double lb = sl / tnorm(u, nx, qexp(p));
    cr_assert(fabs(lb - r->objective) <= fmax(gap_tol, 1e-13) * r->objective * 2,
              "p=%g: own LB %.17g vs UB %.17g", p, lb, r->objective);
    free(u);
}

static void check_farkas(const double *A, int m, int nx, const attsvm_result *r)
{
    cr_assert_eq(r->status, ATTSVM_INFEASIBLE, "status %s: %s", attsvm_strerror(r->status),
                 r->message);
    cr_assert_null(r->x, "infeasible answers carry no x");
    cr_assert_gt(r->ndual, 0);
    double *u = calloc((size_t)nx, sizeof *u), sl = 0.0, den = 0.0;
    for (int k = 0; k < r->ndual; k++) {
        cr_assert(r->dual[k].row >= 0 && r->dual[k].row < m);
        const double *a = A + (size_t)r->dual[k].row * nx;
        cr_assert(r->dual[k].lambda > 0.0);
        sl += r->dual[k].lambda;
        for (int j = 0; j < nx; j++) {
            u[j] += r->dual[k].lambda * a[j];
            den += r->dual[k].lambda * fabs(a[j]);
        }
    }
    cr_assert_gt(sl, 0.0);
    double res = 0.0;
    for (int j = 0; j < nx; j++)
        res += fabs(u[j]);
    cr_assert(res <= 1e-12 * fmax(den, 1e-300), "Farkas residual %.3g (scale %.3g)", res, den);
    free(u);
}

static attsvm_settings sett(double p)
{
    attsvm_settings s;
    attsvm_default_settings(&s);
    s.p = p;
    return s;
}

static const double PS[] = {1.0, 1.5, 1.75, 2.0, 3.0, INFINITY};
#define NPS 6

/* Solve the W-SVM of I at p, check, return the objective. */
static double solve_check(const inst *I, double p, attsvm_result *keep)
{
    attsvm_data D = view(I);
    attsvm_settings s = sett(p);
    attsvm_result r;
    attsvm_solve(&D, I->alpha, ATTSVM_TARGET_W, &s, &r);
    int m, nx;
    double *A = attsvm_build_rows(&D, I->alpha, ATTSVM_TARGET_W, &m, &nx);
    check_answer(A, m, nx, p, &r, 1e-10, 1e-12);
    free(A);
    double obj = r.objective;
    if (keep)
        *keep = r;
    else
        attsvm_result_free(&r);
    return obj;
}

/* ------------------------------------------------------------ closed forms */

Test(oracle_closed, single_constraint)
{
    /* min ||x||_p s.t. a.x >= 1 has value 1/||a||_q and, for p > 1, the
     * unique solution sign(a)|a|^{q-1} / ||a||_q^q. */
    const double ps[] = {1.0, 1.1, 1.5, 2.0, 2.5, 3.0, 5.0, INFINITY};
    trng g = {11};
    for (int rep = 0; rep < 4; rep++) {
        double a[7];
        for (int j = 0; j < 7; j++)
            a[j] = tr_gauss(&g);
        for (size_t k = 0; k < sizeof ps / sizeof *ps; k++) {
            double p = ps[k], q = qexp(p), nq = tnorm(a, 7, q);
            attsvm_settings s = sett(p);
            attsvm_result r;
            attsvm_solve_rows(a, 1, 7, &s, &r);
            check_answer(a, 1, 7, p, &r, 1e-12, 1e-12);
            cr_assert(fabs(r.objective - 1.0 / nq) <= 1e-13 / nq, "p=%g: %.17g vs %.17g", p,
                      r.objective, 1.0 / nq);
            if (p > 1.0 && !isinf(p))
                for (int j = 0; j < 7; j++) {
                    double xs = copysign(pow(fabs(a[j]), q - 1.0), a[j]) / pow(nq, q);
                    cr_assert(fabs(r.x[j] - xs) <= 1e-10 * tnorm(r.x, 7, INFINITY),
                              "p=%g x[%d] %.17g vs %.17g", p, j, r.x[j], xs);
                }
            attsvm_result_free(&r);
        }
    }
}

Test(oracle_closed, v_svm_single_sample)
{
    /* n = 1: v-SVM is min ||v||_p s.t. Y x_a.v >= 1, value 1/||x_a||_q. */
    double X[3 * 4] = {0.3, -1.2, 0.5, 2.0, 1, 1, 1, 1, 0, 0, 0, 1}, Y = -1.0, v[4] = {1, 0, 0, 0};
    double Z[4] = {1, 0, 0, 0};
    attsvm_data D = {1, 3, 4, X, Z, &Y, v};
    int alpha = 0;
    for (int k = 0; k < NPS; k++) {
        attsvm_settings s = sett(PS[k]);
        attsvm_result r;
        attsvm_solve(&D, &alpha, ATTSVM_TARGET_V, &s, &r);
        cr_assert_eq(r.status, ATTSVM_OPTIMAL, "%s", r.message);
        double want = 1.0 / tnorm(X, 4, qexp(PS[k]));
        cr_assert(fabs(r.objective - want) <= 1e-13 * want);
        double yx[4];
        for (int j = 0; j < 4; j++)
            yx[j] = -X[j];
        check_answer(yx, 1, 4, PS[k], &r, 1e-12, 1e-12);
        attsvm_result_free(&r);
    }
}

/* --------------------------------------------------------- planted optima */

Test(oracle_planted, kkt_constructed)
{
    /* Choose x*, support rows with a_r.x* = 1 and multipliers lambda* > 0 with
     * sum lambda*_r a_r = c grad psi(x*), plus inactive rows a.x* > 1: then x*
     * is the optimum (KKT of the convex problem) with value ||x*||_p. */
    const double ps[] = {1.3, 1.5, 1.75, 2.0, 3.0, 4.0};
    enum { NX = 12, K = 5, MI = 20 };
    trng g = {7};
    for (size_t pi = 0; pi < sizeof ps / sizeof *ps; pi++) {
        double p = ps[pi], xs[NX], gr[NX], lam[K], A[(K + MI) * NX], gx = 0.0;
        for (int j = 0; j < NX; j++) {
            xs[j] = tr_gauss(&g);
            gr[j] = copysign(pow(fabs(xs[j]), p - 1.0), xs[j]);
            gx += gr[j] * xs[j];
        }
        double sl = 0.0;
        for (int r = 0; r < K; r++)
            sl += (lam[r] = 0.5 + tr_unif(&g));
        double acc[NX] = {0};
        for (int r = 0; r < K - 1; r++) {
            double *a = A + r * NX, bx = 0.0;
            for (int j = 0; j < NX; j++)
                bx += (a[j] = tr_gauss(&g)) * xs[j];
            for (int j = 0; j < NX; j++) {
                a[j] += (1.0 - bx) / gx * gr[j];
                acc[j] += lam[r] * a[j];
            }
        }
        double c = sl / gx;
        for (int j = 0; j < NX; j++)
            A[(K - 1) * NX + j] = (c * gr[j] - acc[j]) / lam[K - 1];
        for (int r = K; r < K + MI; r++) {
            double *a = A + r * NX, bx = 0.0;
            for (int j = 0; j < NX; j++)
                bx += (a[j] = tr_gauss(&g)) * xs[j];
            double want = 1.2 + tr_unif(&g);
            for (int j = 0; j < NX; j++)
                a[j] += (want - bx) / gx * gr[j];
        }
        attsvm_settings s = sett(p);
        attsvm_result r;
        attsvm_solve_rows(A, K + MI, NX, &s, &r);
        check_answer(A, K + MI, NX, p, &r, 1e-10, 1e-12);
        double want = tnorm(xs, NX, p);
        cr_assert(fabs(r.objective - want) <= 1e-11 * want, "p=%g: %.17g vs %.17g", p,
                  r.objective, want);
        for (int j = 0; j < NX; j++)
            cr_assert(fabs(r.x[j] - xs[j]) <= 1e-8 * tnorm(xs, NX, INFINITY), "p=%g x[%d]", p, j);
        cr_assert_eq(r.nsupport, K, "p=%g: support %d", p, r.nsupport);
        for (int k = 0; k < r.nsupport; k++)
            cr_assert_lt(r.support[k], K);
        attsvm_result_free(&r);
    }
}

Test(oracle_planted, linf_box_vertex)
{
    /* p = inf: rows e_j / s for j < nx force |x_j| >= s... choose rows
     * a_j = sign_j e_j / s (j = 0..nx-1): the optimum is x = s * sign with
     * value s, every row active. */
    enum { NX = 9 };
    double A[NX * NX] = {0}, s = 0.37;
    for (int j = 0; j < NX; j++)
        A[j * NX + j] = (j % 3 ? 1.0 : -1.0) / s;
    attsvm_settings st = sett(INFINITY);
    attsvm_result r;
    attsvm_solve_rows(A, NX, NX, &st, &r);
    check_answer(A, NX, NX, INFINITY, &r, 1e-14, 1e-14);
    cr_assert(fabs(r.objective - s) <= 1e-15);
    attsvm_result_free(&r);
    st.p = 1.0; /* p = 1: value sum of |x_j| = NX s */
    attsvm_solve_rows(A, NX, NX, &st, &r);
    check_answer(A, NX, NX, 1.0, &r, 1e-14, 1e-14);
    cr_assert(fabs(r.objective - NX * s) <= 1e-14 * NX * s);
    attsvm_result_free(&r);
}

/* --------------------------------------------------------- attention SVMs */

Test(oracle_wsvm, paper_size_all_p)
{
    inst I = make_inst(6, 8, 10, 1);
    for (int k = 0; k < NPS; k++)
        solve_check(&I, PS[k], NULL);
    free_inst(&I);
}

Test(oracle_wsvm, larger_size_all_p, .timeout = 60)
{
    inst I = make_inst(50, 20, 20, 3);
    for (int k = 0; k < NPS; k++)
        solve_check(&I, PS[k], NULL);
    free_inst(&I);
}

Test(oracle_wsvm, lp_objectives_exact)
{
    /* p = 1 and inf: polished vertex values agree across working-set and
     * full LPs to 1e-12, and glp_exact confirms the basis. */
    inst I = make_inst(6, 8, 10, 2);
    attsvm_data D = view(&I);
    for (int k = 0; k < 2; k++) {
        double p = k ? INFINITY : 1.0;
        attsvm_settings s = sett(p);
        attsvm_result a, b, c;
        attsvm_solve(&D, I.alpha, ATTSVM_TARGET_W, &s, &a);
        s.row_generation = 0;
        attsvm_solve(&D, I.alpha, ATTSVM_TARGET_W, &s, &b);
        s.row_generation = 1;
        s.exact = 1;
        attsvm_solve(&D, I.alpha, ATTSVM_TARGET_W, &s, &c);
        cr_assert_eq(a.status, ATTSVM_OPTIMAL);
        cr_assert_eq(b.status, ATTSVM_OPTIMAL);
        cr_assert_eq(c.status, ATTSVM_OPTIMAL);
        cr_assert(fabs(a.objective - b.objective) <= 1e-12 * a.objective, "p=%g %.17g %.17g", p,
                  a.objective, b.objective);
        cr_assert(fabs(a.objective - c.objective) <= 1e-12 * a.objective);
        cr_assert(c.exact_checked && c.exact_optimal, "p=%g: glp_exact did not confirm", p);
        cr_assert(a.gap <= 1e-12, "p=%g gap %.3g", p, a.gap);
        attsvm_result_free(&a);
        attsvm_result_free(&b);
        attsvm_result_free(&c);
    }
    free_inst(&I);
}

/* p = 1 and inf from 1e5 matrix entries on: the interior-point method on the
 * Kronecker structure of the W rows names the optimal vertex and the polish
 * computes it, with no simplex pivot when the crossover is right.  The
 * answers are certified here and agree with the simplex on all rows to
 * 1e-12.  (glp_exact takes minutes on dense LPs of this size, with or
 * without the crossover; lp_objectives_exact checks it at the paper size.) */
Test(oracle_wsvm, interior_point_crossover)
{
    int pure = 0;
    for (int seed = 0; seed < 3; seed++) {
        inst I = make_inst(30, 15, 16, 40 + seed); /* 420 rows x 256 */
        attsvm_data D = view(&I);
        int m, nx;
        double *A = attsvm_build_rows(&D, I.alpha, ATTSVM_TARGET_W, &m, &nx);
        for (int k = 0; k < 2; k++) {
            const double p = k ? INFINITY : 1.0;
            attsvm_settings s = sett(p);
            attsvm_result a, b;
            attsvm_solve(&D, I.alpha, ATTSVM_TARGET_W, &s, &a);
            check_answer(A, m, nx, p, &a, 1e-12, 1e-12);
            cr_assert_gt(a.newton_iterations, 0, "p=%g: the interior-point method did not run", p);
            pure += a.lp_iterations == 0;
            s.row_generation = 0; /* the simplex on all rows */
            attsvm_solve(&D, I.alpha, ATTSVM_TARGET_W, &s, &b);
            cr_assert_eq(b.status, ATTSVM_OPTIMAL);
            cr_assert_eq(b.newton_iterations, 0);
            cr_assert(fabs(a.objective - b.objective) <= 1e-12 * b.objective,
                      "seed %d p=%g: %.17g vs simplex %.17g", seed, p, a.objective, b.objective);
            attsvm_result_free(&a);
            attsvm_result_free(&b);
        }
        free(A);
        free_inst(&I);
    }
    cr_assert_gt(pure, 0, "no answer came from the crossover alone");
}

Test(oracle_wsvm, general_p_with_lp_phase_agrees)
{
    /* The optional GLPK identification phase (piecewise-linear model LP)
     * changes the path, not the answer. */
    inst I = make_inst(6, 8, 10, 4);
    attsvm_data D = view(&I);
    const double ps[] = {1.5, 3.0};
    for (int k = 0; k < 2; k++) {
        attsvm_settings s = sett(ps[k]);
        attsvm_result a, b;
        attsvm_solve(&D, I.alpha, ATTSVM_TARGET_W, &s, &a);
        s.lp_phase = 1;
        attsvm_solve(&D, I.alpha, ATTSVM_TARGET_W, &s, &b);
        cr_assert_eq(a.status, ATTSVM_OPTIMAL);
        cr_assert_eq(b.status, ATTSVM_OPTIMAL);
        cr_assert_gt(b.lp_solves, 0, "the LP phase runs GLPK");
        cr_assert(fabs(a.objective - b.objective) <= 1e-12 * a.objective);
        attsvm_result_free(&a);
        attsvm_result_free(&b);
    }
    free_inst(&I);
}

Test(oracle_wsvm, p2_matches_dense_normal_equations)
{
    /* On the reported support S, the p = 2 optimum is x = A_S^T (A_S A_S^T)^{-1} 1
     * with positive multipliers: solve it here by plain Gaussian elimination. */
    inst I = make_inst(6, 8, 10, 5);
    attsvm_data D = view(&I);
    attsvm_result r;
    solve_check(&I, 2.0, &r);
    int m, nx, k = r.nsupport;
    double *A = attsvm_build_rows(&D, I.alpha, ATTSVM_TARGET_W, &m, &nx);
    double *G = malloc(sizeof(double) * k * (k + 1));
    for (int a = 0; a < k; a++) {
        for (int b = 0; b < k; b++) {
            double s = 0.0;
            for (int j = 0; j < nx; j++)
                s += A[(size_t)r.support[a] * nx + j] * A[(size_t)r.support[b] * nx + j];
            G[a * (k + 1) + b] = s;
        }
        G[a * (k + 1) + k] = 1.0;
    }
    for (int c = 0; c < k; c++) { /* Gauss-Jordan with partial pivoting */
        int piv = c;
        for (int a = c + 1; a < k; a++)
            if (fabs(G[a * (k + 1) + c]) > fabs(G[piv * (k + 1) + c]))
                piv = a;
        for (int b = 0; b <= k; b++) {
            double t = G[c * (k + 1) + b];
            G[c * (k + 1) + b] = G[piv * (k + 1) + b];
            G[piv * (k + 1) + b] = t;
        }
        for (int a = 0; a < k; a++)
            if (a != c) {
                double f = G[a * (k + 1) + c] / G[c * (k + 1) + c];
                for (int b = c; b <= k; b++)
                    G[a * (k + 1) + b] -= f * G[c * (k + 1) + b];
            }
    }
    double *x = calloc((size_t)nx, sizeof *x);
    for (int a = 0; a < k; a++) {
        double mu = G[a * (k + 1) + k] / G[a * (k + 1) + a];
        cr_assert_gt(mu, 0.0, "support multiplier %d = %g", a, mu);
        for (int j = 0; j < nx; j++)
            x[j] += mu * A[(size_t)r.support[a] * nx + j];
    }
    for (int j = 0; j < nx; j++)
        cr_assert(fabs(x[j] - r.x[j]) <= 1e-10 * tnorm(x, nx, INFINITY), "x[%d]", j);
    free(x);
    free(G);
    free(A);
    attsvm_result_free(&r);
    free_inst(&I);
}

/* -------------------------------------------------------------- p limits */

Test(oracle_limits, continuity_and_norm_sandwich)
{
    /* p -> 1: the value is continuous (p = 1.001 within 1% of p = 1).  For any
     * p the norm inequalities ||x||_inf <= ||x||_p <= nx^{1/p} ||x||_inf and
     * ||x||_p <= ||x||_1 <= nx^{1-1/p} ||x||_p sandwich the optimal values. */
    inst I = make_inst(6, 8, 10, 6);
    int nx = 100;
    double v1 = solve_check(&I, 1.0, NULL), vinf = solve_check(&I, INFINITY, NULL);
    double v1001 = solve_check(&I, 1.001, NULL);
    cr_assert(fabs(v1001 - v1) <= 1e-2 * v1, "p=1.001 %.6g vs p=1 %.6g", v1001, v1);
    /* The value falls with p (||x||_p does); p = 200 is within nx^{1/200}
     * (2.3 %) of p = inf, p = 1000 within 0.5 %. */
    const double ps[] = {1.001, 1.2, 2.0, 4.0, 8.0, 20.0, 200.0, 1000.0};
    double prev = v1;
    for (int k = 0; k < 8; k++) {
        double p = ps[k], vp = solve_check(&I, p, NULL);
        cr_assert(vinf <= vp * (1 + 1e-12) && vp <= pow(nx, 1.0 / p) * vinf * (1 + 1e-12),
                  "p=%g: %.17g vs inf %.17g", p, vp, vinf);
        cr_assert(vp <= v1 * (1 + 1e-12) && v1 <= pow(nx, 1.0 - 1.0 / p) * vp * (1 + 1e-12));
        cr_assert(vp <= prev * (1 + 1e-12), "p=%g: %.17g above the smaller p's %.17g", p, vp, prev);
        prev = vp;
    }
    free_inst(&I);
}

Test(oracle_limits, methods_meet_at_the_switch)
{
    /* Up to p = 4 the dual Newton answers; above, the primal-dual Newton
     * continues from there.  Two methods, one value function: at p = 4 and
     * 4 + 1e-7 (|dv/dp| <= v log(nx) / p^2 < v) the values agree to 1e-7 and
     * fall with p, on instances of three sizes. */
    const int sz[3][3] = {{6, 8, 10}, {20, 12, 10}, {50, 20, 20}};
    for (int k = 0; k < 3; k++) {
        inst I = make_inst(sz[k][0], sz[k][1], sz[k][2], 30 + k);
        double a = solve_check(&I, 4.0, NULL), b = solve_check(&I, 4.0 + 1e-7, NULL);
        cr_assert(b <= a * (1 + 1e-13) && a - b <= 1e-7 * a, "n=%d: p=4 %.17g, p=4+1e-7 %.17g",
                  sz[k][0], a, b);
        free_inst(&I);
    }
}

/* ------------------------------------------------------------ invariances */

Test(oracle_invariance, permutations_and_scaling)
{
    /* Permuting samples, or tokens within a sample (alpha follows), leaves the
     * value unchanged.  Scaling every token by c with the queries Z fixed
     * scales every row A_it by c, so the value divides by c; scaling the
     * queries as well (as self-attention does, z_i = x_ik) scales A by c^2. */
    inst I = make_inst(6, 8, 10, 8);
    const int n = I.n, T = I.T, d = I.d;
    const double c = 2.5;
    for (int k = 0; k < NPS; k++) {
        double p = PS[k], v0 = solve_check(&I, p, NULL);
        inst J = make_inst(n, T, d, 8); /* same data, then permuted */
        for (int i = 0; i < n; i++) {
            int src = (i * 5 + 1) % n; /* sample permutation (5 coprime to 6) */
            for (int t = 0; t < T; t++) {
                int ts = (t + 3) % T; /* token rotation */
                memcpy(J.X + ((size_t)i * T + t) * d, I.X + ((size_t)src * T + ts) * d,
                       sizeof(double) * d);
                if (ts == I.alpha[src])
                    J.alpha[i] = t;
            }
            memcpy(J.Z + (size_t)i * d, I.Z + (size_t)src * d, sizeof(double) * d);
            J.Y[i] = I.Y[src];
        }
        double v1 = solve_check(&J, p, NULL);
        cr_assert(fabs(v1 - v0) <= 1e-10 * v0, "p=%g permuted %.17g vs %.17g", p, v1, v0);
        for (size_t e = 0; e < (size_t)n * T * d; e++)
            J.X[e] *= c;
        double v2 = solve_check(&J, p, NULL);
        cr_assert(fabs(v2 - v0 / c) <= 1e-10 * v0, "p=%g X scaled: %.17g vs %.17g", p, v2,
                  v0 / c);
        for (size_t e = 0; e < (size_t)n * d; e++)
            J.Z[e] *= c;
        double v3 = solve_check(&J, p, NULL);
        cr_assert(fabs(v3 - v0 / (c * c)) <= 1e-10 * v0, "p=%g X,Z scaled", p);
        free_inst(&J);
    }
    free_inst(&I);
}

Test(oracle_invariance, extreme_scales)
{
    /* Tokens scaled by 1e-4 or 1e4: the value scales by 1/c, and the dual
     * objective the Newton phase minimizes then has magnitude up to ~c^-p
     * (1e12 at p = 3), far beyond where its last Newton decreases are
     * resolved in double precision; the solver must still certify. */
    inst I = make_inst(20, 12, 10, 12);
    const double cs[] = {1e-4, 1e4};
    const double ps[] = {1.1, 1.5, 2.0, 3.0, 5.0};
    for (int k = 0; k < 5; k++) {
        double p = ps[k], v0 = solve_check(&I, p, NULL);
        for (int t = 0; t < 2; t++) {
            inst J = make_inst(20, 12, 10, 12);
            for (size_t e = 0; e < (size_t)J.n * J.T * J.d; e++)
                J.X[e] *= cs[t];
            double v = solve_check(&J, p, NULL);
            cr_assert(fabs(v * cs[t] - v0) <= 1e-10 * v0, "p=%g c=%g: %.17g vs %.17g", p, cs[t],
                      v * cs[t], v0);
            free_inst(&J);
        }
    }
    free_inst(&I);
}

/* ------------------------------------------------ infeasible and failures */

Test(oracle_infeasible, duplicate_token)
{
    inst I = make_inst(6, 8, 10, 9);
    memcpy(I.X + ((size_t)2 * I.T + (I.alpha[2] + 1) % I.T) * I.d,
           I.X + ((size_t)2 * I.T + I.alpha[2]) * I.d, sizeof(double) * I.d);
    attsvm_data D = view(&I);
    int m, nx;
    double *A = attsvm_build_rows(&D, I.alpha, ATTSVM_TARGET_W, &m, &nx);
    for (int k = 0; k < NPS; k++) {
        attsvm_settings s = sett(PS[k]);
        attsvm_result r;
        cr_assert_eq(attsvm_solve(&D, I.alpha, ATTSVM_TARGET_W, &s, &r), ATTSVM_INFEASIBLE);
        check_farkas(A, m, nx, &r);
        cr_assert_eq(r.farkas_residual, 0.0);
        attsvm_result_free(&r);
    }
    free(A);
    free_inst(&I);
}

Test(oracle_infeasible, contradictory_rows)
{
    /* a.x >= 1, b.x >= 1, -(a + b).x >= 1: lambda = (1, 1, 1) (scaled). */
    trng g = {13};
    enum { NX = 6, M = 9 };
    double A[M * NX];
    for (int e = 0; e < M * NX; e++)
        A[e] = tr_gauss(&g);
    for (int j = 0; j < NX; j++)
        A[2 * NX + j] = -(A[j] + A[NX + j]);
    for (int k = 0; k < NPS; k++) {
        attsvm_settings s = sett(PS[k]);
        attsvm_result r;
        attsvm_solve_rows(A, M, NX, &s, &r);
        check_farkas(A, M, NX, &r);
        attsvm_result_free(&r);
    }
}

Test(oracle_infeasible, many_tokens_in_few_dimensions)
{
    /* 40 unit tokens in 6 dimensions: the selected token lies in the convex
     * hull of the others for some sample, so no W separates it.  Every p must
     * answer INFEASIBLE with a Farkas vector, the Newton methods included
     * (their dual is unbounded: the feasibility LP decides at the first sign
     * of divergence or stall). */
    inst I = make_inst(50, 40, 6, 21);
    attsvm_data D = view(&I);
    int m, nx;
    double *A = attsvm_build_rows(&D, I.alpha, ATTSVM_TARGET_W, &m, &nx);
    const double ps[] = {1.0, 1.1, 1.5, 2.0, 3.0, 8.0, INFINITY};
    for (int k = 0; k < 7; k++) {
        attsvm_settings s = sett(ps[k]);
        attsvm_result r;
        cr_assert_eq(attsvm_solve(&D, I.alpha, ATTSVM_TARGET_W, &s, &r), ATTSVM_INFEASIBLE,
                     "p=%g: %s", ps[k], r.message);
        cr_assert_null(r.x);
        check_farkas(A, m, nx, &r);
        attsvm_result_free(&r);
    }
    free(A);
    free_inst(&I);
}

Test(oracle_failure, iteration_limit)
{
    inst I = make_inst(6, 8, 10, 10);
    attsvm_data D = view(&I);
    const double ps[] = {1.0, 1.5, INFINITY};
    for (int k = 0; k < 3; k++) {
        attsvm_settings s = sett(ps[k]);
        s.lp_it_lim = 1;
        s.lp_phase = 1; /* p = 1.5: GLPK's model LP runs first */
        attsvm_result r;
        cr_assert_eq(attsvm_solve(&D, I.alpha, ATTSVM_TARGET_W, &s, &r), ATTSVM_FAILED,
                     "p=%g: %s", ps[k], r.message);
        cr_assert_null(r.x);
        cr_assert_eq(r.ndual, 0);
        cr_assert(strstr(r.message, "iteration limit"), "%s", r.message);
        attsvm_result_free(&r);
    }
    free_inst(&I);
}

/* For 1 < p < inf, p != 2 a solve that fails without the LP phase is
 * repeated once with it (oracle/attsvm.c, solve_rows_g): with one round of
 * row generation both attempts fail, and the answer says so, counts both
 * attempts' rounds and Newton steps and the LP phase's GLPK solve; with the
 * rounds it needs the same instance is certified without any LP. */
Test(oracle_failure, a_failed_newton_phase_is_retried_with_the_lp_phase)
{
    inst I = make_inst(50, 10, 8, 7);
    attsvm_data D = view(&I);
    /* planted: alpha_i = argmax_t x_it^T W* z_i, so the W-SVM is feasible */
    trng rg = {99};
    double Ws[64];
    for (int e = 0; e < 64; e++)
        Ws[e] = tr_gauss(&rg);
    for (int i = 0; i < I.n; i++) {
        double best = -INFINITY;
        for (int t = 0; t < I.T; t++) {
            double v = 0.0;
            for (int j = 0; j < 8; j++)
                for (int c = 0; c < 8; c++)
                    v += I.X[((size_t)i * I.T + t) * 8 + j] * Ws[j * 8 + c] * I.Z[(size_t)i * 8 + c];
            if (v > best) {
                best = v;
                I.alpha[i] = t;
            }
        }
    }
    const double ps[] = {1.5, 3.0};
    for (int k = 0; k < 2; k++) {
        attsvm_settings s = sett(ps[k]);
        attsvm_result r;
        cr_assert_eq(attsvm_solve(&D, I.alpha, ATTSVM_TARGET_W, &s, &r), ATTSVM_OPTIMAL,
                     "p=%g: %s", ps[k], r.message);
        cr_assert_eq(r.lp_solves, 0, "p=%g: the Newton phase alone certifies", ps[k]);
        cr_assert_gt(r.rounds, 1, "p=%g: needs more than one round", ps[k]);
        attsvm_result_free(&r);
        s.max_rounds = 1;
        attsvm_result one;
        s.lp_phase = 1;
        cr_assert_eq(attsvm_solve(&D, I.alpha, ATTSVM_TARGET_W, &s, &one), ATTSVM_FAILED);
        s.lp_phase = 0;
        cr_assert_eq(attsvm_solve(&D, I.alpha, ATTSVM_TARGET_W, &s, &r), ATTSVM_FAILED,
                     "p=%g: %s", ps[k], r.message);
        cr_assert_null(r.x);
        cr_assert(strstr(r.message, "max_rounds") && strstr(r.message, "; with the LP phase: "),
                  "p=%g: %s", ps[k], r.message);
        cr_assert_geq(r.lp_solves, 1, "p=%g", ps[k]);
        cr_assert_eq(r.rounds, 1 + one.rounds, "p=%g: rounds %d", ps[k], r.rounds);
        cr_assert_gt(r.newton_iterations, one.newton_iterations, "p=%g", ps[k]);
        attsvm_result_free(&r);
        attsvm_result_free(&one);
    }
    free_inst(&I);
}

Test(oracle_failure, invalid_input)
{
    inst I = make_inst(3, 4, 3, 12);
    attsvm_data D = view(&I);
    attsvm_settings s = sett(2.0);
    attsvm_result r;
    const struct {
        double p;
        const char *field;
    } bad_p[] = {{0.5, "p"}, {NAN, "p"}, {-INFINITY, "p"}};
    for (int k = 0; k < 3; k++) {
        s.p = bad_p[k].p;
        cr_assert_eq(attsvm_solve(&D, I.alpha, ATTSVM_TARGET_W, &s, &r), ATTSVM_EINVAL);
        cr_assert(strncmp(r.message, "p:", 2) == 0, "%s", r.message);
        cr_assert_null(r.x);
    }
    s.p = 2.0;
    I.alpha[1] = 4;
    cr_assert_eq(attsvm_solve(&D, I.alpha, ATTSVM_TARGET_W, &s, &r), ATTSVM_EINVAL);
    cr_assert(strstr(r.message, "alpha"), "%s", r.message);
    I.alpha[1] = 0;
    I.X[5] = NAN;
    cr_assert_eq(attsvm_solve(&D, I.alpha, ATTSVM_TARGET_W, &s, &r), ATTSVM_EINVAL);
    cr_assert(strncmp(r.message, "X:", 2) == 0, "%s", r.message);
    I.X[5] = 0.1;
    I.Z[2] = INFINITY;
    cr_assert_eq(attsvm_solve(&D, I.alpha, ATTSVM_TARGET_W, &s, &r), ATTSVM_EINVAL);
    cr_assert(strncmp(r.message, "Z:", 2) == 0, "%s", r.message);
    I.Z[2] = 0.1;
    D.n = 0;
    cr_assert_eq(attsvm_solve(&D, I.alpha, ATTSVM_TARGET_W, &s, &r), ATTSVM_EINVAL);
    cr_assert(strncmp(r.message, "n:", 2) == 0, "%s", r.message);
    D.n = 3;
    D.T = 1;
    cr_assert_eq(attsvm_solve(&D, I.alpha, ATTSVM_TARGET_W, &s, &r), ATTSVM_EINVAL);
    cr_assert(strncmp(r.message, "T:", 2) == 0, "%s", r.message);
    double a[2] = {1, 0};
    cr_assert_eq(attsvm_solve_rows(a, 0, 2, &s, &r), ATTSVM_EINVAL);
    cr_assert(strncmp(r.message, "m:", 2) == 0, "%s", r.message);
    s.gap_tol = 0;
    cr_assert_not_null(attsvm_check_settings(&s));
    cr_assert_str_eq(attsvm_strerror(ATTSVM_EINVAL), "invalid");
    free_inst(&I);
}

/* ------------------------------------------------------------------ tokens */

/* Local optimality needs gamma_ia > gamma_it on every support row by more
 * than the tie tolerance 1e-12 max(1, |gamma_ia|): one sample, two tokens,
 * v = e1, z = e2; the scores are 1 and 1 - delta, and the tokens differ in
 * their second entry, so W^mm exists and the only row is in the support. */
Test(oracle_tokens, local_optimality_needs_more_than_a_tie)
{
    const double delta[3] = {5e-13, 2e-12, 1e-6};
    const int want[3] = {0, 1, 1};
    for (int k = 0; k < 3; k++) {
        double X[4] = {1.0, 1.0, 1.0 - delta[k], -1.0}, Z[2] = {0.0, 1.0}, Y = 1.0;
        double v[2] = {1.0, 0.0};
        attsvm_data D = {1, 2, 2, X, Z, &Y, v};
        int alpha = 0;
        attsvm_tokens tok = {0};
        attsvm_settings s = sett(2.0);
        attsvm_result r;
        cr_assert_eq(attsvm_solve(&D, &alpha, ATTSVM_TARGET_W, &s, &r), ATTSVM_OPTIMAL);
        cr_assert_eq(r.nsupport, 1);
        attsvm_global_alpha(&D, &alpha, &tok);
        attsvm_classify(&D, &alpha, &r, &tok);
        cr_expect_eq(tok.locally_optimal, want[k], "gamma gap %g", delta[k]);
        attsvm_result_free(&r);
        attsvm_tokens_free(&tok);
    }
}

Test(oracle_tokens, global_local_nonoptimal)
{
    /* One sample, d = 2, v = e1, Y = +1, z = e1: scores gamma = (1, 0.5, -1).
     * At alpha = 1 only the constraint against token 2 is active (the one
     * against token 0 has slack), and gamma_1 > gamma_2: locally optimal but
     * not global.  At alpha = 2 every support token scores higher: neither. */
    double X[6] = {1.0, -3.0, 0.5, 2.0, -1.0, 0.0}, Z[2] = {1.0, 0.0}, Y = 1.0, v[2] = {1.0, 0.0};
    attsvm_data D = {1, 3, 2, X, Z, &Y, v};
    int alpha;
    attsvm_tokens tok = {0};
    attsvm_global_alpha(&D, &alpha, &tok);
    cr_assert_eq(alpha, 0);
    cr_assert_eq(tok.nties, 0);
    /* the global choice is globally optimal; local optimality needs W^mm,
     * which no solve has produced yet */
    cr_assert(tok.globally_optimal == 1 && tok.locally_optimal == 0);
    const int want_g[3] = {1, 0, 0}, want_l[3] = {1, 1, 0};
    for (int a = 0; a < 3; a++) {
        attsvm_settings s = sett(2.0);
        attsvm_result r;
        attsvm_solve(&D, &a, ATTSVM_TARGET_W, &s, &r);
        cr_assert_eq(r.status, ATTSVM_OPTIMAL);
        attsvm_classify(&D, &a, &r, &tok);
        cr_assert_eq(tok.globally_optimal, want_g[a], "alpha=%d", a);
        cr_assert_eq(tok.locally_optimal, want_l[a], "alpha=%d (support %d)", a, r.nsupport);
        attsvm_result_free(&r);
    }
    /* Infeasible W^mm: not locally optimal. */
    attsvm_result inf = {0};
    inf.status = ATTSVM_INFEASIBLE;
    alpha = 0;
    attsvm_classify(&D, &alpha, &inf, &tok);
    cr_assert_eq(tok.locally_optimal, 0);
    attsvm_tokens_free(&tok);
}

Test(oracle_tokens, ties_to_lowest_index)
{
    double X[8] = {0, 1, 2, 0, 2, 5, -1, 0}, Z[4] = {1, 0, 0, 1}, Y[2] = {1, -1}, v[2] = {1, 0};
    attsvm_data D = {2, 2, 2, X, Z, Y, v}; /* sample 0: scores 0, 2; sample 1: -2, 1 */
    int alpha[2];
    attsvm_tokens tok = {0};
    attsvm_global_alpha(&D, alpha, &tok);
    cr_assert_eq(alpha[0], 1);
    cr_assert_eq(alpha[1], 1);
    cr_assert_eq(tok.nties, 0);
    X[0] = 2.0; /* sample 0 now ties: 2, 2 */
    attsvm_global_alpha(&D, alpha, &tok);
    cr_assert_eq(alpha[0], 0);
    cr_assert_eq(tok.nties, 1);
    cr_assert_eq(tok.ties[0], 0);
    attsvm_tokens_free(&tok);
}

Test(oracle_tokens, row_pair_roundtrip)
{
    inst I = make_inst(4, 5, 3, 14);
    attsvm_data D = view(&I);
    int row = 0;
    for (int i = 0; i < 4; i++)
        for (int t = 0; t < 5; t++) {
            if (t == I.alpha[i])
                continue;
            int ii, tt;
            attsvm_row_pair(&D, I.alpha, ATTSVM_TARGET_W, row++, &ii, &tt);
            cr_assert(ii == i && tt == t);
        }
    free_inst(&I);
}

/* ------------------------------------------------------------------ threads */

typedef struct {
    const inst *I;
    double p, obj;
    int status;
} job;

static void *run_job(void *arg)
{
    job *j = arg;
    attsvm_data D = view(j->I);
    attsvm_settings s = sett(j->p);
    attsvm_result r;
    j->status = attsvm_solve(&D, j->I->alpha, ATTSVM_TARGET_W, &s, &r);
    j->obj = r.objective;
    attsvm_result_free(&r);
    attsvm_thread_cleanup(); /* GLPK's per-thread environment */
    return NULL;
}

Test(oracle_threads, concurrent_solves_agree)
{
    inst I = make_inst(6, 8, 10, 15);
    job jobs[4] = {{&I, 1.0, 0, 0}, {&I, INFINITY, 0, 0}, {&I, 1.5, 0, 0}, {&I, 1.0, 0, 0}};
    pthread_t th[4];
    for (int k = 0; k < 4; k++)
        pthread_create(&th[k], NULL, run_job, &jobs[k]);
    for (int k = 0; k < 4; k++)
        pthread_join(th[k], NULL);
    for (int k = 0; k < 4; k++) {
        cr_assert_eq(jobs[k].status, ATTSVM_OPTIMAL);
        double ref = solve_check(&I, jobs[k].p, NULL);
        cr_assert(fabs(jobs[k].obj - ref) <= 1e-13 * ref);
    }
    free_inst(&I);
}

/* attsvm_certify on an infeasible x: UB = ||x||_p / min(1, min_r a_r.x) (the
 * point rescaled onto the feasible set, attsvm.h), by hand on two rows. */
Test(oracle_cert, upper_bound_rescales_an_infeasible_point)
{
    const double A[4] = {1, 0, 0, 1}, x[2] = {0.5, 2.0};
    attsvm_cert c;
    attsvm_certify(A, 2, 2, 2.0, x, NULL, 0, &c);
    cr_expect(fabs(c.upper - sqrt(4.25) / 0.5) < 1e-14, "UB %.17g", c.upper);
    cr_expect(fabs(c.max_violation - 0.5 / sqrt(4.25)) < 1e-14, "violation %.17g",
              c.max_violation);
}

/* attsvm__finish scales a solver's answer onto the feasible set when rounding
 * left its tightest row a hair short of 1 (1 - 1e-6 < min_r a_r.x < 1) and
 * certifies the scaled point; a row 1e-6 short or more is not repaired but
 * reported as outside feas_tol.  Two unit rows, p = 2, lambda = (1, 1): the
 * optimum is x = (1, 1) with ||x||_2 = sqrt(2) = lower bound. */
static attsvm_status finish_at(double x0, attsvm_result *r)
{
    static const double A[4] = {1, 0, 0, 1};
    double nq[2] = {1, 1}, lam[2] = {1, 1};
    attsvm_settings s;
    attsvm_default_settings(&s);
    const attsvm__prob P = {A, 2, 2, 0, 2.0, 2.0, nq, &s, 0, NULL};
    attsvm__out o = {.status = ATTSVM_OPTIMAL, .lam = lam};
    o.x = malloc(2 * sizeof *o.x);
    cr_assert_not_null(o.x);
    o.x[0] = o.x[1] = x0;
    attsvm__finish(&P, &o, r);
    return r->status;
}

Test(oracle_cert, finish_rescales_a_row_a_hair_short)
{
    attsvm_result r;
    const double shorts[3] = {1.0 - 5e-7, 1.0 - 1e-15, nextafter(1.0 - 1e-6, 1.0)};
    for (int k = 0; k < 3; k++) {
        cr_assert_eq(finish_at(shorts[k], &r), ATTSVM_OPTIMAL, "x0 = %.17g: %s", shorts[k],
                     r.message);
        /* x0 / x0 = 1 exactly in every entry */
        cr_expect(r.x[0] == 1.0 && r.x[1] == 1.0, "x0 = %.17g: x = (%.17g, %.17g)", shorts[k],
                  r.x[0], r.x[1]);
        cr_expect(r.max_violation == 0.0 && fabs(r.objective - sqrt(2.0)) <= 1e-15 &&
                  fabs(r.gap) <= 1e-15 && r.nsupport == 2, "x0 = %.17g: UB %.17g, violation "
                  "%g, gap %g, %d support rows", shorts[k], r.objective, r.max_violation, r.gap,
                  r.nsupport);
        attsvm_result_free(&r);
    }
    /* at the edge of the window and beyond it: not repaired */
    const double far[2] = {1.0 - 1e-6, 0.999};
    for (int k = 0; k < 2; k++) {
        cr_expect_eq(finish_at(far[k], &r), ATTSVM_FAILED, "x0 = %.17g: %s", far[k], r.message);
        cr_expect(r.x == NULL && strstr(r.message, "violation"), "x0 = %.17g: %s", far[k],
                  r.message);
        attsvm_result_free(&r);
    }
}

/* attsvm_check_settings at the edges of every field's range (attsvm.h): the
 * defaults as documented, each bound accepted on its side and refused one
 * step beyond it, with a message naming the field. */
typedef struct {
    const char *field;
    double p, gap, feas;
    int rounds, itlim;
} settings_case;

Test(oracle_settings, defaults_and_edges)
{
    attsvm_settings d;
    attsvm_default_settings(&d);
    cr_expect(d.p == 2.0 && d.exact == 0 && d.gap_tol == 1e-10 && d.feas_tol == 1e-12 &&
              d.max_rounds == 200 && d.lp_it_lim == 0 && d.verbose == 0 &&
              d.row_generation == 1 && d.lp_phase == 0);
    cr_expect_null(attsvm_check_settings(&d));
    cr_expect_str_eq(attsvm_check_settings(NULL), "settings: NULL");
    const settings_case ok[] = {
        {"p", 1.0, 1e-10, 1e-12, 200, 0},           {"p", INFINITY, 1e-10, 1e-12, 200, 0},
        {"gap_tol", 2, 0x1p-1074, 1e-12, 200, 0},   {"gap_tol", 2, DBL_MAX, 1e-12, 200, 0},
        {"feas_tol", 2, 1e-10, 0x1p-1074, 200, 0},  {"feas_tol", 2, 1e-10, DBL_MAX, 200, 0},
        {"max_rounds", 2, 1e-10, 1e-12, 1, 0},      {"lp_it_lim", 2, 1e-10, 1e-12, 200, 1},
    }, bad[] = {
        {"p", nextafter(1.0, 0.0), 1e-10, 1e-12, 200, 0}, {"p", NAN, 1e-10, 1e-12, 200, 0},
        {"gap_tol", 2, 0.0, 1e-12, 200, 0},         {"gap_tol", 2, INFINITY, 1e-12, 200, 0},
        {"gap_tol", 2, NAN, 1e-12, 200, 0},         {"feas_tol", 2, 1e-10, 0.0, 200, 0},
        {"feas_tol", 2, 1e-10, INFINITY, 200, 0},   {"feas_tol", 2, 1e-10, NAN, 200, 0},
        {"feas_tol", 2, 1e-10, -1e-12, 200, 0},     {"max_rounds", 2, 1e-10, 1e-12, 0, 0},
        {"lp_it_lim", 2, 1e-10, 1e-12, 200, -1},
    };
    for (size_t k = 0; k < sizeof ok / sizeof ok[0] + sizeof bad / sizeof bad[0]; k++) {
        const int good = k < sizeof ok / sizeof ok[0];
        const settings_case *c = good ? &ok[k] : &bad[k - sizeof ok / sizeof ok[0]];
        attsvm_settings s = d;
        s.p = c->p;
        s.gap_tol = c->gap;
        s.feas_tol = c->feas;
        s.max_rounds = c->rounds;
        s.lp_it_lim = c->itlim;
        const char *msg = attsvm_check_settings(&s);
        if (good)
            cr_expect_null(msg, "%s edge refused: %s", c->field, msg);
        else
            cr_expect(msg && strncmp(msg, c->field, strlen(c->field)) == 0 &&
                      msg[strlen(c->field)] == ':', "%s: %s", c->field, msg ? msg : "(accepted)");
    }
}

/* Row counts or widths beyond int are refused before anything is allocated
 * or read (attsvm.h): the data pointers are NULL here, so reading them or
 * going on to allocate the 16-17 GB the rows would take fails the test. */
Test(oracle_rows, oversized_shapes_are_refused_before_reading_the_data)
{
    const int shapes[][3] = {{1 << 30, 3, 1},      /* n (T - 1) = 2^31 rows, 16 GB */
                             {1, 2, 46341}};       /* d^2 > INT_MAX columns, 17 GB */
    for (int k = 0; k < 2; k++) {
        attsvm_data D = {shapes[k][0], shapes[k][1], shapes[k][2], NULL, NULL, NULL, NULL};
        int m = -1, nx = -1;
        cr_expect_null(attsvm_build_rows(&D, NULL, ATTSVM_TARGET_W, &m, &nx),
                       "n=%d T=%d d=%d", shapes[k][0], shapes[k][1], shapes[k][2]);
        cr_expect(m == -1 && nx == -1);
    }
}
