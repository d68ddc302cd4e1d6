/* test_fmnist.c - the IDX loader on small files gzipped here with zlib
 * (valid, wrong magic, wrong sizes, corrupt gzip, missing), patch tokens,
 * the instance of `mdatt fmnist` checked entry by entry, and the CLI on the
 * installed Fashion-MNIST when present. */
#include <criterion/criterion.h>
#include <math.h>
#include <zlib.h>
#include "common.h"
#include "attsvm.h"
#include "mdatt.h"
#include "mdatt_io.h"
#include "mdatt_fmnist.h"

static char *dir;
static char err[MDATT_ERRLEN], cerr[4096];
static void setup(void) { dir = tmpdir_new(); }
static void teardown(void) { tmpdir_free(dir); }
TestSuite(fmnist, .init = setup, .fini = teardown, .timeout = 300);

static void be32(unsigned char *p, uint32_t v)
{
    p[0] = v >> 24;
    p[1] = v >> 16;
    p[2] = v >> 8;
    p[3] = v;
}

/* Write bytes to dir/name, gzipped unless plain; returns the path. */
static const char *put(const char *name, const unsigned char *b, size_t len, int plain)
{
    static char path[4][600];
    static int k;
    char *p = path[k++ % 4];
    snprintf(p, 600, "%s/%s", dir, name);
    if (plain) {
        FILE *f = fopen(p, "wb");
        cr_assert(f && fwrite(b, 1, len, f) == len);
        fclose(f);
    } else {
        gzFile g = gzopen(p, "wb");
        cr_assert(g && gzwrite(g, b, (unsigned)len) == (int)len);
        gzclose(g);
    }
    return p;
}

/* n images rows x cols with pixel (i, r, c) = (i*31 + r*7 + c) % 256, label i % 3. */
static size_t make_idx(int n, int rows, int cols, unsigned char **img, unsigned char **lab)
{
    size_t il = 16 + (size_t)n * rows * cols;
    *img = malloc(il);
    *lab = malloc(8 + n);
    be32(*img, 0x803);
    be32(*img + 4, n);
    be32(*img + 8, rows);
    be32(*img + 12, cols);
    be32(*lab, 0x801);
    be32(*lab + 4, n);
    for (int i = 0; i < n; i++) {
        (*lab)[8 + i] = i % 3;
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++)
                (*img)[16 + ((size_t)i * rows + r) * cols + c] = (i * 31 + r * 7 + c) % 256;
    }
    return il;
}

/* Whether Debian's dataset-fashion-mnist is installed; if not, say which
 * test part is skipped. */
static int fmnist_installed(const char *what)
{
    char p[600];
    snprintf(p, sizeof p, "%s/train-images-idx3-ubyte.gz", MDATT_FMNIST_DIR);
    if (file_exists(p))
        return 1;
    cr_log_info("Fashion-MNIST not installed: %s skipped", what);
    return 0;
}

Test(fmnist, reads_gzipped_and_plain_idx)
{
    unsigned char *img, *lab;
    size_t il = make_idx(6, 8, 4, &img, &lab);
    for (int plain = 0; plain < 2; plain++) {
        const char *ip = put(plain ? "i.idx" : "i.gz", img, il, plain),
                   *lp = put(plain ? "l.idx" : "l.gz", lab, 14, plain);
        mdatt_images im;
        cr_assert_eq(mdatt_idx_read(ip, lp, &im, err), MDATT_OK, "%s", err);
        cr_assert(im.n == 6 && im.rows == 8 && im.cols == 4);
        for (int i = 0; i < 6; i++) {
            cr_assert_eq(im.labels[i], i % 3);
            for (int r = 0; r < 8; r++)
                for (int c = 0; c < 4; c++)
                    cr_assert_eq(im.pixels[(i * 8 + r) * 4 + c], (i * 31 + r * 7 + c) % 256);
        }
        mdatt_images_free(&im);
    }
    free(img);
    free(lab);
}

