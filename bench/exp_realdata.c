/* exp_realdata.c - experiment "realdata" on Fashion-MNIST (Debian package
 * dataset-fashion-mnist), in named phases:
 *
 * A (generalization, the paper's real-data claim; realdata_train.c and
 *   realdata_report.c): the patch attention classifier of src/patchmodel.h
 *   trained with un-normalized l_p-MD (per entry) and Adam under one
 *   schedule, learning rates picked on a validation split, paired seeds,
 *   test accuracy after the last and at the best validation epoch, the
 *   plateau rule, paired differences with t-intervals (verdict.md), and the
 *   token-selection task with a known optimal token (token_selection.md).
 * B (beyond the paper; realdata_svm.c): the l_p-AttSVM on real tokens.
 *
 * Every run writes a record (bench_parallel), so the study resumes and
 * shards.  Without the data set the experiment is skipped: exit 0, a note
 * in the index. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "realdata.h"
#include "mdatt_check.h"
#include "mdatt_fmnist.h"

static int read_pairs(bench_ctx *b, const char *key, int pairs[][2], int max, int *count)
{
    json_t *a = json_object_get(b->cfg, key);
    *count = 0;
    if (!a)
        return 0;
    if (!json_is_array(a) || (int)json_array_size(a) > max) {
        snprintf(b->err, sizeof b->err, "%s: %s: a list of at most %d [A, B] label pairs", b->path,
                 key, max);
        return -1;
    }
    for (size_t k = 0; k < json_array_size(a); k++) {
        json_t *x = json_array_get(json_array_get(a, k), 0), *y = json_array_get(json_array_get(a, k), 1);
        if (!json_is_integer(x) || !json_is_integer(y) || json_integer_value(x) < 0 ||
            json_integer_value(x) > 9 || json_integer_value(y) < 0 || json_integer_value(y) > 9 ||
            json_integer_value(x) == json_integer_value(y)) {
            snprintf(b->err, sizeof b->err, "%s: %s[%zu]: need [A, B], different labels in 0..9",
                     b->path, key, k);
            return -1;
        }
        pairs[k][0] = (int)json_integer_value(x);
        pairs[k][1] = (int)json_integer_value(y);
        (*count)++;
    }
    return 0;
}

/* Configuration read by the driver. */
typedef struct {
    long epochs, pair_epochs, train_limit;
    int pairs[MAXTASK][2], npairs, measure_epoch;
} rd_config;

/* schedule, warmup_epochs, clip_norm, plateau_fraction, plateau_tol. */
static int read_schedule(bench_ctx *b, expA *A)
{
    json_t *js = json_object_get(b->cfg, "schedule");
    const char *s = json_is_string(js) ? json_string_value(js) : "constant";
    if ((js && !json_is_string(js)) || (strcmp(s, "constant") && strcmp(s, "cosine"))) {
        snprintf(b->err, sizeof b->err, "%s: schedule: \"constant\" or \"cosine\"", b->path);
        return -1;
    }
    A->schedule = strcmp(s, "cosine") == 0 ? MDATT_PM_SCHED_COSINE : MDATT_PM_SCHED_CONSTANT;
    if (bench_cfg_double(b, "warmup_epochs", 0.0, &A->warmup) ||
        bench_cfg_double(b, "clip_norm", 0.0, &A->clip) ||
        bench_cfg_double(b, "plateau_fraction", 0.2, &A->plateau_frac) ||
        bench_cfg_double(b, "plateau_tol", 0.001, &A->plateau_tol))
        return -1;
    if (!(A->clip >= 0) || !isfinite(A->clip)) {
        snprintf(b->err, sizeof b->err, "%s: clip_norm: a finite number >= 0 (0: no clipping)", b->path);
        return -1;
    }
    if (!(A->warmup >= 0) || !(A->plateau_frac > 0 && A->plateau_frac < 1) || !(A->plateau_tol >= 0)) {
        snprintf(b->err, sizeof b->err, "%s: warmup_epochs: >= 0; plateau_fraction: in (0, 1); "
                 "plateau_tol: >= 0", b->path);
        return -1;
    }
    return 0;
}

