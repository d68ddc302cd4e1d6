/* test_oracle_methods.c - the oracle's inner methods checked on their own
 * answers, not only through the certified result they feed (a method that
 * answers worse is usually rescued by the exact LP or by more Newton steps,
 * so the final certificate alone cannot see it):
 *   - the interior point of ipm.c (p = 1 and inf) names the optimal vertex:
 *     its row ratios y_r / s_r and bound ratios single out exactly the support
 *     and the active bounds of the certified solution, well separated from 1,
 *     in a number of iterations typical of a primal-dual method;
 *   - the dual Newton method of dualnewton.c converges on the full row set
 *     (m = 90 rows in 9 variables: its Gram matrix is singular, and with
 *     repeated samples rows repeat) to the certified solution, with the
 *     dual's KKT conditions (doc/design.md, the l_p dual) met to rounding.
 *     Step counts: the active-set method changes the face a few rows at a
 *     time, 46-60 steps here from the p = 2 start (A A^T + ridge)^-1 1; from
 *     the fallback start mu = 1 (what is left when that Gram matrix cannot be
 *     factored) it takes 79-97, hence the bound of 70 (75 for p != 2).
 * Planted instances: W* with uniform entries in [-1, 1] (tokens also scaled
 * by 300 for the interior point, whose start must stay interior), alpha_i = argmax_t
 * x_it^T W* z_i, so the W-SVM is feasible.
 */
#include <criterion/criterion.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attsvm.h"
#include "dualnewton.h"
#include "ipm.h"
#include "linalg.h"
#include "pnipm.h"
#include "pnorm.h"
#include "rows.h"
#include "wrows.h"
#include "splitmix.h"

typedef struct {
    int n, T, d;
    double *X, *Z;
    int *alpha;
    attsvm_data D;
    attsvm__wrows K;
    attsvm__wcache C;
    attsvm__prob P;
    attsvm_settings s;
} inst;

/* A planted instance; dup > 0 makes samples i and i + dup equal for
 * i < dup (their rows repeat); tokens scaled by xs; zcol: every query's
 * last component is 0. */
static void make(inst *I, int n, int T, int d, uint64_t seed, int dup, double p, double xs,
                 int zcol)
{
    *I = (inst){.n = n, .T = T, .d = d};
    I->X = malloc(sizeof(double) * n * T * d);
    I->Z = malloc(sizeof(double) * n * d);
    I->alpha = malloc(sizeof(int) * n);
    double *Ws = malloc(sizeof(double) * d * d);
    cr_assert(I->X && I->Z && I->alpha && Ws);
    for (int e = 0; e < d * d; e++)
        Ws[e] = 2.0 * unif(&seed) - 1.0;
    for (int e = 0; e < n * T * d; e++)
        I->X[e] = xs * (2.0 * unif(&seed) - 1.0);
    for (int e = 0; e < n * d; e++)
        I->Z[e] = zcol && e % d == d - 1 ? 0.0 : 2.0 * unif(&seed) - 1.0;
    for (int i = 0; i < dup; i++) {
        memcpy(I->X + (size_t)(i + dup) * T * d, I->X + (size_t)i * T * d, sizeof(double) * T * d);
        memcpy(I->Z + (size_t)(i + dup) * d, I->Z + (size_t)i * d, sizeof(double) * d);
    }
    for (int i = 0; i < n; i++) {
        double best = -INFINITY;
        for (int t = 0; t < T; t++) {
            double sc = 0.0;
            for (int a = 0; a < d; a++)
                for (int b = 0; b < d; b++)
                    sc += I->X[((size_t)i * T + t) * d + a] * Ws[a * d + b] * I->Z[i * d + b];
            if (sc > best) {
                best = sc;
                I->alpha[i] = t;
            }
        }
    }
    free(Ws);
    I->D = (attsvm_data){n, T, d, I->X, I->Z, NULL, NULL};
    attsvm_default_settings(&I->s);
    I->s.p = p;
    cr_assert_eq(attsvm__wrows_init(&I->K, &I->D, I->alpha), 0);
    cr_assert_eq(attsvm__wcache_init(&I->C, &I->K), 0);
    const double q = isinf(p) ? 1.0 : p == 1.0 ? INFINITY : p / (p - 1.0);
    I->P = (attsvm__prob){NULL, I->K.m, I->K.nx, I->K.g, p, q, NULL, &I->s, 0, &I->C};
    I->P.nq = malloc(sizeof(double) * I->K.m);
    cr_assert_not_null(I->P.nq);
    attsvm__rows_norms(&I->P, q, I->P.nq);
}

