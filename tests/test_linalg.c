/* test_linalg.c - the oracle's dense kernels (oracle/linalg.c) against
 * products recomputed here: the Cholesky factor, its own below CHOL_SMALL
 * and LAPACK's (OpenBLAS) above (L L^T = H entry by entry, solves against a
 * planted solution, refusal of an indefinite matrix and of a NaN), the
 * deletion of a row and column from a factor (against the factor's own
 * product with that row and column removed) and the products C = A B^T,
 * C = A B and B B^T (against the sums written out, within the rounding
 * bound (k + 2) u sum |a_c b_c| of a k-term dot product).
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "linalg.h"
#include "splitmix.h"

/* H = B B^T + ridge I (n x n, both triangles), B n x k uniform in [-1, 1]. */
static double *spd(int n, int k, double ridge, uint64_t seed)
{
    double *B = malloc(sizeof *B * (size_t)n * k), *H = malloc(sizeof *H * (size_t)n * n);
    for (size_t e = 0; e < (size_t)n * k; e++)
        B[e] = 2.0 * unif(&seed) - 1.0;
    for (int a = 0; a < n; a++)
        for (int b = 0; b <= a; b++) {
            long double s = 0.0L;
            for (int c = 0; c < k; c++)
                s += (long double)B[(size_t)a * k + c] * B[(size_t)b * k + c];
            H[(size_t)a * n + b] = H[(size_t)b * n + a] = (double)s + (a == b ? ridge : 0.0);
        }
    free(B);
    return H;
}

/* max |(L L^T - H)_ab| / max |H_ab| over the lower triangle, L with leading
 * dimension ld. */
static double factor_error(int n, const double *L, int ld, const double *H, int ldh)
{
    double err = 0.0, hmax = 0.0;
    for (int a = 0; a < n; a++)
        for (int b = 0; b <= a; b++) {
            long double s = 0.0L;
            for (int c = 0; c <= b; c++)
                s += (long double)L[(size_t)a * ld + c] * L[(size_t)b * ld + c];
            err = fmax(err, fabs((double)(s - H[(size_t)a * ldh + b])));
            hmax = fmax(hmax, fabs(H[(size_t)a * ldh + b]));
        }
    return err / hmax;
}

/* Sizes below, at and well above the small-matrix threshold (128). */
Test(linalg, cholesky_reproduces_the_matrix)
{
    static const int N[] = {1, 7, 64, 129, 200, 333};
    for (size_t t = 0; t < sizeof N / sizeof *N; t++) {
        const int n = N[t];
        double *H = spd(n, n + 5, 0.1, 10 + t), *L = malloc(sizeof *L * (size_t)n * n);
        memcpy(L, H, sizeof *L * (size_t)n * n);
        cr_assert_eq(attsvm__chol_factor(n, L), 0, "n = %d", n);
        cr_assert_leq(factor_error(n, L, n, H, n), 1e-13, "n = %d", n);
        /* H y = H x for a planted x */
        double *x = malloc(sizeof *x * n), *b = malloc(sizeof *b * n);
        for (int a = 0; a < n; a++)
            x[a] = sin(1.0 + a);
        for (int a = 0; a < n; a++) {
            long double s = 0.0L;
            for (int c = 0; c < n; c++)
                s += (long double)H[(size_t)a * n + c] * x[c];
            b[a] = (double)s;
        }
        attsvm__chol_subst(n, L, b);
        for (int a = 0; a < n; a++)
            cr_assert_leq(fabs(b[a] - x[a]), 1e-9, "n = %d, entry %d", n, a);
        free(x);
        free(b);
        free(H);
        free(L);
    }
}

/* A matrix of rank k < n (no ridge), one with a negative diagonal entry
 * late in the matrix and one with a NaN on the diagonal are refused. */
Test(linalg, cholesky_refuses_indefinite_matrices)
{
    const int n = 300;
    double *H = spd(n, 150, 0.0, 3);
    cr_assert_eq(attsvm__chol_factor(n, H), -1);
    free(H);
    H = spd(n, n + 5, 0.1, 4);
    H[(size_t)250 * n + 250] = -1.0;
    cr_assert_eq(attsvm__chol_factor(n, H), -1);
    free(H);
    H = spd(n, n + 5, 0.1, 5);
    H[(size_t)200 * n + 200] = NAN;
    cr_assert_eq(attsvm__chol_factor(n, H), -1);
    free(H);
}

/* Deleting rows from a factor (first, last, inside; several in a row, as the
 * p = 2 face cache does) leaves the factor of H without them. */
