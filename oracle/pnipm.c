/* pnipm.c - large p, when the active set of the primal-dual Newton
 * (pdnewton.c) does not settle: an interior-point stage on the working rows.
 *
 * attsvm__kkt_solve holds every working row at equality and drops the rows
 * whose multiplier turns negative; on real tokens rows then join and leave by
 * the dozen per round and a stage runs out of steps.  A primal-dual
 * interior-point method on the working rows W needs no such guess:
 *     grad f(x) - A_W^T nu = 0,   A_W x - 1 - s = 0,   nu o s = tau,   nu, s > 0
 * (f and its scaling as in pdnewton.c), Mehrotra's predictor-corrector, the
 * Newton system reduced to x: (H + A_W^T diag(nu/s) A_W) dx = rhs, SPD, by
 * Cholesky; steps stay inside nu, s > 0 and decrease the residual norm.
 * Rows violated at its end join W.  It returns the active rows (nu_k > s_k,
 * nu scaled by its largest) with their multipliers in K->S / nu, for
 * attsvm__kkt_solve to polish.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "linalg.h"
#include "pnipm.h"
#include "rows.h"
#include "workset.h"

/* ||F_tau||_2 of the interior-point system at (x, nu, s); g and rd scratch. */
static double ipm_res(const attsvm__kkt *K, int nW, const double *x, const double *nu,
                      const double *s, double tau, double *rd)
{
    const attsvm__prob *P = K->P;
    const int nx = P->nx;
    long double ss = 0.0L;
    attsvm__kkt_grad(K, x, rd);
    for (int k = 0; k < nW; k++) {
        const double *a = attsvm__row(P, K->S[k]);
        for (int j = 0; j < nx; j++)
            rd[j] -= nu[k] * a[j];
        const long double rp = attsvm__dotl(a, x, nx) - 1.0L - s[k], rc = (long double)nu[k] * s[k] - tau;
        ss += rp * rp + rc * rc;
    }
    for (int j = 0; j < nx; j++)
        ss += (long double)rd[j] * rd[j];
    return (double)sqrtl(ss);
}

/* The stage's workspace: m-sized arrays for the rows (only the first nW are
 * working rows), nx-sized ones for the coordinates, and the reduced Newton
 * matrix over the nJ coordinates the working rows touch. */
typedef struct {
    int nW, nJ, newW;
    double *s, *ax, *rp, *rc, *ds, *dn, *nu2, *s2;      /* m */
    double *rd, *h, *h2, *dx, *x2, *rhs, *dsc;           /* nx */
    int *add, *J;
    char *touched;
    double *Bt, *M, *Mf;    /* nJ x nW, nJ x nJ, nJ x nJ */
    size_t capB, capM;
    double mu, numax, rdmax, rpmax, cmax, gmax;         /* of the last residuals */
} pnipm_work;

static void work_free(pnipm_work *w)
{
    if (!w)
        return;
    double *d[] = {w->s, w->ax, w->rp, w->rc, w->ds, w->dn, w->nu2, w->s2, w->rd, w->h,
                   w->h2, w->dx, w->x2, w->rhs, w->dsc, w->Bt, w->M, w->Mf};
    for (size_t k = 0; k < sizeof d / sizeof *d; k++)
        free(d[k]);
    free(w->add);
    free(w->J);
    free(w->touched);
    free(w);
}

static pnipm_work *work_new(const attsvm__prob *P)
{
    const size_t m = (size_t)P->m, nx = (size_t)P->nx;
    pnipm_work *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    double **dm[] = {&w->s, &w->ax, &w->rp, &w->rc, &w->ds, &w->dn, &w->nu2, &w->s2};
    double **dn[] = {&w->rd, &w->h, &w->h2, &w->dx, &w->x2, &w->rhs, &w->dsc};
    int ok = 1;
    for (size_t k = 0; k < sizeof dm / sizeof *dm; k++)
        ok &= (*dm[k] = malloc(sizeof **dm[k] * m)) != NULL;
    for (size_t k = 0; k < sizeof dn / sizeof *dn; k++)
        ok &= (*dn[k] = malloc(sizeof **dn[k] * nx)) != NULL;
    ok &= (w->add = malloc(sizeof *w->add * m)) != NULL;
    ok &= (w->J = malloc(sizeof *w->J * nx)) != NULL;
    ok &= (w->touched = malloc(nx)) != NULL;
    if (!ok) {
        work_free(w);
        return NULL;
    }
    return w;
}

/* Start: the rows violated at x join W; multipliers by least squares,
 * grad f(x) ~ A_W^T nu (the ones handed in belong to another p), slacks from
 * the rows' values, both kept 1e-3 (relative) from 0.  0, or -1 when memory
 * is short. */