static void unmake(inst *I)
{
    attsvm__wcache_free(&I->C);
    free(I->P.nq);
    free(I->X);
    free(I->Z);
    free(I->alpha);
}

/* The certified answer of the public solver (the reference). */
static void reference(inst *I, attsvm_result *r)
{
    cr_assert_eq(attsvm_solve(&I->D, I->alpha, ATTSVM_TARGET_W, &I->s, r), ATTSVM_OPTIMAL, "%s",
                 r->message);
    cr_assert(r->gap <= 1e-9 && r->max_violation <= 1e-9, "gap %g viol %g", r->gap,
              r->max_violation);
}

/* p = 1 (one = 1) or inf: the interior point's ratios name the certified
 * vertex.  Row r is named active when y_r / s_r > 1; at the method's stopping
 * point (relative gap and residuals 1e-9) every ratio is at least 1e3 from 1
 * on the right side: y_r s_r ~ mu, so y_r / s_r ~ y_r^2 / mu. */
static void check_ipm(int one, uint64_t seed, double xs)
{
    inst I;
    make(&I, 40, 5, 4, seed, 0, one ? 1.0 : INFINITY, xs, 0);
    attsvm_result r;
    reference(&I, &r);
    const int m = I.K.m, nx = I.K.nx;
    double *rr = malloc(sizeof(double) * m), *c1 = malloc(sizeof(double) * nx),
           *c2 = malloc(sizeof(double) * nx), *lam = calloc((size_t)m, sizeof(double));
    cr_assert(rr && c1 && c2 && lam);
    for (int k = 0; k < r.ndual; k++)
        lam[r.dual[k].row] = r.dual[k].lambda;
    int its = -1;
    cr_assert_eq(attsvm__ipm(&I.P, one, rr, c1, c2, &its), 0, "no convergence (%d iterations)",
                 its);
    /* 11-18 iterations here: fewer than 5 from this start would be a stop
     * test passing too early, more than 40 a method gone astray */
    cr_expect(its >= 5 && its <= 40, "%d iterations", its);
    double xmax = 0.0;
    for (int j = 0; j < nx; j++)
        xmax = fmax(xmax, fabs(r.x[j]));
    int bad = 0;
    for (int q = 0; q < m; q++) {
        const int act = lam[q] > 1e-9;
        bad += act != (rr[q] > 1.0) || !(rr[q] >= 1e3 || rr[q] <= 1e-3);
    }
    cr_expect_eq(bad, 0, "%d rows named wrongly or undecided", bad);
    bad = 0;
    for (int j = 0; j < nx; j++) {
        if (one) { /* x_j = w+_j - w-_j: c1 > 1 iff x_j > 0, c2 > 1 iff x_j < 0 */
            bad += (c1[j] > 1.0) != (r.x[j] > 1e-9 * xmax) || (c2[j] > 1.0) != (r.x[j] < -1e-9 * xmax);
        } else { /* |x_j| = ||x||_inf at the bounds: c1 > 1 at -1, c2 > 1 at +1 */
            bad += (c2[j] > 1.0) != (r.x[j] >= xmax * (1 - 1e-9)) ||
                   (c1[j] > 1.0) != (r.x[j] <= -xmax * (1 - 1e-9));
        }
        bad += !(c1[j] >= 1e3 || c1[j] <= 1e-3) || !(c2[j] >= 1e3 || c2[j] <= 1e-3);
    }
    cr_expect_eq(bad, 0, "%d coordinates named wrongly or undecided", bad);
    free(rr);
    free(c1);
    free(c2);
    free(lam);
    attsvm_result_free(&r);
    unmake(&I);
}

Test(ipm, p1_names_the_certified_vertex)
{
    for (uint64_t seed = 1; seed <= 3; seed++)
        check_ipm(1, seed, 1.0);
    check_ipm(1, 7, 300.0);
}

