/* mdatt.h - public interface of libmdatt: instances, RNG, generator, model,
 * mirror maps and the l_p mirror-descent attention trainer.
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
#include <stdio.h>

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

/* --------------------------------------------------------------------- io */

/** Read an instance JSON (doc/formats.md).  On failure err names the field. */
mdatt_status mdatt_instance_read(const char *path, mdatt_instance *in, char err[MDATT_ERRLEN]);
/** Read an instance; query_token >= 0 makes it self-attention with
 *  z_i = x_{i,query_token} (overriding Z), -1 keeps the file's queries. */
mdatt_status mdatt_instance_read_query(const char *path, int query_token, mdatt_instance *in,
                                       char err[MDATT_ERRLEN]);
/** Write an instance JSON as an output file (mdatt_outfile; "-" is stdout). */
mdatt_status mdatt_instance_write(const char *path, const mdatt_instance *in, char err[MDATT_ERRLEN]);
/** Read / write a model JSON. */
mdatt_status mdatt_model_read(const char *path, mdatt_model *m, char err[MDATT_ERRLEN]);
mdatt_status mdatt_model_write(const char *path, const mdatt_model *m, char err[MDATT_ERRLEN]);
/** The model JSON that mdatt_model_write writes, printed to a stream. */
void mdatt_model_print(FILE *f, const mdatt_model *m);
/** The same as numpy's .npz (keys W, p, v and alpha when present) when name
 *  ends in .npz, else as mdatt_model_print; err names the file on failure. */
mdatt_status mdatt_model_print_as(FILE *f, const char *name, const mdatt_model *m,
                                  char err[MDATT_ERRLEN]);

/** An output file, as every command writes them (README, "Outputs"):
 *  "-" is standard output; an existing file that is not a regular one (a
 *  device, FIFO, socket) is written in place; otherwise a temporary file
 *  beside the target (symbolic links followed, the link kept) is renamed
 *  over it on commit.  New files get mode 0666 minus the umask, replaced
 *  ones keep their mode.  Temporary files are removed on SIGINT, SIGTERM and
 *  SIGHUP (when those signals have their default action). */
typedef struct {
    FILE *f;            /**< stream to write to */
    char *path;         /**< final path (a link's target); NULL for stdout */
    char *tmp;          /**< temporary path; NULL when direct */
    int direct;         /**< 0 temp + rename, 1 written in place, 2 stdout */
} mdatt_outfile;
mdatt_status mdatt_outfile_open(mdatt_outfile *o, const char *path, char err[MDATT_ERRLEN]);
/** Flush, close and rename; on failure the temp file is removed. */
mdatt_status mdatt_outfile_commit(mdatt_outfile *o, char err[MDATT_ERRLEN]);
/** Discard the temp file (no output). */
void mdatt_outfile_abort(mdatt_outfile *o);
/** 1 when the two paths name the same file: the same device and inode when
 *  both exist, else the same canonical path (links and ".." resolved);
 *  "-" equals only "-". */
int mdatt_same_file(const char *a, const char *b);

/* ----------------------------------------------------------------- metrics */

/** Outcome recorded in an svm JSON ("status"). */
typedef enum {
    MDATT_SVM_OPTIMAL = 0,  /**< "optimal": W (or v), bounds and gap present */
    MDATT_SVM_INFEASIBLE,   /**< "infeasible": Farkas multipliers instead of a dual */
    MDATT_SVM_FAILED        /**< "failed": no answer */
} mdatt_svm_status;

/** One multiplier of the svm JSON's "dual" (or "farkas") list. */
typedef struct {
    int i, t;           /**< sample and token of the constraint (t = alpha_i for v) */
    double lambda;      /**< multiplier >= 0 */
} mdatt_svm_mult;