static void expect_fail(const char *ip, const char *lp, mdatt_status want, const char *needle)
{
    mdatt_images im;
    mdatt_status st = mdatt_idx_read(ip, lp, &im, err);
    cr_assert_eq(st, want, "status %d (%s), want %d", st, err, want);
    cr_assert(strstr(err, needle), "message '%s' lacks '%s'", err, needle);
    cr_assert(im.pixels == NULL && im.labels == NULL);
}

Test(fmnist, rejects_bad_files_with_a_clear_message)
{
    unsigned char *img, *lab;
    size_t il = make_idx(5, 4, 4, &img, &lab);
    const char *good_l = put("l.gz", lab, 13, 0);
    /* Wrong magic (labels file given as images). */
    expect_fail(good_l, good_l, MDATT_EFORMAT, "magic");
    /* Image count does not match the length. */
    expect_fail(put("short.gz", img, il - 3, 0), good_l, MDATT_EFORMAT, "need");
    /* Label count differs from the image count. */
    be32(lab + 4, 4);
    expect_fail(put("i.gz", img, il, 0), put("l4.gz", lab, 12, 0), MDATT_EFORMAT, "labels");
    /* Corrupt gzip: a valid stream cut in half. */
    {
        char p[600];
        snprintf(p, sizeof p, "%s/i.gz", dir);
        FILE *f = fopen(p, "rb");
        unsigned char buf[4096];
        size_t n = fread(buf, 1, sizeof buf, f);
        fclose(f);
        put("cut.gz", buf, n / 2, 1);
        snprintf(p, sizeof p, "%s/cut.gz", dir);
        be32(lab + 4, 5);
        expect_fail(p, put("l5.gz", lab, 13, 0), MDATT_EFORMAT, "gzip");
    }
    /* Missing file. */
    char missing[600];
    snprintf(missing, sizeof missing, "%s/nope.gz", dir);
    expect_fail(missing, good_l, MDATT_EIO, "nope.gz");
    free(img);
    free(lab);
}

Test(fmnist, missing_dataset_names_the_package)
{
    mdatt_images im;
    cr_assert_eq(mdatt_fmnist_load(dir, 0, &im, err), MDATT_EIO);
    cr_assert(strstr(err, "dataset-fashion-mnist"), "%s", err);
    cr_assert(strstr(err, "train-images-idx3-ubyte.gz"), "%s", err);
    /* Files present but not Fashion-MNIST's size. */
    unsigned char *img, *lab;
    size_t il = make_idx(4, 28, 28, &img, &lab);
    put("t10k-images-idx3-ubyte.gz", img, il, 0);
    put("t10k-labels-idx1-ubyte.gz", lab, 12, 0);
    cr_assert_eq(mdatt_fmnist_load(dir, 1, &im, err), MDATT_EFORMAT);
    cr_assert(strstr(err, "10000"), "%s", err);
    free(img);
    free(lab);
}