Test(ipm, pinf_names_the_certified_vertex)
{
    for (uint64_t seed = 1; seed <= 3; seed++)
        check_ipm(0, seed, 1.0);
    check_ipm(0, 7, 300.0);
}

/* The dual Newton method on all rows from the p = 2 start, rescaled, with
 * the driver's divergence limit (pnorm.c): converged, the dual's KKT
 * conditions at its multipliers (mu >= 0, a_k.x(mu) >= 1 - tol,
 * mu_k (a_k.x - 1) = 0 to rounding), x(mu) the certified solution, in at
 * most maxnt Newton steps. */
static void check_dn(double p, int dup, uint64_t seed, int maxnt)
{
    inst I;
    make(&I, 30, 4, 3, seed, dup, p, 1.0, 0);
    attsvm_result r;
    reference(&I, &r);
    attsvm__dn c;
    cr_assert_eq(attsvm__dn_init(&c, &I.P), 0);
    const int m = I.K.m, nx = I.K.nx;
    int *all = malloc(sizeof(int) * m);
    cr_assert_not_null(all);
    for (int k = 0; k < m; k++)
        all[k] = k;
    attsvm__dn_add(&c, all, m, NULL);
    attsvm__dn_start_p2(&c);
    attsvm__dn_rescale(&c);
    c.divlim = 1e8; /* as the driver (pnorm.c) sets it */
    cr_assert_eq(c.nomem, 0);
    attsvm__out o = {0};
    const int rc = attsvm__dn_solve(&c, 200, &o);
    cr_expect_eq(rc, 0, "dual Newton: %d after %d steps", rc, o.newton_iterations);
    cr_expect(o.newton_iterations <= maxnt, "%d Newton steps (at most %d)", o.newton_iterations,
              maxnt);
    double xmax = 0.0, err = 0.0, mumax = 0.0;
    for (int j = 0; j < nx; j++) {
        xmax = fmax(xmax, fabs(r.x[j]));
        err = fmax(err, fabs(c.x[j] - r.x[j]));
    }
    for (int k = 0; k < c.nR; k++)
        mumax = fmax(mumax, (double)c.mu[k]);
    cr_expect(err <= 1e-7 * xmax, "x off the certified solution by %g (max %g)", err, xmax);
    int bad = 0;
    for (int k = 0; k < c.nR; k++) {
        const double mu = (double)c.mu[k], g = c.g[k];
        bad += !(mu >= 0.0) || !(g >= -1e-9) || !(fabs(mu * g) <= 1e-9 * mumax);
    }
    cr_expect_eq(bad, 0, "%d rows break the KKT conditions", bad);
    free(all);
    free(o.x);
    free(o.lam);
    free(o.ws);
    attsvm__dn_free(&c);
    attsvm_result_free(&r);
    unmake(&I);
}

Test(dualnewton, p2_converges_within_the_step_bound)
{
    for (uint64_t seed = 1; seed <= 3; seed++)
        check_dn(2.0, 0, seed, 70);
}

Test(dualnewton, p2_with_repeated_rows)
{
    for (uint64_t seed = 1; seed <= 3; seed++)
        check_dn(2.0, 10, seed, 70);
}

Test(dualnewton, p3_and_p175_converge)
{
    for (uint64_t seed = 1; seed <= 2; seed++) {
        check_dn(3.0, 0, seed, 75);
        check_dn(1.75, 0, seed, 75);
    }
}

/* ------------------------------------------------------ dense kernels */

/* H = B B^T (both triangles: the product fills the lower one and the upper
 * is mirrored) against the plain triple loop, for every n up to 9 and odd
 * and even row lengths. */
Test(linalg, gram_matches_the_plain_sums)
{
    uint64_t seed = 11;
    for (int n = 1; n <= 9; n++)
        for (int nx = 1; nx <= 7; nx += 3) {
            double *B = malloc(sizeof(double) * n * nx), *H = malloc(sizeof(double) * n * n);
            cr_assert(B && H);
            for (int e = 0; e < n * nx; e++)
                B[e] = 2.0 * unif(&seed) - 1.0;
            for (int e = 0; e < n * n; e++)
                H[e] = NAN;
            attsvm__gram_lower(n, nx, B, H);
            double err = 0.0;
            for (int a = 0; a < n; a++)
                for (int b = 0; b < n; b++) {
                    long double s = 0.0L;
                    for (int j = 0; j < nx; j++)
                        s += (long double)B[a * nx + j] * B[b * nx + j];
                    const double e = fabs(H[a * n + b] - (double)s);
                    err = e > err || e != e ? e : err;
                }
            cr_expect(err <= 1e-14, "n = %d, nx = %d: off by %g", n, nx, err);
            free(B);
            free(H);
        }
}