/** An svm JSON (formats.md, "svm"), as written by `mdatt svm`. */
typedef struct {
    double p;           /**< norm exponent: 1, a real > 1 or INFINITY ("inf") */
    int target_v;       /**< 0: the W-SVM, 1: the v-SVM */
    int n;              /**< samples (entries of alpha) */
    int d;              /**< dimension (rows of W, entries of v); 0 if not optimal */
    int *alpha;         /**< n token choices */
    mdatt_svm_status status; /**< solve outcome */
    double *x;          /**< optimal: W^mm (d*d, row-major) or v^mm (d); else NULL */
    double objective;   /**< ||x||_p, the certified upper bound (NAN if not optimal) */
    double lower_bound; /**< certified lower bound (NAN if not optimal) */
    double gap;         /**< relative gap (objective - lower_bound) / objective */
    double max_violation; /**< largest relative constraint violation */
    int ndual;          /**< entries of dual */
    mdatt_svm_mult *dual; /**< multipliers (Farkas ones when infeasible) */
    int nsupport;       /**< support constraints */
    int *support;       /**< 2*nsupport ints: (i, t) pairs */
    int has_tokens;     /**< the "tokens" object was present (W target) */
    int globally_optimal; /**< tokens.globally_optimal */
    int locally_optimal;  /**< tokens.locally_optimal */
    int nties;          /**< tokens.ties: number of samples with a tied argmax */
    uint64_t instance_hash; /**< mdatt_instance_hash of the data solved (0: not recorded) */
} mdatt_svm;

/** Read an svm JSON strictly; on failure err names the field (MDATT_EFORMAT
 *  for structure, MDATT_EINVAL for values). */
mdatt_status mdatt_svm_read(const char *path, mdatt_svm *s, char err[MDATT_ERRLEN]);
/** Release the arrays of s (safe on a zeroed struct). */
void mdatt_svm_free(mdatt_svm *s);
/** "optimal", "infeasible", "failed". */
const char *mdatt_svm_status_name(mdatt_svm_status st);

/** Tokens a model selects, alpha_i = argmax_t s_it = argmax_t x_it^T W z_i
 *  (ties to the lowest index), with the saturation of the selected ones:
 *  smax_min = min_i s_{i,alpha_i} and log1m_smax = log(1 - smax_min), both
 *  from log-domain sums (exact long after 1 - s_ia underflows).  alpha,
 *  smax_min and log1m_smax may be NULL. */
void mdatt_selected_tokens(const mdatt_instance *in, const double *W, int *alpha,
                           double *smax_min, double *log1m_smax);
/** Normalized margin ratio (doc/design.md):
 *  rho = min_{i, t != alpha_i} (x_ia - x_it)^T W z_i * ref_norm / ||W||_p,
 *  with p and ref_norm = ||W^mm||_p of the SVM; rho <= 1 for every W when
 *  ref_norm is the SVM optimum, and rho = 1 at W = W^mm.  NAN if W = 0. */
double mdatt_margin_ratio(const mdatt_instance *in, const int *alpha, const double *W,
                          double p, double ref_norm);
/** The same for the v-SVM: min_i Y_i x_ia^T v * ref_norm / ||v||_p. */
double mdatt_margin_ratio_v(const mdatt_instance *in, const int *alpha, const double *v,
                            double p, double ref_norm);
/** 1 - cos(A, B) computed as ||A/||A||_2 - B/||B||_2||_2^2 / 2 (no
 *  cancellation near alignment).  NAN if A or B is 0. */
double mdatt_one_minus_cosine(const double *A, const double *B, size_t m);

/** The svm's certificate recomputed from the instance alone (doc/design.md):
 *  UB = ||x||_p / min(1, min_r a_r.x) and LB = sum(lambda) / ||sum_r lambda_r a_r||_q,
 *  with a_r = vec((x_ia - x_it) z_i^T) for the W-SVM or Y_i x_ia for the v-SVM
 *  and lambda the file's "dual".  Returns (UB - LB)/UB (NAN unless optimal);
 *  ub and lb (may be NULL) receive the bounds. */
double mdatt_svm_recertify(const mdatt_instance *in, const mdatt_svm *s, double *ub, double *lb);
/** Every figure an svm file states, recomputed from the instance, x and the
 *  multipliers alone (NAN unless optimal). */
