/* exp_paper.c - the paper's synthetic experiments (arXiv 2410.14581, Sec. 5):
 * paper_fig4 (cross-p directional Bregman divergence, Fig. 4), paper_paths
 * (paths of two entries of W_k with the SVM ray) and paper_joint (JointGD on
 * the toy instance). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "runs.h"

#define MAXP 8

/* Settings common to the experiments here, read from the configuration. */
typedef struct {
    long n, T, d, seed0, points;
    int nseeds, np, nsvm, normalized;
    double p[MAXP], psvm[MAXP], iters_d[MAXP], lr, init_std;
    long iters[MAXP];
    mdatt_loss loss;
} exp_cfg;

static int read_cfg(bench_ctx *b, exp_cfg *c, int need_svm)
{
    int ni;
    memset(c, 0, sizeof *c);
    if (bench_cfg_int(b, "n", 6, 1, 100000, &c->n) || bench_cfg_int(b, "T", 8, 2, 100000, &c->T) ||
        bench_cfg_int(b, "d", 10, 1, 1000, &c->d) || bench_cfg_seeds(b, "seeds", &c->seed0, &c->nseeds) ||
        bench_cfg_doubles(b, "p", c->p, MAXP, &c->np) ||
        bench_cfg_doubles(b, "iters", c->iters_d, MAXP, &ni) ||
        bench_cfg_double(b, "lr", 0.1, &c->lr) || bench_cfg_double(b, "init_std", 1.0, &c->init_std) ||
        bench_cfg_bool(b, "normalized", 1, &c->normalized) ||
        bench_cfg_int(b, "points", 100, 2, 100000, &c->points))
        return -1;
    if (bench_cfg_memory(b, "n, T, d, points",
                         bench_runs_memory(b, (long)c->nseeds * c->np, c->n, c->T, c->d,
                                           (double)c->points + 2)))
        return -1;
    if (ni != c->np) {
        snprintf(b->err, sizeof b->err, "%s: iters: needs one count per p (%d)", b->path, c->np);
        return -1;
    }
    for (int k = 0; k < c->np; k++) {
        if (!(c->p[k] > 1.0)) {
            snprintf(b->err, sizeof b->err, "%s: p[%d]: must be > 1", b->path, k);
            return -1;
        }
        if (c->iters_d[k] < 1 || c->iters_d[k] > 1e10 || c->iters_d[k] != floor(c->iters_d[k])) {
            snprintf(b->err, sizeof b->err, "%s: iters[%d]: must be a positive integer", b->path, k);
            return -1;
        }
        c->iters[k] = (long)c->iters_d[k];
    }
    if (!(c->lr > 0.0) || !(c->init_std >= 0.0)) {
        snprintf(b->err, sizeof b->err, "%s: %s", b->path,
                 c->lr > 0.0 ? "init_std: must be >= 0" : "lr: must be > 0");
        return -1;
    }
    json_t *l = json_object_get(b->cfg, "loss");
    c->loss = MDATT_LOSS_LOGISTIC;
    if (l && (!json_is_string(l) || mdatt_loss_parse(json_string_value(l), &c->loss) != MDATT_OK)) {
        snprintf(b->err, sizeof b->err, "%s: loss: logistic, exponential or correlation", b->path);
        return -1;
    }
    if (need_svm) {
        if (json_object_get(b->cfg, "p_svm")) {
            if (bench_cfg_doubles(b, "p_svm", c->psvm, MAXP, &c->nsvm))
                return -1;
        } else {
            memcpy(c->psvm, c->p, sizeof c->p);
            c->nsvm = c->np;
        }
    }
    return 0;
}

static void train_settings(const exp_cfg *c, int pi, mdatt_train_settings *ts)
{
    mdatt_train_default_settings(ts);
    ts->p = c->p[pi];
    ts->lr = c->lr;
    ts->iters = c->iters[pi];
    ts->normalized = c->normalized;
    ts->loss = c->loss;
}

/* The same with a snapshot into S every iters/points iterations. */
static void snap_settings(const exp_cfg *c, int pi, bench_snaps *S, mdatt_train_settings *ts)
{
    train_settings(c, pi, ts);
    ts->log_every = c->iters[pi] / c->points > 0 ? c->iters[pi] / c->points : 1;
    ts->hook = bench_snap_hook;
    ts->hook_ctx = S;
}

/* ================================================================ paper_fig4 */

typedef struct {
    bench_ctx *b;
    exp_cfg c;
    int npts;           /* snapshots per run (points + 1) */
    double *curve;      /* [pi][si][seed][npts] directional Bregman divergence */
    long *kgrid;        /* [pi][npts] */
    double *gap, *viol; /* [pi][si][seed] */
    int *svm_ok;        /* [pi][si][seed] */
    int *local, *global;/* [pi][seed] */
    /* The authors' protocol (fig4_protocol_runs below): one run per (p, seed) from
     * its own W_0, and the SVM of each p at that run's tokens. */
    double *pw;         /* [pi][seed][d*d] final W */
    int *palpha;        /* [pi][seed][n] selected tokens */
    double *pdiv;       /* [pi][si][seed] D_psi(W^mm of the p_svm run, W of the p_alg run) */
    double *pgap, *pviol; /* [si][seed] */
    int *pok;           /* [si][seed]: SVM optimal; [pi][seed] in prun_ok */
    int *prun_ok;
} fig4_t;

static int fig4_job(int job, void *vctx)
{
    fig4_t *F = vctx;
    const exp_cfg *c = &F->c;
    const int ns = c->nseeds, pi = c->np - 1 - job / ns, sd = job % ns;  /* long runs first */
    const long seed = c->seed0 + sd;
    const int d = (int)c->d, dd = d * d;
    mdatt_gen_settings gs = {(int)c->n, (int)c->T, d, (uint64_t)seed};
    mdatt_instance in;
    if (mdatt_gen(&gs, &in) != MDATT_OK)
        return 1;
    double *W = malloc(sizeof(double) * dd), *v = malloc(sizeof(double) * d);
    int *alpha = malloc(sizeof(int) * in.n), rc = 1;
    bench_snaps S;
    if (!W || !v || !alpha || bench_snaps_init(&S, d, F->npts + 1, NULL, 0))
        goto out;
    bench_init_w(W, d, c->init_std, seed);
    memcpy(v, in.v, sizeof(double) * d);
    mdatt_train_settings ts;
    snap_settings(c, pi, &S, &ts);
    mdatt_train_info info;
    if (mdatt_train(&in, &ts, W, v, alpha, &info) != MDATT_OK)
        goto out;
    if (sd == 0)
        for (int j = 0; j < F->npts; j++)
            F->kgrid[pi * F->npts + j] = j < S.count ? S.k[j] : -1;
    attsvm_data D = bench_svm_data(&in);
    for (int si = 0; si < c->nsvm; si++) {
        const size_t at = ((size_t)pi * c->nsvm + si) * ns + sd;
        attsvm_result r;
        F->svm_ok[at] = bench_svm(&in, alpha, c->psvm[si], ATTSVM_TARGET_W, &r) == 0;
        if (F->svm_ok[at]) {
            F->gap[at] = r.gap;
            F->viol[at] = r.max_violation;
            for (int j = 0; j < F->npts; j++)
                F->curve[at * F->npts + j] =
                    j < S.count ? mdatt_bregman_dir(r.x, S.W + (size_t)j * dd, dd, c->p[pi]) : NAN;
            if (c->psvm[si] == c->p[pi]) {
                attsvm_tokens tok = {0};
                attsvm_classify(&D, alpha, &r, &tok);
                F->local[pi * ns + sd] = tok.locally_optimal;
                F->global[pi * ns + sd] = tok.globally_optimal;
                attsvm_tokens_free(&tok);
            }
        }
        attsvm_result_free(&r);
    }
    rc = 0;
out:
    bench_snaps_free(&S);
    free(W);
    free(v);
    free(alpha);
    mdatt_instance_free(&in);
    return rc;
}

