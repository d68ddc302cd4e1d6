/* instance.c - the data set of doc/formats.md: allocation, queries, validation. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "mdatt.h"

const char *mdatt_strerror(mdatt_status st)
{
    switch (st) {
    case MDATT_OK: return "success";
    case MDATT_EINVAL: return "invalid argument or data";
    case MDATT_EFORMAT: return "malformed file";
    case MDATT_EIO: return "input/output error";
    case MDATT_ENOMEM: return "out of memory or size too large";
    case MDATT_ENUMERIC: return "numerical failure";
    }
    return "unknown status";
}

/* Largest number of doubles one array may hold (2^31 = 16 GiB), so that every
 * index fits an int product checked here and sizes that cannot fit in memory
 * are refused before allocation. */
#define MDATT_MAX_ENTRIES (1L << 31)

static double *alloc_doubles(long count)
{
    if (count <= 0 || count > MDATT_MAX_ENTRIES)
        return NULL;
    return calloc((size_t)count, sizeof(double));
}

mdatt_status mdatt_instance_alloc(mdatt_instance *in, int n, int T, int d)
{
    memset(in, 0, sizeof *in);
    in->query_token = -1;
    if (n <= 0 || T <= 0 || d <= 0)
        return MDATT_EINVAL;
    const long ntd = (long)n * T * d;
    if ((long)n * T > MDATT_MAX_ENTRIES || ntd > MDATT_MAX_ENTRIES)
        return MDATT_ENOMEM;
    in->n = n;
    in->T = T;
    in->d = d;
    in->X = alloc_doubles(ntd);
    in->Y = alloc_doubles(n);
    in->Z = alloc_doubles((long)n * d);
    in->v = alloc_doubles(d);
    if (!in->X || !in->Y || !in->Z || !in->v) {
        mdatt_instance_free(in);
        return MDATT_ENOMEM;
    }
    return MDATT_OK;
}

void mdatt_instance_free(mdatt_instance *in)
{
    free(in->X);
    free(in->Y);
    free(in->Z);
    free(in->v);
    memset(in, 0, sizeof *in);
    in->query_token = -1;
}

void mdatt_instance_sync_queries(mdatt_instance *in)
{
    if (in->query_token < 0 || in->query_token >= in->T)
        return;
    for (int i = 0; i < in->n; i++)
        memcpy(in->Z + (size_t)i * in->d,
               in->X + ((size_t)i * in->T + in->query_token) * in->d,
               sizeof(double) * in->d);
}

/* Index of the first non-finite entry of x[0..m), or -1. */
static long first_nonfinite(const double *x, long m)
{
    for (long k = 0; k < m; k++)
        if (!isfinite(x[k]))
            return k;
    return -1;
}

mdatt_status mdatt_instance_validate(const mdatt_instance *in, char err[MDATT_ERRLEN])
{
    if (in->n <= 0 || in->T <= 0 || in->d <= 0) {
        snprintf(err, MDATT_ERRLEN, "n, T and d must be positive (got n=%d, T=%d, d=%d)",
                 in->n, in->T, in->d);
        return MDATT_EINVAL;
    }
    if (in->T < 2) {
        snprintf(err, MDATT_ERRLEN, "T: attention needs at least 2 tokens per sample (got %d)", in->T);
        return MDATT_EINVAL;
    }
    if (!in->X || !in->Y || !in->Z || !in->v) {
        snprintf(err, MDATT_ERRLEN, "instance arrays are not allocated");
        return MDATT_EINVAL;
    }
    const int d = in->d, T = in->T;
    long k = first_nonfinite(in->X, (long)in->n * T * d);
    if (k >= 0) {
        snprintf(err, MDATT_ERRLEN, "X[%ld][%ld][%ld] is not finite",
                 k / ((long)T * d), (k / d) % T, k % d);
        return MDATT_EINVAL;
    }
    for (int i = 0; i < in->n; i++)
        if (in->Y[i] != 1.0 && in->Y[i] != -1.0) {
            snprintf(err, MDATT_ERRLEN, "Y[%d] must be +1 or -1 (got %g)", i, in->Y[i]);
            return MDATT_EINVAL;
        }
    if (in->query_token >= T || in->query_token < -1) {
        snprintf(err, MDATT_ERRLEN, "query_token must be in [0, %d) (got %d)", T, in->query_token);
        return MDATT_EINVAL;
    }
    k = first_nonfinite(in->Z, (long)in->n * d);
    if (k >= 0) {
        snprintf(err, MDATT_ERRLEN, "Z[%ld][%ld] is not finite", k / d, k % d);
        return MDATT_EINVAL;
    }
    k = first_nonfinite(in->v, d);
    if (k >= 0) {
        snprintf(err, MDATT_ERRLEN, "v[%ld] is not finite", k);
        return MDATT_EINVAL;
    }
    return MDATT_OK;
}

mdatt_status mdatt_model_alloc(mdatt_model *m, int d, int n)
{
    memset(m, 0, sizeof *m);
    if (d <= 0 || n < 0)
        return MDATT_EINVAL;
    if ((long)d * d > MDATT_MAX_ENTRIES)
        return MDATT_ENOMEM;
    m->d = d;
    m->n = n;
    m->p = 2.0;
    m->W = alloc_doubles((long)d * d);
    m->v = alloc_doubles(d);
    m->alpha = n > 0 ? calloc((size_t)n, sizeof(int)) : NULL;
    if (!m->W || !m->v || (n > 0 && !m->alpha)) {
        mdatt_model_free(m);
        return MDATT_ENOMEM;
    }
    return MDATT_OK;
}

void mdatt_model_free(mdatt_model *m)
{
    free(m->W);
    free(m->v);
    free(m->alpha);
    memset(m, 0, sizeof *m);
}

/* ------------------------------------------------------------ identity */

static uint64_t fnv1a(uint64_t h, uint64_t word)
{
    for (int k = 0; k < 8; k++) {           /* little-endian bytes */
        h ^= (word >> (8 * k)) & 0xff;
        h *= 0x100000001b3ULL;
    }
    return h;
}

static uint64_t fnv1a_doubles(uint64_t h, const double *x, size_t m)
{
    for (size_t k = 0; k < m; k++) {
        double v = x[k] == 0.0 ? 0.0 : x[k];  /* -0 as +0: files print both as 0 */
        uint64_t bits;
        memcpy(&bits, &v, sizeof bits);
        h = fnv1a(h, bits);
    }
    return h;
}

uint64_t mdatt_instance_hash(const mdatt_instance *in)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    h = fnv1a(h, (uint64_t)in->n);
    h = fnv1a(h, (uint64_t)in->T);
    h = fnv1a(h, (uint64_t)in->d);
    h = fnv1a_doubles(h, in->X, (size_t)in->n * in->T * in->d);
    h = fnv1a_doubles(h, in->Z, (size_t)in->n * in->d);
    h = fnv1a_doubles(h, in->Y, (size_t)in->n);
    return fnv1a_doubles(h, in->v, (size_t)in->d);
}

int mdatt_hash_parse(const char *s, uint64_t *out)
{
    unsigned long long h = 0;
    int used = 0;
    if (strncmp(s, MDATT_HASH_PREFIX, strlen(MDATT_HASH_PREFIX)) != 0)
        return -1;
    s += strlen(MDATT_HASH_PREFIX);
    if (strlen(s) != 16 || sscanf(s, "%16llx%n", &h, &used) != 1 || used != 16)
        return -1;
    *out = (uint64_t)h;
    return 0;
}
