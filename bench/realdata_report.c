/* realdata_report.c - part A's tables, figures and verdict (the "realdata"
 * experiment): the step-size selection, test accuracy after the last epoch
 * and at the best validation epoch with the plateau rule, accuracy curves,
 * weight histograms, attention maps, the paired comparisons (verdict.md:
 * mean difference over paired seeds with its 95 % t-interval) and the
 * token-selection table and figure. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "realdata.h"

/* ------------------------------------------------------------ per run */

/* Test accuracy at the epoch of the best validation accuracy (the first
 * such epoch), NAN for a diverged run. */
static double bestval_acc(const expA *A, size_t at, int epochs)
{
    const double *v = A->vcurve + at * A->maxep, *c = A->curve + at * A->maxep;
    int best = -1;
    for (int ep = 0; ep < epochs; ep++)
        if (isfinite(v[ep]) && (best < 0 || v[ep] > v[best]))
            best = ep;
    return A->diverged[at] || best < 0 ? NAN : c[best];
}

/* The first epoch count e at which the validation curve satisfies the plateau
 * rule (0: never up to the cap), and whether it holds at the cap. */
static int plateau_epoch(const expA *A, size_t at, int epochs, int *at_cap)
{
    const double *v = A->vcurve + at * A->maxep;
    *at_cap = mdatt_pm_plateaued(v, epochs, A->plateau_frac, A->plateau_tol);
    for (int e = 1; e <= epochs; e++)
        if (mdatt_pm_plateaued(v, e, A->plateau_frac, A->plateau_tol))
            return e;
    return 0;
}

/* What a run contributes to a statistic. */
enum { M_FINAL = 0, M_BESTVAL, M_TOKEN, M_ENT, M_TOP, M_TOKDIV, M_CLIP };

static double measure(const expA *A, int ti, int oi, int sd, int what)
{
    const task_t *t = &A->task[ti];
    const size_t at = rd_at(A, ti, oi, sd);
    if (A->diverged[at])
        return NAN;
    switch (what) {
    case M_FINAL: return A->acc[at];
    case M_BESTVAL: return bestval_acc(A, at, t->epochs);
    case M_TOKEN: return A->tcurve[at * A->maxep + t->epochs - 1];
    case M_ENT: return A->ent[at];
    case M_TOP: return A->top[at];
    case M_CLIP: return A->clipfrac[at];
    default: return A->tok_div[at];
    }
}

/* Mean and std over the seeds of (task, opt) with a finite value; the count. */
static int stat(const expA *A, int ti, int oi, int what, double *mean, double *sd)
{
    double x[512] = {0};
    int m = 0;
    for (int s = 0; s < A->nseeds && m < 512; s++) {
        const double v = measure(A, ti, oi, s, what);
        if (isfinite(v))
            x[m++] = v;
    }
    bench_mean_std(x, m, mean, sd);
    if (m == 0)
        *mean = *sd = NAN;
    return m;
}

/* Paired comparison of optimizers a - b on a task over the seeds where both
 * have a finite value (percentage points). */
static void paired(const expA *A, int ti, int a, int b, int what, mdatt_pm_paired *c)
{
    double x[512], y[512];
    int m = 0;
    for (int s = 0; s < A->nseeds && m < 512; s++) {
        const double u = measure(A, ti, a, s, what), v = measure(A, ti, b, s, what);
        if (isfinite(u) && isfinite(v)) {
            x[m] = 100 * u;
            y[m++] = 100 * v;
        }
    }
    mdatt_pm_paired_diff(x, y, m, c);
}

/* Index of the optimizer l_p-MD at p (kind md), Adam (p = 0), or -1. */
static int find_opt(const expA *A, double p)
{
    for (int oi = 0; oi < A->nopt; oi++)
        if (p == 0 ? A->opt[oi].kind == MDATT_PM_OPT_ADAM
                   : A->opt[oi].kind == MDATT_PM_OPT_MD && fabs(A->opt[oi].p - p) < 1e-12)
            return oi;
    return -1;
}

/* ------------------------------------------------------------ tables */

/* How a step is chosen among the finalists (doc/design.md (29)). */
static const char *choice_text(const expA *A)
{
    return A->sel_seeds >= 2
        ? "the finalist with the best score (its worst seed) that did not diverge (ties: the "
          "smaller step)"
        : "the best finalist that did not diverge and is not the largest one that did not "
          "diverge (with a single seed, a margin of one grid step below the edge of stability: "
          "the next larger finalist trained stably too; ties: the smaller step), or the only one "
          "that did not diverge";
}

