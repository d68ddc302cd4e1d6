/* wrows.h - private: the W-SVM's constraint rows without forming them.
 *
 * Row r = i (T - 1) + k of the W-SVM at alpha (t = k, or k + 1 from alpha_i
 * on) is a_r = vec(b_r z_i^T), b_r = x_ia - x_it (doc/design.md (14), (21); entry
 * j d + c is b_j z_c).  Products with A and A^T then cost O(n (d^2 + T d))
 * instead of O(n T d^2), row norms factor, and any row can be written out on
 * demand, bitwise equal to the row attsvm_build_rows stores.
 */
#ifndef ATTSVM_WROWS_H
#define ATTSVM_WROWS_H

#include "attsvm.h"

/** A view of the data (no ownership): the rows of the W-SVM at alpha. */
typedef struct {
    int n, T, d;
    int g;              /**< rows per sample, T - 1 */
    int m, nx;          /**< n (T - 1) rows, d^2 variables */
    const double *X;    /**< n x T x d tokens */
    const double *Z;    /**< n x d queries */
    const int *alpha;   /**< n selected tokens */
} attsvm__wrows;

/** The view of D's W-SVM at alpha; -1 when T < 2 or m, nx overflow an int. */
int attsvm__wrows_init(attsvm__wrows *K, const attsvm_data *D, const int *alpha);
/** Sample i and token t of row r. */
void attsvm__wrows_pair(const attsvm__wrows *K, int r, int *i, int *t);
/** b_r = x_ia - x_it (d entries). */
void attsvm__wrows_diff(const attsvm__wrows *K, int r, double *b);
/** z_i of sample i. */
const double *attsvm__wrows_query(const attsvm__wrows *K, int i);
/** a_r written out (nx entries). */
void attsvm__wrows_row(const attsvm__wrows *K, int r, double *a);
/** ax[r] = a_r . w for all m rows: u_i = W z_i, then b_r . u_i (long double). */
void attsvm__wrows_ax(const attsvm__wrows *K, const double *w, double *ax);
/** u = A^T lam = vec(sum_i g_i z_i^T), g_i = sum_t lam_it b_it (long double). */
void attsvm__wrows_atlam(const attsvm__wrows *K, const double *lam, double *u);
/** nq[r] = ||a_r||_q = ||b_r||_q ||z_i||_q, q in [1, inf]. */
void attsvm__wrows_norms(const attsvm__wrows *K, double q, double *nq);

/** z (n x d: z_i) and b (m x d: b_r), the factors of every row. */
void attsvm__wrows_factors(const attsvm__wrows *K, double *z, double *b);
/** a_r . a_s = (b_r . b_s)(z_i . z_i'), O(d) (long double sums). */
double attsvm__wrows_dot(const attsvm__wrows *K, int r, int s);
/** out[k] = a_r . a_{s[k]} for k < ns, O(d) each, in double (a row of the
 *  dual Newton's Gram matrix at p = 2). */
void attsvm__wrows_dots(const attsvm__wrows *K, int r, const int *s, int ns, double *out);
/** max over all entries |b_rj z_ic| = max_r ||b_r||_inf ||z_i||_inf. */
double attsvm__wrows_absmax(const attsvm__wrows *K);

/** Copies of the rows a method has asked for (its working rows), generated
 *  on first use and kept at a fixed address until attsvm__wcache_free:
 *  memory grows with the working set, never with m. */
typedef struct attsvm__wcache {
    attsvm__wrows K;
    int *slot;          /**< m entries: copy index of row r, -1 if none */
    double **chunk;     /**< copies, WCACHE_CHUNK rows per chunk */
    int nchunk, capchunk, used;
    double *spare;      /**< where a row goes once memory ran out */
    long double *U;     /**< n x d scratch of the working-set products */
    int *mark;          /**< n: position + 1 of a sample's U row, 0 if none */
    int nomem;          /**< an allocation failed: the solve must end with
                             ATTSVM_NOMEM (rows handed out since are scratch) */
} attsvm__wcache;

/** 0, or -1 when its m-entry table cannot be allocated. */
int attsvm__wcache_init(attsvm__wcache *C, const attsvm__wrows *K);
/** Row r (nx entries), generated on first use.  Never NULL: when memory
 *  runs out the row is written into one spare buffer (valid until the next
 *  miss) and C->nomem is set. */
const double *attsvm__wcache_get(attsvm__wcache *C, int r);
/** Products with the rows R[0..nr-1] (a working set), O(nr d + n_R d^2)
 *  for the n_R samples they belong to:
 *  ul = sum_k mu_k a_{R[k]} (nx entries), and ax[k] = a_{R[k]} . x - shift
 *  (the shift subtracted before rounding to double). */
void attsvm__wcache_atmu(attsvm__wcache *C, const int *R, int nr, const long double *mu,
                         long double *ul);
void attsvm__wcache_ax(attsvm__wcache *C, const int *R, int nr, const double *x,
                       long double shift, double *ax);
/** The same products on absolute values: out_j = sum_k |mu_k| |a_{R[k] j}|
 *  and out[k] = sum_j |a_{R[k] j}| v_j (v >= 0): the rounding scales of the
 *  dual Newton's stopping test. */
void attsvm__wcache_abs_atmu(attsvm__wcache *C, const int *R, int nr, const long double *mu,
                             double *out);
void attsvm__wcache_abs_ax(attsvm__wcache *C, const int *R, int nr, const double *v, double *out);
/** H = A_R diag(w) A_R^T (nr x nr, its lower triangle only), w on the nx entries:
 *  per pair of samples g_j = sum_c w_jc z_ic z_i'c (d^2; for one sample against all
 *  before it as one product (W diag(z_i)) Z^T, attsvm__gemm_nt), then per pair of
 *  rows sum_j b_aj b_bj g_j (d).  0, or -1 when its scratch cannot be
 *  allocated. */
int attsvm__wcache_wgram(attsvm__wcache *C, const int *R, int nr, const double *w, double *H);
/** Rows held as copies. */
int attsvm__wcache_count(const attsvm__wcache *C);
void attsvm__wcache_free(attsvm__wcache *C);

#endif
