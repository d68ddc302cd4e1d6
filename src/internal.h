/* internal.h - private declarations shared by the library's sources.
 * Not installed; nothing here is part of the public interface. */
#ifndef MDATT_INTERNAL_H
#define MDATT_INTERNAL_H

#include <stdio.h>
#include "mdatt.h"

/** Write a printf-style message into err and return st (the library's
 *  error convention: the message names the offending field). */
mdatt_status mdatt__fail(char err[MDATT_ERRLEN], mdatt_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ------------------------------------------------------- .npz files (npz.c) */
#define MDATT_NPY_MAXRANK 8
#define MDATT_NPY_NAMELEN 64
/** One array of an .npz file, converted to doubles in C order. */
typedef struct {
    char name[MDATT_NPY_NAMELEN];   /* key (member name without .npy) */
    char kind;                      /* 'f' float, 'i' integer (as stored) */
    int itemsize;                   /* 4 or 8 bytes as stored */
    int rank;
    long shape[MDATT_NPY_MAXRANK];
    size_t count;                   /* product of shape (1 for a scalar) */
    double *data;                   /* count values */
} mdatt__npy;
typedef struct {
    int n;
    mdatt__npy *arr;
} mdatt__npz;
/* The file starts with the zip magic "PK\3\4" (numpy's .npz is a zip). */
int mdatt__is_zip(const char *path);
/* The path ends in ".npz" (the writers choose the format by name). */
int mdatt__npz_name(const char *path);
/* Read every .npy member; messages name the file and the key. */
mdatt_status mdatt__npz_read(const char *path, mdatt__npz *z, char err[MDATT_ERRLEN]);
const mdatt__npy *mdatt__npz_get(const mdatt__npz *z, const char *key);
void mdatt__npz_free(mdatt__npz *z);
/* Write n arrays (kind 'f' as float64, 'i' as int64) as stored members. */
mdatt_status mdatt__npz_write(FILE *f, const mdatt__npy *arr, int n, const char *path,
                              char err[MDATT_ERRLEN]);
/* Instances and models as .npz (npzio.c); io.c's readers and writers call
 * these for zip files and .npz names. */
mdatt_status mdatt__instance_read_npz(const char *path, int query_token, mdatt_instance *in,
                                      char err[MDATT_ERRLEN]);
mdatt_status mdatt__model_read_npz(const char *path, mdatt_model *m, char err[MDATT_ERRLEN]);
mdatt_status mdatt__instance_write_npz(const char *path, const mdatt_instance *in,
                                       char err[MDATT_ERRLEN]);
mdatt_status mdatt__model_write_npz(const char *path, const mdatt_model *m, char err[MDATT_ERRLEN]);
/* A JSON token index: an integer, or a real with an integral value (numpy
 * writes 2.0), in [lo, hi]; 0 if not. */
struct json_t;
int mdatt__json_index(struct json_t *x, long lo, long hi, int *out);

/* Sizes from which the dense parts go through OpenBLAS (measured with
 * bench/perf_trainer: below them the call overhead of dgemm/dgemv exceeds
 * the work, e.g. at the paper size n=6, T=8, d=10). */
#ifndef MDATT_BLAS_MIN_GEMM
#define MDATT_BLAS_MIN_GEMM 16384   /* n*d*d of U = Z W^T and G = Gm^T Z */
#endif
#ifndef MDATT_BLAS_MIN_GEMV         /* T*d of the per-sample products: the own */
#define MDATT_BLAS_MIN_GEMV ((size_t)1 << 40)   /* kernels with prefetch win */
#endif
#ifndef MDATT_PREFETCH_MIN
#define MDATT_PREFETCH_MIN 512      /* T*d from which X_{i+1} is prefetched */
#endif

/* ------------------------------------------------------ fault injection */
#ifdef MDATT_FAULTS
/* Test builds only: non-zero when the environment variable MDATT_FAULT names this fault. */
int mdatt_fault(const char *name);
#define MDATT_FAULT(name) mdatt_fault(name)
#else
#define MDATT_FAULT(name) 0
#endif

/* The planted faults as bits, read once per public call (MDATT_FAULT_BITS)
 * and tested with MDATT_FAULT_ON, which is the constant 0 in ordinary builds:
 *   inverse_exponent  (grad psi)^{-1} with exponent 1/p instead of 1/(p-1);
 *   grad_sign         the W gradient with the wrong sign;
 *   no_normalize      normalized steps not divided by ||G||_q;
 *   drop_sample       sample 0 left out of the gradient (W and v blocks). */
enum {
    MDATT_FI_INVERSE_EXPONENT = 1,
    MDATT_FI_GRAD_SIGN = 2,
    MDATT_FI_NO_NORMALIZE = 4,
    MDATT_FI_DROP_SAMPLE = 8
};
#ifdef MDATT_FAULTS
unsigned mdatt__fault_bits(void);
#define MDATT_FAULT_BITS() mdatt__fault_bits()
#define MDATT_FAULT_ON(bits, f) (((bits) & (f)) != 0)
#define MDATT_WORK_FAULTS(w) ((w)->faults)
#else
#define MDATT_FAULT_BITS() 0u
#define MDATT_FAULT_ON(bits, f) ((void)(bits), 0)
#define MDATT_WORK_FAULTS(w) 0u
#endif

#ifndef MDATT_PACK_MAX              /* n*T*d up to which the evaluation uses */
#define MDATT_PACK_MAX 16384        /* packed copies of X (see struct mdatt_work) */
#endif

/* Scratch memory of one evaluation (one per thread).  Tp, dp, np are T, d, n
 * rounded up to multiples of 4.  Two paths (model.c):
 *   unpacked: one sample at a time, on the caller's X (large sizes, BLAS);
 *   packed:   n*T*d <= MDATT_PACK_MAX and n*d*d below the BLAS size: four
 *             samples at a time, one per vector lane, on a copy of X
 *             interleaved by sample (mdatt__pack), so that the per-sample
 *             work (max, argmax, weights, loss derivative) and every product
 *             run on whole vectors, without horizontal sums. */
struct mdatt_work {
    int n, T, d;
    int Tp, dp, np;
    double *U;      /* n*d: rows u_i = W z_i (unpacked) */
    double *H;      /* X v: n*Tp [i][t] (unpacked) or np*T [group][t][lane] */
    size_t hlen;    /* entries of H */
    double *a;      /* 4*Tp: scores of the current sample (group) */
    double *r;      /* 4*Tp: off-top weights exp(delta_t - delta_max) */
    double *beta;   /* 8*Tp: coefficients of X_i^T (beta | s) */
    double *Gm;     /* g~_i (W block, before z_i^T): n rows of stride d, or d*np [j][i] */
    double *Gv;     /* X_i^T s_i (v block), same layouts */
    double *LW;     /* np weights of the W block (|l'| smax, then final) */
    double *LV;     /* np weights of the v block (|l'|, then final) */
    double *uu;     /* np margins u_i = Y_i f_i */
    double *dm;     /* np log of the largest off-top ratio (dmax) */
    double *SS;     /* np S_i = sum_{t != a} e^{delta_t} */
    double *RR;     /* np R_i = S_i e^{-dmax_i} */
    double *sg;     /* np signs of c_i */
    double *ll;     /* np per-sample log-losses */
    int *nzW;       /* np flags: g~_i != 0 */
    const double *Hfix; /* precomputed X v (hlen entries, layout of H) or NULL */
    /* packed path */
    int packed;     /* XS, YS, ZT, ZP hold the current instance */
    double *XS;     /* np*T*d: [group][t][j][lane], x of sample 4 group + lane */
    double *YS;     /* np labels (padding: 1) */
    double *ZT;     /* d*np: Z^T (padded) */
    double *ZP;     /* n*dp: Z (rows padded) */
    double *UT;     /* d*np: U^T = W Z^T */
#ifdef MDATT_FAULTS
    unsigned faults;    /* MDATT_FI_* bits in effect for mdatt__eval */
#endif
};

/* Fill the packed copies of in (if w has them); returns 1 if w->packed. */
int mdatt__pack(const mdatt_instance *in, mdatt_work *w);

/* ------------------------------------------------------ vector kernels */
/* Hot loops are written with GCC vector extensions (4 doubles) and compiled
 * twice (AVX2 and baseline x86-64, chosen at load time).  No FMA is used and
 * the C standard mode keeps a*b+c unfused, so both clones give identical
 * results. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#if defined(__GNUC__) && defined(__x86_64__) && !defined(__clang__)
#define MDATT_HOT __attribute__((target_clones("avx2", "default")))
#else
#define MDATT_HOT
#endif

/* Helpers of MDATT_HOT functions must be inlined to get the clone's ISA. */
#define MDATT_INLINE static inline __attribute__((always_inline))

typedef double mdatt_v4d __attribute__((vector_size(32)));
typedef uint64_t mdatt_v4u __attribute__((vector_size(32)));
typedef int64_t mdatt_v4i __attribute__((vector_size(32)));

#define MDATT_LD4(p) ({ mdatt_v4d v_; memcpy(&v_, (p), sizeof v_); v_; })
#define MDATT_ST4(p, v) do { mdatt_v4d w_ = (v); memcpy((p), &w_, sizeof w_); } while (0)
#define MDATT_HSUM(v) (((v)[0] + (v)[1]) + ((v)[2] + (v)[3]))

/* e^x for -708 <= x <= 0 (Cody-Waite reduction, degree-13 Taylor, about
 * 1 ulp); x < -708 gives 0 (callers use it only for relative weights, where
 * such a term is below 1e-307 of the largest).  The body works for double
 * and mdatt_v4d alike. */
#define MDATT_EXP_NONPOS(T_, U_, x_, out_) do {                                   \
    const T_ xx_ = (x_);                                                         \
    const T_ kd_ = xx_ * 1.4426950408889634 + 0x1.8p52;                          \
    const T_ k_ = kd_ - 0x1.8p52;                                                \
    const T_ r_ = (xx_ - k_ * 0x1.62e42fefa3800p-1) - k_ * 0x1.ef35793c76730p-45; \
    T_ p_ = r_ * (1.0 / 6227020800.0) + 1.0 / 479001600.0;                       \
    p_ = p_ * r_ + 1.0 / 39916800.0;                                             \
    p_ = p_ * r_ + 1.0 / 3628800.0; p_ = p_ * r_ + 1.0 / 362880.0;                 \
    p_ = p_ * r_ + 1.0 / 40320.0; p_ = p_ * r_ + 1.0 / 5040.0;                     \
    p_ = p_ * r_ + 1.0 / 720.0; p_ = p_ * r_ + 1.0 / 120.0;                        \
    p_ = p_ * r_ + 1.0 / 24.0; p_ = p_ * r_ + 1.0 / 6.0;                           \
    p_ = p_ * r_ + 0.5; p_ = p_ * r_ + 1.0; p_ = p_ * r_ + 1.0;                    \
    U_ kb_; T_ sc_;                                                              \
    memcpy(&kb_, &kd_, sizeof kb_);                                              \
    kb_ = (kb_ + 1023) << 52;                                                    \
    memcpy(&sc_, &kb_, sizeof sc_);                                              \
    (out_) = p_ * sc_;                                                           \
} while (0)

