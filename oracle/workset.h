/* workset.h - working sets of rows (workset.c): the rows a method starts
 * from, pricing (the rows of the full set violated at a point) and extending
 * a working set.  Every method grows its working set this way (row
 * generation); only the rows in it are ever read one by one (rows.h).
 */
#ifndef ATTSVM_WORKSET_H
#define ATTSVM_WORKSET_H

#include "prob.h"

/** Initial working set: per block the row of smallest ||a_r||_q (or the k
 *  smallest rows without blocks; all rows without row generation).  Returns
 *  the count written into rows (room for m), or -1 when memory is short. */
int attsvm__seed_rows(const attsvm__prob *P, int *rows);
/** Append to rows[0..k) the rows with lam_r > 0 that are not among them
 *  (the p = 2 seeding: the support of the p = 2 optimum); returns the new
 *  count.  -1 when memory is short (rows unchanged). */
int attsvm__seed_add_support(const attsvm__prob *P, int *rows, int k, const double *lam);
/** Rows outside the working set (inws[r] == 0) whose scaled violation
 *  (1 - ax_r) / ||a_r||_q exceeds tol, most violated first, per block at most
 *  two, capped; returns the count written into add, or -1 when memory is
 *  short. */
int attsvm__violated_rows(const attsvm__prob *P, const double *ax, const char *inws,
                          double tol, int *add);
/** Pricing at x: ax = A x (all rows), then attsvm__violated_rows (-1: no
 *  memory). */
int attsvm__price(const attsvm__prob *P, const double *x, double *ax, const char *inws,
                  double tol, int *add);
/** Extend the working set S (*nS rows, room for m) by add[0..k), marking
 *  them in inws; their multipliers nu[*nS ..] (when nu is not NULL) start
 *  at 0. */
void attsvm__workset_extend(int *S, int *nS, char *inws, double *nu, const int *add, int k);

#endif
