/* linalg.c - the dense kernels of libattsvm: LU with iterative refinement,
 * Cholesky (factor, substitution, scaled factor with a ridge, deletion of a
 * row and column), the dot and Gram kernels, long-double dots and norms.
 * Nothing here knows the problem; every method's dense algebra is here.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "linalg.h"

#include <cblas.h>
#include <f77blas.h>

/* ------------------------------------------------------------ LU */

/* LAPACK's LU with partial pivoting (OpenBLAS dgetrf) of the row-major M,
 * i.e. of M^T in LAPACK's column-major view: P M^T = L U.  Numerically
 * singular (-1): a pivot at most 1e-14 of M's largest entry. */
static int lu_factor(int n, double *LU, blasint *perm)
{
    double amax = 0.0;
    for (size_t k = 0; k < (size_t)n * n; k++)
        amax = fmax(amax, fabs(LU[k]));
    if (!(amax > 0.0) || !isfinite(amax))
        return -1;
    blasint nn = n, info = 0;
    BLASFUNC(dgetrf)(&nn, &nn, LU, &nn, perm, &info);
    if (info < 0)
        return -1;
    for (int k = 0; k < n; k++)
        if (!(fabs(LU[(size_t)k * n + k]) > 1e-14 * amax))
            return -1;
    return 0;
}

/* In place: z <- M^{-1} z (trans = 0) or M^{-T} z (trans = 1); the factor
 * is of M^T, so M^{-1} is its transposed solve. */
static void lu_apply(int n, const double *LU, const blasint *perm, double *z, int trans)
{
    blasint nn = n, one = 1, info = 0;
    char t = trans ? 'N' : 'T';
    BLASFUNC(dgetrs)(&t, &nn, &one, (double *)LU, &nn, (blasint *)perm, z, &nn, &info);
}

int attsvm__lu_solve(int n, const double *M, const double *b, double *y, int trans)
{
    if (n == 0)
        return 0;
    double *LU = malloc(sizeof *LU * (size_t)n * n), *r = malloc(sizeof *r * (size_t)n);
    blasint *perm = malloc(sizeof *perm * (size_t)n);
    int rc = 0;
    if (!LU || !r || !perm) {
        rc = -2;
        goto out;
    }
    memcpy(LU, M, sizeof *LU * (size_t)n * n);
    if (lu_factor(n, LU, perm)) {
        rc = -1;
        goto out;
    }
    memcpy(y, b, sizeof *y * (size_t)n);
    lu_apply(n, LU, perm, y, trans);
    /* Iterative refinement: residual in long double, correction in double. */
    for (int it = 0; it < 4; it++) {
        double rn = 0.0, yn = 0.0;
        for (int i = 0; i < n; i++) {
            long double s = b[i];
            for (int j = 0; j < n; j++)
                s -= (long double)(trans ? M[(size_t)j * n + i] : M[(size_t)i * n + j]) * y[j];
            r[i] = (double)s;
        }
        lu_apply(n, LU, perm, r, trans);
        for (int i = 0; i < n; i++) {
            y[i] += r[i];
            rn = fmax(rn, fabs(r[i]));
            yn = fmax(yn, fabs(y[i]));
        }
        if (rn <= 1e-17 * yn)
            break;
    }
out:
    free(LU);
    free(r);
    free(perm);
    return rc;
}

/* ------------------------------------------------------------ dot kernels */

/* 128-bit vectors of two doubles (GCC/Clang vector extension): independent
 * partial sums, since the latency of one serial sum, not the multiplies,
 * bounds these loops otherwise. */
typedef double v2d __attribute__((vector_size(16)));

static inline v2d ld2(const double *p)
{
    v2d v;
    memcpy(&v, p, sizeof v);
    return v;
}

/* sum_{k < n} a[k] b[k] with eight independent partial sums (the Cholesky
 * factorization's inner products). */
static double dot8(const double *a, const double *b, int n)
{
    v2d s0 = {0, 0}, s1 = s0, s2 = s0, s3 = s0;
    int k = 0;
    for (; k + 7 < n; k += 8) {
        s0 += ld2(a + k) * ld2(b + k);
        s1 += ld2(a + k + 2) * ld2(b + k + 2);
        s2 += ld2(a + k + 4) * ld2(b + k + 4);
        s3 += ld2(a + k + 6) * ld2(b + k + 6);
    }
    s0 += s1;
    s2 += s3;
    s0 += s2;
    double s = s0[0] + s0[1];
    for (; k < n; k++)
        s += a[k] * b[k];
    return s;
}

