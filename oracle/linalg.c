/* linalg.c - the dense kernels of libattsvm: LU with iterative refinement,
 * Cholesky (factor, substitution, scaled factor with a ridge, deletion of a
 * row and column), the dot and Gram kernels, long-double dots and norms.
 * Nothing here knows the problem; every method's dense algebra is here.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "linalg.h"

/* ------------------------------------------------------------ LU */

static int lu_factor(int n, double *LU, int *perm)
{
    double amax = 0.0;
    for (size_t k = 0; k < (size_t)n * n; k++)
        amax = fmax(amax, fabs(LU[k]));
    if (amax == 0.0)
        return -1;
    for (int k = 0; k < n; k++) {
        int piv = k;
        double best = fabs(LU[(size_t)k * n + k]);
        for (int i = k + 1; i < n; i++)
            if (fabs(LU[(size_t)i * n + k]) > best) {
                best = fabs(LU[(size_t)i * n + k]);
                piv = i;
            }
        if (best <= 1e-14 * amax)
            return -1;
        perm[k] = piv;
        if (piv != k)
            for (int j = 0; j < n; j++) {
                double t = LU[(size_t)k * n + j];
                LU[(size_t)k * n + j] = LU[(size_t)piv * n + j];
                LU[(size_t)piv * n + j] = t;
            }
        double *rk = LU + (size_t)k * n, inv = 1.0 / rk[k];
        for (int i = k + 1; i < n; i++) {
            double *ri = LU + (size_t)i * n, f = ri[k] * inv;
            ri[k] = f;
            if (f != 0.0)
                for (int j = k + 1; j < n; j++)
                    ri[j] -= f * rk[j];
        }
    }
    return 0;
}

/* In place: z <- M^{-1} z (trans = 0) or M^{-T} z (trans = 1), PM = LU. */
static void lu_apply(int n, const double *LU, const int *perm, double *z, int trans)
{
    if (!trans) {
        for (int k = 0; k < n; k++)
            if (perm[k] != k) {
                double t = z[k];
                z[k] = z[perm[k]];
                z[perm[k]] = t;
            }
        for (int i = 0; i < n; i++) {
            double s = z[i];
            for (int j = 0; j < i; j++)
                s -= LU[(size_t)i * n + j] * z[j];
            z[i] = s;
        }
        for (int i = n - 1; i >= 0; i--) {
            double s = z[i];
            for (int j = i + 1; j < n; j++)
                s -= LU[(size_t)i * n + j] * z[j];
            z[i] = s / LU[(size_t)i * n + i];
        }
    } else {
        /* M^T = U^T L^T P: solve U^T a = z, L^T b = a, z = P^T b. */
        for (int i = 0; i < n; i++) {
            double s = z[i] / LU[(size_t)i * n + i];
            z[i] = s;
            for (int j = i + 1; j < n; j++)
                z[j] -= LU[(size_t)i * n + j] * s;
        }
        for (int i = n - 1; i >= 0; i--) {
            double s = z[i];
            for (int j = 0; j < i; j++)
                z[j] -= LU[(size_t)i * n + j] * s;
        }
        for (int k = n - 1; k >= 0; k--)
            if (perm[k] != k) {
                double t = z[k];
                z[k] = z[perm[k]];
                z[perm[k]] = t;
            }
    }
}

