/* attsvm.c - public entry points of libattsvm: settings, validation, the
 * W-SVM / v-SVM constraint rows (design.md (14), (19)), dispatch to
 * the solvers, token verdicts ("Token selection").
 *
 * Threads: no global state is kept here.  GLPK 5.0 keeps its environment in
 * thread-local storage when built with TLS (glp_config("TLS")), and every
 * solve owns its glp_prob, so independent solves may run in parallel threads.
 */
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cert.h"
#include "linalg.h"
#include "lp.h"
#include "pnorm.h"
#include "rows.h"

#include <glpk.h>

/* Monotonic wall clock in seconds. */
static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

const char *attsvm_strerror(attsvm_status st)
{
    switch (st) {
    case ATTSVM_OPTIMAL: return "optimal";
    case ATTSVM_INFEASIBLE: return "infeasible";
    case ATTSVM_FAILED: return "failed";
    case ATTSVM_EINVAL: return "invalid";
    case ATTSVM_NOMEM: return "out of memory";
    }
    return "unknown";
}

void attsvm_default_settings(attsvm_settings *s)
{
    s->p = 2.0;
    s->exact = 0;
    s->gap_tol = 1e-10;
    s->feas_tol = 1e-12;
    s->max_rounds = 200;
    s->lp_it_lim = 0;
    s->verbose = 0;
    s->row_generation = 1;
    s->lp_phase = 0;
}

const char *attsvm_check_settings(const attsvm_settings *s)
{
    if (!s)
        return "settings: NULL";
    if (isnan(s->p) || s->p < 1.0)
        return "p: must be 1, a real number > 1, or inf";
    if (!(s->gap_tol > 0.0) || !isfinite(s->gap_tol))
        return "gap_tol: must be a finite number > 0";
    if (!(s->feas_tol > 0.0) || !isfinite(s->feas_tol))
        return "feas_tol: must be a finite number > 0";
    if (s->max_rounds < 1)
        return "max_rounds: must be >= 1";
    if (s->lp_it_lim < 0)
        return "lp_it_lim: must be >= 0 (0: no limit)";
    return NULL;
}

void attsvm_result_free(attsvm_result *r)
{
    if (!r)
        return;
    free(r->x);
    free(r->dual);
    free(r->support);
    r->x = NULL;
    r->dual = NULL;
    r->support = NULL;
    r->ndual = r->nsupport = 0;
}

static attsvm_status einval(attsvm_result *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    r->status = ATTSVM_EINVAL;
    vsnprintf(r->message, sizeof r->message, fmt, ap);
    va_end(ap);
    r->objective = r->lower_bound = r->gap = r->max_violation = NAN;
    return ATTSVM_EINVAL;
}

static int all_finite(const double *v, size_t n, size_t *bad)
{
    for (size_t k = 0; k < n; k++)
        if (!isfinite(v[k])) {
            *bad = k;
            return 0;
        }
    return 1;
}

/* The rows come from A (dense, m x nx) or, when gen is given, from the W
 * rows' generator (A is NULL then). */