Test(fmnist, patches_tokens_query_and_probe)
{
    /* 8 images of 8 x 8 (patch 4: T = 4, d = 18), classes 0 and 1 by label. */
    mdatt_images im = {8, 8, 8, malloc(8 * 64), malloc(8)};
    mdatt_rng r;
    mdatt_rng_seed(&r, 3);
    for (int i = 0; i < 8; i++) {
        im.labels[i] = i % 2;
        for (int k = 0; k < 64; k++)   /* class 1 is brighter on the left half */
            im.pixels[i * 64 + k] = (unsigned char)(100 * mdatt_rng_uniform(&r) +
                                                     (i % 2 && k % 8 < 4 ? 150 : 0));
    }
    double pt[4 * 16];
    mdatt_image_patches(&im, 2, 4, pt);
    /* Patch t = 1 (grid row 0, col 1), entry (r=2, c=3) = pixel (2, 7). */
    cr_assert(pt[1 * 16 + 2 * 4 + 3] == im.pixels[2 * 64 + 2 * 8 + 7] / 255.0);
    cr_assert(pt[2 * 16 + 0] == im.pixels[2 * 64 + 4 * 8 + 0] / 255.0);

    mdatt_fmnist_settings s;
    mdatt_fmnist_default_settings(&s);
    s.n = 6;
    mdatt_instance in;
    int idx[6];
    cr_assert_eq(mdatt_fmnist_instance(&im, &s, &in, idx, err), MDATT_OK, "%s", err);
    cr_assert(in.n == 6 && in.T == 4 && in.d == 18);
    cr_assert_eq(mdatt_instance_validate(&in, err), MDATT_OK, "%s", err);
    int npos = 0;
    for (int i = 0; i < 6; i++) {
        cr_assert_eq(in.Y[i], im.labels[idx[i]] ? 1.0 : -1.0);
        npos += in.Y[i] > 0;
        mdatt_image_patches(&im, idx[i], 4, pt);
        double mean[18] = {0};
        for (int t = 0; t < 4; t++) {
            const double *x = in.X + ((size_t)i * 4 + t) * 18;
            for (int j = 0; j < 16; j++)
                cr_assert(fabs(x[j] - pt[t * 16 + j] / 4) < 1e-15);
            cr_assert(x[16] == (t / 2 ? 1.0 : -1.0) && x[17] == (t % 2 ? 1.0 : -1.0));
            for (int j = 0; j < 18; j++)
                mean[j] += x[j] / 4;
        }
        for (int j = 0; j < 18; j++)
            cr_assert(fabs(in.Z[i * 18 + j] - mean[j]) < 1e-15, "z_%d is not the mean token", i);
        for (int k = 0; k < i; k++)
            cr_assert_neq(idx[k], idx[i], "image drawn twice");
    }
    cr_assert_eq(npos, 3);
    /* The probe separates the mean tokens here and beats v = 0's loss log 2. */
    double loss = 0.0;
    for (int i = 0; i < 6; i++) {
        double u = 0.0;
        for (int j = 0; j < 18; j++)
            u += in.v[j] * in.Z[i * 18 + j];
        cr_assert(in.Y[i] * u > 0, "probe misclassifies sample %d", i);
        loss += log1p(exp(-in.Y[i] * u)) / 6;
    }
    cr_assert(loss < 0.5 * log(2.0), "probe loss %g", loss);
    mdatt_instance_free(&in);
    s.n = 20;
    cr_assert_eq(mdatt_fmnist_instance(&im, &s, &in, NULL, err), MDATT_EINVAL);
    cr_assert(strstr(err, "class"), "%s", err);
    s.n = 6;
    s.patch = 3;
    cr_assert_eq(mdatt_fmnist_instance(&im, &s, &in, NULL, err), MDATT_EINVAL);
    cr_assert(strstr(err, "patch"), "%s", err);
    mdatt_images_free(&im);
}

Test(fmnist, cli_writes_an_instance_every_command_reads)
{
    cr_assert_eq(run_mdatt(dir, cerr, sizeof cerr, "fmnist --dir '%s' --n 10 -o x.json", dir), 2);
    cr_assert(strstr(cerr, "mdatt: fmnist:") && strstr(cerr, "dataset-fashion-mnist"), "%s", cerr);
    cr_assert(!file_exists("x.json"));
    cr_assert_eq(run_mdatt(dir, cerr, sizeof cerr, "fmnist --classes 3 -o x.json"), 2);
    cr_assert(strstr(cerr, "--classes"), "%s", cerr);
    char path[600];
    if (!fmnist_installed("CLI run on real data"))
        return;
    cr_assert_eq(run_mdatt(dir, cerr, sizeof cerr, "fmnist --classes 0,1 --n 40 --split test -o x.json"),
                 0, "%s", cerr);
    snprintf(path, sizeof path, "%s/x.json", dir);
    mdatt_instance in;
    cr_assert_eq(mdatt_instance_read(path, &in, err), MDATT_OK, "%s", err);
    cr_assert(in.n == 40 && in.T == 49 && in.d == 18);
    mdatt_instance_free(&in);
    cr_assert_eq(run_mdatt(dir, cerr, sizeof cerr, "train x.json --p 1.5 --lr 0.1 --iters 50 "
                                                   "--normalized -o m.json"), 0, "%s", cerr);
    cr_assert_eq(run_mdatt(dir, cerr, sizeof cerr, "svm x.json --p 2 --alpha-from m.json -o s.json"),
                 0, "%s", cerr);
}

