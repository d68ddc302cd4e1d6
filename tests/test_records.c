/* test_records.c - run records (bench/records.c): bit-exact round trip of
 * the slots, every truncation and every flipped byte detected, records of
 * another configuration told apart, the configuration hash, and the split
 * into shards checked against a brute-force count. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "common.h"
#include "records.h"

static char *dir;
static void setup(void) { dir = tmpdir_new(); }
static void teardown(void) { tmpdir_free(dir); }
TestSuite(records, .init = setup, .fini = teardown, .timeout = 60);

/* A run's slots as an experiment has them: doubles (with a NaN payload,
 * -0, a subnormal), ints and a string. */
typedef struct {
    double x[5];
    int n[3];
    char msg[16];
} slots_t;

static void slots(slots_t *s, bench_rec *r)
{
    bench_rec_slot(r, s->x, sizeof s->x);
    bench_rec_slot(r, s->n, sizeof s->n);
    bench_rec_slot(r, s->msg, sizeof s->msg);
}

static slots_t sample(void)
{
    slots_t s;
    memset(&s, 0, sizeof s);
    uint64_t nanbits = 0x7ff8000000012345ull;
    memcpy(&s.x[0], &nanbits, 8);
    s.x[1] = -0.0;
    s.x[2] = 4.9e-324;
    s.x[3] = 0.1;
    s.x[4] = -INFINITY;
    s.n[0] = -7;
    s.n[1] = 1 << 30;
    s.n[2] = 0;
    snprintf(s.msg, sizeof s.msg, "optimal");
    return s;
}

static void write_sample(uint64_t hash, long k)
{
    slots_t s = sample();
    bench_rec r;
    char err[BENCH_REC_ERRLEN];
    bench_rec_init(&r);
    slots(&s, &r);
    cr_assert_eq(bench_rec_write(dir, hash, k, &r, err), BENCH_REC_OK, "%s", err);
    bench_rec_free(&r);
}

Test(records, round_trip_is_bit_exact)
{
    write_sample(0x1234abcdull, 17);
    bench_rec r;
    cr_assert_eq(bench_rec_read(dir, 0x1234abcdull, 17, &r), BENCH_REC_OK);
    slots_t got, want = sample();
    memset(&got, 0xaa, sizeof got);
    slots(&got, &r);
    cr_assert_eq(bench_rec_finish(&r), 0);
    cr_assert(memcmp(got.x, want.x, sizeof got.x) == 0 && memcmp(got.n, want.n, sizeof got.n) == 0 &&
              memcmp(got.msg, want.msg, sizeof got.msg) == 0, "slots differ after the round trip");
    bench_rec_free(&r);
}

Test(records, missing_foreign_and_wrong_index)
{
    bench_rec r;
    cr_assert_eq(bench_rec_read(dir, 1, 0, &r), BENCH_REC_MISSING);
    write_sample(1, 0);
    cr_assert_eq(bench_rec_read(dir, 2, 0, &r), BENCH_REC_FOREIGN);
    /* a record renamed to another run's name is not that run's */
    char a[600], b[600];
    bench_rec_path(a, sizeof a, dir, 0);
    bench_rec_path(b, sizeof b, dir, 5);
    cr_assert_eq(rename(a, b), 0);
    cr_assert_eq(bench_rec_read(dir, 1, 5, &r), BENCH_REC_CORRUPT);
}

Test(records, payload_of_other_slots_is_refused)
{
    write_sample(3, 0);
    bench_rec r;
    cr_assert_eq(bench_rec_read(dir, 3, 0, &r), BENCH_REC_OK);
    double big[8];              /* more bytes than stored */
    bench_rec_slot(&r, big, sizeof big);
    bench_rec_slot(&r, big, sizeof big);
    cr_assert_neq(bench_rec_finish(&r), 0);
    bench_rec_free(&r);
    cr_assert_eq(bench_rec_read(dir, 3, 0, &r), BENCH_REC_OK);
    bench_rec_slot(&r, big, sizeof(double));    /* fewer */
    cr_assert_neq(bench_rec_finish(&r), 0);
    bench_rec_free(&r);
}

static unsigned char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    cr_assert(f);
    unsigned char *buf = malloc(4096);
    *len = fread(buf, 1, 4096, f);
    fclose(f);
    return buf;
}

static void put_file(const char *path, const unsigned char *p, size_t len)
{
    FILE *f = fopen(path, "wb");
    cr_assert(f);
    cr_assert_eq(fwrite(p, 1, len, f), len);
    fclose(f);
}

