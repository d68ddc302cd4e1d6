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
#include "mdatt.h"
#include "mdatt_fmnist.h"

/** Parameter blocks, in storage order. */
enum { MDATT_PM_E = 0, MDATT_PM_P, MDATT_PM_W, MDATT_PM_Z, MDATT_PM_V, MDATT_PM_NBLOCK };

/** Shape and parameters of a model. */
typedef struct {
    int T;              /**< tokens (patches) per input */
    int Pd;             /**< patch dimension */
    int d;              /**< embedding dimension */
    int C;              /**< outputs: classes (>= 2) or 1 (binary logistic) */
    size_t np;          /**< number of parameters */
    size_t off[MDATT_PM_NBLOCK], len[MDATT_PM_NBLOCK]; /**< block offsets and sizes in w */
    double *w;          /**< np parameters */
} mdatt_pm_model;

/** Allocate and initialize: E ~ N(0, 1/Pd), P ~ N(0, 0.1^2), W, z, V ~ N(0, 1/d)
 *  from mdatt_rng seeded with seed.  0 on success, -1 out of memory. */
int mdatt_pm_model_init(mdatt_pm_model *m, int T, int Pd, int d, int C, uint64_t seed);
void mdatt_pm_model_free(mdatt_pm_model *m);
/** "E", "P", "W", "z", "V". */
const char *mdatt_pm_block_name(int block);

/** Scratch for batches of up to maxB inputs (opaque, one per thread). */
typedef struct mdatt_pm_work mdatt_pm_work;
mdatt_pm_work *mdatt_pm_work_new(const mdatt_pm_model *m, int maxB);
void mdatt_pm_work_free(mdatt_pm_work *w);

/** Statistics of one batch. */
typedef struct {
    double loss;        /**< mean loss */
    int correct;        /**< correct predictions */
    double entropy;     /**< sum over inputs of the attention entropy -sum s log s */
    double topmass;     /**< sum over inputs of max_t s_t */
} mdatt_pm_stats;

/** Forward (and backward when grad != NULL) on B inputs: U holds B*T*Pd
 *  patch values, labels B class indices.  grad (np) receives the gradient of
 *  the mean loss; attn (B*T, may be NULL) the attention weights. */
void mdatt_pm_forward(const mdatt_pm_model *m, mdatt_pm_work *w, const double *U, const int *labels, int B,
                double *grad, double *attn, mdatt_pm_stats *st);

/** Optimizers. */
typedef enum { MDATT_PM_OPT_MD = 0, MDATT_PM_OPT_ADAM } mdatt_pm_opt_kind;
typedef struct {
    mdatt_pm_opt_kind kind;
    double p;           /**< MD: potential exponent > 1 (2 = GD) */
    double lr;          /**< step size */
    double beta1, beta2, eps; /**< Adam (0.9, 0.999, 1e-8) */
    long t;             /**< steps taken */
    size_t np;
    double *a, *b;      /**< MD: dual iterate grad psi(w) (a); Adam: moments (a, b) */
} mdatt_pm_opt;

/** Set up an optimizer for m's current parameters; -1 out of memory. */
int mdatt_pm_opt_init(mdatt_pm_opt *o, mdatt_pm_opt_kind kind, double p, double lr, const mdatt_pm_model *m);
void mdatt_pm_opt_free(mdatt_pm_opt *o);
/** One step.  MD (entrywise, un-normalized): theta <- theta - lr grad,
 *  w <- (grad psi)^{-1}(theta).  Adam: the bias-corrected update. */
void mdatt_pm_opt_step(mdatt_pm_opt *o, mdatt_pm_model *m, const double *grad);

/* ------------------------------------------------------------- training */

/** Step-size schedule, the same for every optimizer (doc/design.md, "Real
 *  data"): constant, or a linear warm-up followed by a cosine decay to 0. */