/* Run job's result slots: per p_svm the solve's outcome, gap, violation and
 * curve; the token verdicts; the iteration grid (kept by seed 0's run). */
static void fig4_slots(int job, void *vctx, bench_rec *r)
{
    fig4_t *F = vctx;
    const exp_cfg *c = &F->c;
    const int ns = c->nseeds, pi = c->np - 1 - job / ns, sd = job % ns;
    for (int si = 0; si < c->nsvm; si++) {
        const size_t at = ((size_t)pi * c->nsvm + si) * ns + sd;
        bench_rec_slot(r, &F->svm_ok[at], sizeof(int));
        bench_rec_slot(r, &F->gap[at], sizeof(double));
        bench_rec_slot(r, &F->viol[at], sizeof(double));
        bench_rec_slot(r, &F->curve[at * F->npts], sizeof(double) * F->npts);
    }
    bench_rec_slot(r, &F->local[pi * ns + sd], sizeof(int));
    bench_rec_slot(r, &F->global[pi * ns + sd], sizeof(int));
    if (sd == 0)
        bench_rec_slot(r, &F->kgrid[pi * F->npts], sizeof(long) * F->npts);
}

/* Training steps, plus one solve per p_svm. */
static double fig4_cost(int job, const void *vctx)
{
    const fig4_t *F = vctx;
    return (double)F->c.iters[F->c.np - 1 - job / F->c.nseeds] + 1000.0 * F->c.nsvm;
}

/* Mean, std and quartiles over seeds of curve[at][j] where the solve succeeded. */
static void fig4_stats(const fig4_t *F, int pi, int si, int j, double *mean, double *std, int *cnt,
                       double q[3])
{
    const int ns = F->c.nseeds;
    double *x = malloc(sizeof(double) * ns);
    int m = 0;
    for (int sd = 0; sd < ns; sd++) {
        size_t at = ((size_t)pi * F->c.nsvm + si) * ns + sd;
        if (F->svm_ok[at] && isfinite(F->curve[at * F->npts + j]))
            x[m++] = F->curve[at * F->npts + j];
    }
    bench_mean_std(x, m, mean, std);
    if (q)
        bench_quartiles(x, m, q);
    *cnt = m;
    free(x);
}

/* ------------------------------------------ paper_fig4: the authors' protocol */

/* The authors' published Fig. 4 compares, in cell (p_alg, p_svm), the W of a
 * p_alg run with the l_p_svm-AttSVM solved at the tokens selected by a separate
 * p_svm run, every run from its own random W_0.  Here each (seed, p) run draws
 * W_0 ~ N(0, init_std^2) from the seed below: distinct from the instance seed
 * and between the p of a configuration (p given to two decimals), and the
 * same on every machine. */
static long protocol_w0_seed(long seed, double p)
{
    return seed + 1000000L * lround(100.0 * p);
}

/* Index of p_svm among the trained p, or -1 (no run selects its tokens). */
static int protocol_run_of(const exp_cfg *c, int si)
{
    for (int pi = 0; pi < c->np; pi++)
        if (c->p[pi] == c->psvm[si])
            return pi;
    return -1;
}

/* Stage 1: the run of (p, seed) from its own W_0; final W and tokens by index. */
static int protocol_run_job(int job, void *vctx)
{
    fig4_t *F = vctx;
    const exp_cfg *c = &F->c;
    const int ns = c->nseeds, pi = c->np - 1 - job / ns, sd = job % ns, d = (int)c->d;
    const long seed = c->seed0 + sd;
    const size_t at = (size_t)pi * ns + sd;
    mdatt_gen_settings gs = {(int)c->n, (int)c->T, d, (uint64_t)seed};
    mdatt_instance in;
    if (mdatt_gen(&gs, &in) != MDATT_OK)
        return 1;
    double *W = F->pw + at * d * d, *v = malloc(sizeof(double) * d);
    int rc = 1;
    if (v) {
        bench_init_w(W, d, c->init_std, protocol_w0_seed(seed, c->p[pi]));
        memcpy(v, in.v, sizeof(double) * d);
        mdatt_train_settings ts;
        train_settings(c, pi, &ts);
        mdatt_train_info info;
        F->prun_ok[at] = mdatt_train(&in, &ts, W, v, F->palpha + at * c->n, &info) == MDATT_OK;
        rc = F->prun_ok[at] ? 0 : 1;
    }
    free(v);
    mdatt_instance_free(&in);
    return rc;
}

/* Stage 2: the l_p_svm-AttSVM at the p_svm run's tokens, and its divergence
 * (psi of p_alg) to every p_alg run's W of the same seed. */
static int protocol_svm_job(int job, void *vctx)
{
    fig4_t *F = vctx;
    const exp_cfg *c = &F->c;
    const int ns = c->nseeds, si = job / ns, sd = job % ns, d = (int)c->d, dd = d * d;
    const int pj = protocol_run_of(c, si);
    if (pj < 0 || !F->prun_ok[(size_t)pj * ns + sd])
        return 0;
    mdatt_gen_settings gs = {(int)c->n, (int)c->T, d, (uint64_t)(c->seed0 + sd)};
    mdatt_instance in;
    if (mdatt_gen(&gs, &in) != MDATT_OK)
        return 1;
    attsvm_result r;
    const size_t at = (size_t)si * ns + sd;
    F->pok[at] = bench_svm(&in, F->palpha + ((size_t)pj * ns + sd) * c->n, c->psvm[si],
                           ATTSVM_TARGET_W, &r) == 0;
    if (F->pok[at]) {
        F->pgap[at] = r.gap;
        F->pviol[at] = r.max_violation;
        for (int pi = 0; pi < c->np; pi++)
            F->pdiv[((size_t)pi * c->nsvm + si) * ns + sd] =
                mdatt_bregman_dir(r.x, F->pw + ((size_t)pi * ns + sd) * dd, dd, c->p[pi]);
    }
    attsvm_result_free(&r);
    mdatt_instance_free(&in);
    return F->pok[at] ? 0 : 1;
}

/* Did the p_alg and p_svm runs of seed sd (authors' protocol) select the same tokens? */
static int protocol_agree(const fig4_t *F, int pi, int pj, int sd)
{
    const int ns = F->c.nseeds, n = (int)F->c.n;
    return memcmp(F->palpha + ((size_t)pi * ns + sd) * n, F->palpha + ((size_t)pj * ns + sd) * n,
                  sizeof(int) * n) == 0;
}

/* The cell's final divergence of seed sd under the authors' protocol (NAN when
 * a run or the SVM failed), and under the like-for-like one. */
static double protocol_div(const fig4_t *F, int pi, int si, int sd)
{
    const int ns = F->c.nseeds, pj = protocol_run_of(&F->c, si);
    if (pj < 0 || !F->pok[(size_t)si * ns + sd] || !F->prun_ok[(size_t)pi * ns + sd])
        return NAN;
    return F->pdiv[((size_t)pi * F->c.nsvm + si) * ns + sd];
}

static double like_for_like_div(const fig4_t *F, int pi, int si, int sd)
{
    const size_t at = ((size_t)pi * F->c.nsvm + si) * F->c.nseeds + sd;
    return F->svm_ok[at] ? F->curve[at * F->npts + F->npts - 1] : NAN;
}

/* "%.4g" of x, or an empty cell when x is not finite (no seed in the group). */
static const char *cell(double x, char buf[32])
{
    if (isfinite(x))
        snprintf(buf, 32, "%.4g", x);
    else
        buf[0] = 0;
    return buf;
}

/* table_paper_protocol.{md,csv,tex}: per cell the mean and std over seeds, the
 * fraction of seeds whose two runs selected the same tokens, and the means
 * over agreeing and over disagreeing seeds. */
