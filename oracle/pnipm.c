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

int attsvm__pnipm_solve(attsvm__kkt *K, double *x, double *nu, attsvm__out *o)
{
    const attsvm__prob *P = K->P;
    const int nx = P->nx, m = P->m;
    const double p = K->p;
    if (attsvm__kkt_scale(K, x))
        return -1;
    double *s = malloc(sizeof *s * (size_t)m), *ax = malloc(sizeof *ax * (size_t)m),
           *rd = malloc(sizeof *rd * (size_t)nx), *rp = malloc(sizeof *rp * (size_t)m),
           *rc = malloc(sizeof *rc * (size_t)m), *h = malloc(sizeof *h * (size_t)nx),
           *dx = malloc(sizeof *dx * (size_t)nx), *ds = malloc(sizeof *ds * (size_t)m),
           *dn = malloc(sizeof *dn * (size_t)m), *x2 = malloc(sizeof *x2 * (size_t)nx),
           *nu2 = malloc(sizeof *nu2 * (size_t)m), *s2 = malloc(sizeof *s2 * (size_t)m),
           *rhs = malloc(sizeof *rhs * (size_t)nx), *h2 = malloc(sizeof *h2 * (size_t)nx),
           *dsc = malloc(sizeof *dsc * (size_t)nx),
           *Bt = NULL, *M = NULL, *Mf = NULL;
    int *J = malloc(sizeof *J * (size_t)nx), *add = malloc(sizeof *add * (size_t)m);
    char *touched = malloc((size_t)nx);
    int rc_out = -1, nJ = 0, nW = K->nS;
    size_t capB = 0;
    double numax;
    if (!s || !ax || !rd || !rp || !rc || !h || !dx || !ds || !dn || !x2 || !nu2 || !s2 || !rhs ||
        !h2 || !dsc || !J || !add || !touched) {
        K->nomem = 1;
        goto fail;
    }
    int k0 = attsvm__price(P, x, ax, K->inws, 1e-13, add);
    attsvm__workset_extend(K->S, &nW, K->inws, nu, add, k0);
    /* Start: multipliers by least squares, grad f(x) ~ A_W^T nu (the ones
     * handed in belong to another p), slacks from the rows' values, both
     * kept 1e-3 (relative) from 0. */
    {
        double *AW = malloc(sizeof *AW * (size_t)nW * nx), *G = malloc(sizeof *G * (size_t)nW * nW);
        if (!AW || !G) {
            free(AW);
            free(G);
            K->nomem = 1;
            K->nS = nW;
            goto fail;
        }
        for (int k = 0; k < nW; k++)
            memcpy(AW + (size_t)k * nx, attsvm__row(P, K->S[k]), sizeof *AW * (size_t)nx);
        attsvm__gram_lower(nW, nx, AW, G);
        double gd = 0.0;
        for (int k = 0; k < nW; k++)
            gd = dmax(gd, G[(size_t)k * nW + k]);
        for (int k = 0; k < nW; k++)
            G[(size_t)k * nW + k] += 1e-10 * gd;
        attsvm__kkt_grad(K, x, rd);
        for (int k = 0; k < nW; k++)
            nu[k] = (double)attsvm__dotl(AW + (size_t)k * nx, rd, nx);
        if (attsvm__chol_solve(nW, G, nu) != 0)
            for (int k = 0; k < nW; k++)
                nu[k] = 0.0;
        numax = 0.0;
        for (int k = 0; k < nW; k++)
            numax = dmax(numax, nu[k]);
        if (!(numax > 0.0))
            numax = 1.0;
        free(AW);
        free(G);
    }
    for (int k = 0; k < nW; k++) {
        s[k] = dmax(ax[K->S[k]] - 1.0, 1e-3);
        nu[k] = dmax(nu[k], 1e-3 * numax);
    }
    int newW = 1;
    for (int it = 0; it < 150; it++) {
        if (newW) {
            /* Coordinates the working rows touch; the others go to 0. */
            memset(touched, 0, (size_t)nx);
            for (int k = 0; k < nW; k++) {
                const double *a = attsvm__row(P, K->S[k]);
                for (int j = 0; j < nx; j++)
                    touched[j] |= a[j] != 0.0;
            }
            nJ = 0;
            for (int j = 0; j < nx; j++)
                if (touched[j])
                    J[nJ++] = j;
            if ((size_t)nJ * nW > capB) {
                capB = (size_t)nJ * nW;
                free(Bt);
                Bt = malloc(sizeof *Bt * capB);
            }
            free(M);
            free(Mf);
            M = malloc(sizeof *M * (size_t)nJ * nJ);
            Mf = malloc(sizeof *Mf * (size_t)nJ * nJ);
            newW = 0;
            if (!Bt || !M || !Mf) {
                K->nomem = 1;
                break;
            }
        }
        /* Residuals: rd = grad f - A_W^T nu, rp = A_W x - 1 - s. */
        double mu = 0.0, rdmax = 0.0, rpmax = 0.0, cmax = 0.0, gmax = dmax(1.0, attsvm__kkt_grad(K, x, rd));
        for (int j = 0; j < nx; j++)
            h[j] = (p - 1) * pow(fabs(x[j]) / K->s, p - 2) / K->s;
        numax = 0.0;
        memset(h2, 0, sizeof *h2 * (size_t)nx);
        for (int k = 0; k < nW; k++) {
            const double *a = attsvm__row(P, K->S[k]);
            for (int j = 0; j < nx; j++) {
                rd[j] -= nu[k] * a[j];
                h2[j] += fabs(nu[k] * a[j]);
            }
            rp[k] = (double)(attsvm__dotl(a, x, nx) - 1.0L - s[k]);
            rpmax = dmax(rpmax, fabs(rp[k]));
            mu += nu[k] * s[k];
            cmax = dmax(cmax, nu[k] * s[k]);
            numax = dmax(numax, nu[k]);
        }
        mu /= nW;
        for (int j = 0; j < nx; j++) {
            rdmax = dmax(rdmax, fabs(rd[j]));
            gmax = dmax(gmax, h2[j]); /* rd's scale: its largest terms */
        }
        /* Accurate enough to tell the active rows (nu_k s_k <= 1e-8 max nu);
         * beyond, nu/s spans too many orders for the reduced system. */
        if (rdmax <= 1e-6 * gmax && rpmax <= 1e-9 && cmax <= 1e-8 * numax) {
            /* Converged on W: rows violated elsewhere join, or done. */
            int k = attsvm__price(P, x, ax, K->inws, 1e-13, add);
            if (k == 0) {
                rc_out = 0;
                break;
            }
            for (int t = 0; t < k; t++) {
                K->S[nW] = add[t];
                nu[nW] = 0.0;
                s[nW++] = 0.0;
                K->inws[add[t]] = 1;
            }
            /* Back away from the boundary, or the new pairs block every step. */
            for (int t = 0; t < nW; t++) {
                s[t] = dmax(s[t], 1e-4);
                nu[t] = dmax(nu[t], 1e-4 * numax);
            }
            o->rounds++;
            newW = 1;
            continue;
        }
        /* M = diag(h_J) + A_WJ^T diag(nu/s) A_WJ (+ a ridge if needed). */
        for (int a = 0; a < nJ; a++)
            for (int k = 0; k < nW; k++)
                Bt[(size_t)a * nW + k] = sqrt(nu[k] / s[k]) * attsvm__row(P, K->S[k])[J[a]];
        attsvm__gram_lower(nJ, nW, Bt, M);
        /* Its entries span many orders (nu/s -> inf on active rows): factor
         * it with unit diagonal, D^-1/2 M D^-1/2, a ridge r I only if needed. */
        for (int a = 0; a < nJ; a++)
            M[(size_t)a * nJ + a] += h[J[a]];
        if (attsvm__chol_factor_scaled(nJ, M, Mf, dsc))
            break;
        o->newton_iterations++;
        /* Predictor (rc = nu o s), then corrector (rc = nu o s + ds o dnu - sigma mu). */
        double sig = 0.0, amax = 1.0;
        for (int pass = 0; pass < 2; pass++) {
            for (int k = 0; k < nW; k++)
                rc[k] = pass == 0 ? nu[k] * s[k] : nu[k] * s[k] - sig * mu;
            for (int a = 0; a < nJ; a++) {
                double v = -rd[J[a]];
                for (int k = 0; k < nW; k++)
                    v -= attsvm__row(P, K->S[k])[J[a]] * (rc[k] + nu[k] * rp[k]) / s[k];
                rhs[a] = v;
            }
            attsvm__chol_subst_scaled(nJ, Mf, dsc, rhs);
            for (int j = 0; j < nx; j++)
                dx[j] = touched[j] ? 0.0 : -x[j];
            for (int a = 0; a < nJ; a++)
                dx[J[a]] = rhs[a];
            amax = 1.0;
            for (int k = 0; k < nW; k++) {
                ds[k] = (double)attsvm__dotl(attsvm__row(P, K->S[k]), dx, nx) + rp[k];
                dn[k] = -(rc[k] + nu[k] * ds[k]) / s[k];
                if (ds[k] < 0.0)
                    amax = fmin(amax, -s[k] / ds[k]);
                if (dn[k] < 0.0)
                    amax = fmin(amax, -nu[k] / dn[k]);
            }
            if (pass == 0) {
                double maff = 0.0;
                for (int k = 0; k < nW; k++)
                    maff += (s[k] + amax * ds[k]) * (nu[k] + amax * dn[k]);
                maff /= nW;
                sig = fmin(1.0, pow(maff / mu, 3.0));
            }
        }
        /* Step: 0.995 of the way to the boundary, halved until the residual
         * of the centred system falls. */
        /* The model of f is quadratic, f grows like |x|^p: no coordinate
         * may more than double per step (or grow beyond s/10 from near 0),
         * else a flat direction overshoots by orders. */
        double t = fmin(1.0, 0.995 * amax), f1 = INFINITY;
        for (int j = 0; j < nx; j++) {
            const double lim = 2.0 * dmax(fabs(x[j]), 0.1 * K->s);
            if (fabs(x[j] + t * dx[j]) > lim)
                t = fmin(t, (lim - fabs(x[j])) / fabs(dx[j]));
        }
        const double tau = sig * mu, f0 = ipm_res(K, nW, x, nu, s, tau, rd);
        for (int ls = 0; ls < 40; ls++, t *= 0.5) {
            for (int j = 0; j < nx; j++)
                x2[j] = x[j] + t * dx[j];
            for (int k = 0; k < nW; k++) {
                nu2[k] = nu[k] + t * dn[k];
                s2[k] = s[k] + t * ds[k];
            }
            if ((f1 = ipm_res(K, nW, x2, nu2, s2, tau, rd)) <= (1.0 - 1e-4 * t) * f0)
                break;
        }
        if (!(f1 < f0))
            break;
        memcpy(x, x2, sizeof *x * (size_t)nx);
        memcpy(nu, nu2, sizeof *nu * (size_t)nW);
        memcpy(s, s2, sizeof *s * (size_t)nW);
    }
    /* Hand over the active rows: nu_k / max(nu) > s_k. */
    numax = 0.0;
    for (int k = 0; k < nW; k++)
        numax = dmax(numax, nu[k]);
    int t = 0;
    for (int k = 0; k < nW; k++) {
        if (rc_out == 0 && nu[k] > s[k] * numax) {
            K->S[t] = K->S[k];
            nu[t++] = nu[k];
        } else if (rc_out == 0)
            K->inws[K->S[k]] = 0;
    }
    K->nS = rc_out == 0 ? t : nW;
fail:
    free(s);
    free(ax);
    free(rd);
    free(rp);
    free(rc);
    free(h);
    free(dx);
    free(ds);
    free(dn);
    free(x2);
    free(nu2);
    free(s2);
    free(rhs);
    free(h2);
    free(dsc);
    free(Bt);
    free(M);
    free(Mf);
    free(J);
    free(add);
    free(touched);
    return rc_out;
}

