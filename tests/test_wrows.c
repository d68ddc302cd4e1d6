/* test_wrows.c - the oracle's matrix-free W rows (oracle/wrows.c) against the
 * dense rows of attsvm_build_rows on random instances: generated rows bit for
 * bit, A w, A^T lambda and row q-norms to 1e-13 of the sums' magnitudes,
 * pricing against a brute-force scan of A w.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "attsvm.h"
#include "wrows.h"
#include "splitmix.h"

/* Uniform entries in [-2, 2], tokens of varied scale, alpha anywhere
 * (also 0 and T - 1). */
typedef struct {
    int n, T, d;
    double *X, *Z;
    int *alpha;
    attsvm_data D;
} inst;

static inst make(int n, int T, int d, uint64_t seed)
{
    inst I = {n, T, d, malloc(sizeof(double) * n * T * d), malloc(sizeof(double) * n * d),
              malloc(sizeof(int) * n), {0}};
    for (int e = 0; e < n * T * d; e++)
        I.X[e] = (4.0 * unif(&seed) - 2.0) * (e % 7 == 0 ? 1e3 : 1.0);
    for (int e = 0; e < n * d; e++)
        I.Z[e] = 4.0 * unif(&seed) - 2.0;
    for (int i = 0; i < n; i++)
        I.alpha[i] = i == 0 ? 0 : i == 1 ? T - 1 : (int)(unif(&seed) * T);
    I.D = (attsvm_data){n, T, d, I.X, I.Z, NULL, NULL};
    return I;
}

static void unmake(inst *I)
{
    free(I->X);
    free(I->Z);
    free(I->alpha);
}

static const int SHAPES[][3] = {{1, 2, 1}, {3, 2, 5}, {7, 5, 3}, {6, 8, 10}, {20, 9, 7}, {4, 33, 16}};
enum { NSHAPES = sizeof SHAPES / sizeof *SHAPES };

static double dnorm(const double *v, int n, double q)
{
    long double s = 0.0L;
    double mx = 0.0;
    for (int j = 0; j < n; j++)
        mx = fmax(mx, fabs(v[j]));
    if (isinf(q))
        return mx;
    for (int j = 0; j < n; j++)
        s += powl(fabsl(v[j]), q);
    return (double)powl(s, 1.0L / q);
}

Test(wrows, rows_bit_for_bit_and_pairs)
{
    for (int s = 0; s < NSHAPES; s++) {
        inst I = make(SHAPES[s][0], SHAPES[s][1], SHAPES[s][2], 11 + s);
        int m, nx;
        double *A = attsvm_build_rows(&I.D, I.alpha, ATTSVM_TARGET_W, &m, &nx);
        attsvm__wrows K;
        cr_assert_eq(attsvm__wrows_init(&K, &I.D, I.alpha), 0);
        cr_assert(K.m == m && K.nx == nx && K.g == I.T - 1);
        double *a = malloc(sizeof *a * nx), *b = malloc(sizeof *b * I.d);
        for (int r = 0; r < m; r++) {
            attsvm__wrows_row(&K, r, a);
            cr_assert_eq(memcmp(a, A + (size_t)r * nx, sizeof *a * nx), 0, "shape %d row %d", s, r);
            int i, t, i2, t2;
            attsvm__wrows_pair(&K, r, &i, &t);
            attsvm_row_pair(&I.D, I.alpha, ATTSVM_TARGET_W, r, &i2, &t2);
            cr_assert(i == i2 && t == t2 && t != I.alpha[i]);
            attsvm__wrows_diff(&K, r, b);
            const double *z = attsvm__wrows_query(&K, i);
            for (int j = 0; j < I.d; j++)
                cr_assert_eq(b[j] * z[I.d - 1], A[(size_t)r * nx + j * I.d + I.d - 1]);
        }
        free(a);
        free(b);
        free(A);
        unmake(&I);
    }
}

