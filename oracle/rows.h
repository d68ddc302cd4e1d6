/* rows.h - the only access to the constraint rows a_r of a problem (rows.c).
 *
 * Every method reads the rows through this header: one row at a time
 * (attsvm__row, for the working rows a method holds), or the whole set
 * through products (A x, A^T lambda), the row norms and the Kronecker
 * structure of the W rows.  Today the rows are the dense m x nx matrix
 * P->A.  The W-SVM's rows a_it = vec((x_ia - x_it) z_i^T) (design.md (14))
 * are Kronecker products, so a provider that generates them on demand from
 * (X, Z, alpha) can stand behind this interface without touching the
 * methods: A x and A^T lambda then cost O(n (T d + d^2)) without forming A,
 * and attsvm__row materializes only the rows a method asks for (its working
 * rows).  attsvm_solve's W rows come from that provider (P->gen, wrows.h),
 * so memory grows with the working set, not with m x nx.
 */
#ifndef ATTSVM_ROWS_H
#define ATTSVM_ROWS_H

#include <stddef.h>

#include "prob.h"
#include "wrows.h"

/** Row r (nx entries).  The pointer stays valid while the problem lives. */
static inline const double *attsvm__row(const attsvm__prob *P, int r)
{
    return P->gen ? attsvm__wcache_get(P->gen, r) : P->A + (size_t)r * P->nx;
}

/** Products with the working rows R[0..nr-1]: ul = sum_k mu_k a_{R[k]}
 *  (nx entries; rows with mu_k = 0 skipped) and ax[k] = a_{R[k]} . x - shift,
 *  both summed in long double.  Generated W rows: O(nr d + n_R d^2) for the
 *  n_R samples of R, no row copies. */
void attsvm__rows_sub_atmu(const attsvm__prob *P, const int *R, int nr, const long double *mu,
                           long double *ul);
void attsvm__rows_sub_ax(const attsvm__prob *P, const int *R, int nr, const double *x,
                         long double shift, double *ax);
/** Generated W rows only: H = A_R diag(w) A_R^T (nr x nr, lower triangle)
 *  in O(n_R^2 d^2 + nr^2 d) instead of O(nr^2 nx).  0; -1 when memory is
 *  short or the rows are dense (the caller then forms it from the rows). */
int attsvm__rows_wgram(const attsvm__prob *P, const int *R, int nr, const double *w, double *H);
/** Generated W rows only (0; -1 for dense rows): out_j = sum_k |mu_k a_{R[k] j}|
 *  and outr[k] = sum_j |a_{R[k] j}| v_j, v >= 0. */
int attsvm__rows_sub_abs(const attsvm__prob *P, const int *R, int nr, const long double *mu,
                         double *out);
int attsvm__rows_sub_absax(const attsvm__prob *P, const int *R, int nr, const double *v,
                           double *outr);
/** a_r . a_s (the Gram entries of the dual Newton method): O(d) for
 *  generated W rows. */
double attsvm__rows_dot(const attsvm__prob *P, int r, int s);
/** out[k] = a_r . a_{s[k]}, k < ns (one row of the Gram matrix; in double,
 *  O(d) each for generated W rows). */
void attsvm__rows_dots(const attsvm__prob *P, int r, const int *s, int ns, double *out);

/** ax[r] = a_r . x for all m rows, accumulated in long double. */
void attsvm__rows_ax(const attsvm__prob *P, const double *x, double *ax);
/** The same in double (the interior-point method's products). */
void attsvm__rows_ax_d(const attsvm__prob *P, const double *x, double *ax);
/** u = A^T lam over all rows, accumulated in long double: 0, or -1 when
 *  memory is short. */
int attsvm__rows_atlam(const attsvm__prob *P, const double *lam, double *u);
/** The same in double, skipping rows with lam_r = 0. */
void attsvm__rows_atlam_d(const attsvm__prob *P, const double *lam, double *u);
/** out[r] = ||a_r||_p for every row. */
void attsvm__rows_norms(const attsvm__prob *P, double p, double *out);
/** max_r,j |a_rj|. */
double attsvm__rows_absmax(const attsvm__prob *P);

/** The Kronecker structure of W rows: block i (P->group = g rows, one per
 *  token t != alpha_i) holds a_r = b_r (x) z_i, entry j*d + k = b_rj z_ik. */
typedef struct {
    int n, d, g;    /**< blocks, dimension (nx = d^2), rows per block */
    double *z;      /**< n x d: z_i (scaled so that its entry at the block's
                         largest |a| is 1) */
    double *b;      /**< m x d: b_r */
} attsvm__kron;

/** Fill K when every block of P->group rows is b_r (x) z_i to 1e-13 of its
 *  largest entry: 0; -1 when the rows have no such structure or its arrays
 *  cannot be allocated.  Release with attsvm__kron_free either way. */
int attsvm__rows_kron(const attsvm__prob *P, attsvm__kron *K);
void attsvm__kron_free(attsvm__kron *K);

#endif