/* The oracle on real tokens (24 500 rows x 324 variables): two token choices
 * of normalized l_p-AttGD on which the Newton phase once stalled (its
 * sufficient-decrease test compared values of the dual objective ~1e8 whose
 * last decreases, ~1e-10, lie below their rounding).  The answer must be
 * certified, and mdatt check recomputes the certificate from the instance. */
Test(fmnist, oracle_certifies_on_real_tokens)
{
    char path[600];
    if (!fmnist_installed("oracle on real tokens"))
        return;
    static const struct {
        const char *classes, *p, *lr;
    } cs[] = {{"6,2", "3", "100000"}, {"0,1", "1.1", "0.0025118864315095825"}};
    for (int k = 0; k < 2; k++) {
        cr_assert_eq(run_mdatt(dir, cerr, sizeof cerr,
                               "fmnist --classes %s --n 500 --seed 1 -o r.json", cs[k].classes),
                     0, "%s", cerr);
        cr_assert_eq(run_mdatt(dir, cerr, sizeof cerr,
                               "train r.json --p %s --lr %s --iters 6000 --normalized -o rm.json",
                               cs[k].p, cs[k].lr),
                     0, "%s", cerr);
        cr_assert_eq(run_mdatt(dir, cerr, sizeof cerr,
                               "svm r.json --p %s --alpha-from rm.json -o rs.json", cs[k].p),
                     0, "classes %s, p = %s: %s", cs[k].classes, cs[k].p, cerr);
        int rc = run_mdatt(dir, cerr, sizeof cerr, "check r.json rm.json rs.json -o rc.json");
        cr_assert(rc == 0 || rc == 1, "classes %s: check exit %d: %s", cs[k].classes, rc, cerr);
        snprintf(path, sizeof path, "%s/rc.json", dir);
        char *chk = read_text(path);
        const char *g = chk ? strstr(chk, "\"gap_recomputed\":") : NULL;
        cr_assert(g, "%s", chk ? chk : "(none)");
        double gap = strtod(g + strlen("\"gap_recomputed\":"), NULL);
        cr_assert(fabs(gap) <= 1e-10, "classes %s: recomputed gap %.3g", cs[k].classes, gap);
        free(chk);
        /* Large p on the same tokens (the primal-dual Newton, on rows that
         * repeat and pixels that are 0 in every token): certified, and
         * between the p = inf value and nx^{1/p} times it (nx = 324). */
        double v[2];
        const char *pp[2] = {"8", "inf"};
        for (int t = 0; t < 2; t++) {
            cr_assert_eq(run_mdatt(dir, cerr, sizeof cerr,
                                   "svm r.json --p %s --alpha-from rm.json -o rp.json", pp[t]),
                         0, "classes %s, p = %s: %s", cs[k].classes, pp[t], cerr);
            snprintf(path, sizeof path, "%s/rp.json", dir);
            char *sv = read_text(path);
            const char *o = sv ? strstr(sv, "\"objective\":") : NULL;
            cr_assert(o, "%s", sv ? sv : "(none)");
            v[t] = strtod(o + strlen("\"objective\":"), NULL);
            free(sv);
        }
        cr_assert(v[1] <= v[0] * (1 + 1e-12) && v[0] <= pow(324.0, 1.0 / 8) * v[1] * (1 + 1e-12),
                  "classes %s: p = 8 %.17g, p = inf %.17g", cs[k].classes, v[0], v[1]);
    }
}

/* ||x||_p with scaling (p = INFINITY: max |x_j|). */
static long double pnorm(const long double *x, int n, double p)
{
    long double mx = 0.0L, s = 0.0L;
    for (int j = 0; j < n; j++)
        mx = fmaxl(mx, fabsl(x[j]));
    if (isinf(p) || mx == 0.0L)
        return mx;
    for (int j = 0; j < n; j++)
        s += powl(fabsl(x[j]) / mx, p);
    return mx * powl(s, 1.0L / p);
}

/* The certificate recomputed here from A, x and lambda alone: relative gap
 * (||x||_p - sum(lambda) / ||A^T lambda||_q) / ||x||_p and the largest
 * violation (1 - a_r.x)_+ / (||a_r||_q ||x||_p). */
