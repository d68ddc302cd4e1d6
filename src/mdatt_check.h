/* mdatt_check.h - libmdatt's checks: alignment and token metrics (doc/design.md
 * §4, §6), the svm certificate recomputed from the instance (§5), and the
 * check of a model against an svm file (`mdatt check`). */
#ifndef MDATT_CHECK_H
#define MDATT_CHECK_H

#include "mdatt.h"
#include "mdatt_io.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ----------------------------------------------------------------- metrics */

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

#ifdef __cplusplus
}
#endif
#endif