typedef struct {
    double upper;       /**< ||x||_p / min(1, min_r a_r.x): the file's "objective" */
    double lower;       /**< sum(lambda) / ||A^T lambda||_q: its "lower_bound" */
    double gap;         /**< (upper - lower) / upper: its "gap" */
    double max_violation; /**< max_r (1 - a_r.x)_+ / (||a_r||_q ||x||_p): its "max_violation" */
    int bad_support;    /**< first "support" pair that is not active (|a_r.x - 1| > 1e-6)
                             or has no positive multiplier in "dual"; -1: none */
} mdatt_svm_figures;
void mdatt_svm_recompute(const mdatt_instance *in, const mdatt_svm *s, mdatt_svm_figures *f);

/** Token verdicts recomputed from gamma_it = Y_i v^T x_it (design.md
 *  §6): globally optimal when gamma_ia >= gamma_it for all i, t;
 *  locally optimal when gamma_ia > gamma_it for each support pair (i, t).
 *  A tie is a sample whose largest gamma is attained (to 1e-12 relative)
 *  by more than one token. */
typedef struct {
    int globally_optimal;   /**< alpha_i attains max_t gamma_it for every i */
    int locally_optimal;    /**< gamma_ia > gamma_it on every support pair */
    int nties;              /**< samples with a (near-)tied maximum of gamma */
} mdatt_token_verdict;
/** Fill out for the tokens alpha (n ints) with decoder v (d) and the support
 *  pairs (2*nsupport ints, (i, t); may be NULL when nsupport = 0). */
void mdatt_token_check(const mdatt_instance *in, const double *v, const int *alpha,
                       const int *support, int nsupport, mdatt_token_verdict *out);

/* ------------------------------------------------------------------- check */

/** Thresholds of a check's verdict (`mdatt check` flags of the same names). */
typedef struct {
    double max_bregman;     /**< bregman_dir <= this (default 1e-2) */
    double min_cosine;      /**< cosine >= this (default NAN: not checked) */
    double min_margin;      /**< margin_ratio >= this (default NAN: not checked) */
    double max_gap;         /**< the svm's gap, given and recomputed, <= this (default 1e-8) */
    int allow_token_mismatch; /**< do not require tokens_match (default 0) */
    int require_global;     /**< require globally optimal tokens (default 0) */
    int require_local;      /**< require locally optimal tokens (default 0) */
} mdatt_check_settings;
void mdatt_check_default_settings(mdatt_check_settings *s);
/** NULL if valid, else a static message naming the field. */
const char *mdatt_check_check_settings(const mdatt_check_settings *s);

/** How close one (W, v) is to the SVM's solution x (doc/mdatt.1, `check`). */
typedef struct {
    double bregman_dir;     /**< D_psi(x/||x||_p, W/||W||_p), psi of the model's p */
    double cosine;          /**< <x, W> / (||x||_2 ||W||_2) */
    double one_minus_cosine; /**< 1 - cosine without cancellation */
    double margin_ratio;    /**< mdatt_margin_ratio (or _v) at the svm's p and objective */
    double smax_min;        /**< smallest softmax weight of a selected token */
    double log1m_smax;      /**< log(1 - smax_min) from log-domain sums */
    int tokens_match;       /**< the tokens W selects are the svm's alpha */
} mdatt_check_point;
/** Metrics of (W, v) against s (v is used for a v-SVM); the NAN metrics
 *  unless s is optimal.  alpha (n ints) receives the tokens W selects. */
void mdatt_check_measure(const mdatt_instance *in, const mdatt_svm *s, double p_model,
                         const double *W, const double *v, int *alpha, mdatt_check_point *pm);
/** Shapes of instance, model and svm agree; else MDATT_EINVAL with a message
 *  naming MODEL or SVM and the field. */
