/* io.c - JSON files of doc/formats.md (instance, model).
 * Reading uses jansson and names the offending field on every error; writing
 * prints numbers with %.17g, which round-trips every finite double. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <jansson.h>
#include "internal.h"
#include "mdatt.h"
#include "mdatt_io.h"

#define INSTANCE_FORMAT "mdatt-instance/1"
#define MODEL_FORMAT "mdatt-model/1"

mdatt_status mdatt__fail(char err[MDATT_ERRLEN], mdatt_status st, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, MDATT_ERRLEN, fmt, ap);
    va_end(ap);
    return st;
}

/* ---------------------------------------------------------------- writing */

static void put_vec(FILE *f, const double *x, int m)
{
    fputc('[', f);
    for (int k = 0; k < m; k++)
        fprintf(f, k ? ",%.17g" : "%.17g", x[k] == 0.0 ? 0.0 : x[k]);
    fputc(']', f);
}

/* rows x cols matrix, one row per line at the given indent. */
static void put_mat(FILE *f, const double *x, int rows, int cols, const char *indent)
{
    fputc('[', f);
    for (int r = 0; r < rows; r++) {
        fprintf(f, "%s\n%s  ", r ? "," : "", indent);
        put_vec(f, x + (size_t)r * cols, cols);
    }
    fprintf(f, "\n%s]", indent);
}

static void put_instance(FILE *f, const mdatt_instance *in)
{
    fprintf(f, "{\n  \"format\": \"%s\",\n  \"n\": %d,\n  \"T\": %d,\n  \"d\": %d,\n  \"X\": [",
            INSTANCE_FORMAT, in->n, in->T, in->d);
    for (int i = 0; i < in->n; i++) {
        fprintf(f, "%s\n    ", i ? "," : "");
        put_mat(f, in->X + (size_t)i * in->T * in->d, in->T, in->d, "    ");
    }
    fprintf(f, "\n  ],\n  \"Y\": ");
    put_vec(f, in->Y, in->n);
    if (in->query_token >= 0) {
        fprintf(f, ",\n  \"query_token\": %d", in->query_token);
    } else {
        fprintf(f, ",\n  \"Z\": ");
        put_mat(f, in->Z, in->n, in->d, "  ");
    }
    fprintf(f, ",\n  \"v\": ");
    put_vec(f, in->v, in->d);
    fprintf(f, "\n}\n");
}

mdatt_status mdatt_instance_write(const char *path, const mdatt_instance *in, char err[MDATT_ERRLEN])
{
    mdatt_status st = mdatt_instance_validate(in, err);
    if (st != MDATT_OK)
        return st;
    if (mdatt__npz_name(path))
        return mdatt__instance_write_npz(path, in, err);
    mdatt_outfile o;
    if ((st = mdatt_outfile_open(&o, path, err)) != MDATT_OK)
        return st;
    put_instance(o.f, in);
    return mdatt_outfile_commit(&o, err);
}

mdatt_status mdatt_model_write(const char *path, const mdatt_model *m, char err[MDATT_ERRLEN])
{
    if (mdatt__npz_name(path))
        return mdatt__model_write_npz(path, m, err);
    mdatt_outfile o;
    mdatt_status st = mdatt_outfile_open(&o, path, err);
    if (st != MDATT_OK)
        return st;
    mdatt_model_print(o.f, m);
    return mdatt_outfile_commit(&o, err);
}

void mdatt_model_print(FILE *f, const mdatt_model *m)
{
    fprintf(f, "{\n  \"format\": \"%s\",\n  \"p\": %.17g,\n  \"d\": %d,\n  \"W\": ",
            MODEL_FORMAT, m->p, m->d);
    put_mat(f, m->W, m->d, m->d, "  ");
    fprintf(f, ",\n  \"v\": ");
    put_vec(f, m->v, m->d);
    if (m->alpha) {
        fprintf(f, ",\n  \"alpha\": [");
        for (int i = 0; i < m->n; i++)
            fprintf(f, i ? ",%d" : "%d", m->alpha[i]);
        fputc(']', f);
    }
    fprintf(f, ",\n  \"iters\": %ld,\n  \"loss\": \"%s\",\n  \"lr\": %.17g,\n"
               "  \"normalized\": %s,\n  \"joint\": %s",
            m->iters, mdatt_loss_name(m->loss), m->lr,
            m->normalized ? "true" : "false", m->joint ? "true" : "false");
    if (isfinite(m->final_loss))
        fprintf(f, ",\n  \"final_loss\": %.17g", m->final_loss);
    if (isfinite(m->final_log_loss))
        fprintf(f, ",\n  \"final_log_loss\": %.17g", m->final_log_loss);
    if (m->instance_hash)
        fprintf(f, ",\n  \"instance_hash\": \"%s%016" PRIx64 "\"", MDATT_HASH_PREFIX,
                m->instance_hash);
    fprintf(f, "\n}\n");
}

