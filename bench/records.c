/* records.c - run records: payload buffers, the record file format, the
 * configuration hash and the cost-balanced split into shards. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include "config.h"
#include "records.h"

const char *bench_rec_strerror(bench_rec_status s)
{
    switch (s) {
    case BENCH_REC_OK: return "valid";
    case BENCH_REC_MISSING: return "missing";
    case BENCH_REC_CORRUPT: return "truncated or corrupted";
    case BENCH_REC_FOREIGN: return "of another configuration";
    case BENCH_REC_EIO: return "cannot be read or written";
    }
    return "unknown";
}

/* ------------------------------------------------------------------ payload */

void bench_rec_init(bench_rec *r)
{
    memset(r, 0, sizeof *r);
}

void bench_rec_rewind(bench_rec *r)
{
    r->loading = 1;
    r->pos = 0;
}

void bench_rec_free(bench_rec *r)
{
    free(r->data);
    memset(r, 0, sizeof *r);
}

void bench_rec_slot(bench_rec *r, void *p, size_t bytes)
{
    if (r->bad)
        return;
    if (r->loading) {
        if (bytes > r->len - r->pos) {
            r->bad = 1;
            return;
        }
        memcpy(p, r->data + r->pos, bytes);
        r->pos += bytes;
        return;
    }
    if (r->len + bytes > r->cap) {
        size_t cap = r->cap ? 2 * r->cap : 256;
        while (cap < r->len + bytes)
            cap *= 2;
        unsigned char *d = realloc(r->data, cap);
        if (!d) {
            r->bad = 1;
            return;
        }
        r->data = d;
        r->cap = cap;
    }
    memcpy(r->data + r->len, p, bytes);
    r->len += bytes;
}

int bench_rec_finish(const bench_rec *r)
{
    return !r->bad && r->pos == r->len ? 0 : -1;
}

/* --------------------------------------------------------------------- hash */

/* FNV-1a, 64 bits. */
static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const unsigned char *c = p;
    for (size_t k = 0; k < n; k++) {
        h ^= c[k];
        h *= 0x100000001b3ull;
    }
    return h;
}

uint64_t bench_rec_hash(const json_t *cfg, const char *stage, long njobs)
{
    json_t *c = json_deep_copy(cfg);
    json_object_del(c, "about");
    char *canon = json_dumps(c, JSON_COMPACT | JSON_SORT_KEYS | JSON_REAL_PRECISION(17));
    json_decref(c);
    char tail[256];
    const double probe = 1.0;   /* byte order and width of the payload's numbers */
    unsigned char pb[sizeof probe];
    memcpy(pb, &probe, sizeof pb);
    snprintf(tail, sizeof tail, "|%s|%ld|%s|%zu,%zu,%zu|%02x%02x", stage, njobs, PACKAGE_VERSION,
             sizeof(int), sizeof(long), sizeof(double), pb[0], pb[sizeof pb - 1]);
    uint64_t h = 0xcbf29ce484222325ull;
    h = fnv(h, canon ? canon : "", canon ? strlen(canon) : 0);
    h = fnv(h, tail, strlen(tail));
    free(canon);
    return h;
}

/* ---------------------------------------------------------------- the files */

static void put64(unsigned char *p, uint64_t x)
{
    for (int k = 0; k < 8; k++)
        p[k] = (unsigned char)(x >> (8 * k));
}

static uint64_t get64(const unsigned char *p)
{
    uint64_t x = 0;
    for (int k = 7; k >= 0; k--)
        x = x << 8 | p[k];
    return x;
}

/* CRC-32 of the header from byte 16 on and of the payload. */
static uint32_t rec_crc(const unsigned char *head, const unsigned char *data, size_t len)
{
    uLong c = crc32(0L, Z_NULL, 0);
    c = crc32(c, head + 16, BENCH_REC_HEADER - 16);
    /* zlib takes uInt lengths: feed large payloads in pieces */
    for (size_t at = 0; at < len;) {
        size_t n = len - at > (1u << 30) ? (1u << 30) : len - at;
        c = crc32(c, data + at, (uInt)n);
        at += n;
    }
    return (uint32_t)c;
}

void bench_rec_path(char *buf, size_t len, const char *dir, long k)
{
    snprintf(buf, len, "%s/%ld.rec", dir, k);
}

static int write_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n > 0) {
        ssize_t w = write(fd, c, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        c += w;
        n -= (size_t)w;
    }
    return 0;
}

bench_rec_status bench_rec_write(const char *dir, uint64_t hash, long k, const bench_rec *r,
                                 char err[BENCH_REC_ERRLEN])
{
    unsigned char head[BENCH_REC_HEADER];
    memcpy(head, BENCH_REC_MAGIC, 8);
    for (int b = 0; b < 4; b++)
        head[8 + b] = (unsigned char)(BENCH_REC_VERSION >> (8 * b));
    put64(head + 16, hash);
    put64(head + 24, (uint64_t)k);
    put64(head + 32, (uint64_t)r->len);
    const uint32_t crc = rec_crc(head, r->data, r->len);
    for (int b = 0; b < 4; b++)
        head[12 + b] = (unsigned char)(crc >> (8 * b));
    char path[1200], tmp[1300];
    bench_rec_path(path, sizeof path, dir, k);
    snprintf(tmp, sizeof tmp, "%s.tmp.XXXXXX", path);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        snprintf(err, BENCH_REC_ERRLEN, "%.400s: cannot create: %s", path, strerror(errno));
        return BENCH_REC_EIO;
    }
    int bad = write_all(fd, head, sizeof head) || write_all(fd, r->data, r->len);
    bad |= close(fd) != 0;
    if (bad || rename(tmp, path) != 0) {
        snprintf(err, BENCH_REC_ERRLEN, "%.400s: cannot write: %s", path, strerror(errno));
        unlink(tmp);
        return BENCH_REC_EIO;
    }
    return BENCH_REC_OK;
}