static int protocol_table(bench_ctx *b, const fig4_t *F)
{
    const exp_cfg *c = &F->c;
    const int ns = c->nseeds;
    const char *head[] = {"p_alg", "p_svm", "mean", "std", "seeds", "tokens_agree", "mean_agree",
                          "mean_disagree"};
    bench_table t;
    bench_table_init(&t, 8, head);
    double *x = malloc(sizeof(double) * ns), *xa = malloc(sizeof(double) * ns),
           *xd = malloc(sizeof(double) * ns), gmax = 0.0, vmax = 0.0;
    int solves = 0, fails = 0;
    for (int pi = 0; x && xa && xd && pi < c->np; pi++)
        for (int si = 0; si < c->nsvm; si++) {
            const int pj = protocol_run_of(c, si);
            if (pj < 0)
                continue;
            int m = 0, ma = 0, md = 0;
            for (int sd = 0; sd < ns; sd++) {
                const double v = protocol_div(F, pi, si, sd);
                if (!isfinite(v))
                    continue;
                x[m++] = v;
                if (protocol_agree(F, pi, pj, sd))
                    xa[ma++] = v;
                else
                    xd[md++] = v;
            }
            double mean, std, ma_, md_, dummy;
            char s1[32], s2[32], s3[32], s4[32];
            bench_mean_std(x, m, &mean, &std);
            bench_mean_std(xa, ma, &ma_, &dummy);
            bench_mean_std(xd, md, &md_, &dummy);
            bench_table_row(&t, "%g|%g|%s|%s|%d|%.3f|%s|%s", c->p[pi], c->psvm[si], cell(mean, s1),
                            cell(std, s2), m, m ? (double)ma / m : NAN, cell(ma_, s3), cell(md_, s4));
        }
    for (int si = 0; si < c->nsvm; si++)
        for (int sd = 0; protocol_run_of(c, si) >= 0 && sd < ns; sd++) {
            const size_t at = (size_t)si * ns + sd;
            solves++;
            fails += !F->pok[at];
            if (F->pok[at]) {
                gmax = fmax(gmax, F->pgap[at]);
                vmax = fmax(vmax, F->pviol[at]);
            }
        }
    free(x);
    free(xa);
    free(xd);
    char cap[2048];
    snprintf(cap, sizeof cap,
             "The authors' protocol for Fig. 4: each (seed, p) run starts from its own W_0 ~ N(0, %g^2) "
             "drawn with seed + 10^6 round(100 p) (the like-for-like runs of table.md share W_0 across "
             "p); in cell (p_alg, p_svm) the p_alg run's final W is compared with the l_p_svm-AttSVM "
             "solved at the tokens selected by the p_svm run of the same seed (D_psi with psi and "
             "normalization of p_alg; seeds %ld..%ld, same instances and steps as table.md). "
             "tokens_agree: fraction of seeds whose two runs selected the same tokens; mean_agree / "
             "mean_disagree: means over those seeds / over the others (empty: no such seed). This "
             "mixes the p-geometry with disagreements between runs: on agreeing seeds it measures "
             "what table.md measures, on disagreeing seeds the distance to another selection's SVM. "
             "%d SVM solves, %d not optimal; largest certified relative gap %.2g, largest violation %.2g.",
             c->init_std, c->seed0, c->seed0 + ns - 1, solves, fails, gmax, vmax);
    int rc = bench_table_write(b, &t, "table_paper_protocol", cap);
    bench_table_free(&t);
    if (fails)
        snprintf(b->err, sizeof b->err, "authors' protocol: %d of %d SVM solves not optimal", fails, solves);
    return rc || fails ? -1 : 0;
}

/* protocols.{tsv,svg,png}: per seed, the final divergences of the row p_alg =
 * the largest p under both protocols, seeds whose runs agree or disagree marked. */
static int protocol_figure(bench_ctx *b, const fig4_t *F)
{
    const exp_cfg *c = &F->c;
    const int ns = c->nseeds;
    int pi = 0;
    for (int k = 1; k < c->np; k++)
        pi = c->p[k] > c->p[pi] ? k : pi;
    mdatt_outfile o;
    FILE *f = bench_open(b, "protocols.tsv", &o);
    if (!f)
        return -1;
    char pa[16], pb[16];
    fprintf(f, "# p_alg = %s; per p_svm: like-for-like, authors' protocol, runs agree (1/0)\n# seed",
            bench_pname(c->p[pi], pa));
    for (int si = 0; si < c->nsvm; si++)
        fprintf(f, "\tlfl_svm%s\tpaper_svm%s\tagree_svm%s", bench_pname(c->psvm[si], pb), pb, pb);
    fputc('\n', f);
    for (int sd = 0; sd < ns; sd++) {
        fprintf(f, "%ld", c->seed0 + sd);
        for (int si = 0; si < c->nsvm; si++) {
            const int pj = protocol_run_of(c, si);
            const double l = like_for_like_div(F, pi, si, sd), q = protocol_div(F, pi, si, sd);
            fprintf(f, isfinite(l) ? "\t%.8g" : "\tNaN", l);
            fprintf(f, isfinite(q) ? "\t%.8g" : "\tNaN", q);
            fprintf(f, "\t%d", pj >= 0 && protocol_agree(F, pi, pj, sd));
        }
        fputc('\n', f);
    }
    if (bench_close(b, &o))
        return -1;
    char body[8192];
    int len = snprintf(body, sizeof body,
                       "set multiplot layout 1,%d title \"l_{%s}-AttGD, final D_ψ per seed. Circles: "
                       "like-for-like (SVM at the run's own tokens, one W_0 for all p). Triangles: the "
                       "authors' protocol (SVM at the tokens of a p_{svm} run from its own W_0).\\n"
                       "Green: the p_{alg} and p_{svm} runs of the authors' protocol select the same "
                       "tokens; red: they do not\"\nset logscale y\nset format y '10^{%%L}'\nset grid\n"
                       "set xlabel 'seed'\nset ylabel 'D_ψ'\nset key below maxrows 2\n",
                       c->nsvm, pa);
    for (int si = 0; si < c->nsvm; si++) {
        const int m = 2 + 3 * si;   /* like-for-like column; then authors', then agree */
        len += snprintf(body + len, sizeof body - len,
                        "set title 'to the l_{%s}-AttSVM'\nplot "
                        "'protocols.tsv' using 1:($%d == 1 ? $%d : NaN) with points pt 6 lc rgb '#1a9850' "
                        "title 'like-for-like, agree', "
                        "'' using 1:($%d == 0 ? $%d : NaN) with points pt 6 lc rgb '#d73027' "
                        "title 'like-for-like, disagree', "
                        "'' using 1:($%d == 1 ? $%d : NaN) with points pt 9 lc rgb '#1a9850' "
                        "title 'authors'', agree', "
                        "'' using 1:($%d == 0 ? $%d : NaN) with points pt 9 lc rgb '#d73027' "
                        "title 'authors'', disagree'\n",
                        bench_pname(c->psvm[si], pb), m + 2, m, m + 2, m, m + 2, m + 1, m + 2, m + 1);
    }
    snprintf(body + len, sizeof body - len, "unset multiplot");
    if (bench_figure(b, "protocols", "1200,520", body))
        return -1;
    bench_index_line(b, "- [table_paper_protocol.md](%s/table_paper_protocol.md) ([csv](%s/"
                        "table_paper_protocol.csv)): the authors' protocol (each p from its own W_0; "
                        "the SVM of p_svm at the tokens of the separate p_svm run): it mixes the "
                        "p-geometry with disagreements between runs, with the fraction of seeds whose "
                        "runs select the same tokens and the means over agreeing / disagreeing seeds; "
                        "[protocols.svg](%s/protocols.svg): the per-seed divergences of the p = %s row "
                        "under both protocols.", b->reldir, b->reldir, b->reldir, pa);
    return 0;
}