int attsvm__lu_solve(int n, const double *M, const double *b, double *y, int trans)
{
    if (n == 0)
        return 0;
    double *LU = malloc(sizeof *LU * (size_t)n * n), *r = malloc(sizeof *r * (size_t)n);
    int *perm = malloc(sizeof *perm * (size_t)n), rc = 0;
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
 * kernel of the blocked factorization below (its diagonal blocks). */
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

/* Blocked Cholesky: column blocks of CHOL_NB, each first brought up to date
 * with all columns before it by one product C -= L_I L_J^T (the rows I below
 * the block against the block's rows J, over the columns before it, in
 * chunks of CHOL_KC so that the block's rows stay in cache), then its
 * diagonal block factored by chol_unblocked and the rows below it solved
 * against that.  The same operations as the unblocked factorization in
 * another order: the matrix is streamed n / CHOL_NB times instead of n / 2
 * (measured at n = 4 000: ~6x faster). */
enum { CHOL_NB = 64, CHOL_KC = 256 };

/* C[a][b] += sg sum_{k < kc} A_a[k] B_b[k] (sg = 1 or -1) for the rows a of
 * a 4-row block (na <= 4) and b of a 2-row block (nb <= 2); A, B, C with
 * leading dimensions lda, ldb, ldc; b > a + boff entries (above the
 * diagonal) are skipped. */
static void nt_kernel(const double *A, int lda, const double *B, int ldb, double *C, int ldc,
                      int na, int nb, int kc, int boff, double sg)
{
    const double *a0 = A, *a1 = na > 1 ? A + lda : A, *a2 = na > 2 ? A + 2 * (size_t)lda : A,
                 *a3 = na > 3 ? A + 3 * (size_t)lda : A;
    const double *b0 = B, *b1 = nb > 1 ? B + ldb : B;
    v2d s00 = {0, 0}, s01 = s00, s10 = s00, s11 = s00, s20 = s00, s21 = s00, s30 = s00, s31 = s00;
    const int kc2 = kc & ~1;
    for (int k = 0; k < kc2; k += 2) {
        const v2d y0 = ld2(b0 + k), y1 = ld2(b1 + k);
        v2d x = ld2(a0 + k);
        s00 += x * y0;
        s01 += x * y1;
        x = ld2(a1 + k);
        s10 += x * y0;
        s11 += x * y1;
        x = ld2(a2 + k);
        s20 += x * y0;
        s21 += x * y1;
        x = ld2(a3 + k);
        s30 += x * y0;
        s31 += x * y1;
    }
    const v2d s[4][2] = {{s00, s01}, {s10, s11}, {s20, s21}, {s30, s31}};
    const double *ar[4] = {a0, a1, a2, a3}, *br[2] = {b0, b1};
    for (int i = 0; i < na; i++)
        for (int k = 0; k < nb && k <= i + boff; k++) {
            double v = s[i][k][0] + s[i][k][1];
            if (kc2 < kc)
                v += ar[i][kc2] * br[k][kc2];
            C[(size_t)i * ldc + k] += sg * v;
        }
}

void attsvm__gemm_nt(int m, int n, int k, const double *A, int lda, const double *B, int ldb,
                     double *C, int ldc)
{
    for (int i = 0; i < m; i++)
        memset(C + (size_t)i * ldc, 0, sizeof *C * (size_t)n);
    for (int k0 = 0; k0 < k; k0 += CHOL_KC) {
        const int kc = k - k0 < CHOL_KC ? k - k0 : CHOL_KC;
        for (int i = 0; i < m; i += 4)
            for (int j = 0; j < n; j += 2)
                nt_kernel(A + (size_t)i * lda + k0, lda, B + (size_t)j * ldb + k0, ldb,
                          C + (size_t)i * ldc + j, ldc, m - i < 4 ? m - i : 4,
                          n - j < 2 ? n - j : 2, kc, n, 1.0);
    }
}

/* Lower triangle (mirrored) of H = B B^T, B n x nx row-major: the register
 * kernel on blocks of 4 x 2 rows over chunks of the columns. */
void attsvm__gram_lower(int n, int nx, const double *B, double *H)
{
    for (int a = 0; a < n; a++)
        memset(H + (size_t)a * n, 0, sizeof *H * (size_t)(a + 1));
    for (int k0 = 0; k0 < nx; k0 += CHOL_KC) {
        const int kc = nx - k0 < CHOL_KC ? nx - k0 : CHOL_KC;
        for (int a = 0; a < n; a += 4)
            for (int b = 0; b <= a + 3 && b < n; b += 2)
                nt_kernel(B + (size_t)a * nx + k0, nx, B + (size_t)b * nx + k0, nx,
                          H + (size_t)a * n + b, n, n - a < 4 ? n - a : 4, n - b < 2 ? n - b : 2,
                          kc, a - b, 1.0);
    }
    for (int a = 0; a < n; a++)
        for (int b = 0; b < a; b++)
            H[(size_t)b * n + a] = H[(size_t)a * n + b];
}

/* Rows r0 <= i < n, columns j0 <= j < j0 + nb (j <= i) of H minus the
 * product of their rows over the columns k < j0. */
static void chol_update(int n, double *H, int ld, int r0, int j0, int nb)
{
    for (int k0 = 0; k0 < j0; k0 += CHOL_KC) {
        const int kc = j0 - k0 < CHOL_KC ? j0 - k0 : CHOL_KC;
        for (int i = r0; i < n; i += 4) {
            const int na = n - i < 4 ? n - i : 4;
            for (int j = 0; j < nb && j0 + j <= i + na - 1; j += 2)
                nt_kernel(H + (size_t)i * ld + k0, ld, H + (size_t)(j0 + j) * ld + k0, ld,
                          H + (size_t)i * ld + j0 + j, ld, na, nb - j < 2 ? nb - j : 2, kc,
                          i - (j0 + j), -1.0);
        }
    }
}

int attsvm__chol_factor(int n, double *H)
{
    if (n <= 2 * CHOL_NB)
        return chol_unblocked(n, H, n);
    for (int j0 = 0; j0 < n; j0 += CHOL_NB) {
        const int nb = n - j0 < CHOL_NB ? n - j0 : CHOL_NB;
        chol_update(n, H, n, j0, j0, nb);
        double *D = H + (size_t)j0 * n + j0;
        if (chol_unblocked(nb, D, n))
            return -1;
        for (int i = j0 + nb; i < n; i++) {     /* L_IJ = C_IJ L_JJ^-T */
            double *hi = H + (size_t)i * n + j0;
            for (int j = 0; j < nb; j++) {
                const double *lj = D + (size_t)j * n;
                hi[j] = (hi[j] - dot8(hi, lj, j)) / lj[j];
            }
        }
    }
    return 0;
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

