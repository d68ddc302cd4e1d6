/* realdata.h - the "realdata" experiment's pieces (bench/exp_realdata.c the
 * driver, realdata_train.c the training runs of part A and the
 * token-selection task, realdata_report.c their tables, figures and verdict,
 * realdata_svm.c part B): shared types, private to bench/. */
#ifndef MDATT_BENCH_REALDATA_H
#define MDATT_BENCH_REALDATA_H
#include <stdio.h>
#include "patchmodel.h"
#include "runs.h"

#define MAXOPT 8
#define MAXLR 12
#define MAXSEL 8             /* seeds of the finalist runs at most */
#define MAXTASK 6
#define PATCH 4
#define NT 49
#define PD 16
#define NHIST 24            /* log10 |w| bins from -10 to 2, 0.5 wide */

typedef struct {
    char name[32];
    mdatt_pm_opt_kind kind;
    double p;
    double lr[MAXLR];
    int nlr;
} opt_spec;

/** Kinds of task: the 10 classes, a pair of classes, the token-selection
 *  sequences (one label-relevant item among distractors). */
enum { TASK_CLASSES = 0, TASK_PAIR, TASK_TOKENS };

typedef struct {
    int kind;
    int C, T, Pd, d;        /* model shape: classes (1: binary), tokens, input and embedding size */
    int cls[2];             /* pair: labels mapped to 0 and 1; tokens: the target classes */
    int *train, ntrain;     /* items of the training side (images or sequences); the
                               validation split is the last nval of them */
    int nval;
    int *test, ntest;
    int epochs;
    int *items[2], *pos[2], *label[2];  /* tokens: sequences of the train / test side */
    double *feat[2];        /* tokens: projected images of the train / test file */
} task_t;

typedef struct {
    bench_ctx *b;
    const mdatt_images *tr, *te;
    long d, batch, seed0, sel_train, sel_val, sel_epochs, sel_final;
    int stage;              /* selection stage of the selection runs: 1 short, 2 finalists */
    int nseeds, nopt, ntask, maxep;
    mdatt_pm_schedule schedule;
    double warmup;          /* warm-up epochs of the cosine schedule */
    double clip;            /* gradient-norm clipping threshold of every run (0: none) */
    double plateau_frac, plateau_tol; /* the plateau rule (mdatt_pm_plateaued) */
    opt_spec opt[MAXOPT];
    task_t task[MAXTASK];
    /* token task settings (tok_n[0] 0: no token task) */
    long tok_n[3], tok_T, tok_Pd, tok_d, tok_epochs, tok_svm_n;
    int tok_cls[2];
    /* selection: [task][opt][lr] validation accuracy */
    double *val;            /* stage 1: validation accuracy, -1 diverged */
    double *val2;           /* stage 2 (finalists only, else NAN): mean over the selection
                               seeds, -1 if any of them diverged */
    double *val2s;          /* stage 2 per seed: [task][opt][lr][MAXSEL] */
    long sel_seeds;
    double chosen[MAXTASK][MAXOPT];
    int sel_edge[MAXTASK][MAXOPT];  /* chosen step: -1 smallest, 1 largest of the grid, 2 all diverged */
    /* final runs: [task][opt][seed], curves [run][maxep] */
    double *curve;          /* test accuracy per epoch */
    double *vcurve;         /* validation accuracy per epoch */
    double *tcurve;         /* token task: fraction of test sequences whose top attention is on
                               the label-relevant item, per epoch (else NAN) */
    double *acc, *ent, *top, *secs;
    double *clipfrac;       /* fraction of a final run's steps whose gradient was clipped */
    int *diverged;
    double *epoch1;         /* first-epoch seconds of each run */
    double *amap;           /* [run][class(10)][T] summed test attention */
    int *amap_cnt;          /* [run][class] */
    double *hist;           /* [run][block W/E][NHIST] counts of log10 |w| (10-class task) */
    int *tok_status;        /* token task: the oracle's status at the selected tokens */
    double *tok_div, *tok_obj, *tok_sel; /* directional Bregman divergence of W to W^mm,
                               ||W^mm||_p, fraction of the SVM's sequences whose selected token
                               is the label-relevant one */
    double epoch_secs;      /* seconds of the first full 10-class epoch measured alone */
} expA;

/* realdata_train.c */
int rd_read_optimizers(bench_ctx *b, expA *A);
int rd_read_tokens(bench_ctx *b, expA *A);
int rd_tasks(expA *A, const int pairs[][2], int npairs, long epochs, long pair_epochs,
             long train_limit, int *full0);
