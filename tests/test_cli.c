/* test_cli.c - the command line contract of doc/formats.md: --help on every
 * subcommand, exit 2 with a message naming the field for each class of bad
 * input, no output file on failure, byte-identical reruns. */
#include <criterion/criterion.h>
#include "common.h"

static char *dir;
static char err[4096];
static void setup(void)
{
    dir = tmpdir_new();
    /* a valid paper-size instance and the joint toy */
    cr_assert_eq(run_mdatt(dir, err, sizeof err, "gen --n 6 --T 8 --d 10 --seed 1 -o inst.json"), 0,
                 "%s", err);
    cr_assert_eq(run_mdatt(dir, err, sizeof err, "gen --toy joint -o toy.json"), 0, "%s", err);
}
static void teardown(void) { tmpdir_free(dir); }
TestSuite(cli, .init = setup, .fini = teardown);

Test(cli, help_for_every_subcommand)
{
    const char *subs[] = {"gen", "train", "svm"};
    for (size_t k = 0; k < sizeof subs / sizeof subs[0]; k++)
        cr_assert_eq(run_mdatt(dir, err, sizeof err, "%s --help", subs[k]), 0, "%s", subs[k]);
    cr_assert_eq(run_mdatt(dir, err, sizeof err, "--help"), 0);
    cr_assert_eq(run_mdatt(dir, err, sizeof err, "--version"), 0);
    cr_assert_eq(run_mdatt(dir, err, sizeof err, "frobnicate"), 2);
    cr_assert(strstr(err, "frobnicate"), "%s", err);
    cr_assert_eq(run_mdatt(dir, err, sizeof err, ""), 2);
}

/* Expect exit 2, "mdatt: <sub>: " and needle on stderr, and no new file. */
static void expect_bad(const char *sub, const char *needle, const char *args)
{
    int before = dir_count(dir);
    int rc = run_mdatt(dir, err, sizeof err, "%s %s", sub, args);
    cr_assert_eq(rc, 2, "'%s %s' exited %d: %s", sub, args, rc, err);
    char prefix[64];
    snprintf(prefix, sizeof prefix, "mdatt: %s: ", sub);
    cr_assert(strncmp(err, prefix, strlen(prefix)) == 0, "'%s' lacks the prefix: %s", args, err);
    cr_assert(strstr(err, needle), "'%s %s': message '%s' lacks '%s'", sub, args, err, needle);
    cr_assert_eq(dir_count(dir), before, "'%s %s' left a file behind", sub, args);
}

Test(cli, gen_bad_input)
{
    expect_bad("gen", "--n", "--n 0 -o x.json");
    expect_bad("gen", "--n", "--n 5x -o x.json");
    expect_bad("gen", "--T", "--T 1 -o x.json");
    expect_bad("gen", "--d", "--d -3 -o x.json");
    expect_bad("gen", "--seed", "--seed abc -o x.json");
    expect_bad("gen", "--bogus", "--bogus -o x.json");
    expect_bad("gen", "--toy", "--toy self -o x.json");
    expect_bad("gen", "memory", "--n 100000 --T 100000 --d 1000 -o x.json");
    expect_bad("gen", "-o", "-o");
}

Test(cli, gen_is_deterministic)
{
    cr_assert_eq(run_mdatt(dir, err, sizeof err, "gen --seed 7 -o a.json"), 0);
    cr_assert_eq(run_mdatt(dir, err, sizeof err, "gen --seed 7 -o b.json"), 0);
    cr_assert_eq(run_mdatt(dir, err, sizeof err, "gen --seed 8 -o c.json"), 0);
    char pa[512], pb[512], pc[512];
    snprintf(pa, sizeof pa, "%s/a.json", dir);
    snprintf(pb, sizeof pb, "%s/b.json", dir);
    snprintf(pc, sizeof pc, "%s/c.json", dir);
    char *a = read_text(pa), *b = read_text(pb), *c = read_text(pc);
    cr_assert_str_eq(a, b);
    cr_assert_str_neq(a, c);
    free(a); free(b); free(c);
}

