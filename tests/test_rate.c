/* test_rate.c - rate fits on synthetic curves with known parameters, the
 * bootstrap over seeds, the bound-expression parser, and `mdatt rate`. */
#include <math.h>
#include "config.h"
#include <criterion/criterion.h>
#include "mdatt.h"
#include "mdatt_rate.h"
#include "common.h"

#define NPT 400

/* k = 3..NPT+2 and log y of a*g(k) for the family's closed form. */
static double truth(mdatt_family f, double a, double b, double k)
{
    switch (f) {
    case MDATT_FAM_POWER: return a * pow(k, -b);
    case MDATT_FAM_LOGPOWER: return a * pow(log(k), -b);
    case MDATT_FAM_LOGLOG: return a * log(log(k)) / log(k);
    case MDATT_FAM_LINEAR: return a * k;
    case MDATT_FAM_LOG: return a * log(k);
    case MDATT_FAM_EXP: return a * exp(-b * k);
    default: return NAN;
    }
}

static void fit_all(const double *k, const double *ly, int m, mdatt_fit *fits)
{
    for (int f = 0; f < MDATT_NFAM; f++)
        cr_assert_eq(mdatt_fit_family((mdatt_family)f, k, ly, m, &fits[f]), MDATT_OK);
}

static void recover(mdatt_family f, double a, double b)
{
    double k[NPT], ly[NPT];
    for (int j = 0; j < NPT; j++) {
        k[j] = 3 + 7.0 * j;
        ly[j] = log(truth(f, a, b, k[j]));
    }
    mdatt_fit fits[MDATT_NFAM];
    fit_all(k, ly, NPT, fits);
    int pick = mdatt_fit_select(fits, MDATT_NFAM);
    cr_expect_eq(pick, (int)f, "family %s chose %s", mdatt_family_name(f),
                 mdatt_family_name((mdatt_family)pick));
    cr_expect(fabs(fits[f].a - a) < 1e-8 * fabs(a), "%s: a=%.17g", mdatt_family_name(f), fits[f].a);
    if (mdatt_family_nparam(f) == 2)
        cr_expect(fabs(fits[f].b - b) < 1e-8, "%s: b=%.17g", mdatt_family_name(f), fits[f].b);
    else
        cr_expect(isnan(fits[f].b));
    cr_expect(fits[f].rmse < 1e-12);
    cr_expect(fabs(mdatt_fit_eval(&fits[f], 1234.0) / truth(f, a, b, 1234.0) - 1) < 1e-8);
}

Test(fit, exact_power) { recover(MDATT_FAM_POWER, 2.5, 0.7); }
Test(fit, exact_exponential) { recover(MDATT_FAM_EXP, 3.0, 0.02); }
Test(fit, exact_power_growth) { recover(MDATT_FAM_POWER, 0.01, -1.37); }
Test(fit, exact_logpower) { recover(MDATT_FAM_LOGPOWER, 0.3, 1.5); }
Test(fit, exact_loglog) { recover(MDATT_FAM_LOGLOG, 0.8, NAN); }
Test(fit, exact_linear_tie_to_fewer_parameters) { recover(MDATT_FAM_LINEAR, 0.2, NAN); }
Test(fit, exact_log_tie_to_fewer_parameters) { recover(MDATT_FAM_LOG, 3.0, NAN); }

Test(fit, domain_and_size_errors)
{
    double k[3] = {2, 5, 9}, ly[3] = {0, -1, -2}, k1[2] = {3, 3}, ly1[2] = {0, 1};
    mdatt_fit fit;
    cr_expect_eq(mdatt_fit_family(MDATT_FAM_LOGLOG, k, ly, 3, &fit), MDATT_EINVAL, "k=2 < 3");
    cr_expect_eq(mdatt_fit_family(MDATT_FAM_POWER, k, ly, 2, &fit), MDATT_EINVAL, "2 points");
    cr_expect_eq(mdatt_fit_family(MDATT_FAM_POWER, k1, ly1, 2, &fit), MDATT_EINVAL);
    cr_expect_eq(mdatt_fit_family(MDATT_FAM_LINEAR, k, ly, 2, &fit), MDATT_OK);
}

Test(fit, selection_rule)
{
    mdatt_fit f[3] = {{MDATT_FAM_POWER, 1, 1, 0.10, 9},
                      {MDATT_FAM_LOGLOG, 1, NAN, 0.10 * (1 + 1e-7), 9},
                      {MDATT_FAM_LOG, 1, NAN, 0.2, 9}};
    cr_expect_eq(mdatt_fit_select(f, 3), 1, "a tie goes to fewer parameters");
    f[1].rmse = 0.11;
    cr_expect_eq(mdatt_fit_select(f, 3), 0, "a clear winner wins");
    f[0].rmse = NAN;
    cr_expect_eq(mdatt_fit_select(f, 3), 1, "NaN never wins");
}

