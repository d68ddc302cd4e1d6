/* test_io.c - JSON instance/model files: round trips to the last bit, and
 * every class of bad input rejected with a message naming the field. */
#include <criterion/criterion.h>
#include <math.h>
#include <time.h>
#include "common.h"
#include "mdatt.h"
#include "mdatt_io.h"
#include "mdatt_check.h"

static char *dir;
static void setup(void) { dir = tmpdir_new(); }
static void teardown(void) { tmpdir_free(dir); }
TestSuite(io, .init = setup, .fini = teardown);

static void path_in(char *buf, const char *name)
{
    snprintf(buf, 512, "%s/%s", dir, name);
}

Test(io, instance_round_trip_is_bit_exact)
{
    mdatt_gen_settings gs = {5, 4, 3, 99};
    mdatt_instance a, b;
    char err[MDATT_ERRLEN], p[512];
    cr_assert_eq(mdatt_gen(&gs, &a), MDATT_OK);
    a.X[0] = -0.0;                  /* written as 0: sign of zero is not data */
    a.X[1] = 1e-310;                /* subnormal survives %.17g */
    a.X[2] = 0.1;
    path_in(p, "inst.json");
    cr_assert_eq(mdatt_instance_write(p, &a, err), MDATT_OK, "%s", err);
    cr_assert_eq(mdatt_instance_read(p, &b, err), MDATT_OK, "%s", err);
    cr_assert_eq(b.n, 5);
    cr_assert_eq(b.T, 4);
    cr_assert_eq(b.d, 3);
    cr_assert_eq(b.query_token, -1);
    a.X[0] = 0.0;
    cr_assert(memcmp(a.X, b.X, sizeof(double) * 60) == 0);
    cr_assert(memcmp(a.Z, b.Z, sizeof(double) * 15) == 0);
    cr_assert(memcmp(a.Y, b.Y, sizeof(double) * 5) == 0);
    cr_assert(memcmp(a.v, b.v, sizeof(double) * 3) == 0);
    mdatt_instance_free(&a);
    mdatt_instance_free(&b);
}

Test(io, self_attention_queries_follow_the_token)
{
    mdatt_instance a, b;
    char err[MDATT_ERRLEN], p[512];
    cr_assert_eq(mdatt_gen_toy_joint(&a), MDATT_OK);
    cr_assert_eq(a.query_token, 0);
    cr_assert(a.Z[0] == -2.7 && a.Z[1] == 1.2 && a.Z[2] == 0.4 && a.Z[3] == -2.2);
    path_in(p, "toy.json");
    cr_assert_eq(mdatt_instance_write(p, &a, err), MDATT_OK, "%s", err);
    char *text = read_text(p);
    cr_assert(strstr(text, "\"query_token\": 0") && !strstr(text, "\"Z\""));
    free(text);
    cr_assert_eq(mdatt_instance_read(p, &b, err), MDATT_OK, "%s", err);
    cr_assert(memcmp(a.Z, b.Z, sizeof(double) * 4) == 0);
    mdatt_instance_free(&b);
    /* the override makes token 2 the query */
    cr_assert_eq(mdatt_instance_read_query(p, 2, &b, err), MDATT_OK, "%s", err);
    cr_assert(b.Z[0] == 1.3 && b.Z[3] == 0.1 && b.query_token == 2);
    mdatt_instance_free(&b);
    cr_assert_eq(mdatt_instance_read_query(p, 3, &b, err), MDATT_EINVAL);
    cr_assert(strstr(err, "query token"), "%s", err);
    mdatt_instance_free(&a);
}