/* *sa = a.x, *sb = b.x over k < n in one pass over x. */
static void dot2x(const double *a, const double *b, const double *x, int n, double *sa,
                  double *sb)
{
    v2d a0 = {0, 0}, a1 = a0, b0 = a0, b1 = a0;
    int k = 0;
    for (; k + 3 < n; k += 4) {
        const v2d x0 = ld2(x + k), x1 = ld2(x + k + 2);
        a0 += ld2(a + k) * x0;
        a1 += ld2(a + k + 2) * x1;
        b0 += ld2(b + k) * x0;
        b1 += ld2(b + k + 2) * x1;
    }
    a0 += a1;
    b0 += b1;
    double ra = a0[0] + a0[1], rb = b0[0] + b0[1];
    for (; k < n; k++) {
        ra += a[k] * x[k];
        rb += b[k] * x[k];
    }
    *sa = ra;
    *sb = rb;
}

/* Two vector accumulators, 4 entries per iteration, summed as
 * (s0[0] + s1[0]) + (s0[1] + s1[1]): the Gram entries of the p = 2 face
 * cache (dualnewton.c). */
double attsvm__dot(const double *a, const double *b, int n)
{
    v2d s0 = {0, 0}, s1 = s0;
    int j = 0;
    for (; j + 3 < n; j += 4) {
        s0 += ld2(a + j) * ld2(b + j);
        s1 += ld2(a + j + 2) * ld2(b + j + 2);
    }
    double v = (s0[0] + s1[0]) + (s0[1] + s1[1]);
    for (; j < n; j++)
        v += a[j] * b[j];
    return v;
}

long double attsvm__dotl(const double *a, const double *x, int n)
{
    /* Four partial sums: the latency of one x87 sum, not the arithmetic,
     * would bound a single chain. */
    const int n4 = n & ~3;
    long double s0 = 0.0L, s1 = 0.0L, s2 = 0.0L, s3 = 0.0L;
    for (int j = 0; j < n4; j += 4) {
        s0 += (long double)a[j] * x[j];
        s1 += (long double)a[j + 1] * x[j + 1];
        s2 += (long double)a[j + 2] * x[j + 2];
        s3 += (long double)a[j + 3] * x[j + 3];
    }
    for (int j = n4; j < n; j++)
        s0 += (long double)a[j] * x[j];
    return (s0 + s1) + (s2 + s3);
}

/* ------------------------------------------------------------ Cholesky */

/* Left-looking Cholesky of the n x n block at H (leading dimension ld), two
 * columns at a time: each later row is read once for both.  The unblocked
 * kernel of attsvm__chol_factor for small n (below CHOL_SMALL). */
static int chol_unblocked(int n, double *H, int ld)
{
    int j = 0;
    for (; j + 1 < n; j += 2) {
        double *hj = H + (size_t)j * ld, *hk = hj + ld;
        double s = hj[j] - dot8(hj, hj, j);
        if (!(s > 0.0))
            return -1;
        const double lj = sqrt(s);
        hj[j] = lj;
        hk[j] = (hk[j] - dot8(hk, hj, j)) / lj;
        s = hk[j + 1] - dot8(hk, hk, j + 1);
        if (!(s > 0.0))
            return -1;
        const double lk = sqrt(s);
        hk[j + 1] = lk;
        for (int i = j + 2; i < n; i++) {
            double *hi = H + (size_t)i * ld, sa, sb;
            dot2x(hj, hk, hi, j, &sa, &sb);
            hi[j] = (hi[j] - sa) / lj;
            hi[j + 1] = (hi[j + 1] - sb - hi[j] * hk[j]) / lk;
        }
    }
    for (; j < n; j++) {
        double *hj = H + (size_t)j * ld, s = hj[j] - dot8(hj, hj, j);
        if (!(s > 0.0))
            return -1;
        double l = sqrt(s);
        hj[j] = l;
        for (int i = j + 1; i < n; i++) {
            double *hi = H + (size_t)i * ld;
            hi[j] = (hi[j] - dot8(hi, hj, j)) / l;
        }
    }
    return 0;
}

