/* cert.c - norms and the certificate of an answer (design.md (16)-(17)).
 *
 * Primal: any feasible x gives UB = ||x||_p.  Dual: any lambda >= 0 gives
 * LB = sum(lambda) / ||A^T lambda||_q, since for feasible x
 *   sum(lambda) <= lambda^T A x = (A^T lambda)^T x <= ||A^T lambda||_q ||x||_p
 * (Hoelder).  gap = (UB - LB) / UB.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>

#include "cert.h"
#include "linalg.h"
#include "rows.h"

/* Positive multipliers as the public list: 0, or -1 when memory is short. */
static int dual_list(const attsvm__prob *P, const double *lam, attsvm_result *r)
{
    int k = 0;
    for (int i = 0; i < P->m; i++)
        k += lam[i] > 0.0;
    r->ndual = k;
    r->dual = k ? malloc(sizeof *r->dual * (size_t)k) : NULL;
    if (k && !r->dual) {
        r->ndual = 0;
        return -1;
    }
    k = 0;
    for (int i = 0; i < P->m; i++)
        if (lam[i] > 0.0)
            r->dual[k++] = (attsvm_mult){i, lam[i]};
    return 0;
}

/* No x, no multipliers, no certificate. */
static void no_answer(attsvm_result *r)
{
    r->objective = r->lower_bound = r->gap = r->max_violation = NAN;
    free(r->x);
    free(r->dual);
    free(r->support);
    r->x = NULL;
    r->dual = NULL;
    r->support = NULL;
    r->ndual = r->nsupport = 0;
}

static void finish_nomem(const attsvm__prob *P, attsvm_result *r)
{
    no_answer(r);
    r->status = ATTSVM_NOMEM;
    snprintf(r->message, sizeof r->message,
             "out of memory for the certificate (%d constraint rows, %d variables)", P->m, P->nx);
}

/* Farkas: lambda >= 0, A^T lambda = 0, sum lambda > 0 (design.md (20)): the
 * relative residual ||A^T lambda||_1 / sum_r lambda_r ||a_r||_1. */
static void finish_farkas(const attsvm__prob *P, const attsvm__out *o, attsvm_result *r)
{
    const int m = P->m, nx = P->nx;
    double *u = malloc(sizeof *u * (size_t)nx);
    if (!u || attsvm__rows_atlam(P, o->lam, u)) {
        free(u);
        finish_nomem(P, r);
        return;
    }
    long double den = 0.0L;
    for (int i = 0; i < m; i++)
        if (o->lam[i] > 0.0)
            den += o->lam[i] * attsvm__norm(attsvm__row(P, i), nx, 1.0);
    double un = attsvm__norm(u, nx, 1.0);
    r->farkas_residual = un == 0.0 ? 0.0 : den > 0 ? un / (double)den : INFINITY;
    free(u);
    no_answer(r);
    r->objective = r->lower_bound = INFINITY;
    if (dual_list(P, o->lam, r))
        finish_nomem(P, r);
}

/* The certificate of x and lambda = o->lam (design.md (16)-(17)) into r;
 * ax (m) and u (nx) are scratch, *lmax the largest multiplier.  x is first
 * scaled onto the feasible set if rounding left a row a hair short.  0, or
 * -1 when memory is short. */
static int certificate(const attsvm__prob *P, attsvm__out *o, attsvm_result *r, double *ax,
                       double *u, double *lmax)
{
    const int m = P->m, nx = P->nx;
    double *x = r->x;
    attsvm__rows_ax(P, x, ax);
    double mn = INFINITY;
    for (int i = 0; i < m; i++)
        mn = fmin(mn, ax[i]);
    if (mn < 1.0 && mn > 1.0 - 1e-6) {
        for (int j = 0; j < nx; j++)
            x[j] /= mn;
        attsvm__rows_ax(P, x, ax);
    }
    /* Relative violation (1 - a.x)_+ / (||a||_q ||x||_p): the p-norm distance
     * from x to the row's half-space relative to ||x||_p, invariant under
     * scaling the data. */
    const double xn = attsvm__norm(x, nx, P->p);
    double viol = 0.0;
    for (int i = 0; i < m; i++)
        if (ax[i] < 1.0)
            viol = fmax(viol, (1.0 - ax[i]) / (P->nq[i] * xn));
    long double sl = 0.0L;
    *lmax = 0.0;
    for (int i = 0; i < m; i++) {
        if (!(o->lam[i] > 0.0))
            o->lam[i] = 0.0;
        sl += o->lam[i];
        *lmax = fmax(*lmax, o->lam[i]);
    }
    if (attsvm__rows_atlam(P, o->lam, u))
        return -1;
    r->objective = xn;
    double un = attsvm__norm(u, nx, P->q);
    r->lower_bound = un > 0.0 ? (double)sl / un : 0.0;
    r->gap = r->objective > 0.0 ? (r->objective - r->lower_bound) / r->objective : 0.0;
    r->max_violation = viol;
    return 0;
}