static attsvm_status solve_once(const double *A, int m, int nx, int group,
                                  attsvm__wcache *gen, const attsvm_settings *s,
                                  attsvm_result *r)
{
    double t0 = now();
    memset(r, 0, sizeof *r);
    r->nx = nx;
    const char *bad = attsvm_check_settings(s);
    size_t at;
    if (bad) {
        r->status = ATTSVM_EINVAL;
        snprintf(r->message, sizeof r->message, "%s", bad);
        r->objective = r->lower_bound = r->gap = r->max_violation = NAN;
        return r->status;
    }
    if (!A && !gen)
        return einval(r, "A: NULL");
    if (m <= 0)
        return einval(r, "m: need at least one constraint row (m = %d)", m);
    if (nx <= 0)
        return einval(r, "nx: need at least one variable (nx = %d)", nx);
    if (A && !all_finite(A, (size_t)m * nx, &at))
        return einval(r, "A: entry (%zu, %zu) is not finite", at / (size_t)nx, at % (size_t)nx);

    attsvm__prob P = {A, m, nx, group, s->p, attsvm__dual_exp(s->p), NULL, s, 0, gen};
#ifdef MDATT_FAULTS
    /* Test builds only (tests/test_faults): the planted fault "oracle_p"
     * solves for p + 0.5 instead of the p asked for. */
    const char *fault = getenv("MDATT_FAULT");
    if (fault && strcmp(fault, "oracle_p") == 0 && isfinite(P.p)) {
        P.p += 0.5;
        P.q = attsvm__dual_exp(P.p);
    }
#endif
    attsvm__out o = {0};
    P.nq = malloc(sizeof *P.nq * (size_t)m);
    o.lam = calloc((size_t)m, sizeof *o.lam);
    if (!P.nq || !o.lam) {
        free(P.nq);
        free(o.lam);
        r->status = ATTSVM_NOMEM;
        snprintf(r->message, sizeof r->message, "out of memory: %d row norms", m);
        r->objective = r->lower_bound = r->gap = r->max_violation = NAN;
        return r->status;
    }
    attsvm__rows_norms(&P, P.q, P.nq);
    int zero = -1;
    for (int i = 0; i < m && zero < 0; i++)
        if (P.nq[i] == 0.0)
            zero = i;
    if (zero >= 0) {
        /* a_r = 0: 0 >= 1 fails for every x; lambda = e_r is an exact Farkas vector. */
        o.status = ATTSVM_INFEASIBLE;
        o.lam[zero] = 1.0;
        snprintf(o.msg, sizeof o.msg,
                 "row %d of A is zero (a duplicate token): a_r.x >= 1 cannot hold", zero);
    } else if ((P.p == 1.0 || isinf(P.p)) && attsvm__lp_uses_ipm(&P) &&
               attsvm__pnorm_probe_p2(&P, &o) == 1) {
        /* infeasible: o holds the Farkas vector of the probe */
    } else if (P.p == 1.0) {
        const double one = 1.0;
        attsvm__lp_pwl(&P, 1, NULL, &one, 1, s->max_rounds, attsvm__pnorm_seed_p2, &o);
    } else if (isinf(P.p)) {
        attsvm__lp_inf(&P, attsvm__pnorm_seed_p2, &o);
    } else {
        attsvm__pnorm_solve(&P, &o);
    }
    attsvm__finish(&P, &o, r);
    if (gen && gen->nomem) {
        /* Rows handed out after memory ran out were scratch copies. */
        attsvm_result_free(r);
        r->status = ATTSVM_NOMEM;
        snprintf(r->message, sizeof r->message,
                 "out of memory: copies of the working rows (%d rows of %d)",
                 attsvm__wcache_count(gen), nx);
        r->objective = r->lower_bound = r->gap = r->max_violation = NAN;
    }
    if (s->verbose)
        fprintf(stderr, "attsvm: p=%g m=%d nx=%d: %s, obj %.17g gap %.3g viol %.3g, "
                        "%d rounds, %d LPs (%d it), %d Newton, %d working rows\n",
                s->p, m, nx, attsvm_strerror(r->status), r->objective, r->gap,
                r->max_violation, r->rounds, r->lp_solves, r->lp_iterations,
                r->newton_iterations, r->working_rows);
    free(o.x);
    free(o.lam);
    free(o.ws);
    free(P.nq);
    r->seconds = now() - t0;
    return r->status;
}

/* solve_once, and for 1 < p < inf, p != 2, once more with the LP phase when
 * the Newton phase alone fails (a stall on rows that are feasible, or a
 * certificate short of its targets): the LP's working set and multipliers
 * start the Newton phase elsewhere (oracle/README.md, "GLPK's part for
 * 1 < p < inf").  The counts and the time cover both solves. */
static attsvm_status solve_rows_g(const double *A, int m, int nx, int group,
                                  attsvm__wcache *gen, const attsvm_settings *s,
                                  attsvm_result *r)
{
    const attsvm_status st = solve_once(A, m, nx, group, gen, s, r);
    if (st != ATTSVM_FAILED || s->lp_phase || !(s->p > 1.0) || isinf(s->p) || s->p == 2.0)
        return st;
    attsvm_settings s2 = *s;
    s2.lp_phase = 1;
    attsvm_result r2;
    solve_once(A, m, nx, group, gen, &s2, &r2);
    r2.rounds += r->rounds;
    r2.lp_solves += r->lp_solves;
    r2.lp_iterations += r->lp_iterations;
    r2.newton_iterations += r->newton_iterations;
    r2.seconds += r->seconds;
    if (r2.status == ATTSVM_FAILED) {
        char second[sizeof r2.message];
        memcpy(second, r2.message, sizeof second);
        snprintf(r2.message, sizeof r2.message, "%.110s; with the LP phase: %.110s", r->message,
                 second);
    }
    attsvm_result_free(r);
    *r = r2;
    return r2.status;
}

attsvm_status attsvm_solve_rows(const double *A, int m, int nx, const attsvm_settings *s,
                                attsvm_result *r)
{
    return solve_rows_g(A, m, nx, 0, NULL, s, r);
}

/* ------------------------------------------------------------ attention */

