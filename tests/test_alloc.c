/* test_alloc.c - every allocation failure ends cleanly, in both libraries.
 *
 * Linked against the test builds of the libraries (tests/failalloc.h renames
 * their malloc, calloc, realloc and free to counting wrappers).  Each case
 * first runs once without failure, counting its N allocations, then for every
 * k = 1 .. N runs again with the k-th allocation failing and checks exactly:
 *   - the planned failure happened and the run returned (no crash);
 *   - the status is "out of memory" with a message saying so and no answer,
 *     or, where a documented fallback absorbs the failure (the p = 2 seeding
 *     of the LPs; the interior-point method, whose place the simplex takes;
 *     the trainer's packed evaluation arrays), the same answer as without
 *     failure (status, objective to 1e-9 and the certificate recomputed by
 *     attsvm_certify; the trained W to 1e-12);
 *   - no block is left allocated once the result is released.
 * GLPK's own allocations go through GLPK's allocator: a GLPK memory limit
 * (glp_mem_limit) makes them fail, which must end in a clean status too.
 */
#include <criterion/criterion.h>
#include <glpk.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "attsvm.h"
#include "failalloc.h"
#include "mdatt.h"

/* The test's own allocations are plain ones (failalloc.h renames the calls
 * only in the libraries; here it only declares the counters). */
#undef malloc
#undef calloc
#undef free
#undef realloc
#undef strdup
#undef strndup

/* ---------------------------------------------------------------- instances */

/* The paper's synthetic instance (mdatt_gen) with the globally optimal
 * tokens. */
typedef struct {
    mdatt_instance in;
    int *alpha;
} inst;

static inst make_inst(int n, int T, int d, uint64_t seed)
{
    mdatt_gen_settings gs = {n, T, d, seed};
    inst I = {{0}, malloc(sizeof(int) * (size_t)n)};
    cr_assert_eq(mdatt_gen(&gs, &I.in), MDATT_OK);
    attsvm_data D = {n, T, d, I.in.X, I.in.Z, I.in.Y, I.in.v};
    attsvm_global_alpha(&D, I.alpha, NULL);
    return I;
}

static void free_inst(inst *I)
{
    mdatt_instance_free(&I->in);
    free(I->alpha);
}

static attsvm_data view(const inst *I)
{
    return (attsvm_data){I->in.n, I->in.T, I->in.d, I->in.X, I->in.Z, I->in.Y, I->in.v};
}

/* Rows that admit no x (a_0 = -a_1 among others): the dual diverges and the
 * feasibility LP answers with a Farkas vector. */
static const double conflict_rows[6 * 3] = {1, 0, 0, -1, 0, 0, 0, 1, 0, 0, 0, 1, 1, 1, 0, 0, 1, 1};

/* -------------------------------------------------------------- the oracle */

typedef struct {
    const inst *I;          /* NULL: the conflicting rows */
    double p;
    int lp_phase;
    const double *A;        /* not NULL: I's W rows, solved as dense rows */
} oracle_case;

static attsvm_status solve(const oracle_case *C, attsvm_result *r)
{
    attsvm_settings s;
    attsvm_default_settings(&s);
    s.p = C->p;
    s.lp_phase = C->lp_phase;
    if (!C->I)
        return attsvm_solve_rows(conflict_rows, 6, 3, &s, r);
    if (C->A)
        return attsvm_solve_rows(C->A, C->I->in.n * (C->I->in.T - 1), C->I->in.d * C->I->in.d, &s,
                                 r);
    const attsvm_data D = view(C->I);
    return attsvm_solve(&D, C->I->alpha, ATTSVM_TARGET_W, &s, r);
}

/* The answer of a run with a failure absorbed by a fallback: the same
 * status, objective and a certificate that checks out on the rows A. */
