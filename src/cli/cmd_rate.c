/* cmd_rate.c - `mdatt rate`: fit the convergence curves of several seeds
 * against the families of doc/design.md §7 (24), bootstrap the
 * exponent over seeds, check a stated bound expression against every seed
 * (where it fails and from which k it holds), and draw the curves. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cli.h"
#include "figure.h"
#include "mdatt_io.h"
#include "mdatt_rate.h"

static int run(int argc, char **argv);

#define CRITERION_TEXT                                                                         \
    "lowest RMSE of log y over the common points among the admissible fits; fits within "  \
    "1e-6 relative + 1e-12 absolute of the lowest are ties, resolved to fewer parameters, " \
    "then to the order power, logpower, loglog, linear, log, exp"

const cli_command cli_rate = {
    "rate", "fit convergence rates over seeds and check a stated bound",
    "usage: mdatt rate TRAJ.csv... [--metric M] [--from K0] [--to K1] [--families LIST]\n"
    "                  [--claim EXPR] [--boot B] [--seed S] [-o RATE.json] [--plot PREFIX]\n\n"
    "Each TRAJ.csv is one seed (seed i is the i-th file): a `mdatt train --log`\n"
    "file (loss, log_loss, norm_p) or a `mdatt check --traj-out` file (bregman_dir,\n"
    "one_minus_cosine, one_minus_margin).  Within the window [K0, K1] the metric\n"
    "y(k) is fitted in log space by least squares against the families\n"
    "  power     a*k^(-b)             logpower  a*(log k)^(-b)\n"
    "  loglog    a*log(log k)/log k   linear    a*k        log   a*log k\n"
    "  exp       a*exp(-b*k)  (linear convergence, e.g. the excess loss of normalized MD)\n"
    "(b < 0 is growth).  The fit uses the points k >= the largest domain start of\n"
    "the families (3 with loglog) present in every file with y > 0 finite in every\n"
    "file; the fitted curve is the geometric mean over seeds (mean of log y), so\n"
    "its parameters are the means of the per-seed log-space fits.  For log_loss\n"
    "the fitted quantity is -log_loss = log(1/L).\n"
    "Admissible fits: a, b and the RMSE finite, |log10 a| <= 30, |b| <= 100 and\n"
    "RMSE of log y <= 1 (a typical error of a factor e); a fit outside these\n"
    "bounds explains nothing and is never chosen (\"no admissible fit\").\n"
    "Choice of family: " CRITERION_TEXT ".\n"
    "Intervals: B bootstrap resamples of the seeds with replacement (mdatt's RNG,\n"
    "--seed), each fitted on its mean curve; 2.5 and 97.5 percentiles.  With one\n"
    "seed the interval has zero width and says nothing about the spread.\n\n"
    "  --metric M      bregman_dir (default), one_minus_cosine, one_minus_margin,\n"
    "                  loss, log_loss or norm_p (one_minus_* fall back to 1 - cosine\n"
    "                  and 1 - margin_ratio when only those columns exist)\n"
    "  --from K0       window start (default: K1/10, at least 1: the last 90%)\n"
    "  --to K1         window end (default, and at most: the largest k logged in\n"
    "                  every file; a larger value is clamped, with a note)\n"
    "  --families L    comma-separated subset of the families (default: all)\n"
    "  --claim EXPR    bound in k: numbers, k, + - * / ^, parentheses, unary minus,\n"
    "                  log exp sqrt abs pow(a,b); checks metric(k) <= bound(k) at every\n"
    "                  logged k in [K0, K1] of every seed (raw metric values) and\n"
    "                  reports per seed the violating points, the last violating k\n"
    "                  and the k from which the bound holds.  Exit 1 if some seed\n"
    "                  violates it anywhere in the window.\n"
    "  --boot B        bootstrap resamples (default 1000)\n"
    "  --seed S        bootstrap seed (default 1)\n"
    "  -o RATE.json    results as JSON (mdatt-rate/1), written atomically\n"
    "  --plot PREFIX   figure: PREFIX.tsv (data) and PREFIX.gp (gnuplot script:\n"
    "                  the curve of every seed, the bound and the chosen fit, the\n"
    "                  window marked), rendered to PREFIX.svg and PREFIX.png when\n"
    "                  gnuplot is installed (`gnuplot PREFIX.gp` in its folder redraws)\n\n"
    "Exit 0 (claim holds, or no claim), 1 (claim fails), 2 (bad input).\n",
    run};

typedef struct {
    const char *name;       /* --metric */
    const char *col;        /* preferred column */
    const char *alt;        /* fallback column, used as 1 - alt (or NULL) */
} metric_def;

static const metric_def metrics[] = {
    {"bregman_dir", "bregman_dir", NULL},
    {"one_minus_cosine", "one_minus_cosine", "cosine"},
    {"one_minus_margin", "one_minus_margin", "margin_ratio"},
    {"loss", "loss", NULL},
    {"log_loss", "log_loss", NULL},
    {"norm_p", "norm_p", NULL}};

