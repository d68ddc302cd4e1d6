/* mdatt.h - public interface of libmdatt, the trainer core: status codes,
 * the RNG, instances and the generator, the model and its risk, mirror maps and
 * the l_p mirror-descent attention trainer.  The tools have their own headers:
 * mdatt_io.h (instance, model, svm and CSV files; the output-file contract),
 * mdatt_check.h (alignment and token metrics, the certificate recomputed,
 * `mdatt check`), mdatt_rate.h (rate fits, bound expressions, `mdatt rate`) and
 * mdatt_fmnist.h (IDX files and Fashion-MNIST instances).
 *
 * Notation follows doc/design.md and arXiv 2410.14581 ("Optimizing Attention
 * with Mirror Descent").  All matrices are dense, row-major, double precision.
 * W is d x d and W[j*d + k] is the coefficient of x_j z_k in the score x^T W z.
 * Token and sample indices are 0-based.
 */
#ifndef MDATT_H
#define MDATT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MDATT_VERSION_STRING "0.1.0"

/* ------------------------------------------------------------------ status */

/** Status codes returned by every fallible function. */
typedef enum {
    MDATT_OK = 0,       /**< success */
    MDATT_EINVAL,       /**< invalid argument or input data (bad value, shape) */
    MDATT_EFORMAT,      /**< malformed file: not JSON/CSV, wrong format tag, ragged */
    MDATT_EIO,          /**< file cannot be opened, read or written */
    MDATT_ENOMEM,       /**< allocation failed or requested size cannot fit */
    MDATT_ENUMERIC      /**< numerical failure (non-finite value appeared) */
} mdatt_status;

/** A static, human-readable message for a status code. */
const char *mdatt_strerror(mdatt_status st);

/** Size of the buffers that receive error messages naming the offending field. */
#define MDATT_ERRLEN 256

/* --------------------------------------------------------------------- RNG */

/** Portable seeded generator: xoshiro256** seeded by SplitMix64.  The same
 *  seed gives the same stream on every platform and libc (the Gaussian sampler
 *  uses only IEEE-exact operations and mdatt's own logarithm). */
typedef struct {
    uint64_t s[4];      /**< xoshiro256** state */
    double spare;       /**< second normal deviate of the last polar pair */
    int has_spare;      /**< whether `spare` is valid */
} mdatt_rng;

/** Seed the generator (any 64-bit value, 0 included). */
void mdatt_rng_seed(mdatt_rng *r, uint64_t seed);
/** Next raw 64-bit output of xoshiro256**. */
uint64_t mdatt_rng_next(mdatt_rng *r);
/** Uniform double in [0, 1) with 53 random bits. */
double mdatt_rng_uniform(mdatt_rng *r);
/** Standard normal deviate (Marsaglia polar method). */
double mdatt_rng_normal(mdatt_rng *r);
/** Natural logarithm computed with + - * / only (bit-identical everywhere);
 *  exact to about 1 ulp for finite x > 0. */
double mdatt_portable_log(double x);

/* ---------------------------------------------------------------- instance */

/** A data set (formats.md, "instance").  Z always holds the queries:
 *  for self-attention (query_token >= 0) it is filled with the rows x_{i,k}. */
typedef struct {
    int n;              /**< number of samples */
    int T;              /**< tokens per sample */
    int d;              /**< embedding dimension */
    double *X;          /**< n*T*d tokens: X[(i*T + t)*d + j] */
    double *Y;          /**< n labels in {-1, +1} */
    double *Z;          /**< n*d queries z_i (derived when query_token >= 0) */
    double *v;          /**< d decoder / value vector */
    int query_token;    /**< -1: cross-attention (Z given); k >= 0: z_i = x_{i,k} */
} mdatt_instance;

/** Allocate an instance of the given shape, zero-filled, query_token = -1.
 *  Returns MDATT_ENOMEM when the sizes overflow or memory is short. */
mdatt_status mdatt_instance_alloc(mdatt_instance *in, int n, int T, int d);
/** Release the arrays of an instance (safe on a zeroed struct). */
void mdatt_instance_free(mdatt_instance *in);
/** Copy x_{i,k} into Z for every i when query_token = k >= 0. */
void mdatt_instance_sync_queries(mdatt_instance *in);
/** Check shapes, finiteness, labels and query mode; on failure write a
 *  message naming the field into err and return MDATT_EINVAL. */
mdatt_status mdatt_instance_validate(const mdatt_instance *in, char err[MDATT_ERRLEN]);

/** The instance's identity recorded in model and svm files ("instance_hash",
 *  README "Files"): 64-bit FNV-1a over the little-endian bytes of n, T, d
 *  (as 64-bit integers) and then of every double of X, Z (the queries as
 *  used, after --query-token), Y and v in storage order, -0 taken as +0.
 *  Files write it as "fnv1a64:" and 16 lower-case hex digits. */