Test(io, model_round_trip)
{
    mdatt_model a, b;
    char err[MDATT_ERRLEN], p[512];
    cr_assert_eq(mdatt_model_alloc(&a, 3, 2), MDATT_OK);
    for (int k = 0; k < 9; k++)
        a.W[k] = (k - 4) / 3.0;
    a.v[2] = 1e300;
    a.alpha[0] = 1;
    a.alpha[1] = 5;
    a.p = 1.75;
    a.iters = 1500;
    a.lr = 0.1;
    a.normalized = 1;
    a.loss = MDATT_LOSS_EXPONENTIAL;
    a.final_loss = 0.25;
    a.final_log_loss = log(0.25);
    path_in(p, "model.json");
    cr_assert_eq(mdatt_model_write(p, &a, err), MDATT_OK, "%s", err);
    cr_assert_eq(mdatt_model_read(p, &b, err), MDATT_OK, "%s", err);
    cr_assert(memcmp(a.W, b.W, sizeof(double) * 9) == 0 && b.v[2] == 1e300);
    cr_assert(b.n == 2 && b.alpha[0] == 1 && b.alpha[1] == 5);
    cr_assert(b.p == 1.75 && b.iters == 1500 && b.normalized && !b.joint);
    cr_assert(b.loss == MDATT_LOSS_EXPONENTIAL && b.final_loss == 0.25);
    mdatt_model_free(&a);
    mdatt_model_free(&b);
}

/* Read an instance written as text; expect status st and a message with needle. */
static void expect_bad(const char *text, mdatt_status st, const char *needle)
{
    char err[MDATT_ERRLEN] = "", p[512];
    mdatt_instance in;
    path_in(p, "bad.json");
    write_text(p, text);
    mdatt_status got = mdatt_instance_read(p, &in, err);
    cr_assert_eq(got, st, "status %d for %s (%s)", got, text, err);
    cr_assert(strstr(err, needle), "message '%s' lacks '%s'", err, needle);
    cr_assert_null(in.X, "no data left allocated on error");
}

#define HEAD "{\"format\":\"mdatt-instance/1\",\"n\":1,\"T\":2,\"d\":2,"

Test(io, bad_instances_name_the_field)
{
    expect_bad("", MDATT_EFORMAT, "malformed JSON");
    expect_bad(HEAD "\"X\":[[[1,2],[3,4]]],\"Y\":[1],\"Z\":[[1,0]],\"v\":[1,", MDATT_EFORMAT, "malformed");
    expect_bad("[1,2]", MDATT_EFORMAT, "object");
    expect_bad("{\"format\":\"mdatt-model/1\"}", MDATT_EFORMAT, "format");
    expect_bad("{\"n\":1}", MDATT_EFORMAT, "format");
    expect_bad(HEAD "\"X\":[[[1,2],[3]]],\"Y\":[1],\"Z\":[[1,0]],\"v\":[1,0]}", MDATT_EFORMAT, "X[0][1]");
    expect_bad(HEAD "\"X\":[[[1,2],[3,4]]],\"Y\":[1],\"Z\":[[1,0]],\"v\":[1,\"a\"]}", MDATT_EINVAL, "v[1]");
    expect_bad(HEAD "\"X\":[[[1,2],[3,1e999]]],\"Y\":[1],\"Z\":[[1,0]],\"v\":[1,0]}", MDATT_EFORMAT, "malformed");
    expect_bad(HEAD "\"X\":[[[1,2],[3,4]]],\"Y\":[0.5],\"Z\":[[1,0]],\"v\":[1,0]}", MDATT_EINVAL, "Y[0]");
    expect_bad(HEAD "\"X\":[[[1,2],[3,4]]],\"Y\":[1],\"v\":[1,0]}", MDATT_EFORMAT, "Z");
    expect_bad(HEAD "\"X\":[[[1,2],[3,4]]],\"Y\":[1],\"Z\":[[1,0]],\"query_token\":0,\"v\":[1,0]}",
               MDATT_EFORMAT, "query_token");
    expect_bad(HEAD "\"X\":[[[1,2],[3,4]]],\"Y\":[1],\"query_token\":2,\"v\":[1,0]}", MDATT_EINVAL,
               "query_token");
    expect_bad(HEAD "\"X\":[[[1,2],[3,4]]],\"Y\":[1,1],\"Z\":[[1,0]],\"v\":[1,0]}", MDATT_EFORMAT, "Y");
    expect_bad("{\"format\":\"mdatt-instance/1\",\"n\":0,\"T\":2,\"d\":2}", MDATT_EINVAL, "n");
    expect_bad("{\"format\":\"mdatt-instance/1\",\"n\":1.5,\"T\":2,\"d\":2}", MDATT_EINVAL, "n");
    expect_bad("{\"format\":\"mdatt-instance/1\",\"n\":1,\"T\":2}", MDATT_EFORMAT, "d");
    expect_bad("{\"format\":\"mdatt-instance/1\",\"n\":100000,\"T\":100000,\"d\":100000}",
               MDATT_ENOMEM, "memory");
    expect_bad("{\"format\":\"mdatt-instance/1\",\"n\":1,\"n\":2}", MDATT_EFORMAT, "duplicate");
    /* one token is not attention */
    expect_bad("{\"format\":\"mdatt-instance/1\",\"n\":1,\"T\":1,\"d\":1,\"X\":[[[1]]],\"Y\":[1],"
               "\"Z\":[[1]],\"v\":[1]}", MDATT_EINVAL, "T");
}