static int write_selection(bench_ctx *b, const expA *A)
{
    const char *hs[] = {"task", "optimizer", "lr", "val_acc", "val_acc_full_length", "chosen"};
    bench_table ts;
    bench_table_init(&ts, 6, hs);
    for (int ti = 0; ti < A->ntask; ti++)
        for (int oi = 0; oi < A->nopt; oi++)
            for (int li = 0; li < A->opt[oi].nlr; li++) {
                char task[64], s1[32], s2[32];
                const size_t k = ((size_t)ti * MAXOPT + oi) * MAXLR + li;
                const double v = A->val[k], v2 = A->val2[k];
                snprintf(s1, sizeof s1, v < 0 ? "diverged" : "%.4f", v);
                snprintf(s2, sizeof s2, isnan(v2) ? "" : v2 < 0 ? "diverged" : "%.4f", v2);
                bench_table_row(&ts, "%s|%s|%g|%s|%s|%s", rd_task_name(&A->task[ti], task, sizeof task),
                                A->opt[oi].name, A->opt[oi].lr[li], s1, s2,
                                A->opt[oi].lr[li] == A->chosen[ti][oi] ? "yes" : "");
            }
    char cap[1600];
    snprintf(cap, sizeof cap, "Step-size selection, the same budget and schedule for every optimizer "
             "(validation = the last %ld training items of each task, held out from every run). "
             "val_acc: %ld epoch(s) on the first %ld training items, seed %ld; "
             "val_acc_full_length: the best of those and the next %ld smaller steps of the grid "
             "(finalists), trained exactly as a final run (all the task's training items before the "
             "validation ones, the task's epochs), validation accuracy after the last epoch, the "
             "worst over seeds %ld..%ld (doc/design.md (29): a seed that collapses is not averaged "
             "away; diverged if any seed diverged). Diverged: a non-finite loss or "
             "parameter, or an epoch whose mean training loss is above the starting loss; excluded. "
             "Chosen: %s; when every finalist diverged, the largest step at most a quarter of the "
             "smallest finalist (two grid steps below it).", A->sel_val,
             A->sel_epochs, A->sel_train, A->seed0, A->sel_final - 1, A->seed0,
             A->seed0 + A->sel_seeds - 1, choice_text(A));
    const int rc = bench_table_write(b, &ts, "selection", cap);
    bench_table_free(&ts);
    return rc;
}

/* Median of the first plateau epochs and the number of runs satisfying the
 * rule at the cap, over the runs of (task, opt) that did not diverge. */
static void plateau_stats(const expA *A, int ti, int oi, int *at_cap, double *median)
{
    double e[512];
    int m = 0;
    *at_cap = 0;
    for (int s = 0; s < A->nseeds && m < 512; s++) {
        const size_t at = rd_at(A, ti, oi, s);
        int cap;
        if (A->diverged[at])
            continue;
        const int pe = plateau_epoch(A, at, A->task[ti].epochs, &cap);
        *at_cap += cap;
        e[m++] = pe > 0 ? pe : NAN;
    }
    double q[3];
    int k = 0;
    for (int j = 0; j < m; j++)
        if (isfinite(e[j]))
            e[k++] = e[j];
    bench_quartiles(e, k, q);
    *median = q[1];
}

/* The clipping rule in words (doc/design.md (28)). */
static const char *clip_text(const expA *A, char *buf, size_t len)
{
    if (A->clip > 0)
        snprintf(buf, len, "Every optimizer's mini-batch gradient is clipped to Euclidean norm at "
                 "most %g before its step (doc/design.md (28)); clipped: the mean fraction of a "
                 "run's steps that the clipping shortened.", A->clip);
    else
        snprintf(buf, len, "No gradient clipping (clipped: 0).");
    return buf;
}