Test(cli, train_bad_input)
{
    const char *ok = "--lr 0.1 --iters 10 -o m.json";
    char args[512];
    expect_bad("train", "--p", "inst.json --p 1 --lr 0.1 --iters 10 -o m.json");
    expect_bad("train", "--p", "inst.json --p 0.5 --lr 0.1 --iters 10 -o m.json");
    expect_bad("train", "--p", "inst.json --p nan --lr 0.1 --iters 10 -o m.json");
    expect_bad("train", "--p", "inst.json --p inf --lr 0.1 --iters 10 -o m.json");
    expect_bad("train", "--lr", "inst.json --p 2 --lr 0 --iters 10 -o m.json");
    expect_bad("train", "--lr", "inst.json --p 2 --lr -1 --iters 10 -o m.json");
    expect_bad("train", "--iters", "inst.json --p 2 --lr 0.1 --iters 10x -o m.json");
    expect_bad("train", "--iters", "inst.json --p 2 --lr 0.1 --iters -5 -o m.json");
    expect_bad("train", "--p is required", "inst.json --lr 0.1 --iters 10 -o m.json");
    expect_bad("train", "-o", "inst.json --p 2 --lr 0.1 --iters 10");
    expect_bad("train", "INSTANCE", "--p 2 --lr 0.1 --iters 10 -o m.json");
    expect_bad("train", "--loss", "inst.json --p 2 --loss hinge --lr 0.1 --iters 10 -o m.json");
    expect_bad("train", "--wat", "inst.json --p 2 --wat --lr 0.1 --iters 10 -o m.json");
    expect_bad("train", "--init-std", "inst.json --p 2 --init-std -1 --lr 0.1 --iters 10 -o m.json");
    expect_bad("train", "--init", "inst.json --p 2 --init m0.json --seed 3 --lr 0.1 --iters 10 -o m.json");
    expect_bad("train", "query token 8", "inst.json --p 2 --query-token 8 --lr 0.1 --iters 10 -o m.json");
    snprintf(args, sizeof args, "missing.json --p 2 %s", ok);
    expect_bad("train", "missing.json", args);
    char p[512];
    snprintf(p, sizeof p, "%s/trunc.json", dir);
    write_text(p, "{\"format\":\"mdatt-instance/1\",\"n\":1,\"T\":2,\"d\":2,\"X\":[[[1,2],[3,4");
    snprintf(args, sizeof args, "trunc.json --p 2 %s", ok);
    expect_bad("train", "malformed JSON", args);
    snprintf(p, sizeof p, "%s/nan.json", dir);
    write_text(p, "{\"format\":\"mdatt-instance/1\",\"n\":1,\"T\":2,\"d\":1,\"X\":[[[1],[NaN]]],"
                  "\"Y\":[1],\"Z\":[[1]],\"v\":[1]}");
    snprintf(args, sizeof args, "nan.json --p 2 %s", ok);
    expect_bad("train", "malformed JSON", args);
    snprintf(p, sizeof p, "%s/label.json", dir);
    write_text(p, "{\"format\":\"mdatt-instance/1\",\"n\":1,\"T\":2,\"d\":1,\"X\":[[[1],[2]]],"
                  "\"Y\":[2],\"Z\":[[1]],\"v\":[1]}");
    snprintf(args, sizeof args, "label.json --p 2 %s", ok);
    expect_bad("train", "Y[0]", args);
    snprintf(p, sizeof p, "%s/m0.json", dir);
    write_text(p, "{\"format\":\"mdatt-model/1\",\"p\":2,\"W\":[[1,0],[0,1]],\"v\":[0,0]}");
    snprintf(args, sizeof args, "inst.json --p 2 --init m0.json %s", ok);
    expect_bad("train", "d=2", args);
    expect_bad("train", "--log-w", "inst.json --p 2 --log-w --lr 0.1 --iters 10 -o m.json");
}

