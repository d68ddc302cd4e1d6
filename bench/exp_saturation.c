/* exp_saturation.c - beyond_saturation: the paper's runs continued 10x and
 * 100x longer.  mdatt's cancellation-free, log-scaled gradient keeps the
 * normalized step's direction exact (design.md (5)); the reference code's
 * step G/(||G||_q + eps) on the naive gradient stops improving once the softmax
 * saturates.  Both are run from the same start and compared at checkpoints. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "runs.h"

#define MAXP 8
#define MAXC 16

typedef struct {
    long n, T, d, seed0;
    int nseeds, np, nck;
    long neps;          /* the +eps baseline runs on the first neps seeds */
    double p[MAXP], lr, init_std, eps, ck_d[MAXC];
    long ck[MAXC];
    double *div;        /* [variant][pi][seed][ck] directional Bregman divergence */
    double *logm;       /* [variant][pi][seed][ck] log(1 - min_i max_t s_it) */
    int *stalled;       /* [variant][pi][seed]: last two checkpoints equal W */
} sat_t;

static size_t sat_at(const sat_t *S, int var, int pi, int sd)
{
    return (((size_t)var * S->np + pi) * S->nseeds + sd);
}

static int sat_job(int job, void *vctx)
{
    sat_t *S = vctx;
    const int ns = S->nseeds, pi = job / (2 * ns), var = (job / ns) % 2, sd = job % ns;
    const long seed = S->seed0 + sd;
    const int d = (int)S->d, dd = d * d;
    if (var && sd >= S->neps)
        return 0;                       /* baseline not run for this seed */
    mdatt_gen_settings gs = {(int)S->n, (int)S->T, d, (uint64_t)seed};
    mdatt_instance in;
    if (mdatt_gen(&gs, &in) != MDATT_OK)
        return 1;
    double *W = malloc(sizeof(double) * dd), *v = malloc(sizeof(double) * d);
    int *alpha = malloc(sizeof(int) * in.n), rc = 1;
    bench_snaps Sn;
    if (!W || !v || !alpha || bench_snaps_init(&Sn, d, S->nck + 1, S->ck, S->nck))
        goto out;
    bench_init_w(W, d, S->init_std, seed);
    memcpy(v, in.v, sizeof(double) * d);
    mdatt_train_settings ts;
    mdatt_train_default_settings(&ts);
    ts.p = S->p[pi];
    ts.lr = S->lr;
    ts.iters = S->ck[S->nck - 1];
    ts.normalized = 1;
    ts.grad_mode = var ? MDATT_GRAD_NAIVE_EPS : MDATT_GRAD_STABLE;
    ts.eps = S->eps;
    ts.log_every = S->ck[0];
    for (int j = 1; j < S->nck; j++) {     /* gcd of the checkpoints */
        long a = ts.log_every, b = S->ck[j];
        while (b) {
            long t = a % b;
            a = b;
            b = t;
        }
        ts.log_every = a;
    }
    ts.hook = bench_snap_hook;
    ts.hook_ctx = &Sn;
    mdatt_train_info info;
    attsvm_result r;
    if (mdatt_train(&in, &ts, W, v, alpha, &info) != MDATT_OK)
        goto out;
    if (bench_svm(&in, alpha, S->p[pi], ATTSVM_TARGET_W, &r) == 0) {
        const size_t at = sat_at(S, var, pi, sd);
        for (int j = 0; j < S->nck; j++) {
            S->div[at * S->nck + j] = j < Sn.count ? mdatt_bregman_dir(r.x, Sn.W + (size_t)j * dd, dd, S->p[pi]) : NAN;
            S->logm[at * S->nck + j] = j < Sn.count ? Sn.log1m[j] : NAN;
        }
        S->stalled[at] = Sn.count >= 2 && memcmp(Sn.W + (size_t)(Sn.count - 2) * dd,
                                                Sn.W + (size_t)(Sn.count - 1) * dd, sizeof(double) * dd) == 0;
        rc = 0;
    }
    attsvm_result_free(&r);
out:
    bench_snaps_free(&Sn);
    free(W);
    free(v);
    free(alpha);
    mdatt_instance_free(&in);
    return rc;
}

/* Run job's slots: divergences and saturation at the checkpoints, the stall. */
static void sat_slots(int job, void *vctx, bench_rec *r)
{
    sat_t *S = vctx;
    const int ns = S->nseeds, pi = job / (2 * ns), var = (job / ns) % 2, sd = job % ns;
    const size_t at = sat_at(S, var, pi, sd);
    bench_rec_slot(r, &S->div[at * S->nck], sizeof(double) * S->nck);
    bench_rec_slot(r, &S->logm[at * S->nck], sizeof(double) * S->nck);
    bench_rec_slot(r, &S->stalled[at], sizeof(int));
}

