/* test_bench.c - `mdatt bench`: a reduced Fig. 4 reproduction against values
 * computed offline by an independent numpy/scipy implementation
 * (tests/data/reference_fig4.py), the authors'-protocol table against a
 * recomputation run by run, the cone start's selection checked for local
 * optimality from the SVM's margins, thread-count independence of the
 * reports, and configuration errors that name the field. */
#include <criterion/criterion.h>
#include <math.h>
#include "common.h"
#include "mdatt.h"
#include "mdatt_check.h"
#include "attsvm.h"
#include "../bench/runs.h"

static char *dir;
static char err[4096];
static void setup(void) { dir = tmpdir_new(); }
static void teardown(void) { tmpdir_free(dir); }
TestSuite(bench, .init = setup, .fini = teardown, .timeout = 120);

static const char *srcdir(void)
{
    const char *s = getenv("MDATT_SRCDIR");
    return s ? s : ".";
}

/* Parse "p_alg,p_svm,mean,std,seeds" rows (header skipped). */
static int read_table(const char *path, double rows[][5], int max)
{
    FILE *f = fopen(path, "r");
    char line[512];
    int n = 0;
    if (!f)
        return -1;
    if (!fgets(line, sizeof line, f)) {
        fclose(f);
        return -1;
    }
    while (n < max && fgets(line, sizeof line, f) &&
           sscanf(line, "%lf,%lf,%lf,%lf,%lf", &rows[n][0], &rows[n][1], &rows[n][2], &rows[n][3],
                  &rows[n][4]) == 5)
        n++;
    fclose(f);
    return n;
}

Test(bench, reduced_fig4_matches_independent_reference)
{
    cr_assert_eq(run_mdatt(dir, err, sizeof err, "bench '%s/tests/data/fig4_small.json' -o r2 --threads 2 --quiet",
                           srcdir()), 0, "%s", err);
    char got_path[600], want_path[600];
    snprintf(got_path, sizeof got_path, "%s/r2/paper_fig4/table.csv", dir);
    snprintf(want_path, sizeof want_path, "%s/tests/data/fig4_small_expected.csv", srcdir());
    double got[16][5], want[16][5];
    int ng = read_table(got_path, got, 16), nw = read_table(want_path, want, 16);
    cr_assert_eq(nw, 9, "expected table has 9 rows");
    cr_assert_eq(ng, nw, "table.csv rows: %d", ng);
    /* Tolerances: the reference's SVM is solved by L-BFGS-B on the dual to about
     * 1e-9 relative; 1e-6 relative leaves room for it and none for a wrong
     * token, step or divergence. */
    for (int r = 0; r < nw; r++) {
        cr_assert(got[r][0] == want[r][0] && got[r][1] == want[r][1] && got[r][4] == want[r][4],
                  "row %d keys", r);
        cr_assert(fabs(got[r][2] - want[r][2]) <= 1e-6 * want[r][2],
                  "p_alg=%g p_svm=%g: mean %.10g, reference %.10g", want[r][0], want[r][1], got[r][2], want[r][2]);
        cr_assert(fabs(got[r][3] - want[r][3]) <= 1e-6 * want[r][3] + 1e-12,
                  "p_alg=%g p_svm=%g: std %.10g, reference %.10g", want[r][0], want[r][1], got[r][3], want[r][3]);
    }
}

Test(bench, reports_do_not_depend_on_the_thread_count)
{
    for (int th = 1; th <= 2; th++)
        cr_assert_eq(run_mdatt(dir, err, sizeof err, "bench '%s/tests/data/fig4_small.json' -o r%d --threads %d --quiet",
                               srcdir(), th, th), 0, "%s", err);
    const char *files[] = {"table.csv", "table.md", "tokens.csv", "certificates.csv", "curves_p3.tsv",
                           "fig4.svg", "fig4_log.svg", "table_paper_protocol.csv", "protocols.tsv",
                           "protocols.svg"};
    for (size_t k = 0; k < sizeof files / sizeof files[0]; k++) {
        char a[600], b[600];
        snprintf(a, sizeof a, "%s/r1/paper_fig4/%s", dir, files[k]);
        snprintf(b, sizeof b, "%s/r2/paper_fig4/%s", dir, files[k]);
        char *x = read_text(a), *y = read_text(b);
        if (strstr(files[k], ".svg") && !x && !y)
            continue;               /* built without gnuplot: no figures to compare */
        cr_assert(x && y, "%s missing", files[k]);
        cr_assert_str_eq(x, y, "%s differs between 1 and 2 threads", files[k]);
        free(x);
        free(y);
    }
}

