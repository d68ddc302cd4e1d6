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
 * feasibility LP (lp.c) then decides with a Farkas certificate.
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

void attsvm__pnorm_solve(const attsvm__prob *P, attsvm__out *o)
{
    const int m = P->m, nx = P->nx;
    attsvm__dn c;
    attsvm__dn_init(&c, P);
    int *add = malloc(sizeof *add * (size_t)m);
    double *ax = malloc(sizeof *ax * (size_t)m), *madd = malloc(sizeof *madd * (size_t)m);
    if (!o->lam)
        o->lam = calloc((size_t)m, sizeof *o->lam);
    if (!o->x)
        o->x = calloc((size_t)nx, sizeof *o->x);
    if (c.nomem || !add || !ax || !madd || !o->lam || !o->x)
        goto nomem;

    int k = attsvm__seed_rows(P, add);
    attsvm__dn_add(&c, add, k, NULL);
    attsvm__dn_start_p2(&c);
    if (c.nomem)
        goto nomem;
    if (P->s->lp_phase && P->p != 2.0) {
        /* Breakpoints of the piecewise-linear model on the scale of the
         * optimum over the seed rows. */
        attsvm__dn_rescale(&c);
        attsvm__dn_solve(&c, 30, o);
        double s = 0.0;
        for (int j = 0; j < nx; j++)
            s = dmax(s, fabs(c.x[j]));
        if (!(s > 0.0) || !isfinite(s))
            s = 1.0;
        const double pmod = fmin(P->p, 4.0); /* model exponent (large p: first stage) */
        enum { K = 3 };
        const double fr[K - 1] = {0.5, 1.0};
        double bp[K], slope[K], prev = 0.0, fprev = 0.0;
        for (int t = 0; t < K; t++) {
            bp[t] = t < K - 1 ? fr[t] * s : 2.0 * fr[K - 2] * s;
            double ft = pow(bp[t], pmod) / pmod;
            slope[t] = (ft - fprev) / (bp[t] - prev);
            prev = bp[t];
            fprev = ft;
        }
        for (int t = 0; t < K; t++)
            if (!isfinite(slope[t]) || !(slope[t] > 0.0))
                slope[t] = t ? 2.0 * slope[t - 1] : 1.0;
        attsvm__out lo = {0};
        lo.x = calloc((size_t)nx, sizeof *lo.x);
        lo.lam = calloc((size_t)m, sizeof *lo.lam);
        attsvm__lp_pwl(P, K, bp, slope, 0, 1, NULL, &lo);
        o->lp_solves += lo.lp_solves;
        o->lp_iterations += lo.lp_iterations;
        o->rounds += lo.rounds;
        if (lo.status != ATTSVM_OPTIMAL) {
            o->status = lo.status;
            memcpy(o->msg, lo.msg, sizeof o->msg);
            if (lo.status == ATTSVM_INFEASIBLE) {
                free(o->lam);
                o->lam = lo.lam;
                lo.lam = NULL;
            }
            free(lo.x);
            free(lo.lam);
            free(lo.ws);
            goto out;
        }
        /* Working set := the LP's, multipliers := its row duals. */
        for (int t = 0; t < c.nR; t++)
            c.inws[c.R[t]] = 0;
        c.nR = 0;
        for (int t = 0; t < lo.nws; t++)
            madd[t] = lo.lam[lo.ws[t]];
        attsvm__dn_add(&c, lo.ws, lo.nws, madd);
        int pos = 0;
        for (int t = 0; t < c.nR; t++)
            pos += c.mu[t] > 0.0;
        if (!pos)
            attsvm__dn_start_p2(&c);
        free(lo.x);
        free(lo.lam);
        free(lo.ws);
    }
    /* The dual Newton at p, or for p > KKT_P at KKT_P, where it finds the
     * working set; the primal-dual Newton (pn_kkt) then continues in p
     * (x 1.5 per stage, each warm-started) up to p.  It is also the second
     * opinion when the dual Newton stalls at p >= 2. */
    if (c.nomem)
        goto nomem;
    attsvm__prob Pk = *P;
    Pk.p = fmin(P->p, KKT_P);
    Pk.q = attsvm__dual_exp(Pk.p);
    c.P = &Pk;
    attsvm__dn_rescale(&c);
    int done = 0, lpchecked = 0;
    char why[160] = "";
    /* Infeasible rows make the dual unbounded: sum(mu) grows without end, or
     * Newton stalls on the way.  At the first such sign (growth by 1e8 within
     * a solve, or a stall) the feasibility LP decides at once: a Farkas
     * certificate ends the solve; otherwise the rows are known feasible and
     * the remedies below follow (growth then counts only beyond 1e15). */
    c.divlim = P->no_farkas ? 1e15 : 1e8;
    for (int round = 0; round < P->s->max_rounds && !done && !why[0]; round++) {
        if (c.nomem)
            goto nomem;
        o->rounds++;
        int rc = attsvm__dn_solve(&c, c.flipmem == FLIP_STICKY ? 2000 : 500, o);
        if (c.nomem)
            goto nomem;
        if (rc != 0 && !lpchecked && !P->no_farkas) {
            if (attsvm__farkas_or_fail(P, o, NULL) == 1)
                goto out;
            lpchecked = 1;
            c.divlim = 1e15;
            if (rc == 1) {
                attsvm__dn_start_p2(&c);
                attsvm__dn_rescale(&c);
                round--;
                continue;
            }
        }
        if (rc < 0 && c.flipmem != FLIP_STICKY) {
            /* Retry the round from a fresh start with the sticky bound. */
            c.flipmem = FLIP_STICKY;
            memset(c.flip, 0, (size_t)nx);
            attsvm__dn_start_p2(&c);
            attsvm__dn_rescale(&c);
            round--;
            continue;
        }
        if (rc == 1) {
            o->status = ATTSVM_FAILED;
            snprintf(o->msg, sizeof o->msg, "Newton phase: multipliers diverge%s",
                     lpchecked ? " (the feasibility LP finds the rows feasible)" : "");
            goto out;
        }
        if (rc < 0) {
            snprintf(why, sizeof why, "Newton phase stalled on %d working rows (p = %g)", c.nR,
                     Pk.p);
            break;
        }
        k = attsvm__price(P, c.x, ax, c.inws, 1e-13, add);
        if (k > 0)
            attsvm__dn_add(&c, add, k, NULL);
        else
            done = 1;
    }
    c.P = P;
    if (c.nomem)
        goto nomem;
    if (!done && !why[0]) {
        o->status = ATTSVM_FAILED;
        snprintf(o->msg, sizeof o->msg, "row generation did not converge in max_rounds = %d",
                 P->s->max_rounds);
        goto out;
    }
    for (int r = 0; r < m; r++)
        o->lam[r] = 0.0;
    if (done && Pk.p == P->p) {
        memcpy(o->x, c.x, sizeof *o->x * (size_t)nx);
        for (int t = 0; t < c.nR; t++)
            o->lam[c.R[t]] = (double)c.mu[t];
        o->working_rows = c.nR;
        o->status = ATTSVM_OPTIMAL;
        goto out;
    }
    if (P->p >= 2.0) {
        /* Primal-dual stages from the dual's rows with mu > 0 and x(mu). */
        attsvm__kkt K = {P, 0.0, 0.0, malloc(sizeof(int) * (size_t)m), 0, calloc((size_t)m, 1), 150,
                        0};
        double *nu = calloc((size_t)m, sizeof *nu), *x = malloc(sizeof *x * (size_t)nx);
        double *x0 = malloc(sizeof *x0 * (size_t)nx), *nu0 = malloc(sizeof *nu0 * (size_t)m);
        int *S0 = malloc(sizeof *S0 * (size_t)m);
        if (!K.S || !K.inws || !nu || !x || !x0 || !nu0 || !S0) {
            free(K.S);
            free(K.inws);
            free(nu);
            free(x);
            free(x0);
            free(nu0);
            free(S0);
            goto nomem;
        }
        memcpy(x, c.x, sizeof *x * (size_t)nx);
        for (int t = 0; t < c.nR; t++)
            if (c.mu[t] > 0.0) {
                K.inws[c.R[t]] = 1;
                K.S[K.nS++] = c.R[t];
            }
        /* Stages p = Pk.p * ratio^k (the last one P->p), each from the one
         * before.  pn_kkt gets KKT_STEPS steps (a stage whose active set is
         * right takes a few); a stage that needs more is rerun from its start
         * by the interior-point method, which finds the active set, and
         * pn_kkt polishes that.  If this fails too, the step in p is
         * halved geometrically (ratio -> sqrt(ratio)) and grows back after a success;
         * without a stage behind (the dual stalled: the first stage is at
         * Pk.p itself), pn_kkt gets its full steps instead. */
        int rc = K.nS > 0 ? 0 : -1;
        double pdone = why[0] ? 0.0 : Pk.p, ratio = 1.5;
        attsvm__kkt_state b0 = {x0, nu0, S0, 0};
        while (rc == 0 && !K.nomem) {
            const double pk = pdone > 0.0 ? pdone * ratio : Pk.p;
            K.p = pk * sqrt(ratio) < P->p ? pk : P->p; /* no last stage shorter than sqrt(ratio) */
            attsvm__kkt_save(&K, x, nu, &b0);
            K.maxit = KKT_STEPS;
            if ((rc = attsvm__kkt_solve(&K, x, nu, o)) != 0) {
                attsvm__kkt_restore(&K, x, nu, &b0);
                K.maxit = 150;
                if ((rc = attsvm__pnipm_solve(&K, x, nu, o)) == 0)
                    rc = attsvm__kkt_solve(&K, x, nu, o);
                else if (!(pdone > 0.0)) {
                    attsvm__kkt_restore(&K, x, nu, &b0);
                    rc = attsvm__kkt_solve(&K, x, nu, o);
                }
            }
            if (rc == 0) {
                if (K.p == P->p)
                    break;
                pdone = K.p;
                ratio = fmin(1.5, ratio * ratio);
                continue;
            }
            if (!(pdone > 0.0) || ratio < 1.01)
                break;
            attsvm__kkt_restore(&K, x, nu, &b0);
            ratio = sqrt(K.p / pdone);
            rc = 0;
        }
        if (K.nomem)
            rc = -1;
        free(x0);
        free(nu0);
        free(S0);
        if (rc == 0) {
            memcpy(o->x, x, sizeof *x * (size_t)nx);
            for (int t = 0; t < K.nS; t++)
                o->lam[K.S[t]] = nu[t];
            o->working_rows = K.nS;
            o->status = ATTSVM_OPTIMAL;
        } else {
            char w2[160];
            snprintf(w2, sizeof w2, "%s%sprimal-dual Newton stalled at p = %g", why,
                     why[0] ? ", then " : "", K.p);
            snprintf(why, sizeof why, "%s", w2);
        }
        free(K.S);
        free(K.inws);
        free(nu);
        free(x);
        if (rc == 0)
            goto out;
        if (K.nomem)
            goto nomem;
    }
    if (!lpchecked && !done && !P->no_farkas) {
        /* A stall can mean unbounded multipliers (when the dual converged,
         * its x is feasible: nothing to test). */
        attsvm__farkas_or_fail(P, o, why);
        goto out;
    }
    o->status = ATTSVM_FAILED;
    snprintf(o->msg, sizeof o->msg, "%s%s", why,
             lpchecked ? " (the feasibility LP finds the rows feasible)" : "");
    goto out;
nomem:
    o->status = ATTSVM_NOMEM;
    snprintf(o->msg, sizeof o->msg, "out of memory in the Newton phase (%d constraint rows, "
             "%d variables)", m, nx);
out:
    attsvm__dn_free(&c);
    free(add);
    free(ax);
    free(madd);
}

/* Seed rows for the p = 1 and p = inf LPs: the default seed rows plus the
 * support (mu > 0) of the p = 2 optimum, found by the Newton method with one
 * Cholesky step per face (cheap next to the LP).  The LPs' optimal rows are
 * largely the p = 2 support, so the dual simplex starts near its final
 * working set: at 950 x 400, 45% fewer pivots for p = 1 and 35% for
 * p = inf than growing from one row per sample.  Any trouble in the p = 2
 * solve just leaves the default seed.  Returns the count written into rows. */
int attsvm__pnorm_seed_p2(const attsvm__prob *P, int *rows)
{
    int k = attsvm__seed_rows(P, rows);
    if (!P->s->row_generation)
        return k;
    attsvm__prob P2 = *P;
    attsvm_settings s2 = *P->s;
    s2.p = 2.0;
    s2.lp_phase = 0;
    s2.exact = 0;
    P2.p = P2.q = 2.0;
    P2.s = &s2;
    P2.no_farkas = 1;
    P2.nq = malloc(sizeof *P2.nq * (size_t)P->m);
    attsvm__rows_norms(P, 2.0, P2.nq);
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