/* One seed: its logged k (strictly increasing) and raw metric values. */
typedef struct {
    const char *path;
    long nrow;
    double *k, *y;
} series;

/* One `mdatt rate`: its inputs and the library's analysis (mdatt_rate). */
typedef struct {
    const char *sub;
    const metric_def *md;
    const char *claim;
    mdatt_expr *bound;
    int ns, negate;
    series *S;
    long k0_asked, k1_asked; /* --from, --to as given (-1: none) */
    mdatt_rate_settings set;
    mdatt_rate_result r;
} rate_run;

static const char *formula(mdatt_family f)
{
    static const char *const txt[] = {"a*k^(-b)", "a*(log k)^(-b)", "a*log(log k)/log k", "a*k",
                                      "a*log k", "a*exp(-b*k)"};
    return f >= 0 && f < MDATT_NFAM ? txt[f] : "?";
}

static int load_series(const char *sub, const char *path, const metric_def *md, series *s)
{
    char err[MDATT_ERRLEN] = "";
    mdatt_csv c;
    mdatt_status st = mdatt_csv_read(path, &c, err);
    if (st != MDATT_OK)
        return cli_status(sub, st, err);
    int code = CLI_OK, kc = mdatt_csv_col(&c, "k"), yc = mdatt_csv_col(&c, md->col), flip = 0;
    if (yc < 0 && md->alt && (yc = mdatt_csv_col(&c, md->alt)) >= 0)
        flip = 1;
    s->path = path;
    s->nrow = c.nrow;
    s->k = malloc(sizeof(double) * (c.nrow ? c.nrow : 1));
    s->y = malloc(sizeof(double) * (c.nrow ? c.nrow : 1));
    if (!s->k || !s->y) {
        code = cli_error(sub, CLI_FAIL, "out of memory");
    } else if (kc < 0) {
        code = cli_error(sub, CLI_BAD, "%s: column k missing", path);
    } else if (yc < 0) {
        code = md->alt ? cli_error(sub, CLI_BAD, "%s: column %s (or %s) missing", path, md->col,
                                   md->alt)
                       : cli_error(sub, CLI_BAD, "%s: column %s missing", path, md->col);
    } else if (c.nrow == 0) {
        code = cli_error(sub, CLI_BAD, "%s: no data rows", path);
    } else {
        for (long r = 0; r < c.nrow && code == CLI_OK; r++) {
            double k = c.data[(size_t)r * c.ncol + kc], y = c.data[(size_t)r * c.ncol + yc];
            if (!(k >= 0) || k != floor(k) || k > 9e15)
                code = cli_error(sub, CLI_BAD, "%s: data row %ld: k = %g is not an iteration "
                                 "number", path, r + 1, k);
            else if (r > 0 && !(k > s->k[r - 1]))
                code = cli_error(sub, CLI_BAD, "%s: data row %ld: k = %g does not increase",
                                 path, r + 1, k);
            s->k[r] = k;
            s->y[r] = flip ? 1.0 - y : y;
        }
    }
    mdatt_csv_free(&c);
    return code;
}

static int parse_families(const char *sub, const char *list, mdatt_family *fam, int *nf)
{
    char buf[256];
    if (strlen(list) >= sizeof buf)
        return cli_error(sub, CLI_BAD, "--families: list too long");
    strcpy(buf, list);
    *nf = 0;
    int used[MDATT_NFAM] = {0};
    for (char *s = buf, *tok; (tok = strsep(&s, ","));) {
        mdatt_family f;
        if (mdatt_family_parse(tok, &f) != MDATT_OK)
            return cli_error(sub, CLI_BAD, "--families: unknown family '%s' (power, logpower, "
                             "loglog, linear, log, exp)", tok);
        if (used[f]++)
            return cli_error(sub, CLI_BAD, "--families: '%s' given twice", tok);
    }
    for (int f = 0; f < MDATT_NFAM; f++)   /* keep the documented order */
        if (used[f])
            fam[(*nf)++] = (mdatt_family)f;
    return CLI_OK;
}

