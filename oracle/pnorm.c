/* pnorm.c - the l_p SVM for 1 < p < inf: the driver of the Newton methods,
 * certified.
 *
 * The dual Newton (dualnewton.c) maximizes the Lagrange dual on a working
 * set of rows grown by the most violated rows (row generation); at its
 * optimum x(mu) and mu certify each other (design.md (16)).  For p > KKT_P
 * the dual only finds the working set (at p = KKT_P) and the primal-dual
 * Newton (pdnewton.c) continues in p up to p, with interior-point stages
 * (pnipm.c) where its active set churns: the dual map cannot resolve small
 * |x_j| when q is near 1.  Infeasible rows make the dual unbounded: the
 * diverging multipliers are tried as a Farkas certificate (design.md (20),
 * attsvm__dn_farkas), and when they do not give one the feasibility LP
 * (lp.c) decides.
 *
 * Optional GLPK phase (settings.lp_phase, off by default, p != 2): the
 * working set and the starting multipliers come from a linear program, the
 * separable piecewise-linear model of (1/p)||x||_p^p solved with row
 * generation by the dual simplex (lp.c).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dualnewton.h"
#include "linalg.h"
#include "lp.h"
#include "pdnewton.h"
#include "pnipm.h"
#include "pnorm.h"
#include "rows.h"
#include "workset.h"

/* Above this p the dual Newton only finds the working set (at p = KKT_P):
 * measured at 950 x 400, the dual's last steps lose accuracy as q -> 1 (gap
 * 2e-13 at p = 4, 9e-11 at p = 4.5) and time (0.3 s at p = 4, 8 s at p = 5),
 * while the primal-dual Newton takes ~1 s for any p in 4.5 .. 8. */
#define KKT_P 4.0
/* attsvm__kkt_solve's steps per continuation stage before the interior-point method
 * takes over (a stage whose active set is right converges in a few). */
#define KKT_STEPS 15

/* The driver's state: the problem at the dual's exponent, the dual Newton
 * and the scratch for pricing. */
typedef struct {
    const attsvm__prob *P;
    attsvm__prob Pk;        /* P at min(p, KKT_P): where the dual Newton runs */
    attsvm__dn c;
    int *add;               /* m: rows to add */
    double *ax, *madd;      /* m: A x, multipliers of rows to add */
    int done;               /* the dual converged with no row violated */
    int lpchecked;          /* the feasibility LP found the rows feasible */
    char why[160];          /* why the dual stopped short ("" if it did not) */
} pn_driver;

enum { DRV_GO, DRV_END, DRV_NOMEM };

static void driver_free(pn_driver *D)
{
    attsvm__dn_free(&D->c);
    free(D->add);
    free(D->ax);
    free(D->madd);
}

/* The workspace, o's arrays, and the dual Newton on the seed rows from the
 * p = 2 multipliers.  0, or -1 when memory is short. */
static int driver_init(pn_driver *D, const attsvm__prob *P, attsvm__out *o)
{
    const int m = P->m, nx = P->nx;
    memset(D, 0, sizeof *D);
    D->P = P;
    attsvm__dn_init(&D->c, P);
    D->add = malloc(sizeof *D->add * (size_t)m);
    D->ax = malloc(sizeof *D->ax * (size_t)m);
    D->madd = malloc(sizeof *D->madd * (size_t)m);
    if (!o->lam)
        o->lam = calloc((size_t)m, sizeof *o->lam);
    if (!o->x)
        o->x = calloc((size_t)nx, sizeof *o->x);
    if (D->c.nomem || !D->add || !D->ax || !D->madd || !o->lam || !o->x)
        return -1;
    const int k = attsvm__seed_rows(P, D->add);
    if (k < 0)
        return -1;
    attsvm__dn_add(&D->c, D->add, k, NULL);
    attsvm__dn_start_p2(&D->c);
    return D->c.nomem ? -1 : 0;
}

/* The LP phase's piecewise-linear model (pnorm.h). */
void attsvm__pwl_model(double s, double pmod, double *bp, double *slope)
{
    const double fr[PWL_K - 1] = {0.5, 1.0};
    double prev = 0.0, fprev = 0.0;
    for (int t = 0; t < PWL_K; t++) {
        bp[t] = t < PWL_K - 1 ? fr[t] * s : 2.0 * fr[PWL_K - 2] * s;
        double ft = pow(bp[t], pmod) / pmod;
        slope[t] = (ft - fprev) / (bp[t] - prev);
        prev = bp[t];
        fprev = ft;
    }
    for (int t = 0; t < PWL_K; t++)
        if (!isfinite(slope[t]) || !(slope[t] > 0.0))
            slope[t] = t ? 2.0 * slope[t - 1] : 1.0;
}

