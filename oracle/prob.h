/* prob.h - the two types every module of libattsvm shares: the problem
 * min ||x||_p s.t. A x >= 1 as the methods see it, and what a method hands
 * back before certification.  Private (the public interface is attsvm.h).
 *
 * Module map (doc/design.md, "Module map"; each .c has its own .h, and the
 * objects' "uses a symbol of" graph has no cycle, tests/oracle_layers.sh):
 *     linalg     dense kernels: LU, Cholesky (and its updates), dots, norms
 *     wrows      the W rows from (X, Z, alpha) without forming them: products,
 *                norms, rows generated on demand (wrows.h)
 *     rows       the only access to the constraint rows a_r (rows.h)
 *     workset    seed rows, violated rows (pricing), extending a working set
 *     cert       certificate and result assembly, attsvm_certify
 *     ipm        p = 1 and inf: interior point on the W rows' Kronecker structure
 *     lp         GLPK: p = 1, p = inf, the piecewise-linear model, Farkas
 *     dualnewton 1 < p < inf: active-set Newton on the dual (and the p = 2 factor cache)
 *     pdnewton   large p: primal-dual Newton on the working rows
 *     pnipm      large p: the interior-point stage on the working rows
 *     pnorm      1 < p < inf: the driver of the three methods above
 *     attsvm     public entry points, validation, W / v rows, dispatch, tokens
 * Non-static helpers carry the prefix attsvm__ so that the library exports no
 * name outside its namespace.
 */
#ifndef ATTSVM_PROB_H
#define ATTSVM_PROB_H

#include "attsvm.h"

/** The generic problem min ||x||_p s.t. A x >= 1 as every solver sees it. */
typedef struct {
    const double *A;    /**< m x nx, row-major; read through rows.h only */
    int m, nx;
    int group;          /**< rows come in contiguous blocks of this size (one
                             block per sample) or 0 when there is no structure */
    double p, q;        /**< exponent and dual exponent q = p/(p-1) */
    double *nq;         /**< ||a_r||_q for every row */
    const attsvm_settings *s;
    int no_farkas;      /**< 1: a Newton failure is reported as FAILED without
                             running the Farkas LP (the p = 2 seeding solve
                             inside the LPs, which must not recurse) */
    struct attsvm__wcache *gen; /**< W rows generated from (X, Z, alpha)
                             (wrows.h; A is then NULL), or NULL */
} attsvm__prob;

/** What a solver hands back before certification (attsvm__finish). */
typedef struct {
    attsvm_status status;
    char msg[256];
    double *x;          /**< nx entries, meaningful when status is OPTIMAL */
    double *lam;        /**< m multipliers (the Farkas vector when INFEASIBLE) */
    int rounds, lp_solves, working_rows, lp_iterations, newton_iterations;
    int exact_checked, exact_optimal;
    int *ws, nws;       /**< final working set of rows (LP solvers), malloc'ed */
} attsvm__out;

#endif
