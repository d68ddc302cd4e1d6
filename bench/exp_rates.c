/* exp_rates.c - rates: measured convergence rates of l_p-AttGD (design.md
 * (24)).  Runs are sampled at log-spaced iterations; each metric's mean
 * log-curve over seeds is fitted against the families of mdatt_fit_family,
 * the family chosen by mdatt_fit_select (lowest log-space RMSE), and the
 * exponent given a bootstrap interval over seeds (mdatt_fit_bootstrap). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "runs.h"
#include "mdatt_check.h"
#include "mdatt_rate.h"

#define MAXP 8
#define NMET 5

/* Metrics fitted; the last two grow.  neg_log_excess = -log(L - L_inf) grows
 * like the margin times ||W_k||, a power of k for normalized steps. */
static const char *metric_name[NMET] = {"bregman_dir", "one_minus_margin", "excess_loss", "norm_p",
                                        "neg_log_excess"};

typedef struct {
    long n, T, d, seed0, npts, boot;
    int nseeds, np;
    double p[MAXP], lr, init_std, fit_from;
    long iters;
    int normalized;
    long *ck;           /* npts log-spaced checkpoints */
    double *ly;         /* [pi][seed][metric][npts] log of the metric; NAN where undefined */
} rate_run;

static size_t ry(const rate_run *R, int pi, int sd, int mt)
{
    return ((((size_t)pi * R->nseeds + sd) * NMET + mt) * R->npts);
}

/* log of the excess logistic loss L(W) - L_inf, L_inf = (1/n) sum_i l(Y_i h_ia)
 * the loss of the one-hot softmax on alpha, without cancellation: with
 * delta_i = f_i - h_ia = sum_{t != a} s_t (h_t - h_a) from log-domain weights,
 * u = Y h_a and e = Y delta, l(u + e) - l(u) = log1p(sigmoid(-u) expm1(-e)),
 * which for tiny e is -sigmoid(-u) e to first order (relative error O(e)).
 * NAN when some sample's excess is not positive. */
static double log_excess_loss(const mdatt_instance *in, const double *W, const double *v,
                              const int *alpha)
{
    const int d = in->d, T = in->T;
    double acc = -INFINITY;
    for (int i = 0; i < in->n; i++) {
        const double *z = in->Z + (size_t)i * d, *X = in->X + (size_t)i * T * d;
        double sc[512], h[512], m = -INFINITY;
        if (T > 512)
            return NAN;
        for (int t = 0; t < T; t++) {
            double s = 0.0, hv = 0.0;
            for (int j = 0; j < d; j++) {
                double wz = 0.0;
                for (int k = 0; k < d; k++)
                    wz += W[j * d + k] * z[k];
                s += X[t * d + j] * wz;
                hv += X[t * d + j] * v[j];
            }
            sc[t] = s;
            h[t] = hv;
        }
        const int a = alpha[i];
        for (int t = 0; t < T; t++)
            if (t != a)
                m = fmax(m, sc[t] - sc[a]);
        double S = 0.0, Z = 0.0;        /* scaled by e^{-m} */
        for (int t = 0; t < T; t++)
            if (t != a) {
                double w = exp(sc[t] - sc[a] - m);
                Z += w;
                S += w * (h[t] - h[a]);
            }
        /* log(1 + e^m Z), and delta = S e^m / (1 + e^m Z) */
        const double lse = m > 0 ? m + log(exp(-m) + Z) : log1p(exp(m) * Z);
        const double e_sign = in->Y[i] * S;
        if (!(e_sign < 0.0))
            return NAN;
        const double log_me = log(-e_sign) + m - lse;       /* log(-e) */
        const double u = in->Y[i] * h[a];
        const double log_sig = u > 0 ? -u - log1p(exp(-u)) : -log1p(exp(u));  /* log sigmoid(-u) */
        double li;
        if (log_me < -20.0)
            li = log_sig + log_me;
        else {
            double x = log1p(exp(log_sig) * expm1(exp(log_me)));
            li = x > 0 ? log(x) : NAN;
        }
        if (!isfinite(li))
            return NAN;
        acc = acc > li ? acc + log1p(exp(li - acc)) : li + log1p(exp(acc - li));
    }
    return acc - log((double)in->n);
}