Test(fit, admissibility_rule)
{
    mdatt_fit_rule r;
    mdatt_fit_default_rule(&r);
    /* the exponential fit of an excess loss that hit the floating-point floor */
    mdatt_fit f[3] = {{MDATT_FAM_EXP, 1.011e119, 0.2835, 211, 20},
                      {MDATT_FAM_POWER, 3.0, 0.5, 945, 20},
                      {MDATT_FAM_LOGLOG, 2.0, NAN, 1.2, 20}};
    cr_expect_eq(mdatt_fit_select(f, 3), 2, "without the rule the lowest rmse wins");
    cr_expect_eq(mdatt_fit_select_admissible(f, 3, &r), -1, "no admissible fit");
    cr_expect(mdatt_fit_inadmissible(&f[0], &r) != NULL);
    f[2].rmse = 0.9;   /* within the bound: admissible, chosen */
    cr_expect_eq(mdatt_fit_select_admissible(f, 3, &r), 2);
    f[0].rmse = 0.5;   /* best rmse, but a = 1e119 is beyond |log10 a| <= 30 */
    cr_expect_eq(mdatt_fit_select_admissible(f, 3, &r), 2);
    cr_expect(strstr(mdatt_fit_inadmissible(&f[0], &r), "scale a"));
    f[0].a = 1e29;
    cr_expect_eq(mdatt_fit_select_admissible(f, 3, &r), 0);
    f[0].b = 101;      /* exponent beyond |b| <= 100 */
    cr_expect(strstr(mdatt_fit_inadmissible(&f[0], &r), "exponent b"));
    f[0].b = NAN;      /* a two-parameter fit needs a finite b */
    cr_expect(strstr(mdatt_fit_inadmissible(&f[0], &r), "not finite"));
    f[2].a = INFINITY;
    cr_expect(strstr(mdatt_fit_inadmissible(&f[2], &r), "not finite"));
    f[2].a = 2.0;
    f[2].rmse = nextafter(1.0, 2.0);
    cr_expect(strstr(mdatt_fit_inadmissible(&f[2], &r), "rmse"));
    f[2].rmse = 1.0;
    cr_expect(mdatt_fit_inadmissible(&f[2], &r) == NULL, "the bounds are inclusive");
}

Test(fit, bootstrap_interval_contains_truth)
{
    /* 12 seeds, b_s = 0.7 + 0.05 N(0,1), a_s = 2 exp(0.1 N(0,1)), plus
     * multiplicative noise per point; the interval is for the mean b. */
    enum { S = 12, M = 60 };
    double k[M], ly[S * M], mean[M];
    mdatt_rng r;
    mdatt_rng_seed(&r, 2024);
    for (int j = 0; j < M; j++)
        k[j] = 10 + 20.0 * j;
    for (int s = 0; s < S; s++) {
        double b = 0.7 + 0.05 * mdatt_rng_normal(&r), la = log(2) + 0.1 * mdatt_rng_normal(&r);
        for (int j = 0; j < M; j++)
            ly[s * M + j] = la - b * log(k[j]) + 0.02 * mdatt_rng_normal(&r);
    }
    double alo, ahi, blo, bhi;
    cr_assert_eq(mdatt_fit_bootstrap(MDATT_FAM_POWER, k, ly, S, M, 1000, 7, &alo, &ahi, &blo, &bhi),
                 MDATT_OK);
    cr_expect(blo < 0.7 && 0.7 < bhi, "[%g, %g]", blo, bhi);
    cr_expect(bhi - blo < 0.2 && bhi - blo > 0.005, "width %g", bhi - blo);
    cr_expect(alo < 2 && 2 < ahi, "[%g, %g]", alo, ahi);
    /* the point estimate on the mean curve lies inside its own interval */
    for (int j = 0; j < M; j++) {
        mean[j] = 0;
        for (int s = 0; s < S; s++)
            mean[j] += ly[s * M + j] / S;
    }
    mdatt_fit fit;
    mdatt_fit_family(MDATT_FAM_POWER, k, mean, M, &fit);
    cr_expect(blo <= fit.b && fit.b <= bhi);
    /* same seed, same interval; one-parameter families have no b interval */
    double alo2, ahi2, blo2, bhi2;
    mdatt_fit_bootstrap(MDATT_FAM_POWER, k, ly, S, M, 1000, 7, &alo2, &ahi2, &blo2, &bhi2);
    cr_expect(blo2 == blo && bhi2 == bhi);
    mdatt_fit_bootstrap(MDATT_FAM_LINEAR, k, ly, S, M, 50, 7, &alo2, &ahi2, &blo2, &bhi2);
    cr_expect(isnan(blo2) && isnan(bhi2) && alo2 <= ahi2);
}

/* ------------------------------------------------------------ expressions */