uint64_t mdatt_instance_hash(const mdatt_instance *in);
#define MDATT_HASH_PREFIX "fnv1a64:"
/** Parse "fnv1a64:<16 hex digits>"; 0, or -1 when malformed. */
int mdatt_hash_parse(const char *s, uint64_t *out);

/** Settings of the paper's synthetic generator. */
typedef struct {
    int n, T, d;        /**< shape (defaults: 6, 8, 10, the paper's Fig. 4) */
    uint64_t seed;      /**< RNG seed (default 1) */
} mdatt_gen_settings;
void mdatt_gen_default_settings(mdatt_gen_settings *s);
/** The paper's generator: v, every token and every query drawn N(0, I) and
 *  normalized to the unit sphere; Y_i = +1 or -1 with probability 1/2.
 *  Draw order: v, then per sample i: T tokens, the query, the label. */
mdatt_status mdatt_gen(const mdatt_gen_settings *s, mdatt_instance *out);
/** The paper's joint-training toy: n=2, T=3, d=2, z_i = x_{i,0}, v = 0. */
mdatt_status mdatt_gen_toy_joint(mdatt_instance *out);

/* -------------------------------------------------------------------- model */

/** Loss l(u) of the margin u = Y f (doc/design.md). */
typedef enum {
    MDATT_LOSS_LOGISTIC = 0,    /**< log(1 + e^{-u}) (default) */
    MDATT_LOSS_EXPONENTIAL,     /**< e^{-u} */
    MDATT_LOSS_CORRELATION      /**< -u */
} mdatt_loss;
/** "logistic", "exponential", "correlation". */
const char *mdatt_loss_name(mdatt_loss l);
/** Parse a loss name; returns MDATT_EINVAL for an unknown name. */
mdatt_status mdatt_loss_parse(const char *name, mdatt_loss *out);

/** A trained (or initial) model (formats.md, "model"). */
typedef struct {
    int d;              /**< dimension */
    int n;              /**< number of samples alpha refers to (0: no alpha) */
    double p;           /**< mirror-descent exponent the model was trained with */
    double *W;          /**< d*d attention weights */
    double *v;          /**< d decoder */
    int *alpha;         /**< n selected tokens argmax_t s_it (may be NULL) */
    long iters;         /**< iterations run */
    mdatt_loss loss;    /**< training loss */
    double lr;          /**< step size */
    int normalized;     /**< normalized steps */
    int joint;          /**< v trained too */
    double final_loss;  /**< L at the final iterate */
    double final_log_loss; /**< log L at the final iterate */
    uint64_t instance_hash; /**< mdatt_instance_hash of the training data (0: not recorded) */
} mdatt_model;

mdatt_status mdatt_model_alloc(mdatt_model *m, int d, int n);
void mdatt_model_free(mdatt_model *m);

/** Summary of one evaluation of the risk. */
typedef struct {
    double loss;        /**< L(W, v) (may underflow to 0 for a huge margin) */
    double log_loss;    /**< log L(W, v), computed in the log domain (finite) */
    double smax_mean;   /**< mean over i of max_t s_it */
    double smax_min;    /**< min over i of max_t s_it */
    double log1m_smax_max; /**< max_i log(1 - max_t s_it), exact in saturation */
} mdatt_eval;

/** Scratch memory for evaluations (opaque; one per thread). */
typedef struct mdatt_work mdatt_work;
mdatt_work *mdatt_work_new(const mdatt_instance *in);
void mdatt_work_free(mdatt_work *w);

/** Gradient with its magnitude kept apart so that its direction survives
 *  underflow: grad = G * exp(log_scale).  G is scaled so max |G_jk| is O(1). */
typedef struct {
    double *G;          /**< caller-owned d*d (W block) or d (v block) */
    double log_scale;   /**< natural log of the scale; -INFINITY if grad = 0 */
} mdatt_grad;

/** Risk and (optionally) gradients at (W, v) (design.md (4)).
 *  gW and/or gv may be NULL to skip that block.  The W gradient is computed
 *  without cancellation (design.md (5)): per sample,
 *  sum_t s_t (h_t - f) x_t = sum_{t != a} s_t (h_t - f)(x_t - x_a) and
 *  h_a - f = sum_{u != a} s_u (h_a - h_u), with log-domain weights.
 *  alpha (n ints, may be NULL) receives argmax_t s_it. */
mdatt_status mdatt_eval_grad(const mdatt_instance *in, const double *W, const double *v,
                             mdatt_loss loss, mdatt_work *w, mdatt_eval *ev,
                             mdatt_grad *gW, mdatt_grad *gv, int *alpha);

/** The textbook gradient (design.md (4) verbatim: c_i X^T J h z^T, no
 *  log-domain scaling); for tests and the +eps baseline.  grad = G exactly. */