static int rate_job(int job, void *vctx)
{
    rate_run *R = vctx;
    const int pi = job / R->nseeds, sd = job % R->nseeds, d = (int)R->d, dd = d * d;
    const long seed = R->seed0 + sd;
    mdatt_gen_settings gs = {(int)R->n, (int)R->T, d, (uint64_t)seed};
    mdatt_instance in;
    if (mdatt_gen(&gs, &in) != MDATT_OK)
        return 1;
    double *W = malloc(sizeof(double) * dd), *v = malloc(sizeof(double) * d);
    double *Ws = malloc(sizeof(double) * dd * R->npts);
    int *alpha = malloc(sizeof(int) * in.n), rc = 1;
    if (!W || !v || !Ws || !alpha)
        goto out;
    bench_init_w(W, d, R->init_std, seed);
    memcpy(v, in.v, sizeof(double) * d);
    mdatt_train_settings ts;
    mdatt_train_default_settings(&ts);
    ts.p = R->p[pi];
    ts.lr = R->lr;
    ts.normalized = R->normalized;
    long at = 0;
    for (int j = 0; j < R->npts; j++) {     /* train in segments up to each checkpoint */
        mdatt_train_info info;
        ts.iters = R->ck[j] - at;
        if (mdatt_train(&in, &ts, W, v, alpha, &info) != MDATT_OK)
            goto out;
        at = R->ck[j];
        memcpy(Ws + (size_t)j * dd, W, sizeof(double) * dd);
    }
    attsvm_result r;
    if (bench_svm(&in, alpha, R->p[pi], ATTSVM_TARGET_W, &r) == 0) {
        for (int j = 0; j < R->npts; j++) {
            const double *Wj = Ws + (size_t)j * dd;
            double *ly = R->ly;     /* log(x) of x <= 0 is NAN: excluded from fits */
            ly[ry(R, pi, sd, 0) + j] = log(mdatt_bregman_dir(r.x, Wj, dd, R->p[pi]));
            ly[ry(R, pi, sd, 1) + j] = log(1.0 - mdatt_margin_ratio(&in, alpha, Wj, R->p[pi], r.objective));
            ly[ry(R, pi, sd, 2) + j] = log_excess_loss(&in, Wj, v, alpha);
            ly[ry(R, pi, sd, 3) + j] = log(mdatt_norm_p(Wj, dd, R->p[pi]));
            ly[ry(R, pi, sd, 4) + j] = log(-ly[ry(R, pi, sd, 2) + j]);
        }
        rc = 0;
    }
    attsvm_result_free(&r);
out:
    free(W);
    free(v);
    free(Ws);
    free(alpha);
    mdatt_instance_free(&in);
    return rc;
}

/* The runs of every variant form one stage: job -> (variant, run). */
typedef struct {
    rate_run *runs;
    int nv;
} rate_all;

static rate_run *rate_pick(const rate_all *A, int *job)
{
    for (int vi = 0; vi < A->nv - 1; vi++) {
        const int n = A->runs[vi].np * A->runs[vi].nseeds;
        if (*job < n)
            return &A->runs[vi];
        *job -= n;
    }
    return &A->runs[A->nv - 1];
}

static int rate_all_job(int job, void *vctx)
{
    rate_run *R = rate_pick(vctx, &job);
    return rate_job(job, R);
}

/* A run's slots: its log-metrics at the checkpoints. */
static void rate_slots(int job, void *vctx, bench_rec *r)
{
    rate_run *R = rate_pick(vctx, &job);
    for (int mt = 0; mt < NMET; mt++)
        bench_rec_slot(r, &R->ly[ry(R, job / R->nseeds, job % R->nseeds, mt)], sizeof(double) * R->npts);
}

static double rate_cost(int job, const void *vctx)
{
    return (double)rate_pick(vctx, &job)->iters;
}