/* settings.lp_phase: the working set and starting multipliers from the
 * piecewise-linear model LP, its breakpoints on the scale of the optimum
 * over the seed rows.  DRV_END when the LP ends the solve (infeasible or
 * failed), else DRV_GO. */
static int lp_phase(pn_driver *D, attsvm__out *o)
{
    const attsvm__prob *P = D->P;
    attsvm__dn *c = &D->c;
    const int nx = P->nx;
    attsvm__dn_rescale(c);
    attsvm__dn_solve(c, 30, o);
    double s = 0.0;
    for (int j = 0; j < nx; j++)
        s = dmax(s, fabs(c->x[j]));
    if (!(s > 0.0) || !isfinite(s))
        s = 1.0;
    double bp[PWL_K], slope[PWL_K];
    attsvm__pwl_model(s, fmin(P->p, 4.0) /* large p: the first stage */, bp, slope);
    attsvm__out lo = {0};
    attsvm__lp_pwl(P, PWL_K, bp, slope, 0, 1, NULL, &lo);
    o->lp_solves += lo.lp_solves;
    o->lp_iterations += lo.lp_iterations;
    o->rounds += lo.rounds;
    int rc = DRV_GO;
    if (lo.status != ATTSVM_OPTIMAL) {
        o->status = lo.status;
        memcpy(o->msg, lo.msg, sizeof o->msg);
        if (lo.status == ATTSVM_INFEASIBLE) {
            free(o->lam);
            o->lam = lo.lam;
            lo.lam = NULL;
        }
        rc = DRV_END;
    } else {
        /* Working set := the LP's, multipliers := its row duals. */
        for (int t = 0; t < c->nR; t++)
            c->inws[c->R[t]] = 0;
        c->nR = 0;
        for (int t = 0; t < lo.nws; t++)
            D->madd[t] = lo.lam[lo.ws[t]];
        attsvm__dn_add(c, lo.ws, lo.nws, D->madd);
        int pos = 0;
        for (int t = 0; t < c->nR; t++)
            pos += c->mu[t] > 0.0;
        if (!pos)
            attsvm__dn_start_p2(c);
    }
    free(lo.x);
    free(lo.lam);
    free(lo.ws);
    return rc;
}

/* Row generation with the dual Newton at Pk.  Infeasible rows make the dual
 * unbounded: sum(mu) grows without end, or Newton stalls on the way.  At
 * the first such sign (growth by 1e8 within a solve, or a stall) the
 * multipliers' own direction is tried as the Farkas certificate (design.md
 * (22) and below it); when that is not exact, the feasibility LP decides at
 * once: a Farkas certificate ends the solve; otherwise the
 * rows are known feasible and the remedies follow (a retry with the sticky
 * IRLS bound; growth then counts only beyond 1e15).  DRV_END when o holds
 * the outcome, DRV_NOMEM, or DRV_GO with D->done or D->why set (or neither:
 * max_rounds reached). */
