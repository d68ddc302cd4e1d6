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

/** A locally optimal token selection reached from alpha (in place): solve the
 *  W-SVM at alpha for p; while the oracle does not classify alpha as locally
 *  optimal (a support token t of some sample i with gamma_it >= gamma_ia,
 *  gamma_it = Y_i v^T x_it), move each such sample to its best-scoring token
 *  argmax_t gamma_it and solve again, at most max_rounds times.  On success r
 *  holds the SVM at the returned alpha and the result is the number of rounds
 *  (0: alpha was already locally optimal); -1 when none was reached (r freed).
 *  *moved counts the samples moved, over all rounds. */
int bench_local_alpha(const mdatt_instance *in, int *alpha, double p, int max_rounds,
                      attsvm_result *r, int *moved);

#endif