static const char *check_data(const attsvm_data *D, const int *alpha, attsvm_target tg,
                              char *buf, size_t len)
{
    size_t at;
    if (!D)
        return "data: NULL";
    if (D->n <= 0)
        return "n: must be > 0";
    if (D->T <= 0)
        return "T: must be > 0";
    if (D->d <= 0)
        return "d: must be > 0";
    if (tg != ATTSVM_TARGET_W && tg != ATTSVM_TARGET_V)
        return "target: must be ATTSVM_TARGET_W or ATTSVM_TARGET_V";
    if (tg == ATTSVM_TARGET_W && D->T < 2)
        return "T: the W-SVM needs T >= 2 tokens per sample";
    if (!D->X)
        return "X: NULL";
    if (!all_finite(D->X, (size_t)D->n * D->T * D->d, &at)) {
        snprintf(buf, len, "X: entry [%zu][%zu][%zu] is not finite", at / ((size_t)D->T * D->d),
                 at / D->d % D->T, at % D->d);
        return buf;
    }
    if (tg == ATTSVM_TARGET_W) {
        if (!D->Z)
            return "Z: NULL";
        if (!all_finite(D->Z, (size_t)D->n * D->d, &at)) {
            snprintf(buf, len, "Z: entry [%zu][%zu] is not finite", at / D->d, at % D->d);
            return buf;
        }
    } else {
        if (!D->Y)
            return "Y: NULL";
        for (int i = 0; i < D->n; i++)
            if (D->Y[i] != 1.0 && D->Y[i] != -1.0) {
                snprintf(buf, len, "Y: label %d is %g, must be +1 or -1", i, D->Y[i]);
                return buf;
            }
    }
    if (!alpha)
        return "alpha: NULL";
    for (int i = 0; i < D->n; i++)
        if (alpha[i] < 0 || alpha[i] >= D->T) {
            snprintf(buf, len, "alpha: alpha[%d] = %d is out of range [0, %d)", i, alpha[i],
                     D->T);
            return buf;
        }
    return NULL;
}

double *attsvm_build_rows(const attsvm_data *D, const int *alpha, attsvm_target target,
                          int *m, int *nx)
{
    const int n = D->n, T = D->T, d = D->d;
    if (target == ATTSVM_TARGET_V) {
        /* v-SVM rows Y_i x_{i,alpha_i}^T. */
        double *A = malloc(sizeof *A * (size_t)n * d);
        if (!A)
            return NULL;
        for (int i = 0; i < n; i++)
            for (int j = 0; j < d; j++)
                A[(size_t)i * d + j] = D->Y[i] * D->X[((size_t)i * T + alpha[i]) * d + j];
        *m = n;
        *nx = d;
        return A;
    }
    /* W-SVM rows A_it = vec((x_ia - x_it) z_i^T), entry (j, k) at j*d + k. */
    const size_t dd = (size_t)d * d;
    if ((double)n * (T - 1) > INT_MAX || (double)d * d > INT_MAX ||
        (double)n * (T - 1) * dd * sizeof(double) > (double)SIZE_MAX / 2)
        return NULL;
    double *A = malloc(sizeof *A * (size_t)n * (T - 1) * dd), *diff = malloc(sizeof *diff * d);
    if (!A || !diff) {
        free(A);
        free(diff);
        return NULL;
    }
    size_t row = 0;
    for (int i = 0; i < n; i++) {
        const double *xa = D->X + ((size_t)i * T + alpha[i]) * d, *z = D->Z + (size_t)i * d;
        for (int t = 0; t < T; t++) {
            if (t == alpha[i])
                continue;
            const double *xt = D->X + ((size_t)i * T + t) * d;
            for (int j = 0; j < d; j++)
                diff[j] = xa[j] - xt[j];
            double *a = A + row * dd;
            for (int j = 0; j < d; j++)
                for (int k = 0; k < d; k++)
                    a[(size_t)j * d + k] = diff[j] * z[k];
            row++;
        }
    }
    free(diff);
    *m = n * (T - 1);
    *nx = d * d;
    return A;
}

