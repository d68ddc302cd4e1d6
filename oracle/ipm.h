/* ipm.h - p = 1 and p = inf by an interior-point method on the Kronecker
 * structure of the W rows (ipm.c); it names the optimal vertex, which the
 * LP (lp.c) then computes exactly.
 */
#ifndef ATTSVM_IPM_H
#define ATTSVM_IPM_H

#include "prob.h"

/** 0 when the rows are W rows (rows.h, attsvm__rows_kron) and the method
 *  converged (relative gap 1e-9); -1 otherwise (no such structure, no
 *  convergence, no memory).  rrow[r] = y_r / s_r (> 1: row r active).
 *  p = inf (one = 0): c1[j] = zl_j / (w_j + 1), c2[j] = zu_j / (1 - w_j)
 *  (> 1: w_j at that bound); p = 1 (one = 1): c1[j] = w+_j / z+_j,
 *  c2[j] = w-_j / z-_j (> 1: that part of x_j is positive).  *iters: its
 *  iterations. */
int attsvm__ipm(const attsvm__prob *P, int one, double *rrow, double *c1, double *c2, int *iters);

#endif
