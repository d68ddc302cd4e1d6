/* svmio.c - reader of the svm JSON of formats.md ("mdatt-svm/1"), the
 * oracle's certified answer as written by `mdatt svm`.  Strict like io.c:
 * every error names the offending field. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "internal.h"
#include "mdatt.h"
#include "mdatt_io.h"

#define SVM_FORMAT "mdatt-svm/1"
#define INDEX_LIMIT 100000000L

const char *mdatt_svm_status_name(mdatt_svm_status st)
{
    switch (st) {
    case MDATT_SVM_OPTIMAL: return "optimal";
    case MDATT_SVM_INFEASIBLE: return "infeasible";
    case MDATT_SVM_FAILED: return "failed";
    }
    return "unknown";
}

void mdatt_svm_free(mdatt_svm *s)
{
    free(s->alpha);
    free(s->x);
    free(s->dual);
    free(s->support);
    memset(s, 0, sizeof *s);
}

/* A finite number (name is the field path for messages). */
static mdatt_status num(json_t *x, const char *name, double *out, char err[MDATT_ERRLEN])
{
    if (!x)
        return mdatt__fail(err, MDATT_EFORMAT, "%s: missing", name);
    if (!json_is_number(x))
        return mdatt__fail(err, MDATT_EINVAL, "%s: must be a number", name);
    *out = json_number_value(x);
    if (!isfinite(*out))
        return mdatt__fail(err, MDATT_EINVAL, "%s: is not finite", name);
    return MDATT_OK;
}

/* An integer in [lo, hi]. */
static mdatt_status idx(json_t *x, const char *name, long lo, long hi, int *out,
                        char err[MDATT_ERRLEN])
{
    if (!x)
        return mdatt__fail(err, MDATT_EFORMAT, "%s: missing", name);
    if (!mdatt__json_index(x, lo, hi, out))
        return mdatt__fail(err, MDATT_EINVAL, "%s: must be an integer in [%ld, %ld]", name, lo, hi);
    return MDATT_OK;
}

static mdatt_status read_p(json_t *x, double *p, char err[MDATT_ERRLEN])
{
    if (!x)
        return mdatt__fail(err, MDATT_EFORMAT, "p: missing");
    if (json_is_string(x)) {
        if (strcmp(json_string_value(x), "inf") != 0)
            return mdatt__fail(err, MDATT_EINVAL, "p: must be a number >= 1 or \"inf\" (got \"%s\")",
                        json_string_value(x));
        *p = INFINITY;
        return MDATT_OK;
    }
    mdatt_status st = num(x, "p", p, err);
    if (st == MDATT_OK && !(*p >= 1.0))
        return mdatt__fail(err, MDATT_EINVAL, "p: must be >= 1 (got %g)", *p);
    return st;
}

/* W^mm: a non-empty square array of arrays of numbers. */
static mdatt_status read_W(json_t *W, mdatt_svm *s, char err[MDATT_ERRLEN])
{
    char name[64];
    if (!json_is_array(W) || json_array_size(W) == 0)
        return mdatt__fail(err, MDATT_EFORMAT, "W: must be a non-empty array of rows");
    if (json_array_size(W) > 46340)
        return mdatt__fail(err, MDATT_ENOMEM, "W: %zu rows is too large", json_array_size(W));
    mdatt_status st = mdatt__square_rows(W, NULL, err);
    if (st != MDATT_OK)
        return st;
    int d = (int)json_array_size(W);
    if (!(s->x = malloc(sizeof(double) * d * d)))
        return mdatt__fail(err, MDATT_ENOMEM, "W: out of memory");
    s->d = d;
    for (int j = 0; j < d; j++) {
        json_t *row = json_array_get(W, j);
        if (!json_is_array(row))
            return mdatt__fail(err, MDATT_EFORMAT, "W[%d]: must be an array", j);
        if ((int)json_array_size(row) != d)
            return mdatt__fail(err, MDATT_EFORMAT, "W[%d]: has %zu entries, expected %d (W must be square)",
                        j, json_array_size(row), d);
        for (int k = 0; k < d; k++) {
            snprintf(name, sizeof name, "W[%d][%d]", j, k);
            if ((st = num(json_array_get(row, k), name, &s->x[j * d + k], err)) != MDATT_OK)
                return st;
        }
    }
    return MDATT_OK;
}

