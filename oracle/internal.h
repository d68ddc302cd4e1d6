/* internal.h - private declarations shared by libattsvm's translation units.
 *
 * Nothing here is part of the public interface (attsvm.h).  Non-static
 * helpers carry the prefix attsvm__ so that the archive exports no name
 * outside its namespace.
 */
#ifndef ATTSVM_INTERNAL_H
#define ATTSVM_INTERNAL_H

#include "attsvm.h"

/** The generic problem min ||x||_p s.t. A x >= 1 as every solver sees it. */
typedef struct {
    const double *A;    /**< m x nx, row-major */
    int m, nx;
    int group;          /**< rows come in contiguous blocks of this size (one
                             block per sample) or 0 when there is no structure */
    double p, q;        /**< exponent and dual exponent q = p/(p-1) */
    double *nq;         /**< ||a_r||_q for every row */
    const attsvm_settings *s;
    int no_farkas;      /**< 1: a Newton failure is reported as FAILED without
                             running the Farkas LP (the p = 2 seeding solve
                             inside the LPs, which must not recurse) */
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

/* ---- cert.c: norms, certificates, result assembly */
/** ||x||_p for p in [1, inf], computed with scaling (no overflow for large p). */
double attsvm__norm(const double *x, int n, double p);
/** q = p / (p - 1) with q = inf for p = 1 and q = 1 for p = inf. */
double attsvm__dual_exp(double p);
/** a . x over n entries, accumulated in long double. */
long double attsvm__dotl(const double *a, const double *x, int n);
/** ax[r] = a_r . x for all m rows (long double accumulation). */
void attsvm__rowdots(const attsvm__prob *P, const double *x, double *ax);
/** u = A^T lam over all rows. */
void attsvm__atlam(const attsvm__prob *P, const double *lam, double *u);
/** Fill the result from o: certificate (design.md (16)), dual list, support,
 *  acceptance against gap_tol / feas_tol.  Takes ownership of o->x. */
void attsvm__finish(const attsvm__prob *P, attsvm__out *o, attsvm_result *r);

/* ---- lp.c: GLPK linear programs and dense linear algebra */
/** Solve M y = b (trans = 0) or M^T y = b (trans = 1), M n x n row-major:
 *  LU with partial pivoting, iterative refinement with long double residuals.
 *  Returns 0, -1 if M is numerically singular, -2 if memory is short. */
int attsvm__lu_solve(int n, const double *M, const double *b, double *y, int trans);
/** Cholesky solve of the SPD matrix H (n x n, overwritten): 0 or -1. */
int attsvm__chol_solve(int n, double *H, double *b);
/** Its two halves: factor H in place (lower triangle L, L L^T = H; 0 or -1)
 *  and solve L L^T y = b in place with that factor. */
int attsvm__chol_factor(int n, double *H);
void attsvm__chol_subst(int n, const double *L, double *b);
/** Initial working set: per block the row of smallest ||a_r||_q (or the k
 *  smallest rows without blocks).  Returns the count written into rows. */
int attsvm__seed_rows(const attsvm__prob *P, int *rows);
/** Rows outside the working set (inws[r] == 0) whose scaled violation
 *  (1 - ax_r) / ||a_r||_q exceeds tol, most violated first, per block at most
 *  one, capped; returns the count written into add. */
int attsvm__violated_rows(const attsvm__prob *P, const double *ax, const char *inws,
                          double tol, int *add);
/** p = inf as the LP max gamma s.t. A w - gamma >= 0, -1 <= w <= 1.  Also the
 *  feasibility test: gamma* = 0 gives the Farkas certificate.  Row generation,
 *  vertex polish, optional glp_exact. */
void attsvm__lp_inf(const attsvm__prob *P, attsvm__out *o);
/** p = 1 (K = 1) or a separable piecewise-linear model of (1/p)||x||_p^p
 *  (K segments per sign and coordinate, breakpoints bp[0..K-2] > 0, slopes
 *  slope[0..K-1] increasing); x = sum of signed segment columns.  Without
 *  polish (the model LP) the working set stops growing after max_rounds. */
void attsvm__lp_pwl(const attsvm__prob *P, int K, const double *bp, const double *slope,
                    int polish, int max_rounds, attsvm__out *o);
/** The Farkas fallback: run the feasibility LP after another method reported
 *  trouble; o becomes INFEASIBLE (with certificate), or FAILED with why (if
 *  why is NULL, o is left as it was).  Returns 1 infeasible, 0 the rows are
 *  feasible, -1 the LP failed. */
int attsvm__farkas_or_fail(const attsvm__prob *P, attsvm__out *o, const char *why);

/* ---- ipm.c: p = 1 and p = inf by an interior-point method on W rows */
/** 0 when the rows are W rows (blocks of P->group rows b_r (x) z_i) and the
 *  method converged (relative gap 1e-9); -1 otherwise (no such structure, no
 *  convergence).  rrow[r] = y_r / s_r (> 1: row r active).  p = inf
 *  (one = 0): c1[j] = zl_j / (w_j + 1), c2[j] = zu_j / (1 - w_j) (> 1: w_j at
 *  that bound); p = 1 (one = 1): c1[j] = w+_j / z+_j, c2[j] = w-_j / z-_j
 *  (> 1: that part of x_j is positive).  *iters: its iterations. */
int attsvm__ipm(const attsvm__prob *P, int one, double *rrow, double *c1, double *c2, int *iters);

/* ---- pnorm.c: 1 < p < inf */
void attsvm__pnorm_solve(const attsvm__prob *P, attsvm__out *o);

/* ---- attsvm.c */
/** Monotonic wall clock in seconds. */
double attsvm__now(void);

#endif