static void expect_bad_config(const char *json, const char *needle)
{
    char p[600];
    snprintf(p, sizeof p, "%s/cfg.json", dir);
    write_text(p, json);
    int rc = run_mdatt(dir, err, sizeof err, "bench cfg.json -o out --quiet");
    cr_assert_eq(rc, 2, "%s: exit %d (%s)", json, rc, err);
    cr_assert(strstr(err, needle), "'%s' lacks '%s'", err, needle);
}

Test(bench, bad_configurations_name_the_field)
{
    expect_bad_config("{", "malformed JSON");
    expect_bad_config("{\"n\": 3}", "experiment");
    expect_bad_config("{\"experiment\": \"fig5\"}", "unknown 'fig5'");
    expect_bad_config("{\"experiment\": \"paper_fig4\", \"p\": [2], \"iters\": [10]}", "seeds");
    expect_bad_config("{\"experiment\": \"paper_fig4\", \"seeds\": {\"from\": 1, \"to\": 2}, "
                      "\"p\": [1, 2], \"iters\": [10, 10]}", "p[0]");
    expect_bad_config("{\"experiment\": \"paper_fig4\", \"seeds\": {\"from\": 1, \"to\": 2}, "
                      "\"p\": [2, 3], \"iters\": [10]}", "iters");
    expect_bad_config("{\"experiment\": \"paper_fig4\", \"seeds\": {\"from\": 1, \"to\": 2}, "
                      "\"p\": [2], \"iters\": [10], \"lr\": -1}", "lr");
    expect_bad_config("{\"experiment\": \"rates\", \"p\": [2]}", "normalized");
    expect_bad_config("{\"experiment\": \"paper_fig4\", \"output\": \"../x\"}", "output");
    /* the cone start's perturbation is a fraction of the cone's half-width: 1 may leave it */
    const char *rd = "{\"experiment\": \"realdata\", \"seeds\": {\"from\": 1, \"to\": 1}, \"optimizers\": "
                     "[{\"name\": \"GD\", \"kind\": \"md\", \"p\": 2, \"lr\": [0.1]}], \"svm_p\": [2], ";
    char c[400];
    snprintf(c, sizeof c, "%s\"svm_cone_perturb\": 1}", rd);
    expect_bad_config(c, "svm_cone_perturb: in [0, 1)");
    snprintf(c, sizeof c, "%s\"svm_cone_margin\": -1}", rd);
    expect_bad_config(c, "svm_cone_margin: >= 0");
    snprintf(c, sizeof c, "%s\"svm_cone_step\": 0}", rd);
    expect_bad_config(c, "svm_cone_step: must be > 0");
    snprintf(c, sizeof c, "%s\"svm_cone_p\": \"2\"}", rd);
    expect_bad_config(c, "svm_cone_p");
}

/* Sizes in a configuration are checked against each other: the default
 * entries W[1][2], W[3][4] of paper_paths do not exist for d <= 4 (they were
 * read past the end of W), and the memory a configuration plans to hold is
 * estimated and bounded before anything is allocated. */
Test(bench, configuration_sizes_are_checked)
{
    expect_bad_config("{\"experiment\": \"paper_paths\", \"d\": 4, \"seeds\": {\"from\": 1, \"to\": 1}, "
                      "\"p\": [2], \"iters\": [10]}", "entries");
    expect_bad_config("{\"experiment\": \"paper_paths\", \"d\": 3, \"seeds\": {\"from\": 1, \"to\": 1}, "
                      "\"p\": [2], \"iters\": [10], \"entries\": [[0, 1], [2, 3]]}", "[0, 3)");
    expect_bad_config("{\"experiment\": \"paper_joint\", \"seeds\": {\"from\": 1, \"to\": 1}, "
                      "\"p\": [2], \"iters\": [1e9]}", "iters: the runs need an estimated 80 GB");
    expect_bad_config("{\"experiment\": \"paper_fig4\", \"n\": 100000, \"T\": 1000, \"d\": 100, "
                      "\"seeds\": {\"from\": 1, \"to\": 1}, \"p\": [2], \"iters\": [10]}",
                      "n, T, d, points");
    expect_bad_config("{\"experiment\": \"beyond_saturation\", \"n\": 100000, \"T\": 1000, \"d\": 100, "
                      "\"seeds\": {\"from\": 1, \"to\": 1}, \"p\": [2], \"checkpoints\": [10]}",
                      "n, T, d");
    /* the bound is a flag: a small one refuses the paper's own sizes */
    char p[600];
    snprintf(p, sizeof p, "%s/cfg.json", dir);
    write_text(p, "{\"experiment\": \"paper_paths\", \"seeds\": {\"from\": 1, \"to\": 1}, "
                  "\"p\": [2], \"iters\": [10]}");
    cr_assert_eq(run_mdatt(dir, err, sizeof err, "bench cfg.json -o out --quiet --max-memory 1e-9"), 2);
    cr_assert(strstr(err, "--max-memory"), "%s", err);
}