mdatt_status mdatt_check_shapes(const mdatt_instance *in, const mdatt_model *m,
                                const mdatt_svm *s, char err[MDATT_ERRLEN]);

#define MDATT_CHECK_MAX_REASONS 16
/** Everything `mdatt check` reports about the final model. */
typedef struct {
    mdatt_check_point point;    /**< the model's metrics */
    int *alpha_model;       /**< n tokens the model's W selects (owned) */
    int model_alpha_agrees; /**< the model file's alpha equals them (-1: it has none) */
    double svm_min_margin;  /**< margin ratio of x itself (1 up to rounding) */
    mdatt_svm_figures figures; /**< the svm's figures recomputed from the instance */
    int cross_p;            /**< the model's p differs from the svm's */
    int own_v;              /**< a joint model: gamma from its own v */
    mdatt_token_verdict recomputed; /**< token verdicts recomputed from gamma */
    int globally_optimal;   /**< the svm file's verdict (recomputed when absent or own_v) */
    int locally_optimal;    /**< likewise; -1 undefined (v-SVM without a file verdict) */
    int pass;               /**< no reason to fail */
    int nreasons;           /**< entries of reasons */
    char reasons[MDATT_CHECK_MAX_REASONS][200]; /**< why the verdict fails */
} mdatt_check_result;
/** Check model m against svm s on instance in with thresholds th.  MDATT_EINVAL
 *  (err names the field) for bad settings or shapes, MDATT_ENOMEM; otherwise
 *  MDATT_OK whatever the verdict.  Free r with mdatt_check_result_free. */
mdatt_status mdatt_check(const mdatt_instance *in, const mdatt_model *m, const mdatt_svm *s,
                         const mdatt_check_settings *th, mdatt_check_result *r,
                         char err[MDATT_ERRLEN]);
void mdatt_check_result_free(mdatt_check_result *r);

/** A numeric CSV file with a header line (trajectories, metrics). */
typedef struct {
    int ncol;           /**< columns */
    long nrow;          /**< data rows */
    char **names;       /**< ncol column names */
    double *data;       /**< nrow*ncol values, row-major */
} mdatt_csv;
/** Read a CSV whose fields are all numbers (strtod syntax, inf/nan allowed);
 *  errors name the line and column. */
mdatt_status mdatt_csv_read(const char *path, mdatt_csv *c, char err[MDATT_ERRLEN]);
/** Release the arrays of c (safe on a zeroed struct). */
void mdatt_csv_free(mdatt_csv *c);
/** Index of the named column, or -1. */
int mdatt_csv_col(const mdatt_csv *c, const char *name);

/** Curve families fitted to a metric y(k) (design.md (24)), all linear in
 *  log space: log y = log a + (regressor) with at most one slope. */
typedef enum {
    MDATT_FAM_POWER = 0,    /**< a k^-b           (2 parameters, k >= 1) */
    MDATT_FAM_LOGPOWER,     /**< a (log k)^-b     (2 parameters, k >= 2) */
    MDATT_FAM_LOGLOG,       /**< a log log k / log k (1 parameter, k >= 3) */
    MDATT_FAM_LINEAR,       /**< a k              (1 parameter, k >= 1) */
    MDATT_FAM_LOG,          /**< a log k          (1 parameter, k >= 2) */
    MDATT_FAM_EXP,          /**< a e^{-b k}       (2 parameters, k >= 1): linear convergence */
    MDATT_NFAM
} mdatt_family;
/** "power", "logpower", "loglog", "linear", "log", "exp". */
const char *mdatt_family_name(mdatt_family f);
/** Parse a family name; MDATT_EINVAL if unknown. */
mdatt_status mdatt_family_parse(const char *name, mdatt_family *out);
/** Number of free parameters (1 or 2). */
int mdatt_family_nparam(mdatt_family f);
/** Smallest integer k at which the family is defined and positive. */
long mdatt_family_kmin(mdatt_family f);