Test(cli, train_writes_model_and_log_deterministically)
{
    const char *args = "inst.json --p 1.75 --lr 0.1 --iters 300 --normalized --init-std 1 --seed 1 "
                       "--log t%d.csv --log-every 10 --log-w -o m%d.json";
    char fmt[512];
    for (int r = 0; r < 2; r++) {
        snprintf(fmt, sizeof fmt, args, r, r);
        cr_assert_eq(run_mdatt(dir, err, sizeof err, "train %s", fmt), 0, "%s", err);
    }
    char p0[512], p1[512];
    snprintf(p0, sizeof p0, "%s/m0.json", dir);
    snprintf(p1, sizeof p1, "%s/m1.json", dir);
    char *a = read_text(p0), *b = read_text(p1);
    cr_assert_not_null(a);
    cr_assert_str_eq(a, b, "same seed and flags give byte-identical models");
    cr_assert(strstr(a, "\"format\": \"mdatt-model/1\"") && strstr(a, "\"alpha\": ["));
    cr_assert(strstr(a, "\"iters\": 300"));
    free(a); free(b);
    snprintf(p0, sizeof p0, "%s/t0.csv", dir);
    char *t = read_text(p0);
    cr_assert_not_null(t);
    cr_assert(strncmp(t, "k,loss,log_loss,norm_p,smax_mean,smax_min,log1m_smax_max,step_dual,W_0_0,", 72) == 0);
    int lines = 0;
    for (char *c = t; *c; c++)
        lines += *c == '\n';
    cr_assert_eq(lines, 1 + 31, "header + k = 0, 10, ..., 300");
    free(t);
}

Test(cli, svm_bad_input)
{
    expect_bad("svm", "--p", "inst.json --p 0.5 -o s.json");
    expect_bad("svm", "--p", "inst.json --p abc -o s.json");
    expect_bad("svm", "--p is required", "inst.json -o s.json");
    expect_bad("svm", "--alpha", "inst.json --p 2 --alpha 1,2 -o s.json");
    expect_bad("svm", "--alpha", "inst.json --p 2 --alpha 0,0,0,0,0,9 -o s.json");
    expect_bad("svm", "--alpha", "inst.json --p 2 --alpha 0,0,x,0,0,0 -o s.json");
    expect_bad("svm", "--target", "inst.json --p 2 --target U -o s.json");
    expect_bad("svm", "--alpha-from", "inst.json --p 2 --alpha 0,0,0,0,0,0 --alpha-from m.json -o s.json");
    expect_bad("svm", "missing", "missing.json --p 2 -o s.json");
}

Test(cli, svm_writes_a_certified_answer)
{
    cr_assert_eq(run_mdatt(dir, err, sizeof err, "svm inst.json --p 2 --alpha global -o s.json"), 0,
                 "%s", err);
    char p[512];
    snprintf(p, sizeof p, "%s/s.json", dir);
    char *s = read_text(p);
    cr_assert_not_null(s);
    cr_assert(strstr(s, "\"format\": \"mdatt-svm/1\"") && strstr(s, "\"status\": \"optimal\""));
    cr_assert(strstr(s, "\"lower_bound\"") && strstr(s, "\"support\"") && strstr(s, "\"tokens\""));
    free(s);
    cr_assert_eq(run_mdatt(dir, err, sizeof err, "svm inst.json --p inf --target v -o sv.json"), 0,
                 "%s", err);
}

Test(cli, svm_infeasible_exits_1_with_farkas)
{
    char p[512];
    snprintf(p, sizeof p, "%s/dup.json", dir);
    /* token 1 duplicates token 0: A_i1 = 0, so <A, W> >= 1 cannot hold */
    write_text(p, "{\"format\":\"mdatt-instance/1\",\"n\":1,\"T\":2,\"d\":2,\"X\":[[[1,0],[1,0]]],"
                  "\"Y\":[1],\"Z\":[[1,0]],\"v\":[1,0]}");
    int rc = run_mdatt(dir, err, sizeof err, "svm dup.json --p 2 --alpha 0 -o s.json");
    cr_assert_eq(rc, 1, "%s", err);
    cr_assert(strstr(err, "infeasible"), "%s", err);
    snprintf(p, sizeof p, "%s/s.json", dir);
    char *s = read_text(p);
    cr_assert_not_null(s);
    cr_assert(strstr(s, "\"status\": \"infeasible\"") && strstr(s, "\"farkas\""));
    cr_assert_null(strstr(s, "\"W\": ["), "never a W when infeasible");
    free(s);
}