static void warn(const rate_run *R, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void warn(const rate_run *R, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "mdatt: %s: warning: ", R->sub);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

/* The warnings about the fits: per family (degenerate, no interval), then,
 * when the fitting went through (all), one seed and the choice. */
static void fit_warnings(const rate_run *R, int all)
{
    const mdatt_rate_result *r = &R->r;
    for (int f = 0; f < r->nfam; f++)
        if (!r->fitted[f])
            warn(R, "family %s: degenerate fit on %d points: left out",
                 mdatt_family_name(r->fam[f]), r->m);
        else if (!r->boot_ok[f])
            warn(R, "family %s: the bootstrap failed: no interval", mdatt_family_name(r->fam[f]));
    if (!all)
        return;
    if (R->ns == 1)
        warn(R, "one seed: the bootstrap can only resample that seed, so the 95%% interval "
             "has zero width and says nothing about the spread over seeds");
    if (r->best < 0)
        warn(R, "no admissible fit: every family is out of bounds (see the table)");
    else if (r->m <= mdatt_family_nparam(r->fam[r->best]) + 2)
        warn(R, "the chosen fit (%s) has %d points for %d parameters: it is nearly exact "
             "whatever the curve", mdatt_family_name(r->fam[r->best]), r->m,
             mdatt_family_nparam(r->fam[r->best]));
}

/* The library's analysis, with the messages of the command line: the
 * warnings about the fits, and the failures named by flag and file. */
static int analyse(rate_run *R)
{
    char err[MDATT_ERRLEN] = "";
    mdatt_rate_curve *c = malloc(sizeof *c * R->ns);
    if (!c)
        return cli_error(R->sub, CLI_FAIL, "out of memory");
    for (int s = 0; s < R->ns; s++)
        c[s] = (mdatt_rate_curve){R->S[s].nrow, R->S[s].k, R->S[s].y};
    R->set.negate = R->negate;
    R->set.bound = R->bound;
    mdatt_status st = mdatt_rate(c, R->ns, &R->set, &R->r, err);
    free(c);
    const mdatt_rate_result *r = &R->r;
    if (st == MDATT_ENOMEM)
        return cli_error(R->sub, CLI_FAIL, "out of memory");
    if (r->k1_clamped)
        printf("note: --to %ld is beyond the data: the last k logged in every file is %g; the "
               "window ends there\n", R->k1_asked, r->kend);
    switch (st == MDATT_OK ? MDATT_RATE_OK : r->failure) {
    case MDATT_RATE_EMPTY_WINDOW:
        return R->k0_asked > r->kend
                   ? cli_error(R->sub, CLI_BAD, "--from %ld is beyond the data (the last k "
                               "logged in every file is %g)", R->k0_asked, r->kend)
                   : cli_error(R->sub, CLI_BAD, "window: from %g is after to %g", r->K0, r->K1);
    case MDATT_RATE_FEW_POINTS:
        return cli_error(R->sub, CLI_BAD, "only %d usable points in the window [%g, %g] (k >= "
                         "%ld, logged in every file, positive finite %s%s): need at least 3",
                         r->m, r->K0, r->K1, r->kmin_fit, R->negate ? "-" : "", R->md->name);
    case MDATT_RATE_NO_FIT:
        fit_warnings(R, 0);
        return cli_error(R->sub, CLI_BAD, "no family can be fitted on the %d points", r->m);
    case MDATT_RATE_CLAIM_EMPTY:
        fit_warnings(R, 1);
        return cli_error(R->sub, CLI_BAD, "%s: no logged k in [%g, %g] to check the claim",
                         R->S[r->failed_curve].path, r->K0, r->K1);
    case MDATT_RATE_OK:
        if (st != MDATT_OK)
            return cli_status(R->sub, st, err);
        fit_warnings(R, 1);
        return CLI_OK;
    }
    return cli_status(R->sub, st, err);
}

static void print_fits(const rate_run *R)
{
    printf("rate: %s%s over %d seed%s, window [%g, %g], %d points (k >= %ld; %ld dropped)\n",
           R->negate ? "-" : "", R->md->name, R->ns, R->ns == 1 ? "" : "s", R->r.K0, R->r.K1, R->r.m,
           R->r.kmin_fit, R->r.dropped);
    printf("  %-9s %-20s %-14s %-14s %-12s %s\n", "family", "formula", "a", "b", "rmse(log)",
           "95% bootstrap interval");
    for (int f = 0; f < R->r.nfam; f++) {
        const mdatt_fit *F = &R->r.fit[f];
        const int two = mdatt_family_nparam(R->r.fam[f]) == 2;
        char bs[32] = "-";
        if (!R->r.fitted[f]) {
            printf("  %-9s %-20s (degenerate: not fitted)\n", mdatt_family_name(R->r.fam[f]),
                   formula(R->r.fam[f]));
            continue;
        }
        if (two)
            snprintf(bs, sizeof bs, "%.6g", F->b);
        printf("%c %-9s %-20s %-14.6g %-14s %-12.4g", f == R->r.best ? '*' : ' ',
               mdatt_family_name(R->r.fam[f]), formula(R->r.fam[f]), F->a, bs, F->rmse);
        printf(" %s in [%.6g, %.6g]%s", two ? "b" : "a", R->r.ci[f][two ? 2 : 0],
               R->r.ci[f][two ? 3 : 1], R->ns == 1 ? " (one seed: zero width)" : "");
        if (R->r.why[f])
            printf("  not admissible: %s", R->r.why[f]);
        putchar('\n');
    }
    if (R->r.best >= 0)
        printf("chosen: %s (lowest RMSE of log y among the admissible fits; ties to fewer "
               "parameters)\n", mdatt_family_name(R->r.fam[R->r.best]));
    else
        printf("chosen: none: no admissible fit (each needs finite parameters, |log10 a| <= 30, "
               "|b| <= 100 and rmse(log) <= 1)\n");
}

static void print_claim(const rate_run *R)
{
    printf("claim: %s <= %s for k in [%g, %g]\n", R->md->name, R->claim, R->r.K0, R->r.K1);
    printf("  %-5s %-24s %8s %10s %10s %10s %14s\n", "seed", "file", "points", "violating",
           "first k", "last k", "holds from k");
    for (int s = 0; s < R->ns; s++) {
        const mdatt_claim_curve *c = &R->r.claim[s];
        char fk[32] = "-", lk[32] = "-", hf[32] = "never";
        if (c->violations) {
            snprintf(fk, sizeof fk, "%g", c->first_k);
            snprintf(lk, sizeof lk, "%g", c->last_k);
        }
        if (!isnan(c->holds_from))
            snprintf(hf, sizeof hf, "%g", c->holds_from);
        printf("  %-5d %-24s %8ld %10ld %10s %10s %14s\n", s + 1, R->S[s].path, c->checked,
               c->violations, fk, lk, hf);
    }
    if (R->r.seeds_ok == R->ns) {
        printf("verdict: HOLDS on all %d of %d seeds at every logged k in [%g, %g]\n", R->ns,
               R->ns, R->r.K0, R->r.K1);
        return;
    }
    printf("verdict: FAILS: holds on %d of %d seeds; fails on", R->r.seeds_ok, R->ns);
    for (int s = 0, n = 0; s < R->ns; s++) {
        const mdatt_claim_curve *c = &R->r.claim[s];
        if (c->violations)
            printf("%s seed %d (%s: %ld of %ld points violate, first at k = %g: %.6g > %.6g, "
                   "last at k = %g)", n++ ? ";" : "", s + 1, R->S[s].path, c->violations,
                   c->checked, c->first_k, c->first_value, c->first_bound, c->last_k);
    }
    putchar('\n');
    int nh;
    double K = mdatt_rate_holds_from(&R->r, &nh);
    if (nh > 0)
        printf("  the bound holds from k >= %g on %d of %d seeds", K, nh, R->ns);
    else
        printf("  the bound is violated at the last logged k on every seed");
    if (nh > 0 && nh < R->ns)
        printf(" (on the others it is violated at the last logged k)");
    putchar('\n');
}

/* a, then "b", "a_ci" and "b_ci" of a fit, each after sep (the "a" key is
 * already written). */
static void put_fit(FILE *f, const mdatt_fit *fit, const double ci[4], const char *sep)
{
    cli_json_num(f, fit->a);
    fprintf(f, "%s\"b\": ", sep);
    cli_json_num(f, fit->b);
    fprintf(f, "%s\"a_ci\": [", sep);
    cli_json_num(f, ci[0]);
    fputs(", ", f);
    cli_json_num(f, ci[1]);
    fprintf(f, "]%s\"b_ci\": [", sep);
    cli_json_num(f, ci[2]);
    fputs(", ", f);
    cli_json_num(f, ci[3]);
    fputc(']', f);
}

static void json_fits(FILE *f, const rate_run *R)
{
    fputs("  \"families\": [", f);
    for (int j = 0; j < R->r.nfam; j++) {
        fprintf(f, "%s\n    {\"family\": \"%s\", \"formula\": \"%s\", \"nparam\": %d, \"a\": ",
                j ? "," : "", mdatt_family_name(R->r.fam[j]), formula(R->r.fam[j]),
                mdatt_family_nparam(R->r.fam[j]));
        put_fit(f, &R->r.fit[j], R->r.ci[j], ", ");
        fputs(", \"rmse\": ", f);
        cli_json_num(f, R->r.fit[j].rmse);
        fprintf(f, ", \"fitted\": %s, \"admissible\": %s", R->r.fitted[j] ? "true" : "false",
                R->r.fitted[j] && !R->r.why[j] ? "true" : "false");
        if (R->r.fitted[j] && R->r.why[j])
            fprintf(f, ", \"why_not\": \"%s\"", R->r.why[j]);
        fputc('}', f);
    }
    if (R->r.best < 0) {
        fputs("\n  ],\n  \"chosen\": null", f);
        return;
    }
    fprintf(f, "\n  ],\n  \"chosen\": \"%s\",\n  \"a\": ", mdatt_family_name(R->r.fam[R->r.best]));
    put_fit(f, &R->r.fit[R->r.best], R->r.ci[R->r.best], ",\n  ");
    fputs(",\n  \"per_seed\": [", f);
    for (int s = 0; s < R->ns; s++) {
        fprintf(f, "%s\n    {\"file\": ", s ? "," : "");
        cli_json_str(f, R->S[s].path);
        fputs(", \"a\": ", f);
        cli_json_num(f, R->r.per[s].a);
        fputs(", \"b\": ", f);
        cli_json_num(f, R->r.per[s].b);
        fputs(", \"rmse\": ", f);
        cli_json_num(f, R->r.per[s].rmse);
        fputc('}', f);
    }
    fputs("\n  ]", f);
}

static void json_claim(FILE *f, const rate_run *R)
{
    int nh;
    double K = mdatt_rate_holds_from(&R->r, &nh);
    fputs(",\n  \"claim\": {\"expr\": ", f);
    cli_json_str(f, R->claim);
    fprintf(f, ", \"from\": %.17g, \"to\": %.17g, \"holds\": %s, \"seeds_ok\": %d, "
               "\"seeds\": %d, \"fraction\": %.17g, \"holds_from\": ",
            R->r.K0, R->r.K1, R->r.seeds_ok == R->ns ? "true" : "false", R->r.seeds_ok, R->ns,
            (double)R->r.seeds_ok / R->ns);
    cli_json_num(f, nh ? K : NAN);
    fprintf(f, ", \"seeds_holding_from\": %d,\n    \"per_seed\": [", nh);
    for (int s = 0; s < R->ns; s++) {
        const mdatt_claim_curve *c = &R->r.claim[s];
        fprintf(f, "%s\n    {\"seed\": %d, \"file\": ", s ? "," : "", s + 1);
        cli_json_str(f, R->S[s].path);
        fprintf(f, ", \"points\": %ld, \"violating\": %ld, \"last_k\": ", c->checked,
                c->violations);
        cli_json_num(f, c->last_k);
        fputs(", \"holds_from\": ", f);
        cli_json_num(f, c->holds_from);
        fputc('}', f);
    }
    fputs("],\n    \"violations\": [", f);   /* the first violation of each failing seed */
    for (int s = 0, first = 1; s < R->ns; s++) {
        if (!R->r.claim[s].violations)
            continue;
        fprintf(f, "%s\n    {\"file\": ", first ? "" : ",");
        first = 0;
        cli_json_str(f, R->S[s].path);
        fprintf(f, ", \"k\": %.17g, \"value\": ", R->r.claim[s].first_k);
        cli_json_num(f, R->r.claim[s].first_value);
        fputs(", \"bound\": ", f);
        cli_json_num(f, R->r.claim[s].first_bound);
        fputc('}', f);
    }
    fputs("]}", f);
}

static void write_json(FILE *f, const rate_run *R)
{
    fprintf(f, "{\n  \"format\": \"mdatt-rate/1\",\n  \"metric\": \"%s\",\n"
               "  \"fitted_quantity\": \"%s%s\",\n  \"inputs\": [",
            R->md->name, R->negate ? "-" : "", R->md->name);
    for (int s = 0; s < R->ns; s++) {
        fputs(s ? ", " : "", f);
        cli_json_str(f, R->S[s].path);
    }
    fprintf(f, "],\n  \"seeds\": %d,\n  \"window\": {\"from\": %.17g, \"to\": %.17g, "
               "\"last_common_k\": %.17g, \"to_requested\": ",
            R->ns, R->r.K0, R->r.K1, R->r.kend);
    cli_json_num(f, R->k1_asked >= 0 ? (double)R->k1_asked : NAN);
    fprintf(f, ", \"k_min_fit\": %ld, \"points\": %d, \"dropped\": %ld},\n", R->r.kmin_fit, R->r.m,
            R->r.dropped);
    fputs("  \"mean_curve\": \"geometric mean over seeds (mean of log y)\",\n"
          "  \"criterion\": \"" CRITERION_TEXT "\",\n"
          "  \"admissible\": \"a, b, rmse finite; |log10 a| <= 30; |b| <= 100; rmse <= 1\",\n",
          f);
    fprintf(f, "  \"bootstrap\": {\"B\": %ld, \"seed\": %ld, \"percentiles\": [2.5, 97.5], "
               "\"zero_width_one_seed\": %s},\n",
            R->set.boot, (long)R->set.seed, R->ns == 1 ? "true" : "false");
    json_fits(f, R);
    if (R->bound)
        json_claim(f, R);
    fputs("\n}\n", f);
}

/* ------------------------------------------------------------------ figure */

/* A gnuplot single-quoted string ('' stands for one quote). */
static void gp_str(FILE *f, const char *s)
{
    fputc('\'', f);
    for (; *s; s++)
        fputs(*s == '\'' ? "''" : (char[2]){*s, 0}, f);
    fputc('\'', f);
}

/* Log y when every finite value in the window is positive (the raw metric). */
static int plot_logy(const rate_run *R)
{
    for (int s = 0; s < R->ns; s++)
        for (long r = 0; r < R->S[s].nrow; r++)
            if (R->S[s].k[r] >= R->r.K0 && R->S[s].k[r] <= R->r.K1 && isfinite(R->S[s].y[r]) &&
                !(R->S[s].y[r] > 0))
                return 0;
    return 1;
}

/* A point is drawn when finite, inside the axes' domain. */
static int drawable(double k, double y, int logx, int logy)
{
    return isfinite(k) && isfinite(y) && (!logx || k >= 1) && (!logy || y > 0);
}

/* PREFIX.tsv: one gnuplot data block per seed (all logged points), then the
 * bound on the window (k of seed 1) and the chosen fit on its points; drawn[]
 * receives the number of points of each block. */
static void plot_data(FILE *f, const rate_run *R, int logx, int logy, long *drawn)
{
    fprintf(f, "# mdatt rate --plot: %s per seed (blocks 0..%d), the bound (block %d) and the "
               "chosen fit (block %d); columns k, value\n",
            R->md->name, R->ns - 1, R->ns, R->ns + 1);
    for (int s = 0; s < R->ns; s++) {
        fprintf(f, "%s# seed %d: %s\nk\tvalue\n", s ? "\n\n" : "", s + 1, R->S[s].path);
        for (long r = 0; r < R->S[s].nrow; r++)
            if (drawable(R->S[s].k[r], R->S[s].y[r], logx, logy)) {
                fprintf(f, "%.17g\t%.17g\n", R->S[s].k[r], R->S[s].y[r]);
                drawn[s]++;
            }
    }
    fputs("\n\n# bound\nk\tvalue\n", f);
    for (long r = 0; R->bound && r < R->S[0].nrow; r++) {
        double k = R->S[0].k[r], b = k >= R->r.K0 && k <= R->r.K1 ? mdatt_expr_eval(R->bound, k) : NAN;
        if (drawable(k, b, logx, logy)) {
            fprintf(f, "%.17g\t%.17g\n", k, b);
            drawn[R->ns]++;
        }
    }
    fputs("\n\n# chosen fit\nk\tvalue\n", f);
    for (int j = 0; R->r.best >= 0 && j < R->r.m; j++) {
        double v = mdatt_fit_eval(&R->r.fit[R->r.best], R->r.kfit[j]);
        if (drawable(R->r.kfit[j], R->negate ? -v : v, logx, logy)) {
            fprintf(f, "%.17g\t%.17g\n", R->r.kfit[j], R->negate ? -v : v);
            drawn[R->ns + 1]++;
        }
    }
}

/* One plot clause: block `index` of the data file, unless it is empty. */
static void plot_clause(FILE *f, int *first, const char *data, int index, const char *style,
                        const char *title)
{
    fputs(*first ? "plot " : ", \\\n     ", f);
    *first = 0;
    gp_str(f, data);
    fprintf(f, " index %d using 1:2 with %s title ", index, style);
    gp_str(f, title);
}

/* The body of PREFIX.gp: labelled log axes where suitable, the window marked. */
static void plot_script(FILE *f, const rate_run *R, const char *data, int logx, int logy,
                        const long *drawn)
{
    char t[600];
    fprintf(f, "set termoption noenhanced\nset grid\nset key below\n"
               "set xlabel 'iteration k%s'\nset ylabel ", logx ? " (log scale)" : "");
    snprintf(t, sizeof t, "%s%s", R->md->name, logy ? " (log scale)" : "");
    gp_str(f, t);
    snprintf(t, sizeof t, "mdatt rate: %s over %d seed%s, window [%g, %g]", R->md->name, R->ns,
             R->ns == 1 ? "" : "s", R->r.K0, R->r.K1);
    fputs("\nset title ", f);
    gp_str(f, t);
    fprintf(f, "\n%s%s", logx ? "set logscale x\n" : "", logy ? "set logscale y\n" : "");
    for (int e = 0; e < 2; e++) {
        double k = e ? R->r.K1 : R->r.K0;
        if (!logx || k >= 1)
            fprintf(f, "set arrow from %.17g, graph 0 to %.17g, graph 1 nohead dt 2 "
                       "lc rgb '#888888'\n", k, k);
    }
    int first = 1;
    for (int s = 0; s < R->ns; s++) {
        snprintf(t, sizeof t, "seed %d: %s", s + 1, R->S[s].path);
        if (drawn[s])
            plot_clause(f, &first, data, s, "lines lw 1.2", t);
    }
    if (drawn[R->ns]) {
        snprintf(t, sizeof t, "claimed bound: %s", R->claim);
        plot_clause(f, &first, data, R->ns, "lines lw 2.5 dt 2 lc rgb 'black'", t);
    }
    if (drawn[R->ns + 1]) {
        const mdatt_fit *F = &R->r.fit[R->r.best];
        if (mdatt_family_nparam(F->family) == 2)
            snprintf(t, sizeof t, "fit of the geometric mean: %s%s, a = %.4g, b = %.4g",
                     R->negate ? "-" : "", formula(F->family), F->a, F->b);
        else
            snprintf(t, sizeof t, "fit of the geometric mean: %s%s, a = %.4g",
                     R->negate ? "-" : "", formula(F->family), F->a);
        plot_clause(f, &first, data, R->ns + 1, "lines lw 2 lc rgb '#d62728'", t);
    }
    if (first)
        fputs("print 'nothing to draw'", f);
    fputc('\n', f);
}

/* Write PREFIX.tsv and PREFIX.gp into o[0], o[1] (opened, not committed). */
static int plot_open(const rate_run *R, const char *prefix, mdatt_outfile o[2])
{
    char err[MDATT_ERRLEN] = "", *path[2] = {NULL, NULL}, *body = NULL;
    size_t blen = 0;
    const char *base = strrchr(prefix, '/') ? strrchr(prefix, '/') + 1 : prefix;
    const int logx = R->r.best < 0 || R->r.fam[R->r.best] != MDATT_FAM_EXP, logy = plot_logy(R);
    long *drawn = calloc(R->ns + 2, sizeof *drawn);
    int code = drawn && asprintf(&path[0], "%s.tsv", prefix) >= 0 &&
                       asprintf(&path[1], "%s.gp", prefix) >= 0
                   ? CLI_OK
                   : cli_error(R->sub, CLI_FAIL, "out of memory");
    if (code == CLI_OK && !*base)
        code = cli_error(R->sub, CLI_BAD, "--plot %s: the prefix names a folder, not a file",
                         prefix);
    for (int j = 0; j < 2 && code == CLI_OK; j++)
        if (mdatt_outfile_open(&o[j], path[j], err) != MDATT_OK) {
            code = cli_error(R->sub, CLI_FAIL, "--plot: %s", err);
            if (j)
                mdatt_outfile_abort(&o[0]);
        }
    if (code == CLI_OK) {
        plot_data(o[0].f, R, logx, logy, drawn);
        FILE *m = open_memstream(&body, &blen);
        char data[300];
        snprintf(data, sizeof data, "%s.tsv", base);
        if (m) {
            plot_script(m, R, data, logx, logy, drawn);
            fclose(m);
        }
        bench_gnuplot_script(o[1].f, base, "900,600", body ? body : "");
    }
    free(body);
    free(drawn);
    free(path[0]);
    free(path[1]);
    return code;
}

/* Render PREFIX.gp in its folder; a failure is a warning (the sources stay). */
static void plot_render(const rate_run *R, const char *prefix)
{
    char *dir = strdup(prefix), *slash = dir ? strrchr(dir, '/') : NULL;
    if (!dir)
        return;
    const char *base = slash ? slash + 1 : prefix, *folder = slash ? (slash == dir ? "/" : dir) : ".";
    if (slash)
        *slash = '\0';
    char gp[300];
    snprintf(gp, sizeof gp, "%s.gp", base);
    int rc = bench_gnuplot_render(folder, gp);
    if (rc > 0)
        warn(R, "gnuplot was not found at configure time: %s.gp is written, not rendered",
             prefix);
    else if (rc < 0)
        warn(R, "gnuplot failed on %s.gp (see %s.gp.err): the figure is not rendered", prefix,
             prefix);
    free(dir);
}

/* Write -o and --plot (each may be NULL): every file is complete or none is
 * left behind; the figure is rendered once its sources are in place. */
static int write_outputs(const rate_run *R, const char *out, const char *plot)
{
    char err[MDATT_ERRLEN] = "", *name[3] = {NULL, NULL, NULL};
    mdatt_outfile o[3];   /* tsv, gp, json */
    int n = 0, code = CLI_OK;
    if (plot) {
        if ((code = plot_open(R, plot, o)) != CLI_OK)
            return code;
        n = 2;
        if (asprintf(&name[0], "%s.tsv", plot) < 0 || asprintf(&name[1], "%s.gp", plot) < 0)
            code = cli_error(R->sub, CLI_FAIL, "out of memory");
    }
    if (code == CLI_OK && out) {
        if (mdatt_outfile_open(&o[n], out, err) != MDATT_OK)
            code = cli_error(R->sub, CLI_FAIL, "%s", err);
        else if (!(name[n] = strdup(out)))
            code = cli_error(R->sub, CLI_FAIL, "out of memory"), n++;
        else
            write_json(o[n++].f, R);
    }
    int done = 0;
    for (; code == CLI_OK && done < n; done++)
        if (mdatt_outfile_commit(&o[done], err) != MDATT_OK)
            code = cli_error(R->sub, CLI_FAIL, "%s", err);
    for (int j = 0; code != CLI_OK && j < n; j++) {
        if (j < done - 1 && name[j])    /* committed before the failure */
            unlink(name[j]);
        else if (j >= done)             /* still open */
            mdatt_outfile_abort(&o[j]);
    }
    for (int j = 0; j < 3; j++)
        free(name[j]);
    if (code == CLI_OK && plot)
        plot_render(R, plot);
    return code;
}

static void free_run(rate_run *R)
{
    if (R->S)
        for (int s = 0; s < R->ns; s++) {
            free(R->S[s].k);
            free(R->S[s].y);
        }
    free(R->S);
    mdatt_rate_result_free(&R->r);
    mdatt_expr_free(R->bound);
}

/* Options after parsing: the metric, families, claim and inputs. */
static int setup(rate_run *R, const char *metric, const char *fams, const char **pos, int npos)
{
    char err[MDATT_ERRLEN] = "";
    for (size_t j = 0; j < sizeof metrics / sizeof metrics[0]; j++)
        if (strcmp(metric, metrics[j].name) == 0)
            R->md = &metrics[j];
    if (npos < 1)
        return cli_error(R->sub, CLI_BAD, "missing TRAJ.csv (see --help)");
    if (!R->md)
        return cli_error(R->sub, CLI_BAD, "--metric: unknown metric '%s' (bregman_dir, "
                         "one_minus_cosine, one_minus_margin, loss, log_loss, norm_p)", metric);
    R->negate = strcmp(R->md->name, "log_loss") == 0;
    int code;
    if (fams && (code = parse_families(R->sub, fams, R->set.fam, &R->set.nfam)) != CLI_OK)
        return code;
    if (R->claim && !(R->bound = mdatt_expr_parse(R->claim, err)))
        return cli_error(R->sub, CLI_BAD, "--claim: %s in '%s'", err, R->claim);
    if (!(R->S = calloc(npos, sizeof *R->S)))
        return cli_error(R->sub, CLI_FAIL, "out of memory");
    R->ns = npos;
    for (int s = 0; s < R->ns; s++)
        if ((code = load_series(R->sub, pos[s], R->md, &R->S[s])) != CLI_OK)
            return code;
    return CLI_OK;
}

static int run(int argc, char **argv)
{
    rate_run R = {.sub = "rate", .k0_asked = -1, .k1_asked = -1};
    const char *metric = "bregman_dir", *fams = NULL, *out = NULL, *plot = NULL;
    long boot = 1000, seed = 1;
    mdatt_rate_default_settings(&R.set);
    const cli_opt opts[] = {
        {"--metric", OPT_STR, &metric, 0, 0, NULL},
        {"--from", OPT_LONG, &R.k0_asked, 0, 9000000000000000L, NULL},
        {"--to", OPT_LONG, &R.k1_asked, 0, 9000000000000000L, NULL},
        {"--families", OPT_STR, &fams, 0, 0, NULL},
        {"--claim", OPT_STR, &R.claim, 0, 0, NULL},
        {"--boot", OPT_LONG, &boot, 1, 10000000, NULL},
        {"--seed", OPT_LONG, &seed, 0, 0x7fffffffffffffffL, NULL},
        {"-o", OPT_STR, &out, 0, 0, NULL},
        {"--plot", OPT_STR, &plot, 0, 0, NULL},
        {NULL, 0, NULL, 0, 0, NULL}};
    const char **pos = malloc(sizeof(char *) * (argc > 1 ? argc : 1));
    if (!pos)
        return cli_error(R.sub, CLI_FAIL, "out of memory");
    int npos, code = cli_parse(&cli_rate, argc, argv, opts, pos, argc, &npos);
    const long k0 = R.k0_asked, k1 = R.k1_asked;
    if (code == CLI_OK && k0 >= 0 && k1 >= 0 && k0 > k1)
        code = cli_error(R.sub, CLI_BAD, "--from %ld is after --to %ld", k0, k1);
    if (code == CLI_OK && plot && !*plot)
        code = cli_error(R.sub, CLI_BAD, "--plot: empty prefix");
    const cli_path o1[] = {{"-o", out}};
    for (int s = 0; s < npos && code == CLI_OK; s++) {
        const cli_path in1[] = {{"TRAJ.csv", pos[s]}};
        code = cli_distinct_outputs(R.sub, o1, 1, in1, 1);
    }
    R.set.k0 = k0 >= 0 ? (double)k0 : NAN;
    R.set.k1 = k1 >= 0 ? (double)k1 : NAN;
    R.set.boot = boot;
    R.set.seed = (uint64_t)seed;
    if (code == CLI_OK)
        code = setup(&R, metric, fams, pos, npos);
    if (code == CLI_OK)
        code = analyse(&R);
    if (code == CLI_OK) {
        print_fits(&R);
        if (R.bound)
            print_claim(&R);
    }
    if (code == CLI_OK && (out || plot))
        code = write_outputs(&R, out, plot);
    if (code == CLI_OK)
        code = R.bound && R.r.seeds_ok < R.ns ? CLI_FAIL : CLI_OK;
    free_run(&R);
    free(pos);
    return code;
}