/* Record slots of the two stages of the authors' protocol. */
static void protocol_run_slots(int job, void *vctx, bench_rec *r)
{
    fig4_t *F = vctx;
    const exp_cfg *c = &F->c;
    const int ns = c->nseeds, pi = c->np - 1 - job / ns, sd = job % ns;
    const size_t at = (size_t)pi * ns + sd;
    bench_rec_slot(r, &F->prun_ok[at], sizeof(int));
    bench_rec_slot(r, F->pw + at * c->d * c->d, sizeof(double) * c->d * c->d);
    bench_rec_slot(r, F->palpha + at * c->n, sizeof(int) * c->n);
}

static void protocol_svm_slots(int job, void *vctx, bench_rec *r)
{
    fig4_t *F = vctx;
    const exp_cfg *c = &F->c;
    const int ns = c->nseeds, si = job / ns, sd = job % ns;
    const size_t at = (size_t)si * ns + sd;
    bench_rec_slot(r, &F->pok[at], sizeof(int));
    bench_rec_slot(r, &F->pgap[at], sizeof(double));
    bench_rec_slot(r, &F->pviol[at], sizeof(double));
    for (int pi = 0; pi < c->np; pi++)
        bench_rec_slot(r, &F->pdiv[((size_t)pi * c->nsvm + si) * ns + sd], sizeof(double));
}

static double protocol_run_cost(int job, const void *vctx)
{
    const fig4_t *F = vctx;
    return (double)F->c.iters[F->c.np - 1 - job / F->c.nseeds];
}

/* The runs of the authors' protocol (before any output: a shard writes none). */
static int fig4_protocol_runs(bench_ctx *b, fig4_t *F)
{
    const exp_cfg *c = &F->c;
    const int ns = c->nseeds, dd = (int)(c->d * c->d);
    F->pw = calloc((size_t)c->np * ns * dd, sizeof(double));
    F->palpha = calloc((size_t)c->np * ns * c->n, sizeof(int));
    F->pdiv = calloc((size_t)c->np * c->nsvm * ns, sizeof(double));
    F->pgap = calloc((size_t)c->nsvm * ns, sizeof(double));
    F->pviol = calloc((size_t)c->nsvm * ns, sizeof(double));
    F->pok = calloc((size_t)c->nsvm * ns, sizeof(int));
    F->prun_ok = calloc((size_t)c->np * ns, sizeof(int));
    if (!F->pw || !F->palpha || !F->pdiv || !F->pgap || !F->pviol || !F->pok || !F->prun_ok)
        return -1;
    const bench_jobs runs = {protocol_run_job, protocol_run_slots, protocol_run_cost},
                     svms = {protocol_svm_job, protocol_svm_slots, NULL};
    if (bench_parallel(b, "paper_fig4 protocol runs", c->np * ns, &runs, F) ||
        bench_parallel(b, "paper_fig4 protocol svm", c->nsvm * ns, &svms, F)) {
        snprintf(b->err, sizeof b->err, "authors' protocol: a training run or an SVM failed");
        return -1;
    }
    return 0;
}

/* The final-iteration table, with the paper's values read from its Fig. 4;
 * table.md is the one with the paper's column. */
static int fig4_final_table(bench_ctx *b, const fig4_t *F)
{
    const exp_cfg *c = &F->c;
    const int ns = c->nseeds;
    const char *head[] = {"p_alg", "p_svm", "mean", "std", "seeds"};
    const char *headmd[] = {"p_alg", "p_svm", "mean", "std", "seeds", "paper (Fig. 4)"};
    bench_table t, tm;
    bench_table_init(&t, 5, head);
    bench_table_init(&tm, 6, headmd);
    for (int pi = 0; pi < c->np; pi++)
        for (int si = 0; si < c->nsvm; si++) {
            double mean, std;
            int cnt;
            fig4_stats(F, pi, si, F->npts - 1, &mean, &std, &cnt, NULL);
            const char *ref = "";
            if (c->p[pi] == 3.0)
                ref = c->psvm[si] == 3.0 ? "~0.005" : c->psvm[si] == 2.0 ? "~0.18"
                      : c->psvm[si] == 1.75 ? "~0.21" : "";
            bench_table_row(&t, "%g|%g|%.10g|%.10g|%d", c->p[pi], c->psvm[si], mean, std, cnt);
            bench_table_row(&tm, "%g|%g|%.4g|%.3g|%d|%s", c->p[pi], c->psvm[si], mean, std, cnt, ref);
        }
    char caption[1400];
    snprintf(caption, sizeof caption,
             "Directional Bregman divergence D_psi(W^mm/||W^mm||_p, W_k/||W_k||_p) at the final "
             "iteration (psi of p_alg), mean and standard deviation over seeds %ld..%ld; n=%ld, "
             "T=%ld, d=%ld, normalized l_p-AttGD, eta=%g; every p of a seed from the same W_0, and "
             "each cell's SVM solved at the p_alg run's own selected tokens. This like-for-like "
             "table is the quantity the convergence result is about: D_psi -> 0 on the diagonal, "
             "and off the diagonal the distance between the p-geometries at one selection. The "
             "paper's p=3 row is read from its Fig. 4 (it gives no numbers for the other rows); its "
             "off-diagonal values come from another protocol, each p from its own W_0 and each SVM "
             "at the tokens of a separate p_svm run, which adds disagreements between runs "
             "(table_paper_protocol.md, protocols.svg).",
             c->seed0, c->seed0 + ns - 1, c->n, c->T, c->d, c->lr);
    int rc = bench_table_write(b, &t, "table", NULL) ||
             bench_table_write(b, &tm, "table_paper", caption) ? -1 : 0;
    bench_table_free(&t);
    bench_table_free(&tm);
    if (rc)
        return rc;
    char from[1400], to[1400];
    snprintf(from, sizeof from, "%s/table_paper.md", b->outdir);
    snprintf(to, sizeof to, "%s/table.md", b->outdir);
    rename(from, to);
    snprintf(from, sizeof from, "%s/table_paper.csv", b->outdir);
    remove(from);
    snprintf(from, sizeof from, "%s/table_paper.tex", b->outdir);
    remove(from);
    return 0;
}

/* Row of the certificates table for p_svm index si: the gaps of every
 * optimal solve (sorted: max and median) and the largest violation. */
static int fig4_cert_row(const fig4_t *F, int si, bench_table *tg, int *allsolves,
                         double *allmax)
{
    const exp_cfg *c = &F->c;
    const int ns = c->nseeds;
    double *g = malloc(sizeof(double) * c->np * ns), mv = 0.0;
    int m = 0;
    if (!g)
        return -1;
    for (int pi = 0; pi < c->np; pi++)
        for (int sd = 0; sd < ns; sd++) {
            size_t at = ((size_t)pi * c->nsvm + si) * ns + sd;
            if (F->svm_ok[at]) {
                g[m++] = F->gap[at];
                mv = fmax(mv, F->viol[at]);
            }
        }
    qsort(g, m, sizeof(double), bench_cmp_double);
    bench_table_row(tg, "%g|%d|%.3g|%.3g|%.3g", c->psvm[si], m, m ? g[m - 1] : NAN,
                    m ? g[m / 2] : NAN, mv);
    *allsolves += m;
    *allmax = fmax(*allmax, m ? g[m - 1] : 0.0);
    free(g);
    return 0;
}