static int dual_rounds(pn_driver *D, attsvm__out *o)
{
    const attsvm__prob *P = D->P;
    attsvm__dn *c = &D->c;
    c->P = &D->Pk;
    attsvm__dn_rescale(c);
    c->divlim = P->no_farkas ? 1e15 : 1e8;
    for (int round = 0; round < P->s->max_rounds && !D->done && !D->why[0]; round++) {
        if (c->nomem)
            return DRV_NOMEM;
        o->rounds++;
        int rc = attsvm__dn_solve(c, c->flipmem == FLIP_STICKY ? 2000 : 500, o);
        if (c->nomem)
            return DRV_NOMEM;
        if (rc != 0 && !D->lpchecked) {
            /* Multipliers that run off (or stall on the way) point along a
             * Farkas direction: certify it from the rows they run off on
             * (no LP) when it is exact. */
            const int f = attsvm__dn_farkas(c, 1e-12, rc == 1 ? 2 : 0, o, o->lam);
            if (f < 0)
                return DRV_NOMEM;
            if (f == 1) {
                o->status = ATTSVM_INFEASIBLE;
                snprintf(o->msg, sizeof o->msg,
                         "no x satisfies A x >= 1: Farkas certificate lambda >= 0, "
                         "A^T lambda = 0 from the diverging multipliers");
                return DRV_END;
            }
        }
        if (rc != 0 && !D->lpchecked && !P->no_farkas) {
            const int f = attsvm__farkas_or_fail(P, o, NULL);
            if (f == 1 || f == -2) /* infeasible, or out of memory */
                return DRV_END;
            D->lpchecked = 1;
            c->divlim = 1e15;
            if (rc == 1) {
                attsvm__dn_start_p2(c);
                attsvm__dn_rescale(c);
                round--;
                continue;
            }
        }
        if (rc < 0 && c->flipmem != FLIP_STICKY) {
            /* Retry the round from a fresh start with the sticky bound. */
            c->flipmem = FLIP_STICKY;
            memset(c->flip, 0, (size_t)P->nx);
            attsvm__dn_start_p2(c);
            attsvm__dn_rescale(c);
            round--;
            continue;
        }
        if (rc == 1) {
            o->status = ATTSVM_FAILED;
            snprintf(o->msg, sizeof o->msg, "Newton phase: multipliers diverge%s",
                     D->lpchecked ? " (the feasibility LP finds the rows feasible)" : "");
            return DRV_END;
        }
        if (rc < 0) {
            snprintf(D->why, sizeof D->why, "Newton phase stalled on %d working rows (p = %g)",
                     c->nR, D->Pk.p);
            break;
        }
        const int k = attsvm__price(P, c->x, D->ax, c->inws, 1e-13, D->add);
        if (k < 0)
            return DRV_NOMEM;
        if (k > 0)
            attsvm__dn_add(c, D->add, k, NULL);
        else
            D->done = 1;
    }
    return DRV_GO;
}

/* The continuation in p of the primal-dual Newton, stages p = Pk.p ratio^k
 * (the last one P->p), each from the one before.  attsvm__kkt_solve gets
 * KKT_STEPS steps (a stage whose active set is right takes a few); a stage
 * that needs more is rerun from its start by the interior-point stage, which
 * finds the active set, and attsvm__kkt_solve polishes that.  If this fails
 * too, the step in p is halved geometrically (ratio -> sqrt(ratio)) and
 * grows back after a success; without a stage behind (pdone = 0: the dual
 * stalled, the first stage is at Pk.p itself), attsvm__kkt_solve gets its
 * full steps instead.  0 at P->p, or -1. */
static int continuation(const pn_driver *D, attsvm__kkt *K, double *x, double *nu,
                        attsvm__kkt_state *b0, double pdone, attsvm__out *o)
{
    const double pend = D->P->p;
    int rc = K->nS > 0 ? 0 : -1;
    double ratio = 1.5;
    while (rc == 0 && !K->nomem) {
        const double pk = pdone > 0.0 ? pdone * ratio : D->Pk.p;
        K->p = pk * sqrt(ratio) < pend ? pk : pend; /* no last stage shorter than sqrt(ratio) */
        attsvm__kkt_save(K, x, nu, b0);
        K->maxit = KKT_STEPS;
        if ((rc = attsvm__kkt_solve(K, x, nu, o)) != 0) {
            attsvm__kkt_restore(K, x, nu, b0);
            K->maxit = 150;
            if ((rc = attsvm__pnipm_solve(K, x, nu, o)) == 0)
                rc = attsvm__kkt_solve(K, x, nu, o);
            else if (!(pdone > 0.0)) {
                attsvm__kkt_restore(K, x, nu, b0);
                rc = attsvm__kkt_solve(K, x, nu, o);
            }
        }
        if (rc == 0) {
            if (K->p == pend)
                break;
            pdone = K->p;
            ratio = fmin(1.5, ratio * ratio);
            continue;
        }
        if (!(pdone > 0.0) || ratio < 1.01)
            break;
        attsvm__kkt_restore(K, x, nu, b0);
        ratio = sqrt(K->p / pdone);
        rc = 0;
    }
    return K->nomem ? -1 : rc;
}