/* A run that fails keeps the previous index.md of its folder (it used to be
 * deleted before the experiment started); a run that succeeds replaces it. */
Test(bench, a_failed_run_keeps_the_old_index)
{
    char p[600];
    snprintf(p, sizeof p, "mkdir -p '%s/out/paper_paths'", dir);
    cr_assert_eq(system(p), 0);
    snprintf(p, sizeof p, "%s/out/paper_paths/index.md", dir);
    write_text(p, "OLD\n");
    expect_bad_config("{\"experiment\": \"paper_paths\", \"d\": 4, \"seeds\": {\"from\": 1, \"to\": 1}, "
                      "\"p\": [2], \"iters\": [10]}", "entries");
    char *s = read_text(p);
    cr_assert(s && strcmp(s, "OLD\n") == 0, "index.md: %s", s ? s : "(missing)");
    free(s);
    char c[600];
    snprintf(c, sizeof c, "%s/cfg.json", dir);
    write_text(c, "{\"experiment\": \"paper_paths\", \"seeds\": {\"from\": 1, \"to\": 1}, "
                  "\"p\": [2], \"iters\": [20], \"points\": 4}");
    cr_assert_eq(run_mdatt(dir, err, sizeof err, "bench cfg.json -o out --quiet --threads 1"), 0, "%s", err);
    s = read_text(p);
    cr_assert(s && strstr(s, "paths.svg"), "index.md: %s", s ? s : "(missing)");
    free(s);
    struct stat sb;
    cr_assert_eq(stat(p, &sb), 0);
    cr_assert_eq(sb.st_mode & 0777, 0666 & ~current_umask(), "index.md mode %o", sb.st_mode & 0777);
}

/* A bare name is a shipped configuration; --check validates without running. */
Test(bench, configurations_by_name_and_check_only)
{
    char path[1024], cmd[2048];
    snprintf(cmd, sizeof cmd, "cd '%s' && '%s' bench --check paper_fig4 rates > found.txt", dir,
             mdatt_bin());
    cr_expect_eq(system(cmd), 0);
    int rc;
    snprintf(path, sizeof path, "%s/found.txt", dir);
    char *txt = read_text(path);
    cr_assert(txt);
    cr_expect(strstr(txt, "/paper_fig4.json: valid\n") && strstr(txt, "/rates.json: valid\n"),
              "%s", txt);
    free(txt);
    rc = run_mdatt(dir, err, sizeof err, "bench --check nope");
    cr_expect_eq(rc, 2);
    cr_expect(strstr(err, "nope: no such file, and no configuration of that name in "), "%s", err);
    snprintf(path, sizeof path, "%s/bad.json", dir);
    write_text(path, "{\"experiment\": \"paper_fig4\", \"seeds\": {\"from\": 1, \"to\": 2}, "
                     "\"p\": [2], \"iters\": [10], \"lr\": -1}");
    rc = run_mdatt(dir, err, sizeof err, "bench --check bad.json -o out");
    cr_expect_eq(rc, 2);
    cr_expect(strstr(err, "bad.json: lr"), "%s", err);
    snprintf(path, sizeof path, "%s/out", dir);
    cr_expect(!file_exists(path), "--check writes nothing");
}

/* ------------------------------------------------- run records and shards */

static const char *outputs[] = {"table.csv", "table.md", "table.tex", "tokens.csv", "certificates.csv",
                                "curves_p1.75.tsv", "curves_p3.tsv", "fig4.svg", "fig4_log.svg", "index.md"};

/* Every output of r1 equals that of r2, byte for byte. */
static void same_outputs(const char *r1, const char *r2)
{
    for (size_t k = 0; k < sizeof outputs / sizeof outputs[0]; k++) {
        char a[600], b[600];
        snprintf(a, sizeof a, "%s/%s/paper_fig4/%s", dir, r1, outputs[k]);
        snprintf(b, sizeof b, "%s/%s/paper_fig4/%s", dir, r2, outputs[k]);
        char *x = read_text(a), *y = read_text(b);
        if (strstr(outputs[k], ".svg") && !x && !y)
            continue;               /* built without gnuplot */
        cr_assert(x && y, "%s missing in %s or %s", outputs[k], r1, r2);
        cr_assert_str_eq(x, y, "%s differs between %s and %s", outputs[k], r1, r2);
        free(x);
        free(y);
    }
}

static int has_table(const char *r)
{
    char p[600];
    snprintf(p, sizeof p, "%s/%s/paper_fig4/table.csv", dir, r);
    return file_exists(p);
}

/* Write <dir>/other.json: the small Fig. 4 configuration with the text from
 * replaced by to (of the same length): another configuration. */