/* --------------------------------------- interior point on dense rows */

/* The interior point works on the Kronecker structure of W rows: given as
 * dense rows it finds that structure (rows.c) and names the same vertex as
 * on generated rows; rows without it (no sample blocks, or nx not a square)
 * are declined with -1 before anything is read. */
Test(ipm, dense_rows_structure_found_or_declined)
{
    inst I;
    make(&I, 40, 5, 4, 3, 0, 1.0, 1.0, 0);
    int m, nx;
    double *A = attsvm_build_rows(&I.D, I.alpha, ATTSVM_TARGET_W, &m, &nx);
    cr_assert_not_null(A);
    cr_assert(m == I.K.m && nx == I.K.nx);
    attsvm__prob D = I.P;
    D.A = A;
    D.gen = NULL;
    double *rr = malloc(sizeof(double) * m), *c1 = malloc(sizeof(double) * nx),
           *c2 = malloc(sizeof(double) * nx), *rg = malloc(sizeof(double) * m);
    cr_assert(rr && c1 && c2 && rg);
    int its = 0, itg = 0;
    cr_assert_eq(attsvm__ipm(&D, 1, rr, c1, c2, &its), 0);
    cr_assert_eq(attsvm__ipm(&I.P, 1, rg, c1, c2, &itg), 0);
    int differ = 0;
    for (int r = 0; r < m; r++)
        differ += (rr[r] > 1.0) != (rg[r] > 1.0);
    cr_expect_eq(differ, 0, "%d rows named differently on dense rows", differ);
    D.group = 0;            /* no sample blocks */
    cr_expect_eq(attsvm__ipm(&D, 1, rr, c1, c2, &its), -1);
    D.group = I.K.g;
    D.nx = nx - 1;          /* not a square: no d x d matrix */
    D.m = m;
    cr_expect_eq(attsvm__ipm(&D, 1, rr, c1, c2, &its), -1);
    D.nx = nx;
    D.m = m - 1;            /* the blocks do not tile the rows */
    cr_expect_eq(attsvm__ipm(&D, 1, rr, c1, c2, &its), -1);
    free(rr);
    free(c1);
    free(c2);
    free(rg);
    free(A);
    unmake(&I);
}

/* ------------------------------------------ large p: interior-point stage */

/* The interior-point stage of the large-p continuation (pnipm.c), run on
 * its own from the certified p = 2 solution and its support to the stage
 * p = pk: converged, with the working rows it hands to the polish equal to
 * the support of the certified l_pk solution and x within 1e-5 of it
 * (relative); then the primal-dual Newton polish (pdnewton.c) converges to
 * that solution within 1e-9.  zcol: the queries' last component is 0, so
 * the d variables W_j,d-1 appear in no row and stay exactly 0, where the
 * Hessian |x_j|^(p-2) of the polish vanishes. */