static mdatt_status read_v(json_t *v, mdatt_svm *s, char err[MDATT_ERRLEN])
{
    char name[64];
    if (!json_is_array(v) || json_array_size(v) == 0)
        return mdatt__fail(err, MDATT_EFORMAT, "v: must be a non-empty array");
    if (json_array_size(v) > INDEX_LIMIT)
        return mdatt__fail(err, MDATT_ENOMEM, "v: too large");
    int d = (int)json_array_size(v);
    if (!(s->x = malloc(sizeof(double) * d)))
        return mdatt__fail(err, MDATT_ENOMEM, "v: out of memory");
    s->d = d;
    for (int j = 0; j < d; j++) {
        snprintf(name, sizeof name, "v[%d]", j);
        mdatt_status st = num(json_array_get(v, j), name, &s->x[j], err);
        if (st != MDATT_OK)
            return st;
    }
    return MDATT_OK;
}

/* "dual" or "farkas": [{"i":..,"t":..,"lambda":..}]. */
static mdatt_status read_mults(json_t *a, const char *key, mdatt_svm *s, char err[MDATT_ERRLEN])
{
    char name[80];
    if (!json_is_array(a))
        return mdatt__fail(err, MDATT_EFORMAT, "%s: must be an array of {i, t, lambda}", key);
    s->ndual = (int)json_array_size(a);
    if (s->ndual && !(s->dual = malloc(sizeof *s->dual * s->ndual)))
        return mdatt__fail(err, MDATT_ENOMEM, "%s: out of memory", key);
    for (int k = 0; k < s->ndual; k++) {
        json_t *e = json_array_get(a, k);
        mdatt_svm_mult *m = &s->dual[k];
        mdatt_status st;
        if (!json_is_object(e))
            return mdatt__fail(err, MDATT_EFORMAT, "%s[%d]: must be an object {i, t, lambda}", key, k);
        snprintf(name, sizeof name, "%s[%d].i", key, k);
        if ((st = idx(json_object_get(e, "i"), name, 0, s->n - 1, &m->i, err)) != MDATT_OK)
            return st;
        snprintf(name, sizeof name, "%s[%d].t", key, k);
        if ((st = idx(json_object_get(e, "t"), name, 0, INDEX_LIMIT, &m->t, err)) != MDATT_OK)
            return st;
        snprintf(name, sizeof name, "%s[%d].lambda", key, k);
        if ((st = num(json_object_get(e, "lambda"), name, &m->lambda, err)) != MDATT_OK)
            return st;
        if (m->lambda < 0)
            return mdatt__fail(err, MDATT_EINVAL, "%s: must be >= 0 (got %g)", name, m->lambda);
    }
    return MDATT_OK;
}

static mdatt_status read_support(json_t *a, mdatt_svm *s, char err[MDATT_ERRLEN])
{
    char name[64];
    if (!json_is_array(a))
        return mdatt__fail(err, MDATT_EFORMAT, "support: must be an array of [i, t] pairs");
    s->nsupport = (int)json_array_size(a);
    if (s->nsupport && !(s->support = malloc(sizeof(int) * 2 * s->nsupport)))
        return mdatt__fail(err, MDATT_ENOMEM, "support: out of memory");
    for (int k = 0; k < s->nsupport; k++) {
        json_t *e = json_array_get(a, k);
        mdatt_status st;
        if (!json_is_array(e) || json_array_size(e) != 2)
            return mdatt__fail(err, MDATT_EFORMAT, "support[%d]: must be a pair [i, t]", k);
        snprintf(name, sizeof name, "support[%d][0]", k);
        if ((st = idx(json_array_get(e, 0), name, 0, s->n - 1, &s->support[2 * k], err)) != MDATT_OK)
            return st;
        snprintf(name, sizeof name, "support[%d][1]", k);
        if ((st = idx(json_array_get(e, 1), name, 0, INDEX_LIMIT, &s->support[2 * k + 1], err)) !=
            MDATT_OK)
            return st;
    }
    return MDATT_OK;
}

