/* pdnewton.c - large p (p > KKT_P, pnorm.c): Newton's method on the
 * primal-dual optimality conditions on the working rows.
 *
 * For q near 1 the dual map x = sign(u)|u|^{q-1} resolves a small |x_j| only
 * to ~ (eps ||u||)^{1/(p-1)} (p = 7: 1e-3 of max|x|), so the dual Newton
 * (dualnewton.c) stalls far from the optimum.  Here x itself is the
 * variable: on the working rows S the conditions of min (1/p)||x||_p^p
 * s.t. A_S x = 1 are
 *     F(x, nu) = [ sign(x)|x/s|^{p-1} - A_S^T nu ;  A_S x - 1 ] = 0
 * (the gradient divided by s^{p-1}, s = max|x| at the start: the multipliers
 * lambda = s^{p-1} nu could overflow for large p, and the certificate's lower
 * bound sum(lambda)/||A^T lambda||_q does not change when lambda is scaled).
 * Newton steps solve the (nx + |S|) KKT system by LU, damped by backtracking
 * on ||F||_2.  Rows whose nu turns negative leave S, violated rows outside S
 * join it (row generation).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "linalg.h"
#include "pdnewton.h"
#include "rows.h"
#include "workset.h"

/* F(x, nu) into F; returns ||F||_2.  *r1, *r2: max |F| of the two blocks,
 * *gx: max |x/s|^{p-1} (the scale of the first block). */
static double kkt_res(const attsvm__kkt *K, const double *x, const double *nu, double *F,
                      double *r1, double *r2, double *gx)
{
    const attsvm__prob *P = K->P;
    const int nx = P->nx;
    long double ss = 0.0L;
    *r1 = *r2 = *gx = 0.0;
    for (int j = 0; j < nx; j++) {
        long double g = powl(fabsl((long double)x[j] / K->s), K->p - 1), v = x[j] < 0 ? -g : g;
        *gx = dmax(*gx, (double)g);
        for (int k = 0; k < K->nS; k++)
            v -= (long double)nu[k] * attsvm__row(P, K->S[k])[j];
        F[j] = (double)v;
        *r1 = dmax(*r1, fabs(F[j]));
        ss += v * v;
    }
    for (int k = 0; k < K->nS; k++) {
        const double *a = attsvm__row(P, K->S[k]);
        long double v = -1.0L;
        for (int j = 0; j < nx; j++)
            v += (long double)a[j] * x[j];
        F[nx + k] = (double)v;
        *r2 = dmax(*r2, fabs(F[nx + k]));
        ss += v * v;
    }
    return (double)sqrtl(ss);
}

/* The stage's scale s = max|x_j| (K->s); 0, or -1 when x is 0 or not finite
 * or there are no working rows. */
int attsvm__kkt_scale(attsvm__kkt *K, const double *x)
{
    K->s = 0.0;
    for (int j = 0; j < K->P->nx; j++)
        K->s = dmax(K->s, fabs(x[j]));
    return K->s > 0.0 && isfinite(K->s) && K->nS > 0 ? 0 : -1;
}

/* Solve stage p from x (nx) and nu (K->nS entries, room for m).  0 converged,
 * -1 stalled. */
