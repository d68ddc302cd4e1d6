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

#endif