static double certify_here(const double *A, int m, int nx, double p, const double *x,
                           const attsvm_mult *dual, int nd, double *viol)
{
    const double q = isinf(p) ? 1.0 : p / (p - 1.0);
    long double *u = calloc((size_t)nx, sizeof *u), *xl = malloc(sizeof *xl * (size_t)nx), sl = 0.0L;
    for (int j = 0; j < nx; j++)
        xl[j] = x[j];
    for (int k = 0; k < nd; k++) {
        for (int j = 0; j < nx; j++)
            u[j] += (long double)dual[k].lambda * A[(size_t)dual[k].row * nx + j];
        sl += dual[k].lambda;
    }
    const long double ub = pnorm(xl, nx, p), lb = sl / pnorm(u, nx, q);
    *viol = 0.0;
    for (int r = 0; r < m; r++) {
        long double ax = 0.0L;
        for (int j = 0; j < nx; j++) {
            ax += (long double)A[(size_t)r * nx + j] * x[j];
            u[j] = A[(size_t)r * nx + j];
        }
        *viol = fmax(*viol, (double)((1.0L - ax) / (pnorm(u, nx, q) * ub)));
    }
    free(u);
    free(xl);
    return (double)((ub - lb) / ub);
}

/* The real tokens of the SVM runs on a class pair: mdatt fmnist --classes
 * <classes> --n 500 --seed 1. */
static void pair_tokens(const char *classes, mdatt_instance *in)
{
    char path[600];
    cr_assert_eq(run_mdatt(dir, cerr, sizeof cerr, "fmnist --classes %s --n 500 --seed 1 -o r.json",
                           classes), 0, "%s", cerr);
    snprintf(path, sizeof path, "%s/r.json", dir);
    cr_assert_eq(mdatt_instance_read(path, in, err), MDATT_OK, "%s", err);
}

/* The token choice of a fixture in tests/data (comment lines start with
 * '#', then n integers separated by commas). */
static int *fixture_alpha(const char *name, int n)
{
    char path[600];
    const char *src = getenv("MDATT_SRCDIR");
    snprintf(path, sizeof path, "%s/tests/data/%s", src ? src : ".", name);
    char *fx = read_text(path);
    cr_assert(fx, "missing %s", path);
    int *alpha = malloc(sizeof *alpha * (size_t)n), na = 0;
    cr_assert_not_null(alpha);
    for (const char *c = fx; *c && na < n;) {
        if (*c == '#') {
            c += strcspn(c, "\n");
            continue;
        }
        char *e;
        long a = strtol(c, &e, 10);
        if (e == c) {
            c++;
            continue;
        }
        alpha[na++] = (int)a;
        c = e;
    }
    free(fx);
    cr_assert_eq(na, n, "%s: %d tokens for %d samples", path, na, n);
    return alpha;
}

/* Large p on tokens trained long (p = 3, 200 000 normalized steps; the
 * fixture holds them): the primal-dual Newton's active set churned here
 * (rows joining and leaving by the dozen per round) and every p >= 8 failed.
 * Now the interior-point method finds the active set: p = 8, 20 and 200
 * certify (recomputed here), their values decrease in p and stay within
 * nx^{1/p} of the p = inf value. */