/* Steps to the last checkpoint; the naive gradient's costs about 4 times more. */
static double sat_cost(int job, const void *vctx)
{
    const sat_t *S = vctx;
    const int ns = S->nseeds, var = (job / ns) % 2, sd = job % ns;
    if (var && sd >= S->neps)
        return 0.0;
    return (double)S->ck[S->nck - 1] * (var ? 4.0 : 1.0);
}

/* The configuration, validated. */
static int sat_config(bench_ctx *b, sat_t *S)
{
    if (bench_cfg_int(b, "n", 6, 1, 100000, &S->n) || bench_cfg_int(b, "T", 8, 2, 100000, &S->T) ||
        bench_cfg_int(b, "d", 10, 1, 1000, &S->d) || bench_cfg_seeds(b, "seeds", &S->seed0, &S->nseeds) ||
        bench_cfg_doubles(b, "p", S->p, MAXP, &S->np) || bench_cfg_doubles(b, "checkpoints", S->ck_d, MAXC, &S->nck) ||
        bench_cfg_double(b, "lr", 0.1, &S->lr) || bench_cfg_double(b, "init_std", 1.0, &S->init_std) ||
        bench_cfg_double(b, "eps", 1e-12, &S->eps) ||
        bench_cfg_int(b, "eps_seeds", S->nseeds, 1, S->nseeds, &S->neps))
        return -1;
    if (bench_cfg_memory(b, "n, T, d", bench_runs_memory(b, (long)2 * S->np * S->nseeds, S->n, S->T,
                                                        S->d, (double)S->nck + 1)))
        return -1;
    for (int j = 0; j < S->nck; j++) {
        if (S->ck_d[j] < 1 || S->ck_d[j] > 1e10 || S->ck_d[j] != floor(S->ck_d[j]) ||
            (j && S->ck_d[j] <= S->ck_d[j - 1])) {
            snprintf(b->err, sizeof b->err, "%s: checkpoints: increasing positive integers", b->path);
            return -1;
        }
        S->ck[j] = (long)S->ck_d[j];
    }
    for (int k = 0; k < S->np; k++)
        if (!(S->p[k] > 1.0)) {
            snprintf(b->err, sizeof b->err, "%s: p[%d]: must be > 1", b->path, k);
            return -1;
        }
    if (!(S->lr > 0.0) || !(S->eps > 0.0)) {
        snprintf(b->err, sizeof b->err, "%s: lr and eps must be > 0", b->path);
        return -1;
    }
    return 0;
}

/* The finite divergences of variant var at p index pi, checkpoint j, over
 * the first nseeds seeds into x; returns their number. */
static int sat_finite(const sat_t *S, int var, int pi, int j, int nseeds, double *x)
{
    int m = 0;
    for (int sd = 0; sd < nseeds; sd++) {
        double y = S->div[sat_at(S, var, pi, sd) * S->nck + j];
        if (isfinite(y))
            x[m++] = y;
    }
    return m;
}

/* The line of saturation.tsv and the table row of p index pi at checkpoint
 * j (x: scratch for 2 nseeds values); stall: the baseline's stalled runs. */
static void sat_checkpoint(FILE *f, bench_table *t, const sat_t *S, int pi, int j, int stall,
                           double *x)
{
    double ms[2], ss[2], lm, ls;
    for (int var = 0; var < 2; var++)
        bench_mean_std(x, sat_finite(S, var, pi, j, S->nseeds, x), &ms[var], &ss[var]);
    int m = 0;
    for (int sd = 0; sd < S->nseeds; sd++)
        x[m++] = S->logm[sat_at(S, 0, pi, sd) * S->nck + j];
    bench_mean_std(x, m, &lm, &ls);
    fprintf(f, "%g\t%ld\t%.8g\t%.8g\t%.8g\t%.8g", S->p[pi], S->ck[j], ms[0], ss[0], ms[1], ss[1]);
    for (int var = 0; var < 2; var++) {   /* the figure: one seed set, both variants */
        double q[3];
        bench_quartiles(x, sat_finite(S, var, pi, j, (int)S->neps, x), q);
        fprintf(f, "\t%.8g\t%.8g\t%.8g", q[0], q[1], q[2]);
    }
    fputc('\n', f);
    char stalls[32] = "";
    if (j == S->nck - 1)
        snprintf(stalls, sizeof stalls, "%d/%ld", stall, S->neps);
    bench_table_row(t, "%g|%ld|%.4g|%.3g|%.4g|%.3g|%.4g|%s", S->p[pi], S->ck[j], ms[0], ss[0],
                    ms[1], ss[1], lm, stalls);
}