Test(wrows, products_match_dense_rows)
{
    uint64_t seed = 99;
    for (int s = 0; s < NSHAPES; s++) {
        inst I = make(SHAPES[s][0], SHAPES[s][1], SHAPES[s][2], 200 + s);
        int m, nx;
        double *A = attsvm_build_rows(&I.D, I.alpha, ATTSVM_TARGET_W, &m, &nx);
        attsvm__wrows K;
        attsvm__wrows_init(&K, &I.D, I.alpha);
        double *w = malloc(sizeof *w * nx), *lam = malloc(sizeof *lam * m);
        double *ax = malloc(sizeof *ax * m), *u = malloc(sizeof *u * nx);
        for (int j = 0; j < nx; j++)
            w[j] = 2.0 * unif(&seed) - 1.0;
        for (int r = 0; r < m; r++)   /* sparse multipliers, as in a working set */
            lam[r] = unif(&seed) < 0.4 ? 0.0 : unif(&seed) * (r % 3 ? 1.0 : 1e-6);
        attsvm__wrows_ax(&K, w, ax);
        attsvm__wrows_atlam(&K, lam, u);
        for (int r = 0; r < m; r++) {
            long double e = 0.0L, mag = 0.0L;
            for (int j = 0; j < nx; j++) {
                e += (long double)A[(size_t)r * nx + j] * w[j];
                mag += fabsl((long double)A[(size_t)r * nx + j] * w[j]);
            }
            cr_assert_leq(fabsl(ax[r] - e), 1e-13L * mag + 1e-300L, "shape %d A w row %d: %.17g vs %.17Lg",
                          s, r, ax[r], e);
        }
        for (int j = 0; j < nx; j++) {
            long double e = 0.0L, mag = 0.0L;
            for (int r = 0; r < m; r++) {
                e += (long double)lam[r] * A[(size_t)r * nx + j];
                mag += fabsl((long double)lam[r] * A[(size_t)r * nx + j]);
            }
            cr_assert_leq(fabsl(u[j] - e), 1e-13L * mag + 1e-300L, "shape %d A^T lam entry %d", s, j);
        }
        free(w);
        free(lam);
        free(ax);
        free(u);
        free(A);
        unmake(&I);
    }
}

Test(wrows, row_norms_factor_for_every_q)
{
    const double qs[] = {1.0, 1.25, 1.5, 2.0, 3.0, 7.5, INFINITY};
    for (int s = 0; s < NSHAPES; s++) {
        inst I = make(SHAPES[s][0], SHAPES[s][1], SHAPES[s][2], 300 + s);
        int m, nx;
        double *A = attsvm_build_rows(&I.D, I.alpha, ATTSVM_TARGET_W, &m, &nx);
        attsvm__wrows K;
        attsvm__wrows_init(&K, &I.D, I.alpha);
        double *nq = malloc(sizeof *nq * m);
        for (size_t k = 0; k < sizeof qs / sizeof *qs; k++) {
            attsvm__wrows_norms(&K, qs[k], nq);
            for (int r = 0; r < m; r++) {
                double e = dnorm(A + (size_t)r * nx, nx, qs[k]);
                cr_assert_leq(fabs(nq[r] - e), 1e-13 * e, "shape %d q %g row %d: %.17g vs %.17g",
                              s, qs[k], r, nq[r], e);
            }
        }
        free(nq);
        free(A);
        unmake(&I);
    }
}

/* Row copies: the rows asked for, equal to the dense rows, at addresses that
 * stay fixed while more rows are generated; memory only for those rows. */
Test(wrows, row_copies_stay_put)
{
    inst I = make(40, 9, 6, 77);
    int m, nx;
    double *A = attsvm_build_rows(&I.D, I.alpha, ATTSVM_TARGET_W, &m, &nx);
    attsvm__wrows K;
    attsvm__wrows_init(&K, &I.D, I.alpha);
    attsvm__wcache C;
    cr_assert_eq(attsvm__wcache_init(&C, &K), 0);
    const double **first = calloc((size_t)m, sizeof *first);
    uint64_t seed = 3;
    int distinct = 0;
    for (int k = 0; k < 4 * m; k++) {
        int r = (int)(unif(&seed) * (m / 2)) * 2;   /* even rows only */
        const double *a = attsvm__wcache_get(&C, r);
        if (!first[r]) {
            first[r] = a;
            distinct++;
        }
        cr_assert_eq(a, first[r], "row %d moved", r);
        cr_assert_eq(memcmp(a, A + (size_t)r * nx, sizeof *a * nx), 0);
    }
    for (int r = 0; r < m; r++)
        if (first[r])
            cr_assert_eq(memcmp(first[r], A + (size_t)r * nx, sizeof(double) * nx), 0);
    cr_assert_eq(attsvm__wcache_count(&C), distinct);
    cr_assert_leq(distinct, m / 2 + 1);
    cr_assert_eq(C.nomem, 0);
    attsvm__wcache_free(&C);
    free(first);
    free(A);
    unmake(&I);
}