static void check_pnipm(double pk, uint64_t seed, int zcol)
{
    inst I;
    make(&I, 30, 4, 3, seed, 0, pk, 1.0, zcol);
    attsvm_result r, r2;
    reference(&I, &r);
    attsvm_settings s2 = I.s;
    s2.p = 2.0;
    cr_assert_eq(attsvm_solve(&I.D, I.alpha, ATTSVM_TARGET_W, &s2, &r2), ATTSVM_OPTIMAL);
    const int m = I.K.m, nx = I.K.nx;
    attsvm__kkt K = {&I.P, pk, 0.0, malloc(sizeof(int) * m), 0, calloc((size_t)m, 1), 150, 0};
    double *x = malloc(sizeof(double) * nx), *nu = calloc((size_t)m, sizeof(double));
    cr_assert(K.S && K.inws && x && nu);
    memcpy(x, r2.x, sizeof(double) * nx);
    for (int k = 0; k < r2.ndual; k++) {
        K.inws[r2.dual[k].row] = 1;
        nu[K.nS] = r2.dual[k].lambda;
        K.S[K.nS++] = r2.dual[k].row;
    }
    cr_assert_eq(attsvm__kkt_scale(&K, x), 0);
    K.p = pk;
    attsvm__out o = {0};
    cr_assert_eq(attsvm__pnipm_solve(&K, x, nu, &o), 0, "p = %g seed %d: not converged", pk,
                 (int)seed);
    char *sup = calloc((size_t)m, 1);
    cr_assert_not_null(sup);
    for (int k = 0; k < r.nsupport; k++)
        sup[r.support[k]] = 1;
    int named = 0, missing = 0;
    for (int k = 0; k < K.nS; k++)
        named += sup[K.S[k]];
    missing = r.nsupport - named;
    cr_expect(missing == 0 && K.nS == r.nsupport, "p = %g seed %d: %d working rows, %d of the %d "
              "support rows missing", pk, (int)seed, K.nS, missing, r.nsupport);
    double err = 0.0, xm = 0.0;
    for (int j = 0; j < nx; j++) {
        err = fmax(err, fabs(x[j] - r.x[j]));
        xm = fmax(xm, fabs(r.x[j]));
    }
    cr_expect(err <= 1e-5 * xm, "p = %g seed %d: x off by %g (max %g)", pk, (int)seed, err, xm);
    cr_assert_eq(attsvm__kkt_solve(&K, x, nu, &o), 0, "p = %g seed %d: polish not converged", pk,
                 (int)seed);
    err = 0.0;
    for (int j = 0; j < nx; j++)
        err = fmax(err, fabs(x[j] - r.x[j]));
    cr_expect(err <= 1e-9 * xm, "p = %g seed %d: polished x off by %g (max %g)", pk, (int)seed,
              err, xm);
    free(sup);
    free(K.S);
    free(K.inws);
    free(x);
    free(nu);
    attsvm_result_free(&r);
    attsvm_result_free(&r2);
    unmake(&I);
}

Test(pnipm, stage_and_polish_reach_the_certified_solution)
{
    for (uint64_t seed = 1; seed <= 3; seed++) {
        check_pnipm(3.0, seed, 0);
        check_pnipm(6.0, seed, 0);
        check_pnipm(6.0, seed, 1);
    }
}

/* LU with iterative refinement on the Hilbert matrix of order 10
 * (condition number 1.6e13), M y = b and M^T y = b, against the exact
 * solution of the same rounded system computed in __float128: refinement
 * with long double residuals reaches about cond * 2^-64 = 1e-6 (measured
 * 2e-8 and 5e-8; without refinement it is off by about 1e-4). */
Test(linalg, lu_refinement_on_the_hilbert_matrix)
{
    enum { N = 10 };
    double M[N * N], b[N], y[N];
    for (int i = 0; i < N; i++) {
        b[i] = 0.0;
        for (int j = 0; j < N; j++) {
            M[i * N + j] = 1.0 / (i + j + 1);
            b[i] += M[i * N + j] * (j % 2 ? -1.0 : 1.0);
        }
    }
    for (int trans = 0; trans <= 1; trans++) {
        __float128 A[N][N + 1];
        for (int i = 0; i < N; i++) {
            for (int j = 0; j < N; j++)
                A[i][j] = M[trans ? j * N + i : i * N + j];
            A[i][N] = b[i];
        }
        for (int k = 0; k < N; k++) { /* partial pivoting in quad precision */
            int piv = k;
            for (int i = k + 1; i < N; i++)
                if ((A[i][k] < 0 ? -A[i][k] : A[i][k]) > (A[piv][k] < 0 ? -A[piv][k] : A[piv][k]))
                    piv = i;
            for (int j = 0; j <= N; j++) {
                __float128 t = A[k][j];
                A[k][j] = A[piv][j];
                A[piv][j] = t;
            }
            for (int i = k + 1; i < N; i++) {
                const __float128 f = A[i][k] / A[k][k];
                for (int j = k; j <= N; j++)
                    A[i][j] -= f * A[k][j];
            }
        }
        __float128 rq[N];
        double ref[N], err = 0.0, ym = 0.0;
        for (int i = N - 1; i >= 0; i--) {
            __float128 s = A[i][N];
            for (int j = i + 1; j < N; j++)
                s -= A[i][j] * rq[j];
            rq[i] = s / A[i][i];
            ref[i] = (double)rq[i];
        }
        cr_assert_eq(attsvm__lu_solve(N, M, b, y, trans), 0);
        for (int i = 0; i < N; i++) {
            err = fmax(err, fabs(y[i] - ref[i]));
            ym = fmax(ym, fabs(ref[i]));
        }
        cr_expect(err <= 1e-6 * ym, "trans = %d: off by %g (max %g)", trans, err, ym);
    }
}