Test(records, every_flipped_bit_and_truncation_is_detected)
{
    write_sample(42, 3);
    char path[600];
    bench_rec_path(path, sizeof path, dir, 3);
    size_t len;
    unsigned char *orig = read_file(path, &len);
    slots_t s;
    cr_assert_eq(len, BENCH_REC_HEADER + sizeof s.x + sizeof s.n + sizeof s.msg);
    bench_rec r;
    for (size_t at = 0; at < len; at++)
        for (int bit = 0; bit < 8; bit++) {
            orig[at] ^= (unsigned char)(1 << bit);
            put_file(path, orig, len);
            orig[at] ^= (unsigned char)(1 << bit);
            bench_rec_status st = bench_rec_read(dir, 42, 3, &r);
            cr_assert_eq(st, BENCH_REC_CORRUPT, "byte %zu bit %d flipped: %s", at, bit,
                         bench_rec_strerror(st));
        }
    for (size_t n = 0; n < len; n++) {
        put_file(path, orig, n);
        cr_assert_eq(bench_rec_read(dir, 42, 3, &r), BENCH_REC_CORRUPT, "truncated to %zu bytes", n);
    }
    unsigned char longer[4200];         /* trailing garbage */
    memcpy(longer, orig, len);
    longer[len] = 0;
    put_file(path, longer, len + 1);
    cr_assert_eq(bench_rec_read(dir, 42, 3, &r), BENCH_REC_CORRUPT);
    put_file(path, orig, len);
    cr_assert_eq(bench_rec_read(dir, 42, 3, &r), BENCH_REC_OK);
    bench_rec_free(&r);
    free(orig);
}

Test(records, hash_follows_the_configuration_not_its_spelling)
{
    json_error_t je;
    json_t *a = json_loads("{\"experiment\":\"paper_fig4\",\"n\":6,\"lr\":0.1,\"about\":\"x\"}", 0, &je);
    json_t *b = json_loads("{\"lr\":0.1,\"about\":\"other words\",\"n\":6,\"experiment\":\"paper_fig4\"}", 0, &je);
    json_t *c = json_loads("{\"experiment\":\"paper_fig4\",\"n\":6,\"lr\":0.10000000000000002}", 0, &je);
    cr_assert(a && b && c);
    uint64_t ha = bench_rec_hash(a, "paper_fig4", 300);
    cr_assert_eq(ha, bench_rec_hash(b, "paper_fig4", 300), "key order or about changed the hash");
    cr_assert_neq(ha, bench_rec_hash(c, "paper_fig4", 300), "a different lr kept the hash");
    cr_assert_neq(ha, bench_rec_hash(a, "realdata lr", 300), "the stage is part of the hash");
    cr_assert_neq(ha, bench_rec_hash(a, "paper_fig4", 301), "the run count is part of the hash");
    json_decref(a);
    json_decref(b);
    json_decref(c);
}

Test(records, shard_flags)
{
    char err[BENCH_REC_ERRLEN];
    int k, n;
    cr_assert_eq(bench_shard_parse("3/8", &k, &n, err), 0);
    cr_assert(k == 3 && n == 8);
    cr_assert_eq(bench_shard_parse("0/1", &k, &n, err), 0);
    const char *bad[] = {"8/8", "9/8", "-1/8", "3", "3/", "/8", "3/8x", "a/b", "3/0", "3 /8", "", "1/100001"};
    for (size_t j = 0; j < sizeof bad / sizeof bad[0]; j++) {
        err[0] = '\0';
        cr_assert_eq(bench_shard_parse(bad[j], &k, &n, err), -1, "'%s' accepted", bad[j]);
        cr_assert(strstr(err, "--shard"), "'%s': message does not name the flag: %s", bad[j], err);
    }
}

/* Every run in exactly one shard, for many sizes; loads within one largest
 * run of each other (the greedy bound), costs random but seeded. */
Test(records, shards_partition_the_runs_and_balance_the_cost)
{
    srand(7);
    for (int trial = 0; trial < 200; trial++) {
        const long nj = rand() % 300;
        const int ns = 1 + rand() % 12;
        double *cost = malloc(sizeof(double) * (nj + 1)), cmax = 0.0;
        int *owner = malloc(sizeof(int) * (nj + 1));
        for (long k = 0; k < nj; k++) {
            cost[k] = trial % 3 == 0 ? 1.0 : (double)(1 + rand() % 1000);
            cmax = fmax(cmax, cost[k]);
        }
        cr_assert_eq(bench_shard_assign(nj, trial % 5 == 0 ? NULL : cost, ns, owner), 0);
        double load[12] = {0};
        long count[12] = {0};
        for (long k = 0; k < nj; k++) {
            cr_assert(owner[k] >= 0 && owner[k] < ns, "run %ld has owner %d of %d", k, owner[k], ns);
            load[owner[k]] += trial % 5 == 0 ? 1.0 : cost[k];
            count[owner[k]]++;
        }
        long total = 0;
        double lo = INFINITY, hi = 0.0;
        for (int s = 0; s < ns; s++) {
            total += count[s];
            lo = fmin(lo, load[s]);
            hi = fmax(hi, load[s]);
        }
        cr_assert_eq(total, nj);
        if (nj >= ns)
            cr_assert(hi - lo <= (trial % 5 == 0 ? 1.0 : cmax), "trial %d: loads %g..%g", trial, lo, hi);
        free(cost);
        free(owner);
    }
}