/* Factors, Gram entries and the largest entry against the dense rows. */
Test(wrows, factors_dots_and_absmax)
{
    for (int s = 0; s < NSHAPES; s++) {
        inst I = make(SHAPES[s][0], SHAPES[s][1], SHAPES[s][2], 500 + s);
        int m, nx;
        double *A = attsvm_build_rows(&I.D, I.alpha, ATTSVM_TARGET_W, &m, &nx);
        attsvm__wrows K;
        attsvm__wrows_init(&K, &I.D, I.alpha);
        double *z = malloc(sizeof *z * I.n * I.d), *b = malloc(sizeof *b * m * I.d), amax = 0.0;
        attsvm__wrows_factors(&K, z, b);
        for (int r = 0; r < m; r++)
            for (int j = 0; j < I.d; j++)
                for (int c = 0; c < I.d; c++) {
                    const double a = A[(size_t)r * nx + j * I.d + c];
                    cr_assert_eq(b[(size_t)r * I.d + j] * z[(size_t)(r / K.g) * I.d + c], a);
                    amax = fmax(amax, fabs(a));
                }
        cr_assert_eq(attsvm__wrows_absmax(&K), amax);
        for (int r = 0; r < m; r += 1 + m / 17)
            for (int t = 0; t < m; t += 1 + m / 13) {
                long double e = 0.0L, mag = 0.0L;
                for (int j = 0; j < nx; j++) {
                    e += (long double)A[(size_t)r * nx + j] * A[(size_t)t * nx + j];
                    mag += fabsl((long double)A[(size_t)r * nx + j] * A[(size_t)t * nx + j]);
                }
                cr_assert_leq(fabsl(attsvm__wrows_dot(&K, r, t) - e), 1e-13L * mag + 1e-300L,
                              "shape %d rows %d, %d", s, r, t);
            }
        free(z);
        free(b);
        free(A);
        unmake(&I);
    }
}

/* One row of the Gram matrix at a time (the p = 2 face matrix): against the
 * dense rows' dot products, rows of several samples in any order. */
Test(wrows, gram_rows_match_dense_rows)
{
    for (int s = 0; s < NSHAPES; s++) {
        inst I = make(SHAPES[s][0], SHAPES[s][1], SHAPES[s][2], 700 + s);
        int m, nx;
        double *A = attsvm_build_rows(&I.D, I.alpha, ATTSVM_TARGET_W, &m, &nx);
        attsvm__wrows K;
        attsvm__wrows_init(&K, &I.D, I.alpha);
        int *rows = malloc(sizeof *rows * m);
        double *out = malloc(sizeof *out * m);
        for (int k = 0; k < m; k++)
            rows[k] = (int)(((long)k * 7919) % m); /* every row, samples interleaved */
        for (int r = 0; r < m; r += 1 + m / 11) {
            attsvm__wrows_dots(&K, r, rows, m, out);
            for (int k = 0; k < m; k++) {
                long double e = 0.0L, mag = 0.0L;
                for (int j = 0; j < nx; j++) {
                    const long double t = (long double)A[(size_t)r * nx + j] * A[(size_t)rows[k] * nx + j];
                    e += t;
                    mag += fabsl(t);
                }
                cr_assert_leq(fabsl(out[k] - e), 1e-13L * mag + 1e-300L, "shape %d rows %d, %d", s,
                              r, rows[k]);
            }
        }
        free(rows);
        free(out);
        free(A);
        unmake(&I);
    }
}

/* Products with a working set R (rows in any order, repeated samples):
 * against the dense rows, also on a second call (the scratch is reset). */