static mdatt_status read_tokens(json_t *tk, mdatt_svm *s, char err[MDATT_ERRLEN])
{
    if (!json_is_object(tk))
        return mdatt__fail(err, MDATT_EFORMAT, "tokens: must be an object");
    json_t *g = json_object_get(tk, "globally_optimal"), *l = json_object_get(tk, "locally_optimal"),
           *ties = json_object_get(tk, "ties");
    if (!json_is_boolean(g))
        return mdatt__fail(err, g ? MDATT_EINVAL : MDATT_EFORMAT, "tokens.globally_optimal: %s",
                    g ? "must be true or false" : "missing");
    if (!json_is_boolean(l))
        return mdatt__fail(err, l ? MDATT_EINVAL : MDATT_EFORMAT, "tokens.locally_optimal: %s",
                    l ? "must be true or false" : "missing");
    s->has_tokens = 1;
    s->globally_optimal = json_is_true(g);
    s->locally_optimal = json_is_true(l);
    if (!ties)
        return MDATT_OK;
    if (json_is_integer(ties))
        return idx(ties, "tokens.ties", 0, s->n, &s->nties, err);
    if (!json_is_array(ties))
        return mdatt__fail(err, MDATT_EFORMAT, "tokens.ties: must be an array of sample indices");
    for (size_t k = 0; k < json_array_size(ties); k++) {
        char name[64];
        int dummy;
        snprintf(name, sizeof name, "tokens.ties[%zu]", k);
        mdatt_status st = idx(json_array_get(ties, k), name, 0, s->n - 1, &dummy, err);
        if (st != MDATT_OK)
            return st;
    }
    s->nties = (int)json_array_size(ties);
    return MDATT_OK;
}