/* ---------------------------------------------------------------- reading */

static mdatt_status load_json(const char *path, json_t **root, char err[MDATT_ERRLEN])
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return mdatt__fail(err, MDATT_EIO, "%s: cannot open: %s", path, strerror(errno));
    json_error_t je;
    *root = json_loadf(f, JSON_REJECT_DUPLICATES, &je);
    fclose(f);
    if (!*root)
        return mdatt__fail(err, MDATT_EFORMAT, "%s: malformed JSON at line %d, column %d: %s",
                    path, je.line, je.column, je.text);
    if (!json_is_object(*root)) {
        json_decref(*root);
        return mdatt__fail(err, MDATT_EFORMAT, "%s: top level must be a JSON object", path);
    }
    return MDATT_OK;
}

static mdatt_status check_format(json_t *root, const char *want, char err[MDATT_ERRLEN])
{
    json_t *fmt = json_object_get(root, "format");
    if (!json_is_string(fmt))
        return mdatt__fail(err, MDATT_EFORMAT, "format: missing (expected \"%s\")", want);
    if (strcmp(json_string_value(fmt), want) != 0)
        return mdatt__fail(err, MDATT_EFORMAT, "format: expected \"%s\", got \"%s\"", want,
                    json_string_value(fmt));
    return MDATT_OK;
}

/* A positive integer field no larger than lim. */
static mdatt_status get_size(json_t *root, const char *key, long lim, int *out,
                             char err[MDATT_ERRLEN])
{
    json_t *x = json_object_get(root, key);
    if (!x)
        return mdatt__fail(err, MDATT_EFORMAT, "%s: missing", key);
    if (!json_is_integer(x) || json_integer_value(x) <= 0)
        return mdatt__fail(err, MDATT_EINVAL, "%s: must be a positive integer", key);
    if (json_integer_value(x) > lim)
        return mdatt__fail(err, MDATT_ENOMEM, "%s: %" JSON_INTEGER_FORMAT " is too large (at most %ld)",
                    key, json_integer_value(x), lim);
    *out = (int)json_integer_value(x);
    return MDATT_OK;
}

static mdatt_status get_number(json_t *x, const char *name, double *out, char err[MDATT_ERRLEN])
{
    if (!json_is_number(x))
        return mdatt__fail(err, MDATT_EINVAL, "%s: must be a number", name);
    *out = json_number_value(x);
    if (!isfinite(*out))
        return mdatt__fail(err, MDATT_EINVAL, "%s: is not finite", name);
    return MDATT_OK;
}

/* Read a nested array of shape dims[0..rank) of numbers into out (row-major). */
static mdatt_status get_tensor(json_t *x, const char *name, const int *dims, int rank,
                               double *out, char err[MDATT_ERRLEN])
{
    char path[128];
    if (rank == 0)
        return get_number(x, name, out, err);
    if (!json_is_array(x))
        return mdatt__fail(err, MDATT_EFORMAT, "%s: must be an array", name);
    if ((long)json_array_size(x) != dims[0])
        return mdatt__fail(err, MDATT_EFORMAT, "%s: has %zu entries, expected %d", name,
                    json_array_size(x), dims[0]);
    size_t stride = 1;
    for (int r = 1; r < rank; r++)
        stride *= (size_t)dims[r];
    for (int k = 0; k < dims[0]; k++) {
        snprintf(path, sizeof path, "%s[%d]", name, k);
        mdatt_status st = get_tensor(json_array_get(x, k), path, dims + 1, rank - 1,
                                     out + k * stride, err);
        if (st != MDATT_OK)
            return st;
    }
    return MDATT_OK;
}

#define SIZE_LIMIT 100000000L

mdatt_status mdatt__square_rows(json_t *W, json_t *d_field, char err[MDATT_ERRLEN])
{
    const size_t rows = json_array_size(W);
    if (d_field) {
        if (!json_is_integer(d_field) || json_integer_value(d_field) <= 0)
            return mdatt__fail(err, MDATT_EINVAL, "d: must be a positive integer");
        if ((json_int_t)rows != json_integer_value(d_field))
            return mdatt__fail(err, MDATT_EFORMAT, "W: has %zu rows, expected d = %" JSON_INTEGER_FORMAT,
                               rows, json_integer_value(d_field));
        return MDATT_OK;
    }
    const size_t len = json_array_size(json_array_get(W, 0));
    for (size_t r = 0; r < rows; r++)
        if (!json_is_array(json_array_get(W, r)) || json_array_size(json_array_get(W, r)) != len)
            return MDATT_OK;    /* ragged or not rows: the reader names the row */
    if (len != rows)
        return mdatt__fail(err, MDATT_EFORMAT, "W: has %zu rows of %zu entries; W must be square "
                           "(d rows of d entries)", rows, len);
    return MDATT_OK;
}