Test(fmnist, oracle_large_p_on_long_trained_tokens)
{
    if (!fmnist_installed("oracle at large p on long-trained tokens"))
        return;
    mdatt_instance in;
    pair_tokens("6,2", &in);
    int *alpha = fixture_alpha("fmnist_6_2_p3_alpha.txt", in.n);
    attsvm_data D = {in.n, in.T, in.d, in.X, in.Z, in.Y, in.v};
    int m, nx;
    double *A = attsvm_build_rows(&D, alpha, ATTSVM_TARGET_W, &m, &nx);
    const double ps[] = {8, 20, 200, INFINITY};
    double v[4];
    for (int t = 0; t < 4; t++) {
        attsvm_settings s;
        attsvm_default_settings(&s);
        s.p = ps[t];
        attsvm_result r = {0};
        cr_assert_eq(attsvm_solve(&D, alpha, ATTSVM_TARGET_W, &s, &r), ATTSVM_OPTIMAL,
                     "p = %g: %s", ps[t], r.message);
        double viol, gap = certify_here(A, m, nx, ps[t], r.x, r.dual, r.ndual, &viol);
        cr_assert(fabs(gap) <= 1e-10 && viol <= 1e-12, "p = %g: gap %.3g, violation %.3g", ps[t],
                  gap, viol);
        v[t] = r.objective;
        attsvm_result_free(&r);
    }
    for (int t = 0; t < 3; t++) {
        cr_assert(v[t + 1] <= v[t] * (1 + 1e-12), "p = %g: %.17g above p = %g: %.17g", ps[t + 1],
                  v[t + 1], ps[t], v[t]);
        cr_assert(v[t] <= pow(nx, 1.0 / ps[t]) * v[3] * (1 + 1e-12), "p = %g: %.17g, p = inf %.17g",
                  ps[t], v[t], v[3]);
    }
    free(A);
    free(alpha);
    mdatt_instance_free(&in);
}

/* A selection of the repair walk toward local optimality (p = 1.1, 0 vs 1)
 * on which the Newton phase once stalled on feasible rows and answered
 * "failed", ending the walk (the retry with the LP phase, oracle/attsvm.c,
 * solve_rows_g, rescued it; test_oracle checks that retry on its own).  It
 * is certified with and without the LP phase (recomputed here from the
 * dense rows), to the same value. */
Test(fmnist, oracle_certifies_a_walk_selection_with_and_without_the_lp_phase)
{
    if (!fmnist_installed("oracle retry with the LP phase on real tokens"))
        return;
    mdatt_instance in;
    pair_tokens("0,1", &in);
    int *alpha = fixture_alpha("fmnist_0_1_p1.1_alpha.txt", in.n);
    attsvm_data D = {in.n, in.T, in.d, in.X, in.Z, in.Y, in.v};
    int m, nx;
    double *A = attsvm_build_rows(&D, alpha, ATTSVM_TARGET_W, &m, &nx);
    cr_assert_not_null(A);
    double v[2];
    for (int lp = 0; lp < 2; lp++) {
        attsvm_settings s;
        attsvm_default_settings(&s);
        s.p = 1.1;
        s.lp_phase = lp;
        attsvm_result r = {0};
        cr_assert_eq(attsvm_solve(&D, alpha, ATTSVM_TARGET_W, &s, &r), ATTSVM_OPTIMAL,
                     "lp_phase = %d: %s", lp, r.message);
        double viol, gap = certify_here(A, m, nx, 1.1, r.x, r.dual, r.ndual, &viol);
        cr_assert(fabs(gap) <= 1e-10 && viol <= 1e-12, "lp_phase = %d: gap %.3g, violation %.3g",
                  lp, gap, viol);
        cr_expect(!lp || r.lp_solves >= 1, "lp_phase = 1: no LP solved");
        v[lp] = r.objective;
        attsvm_result_free(&r);
    }
    cr_expect(fabs(v[0] - v[1]) <= 1e-10 * v[1], "%.17g and %.17g", v[0], v[1]);
    free(A);
    free(alpha);
    mdatt_instance_free(&in);
}

/* The realdata experiment on a tiny configuration: a step size that blows up
 * is reported as diverged and never chosen, every optimizer gets a chosen
 * step from its grid, and the summary states whether the SVM runs hit the cap. */