static int write_accuracy(bench_ctx *b, const expA *A)
{
    char clip[400];
    const char *ha[] = {"task", "optimizer", "lr", "test_acc_mean", "test_acc_std",
                        "bestval_test_acc_mean", "bestval_test_acc_std", "seeds", "diverged",
                        "plateaued", "plateau_epoch", "epochs", "attn_entropy", "attn_top_mass",
                        "clipped"};
    bench_table ta;
    bench_table_init(&ta, 15, ha);
    for (int ti = 0; ti < A->ntask; ti++)
        for (int oi = 0; oi < A->nopt; oi++) {
            double am, as, bm, bs, em, es, tm, tsd, pmed, cm, cs;
            const int m = stat(A, ti, oi, M_FINAL, &am, &as);
            stat(A, ti, oi, M_BESTVAL, &bm, &bs);
            stat(A, ti, oi, M_ENT, &em, &es);
            stat(A, ti, oi, M_TOP, &tm, &tsd);
            stat(A, ti, oi, M_CLIP, &cm, &cs);
            int pcap;
            plateau_stats(A, ti, oi, &pcap, &pmed);
            char task[64];
            bench_table_row(&ta, "%s|%s|%g|%.4f|%.4f|%.4f|%.4f|%d|%d|%d|%g|%d|%.3f|%.3f|%.4f",
                            rd_task_name(&A->task[ti], task, sizeof task), A->opt[oi].name,
                            A->chosen[ti][oi], am, as, bm, bs, m, A->nseeds - m, pcap, pmed,
                            A->task[ti].epochs, em, tm, cm);
        }
    char cap[1600];
    snprintf(cap, sizeof cap, "Test accuracy (mean and standard deviation over seeds %ld..%ld; "
             "every optimizer starts from the same initialization and sees the same batch order "
             "for a given seed) after the last epoch, and at the epoch of the best validation "
             "accuracy (bestval). Schedule for all: %s. plateaued: runs whose validation curve "
             "satisfies the plateau rule at the last epoch (the best validation accuracy over "
             "the last %g %% of the epochs improves on the best before them by less than %g "
             "point); plateau_epoch: median of the first epoch count at which the rule held "
             "(over the runs where it did). Attention entropy -sum s log s and mass on the top "
             "token, averaged over the test items and the seeds that did not diverge. %s",
             A->seed0, A->seed0 + A->nseeds - 1,
             A->schedule == MDATT_PM_SCHED_COSINE ? "linear warm-up then cosine decay to 0"
                                                  : "constant step", 100 * A->plateau_frac,
             100 * A->plateau_tol, clip_text(A, clip, sizeof clip));
    if (A->schedule == MDATT_PM_SCHED_COSINE)
        snprintf(cap + strlen(cap), sizeof cap - strlen(cap), " Warm-up: %g epoch(s).", A->warmup);
    const int rc = bench_table_write(b, &ta, "accuracy", cap);
    bench_table_free(&ta);
    return rc;
}

/* verdict.md: l1.1-MD against GD, Adam and l3-MD per task, on the final and
 * the best-validation-epoch test accuracy (and the token accuracy). */
static int write_verdict(bench_ctx *b, const expA *A)
{
    const char *h[] = {"task", "comparison", "mean_diff", "ci_low", "ci_high", "seeds", "verdict",
                       "median_diff", "wins", "losses", "sign_p"};
    const double vs[] = {2.0, 0.0, 3.0};
    const char *what[] = {"final test acc", "best-val-epoch test acc", "token acc"};
    const int i11 = find_opt(A, 1.1);
    bench_table t;
    bench_table_init(&t, 11, h);
    for (int ti = 0; i11 >= 0 && ti < A->ntask; ti++)
        for (int k = 0; k < 3; k++) {
            const int j = find_opt(A, vs[k]);
            for (int w = 0; j >= 0 && w < (A->task[ti].kind == TASK_TOKENS ? 3 : 2); w++) {
                mdatt_pm_paired c;
                paired(A, ti, i11, j, w == 2 ? M_TOKEN : w, &c);
                char task[96];
                bench_table_row(&t, "%s|%s - %s (%s)|%.2f|%.2f|%.2f|%d|%s|%.2f|%d|%d|%.3g",
                                rd_task_name(&A->task[ti], task, sizeof task), A->opt[i11].name,
                                A->opt[j].name, what[w], c.mean, c.lo, c.hi, c.n, mdatt_pm_verdict(&c),
                                c.median, c.wins, c.losses, c.sign_p);
            }
        }
    char cap[1400];
    snprintf(cap, sizeof cap, "Paired comparisons (percentage points): for each seed the two "
             "optimizers start from the same initialization and see the same batches; mean_diff is "
             "the mean over seeds of the difference, [ci_low, ci_high] its 95 %% t-interval "
             "(mean -/+ t_{0.975, n-1} sd / sqrt(n)) over the n seeds where neither run diverged. "
             "Verdict: better (interval above 0), worse (below 0), or no difference detected at this "
             "resolution (the interval holds 0). Beside it, what one outlying seed (a run that "
             "collapsed) cannot move as it moves the mean and the interval: median_diff, the seeds "
             "where the first optimizer is above the second (wins) and below it (losses), and the "
             "exact two-sided sign test of wins against losses (sign_p, ties left out; e.g. 9 of "
             "10 gives 0.0215).");
    const int rc = bench_table_write(b, &t, "verdict", cap);
    bench_table_free(&t);
    return rc;
}

