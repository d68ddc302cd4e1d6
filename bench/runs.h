/* runs.h - pieces shared by the experiments: training with snapshots of W_k
 * and the oracle's answer at a run's selected tokens. */
#ifndef MDATT_BENCH_RUNS_H
#define MDATT_BENCH_RUNS_H

#include "attsvm.h"
#include "bench.h"

/** Snapshots of (W_k, v_k) taken by the training hook. */
typedef struct {
    int d;
    int cap, count;
    const long *want;   /**< iterations to keep (sorted), or NULL: every call */
    int nwant;
    long *k;            /**< iteration of each snapshot */
    double *W;          /**< cap*d*d */
    double *v;          /**< cap*d */
    double *smax_min;   /**< min_i max_t s_it at each snapshot */
    double *log1m;      /**< log(1 - that) */
} bench_snaps;

int bench_snaps_init(bench_snaps *s, int d, int cap, const long *want, int nwant);
void bench_snaps_free(bench_snaps *s);
/** mdatt_train_hook storing snapshots into a bench_snaps. */
int bench_snap_hook(const mdatt_train_point *pt, void *ctx);

/** The oracle's plain view of an instance. */
attsvm_data bench_svm_data(const mdatt_instance *in);
/** Solve the W-SVM (or v-SVM) at alpha for p; 0 when optimal. */
int bench_svm(const mdatt_instance *in, const int *alpha, double p, attsvm_target tg,
              attsvm_result *r);
/** The same with the certified relative gap asked (gap_tol > 0; 0: the default). */
int bench_svm_gap(const mdatt_instance *in, const int *alpha, double p, attsvm_target tg,
                  double gap_tol, attsvm_result *r);

/** Toward a locally optimal token selection from alpha (in place): solve the
 *  W-SVM at alpha for p; a sample breaks local optimality when a support
 *  token t (active constraint) scores gamma_it >= gamma_ia, gamma_it = Y_i v^T
 *  x_it (the oracle's rule, ties within 1e-12 relative).  Each round moves
 *  every such sample to its best-scoring such token if that scores strictly
 *  higher, else (only ties: equal scores, e.g. two blank patches) to its
 *  highest-scoring token if that scores higher, and solves again (certified
 *  relative gap 1e-8), at most max_rounds rounds; a selection without a W-SVM
 *  (infeasible) gets back the moved samples that its Farkas certificate
 *  names, and the rest is solved again.  The walk stops when nothing moves
 *  or the oracle gives no verdict.  Scores only
 *  rise, so the walk ends.  alpha receives the selection with the fewest
 *  breaking samples seen (*left of them; 0: locally optimal), r the SVM
 *  there; the result is the round that found it (0: the start), or -1 when
 *  the SVM at the start was not solved (r freed).  *moved counts the moves
 *  over all rounds. */
int bench_local_alpha(const mdatt_instance *in, int *alpha, double p, int max_rounds,
                      attsvm_result *r, int *moved, int *left);

/** The largest row norm ||A_it||_q = ||x_ia - x_it||_q ||z_i||_q of the
 *  W-SVM at alpha (design.md (21)); 0 when no row is non-zero. */
double bench_max_row_norm(const mdatt_instance *in, const int *alpha, double q);
/** The cone's half-width w = 1/(||W^mm||_p max_it ||A_it||_q) at alpha, W^mm
 *  the SVM there (design.md §6): a relative change of W smaller than w keeps
 *  every margin positive. */
double bench_cone_width(const mdatt_instance *in, const int *alpha, const double *Wmm, double p);
/** A start inside the cone of alpha (design.md §6): W_0 = R (W^mm/||W^mm||_p
 *  + delta G/||G||_p), G with N(0, 1) entries from mdatt_rng seeded with
 *  seed, delta = theta w and w = 1/(||W^mm||_p max_it ||A_it||_q) the cone's
 *  half-width.  By Hoelder every margin <A_it, W_0> >= R (1 - theta) /
 *  ||W^mm||_p, so for theta < 1 W_0 selects alpha with every margin at least
 *  (1 - theta) R/||W^mm||_p.  W (d*d) receives W_0; returns delta. */
double bench_cone_start(const mdatt_instance *in, const int *alpha, const double *Wmm, double p,
                        double R, double theta, uint64_t seed, double *W);

#endif