attsvm_status attsvm_solve(const attsvm_data *D, const int *alpha, attsvm_target target,
                           const attsvm_settings *s, attsvm_result *r)
{
    char buf[160];
    const char *bad = check_data(D, alpha, target, buf, sizeof buf);
    if (bad) {
        memset(r, 0, sizeof *r);
        r->status = ATTSVM_EINVAL;
        snprintf(r->message, sizeof r->message, "%s", bad);
        r->objective = r->lower_bound = r->gap = r->max_violation = NAN;
        return r->status;
    }
    if (target == ATTSVM_TARGET_W) {
        /* Rows generated on demand (wrows.c): only the working rows are
         * ever written out. */
        attsvm__wrows K;
        attsvm__wcache C;
        if (attsvm__wrows_init(&K, D, alpha) != 0 || attsvm__wcache_init(&C, &K) != 0) {
            memset(r, 0, sizeof *r);
            r->status = ATTSVM_NOMEM;
            snprintf(r->message, sizeof r->message, "out of memory: the W-SVM's row table "
                     "(%.0f rows)", (double)D->n * (D->T - 1));
            r->objective = r->lower_bound = r->gap = r->max_violation = NAN;
            return r->status;
        }
        attsvm_status st = solve_rows_g(NULL, K.m, K.nx, K.g, &C, s, r);
        attsvm__wcache_free(&C);
        return st;
    }
    int m, nx;
    double *A = attsvm_build_rows(D, alpha, target, &m, &nx);
    if (!A) {
        memset(r, 0, sizeof *r);
        r->status = ATTSVM_NOMEM;
        snprintf(r->message, sizeof r->message, "out of memory: the %s-SVM's constraint rows "
                 "(%.3g GB)", target == ATTSVM_TARGET_W ? "W" : "v",
                 8e-9 * D->n * (target == ATTSVM_TARGET_W ? (double)(D->T - 1) * D->d * D->d : D->d));
        r->objective = r->lower_bound = r->gap = r->max_violation = NAN;
        return r->status;
    }
    attsvm_status st = solve_rows_g(A, m, nx, 0, NULL, s, r);
    free(A);
    return st;
}

void attsvm_row_pair(const attsvm_data *D, const int *alpha, attsvm_target target, int row,
                     int *i, int *t)
{
    if (target == ATTSVM_TARGET_V) {
        *i = row;
        *t = alpha[row];
        return;
    }
    int k = row % (D->T - 1);
    *i = row / (D->T - 1);
    *t = k < alpha[*i] ? k : k + 1;
}

/* gamma_it = Y_i v^T x_it (design.md §6). */
static double token_score(const attsvm_data *D, int i, int t)
{
    const double *x = D->X + ((size_t)i * D->T + t) * D->d;
    long double s = 0.0L;
    for (int j = 0; j < D->d; j++)
        s += (long double)D->v[j] * x[j];
    return D->Y[i] * (double)s;
}

static double tie_tol(double g)
{
    return 1e-12 * fmax(1.0, fabs(g));
}

/* Samples whose maximal score is attained more than once (within tie_tol). */
static void find_ties(const attsvm_data *D, attsvm_tokens *tok)
{
    int *ties = realloc(tok->ties, sizeof *tok->ties * (size_t)D->n);
    if (!ties) {
        tok->nties = -1;    /* out of memory: no list (attsvm.h) */
        return;
    }
    tok->ties = ties;
    tok->nties = 0;
    for (int i = 0; i < D->n; i++) {
        double g = -INFINITY;
        for (int t = 0; t < D->T; t++)
            g = fmax(g, token_score(D, i, t));
        int cnt = 0;
        for (int t = 0; t < D->T; t++)
            cnt += token_score(D, i, t) >= g - tie_tol(g);
        if (cnt > 1)
            tok->ties[tok->nties++] = i;
    }
}

void attsvm_global_alpha(const attsvm_data *D, int *alpha, attsvm_tokens *tok)
{
    for (int i = 0; i < D->n; i++) {
        double g = -INFINITY;
        for (int t = 0; t < D->T; t++)
            g = fmax(g, token_score(D, i, t));
        alpha[i] = 0;
        for (int t = 0; t < D->T; t++)
            if (token_score(D, i, t) >= g - tie_tol(g)) {
                alpha[i] = t;
                break;
            }
    }
    if (tok) {
        find_ties(D, tok);
        tok->globally_optimal = 1;
        tok->locally_optimal = 0;
    }
}

void attsvm_classify(const attsvm_data *D, const int *alpha, const attsvm_result *r,
                     attsvm_tokens *tok)
{
    find_ties(D, tok);
    tok->globally_optimal = 1;
    for (int i = 0; i < D->n; i++) {
        double g = -INFINITY, ga = token_score(D, i, alpha[i]);
        for (int t = 0; t < D->T; t++)
            g = fmax(g, token_score(D, i, t));
        if (ga < g - tie_tol(g))
            tok->globally_optimal = 0;
    }
    /* Locally optimal: W^mm exists and gamma_ia > gamma_it on every support row. */
    tok->locally_optimal = r && r->status == ATTSVM_OPTIMAL;
    for (int k = 0; tok->locally_optimal && k < r->nsupport; k++) {
        int i, t;
        attsvm_row_pair(D, alpha, ATTSVM_TARGET_W, r->support[k], &i, &t);
        double ga = token_score(D, i, alpha[i]);
        if (!(ga > token_score(D, i, t) + tie_tol(ga)))
            tok->locally_optimal = 0;
    }
}

void attsvm_thread_cleanup(void)
{
    glp_free_env();
}

void attsvm_tokens_free(attsvm_tokens *tok)
{
    if (!tok)
        return;
    free(tok->ties);
    tok->ties = NULL;
    tok->nties = 0;
}