/* Fit one metric of one p: rows of the table, and the chosen curve's values
 * at the checkpoints (fitted, NAN outside the window) for the figure. */
/* The fitted curve of f with its exponent (or scale), for a figure's legend. */
static void fit_label(const mdatt_fit *fit, char *out, size_t len)
{
    static const char *form[] = {"a k^{-b}", "a (log k)^{-b}", "a log log k / log k", "a k", "a log k",
                                 "a e^{-bk}"};
    const char *g = (int)fit->family >= 0 && (int)fit->family < 6 ? form[fit->family] : "?";
    if (mdatt_family_nparam(fit->family) == 2)
        snprintf(out, len, "fit: %s %s, b = %.3g", mdatt_family_name(fit->family), g, fit->b);
    else
        snprintf(out, len, "fit: %s %s, a = %.3g", mdatt_family_name(fit->family), g, fit->a);
}

/* Fit metric mt of p index pi; label (if not NULL) receives the chosen fit
 * for a legend, or "no fit".  0, or -1 when out of memory. */
static int fit_metric(const rate_run *R, int pi, int mt, bench_table *t, double *curve,
                      double *mean, char *label, size_t len)
{
    if (label)
        snprintf(label, len, "no fit");
    const int S = R->nseeds;
    double *k = malloc(sizeof(double) * R->npts), *ly = malloc(sizeof(double) * S * R->npts);
    double *avg = malloc(sizeof(double) * R->npts);
    int m = 0;
    if (!k || !ly || !avg) {
        free(k);
        free(ly);
        free(avg);
        return -1;
    }
    for (int j = 0; j < R->npts; j++) {
        mean[j] = NAN;
        curve[j] = NAN;
    }
    /* the window: k >= fit_from * iters, where every seed's value is positive */
    for (int j = 0; j < R->npts; j++) {
        if (R->ck[j] < R->fit_from * R->iters || R->ck[j] < 3)
            continue;
        int ok = 1;
        double s = 0.0;
        for (int sd = 0; sd < S; sd++) {
            double l = R->ly[ry(R, pi, sd, mt) + j];
            ok &= isfinite(l);
            s += ok ? l : 0.0;
        }
        if (!ok)
            continue;
        k[m] = (double)R->ck[j];
        for (int sd = 0; sd < S; sd++)
            ly[sd * R->npts + m] = R->ly[ry(R, pi, sd, mt) + j];
        avg[m] = s / S;
        mean[j] = exp(avg[m]);
        m++;
    }
    /* seeds x m, contiguous for the bootstrap */
    for (int sd = 1; sd < S; sd++)
        memmove(ly + sd * m, ly + sd * R->npts, sizeof(double) * m);
    const mdatt_family dec[] = {MDATT_FAM_POWER, MDATT_FAM_LOGPOWER, MDATT_FAM_LOGLOG, MDATT_FAM_EXP};
    const mdatt_family inc[] = {MDATT_FAM_POWER, MDATT_FAM_LINEAR, MDATT_FAM_LOG};
    const mdatt_family *fams = mt >= 3 ? inc : dec;
    const int nfam = mt >= 3 ? 3 : 4;
    mdatt_fit fits[4];
    int nf = 0;
    for (int f = 0; f < nfam; f++)
        if (mdatt_fit_family(fams[f], k, avg, m, &fits[nf]) == MDATT_OK)
            nf++;
    /* the admissibility rule of `mdatt rate` (doc/design.md): a fit beyond its
     * bounds is listed among the others, marked, and never chosen */
    mdatt_fit_rule rule;
    mdatt_fit_default_rule(&rule);
    const int best = nf > 0 ? mdatt_fit_select_admissible(fits, nf, &rule) : -1;
    if (best < 0) {
        char others[384] = "";
        for (int f = 0, l = 0; f < nf; f++)
            l += snprintf(others + l, sizeof others - l, "%s%s %.3g (%s)", l ? "; " : "",
                          mdatt_family_name(fits[f].family), fits[f].rmse,
                          mdatt_fit_inadmissible(&fits[f], &rule));
        bench_table_row(t, "%g|%s|%s|%s|||||%s|%d", R->p[pi], R->normalized ? "normalized" : "plain",
                        metric_name[mt], nf ? "no admissible fit" : "n/a", others, S);
    } else {
        double alo, ahi, blo = NAN, bhi = NAN;
        mdatt_fit_bootstrap(fits[best].family, k, ly, S, m, (int)R->boot, 12345, &alo, &ahi, &blo, &bhi);
        char others[384] = "";
        for (int f = 0, l = 0; f < nf; f++)
            if (f != best)
                l += snprintf(others + l, sizeof others - l, "%s%s %.3g%s", l ? "; " : "",
                              mdatt_family_name(fits[f].family), fits[f].rmse,
                              mdatt_fit_inadmissible(&fits[f], &rule) ? " (inadmissible)" : "");
        bench_table_row(t, "%g|%s|%s|%s|%.4g|%.4g|[%.4g, %.4g]|%.3g|%s|%d", R->p[pi],
                        R->normalized ? "normalized" : "plain", metric_name[mt],
                        mdatt_family_name(fits[best].family), fits[best].a, fits[best].b, blo, bhi,
                        fits[best].rmse, others, S);
        for (int j = 0; j < R->npts; j++)
            if (isfinite(mean[j]))
                curve[j] = mdatt_fit_eval(&fits[best], (double)R->ck[j]);
        if (label)
            fit_label(&fits[best], label, len);
    }
    free(k);
    free(ly);
    free(avg);
    return 0;
}