static void write_other_config(const char *from, const char *to)
{
    char path[600];
    snprintf(path, sizeof path, "%s/tests/data/fig4_small.json", srcdir());
    char *text = read_text(path);
    cr_assert(text);
    char *at = strstr(text, from);
    cr_assert(at && strlen(from) == strlen(to), "%s", from);
    memcpy(at, to, strlen(to));
    snprintf(path, sizeof path, "%s/other.json", dir);
    write_text(path, text);
    free(text);
}

Test(bench, shards_and_merge_give_the_bytes_of_one_process)
{
    const char *cfg = "tests/data/fig4_small.json";
    cr_assert_eq(run_mdatt(dir, err, sizeof err, "bench '%s/%s' -o one --threads 1 --quiet", srcdir(), cfg), 0,
                 "%s", err);
    /* a shard works on the first stage not yet recorded: paper_fig4 has three
     * (the like-for-like runs, the authors' protocol runs and their SVMs) */
    for (int stage = 0; stage < 3; stage++)
        for (int k = 0; k < 3; k++) {
            cr_assert_eq(run_mdatt(dir, err, sizeof err, "bench '%s/%s' -o sh --shard %d/3", srcdir(), cfg, k),
                         0, "%s", err);
            cr_assert(!has_table("sh"), "shard %d/3 wrote tables", k);
        }
    cr_assert_eq(run_mdatt(dir, err, sizeof err, "bench '%s/%s' -o sh --merge", srcdir(), cfg), 0, "%s", err);
    cr_assert(strstr(err, "9 runs, 9 reused from records, 0 computed"), "merge computed runs: %s", err);
    same_outputs("one", "sh");
}

Test(bench, resume_reuses_records_of_the_same_configuration_only)
{
    const char *cfg = "tests/data/fig4_small.json";
    cr_assert_eq(run_mdatt(dir, err, sizeof err, "bench '%s/%s' -o r --threads 2", srcdir(), cfg), 0, "%s", err);
    cr_assert(strstr(err, "9 runs, 0 reused from records, 9 computed"), "%s", err);
    cr_assert_eq(run_mdatt(dir, err, sizeof err, "bench '%s/%s' -o r --threads 2", srcdir(), cfg), 0, "%s", err);
    cr_assert(strstr(err, "9 runs, 9 reused from records, 0 computed"), "%s", err);
    cr_assert_eq(run_mdatt(dir, err, sizeof err, "bench '%s/%s' -o r --fresh", srcdir(), cfg), 0, "%s", err);
    cr_assert(strstr(err, "9 runs, 0 reused from records, 9 computed"), "--fresh reused: %s", err);
    /* the same experiment with another step: none of the records fits */
    write_other_config("\"lr\": 0.1", "\"lr\": 0.2");
    cr_assert_eq(run_mdatt(dir, err, sizeof err, "bench other.json -o r"), 0, "%s", err);
    cr_assert(strstr(err, "9 record(s) of another configuration are not used"), "%s", err);
    cr_assert(strstr(err, "9 runs, 0 reused from records, 9 computed"), "%s", err);
}

Test(bench, merge_refuses_missing_runs_and_other_configurations)
{
    const char *cfg = "tests/data/fig4_small.json";
    cr_assert_eq(run_mdatt(dir, err, sizeof err, "bench '%s/%s' -o m --shard 0/2", srcdir(), cfg), 0, "%s", err);
    cr_assert_eq(run_mdatt(dir, err, sizeof err, "bench '%s/%s' -o m --merge", srcdir(), cfg), 1, "%s", err);
    cr_assert(strstr(err, "5 of 9 runs of stage 'paper_fig4' have no record (first: "), "%s", err);
    cr_assert(!has_table("m"), "a failed merge wrote tables");
    /* complete records of this configuration, merged under another one */
    cr_assert_eq(run_mdatt(dir, err, sizeof err, "bench '%s/%s' -o m --shard 1/2", srcdir(), cfg), 0, "%s", err);
    write_other_config("\"points\": 10", "\"points\": 11");
    cr_assert_eq(run_mdatt(dir, err, sizeof err, "bench other.json -o m --merge"), 2, "%s", err);
    cr_assert(strstr(err, "runs/paper_fig4/0.rec: a record of another configuration"), "%s", err);
    cr_assert(!has_table("m"), "a refused merge wrote tables");
}

Test(bench, bad_shard_and_mode_flags_exit_2_and_write_nothing)
{
    const char *bad[] = {"--shard 3/3", "--shard 4/3", "--shard 1", "--shard 1/x", "--shard -1/3",
                         "--shard 0/3 --merge", "--fresh --merge", "--fresh --shard 0/2"};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        cr_assert_eq(run_mdatt(dir, err, sizeof err, "bench '%s/tests/data/fig4_small.json' -o out %s",
                               srcdir(), bad[k]), 2, "%s: %s", bad[k], err);
        cr_assert(strstr(err, strstr(bad[k], "--shard") ? "--shard" : "--fresh"), "%s: %s", bad[k], err);
        char out[600];
        snprintf(out, sizeof out, "%s/out", dir);
        cr_assert(!file_exists(out), "%s created the reports folder", bad[k]);
    }
}