Test(wrows, working_set_products_match_dense_rows)
{
    uint64_t seed = 123;
    for (int s = 0; s < NSHAPES; s++) {
        inst I = make(SHAPES[s][0], SHAPES[s][1], SHAPES[s][2], 600 + s);
        int m, nx;
        double *A = attsvm_build_rows(&I.D, I.alpha, ATTSVM_TARGET_W, &m, &nx);
        attsvm__wrows K;
        attsvm__wrows_init(&K, &I.D, I.alpha);
        attsvm__wcache C;
        cr_assert_eq(attsvm__wcache_init(&C, &K), 0);
        int *R = malloc(sizeof *R * m), nr = 0;
        for (int r = m - 1; r >= 0; r--)
            if (unif(&seed) < 0.6)
                R[nr++] = r;
        long double *mu = malloc(sizeof *mu * (nr + 1)), *ul = malloc(sizeof *ul * nx);
        double *x = malloc(sizeof *x * nx), *ax = malloc(sizeof *ax * (nr + 1));
        for (int rep = 0; rep < 2; rep++) {
            for (int k = 0; k < nr; k++)
                mu[k] = unif(&seed) < 0.3 ? 0.0L : unif(&seed);
            for (int j = 0; j < nx; j++)
                x[j] = 2.0 * unif(&seed) - 1.0;
            attsvm__wcache_atmu(&C, R, nr, mu, ul);
            attsvm__wcache_ax(&C, R, nr, x, 0.0L, ax);
            for (int j = 0; j < nx; j++) {
                long double e = 0.0L, mag = 0.0L;
                for (int k = 0; k < nr; k++) {
                    e += mu[k] * A[(size_t)R[k] * nx + j];
                    mag += fabsl(mu[k] * A[(size_t)R[k] * nx + j]);
                }
                cr_assert_leq(fabsl(ul[j] - e), 1e-13L * mag + 1e-300L, "shape %d entry %d", s, j);
            }
            for (int k = 0; k < nr; k++) {
                long double e = 0.0L, mag = 0.0L;
                for (int j = 0; j < nx; j++) {
                    e += (long double)A[(size_t)R[k] * nx + j] * x[j];
                    mag += fabsl((long double)A[(size_t)R[k] * nx + j] * x[j]);
                }
                cr_assert_leq(fabsl(ax[k] - e), 1e-13L * mag + 1e-300L, "shape %d row %d", s, R[k]);
            }
        }
        cr_assert_eq(attsvm__wcache_count(&C), 0);  /* no row copies needed */
        attsvm__wcache_free(&C);
        free(R);
        free(mu);
        free(ul);
        free(x);
        free(ax);
        free(A);
        unmake(&I);
    }
}

/* ---------------------------------------------------------------- solves */

/* Unit-sphere tokens and queries; alpha the argmax of x^T W* z_i for a
 * random W* (feasible), or uniform with one shared query (infeasible: one
 * functional on R^d cannot pick a random token in each of n samples). */
static inst make_unit(int n, int T, int d, int infeasible, uint64_t seed)
{
    inst I = make(n, T, d, seed);
    double *Ws = malloc(sizeof *Ws * d * d);
    for (int k = 0; k < d * d; k++)
        Ws[k] = 2.0 * unif(&seed) - 1.0;
    for (int v = 0; v < n * (T + 1); v++) {
        double *x = v < n * T ? I.X + (size_t)v * d : I.Z + (size_t)(v - n * T) * d, s = 0.0;
        for (int j = 0; j < d; j++) {
            x[j] = 2.0 * unif(&seed) - 1.0;
            s += x[j] * x[j];
        }
        for (int j = 0; j < d; j++)
            x[j] /= sqrt(s);
    }
    for (int i = 0; i < n; i++) {
        if (infeasible) {
            memcpy(I.Z + (size_t)i * d, I.Z, sizeof(double) * d);
            I.alpha[i] = (int)(unif(&seed) * T);
            continue;
        }
        double best = -INFINITY;
        for (int t = 0; t < T; t++) {
            double g = 0.0;
            for (int j = 0; j < d; j++)
                for (int c = 0; c < d; c++)
                    g += I.X[((size_t)i * T + t) * d + j] * Ws[j * d + c] * I.Z[(size_t)i * d + c];
            if (g > best) {
                best = g;
                I.alpha[i] = t;
            }
        }
    }
    free(Ws);
    return I;
}

/* The certificate of doc/design.md (16)-(17), written out here over the
 * dense rows: UB, LB, gap, relative violation; Farkas residual. */
