/* lp.h - the linear programs on GLPK (lp.c): p = 1, p = inf, the
 * piecewise-linear model of the general-p solver, and the feasibility LP
 * that decides infeasibility with a Farkas certificate (design.md (17)).
 */
#ifndef ATTSVM_LP_H
#define ATTSVM_LP_H

#include "prob.h"

/** Rows to start an answering LP from, written into rows (room for m);
 *  returns their count, or -1 when memory is short.  The dispatcher passes the seed rows plus the
 *  support of the p = 2 optimum (pnorm.h); NULL: attsvm__seed_rows alone. */
typedef int attsvm__lp_seeder(const attsvm__prob *P, int *rows);

/** p = inf as the LP max gamma s.t. A w - gamma >= 0, -1 <= w <= 1.  Also the
 *  feasibility test: gamma* = 0 gives the Farkas certificate.  Row generation,
 *  vertex polish, optional glp_exact. */
void attsvm__lp_inf(const attsvm__prob *P, attsvm__lp_seeder *seed, attsvm__out *o);
/** p = 1 (K = 1) or a separable piecewise-linear model of (1/p)||x||_p^p
 *  (K segments per sign and coordinate, breakpoints bp[0..K-2] > 0, slopes
 *  slope[0..K-1] increasing); x = sum of signed segment columns.  Without
 *  polish (the model LP) the working set stops growing after max_rounds. */
void attsvm__lp_pwl(const attsvm__prob *P, int K, const double *bp, const double *slope,
                    int polish, int max_rounds, attsvm__lp_seeder *seed, attsvm__out *o);
/** The Farkas fallback: run the feasibility LP after another method reported
 *  trouble; o becomes INFEASIBLE (with certificate), or FAILED with why (if
 *  why is NULL, o is left as it was), or NOMEM when memory ran out.  Returns
 *  1 infeasible, 0 the rows are feasible, -1 the LP failed, -2 out of memory. */
int attsvm__farkas_or_fail(const attsvm__prob *P, attsvm__out *o, const char *why);

/** 1 when the answering LP starts from the interior-point method (m nx at
 *  least the size from which that pays), else 0. */
int attsvm__lp_uses_ipm(const attsvm__prob *P);

#endif