static int read_variant(bench_ctx *b, json_t *obj, rate_run *R, const rate_run *base)
{
    *R = *base;
    json_t *save = b->cfg;
    b->cfg = obj;
    int bad = bench_cfg_seeds(b, "seeds", &R->seed0, &R->nseeds) ||
              bench_cfg_int(b, "iters", 10000, 10, 100000000, &R->iters) ||
              bench_cfg_double(b, "lr", 0.1, &R->lr) || bench_cfg_bool(b, "normalized", 1, &R->normalized);
    b->cfg = save;
    return bad ? -1 : 0;
}

static const char *const vname[2] = {"normalized", "plain"};

/* The configuration: the shared settings, then the variants ("normalized"
 * and/or "plain" objects) into runs[0..*nv). */
static int rates_config(bench_ctx *b, rate_run *base, rate_run runs[2], int *nv)
{
    if (bench_cfg_int(b, "n", 6, 1, 100000, &base->n) || bench_cfg_int(b, "T", 8, 2, 100000, &base->T) ||
        bench_cfg_int(b, "d", 10, 1, 1000, &base->d) || bench_cfg_doubles(b, "p", base->p, MAXP, &base->np) ||
        bench_cfg_double(b, "init_std", 1.0, &base->init_std) ||
        bench_cfg_int(b, "points", 40, 5, 1000, &base->npts) ||
        bench_cfg_int(b, "bootstrap", 1000, 10, 100000, &base->boot) ||
        bench_cfg_double(b, "fit_from", 0.01, &base->fit_from))
        return -1;
    if (bench_cfg_memory(b, "n, T, d", bench_runs_memory(b, base->np, base->n, base->T, base->d,
                                                        (double)base->npts)))
        return -1;
    *nv = 0;
    for (int k = 0; k < 2; k++) {
        json_t *o = json_object_get(b->cfg, vname[k]);
        if (!o)
            continue;
        if (!json_is_object(o) || read_variant(b, o, &runs[*nv], base)) {
            if (!b->err[0])
                snprintf(b->err, sizeof b->err, "%s: %s: must be an object", b->path, vname[k]);
            return -1;
        }
        (*nv)++;
    }
    if (*nv == 0) {
        snprintf(b->err, sizeof b->err, "%s: give \"normalized\" and/or \"plain\" run settings", b->path);
        return -1;
    }
    return 0;
}