/* The W rows' view accepts shapes up to m = n (T - 1) = INT_MAX and
 * nx = d^2 <= INT_MAX exactly, and refuses one beyond either (or T < 2),
 * from the shapes alone (nothing is read). */
Test(wrows, shape_limits_are_inclusive)
{
    attsvm__wrows K;
    attsvm_data D = {INT_MAX, 2, 1, NULL, NULL, NULL, NULL};
    cr_expect_eq(attsvm__wrows_init(&K, &D, NULL), 0);
    cr_expect(K.m == INT_MAX && K.nx == 1 && K.g == 1);
    D.T = 3;                            /* m = 2 INT_MAX */
    cr_expect_eq(attsvm__wrows_init(&K, &D, NULL), -1);
    D = (attsvm_data){1, 2, 46340, NULL, NULL, NULL, NULL}; /* d^2 = 2147395600 */
    cr_expect_eq(attsvm__wrows_init(&K, &D, NULL), 0);
    cr_expect_eq(K.nx, 46340 * 46340);
    D.d = 46341;                        /* d^2 = 2147488281 > INT_MAX */
    cr_expect_eq(attsvm__wrows_init(&K, &D, NULL), -1);
    D = (attsvm_data){5, 1, 3, NULL, NULL, NULL, NULL};
    cr_expect_eq(attsvm__wrows_init(&K, &D, NULL), -1);
}

/* The LP phase's model of (1/p)|t|^p: its breakpoints s/2, s, 2 s and
 * secant slopes, so that the interpolant meets the function at every
 * breakpoint (summing slope times segment length from 0) and is convex. */
Test(pnorm, piecewise_linear_model_interpolates_the_power)
{
    const double ps[] = {1.1, 1.5, 1.75, 2.0, 3.0, 4.0}, ss[] = {1e-3, 0.7, 1.0, 250.0};
    for (size_t a = 0; a < sizeof ps / sizeof *ps; a++)
        for (size_t b = 0; b < sizeof ss / sizeof *ss; b++) {
            const double p = ps[a], s = ss[b], want[PWL_K] = {0.5 * s, s, 2.0 * s};
            double bp[PWL_K], slope[PWL_K], prev = 0.0, f = 0.0;
            attsvm__pwl_model(s, p, bp, slope);
            for (int t = 0; t < PWL_K; t++) {
                cr_expect(fabs(bp[t] - want[t]) <= 1e-15 * want[t], "p %g s %g: bp[%d] = %g", p,
                          s, t, bp[t]);
                f += slope[t] * (bp[t] - prev);
                prev = bp[t];
                const double exact = pow(bp[t], p) / p;
                cr_expect(fabs(f - exact) <= 1e-13 * exact, "p %g s %g: model %g at bp[%d], "
                          "|t|^p/p = %g", p, s, f, t, exact);
                cr_expect(t == 0 || slope[t] > slope[t - 1], "p %g s %g: not convex", p, s);
            }
        }
}

/* Rows (1, 0), (-2, 0), (0, 1) are infeasible (Farkas vector (2, 1, 0)).
 * Two of them are parallel, which blows up the p = 2 start of the dual
 * Newton method; its multipliers then ran off while their projected gradient
 * stayed small relative to them, and p = 2 used to answer "failed" with a
 * meaningless certificate.  Every p answers infeasible, with lambda
 * proportional to (2, 1, 0) and A^T lambda = 0 to rounding. */