/* p >= 2 beyond the dual: the primal-dual stages from the dual's rows with
 * mu > 0 and x(mu).  DRV_END (answered), DRV_NOMEM, or DRV_GO with the
 * failure added to D->why. */
static int kkt_stages(pn_driver *D, attsvm__out *o)
{
    const attsvm__prob *P = D->P;
    const attsvm__dn *c = &D->c;
    const int m = P->m, nx = P->nx;
    attsvm__kkt K = {P, 0.0, 0.0, malloc(sizeof(int) * (size_t)m), 0, calloc((size_t)m, 1), 150, 0};
    double *nu = calloc((size_t)m, sizeof *nu), *x = malloc(sizeof *x * (size_t)nx);
    attsvm__kkt_state b0 = {malloc(sizeof(double) * (size_t)nx), malloc(sizeof(double) * (size_t)m),
                            malloc(sizeof(int) * (size_t)m), 0};
    int rc = DRV_NOMEM;
    if (!K.S || !K.inws || !nu || !x || !b0.x || !b0.nu || !b0.S)
        goto out;
    memcpy(x, c->x, sizeof *x * (size_t)nx);
    for (int t = 0; t < c->nR; t++)
        if (c->mu[t] > 0.0) {
            K.inws[c->R[t]] = 1;
            K.S[K.nS++] = c->R[t];
        }
    if (continuation(D, &K, x, nu, &b0, D->why[0] ? 0.0 : D->Pk.p, o) == 0) {
        memcpy(o->x, x, sizeof *x * (size_t)nx);
        for (int t = 0; t < K.nS; t++)
            o->lam[K.S[t]] = nu[t];
        o->working_rows = K.nS;
        o->status = ATTSVM_OPTIMAL;
        rc = DRV_END;
    } else if (!K.nomem) {
        char w2[sizeof D->why + 64];
        snprintf(w2, sizeof w2, "%s%sprimal-dual Newton stalled at p = %g", D->why,
                 D->why[0] ? ", then " : "", K.p);
        size_t n = strlen(w2);
        n = n < sizeof D->why ? n : sizeof D->why - 1;
        memcpy(D->why, w2, n);
        D->why[n] = '\0';
        rc = DRV_GO;
    }
out:
    free(b0.x);
    free(b0.nu);
    free(b0.S);
    free(K.S);
    free(K.inws);
    free(nu);
    free(x);
    return rc;
}

/* The dual's answer at p (x(mu) and mu on the working rows). */
static void dual_answer(const pn_driver *D, attsvm__out *o)
{
    const attsvm__dn *c = &D->c;
    memcpy(o->x, c->x, sizeof *o->x * (size_t)D->P->nx);
    for (int t = 0; t < c->nR; t++)
        o->lam[c->R[t]] = (double)c->mu[t];
    o->working_rows = c->nR;
    o->status = ATTSVM_OPTIMAL;
}

/* The dual Newton at p, or for p > KKT_P at KKT_P, where it finds the working
 * set; the primal-dual Newton then continues in p (x 1.5 per stage, each
 * warm-started) up to p.  It is also the second opinion when the dual Newton
 * stalls at p >= 2. */
void attsvm__pnorm_solve(const attsvm__prob *P, attsvm__out *o)
{
    pn_driver D;
    int st = driver_init(&D, P, o) ? DRV_NOMEM : DRV_GO;
    if (st == DRV_GO && P->s->lp_phase && P->p != 2.0)
        st = lp_phase(&D, o);
    if (st == DRV_GO && D.c.nomem)
        st = DRV_NOMEM;
    if (st == DRV_GO) {
        D.Pk = *P;
        D.Pk.p = fmin(P->p, KKT_P);
        D.Pk.q = attsvm__dual_exp(D.Pk.p);
        st = dual_rounds(&D, o);
        D.c.P = P;
    }
    if (st == DRV_GO && D.c.nomem)
        st = DRV_NOMEM;
    if (st == DRV_GO && !D.done && !D.why[0]) {
        o->status = ATTSVM_FAILED;
        snprintf(o->msg, sizeof o->msg, "row generation did not converge in max_rounds = %d",
                 P->s->max_rounds);
        st = DRV_END;
    }
    if (st == DRV_GO) {
        memset(o->lam, 0, sizeof *o->lam * (size_t)P->m);
        if (D.done && D.Pk.p == P->p) {
            dual_answer(&D, o);
            st = DRV_END;
        } else if (P->p >= 2.0)
            st = kkt_stages(&D, o);
    }
    if (st == DRV_GO && !D.lpchecked && !D.done && !P->no_farkas) {
        /* A stall can mean unbounded multipliers (when the dual converged,
         * its x is feasible: nothing to test). */
        attsvm__farkas_or_fail(P, o, D.why);
        st = DRV_END;
    }
    if (st == DRV_GO) {
        o->status = ATTSVM_FAILED;
        snprintf(o->msg, sizeof o->msg, "%s%s", D.why,
                 D.lpchecked ? " (the feasibility LP finds the rows feasible)" : "");
    }
    if (st == DRV_NOMEM) {
        o->status = ATTSVM_NOMEM;
        snprintf(o->msg, sizeof o->msg, "out of memory in the Newton phase (%d constraint rows, "
                 "%d variables)", P->m, P->nx);
    }
    driver_free(&D);
}