static void expect_same_answer(const attsvm_result *r, const attsvm_result *r0, const double *A,
                               int m, double p, long k)
{
    cr_assert_eq(r->status, r0->status, "allocation %ld: status %s, without failure %s (%s)", k,
                 attsvm_strerror(r->status), attsvm_strerror(r0->status), r->message);
    if (r->status != ATTSVM_OPTIMAL)
        return;
    cr_assert(fabs(r->objective - r0->objective) <= 1e-9 * r0->objective,
              "allocation %ld: objective %.17g, without failure %.17g", k, r->objective,
              r0->objective);
    attsvm_cert c;
    attsvm_certify(A, m, r->nx, p, r->x, r->dual, r->ndual, &c);
    cr_assert(c.gap <= 1e-9 && c.max_violation <= 1e-9,
              "allocation %ld: certificate gap %.3g, violation %.3g", k, c.gap, c.max_violation);
}

/* Fail each allocation of the solve in turn (file comment). */
static void exhaust_oracle(const oracle_case *C)
{
    int m = 6, nx = 3;
    double *A = NULL;
    const double *rows = conflict_rows;
    if (C->I) {
        const attsvm_data D = view(C->I);
        rows = A = attsvm_build_rows(&D, C->I->alpha, ATTSVM_TARGET_W, &m, &nx);
        cr_assert_not_null(A);
    }
    attsvm_result r0, r;
    const long base0 = failalloc_live();
    failalloc_reset(0);
    const attsvm_status st0 = solve(C, &r0);
    const long n = failalloc_count(), base = failalloc_live(); /* with r0's arrays */
    cr_assert(st0 == ATTSVM_OPTIMAL || st0 == ATTSVM_INFEASIBLE, "without failure: %s (%s)",
              attsvm_strerror(st0), r0.message);
    cr_assert_gt(n, 0);
    for (long k = 1; k <= n; k++) {
        failalloc_reset(k);
        const attsvm_status st = solve(C, &r);
        cr_assert(failalloc_failed(), "allocation %ld of %ld did not happen", k, n);
        if (st == ATTSVM_NOMEM) {
            cr_assert(strstr(r.message, "out of memory") != NULL,
                      "allocation %ld: message '%s'", k, r.message);
            cr_assert_null(r.x, "allocation %ld: an x without memory", k);
            cr_assert_eq(r.ndual, 0);
        } else
            expect_same_answer(&r, &r0, rows, m, C->p, k);
        attsvm_result_free(&r);
        cr_assert_eq(failalloc_live(), base, "allocation %ld of %ld: %ld blocks leak", k, n,
                     failalloc_live() - base);
    }
    failalloc_reset(0);
    attsvm_result_free(&r0);
    cr_assert_eq(failalloc_live(), base0, "the reference run leaks");
    free(A);
    attsvm_thread_cleanup();
}

static void exhaust_paper(double p, int lp_phase)
{
    inst I = make_inst(6, 8, 10, 1);
    oracle_case C = {&I, p, lp_phase, NULL};
    exhaust_oracle(&C);
    free_inst(&I);
}

Test(alloc, oracle_p1) { exhaust_paper(1.0, 0); }
Test(alloc, oracle_p1_75) { exhaust_paper(1.75, 0); }
Test(alloc, oracle_p1_75_lp_phase) { exhaust_paper(1.75, 1); }
Test(alloc, oracle_p2) { exhaust_paper(2.0, 0); }
Test(alloc, oracle_p3) { exhaust_paper(3.0, 0); }
Test(alloc, oracle_p8) { exhaust_paper(8.0, 0); }
Test(alloc, oracle_pinf) { exhaust_paper(INFINITY, 0); }

/* The dense-row provider (attsvm_solve_rows) instead of the generated W
 * rows of attsvm_solve. */
