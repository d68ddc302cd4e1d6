/* check.c - a model against the oracle's certified SVM (doc/mdatt.1, `check`):
 * the metrics of one (W, v), the shape checks
 * of the three inputs and the verdict with its reasons.  `mdatt check` and
 * the Python module both call these, so both give the same numbers. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"
#include "mdatt.h"
#include "mdatt_check.h"

void mdatt_check_default_settings(mdatt_check_settings *s)
{
    s->max_bregman = 1e-2;
    s->min_cosine = NAN;
    s->min_margin = NAN;
    s->max_gap = 1e-8;
    s->allow_token_mismatch = 0;
    s->require_global = 0;
    s->require_local = 0;
}

const char *mdatt_check_check_settings(const mdatt_check_settings *s)
{
    if (!(s->max_bregman >= 0))
        return "max_bregman: must be >= 0";
    if (!(s->max_gap >= 0))
        return "max_gap: must be >= 0";
    return NULL;
}

void mdatt_check_measure(const mdatt_instance *in, const mdatt_svm *s, double p_model,
                         const double *W, const double *v, int *alpha, mdatt_check_point *pm)
{
    const int d = in->d;
    mdatt_selected_tokens(in, W, alpha, &pm->smax_min, &pm->log1m_smax);
    pm->tokens_match = 1;
    for (int i = 0; i < in->n; i++)
        pm->tokens_match &= alpha[i] == s->alpha[i];
    pm->bregman_dir = pm->cosine = pm->one_minus_cosine = pm->margin_ratio = NAN;
    if (s->status != MDATT_SVM_OPTIMAL)
        return;
    const double *x = s->target_v ? v : W;
    size_t m = s->target_v ? (size_t)d : (size_t)d * d;
    pm->bregman_dir = mdatt_bregman_dir(s->x, x, m, p_model);
    pm->cosine = mdatt_cosine(s->x, x, m);
    pm->one_minus_cosine = mdatt_one_minus_cosine(s->x, x, m);
    pm->margin_ratio = s->target_v ? mdatt_margin_ratio_v(in, s->alpha, v, s->p, s->objective)
                                   : mdatt_margin_ratio(in, s->alpha, W, s->p, s->objective);
}

mdatt_status mdatt_check_shapes(const mdatt_instance *in, const mdatt_model *m,
                                const mdatt_svm *s, char err[MDATT_ERRLEN])
{
    if (m->d != in->d)
        return mdatt__fail(err, MDATT_EINVAL, "MODEL: W is %dx%d, instance has d=%d", m->d, m->d,
                           in->d);
    if (m->alpha && m->n != in->n)
        return mdatt__fail(err, MDATT_EINVAL, "MODEL: alpha has %d entries, instance has n=%d",
                           m->n, in->n);
    if (s->n != in->n)
        return mdatt__fail(err, MDATT_EINVAL, "SVM: alpha has %d entries, instance has n=%d",
                           s->n, in->n);
    for (int i = 0; i < s->n; i++)
        if (s->alpha[i] < 0 || s->alpha[i] >= in->T)
            return mdatt__fail(err, MDATT_EINVAL, "SVM: alpha[%d] = %d is out of range [0, %d)", i,
                               s->alpha[i], in->T);
    if (s->status == MDATT_SVM_OPTIMAL && s->d != in->d)
        return mdatt__fail(err, MDATT_EINVAL, "SVM: %s has dimension %d, instance has d=%d",
                           s->target_v ? "v" : "W", s->d, in->d);
    for (int k = 0; k < s->nsupport; k++) {
        int i = s->support[2 * k], t = s->support[2 * k + 1];
        if (i < 0 || i >= in->n)
            return mdatt__fail(err, MDATT_EINVAL, "SVM: support[%d] = [%d,%d]: sample must be in "
                               "[0, %d)", k, i, t, in->n);
        if (t < 0 || t >= in->T || (t == s->alpha[i]) != s->target_v)
            return mdatt__fail(err, MDATT_EINVAL, "SVM: support[%d] = [%d,%d]: token must be in "
                               "[0, %d) and %s alpha[%d]", k, i, t, in->T,
                               s->target_v ? "equal" : "differ from", i);
    }
    for (int k = 0; k < s->ndual; k++) {
        if (s->dual[k].i < 0 || s->dual[k].i >= in->n)
            return mdatt__fail(err, MDATT_EINVAL, "SVM: %s[%d].i = %d is out of range [0, %d)",
                               s->status == MDATT_SVM_INFEASIBLE ? "farkas" : "dual", k,
                               s->dual[k].i, in->n);
        if (s->dual[k].t < 0 || s->dual[k].t >= in->T)
            return mdatt__fail(err, MDATT_EINVAL, "SVM: %s[%d].t = %d is out of range [0, %d)",
                               s->status == MDATT_SVM_INFEASIBLE ? "farkas" : "dual", k,
                               s->dual[k].t, in->T);
    }
    return MDATT_OK;
}

static void reason(mdatt_check_result *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void reason(mdatt_check_result *r, const char *fmt, ...)
{
    if (r->nreasons >= MDATT_CHECK_MAX_REASONS)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->reasons[r->nreasons++], sizeof r->reasons[0], fmt, ap);
    va_end(ap);
}

/* Figures of an svm file agree with their recomputation from the instance
 * when within FIG_TOL (relative for the bounds, absolute for the gap and the
 * violation, which are differences of nearly equal numbers).  The two
 * computations differ only in summation order and in the oracle's rescaling
 * of x onto the feasible set (below its feas_tol of 1e-12): by rounding of
 * order 1e-16 times the number of terms, far below 1e-9; an edited figure
 * differs by far more. */