/** A least-squares fit of one family in log space. */
typedef struct {
    mdatt_family family; /**< which curve */
    double a;           /**< scale */
    double b;           /**< exponent (NAN for one-parameter families) */
    double rmse;        /**< root mean square of the log-space residuals */
    int m;              /**< points used */
} mdatt_fit;
/** Fit family f to the m points (k_j, logy_j) (logy = log of the metric)
 *  by least squares on log y; every k_j must be >= mdatt_family_kmin(f).
 *  MDATT_EINVAL if m < nparam + 1 or the design is degenerate. */
mdatt_status mdatt_fit_family(mdatt_family f, const double *k, const double *logy, int m,
                              mdatt_fit *out);
/** Value a * g(k) of a fitted curve. */
double mdatt_fit_eval(const mdatt_fit *fit, double k);
/** The selection rule of `mdatt rate`: the lowest rmse wins; fits within
 *  1e-6 relative + 1e-12 absolute of it are ties, resolved to fewer
 *  parameters, then to the earlier family in mdatt_family order.
 *  Returns the index into fits (nf > 0). */
int mdatt_fit_select(const mdatt_fit *fits, int nf);

/** When a fit counts as an answer: a fit whose parameters are not finite, whose
 *  scale or exponent is beyond these bounds, or whose log-space RMSE is above
 *  max_rmse explains nothing and is never selected (`mdatt rate` then says
 *  "no admissible fit"). */
typedef struct {
    double max_rmse;    /**< largest RMSE of log y (default 1: a typical error of a factor e) */
    double max_log10_a; /**< largest |log10 a| (default 30) */
    double max_abs_b;   /**< largest |b| of a two-parameter family (default 100) */
} mdatt_fit_rule;
/** Fill r with the defaults above. */
void mdatt_fit_default_rule(mdatt_fit_rule *r);
/** NULL if fit is admissible under r, else a static reason ("rmse above the
 *  bound", ...). */
const char *mdatt_fit_inadmissible(const mdatt_fit *fit, const mdatt_fit_rule *r);
/** mdatt_fit_select among the fits admissible under r; -1 if there is none. */
int mdatt_fit_select_admissible(const mdatt_fit *fits, int nf, const mdatt_fit_rule *r);

/** Bootstrap over seeds: B times, draw S seeds with replacement (mdatt_rng
 *  seeded with seed), average their log y at each point (geometric mean
 *  curve) and fit family f; a_lo/a_hi and b_lo/b_hi receive the 2.5 and 97.5
 *  percentiles (linear interpolation between order statistics).  logy is
 *  S x m row-major; b_lo/b_hi are NAN for one-parameter families. */
mdatt_status mdatt_fit_bootstrap(mdatt_family f, const double *k, const double *logy, int S,
                                 int m, int B, uint64_t seed, double *a_lo, double *a_hi,
                                 double *b_lo, double *b_hi);

/** A parsed bound expression in k: numbers, k, + - * / ^ (right
 *  associative, above unary minus: -2^2 = -4), parentheses and the
 *  functions log, exp, sqrt, abs, pow(x, y). */
typedef struct mdatt_expr mdatt_expr;
/** Parse s; NULL on error with err naming the 1-based position. */
mdatt_expr *mdatt_expr_parse(const char *s, char err[MDATT_ERRLEN]);
/** Value at k (IEEE semantics: log of a negative number is NAN). */
double mdatt_expr_eval(const mdatt_expr *e, double k);
/** Release a parsed expression (NULL is allowed). */
void mdatt_expr_free(mdatt_expr *e);

/** A bound y(k) <= bound(k) checked along one curve within a window. */
typedef struct {
    long checked;       /**< logged points in the window */
    long violations;    /**< points where y > bound, or either is NaN */
    double first_k;     /**< first violating k (NAN if none) */
    double first_value, first_bound; /**< y and the bound there */
    double last_k;      /**< last violating k (NAN if none) */
    double last_value, last_bound;   /**< y and the bound there */
    double holds_from;  /**< smallest logged k of the window from which every later
                             point holds: the first checked k without violations,
                             the point after last_k otherwise, NAN if last_k is
                             the last checked point */
} mdatt_claim_curve;
/** Check y_i <= bound(k_i) for the n points (k increasing) with k0 <= k_i <= k1. */
void mdatt_claim_check(const mdatt_expr *bound, const double *k, const double *y, long n,
                       double k0, double k1, mdatt_claim_curve *out);

