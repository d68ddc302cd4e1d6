/* pnipm.h - large p: the interior-point stage on the working rows (pnipm.c),
 * run by pnorm.c when a primal-dual Newton stage does not settle.
 */
#ifndef ATTSVM_PNIPM_H
#define ATTSVM_PNIPM_H

#include "pdnewton.h"

/** Stage K->p from x and nu (K->nS entries, room for m): 0 converged (the
 *  active rows with their multipliers in K->S / nu, for attsvm__kkt_solve to
 *  polish), -1 not (K->nomem when memory ran out). */
int attsvm__pnipm_solve(attsvm__kkt *K, double *x, double *nu, attsvm__out *o);

#endif