#define FIG_TOL 1e-9

static void compare_figures(mdatt_check_result *r, const mdatt_svm *s, const mdatt_svm_figures *f)
{
    const char *name[4] = {"objective", "lower_bound", "gap", "max_violation"};
    const double file[4] = {s->objective, s->lower_bound, s->gap, s->max_violation};
    const double re[4] = {f->upper, f->lower, f->gap, f->max_violation};
    for (int k = 0; k < 4; k++) {
        const double tol = FIG_TOL * (k < 2 ? fabs(re[k]) : 1.0);
        if (!(fabs(file[k] - re[k]) <= tol))
            reason(r, "svm %s %.17g disagrees with the value recomputed from the instance, "
                      "%.17g (tolerance %.0e%s)", name[k], file[k], re[k], FIG_TOL,
                   k < 2 ? " relative" : "");
    }
    if (f->bad_support >= 0)
        reason(r, "svm support[%d] = [%d,%d] is not an active constraint with a positive "
                  "multiplier", f->bad_support, s->support[2 * f->bad_support],
               s->support[2 * f->bad_support + 1]);
}

/* "samples 0 (model 2, svm 1), 4 (...), ..." for the first few that differ. */
static void token_mismatch(mdatt_check_result *r, int n, const int *model, const int *svm)
{
    char list[160] = "";
    int len = 0, count = 0;
    for (int i = 0; i < n; i++) {
        if (model[i] == svm[i])
            continue;
        if (++count <= 4)
            len += snprintf(list + len, sizeof list - len, "%s%d (model %d, svm %d)",
                            count > 1 ? ", " : "", i, model[i], svm[i]);
    }
    reason(r, "tokens do not match in %d sample%s: %s%s", count, count == 1 ? "" : "s", list,
           count > 4 ? ", ..." : "");
}