static mdatt_status parse(json_t *root, mdatt_svm *s, char err[MDATT_ERRLEN])
{
    mdatt_status st;
    json_t *x = json_object_get(root, "format");
    if (!json_is_string(x))
        return mdatt__fail(err, MDATT_EFORMAT, "format: missing (expected \"%s\")", SVM_FORMAT);
    if (strcmp(json_string_value(x), SVM_FORMAT) != 0)
        return mdatt__fail(err, MDATT_EFORMAT, "format: expected \"%s\", got \"%s\"", SVM_FORMAT,
                    json_string_value(x));
    if ((st = read_p(json_object_get(root, "p"), &s->p, err)) != MDATT_OK)
        return st;
    x = json_object_get(root, "target");
    if (!x)
        return mdatt__fail(err, MDATT_EFORMAT, "target: missing");
    if (!json_is_string(x) || (strcmp(json_string_value(x), "W") && strcmp(json_string_value(x), "v")))
        return mdatt__fail(err, MDATT_EINVAL, "target: must be \"W\" or \"v\"");
    s->target_v = strcmp(json_string_value(x), "v") == 0;

    x = json_object_get(root, "alpha");
    if (!json_is_array(x) || json_array_size(x) == 0)
        return mdatt__fail(err, MDATT_EFORMAT, "alpha: %s",
                    x ? "must be a non-empty array of token indices" : "missing");
    if (json_array_size(x) > INDEX_LIMIT)
        return mdatt__fail(err, MDATT_ENOMEM, "alpha: too large");
    s->n = (int)json_array_size(x);
    if (!(s->alpha = malloc(sizeof(int) * s->n)))
        return mdatt__fail(err, MDATT_ENOMEM, "alpha: out of memory");
    for (int i = 0; i < s->n; i++) {
        char name[32];
        snprintf(name, sizeof name, "alpha[%d]", i);
        if ((st = idx(json_array_get(x, i), name, 0, INDEX_LIMIT, &s->alpha[i], err)) != MDATT_OK)
            return st;
    }

    x = json_object_get(root, "status");
    if (!x)
        return mdatt__fail(err, MDATT_EFORMAT, "status: missing");
    const char *stn = json_is_string(x) ? json_string_value(x) : "";
    if (strcmp(stn, "optimal") == 0)
        s->status = MDATT_SVM_OPTIMAL;
    else if (strcmp(stn, "infeasible") == 0)
        s->status = MDATT_SVM_INFEASIBLE;
    else if (strcmp(stn, "failed") == 0)
        s->status = MDATT_SVM_FAILED;
    else
        return mdatt__fail(err, MDATT_EINVAL, "status: must be \"optimal\", \"infeasible\" or \"failed\"");

    s->objective = s->lower_bound = s->gap = s->max_violation = NAN;
    if (s->status == MDATT_SVM_OPTIMAL) {
        st = s->target_v ? read_v(json_object_get(root, "v"), s, err)
                         : read_W(json_object_get(root, "W"), s, err);
        if (st != MDATT_OK)
            return st;
        if ((st = num(json_object_get(root, "objective"), "objective", &s->objective, err)) ||
            (st = num(json_object_get(root, "lower_bound"), "lower_bound", &s->lower_bound, err)) ||
            (st = num(json_object_get(root, "gap"), "gap", &s->gap, err)) ||
            (st = num(json_object_get(root, "max_violation"), "max_violation", &s->max_violation,
                      err)))
            return st;
        if (!(s->objective > 0))
            return mdatt__fail(err, MDATT_EINVAL, "objective: must be > 0 (got %g)", s->objective);
        if ((st = read_support(json_object_get(root, "support"), s, err)) != MDATT_OK)
            return st;
    }
    const char *mk = s->status == MDATT_SVM_INFEASIBLE ? "farkas" : "dual";
    if ((x = json_object_get(root, mk)))
        st = read_mults(x, mk, s, err);
    else if (s->status != MDATT_SVM_FAILED)
        st = mdatt__fail(err, MDATT_EFORMAT, "%s: missing", mk);
    if (st != MDATT_OK)
        return st;
    if ((x = json_object_get(root, "instance_hash")) &&
        (!json_is_string(x) || mdatt_hash_parse(json_string_value(x), &s->instance_hash) != 0))
        return mdatt__fail(err, MDATT_EINVAL, "instance_hash: must be \"%s\" and 16 hex digits",
                           MDATT_HASH_PREFIX);
    if ((x = json_object_get(root, "tokens")))
        return read_tokens(x, s, err);
    return MDATT_OK;
}

mdatt_status mdatt_svm_read(const char *path, mdatt_svm *s, char err[MDATT_ERRLEN])
{
    memset(s, 0, sizeof *s);
    FILE *f = fopen(path, "rb");
    if (!f)
        return mdatt__fail(err, MDATT_EIO, "%s: cannot open: %s", path, strerror(errno));
    json_error_t je;
    json_t *root = json_loadf(f, JSON_REJECT_DUPLICATES, &je);
    fclose(f);
    if (!root)
        return mdatt__fail(err, MDATT_EFORMAT, "%s: malformed JSON at line %d, column %d: %s", path,
                    je.line, je.column, je.text);
    mdatt_status st;
    if (!json_is_object(root)) {
        st = mdatt__fail(err, MDATT_EFORMAT, "%s: top level must be a JSON object", path);
    } else if ((st = parse(root, s, err)) != MDATT_OK) {
        /* prefix the file name so the message locates the field */
        size_t pl = strlen(path), len = strlen(err);
        if (pl + 3 < MDATT_ERRLEN) {
            if (len > MDATT_ERRLEN - 1 - pl - 2)
                len = MDATT_ERRLEN - 1 - pl - 2;
            memmove(err + pl + 2, err, len);
            memcpy(err, path, pl);
            err[pl] = ':';
            err[pl + 1] = ' ';
            err[pl + 2 + len] = '\0';
        }
    }
    json_decref(root);
    if (st != MDATT_OK)
        mdatt_svm_free(s);
    return st;
}