int attsvm__kkt_solve(attsvm__kkt *K, double *x, double *nu, attsvm__out *o)
{
    const attsvm__prob *P = K->P;
    const int nx = P->nx, m = P->m;
    const double p = K->p;
    if (attsvm__kkt_scale(K, x))
        return -1;
    int rc = -1;
    size_t Mcap = 0;
    double *M = NULL, *F = malloc(sizeof *F * (size_t)(nx + m)),
           *dz = malloc(sizeof *dz * (size_t)(nx + m)), *x2 = malloc(sizeof *x2 * (size_t)nx),
           *nu2 = malloc(sizeof *nu2 * (size_t)m), *ax = malloc(sizeof *ax * (size_t)m);
    int *add = malloc(sizeof *add * (size_t)m), *J = malloc(sizeof *J * (size_t)nx);
    double *hj = malloc(sizeof *hj * (size_t)nx), *rhs = malloc(sizeof *rhs * (size_t)(nx + m)),
           *sol = malloc(sizeof *sol * (size_t)(nx + m));
    int stuck = 0;
    if (!F || !dz || !x2 || !nu2 || !ax || !add || !J || !hj || !rhs || !sol)
        K->nomem = 1;
    for (int it = 0; it < K->maxit && !K->nomem; it++) {
        double r1, r2, gx, res = kkt_res(K, x, nu, F, &r1, &r2, &gx);
        /* Converged: F at the rounding level of its terms, or Newton can no
         * longer reduce ||F|| and it is within 1e3 of that level. */
        double sc1 = gx, sc2 = 1.0;
        for (int j = 0; j < nx; j++) {
            double t = 0.0;
            for (int k = 0; k < K->nS; k++)
                t += fabs(nu[k] * attsvm__row(P, K->S[k])[j]);
            sc1 = dmax(sc1, t);
        }
        for (int k = 0; k < K->nS; k++) {
            double t = 0.0;
            for (int j = 0; j < nx; j++)
                t += fabs(attsvm__row(P, K->S[k])[j] * x[j]);
            sc2 = dmax(sc2, t);
        }
        const double lvl = dmax(r1 / sc1, r2 / sc2) / 2.2e-16;
        if (lvl <= 8.0 || (stuck && lvl <= 8e3)) {
            stuck = 0;
            /* Stationary on S: negative multipliers leave (all at once, but
             * only beyond rounding, 1e-12 of the largest: rows dropped for a
             * -1e-18 come back violated by 1e-13 and cycle), violated rows
             * join. */
            double numax = 0.0;
            for (int k = 0; k < K->nS; k++)
                numax = dmax(numax, nu[k]);
            int t = 0;
            for (int k = 0; k < K->nS; k++) {
                if (nu[k] >= -1e-12 * numax) {
                    K->S[t] = K->S[k];
                    nu[t++] = nu[k];
                } else
                    K->inws[K->S[k]] = 0;
            }
            if (t < K->nS) {
                K->nS = t;
                continue;
            }
            int k = attsvm__price(P, x, ax, K->inws, 1e-13, add);
            if (k == 0) {
                rc = 0;
                break;
            }
            attsvm__workset_extend(K->S, &K->nS, K->inws, nu, add, k);
            o->rounds++;
            continue;
        }
        /* KKT matrix [diag(h), -A_S^T; A_S, 0], h_j = (p-1)|x_j/s|^{p-2}/s,
         * over the coordinates J that some working row touches.  A
         * coordinate no row touches (a pixel that is 0 in every token) is
         * decoupled: h_j dx_j = -F_j on its own (dx_j = 0 once x_j = 0). */
        int nJ = 0;
        double hmax = 0.0;
        for (int j = 0; j < nx; j++) {
            hj[j] = (p - 1) * pow(fabs(x[j]) / K->s, p - 2) / K->s;
            hmax = dmax(hmax, hj[j]);
            int touched = 0;
            for (int k = 0; k < K->nS && !touched; k++)
                touched = attsvm__row(P, K->S[k])[j] != 0.0;
            if (touched)
                J[nJ++] = j;
        }
        const int n = nJ + K->nS;
        if ((size_t)n * n > Mcap) {
            Mcap = (size_t)n * n;
            free(M);
            if (!(M = malloc(sizeof *M * Mcap))) {
                K->nomem = 1;
                break;
            }
        }
        double amax = 0.0;
        for (int k = 0; k < K->nS; k++)
            for (int a = 0; a < nJ; a++)
                amax = dmax(amax, fabs(attsvm__row(P, K->S[k])[J[a]]));
        /* Coordinates whose curvature vanishes (x_j = 0 at p > 2) and
         * dependent working rows (real tokens repeat) make the matrix
         * singular: a ridge r max(h, |a|) on the first block and, after the
         * first try, -r amax^2 / max(h) on the second (multipliers no longer
         * unique), r growing from 1e-14 until LU succeeds. */
        static const double regs[] = {1e-14, 1e-12, 1e-10, 1e-8, 1e-6};
        int solved = 0;
        for (int t = 0; t < 5 && !solved; t++) {
            memset(M, 0, sizeof *M * (size_t)n * n);
            for (int a = 0; a < nJ; a++) {
                M[(size_t)a * n + a] = hj[J[a]] + regs[t] * dmax(hmax, amax);
                rhs[a] = -F[J[a]];
                for (int k = 0; k < K->nS; k++) {
                    const double v = attsvm__row(P, K->S[k])[J[a]];
                    M[(size_t)a * n + nJ + k] = -v;
                    M[(size_t)(nJ + k) * n + a] = v;
                }
            }
            for (int k = 0; k < K->nS; k++) {
                M[(size_t)(nJ + k) * n + nJ + k] = t ? -regs[t] * amax * amax / hmax : 0.0;
                rhs[nJ + k] = -F[nx + k];
            }
            const int lu = attsvm__lu_solve(n, M, rhs, sol, 0);
            if (lu == -2) {
                K->nomem = 1;
                break;
            }
            solved = lu == 0;
        }
        if (!solved)
            break;
        for (int j = 0; j < nx; j++)
            dz[j] = hj[j] > 0.0 ? -F[j] / hj[j] : 0.0;
        for (int a = 0; a < nJ; a++)
            dz[J[a]] = sol[a];
        for (int k = 0; k < K->nS; k++)
            dz[nx + k] = sol[nJ + k];
        o->newton_iterations++;
        double t = 1.0, res2 = INFINITY;
        for (int ls = 0; ls < 50; ls++, t *= 0.5) {
            for (int j = 0; j < nx; j++)
                x2[j] = x[j] + t * dz[j];
            for (int k = 0; k < K->nS; k++)
                nu2[k] = nu[k] + t * dz[nx + k];
            if ((res2 = kkt_res(K, x2, nu2, F, &r1, &r2, &gx)) <= (1.0 - 1e-4 * t) * res)
                break;
        }
        if (!(res2 < res)) {
            if (stuck++)
                break;
            continue;
        }
        stuck = 0;
        memcpy(x, x2, sizeof *x * (size_t)nx);
        memcpy(nu, nu2, sizeof *nu * (size_t)K->nS);
    }
    free(M);
    free(F);
    free(dz);
    free(x2);
    free(nu2);
    free(ax);
    free(add);
    free(J);
    free(hj);
    free(rhs);
    free(sol);
    return rc;
}

