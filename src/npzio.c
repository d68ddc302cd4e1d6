/* npzio.c - instances and models as numpy .npz files (README "From Python"):
 * instance keys X (n, T, d), Y (n), Z (n, d) or query_token (scalar), v (d);
 * model keys W (d, d), p (scalar), and optional v (d) and alpha (n).  Index
 * arrays may be stored as floats when their values are integers.  io.c
 * dispatches here: by content (the zip magic) when reading, by the name's
 * .npz ending when writing.  Every message names the file and the key. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"
#include "mdatt.h"
#include "mdatt_io.h"

/* Key `key` of z with the given rank; dims[r] < 0 accepts any extent and
 * receives it.  NULL with err set when missing (required) or misshapen. */
static const mdatt__npy *get(const mdatt__npz *z, const char *path, const char *key, int rank,
                             long *dims, int required, mdatt_status *st, char err[MDATT_ERRLEN])
{
    const mdatt__npy *a = mdatt__npz_get(z, key);
    *st = MDATT_OK;
    if (!a) {
        if (required)
            *st = mdatt__fail(err, MDATT_EFORMAT, "%s: %s: missing", path, key);
        return NULL;
    }
    int ok = a->rank == rank;
    for (int r = 0; ok && r < rank; r++) {
        if (dims[r] < 0)
            dims[r] = a->shape[r];
        ok = a->shape[r] == dims[r];
    }
    if (!ok) {
        char want[96] = "(", got[96] = "(";
        for (int r = 0; r < rank; r++)
            snprintf(want + strlen(want), sizeof want - strlen(want), r ? ", %ld" : "%ld", dims[r]);
        for (int r = 0; r < a->rank; r++)
            snprintf(got + strlen(got), sizeof got - strlen(got), r ? ", %ld" : "%ld", a->shape[r]);
        *st = mdatt__fail(err, MDATT_EINVAL, "%s: %s: shape %s%s), expected %s%s)%s", path, key,
                          got, a->rank == 1 ? "," : "", want, rank == 1 ? "," : "",
                          rank == 0 ? " (a scalar)" : "");
        return NULL;
    }
    return a;
}

/* Entries of a must be integers in [0, hi) (floats allowed when integral). */
static mdatt_status indices(const mdatt__npy *a, const char *path, long hi, int *out,
                            char err[MDATT_ERRLEN])
{
    for (size_t k = 0; k < a->count; k++) {
        double x = a->data[k];
        if (!(x >= 0 && x < (double)hi && x == floor(x))) {
            char at[32] = "";
            if (a->rank > 0)
                snprintf(at, sizeof at, "[%zu]", k);
            return mdatt__fail(err, MDATT_EINVAL, "%s: %s%s = %.17g: must be an integer in "
                               "[0, %ld)", path, a->name, at, x, hi);
        }
        out[k] = (int)x;
    }
    return MDATT_OK;
}

static mdatt_status all_finite(const mdatt__npy *a, const char *path, char err[MDATT_ERRLEN])
{
    for (size_t k = 0; k < a->count; k++)
        if (!isfinite(a->data[k]))
            return mdatt__fail(err, MDATT_EINVAL, "%s: %s[%zu]: is not finite", path, a->name, k);
    return MDATT_OK;
}

#define SIZE_LIMIT 100000000L

