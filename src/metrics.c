/* metrics.c - the measurements of doc/design.md that compare a trained model
 * with the oracle's SVM (selected tokens and their saturation, normalized
 * margin ratio, 1 - cosine, token optimality), numeric CSV files, and the
 * rate fits of design.md (24) (families linear in log space, bootstrap over
 * seeds).  The directional Bregman divergence and cosine are in mirror.c. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"
#include "mdatt.h"
#include "mdatt_check.h"
#include "mdatt_io.h"
#include "mdatt_rate.h"

/* ------------------------------------------------------------- alignment */

/* u = W z (d x d times d). */
static void mat_vec(const double *W, const double *z, int d, double *u)
{
    for (int j = 0; j < d; j++) {
        double s = 0;
        for (int k = 0; k < d; k++)
            s += W[(size_t)j * d + k] * z[k];
        u[j] = s;
    }
}

/* (x - y)^T u without forming x^T u - y^T u (no cancellation of large scores). */
static double diff_dot(const double *x, const double *y, const double *u, int d)
{
    double s = 0;
    for (int j = 0; j < d; j++)
        s += (x[j] - y[j]) * u[j];
    return s;
}

void mdatt_selected_tokens(const mdatt_instance *in, const double *W, int *alpha,
                           double *smax_min, double *log1m_smax)
{
    const int n = in->n, T = in->T, d = in->d;
    double *u = malloc(sizeof(double) * d), lmax = -INFINITY;
    if (!u) {
        if (smax_min) *smax_min = NAN;
        if (log1m_smax) *log1m_smax = NAN;
        return;
    }
    for (int i = 0; i < n; i++) {
        const double *X = in->X + (size_t)i * T * d;
        mat_vec(W, in->Z + (size_t)i * d, d, u);
        int a = 0;
        double best = -INFINITY;
        for (int t = 0; t < T; t++) {
            double s = 0;
            for (int j = 0; j < d; j++)
                s += X[(size_t)t * d + j] * u[j];
            if (s > best) {
                best = s;
                a = t;
            }
        }
        if (alpha)
            alpha[i] = a;
        /* log S, S = sum_{t != a} exp(delta_t), delta_t = (x_t - x_a)^T u <= 0 */
        double dmax = -INFINITY, sum = 0;
        for (int t = 0; t < T; t++)
            if (t != a) {
                double dl = diff_dot(X + (size_t)t * d, X + (size_t)a * d, u, d);
                if (dl > dmax)
                    dmax = dl;
            }
        if (dmax > -INFINITY) {
            for (int t = 0; t < T; t++)
                if (t != a)
                    sum += exp(diff_dot(X + (size_t)t * d, X + (size_t)a * d, u, d) - dmax);
            double ls = dmax + log(sum);
            if (ls > lmax)
                lmax = ls;
        }
    }
    free(u);
    /* 1 - s_a = S / (1 + S): log(1 - s_a) = log S - log(1 + S); s_a = 1 / (1 + S) */
    double l1m = lmax > 0 ? -log1p(exp(-lmax)) : lmax - log1p(exp(lmax));
    double softplus = lmax > 0 ? lmax + log1p(exp(-lmax)) : log1p(exp(lmax));
    if (smax_min)
        *smax_min = exp(-softplus);
    if (log1m_smax)
        *log1m_smax = l1m;
}

double mdatt_margin_ratio(const mdatt_instance *in, const int *alpha, const double *W,
                          double p, double ref_norm)
{
    const int n = in->n, T = in->T, d = in->d;
    double nw = mdatt_norm_p(W, (size_t)d * d, p), mn = INFINITY;
    double *u = malloc(sizeof(double) * d);
    if (!u || !(nw > 0) || isinf(nw)) {
        free(u);
        return NAN;
    }
    for (int i = 0; i < n; i++) {
        const double *X = in->X + (size_t)i * T * d;
        mat_vec(W, in->Z + (size_t)i * d, d, u);
        for (int t = 0; t < T; t++)
            if (t != alpha[i]) {
                double m = diff_dot(X + (size_t)alpha[i] * d, X + (size_t)t * d, u, d);
                if (m < mn)
                    mn = m;
            }
    }
    free(u);
    return mn / nw * ref_norm;
}