static int start_point(attsvm__kkt *K, pnipm_work *w, const double *x, double *nu)
{
    const attsvm__prob *P = K->P;
    const int nx = P->nx;
    const int k0 = attsvm__price(P, x, w->ax, K->inws, 1e-13, w->add);
    if (k0 < 0)
        return -1;
    attsvm__workset_extend(K->S, &w->nW, K->inws, nu, w->add, k0);
    const int nW = w->nW;
    double *AW = malloc(sizeof *AW * ((size_t)nW * nx + 1)),
           *G = malloc(sizeof *G * ((size_t)nW * nW + 1));
    if (!AW || !G) {
        free(AW);
        free(G);
        return -1;
    }
    for (int k = 0; k < nW; k++)
        memcpy(AW + (size_t)k * nx, attsvm__row(P, K->S[k]), sizeof *AW * (size_t)nx);
    attsvm__gram_lower(nW, nx, AW, G);
    double gd = 0.0;
    for (int k = 0; k < nW; k++)
        gd = dmax(gd, G[(size_t)k * nW + k]);
    for (int k = 0; k < nW; k++)
        G[(size_t)k * nW + k] += 1e-10 * gd;
    attsvm__kkt_grad(K, x, w->rd);
    for (int k = 0; k < nW; k++)
        nu[k] = (double)attsvm__dotl(AW + (size_t)k * nx, w->rd, nx);
    if (attsvm__chol_solve(nW, G, nu) != 0)
        for (int k = 0; k < nW; k++)
            nu[k] = 0.0;
    double numax = 0.0;
    for (int k = 0; k < nW; k++)
        numax = dmax(numax, nu[k]);
    if (!(numax > 0.0))
        numax = 1.0;
    free(AW);
    free(G);
    for (int k = 0; k < nW; k++) {
        w->s[k] = dmax(w->ax[K->S[k]] - 1.0, 1e-3);
        nu[k] = dmax(nu[k], 1e-3 * numax);
    }
    return 0;
}

/* After W changed: the coordinates J the working rows touch (the others go
 * to 0) and room for the reduced matrix.  0, or -1 when memory is short. */
static int set_coords(const attsvm__kkt *K, pnipm_work *w)
{
    const attsvm__prob *P = K->P;
    const int nx = P->nx;
    memset(w->touched, 0, (size_t)nx);
    for (int k = 0; k < w->nW; k++) {
        const double *a = attsvm__row(P, K->S[k]);
        for (int j = 0; j < nx; j++)
            w->touched[j] |= a[j] != 0.0;
    }
    w->nJ = 0;
    for (int j = 0; j < nx; j++)
        if (w->touched[j])
            w->J[w->nJ++] = j;
    w->newW = 0;
    const size_t nB = (size_t)w->nJ * w->nW, nM = (size_t)w->nJ * w->nJ;
    if (nB > w->capB) {
        free(w->Bt);
        if (!(w->Bt = malloc(sizeof *w->Bt * nB)))
            return -1;
        w->capB = nB;
    }
    if (nM > w->capM) {
        free(w->M);
        free(w->Mf);
        w->Mf = NULL;
        if (!(w->M = malloc(sizeof *w->M * nM)) || !(w->Mf = malloc(sizeof *w->Mf * nM)))
            return -1;
        w->capM = nM;
    }
    return 0;
}

/* Residuals rd = grad f - A_W^T nu, rp = A_W x - 1 - s, the curvature h of
 * f, the mean complementarity mu and the scales of the stopping test. */
static void residuals(const attsvm__kkt *K, pnipm_work *w, const double *x, const double *nu)
{
    const attsvm__prob *P = K->P;
    const int nx = P->nx, nW = w->nW;
    const double p = K->p;
    double mu = 0.0, rpmax = 0.0, cmax = 0.0, numax = 0.0, rdmax = 0.0;
    double gmax = dmax(1.0, attsvm__kkt_grad(K, x, w->rd));
    for (int j = 0; j < nx; j++)
        w->h[j] = (p - 1) * pow(fabs(x[j]) / K->s, p - 2) / K->s;
    memset(w->h2, 0, sizeof *w->h2 * (size_t)nx);
    for (int k = 0; k < nW; k++) {
        const double *a = attsvm__row(P, K->S[k]);
        for (int j = 0; j < nx; j++) {
            w->rd[j] -= nu[k] * a[j];
            w->h2[j] += fabs(nu[k] * a[j]);
        }
        w->rp[k] = (double)(attsvm__dotl(a, x, nx) - 1.0L - w->s[k]);
        rpmax = dmax(rpmax, fabs(w->rp[k]));
        mu += nu[k] * w->s[k];
        cmax = dmax(cmax, nu[k] * w->s[k]);
        numax = dmax(numax, nu[k]);
    }
    for (int j = 0; j < nx; j++) {
        rdmax = dmax(rdmax, fabs(w->rd[j]));
        gmax = dmax(gmax, w->h2[j]); /* rd's scale: its largest terms */
    }
    w->mu = mu / nW;
    w->rpmax = rpmax;
    w->cmax = cmax;
    w->numax = numax;
    w->rdmax = rdmax;
    w->gmax = gmax;
}