static double ev(const char *s, double k)
{
    char err[MDATT_ERRLEN] = "";
    mdatt_expr *e = mdatt_expr_parse(s, err);
    cr_assert(e, "'%s': %s", s, err);
    double v = mdatt_expr_eval(e, k);
    mdatt_expr_free(e);
    return v;
}

Test(expr, values_and_precedence)
{
    static const struct { const char *s; double k, want; } cases[] = {
        {"1+2*3", 0, 7},        {"(1+2)*3", 0, 9},     {"10-4-3", 0, 3},
        {"12/3/2", 0, 2},       {"2^3^2", 0, 512},     {"-2^2", 0, -4},
        {"2^-1", 0, 0.5},       {"- -1", 0, 1},        {"+k", 5, 5},
        {"k/2", 4, 2},          {"2*k^2", 3, 18},      {"pow(2, 10)", 0, 1024},
        {"sqrt(16)+abs(-3)", 0, 7}, {"exp(0)", 0, 1}, {"1e-3*k", 500, 0.5},
        {" 1.5E2 ", 0, 150},    {".5+k", 1, 1.5},      {"log(exp(k))", 2.5, 2.5},
        {"-(k-1)*-(k+1)", 3, 8}, {"2*-k", 3, -6},
    };
    for (size_t j = 0; j < sizeof cases / sizeof cases[0]; j++)
        cr_expect(fabs(ev(cases[j].s, cases[j].k) - cases[j].want) < 1e-12, "'%s' = %.17g",
                  cases[j].s, ev(cases[j].s, cases[j].k));
    double k = 100;
    cr_expect(fabs(ev("0.5*log(log(k))/log(k)", k) - 0.5 * log(log(k)) / log(k)) < 1e-16);
    cr_expect(isnan(ev("log(-k)", 1)));
}

Test(expr, errors_name_the_position)
{
    static const struct { const char *s, *want; } cases[] = {
        {"1+", "position 3"},        {"2*(3", "position 5"},  {"foo(k)", "position 1"},
        {"log k", "position 5"},     {"1 2", "position 3"},   {"pow(1)", "position 6"},
        {"", "position 1"},          {"1e", "position 2"},    {"k^", "position 3"},
        {")", "position 1"},         {"3*kk", "position 3"},  {"2 $ 3", "position 3"},
    };
    for (size_t j = 0; j < sizeof cases / sizeof cases[0]; j++) {
        char err[MDATT_ERRLEN] = "";
        mdatt_expr *e = mdatt_expr_parse(cases[j].s, err);
        cr_expect(e == NULL, "'%s' accepted", cases[j].s);
        mdatt_expr_free(e);
        cr_expect(strstr(err, cases[j].want) != NULL, "'%s': '%s' lacks '%s'", cases[j].s, err,
                  cases[j].want);
    }
    char deep[1200], err[MDATT_ERRLEN];
    memset(deep, '(', 1000);
    strcpy(deep + 1000, "1");
    cr_expect(mdatt_expr_parse(deep, err) == NULL && strstr(err, "deeply"));
}

/* y = 1/k at k = 10, 20, ..., 200 against bounds whose crossings are known. */
Test(claim, per_curve_violations_and_start)
{
    double k[20], y[20];
    for (int i = 0; i < 20; i++) {
        k[i] = 10.0 * (i + 1);
        y[i] = 1.0 / k[i];
    }
    char err[MDATT_ERRLEN];
    mdatt_expr *e = mdatt_expr_parse("0.035", err);   /* 1/k <= 0.035 iff k >= 28.6 */
    mdatt_claim_curve c;
    mdatt_claim_check(e, k, y, 20, 10, 200, &c);
    cr_expect_eq(c.checked, 20);
    cr_expect_eq(c.violations, 2, "k = 10 and 20");
    cr_expect(c.first_k == 10 && c.last_k == 20 && c.holds_from == 30, "%g %g %g", c.first_k,
              c.last_k, c.holds_from);
    cr_expect(c.first_value == 0.1 && c.first_bound == 0.035 && c.last_value == 0.05);
    mdatt_claim_check(e, k, y, 20, 25, 150, &c);       /* window [25, 150]: 30..150 */
    cr_expect(c.checked == 13 && c.violations == 0 && c.holds_from == 30 && isnan(c.last_k));
    y[11] = 1.0;                                      /* a spike at k = 120 */
    mdatt_claim_check(e, k, y, 20, 10, 200, &c);
    cr_expect(c.violations == 3 && c.first_k == 10 && c.last_k == 120 && c.holds_from == 130);
    y[19] = NAN;                                      /* NaN at the last k: never holds */
    mdatt_claim_check(e, k, y, 20, 10, 200, &c);
    cr_expect(c.violations == 4 && c.last_k == 200 && isnan(c.holds_from));
    mdatt_expr_free(e);
}

/* ------------------------------------------------------------------- CLI */

/* `mdatt ARGS` in dir with stdout to dir/out.txt and stderr to dir/err.txt;
 * both are returned (malloc'ed) through out and err. */