/* ------------------------------------------------------------ figures */

/* curves_task<k>.tsv: mean and std over the seeds of the test accuracy per
 * epoch (or of another per-epoch curve), one column pair per optimizer. */
static int write_curve_tsv(bench_ctx *b, const expA *A, int ti, const double *curves, const char *name)
{
    mdatt_outfile o;
    FILE *f = bench_open(b, name, &o);
    if (!f)
        return -1;
    fprintf(f, "# epoch");
    for (int oi = 0; oi < A->nopt; oi++)
        fprintf(f, "\tmean_%d\tstd_%d", oi, oi);
    fputc('\n', f);
    for (int ep = 0; ep < A->task[ti].epochs; ep++) {
        fprintf(f, "%d", ep + 1);
        for (int oi = 0; oi < A->nopt; oi++) {
            double x[512], mean, std;
            int m = 0;
            for (int sd = 0; sd < A->nseeds && m < 512; sd++) {
                const double v = curves[rd_at(A, ti, oi, sd) * A->maxep + ep];
                if (isfinite(v))
                    x[m++] = v;
            }
            bench_mean_std(x, m, &mean, &std);
            fprintf(f, "\t%.6f\t%.6f", m ? mean : NAN, m ? std : NAN);
        }
        fputc('\n', f);
    }
    return bench_close(b, &o);
}

/* The plot command of one panel: every optimizer's mean with std bars. */
static int plot_panel(char *body, size_t len, const expA *A, const char *title, const char *tsv)
{
    int k = snprintf(body, len, "set title '%s'\nplot ", title);
    for (int oi = 0; oi < A->nopt; oi++)
        k += snprintf(body + k, len - k, "'%s' using 1:%d:%d with yerrorlines lw 2 lc %d title '%s'%s",
                      tsv, 2 + 2 * oi, 3 + 2 * oi, oi + 1, A->opt[oi].name,
                      oi + 1 < A->nopt ? ", " : "\n");
    return k;
}

static int write_curves(bench_ctx *b, const expA *A)
{
    char name[64], title[96], body[32768];
    int len = snprintf(body, sizeof body, "set multiplot layout 1,%d title 'Test accuracy per epoch "
                       "(mean ± std over the seeds of %d that had not diverged)'\nset grid\n"
                       "set key bottom right\nset xlabel 'epoch'\n"
                       "set ylabel 'test accuracy'\n", A->ntask, A->nseeds);
    for (int ti = 0; ti < A->ntask; ti++) {
        snprintf(name, sizeof name, "curves_task%d.tsv", ti);
        if (write_curve_tsv(b, A, ti, A->curve, name))
            return -1;
        len += plot_panel(body + len, sizeof body - len, A,
                          rd_task_name(&A->task[ti], title, sizeof title), name);
    }
    snprintf(body + len, sizeof body - len, "unset multiplot");
    return bench_figure(b, "accuracy_curves", "1200,420", body);
}

static int write_hist(bench_ctx *b, const expA *A)
{
    const int ns = A->nseeds;
    char body[8192];
    mdatt_outfile o;
    FILE *f = bench_open(b, "weights_hist.tsv", &o);
    if (!f)
        return -1;
    fprintf(f, "# log10|w| bin centre; then per optimizer the fraction of W entries, then of E entries\n");
    double tot[MAXOPT][2] = {{0}};
    for (int oi = 0; oi < A->nopt; oi++)
        for (int sd = 0; sd < ns; sd++)
            for (int bl = 0; bl < 2; bl++)
                for (int k = 0; k < NHIST; k++)
                    tot[oi][bl] += A->hist[(rd_at(A, 0, oi, sd) * 2 + bl) * NHIST + k];
    for (int k = 0; k < NHIST; k++) {
        fprintf(f, "%.2f", -10.0 + 0.5 * k + 0.25);
        for (int bl = 0; bl < 2; bl++)
            for (int oi = 0; oi < A->nopt; oi++) {
                double s = 0.0;
                for (int sd = 0; sd < ns; sd++)
                    s += A->hist[(rd_at(A, 0, oi, sd) * 2 + bl) * NHIST + k];
                fprintf(f, "\t%.6f", tot[oi][bl] > 0 ? s / tot[oi][bl] : 0.0);
            }
        fputc('\n', f);
    }
    if (bench_close(b, &o))
        return -1;
    int len = snprintf(body, sizeof body, "set multiplot layout 1,2 title 'Entries of the trained "
                       "weights, 10-class task, %d seeds pooled (bins 0.5 wide; ends collect the tails)'\n"
                       "set grid\nset key top left\nset xlabel 'log10 |entry|'\nset ylabel 'fraction'\n"
                       "set style data steps\n", ns);
    for (int bl = 0; bl < 2; bl++) {
        len += snprintf(body + len, sizeof body - len, "set title '|%s|'\nplot ", bl ? "E" : "W");
        for (int oi = 0; oi < A->nopt; oi++)
            len += snprintf(body + len, sizeof body - len, "'weights_hist.tsv' using 1:%d lw 2 lc %d "
                            "title '%s'%s", 2 + bl * A->nopt + oi, oi + 1, A->opt[oi].name,
                            oi + 1 < A->nopt ? ", " : "\n");
    }
    snprintf(body + len, sizeof body - len, "unset multiplot");
    return bench_figure(b, "weights_hist", "1100,420", body);
}