/* An optimal answer: its certificate, dual list and support (active rows
 * with a multiplier above 1e-12 of the largest); FAILED when the certificate
 * is outside gap_tol / feas_tol. */
static void finish_optimal(const attsvm__prob *P, attsvm__out *o, attsvm_result *r)
{
    const int m = P->m;
    double *ax = malloc(sizeof *ax * (size_t)m), *u = malloc(sizeof *u * (size_t)P->nx), lmax;
    if (!ax || !u || certificate(P, o, r, ax, u, &lmax) || dual_list(P, o->lam, r) ||
        !(r->support = malloc(sizeof *r->support * (size_t)(r->ndual ? r->ndual : 1)))) {
        free(ax);
        free(u);
        finish_nomem(P, r);
        return;
    }
    int k = 0;
    for (int i = 0; i < m; i++)
        if (o->lam[i] > 1e-12 * lmax && fabs(ax[i] - 1.0) <= 1e-9)
            r->support[k++] = i;
    r->nsupport = k;
    free(ax);
    free(u);
    if (!(r->gap <= P->s->gap_tol) || !(r->max_violation <= P->s->feas_tol)) {
        r->status = ATTSVM_FAILED;
        snprintf(r->message, sizeof r->message,
                 "certificate outside tolerance: gap %.3g (gap_tol %.3g), violation %.3g "
                 "(feas_tol %.3g)",
                 r->gap, P->s->gap_tol, r->max_violation, P->s->feas_tol);
        no_answer(r);
    }
}

void attsvm__finish(const attsvm__prob *P, attsvm__out *o, attsvm_result *r)
{
    r->status = o->status;
    snprintf(r->message, sizeof r->message, "%s", o->msg);
    r->nx = P->nx;
    r->rounds = o->rounds;
    r->lp_solves = o->lp_solves;
    r->working_rows = o->working_rows;
    r->lp_iterations = o->lp_iterations;
    r->newton_iterations = o->newton_iterations;
    r->exact_checked = o->exact_checked;
    r->exact_optimal = o->exact_optimal;
    r->x = o->x;
    o->x = NULL;
    r->farkas_residual = 0.0;
    if (o->status == ATTSVM_INFEASIBLE)
        finish_farkas(P, o, r);
    else if (o->status == ATTSVM_OPTIMAL)
        finish_optimal(P, o, r);
    else
        no_answer(r);
}

/* The independent checker: deliberately self-contained (its own norms, no
 * solver state), a direct transcription of the certificate's definition. */
static double cert_norm(const double *x, int n, double p)
{
    double mx = 0.0, s = 0.0;
    for (int j = 0; j < n; j++)
        mx = fmax(mx, fabs(x[j]));
    if (isinf(p) || mx == 0.0)
        return mx;
    for (int j = 0; j < n; j++)
        s += pow(fabs(x[j]) / mx, p);
    return mx * pow(s, 1.0 / p);
}

void attsvm_certify(const double *A, int m, int nx, double p, const double *x,
                    const attsvm_mult *dual, int ndual, attsvm_cert *c)
{
    double q = p == 1.0 ? INFINITY : isinf(p) ? 1.0 : p / (p - 1.0);
    double mn = INFINITY, viol = 0.0, sl = 0.0, xn = x ? cert_norm(x, nx, p) : 0.0;
    double *u = calloc((size_t)nx, sizeof *u);
    if (!u) {
        c->upper = c->lower = c->gap = c->max_violation = NAN;
        return;
    }
    for (int r = 0; r < m; r++) {
        const double *a = A + (size_t)r * nx;
        double ax = 0.0;
        for (int j = 0; j < nx; j++)
            ax += a[j] * (x ? x[j] : 0.0);
        mn = fmin(mn, ax);
        double na = cert_norm(a, nx, q);
        if (ax < 1.0)
            viol = fmax(viol, na * xn > 0.0 ? (1.0 - ax) / (na * xn) : INFINITY);
    }
    for (int k = 0; k < ndual; k++) {
        const double *a = A + (size_t)dual[k].row * nx;
        sl += dual[k].lambda;
        for (int j = 0; j < nx; j++)
            u[j] += dual[k].lambda * a[j];
    }
    c->upper = !x || mn <= 0.0 ? INFINITY : xn / fmin(1.0, mn);
    double un = cert_norm(u, nx, q);
    c->lower = un > 0.0 ? sl / un : (sl > 0.0 ? INFINITY : 0.0);
    c->gap = (c->upper - c->lower) / c->upper;
    c->max_violation = viol;
    free(u);
}