Test(io, missing_file_is_an_io_error)
{
    char err[MDATT_ERRLEN], p[512];
    mdatt_instance in;
    mdatt_model m;
    path_in(p, "nope.json");
    cr_assert_eq(mdatt_instance_read(p, &in, err), MDATT_EIO);
    cr_assert(strstr(err, "nope.json"));
    cr_assert_eq(mdatt_model_read(p, &m, err), MDATT_EIO);
}

Test(io, bad_models_name_the_field)
{
    char err[MDATT_ERRLEN], p[512];
    mdatt_model m;
    path_in(p, "m.json");
    write_text(p, "{\"format\":\"mdatt-model/1\",\"p\":1,\"W\":[[1,0],[0,1]],\"v\":[0,0]}");
    cr_assert_eq(mdatt_model_read(p, &m, err), MDATT_EINVAL);
    cr_assert(strstr(err, "p:"), "%s", err);
    write_text(p, "{\"format\":\"mdatt-model/1\",\"p\":2,\"W\":[[1,0],[0]],\"v\":[0,0]}");
    cr_assert_eq(mdatt_model_read(p, &m, err), MDATT_EFORMAT);
    cr_assert(strstr(err, "W[1]"), "%s", err);
    write_text(p, "{\"format\":\"mdatt-model/1\",\"p\":2,\"W\":[[1,0],[0,1]],\"v\":[0,0],\"alpha\":[-1]}");
    cr_assert_eq(mdatt_model_read(p, &m, err), MDATT_EINVAL);
    cr_assert(strstr(err, "alpha[0]"), "%s", err);
    write_text(p, "{\"format\":\"mdatt-model/1\",\"p\":2,\"W\":[[1,0],[0,1]],\"v\":[0,0],\"loss\":\"hinge\"}");
    cr_assert_eq(mdatt_model_read(p, &m, err), MDATT_EINVAL);
    cr_assert(strstr(err, "loss"), "%s", err);
}

Test(io, failed_write_leaves_nothing)
{
    char err[MDATT_ERRLEN], p[512];
    mdatt_instance in;
    mdatt_gen_settings gs = {2, 2, 2, 1};
    cr_assert_eq(mdatt_gen(&gs, &in), MDATT_OK);
    path_in(p, "no/such/dir/inst.json");
    cr_assert_eq(mdatt_instance_write(p, &in, err), MDATT_EIO);
    cr_assert(strstr(err, "inst.json"));
    /* invalid data is refused before anything is created */
    in.Y[0] = 3.0;
    path_in(p, "inst.json");
    cr_assert_eq(mdatt_instance_write(p, &in, err), MDATT_EINVAL);
    cr_assert_eq(dir_count(dir), 0);
    mdatt_instance_free(&in);
}