static int write_maps(bench_ctx *b, const expA *A)
{
    char body[32768];
    mdatt_outfile o;
    FILE *f = bench_open(b, "attention_maps.tsv", &o);
    if (!f)
        return -1;
    fprintf(f, "# blocks (index = optimizer*10 + class): 7x7 mean test attention, seeds pooled\n");
    for (int oi = 0; oi < A->nopt; oi++)
        for (int c = 0; c < 10; c++) {
            double map[NT] = {0};
            int cnt = 0;
            for (int sd = 0; sd < A->nseeds; sd++) {
                const size_t at = rd_at(A, 0, oi, sd);
                cnt += A->amap_cnt[at * 10 + c];
                for (int k = 0; k < NT; k++)
                    map[k] += A->amap[(at * 10 + c) * NT + k];
            }
            for (int r = 0; r < 7; r++)
                for (int k = 0; k < 7; k++)
                    fprintf(f, k < 6 ? "%.6f " : "%.6f\n", cnt ? map[r * 7 + k] / cnt : 0.0);
            fputs("\n\n", f);
        }
    if (bench_close(b, &o))
        return -1;
    int len = snprintf(body, sizeof body, "set multiplot layout %d,10 title 'Mean attention per "
                       "patch on the test images of each class (rows: optimizers; 10-class task)'\n"
                       "unset key\nunset xtics\nunset ytics\nset yrange [6.5:-0.5]\nset xrange [-0.5:6.5]\n"
                       "set size ratio 1\nset palette rgb 33,13,10\nunset colorbox\nset cbrange [0:*]\n",
                       A->nopt);
    for (int oi = 0; oi < A->nopt; oi++)
        for (int c = 0; c < 10; c++)
            len += snprintf(body + len, sizeof body - len, "set title '%s%s%s' font ',8'\n"
                            "plot 'attention_maps.tsv' index %d matrix with image\n",
                            c == 0 ? A->opt[oi].name : "", c == 0 ? ": " : "",
                            mdatt_fmnist_class_name(c), oi * 10 + c);
    snprintf(body + len, sizeof body - len, "unset multiplot");
    char size[32];
    snprintf(size, sizeof size, "1400,%d", 170 * A->nopt + 60);
    return bench_figure(b, "attention_maps", size, body);
}

/* ---------------------------------------------------- token selection */

static int token_index(const expA *A)
{
    for (int ti = 0; ti < A->ntask; ti++)
        if (A->task[ti].kind == TASK_TOKENS)
            return ti;
    return -1;
}