/* Split a CSV line into at most max numbers (empty cell: NAN); the count. */
static int csv_numbers(char *line, double *out, int max)
{
    int n = 0;
    for (char *c = line; n < max; n++) {
        char *end = strpbrk(c, ",\n");
        const int empty = end == c || *c == 0;
        out[n] = empty ? NAN : strtod(c, NULL);
        if (!end || *end == '\n') {
            n++;
            break;
        }
        c = end + 1;
    }
    return n;
}

/* One run of fig4_small.json under the authors' protocol, recomputed here:
 * W_0 ~ N(0, 1) from the documented seed, seed + 10^6 round(100 p). */
static void protocol_run(long seed, double p, long iters, double *W, int *alpha)
{
    mdatt_gen_settings gs = {6, 8, 10, (uint64_t)seed};
    mdatt_instance in;
    cr_assert_eq(mdatt_gen(&gs, &in), MDATT_OK);
    mdatt_rng r;
    mdatt_rng_seed(&r, (uint64_t)(seed + 1000000L * lround(100.0 * p)));
    for (int k = 0; k < 100; k++)
        W[k] = mdatt_rng_normal(&r);
    double v[10];
    memcpy(v, in.v, sizeof v);
    mdatt_train_settings ts;
    mdatt_train_default_settings(&ts);
    ts.p = p;
    ts.lr = 0.1;
    ts.iters = iters;
    ts.normalized = 1;
    mdatt_train_info info;
    cr_assert_eq(mdatt_train(&in, &ts, W, v, alpha, &info), MDATT_OK);
    mdatt_instance_free(&in);
}

Test(bench, authors_protocol_table_matches_a_recomputation)
{
    cr_assert_eq(run_mdatt(dir, err, sizeof err, "bench '%s/tests/data/fig4_small.json' -o r --quiet",
                           srcdir()), 0, "%s", err);
    const double p[3] = {1.75, 2, 3};
    const long iters[3] = {150, 200, 2000};
    double W[3][3][100];            /* [seed][p] */
    int alpha[3][3][6];
    for (int s = 0; s < 3; s++)
        for (int k = 0; k < 3; k++)
            protocol_run(s + 1, p[k], iters[k], W[s][k], alpha[s][k]);
    char path[600], line[1024];
    snprintf(path, sizeof path, "%s/r/paper_fig4/table_paper_protocol.csv", dir);
    FILE *f = fopen(path, "r");
    cr_assert(f, "no %s", path);
    cr_assert(fgets(line, sizeof line, f));
    cr_assert_str_eq(line, "p_alg,p_svm,mean,std,seeds,tokens_agree,mean_agree,mean_disagree\n");
    int rows = 0, disagreeing = 0;
    while (fgets(line, sizeof line, f)) {
        double c[8];
        cr_assert_eq(csv_numbers(line, c, 8), 8, "%s", line);
        int a = 0, b = 0;
        while (a < 3 && p[a] != c[0])
            a++;
        while (b < 3 && p[b] != c[1])
            b++;
        cr_assert(a < 3 && b < 3, "%s", line);
        /* each seed: the p_svm run's SVM at its own tokens, against the p_alg run's W */
        double sum = 0, sa = 0, sd = 0;
        int agree = 0;
        for (int s = 0; s < 3; s++) {
            mdatt_gen_settings gs = {6, 8, 10, (uint64_t)(s + 1)};
            mdatt_instance in;
            cr_assert_eq(mdatt_gen(&gs, &in), MDATT_OK);
            attsvm_result r;
            cr_assert_eq(bench_svm(&in, alpha[s][b], p[b], ATTSVM_TARGET_W, &r), 0);
            const double dv = mdatt_bregman_dir(r.x, W[s][a], 100, p[a]);
            attsvm_result_free(&r);
            mdatt_instance_free(&in);
            const int same = memcmp(alpha[s][a], alpha[s][b], sizeof alpha[s][a]) == 0;
            agree += same;
            sum += dv;
            sa += same ? dv : 0;
            sd += same ? 0 : dv;
        }
        disagreeing += agree < 3;
        cr_assert_eq(c[4], 3, "%s", line);
        cr_assert(fabs(c[5] - agree / 3.0) < 1e-3, "tokens_agree %g, recomputed %d/3", c[5], agree);
        cr_assert(fabs(c[2] - sum / 3) <= 1e-3 * sum / 3 + 1e-12, "mean %g, recomputed %g", c[2], sum / 3);
        if (agree > 0)
            cr_assert(fabs(c[6] - sa / agree) <= 1e-3 * sa / agree + 1e-12, "%s", line);
        else
            cr_assert(isnan(c[6]), "%s", line);
        if (agree < 3)
            cr_assert(fabs(c[7] - sd / (3 - agree)) <= 1e-3 * sd / (3 - agree) + 1e-12, "%s", line);
        else
            cr_assert(isnan(c[7]), "%s", line);
        rows++;
    }
    fclose(f);
    cr_assert_eq(rows, 9);
    cr_assert(disagreeing > 0, "no cell with disagreeing runs: the agreement split is untested");
}

