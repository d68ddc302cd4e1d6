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

#endif