double mdatt_margin_ratio_v(const mdatt_instance *in, const int *alpha, const double *v,
                            double p, double ref_norm)
{
    const int d = in->d;
    double nv = mdatt_norm_p(v, d, p), mn = INFINITY;
    if (!(nv > 0) || isinf(nv))
        return NAN;
    for (int i = 0; i < in->n; i++) {
        const double *x = in->X + ((size_t)i * in->T + alpha[i]) * d;
        double s = 0;
        for (int j = 0; j < d; j++)
            s += x[j] * v[j];
        if (in->Y[i] * s < mn)
            mn = in->Y[i] * s;
    }
    return mn / nv * ref_norm;
}

double mdatt_one_minus_cosine(const double *A, const double *B, size_t m)
{
    double na = mdatt_norm_p(A, m, 2.0), nb = mdatt_norm_p(B, m, 2.0), s = 0;
    if (!(na > 0) || !(nb > 0) || isinf(na) || isinf(nb))
        return NAN;
    for (size_t j = 0; j < m; j++) {
        double e = A[j] / na - B[j] / nb;
        s += e * e;
    }
    return 0.5 * s;
}

void mdatt_token_check(const mdatt_instance *in, const double *v, const int *alpha,
                       const int *support, int nsupport, mdatt_token_verdict *out)
{
    const int n = in->n, T = in->T, d = in->d;
    out->globally_optimal = 1;
    out->locally_optimal = 1;
    out->nties = 0;
    for (int i = 0; i < n; i++) {
        double gmax = -INFINITY, ga = 0;
        for (int t = 0; t < T; t++) {
            const double *x = in->X + ((size_t)i * T + t) * d;
            double g = 0;
            for (int j = 0; j < d; j++)
                g += x[j] * v[j];
            g *= in->Y[i];
            if (g > gmax)
                gmax = g;
            if (t == alpha[i])
                ga = g;
        }
        double tol = 1e-12 * (fabs(gmax) > 1 ? fabs(gmax) : 1);
        int near = 0;
        for (int t = 0; t < T; t++) {
            const double *x = in->X + ((size_t)i * T + t) * d;
            double g = 0;
            for (int j = 0; j < d; j++)
                g += x[j] * v[j];
            near += in->Y[i] * g >= gmax - tol;
        }
        out->nties += near > 1;
        if (ga < gmax - tol)
            out->globally_optimal = 0;
    }
    for (int k = 0; k < nsupport; k++) {
        int i = support[2 * k], t = support[2 * k + 1];
        const double *xa = in->X + ((size_t)i * T + alpha[i]) * d, *xt = in->X + ((size_t)i * T + t) * d;
        double g = 0;
        for (int j = 0; j < d; j++)
            g += (xa[j] - xt[j]) * v[j];
        if (!(in->Y[i] * g > 0))
            out->locally_optimal = 0;
    }
}

/* ------------------------------------------------------------------- CSV */

void mdatt_csv_free(mdatt_csv *c)
{
    for (int j = 0; j < c->ncol; j++)
        free(c->names[j]);
    free(c->names);
    free(c->data);
    memset(c, 0, sizeof *c);
}

int mdatt_csv_col(const mdatt_csv *c, const char *name)
{
    for (int j = 0; j < c->ncol; j++)
        if (strcmp(c->names[j], name) == 0)
            return j;
    return -1;
}