static void dense_cert(const double *A, int m, int nx, double p, const attsvm_result *r,
                       double *gap, double *viol, double *farkas)
{
    const double q = p == 1.0 ? INFINITY : isinf(p) ? 1.0 : p / (p - 1.0);
    double *u = calloc(nx, sizeof *u), sl = 0.0, den = 0.0;
    for (int k = 0; k < r->ndual; k++) {
        const double *a = A + (size_t)r->dual[k].row * nx;
        sl += r->dual[k].lambda;
        den += r->dual[k].lambda * dnorm(a, nx, 1.0);
        for (int j = 0; j < nx; j++)
            u[j] += r->dual[k].lambda * a[j];
    }
    *farkas = dnorm(u, nx, 1.0) / den;
    *gap = *viol = NAN;
    if (r->x) {
        double xn = dnorm(r->x, nx, p), mn = INFINITY, v = 0.0;
        for (int k = 0; k < m; k++) {
            long double ax = 0.0L;
            for (int j = 0; j < nx; j++)
                ax += (long double)A[(size_t)k * nx + j] * r->x[j];
            mn = fmin(mn, (double)ax);
            if (ax < 1.0L)
                v = fmax(v, (double)(1.0L - ax) / (dnorm(A + (size_t)k * nx, nx, q) * xn));
        }
        const double ub = xn / fmin(1.0, mn), lb = sl / dnorm(u, nx, q);
        *gap = (ub - lb) / ub;
        *viol = v;
    }
    free(u);
}

/* attsvm_solve works on generated rows; its certificates, recomputed here
 * from the dense rows, hold, and its objective is the one the dense rows
 * give (attsvm_solve_rows). */
Test(wrows, solves_on_generated_rows_certify_against_dense_rows, .timeout = 300)
{
    const double ps[] = {1.0, 1.5, 2.0, 3.0, INFINITY};
    for (int inf = 0; inf < 2; inf++) {
        inst I = make_unit(50, 20, 20, inf, 4242 + inf);
        int m, nx;
        double *A = attsvm_build_rows(&I.D, I.alpha, ATTSVM_TARGET_W, &m, &nx);
        for (size_t k = 0; k < sizeof ps / sizeof *ps; k++) {
            attsvm_settings s;
            attsvm_default_settings(&s);
            s.p = ps[k];
            attsvm_result r = {0}, rd = {0};
            attsvm_solve(&I.D, I.alpha, ATTSVM_TARGET_W, &s, &r);
            attsvm_solve_rows(A, m, nx, &s, &rd);
            double gap, viol, farkas;
            dense_cert(A, m, nx, ps[k], &r, &gap, &viol, &farkas);
            if (inf) {
                cr_assert_eq(r.status, ATTSVM_INFEASIBLE, "p = %g: %s", ps[k], r.message);
                cr_assert_eq(rd.status, ATTSVM_INFEASIBLE);
                cr_assert_leq(farkas, 1e-12, "p = %g: Farkas residual %g", ps[k], farkas);
            } else {
                cr_assert_eq(r.status, ATTSVM_OPTIMAL, "p = %g: %s", ps[k], r.message);
                cr_assert_eq(rd.status, ATTSVM_OPTIMAL);
                cr_assert_leq(fabs(gap), 1e-10, "p = %g: gap %g", ps[k], gap);
                cr_assert_leq(viol, 1e-12, "p = %g: violation %g", ps[k], viol);
                cr_assert_leq(fabs(gap - r.gap), 1e-12);
                cr_assert_leq(fabs(r.objective - rd.objective), 1e-9 * rd.objective,
                              "p = %g: %.17g vs %.17g", ps[k], r.objective, rd.objective);
            }
            attsvm_result_free(&r);
            attsvm_result_free(&rd);
        }
        free(A);
        unmake(&I);
    }
}

/* Weighted Gram matrix and the absolute-value products of a working set
 * against the dense rows. */
/* Infeasible instances at p = 2, 1.5 and 3, and at p = 1 and inf above the
 * size where the LPs start from the interior-point method (m nx >= 1e5, here
 * 880 x 144: the p = 2 probe of the seed rows): the diverging dual
 * multipliers are the Farkas certificate (no LP at all) on generated rows,
 * and for 1 < p < inf on dense rows; the residual recomputed here from the
 * dense rows. */