static int read_config(bench_ctx *b, expA *A, expB *X, rd_config *c)
{
    if (bench_cfg_int(b, "d", 32, 1, 256, &A->d) || bench_cfg_int(b, "batch", 100, 1, 10000, &A->batch) ||
        bench_cfg_int(b, "epochs", 3, 1, 1000, &c->epochs) ||
        bench_cfg_int(b, "pair_epochs", c->epochs, 1, 1000, &c->pair_epochs) ||
        bench_cfg_seeds(b, "seeds", &A->seed0, &A->nseeds) || rd_read_optimizers(b, A) ||
        read_pairs(b, "pairs", c->pairs, MAXTASK - 2, &c->npairs) ||
        bench_cfg_int(b, "select_train", 10000, 100, 60000, &A->sel_train) ||
        bench_cfg_int(b, "select_val", 5000, 100, 30000, &A->sel_val) ||
        bench_cfg_int(b, "select_epochs", 1, 1, 1000, &A->sel_epochs) ||
        bench_cfg_int(b, "select_final", 2, 0, MAXLR, &A->sel_final) ||
        bench_cfg_int(b, "select_seeds", 1, 1, MAXSEL, &A->sel_seeds) ||
        bench_cfg_int(b, "train_limit", 0, 0, 60000, &c->train_limit) || read_schedule(b, A) ||
        rd_read_tokens(b, A) || read_pairs(b, "svm_pairs", X->pair, MAXTASK, &X->npair) ||
        rd_svm_read(b, X) || bench_cfg_bool(b, "measure_epoch", 1, &c->measure_epoch))
        return -1;
    X->seed = A->seed0;
    return 0;
}

/* Both Fashion-MNIST files; 1 when the data set is missing (skip). */
static int load_data(bench_ctx *b, mdatt_images *tr, mdatt_images *te)
{
    json_t *jd = json_object_get(b->cfg, "dir");
    const char *dir = json_is_string(jd) ? json_string_value(jd) : NULL;
    char err[MDATT_ERRLEN];
    mdatt_status st = mdatt_fmnist_load(dir, 0, tr, err);
    if (st == MDATT_OK)
        st = mdatt_fmnist_load(dir, 1, te, err);
    if (st == MDATT_EIO) {
        fprintf(stderr, "mdatt bench: realdata skipped: %s\n", err);
        bench_index_line(b, "- **Skipped**: %s. Install it and run `mdatt bench %s` again.", err, b->path);
        return 1;
    }
    if (st != MDATT_OK) {
        snprintf(b->err, sizeof b->err, "%s", err);
        return -1;
    }
    return 0;
}

/* summary.md: part A's section, and part B's once its runs are in (X NULL:
 * not yet). */
static int write_summary_file(bench_ctx *b, const expA *A, const expB *X, long epochs)
{
    mdatt_outfile o;
    FILE *f = bench_open(b, "summary.md", &o);
    if (!f)
        return -1;
    rd_summary_a(f, A, epochs);
    if (X)
        rd_svm_summary(f, X);
    else
        fprintf(f, "## B. The l_p-AttSVM on real tokens\n\nPart B's runs were not complete when "
                "this file was written (svm.md holds its last complete run).\n");
    return bench_close(b, &o);
}

/* summary.md and the index lines. */
static int write_summary(bench_ctx *b, const expA *A, const expB *X, long epochs)
{
    if (write_summary_file(b, A, X, epochs))
        return -1;
    char v[4096];
    rd_verdict_text(A, v, sizeof v);
    bench_index_line(b, "- [summary.md](%s/summary.md): %s", b->reldir, v);
    rd_index_a(b, A);
    rd_svm_index(b, X);
    return 0;
}

/* The phases after the data: tasks, step sizes, final runs and part A's
 * reports (written before part B runs, so that a long study whose part B is
 * interrupted still leaves them), then part B's runs, its reports and the
 * summary.  A shard stops at its first incomplete stage and writes nothing
 * in the reports folder. */
static int run_phases(bench_ctx *b, expA *A, expB *X, const rd_config *c)
{
    int full0 = 0;
    if (rd_tasks(A, c->pairs, c->npairs, c->epochs, c->pair_epochs, c->train_limit, &full0) ||
        rd_alloc(A) || rd_svm_alloc(X)) {
        snprintf(b->err, sizeof b->err, "out of memory");
        return 1;
    }
    if (rd_select(b, A) || rd_final(b, A))
        return 1;
    A->epoch_secs = NAN;
    if ((c->measure_epoch && rd_measure_epoch(b, A, full0)) || rd_write_a(b, A) ||
        write_summary_file(b, A, NULL, c->epochs))
        return 1;
    if (rd_svm_run(b, X) || rd_svm_write(b, X) || write_summary(b, A, X, c->epochs))
        return 1;
    return 0;
}

int bench_realdata(bench_ctx *b)
{
    expA A;
    expB X;
    rd_config c;
    memset(&A, 0, sizeof A);
    memset(&X, 0, sizeof X);
    memset(&c, 0, sizeof c);
    A.b = X.b = b;
    if (read_config(b, &A, &X, &c))
        return 2;
    if (b->check_only)
        return 0;
    mdatt_images tr, te;
    memset(&tr, 0, sizeof tr);
    memset(&te, 0, sizeof te);
    int rc = load_data(b, &tr, &te);
    if (rc == 0) {
        A.tr = X.tr = &tr;
        A.te = X.te = &te;
        rc = run_phases(b, &A, &X, &c);
    } else
        rc = rc > 0 ? 0 : 1;
    rd_free(&A);
    rd_svm_free(&X);
    mdatt_images_free(&tr);
    mdatt_images_free(&te);
    return rc;
}