/* The large dense kernels run on OpenBLAS (its LAPACK dpotrf and its
 * dgemm / dsyrk): at the Newton faces of the size ladder (2 000 - 4 000 rows)
 * they run 2.2 - 2.6x faster than the blocked register kernel they replace
 * (36 against 16 GF/s measured on one core at n = 2 300).  Only the factor
 * and the products come from there: every answer's certificate is still
 * recomputed by the oracle's own long-double arithmetic (cert.c), so a
 * wrong factor can cost a failed solve, never a wrong certificate.
 * Row-major lower triangle = column-major upper triangle of the same
 * symmetric matrix, hence uplo "U" on our lower triangle. */
enum { CHOL_SMALL = 128 };

int attsvm__chol_factor(int n, double *H)
{
    if (n <= CHOL_SMALL)
        return chol_unblocked(n, H, n);
    blasint nn = n, info = 0;
    char uplo = 'U';
    BLASFUNC(dpotrf)(&uplo, &nn, H, &nn, &info);
    if (info != 0)
        return -1;
    /* dpotrf lets a NaN pivot through (its test is ajj <= 0). */
    for (int i = 0; i < n; i++)
        if (!(H[(size_t)i * n + i] > 0.0) || !isfinite(H[(size_t)i * n + i]))
            return -1;
    return 0;
}

/* Products of at most SMALL_PRODUCT multiply-adds stay here: below it a
 * call into OpenBLAS costs more than the product (measured on the paper
 * size's Newton faces: 10-15 % of a whole solve at 1 < p < inf). */
enum { SMALL_PRODUCT = 32768 };

void attsvm__gemm_nt(int m, int n, int k, const double *A, int lda, const double *B, int ldb,
                     double *C, int ldc)
{
    if (m <= 0 || n <= 0)
        return;
    if ((double)m * n * k <= SMALL_PRODUCT) {
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
                C[(size_t)i * ldc + j] = dot8(A + (size_t)i * lda, B + (size_t)j * ldb, k);
        return;
    }
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, n, k, 1.0, A, lda, B, ldb, 0.0, C,
                ldc);
}

void attsvm__gemm_nn(int m, int n, int k, const double *A, int lda, const double *B, int ldb,
                     double *C, int ldc)
{
    if (m <= 0 || n <= 0)
        return;
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1.0, A, lda, B, ldb, 0.0, C,
                ldc);
}

void attsvm__gram_lower(int n, int nx, const double *B, double *H)
{
    if (n <= 0)
        return;
    if ((double)n * n * nx <= 2.0 * SMALL_PRODUCT) {
        for (int a = 0; a < n; a++)
            for (int b = 0; b <= a; b++)
                H[(size_t)a * n + b] = H[(size_t)b * n + a] =
                    dot8(B + (size_t)a * nx, B + (size_t)b * nx, nx);
        return;
    }
    cblas_dsyrk(CblasRowMajor, CblasLower, CblasNoTrans, n, nx, 1.0, B, nx, 0.0, H, n);
    for (int a = 0; a < n; a++)
        for (int b = 0; b < a; b++)
            H[(size_t)b * n + a] = H[(size_t)a * n + b];
}

/* Forward and back substitution, both by rows (L^T y = b as row updates:
 * no strided access to L). */
void attsvm__chol_subst(int n, const double *L, double *b)
{
    for (int i = 0; i < n; i++) {
        const double *li = L + (size_t)i * n;
        b[i] = (b[i] - dot8(li, b, i)) / li[i];
    }
    for (int i = n - 1; i >= 0; i--) {
        const double *li = L + (size_t)i * n;
        const double bi = b[i] /= li[i];
        for (int k = 0; k < i; k++)
            b[k] -= li[k] * bi;
    }
}

int attsvm__chol_solve(int n, double *H, double *b)
{
    if (attsvm__chol_factor(n, H))
        return -1;
    attsvm__chol_subst(n, H, b);
    return 0;
}

/* Delete row/column i of the n x n factor L (ld): the rows below move up, and
 * the trailing block absorbs the deleted column v: L33' L33'^T = L33 L33^T + v v^T.
 * By rows (contiguous access), CHOL_DROWS rows at a time: rotation k (cosine
 * rot[3k], its inverse rot[3k+1], sine rot[3k+2]) acts on the entries k of
 * every later row; the rows of a group take the rotations before the group
 * together (independent chains, so their latencies overlap), then one after
 * the other the few up to their own diagonals. */
enum { CHOL_DROWS = 8 };