int mdatt__json_index(json_t *x, long lo, long hi, int *out)
{
    double v;
    if (json_is_integer(x))
        v = (double)json_integer_value(x);
    else if (json_is_real(x) && json_real_value(x) == floor(json_real_value(x)))
        v = json_real_value(x);
    else
        return 0;
    if (!(v >= (double)lo && v <= (double)hi))
        return 0;
    *out = (int)v;
    return 1;
}

/* Messages of the readers start with the file's name. */
static mdatt_status in_file(const char *path, mdatt_status st, char err[MDATT_ERRLEN])
{
    size_t len = strlen(path);
    if (st != MDATT_OK && strncmp(err, path, len) != 0) {
        char msg[MDATT_ERRLEN];
        memcpy(msg, err, MDATT_ERRLEN);
        msg[MDATT_ERRLEN - 1] = '\0';
        int room = MDATT_ERRLEN - 3 - (int)(len < MDATT_ERRLEN ? len : MDATT_ERRLEN);
        snprintf(err, MDATT_ERRLEN, "%s: %.*s", path, room > 0 ? room : 0, msg);
    }
    return st;
}

mdatt_status mdatt_instance_read(const char *path, mdatt_instance *in, char err[MDATT_ERRLEN])
{
    return mdatt_instance_read_query(path, -1, in, err);
}

static mdatt_status instance_read_json(const char *path, int query_token, mdatt_instance *in,
                                       char err[MDATT_ERRLEN]);

mdatt_status mdatt_instance_read_query(const char *path, int query_token, mdatt_instance *in,
                                       char err[MDATT_ERRLEN])
{
    memset(in, 0, sizeof *in);
    in->query_token = -1;
    mdatt_status st = mdatt__is_zip(path) ? mdatt__instance_read_npz(path, query_token, in, err)
                                          : instance_read_json(path, query_token, in, err);
    return in_file(path, st, err);
}

static mdatt_status instance_read_json(const char *path, int query_token, mdatt_instance *in,
                                       char err[MDATT_ERRLEN])
{
    json_t *root;
    mdatt_status st = load_json(path, &root, err);
    if (st != MDATT_OK)
        return st;
    int n, T, d;
    if ((st = check_format(root, INSTANCE_FORMAT, err)) != MDATT_OK ||
        (st = get_size(root, "n", SIZE_LIMIT, &n, err)) != MDATT_OK ||
        (st = get_size(root, "T", SIZE_LIMIT, &T, err)) != MDATT_OK ||
        (st = get_size(root, "d", SIZE_LIMIT, &d, err)) != MDATT_OK)
        goto done;
    if ((st = mdatt_instance_alloc(in, n, T, d)) != MDATT_OK) {
        mdatt__fail(err, st, "n*T*d = %.0f entries cannot be held in memory", (double)n * T * d);
        goto done;
    }
    const int xd[3] = {n, T, d}, zd[2] = {n, d};
    if ((st = get_tensor(json_object_get(root, "X"), "X", xd, 3, in->X, err)) != MDATT_OK ||
        (st = get_tensor(json_object_get(root, "Y"), "Y", xd, 1, in->Y, err)) != MDATT_OK ||
        (st = get_tensor(json_object_get(root, "v"), "v", xd + 2, 1, in->v, err)) != MDATT_OK)
        goto done;
    json_t *Z = json_object_get(root, "Z"), *qt = json_object_get(root, "query_token");
    if (query_token >= 0) {
        if (query_token >= T) {
            st = mdatt__fail(err, MDATT_EINVAL, "query token %d: must be in [0, %d)", query_token, T);
            goto done;
        }
        in->query_token = query_token;
        mdatt_instance_sync_queries(in);
    } else if (Z && qt) {
        st = mdatt__fail(err, MDATT_EFORMAT, "Z and query_token: give one, not both");
        goto done;
    } else if (qt) {
        if (!mdatt__json_index(qt, 0, T - 1, &in->query_token)) {
            st = mdatt__fail(err, MDATT_EINVAL, "query_token: must be an integer in [0, %d)", T);
            goto done;
        }
        mdatt_instance_sync_queries(in);
    } else if (!Z) {
        st = mdatt__fail(err, MDATT_EFORMAT, "Z: missing (or give query_token for self-attention)");
        goto done;
    } else if ((st = get_tensor(Z, "Z", zd, 2, in->Z, err)) != MDATT_OK) {
        goto done;
    }
    st = mdatt_instance_validate(in, err);
done:
    json_decref(root);
    if (st != MDATT_OK)
        mdatt_instance_free(in);
    return st;
}