/* Token optimality per p_alg and the certificates of every SVM solve. */
static int fig4_tokens_certs(bench_ctx *b, const fig4_t *F, int *allsolves, double *allmax)
{
    const exp_cfg *c = &F->c;
    const int ns = c->nseeds;
    const char *hk[] = {"p_alg", "runs", "locally_optimal", "globally_optimal", "svm_failures"};
    const char *hg[] = {"p_svm", "solves", "max_gap", "median_gap", "max_violation"};
    bench_table tk, tg;
    bench_table_init(&tk, 5, hk);
    bench_table_init(&tg, 5, hg);
    for (int pi = 0; pi < c->np; pi++) {
        int loc = 0, glo = 0, fails = 0;
        for (int sd = 0; sd < ns; sd++) {
            loc += F->local[pi * ns + sd];
            glo += F->global[pi * ns + sd];
            for (int si = 0; si < c->nsvm; si++)
                fails += !F->svm_ok[((size_t)pi * c->nsvm + si) * ns + sd];
        }
        bench_table_row(&tk, "%g|%d|%.3f|%.3f|%d", c->p[pi], ns, (double)loc / ns, (double)glo / ns, fails);
    }
    int rc = 0;
    *allsolves = 0;
    *allmax = 0.0;
    for (int si = 0; si < c->nsvm && rc == 0; si++)
        rc = fig4_cert_row(F, si, &tg, allsolves, allmax);
    if (rc == 0 &&
        (bench_table_write(b, &tk, "tokens", "Selected tokens at the final iteration: fraction "
                                             "locally / globally optimal (oracle, own p).") ||
         bench_table_write(b, &tg, "certificates", "Certified relative gaps and violations of "
                                                   "every SVM solve (all runs, all p_alg).")))
        rc = -1;
    bench_table_free(&tk);
    bench_table_free(&tg);
    return rc;
}

/* The curves: one .tsv per p_alg, per p_svm the mean, std and quartiles. */
static int fig4_curves(bench_ctx *b, const fig4_t *F)
{
    const exp_cfg *c = &F->c;
    char pa[16], pb[16], name[64];
    for (int pi = 0; pi < c->np; pi++) {
        mdatt_outfile o;
        snprintf(name, sizeof name, "curves_p%s.tsv", bench_pname(c->p[pi], pa));
        FILE *f = bench_open(b, name, &o);
        if (!f)
            return -1;
        fprintf(f, "# k");
        for (int si = 0; si < c->nsvm; si++)
            fprintf(f, "\tmean_svm%s\tstd_svm%s\tq25_svm%s\tmedian_svm%s\tq75_svm%s",
                    bench_pname(c->psvm[si], pb), pb, pb, pb, pb);
        fputc('\n', f);
        for (int j = 0; j < F->npts; j++) {
            if (F->kgrid[pi * F->npts + j] < 0)
                continue;
            fprintf(f, "%ld", F->kgrid[pi * F->npts + j]);
            for (int si = 0; si < c->nsvm; si++) {
                double mean, std, q[3];
                int cnt;
                fig4_stats(F, pi, si, j, &mean, &std, &cnt, q);
                fprintf(f, "\t%.8g\t%.8g\t%.8g\t%.8g\t%.8g", mean, std, q[0], q[1], q[2]);
            }
            fputc('\n', f);
        }
        if (bench_close(b, &o))
            return -1;
    }
    return 0;
}

/* The figures: linear y, mean ± std over seeds, as the paper draws it; log
 * y, median and quartiles (a mean - std edge drops below zero, which a log
 * axis cannot show). */
static int fig4_figures(bench_ctx *b, const fig4_t *F)
{
    const exp_cfg *c = &F->c;
    const int ns = c->nseeds;
    char pa[16], pb[16];
    for (int logy = 0; logy < 2; logy++) {
        char body[8192];
        int len = snprintf(body, sizeof body,
                           "set multiplot layout 1,%d title 'Directional Bregman divergence to the "
                           "l_p-AttSVM of each p (%s over %d seeds)'\n"
                           "set xlabel 'iteration k'\nset ylabel 'D_ψ'\nset key top right\nset grid\n%s",
                           c->np, logy ? "median and quartiles" : "mean ± std", ns,
                           logy ? "set logscale y\nset format y '10^{%L}'\n" : "set yrange [0:*]\n");
        for (int pi = 0; pi < c->np; pi++) {
            len += snprintf(body + len, sizeof body - len,
                            "set title 'l_{%s}-AttGD'\nplot ", bench_pname(c->p[pi], pa));
            for (int si = 0; si < c->nsvm; si++) {
                const int m = 2 + 5 * si;   /* mean; std, q25, median, q75 follow */
                if (logy)
                    len += snprintf(body + len, sizeof body - len,
                                    "'curves_p%s.tsv' using 1:%d:%d with filledcurves fs transparent "
                                    "solid 0.2 lc %d notitle, '' using 1:%d with lines lw 2 lc %d "
                                    "title 'to l_{%s}-SVM (median)'%s",
                                    pa, m + 2, m + 4, si + 1, m + 3, si + 1, bench_pname(c->psvm[si], pb),
                                    si + 1 < c->nsvm ? ", " : "\n");
                else
                    len += snprintf(body + len, sizeof body - len,
                                    "'curves_p%s.tsv' using 1:($%d-$%d):($%d+$%d) with filledcurves "
                                    "fs transparent solid 0.2 lc %d notitle, "
                                    "'' using 1:%d with lines lw 2 lc %d title 'to l_{%s}-SVM (mean)'%s",
                                    pa, m, m + 1, m, m + 1, si + 1, m, si + 1,
                                    bench_pname(c->psvm[si], pb), si + 1 < c->nsvm ? ", " : "\n");
            }
        }
        len += snprintf(body + len, sizeof body - len, "unset multiplot");
        if (bench_figure(b, logy ? "fig4_log" : "fig4", "1200,420", body))
            return -1;
    }
    return 0;
}

static void fig4_index(bench_ctx *b, int allsolves, double allmax)
{
    bench_index_line(b, "- [table.md](%s/table.md) ([csv](%s/table.csv), [tex](%s/table.tex)): final "
                        "directional Bregman divergence of each l_p-AttGD to each l_p-AttSVM at the run's own "
                        "tokens, every p from the same W_0 (like-for-like: the quantity the convergence "
                        "result is about), with the paper's Fig. 4 values (the authors' protocol, below).",
                     b->reldir, b->reldir, b->reldir);
    bench_index_line(b, "- [fig4.svg](%s/fig4.svg), [fig4_log.svg](%s/fig4_log.svg): the divergences "
                        "along the iterations (linear y: mean ± std band; log y: median and quartiles).",
                     b->reldir, b->reldir);
    bench_index_line(b, "- [tokens.md](%s/tokens.md): fraction of runs whose selected tokens are "
                        "locally / globally optimal; [certificates.md](%s/certificates.md): certified "
                        "gaps of all %d SVM solves (largest %.2g).", b->reldir, b->reldir, allsolves, allmax);
}

/* The result arrays of the like-for-like runs; 0 or -1 (out of memory). */
static int fig4_alloc(fig4_t *F)
{
    const exp_cfg *c = &F->c;
    const int ns = c->nseeds, runs = c->np * c->nsvm * ns;
    F->curve = calloc((size_t)runs * F->npts, sizeof(double));
    F->kgrid = calloc((size_t)c->np * F->npts, sizeof(long));
    F->gap = calloc(runs, sizeof(double));
    F->viol = calloc(runs, sizeof(double));
    F->svm_ok = calloc(runs, sizeof(int));
    F->local = calloc((size_t)c->np * ns, sizeof(int));
    F->global = calloc((size_t)c->np * ns, sizeof(int));
    return F->curve && F->kgrid && F->gap && F->viol && F->svm_ok && F->local && F->global ? 0 : -1;
}

static void fig4_free(fig4_t *F)
{
    free(F->curve);
    free(F->kgrid);
    free(F->gap);
    free(F->viol);
    free(F->svm_ok);
    free(F->local);
    free(F->global);
    free(F->pw);
    free(F->palpha);
    free(F->pdiv);
    free(F->pgap);
    free(F->pviol);
    free(F->pok);
    free(F->prun_ok);
}

