/* cmd_rate.c - `mdatt rate`: fit the convergence curves of several seeds
 * against the families of SPEC "Rates", bootstrap the exponent over seeds,
 * and check a stated bound expression against every seed. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"

static int run(int argc, char **argv);

#define CRITERION_TEXT                                                                         \
    "lowest RMSE of log y over the common points; fits within 1e-6 relative + 1e-12 "      \
    "absolute of the lowest are ties, resolved to fewer parameters, then to the order "    \
    "power, logpower, loglog, linear, log"

const cli_command cli_rate = {
    "rate", "fit convergence rates over seeds and check a stated bound",
    "usage: mdatt rate TRAJ.csv... [--metric M] [--from K0] [--to K1] [--families LIST]\n"
    "                  [--claim EXPR] [--boot B] [--seed S] [-o RATE.json]\n\n"
    "Each TRAJ.csv is one seed: a `mdatt train --log` file (loss, log_loss, norm_p)\n"
    "or a `mdatt check --traj-out` file (bregman_dir, one_minus_cosine,\n"
    "one_minus_margin).  Within the window [K0, K1] the metric y(k) is fitted in\n"
    "log space by least squares against the families\n"
    "  power     a*k^(-b)             logpower  a*(log k)^(-b)\n"
    "  loglog    a*log(log k)/log k   linear    a*k        log   a*log k\n"
    "  exp       a*exp(-b*k)  (linear convergence, e.g. the excess loss of normalized MD)\n"
    "(b < 0 is growth).  The fit uses the points k >= the largest domain start of\n"
    "the families (3 with loglog) present in every file with y > 0 finite in every\n"
    "file; the fitted curve is the geometric mean over seeds (mean of log y), so\n"
    "its parameters are the means of the per-seed log-space fits.  For log_loss\n"
    "the fitted quantity is -log_loss = log(1/L).\n"
    "Choice of family: " CRITERION_TEXT ".\n"
    "Intervals: B bootstrap resamples of the seeds with replacement (mdatt's RNG,\n"
    "--seed), each fitted on its mean curve; 2.5 and 97.5 percentiles.\n\n"
    "  --metric M      bregman_dir (default), one_minus_cosine, one_minus_margin,\n"
    "                  loss, log_loss or norm_p (one_minus_* fall back to 1 - cosine\n"
    "                  and 1 - margin_ratio when only those columns exist)\n"
    "  --from K0       window start (default: K1/10, at least 1: the last 90%)\n"
    "  --to K1         window end (default: the largest k logged in every file)\n"
    "  --families L    comma-separated subset of the families (default: all)\n"
    "  --claim EXPR    bound in k: numbers, k, + - * / ^, parentheses, unary minus,\n"
    "                  log exp sqrt abs pow(a,b); checks metric(k) <= bound(k) at every\n"
    "                  logged k in [K0, K1] of every seed (raw metric values).\n"
    "                  Exit 1 if some seed violates it.\n"
    "  --boot B        bootstrap resamples (default 1000)\n"
    "  --seed S        bootstrap seed (default 1)\n"
    "  -o RATE.json    results as JSON (mdatt-rate/1), written atomically\n\n"
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

/* Index of k in the increasing array ks[0..n), or -1. */
static long find_k(const double *ks, long n, double k)
{
    long lo = 0, hi = n - 1;
    while (lo <= hi) {
        long mid = lo + (hi - lo) / 2;
        if (ks[mid] == k)
            return mid;
        if (ks[mid] < k)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return -1;
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

typedef struct {
    long k;
    double value, bound;
    int failed;
    long checked;
} claim_seed;

static int run(int argc, char **argv)
{
    const char *sub = "rate";
    const char *metric = "bregman_dir", *fams = NULL, *claim = NULL, *out = NULL;
    long k0 = -1, k1 = -1, boot = 1000, seed = 1;
    const cli_opt opts[] = {
        {"--metric", OPT_STR, &metric, 0, 0, NULL},
        {"--from", OPT_LONG, &k0, 0, 9000000000000000L, NULL},
        {"--to", OPT_LONG, &k1, 0, 9000000000000000L, NULL},
        {"--families", OPT_STR, &fams, 0, 0, NULL},
        {"--claim", OPT_STR, &claim, 0, 0, NULL},
        {"--boot", OPT_LONG, &boot, 1, 10000000, NULL},
        {"--seed", OPT_LONG, &seed, 0, 0x7fffffffffffffffL, NULL},
        {"-o", OPT_STR, &out, 0, 0, NULL},
        {NULL, 0, NULL, 0, 0, NULL}};
    const char **pos = malloc(sizeof(char *) * (argc > 1 ? argc : 1));
    if (!pos)
        return cli_error(sub, CLI_FAIL, "out of memory");
    int npos, code = cli_parse(&cli_rate, argc, argv, opts, pos, argc, &npos);
    if (code != CLI_OK) {
        free(pos);
        return code;
    }
    const metric_def *md = NULL;
    mdatt_family fam[MDATT_NFAM];
    int nf = MDATT_NFAM;
    for (int f = 0; f < MDATT_NFAM; f++)
        fam[f] = (mdatt_family)f;
    char err[MDATT_ERRLEN] = "";
    mdatt_expr *bound = NULL;
    series *S = NULL;
    double *kfit = NULL, *logy = NULL, *mean = NULL;
    claim_seed *cs = NULL;
    int ns = npos;

    for (size_t j = 0; j < sizeof metrics / sizeof metrics[0]; j++)
        if (strcmp(metric, metrics[j].name) == 0)
            md = &metrics[j];
    if (npos < 1) {
        code = cli_error(sub, CLI_BAD, "missing TRAJ.csv (see --help)");
        goto done;
    }
    if (!md) {
        code = cli_error(sub, CLI_BAD, "--metric: unknown metric '%s' (bregman_dir, "
                         "one_minus_cosine, one_minus_margin, loss, log_loss, norm_p)", metric);
        goto done;
    }
    if (fams && (code = parse_families(sub, fams, fam, &nf)) != CLI_OK)
        goto done;
    if (claim && !(bound = mdatt_expr_parse(claim, err))) {
        code = cli_error(sub, CLI_BAD, "--claim: %s in '%s'", err, claim);
        goto done;
    }
    if (k0 >= 0 && k1 >= 0 && k0 > k1) {
        code = cli_error(sub, CLI_BAD, "--from %ld is after --to %ld", k0, k1);
        goto done;
    }
    if (!(S = calloc(ns, sizeof *S))) {
        code = cli_error(sub, CLI_FAIL, "out of memory");
        goto done;
    }
    for (int s = 0; s < ns; s++)
        if ((code = load_series(sub, pos[s], md, &S[s])) != CLI_OK)
            goto done;

    /* window */
    double kend = INFINITY;
    for (int s = 0; s < ns; s++)
        if (S[s].k[S[s].nrow - 1] < kend)
            kend = S[s].k[S[s].nrow - 1];
    const double K1 = k1 >= 0 ? (double)k1 : kend;
    const double K0 = k0 >= 0 ? (double)k0 : fmax(1.0, floor(K1 / 10));
    if (K0 > K1) {
        code = cli_error(sub, CLI_BAD, "window: from %g is after to %g", K0, K1);
        goto done;
    }
    long kmin_fit = 1;
    for (int f = 0; f < nf; f++)
        if (mdatt_family_kmin(fam[f]) > kmin_fit)
            kmin_fit = mdatt_family_kmin(fam[f]);

    /* common points: k of the first file in the window, present and usable everywhere */
    const int negate = strcmp(md->name, "log_loss") == 0;
    kfit = malloc(sizeof(double) * S[0].nrow);
    logy = malloc(sizeof(double) * S[0].nrow * ns);
    mean = malloc(sizeof(double) * S[0].nrow);
    if (!kfit || !logy || !mean) {
        code = cli_error(sub, CLI_FAIL, "out of memory");
        goto done;
    }
    int m = 0;
    long dropped = 0;
    for (long r = 0; r < S[0].nrow; r++) {
        double k = S[0].k[r];
        if (k < K0 || k > K1 || k < (double)kmin_fit)
            continue;
        int ok = 1;
        for (int s = 0; s < ns && ok; s++) {
            long at = s ? find_k(S[s].k, S[s].nrow, k) : r;
            double y = at < 0 ? NAN : negate ? -S[s].y[at] : S[s].y[at];
            ok = at >= 0 && y > 0 && isfinite(y);
        }
        if (!ok) {
            dropped++;
            continue;
        }
        kfit[m++] = k;
    }
    /* logy is seed-major: S x m */
    for (int s = 0; s < ns; s++)
        for (int j = 0; j < m; j++) {
            double y = S[s].y[find_k(S[s].k, S[s].nrow, kfit[j])];
            logy[(size_t)s * m + j] = log(negate ? -y : y);
        }
    if (m < 3) {
        code = cli_error(sub, CLI_BAD, "only %d usable points in the window [%g, %g] (k >= %ld, "
                         "logged in every file, positive finite %s%s): need at least 3",
                         m, K0, K1, kmin_fit, negate ? "-" : "", md->name);
        goto done;
    }
    for (int j = 0; j < m; j++) {
        mean[j] = 0;
        for (int s = 0; s < ns; s++)
            mean[j] += logy[(size_t)s * m + j];
        mean[j] /= ns;
    }

    /* fits on the mean curve, bootstrap per family */
    mdatt_fit fit[MDATT_NFAM];
    double ci[MDATT_NFAM][4];
    for (int f = 0; f < nf; f++) {
        if (mdatt_fit_family(fam[f], kfit, mean, m, &fit[f]) != MDATT_OK) {
            code = cli_error(sub, CLI_BAD, "family %s: degenerate fit on %d points",
                             mdatt_family_name(fam[f]), m);
            goto done;
        }
        if (mdatt_fit_bootstrap(fam[f], kfit, logy, ns, m, (int)boot, (uint64_t)seed, &ci[f][0],
                                &ci[f][1], &ci[f][2], &ci[f][3]) != MDATT_OK) {
            code = cli_error(sub, CLI_FAIL, "bootstrap of %s failed", mdatt_family_name(fam[f]));
            goto done;
        }
    }
    const int best = mdatt_fit_select(fit, nf);
    mdatt_fit *per = malloc(sizeof(mdatt_fit) * ns);
    if (!per) {
        code = cli_error(sub, CLI_FAIL, "out of memory");
        goto done;
    }
    for (int s = 0; s < ns; s++)
        mdatt_fit_family(fam[best], kfit, logy + (size_t)s * m, m, &per[s]);

    /* claim */
    int seeds_ok = ns;
    if (bound) {
        if (!(cs = calloc(ns, sizeof *cs))) {
            free(per);
            code = cli_error(sub, CLI_FAIL, "out of memory");
            goto done;
        }
        for (int s = 0; s < ns; s++) {
            for (long r = 0; r < S[s].nrow; r++) {
                double k = S[s].k[r];
                if (k < K0 || k > K1)
                    continue;
                cs[s].checked++;
                double b = mdatt_expr_eval(bound, k), y = S[s].y[r];
                if (!cs[s].failed && !(y <= b)) {
                    cs[s].failed = 1;
                    cs[s].k = (long)k;
                    cs[s].value = y;
                    cs[s].bound = b;
                }
            }
            if (cs[s].checked == 0) {
                free(per);
                code = cli_error(sub, CLI_BAD, "%s: no logged k in [%g, %g] to check the claim",
                                 S[s].path, K0, K1);
                goto done;
            }
            seeds_ok -= cs[s].failed;
        }
    }

    /* human table */
    printf("rate: %s%s over %d seed%s, window [%g, %g], %d points (k >= %ld; %ld dropped)\n",
           negate ? "-" : "", md->name, ns, ns == 1 ? "" : "s", K0, K1, m, kmin_fit, dropped);
    printf("  %-9s %-20s %-14s %-14s %-12s %s\n", "family", "formula", "a", "b", "rmse(log)",
           "95% bootstrap interval");
    for (int f = 0; f < nf; f++) {
        char bs[32] = "-";
        if (mdatt_family_nparam(fam[f]) == 2)
            snprintf(bs, sizeof bs, "%.6g", fit[f].b);
        printf("%c %-9s %-20s %-14.6g %-14s %-12.4g", f == best ? '*' : ' ',
               mdatt_family_name(fam[f]), formula(fam[f]), fit[f].a, bs, fit[f].rmse);
        if (mdatt_family_nparam(fam[f]) == 2)
            printf(" b in [%.6g, %.6g]", ci[f][2], ci[f][3]);
        else
            printf(" a in [%.6g, %.6g]", ci[f][0], ci[f][1]);
        putchar('\n');
    }
    printf("chosen: %s (lowest RMSE of log y; ties to fewer parameters)\n",
           mdatt_family_name(fam[best]));
    if (bound) {
        printf("claim: %s <= %s for k in [%g, %g]: %s (%d/%d seeds)\n", md->name, claim, K0, K1,
               seeds_ok == ns ? "HOLDS" : "FAILS", seeds_ok, ns);
        for (int s = 0; s < ns; s++)
            if (cs[s].failed)
                printf("  %s: k=%ld value %.9g > bound %.9g\n", S[s].path, cs[s].k, cs[s].value,
                       cs[s].bound);
    }

    if (out) {
        mdatt_outfile o;
        if (mdatt_outfile_open(&o, out, err) != MDATT_OK) {
            free(per);
            code = cli_error(sub, CLI_FAIL, "%s", err);
            goto done;
        }
        FILE *f = o.f;
        fprintf(f, "{\n  \"format\": \"mdatt-rate/1\",\n  \"metric\": \"%s\",\n"
                   "  \"fitted_quantity\": \"%s%s\",\n  \"inputs\": [",
                md->name, negate ? "-" : "", md->name);
        for (int s = 0; s < ns; s++) {
            fputs(s ? ", " : "", f);
            cli_json_str(f, S[s].path);
        }
        fprintf(f, "],\n  \"seeds\": %d,\n  \"window\": {\"from\": %.17g, \"to\": %.17g, "
                   "\"k_min_fit\": %ld, \"points\": %d, \"dropped\": %ld},\n",
                ns, K0, K1, kmin_fit, m, dropped);
        fputs("  \"mean_curve\": \"geometric mean over seeds (mean of log y)\",\n"
              "  \"criterion\": \"" CRITERION_TEXT "\",\n", f);
        fprintf(f, "  \"bootstrap\": {\"B\": %ld, \"seed\": %ld, \"percentiles\": [2.5, 97.5]},\n"
                   "  \"families\": [",
                boot, seed);
        for (int j = 0; j < nf; j++) {
            fprintf(f, "%s\n    {\"family\": \"%s\", \"formula\": \"%s\", \"nparam\": %d, \"a\": ",
                    j ? "," : "", mdatt_family_name(fam[j]), formula(fam[j]),
                    mdatt_family_nparam(fam[j]));
            put_fit(f, &fit[j], ci[j], ", ");
            fputs(", \"rmse\": ", f);
            cli_json_num(f, fit[j].rmse);
            fputc('}', f);
        }
        fprintf(f, "\n  ],\n  \"chosen\": \"%s\",\n  \"a\": ", mdatt_family_name(fam[best]));
        put_fit(f, &fit[best], ci[best], ",\n  ");
        fputs(",\n  \"per_seed\": [", f);
        for (int s = 0; s < ns; s++) {
            fprintf(f, "%s\n    {\"file\": ", s ? "," : "");
            cli_json_str(f, S[s].path);
            fputs(", \"a\": ", f);
            cli_json_num(f, per[s].a);
            fputs(", \"b\": ", f);
            cli_json_num(f, per[s].b);
            fputs(", \"rmse\": ", f);
            cli_json_num(f, per[s].rmse);
            fputc('}', f);
        }
        fputs("\n  ]", f);
        if (bound) {
            fputs(",\n  \"claim\": {\"expr\": ", f);
            cli_json_str(f, claim);
            fprintf(f, ", \"from\": %.17g, \"to\": %.17g, \"holds\": %s, \"seeds_ok\": %d, "
                       "\"seeds\": %d, \"fraction\": %.17g, \"violations\": [",
                    K0, K1, seeds_ok == ns ? "true" : "false", seeds_ok, ns, (double)seeds_ok / ns);
            int first = 1;
            for (int s = 0; s < ns; s++) {
                if (!cs[s].failed)
                    continue;
                fprintf(f, "%s\n    {\"file\": ", first ? "" : ",");
                first = 0;
                cli_json_str(f, S[s].path);
                fprintf(f, ", \"k\": %ld, \"value\": ", cs[s].k);
                cli_json_num(f, cs[s].value);
                fputs(", \"bound\": ", f);
                cli_json_num(f, cs[s].bound);
                fputc('}', f);
            }
            fputs(first ? "]}" : "\n  ]}", f);
        }
        fputs("\n}\n", f);
        if (mdatt_outfile_commit(&o, err) != MDATT_OK) {
            free(per);
            code = cli_error(sub, CLI_FAIL, "%s", err);
            goto done;
        }
    }
    free(per);
    code = bound && seeds_ok < ns ? CLI_FAIL : CLI_OK;
done:
    if (S)
        for (int s = 0; s < ns; s++) {
            free(S[s].k);
            free(S[s].y);
        }
    free(S);
    free(cs);
    free(kfit);
    free(logy);
    free(mean);
    mdatt_expr_free(bound);
    free(pos);
    return code;
}