/* The whole file into r->data; -1 when it cannot be read. */
static int slurp(const char *path, bench_rec *r, int *missing)
{
    *missing = 0;
    int fd = open(path, O_RDONLY);
    if (fd < 0) {
        *missing = errno == ENOENT;
        return -1;
    }
    struct stat st;
    int rc = -1;
    if (fstat(fd, &st) == 0 && st.st_size >= 0 && (r->data = malloc((size_t)st.st_size + 1))) {
        size_t got = 0, want = (size_t)st.st_size;
        ssize_t n;
        while (got < want && ((n = read(fd, r->data + got, want - got)) > 0 || (n < 0 && errno == EINTR)))
            got += n > 0 ? (size_t)n : 0;
        r->len = r->cap = got;
        rc = 0;
    }
    close(fd);
    return rc;
}

bench_rec_status bench_rec_read(const char *dir, uint64_t hash, long k, bench_rec *r)
{
    char path[1200];
    int missing;
    bench_rec_path(path, sizeof path, dir, k);
    bench_rec_init(r);
    if (slurp(path, r, &missing) != 0) {
        bench_rec_free(r);
        return missing ? BENCH_REC_MISSING : BENCH_REC_EIO;
    }
    const unsigned char *h = r->data;
    bench_rec_status st = BENCH_REC_CORRUPT;
    if (r->len >= BENCH_REC_HEADER && memcmp(h, BENCH_REC_MAGIC, 8) == 0 &&
        (h[8] | h[9] << 8 | h[10] << 16 | (uint32_t)h[11] << 24) == BENCH_REC_VERSION &&
        get64(h + 24) == (uint64_t)k && get64(h + 32) == r->len - BENCH_REC_HEADER &&
        rec_crc(h, h + BENCH_REC_HEADER, r->len - BENCH_REC_HEADER) ==
            (h[12] | h[13] << 8 | h[14] << 16 | (uint32_t)h[15] << 24))
        st = get64(h + 16) == hash ? BENCH_REC_OK : BENCH_REC_FOREIGN;
    if (st != BENCH_REC_OK) {
        bench_rec_free(r);
        return st;
    }
    memmove(r->data, r->data + BENCH_REC_HEADER, r->len - BENCH_REC_HEADER);
    r->len -= BENCH_REC_HEADER;
    bench_rec_rewind(r);
    return BENCH_REC_OK;
}

/* ------------------------------------------------------------------- shards */

int bench_shard_parse(const char *s, int *k, int *n, char err[BENCH_REC_ERRLEN])
{
    char *end;
    errno = 0;
    long a = strtol(s, &end, 10), b = -1;
    if (end != s && *end == '/' && end[1] >= '0' && end[1] <= '9' && s[0] >= '0' && s[0] <= '9') {
        const char *t = end + 1;
        b = strtol(t, &end, 10);
        if (*end != '\0')
            b = -1;
    }
    if (errno || b < 1 || b > 100000) {
        snprintf(err, BENCH_REC_ERRLEN, "--shard: '%s' is not K/N with 0 <= K < N <= 100000", s);
        return -1;
    }
    if (a >= b) {
        snprintf(err, BENCH_REC_ERRLEN, "--shard: K = %ld must be below N = %ld (shards are 0..N-1)", a, b);
        return -1;
    }
    *k = (int)a;
    *n = (int)b;
    return 0;
}

static int by_cost(const void *x, const void *y, void *vcost)
{
    const double *cost = vcost;
    const long a = *(const long *)x, b = *(const long *)y;
    const double ca = cost ? cost[a] : 1.0, cb = cost ? cost[b] : 1.0;
    if (ca != cb)
        return ca > cb ? -1 : 1;
    return (a > b) - (a < b);
}

int bench_shard_assign(long njobs, const double *cost, int nshards, int *owner)
{
    long *order = malloc(sizeof(long) * (njobs ? njobs : 1));
    double *load = calloc((size_t)nshards, sizeof(double));
    if (!order || !load) {
        free(order);
        free(load);
        return -1;
    }
    for (long k = 0; k < njobs; k++)
        order[k] = k;
    qsort_r(order, (size_t)njobs, sizeof(long), by_cost, (void *)cost);
    for (long j = 0; j < njobs; j++) {
        int best = 0;
        for (int s = 1; s < nshards; s++)
            if (load[s] < load[best])
                best = s;
        owner[order[j]] = best;
        load[best] += cost ? cost[order[j]] : 1.0;
    }
    free(order);
    free(load);
    return 0;
}
