/* dualnewton.h - 1 < p < inf: the active-set Newton method on the dual
 * (dualnewton.c), with the p = 2 face-factor cache.  pnorm.c drives it.
 */
#ifndef ATTSVM_DUALNEWTON_H
#define ATTSVM_DUALNEWTON_H

#include "prob.h"

/** Steps a coordinate whose u_j changed sign keeps the majorizing curvature
 *  (q < 2): FLIP_MEMORY normally, FLIP_STICKY after a stall (pn_weights). */
enum { FLIP_MEMORY = 3, FLIP_STICKY = 120 };

/** The method's state on the working set R; fill with attsvm__dn_init,
 *  release with attsvm__dn_free. */
typedef struct {
    const attsvm__prob *P;
    int nR, capR;
    int *R;             /* working rows */
    char *inws;
    long double *mu;    /* multipliers of R (long double: their rounding limits how
                           far the residual can fall, see pn_floors) */
    double *u, *x;      /* A_R^T mu and x(mu) */
    double *g;          /* A_R x - 1 (gradient of f = -D) */
    double f;           /* f = (1/q)||u||_q^q - sum(mu) */
    /* scratch */
    long double *mu2;
    double *u2, *x2, *g2, *wt, *H, *d, *sw;
    int *F;
    long long *fkey;    /* scratch: the face's sort keys (face_by_sample) */
    char *fr;           /* fr[k]: working row k is free (on the face) */
    char *in;           /* scratch of capR + 1 flags (the p = 2 cache) */
    double *rhs;        /* scratch of capR + 1 entries (the p = 2 start) */
    double *B, *Hc;     /* scratch: the face's weighted rows and factor */
    double *rot;        /* scratch: the rotations of a row deletion (p = 2 cache) */
    size_t capB, capHc, caprot, capH;
    char *flip;         /* steps left on majorizing curvature after u_j changed sign (q < 2) */
    int flipmem;        /* FLIP_MEMORY, or FLIP_STICKY after a stall */
    double **G;         /* p = 2: Gram matrix of the rows that have been in a face, in
                           the order they entered one: row t of its lower triangle
                           (t + 1 entries) */
    double *Lc;         /* p = 2: Cholesky factor of G_FcFc + rhoc I (ld ldL) */
    int *Fc, *posF;     /* its rows (working-row indices) and their positions (-1: not in) */
    int nFc, ldL, nupd; /* nFc = 0: no factor cached; nupd: updates since the last refactor */
    int capF;           /* entries of Fc and posF (capR once reserved) */
    double rhoc;
    long double *ul;    /* nx accumulators of pn_eval */
    double divlim;      /* growth of sum(mu) within one solve taken for divergence */
    int *gp;            /* p = 2: position of this working row in G (-1: not computed);
                           initialized up to ngh */
    int *gl, ngl, ngh;  /* the working rows in G, in G's order */
    int *glr;           /* their rows R[gl[t]] */
    int capgl;          /* entries of gp, gl, glr */
    int nomem;          /* an allocation failed: the solve ends with ATTSVM_NOMEM */
} attsvm__dn;

/** Allocate the per-variable arrays for problem P: 0, or -1 (c->nomem). */
int attsvm__dn_init(attsvm__dn *c, const attsvm__prob *P);
void attsvm__dn_free(attsvm__dn *c);
/** Append k rows to R with multipliers max(0, mu[t]) (0 when mu is NULL). */
void attsvm__dn_add(attsvm__dn *c, const int *rows, int k, const double *mu);
/** mu on R from the p = 2 multipliers (A_R A_R^T)^{-1} 1, clipped at 0. */
void attsvm__dn_start_p2(attsvm__dn *c);
/** Scale mu by the optimal c >= 0 along its ray. */
void attsvm__dn_rescale(attsvm__dn *c);
/** Maximize the dual on R (at most maxit Newton steps): 0 converged (and
 *  every working row satisfied to 1e-6),
 *  1 diverging (sum(mu) grew beyond divlim: the rows look infeasible),
 *  -1 stalled.  x, u, mu hold the point reached. */
int attsvm__dn_solve(attsvm__dn *c, int maxit, attsvm__out *o);

/** A Farkas vector (lambda >= 0, A^T lambda = 0 to the relative residual
 *  ||A^T lambda||_1 / sum_r lambda_r ||a_r||_1 <= tol, design.md (20)) from
 *  multipliers that diverge: their direction mu / sum(mu) (its residual falls
 *  like 1 / sum(mu): up to push more solves that diverge again, each growing
 *  sum(mu) by c->divlim, are run for it), else the least-squares null vector
 *  of the rows they run off on.  1 found (written into lam, m entries), 0
 *  not, -1 out of memory (c->nomem). */
int attsvm__dn_farkas(attsvm__dn *c, double tol, int push, attsvm__out *o, double *lam);

#endif