Test(oracle_rows, parallel_infeasible_rows_get_a_farkas_certificate)
{
    static const double A[3 * 2] = {1, 0, -2, 0, 0, 1};
    const double ps[] = {1.0, 1.5, 2.0, 3.0, INFINITY};
    for (size_t k = 0; k < sizeof ps / sizeof *ps; k++) {
        attsvm_settings s;
        attsvm_default_settings(&s);
        s.p = ps[k];
        attsvm_result r;
        cr_expect_eq(attsvm_solve_rows(A, 3, 2, &s, &r), ATTSVM_INFEASIBLE, "p = %g: %s", ps[k],
                     r.message);
        double lam[3] = {0, 0, 0}, sum = 0.0;
        for (int a = 0; a < r.ndual; a++)
            if (r.dual[a].row >= 0 && r.dual[a].row < 3)
                lam[r.dual[a].row] += r.dual[a].lambda;
        sum = lam[0] + lam[1] + lam[2];
        cr_expect(sum > 0 && fabs(lam[0] - 2 * lam[1]) <= 1e-12 * sum && lam[2] <= 1e-12 * sum,
                  "p = %g: lambda (%g, %g, %g)", ps[k], lam[0], lam[1], lam[2]);
        attsvm_result_free(&r);
    }
}

/* ------------------------------------------- dual Newton on dense rows */

/* The dual Newton state on the dense rows A (m x nx) at exponent p, every
 * row in the working set. */
typedef struct {
    attsvm_settings s;
    attsvm__prob P;
    attsvm__dn c;
} dense_dn;

static void dense_dn_init(dense_dn *S, const double *A, int m, int nx, double p)
{
    attsvm_default_settings(&S->s);
    S->s.p = p;
    S->P = (attsvm__prob){A, m, nx, 0, p, p / (p - 1.0), malloc(sizeof(double) * m), &S->s, 0, NULL};
    cr_assert_not_null(S->P.nq);
    attsvm__rows_norms(&S->P, S->P.q, S->P.nq);
    cr_assert_eq(attsvm__dn_init(&S->c, &S->P), 0);
    int all[64];
    cr_assert(m <= 64);
    for (int k = 0; k < m; k++)
        all[k] = k;
    attsvm__dn_add(&S->c, all, m, NULL);
    cr_assert_eq(S->c.nomem, 0);
}

static void dense_dn_free(dense_dn *S)
{
    attsvm__dn_free(&S->c);
    free(S->P.nq);
}

/* The Farkas search's null-vector candidate: rows (1, 0), (-1, 0), (0, 1)
 * with multipliers (1, 2, 0) on the first two.  Their own direction is no
 * Farkas vector (A^T mu = (-1, 0)), but (1, 1) spans the null space of
 * their Gram matrix, and the search must find it without Newton steps. */
Test(dualnewton, farkas_search_finds_the_null_vector)
{
    static const double A[3 * 2] = {1, 0, -1, 0, 0, 1};
    dense_dn S;
    dense_dn_init(&S, A, 3, 2, 2.0);
    S.c.mu[0] = 1.0;
    S.c.mu[1] = 2.0;
    S.c.mu[2] = 0.0;
    attsvm__out o = {0};
    double lam[3] = {-1, -1, -1};
    cr_expect_eq(attsvm__dn_farkas(&S.c, 1e-12, 0, &o, lam), 1);
    cr_expect(lam[0] > 0 && fabs(lam[0] - lam[1]) <= 1e-15 * lam[0] && lam[2] == 0.0,
              "lambda (%g, %g, %g)", lam[0], lam[1], lam[2]);
    cr_expect_eq(o.newton_iterations, 0);
    dense_dn_free(&S);
}

/* Rows whose terms cancel: a_1 = (M + 1, -M), a_2 = (-M, M + 1) (solution
 * near (1, 1), |a_kj x_j| ~ M), and a_3 = (1, 2) / 4.  The rounding floor
 * of the residuals that the multipliers allow grows like M^2 eps, but the
 * method may call a point converged only below max(1e-9, the floor of
 * evaluating a_k.x) (dualnewton.c, pn_floors): every truncated run that
 * reports convergence has its projected gradient there, recomputed here in
 * long double.  *seen counts the runs stopped between that bound and 1e-6
 * without convergence (the p = 1.1, M = 1e6 run after 7 steps is one). */