Test(io, outfile_abort_removes_the_temp_file)
{
    char err[MDATT_ERRLEN], p[512];
    mdatt_outfile o;
    path_in(p, "out.txt");
    cr_assert_eq(mdatt_outfile_open(&o, p, err), MDATT_OK);
    fputs("partial", o.f);
    mdatt_outfile_abort(&o);
    cr_assert_eq(dir_count(dir), 0);
    cr_assert_eq(mdatt_outfile_open(&o, p, err), MDATT_OK);
    fputs("whole", o.f);
    cr_assert_eq(mdatt_outfile_commit(&o, err), MDATT_OK);
    char *s = read_text(p);
    cr_assert_str_eq(s, "whole");
    free(s);
    cr_assert_eq(dir_count(dir), 1);
}

/* A W with the wrong number of rows is reported as such (it used to be a
 * wrong row length): against the file's "d", else against the rows' length. */
Test(io, wrong_number_of_rows_of_W)
{
    char err[MDATT_ERRLEN], p[512];
    mdatt_model m;
    path_in(p, "m.json");
    write_text(p, "{\"format\":\"mdatt-model/1\",\"p\":2,\"W\":[[1,0,0],[0,1,0]],\"v\":[0,0,0]}");
    cr_assert_eq(mdatt_model_read(p, &m, err), MDATT_EFORMAT);
    cr_assert(strstr(err, "W: has 2 rows of 3 entries"), "%s", err);
    write_text(p, "{\"format\":\"mdatt-model/1\",\"p\":2,\"d\":3,\"W\":[[1,0],[0,1]],\"v\":[0,0,0]}");
    cr_assert_eq(mdatt_model_read(p, &m, err), MDATT_EFORMAT);
    cr_assert(strstr(err, "W: has 2 rows, expected d = 3"), "%s", err);
    mdatt_svm s;
    path_in(p, "s.json");
    write_text(p, "{\"format\":\"mdatt-svm/1\",\"p\":2,\"target\":\"W\",\"alpha\":[0],"
                  "\"status\":\"optimal\",\"W\":[[1,0,0]],\"objective\":1,\"lower_bound\":1,"
                  "\"gap\":0,\"max_violation\":0,\"dual\":[],\"support\":[]}");
    cr_assert_eq(mdatt_svm_read(p, &s, err), MDATT_EFORMAT);
    cr_assert(strstr(err, "s.json: W: has 1 rows of 3 entries"), "%s", err);
}

/* The instance hash is FNV-1a 64 of the documented byte sequence, computed
 * here independently over one buffer; -0 hashes as +0, and any change of a
 * number changes the hash. */
Test(io, instance_hash_is_the_documented_fnv1a)
{
    mdatt_instance in;
    cr_assert_eq(mdatt_instance_alloc(&in, 1, 2, 2), MDATT_OK);
    const double X[4] = {1, -0.0, 0.5, 2}, Z[2] = {3, 4}, Y[1] = {-1}, v[2] = {0.25, -1};
    memcpy(in.X, X, sizeof X);
    memcpy(in.Z, Z, sizeof Z);
    memcpy(in.Y, Y, sizeof Y);
    memcpy(in.v, v, sizeof v);
    unsigned char buf[3 * 8 + 9 * 8];
    const uint64_t head[3] = {1, 2, 2};
    const double nums[9] = {1, 0.0, 0.5, 2, 3, 4, -1, 0.25, -1};
    size_t len = 0;
    for (int k = 0; k < 12; k++) {
        uint64_t w;
        if (k < 3)
            w = head[k];
        else
            memcpy(&w, &nums[k - 3], 8);
        for (int b = 0; b < 8; b++)
            buf[len++] = (unsigned char)(w >> (8 * b));
    }
    uint64_t h = 14695981039346656037ULL;
    for (size_t k = 0; k < len; k++) {
        h ^= buf[k];
        h *= 1099511628211ULL;
    }
    cr_assert_eq(mdatt_instance_hash(&in), h, "%016llx vs %016llx",
                 (unsigned long long)mdatt_instance_hash(&in), (unsigned long long)h);
    in.v[1] = nextafter(-1.0, 0.0);
    cr_assert_neq(mdatt_instance_hash(&in), h);
    uint64_t parsed;
    char text[40];
    snprintf(text, sizeof text, "fnv1a64:%016llx", (unsigned long long)h);
    cr_assert(mdatt_hash_parse(text, &parsed) == 0 && parsed == h);
    cr_assert(mdatt_hash_parse("fnv1a64:123", &parsed) != 0);
    cr_assert(mdatt_hash_parse("crc:0123456789abcdef", &parsed) != 0);
    mdatt_instance_free(&in);
}