typedef enum { MDATT_PM_SCHED_CONSTANT = 0, MDATT_PM_SCHED_COSINE } mdatt_pm_schedule;

/** Factor of the step size at step (0-based) of total steps with warm
 *  warm-up steps: constant: 1; cosine: (step + 1) / warm during the warm-up,
 *  then (1 + cos(pi (step - warm) / (total - warm))) / 2. */
double mdatt_pm_lr_factor(mdatt_pm_schedule s, long step, long total, long warm);

/** Gradient-norm clipping, doc/design.md (28): when c > 0 and ||g||_2 > c,
 *  g <- g c / ||g||_2 (the direction kept); returns ||g||_2 before. */
double mdatt_pm_clip(double *g, size_t n, double c);

/** Fill U (B*T*Pd inputs) and y (B labels) for the items idx[0..B). */
typedef void (*mdatt_pm_fill_fn)(const int *idx, int B, double *U, int *y, void *ctx);

/** A training run's settings (mdatt_pm_train_default_settings). */
typedef struct {
    mdatt_pm_opt_kind kind; /**< MD or Adam */
    double p;               /**< MD exponent (default 2) */
    double lr;              /**< peak step size (default 0.1) */
    int epochs;             /**< passes over the training items (default 1) */
    int batch;              /**< items per step (default 100); a last partial batch is dropped */
    mdatt_pm_schedule schedule; /**< default constant */
    double warmup;          /**< warm-up length in epochs (cosine; default 0) */
    uint64_t seed;          /**< run seed: the initialization and the batch order (default 1) */
    int start_batches;      /**< batches that define the starting loss (default 20) */
    double clip;            /**< gradient-norm clipping (doc/design.md (28)): before every
                                 optimizer's step a gradient of Euclidean norm above clip is
                                 scaled to norm clip; 0: none (default) */
    /** Called after every epoch (diverged: a loss or parameter is not
     *  finite, no more steps are taken); a non-zero return ends the run.
     *  May be NULL. */
    int (*epoch_hook)(int epoch, const mdatt_pm_model *m, int diverged, void *ctx);
    /** Called with each epoch's item order and the model before the
     *  epoch's steps (epoch 0: the initialization); may be NULL. */
    void (*order_hook)(int epoch, const int *order, int n, const mdatt_pm_model *m, void *ctx);
    void *hook_ctx;
} mdatt_pm_train_settings;
void mdatt_pm_train_default_settings(mdatt_pm_train_settings *s);

/** Seeds derived from a run seed: the model's initialization and the batch
 *  order depend on the run seed only, never on the optimizer, so runs of
 *  different optimizers with the same seed are paired. */
uint64_t mdatt_pm_init_seed(uint64_t seed);
uint64_t mdatt_pm_order_seed(uint64_t seed);

/** What a run did. */
typedef struct {
    int diverged;           /**< a non-finite loss or parameter, or a last epoch whose
                                 mean training loss is above the starting loss */
    int epochs;             /**< epochs run */
    long steps;             /**< optimizer steps taken */
    double start_loss;      /**< mean loss of the first start_batches batches at W_0 */
    double final_loss;      /**< mean training loss of the last epoch run (not finite:
                                 the run stopped there) */
    double first_epoch_secs;/**< wall seconds of the first epoch */
    long clipped;           /**< steps whose gradient was clipped (s->clip > 0) */
} mdatt_pm_train_info;

/** Initialize m (T, Pd, d, C, seeded by mdatt_pm_init_seed(s->seed)) and
 *  train it on the items train[0..ntrain) (inputs from fill): each epoch a
 *  Fisher-Yates shuffle of the item list (mdatt_rng seeded by
 *  mdatt_pm_order_seed, continued over the epochs), then one step per batch
 *  at s->lr times the schedule's factor, on the gradient clipped to norm
 *  s->clip (mdatt_pm_clip) whatever the optimizer.  0 on success (m holds the trained
 *  model, to be freed by the caller even on failure), -1 out of memory. */