static int run_rate(const char *dir, char **out, char **err, const char *args)
{
    char cmd[4096], path[600];
    snprintf(cmd, sizeof cmd, "cd '%s' && '%s' %s >out.txt 2>err.txt", dir, mdatt_bin(), args);
    int rc = system(cmd);
    snprintf(path, sizeof path, "%s/out.txt", dir);
    *out = read_text(path);
    snprintf(path, sizeof path, "%s/err.txt", dir);
    *err = read_text(path);
    cr_assert(*out && *err);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : 128 + WTERMSIG(rc);
}

static char *read_in(const char *dir, const char *name)
{
    char path[600];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return read_text(path);
}

/* seed file: k, bregman_dir = a k^-b for k = 0, 10, ..., 1000 (y(0) = 1). */
static void write_curve(const char *dir, const char *name, double a, double b)
{
    char path[512], *buf = malloc(1 << 16);
    int len = snprintf(buf, 1 << 16, "k,bregman_dir,cosine\n");
    for (int k = 0; k <= 1000; k += 10) {
        double y = k ? a * pow(k, -b) : 1;
        len += snprintf(buf + len, (1 << 16) - len, "%d,%.17g,%.17g\n", k, y, 1 - y);
    }
    snprintf(path, sizeof path, "%s/%s", dir, name);
    write_text(path, buf);
    free(buf);
}

/* The library's whole analysis (mdatt_rate) on curves of closed form: two
 * seeds a_s k^-b with a_1 a_2 = A^2 fit the geometric mean A k^-b exactly
 * (per seed a_s and b), the window's defaults and clamping, the bound
 * verdict per curve, and each failure named in the result. */
Test(rate_lib, closed_form_analysis)
{
    enum { N = 200 };
    static double k[N], y1[N], y2[N];
    for (int j = 0; j < N; j++) {
        k[j] = 10.0 * (j + 1);          /* 10 .. 2000 */
        y1[j] = 2.0 * pow(k[j], -0.75);
        y2[j] = 8.0 * pow(k[j], -0.75); /* geometric mean of the scales: 4 */
    }
    const mdatt_rate_curve c[2] = {{N, k, y1}, {N, k, y2}};
    mdatt_rate_settings s;
    mdatt_rate_default_settings(&s);
    cr_assert_null(mdatt_rate_check_settings(&s));
    s.k1 = 5000;                        /* beyond the data: clamped to 2000 */
    char err[MDATT_ERRLEN] = "";
    mdatt_expr *bound = mdatt_expr_parse("3*k^(-0.75)", err);    /* between the seeds */
    cr_assert_not_null(bound);
    s.bound = bound;
    mdatt_rate_result r;
    cr_assert_eq(mdatt_rate(c, 2, &s, &r, err), MDATT_OK, "%s", err);
    cr_assert(r.k1_clamped);
    cr_assert_eq(r.K1, 2000.0);
    cr_assert_eq(r.K0, 200.0);          /* K1 / 10 */
    cr_assert_eq(r.m, 181);             /* k = 200 .. 2000 */
    cr_assert_eq(r.dropped, 0);
    cr_assert_geq(r.best, 0);
    cr_assert_eq(r.fam[r.best], MDATT_FAM_POWER);
    cr_assert_float_eq(r.fit[r.best].a, 4.0, 1e-9);
    cr_assert_float_eq(r.fit[r.best].b, 0.75, 1e-12);
    cr_assert_float_eq(r.per[0].a, 2.0, 1e-9);
    cr_assert_float_eq(r.per[1].a, 8.0, 1e-9);
    cr_assert_eq(r.seeds_ok, 1);        /* 2 k^-b holds, 8 k^-b never does */
    cr_assert_eq(r.claim[0].violations, 0);
    cr_assert_eq(r.claim[1].violations, r.claim[1].checked);
    int nh;
    cr_assert_eq(mdatt_rate_holds_from(&r, &nh), 200.0);
    cr_assert_eq(nh, 1);
    mdatt_rate_result_free(&r);

    s.bound = NULL;                     /* too few points: 3 needed */
    s.k0 = 1990;
    s.k1 = 2000;
    cr_assert_eq(mdatt_rate(c, 2, &s, &r, err), MDATT_EINVAL);
    cr_assert_eq(r.failure, MDATT_RATE_FEW_POINTS);
    cr_assert_eq(r.m, 2);
    mdatt_rate_result_free(&r);
    s.k0 = 3000;                        /* k1 is clamped below k0 */
    s.k1 = 4000;
    cr_assert_eq(mdatt_rate(c, 2, &s, &r, err), MDATT_EINVAL);
    cr_assert_eq(r.failure, MDATT_RATE_EMPTY_WINDOW);
    mdatt_rate_result_free(&r);
    s.k0 = NAN;                         /* a curve with one point: too few common ones */
    s.k1 = NAN;
    s.bound = bound;
    const mdatt_rate_curve late[2] = {{N, k, y1}, {1, k + N - 1, y2 + N - 1}};
    cr_assert_eq(mdatt_rate(late, 2, &s, &r, err), MDATT_EINVAL);
    cr_assert_eq(r.failure, MDATT_RATE_FEW_POINTS);  /* window [200, 2000], m = 1 */
    mdatt_rate_result_free(&r);
    const double kb[2] = {5, 4};        /* decreasing k: bad input naming the curve */
    const mdatt_rate_curve badk[1] = {{2, kb, y1}};
    cr_assert_eq(mdatt_rate(badk, 1, &s, &r, err), MDATT_EINVAL);
    cr_assert(strstr(err, "curves[0].k[1]"), "%s", err);
    mdatt_rate_result_free(&r);
    mdatt_expr_free(bound);
}