/* The verdict: every reason to fail, in the order the documentation lists them. */
static void verdict(const mdatt_instance *in, const mdatt_svm *s, const mdatt_check_settings *th,
                    mdatt_check_result *r)
{
    const mdatt_check_point *pm = &r->point;
    const mdatt_token_verdict *tv = &r->recomputed;
    if (s->status != MDATT_SVM_OPTIMAL) {
        reason(r, "svm status is %s, not optimal", mdatt_svm_status_name(s->status));
    } else {
        if (!(s->gap <= th->max_gap))
            reason(r, "svm gap %.3g > %.3g", s->gap, th->max_gap);
        if (!(r->figures.gap <= th->max_gap))
            reason(r, "svm certificate recomputed from the instance: gap %.3g > %.3g "
                      "(upper %.17g, lower %.17g)", r->figures.gap, th->max_gap,
                   r->figures.upper, r->figures.lower);
        compare_figures(r, s, &r->figures);
        if (!(pm->bregman_dir <= th->max_bregman))
            reason(r, "bregman_dir %.3g > %.3g", pm->bregman_dir, th->max_bregman);
        if (!isnan(th->min_cosine) && !(pm->cosine >= th->min_cosine))
            reason(r, "cosine %.9g < %.9g", pm->cosine, th->min_cosine);
        if (!isnan(th->min_margin) && !(pm->margin_ratio >= th->min_margin))
            reason(r, "margin_ratio %.9g < %.9g", pm->margin_ratio, th->min_margin);
    }
    if (!pm->tokens_match && !th->allow_token_mismatch)
        token_mismatch(r, in->n, r->alpha_model, s->alpha);
    const int file_tokens = s->has_tokens && !r->own_v;
    if (file_tokens && s->nties != tv->nties)
        reason(r, "svm tokens.ties lists %d sample%s, recomputed %d", s->nties,
               s->nties == 1 ? "" : "s", tv->nties);
    if (file_tokens && tv->nties == 0 && s->globally_optimal != tv->globally_optimal)
        reason(r, "svm tokens.globally_optimal = %s but gamma gives %s",
               s->globally_optimal ? "true" : "false", tv->globally_optimal ? "true" : "false");
    if (file_tokens && s->status == MDATT_SVM_OPTIMAL && s->locally_optimal != tv->locally_optimal)
        reason(r, "svm tokens.locally_optimal = %s but gamma on the support gives %s",
               s->locally_optimal ? "true" : "false", tv->locally_optimal ? "true" : "false");
    if (th->require_global && !r->globally_optimal)
        reason(r, "alpha is not globally optimal");
    if (th->require_local && r->locally_optimal != 1)
        reason(r, "alpha is not locally optimal");
    r->pass = r->nreasons == 0;
}

mdatt_status mdatt_check(const mdatt_instance *in, const mdatt_model *m, const mdatt_svm *s,
                         const mdatt_check_settings *th, mdatt_check_result *r,
                         char err[MDATT_ERRLEN])
{
    memset(r, 0, sizeof *r);
    const char *bad = mdatt_check_check_settings(th);
    if (bad)
        return mdatt__fail(err, MDATT_EINVAL, "%s", bad);
    mdatt_status st = mdatt_check_shapes(in, m, s, err);
    if (st != MDATT_OK)
        return st;
    if (!(r->alpha_model = malloc(sizeof(int) * (size_t)in->n)))
        return mdatt__fail(err, MDATT_ENOMEM, "out of memory");
    mdatt_check_measure(in, s, m->p, m->W, m->v, r->alpha_model, &r->point);
    r->model_alpha_agrees = -1;
    if (m->alpha) {
        r->model_alpha_agrees = 1;
        for (int i = 0; i < in->n; i++)
            r->model_alpha_agrees &= m->alpha[i] == r->alpha_model[i];
    }
    r->own_v = m->joint;   /* gamma from the trained v of a joint model */
    const int wsup = s->status == MDATT_SVM_OPTIMAL && !s->target_v;
    mdatt_token_check(in, r->own_v ? m->v : in->v, s->alpha, wsup ? s->support : NULL,
                      wsup ? s->nsupport : 0, &r->recomputed);
    r->svm_min_margin = NAN;
    if (s->status == MDATT_SVM_OPTIMAL) {
        size_t mm = s->target_v ? (size_t)in->d : (size_t)in->d * in->d;
        double nx = mdatt_norm_p(s->x, mm, s->p);
        r->svm_min_margin = s->target_v ? mdatt_margin_ratio_v(in, s->alpha, s->x, s->p, nx)
                                        : mdatt_margin_ratio(in, s->alpha, s->x, s->p, nx);
    }
    r->cross_p = !(m->p == s->p);
    /* the certificate recomputed from the instance, x and the multipliers */
    mdatt_svm_recompute(in, s, &r->figures);
    const int file_tokens = s->has_tokens && !r->own_v;
    r->globally_optimal = file_tokens ? s->globally_optimal : r->recomputed.globally_optimal;
    /* -1: undefined (a v-SVM has no W support to judge the tokens by) */
    r->locally_optimal = file_tokens ? s->locally_optimal
                         : s->target_v ? -1
                                       : (s->status == MDATT_SVM_OPTIMAL && r->recomputed.locally_optimal);
    verdict(in, s, th, r);
    return MDATT_OK;
}

void mdatt_check_result_free(mdatt_check_result *r)
{
    free(r->alpha_model);
    r->alpha_model = NULL;
}
