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

/* A stage's workspace: F, the step dz and the KKT system's right-hand side
 * and solution (nx + m), trial points, and the KKT matrix over the nJ
 * coordinates the working rows touch. */
typedef struct {
    double *F, *dz, *rhs, *sol;     /* nx + m */
    double *x2, *hj;                /* nx */
    double *nu2, *ax;               /* m */
    int *add, *J;                   /* m, nx */
    double *M;                      /* (nJ + nS)^2, capM entries */
    size_t capM;
    int nJ;
    double hmax, amax;              /* max h_j, max |a_kj| over S x J */
} kkt_work;

static void work_free(kkt_work *w)
{
    if (!w)
        return;
    double *d[] = {w->F, w->dz, w->rhs, w->sol, w->x2, w->hj, w->nu2, w->ax, w->M};
    for (size_t k = 0; k < sizeof d / sizeof *d; k++)
        free(d[k]);
    free(w->add);
    free(w->J);
    free(w);
}

static kkt_work *work_new(const attsvm__prob *P)
{
    const size_t m = (size_t)P->m, nx = (size_t)P->nx;
    kkt_work *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    int ok = 1;
    double **big[] = {&w->F, &w->dz, &w->rhs, &w->sol};
    for (size_t k = 0; k < sizeof big / sizeof *big; k++)
        ok &= (*big[k] = malloc(sizeof **big[k] * (nx + m))) != NULL;
    ok &= (w->x2 = malloc(sizeof *w->x2 * nx)) != NULL;
    ok &= (w->hj = malloc(sizeof *w->hj * nx)) != NULL;
    ok &= (w->nu2 = malloc(sizeof *w->nu2 * m)) != NULL;
    ok &= (w->ax = malloc(sizeof *w->ax * m)) != NULL;
    ok &= (w->add = malloc(sizeof *w->add * m)) != NULL;
    ok &= (w->J = malloc(sizeof *w->J * nx)) != NULL;
    if (!ok) {
        work_free(w);
        return NULL;
    }
    return w;
}

/* How far F is above the rounding level of its terms (1: at it): the two
 * blocks' largest residuals r1, r2 against the largest sums of |terms|. */
static double rounding_level(const attsvm__kkt *K, const double *x, const double *nu, double r1,
                             double r2, double gx)
{
    const attsvm__prob *P = K->P;
    const int nx = P->nx;
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
    return dmax(r1 / sc1, r2 / sc2) / 2.2e-16;
}

/* Stationary on S: negative multipliers leave (all at once, but only beyond
 * rounding, 1e-12 of the largest: rows dropped for a -1e-18 come back
 * violated by 1e-13 and cycle), else violated rows join.  1: S changed,
 * 0: optimal (no row left, none violated), -1: out of memory. */
static int update_rows(attsvm__kkt *K, kkt_work *w, const double *x, double *nu, attsvm__out *o)
{
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
        return 1;
    }
    const int k = attsvm__price(K->P, x, w->ax, K->inws, 1e-13, w->add);
    if (k <= 0)
        return k;
    attsvm__workset_extend(K->S, &K->nS, K->inws, nu, w->add, k);
    o->rounds++;
    return 1;
}

/* The curvature h_j = (p-1)|x_j/s|^{p-2}/s, the coordinates J that some
 * working row touches, and room for the KKT matrix.  0, or -1 when memory is
 * short. */
static int kkt_coords(const attsvm__kkt *K, kkt_work *w, const double *x)
{
    const attsvm__prob *P = K->P;
    const int nx = P->nx;
    const double p = K->p;
    w->nJ = 0;
    w->hmax = 0.0;
    for (int j = 0; j < nx; j++) {
        w->hj[j] = (p - 1) * pow(fabs(x[j]) / K->s, p - 2) / K->s;
        w->hmax = dmax(w->hmax, w->hj[j]);
        int touched = 0;
        for (int k = 0; k < K->nS && !touched; k++)
            touched = attsvm__row(P, K->S[k])[j] != 0.0;
        if (touched)
            w->J[w->nJ++] = j;
    }
    const int n = w->nJ + K->nS;
    if ((size_t)n * n > w->capM) {
        w->capM = (size_t)n * n;
        free(w->M);
        if (!(w->M = malloc(sizeof *w->M * w->capM))) {
            w->capM = 0;
            return -1;
        }
    }
    w->amax = 0.0;
    for (int k = 0; k < K->nS; k++)
        for (int a = 0; a < w->nJ; a++)
            w->amax = dmax(w->amax, fabs(attsvm__row(P, K->S[k])[w->J[a]]));
    return 0;
}

/* The KKT matrix [diag(h_J) + r1 I, -A_SJ^T; A_SJ, d2 I] and the
 * right-hand side -F into w->M and w->rhs. */