Test(cli_rate, fit_and_claims)
{
    char *dir = tmpdir_new(), err[1024], path[512];
    write_curve(dir, "s1.csv", 2.0, 0.5);
    write_curve(dir, "s2.csv", 2.2, 0.5);
    write_curve(dir, "s3.csv", 1.8, 0.5);
    int rc = run_mdatt(dir, err, sizeof err, "rate s1.csv s2.csv s3.csv --boot 50 -o r.json "
                                             "--claim '3*k^(-0.5)'");
    cr_expect_eq(rc, 0, "%s", err);
    snprintf(path, sizeof path, "%s/r.json", dir);
    char *txt = read_text(path);
    cr_assert(txt);
    cr_expect(strstr(txt, "\"chosen\": \"power\""), "%s", txt);
    cr_expect(strstr(txt, "\"holds\": true"));
    cr_expect(strstr(txt, "\"from\": 100"), "default window: the last 90%%");
    free(txt);
    /* a bound that s2 breaks first at k = 100 (2.2/10 > 0.21) */
    rc = run_mdatt(dir, err, sizeof err, "rate s1.csv s2.csv s3.csv --boot 20 -o r2.json "
                                         "--claim '2.1*k^(-1/2)'");
    cr_expect_eq(rc, 1);
    snprintf(path, sizeof path, "%s/r2.json", dir);
    txt = read_text(path);
    cr_assert(txt);
    cr_expect(strstr(txt, "\"holds\": false") && strstr(txt, "\"seeds_ok\": 2"), "%s", txt);
    cr_expect(strstr(txt, "\"file\": \"s2.csv\", \"k\": 100,"), "%s", txt);
    free(txt);
    /* one_minus_cosine falls back to 1 - cosine */
    rc = run_mdatt(dir, err, sizeof err, "rate s1.csv --metric one_minus_cosine --from 50 "
                                         "--boot 10 --families power,loglog");
    cr_expect_eq(rc, 0, "%s", err);
    tmpdir_free(dir);
}

Test(cli_rate, bad_input)
{
    char *dir = tmpdir_new(), err[1024], path[512];
    write_curve(dir, "s1.csv", 2.0, 0.5);
    snprintf(path, sizeof path, "%s/bad.csv", dir);
    write_text(path, "k,loss\n1,0.5\n2,x\n");
    static const struct { const char *args, *want; } cases[] = {
        {"rate s1.csv --claim '2*(k' -o r.json", "position 5"},
        {"rate s1.csv --metric loss -o r.json", "column loss missing"},
        {"rate s1.csv --metric nope -o r.json", "--metric"},
        {"rate bad.csv --metric loss -o r.json", "line 3, column loss"},
        {"rate s1.csv --from 500 --to 100 -o r.json", "--from"},
        {"rate s1.csv --families power,cubic -o r.json", "cubic"},
        {"rate -o r.json", "missing TRAJ"},
        {"rate s1.csv --from 995 -o r.json", "usable points"},
    };
    for (size_t j = 0; j < sizeof cases / sizeof cases[0]; j++) {
        int rc = run_mdatt(dir, err, sizeof err, "%s", cases[j].args);
        cr_expect_eq(rc, 2, "'%s' -> %d", cases[j].args, rc);
        cr_expect(strstr(err, "mdatt: rate: ") && strstr(err, cases[j].want), "'%s': %s",
                  cases[j].args, err);
    }
    snprintf(path, sizeof path, "%s/r.json", dir);
    cr_expect(!file_exists(path));
    tmpdir_free(dir);
}

/* Three seeds a k^-1/2 (a = 2.0, 2.2, 1.8) against 2.3 k^-1/2 - 1.2/k, which
 * holds iff 1.2 k^-1/2 <= 2.3 - a: seeds 1 and 3 from k = 36 and 6.25, seed 2
 * from k = 144, so on the logged k = 100..1000 seed 2 fails at 100..140. */