static void chomp(char *s)
{
    size_t len = strlen(s);
    while (len && (s[len - 1] == '\n' || s[len - 1] == '\r'))
        s[--len] = '\0';
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The header line: column names, none empty, none twice (found by sorting a
 * copy of the list, so that a header of many columns stays fast). */
static mdatt_status csv_header(const char *path, char *line, mdatt_csv *c, char err[MDATT_ERRLEN])
{
    size_t cap = 0;
    for (char *s = line, *tok; (tok = strsep(&s, ","));) {
        if ((size_t)c->ncol == cap) {
            char **g = realloc(c->names, sizeof(char *) * (cap = cap ? 2 * cap : 16));
            if (!g)
                return mdatt__fail(err, MDATT_ENOMEM, "%s: out of memory", path);
            c->names = g;
        }
        if (!(c->names[c->ncol] = strdup(tok)))
            return mdatt__fail(err, MDATT_ENOMEM, "%s: out of memory", path);
        if (!*c->names[c->ncol++])
            return mdatt__fail(err, MDATT_EFORMAT, "%s: line 1: column %d has an empty name", path,
                               c->ncol);
    }
    char **sorted = malloc(sizeof(char *) * c->ncol);
    if (!sorted)
        return mdatt__fail(err, MDATT_ENOMEM, "%s: out of memory", path);
    memcpy(sorted, c->names, sizeof(char *) * c->ncol);
    qsort(sorted, c->ncol, sizeof(char *), cmp_name);
    mdatt_status st = MDATT_OK;
    for (int j = 1; j < c->ncol && st == MDATT_OK; j++)
        if (strcmp(sorted[j - 1], sorted[j]) == 0)
            st = mdatt__fail(err, MDATT_EFORMAT, "%s: line 1: duplicate column '%s'", path, sorted[j]);
    free(sorted);
    return st;
}

mdatt_status mdatt_csv_read(const char *path, mdatt_csv *c, char err[MDATT_ERRLEN])
{
    memset(c, 0, sizeof *c);
    FILE *f = fopen(path, "r");
    if (!f)
        return mdatt__fail(err, MDATT_EIO, "%s: cannot open: %s", path, strerror(errno));
    char *line = NULL;
    size_t cap = 0;
    long lineno = 1, rowcap = 0;
    mdatt_status st = MDATT_OK;
    if (getline(&line, &cap, f) < 0) {
        st = mdatt__fail(err, MDATT_EFORMAT, "%s: empty file (expected a header line)", path);
        goto done;
    }
    chomp(line);
    if ((st = csv_header(path, line, c, err)) != MDATT_OK)
        goto done;
    while (getline(&line, &cap, f) >= 0) {
        lineno++;
        chomp(line);
        if (!*line)
            continue;
        if (c->nrow == rowcap) {
            rowcap = rowcap ? 2 * rowcap : 16;
            double *g = realloc(c->data, sizeof(double) * c->ncol * rowcap);
            if (!g) {
                st = mdatt__fail(err, MDATT_ENOMEM, "%s: out of memory at line %ld", path, lineno);
                goto done;
            }
            c->data = g;
        }
        double *row = c->data + (size_t)c->nrow * c->ncol;
        int j = 0;
        for (char *s = line, *tok; (tok = strsep(&s, ",")); j++) {
            if (j >= c->ncol) {
                st = mdatt__fail(err, MDATT_EFORMAT, "%s: line %ld: more than %d fields", path, lineno,
                          c->ncol);
                goto done;
            }
            char *end;
            errno = 0;
            row[j] = strtod(tok, &end);
            if (end == tok || *end) {
                st = mdatt__fail(err, MDATT_EFORMAT, "%s: line %ld, column %s: '%.32s' is not a number",
                          path, lineno, c->names[j], tok);
                goto done;
            }
        }
        if (j != c->ncol) {
            st = mdatt__fail(err, MDATT_EFORMAT, "%s: line %ld: %d fields, expected %d", path, lineno, j,
                      c->ncol);
            goto done;
        }
        c->nrow++;
    }
    if (ferror(f))
        st = mdatt__fail(err, MDATT_EIO, "%s: read error", path);
done:
    free(line);
    fclose(f);
    if (st != MDATT_OK)
        mdatt_csv_free(c);
    return st;
}

/* ------------------------------------------------------------------ fits */

static const char *const family_names[MDATT_NFAM] = {"power", "logpower", "loglog", "linear",
                                                     "log", "exp"};

const char *mdatt_family_name(mdatt_family f)
{
    return f >= 0 && f < MDATT_NFAM ? family_names[f] : "unknown";
}

mdatt_status mdatt_family_parse(const char *name, mdatt_family *out)
{
    for (int f = 0; f < MDATT_NFAM; f++)
        if (strcmp(name, family_names[f]) == 0) {
            *out = (mdatt_family)f;
            return MDATT_OK;
        }
    return MDATT_EINVAL;
}

int mdatt_family_nparam(mdatt_family f)
{
    return f == MDATT_FAM_POWER || f == MDATT_FAM_LOGPOWER || f == MDATT_FAM_EXP ? 2 : 1;
}

long mdatt_family_kmin(mdatt_family f)
{
    switch (f) {
    case MDATT_FAM_LOGPOWER: case MDATT_FAM_LOG: return 2;
    case MDATT_FAM_LOGLOG: return 3;
    default: return 1;
    }
}

/* Two-parameter families: log y = log a - b x(k).  One-parameter ones:
 * log y = log a + g(k).  x and g per family: */
static double regressor(mdatt_family f, double k)
{
    switch (f) {
    case MDATT_FAM_POWER: return log(k);
    case MDATT_FAM_LOGPOWER: return log(log(k));
    case MDATT_FAM_LOGLOG: return log(log(log(k))) - log(log(k));
    case MDATT_FAM_LINEAR: return log(k);
    case MDATT_FAM_LOG: return log(log(k));
    case MDATT_FAM_EXP: return k;
    default: return NAN;
    }
}

mdatt_status mdatt_fit_family(mdatt_family f, const double *k, const double *logy, int m,
                              mdatt_fit *out)
{
    const int np = mdatt_family_nparam(f);
    out->family = f;
    out->a = out->b = out->rmse = NAN;
    out->m = m;
    if (f < 0 || f >= MDATT_NFAM || m < np + 1)
        return MDATT_EINVAL;
    double xm = 0, ym = 0;
    for (int j = 0; j < m; j++) {
        if (!(k[j] >= (double)mdatt_family_kmin(f)) || !isfinite(logy[j]))
            return MDATT_EINVAL;
        xm += regressor(f, k[j]);
        ym += logy[j];
    }
    xm /= m;
    ym /= m;
    double loga, slope = 0, ss = 0;
    if (np == 2) {
        double sxx = 0, sxy = 0;
        for (int j = 0; j < m; j++) {
            double dx = regressor(f, k[j]) - xm;
            sxx += dx * dx;
            sxy += dx * (logy[j] - ym);
        }
        if (!(sxx > 0))
            return MDATT_EINVAL;
        slope = sxy / sxx;
        loga = ym - slope * xm;
        out->b = -slope;
    } else {
        loga = ym - xm;
        slope = 1.0;
    }
    for (int j = 0; j < m; j++) {
        double r = logy[j] - (loga + slope * regressor(f, k[j]));
        ss += r * r;
    }
    out->a = exp(loga);
    out->rmse = sqrt(ss / m);
    return MDATT_OK;
}

double mdatt_fit_eval(const mdatt_fit *fit, double k)
{
    double x = regressor(fit->family, k);
    return mdatt_family_nparam(fit->family) == 2 ? fit->a * exp(-fit->b * x) : fit->a * exp(x);
}

void mdatt_fit_default_rule(mdatt_fit_rule *r)
{
    r->max_rmse = 1.0;
    r->max_log10_a = 30.0;
    r->max_abs_b = 100.0;
}

const char *mdatt_fit_inadmissible(const mdatt_fit *fit, const mdatt_fit_rule *r)
{
    const int two = mdatt_family_nparam(fit->family) == 2;
    if (!isfinite(fit->a) || !(fit->a > 0) || !isfinite(fit->rmse) || (two && !isfinite(fit->b)))
        return "parameters not finite";
    if (!(fabs(log10(fit->a)) <= r->max_log10_a))
        return "scale a beyond the bound";
    if (two && !(fabs(fit->b) <= r->max_abs_b))
        return "exponent b beyond the bound";
    if (!(fit->rmse <= r->max_rmse))
        return "rmse(log) above the bound";
    return NULL;
}

/* The selection rule of mdatt_fit_select among the fits admissible under r
 * (every fit when r is NULL); -1 if none. */
static int select_among(const mdatt_fit *fits, int nf, const mdatt_fit_rule *r)
{
#define USABLE(j) (!isnan(fits[j].rmse) && (!r || !mdatt_fit_inadmissible(&fits[j], r)))
    int best = -1;
    for (int j = 0; j < nf; j++)
        if (USABLE(j) && (best < 0 || fits[j].rmse < fits[best].rmse))
            best = j;
    if (best < 0)
        return -1;
    double lim = fits[best].rmse * (1 + 1e-6) + 1e-12;
    int pick = best;
    for (int j = 0; j < nf; j++) {
        if (!USABLE(j) || fits[j].rmse > lim)
            continue;
        int np = mdatt_family_nparam(fits[j].family), npp = mdatt_family_nparam(fits[pick].family);
        if (np < npp || (np == npp && j < pick))
            pick = j;
    }
    return pick;
#undef USABLE
}

int mdatt_fit_select(const mdatt_fit *fits, int nf)
{
    int pick = select_among(fits, nf, NULL);
    return pick < 0 ? 0 : pick;
}

int mdatt_fit_select_admissible(const mdatt_fit *fits, int nf, const mdatt_fit_rule *r)
{
    return select_among(fits, nf, r);
}

void mdatt_claim_check(const mdatt_expr *bound, const double *k, const double *y, long n,
                       double k0, double k1, mdatt_claim_curve *out)
{
    memset(out, 0, sizeof *out);
    out->first_k = out->last_k = out->holds_from = NAN;
    out->first_value = out->first_bound = out->last_value = out->last_bound = NAN;
    int after_last = 1;   /* the next checked point follows the last violation */
    for (long i = 0; i < n; i++) {
        if (!(k[i] >= k0 && k[i] <= k1))
            continue;
        double b = mdatt_expr_eval(bound, k[i]);
        out->checked++;
        if (y[i] <= b) {
            if (after_last)
                out->holds_from = k[i];
            after_last = 0;
            continue;
        }
        if (out->violations++ == 0) {
            out->first_k = k[i];
            out->first_value = y[i];
            out->first_bound = b;
        }
        out->last_k = k[i];
        out->last_value = y[i];
        out->last_bound = b;
        out->holds_from = NAN;
        after_last = 1;
    }
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

void mdatt__sort(double *v, size_t n)
{
    qsort(v, n, sizeof *v, cmp_double);
}

double mdatt__quantile(const double *v, int n, double q)
{
    double pos = q * (n - 1);
    int lo = (int)floor(pos);
    if (lo >= n - 1)
        return v[n - 1];
    return v[lo] + (pos - lo) * (v[lo + 1] - v[lo]);
}

mdatt_status mdatt_fit_bootstrap(mdatt_family f, const double *k, const double *logy, int S,
                                 int m, int B, uint64_t seed, double *a_lo, double *a_hi,
                                 double *b_lo, double *b_hi)
{
    *a_lo = *a_hi = *b_lo = *b_hi = NAN;
    if (S < 1 || B < 1 || m < 1)
        return MDATT_EINVAL;
    double *mean = malloc(sizeof(double) * m), *as = malloc(sizeof(double) * B),
           *bs = malloc(sizeof(double) * B);
    mdatt_status st = MDATT_OK;
    if (!mean || !as || !bs) {
        st = MDATT_ENOMEM;
        goto done;
    }
    mdatt_rng r;
    mdatt_rng_seed(&r, seed);
    for (int rep = 0; rep < B; rep++) {
        memset(mean, 0, sizeof(double) * m);
        for (int s = 0; s < S; s++) {
            int pick = (int)(mdatt_rng_uniform(&r) * S);
            if (pick >= S)
                pick = S - 1;
            for (int j = 0; j < m; j++)
                mean[j] += logy[(size_t)pick * m + j];
        }
        for (int j = 0; j < m; j++)
            mean[j] /= S;
        mdatt_fit fit;
        if ((st = mdatt_fit_family(f, k, mean, m, &fit)) != MDATT_OK)
            goto done;
        as[rep] = fit.a;
        bs[rep] = fit.b;
    }
    mdatt__sort(as, (size_t)B);
    *a_lo = mdatt__quantile(as, B, 0.025);
    *a_hi = mdatt__quantile(as, B, 0.975);
    if (mdatt_family_nparam(f) == 2) {
        mdatt__sort(bs, (size_t)B);
        *b_lo = mdatt__quantile(bs, B, 0.025);
        *b_hi = mdatt__quantile(bs, B, 0.975);
    }
done:
    free(mean);
    free(as);
    free(bs);
    return st;
}

/* a_r . x and ||a_r||_q of the svm's row (i, t): a_r = vec((x_ia - x_it) z_i^T)
 * for the W-SVM (wz = W z_i given, followed by d doubles of scratch), Y_i x_ia
 * for the v-SVM; the q-norm of an outer product is the product of the q-norms. */
static void svm_row(const mdatt_instance *in, const mdatt_svm *s, int i, int t, double *wz,
                    double q, double *ax, double *nq)
{
    const int d = in->d, T = in->T;
    const double *xa = in->X + ((size_t)i * T + s->alpha[i]) * d;
    if (s->target_v) {
        double m = 0.0;
        for (int j = 0; j < d; j++)
            m += in->Y[i] * xa[j] * s->x[j];
        *ax = m;
        *nq = mdatt_norm_p(xa, (size_t)d, q);
        return;
    }
    const double *xt = in->X + ((size_t)i * T + t) * d;
    double m = 0.0, *diff = (double *)wz + d;
    for (int j = 0; j < d; j++) {
        diff[j] = xa[j] - xt[j];
        m += diff[j] * wz[j];
    }
    *ax = m;
    *nq = mdatt_norm_p(diff, (size_t)d, q) * mdatt_norm_p(in->Z + (size_t)i * d, (size_t)d, q);
}

/* Rows are visited sample by sample: wz = W z_i for the W-SVM. */
static void svm_wz(const mdatt_instance *in, const mdatt_svm *s, int i, double *wz)
{
    if (!s->target_v)
        mat_vec(s->x, in->Z + (size_t)i * in->d, in->d, wz);
}

static int support_is_active(const mdatt_instance *in, const mdatt_svm *s, int k, double *wz)
{
    const int i = s->support[2 * k], t = s->support[2 * k + 1];
    double ax, nq;
    int has_mult = 0;
    for (int r = 0; r < s->ndual; r++)
        has_mult |= s->dual[r].i == i && s->dual[r].t == t && s->dual[r].lambda > 0.0;
    svm_wz(in, s, i, wz);
    svm_row(in, s, i, t, wz, 2.0, &ax, &nq);
    return has_mult && fabs(ax - 1.0) <= 1e-6;
}

void mdatt_svm_recompute(const mdatt_instance *in, const mdatt_svm *s, mdatt_svm_figures *f)
{
    f->upper = f->lower = f->gap = f->max_violation = NAN;
    f->bad_support = -1;
    if (s->status != MDATT_SVM_OPTIMAL || !s->x)
        return;
    const int d = in->d, T = in->T, mm = s->target_v ? d : d * d;
    const double q = mdatt_dual_exponent(s->p), xn = mdatt_norm_p(s->x, (size_t)mm, s->p);
    double *u = calloc((size_t)mm, sizeof(double)), *wz = malloc(sizeof(double) * 2 * d);
    double minm = INFINITY, sl = 0.0, viol = 0.0, ax, nq;
    if (!u || !wz) {
        free(u);
        free(wz);
        return;
    }
    for (int i = 0; i < in->n; i++) {
        svm_wz(in, s, i, wz);
        for (int t = 0; t < T; t++) {
            if ((t == s->alpha[i]) != s->target_v)
                continue;
            svm_row(in, s, i, t, wz, q, &ax, &nq);
            minm = fmin(minm, ax);
            if (ax < 1.0)
                viol = fmax(viol, (1.0 - ax) / (nq * xn));
        }
    }
    for (int k = 0; k < s->ndual; k++) {
        const mdatt_svm_mult *e = &s->dual[k];
        if (e->i < 0 || e->i >= in->n || e->t < 0 || e->t >= T || !(e->lambda >= 0.0))
            continue;
        const double *xa = in->X + ((size_t)e->i * T + s->alpha[e->i]) * d;
        const double *xt = in->X + ((size_t)e->i * T + e->t) * d, *z = in->Z + (size_t)e->i * d;
        sl += e->lambda;
        for (int j = 0; j < d; j++) {
            if (s->target_v)
                u[j] += e->lambda * in->Y[e->i] * xa[j];
            else
                for (int k2 = 0; k2 < d; k2++)
                    u[j * d + k2] += e->lambda * (xa[j] - xt[j]) * z[k2];
        }
    }
    f->upper = xn / fmin(1.0, minm);
    f->lower = sl / mdatt_norm_p(u, (size_t)mm, q);
    f->gap = minm > 0.0 ? (f->upper - f->lower) / f->upper : NAN;
    f->max_violation = viol;
    for (int k = 0; k < s->nsupport && f->bad_support < 0; k++)
        if (!support_is_active(in, s, k, wz))
            f->bad_support = k;
    free(u);
    free(wz);
}

double mdatt_svm_recertify(const mdatt_instance *in, const mdatt_svm *s, double *ub, double *lb)
{
    mdatt_svm_figures f;
    mdatt_svm_recompute(in, s, &f);
    if (ub)
        *ub = f.upper;
    if (lb)
        *lb = f.lower;
    return f.gap;
}