static mdatt_status model_read_json(const char *path, mdatt_model *m, char err[MDATT_ERRLEN]);

mdatt_status mdatt_model_read(const char *path, mdatt_model *m, char err[MDATT_ERRLEN])
{
    memset(m, 0, sizeof *m);
    mdatt_status st = mdatt__is_zip(path) ? mdatt__model_read_npz(path, m, err)
                                          : model_read_json(path, m, err);
    return in_file(path, st, err);
}

static mdatt_status model_read_json(const char *path, mdatt_model *m, char err[MDATT_ERRLEN])
{
    json_t *root;
    mdatt_status st = load_json(path, &root, err);
    if (st != MDATT_OK)
        return st;
    if ((st = check_format(root, MODEL_FORMAT, err)) != MDATT_OK)
        goto done;
    json_t *W = json_object_get(root, "W"), *alpha = json_object_get(root, "alpha");
    if (!json_is_array(W) || json_array_size(W) == 0) {
        st = mdatt__fail(err, MDATT_EFORMAT, "W: missing or not a non-empty array");
        goto done;
    }
    if (alpha && !json_is_array(alpha)) {
        st = mdatt__fail(err, MDATT_EFORMAT, "alpha: must be an array of token indices");
        goto done;
    }
    if (json_array_size(W) > 46340) {
        st = mdatt__fail(err, MDATT_ENOMEM, "W: %zu rows is too large", json_array_size(W));
        goto done;
    }
    if ((st = mdatt__square_rows(W, json_object_get(root, "d"), err)) != MDATT_OK)
        goto done;
    const int d = (int)json_array_size(W), n = alpha ? (int)json_array_size(alpha) : 0;
    if ((st = mdatt_model_alloc(m, d, n)) != MDATT_OK) {
        mdatt__fail(err, st, "model of dimension %d cannot be held in memory", d);
        goto done;
    }
    const int wd[2] = {d, d};
    if ((st = get_tensor(W, "W", wd, 2, m->W, err)) != MDATT_OK ||
        (json_object_get(root, "v") &&   /* optional: zero when absent */
         (st = get_tensor(json_object_get(root, "v"), "v", wd, 1, m->v, err)) != MDATT_OK) ||
        (st = get_number(json_object_get(root, "p"), "p", &m->p, err)) != MDATT_OK)
        goto done;
    if (!(m->p > 1.0)) {
        st = mdatt__fail(err, MDATT_EINVAL, "p: must be > 1 (got %g)", m->p);
        goto done;
    }
    for (int i = 0; i < n; i++) {
        if (!mdatt__json_index(json_array_get(alpha, i), 0, SIZE_LIMIT, &m->alpha[i])) {
            st = mdatt__fail(err, MDATT_EINVAL, "alpha[%d]: must be a non-negative token index", i);
            goto done;
        }
    }
    json_t *x;
    if ((x = json_object_get(root, "iters")) && json_is_integer(x))
        m->iters = (long)json_integer_value(x);
    if ((x = json_object_get(root, "lr")) && json_is_number(x))
        m->lr = json_number_value(x);
    if ((x = json_object_get(root, "loss")) && json_is_string(x) &&
        mdatt_loss_parse(json_string_value(x), &m->loss) != MDATT_OK) {
        st = mdatt__fail(err, MDATT_EINVAL, "loss: unknown loss \"%s\"", json_string_value(x));
        goto done;
    }
    if ((x = json_object_get(root, "instance_hash")) &&
        (!json_is_string(x) || mdatt_hash_parse(json_string_value(x), &m->instance_hash) != 0)) {
        st = mdatt__fail(err, MDATT_EINVAL, "instance_hash: must be \"%s\" and 16 hex digits",
                         MDATT_HASH_PREFIX);
        goto done;
    }
    m->normalized = json_is_true(json_object_get(root, "normalized"));
    m->joint = json_is_true(json_object_get(root, "joint"));
    m->final_loss = m->final_log_loss = NAN;
    if ((x = json_object_get(root, "final_loss")) && json_is_number(x))
        m->final_loss = json_number_value(x);
    if ((x = json_object_get(root, "final_log_loss")) && json_is_number(x))
        m->final_log_loss = json_number_value(x);
done:
    json_decref(root);
    if (st != MDATT_OK)
        mdatt_model_free(m);
    return st;
}