/* alpha is locally optimal when the SVM at alpha is optimal and every token t
 * whose margin (x_ia - x_it)^T W^mm z_i is active (= 1) scores gamma_it =
 * Y_i v^T x_it strictly below gamma_ia: checked from W^mm's margins here. */
static int local_by_margins(const mdatt_instance *in, const int *alpha, double p)
{
    attsvm_result r;
    if (bench_svm(in, alpha, p, ATTSVM_TARGET_W, &r) != 0)
        return 0;
    const int d = in->d, T = in->T;
    int ok = 1;
    for (int i = 0; i < in->n; i++) {
        const double *z = in->Z + (size_t)i * d, *xa = in->X + ((size_t)i * T + alpha[i]) * d;
        double ga = 0;
        for (int j = 0; j < d; j++)
            ga += in->Y[i] * in->v[j] * xa[j];
        for (int t = 0; t < T; t++) {
            if (t == alpha[i])
                continue;
            const double *xt = in->X + ((size_t)i * T + t) * d;
            double m = 0, gt = 0;
            for (int j = 0; j < d; j++) {
                double wz = 0;
                for (int k = 0; k < d; k++)
                    wz += r.x[j * d + k] * z[k];
                m += (xa[j] - xt[j]) * wz;
                gt += in->Y[i] * in->v[j] * xt[j];
            }
            if (m <= 1 + 1e-6 && !(ga > gt))
                ok = 0;
        }
    }
    attsvm_result_free(&r);
    return ok;
}

Test(bench, cone_start_selection_is_locally_optimal)
{
    int repaired = 0;
    for (uint64_t seed = 1; seed <= 6; seed++) {
        mdatt_gen_settings gs = {12, 8, 10, seed};
        mdatt_instance in;
        cr_assert_eq(mdatt_gen(&gs, &in), MDATT_OK);
        /* tokens of a random W: usually not locally optimal */
        double W[100];
        mdatt_rng g;
        mdatt_rng_seed(&g, seed + 99);
        for (int k = 0; k < 100; k++)
            W[k] = mdatt_rng_normal(&g);
        int alpha[12], moved, left;
        mdatt_selected_tokens(&in, W, alpha, NULL, NULL);
        const int before = local_by_margins(&in, alpha, 2.0);
        attsvm_result r;
        const int rounds = bench_local_alpha(&in, alpha, 2.0, 20, &r, &moved, &left);
        cr_assert(rounds >= 0 && left == 0, "seed %lu: no locally optimal selection reached (%d samples "
                  "left)", (unsigned long)seed, left);
        attsvm_result_free(&r);
        cr_assert(local_by_margins(&in, alpha, 2.0), "seed %lu: the selection is not locally optimal",
                  (unsigned long)seed);
        cr_assert_eq(before, rounds == 0, "seed %lu: %d rounds for a selection %s locally optimal",
                     (unsigned long)seed, rounds, before ? "already" : "not");
        repaired += rounds > 0 && moved > 0;
        mdatt_instance_free(&in);
    }
    cr_assert(repaired > 0, "no seed needed a repair: the repair path is untested");
}

/* gamma_it = Y_i v^T x_it (design.md (23)), recomputed here. */
static double test_gamma(const mdatt_instance *in, int i, int t)
{
    double g = 0;
    for (int j = 0; j < in->d; j++)
        g += in->v[j] * in->X[((size_t)i * in->T + t) * in->d + j];
    return in->Y[i] * g;
}

/* Every selection of a small instance (T^n of them) tried: loc[s] = 1 when
 * selection number s (sample i's token = digit i of s in base T) is locally
 * optimal by local_by_margins.  Returns how many are. */
static int brute_force_local(const mdatt_instance *in, double p, int *loc)
{
    int total = 1, count = 0, alpha[8];
    for (int i = 0; i < in->n; i++)
        total *= in->T;
    for (int s = 0; s < total; s++) {
        for (int i = 0, c = s; i < in->n; i++, c /= in->T)
            alpha[i] = c % in->T;
        loc[s] = local_by_margins(in, alpha, p);
        count += loc[s];
    }
    return count;
}

static int selection_number(const mdatt_instance *in, const int *alpha)
{
    int s = 0;
    for (int i = in->n - 1; i >= 0; i--)
        s = s * in->T + alpha[i];
    return s;
}