/* paper_fig4: the runs (and those of the authors' protocol), then the
 * tables, curves, figures and index lines. */
int bench_paper_fig4(bench_ctx *b)
{
    fig4_t F;
    memset(&F, 0, sizeof F);
    F.b = b;
    exp_cfg *c = &F.c;
    if (read_cfg(b, c, 1))
        return 2;
    int protocol;       /* also the authors' protocol (table_paper_protocol, protocols) */
    if (bench_cfg_bool(b, "authors_protocol", 1, &protocol))
        return 2;
    if (b->check_only)
        return 0;
    F.npts = (int)c->points + 1;
    int rc = 1, allsolves;
    double allmax;
    const bench_jobs jobs = {fig4_job, fig4_slots, fig4_cost};
    if (fig4_alloc(&F))
        goto out;
    if (bench_parallel(b, b->name, c->np * c->nseeds, &jobs, &F)) {
        snprintf(b->err, sizeof b->err, "a training run failed");
        goto out;
    }
    if (protocol && fig4_protocol_runs(b, &F))
        goto out;
    if (fig4_final_table(b, &F) || fig4_tokens_certs(b, &F, &allsolves, &allmax) ||
        fig4_curves(b, &F) || fig4_figures(b, &F))
        goto out;
    fig4_index(b, allsolves, allmax);
    if (protocol && (protocol_table(b, &F) || protocol_figure(b, &F)))
        goto out;
    rc = 0;
out:
    fig4_free(&F);
    return rc;
}

/* =============================================================== paper_paths */

/* The two entries of W drawn (field "entries", default W[1][2] and W[3][4]). */
static int paths_entries(bench_ctx *b, const exp_cfg *c, long e[4])
{
    json_t *ent = json_object_get(b->cfg, "entries");
    for (int k = 0; k < 4; k++) {
        json_t *x = ent ? json_array_get(json_array_get(ent, k / 2), k % 2) : NULL;
        e[k] = k + 1;
        if (ent && json_is_integer(x))
            e[k] = (long)json_integer_value(x);
        if ((ent && !json_is_integer(x)) || e[k] < 0 || e[k] >= c->d) {
            snprintf(b->err, sizeof b->err, "%s: entries: need [[j,k],[j,k]] with indices in "
                     "[0, d) = [0, %ld)%s", b->path, c->d,
                     ent ? "" : " (the default [[1,2],[3,4]] needs d >= 5)");
            return -1;
        }
    }
    return 0;
}

/* One p of paper_paths: its trained path and SVM, the figure text. */
typedef struct {
    const exp_cfg *c;
    const mdatt_instance *in;
    const long *e;
    int pi, a, bb;              /* entries a = W[e0][e1], bb = W[e2][e3] */
    const bench_snaps *S;
    const int *alpha;
    const attsvm_result *r;
    char *body;                 /* the figure's gnuplot body */
    size_t cap;
    int *len;
    bench_table *t;             /* the table the row goes to */
} paths_run;

/* path_p<p>.tsv: the two entries along the path, then the ray through W^mm
 * drawn to the length of the path's end (scale *sc). */
static int paths_tsv(bench_ctx *b, const paths_run *P, const char *name, double *sc)
{
    const int dd = P->in->d * P->in->d, a = P->a, bb = P->bb;
    const bench_snaps *S = P->S;
    const double *x = P->r->x, *Wl = S->W + (size_t)(S->count - 1) * dd;
    const double rl = hypot(Wl[a], Wl[bb]), rm = hypot(x[a], x[bb]);
    mdatt_outfile o;
    FILE *f = bench_open(b, name, &o);
    if (!f)
        return -1;
    *sc = rm > 0 ? 1.1 * rl / rm : 0.0;
    fprintf(f, "# k\tW%ld%ld\tW%ld%ld\n", P->e[0], P->e[1], P->e[2], P->e[3]);
    for (int j = 0; j < S->count; j++)
        fprintf(f, "%ld\t%.10g\t%.10g\n", S->k[j], S->W[(size_t)j * dd + a], S->W[(size_t)j * dd + bb]);
    fprintf(f, "\n\n# ray through W^mm\n0\t0\t0\n1\t%.10g\t%.10g\n", *sc * x[a], *sc * x[bb]);
    return bench_close(b, &o) == 0 ? 0 : -1;
}

/* The table row: final alignment with the own-p SVM and the 2-D angle. */
static void paths_row(const paths_run *P, bench_table *t)
{
    const int dd = P->in->d * P->in->d, a = P->a, bb = P->bb;
    const double *x = P->r->x, *Wl = P->S->W + (size_t)(P->S->count - 1) * dd;
    const double rl = hypot(Wl[a], Wl[bb]), rm = hypot(x[a], x[bb]);
    const double p = P->c->p[P->pi];
    double ang = acos(fmax(-1.0, fmin(1.0, (Wl[a] * x[a] + Wl[bb] * x[bb]) / (rl * rm)))) *
                 180.0 / M_PI;
    char tok[256] = "";
    for (int i = 0, l = 0; i < P->in->n && l < 240; i++)
        l += snprintf(tok + l, sizeof tok - l, i ? " %d" : "%d", P->alpha[i]);
    bench_table_row(t, "%g|%ld|%s|%.4g|%.6f|%.3g|%.2g", p, P->c->iters[P->pi], tok,
                    mdatt_bregman_dir(x, Wl, dd, p), mdatt_cosine(x, Wl, dd), ang, P->r->gap);
}

/* The panel of this p: equal units on both axes over a square that holds
 * the path and the ray, so the angle between them is drawn as it is. */
static void paths_panel(const paths_run *P, const char *name, const char *pa, double sc)
{
    const int dd = P->in->d * P->in->d, a = P->a, bb = P->bb;
    const bench_snaps *S = P->S;
    const double *x = P->r->x;
    double lo[2] = {0.0, 0.0}, hi[2] = {0.0, 0.0};
    for (int j = 0; j <= S->count; j++) {
        const double u = j < S->count ? S->W[(size_t)j * dd + a] : sc * x[a],
                     w = j < S->count ? S->W[(size_t)j * dd + bb] : sc * x[bb];
        lo[0] = fmin(lo[0], u); hi[0] = fmax(hi[0], u);
        lo[1] = fmin(lo[1], w); hi[1] = fmax(hi[1], w);
    }
    const double half = 0.55 * fmax(fmax(hi[0] - lo[0], hi[1] - lo[1]), 1e-12);
    *P->len += snprintf(P->body + *P->len, P->cap - *P->len,
                        "set size ratio -1\nset xrange [%.6g:%.6g]\nset yrange [%.6g:%.6g]\n",
                        0.5 * (lo[0] + hi[0]) - half, 0.5 * (lo[0] + hi[0]) + half,
                        0.5 * (lo[1] + hi[1]) - half, 0.5 * (lo[1] + hi[1]) + half);
    *P->len += snprintf(P->body + *P->len, P->cap - *P->len,
                        "set title 'l_{%s}-AttGD, %ld iterations'\n"
                        "plot '%s' index 0 using 2:3 with lines lw 2 title 'W_k', "
                        "'' index 1 using 2:3 with lines dt 2 lw 2 title 'W^{mm} ray'\n",
                        pa, P->c->iters[P->pi], name);
}

/* Train p index pi from W_0 = 0 with snapshots, solve its SVM, and write
 * its data, table row and panel; 0 or -1 (b->err says which p failed). */