Test(cli_rate, verdict_per_seed_and_start)
{
    char *dir = tmpdir_new(), *out, *err;
    write_curve(dir, "s1.csv", 2.0, 0.5);
    write_curve(dir, "s2.csv", 2.2, 0.5);
    write_curve(dir, "s3.csv", 1.8, 0.5);
    int rc = run_rate(dir, &out, &err, "rate s1.csv s2.csv s3.csv --boot 20 -o r.json "
                                       "--claim '2.3*k^(-1/2) - 1.2/k'");
    cr_expect_eq(rc, 1, "%s", err);
    cr_expect(strstr(out, "verdict: FAILS: holds on 2 of 3 seeds; fails on seed 2 (s2.csv: 5 "
                          "of 91 points violate, first at k = 100"), "%s", out);
    cr_expect(strstr(out, "last at k = 140)"), "%s", out);
    cr_expect(strstr(out, "the bound holds from k >= 150 on 3 of 3 seeds"), "%s", out);
    cr_expect(strstr(out, "  2     s2.csv                         91          5        100"
                          "        140            150"), "%s", out);
    char *js = read_in(dir, "r.json");
    cr_assert(js);
    cr_expect(strstr(js, "\"holds_from\": 150, \"seeds_holding_from\": 3"), "%s", js);
    cr_expect(strstr(js, "{\"seed\": 2, \"file\": \"s2.csv\", \"points\": 91, "
                         "\"violating\": 5, \"last_k\": 140, \"holds_from\": 150}"), "%s", js);
    free(js);
    free(out);
    free(err);
    rc = run_rate(dir, &out, &err, "rate s1.csv s2.csv s3.csv --boot 20 --claim '3*k^(-1/2)'");
    cr_expect_eq(rc, 0, "%s", err);
    cr_expect(strstr(out, "verdict: HOLDS on all 3 of 3 seeds at every logged k in [100, 1000]"),
              "%s", out);
    free(out);
    free(err);
    tmpdir_free(dir);
}

Test(cli_rate, window_clamped_to_the_data)
{
    char *dir = tmpdir_new(), *out, *err;
    write_curve(dir, "s1.csv", 2.0, 0.5);
    int rc = run_rate(dir, &out, &err, "rate s1.csv --boot 5 --to 5000 -o r.json");
    cr_expect_eq(rc, 0, "%s", err);
    cr_expect(strstr(out, "note: --to 5000 is beyond the data: the last k logged in every file "
                          "is 1000"), "%s", out);
    cr_expect(strstr(out, "window [100, 1000]"), "K0 = K1/10 of the clamped window: %s", out);
    char *js = read_in(dir, "r.json");
    cr_assert(js);
    cr_expect(strstr(js, "\"from\": 100, \"to\": 1000, \"last_common_k\": 1000, "
                         "\"to_requested\": 5000"), "%s", js);
    free(js);
    free(out);
    free(err);
    rc = run_rate(dir, &out, &err, "rate s1.csv --boot 5 --from 2000");
    cr_expect_eq(rc, 2);
    cr_expect(strstr(err, "--from 2000 is beyond the data"), "%s", err);
    free(out);
    free(err);
    tmpdir_free(dir);
}

Test(cli_rate, one_seed_and_inadmissible_fits_are_said)
{
    char *dir = tmpdir_new(), *out, *err, path[600];
    write_curve(dir, "s1.csv", 2.0, 0.5);
    int rc = run_rate(dir, &out, &err, "rate s1.csv --boot 5");
    cr_expect_eq(rc, 0, "%s", err);
    cr_expect(strstr(err, "warning: one seed") && strstr(err, "zero width"), "%s", err);
    cr_expect(strstr(out, "(one seed: zero width)"), "%s", out);
    free(out);
    free(err);
    /* e^-k/2 down to k = 50, then the floating-point floor 1e-300: no family fits */
    snprintf(path, sizeof path, "%s/floor.csv", dir);
    FILE *f = fopen(path, "w");
    cr_assert(f);
    fputs("k,loss\n", f);
    for (int k = 1; k < 200; k++)
        fprintf(f, "%d,%.17g\n", k, k > 50 ? 1e-300 : exp(-0.5 * k));
    fclose(f);
    rc = run_rate(dir, &out, &err, "rate floor.csv floor.csv --metric loss --from 1 --boot 5 "
                                   "-o r.json");
    cr_expect_eq(rc, 0, "%s", err);
    cr_expect(strstr(out, "chosen: none: no admissible fit"), "%s", out);
    cr_expect(strstr(out, "not admissible: "), "%s", out);
    cr_expect(strstr(err, "warning: no admissible fit"), "%s", err);
    char *js = read_in(dir, "r.json");
    cr_assert(js);
    cr_expect(strstr(js, "\"chosen\": null"), "%s", js);
    cr_expect(!strstr(js, "\"per_seed\""));
    free(js);
    free(out);
    free(err);
    tmpdir_free(dir);
}

