/* exp_scale.c - sweep_scale: the Fig. 4 measurement over a grid of sizes
 * (every n x T x d of the configuration) with many seeds per cell.  Each run
 * trains normalized l_p-AttGD from W_0 ~ N(0, init_std^2) on the paper's
 * synthetic data (mdatt_gen), solves the certified l_p-AttSVM at its selected
 * tokens and keeps the final directional Bregman divergence, the margin ratio,
 * local/global token optimality and the certified gap.  Too large for one
 * machine's `make bench`: meant for --shard/--merge, mpirun or Slurm
 * (README.md, "Large sweeps"). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "runs.h"
#include "mdatt_check.h"

#define MAXG 8

typedef struct {
    double p, lr, init_std;
    long iters, seed0;
    int nseeds, normalized, nn, nT, nd;
    int logy;           /* every cell's mean divergence > 0: log y axis */
    double nl_d[MAXG], Tl_d[MAXG], dl_d[MAXG];
    long nl[MAXG], Tl[MAXG], dl[MAXG];
    /* per run: [cell][seed] */
    double *div, *ratio, *gap;
    int *ok, *local, *global;
} scale_t;

static int ncells(const scale_t *S)
{
    return S->nn * S->nT * S->nd;
}

/* Cell c = (n index, T index, d index), d fastest. */
static void cell_size(const scale_t *S, int c, long *n, long *T, long *d)
{
    *d = S->dl[c % S->nd];
    *T = S->Tl[c / S->nd % S->nT];
    *n = S->nl[c / (S->nd * S->nT)];
}

static int scale_job(int job, void *vctx)
{
    scale_t *S = vctx;
    long n, T, d;
    cell_size(S, job / S->nseeds, &n, &T, &d);
    const long seed = S->seed0 + job % S->nseeds;
    const int dd = (int)(d * d);
    mdatt_gen_settings gs = {(int)n, (int)T, (int)d, (uint64_t)seed};
    mdatt_instance in;
    if (mdatt_gen(&gs, &in) != MDATT_OK)
        return 1;
    double *W = malloc(sizeof(double) * dd), *v = malloc(sizeof(double) * d);
    int *alpha = malloc(sizeof(int) * n), rc = 1;
    if (!W || !v || !alpha)
        goto out;
    bench_init_w(W, (int)d, S->init_std, seed);
    memcpy(v, in.v, sizeof(double) * d);
    mdatt_train_settings ts;
    mdatt_train_default_settings(&ts);
    ts.p = S->p;
    ts.lr = S->lr;
    ts.iters = S->iters;
    ts.normalized = S->normalized;
    mdatt_train_info info;
    if (mdatt_train(&in, &ts, W, v, alpha, &info) != MDATT_OK)
        goto out;
    attsvm_result r;
    S->ok[job] = bench_svm(&in, alpha, S->p, ATTSVM_TARGET_W, &r) == 0;
    S->div[job] = S->ratio[job] = S->gap[job] = NAN;
    if (S->ok[job]) {
        attsvm_data D = bench_svm_data(&in);
        attsvm_tokens tok = {0};
        S->div[job] = mdatt_bregman_dir(r.x, W, dd, S->p);
        S->ratio[job] = mdatt_margin_ratio(&in, alpha, W, S->p, r.objective);
        S->gap[job] = r.gap;
        attsvm_classify(&D, alpha, &r, &tok);
        S->local[job] = tok.locally_optimal;
        S->global[job] = tok.globally_optimal;
        attsvm_tokens_free(&tok);
    }
    attsvm_result_free(&r);
    rc = 0;
out:
    free(W);
    free(v);
    free(alpha);
    mdatt_instance_free(&in);
    return rc;
}

static void scale_slots(int job, void *vctx, bench_rec *r)
{
    scale_t *S = vctx;
    bench_rec_slot(r, &S->div[job], sizeof(double));
    bench_rec_slot(r, &S->ratio[job], sizeof(double));
    bench_rec_slot(r, &S->gap[job], sizeof(double));
    bench_rec_slot(r, &S->ok[job], sizeof(int));
    bench_rec_slot(r, &S->local[job], sizeof(int));
    bench_rec_slot(r, &S->global[job], sizeof(int));
}

/* A training step costs about n T d^2 (scores and gradient); the SVM about
 * the same as a few hundred steps. */
static double scale_cost(int job, const void *vctx)
{
    const scale_t *S = vctx;
    long n, T, d;
    cell_size(S, job / S->nseeds, &n, &T, &d);
    return (double)n * T * d * d * ((double)S->iters + 300.0);
}