/* A variant's iterations (log-spaced, distinct integers up to iters) and
 * its metric array (NAN until the runs fill it). */
static int rates_grid(rate_run *R)
{
    R->ck = malloc(sizeof(long) * R->npts);
    R->ly = malloc(sizeof(double) * R->np * R->nseeds * NMET * R->npts);
    if (!R->ck || !R->ly)
        return -1;
    int m = 0;
    for (int j = 0; j < R->npts; j++) {
        long k = (long)llround(pow((double)R->iters, (double)(j + 1) / R->npts));
        if (m == 0 || k > R->ck[m - 1])
            R->ck[m++] = k;
    }
    R->npts = m;
    for (size_t q = 0; q < (size_t)R->np * R->nseeds * NMET * R->npts; q++)
        R->ly[q] = NAN;
    return 0;
}

/* The figure text being built: one panel per variant and p. */
typedef struct {
    char body[16384];
    int len;
} rates_plot;

/* curves_<variant>.tsv (per p: the geometric mean and fitted curve of each
 * metric), given the fits. */
static void rates_curves(FILE *f, const rate_run *R, const double *curve, const double *mean,
                         const char (*label)[96], int vi, const char *fname, rates_plot *P)
{
    char pa[16];
    for (int pi = 0; pi < R->np; pi++) {
        fprintf(f, "# p=%g: k", R->p[pi]);
        for (int mt = 0; mt < NMET; mt++)
            fprintf(f, "\t%s\t%s_fit", metric_name[mt], metric_name[mt]);
        fputc('\n', f);
        for (int j = 0; j < R->npts; j++) {
            fprintf(f, "%ld", R->ck[j]);
            for (int mt = 0; mt < NMET; mt++)
                fprintf(f, "\t%.8g\t%.8g", mean[((size_t)pi * NMET + mt) * R->npts + j],
                        curve[((size_t)pi * NMET + mt) * R->npts + j]);
            fputc('\n', f);
        }
        fprintf(f, "\n\n");
        P->len += snprintf(P->body + P->len, sizeof P->body - P->len,
                           "set title 'l_{%s}-AttGD, %s steps'\nplot '%s' index %d using 1:2 with points "
                           "pt 7 title 'measured', '' index %d using 1:3 with lines lw 2 title '%s'\n",
                           bench_pname(R->p[pi], pa), vname[vi], fname, pi, pi, label[pi]);
    }
}

/* One variant: every (p, metric) fitted into the table, its curves file and
 * its panels. */
static int rates_variant(bench_ctx *b, const rate_run *R, int vi, bench_table *t, rates_plot *P)
{
    mdatt_outfile o;
    char fname[64];
    snprintf(fname, sizeof fname, "curves_%s.tsv", R->normalized ? "normalized" : "plain");
    FILE *f = bench_open(b, fname, &o);
    if (!f)
        return -1;
    double *curve = malloc(sizeof(double) * R->npts * NMET * R->np);
    double *mean = malloc(sizeof(double) * R->npts * NMET * R->np);
    char (*label)[96] = calloc(R->np, sizeof *label);   /* the plotted metric's fit */
    int rc = curve && mean && label ? 0 : -1;
    for (int pi = 0; pi < R->np && rc == 0; pi++)
        for (int mt = 0; mt < NMET && rc == 0; mt++)
            rc = fit_metric(R, pi, mt, t, curve + ((size_t)pi * NMET + mt) * R->npts,
                            mean + ((size_t)pi * NMET + mt) * R->npts, mt == 0 ? label[pi] : NULL,
                            sizeof label[pi]);
    if (rc == 0)
        rates_curves(f, R, curve, mean, (const char (*)[96])label, vi, fname, P);
    free(curve);
    free(mean);
    free(label);
    if (rc != 0) {
        mdatt_outfile_abort(&o);
        return -1;
    }
    return bench_close(b, &o) ? -1 : 0;
}