static void check_dn_floor(double p, double M, int *seen)
{
    const double A[3 * 2] = {M + 1, -M, -M, M + 1, 0.25, 0.5};
    for (int maxit = 1; maxit <= 40; maxit++) {
        dense_dn S;
        dense_dn_init(&S, A, 3, 2, p);
        attsvm__dn_start_p2(&S.c);
        attsvm__dn_rescale(&S.c);
        S.c.divlim = 1e8;
        attsvm__out o = {0};
        const int rc = attsvm__dn_solve(&S.c, maxit, &o);
        double pg = 0.0, sc = 0.0;
        for (int k = 0; k < 3; k++) {
            const double *a = A + 2 * k, *x = S.c.x;
            const long double g = (long double)a[0] * x[0] + (long double)a[1] * x[1] - 1.0L;
            pg = fmax(pg, S.c.mu[k] > 0.0 ? fabs((double)g) : fmax(0.0, -(double)g));
            sc = fmax(sc, fabs(a[0] * x[0]) + fabs(a[1] * x[1]));
        }
        const double bound = fmax(1e-9, 2.2e-16 * sc * sqrt(2.0));
        *seen += rc != 0 && pg > bound && pg <= 1e-6;
        cr_expect(rc != 0 || pg <= bound,
                  "p = %g, M = %g, %d steps: converged with projected gradient %g > %g", p, M,
                  maxit, pg, bound);
        if (maxit == 40)
            cr_expect_eq(rc, 0, "p = %g, M = %g: not converged in 40 steps", p, M);
        dense_dn_free(&S);
    }
}

Test(dualnewton, convergence_is_never_called_above_the_floor_cap)
{
    int seen = 0;
    const double ps[] = {1.1, 1.5, 3.0, 6.0}, Ms[] = {1e4, 1e5, 1e6};
    for (int a = 0; a < 4; a++)
        for (int b = 0; b < 3; b++)
            check_dn_floor(ps[a], Ms[b], &seen);
    cr_expect(seen > 0, "no truncated run stopped between the bound and 1e-6");
}

/* Random token choices on random data (n = 20..49 samples, T = 3..6,
 * d = 2..5) have no W-SVM, and for 1 < p < inf the dual Newton method's
 * multipliers, diverging or stalled, certify that with an exact Farkas
 * vector: with the extra Newton rounds for diverging multipliers
 * (pnorm.c, attsvm__dn_farkas), no instance here needs the Farkas LP on
 * GLPK, which is what keeps infeasible answers fast at large sizes. */
Test(oracle_rows, infeasible_choices_are_certified_without_an_lp)
{
    const double ps[] = {1.25, 1.5, 2.0, 3.0, 4.0};
    int infeasible = 0;
    for (int seed = 1; seed <= 40; seed++)
        for (int a = 0; a < 5; a++) {
            const int n = 20 + seed % 30, T = 3 + seed % 4, d = 2 + seed % 4;
            uint64_t st = 7919u * (uint64_t)seed;
            double *X = malloc(sizeof(double) * n * T * d), *Z = malloc(sizeof(double) * n * d);
            int *alpha = malloc(sizeof(int) * n);
            cr_assert(X && Z && alpha);
            for (int e = 0; e < n * T * d; e++)
                X[e] = 2.0 * unif(&st) - 1.0;
            for (int e = 0; e < n * d; e++)
                Z[e] = 2.0 * unif(&st) - 1.0;
            for (int i = 0; i < n; i++)
                alpha[i] = (int)(unif(&st) * T);
            const attsvm_data D = {n, T, d, X, Z, NULL, NULL};
            attsvm_settings s;
            attsvm_default_settings(&s);
            s.p = ps[a];
            attsvm_result r;
            const attsvm_status st2 = attsvm_solve(&D, alpha, ATTSVM_TARGET_W, &s, &r);
            cr_expect(st2 == ATTSVM_INFEASIBLE || st2 == ATTSVM_OPTIMAL, "seed %d, p = %g: %s",
                      seed, ps[a], r.message);
            if (st2 == ATTSVM_INFEASIBLE) {
                infeasible++;
                cr_expect(r.lp_solves == 0 && r.farkas_residual <= 1e-12,
                          "seed %d, p = %g: %d LPs, Farkas residual %g", seed, ps[a],
                          r.lp_solves, r.farkas_residual);
            }
            attsvm_result_free(&r);
            free(X);
            free(Z);
            free(alpha);
        }
    cr_expect(infeasible >= 150, "only %d of 200 infeasible", infeasible);
}