static int paths_one_p(bench_ctx *b, paths_run *P)
{
    const exp_cfg *c = P->c;
    const mdatt_instance *in = P->in;
    const int d = in->d, pi = P->pi;
    double *W = calloc((size_t)d * d, sizeof(double)), *v = malloc(sizeof(double) * d);
    int *alpha = malloc(sizeof(int) * in->n), ok = 0;
    bench_snaps S;
    attsvm_result r = {0};
    if (!W || !v || !alpha || bench_snaps_init(&S, d, (int)c->points + 2, NULL, 0)) {
        free(W); free(v); free(alpha);
        return -1;
    }
    memcpy(v, in->v, sizeof(double) * d);
    mdatt_train_settings ts;
    snap_settings(c, pi, &S, &ts);
    mdatt_train_info info;
    if (mdatt_train(in, &ts, W, v, alpha, &info) == MDATT_OK &&
        bench_svm(in, alpha, c->p[pi], ATTSVM_TARGET_W, &r) == 0) {
        char pa[16], name[64];
        double sc;
        snprintf(name, sizeof name, "path_p%s.tsv", bench_pname(c->p[pi], pa));
        P->S = &S;
        P->alpha = alpha;
        P->r = &r;
        ok = paths_tsv(b, P, name, &sc) == 0;
        if (ok) {
            paths_row(P, P->t);
            paths_panel(P, name, pa, sc);
        }
    }
    attsvm_result_free(&r);
    bench_snaps_free(&S);
    free(W); free(v); free(alpha);
    if (!ok)
        snprintf(b->err, sizeof b->err, "p=%g: training, SVM or writing failed", c->p[pi]);
    return ok ? 0 : -1;
}

/* paper_paths: per p, the path of two entries of W_k with the SVM ray. */
int bench_paper_paths(bench_ctx *b)
{
    exp_cfg c;
    long e[4];
    if (read_cfg(b, &c, 0) || paths_entries(b, &c, e))
        return 2;
    if (b->check_only)
        return 0;
    const int d = (int)c.d;
    mdatt_gen_settings gs = {(int)c.n, (int)c.T, d, (uint64_t)c.seed0};
    mdatt_instance in;
    if (mdatt_gen(&gs, &in) != MDATT_OK)
        return 1;
    const char *head[] = {"p", "iters", "tokens", "bregman_dir", "cosine", "angle_2d_deg", "svm_gap"};
    bench_table t;
    bench_table_init(&t, 7, head);
    char body[8192];
    int len = snprintf(body, sizeof body,
                       "set multiplot layout 1,%d title 'Seed %ld, W_0 = 0: path of (W_k[%ld][%ld], "
                       "W_k[%ld][%ld]) and the l_p-AttSVM ray (both axes to the same scale)'\nset grid\n"
                       "set key bottom right\n"
                       "set xlabel 'W[%ld][%ld]'\nset ylabel 'W[%ld][%ld]'\n",
                       c.np, c.seed0, e[0], e[1], e[2], e[3], e[0], e[1], e[2], e[3]);
    int rc = 1;
    for (int pi = 0; pi < c.np; pi++) {
        paths_run P = {&c, &in, e, pi, (int)(e[0] * d + e[1]), (int)(e[2] * d + e[3]),
                       NULL, NULL, NULL, body, sizeof body, &len, &t};
        if (paths_one_p(b, &P))
            goto out;
    }
    snprintf(body + len, sizeof body - len, "unset multiplot");
    char cap[256];
    snprintf(cap, sizeof cap, "Seed %ld, W_0 = 0: final alignment with the own-p SVM (full matrix) and "
                              "the angle between the plotted 2-D path end and the SVM ray.", c.seed0);
    if (bench_table_write(b, &t, "table", cap) || bench_figure(b, "paths", "1200,420", body))
        goto out;
    bench_index_line(b, "- [paths.svg](%s/paths.svg): entries (%ld,%ld) and (%ld,%ld) of W_k for each p "
                        "with the ray of the l_p-AttSVM; [table.md](%s/table.md): final alignment.",
                     b->reldir, e[0], e[1], e[2], e[3], b->reldir);
    rc = 0;
out:
    bench_table_free(&t);
    mdatt_instance_free(&in);
    return rc;
}

/* =============================================================== paper_joint */

static double sigmoid(double u)
{
    return u >= 0 ? 1.0 / (1.0 + exp(-u)) : exp(u) / (1.0 + exp(u));
}

/* softmax probability of token a of sample i at W (direct, small d). */
static double softmax_at(const mdatt_instance *in, const double *W, int i, int a)
{
    const int d = in->d, T = in->T;
    const double *z = in->Z + (size_t)i * d;
    double sc[64], mx = -INFINITY, sum = 0.0;
    for (int t = 0; t < T && t < 64; t++) {
        const double *x = in->X + ((size_t)i * T + t) * d;
        double s = 0.0;
        for (int j = 0; j < d; j++)
            for (int k = 0; k < d; k++)
                s += x[j] * W[j * d + k] * z[k];
        sc[t] = s;
        mx = fmax(mx, s);
    }
    for (int t = 0; t < T && t < 64; t++)
        sum += exp(sc[t] - mx);
    return exp(sc[a] - mx) / sum;
}

/* The figure texts of paper_joint, one panel per p appended to each. */
typedef struct {
    char probs[8192], paths[8192], wrow[4096];
    int lp, lv, lw;
} joint_plots;

/* joint_p<p>.tsv: per snapshot the selected tokens' softmax and logistic
 * probabilities, v and W/||W||_p; then the v-SVM ray and W^mm/||W^mm||_p. */
static int joint_tsv(bench_ctx *b, const char *name, const mdatt_instance *in,
                     const bench_snaps *S, const int *alpha, double p, const attsvm_result *rw,
                     const attsvm_result *rv)
{
    const int d = in->d, dd = d * d, n = in->n;
    mdatt_outfile o;
    FILE *f = bench_open(b, name, &o);
    if (!f)
        return -1;
    fprintf(f, "# k\tsmax_0\tsmax_1\tsigma_0\tsigma_1\tv0\tv1\tWn00\tWn01\tWn10\tWn11\n");
    for (int j = 0; j < S->count; j++) {
        const double *Wk = S->W + (size_t)j * dd, *vk = S->v + (size_t)j * d;
        double nw = mdatt_norm_p(Wk, dd, p);
        fprintf(f, "%ld", S->k[j]);
        for (int i = 0; i < n; i++)
            fprintf(f, "\t%.8g", softmax_at(in, Wk, i, alpha[i]));
        for (int i = 0; i < n; i++) {
            const double *x = in->X + ((size_t)i * in->T + alpha[i]) * d;
            fprintf(f, "\t%.8g", sigmoid(in->Y[i] * (x[0] * vk[0] + x[1] * vk[1])));
        }
        fprintf(f, "\t%.8g\t%.8g", vk[0], vk[1]);
        for (int k = 0; k < dd; k++)
            fprintf(f, "\t%.8g", nw > 0 ? Wk[k] / nw : 0.0);
        fputc('\n', f);
    }
    const double *vl = S->v + (size_t)(S->count - 1) * d;
    double nv = hypot(vl[0], vl[1]), nm = hypot(rv->x[0], rv->x[1]);
    double nwm = mdatt_norm_p(rw->x, dd, p);
    fprintf(f, "\n\n# v-SVM ray and W^mm/||W^mm||_p\n0\t0\t0\n1\t%.10g\t%.10g", 1.1 * nv / nm * rv->x[0],
            1.1 * nv / nm * rv->x[1]);
    for (int k = 0; k < dd; k++)
        fprintf(f, "\t%.10g", rw->x[k] / nwm);
    fputc('\n', f);
    return bench_close(b, &o) == 0 ? 0 : -1;
}