static void kkt_system(const attsvm__kkt *K, kkt_work *w, double r1, double d2)
{
    const attsvm__prob *P = K->P;
    const int nx = P->nx, nJ = w->nJ, n = nJ + K->nS;
    double *M = w->M;
    memset(M, 0, sizeof *M * (size_t)n * n);
    for (int a = 0; a < nJ; a++) {
        M[(size_t)a * n + a] = w->hj[w->J[a]] + r1;
        w->rhs[a] = -w->F[w->J[a]];
        for (int k = 0; k < K->nS; k++) {
            const double v = attsvm__row(P, K->S[k])[w->J[a]];
            M[(size_t)a * n + nJ + k] = -v;
            M[(size_t)(nJ + k) * n + a] = v;
        }
    }
    for (int k = 0; k < K->nS; k++) {
        M[(size_t)(nJ + k) * n + nJ + k] = d2;
        w->rhs[nJ + k] = -w->F[nx + k];
    }
}

/* The Newton direction dz = (dx, dnu) on the KKT matrix
 * [diag(h), -A_S^T; A_S, 0] over the coordinates J; a coordinate no row
 * touches (a pixel that is 0 in every token) is decoupled: h_j dx_j = -F_j
 * on its own (dx_j = 0 once x_j = 0).  Coordinates whose curvature vanishes
 * (x_j = 0 at p > 2) and dependent working rows (real tokens repeat) make
 * the matrix singular: a ridge r max(h, |a|) on the first block and, after
 * the first try, -r amax^2 / max(h) on the second (multipliers no longer
 * unique), r growing from 1e-14 until LU succeeds.  0, -1 singular,
 * -2 out of memory. */
static int newton_direction(const attsvm__kkt *K, kkt_work *w, const double *x)
{
    if (kkt_coords(K, w, x))
        return -2;
    const int nx = K->P->nx, nJ = w->nJ, n = nJ + K->nS;
    static const double regs[] = {1e-14, 1e-12, 1e-10, 1e-8, 1e-6};
    int solved = 0;
    for (int t = 0; t < 5 && !solved; t++) {
        kkt_system(K, w, regs[t] * dmax(w->hmax, w->amax),
                   t ? -regs[t] * w->amax * w->amax / w->hmax : 0.0);
        const int lu = attsvm__lu_solve(n, w->M, w->rhs, w->sol, 0);
        if (lu == -2)
            return -2;
        solved = lu == 0;
    }
    if (!solved)
        return -1;
    for (int j = 0; j < nx; j++)
        w->dz[j] = w->hj[j] > 0.0 ? -w->F[j] / w->hj[j] : 0.0;
    for (int a = 0; a < nJ; a++)
        w->dz[w->J[a]] = w->sol[a];
    for (int k = 0; k < K->nS; k++)
        w->dz[nx + k] = w->sol[nJ + k];
    return 0;
}

/* Backtracking on ||F||_2 from res along dz: 0 taken, -1 no decrease. */
static int line_search(const attsvm__kkt *K, kkt_work *w, double *x, double *nu, double res)
{
    const int nx = K->P->nx;
    double t = 1.0, res2 = INFINITY, r1, r2, gx;
    for (int ls = 0; ls < 50; ls++, t *= 0.5) {
        for (int j = 0; j < nx; j++)
            w->x2[j] = x[j] + t * w->dz[j];
        for (int k = 0; k < K->nS; k++)
            w->nu2[k] = nu[k] + t * w->dz[nx + k];
        if ((res2 = kkt_res(K, w->x2, w->nu2, w->F, &r1, &r2, &gx)) <= (1.0 - 1e-4 * t) * res)
            break;
    }
    if (!(res2 < res))
        return -1;
    memcpy(x, w->x2, sizeof *x * (size_t)nx);
    memcpy(nu, w->nu2, sizeof *nu * (size_t)K->nS);
    return 0;
}

/* Solve stage p from x (nx) and nu (K->nS entries, room for m).  0 converged,
 * -1 stalled. */
int attsvm__kkt_solve(attsvm__kkt *K, double *x, double *nu, attsvm__out *o)
{
    if (attsvm__kkt_scale(K, x))
        return -1;
    kkt_work *w = work_new(K->P);
    if (!w) {
        K->nomem = 1;
        return -1;
    }
    int rc = -1, stuck = 0;
    for (int it = 0; it < K->maxit; it++) {
        double r1, r2, gx, res = kkt_res(K, x, nu, w->F, &r1, &r2, &gx);
        /* Converged: F at the rounding level of its terms, or Newton can no
         * longer reduce ||F|| and it is within 1e3 of that level. */
        const double lvl = rounding_level(K, x, nu, r1, r2, gx);
        if (lvl <= 8.0 || (stuck && lvl <= 8e3)) {
            stuck = 0;
            const int u = update_rows(K, w, x, nu, o);
            if (u > 0)
                continue;
            K->nomem = u < 0;
            rc = u == 0 ? 0 : -1;
            break;
        }
        const int dir = newton_direction(K, w, x);
        if (dir == -2)
            K->nomem = 1;
        if (dir)
            break;
        o->newton_iterations++;
        if (line_search(K, w, x, nu, res)) {
            if (stuck++)
                break;
            continue;
        }
        stuck = 0;
    }
    work_free(w);
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