static int read_sizes(bench_ctx *b, const char *key, double *buf, long *out, int *count, long hi)
{
    if (bench_cfg_doubles(b, key, buf, MAXG, count))
        return -1;
    for (int k = 0; k < *count; k++) {
        if (buf[k] < 1 || buf[k] > hi || buf[k] != floor(buf[k])) {
            snprintf(b->err, sizeof b->err, "%s: %s[%d]: must be an integer in [1, %ld]", b->path, key, k, hi);
            return -1;
        }
        out[k] = (long)buf[k];
    }
    return 0;
}

static int scale_config(bench_ctx *b, scale_t *S)
{
    if (read_sizes(b, "n", S->nl_d, S->nl, &S->nn, 100000) ||
        read_sizes(b, "T", S->Tl_d, S->Tl, &S->nT, 100000) ||
        read_sizes(b, "d", S->dl_d, S->dl, &S->nd, 1000) ||
        bench_cfg_seeds(b, "seeds", &S->seed0, &S->nseeds) || bench_cfg_double(b, "p", 2.0, &S->p) ||
        bench_cfg_int(b, "iters", 2000, 1, 100000000, &S->iters) || bench_cfg_double(b, "lr", 0.1, &S->lr) ||
        bench_cfg_double(b, "init_std", 1.0, &S->init_std) ||
        bench_cfg_bool(b, "normalized", 1, &S->normalized))
        return -1;
    for (int k = 0; k < S->nT; k++)
        if (S->Tl[k] < 2) {
            snprintf(b->err, sizeof b->err, "%s: T[%d]: must be >= 2", b->path, k);
            return -1;
        }
    if (!(S->p > 1.0) || !(S->lr > 0.0) || !(S->init_std >= 0.0)) {
        snprintf(b->err, sizeof b->err, "%s: %s", b->path, !(S->p > 1.0) ? "p: must be > 1"
                 : !(S->lr > 0.0) ? "lr: must be > 0" : "init_std: must be >= 0");
        return -1;
    }
    long nmax = 0, Tmax = 0, dmax = 0;
    for (int c = 0; c < ncells(S); c++) {
        long n, T, d;
        cell_size(S, c, &n, &T, &d);
        nmax = n > nmax ? n : nmax;
        Tmax = T > Tmax ? T : Tmax;
        dmax = d > dmax ? d : dmax;
    }
    return bench_cfg_memory(b, "n, T, d", bench_runs_memory(b, (long)ncells(S) * S->nseeds, nmax, Tmax,
                                                           dmax, 1.0) + 40.0 * ncells(S) * S->nseeds);
}

/* One table row and one .tsv line per cell. */
static int scale_write(bench_ctx *b, scale_t *S)
{
    const char *head[] = {"n", "T", "d", "runs", "div_mean", "div_std", "div_median", "margin_ratio_mean",
                          "margin_ratio_min", "locally_optimal", "globally_optimal", "svm_failures", "max_gap"};
    bench_table t;
    bench_table_init(&t, 13, head);
    mdatt_outfile o;
    FILE *f = bench_open(b, "scale.tsv", &o);
    double *x = malloc(sizeof(double) * S->nseeds);
    int rc = -1;
    if (!f || !x)
        goto out;
    S->logy = 1;
    fprintf(f, "# n\tT\td\tdiv_mean\tdiv_std\tmargin_ratio_mean\tlocal\tglobal\n");
    for (int c = 0; c < ncells(S); c++) {
        long n, T, d;
        cell_size(S, c, &n, &T, &d);
        int m = 0, loc = 0, glo = 0, fails = 0;
        double rmean = 0.0, rmin = INFINITY, gmax = 0.0, mean, sd, rsd;
        for (int s = 0; s < S->nseeds; s++) {
            const int j = c * S->nseeds + s;
            if (!S->ok[j]) {
                fails++;
                continue;
            }
            x[m++] = S->div[j];
            loc += S->local[j];
            glo += S->global[j];
            rmin = fmin(rmin, S->ratio[j]);
            gmax = fmax(gmax, S->gap[j]);
        }
        bench_mean_std(x, m, &mean, &sd);
        S->logy &= mean > 0;
        qsort(x, m, sizeof(double), bench_cmp_double);
        const double med = m ? (m % 2 ? x[m / 2] : 0.5 * (x[m / 2 - 1] + x[m / 2])) : NAN;
        for (int s = 0, q = 0; s < S->nseeds; s++)
            if (S->ok[c * S->nseeds + s])
                x[q++] = S->ratio[c * S->nseeds + s];
        bench_mean_std(x, m, &rmean, &rsd);
        bench_table_row(&t, "%ld|%ld|%ld|%d|%.4g|%.3g|%.4g|%.6f|%.6f|%.3f|%.3f|%d|%.2g", n, T, d, S->nseeds,
                        mean, sd, med, rmean, rmin, m ? (double)loc / m : NAN, m ? (double)glo / m : NAN,
                        fails, gmax);
        fprintf(f, "%ld\t%ld\t%ld\t%.8g\t%.8g\t%.8g\t%.6f\t%.6f\n", n, T, d, mean, sd, rmean,
                m ? (double)loc / m : NAN, m ? (double)glo / m : NAN);
        if (c % S->nd == S->nd - 1)
            fputs("\n\n", f);   /* one gnuplot block per (n, T) */
    }
    if (bench_close(b, &o))
        goto out;
    char cap[700];
    snprintf(cap, sizeof cap,
             "Final directional Bregman divergence D_psi(W^mm/||W^mm||_p, W_K/||W_K||_p), margin ratio and "
             "token optimality over a grid of sizes: normalized l_p-AttGD, p=%g, eta=%g, K=%ld iterations, "
             "W_0 ~ N(0, %g^2), seeds %ld..%ld in every cell; certified l_p-AttSVM at each run's tokens "
             "(max_gap: largest certified relative gap of the cell).",
             S->p, S->lr, S->iters, S->init_std, S->seed0, S->seed0 + S->nseeds - 1);
    rc = bench_table_write(b, &t, "table", cap);
out:
    free(x);
    bench_table_free(&t);
    return rc;
}