/* The table (with its caption stating the fit rule) and the figure. */
static int rates_write(bench_ctx *b, const rate_run *base, int nv, const bench_table *t,
                       rates_plot *P)
{
    snprintf(P->body + P->len, sizeof P->body - P->len, "unset multiplot");
    mdatt_fit_rule rule;
    mdatt_fit_default_rule(&rule);
    char cap[1100];
    snprintf(cap, sizeof cap,
             "Fitted rates (n=%ld, T=%ld, d=%ld). Each metric's geometric mean over seeds is fitted in log "
             "space over log-spaced iterations k >= %g*iters; families: a k^-b (power), a (log k)^-b "
             "(logpower), a loglog(k)/log(k) (loglog) and a e^-bk (exp) for the decreasing metrics; a k^-b, "
             "a k (linear) and a log k (log) for the growing norm_p and neg_log_excess = -log(excess_loss). "
             "Chosen: lowest log-space RMSE (near-ties to fewer parameters) among the admissible fits, the "
             "rule of mdatt rate: a, b and the RMSE finite, RMSE <= %g, |log10 a| <= %g, |b| <= %g (others "
             "marked inadmissible; none admissible: 'no admissible fit'). b 95%%: bootstrap over seeds "
             "(%ld resamples). excess_loss = L(W_k) - L_inf with L_inf the loss of the one-hot softmax "
             "on the selected tokens, computed in the log domain without cancellation.", base->n, base->T, base->d,
             base->fit_from, rule.max_rmse, rule.max_log10_a, rule.max_abs_b, base->boot);
    if (bench_table_write(b, t, "table", cap) ||
        bench_figure(b, "rates", nv > 1 ? "1200,800" : "1200,420", P->body))
        return -1;
    bench_index_line(b, "- [table.md](%s/table.md): fitted family, exponent and bootstrap interval per p "
                        "for the directional divergence, 1 - margin ratio, excess loss, -log(excess loss) and ||W_k||_p, "
                        "normalized versus plain steps; [rates.svg](%s/rates.svg): log-log curves with "
                        "their fits.", b->reldir, b->reldir);
    return 0;
}

/* rates: the runs of every variant, then per (p, metric) the fitted rate. */
int bench_rates(bench_ctx *b)
{
    rate_run base = {0}, runs[2];
    int nv = 0;
    if (rates_config(b, &base, runs, &nv))
        return 2;
    if (b->check_only)
        return 0;
    const char *head[] = {"p", "steps", "metric", "family", "a", "b", "b 95% (bootstrap)", "rmse",
                          "other families (rmse)", "seeds"};
    bench_table t;
    bench_table_init(&t, 10, head);
    int rc = 1, njobs = 0;
    rates_plot *P = malloc(sizeof *P);     /* the variants' ck and ly are NULL (base's) */
    if (!P)
        goto out;
    P->len = snprintf(P->body, sizeof P->body,
                      "set multiplot layout %d,%d title 'Directional Bregman divergence to the own-p "
                      "SVM (geometric mean over seeds) and the chosen fit'\nset logscale xy\n"
                      "set format y '10^{%%L}'\nset grid\nset xlabel 'iteration k'\n"
                      "set ylabel 'D_ψ (geometric mean over seeds)'\nset key bottom left\n",
                      nv, base.np);
    for (int vi = 0; vi < nv; vi++) {
        if (rates_grid(&runs[vi]))
            goto out;
        njobs += runs[vi].np * runs[vi].nseeds;
    }
    rate_all all = {runs, nv};
    const bench_jobs jobs = {rate_all_job, rate_slots, rate_cost};
    if (bench_parallel(b, b->name, njobs, &jobs, &all)) {
        snprintf(b->err, sizeof b->err, "a run or SVM solve failed");
        goto out;
    }
    for (int vi = 0; vi < nv; vi++)
        if (rates_variant(b, &runs[vi], vi, &t, P))
            goto out;
    if (rates_write(b, &base, nv, &t, P))
        goto out;
    rc = 0;
out:
    for (int vi = 0; vi < nv; vi++) {
        free(runs[vi].ck);
        free(runs[vi].ly);
    }
    free(P);
    bench_table_free(&t);
    return rc;
}