/* --------------------------------------------------------------- real data */

/** Where Debian's `dataset-fashion-mnist` installs Fashion-MNIST. */
#define MDATT_FMNIST_DIR "/usr/share/datasets/fashion-mnist"

/** Labelled 8-bit grey images (an IDX image file with its label file). */
typedef struct {
    int n;                  /**< images */
    int rows, cols;         /**< image size (28 x 28 for Fashion-MNIST) */
    unsigned char *pixels;  /**< n*rows*cols, row-major per image */
    unsigned char *labels;  /**< n labels */
} mdatt_images;

/** Read a gzipped (or plain) IDX3 image file and its IDX1 label file,
 *  validating magic numbers (0x803, 0x801), counts and sizes against the
 *  file lengths.  On failure err names the file and what is wrong. */
mdatt_status mdatt_idx_read(const char *images_path, const char *labels_path,
                            mdatt_images *out, char err[MDATT_ERRLEN]);
/** Fashion-MNIST's train (60 000) or test (10 000) split from dir (NULL:
 *  MDATT_FMNIST_DIR).  Missing files give MDATT_EIO with a message naming
 *  the Debian package to install; 28 x 28 images and labels < 10 are checked. */
mdatt_status mdatt_fmnist_load(const char *dir, int test, mdatt_images *out,
                               char err[MDATT_ERRLEN]);
/** Release the arrays of im (safe on a zeroed struct). */
void mdatt_images_free(mdatt_images *im);
/** "T-shirt/top", "Trouser", ... for labels 0..9 ("?" otherwise). */
const char *mdatt_fmnist_class_name(int label);

/** Patch tokens of image i: T = (rows/patch)*(cols/patch) patches of
 *  patch x patch pixels scaled to [0, 1], row-major over the patch grid and
 *  within a patch; out receives T*patch*patch values.  rows and cols must be
 *  multiples of patch. */
void mdatt_image_patches(const mdatt_images *im, int i, int patch, double *out);

/** How `mdatt fmnist` turns images into an attention instance. */
typedef struct {
    int neg, pos;           /**< classes with Y = -1 and Y = +1 (default 0, 1) */
    int n;                  /**< samples, balanced between the two (default 1000) */
    int patch;              /**< patch side in pixels (default 4: T = 49, d = 18) */
    uint64_t seed;          /**< which images: a seeded shuffle of each class (default 1) */
    int probe_iters;        /**< gradient steps of the linear probe for v (default 300) */
    double probe_lr;        /**< its step, in units of 1/L, L = mean ||m_i||^2 / 4 (default 1) */
} mdatt_fmnist_settings;
void mdatt_fmnist_default_settings(mdatt_fmnist_settings *s);

/** Build an instance from labelled images.  Tokens (d = patch^2 + 2): the
 *  patch's pixels in [0, 1] divided by patch (so the pixel block has norm
 *  <= 1), then its grid coordinates (row, col) mapped to [-1, 1], which makes
 *  every token of an image distinct.  Query z_i: the mean token of image i (a
 *  fixed mean-pooled query).  v: the linear probe, plain gradient descent on
 *  the logistic loss of (mean token, Y) from v = 0, no bias.  Samples: n/2
 *  of each class (n - n/2 of pos), drawn by a seeded shuffle, interleaved. */
/** image_index (n ints, may be NULL) receives the index in im of each sample. */
mdatt_status mdatt_fmnist_instance(const mdatt_images *im, const mdatt_fmnist_settings *s,
                                   mdatt_instance *out, int *image_index,
                                   char err[MDATT_ERRLEN]);

#ifdef __cplusplus
}
#endif
#endif