int mdatt_pm_train(mdatt_pm_model *m, int T, int Pd, int d, int C, const int *train, int ntrain,
                   mdatt_pm_fill_fn fill, void *fill_ctx, const mdatt_pm_train_settings *s,
                   mdatt_pm_train_info *info);

/* ------------------------------------------------------------ the study */

/** Plateau rule for a validation curve acc[0..n): the best accuracy over
 *  the last ceil(frac n) epochs improves on the best before them by less
 *  than tol (e.g. frac 0.2, tol 0.001: less than 0.1 point over the last 20
 *  % of the epochs).  0 when n is too short to have both parts or an entry
 *  is not finite. */
int mdatt_pm_plateaued(const double *acc, int n, double frac, double tol);

/** Score of a step size on validation, doc/design.md (29): the worst of
 *  the validation accuracies val[0..n) of its n >= 1 seeds (a seed that
 *  collapses makes the step score as that seed), or -1 when any is
 *  negative (that seed diverged) or n < 1. */
double mdatt_pm_select_score(const double *val, int n);

/** The chosen step among the finalists of a grid, doc/design.md (29): lr
 *  the n steps, score[k] finalist k's score (mdatt_pm_select_score; < 0
 *  diverged, NAN not a finalist).  With seeds >= 2: the best score (ties:
 *  the smaller step).  With one seed, which cannot show another seed's edge
 *  of stability: the best finalist that is not the largest one that trained
 *  (a margin of one grid step below the edge), or the only one that trained.
 *  -1 when none trained. */
int mdatt_pm_choose_step(const double *lr, const double *score, int n, int seeds);

/** Two-sided 97.5 % quantile of Student's t with df degrees of freedom
 *  (exact table for df <= 30, the Cornish-Fisher expansion beyond; NAN
 *  for df < 1). */
double mdatt_pm_t975(int df);

/** Paired comparison of a and b over n seeds: the differences a_i - b_i,
 *  their mean and the 95 % t-interval mean -/+ t975(n-1) sd / sqrt(n); and,
 *  not moved by one outlying seed as the mean is, their median, the seeds
 *  where a is above b (wins) and below it (losses), and the exact two-sided
 *  sign test of wins against losses (ties left out): sign_p =
 *  min(1, 2 P(Bin(wins + losses, 1/2) <= min(wins, losses))), 1 without
 *  untied seeds (these four are left NAN, 0, 0, 1 for n > 4096). */
typedef struct {
    int n;
    double mean, sd, lo, hi;
    double median;
    int wins, losses;
    double sign_p;
} mdatt_pm_paired;
void mdatt_pm_paired_diff(const double *a, const double *b, int n, mdatt_pm_paired *out);
/** "better" (lo > 0), "worse" (hi < 0) or "no difference detected at this
 *  resolution" (the interval holds 0, or n < 2). */
const char *mdatt_pm_verdict(const mdatt_pm_paired *c);

/** Sequences with one label-relevant item (the token-selection task):
 *  sequence i holds T image indices items[i*T .. i*T+T): exactly one, at
 *  position pos[i] (uniform), is an image of class target[0] or target[1]
 *  (drawn uniformly from those images), label[i] = 0 or 1 says which; the
 *  T - 1 others are drawn uniformly from the images of the other classes.
 *  mdatt_rng seeded with seed.  0, or -1 when a class group has no image. */
int mdatt_pm_token_task(const mdatt_images *im, const int target[2], int n, int T, uint64_t seed,
                        int *items, int *pos, int *label);

/** Fixed random projection of every image's pixels (scaled to [0, 1]) to
 *  Pd features: out[i*Pd + k] = sum_j G_kj x_ij with G_kj ~ N(0, 1/(rows
 *  cols)) from mdatt_rng seeded with seed.  -1 out of memory. */
int mdatt_pm_project(const mdatt_images *im, int Pd, uint64_t seed, double *out);

#endif
