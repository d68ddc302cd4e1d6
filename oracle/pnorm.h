/* pnorm.h - 1 < p < inf (pnorm.c): the driver of the dual Newton, the
 * primal-dual Newton and its interior-point stages; and the p = 2 seeding of
 * the LPs, which the dispatcher hands to lp.c.
 */
#ifndef ATTSVM_PNORM_H
#define ATTSVM_PNORM_H

#include "prob.h"

/** min ||x||_p s.t. A x >= 1 for 1 < p < inf into o (OPTIMAL, INFEASIBLE with
 *  a Farkas vector, FAILED or NOMEM with a message). */
void attsvm__pnorm_solve(const attsvm__prob *P, attsvm__out *o);
/** An attsvm__lp_seeder (lp.h): the seed rows plus the support of the p = 2
 *  optimum (the default seed rows alone if that solve fails). */
int attsvm__pnorm_seed_p2(const attsvm__prob *P, int *rows);

/** The feasibility probe of the LPs (p = 1, inf) at sizes where they start
 *  from the interior-point method: the dual Newton at p = 2 on the seed rows
 *  alone, a few steps; when its multipliers diverge and certify a Farkas
 *  vector (attsvm__dn_farkas), o becomes INFEASIBLE with it (o->lam, m
 *  entries) and 1 is returned; else 0 (any trouble, memory included, leaves
 *  o unchanged: the LP decides). */
int attsvm__pnorm_probe_p2(const attsvm__prob *P, attsvm__out *o);

/** The LP phase's model (settings.lp_phase): breakpoints bp and slopes of
 *  the PWL_K-segment piecewise-linear interpolant of (1/pmod)|t|^pmod on
 *  the scale s (breakpoints s/2, s, 2 s; segment t from bp[t-1] to bp[t],
 *  bp[-1] = 0): the secant slopes, increasing. */
enum { PWL_K = 3 };
void attsvm__pwl_model(double s, double pmod, double *bp, double *slope);

#endif