mdatt_status mdatt__instance_read_npz(const char *path, int query_token, mdatt_instance *in,
                                      char err[MDATT_ERRLEN])
{
    mdatt__npz z;
    mdatt_status st = mdatt__npz_read(path, &z, err);
    if (st != MDATT_OK)
        return st;
    long xd[3] = {-1, -1, -1}, yd[1], zd[2], vd[1];
    const mdatt__npy *X = get(&z, path, "X", 3, xd, 1, &st, err), *Y = NULL, *Z = NULL, *v = NULL,
                     *qt = NULL;
    if (X && (xd[0] == 0 || xd[1] == 0 || xd[2] == 0 || xd[0] > SIZE_LIMIT || xd[1] > SIZE_LIMIT ||
              xd[2] > SIZE_LIMIT)) {
        st = mdatt__fail(err, MDATT_EINVAL, "%s: X: shape (%ld, %ld, %ld): n, T and d must be in "
                         "[1, %ld]", path, xd[0], xd[1], xd[2], SIZE_LIMIT);
        goto done;
    }
    yd[0] = xd[0];
    zd[0] = xd[0];
    zd[1] = vd[0] = xd[2];
    if (st != MDATT_OK || !(Y = get(&z, path, "Y", 1, yd, 1, &st, err)) ||
        !(v = get(&z, path, "v", 1, vd, 1, &st, err)))
        goto done;
    Z = get(&z, path, "Z", 2, zd, 0, &st, err);
    if (st == MDATT_OK)
        qt = get(&z, path, "query_token", 0, NULL, 0, &st, err);
    if (st != MDATT_OK)
        goto done;
    if (Z && qt) {
        st = mdatt__fail(err, MDATT_EFORMAT, "%s: Z and query_token: give one, not both", path);
        goto done;
    }
    if (!Z && !qt && query_token < 0) {
        st = mdatt__fail(err, MDATT_EFORMAT, "%s: Z: missing (or give query_token for "
                         "self-attention)", path);
        goto done;
    }
    if ((st = all_finite(X, path, err)) != MDATT_OK || (st = all_finite(Y, path, err)) != MDATT_OK ||
        (st = all_finite(v, path, err)) != MDATT_OK || (Z && (st = all_finite(Z, path, err)) != MDATT_OK))
        goto done;
    int qfile = -1;
    if (qt && (st = indices(qt, path, xd[1], &qfile, err)) != MDATT_OK)
        goto done;
    if ((st = mdatt_instance_alloc(in, (int)xd[0], (int)xd[1], (int)xd[2])) != MDATT_OK) {
        mdatt__fail(err, st, "%s: n*T*d = %.0f entries cannot be held in memory", path,
                    (double)xd[0] * xd[1] * xd[2]);
        goto done;
    }
    memcpy(in->X, X->data, sizeof(double) * X->count);
    memcpy(in->Y, Y->data, sizeof(double) * Y->count);
    memcpy(in->v, v->data, sizeof(double) * v->count);
    if (query_token >= xd[1]) {
        st = mdatt__fail(err, MDATT_EINVAL, "query token %d: must be in [0, %ld)", query_token, xd[1]);
        goto done;
    }
    in->query_token = query_token >= 0 ? query_token : qfile;
    if (in->query_token >= 0)
        mdatt_instance_sync_queries(in);
    else
        memcpy(in->Z, Z->data, sizeof(double) * Z->count);
    char verr[MDATT_ERRLEN];
    if ((st = mdatt_instance_validate(in, verr)) != MDATT_OK)
        mdatt__fail(err, st, "%s: %s", path, verr);
done:
    mdatt__npz_free(&z);
    if (st != MDATT_OK)
        mdatt_instance_free(in);
    return st;
}

mdatt_status mdatt__model_read_npz(const char *path, mdatt_model *m, char err[MDATT_ERRLEN])
{
    mdatt__npz z;
    mdatt_status st = mdatt__npz_read(path, &z, err);
    if (st != MDATT_OK)
        return st;
    long wd[2] = {-1, -1}, vd[1], ad[1] = {-1};
    const mdatt__npy *W = get(&z, path, "W", 2, wd, 1, &st, err), *p = NULL, *v = NULL, *al = NULL;
    if (W && (wd[0] != wd[1] || wd[0] == 0 || wd[0] > 46340)) {
        st = mdatt__fail(err, MDATT_EINVAL, "%s: W: shape (%ld, %ld): must be square, d in "
                         "[1, 46340]", path, wd[0], wd[1]);
        goto done;
    }
    vd[0] = wd[0];
    if (st != MDATT_OK || !(p = get(&z, path, "p", 0, NULL, 1, &st, err)))
        goto done;
    if ((v = get(&z, path, "v", 1, vd, 0, &st, err)), st != MDATT_OK)
        goto done;
    if ((al = get(&z, path, "alpha", 1, ad, 0, &st, err)), st != MDATT_OK)
        goto done;
    if ((st = all_finite(W, path, err)) != MDATT_OK || (v && (st = all_finite(v, path, err)) != MDATT_OK))
        goto done;
    if (!(p->data[0] > 1.0) || !isfinite(p->data[0])) {
        st = mdatt__fail(err, MDATT_EINVAL, "%s: p: must be a finite real > 1 (got %g)", path,
                         p->data[0]);
        goto done;
    }
    if ((st = mdatt_model_alloc(m, (int)wd[0], al ? (int)ad[0] : 0)) != MDATT_OK) {
        mdatt__fail(err, st, "%s: model of dimension %ld cannot be held in memory", path, wd[0]);
        goto done;
    }
    if (al && (st = indices(al, path, SIZE_LIMIT, m->alpha, err)) != MDATT_OK)
        goto done;
    memcpy(m->W, W->data, sizeof(double) * W->count);
    if (v)
        memcpy(m->v, v->data, sizeof(double) * v->count);
    m->p = p->data[0];
    m->final_loss = m->final_log_loss = NAN;
done:
    mdatt__npz_free(&z);
    if (st != MDATT_OK)
        mdatt_model_free(m);
    return st;
}