Test(alloc, oracle_dense_rows)
{
    inst I = make_inst(6, 8, 10, 1);
    const attsvm_data D = view(&I);
    int m, nx;
    double *A = attsvm_build_rows(&D, I.alpha, ATTSVM_TARGET_W, &m, &nx);
    cr_assert_not_null(A);
    const double ps[] = {1.0, 1.75, 8.0, INFINITY};
    for (int k = 0; k < 4; k++) {
        oracle_case C = {&I, ps[k], 0, A};
        exhaust_oracle(&C);
    }
    free(A);
    free_inst(&I);
}

Test(alloc, oracle_infeasible)
{
    oracle_case C = {NULL, 1.75, 0, NULL};
    exhaust_oracle(&C);
    C.p = 1.0;
    exhaust_oracle(&C);
}

/* From m * nx = 1e5 on, p = 1 and inf start with the interior-point method
 * on the rows' Kronecker structure; when its memory cannot be had the
 * simplex answers alone. */
Test(alloc, oracle_interior_point)
{
    inst I = make_inst(25, 17, 16, 1); /* 400 x 256 */
    oracle_case C = {&I, INFINITY, 0, NULL};
    exhaust_oracle(&C);
    free_inst(&I);
}

/* GLPK's allocator under a memory limit: its failure becomes a clean
 * status (GLPK would abort the process), and the next solve in the same
 * thread works. */
Test(alloc, glpk_out_of_memory)
{
    inst I = make_inst(25, 17, 16, 1);
    const attsvm_data D = view(&I);
    attsvm_settings s;
    attsvm_default_settings(&s);
    s.p = 1.0;
    attsvm_result r;
    const long base = failalloc_live();
    failalloc_reset(0);
    glp_mem_limit(1);
    attsvm_status st = attsvm_solve(&D, I.alpha, ATTSVM_TARGET_W, &s, &r);
    cr_assert_eq(st, ATTSVM_NOMEM, "status %s (%s)", attsvm_strerror(st), r.message);
    cr_assert(strstr(r.message, "out of memory") && strstr(r.message, "GLPK"),
              "message '%s'", r.message);
    attsvm_result_free(&r);
    cr_assert_eq(failalloc_live(), base);
    st = attsvm_solve(&D, I.alpha, ATTSVM_TARGET_W, &s, &r);
    cr_assert_eq(st, ATTSVM_OPTIMAL, "after the failure: %s (%s)", attsvm_strerror(st),
                 r.message);
    attsvm_result_free(&r);
    attsvm_thread_cleanup();
    cr_assert_eq(failalloc_live(), base);
    free_inst(&I);
}

/* ------------------------------------------------------------- the trainer */

/* max_j |a_j - b_j| / max_j |b_j|. */
static double max_rel_diff(const double *a, const double *b, size_t n)
{
    double d = 0.0, s = 0.0;
    for (size_t j = 0; j < n; j++) {
        d = fmax(d, fabs(a[j] - b[j]));
        s = fmax(s, fabs(b[j]));
    }
    return s > 0.0 ? d / s : d;
}

/* mdatt_train (p = 1.75, JointGD, 20 normalized steps on the paper's
 * instance): out of memory, or, when the evaluation's packed arrays are the
 * ones missing (model.c falls back to the unpacked evaluation), the same W
 * to rounding. */