/* Converged on W: rows violated elsewhere join (returns 1), or there are
 * none (0); -1: out of memory. */
static int extend(attsvm__kkt *K, pnipm_work *w, const double *x, double *nu, attsvm__out *o)
{
    const int k = attsvm__price(K->P, x, w->ax, K->inws, 1e-13, w->add);
    if (k <= 0)
        return k;
    for (int t = 0; t < k; t++)
        w->s[w->nW + t] = 0.0;
    attsvm__workset_extend(K->S, &w->nW, K->inws, nu, w->add, k);
    /* Back away from the boundary, or the new pairs block every step. */
    for (int t = 0; t < w->nW; t++) {
        w->s[t] = dmax(w->s[t], 1e-4);
        nu[t] = dmax(nu[t], 1e-4 * w->numax);
    }
    o->rounds++;
    w->newW = 1;
    return 1;
}

/* M = diag(h_J) + A_WJ^T diag(nu/s) A_WJ, factored with unit diagonal
 * (D^-1/2 M D^-1/2: nu/s -> inf on active rows, so its entries span many
 * orders), a ridge only if needed.  0, or -1 when it cannot be factored. */
static int newton_matrix(const attsvm__kkt *K, pnipm_work *w, const double *nu)
{
    const attsvm__prob *P = K->P;
    const int nJ = w->nJ, nW = w->nW;
    for (int a = 0; a < nJ; a++)
        for (int k = 0; k < nW; k++)
            w->Bt[(size_t)a * nW + k] = sqrt(nu[k] / w->s[k]) * attsvm__row(P, K->S[k])[w->J[a]];
    attsvm__gram_lower(nJ, nW, w->Bt, w->M);
    for (int a = 0; a < nJ; a++)
        w->M[(size_t)a * nJ + a] += w->h[w->J[a]];
    return attsvm__chol_factor_scaled(nJ, w->M, w->Mf, w->dsc);
}

/* One solve of the reduced system for the complementarity target rc:
 * (dx, ds, dn) and the largest step that keeps s, nu >= 0. */
static double solve_direction(const attsvm__kkt *K, pnipm_work *w, const double *x,
                              const double *nu)
{
    const attsvm__prob *P = K->P;
    const int nx = P->nx, nJ = w->nJ, nW = w->nW;
    const double *s = w->s;
    for (int a = 0; a < nJ; a++) {
        double v = -w->rd[w->J[a]];
        for (int k = 0; k < nW; k++)
            v -= attsvm__row(P, K->S[k])[w->J[a]] * (w->rc[k] + nu[k] * w->rp[k]) / s[k];
        w->rhs[a] = v;
    }
    attsvm__chol_subst_scaled(nJ, w->Mf, w->dsc, w->rhs);
    for (int j = 0; j < nx; j++)
        w->dx[j] = w->touched[j] ? 0.0 : -x[j];
    for (int a = 0; a < nJ; a++)
        w->dx[w->J[a]] = w->rhs[a];
    double amax = 1.0;
    for (int k = 0; k < nW; k++) {
        w->ds[k] = (double)attsvm__dotl(attsvm__row(P, K->S[k]), w->dx, nx) + w->rp[k];
        w->dn[k] = -(w->rc[k] + nu[k] * w->ds[k]) / s[k];
        if (w->ds[k] < 0.0)
            amax = fmin(amax, -s[k] / w->ds[k]);
        if (w->dn[k] < 0.0)
            amax = fmin(amax, -nu[k] / w->dn[k]);
    }
    return amax;
}

/* Mehrotra: the predictor (rc = nu o s), then the corrector
 * (rc = nu o s + ds o dnu - sigma mu, sigma = (mu_aff / mu)^3).  Returns the
 * largest feasible step; *tau = sigma mu. */