/* saturation.tsv (one block per p) with the table rows and the panels. */
static int sat_tsv(bench_ctx *b, const sat_t *S, bench_table *t, char *body, size_t cap, int *len)
{
    double *x = malloc(sizeof(double) * S->nseeds * 2);
    mdatt_outfile o;
    FILE *f = x ? bench_open(b, "saturation.tsv", &o) : NULL;
    if (!f) {
        free(x);
        return -1;
    }
    fprintf(f, "# p\tk\tstable_mean\tstable_std\teps_mean\teps_std\tthen over the seeds of both "
               "(%ld..%ld): stable_q25\tstable_median\tstable_q75\teps_q25\teps_median\teps_q75\n",
            S->seed0, S->seed0 + S->neps - 1);
    for (int pi = 0; pi < S->np; pi++) {
        int stall = 0;
        for (int sd = 0; sd < S->neps; sd++)
            stall += S->stalled[sat_at(S, 1, pi, sd)];
        for (int j = 0; j < S->nck; j++)
            sat_checkpoint(f, t, S, pi, j, stall, x);
        fprintf(f, "\n\n");
        *len += snprintf(body + *len, cap - *len,
                         "set title 'l_{%g}-AttGD'\nplot 'saturation.tsv' index %d using 2:7:9 with "
                         "filledcurves fs transparent solid 0.2 lc 1 notitle, '' index %d using 2:8 with "
                         "linespoints lw 2 pt 7 lc 1 title 'saturation-safe (mdatt)', '' index %d using "
                         "2:10:12 with filledcurves fs transparent solid 0.2 lc 2 notitle, '' index %d "
                         "using 2:11 with linespoints lw 2 pt 5 dt 2 lc 2 title 'naive + eps guard'\n",
                         S->p[pi], pi, pi, pi, pi);
    }
    free(x);
    return bench_close(b, &o) ? -1 : 0;
}

/* The table with its caption, the figure and the index line. */
static int sat_write(bench_ctx *b, const sat_t *S, const bench_table *t, const char *body)
{
    char cap[900];
    snprintf(cap, sizeof cap,
             "Directional Bregman divergence to the own-p l_p-AttSVM (at each run's selected tokens) at "
             "checkpoints k, n=%ld, T=%ld, d=%ld, eta=%g: mdatt's saturation-safe normalized step (seeds "
             "%ld..%ld) vs the naive gradient normalized by ||G||_q + %g, the reference code's guard "
             "(seeds %ld..%ld). stable_log1m_smax = mean of log(1 - min_i max_t s_it): how saturated the "
             "softmax is. eps_stalled = baseline runs whose W did not change at all between the last two "
             "checkpoints; the others move along rounding noise and their divergence stops falling.",
             S->n, S->T, S->d, S->lr, S->seed0, S->seed0 + S->nseeds - 1, S->eps, S->seed0,
             S->seed0 + S->neps - 1);
    if (bench_table_write(b, t, "table", cap) || bench_figure(b, "saturation", "1200,420", body))
        return -1;
    bench_index_line(b, "- [table.md](%s/table.md), [saturation.svg](%s/saturation.svg): directional "
                        "divergence at k = checkpoints for saturation-safe steps and for the +eps guard "
                        "of the reference code, whose divergence stops falling once the softmax saturates (the figure: "
                        "median and quartiles over the seeds both were run on).", b->reldir, b->reldir);
    return 0;
}

/* beyond_saturation: both step variants from the same starts, compared at
 * the checkpoints. */
int bench_beyond_saturation(bench_ctx *b)
{
    sat_t S = {0};
    if (sat_config(b, &S))
        return 2;
    if (b->check_only)
        return 0;
    const size_t runs = (size_t)2 * S.np * S.nseeds;
    S.div = malloc(sizeof(double) * runs * S.nck);
    S.logm = malloc(sizeof(double) * runs * S.nck);
    S.stalled = calloc(runs, sizeof(int));
    int rc = 1;
    bench_table t;
    const char *head[] = {"p", "k", "stable_mean", "stable_std", "eps_mean", "eps_std",
                          "stable_log1m_smax", "eps_stalled"};
    bench_table_init(&t, 8, head);
    if (!S.div || !S.logm || !S.stalled)
        goto out;
    for (size_t k = 0; k < runs * S.nck; k++)
        S.div[k] = S.logm[k] = NAN;
    const bench_jobs jobs = {sat_job, sat_slots, sat_cost};
    if (bench_parallel(b, b->name, (int)runs, &jobs, &S)) {
        snprintf(b->err, sizeof b->err, "a training run or SVM solve failed");
        goto out;
    }
    char body[8192];
    int len = snprintf(body, sizeof body,
                       "set multiplot layout 1,%d title 'Directional Bregman divergence to the own-p "
                       "l_p-AttSVM, saturation-safe steps vs G/(||G||_q + %g): median and quartiles over "
                       "the same seeds %ld..%ld'\nset logscale xy\nset format y '10^{%%L}'\nset grid\n"
                       "set xlabel 'iteration k'\nset ylabel 'D_ψ'\nset key bottom left\n",
                       S.np, S.eps, S.seed0, S.seed0 + S.neps - 1);
    if (sat_tsv(b, &S, &t, body, sizeof body, &len))
        goto out;
    snprintf(body + len, sizeof body - len, "unset multiplot");
    if (sat_write(b, &S, &t, body))
        goto out;
    rc = 0;
out:
    bench_table_free(&t);
    free(S.div);
    free(S.logm);
    free(S.stalled);
    return rc;
}