static int write_token_table(bench_ctx *b, const expA *A, int ti)
{
    const char *h[] = {"optimizer", "lr", "token_acc_mean", "token_acc_std", "test_acc_mean",
                       "test_acc_std", "seeds", "svm_p", "svm_solved", "svm_div_mean", "svm_div_std",
                       "svm_norm_mean", "train_token_acc"};
    bench_table t;
    bench_table_init(&t, 13, h);
    for (int oi = 0; oi < A->nopt; oi++) {
        double km, ks, am, as, dm, ds, nm = 0, sel = 0;
        const int m = stat(A, ti, oi, M_TOKEN, &km, &ks);
        stat(A, ti, oi, M_FINAL, &am, &as);
        stat(A, ti, oi, M_TOKDIV, &dm, &ds);
        int solved = 0, nsel = 0;
        for (int sd = 0; sd < A->nseeds; sd++) {
            const size_t at = rd_at(A, ti, oi, sd);
            solved += A->tok_status[at] == ATTSVM_OPTIMAL;
            nm += A->tok_status[at] == ATTSVM_OPTIMAL ? A->tok_obj[at] : 0.0;
            if (isfinite(A->tok_sel[at])) {
                sel += A->tok_sel[at];
                nsel++;
            }
        }
        bench_table_row(&t, "%s|%g|%.4f|%.4f|%.4f|%.4f|%d|%g|%d|%.4g|%.4g|%.4g|%.4f", A->opt[oi].name,
                        A->chosen[ti][oi], km, ks, am, as, m,
                        A->opt[oi].kind == MDATT_PM_OPT_MD ? A->opt[oi].p : 2.0, solved, dm, ds,
                        solved ? nm / solved : NAN, nsel ? sel / nsel : NAN);
    }
    const task_t *tk = &A->task[ti];
    char cap[1600];
    snprintf(cap, sizeof cap, "Token selection with a known optimal token: sequences of T = %d "
             "Fashion-MNIST items, exactly one of class %s or %s (the label says which) at a "
             "uniform position, the others drawn from the other eight classes; each item is one "
             "token (its pixels through a fixed Gaussian projection to %d features, then the "
             "model's learned embedding E and positions P, d = %d). %d training, %ld validation "
             "and %d test sequences, %d epochs, paired seeds %ld..%ld. token_acc: fraction of the "
             "test sequences whose top attention is on the label-relevant item, after the last "
             "epoch; test_acc: classification accuracy. The l_p-AttSVM (oracle/attsvm.h, p of "
             "the optimizer, 2 for Adam) is solved at the tokens each trained model selects on %ld "
             "training sequences (x_t = E u_t + P_t, query z, decoder V); svm_div: directional "
             "Bregman divergence of the trained W to W^mm; svm_norm: ||W^mm||_p; train_token_acc: "
             "fraction of those sequences whose selected token is the label-relevant one.",
             tk->T, mdatt_fmnist_class_name(tk->cls[0]), mdatt_fmnist_class_name(tk->cls[1]), tk->Pd,
             tk->d, tk->ntrain - tk->nval, A->tok_n[1], tk->ntest, tk->epochs, A->seed0,
             A->seed0 + A->nseeds - 1, A->tok_svm_n);
    const int rc = bench_table_write(b, &t, "token_selection", cap);
    bench_table_free(&t);
    return rc;
}

static int write_tokens(bench_ctx *b, const expA *A)
{
    const int ti = token_index(A);
    if (ti < 0)
        return 0;
    if (write_token_table(b, A, ti) || write_curve_tsv(b, A, ti, A->tcurve, "token_accuracy.tsv"))
        return -1;
    char body[8192];
    int len = snprintf(body, sizeof body, "set grid\nset key bottom right\nset xlabel 'epoch'\n"
                       "set ylabel 'fraction of test sequences'\nset yrange [0:1.02]\n");
    len += plot_panel(body + len, sizeof body - len, A, "Top attention on the label-relevant item "
                      "(mean ± std over seeds)", "token_accuracy.tsv");
    return bench_figure(b, "token_accuracy", "800,480", body);
}

/* seeds.md: every final run's numbers, so that a seed that collapsed (and
 * what it does to a mean, a std and a t-interval) can be seen. */
static int write_seeds(bench_ctx *b, const expA *A)
{
    const char *h[] = {"task", "optimizer", "lr", "seed", "test_acc", "bestval_test_acc",
                       "token_acc", "diverged"};
    bench_table t;
    bench_table_init(&t, 8, h);
    for (int ti = 0; ti < A->ntask; ti++)
        for (int oi = 0; oi < A->nopt; oi++)
            for (int s = 0; s < A->nseeds; s++) {
                char task[96], tok[32] = "";
                const int dv = A->diverged[rd_at(A, ti, oi, s)];
                if (A->task[ti].kind == TASK_TOKENS && !dv)
                    snprintf(tok, sizeof tok, "%.4f", measure(A, ti, oi, s, M_TOKEN));
                char fin[32] = "", bv[32] = "";
                if (!dv) {
                    snprintf(fin, sizeof fin, "%.4f", measure(A, ti, oi, s, M_FINAL));
                    snprintf(bv, sizeof bv, "%.4f", measure(A, ti, oi, s, M_BESTVAL));
                }
                bench_table_row(&t, "%s|%s|%g|%ld|%s|%s|%s|%s",
                                rd_task_name(&A->task[ti], task, sizeof task), A->opt[oi].name,
                                A->chosen[ti][oi], A->seed0 + s, fin, bv, tok, dv ? "yes" : "no");
            }
    const int rc = bench_table_write(b, &t, "seeds", "Every final run (accuracy.md's means and "
                                     "standard deviations, verdict.md's pairs): test accuracy after "
                                     "the last epoch and at the best validation epoch, on the token "
                                     "task also the fraction of test sequences whose top attention is "
                                     "on the label-relevant item; a diverged run (design.md, "
                                     "Divergence) has no numbers.");
    bench_table_free(&t);
    return rc;
}