Test(cli_rate, plot_writes_data_and_script)
{
    char *dir = tmpdir_new(), *out, *err, path[600];
    write_curve(dir, "s1.csv", 2.0, 0.5);
    write_curve(dir, "s2.csv", 2.2, 0.5);
    snprintf(path, sizeof path, "%s/fig", dir);
    mkdir(path, 0777);
    int rc = run_rate(dir, &out, &err, "rate s1.csv s2.csv --boot 5 --claim '3*k^(-1/2)' "
                                       "--plot fig/r -o r.json");
    cr_expect_eq(rc, 0, "%s", err);
    char *tsv = read_in(dir, "fig/r.tsv"), *gp = read_in(dir, "fig/r.gp");
    cr_assert(tsv && gp, "%s", err);
    /* block 0 starts with seed 1 at k = 10 (k = 0 is off the log axis): 2/sqrt(10) */
    char want[128];
    snprintf(want, sizeof want, "# seed 1: s1.csv\nk\tvalue\n10\t%.17g\n", 2.0 * pow(10, -0.5));
    cr_expect(strstr(tsv, want), "%s", tsv);
    cr_expect(strstr(tsv, "# seed 2: s2.csv"));
    snprintf(want, sizeof want, "# bound\nk\tvalue\n100\t%.17g\n", 3 * pow(100, -0.5));
    cr_expect(strstr(tsv, want), "the bound on the window: %s", tsv);
    for (const char *w = "set xlabel 'iteration k (log scale)'\0set ylabel 'bregman_dir (log "
                         "scale)'\0set logscale x\0set logscale y\0index 0 using 1:2\0"
                         "title 'seed 2: s2.csv'\0title 'claimed bound: 3*k^(-1/2)'\0"
                         "a*k^(-b), a = 2.098, b = 0.5\0set output 'r.'.fmt\0";
         *w; w += strlen(w) + 1)
        cr_expect(strstr(gp, w), "missing '%s' in\n%s", w, gp);
#ifdef GNUPLOT_PATH
    snprintf(path, sizeof path, "%s/fig/r.svg", dir);
    cr_expect(file_exists(path), "rendered: %s", err);
#endif
    free(tsv);
    free(gp);
    free(out);
    free(err);
    /* an output that cannot be written leaves none of the others */
    rc = run_rate(dir, &out, &err, "rate s1.csv s2.csv --boot 5 --plot nope/r -o r2.json");
    cr_expect_eq(rc, 1);
    cr_expect(strstr(err, "nope/r.tsv"), "%s", err);
    snprintf(path, sizeof path, "%s/r2.json", dir);
    cr_expect(!file_exists(path));
    free(out);
    free(err);
    rc = run_rate(dir, &out, &err, "rate s1.csv s2.csv --boot 5 --plot fig/q -o nope/r.json");
    cr_expect_eq(rc, 1);
    snprintf(path, sizeof path, "%s/fig/q.tsv", dir);
    cr_expect(!file_exists(path), "the figure's data is removed with the failed JSON");
    free(out);
    free(err);
    tmpdir_free(dir);
}

/* mdatt_family_kmin is the smallest k >= 1 at which the family's curve
 * (mdatt_fit_eval with a = 1, b = +-1) is finite and positive: log k needs
 * k >= 2 (log 1 = 0), log log k / log k needs k >= 3 (log log 2 < 0). */
Test(rate, family_kmin_is_where_the_curve_starts)
{
    const long want[MDATT_NFAM] = {1, 2, 3, 1, 2, 1};
    for (int f = 0; f < MDATT_NFAM; f++) {
        cr_expect_eq(mdatt_family_kmin((mdatt_family)f), want[f], "%s",
                     mdatt_family_name((mdatt_family)f));
        for (double b = -1; b <= 1; b += 2) {
            const mdatt_fit fit = {(mdatt_family)f, 1.0, b, 0.0, 0};
            long first = 0;
            for (long k = 1; k <= 10 && !first; k++) {
                const double y = mdatt_fit_eval(&fit, (double)k);
                if (isfinite(y) && y > 0)
                    first = k;
            }
            cr_expect_eq(first, mdatt_family_kmin((mdatt_family)f), "%s, b = %g: first k %ld",
                         mdatt_family_name((mdatt_family)f), b, first);
        }
    }
}

/* mdatt_fit_select's tie rule (mdatt_rate.h): fits within 1e-6 relative of
 * the lowest rmse tie; fewer parameters win, then the earlier family. */