/* P at p = 2 for the seeding and the probe (no Farkas LP inside): 0, or -1
 * when its row norms cannot be allocated. */
static int p2_problem(const attsvm__prob *P, attsvm__prob *P2, attsvm_settings *s2)
{
    *P2 = *P;
    *s2 = *P->s;
    s2->p = 2.0;
    s2->lp_phase = 0;
    s2->exact = 0;
    P2->p = P2->q = 2.0;
    P2->s = s2;
    P2->no_farkas = 1;
    if (!(P2->nq = malloc(sizeof *P2->nq * (size_t)P->m)))
        return -1;
    attsvm__rows_norms(P, 2.0, P2->nq);
    return 0;
}

/* Seed rows for the p = 1 and p = inf LPs: the default seed rows plus the
 * support (mu > 0) of the p = 2 optimum, found by the Newton method with one
 * Cholesky step per face (cheap next to the LP).  The LPs' optimal rows are
 * largely the p = 2 support, so the dual simplex starts near its final
 * working set: at 950 x 400, 45% fewer pivots for p = 1 and 35% for
 * p = inf than growing from one row per sample.  Any trouble in the p = 2
 * solve (memory included) just leaves the default seed.  Returns the count
 * written into rows, or -1 when not even the default seed has memory. */
int attsvm__pnorm_seed_p2(const attsvm__prob *P, int *rows)
{
    int k = attsvm__seed_rows(P, rows);
    if (k < 0 || !P->s->row_generation)
        return k;
    attsvm__prob P2;
    attsvm_settings s2;
    if (p2_problem(P, &P2, &s2))
        return k;
    attsvm__out o2 = {0};
    attsvm__pnorm_solve(&P2, &o2);
    if (o2.status == ATTSVM_OPTIMAL) {
        const int k2 = attsvm__seed_add_support(P, rows, k, o2.lam);
        if (k2 >= 0)
            k = k2;
    }
    free(P2.nq);
    free(o2.x);
    free(o2.lam);
    free(o2.ws);
    return k;
}

/* Newton steps of the probe: the seed rows' p = 2 problem is small (one row
 * per sample); divergence shows within a few steps. */
enum { PROBE_STEPS = 50 };

int attsvm__pnorm_probe_p2(const attsvm__prob *P, attsvm__out *o)
{
    attsvm__prob P2;
    attsvm_settings s2;
    if (!P->s->row_generation || p2_problem(P, &P2, &s2))
        return 0;
    pn_driver D;
    attsvm__out o2 = {0};
    int found = 0;
    if (driver_init(&D, &P2, &o2) == 0) {
        attsvm__dn_rescale(&D.c);
        D.c.divlim = 1e8;
        const int rc = attsvm__dn_solve(&D.c, PROBE_STEPS, &o2);
        if (rc != 0 && attsvm__dn_farkas(&D.c, 1e-12, rc == 1 ? 2 : 0, &o2, o->lam) == 1) {
            o->status = ATTSVM_INFEASIBLE;
            snprintf(o->msg, sizeof o->msg,
                     "no x satisfies A x >= 1: Farkas certificate lambda >= 0, A^T lambda = 0 "
                     "from the diverging p = 2 multipliers of the seed rows");
            found = 1;
        }
    }
    o->newton_iterations += o2.newton_iterations;
    driver_free(&D);
    free(o2.x);
    free(o2.lam);
    free(P2.nq);
    return found;
}
