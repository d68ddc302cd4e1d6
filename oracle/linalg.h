/* linalg.h - dense kernels of libattsvm (linalg.c): LU, Cholesky with its
 * updates, dot and Gram kernels, norms.  No knowledge of the problem; the
 * bottom layer of the oracle (libm, and OpenBLAS for the large products and
 * the Cholesky factor, see linalg.c).
 */
#ifndef ATTSVM_LINALG_H
#define ATTSVM_LINALG_H

/** fmax without the library call (GCC keeps fmax out of line at -O2): the
 *  larger of a and b, the other one if either is NaN. */
static inline double dmax(double a, double b)
{
    return a > b || b != b ? a : b;
}

/** Solve M y = b (trans = 0) or M^T y = b (trans = 1), M n x n row-major:
 *  LU with partial pivoting, iterative refinement with long double residuals.
 *  Returns 0, -1 if M is numerically singular, -2 if memory is short. */
int attsvm__lu_solve(int n, const double *M, const double *b, double *y, int trans);

/** Cholesky solve of the SPD matrix H (n x n, overwritten): 0 or -1. */
int attsvm__chol_solve(int n, double *H, double *b);
/** Its two halves: factor H in place (lower triangle L, L L^T = H, the upper
 *  triangle is not read; 0 or -1) and solve L L^T y = b in place. */
int attsvm__chol_factor(int n, double *H);
void attsvm__chol_subst(int n, const double *L, double *b);
/** Factor M (lower triangle, n x n) with unit diagonal: F = D^-1/2 M D^-1/2
 *  (+ r I, r = 0 or 1e-14 .. 1e-8 until it factors) = L L^T into F,
 *  sc = D^-1/2 (1 where M_aa <= 0).  For matrices whose entries span many
 *  orders (interior-point normal matrices).  0 or -1. */
int attsvm__chol_factor_scaled(int n, const double *M, double *F, double *sc);
/** v <- M^-1 v with that factor: v = sc (F^-1 (sc v)). */
void attsvm__chol_subst_scaled(int n, const double *F, const double *sc, double *v);
/** Delete row/column i of the n x n Cholesky factor L (leading dimension ld):
 *  the rows below move up and the trailing block absorbs the deleted column
 *  (a stable rank-one update).  rot: scratch of 3 n entries. */
void attsvm__chol_delete(double *L, int ld, int n, int i, double *rot);

/** C = A B^T: A m x k, B n x k, C m x n, row-major with leading dimensions
 *  lda, ldb, ldc (OpenBLAS dgemm). */
void attsvm__gemm_nt(int m, int n, int k, const double *A, int lda, const double *B, int ldb,
                     double *C, int ldc);
/** C = A B: A m x k, B k x n, C m x n, row-major (OpenBLAS dgemm). */
void attsvm__gemm_nn(int m, int n, int k, const double *A, int lda, const double *B, int ldb,
                     double *C, int ldc);
/** a . b over n entries (vectorized; a fixed summation order). */
double attsvm__dot(const double *a, const double *b, int n);
/** a . x over n entries, accumulated in long double. */
long double attsvm__dotl(const double *a, const double *x, int n);
/** H = B B^T (full, both triangles), B n x nx row-major, H n x n. */
void attsvm__gram_lower(int n, int nx, const double *B, double *H);

/** ||x||_p for p in [1, inf], computed with scaling (no overflow for large p). */
double attsvm__norm(const double *x, int n, double p);
/** q = p / (p - 1) with q = inf for p = 1 and q = 1 for p = inf. */
double attsvm__dual_exp(double p);

#endif
