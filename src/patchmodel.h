/* patchmodel.h - the attention classifier of the real-data experiment
 * (reports/realdata, "Experiment A") and its optimizers: un-normalized l_p
 * mirror descent per entry (the paper's real-data runs) and Adam.
 *
 * Input: T patch vectors u_t in R^Pd.  Embeddings x_t = E u_t + P_t
 * (E in R^{d x Pd}, learned positions P in R^{T x d}); scores a_t = x_t^T W z
 * with a learned query z; s = softmax(a); output o = V^T sum_t s_t x_t with
 * V in R^{d x C}.  Loss: softmax cross-entropy (C >= 2) or, for C = 1, the
 * logistic loss of y o with y = +1 for label 1 and -1 for label 0.
 * All parameters live in one array (blocks E, P, W, z, V, each row-major). */
#ifndef MDATT_PATCHMODEL_H
#define MDATT_PATCHMODEL_H

#include <stddef.h>
#include <stdint.h>

/** Parameter blocks, in storage order. */
enum { PM_E = 0, PM_P, PM_W, PM_Z, PM_V, PM_NBLOCK };

/** Shape and parameters of a model. */
typedef struct {
    int T;              /**< tokens (patches) per input */
    int Pd;             /**< patch dimension */
    int d;              /**< embedding dimension */
    int C;              /**< outputs: classes (>= 2) or 1 (binary logistic) */
    size_t np;          /**< number of parameters */
    size_t off[PM_NBLOCK], len[PM_NBLOCK]; /**< block offsets and sizes in w */
    double *w;          /**< np parameters */
} pm_model;

/** Allocate and initialize: E ~ N(0, 1/Pd), P ~ N(0, 0.1^2), W, z, V ~ N(0, 1/d)
 *  from mdatt_rng seeded with seed.  0 on success, -1 out of memory. */
int pm_model_init(pm_model *m, int T, int Pd, int d, int C, uint64_t seed);
void pm_model_free(pm_model *m);
/** "E", "P", "W", "z", "V". */
const char *pm_block_name(int block);

/** Scratch for batches of up to maxB inputs (opaque, one per thread). */
typedef struct pm_work pm_work;
pm_work *pm_work_new(const pm_model *m, int maxB);
void pm_work_free(pm_work *w);

/** Statistics of one batch. */
typedef struct {
    double loss;        /**< mean loss */
    int correct;        /**< correct predictions */
    double entropy;     /**< sum over inputs of the attention entropy -sum s log s */
    double topmass;     /**< sum over inputs of max_t s_t */
} pm_stats;

/** Forward (and backward when grad != NULL) on B inputs: U holds B*T*Pd
 *  patch values, labels B class indices.  grad (np) receives the gradient of
 *  the mean loss; attn (B*T, may be NULL) the attention weights. */
void pm_forward(const pm_model *m, pm_work *w, const double *U, const int *labels, int B,
                double *grad, double *attn, pm_stats *st);

/** Optimizers. */
typedef enum { PM_OPT_MD = 0, PM_OPT_ADAM } pm_opt_kind;
typedef struct {
    pm_opt_kind kind;
    double p;           /**< MD: potential exponent > 1 (2 = GD) */
    double lr;          /**< step size */
    double beta1, beta2, eps; /**< Adam (0.9, 0.999, 1e-8) */
    long t;             /**< steps taken */
    size_t np;
    double *a, *b;      /**< MD: dual iterate grad psi(w) (a); Adam: moments (a, b) */
} pm_opt;

/** Set up an optimizer for m's current parameters; -1 out of memory. */
int pm_opt_init(pm_opt *o, pm_opt_kind kind, double p, double lr, const pm_model *m);
void pm_opt_free(pm_opt *o);
/** One step.  MD (entrywise, un-normalized): theta <- theta - lr grad,
 *  w <- (grad psi)^{-1}(theta).  Adam: the bias-corrected update. */
void pm_opt_step(pm_opt *o, pm_model *m, const double *grad);

#endif