static double direction(const attsvm__kkt *K, pnipm_work *w, const double *x, const double *nu,
                        double *tau)
{
    const int nW = w->nW;
    double sig = 0.0, amax = 1.0;
    for (int pass = 0; pass < 2; pass++) {
        for (int k = 0; k < nW; k++)
            w->rc[k] = pass == 0 ? nu[k] * w->s[k] : nu[k] * w->s[k] - sig * w->mu;
        amax = solve_direction(K, w, x, nu);
        if (pass == 0) {
            double maff = 0.0;
            for (int k = 0; k < nW; k++)
                maff += (w->s[k] + amax * w->ds[k]) * (nu[k] + amax * w->dn[k]);
            maff /= nW;
            sig = fmin(1.0, pow(maff / w->mu, 3.0));
        }
    }
    *tau = sig * w->mu;
    return amax;
}

/* Step: 0.995 of the way to the boundary, halved until the residual of the
 * centred system falls.  The model of f is quadratic, f grows like |x|^p: no
 * coordinate may more than double per step (or grow beyond s/10 from near 0),
 * else a flat direction overshoots by orders.  0 taken, -1 no decrease. */
static int take_step(const attsvm__kkt *K, pnipm_work *w, double *x, double *nu, double amax,
                     double tau)
{
    const int nx = K->P->nx, nW = w->nW;
    double t = fmin(1.0, 0.995 * amax), f1 = INFINITY;
    for (int j = 0; j < nx; j++) {
        const double lim = 2.0 * dmax(fabs(x[j]), 0.1 * K->s);
        if (fabs(x[j] + t * w->dx[j]) > lim)
            t = fmin(t, (lim - fabs(x[j])) / fabs(w->dx[j]));
    }
    const double f0 = ipm_res(K, nW, x, nu, w->s, tau, w->rd);
    for (int ls = 0; ls < 40; ls++, t *= 0.5) {
        for (int j = 0; j < nx; j++)
            w->x2[j] = x[j] + t * w->dx[j];
        for (int k = 0; k < nW; k++) {
            w->nu2[k] = nu[k] + t * w->dn[k];
            w->s2[k] = w->s[k] + t * w->ds[k];
        }
        if ((f1 = ipm_res(K, nW, w->x2, w->nu2, w->s2, tau, w->rd)) <= (1.0 - 1e-4 * t) * f0)
            break;
    }
    if (!(f1 < f0))
        return -1;
    memcpy(x, w->x2, sizeof *x * (size_t)nx);
    memcpy(nu, w->nu2, sizeof *nu * (size_t)nW);
    memcpy(w->s, w->s2, sizeof *w->s * (size_t)nW);
    return 0;
}

/* Hand over the active rows, nu_k / max(nu) > s_k, when converged (rc = 0);
 * otherwise K->S keeps every working row. */
static void hand_over(attsvm__kkt *K, const pnipm_work *w, double *nu, int rc)
{
    double numax = 0.0;
    for (int k = 0; k < w->nW; k++)
        numax = dmax(numax, nu[k]);
    if (rc != 0) {
        K->nS = w->nW;
        return;
    }
    int t = 0;
    for (int k = 0; k < w->nW; k++) {
        if (nu[k] > w->s[k] * numax) {
            K->S[t] = K->S[k];
            nu[t++] = nu[k];
        } else
            K->inws[K->S[k]] = 0;
    }
    K->nS = t;
}

int attsvm__pnipm_solve(attsvm__kkt *K, double *x, double *nu, attsvm__out *o)
{
    if (attsvm__kkt_scale(K, x))
        return -1;
    pnipm_work *w = work_new(K->P);
    if (!w) {
        K->nomem = 1;
        return -1;
    }
    int rc = -1;
    w->nW = K->nS;
    if (start_point(K, w, x, nu)) {
        K->nomem = 1;
        goto out;
    }
    w->newW = 1;
    for (int it = 0; it < 150; it++) {
        if (w->newW && set_coords(K, w)) {
            K->nomem = 1;
            break;
        }
        residuals(K, w, x, nu);
        /* Accurate enough to tell the active rows (nu_k s_k <= 1e-8 max nu);
         * beyond, nu/s spans too many orders for the reduced system. */
        if (w->rdmax <= 1e-6 * w->gmax && w->rpmax <= 1e-9 && w->cmax <= 1e-8 * w->numax) {
            const int e = extend(K, w, x, nu, o);
            if (e > 0)
                continue;
            K->nomem = e < 0;
            rc = e == 0 ? 0 : -1;
            break;
        }
        if (newton_matrix(K, w, nu))
            break;
        o->newton_iterations++;
        double tau;
        const double amax = direction(K, w, x, nu, &tau);
        if (take_step(K, w, x, nu, amax, tau))
            break;
    }
out:
    hand_over(K, w, nu, rc);
    work_free(w);
    return rc;
}
