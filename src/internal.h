/* internal.h - private declarations shared by model.c, mirror.c and train.c.
 * Not installed; nothing here is part of the public interface. */
#ifndef MDATT_INTERNAL_H
#define MDATT_INTERNAL_H

#include "mdatt.h"

/* Sizes from which the dense parts go through OpenBLAS (measured with
 * bench/perf_trainer: below them the call overhead of dgemm/dgemv exceeds
 * the work, e.g. at the paper size n=6, T=8, d=10). */
#define MDATT_BLAS_MIN_GEMM 16384   /* n*d*d of U = Z W^T and G = Gm^T Z */
#define MDATT_BLAS_MIN_GEMV 1024    /* T*d of the per-sample products */

/* Scratch memory of one evaluation (one per thread). */
struct mdatt_work {
    int n, T, d;
    double *U;      /* n*d: rows u_i = W z_i */
    double *H;      /* n*T: h_it = x_it^T v (unless a fixed copy is given) */
    double *a;      /* T scores of the current sample (then 2*T: a | h) */
    double *r;      /* T off-top weights exp(delta_t - delta_max) */
    double *beta;   /* 2*T coefficients of X_i^T (beta | s) */
    double *Gm;     /* n*d: rows g~_i (W block, before z_i^T) */
    double *Gv;     /* n*d: rows X_i^T s_i (v block) */
    double *LW;     /* n log-scales of the W block */
    double *LV;     /* n log-scales of the v block */
    double *sg;     /* n signs of c_i */
    double *ll;     /* n per-sample log-losses */
    int *nzW;       /* n flags: g~_i != 0 */
    const double *Hfix; /* precomputed X v (n*T) or NULL */
};

/* Evaluation with the options the trainer needs.  want_eval: fill ev
 * completely (loss, log_loss and the saturation statistics); otherwise only
 * the parts the gradient needs are computed and ev may be NULL. */
mdatt_status mdatt__eval(const mdatt_instance *in, const double *W, const double *v,
                         mdatt_loss loss, mdatt_work *w, int want_eval, mdatt_eval *ev,
                         mdatt_grad *gW, mdatt_grad *gv, int *alpha);

/* sum_j |x_j|^q for finite x without rescaling (special cases q = 2, 1.5,
 * 7/3, 1 handled without pow). */
double mdatt__pow_sum(const double *x, size_t m, double q);
/* (pow_sum)^(1/q) for finite q; x must be in a range where |x|^q neither
 * overflows nor underflows (e.g. max |x| in [1/2, 1)). */
double mdatt__qnorm_fast(const double *x, size_t m, double q);

#endif