int rd_write_a(bench_ctx *b, expA *A)
{
    if (write_selection(b, A) || write_accuracy(b, A) || write_verdict(b, A) || write_seeds(b, A) ||
        write_curves(b, A) ||
        write_hist(b, A) || write_maps(b, A) || write_tokens(b, A))
        return -1;
    return 0;
}

/* ------------------------------------------------------------ prose */

/* The verdict in words: l1.1-MD against GD and Adam on each task (final
 * test accuracy, paired seeds). */
void rd_verdict_text(const expA *A, char *out, size_t len)
{
    const int i11 = find_opt(A, 1.1), vs[2] = {find_opt(A, 2.0), find_opt(A, 0)};
    size_t k = 0;
    out[0] = '\0';
    if (i11 < 0) {
        snprintf(out, len, "The configuration has no l1.1-MD: no verdict.");
        return;
    }
    for (int ti = 0; ti < A->ntask && k < len; ti++) {
        char task[96];
        k += snprintf(out + k, len - k, "%s%s:", ti ? "; " : "", rd_task_name(&A->task[ti], task, sizeof task));
        for (int j = 0; j < 2 && k < len; j++) {
            if (vs[j] < 0)
                continue;
            mdatt_pm_paired c;
            paired(A, ti, i11, vs[j], M_FINAL, &c);
            k += snprintf(out + k, len - k, "%s l1.1-MD - %s = %+.2f points [%.2f, %.2f] over %d "
                          "paired seeds (%s; median %+.2f, above in %d and below in %d seeds, sign "
                          "test p = %.2g)", j ? "," : "", A->opt[vs[j]].name, c.mean, c.lo, c.hi,
                          c.n, mdatt_pm_verdict(&c), c.median, c.wins, c.losses, c.sign_p);
        }
    }
    if (k < len)
        snprintf(out + k, len - k, ".");
}