/* Mean divergence against d, one panel per n, one line per T. */
static int scale_figure(bench_ctx *b, const scale_t *S)
{
    char body[8192];
    int len = snprintf(body, sizeof body,
                       "set multiplot layout 1,%d title 'Final directional Bregman divergence (mean over "
                       "%d seeds), l_{%g}-AttGD, %ld iterations'\nset logscale x\n%s"
                       "set grid\nset xlabel 'd'\nset key top left\n", S->nn, S->nseeds, S->p, S->iters,
                       S->logy ? "set logscale y\nset format y '10^{%L}'\n" : "");
    for (int i = 0; i < S->nn; i++) {
        len += snprintf(body + len, sizeof body - len, "set title 'n = %ld'\nplot ", S->nl[i]);
        for (int j = 0; j < S->nT; j++)
            len += snprintf(body + len, sizeof body - len,
                            "'scale.tsv' index %d using 3:4 with linespoints lw 2 pt 7 title 'T = %ld'%s",
                            i * S->nT + j, S->Tl[j], j + 1 < S->nT ? ", " : "\n");
    }
    snprintf(body + len, sizeof body - len, "unset multiplot");
    return bench_figure(b, "scale", "1200,420", body);
}

int bench_sweep_scale(bench_ctx *b)
{
    scale_t S;
    memset(&S, 0, sizeof S);
    if (scale_config(b, &S))
        return 2;
    const size_t runs = (size_t)ncells(&S) * S.nseeds;
    S.div = malloc(sizeof(double) * runs);
    S.ratio = malloc(sizeof(double) * runs);
    S.gap = malloc(sizeof(double) * runs);
    S.ok = calloc(runs, sizeof(int));
    S.local = calloc(runs, sizeof(int));
    S.global = calloc(runs, sizeof(int));
    int rc = 1;
    const bench_jobs jobs = {scale_job, scale_slots, scale_cost};
    if (!S.div || !S.ratio || !S.gap || !S.ok || !S.local || !S.global)
        snprintf(b->err, sizeof b->err, "out of memory");
    else if (bench_parallel(b, b->name, (int)runs, &jobs, &S))
        snprintf(b->err, sizeof b->err, "a training run failed");
    else if (scale_write(b, &S) == 0 && scale_figure(b, &S) == 0) {
        bench_index_line(b, "- [table.md](%s/table.md) ([csv](%s/table.csv)): final directional divergence, "
                            "margin ratio and token optimality per (n, T, d), %d seeds each, with the "
                            "certified SVM of every run; [scale.svg](%s/scale.svg): the divergence against d.",
                         b->reldir, b->reldir, S.nseeds, b->reldir);
        rc = 0;
    }
    free(S.div);
    free(S.ratio);
    free(S.gap);
    free(S.ok);
    free(S.local);
    free(S.global);
    return rc;
}