Test(wrows, diverging_multipliers_certify_infeasibility, .timeout = 120)
{
    const double ps[] = {2.0, 1.5, 3.0, 1.0, INFINITY};
    inst I = make_unit(80, 12, 12, 1, 977);
    int m, nx;
    double *A = attsvm_build_rows(&I.D, I.alpha, ATTSVM_TARGET_W, &m, &nx);
    for (size_t k = 0; k < sizeof ps / sizeof *ps; k++)
        for (int dense = 0; dense < 2; dense++) {
            attsvm_settings s;
            attsvm_default_settings(&s);
            s.p = ps[k];
            attsvm_result r = {0};
            if (dense)
                attsvm_solve_rows(A, m, nx, &s, &r);
            else
                attsvm_solve(&I.D, I.alpha, ATTSVM_TARGET_W, &s, &r);
            cr_assert_eq(r.status, ATTSVM_INFEASIBLE, "p = %g: %s", ps[k], r.message);
            /* (dense rows have no samples: the probe's seed rows are the rows of
             * smallest norm, which need not hold a Farkas vector) */
            if (!dense || (isfinite(ps[k]) && ps[k] > 1.0))
                cr_assert_eq(r.lp_solves, 0, "p = %g (dense %d): %s", ps[k], dense, r.message);
            double gap, viol, farkas;
            dense_cert(A, m, nx, ps[k], &r, &gap, &viol, &farkas);
            cr_assert_leq(farkas, 1e-12, "p = %g: Farkas residual %g", ps[k], farkas);
            cr_assert_gt(r.ndual, 0);
            for (int t = 0; t < r.ndual; t++)
                cr_assert_gt(r.dual[t].lambda, 0.0);
            attsvm_result_free(&r);
        }
    free(A);
    unmake(&I);
}

Test(wrows, weighted_gram_and_absolute_products)
{
    uint64_t seed = 321;
    for (int s = 0; s < NSHAPES; s++) {
        inst I = make(SHAPES[s][0], SHAPES[s][1], SHAPES[s][2], 700 + s);
        int m, nx;
        double *A = attsvm_build_rows(&I.D, I.alpha, ATTSVM_TARGET_W, &m, &nx);
        attsvm__wrows K;
        attsvm__wrows_init(&K, &I.D, I.alpha);
        attsvm__wcache C;
        attsvm__wcache_init(&C, &K);
        int *R = malloc(sizeof *R * m), nr = 0;
        for (int r = 0; r < m; r++)
            if (unif(&seed) < 0.7)
                R[nr++] = r;
        for (int k = nr - 1; k > 0; k--) {  /* shuffled: samples interleave */
            int j = (int)(unif(&seed) * (k + 1)), t = R[k];
            R[k] = R[j];
            R[j] = t;
        }
        double *w = malloc(sizeof *w * nx), *H = malloc(sizeof *H * (nr * nr + 1));
        double *out = malloc(sizeof *out * nx), *outr = malloc(sizeof *outr * (nr + 1));
        long double *mu = malloc(sizeof *mu * (nr + 1));
        for (int j = 0; j < nx; j++)
            w[j] = unif(&seed) * 3.0;
        for (int k = 0; k < nr; k++)
            mu[k] = unif(&seed) - 0.3;
        for (int k = 0; k < nr * nr; k++)
            H[k] = NAN;     /* the upper triangle is left as it was */
        cr_assert_eq(attsvm__wcache_wgram(&C, R, nr, w, H), 0);
        for (int a = 0; a < nr; a++)
            for (int b = 0; b < nr; b++) {
                if (b > a) {
                    cr_assert(isnan(H[(size_t)a * nr + b]), "shape %d: H[%d][%d] written", s, a, b);
                    continue;
                }
                long double e = 0.0L, mag = 0.0L;
                for (int j = 0; j < nx; j++) {
                    long double t = (long double)A[(size_t)R[a] * nx + j] * A[(size_t)R[b] * nx + j] * w[j];
                    e += t;
                    mag += fabsl(t);
                }
                cr_assert_leq(fabsl(H[(size_t)a * nr + b] - e), 1e-13L * mag + 1e-300L,
                              "shape %d H[%d][%d]", s, a, b);
            }
        attsvm__wcache_abs_atmu(&C, R, nr, mu, out);
        attsvm__wcache_abs_ax(&C, R, nr, w, outr);
        for (int j = 0; j < nx; j++) {
            long double e = 0.0L;
            for (int k = 0; k < nr; k++)
                e += fabsl(mu[k] * A[(size_t)R[k] * nx + j]);
            cr_assert_leq(fabsl(out[j] - e), 1e-13L * e + 1e-300L);
        }
        for (int k = 0; k < nr; k++) {
            long double e = 0.0L;
            for (int j = 0; j < nx; j++)
                e += fabsl((long double)A[(size_t)R[k] * nx + j]) * w[j];
            cr_assert_leq(fabsl(outr[k] - e), 1e-13L * e + 1e-300L);
        }
        attsvm__wcache_free(&C);
        free(R);
        free(w);
        free(H);
        free(out);
        free(outr);
        free(mu);
        free(A);
        unmake(&I);
    }
}