Test(fmnist, realdata_bench_excludes_diverged_steps)
{
    char path[600];
    if (!fmnist_installed("realdata bench"))
        return;
    snprintf(path, sizeof path, "%s/rd.json", dir);
    write_text(path, "{\"experiment\": \"realdata\", \"d\": 8, \"batch\": 50, \"epochs\": 1,"
               " \"seeds\": {\"from\": 1, \"to\": 2},"
               " \"optimizers\": [{\"name\": \"GD\", \"kind\": \"md\", \"p\": 2, \"lr\": [0.1, 1e9]},"
               " {\"name\": \"l1.1-MD\", \"kind\": \"md\", \"p\": 1.1, \"lr\": [0.01, 0.1]}],"
               " \"pairs\": [], \"select_train\": 200, \"select_val\": 100, \"select_final\": 2,"
               " \"train_limit\": 400, \"measure_epoch\": false,"
               " \"svm_pairs\": [[0, 1]], \"svm_n\": 20, \"svm_p\": [1.5, 2], \"svm_lr_norm\": 100,"
               " \"svm_cone_iters\": 50, \"svm_cone_rounds\": 5, \"svm_cone_p\": [2],"
               " \"svm_lr_ramp\": 10, \"svm_check_every\": 10, \"svm_max_iters\": 40,"
               " \"svm_stable_checks\": 2, \"svm_test_images\": 2, \"schedule\": \"cosine\","
               " \"warmup_epochs\": 0.5, \"clip_norm\": 1e-3, \"token_train\": 200, \"token_val\": 100,"
               " \"token_test\": 100, \"token_epochs\": 2, \"token_svm_n\": 20}");
    cr_assert_eq(run_mdatt(dir, cerr, sizeof cerr, "bench rd.json -o out --threads 2 --quiet"), 0,
                 "%s", cerr);
    snprintf(path, sizeof path, "%s/out/realdata/selection.csv", dir);
    char *sel = read_text(path);
    cr_assert(sel, "no selection.csv");
    cr_assert(strstr(sel, "GD,1e+09,diverged,"), "%s", sel);
    cr_assert(!strstr(sel, "GD,1e+09,diverged,,yes"), "a diverged step was chosen:\n%s", sel);
    int chosen = 0;
    for (const char *c = sel; (c = strstr(c, ",yes")); c++)
        chosen++;
    cr_assert_eq(chosen, 4, "one chosen step per optimizer and task:\n%s", sel);
    free(sel);
    /* The paired verdict and the token-selection table: their columns, one
     * row per comparison (l1.1-MD - GD: final, best-validation epoch; token
     * accuracy on the token task) and per optimizer. */
    snprintf(path, sizeof path, "%s/out/realdata/verdict.csv", dir);
    char *ver = read_text(path);
    static const char vhead[] =
        "task,comparison,mean_diff,ci_low,ci_high,seeds,verdict,median_diff,wins,losses,sign_p\n";
    cr_assert(ver && strncmp(ver, vhead, sizeof vhead - 1) == 0, "%s",
              ver ? ver : "(no verdict.csv)");
    int rows = 0;
    for (const char *c = ver; (c = strchr(c, '\n')); c++)
        rows++;
    cr_assert_eq(rows, 1 + 2 + 3, "%s", ver);
    free(ver);
    /* every final run in seeds.csv: 2 tasks x 2 optimizers x 2 seeds, the
     * token accuracy on the token task only, accuracies within [0, 1] */
    snprintf(path, sizeof path, "%s/out/realdata/seeds.csv", dir);
    char *sd = read_text(path);
    static const char shead[] =
        "task,optimizer,lr,seed,test_acc,bestval_test_acc,token_acc,diverged\n";
    cr_assert(sd && strncmp(sd, shead, sizeof shead - 1) == 0, "%s", sd ? sd : "(no seeds.csv)");
    int srows = 0, tokrows = 0;
    for (const char *c = strchr(sd, '\n') + 1; *c; c = strchr(c, '\n') + 1) {
        char task[64];
        double lr, acc, bv;
        int seed;
        srows++;
        if (sscanf(c, "%63[^,],%*[^,],%lf,%d,%lf,%lf,", task, &lr, &seed, &acc, &bv) == 5) {
            cr_assert(acc >= 0 && acc <= 1 && bv >= 0 && bv <= 1 && (seed == 1 || seed == 2),
                      "%.80s", c);
            const char *e = strchr(c, '\n');
            int commas = 0;
            const char *last = c;
            for (const char *q = c; q < e; q++)
                if (*q == ',' && ++commas == 6)
                    last = q + 1;
            if (strncmp(task, "token", 5) == 0) {
                cr_assert(*last != ',', "no token accuracy: %.80s", c);
                tokrows++;
            } else
                cr_assert(*last == ',', "a token accuracy outside the token task: %.80s", c);
        }
    }
    cr_assert_eq(srows, 8, "%s", sd);
    cr_assert_eq(tokrows, 4, "%s", sd);
    free(sd);
    snprintf(path, sizeof path, "%s/out/realdata/token_selection.csv", dir);
    char *tok = read_text(path);
    cr_assert(tok && strncmp(tok, "optimizer,lr,token_acc_mean,token_acc_std,test_acc_mean,test_acc_std,seeds", 74) == 0,
              "%s", tok ? tok : "(no token_selection.csv)");
    cr_assert(strstr(tok, "\nGD,") && strstr(tok, "\nl1.1-MD,"), "%s", tok);
    free(tok);
    /* Every run clips with the one threshold; at 1e-3 nearly every step's
     * gradient is longer, and accuracy.csv says which fraction was clipped. */
    snprintf(path, sizeof path, "%s/out/realdata/accuracy.csv", dir);
    char *acc = read_text(path);
    cr_assert(acc && strstr(acc, ",attn_top_mass,clipped\n"), "%s", acc ? acc : "(no accuracy.csv)");
    int arows = 0;
    for (const char *c = strchr(acc, '\n'); c && c[1]; c = strchr(c + 1, '\n')) {
        const char *end = strchr(c + 1, '\n'), *last = c + 1;
        for (const char *q = c + 1; q < end; q++)
            if (*q == ',')
                last = q + 1;
        const double frac = atof(last);
        cr_assert(frac > 0.9 && frac <= 1.0, "clipped fraction %g in %.*s", frac, (int)(end - c - 1), c + 1);
        arows++;
    }
    cr_assert_eq(arows, 2 * 2, "%s", acc);
    free(acc);
    /* The local-convergence table: a W_0 = 0 row and a cone row per p, the
     * cone run only where svm_cone_p asks for it, with the oracle's verdicts. */
    snprintf(path, sizeof path, "%s/out/realdata/svm_local.csv", dir);
    char *loc = read_text(path);
    cr_assert(loc && strncmp(loc, "pair,p,start,iters,tokens_stable,bregman_dir_final,", 51) == 0 &&
              strstr(loc, "selection_locally_opt,locally_opt,"), "%s", loc ? loc : "(no svm_local.csv)");
    cr_assert(strstr(loc, "\n0 vs 1,1.5,zero,") && strstr(loc, "\n0 vs 1,2,zero,"), "%s", loc);
    cr_assert(strstr(loc, "\n0 vs 1,1.5,cone,0,") && strstr(loc, "not run at this p"), "%s", loc);
    const char *cone = strstr(loc, "\n0 vs 1,2,cone,50,");
    cr_assert(cone && (strstr(cone, ",yes,") || strstr(cone, ",no,")), "%s", loc);
    free(loc);
    snprintf(path, sizeof path, "%s/out/realdata/summary.md", dir);
    char *sum = read_text(path);
    cr_assert(sum && strstr(sum, "l1.1-MD") && strstr(sum, "GD") &&
              (strstr(sum, "cap reached") || strstr(sum, "selected tokens stable")), "%s",
              sum ? sum : "(none)");
    free(sum);
}

/* A clipping threshold that is not a finite number >= 0 is refused before
 * anything runs (exit 2, the file and the field named, nothing written). */
Test(fmnist, realdata_bad_clip_norm_exits_2)
{
    char path[600];
    snprintf(path, sizeof path, "%s/clip.json", dir);
    write_text(path, "{\"experiment\": \"realdata\", \"seeds\": {\"from\": 1, \"to\": 2}, "
               "\"optimizers\": [{\"name\": \"GD\", \"kind\": \"md\", \"p\": 2, \"lr\": [0.1]}], "
               "\"clip_norm\": -1}");
    cr_assert_eq(run_mdatt(dir, cerr, sizeof cerr, "bench --check clip.json -o out"), 2, "%s", cerr);
    cr_assert(strstr(cerr, "clip.json: clip_norm"), "%s", cerr);
    snprintf(path, sizeof path, "%s/out", dir);
    cr_assert(access(path, F_OK) != 0, "--check wrote %s", path);
}