void attsvm__kkt_save(const attsvm__kkt *K, const double *x, const double *nu, attsvm__kkt_state *b)
{
    memcpy(b->x, x, sizeof *x * (size_t)K->P->nx);
    memcpy(b->nu, nu, sizeof *nu * (size_t)K->nS);
    memcpy(b->S, K->S, sizeof *K->S * (size_t)K->nS);
    b->nS = K->nS;
}

void attsvm__kkt_restore(attsvm__kkt *K, double *x, double *nu, const attsvm__kkt_state *b)
{
    memset(K->inws, 0, (size_t)K->P->m);
    for (int t = 0; t < b->nS; t++)
        K->inws[K->S[t] = b->S[t]] = 1;
    K->nS = b->nS;
    memcpy(x, b->x, sizeof *x * (size_t)K->P->nx);
    memcpy(nu, b->nu, sizeof *nu * (size_t)b->nS);
}

/* g = grad f(x) = sign(x)|x/s|^{p-1} (the stage's scaling); returns max |g_j|. */
double attsvm__kkt_grad(const attsvm__kkt *K, const double *x, double *g)
{
    double gmax = 0.0;
    for (int j = 0; j < K->P->nx; j++) {
        const double v = pow(fabs(x[j]) / K->s, K->p - 1);
        gmax = dmax(gmax, v);
        g[j] = x[j] < 0 ? -v : v;
    }
    return gmax;
}