static inline double mdatt__exp_nonpos(double x)
{
    double y;
    if (!(x >= -708.0)) return 0.0;
    MDATT_EXP_NONPOS(double, uint64_t, x, y);
    return y;
}

/* Evaluation with the options the trainer needs.  want_eval: fill ev
 * completely (loss, log_loss and the saturation statistics); otherwise only
 * the parts the gradient needs are computed and ev may be NULL. */
mdatt_status mdatt__eval(const mdatt_instance *in, const double *W, const double *v,
                         mdatt_loss loss, mdatt_work *w, int want_eval, mdatt_eval *ev,
                         mdatt_grad *gW, mdatt_grad *gv, int *alpha);

/* v sorted ascending in place (metrics.c), and the q-quantile of a sorted
 * v[0..n), n >= 1, by linear interpolation between order statistics (the
 * bootstrap intervals of mdatt_fit_bootstrap, the paired medians). */
void mdatt__sort(double *v, size_t n);
double mdatt__quantile(const double *v, int n, double q);

/* sum_j |x_j|^q for finite x without rescaling (special cases q = 2, 1.5,
 * 7/3, 1 handled without pow). */
double mdatt__pow_sum(const double *x, size_t m, double q);
/* (pow_sum)^(1/q) for finite q; x must be in a range where |x|^q neither
 * overflows nor underflows (e.g. max |x| in [1/2, 1)). */
double mdatt__qnorm_fast(const double *x, size_t m, double q);

/* The inverse_exponent fault: sign(t) |t|^(1/p) (unused in ordinary builds). */
static inline void mdatt__mirror_inverse_faulty(const double *theta, double *W, size_t m,
                                                double p)
{
    for (size_t j = 0; j < m; j++) W[j] = copysign(pow(fabs(theta[j]), 1.0 / p), theta[j]);
}

/* A matrix W read from JSON must be d x d: the file's "d" (d_field, may be
 * NULL) fixes the number of rows, else the rows' common length does; the
 * message says whether the rows or their length are wrong (io.c). */
struct json_t;
mdatt_status mdatt__square_rows(struct json_t *W, struct json_t *d_field, char err[MDATT_ERRLEN]);

#endif