/* Outputs that are inputs: the same file by inode, through a link, or by a
 * path not yet created that names the same place. */
Test(io, same_file)
{
    char a[512], b[512], c[512];
    path_in(a, "x.json");
    write_text(a, "{}");
    path_in(b, "link.json");
    cr_assert_eq(symlink("x.json", b), 0);
    cr_assert(mdatt_same_file(a, b));
    snprintf(c, sizeof c, "%s/./x.json", dir);
    cr_assert(mdatt_same_file(a, c));
    path_in(b, "y.json");
    cr_assert(!mdatt_same_file(a, b));
    snprintf(c, sizeof c, "%s/../%s/y.json", dir, strrchr(dir, '/') + 1);
    cr_assert(mdatt_same_file(b, c), "%s and %s (neither exists)", b, c);
    cr_assert(!mdatt_same_file("-", a) && mdatt_same_file("-", "-"));
}

/* The CSV header: duplicate and empty names are refused wherever they are,
 * and a header of 200 000 columns is read in well under a second (the
 * duplicate search used to compare every pair: 2e10 comparisons). */
Test(io, csv_header_of_many_columns)
{
    const int ncol = 200000;
    char path[600], err[MDATT_ERRLEN];
    path_in(path, "wide.csv");
    FILE *f = fopen(path, "w");
    cr_assert(f);
    for (int j = 0; j < ncol; j++)
        fprintf(f, "%sc%d", j ? "," : "", j);
    fputc('\n', f);
    for (int j = 0; j < ncol; j++)
        fprintf(f, "%s%d", j ? "," : "", j);
    fputc('\n', f);
    fclose(f);
    mdatt_csv c;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    cr_assert_eq(mdatt_csv_read(path, &c, err), MDATT_OK, "%s", err);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (t1.tv_sec - t0.tv_sec) + 1e-9 * (t1.tv_nsec - t0.tv_nsec);
    cr_expect(secs < 1.0, "%.2f s for %d columns", secs, ncol);
    cr_expect_eq(c.ncol, ncol);
    cr_expect_eq(mdatt_csv_col(&c, "c199999"), ncol - 1);
    cr_expect_eq(c.data[ncol - 1], ncol - 1);
    mdatt_csv_free(&c);
    static const struct { const char *text, *want; } bad[] = {
        {"b,a,c,d,a\n1,2,3,4,5\n", "duplicate column 'a'"},
        {"k,loss,k\n1,2,3\n", "duplicate column 'k'"},
        {"k,,loss\n1,2,3\n", "column 2 has an empty name"},
    };
    for (size_t j = 0; j < sizeof bad / sizeof bad[0]; j++) {
        write_text(path, bad[j].text);
        cr_expect_eq(mdatt_csv_read(path, &c, err), MDATT_EFORMAT, "%s", bad[j].text);
        cr_expect(strstr(err, bad[j].want), "%s: %s", bad[j].text, err);
    }
}