/* The repair walk against brute force on instances small enough to try every
 * selection: a result it reports as locally optimal (left = 0) is one of
 * those brute force finds; when brute force finds none it never reports one;
 * every sample's score only rises; and on most instances with a locally
 * optimal selection the walk reaches one from the tokens of a random W. */
Test(bench, repair_walk_agrees_with_brute_force)
{
    int found = 0, exists = 0, repaired = 0;
    for (uint64_t seed = 1; seed <= 12; seed++) {
        mdatt_gen_settings gs = {3, 4, 5, seed};
        mdatt_instance in;
        cr_assert_eq(mdatt_gen(&gs, &in), MDATT_OK);
        int loc[64];
        const int nloc = brute_force_local(&in, 2.0, loc);
        double W[25];
        mdatt_rng g;
        mdatt_rng_seed(&g, seed + 7);
        for (int k = 0; k < 25; k++)
            W[k] = mdatt_rng_normal(&g);
        int alpha[3], start[3], moved, left;
        mdatt_selected_tokens(&in, W, alpha, NULL, NULL);
        memcpy(start, alpha, sizeof start);
        attsvm_result r;
        const int rounds = bench_local_alpha(&in, alpha, 2.0, 30, &r, &moved, &left);
        if (rounds >= 0)
            attsvm_result_free(&r);
        exists += nloc > 0;
        if (rounds >= 0 && left == 0) {
            cr_assert(loc[selection_number(&in, alpha)], "seed %lu: the walk's selection is not locally "
                      "optimal by brute force", (unsigned long)seed);
            found++;
            repaired += rounds > 0;
        }
        if (nloc == 0)
            cr_assert(rounds < 0 || left > 0, "seed %lu: a locally optimal selection reported where "
                      "brute force finds none", (unsigned long)seed);
        for (int i = 0; rounds >= 0 && i < 3; i++)
            cr_assert(test_gamma(&in, i, alpha[i]) >= test_gamma(&in, i, start[i]) - 1e-12,
                      "seed %lu: sample %d's score fell", (unsigned long)seed, i);
        mdatt_instance_free(&in);
    }
    cr_assert(exists >= 6 && 2 * found >= exists, "the walk found %d of %d instances' locally optimal "
              "selections", found, exists);
    cr_assert(repaired > 0, "no instance needed a repair round: the walk is untested");
}

/* A tie: one sample, v = (1, 0), z = (1, 0) (so W z is W's first column u),
 * tokens x0 = (0, 0) and x1 = (0, 1) (both score 0), x2 = (1, 3) (1) and
 * x3 = (4, 5) (4).  At alpha = x0 the SVM is u = (0, -1): only x1's
 * constraint is active, a tie, so no strictly higher support token to move
 * to.  The walk moves the sample to its highest-scoring token x3 (a strict
 * vertex, locally optimal by brute force) in one round; x2, the next score
 * level, keeps x3 as a support token. */
Test(bench, repair_walk_moves_a_tie_to_the_top_token)
{
    mdatt_instance in;
    cr_assert_eq(mdatt_instance_alloc(&in, 1, 4, 2), MDATT_OK);
    const double X[] = {0, 0, 0, 1, 1, 3, 4, 5};
    memcpy(in.X, X, sizeof X);
    in.Z[0] = 1;
    in.Z[1] = 0;
    in.Y[0] = 1;
    in.v[0] = 1;
    in.v[1] = 0;
    int loc[4];
    cr_assert_eq(brute_force_local(&in, 2.0, loc), 1);
    cr_assert(loc[3] && !loc[2] && !loc[0], "brute force: only x3 is locally optimal");
    int alpha[1] = {0}, moved, left;
    attsvm_result r;
    cr_assert_eq(bench_local_alpha(&in, alpha, 2.0, 1, &r, &moved, &left), 1);
    attsvm_result_free(&r);
    cr_assert_eq(left, 0);
    cr_assert_eq(alpha[0], 3, "the tie moved to token %d, not the top token 3", alpha[0]);
    mdatt_instance_free(&in);
}

/* A round whose moves leave no W-SVM: three samples, z = e1 (so W z is W's
 * first column u), v = (1, 1); sample 0 (Y = 1) has tokens (0, 0), (1, 0),
 * sample 1 (Y = -1) (0, 0), (2, 0), sample 2 (Y = 1) (0, 0), (0, 1), all
 * at token 0.  The SVM there is u = (-1, -1) with samples 0 and 2 active and
 * breaking local optimality (their token 1 scores 1 > 0).  Moving both gives
 * u_1 >= 1 against sample 1's -2 u_1 >= 1: infeasible, with a Farkas
 * certificate on samples 0 and 1.  Sample 0, moved and named, goes back;
 * sample 2's move stays and the selection (0, 0, 1) is solved (u = (-1, 1),
 * only sample 0 left breaking).  The next round's move of sample 0 fails the
 * same way and is taken back with nothing left to move: the walk ends at
 * round 1 with one sample left. */