static void delete_row_tail(const double *src, double *dst, int i, int k0, int m, double vr,
                            double *rot)
{
    for (int k = k0; k < m; k++) {
        const double *rk = rot + 3 * (size_t)k;
        const double l = (src[k + 1] + rk[2] * vr) * rk[1];
        dst[k] = l;
        vr = rk[0] * vr - rk[2] * l;
    }
    const double a = src[m + 1], rr = hypot(a, vr);
    dst[m] = rr;
    rot[3 * (size_t)m] = rr / a;
    rot[3 * (size_t)m + 1] = a / rr;
    rot[3 * (size_t)m + 2] = vr / a;
    (void)i;
}

void attsvm__chol_delete(double *L, int ld, int n, int i, double *rot)
{
    for (int m0 = i; m0 < n - 1; m0 += CHOL_DROWS) {
        /* new rows m0 .. m0 + nr - 1 (old rows one further down) */
        const int nr = n - 1 - m0 < CHOL_DROWS ? n - 1 - m0 : CHOL_DROWS;
        double vr[CHOL_DROWS];
        const double *src[CHOL_DROWS];
        double *dst[CHOL_DROWS];
        for (int t = 0; t < nr; t++) {
            src[t] = L + (size_t)(m0 + t + 1) * ld;
            dst[t] = L + (size_t)(m0 + t) * ld;
            vr[t] = src[t][i];
            memmove(dst[t], src[t], sizeof *dst[t] * (size_t)i);
        }
        for (int k = i; k < m0; k++) {
            const double *rk = rot + 3 * (size_t)k;
            double l[CHOL_DROWS];
            for (int t = 0; t < nr; t++)
                l[t] = (src[t][k + 1] + rk[2] * vr[t]) * rk[1];
            for (int t = 0; t < nr; t++) {
                dst[t][k] = l[t];
                vr[t] = rk[0] * vr[t] - rk[2] * l[t];
            }
        }
        for (int t = 0; t < nr; t++)
            delete_row_tail(src[t], dst[t], i, m0, m0 + t, vr[t], rot);
    }
}

int attsvm__chol_factor_scaled(int n, const double *M, double *F, double *sc)
{
    for (int a = 0; a < n; a++)
        sc[a] = M[(size_t)a * n + a] > 0.0 ? 1.0 / sqrt(M[(size_t)a * n + a]) : 1.0;
    for (double r = 0.0; r <= 1e-8; r = r > 0.0 ? r * 100.0 : 1e-14) {
        for (int a = 0; a < n; a++) {
            for (int c = 0; c <= a; c++)
                F[(size_t)a * n + c] = M[(size_t)a * n + c] * sc[a] * sc[c];
            F[(size_t)a * n + a] += r;
        }
        if (attsvm__chol_factor(n, F) == 0)
            return 0;
    }
    return -1;
}

void attsvm__chol_subst_scaled(int n, const double *F, const double *sc, double *v)
{
    for (int a = 0; a < n; a++)
        v[a] *= sc[a];
    attsvm__chol_subst(n, F, v);
    for (int a = 0; a < n; a++)
        v[a] *= sc[a];
}

/* ------------------------------------------------------------ norms */

double attsvm__dual_exp(double p)
{
    if (p == 1.0)
        return INFINITY;
    if (isinf(p))
        return 1.0;
    return p / (p - 1.0);
}

double attsvm__norm(const double *x, int n, double p)
{
    double mx = 0.0;
    for (int j = 0; j < n; j++) {
        double a = fabs(x[j]);
        mx = a > mx ? a : mx;
    }
    if (isinf(p) || mx == 0.0 || isnan(mx))
        return mx;
    long double s = 0.0L;
    if (p == 1.0) {
        for (int j = 0; j < n; j++)
            s += fabs(x[j]);
        return (double)s;
    }
    const double inv = 1.0 / mx;
    if (p == 2.0 && isfinite(inv)) {
        long double s1 = 0.0L;
        int j = 0;
        for (; j + 1 < n; j += 2) {
            long double t0 = x[j] * inv, t1 = x[j + 1] * inv;
            s += t0 * t0;
            s1 += t1 * t1;
        }
        if (j < n) {
            long double t = x[j] * inv;
            s += t * t;
        }
        return mx * (double)sqrtl(s + s1);
    }
    for (int j = 0; j < n; j++)
        s += pow(fabs(x[j]) / mx, p);
    return mx * (double)powl(s, 1.0L / p);
}