mdatt_status mdatt_eval_grad_naive(const mdatt_instance *in, const double *W, const double *v,
                                   mdatt_loss loss, mdatt_eval *ev, double *gW, double *gv);

/* ------------------------------------------------------------------ mirror */

/** Entrywise l_p norm of m entries; p may be INFINITY. */
double mdatt_norm_p(const double *x, size_t m, double p);
/** Dual exponent q = p/(p-1) (INFINITY for p = 1, 1 for p = INFINITY). */
double mdatt_dual_exponent(double p);
/** psi(W) = ||W||_p^p / p. */
double mdatt_psi(const double *W, size_t m, double p);
/** theta = grad psi(W) = sign(W) |W|^{p-1} (in place allowed). */
void mdatt_mirror_map(const double *W, double *theta, size_t m, double p);
/** W = (grad psi)^{-1}(theta) = sign(theta) |theta|^{1/(p-1)} (in place allowed). */
void mdatt_mirror_inverse(const double *theta, double *W, size_t m, double p);
/** Bregman divergence D_psi(A, B) = psi(A) - psi(B) - <grad psi(B), A - B>. */
double mdatt_bregman(const double *A, const double *B, size_t m, double p);
/** Directional Bregman divergence D_psi(A/||A||_p, B/||B||_p), in [0, 2]. */
double mdatt_bregman_dir(const double *A, const double *B, size_t m, double p);
/** Cosine <A,B> / (||A||_2 ||B||_2). */
double mdatt_cosine(const double *A, const double *B, size_t m);

/* ------------------------------------------------------------------- train */

/** How the W gradient is formed. */
typedef enum {
    MDATT_GRAD_STABLE = 0,  /**< cancellation-free, log-scaled (default) */
    MDATT_GRAD_NAIVE_EPS    /**< naive formula, normalized by ||G||_q + eps
                                 (the reference code's guard; baseline only) */
} mdatt_grad_mode;

/** One logged point of a trajectory. */
typedef struct {
    long k;             /**< iteration (0 = initial point) */
    mdatt_eval ev;      /**< risk at W_k */
    double norm_p;      /**< ||W_k||_p */
    double step_dual;   /**< ||theta_k - theta_{k-1}||_q of the applied step */
    const double *W;    /**< W_k (d*d) */
    const double *v;    /**< v_k (d) */
    double step_dual_v; /**< joint mode: ||theta_v,k - theta_v,k-1||_q (else 0) */
    const double *theta;    /**< dual iterate grad psi(W_k) = theta + theta_lo (d*d) */
    const double *theta_lo; /**< low-order part of the double-double dual iterate */
} mdatt_train_point;

/** Called at k = 0, every log_every iterations and at the last iteration;
 *  returning non-zero stops training. */
typedef int (*mdatt_train_hook)(const mdatt_train_point *pt, void *ctx);

/** Settings of l_p-AttGD / l_p-JointGD. */
typedef struct {
    double p;           /**< potential exponent, real > 1 (default 2) */
    double lr;          /**< step size eta > 0 (default 0.1) */
    long iters;         /**< iterations (default 1000) */
    int normalized;     /**< G / ||G||_q steps (default 0) */
    int joint;          /**< also train v (JointGD) (default 0) */
    mdatt_loss loss;    /**< default logistic */
    mdatt_grad_mode grad_mode; /**< default MDATT_GRAD_STABLE */
    double eps;         /**< guard for MDATT_GRAD_NAIVE_EPS (default 1e-12) */
    long log_every;     /**< hook period (default 0: only first and last) */
    mdatt_train_hook hook; /**< may be NULL */
    void *hook_ctx;     /**< passed to hook */
} mdatt_train_settings;

void mdatt_train_default_settings(mdatt_train_settings *s);
/** NULL if the settings are valid, else a static message naming the field. */
const char *mdatt_train_check_settings(const mdatt_train_settings *s);

/** Result of a training run. */
typedef struct {
    long iters;         /**< iterations actually run */
    mdatt_eval ev;      /**< risk at the final iterate */
    double seconds;     /**< wall time of the loop */
    int stalled;        /**< steps that left the dual iterate unchanged (zero
                             gradient, or a plain step that underflowed) */
} mdatt_train_info;

/** Run l_p mirror descent from (W, v) (design.md (6)-(8)):
 *  theta_{k+1} = grad psi(W_k) - eta G_k, W_{k+1} = (grad psi)^{-1}(theta_{k+1}).
 *  W (d*d) and v (d) are the start on entry and the final iterate on return;
 *  alpha (n, may be NULL) receives the final selected tokens. */
mdatt_status mdatt_train(const mdatt_instance *in, const mdatt_train_settings *s,
                         double *W, double *v, int *alpha, mdatt_train_info *info);

#ifdef __cplusplus
}
#endif
#endif