Test(linalg, factor_row_deletion)
{
    const int n = 150, ld = 160;
    double *H = spd(n, n + 3, 0.05, 21), *L = calloc((size_t)n * ld, sizeof *L),
           *F = malloc(sizeof *F * (size_t)n * n), *rot = malloc(sizeof *rot * 3 * n);
    memcpy(F, H, sizeof *F * (size_t)n * n);
    cr_assert_eq(attsvm__chol_factor(n, F), 0);
    for (int a = 0; a < n; a++)
        memcpy(L + (size_t)a * ld, F + (size_t)a * n, sizeof *L * (size_t)(a + 1));
    int keep[150], nk = n;
    for (int a = 0; a < n; a++)
        keep[a] = a;
    static const int DEL[] = {149, 0, 77, 77, 3, 100, 50, 51, 52, 9, 120};
    for (size_t t = 0; t < sizeof DEL / sizeof *DEL; t++) {
        const int i = DEL[t] < nk ? DEL[t] : nk - 1;
        attsvm__chol_delete(L, ld, nk, i, rot);
        memmove(keep + i, keep + i + 1, sizeof *keep * (size_t)(nk - i - 1));
        nk--;
        double *Hk = malloc(sizeof *Hk * (size_t)nk * nk);
        for (int a = 0; a < nk; a++)
            for (int b = 0; b < nk; b++)
                Hk[(size_t)a * nk + b] = H[(size_t)keep[a] * n + keep[b]];
        cr_assert_leq(factor_error(nk, L, ld, Hk, nk), 1e-13, "after deleting %d (%zu)", i, t);
        for (int a = 0; a < nk; a++)
            cr_assert_gt(L[(size_t)a * ld + a], 0.0);
        free(Hk);
    }
    free(H);
    free(L);
    free(F);
    free(rot);
}

/* C = A B^T and C = A B against the sums written out, for odd shapes and
 * long inner lengths, with leading dimensions larger than the rows; products
 * below linalg.c's SMALL_PRODUCT (32 768 multiply-adds) and above it. */
Test(linalg, gemm_nt_matches_the_written_out_product)
{
    static const int S[][3] = {{1, 1, 1}, {5, 3, 7}, {9, 64, 64}, {13, 7, 300}, {4, 2, 513}};
    uint64_t seed = 77;
    for (size_t t = 0; t < sizeof S / sizeof *S; t++) {
        const int m = S[t][0], n = S[t][1], k = S[t][2], lda = k + 3, ldb = k + 1, ldc = n + 2;
        double *A = malloc(sizeof *A * (size_t)m * lda), *B = malloc(sizeof *B * (size_t)n * ldb);
        double *C = malloc(sizeof *C * (size_t)m * ldc);
        for (int e = 0; e < m * lda; e++)
            A[e] = 2.0 * unif(&seed) - 1.0;
        for (int e = 0; e < n * ldb; e++)
            B[e] = 2.0 * unif(&seed) - 1.0;
        for (int e = 0; e < m * ldc; e++)
            C[e] = 1e300; /* overwritten, not accumulated */
        attsvm__gemm_nt(m, n, k, A, lda, B, ldb, C, ldc);
        /* the same product as A (B^T), B^T written out (k x n, ld n + 1) */
        const int ldt = n + 1;
        double *Bt = malloc(sizeof *Bt * (size_t)k * ldt), *C2 = malloc(sizeof *C2 * (size_t)m * ldc);
        for (int c = 0; c < k; c++)
            for (int j = 0; j < n; j++)
                Bt[(size_t)c * ldt + j] = B[(size_t)j * ldb + c];
        for (int e = 0; e < m * ldc; e++)
            C2[e] = 1e300;
        attsvm__gemm_nn(m, n, k, A, lda, Bt, ldt, C2, ldc);
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++) {
                long double s = 0.0L, mag = 0.0L;
                for (int c = 0; c < k; c++) {
                    s += (long double)A[(size_t)i * lda + c] * B[(size_t)j * ldb + c];
                    mag += fabsl((long double)A[(size_t)i * lda + c] * B[(size_t)j * ldb + c]);
                }
                const long double tol = 1.2e-16L * (k + 2) * mag;
                cr_assert_leq(fabsl(C[(size_t)i * ldc + j] - s), tol, "shape %zu entry (%d, %d)",
                              t, i, j);
                cr_assert_leq(fabsl(C2[(size_t)i * ldc + j] - s), tol,
                              "A B: shape %zu entry (%d, %d)", t, i, j);
            }
        free(A);
        free(B);
        free(Bt);
        free(C);
        free(C2);
    }
}

/* H = B B^T (both triangles) against the sums written out, for odd row
 * counts and long rows, below and above linalg.c's small-product bound. */
Test(linalg, gram_matches_the_written_out_product)
{
    static const int S[][2] = {{1, 3}, {5, 7}, {6, 300}, {11, 513}, {40, 700}};
    uint64_t seed = 99;
    for (size_t t = 0; t < sizeof S / sizeof *S; t++) {
        const int n = S[t][0], nx = S[t][1];
        double *B = malloc(sizeof *B * (size_t)n * nx), *H = malloc(sizeof *H * (size_t)n * n);
        for (int e = 0; e < n * nx; e++)
            B[e] = 2.0 * unif(&seed) - 1.0;
        attsvm__gram_lower(n, nx, B, H);
        for (int a = 0; a < n; a++)
            for (int b = 0; b < n; b++) {
                long double s = 0.0L, mag = 0.0L;
                for (int c = 0; c < nx; c++) {
                    s += (long double)B[(size_t)a * nx + c] * B[(size_t)b * nx + c];
                    mag += fabsl((long double)B[(size_t)a * nx + c] * B[(size_t)b * nx + c]);
                }
                cr_assert_leq(fabsl(H[(size_t)a * n + b] - s), 1.2e-16L * (nx + 2) * mag,
                              "shape %zu (%d, %d)", t, a, b);
            }
        free(B);
        free(H);
    }
}