int rd_alloc(expA *A);
void rd_free(expA *A);
int rd_select(bench_ctx *b, expA *A);
int rd_final(bench_ctx *b, expA *A);
int rd_measure_epoch(bench_ctx *b, expA *A, int full0);
const char *rd_task_name(const task_t *t, char *buf, size_t len);
/* The run index of (task, optimizer, seed) in the final-run arrays. */
static inline size_t rd_at(const expA *A, int ti, int oi, int sd)
{
    return ((size_t)ti * A->nopt + oi) * A->nseeds + sd;
}

/* realdata_report.c */
int rd_write_a(bench_ctx *b, expA *A);
void rd_verdict_text(const expA *A, char *out, size_t len);
void rd_summary_a(FILE *f, const expA *A, long epochs);
void rd_index_a(bench_ctx *b, const expA *A);

/* ------------------------------------------------------------ part B */
typedef struct {
    bench_ctx *b;
    const mdatt_images *tr, *te;
    int npair, np, n, ntest_img, stable;
    int pair[MAXTASK][2];
    double p[MAXOPT], lr, lr_norm, lr_ramp;
    double stable_frac;     /* the quiet window is at least this fraction of k */
    long check_every, max_iters;
    long seed;
    /* per job (pair, p) */
    int *alpha_test;        /* [job][ntest_img] selected patch of the test images */
    int *test_index;        /* [job][ntest_img] test images shown */
    int *nsnap;             /* snapshots kept */
    long *snap_k;           /* [job][cap] */
    double *div;            /* [job][cap] directional Bregman divergence to W^mm */
    int *changes;           /* [job][cap] token changes (summed over the checks) since the
                               previous snapshot */
    int cap;                /* snapshots per job: log-spaced in k, and the last iterate */
    long *iters;
    long *last_change;      /* last check at which a selected token changed */
    int *late;              /* samples whose token changed in the second half of the run */
    double *s_late, *s_settled; /* mean top attention at the end: those samples / the others */
    double *growth;         /* exponent a of ||theta_k||_q ~ k^a over the last 3/4 of the run */
    int *converged, *svm_status, *local, *global, *agree, *nsupport, *ties;
    double *obj, *gap, *viol, *svm_secs, *train_secs, *train_acc, *rho, *smin;
    double *eta, *loss0, *loss1, *smax_mean, *smax_bad, *smax_good;
    int *lviol, *lviol_ties, *blank;
    char (*msg)[200];
    int *alpha_end;         /* [job][n] selected tokens at the end of the W_0 = 0 run */
    /* Cone starts (local convergence, cone_job): W_0 = R (W^mm_a/||W^mm_a||_p +
     * delta G/||G||_p) at a selection a repaired toward local optimality. */
    long cone_iters;        /* iterations of each cone run (0: no cone runs) */
    double cone_radius;     /* R, when cone_margin is 0 */
    double cone_margin;     /* > 0: R = cone_margin ||W^mm_a||_p (every margin at W_0 >= it) */
    double cone_perturb;    /* delta as a fraction of the cone's half-width, in [0, 1) */
    double cone_target;
    double cone_step;       /* zeta: the cone run's step eta = zeta (p - 1) w R^{p-1} */
    double cone_p[MAXOPT];  /* the p with cone runs (svm_cone_p; default: every svm_p) */
    int cone_np;
    int cone_rounds;        /* repair rounds at most */
    int *c_found, *c_round, *c_moved, *c_stable, *c_nsnap, *c_local;
    int *c_sel_local;       /* the oracle's verdict on a (before the run) */
    double *c_R, *c_delta, *c_dmax; /* radius, perturbation and largest D_psi along the run */
    double *c_width, *c_eta;        /* the cone's half-width w and the run's step */
    int *c_left, *c_left0;  /* samples breaking local optimality at the start / before repair */
    long *c_iters, *c_below, *c_snap_k;
    double *c_div, *c_final, *c_gap;
} expB;
/* realdata_svm.c */
int rd_svm_read(bench_ctx *b, expB *X);
int rd_svm_alloc(expB *X);
void rd_svm_free(expB *X);
int rd_svm_run(bench_ctx *b, expB *X);
int rd_svm_write(bench_ctx *b, expB *X);
void rd_svm_summary(FILE *f, const expB *X);
void rd_svm_index(bench_ctx *b, const expB *X);
#endif