Test(alloc, train)
{
    mdatt_gen_settings gs;
    mdatt_gen_default_settings(&gs);
    mdatt_instance in;
    cr_assert_eq(mdatt_gen(&gs, &in), MDATT_OK);
    const int d = in.d;
    mdatt_train_settings s;
    mdatt_train_default_settings(&s);
    s.p = 1.75;
    s.iters = 20;
    s.normalized = 1;
    s.joint = 1;
    double *W0 = calloc((size_t)d * d, sizeof *W0), *v0 = calloc((size_t)d, sizeof *v0),
           *W = malloc(sizeof *W * (size_t)d * d), *v = malloc(sizeof *v * (size_t)d);
    int *alpha = malloc(sizeof *alpha * (size_t)in.n);
    for (int j = 0; j < d; j++)
        v0[j] = in.v[j];
    mdatt_train_info info;
    const long base = failalloc_live();
    failalloc_reset(0);
    memcpy(W, W0, sizeof *W * (size_t)d * d);
    memcpy(v, v0, sizeof *v * (size_t)d);
    cr_assert_eq(mdatt_train(&in, &s, W, v, alpha, &info), MDATT_OK);
    const long n = failalloc_count();
    cr_assert_gt(n, 0);
    double *Wref = malloc(sizeof *Wref * (size_t)d * d);
    memcpy(Wref, W, sizeof *W * (size_t)d * d);
    for (long k = 1; k <= n; k++) {
        memcpy(W, W0, sizeof *W * (size_t)d * d);
        memcpy(v, v0, sizeof *v * (size_t)d);
        failalloc_reset(k);
        const mdatt_status st = mdatt_train(&in, &s, W, v, alpha, &info);
        cr_assert(failalloc_failed(), "allocation %ld of %ld did not happen", k, n);
        if (st == MDATT_OK) /* only the packed arrays may be missing (the unpacked
                                evaluation sums in another order) */
            cr_assert(max_rel_diff(W, Wref, (size_t)d * d) <= 1e-12,
                      "allocation %ld: trained without it, to another W (%.3g)", k,
                      max_rel_diff(W, Wref, (size_t)d * d));
        else
            cr_assert_eq(st, MDATT_ENOMEM, "allocation %ld: status %d", k, (int)st);
        cr_assert_eq(failalloc_live(), base, "allocation %ld of %ld: %ld blocks leak", k, n,
                     failalloc_live() - base);
    }
    failalloc_reset(0);
    free(W0);
    free(v0);
    free(W);
    free(v);
    free(Wref);
    free(alpha);
    mdatt_instance_free(&in);
}

/* The textbook gradient (the trainer's reference) allocates its per-sample
 * scratch: each failure is MDATT_ENOMEM with nothing leaked, and with every
 * allocation granted it answers as before. */
Test(alloc, naive_gradient)
{
    mdatt_gen_settings gs;
    mdatt_gen_default_settings(&gs);
    mdatt_instance in;
    cr_assert_eq(mdatt_gen(&gs, &in), MDATT_OK);
    const int d = in.d;
    double *W = calloc((size_t)d * d, sizeof *W), *gW = malloc(sizeof *gW * (size_t)d * d),
           *gv = malloc(sizeof *gv * (size_t)d);
    cr_assert(W && gW && gv);
    for (int j = 0; j < d; j++)
        W[j * d + j] = 0.5;
    mdatt_eval ev, ev0;
    const long base = failalloc_live();
    failalloc_reset(0);
    cr_assert_eq(mdatt_eval_grad_naive(&in, W, in.v, MDATT_LOSS_LOGISTIC, &ev0, gW, gv), MDATT_OK);
    const long n = failalloc_count();
    cr_assert_gt(n, 0);
    for (long k = 1; k <= n; k++) {
        failalloc_reset(k);
        const mdatt_status st = mdatt_eval_grad_naive(&in, W, in.v, MDATT_LOSS_LOGISTIC, &ev, gW,
                                                      gv);
        cr_assert(failalloc_failed(), "allocation %ld of %ld did not happen", k, n);
        cr_assert_eq(st, MDATT_ENOMEM, "allocation %ld of %ld: status %d", k, n, (int)st);
        cr_assert_eq(failalloc_live(), base, "allocation %ld of %ld: %ld blocks leak", k, n,
                     failalloc_live() - base);
    }
    failalloc_reset(0);
    cr_assert_eq(mdatt_eval_grad_naive(&in, W, in.v, MDATT_LOSS_LOGISTIC, &ev, gW, gv), MDATT_OK);
    cr_expect(ev.loss == ev0.loss, "loss %.17g, before %.17g", ev.loss, ev0.loss);
    free(W);
    free(gW);
    free(gv);
    mdatt_instance_free(&in);
}