Test(bench, repair_walk_takes_back_moves_that_leave_no_svm)
{
    mdatt_instance in;
    cr_assert_eq(mdatt_instance_alloc(&in, 3, 2, 2), MDATT_OK);
    const double X[] = {0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 0, 1};
    memcpy(in.X, X, sizeof X);
    for (int i = 0; i < 3; i++) {
        in.Z[2 * i] = 1;
        in.Z[2 * i + 1] = 0;
    }
    in.Y[0] = 1;
    in.Y[1] = -1;
    in.Y[2] = 1;
    in.v[0] = in.v[1] = 1;
    int alpha[3] = {0, 0, 0}, moved, left;
    attsvm_result r;
    cr_assert_eq(bench_local_alpha(&in, alpha, 2.0, 10, &r, &moved, &left), 1);
    cr_expect_eq(r.status, ATTSVM_OPTIMAL);
    cr_expect(fabs(r.x[0] + 1) < 1e-9 && fabs(r.x[2] - 1) < 1e-9, "u = (%g, %g)", r.x[0], r.x[2]);
    attsvm_result_free(&r);
    cr_expect_eq(left, 1);
    cr_expect_eq(moved, 1);
    cr_expect(alpha[0] == 0 && alpha[1] == 0 && alpha[2] == 1, "alpha = (%d, %d, %d)", alpha[0],
              alpha[1], alpha[2]);
    mdatt_instance_free(&in);
}

/* The cone start: delta = theta w with w = 1/(||W^mm||_p max ||A_it||_q), the
 * row norms recomputed from the d x d matrices A_it = (x_ia - x_it) z_i^T;
 * every margin at W_0 at least (1 - theta) R/||W^mm||_p, so W_0 selects
 * alpha; and at theta = 0 W_0 is R W^mm/||W^mm||_p. */
Test(bench, cone_start_stays_in_the_cone)
{
    const double ps[] = {1.5, 2.0, 3.0};
    for (uint64_t seed = 1; seed <= 3; seed++)
        for (int pk = 0; pk < 3; pk++) {
            const double p = ps[pk], q = p / (p - 1);
            mdatt_gen_settings gs = {6, 5, 4, seed};
            mdatt_instance in;
            cr_assert_eq(mdatt_gen(&gs, &in), MDATT_OK);
            int alpha[6];
            attsvm_data D = bench_svm_data(&in);
            attsvm_global_alpha(&D, alpha, NULL);
            attsvm_result r;
            if (bench_svm(&in, alpha, p, ATTSVM_TARGET_W, &r) != 0) {
                mdatt_instance_free(&in);
                continue;
            }
            double amax = 0, A[16];
            for (int i = 0; i < 6; i++)
                for (int t = 0; t < 5; t++) {
                    for (int j = 0; j < 4; j++)
                        for (int k = 0; k < 4; k++)
                            A[j * 4 + k] = (in.X[((size_t)i * 5 + alpha[i]) * 4 + j] -
                                            in.X[((size_t)i * 5 + t) * 4 + j]) * in.Z[i * 4 + k];
                    amax = fmax(amax, mdatt_norm_p(A, 16, q));
                }
            const double nm = mdatt_norm_p(r.x, 16, p), R = 50.0;
            for (int th = 0; th < 3; th++) {
                const double theta = th == 0 ? 0.0 : th == 1 ? 0.5 : 0.99;
                double W0[16];
                const double delta = bench_cone_start(&in, alpha, r.x, p, R, theta, seed, W0);
                cr_assert(fabs(delta - theta / (nm * amax)) <= 1e-12 * (delta + 1e-300) + 1e-300,
                          "delta %g, expected %g", delta, theta / (nm * amax));
                for (int k = 0; th == 0 && k < 16; k++)
                    cr_assert(fabs(W0[k] - R * r.x[k] / nm) <= 1e-12 * R);
                const double rho = mdatt_margin_ratio(&in, alpha, W0, p, nm);
                /* rho = min margin * ||W^mm|| / ||W0||; ||W0|| <= R (1 + delta) */
                cr_assert(rho * mdatt_norm_p(W0, 16, p) / nm >= (1 - theta) * R / nm * (1 - 1e-9),
                          "seed %lu p %g theta %g: a margin below (1 - theta) R/||W^mm||", (unsigned long)seed,
                          p, theta);
                int sel[6];
                mdatt_selected_tokens(&in, W0, sel, NULL, NULL);
                cr_assert(memcmp(sel, alpha, sizeof sel) == 0, "W_0 left the cone");
            }
            attsvm_result_free(&r);
            mdatt_instance_free(&in);
        }
}