/* The table row: tokens and the final alignment of W and v with their SVMs. */
static void joint_row(bench_table *t, const mdatt_instance *in, const bench_snaps *S,
                      const int *alpha, double p, long iters, const attsvm_result *rw,
                      const attsvm_result *rv)
{
    const int d = in->d, dd = d * d;
    const double *Wl = S->W + (size_t)(S->count - 1) * dd, *vl = S->v + (size_t)(S->count - 1) * d;
    double smin = 1.0;
    for (int i = 0; i < in->n; i++)
        smin = fmin(smin, softmax_at(in, Wl, i, alpha[i]));
    bench_table_row(t, "%g|%ld|%d %d|%.4g|%.4g|%.6f|%.6f|%.6f|%.2g|%.2g", p, iters,
                    alpha[0], alpha[1], mdatt_bregman_dir(rw->x, Wl, dd, p),
                    mdatt_bregman_dir(rv->x, vl, d, p), mdatt_cosine(rw->x, Wl, dd),
                    mdatt_cosine(rv->x, vl, d), smin, rw->gap, rv->gap);
}

/* This p's panels of the two figures. */
static void joint_panels(joint_plots *J, const char *pa, const char *name, long show, long iters)
{
    J->lp += snprintf(J->probs + J->lp, sizeof J->probs - J->lp,
                      "set title 'l_{%s}-JointGD'\nplot [0:%ld] '%s' index 0 using 1:2 with lines lw 2 "
                      "title 'softmax, i=1', '' index 0 using 1:3 with lines lw 2 title 'softmax, i=2', "
                      "'' index 0 using 1:4 with lines dt 2 lw 2 title 'logistic, i=1', "
                      "'' index 0 using 1:5 with lines dt 2 lw 2 title 'logistic, i=2'\n",
                      pa, show, name);
    J->lv += snprintf(J->paths + J->lv, sizeof J->paths - J->lv,
                      "set title 'v_k, l_{%s}'\nset xlabel 'v[0]'\nset ylabel 'v[1]'\nset key top left\n"
                      "plot '%s' index 0 using 6:7 with lines lw 2 title 'v_k', '' index 1 using 2:3 "
                      "with lines dt 2 lw 2 title 'v^{mm} ray'\n", pa, name);
    J->lw += snprintf(J->wrow + J->lw, sizeof J->wrow - J->lw,
                      "set title 'W_k/||W_k||_{%s}'\nset xlabel 'iteration k'\nset ylabel ''\n"
                      "set logscale x\nset key bottom right\nplot for [e=0:3] '%s' index 0 using "
                      "($1+1):(column(8+e)) with lines lw 2 lc e+1 title sprintf('entry %%d', e), "
                      "for [e=0:3] '' index 1 every ::1::1 using (1):(column(4+e)):(%ld):(0) "
                      "with vectors nohead dt 2 lc e+1 notitle\nunset logscale x\n",
                      pa, name, iters);
}

/* JointGD at p index pi from W_0 = 0, v_0 = 0 with a snapshot per
 * iteration, both SVMs at its tokens, then its data, row and panels. */
static int joint_one_p(bench_ctx *b, const exp_cfg *c, int pi, const mdatt_instance *in,
                       long show, bench_table *t, joint_plots *J)
{
    const int d = in->d;
    double W[64] = {0}, v[8] = {0};
    int alpha[2];
    bench_snaps S;
    if (bench_snaps_init(&S, d, (int)c->iters[pi] + 2, NULL, 0))
        return -1;
    mdatt_train_settings ts;
    train_settings(c, pi, &ts);
    ts.joint = 1;
    ts.log_every = 1;
    ts.hook = bench_snap_hook;
    ts.hook_ctx = &S;
    mdatt_train_info info;
    attsvm_result rw, rv;
    memset(&rw, 0, sizeof rw);
    memset(&rv, 0, sizeof rv);
    int ok = mdatt_train(in, &ts, W, v, alpha, &info) == MDATT_OK;
    ok = ok && bench_svm(in, alpha, c->p[pi], ATTSVM_TARGET_W, &rw) == 0;
    ok = ok && bench_svm(in, alpha, c->p[pi], ATTSVM_TARGET_V, &rv) == 0;
    char pa[16], name[64];
    snprintf(name, sizeof name, "joint_p%s.tsv", bench_pname(c->p[pi], pa));
    ok = ok && joint_tsv(b, name, in, &S, alpha, c->p[pi], &rw, &rv) == 0;
    if (ok) {
        joint_row(t, in, &S, alpha, c->p[pi], c->iters[pi], &rw, &rv);
        joint_panels(J, pa, name, show, c->iters[pi]);
    }
    attsvm_result_free(&rw);
    attsvm_result_free(&rv);
    bench_snaps_free(&S);
    if (!ok)
        snprintf(b->err, sizeof b->err, "p=%g: training, an SVM or writing failed", c->p[pi]);
    return ok ? 0 : -1;
}

/* paper_joint: JointGD on the paper's toy per p, with both SVMs. */
int bench_paper_joint(bench_ctx *b)
{
    exp_cfg c;
    if (read_cfg(b, &c, 0))
        return 2;
    long show;
    if (bench_cfg_int(b, "show_iters", 100, 1, 1000000, &show))
        return 2;
    for (int pi = 0; pi < c.np; pi++)       /* a snapshot per iteration of the toy (d = 2) */
        if (bench_cfg_memory(b, "iters", bench_runs_memory(b, 1, 2, 3, 2, (double)c.iters[pi] + 2)))
            return 2;
    if (b->check_only)
        return 0;
    mdatt_instance in;
    if (mdatt_gen_toy_joint(&in) != MDATT_OK)
        return 1;
    const char *head[] = {"p", "iters", "tokens", "bregman_dir_W", "bregman_dir_v", "cosine_W",
                          "cosine_v", "smax_min", "gap_W", "gap_v"};
    bench_table t;
    bench_table_init(&t, 10, head);
    joint_plots *J = calloc(1, sizeof *J);
    int rc = 1;
    if (!J)
        goto out;
    J->lp = snprintf(J->probs, sizeof J->probs,
                     "set multiplot layout 1,%d title 'Joint toy, W_0 = 0, v_0 = 0: softmax probability "
                     "of the selected token and logistic probability σ(Y_i x_{iα}^T v)'\n"
                     "set grid\nset xlabel 'iteration k'\nset yrange [0:1.05]\nset key bottom right\n", c.np);
    J->lv = snprintf(J->paths, sizeof J->paths,
                     "set multiplot layout 2,%d title 'Joint toy: v_k with the v-SVM ray (top), "
                     "W_k/||W_k||_p entries with W^{mm}/||W^{mm}||_p (bottom)'\nset grid\n", c.np);
    for (int pi = 0; pi < c.np; pi++)
        if (joint_one_p(b, &c, pi, &in, show, &t, J))
            goto out;
    snprintf(J->probs + J->lp, sizeof J->probs - J->lp, "unset multiplot");
    snprintf(J->paths + J->lv, sizeof J->paths - J->lv, "%sunset multiplot", J->wrow);
    if (bench_table_write(b, &t, "table", "Joint toy (n=2, T=3, d=2, z_i = x_i0), W_0 = 0, v_0 = 0, "
                                           "normalized l_p-JointGD: selected tokens (0-based) and final "
                                           "alignment of W with the l_p-AttSVM and of v with the l_p v-SVM.") ||
        bench_figure(b, "probabilities", "1200,400", J->probs) ||
        bench_figure(b, "paths", "1200,800", J->paths))
        goto out;
    bench_index_line(b, "- [probabilities.svg](%s/probabilities.svg): softmax probability of the selected "
                        "token and logistic probability over the first %ld iterations; "
                        "[paths.svg](%s/paths.svg): v and W paths with their SVM solutions; "
                        "[table.md](%s/table.md): selected tokens and final alignment per p.",
                     b->reldir, show, b->reldir, b->reldir);
    rc = 0;
out:
    free(J);
    bench_table_free(&t);
    mdatt_instance_free(&in);
    return rc;
}