/* An array view for the writer (data cast away from const: only read). */
static mdatt__npy view(const char *name, char kind, const double *data, int rank, long d0,
                       long d1, long d2)
{
    mdatt__npy a;
    memset(&a, 0, sizeof a);
    snprintf(a.name, sizeof a.name, "%s", name);
    a.kind = kind;
    a.itemsize = 8;
    a.rank = rank;
    a.shape[0] = d0;
    a.shape[1] = d1;
    a.shape[2] = d2;
    a.count = 1;
    for (int r = 0; r < rank; r++)
        a.count *= (size_t)a.shape[r];
    a.data = (double *)data;
    return a;
}

static mdatt_status write_arrays(const char *path, const mdatt__npy *arr, int n,
                                 char err[MDATT_ERRLEN])
{
    mdatt_outfile o;
    mdatt_status st = mdatt_outfile_open(&o, path, err);
    if (st != MDATT_OK)
        return st;
    if ((st = mdatt__npz_write(o.f, arr, n, path, err)) != MDATT_OK) {
        mdatt_outfile_abort(&o);
        return st;
    }
    return mdatt_outfile_commit(&o, err);
}

mdatt_status mdatt__instance_write_npz(const char *path, const mdatt_instance *in,
                                       char err[MDATT_ERRLEN])
{
    double qt = in->query_token;
    mdatt__npy a[4] = {
        view("X", 'f', in->X, 3, in->n, in->T, in->d),
        view("Y", 'f', in->Y, 1, in->n, 0, 0),
        in->query_token >= 0 ? view("query_token", 'i', &qt, 0, 0, 0, 0)
                             : view("Z", 'f', in->Z, 2, in->n, in->d, 0),
        view("v", 'f', in->v, 1, in->d, 0, 0)};
    return write_arrays(path, a, 4, err);
}

static mdatt_status model_npz_print(FILE *f, const char *path, const mdatt_model *m,
                                    char err[MDATT_ERRLEN])
{
    double p = m->p, *alpha = NULL;
    if (m->alpha && !(alpha = malloc(sizeof(double) * (size_t)(m->n ? m->n : 1))))
        return mdatt__fail(err, MDATT_ENOMEM, "%s: out of memory", path);
    for (int i = 0; m->alpha && i < m->n; i++)
        alpha[i] = m->alpha[i];
    mdatt__npy a[4] = {
        view("W", 'f', m->W, 2, m->d, m->d, 0),
        view("p", 'f', &p, 0, 0, 0, 0),
        view("v", 'f', m->v, 1, m->d, 0, 0),
        view("alpha", 'i', alpha, 1, m->n, 0, 0)};
    mdatt_status st = mdatt__npz_write(f, a, alpha ? 4 : 3, path, err);
    free(alpha);
    return st;
}

mdatt_status mdatt_model_print_as(FILE *f, const char *name, const mdatt_model *m,
                                  char err[MDATT_ERRLEN])
{
    if (!mdatt__npz_name(name)) {
        mdatt_model_print(f, m);
        return MDATT_OK;
    }
    return model_npz_print(f, name, m, err);
}

mdatt_status mdatt__model_write_npz(const char *path, const mdatt_model *m, char err[MDATT_ERRLEN])
{
    mdatt_outfile o;
    mdatt_status st = mdatt_outfile_open(&o, path, err);
    if (st != MDATT_OK)
        return st;
    if ((st = model_npz_print(o.f, path, m, err)) != MDATT_OK) {
        mdatt_outfile_abort(&o);
        return st;
    }
    return mdatt_outfile_commit(&o, err);
}