Test(rate, fit_select_resolves_ties_in_the_documented_order)
{
    const double r = 0.25, tie = 0.25 * (1 + 5e-7), apart = 0.25 * (1 + 2e-6);
    const struct { mdatt_family f[3]; double rmse[3]; int want; } cases[] = {
        {{MDATT_FAM_POWER, MDATT_FAM_LOGPOWER, MDATT_FAM_EXP}, {r, r, r}, 0},
        {{MDATT_FAM_EXP, MDATT_FAM_LOGPOWER, MDATT_FAM_POWER}, {tie, r, tie}, 0},
        {{MDATT_FAM_POWER, MDATT_FAM_LOG, MDATT_FAM_LINEAR}, {r, tie, tie}, 1},
        {{MDATT_FAM_POWER, MDATT_FAM_LOG, MDATT_FAM_LINEAR}, {r, apart, apart}, 0},
        {{MDATT_FAM_LOGLOG, MDATT_FAM_POWER, MDATT_FAM_LOG}, {apart, r, tie}, 2},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        mdatt_fit fits[3];
        for (int j = 0; j < 3; j++)
            fits[j] = (mdatt_fit){cases[c].f[j], 1.0, 1.0, cases[c].rmse[j], 10};
        cr_expect_eq(mdatt_fit_select(fits, 3), cases[c].want, "case %zu", c);
    }
}

/* The bootstrap's smallest valid sizes: one seed (every resample is that
 * seed: the interval is the seed's own fit, a point), one replicate, three
 * points for a two-parameter family; zero of any is refused. */
Test(rate, bootstrap_smallest_sizes)
{
    const double k[3] = {1, 2, 4}, ly[3] = {log(3.0), log(3.0 / 4), log(3.0 / 16)};
    double alo, ahi, blo, bhi;
    cr_assert_eq(mdatt_fit_bootstrap(MDATT_FAM_POWER, k, ly, 1, 3, 1, 7, &alo, &ahi, &blo, &bhi),
                 MDATT_OK);
    cr_expect(fabs(alo - 3) <= 1e-12 && fabs(ahi - 3) <= 1e-12, "a in [%g, %g]", alo, ahi);
    cr_expect(fabs(blo - 2) <= 1e-12 && fabs(bhi - 2) <= 1e-12, "b in [%g, %g]", blo, bhi);
    const int bad[3][3] = {{0, 3, 1}, {1, 0, 1}, {1, 3, 0}};   /* S, m, B */
    for (int c = 0; c < 3; c++)
        cr_expect_eq(mdatt_fit_bootstrap(MDATT_FAM_POWER, k, ly, bad[c][0], bad[c][1], bad[c][2],
                                         7, &alo, &ahi, &blo, &bhi), MDATT_EINVAL, "case %d", c);
}

/* mdatt_rate_check_settings at the edges of the window's range [0, 9e15]
 * (NAN: not given): each edge accepted, one step beyond refused naming the
 * field, for k0 and k1 alike. */
/* The count and bootstrap ranges are inclusive at both ends: nfam in
 * [1, MDATT_NFAM], boot in [1, 1e7]; one beyond either end names the field. */
Test(rate, family_count_and_bootstrap_edges)
{
    mdatt_rate_settings s;
    const struct { int nfam; long boot; const char *field; } c[] = {
        {1, 1000, NULL}, {MDATT_NFAM, 1000, NULL}, {0, 1000, "nfam:"},
        {MDATT_NFAM + 1, 1000, "nfam:"}, {-1, 1000, "nfam:"},
        {MDATT_NFAM, 1, NULL}, {MDATT_NFAM, 10000000, NULL}, {MDATT_NFAM, 0, "boot:"},
        {MDATT_NFAM, 10000001, "boot:"}, {MDATT_NFAM, -5, "boot:"}};
    for (size_t k = 0; k < sizeof c / sizeof *c; k++) {
        mdatt_rate_default_settings(&s);
        s.nfam = c[k].nfam;
        s.boot = c[k].boot;
        const char *msg = mdatt_rate_check_settings(&s);
        if (c[k].field)
            cr_expect(msg && strncmp(msg, c[k].field, strlen(c[k].field)) == 0,
                      "nfam %d boot %ld: %s", c[k].nfam, c[k].boot, msg ? msg : "(accepted)");
        else
            cr_expect_null(msg, "nfam %d boot %ld: %s", c[k].nfam, c[k].boot, msg);
    }
}

Test(rate, window_settings_edges)
{
    mdatt_rate_settings s;
    const double ok[4] = {NAN, 0.0, 9e15, 1.0}, bad[3] = {-1e-300, nextafter(9e15, 1e16), -INFINITY};
    for (int which = 0; which < 2; which++) {
        for (int c = 0; c < 4; c++) {
            mdatt_rate_default_settings(&s);
            *(which ? &s.k1 : &s.k0) = ok[c];
            cr_expect_null(mdatt_rate_check_settings(&s), "k%d = %g", which, ok[c]);
        }
        for (int c = 0; c < 3; c++) {
            mdatt_rate_default_settings(&s);
            *(which ? &s.k1 : &s.k0) = bad[c];
            const char *msg = mdatt_rate_check_settings(&s);
            cr_expect(msg && strncmp(msg, which ? "k1:" : "k0:", 3) == 0, "k%d = %g: %s", which,
                      bad[c], msg ? msg : "(accepted)");
        }
    }
}