void rd_summary_a(FILE *f, const expA *A, long epochs)
{
    char v[4096];
    rd_verdict_text(A, v, sizeof v);
    fprintf(f, "# Real data: Fashion-MNIST\n\n## A. Generalization (the paper's real-data claim)\n\n"
            "Paired verdict (final test accuracy, 95 %% t-intervals; verdict.md): %s\n\n"
            "The paper reports, on IMDb, best test accuracy about 83.5 %% for l1.1-MD vs about "
            "81.7 %% for GD. Here: %d paired seeds (same initialization and batch order for every "
            "optimizer), %ld epochs (10 classes) with %s for every optimizer, %d training images "
            "per 10-class epoch (the last %d held out for validation); table in accuracy.md.\n\n",
            v, A->nseeds, epochs, A->schedule == MDATT_PM_SCHED_COSINE
            ? "a linear warm-up and a cosine decay of the step" : "a constant step",
            A->task[0].ntrain - A->task[0].nval, A->task[0].nval);
    fprintf(f, "Test accuracy per optimizer after the last epoch / at the best validation epoch "
            "(mean ± std over the seeds that did not diverge; runs whose validation curve meets the "
            "plateau rule at the last epoch, of the seeds; chosen step):");
    for (int ti = 0; ti < A->ntask; ti++) {
        char task[96];
        fprintf(f, "%s %s:", ti ? ";" : "", rd_task_name(&A->task[ti], task, sizeof task));
        for (int oi = 0; oi < A->nopt; oi++) {
            double am, as, bm, bs, pmed;
            int pcap;
            const int m = stat(A, ti, oi, M_FINAL, &am, &as);
            stat(A, ti, oi, M_BESTVAL, &bm, &bs);
            plateau_stats(A, ti, oi, &pcap, &pmed);
            fprintf(f, "%s %s %.2f ± %.2f %% / %.2f ± %.2f %% (plateau %d of %d, step %g)", oi ? "," : "",
                    A->opt[oi].name, 100 * am, 100 * as, 100 * bm, 100 * bs, pcap, m, A->chosen[ti][oi]);
        }
    }
    fprintf(f, ".\n\nPlateau rule: the best validation accuracy over the last %g %% of the epochs "
            "improves on the best before them by less than %g point; a run that does not meet it "
            "at the last epoch reached the cap (the epoch budget) still improving.\n\n",
            100 * A->plateau_frac, 100 * A->plateau_tol);
    char clip[400];
    fprintf(f, "%s%s\n\n", clip_text(A, clip, sizeof clip), A->clip > 0
            ? " Without it, single mini-batch gradients of norm 10-200 (about 1 usually) in W and z "
              "saturated the attention of some l_p-MD and GD runs on one patch for the rest of the "
              "run (10 classes: test accuracy near 32 % for those seeds, std 9-13 points over seeds; "
              "doc/design.md (28))." : "");
    fprintf(f, "Step sizes: each optimizer's log-spaced grid was run with the same budget "
            "(%ld epoch(s) on %ld training images, seed %ld) and scored on %ld held-out training "
            "images; the best step and the next %ld smaller ones were then trained exactly as a "
            "final run with %ld seed(s), each scored by its worst seed's validation accuracy "
            "(doc/design.md (29)); chosen: %s (selection.md).\n\n",
            A->sel_epochs, A->sel_train, A->seed0, A->sel_val, A->sel_final > 0 ? A->sel_final - 1 : 0,
            A->sel_seeds, choice_text(A));
    const int tk = token_index(A);
    if (tk >= 0) {
        fprintf(f, "## Token selection with a known optimal token\n\n");
        for (int oi = 0; oi < A->nopt; oi++) {
            double km, ks, am, as, dm, ds;
            const int m = stat(A, tk, oi, M_TOKEN, &km, &ks);
            stat(A, tk, oi, M_FINAL, &am, &as);
            stat(A, tk, oi, M_TOKDIV, &dm, &ds);
            fprintf(f, "- %s: top attention on the label-relevant item for %.2f ± %.2f %% of the "
                    "test sequences, test accuracy %.2f ± %.2f %% (%d seeds); directional Bregman "
                    "divergence of W to the l_p-AttSVM at its selected tokens %.3g ± %.2g.\n",
                    A->opt[oi].name, 100 * km, 100 * ks, 100 * am, 100 * as, m, dm, ds);
        }
        fprintf(f, "\nPaired comparisons on this task: verdict.md; table and figure: "
                "token_selection.md, token_accuracy.svg.\n\n");
    }
    if (isfinite(A->epoch_secs))
        fprintf(f, "One 10-class epoch: %.2f s (perf.md).\n\n", A->epoch_secs);
}

void rd_index_a(bench_ctx *b, const expA *A)
{
    bench_index_line(b, "- [accuracy.md](%s/accuracy.md) ([csv](%s/accuracy.csv), [tex](%s/accuracy.tex)): "
                     "test accuracy per optimizer (last epoch and best validation epoch, mean ± std over "
                     "paired seeds), the plateau rule, attention entropy and top mass; "
                     "[verdict.md](%s/verdict.md): paired differences with 95 %% t-intervals, "
                     "medians, wins and the sign test; [seeds.md](%s/seeds.md): every final run; "
                     "[selection.md](%s/selection.md): the learning-rate grids and the chosen values.",
                     b->reldir, b->reldir, b->reldir, b->reldir, b->reldir, b->reldir);
    char perf[400] = "";
    if (isfinite(A->epoch_secs))
        snprintf(perf, sizeof perf, "; [perf.md](%s/perf.md): %.2f s per 10-class epoch", b->reldir,
                 A->epoch_secs);
    bench_index_line(b, "- [accuracy_curves.svg](%s/accuracy_curves.svg), [weights_hist.svg](%s/weights_hist.svg), "
                     "[attention_maps.svg](%s/attention_maps.svg): accuracy per epoch, histograms of "
                     "log10 |W| and |E|, mean 7x7 attention per class%s.", b->reldir, b->reldir,
                     b->reldir, perf);
    if (token_index(A) >= 0)
        bench_index_line(b, "- [token_selection.md](%s/token_selection.md), [token_accuracy.svg]"
                         "(%s/token_accuracy.svg): token selection with a known optimal token, "
                         "against the certified l_p-AttSVM at the selected tokens.", b->reldir, b->reldir);
}
