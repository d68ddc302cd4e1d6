/* pdnewton.h - large p: the primal-dual Newton method on the working rows
 * (pdnewton.c) and the state it shares with the interior-point stage
 * (pnipm.c); pnorm.c drives both through continuation in p.
 */
#ifndef ATTSVM_PDNEWTON_H
#define ATTSVM_PDNEWTON_H

#include "prob.h"

/** A stage of the continuation: exponent p, scale s = max|x_j| at its start,
 *  working rows S (room for m) marked in inws. */
typedef struct {
    const attsvm__prob *P;
    double p, s;
    int *S, nS;
    char *inws;
    int maxit;          /* Newton steps allowed */
    int nomem;          /* an allocation failed (the solve ends with ATTSVM_NOMEM) */
} attsvm__kkt;

/* A stage's starting point (x, the working rows and their multipliers),
 * kept to rerun the stage. */
typedef struct {
    double *x, *nu;
    int *S, nS;
} attsvm__kkt_state;

/** Solve stage K->p from x (nx) and nu (K->nS entries, room for m): 0
 *  converged (stationary on S and no row violated), -1 stalled (or out of
 *  memory: K->nomem). */
int attsvm__kkt_solve(attsvm__kkt *K, double *x, double *nu, attsvm__out *o);
/** The stage's scale s = max|x_j| (K->s); 0, or -1 when x is 0 or not finite
 *  or there are no working rows. */
int attsvm__kkt_scale(attsvm__kkt *K, const double *x);
/** g = grad f(x) = sign(x)|x/s|^{p-1} (the stage's scaling); returns max |g_j|. */
double attsvm__kkt_grad(const attsvm__kkt *K, const double *x, double *g);
/** Keep a stage's starting point in b / bring it back (to rerun the stage). */
void attsvm__kkt_save(const attsvm__kkt *K, const double *x, const double *nu, attsvm__kkt_state *b);
void attsvm__kkt_restore(attsvm__kkt *K, double *x, double *nu, const attsvm__kkt_state *b);

#endif
