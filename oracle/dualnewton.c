/* dualnewton.c - 1 < p < inf: active-set Newton on the Lagrange dual over a
 * working set of rows, certified (design.md (16)).
 *
 * Lagrange dual of min (1/p)||x||_p^p s.t. A x >= 1 (same minimizer as
 * min ||x||_p):
 *     max_{mu >= 0} D(mu) = sum(mu) - (1/q)||A^T mu||_q^q,
 * with x(mu) = grad psi*(A^T mu) = sign(u)|u|^{q-1}, u = A^T mu (design.md's
 * mirror map with p replaced by q).  grad D = 1 - A x(mu) and
 * -hess D = A diag((q-1)|u|^{q-2}) A^T, so D is a smooth concave function of
 * a few hundred bounded variables: we maximize it by projected Newton
 * (Bertsekas 1982) on a working set R of rows (all other mu = 0).  At a
 * stationary point of the restricted problem the rows with mu > 0 hold with
 * equality, x(mu) is the primal optimum of the working-set problem, and if it
 * violates no other row it is optimal for the full problem; else the most
 * violated rows join R (row generation, driven by pnorm.c).
 *
 * Certificate: lambda = mu.  At the optimum sum(mu) = mu^T A x = u^T x =
 * ||u||_q^q and ||x||_p^p = ||u||_q^q, so UB = LB up to the Newton residual.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dualnewton.h"
#include "linalg.h"
#include "rows.h"


/* realloc that keeps *p on failure and records it in c->nomem. */
static void pn_realloc(attsvm__dn *c, void *pp, size_t bytes)
{
    void **p = pp;
    void *q = c->nomem ? NULL : realloc(*p, bytes ? bytes : 1);
    if (q)
        *p = q;
    else
        c->nomem = 1;
}

/* Room for cap working rows (the per-row arrays);
 * 0, or -1 with c->nomem set. */
static int pn_grow(attsvm__dn *c, int cap)
{
    if (cap <= c->capR)
        return c->nomem ? -1 : 0;
    const size_t n = (size_t)cap;
    pn_realloc(c, &c->R, sizeof *c->R * n);
    pn_realloc(c, &c->mu, sizeof *c->mu * n);
    pn_realloc(c, &c->mu2, sizeof *c->mu2 * n);
    pn_realloc(c, &c->g, sizeof *c->g * n);
    pn_realloc(c, &c->g2, sizeof *c->g2 * n);
    pn_realloc(c, &c->d, sizeof *c->d * n);
    pn_realloc(c, &c->F, sizeof *c->F * n);
    pn_realloc(c, &c->fkey, sizeof *c->fkey * n);
    pn_realloc(c, &c->fr, n);
    pn_realloc(c, &c->in, n + 1);
    pn_realloc(c, &c->rhs, sizeof *c->rhs * (n + 1));
    if ((double)n * n * sizeof(double) > (double)SIZE_MAX / 2)
        c->nomem = 1;
    if (c->nomem)
        return -1;
    c->capR = cap;
    return 0;
}

/* *pp holds at least n doubles (*cap of them); 0, or -1 with c->nomem set.
 * The scratch of the Newton systems, kept between steps. */
static int pn_reserve(attsvm__dn *c, double **pp, size_t *cap, size_t n)
{
    if (n <= *cap)
        return c->nomem ? -1 : 0;
    /* a quarter more than asked: a face that grows by a few rows per step
     * would otherwise get fresh pages (and their faults) every step */
    const size_t want = n + n / 4;
    free(*pp);
    if (!(*pp = malloc(sizeof **pp * want))) {
        *cap = 0;
        c->nomem = 1;
        return -1;
    }
    *cap = want;
    return 0;
}

/* u, x(u), f and g at mu (x = sign(u)|u|^{q-1}, the inverse mirror map). */
static int pn_eval(const attsvm__dn *c, const long double *mu, double *u, double *x, double *g,
                   double *f)
{
    const attsvm__prob *P = c->P;
    const int nx = P->nx;
    const double q = P->q;
    /* u = A_R^T mu, in long double for p != 2: x = |u|^{q-1} multiplies the
     * relative error of u (cancellation: |u_j| << sum_k |mu_k a_kj|) by q - 1
     * (10 at p = 1.1), and g = A x - 1 inherits it; measured on real tokens,
     * certified gaps 7e-11 -> 7e-14 at p = 1.1 and 1e-11 -> 3e-12 at p = 3. */
    long double smu = 0.0L, sq = 0.0L;
    if (q != 2.0 || P->gen) {
        /* (generated rows: the factored product, cheaper in long double
         * than the dense one in double) */
        attsvm__rows_sub_atmu(P, c->R, c->nR, mu, c->ul);
        for (int k = 0; k < c->nR; k++)
            smu += mu[k];
        for (int j = 0; j < nx; j++)
            u[j] = (double)c->ul[j];
    } else {
        for (int j = 0; j < nx; j++)
            u[j] = 0.0;
        for (int k = 0; k < c->nR; k++) {
            if (mu[k] == 0.0)
                continue;
            const double *a = attsvm__row(P, c->R[k]);
            const double mk = (double)mu[k];
            smu += mu[k];
            for (int j = 0; j < nx; j++)
                u[j] += mk * a[j];
        }
    }
    for (int j = 0; j < nx; j++) {
        double au = fabs(u[j]), ax = q == 2.0 ? au : pow(au, q - 1.0);
        x[j] = u[j] < 0 ? -ax : ax;
        sq += (long double)au * ax;
    }
    attsvm__rows_sub_ax(P, c->R, c->nR, x, 1.0L, g);
    *f = (double)(sq / q - smu);
    return isfinite(*f) ? 0 : -1;
}

/* Projected-gradient norm: max_r |mu_r - max(0, mu_r - g_r)|. */
static double pn_pgnorm(const attsvm__dn *c, const long double *mu, const double *g)
{
    double r = 0.0;
    for (int k = 0; k < c->nR; k++) {
        const long double t = mu[k] - g[k];
        r = dmax(r, (double)fabsl(mu[k] - (t > 0.0L ? t : 0.0L)));
    }
    return r;
}

/* Sufficient decrease (Armijo) of f at the trial point (mu2, g2) against the
 * linear prediction lin < 0.  Near the optimum the predicted decrease falls
 * below the rounding of f itself (f sums terms of size |f| and more, so its
 * value is only known to ~eps |f| per term): there f cannot rank the points and
 * the projected-gradient norm decides instead (a Newton step near a solution
 * reduces it quadratically). */
static int pn_decrease(const attsvm__dn *c, double f2, double lin, double pg)
{
    if (f2 <= c->f + 1e-4 * lin)
        return 1;
    const double noise = 1e-12 * dmax(1.0, fabs(c->f));
    return (pg < 1e-6 || -lin < noise) && pn_pgnorm(c, c->mu2, c->g2) < pg;
}

/* Newton weights wt_j = (q-1)|u_j|^{q-2}, floored where q < 2 lets them blow
 * up at u_j = 0.  For q < 2 the map u -> |u|^{q-1} is concave, Newton
 * overshoots through 0 (on |u|^q/q alone it maps u to (q-2)u/(q-1): a 2-cycle
 * at q = 1.5), so a coordinate whose sign has flipped gets the majorizing
 * curvature |u_j|^{q-2} for the next FLIP_MEMORY steps instead ((u^2)^{q/2} is concave
 * in u^2, the IRLS bound): still a descent step, and no oscillation.  If Newton
 * still stalls, the round is retried with the bound kept for good (linear
 * but sure convergence, FLIP_STICKY). */
static void pn_weights(const attsvm__dn *c)
{
    const int nx = c->P->nx;
    const double q = c->P->q;
    double umax = 0.0;
    for (int j = 0; j < nx; j++)
        umax = dmax(umax, fabs(c->u[j]));
    for (int j = 0; j < nx; j++) {
        if (q == 2.0) {
            c->wt[j] = 1.0;
            continue;
        }
        double au = dmax(fabs(c->u[j]), 1e-12 * umax);
        double k = q < 2.0 && c->flip[j] ? 1.0 : q - 1.0;
        c->wt[j] = au > 0.0 ? k * pow(au, q - 2.0) : 0.0;
    }
}

/* Entries of the Gram matrix G = A_R A_R^T are computed for the rows that
 * have been in a face, and stored in the order they entered one (working row
 * a at position gp[a], -1: never) as the rows of its lower triangle, each
 * allocated once at its length: rows that never leave 0 cost neither time
 * nor memory, and G never moves. */
static void pn_gram_face(attsvm__dn *c, int nF)
{
    if (c->capgl < c->capR) {
        pn_realloc(c, &c->gp, sizeof *c->gp * (size_t)c->capR);
        pn_realloc(c, &c->gl, sizeof *c->gl * (size_t)c->capR);
        pn_realloc(c, &c->glr, sizeof *c->glr * (size_t)c->capR);
        pn_realloc(c, &c->G, sizeof *c->G * (size_t)c->capR);
        if (c->nomem)
            return;
        c->capgl = c->capR;
    }
    for (int k = c->ngh; k < c->nR; k++)
        c->gp[k] = -1;
    c->ngh = c->nR;
    for (int f = 0; f < nF; f++) {
        const int a = c->F[f];
        if (c->gp[a] >= 0)
            continue;
        const int pa = c->ngl;
        if (!(c->G[pa] = malloc(sizeof *c->G[pa] * ((size_t)pa + 1)))) {
            c->nomem = 1;
            return;
        }
        c->ngl++;
        c->gp[a] = pa;
        c->glr[pa] = c->R[a];
        c->gl[pa] = a;
        attsvm__rows_dots(c->P, c->R[a], c->glr, pa + 1, c->G[pa]);
    }
}

/* G's entry of working rows a and b (both have been in a face). */
static inline double gram(const attsvm__dn *c, int a, int b)
{
    const int pa = c->gp[a], pb = c->gp[b];
    return pa >= pb ? c->G[pa][pb] : c->G[pb][pa];
}

/* ---- p = 2: the face factor is updated, not recomputed.
 *
 * H_FF = G_FF does not depend on mu, and consecutive faces differ by a few
 * rows, so the Cholesky factor of the last face is kept (in its own row
 * order Fc) and brought to the new face by deleting rows (a rank-one update
 * of the trailing block, Givens-like, stable) and appending rows (one
 * forward solve): O(|F|^2) per change instead of O(|F|^3 / 3).  After 64
 * changes, or when an appended row is numerically dependent, the face is
 * factored afresh (pn_direction's ridge loop). */
/* Room for a factor of need rows (leading dimension need and a quarter more,
 * at most capR: the factor holds a face, not the working set) and for Fc,
 * posF over the working rows. */
static void p2_cache_reserve(attsvm__dn *c, int need)
{
    if (c->capF < c->capR) {
        int *posF = malloc(sizeof *posF * (size_t)c->capR);
        pn_realloc(c, &c->Fc, sizeof *c->Fc * (size_t)c->capR);
        if (!posF || c->nomem) {
            free(posF);
            c->nomem = 1;
            return;
        }
        free(c->posF);
        c->posF = posF;
        c->capF = c->capR;
    }
    if (c->ldL >= need)
        return;
    const int ld = need + need / 4 < c->capR ? need + need / 4 : c->capR;
    double *L = malloc(sizeof *L * (size_t)ld * ld + 1);
    if (!L) {
        c->nomem = 1;
        return;
    }
    for (int r = 0; r < c->nFc; r++)
        memcpy(L + (size_t)r * ld, c->Lc + (size_t)r * c->ldL, sizeof *L * (size_t)(r + 1));
    free(c->Lc);
    c->Lc = L;
    c->ldL = ld;
}

static void p2_cache_store(attsvm__dn *c, int nF, const double *Hc, double rho)
{
    p2_cache_reserve(c, nF);
    if (c->nomem)
        return;
    for (int k = 0; k < c->nR; k++)
        c->posF[k] = -1;
    for (int a = 0; a < nF; a++) {
        memcpy(c->Lc + (size_t)a * c->ldL, Hc + (size_t)a * nF, sizeof *Hc * (size_t)(a + 1));
        c->Fc[a] = c->F[a];
        c->posF[c->F[a]] = a;
    }
    c->nFc = nF;
    c->rhoc = rho;
    c->nupd = 0;
}

/* Append the face rows missing from the cached factor (row n0 + t of the
 * factor for the t-th of them): first every new row against the factor's
 * n0 rows, each of which is read once for all new rows, then each new row
 * against the new rows before it.  0, or -1 when one is numerically
 * dependent (cache dropped: factor afresh). */
static int p2_cache_append(attsvm__dn *c, int nF)
{
    const int n0 = c->nFc;
    const size_t ld = (size_t)c->ldL;
    int na = 0;
    for (int a = 0; a < nF; a++)
        if (c->posF[c->F[a]] < 0)
            c->Fc[n0 + na++] = c->F[a];
    double *Lnew = c->Lc + (size_t)n0 * ld;
    for (int i = 0; i < n0; i++) {
        const double *li = c->Lc + (size_t)i * ld;
        for (int t = 0; t < na; t++) {
            double *l = Lnew + (size_t)t * ld;
            l[i] = (gram(c, c->Fc[i], c->Fc[n0 + t]) - attsvm__dot(li, l, i)) / li[i];
        }
    }
    for (int t = 0; t < na; t++) {
        double *l = Lnew + (size_t)t * ld;
        const int k = c->Fc[n0 + t];
        for (int s = 0; s < t; s++) {
            const double *ls = Lnew + (size_t)s * ld;
            l[n0 + s] = (gram(c, c->Fc[n0 + s], k) - attsvm__dot(ls, l, n0 + s)) / ls[n0 + s];
        }
        const double gkk = gram(c, k, k) + c->rhoc,
                     dd = gkk - attsvm__dot(l, l, n0 + t);
        if (!(dd > 1e-12 * gkk)) {
            c->nFc = 0;
            return -1;
        }
        l[n0 + t] = sqrt(dd);
        c->posF[k] = n0 + t;
    }
    c->nFc = n0 + na;
    return 0;
}

/* Bring the cached factor to the face F and solve for the direction: 0, or
 * -1 (cache dropped: factor afresh). */
static int p2_cache_direction(attsvm__dn *c, int nF)
{
    if (c->nFc <= 0 || c->nupd >= 64)
        return -1;
    p2_cache_reserve(c, nF);
    if (c->nomem)
        return -1;
    for (int k = 0; k < c->nR; k++)
        c->posF[k] = -1;
    for (int i = 0; i < c->nFc; i++)
        c->posF[c->Fc[i]] = i;
    char *in = c->in;
    memset(in, 0, (size_t)c->nR + 1);
    for (int a = 0; a < nF; a++)
        in[c->F[a]] = 1;
    int nrem = 0, nadd = 0;
    for (int i = 0; i < c->nFc; i++)
        nrem += !in[c->Fc[i]];
    for (int a = 0; a < nF; a++)
        nadd += c->posF[c->F[a]] < 0;
    if (nrem + nadd > nF / 4 + 8)
        return -1;
    if (nrem && pn_reserve(c, &c->rot, &c->caprot, 3 * (size_t)c->nFc))
        return -1;
    for (int i = c->nFc - 1; i >= 0; i--)
        if (!in[c->Fc[i]]) {
            attsvm__chol_delete(c->Lc, c->ldL, c->nFc, i, c->rot);
            memmove(c->Fc + i, c->Fc + i + 1, sizeof *c->Fc * (size_t)(c->nFc - i - 1));
            c->nFc--;
        }
    for (int k = 0; k < c->nR; k++)
        c->posF[k] = -1;
    for (int i = 0; i < c->nFc; i++)
        c->posF[c->Fc[i]] = i;
    if (p2_cache_append(c, nF))
        return -1;
    c->nupd += nrem + nadd;
    /* L L^T y = -g in the cache's order, then d in F's order. */
    const int n = c->nFc;
    double *y = c->g2;
    for (int i = 0; i < n; i++) {
        const double *li = c->Lc + (size_t)i * c->ldL;
        y[i] = (-c->g[c->Fc[i]] - attsvm__dot(li, y, i)) / li[i];
    }
    for (int i = n - 1; i >= 0; i--) {
        const double *li = c->Lc + (size_t)i * c->ldL;
        y[i] /= li[i];
        for (int j = 0; j < i; j++)
            y[j] -= li[j] * y[i];
    }
    for (int a = 0; a < nF; a++)
        c->d[a] = y[c->posF[c->F[a]]];
    return 0;
}

/* H_FF for generated W rows from their factors (wrows.c): 1 done, 0 not
 * (dense rows, or no memory for its scratch: the caller forms it). */
static int face_wgram(attsvm__dn *c, int nF)
{
    if (!c->P->gen)
        return 0;
    int *rows = malloc(sizeof *rows * ((size_t)nF + 1));
    if (!rows)
        return 0;
    for (int a = 0; a < nF; a++)
        rows[a] = c->R[c->F[a]];
    const int rc = attsvm__rows_wgram(c->P, rows, nF, c->wt, c->H);
    free(rows);
    return rc == 0;
}

/* Newton step on the face F: H_FF d = -g_F, H = A_F diag(wt) A_F^T.  0 or -1. */
static int pn_direction(attsvm__dn *c, int nF)
{
    const attsvm__prob *P = c->P;
    const int nx = P->nx;
    double *B = NULL;
    if (c->P->q != 2.0 && pn_reserve(c, &c->H, &c->capH, (size_t)nF * nF + 1))
        return -1;
    if (c->P->q != 2.0 && !face_wgram(c, nF)) {
        if (pn_reserve(c, &c->B, &c->capB, (size_t)nF * nx + 1))
            return -1;
        B = c->B;
        for (int a = 0; a < nF; a++) {
            const double *ar = attsvm__row(P, c->R[c->F[a]]);
            for (int j = 0; j < nx; j++)
                B[(size_t)a * nx + j] = ar[j] * c->sw[j];
        }
    }
    if (c->P->q == 2.0) {
        /* p = 2: H_FF is a block of the cached Gram matrix of the working rows. */
        pn_gram_face(c, nF);
        if (c->nomem)
            return -1;
        if (nF == 0 || p2_cache_direction(c, nF) == 0)
            return 0;
        if (c->nomem)
            return -1;
    } else if (B) {
        attsvm__gram_lower(nF, nx, B, c->H);
    }
    double hmax = 0.0;
    for (int a = 0; a < nF; a++)
        hmax = dmax(hmax, c->P->q == 2.0 ? gram(c, c->F[a], c->F[a]) : c->H[(size_t)a * nF + a]);
    if (pn_reserve(c, &c->Hc, &c->capHc, (size_t)nF * nF + 1))
        return -1;
    double *Hc = c->Hc;
    int ok = -1;
    static const double ridges[] = {0.0, 1e-14, 1e-12, 1e-10, 1e-8, 1e-6};
    for (int t = 0; t < 6 && hmax > 0.0 && isfinite(hmax); t++) {
        double ridge = ridges[t] * hmax;
        if (c->P->q == 2.0) /* p = 2: H_FF is read from G (no copy of its own) */
            for (int a = 0; a < nF; a++)
                for (int b = 0; b <= a; b++)
                    Hc[(size_t)a * nF + b] = gram(c, c->F[a], c->F[b]);
        else
            memcpy(Hc, c->H, sizeof *Hc * (size_t)nF * nF);
        for (int a = 0; a < nF; a++) {
            Hc[(size_t)a * nF + a] += ridge;
            c->d[a] = -c->g[c->F[a]];
        }
        if ((ok = attsvm__chol_solve(nF, Hc, c->d)) == 0) {
            if (c->P->q == 2.0)
                p2_cache_store(c, nF, Hc, ridge);
            break;
        }
    }
    return nF == 0 ? 0 : ok;
}

/* Rounding floors of the residual g_k = a_k.x(mu) - 1.  tol: the floor of
 * evaluating g, eps sqrt(nx) max_k sum_j |a_kj x_j|.  noise: the floor that
 * mu's own rounding allows: rounding mu moves u_j by ~eps sum_k |mu_k a_kj| =:
 * eps U_j, hence x_j by (q-1) eps U_j / |u_j| relative, and g_k by eps times
 * sum_j |a_kj x_j| (1 + (q-1) U_j / |u_j|); kept within [1e-11, 1e-9] so that
 * multipliers running off to infinity on infeasible rows never pass for
 * converged. */
/* The same scales from the generated rows' factored products (no row
 * copies); 0, or -1 when its scratch cannot be allocated. */
static int pn_floors_gen(const attsvm__dn *c, const double *U, double *sc, double *scn)
{
    const int nx = c->P->nx, n = c->nR;
    double *v = malloc(sizeof *v * ((size_t)2 * nx + 1)), *s = malloc(sizeof *s * ((size_t)2 * n + 1));
    if (!v || !s) {
        free(v);
        free(s);
        return -1;
    }
    for (int j = 0; j < nx; j++) {
        v[j] = fabs(c->x[j]);
        v[nx + j] = fabs(c->x[j]) * U[j];
    }
    attsvm__rows_sub_absax(c->P, c->R, n, v, s);
    attsvm__rows_sub_absax(c->P, c->R, n, v + nx, s + n);
    for (int k = 0; k < n; k++) {
        *sc = dmax(*sc, s[k]);
        *scn = dmax(*scn, s[n + k]);
    }
    free(v);
    free(s);
    return 0;
}

static void pn_floors(const attsvm__dn *c, double *tol, double *noise)
{
    const int nx = c->P->nx;
    double *U = c->wt; /* scratch: the Newton weights are recomputed after */
    if (attsvm__rows_sub_abs(c->P, c->R, c->nR, c->mu, U) != 0) {
        for (int j = 0; j < nx; j++)
            U[j] = 0.0;
        for (int k = 0; k < c->nR; k++) {
            const double *a = attsvm__row(c->P, c->R[k]);
            for (int j = 0; j < nx && c->mu[k] != 0.0; j++)
                U[j] += fabs((double)c->mu[k] * a[j]);
        }
    }
    for (int j = 0; j < nx; j++)
        U[j] = c->u[j] != 0.0 ? 1.0 + fabs(c->P->q - 1.0) * U[j] / fabs(c->u[j]) : 1.0;
    double sc = 0.0, scn = 0.0;
    const int factored = c->P->gen && pn_floors_gen(c, U, &sc, &scn) == 0;
    for (int k = 0; k < c->nR && !factored; k++) {
        const double *a = attsvm__row(c->P, c->R[k]);
        double s1 = 0.0, s2 = 0.0;
        for (int j = 0; j < nx; j++) {
            s1 += fabs(a[j] * c->x[j]);
            s2 += fabs(a[j] * c->x[j]) * U[j];
        }
        sc = dmax(sc, s1);
        scn = dmax(scn, s2);
    }
    *tol = dmax(1e-14, 2.2e-16 * sc * sqrt((double)nx));
    *noise = fmin(1e-9, dmax(1e-11, 2.2e-16 * scn * sqrt((double)nx)));
}

static int cmp_ll(const void *a, const void *b)
{
    const long long x = *(const long long *)a, y = *(const long long *)b;
    return (x > y) - (x < y);
}

/* Generated W rows, p != 2: the face in order of the rows' samples (then of
 * the working rows), so that attsvm__rows_wgram writes H front to back (the
 * order of F is the Newton system's, any order solves it; measured at rung 2,
 * p = 1.5: a third less time in the weighted Gram matrix). */
static void face_by_sample(attsvm__dn *c, int nF)
{
    const attsvm__prob *P = c->P;
    if (!P->gen || P->q == 2.0 || P->group < 1 || nF < 2)
        return;
    long long *key = c->fkey;
    const long long g = P->group, cap = c->nR;
    for (int b = 0; b < nF; b++)
        key[b] = c->R[c->F[b]] / g * cap + c->F[b];
    qsort(key, (size_t)nF, sizeof *key, cmp_ll);
    for (int b = 0; b < nF; b++)
        c->F[b] = (int)(key[b] % cap);
}

/* The Newton direction on the face of free rows: rows at 0 the step would
 * push negative leave the face, and the direction is recomputed.  Returns
 * the face's size, or -1 (no direction). */
static int face_direction(attsvm__dn *c)
{
    int nF = 0, again = 1;
    while (again) {
        nF = 0;
        for (int k = 0; k < c->nR; k++)
            if (c->fr[k])
                c->F[nF++] = k;
        face_by_sample(c, nF);
        if (pn_direction(c, nF))
            return -1;
        again = 0;
        for (int b = 0; b < nF; b++)
            if (c->mu[c->F[b]] == 0.0 && c->d[b] < 0.0) {
                c->fr[c->F[b]] = 0;
                again = 1;
            }
    }
    return nF;
}

/* A step along the face direction d, into (mu2, u2, x2, g2). */
typedef struct {
    int accepted, proj, hit, block;
    double f2;
} dn_step;

/* Projected step (Bertsekas) of length a: every multiplier the step drives
 * below 0 stops at 0 at once, instead of one face change per Newton step;
 * kept only if it decreases f by a fraction of its linear model along the
 * projected arc. */
static int projected_step(attsvm__dn *c, int nF, double pg, double a, double *f2)
{
    double lin = 0.0;
    memcpy(c->mu2, c->mu, sizeof *c->mu2 * (size_t)c->nR);
    for (int b = 0; b < nF; b++) {
        int k = c->F[b];
        const long double t = c->mu[k] + (long double)a * c->d[b];
        c->mu2[k] = t > 0.0L ? t : 0.0L;
        lin += c->g[k] * (double)(c->mu2[k] - c->mu[k]);
    }
    return lin < 0.0 && pn_eval(c, c->mu2, c->u2, c->x2, c->g2, f2) == 0 &&
           pn_decrease(c, *f2, lin, pg);
}

/* The ratio test (the first multiplier that reaches 0 blocks), the
 * projected step when one does, else Armijo backtracking on f = -D. */
static dn_step try_step(attsvm__dn *c, int nF, double pg)
{
    double amax = INFINITY, slope = 0.0;
    dn_step st = {0, 0, 0, -1, 0.0};
    for (int b = 0; b < nF; b++) {
        int k = c->F[b];
        slope += c->g[k] * c->d[b];
        if (c->d[b] < 0.0 && (double)(-c->mu[k] / c->d[b]) < amax) {
            amax = (double)(-c->mu[k] / c->d[b]);
            st.block = b;
        }
    }
    double a = fmin(1.0, amax);
    st.hit = amax <= 1.0;
    /* The projected arc from the full step down to the first blocking
     * multiplier (beyond it the arc is the ray of the ratio test below). */
    for (double ap = 1.0; st.hit && ap > amax && !st.accepted; ap *= 0.5)
        if (projected_step(c, nF, pg, ap, &st.f2))
            st.accepted = st.proj = 1;
    for (int ls = 0; ls < 60 && !st.accepted; ls++) {
        memcpy(c->mu2, c->mu, sizeof *c->mu2 * (size_t)c->nR);
        for (int b = 0; b < nF; b++) {
            int k = c->F[b];
            const long double t = c->mu[k] + (long double)a * c->d[b];
            c->mu2[k] = t > 0.0L ? t : 0.0L;
        }
        if (st.hit && st.block >= 0)
            c->mu2[c->F[st.block]] = 0.0;
        if (pn_eval(c, c->mu2, c->u2, c->x2, c->g2, &st.f2) == 0 &&
            pn_decrease(c, st.f2, a * slope, pg))
            st.accepted = 1;
        if (!st.accepted) {
            a *= 0.5;
            st.hit = 0;
        }
    }
    return st;
}

/* Take the accepted step: rows it stopped at 0 leave the face, sign flips
 * of u are remembered (pn_weights), the trial point becomes the point. */
static void accept_step(attsvm__dn *c, int nF, const dn_step *st)
{
    if (st->proj) {
        for (int b = 0; b < nF; b++)
            if (c->mu2[c->F[b]] == 0.0)
                c->fr[c->F[b]] = 0;
    } else if (st->hit && st->block >= 0)
        c->fr[c->F[st->block]] = 0;
    for (int j = 0; j < c->P->nx; j++) {
        if (c->u[j] * c->u2[j] < 0.0)
            c->flip[j] = (char)c->flipmem;
        else if (c->flip[j] > 0)
            c->flip[j]--;
    }
    long double *tm = c->mu;
    c->mu = c->mu2, c->mu2 = tm;
    double *t;
    t = c->u, c->u = c->u2, c->u2 = t;
    t = c->x, c->x = c->x2, c->x2 = t;
    t = c->g, c->g = c->g2, c->g2 = t;
    c->f = st->f2;
}

/* The projected gradient's parts on the free face (pgF) and at the bound
 * (pg0, rows at 0 whose gradient asks them to grow). */
static void pg_parts(const attsvm__dn *c, double *pgF, double *pg0)
{
    *pgF = *pg0 = 0.0;
    for (int k = 0; k < c->nR; k++) {
        if (c->fr[k])
            *pgF = dmax(*pgF, fabs(c->g[k]));
        else
            *pg0 = dmax(*pg0, -c->g[k]);
    }
}

static double sum_mu(const attsvm__dn *c)
{
    double smu = 0.0;
    for (int k = 0; k < c->nR; k++)
        smu += (double)c->mu[k];
    return smu;
}

/* Active-set Newton on the working set (a face method for the bound
 * constraints mu >= 0): Newton steps on the free face F = {mu_k > 0} with a
 * ratio test that stops at the first multiplier reaching 0 (which then
 * leaves F), and rows at 0 whose gradient asks to grow (g_k < 0) join F once
 * the face is nearly solved.  Armijo backtracking on f = -D keeps every step
 * an ascent of the dual.  0 converged, 1 diverging (sum(mu) blows up: the
 * rows look infeasible), -1 stalled. */
/* A point with a working row violated by more than 1e-6 (g_k = a_k.x - 1)
 * is no solution, however small its projected gradient is relative to the
 * multipliers: they ran off along a Farkas direction (a p = 2 start blown up
 * by parallel rows). */
static int working_rows_violated(const attsvm__dn *c)
{
    for (int k = 0; k < c->nR; k++)
        if (c->g[k] < -1e-6)
            return 1;
    return 0;
}

int attsvm__dn_solve(attsvm__dn *c, int maxit, attsvm__out *o)
{
    double tol = 1e-14, noise = 1e-11, best = INFINITY;
    int stale = 0, rc = -1;
    const double mu0 = sum_mu(c);
    if (pn_eval(c, c->mu, c->u, c->x, c->g, &c->f))
        return -1;
    for (int k = 0; k < c->nR; k++)
        c->fr[k] = c->mu[k] > 0.0 || c->g[k] < 0.0;
    for (int it = 0; it < maxit; it++) {
        double pgF, pg0;
        pg_parts(c, &pgF, &pg0);
        const double pg = dmax(pgF, pg0);
        if (pg <= 1e-6)
            pn_floors(c, &tol, &noise);
        if (pgF <= tol && pg0 <= tol) {
            rc = 0;
            break;
        }
        /* Stagnation (no halving in 4 steps) below noise counts as converged. */
        if (pg < 0.5 * best) {
            best = pg;
            stale = 0;
        } else if (++stale >= 4 && best <= noise) {
            rc = 0;
            break;
        }
        if (pg0 > tol && pgF <= dmax(tol, 0.1 * pg0)) {
            for (int k = 0; k < c->nR; k++)
                if (!c->fr[k] && c->g[k] < -tol)
                    c->fr[k] = 1;
            continue;
        }
        pn_weights(c);
        for (int j = 0; j < c->P->nx; j++)
            c->sw[j] = sqrt(c->wt[j]);
        const int nF = face_direction(c);
        if (nF < 0)
            return -1;
        const dn_step st = try_step(c, nF, pg);
        o->newton_iterations++;
        if (!st.accepted) {
            rc = pg <= noise ? 0 : -1;
            break;
        }
        accept_step(c, nF, &st);
        const double smu = sum_mu(c);
        if (!isfinite(smu) || smu > c->divlim * dmax(mu0, 1e-300)) {
            rc = 1;
            break;
        }
        if (it + 1 == maxit)
            rc = pn_pgnorm(c, c->mu, c->g) <= noise ? 0 : -1;
    }
    return rc == 0 && working_rows_violated(c) ? -1 : rc;
}

/* Scale mu by the optimal c >= 0 along its ray: D(c mu) = c sum(mu) -
 * c^q ||u||_q^q / q is maximal at c^{q-1} = sum(mu) / ||u||_q^q. */
void attsvm__dn_rescale(attsvm__dn *c)
{
    double f;
    long double smu = 0.0L, sq = 0.0L;
    pn_eval(c, c->mu, c->u, c->x, c->g, &f);
    for (int k = 0; k < c->nR; k++)
        smu += c->mu[k];
    for (int j = 0; j < c->P->nx; j++)
        sq += fabsl((long double)c->u[j] * c->x[j]);
    if (smu > 0 && sq > 0) {
        double s = exp((log((double)smu) - log((double)sq)) / (c->P->q - 1.0));
        if (isfinite(s) && s > 0)
            for (int k = 0; k < c->nR; k++)
                c->mu[k] *= s;
    }
}

void attsvm__dn_add(attsvm__dn *c, const int *rows, int k, const double *mu)
{
    if (pn_grow(c, c->nR + k) != 0)
        return;
    for (int t = 0; t < k; t++) {
        c->R[c->nR] = rows[t];
        c->mu[c->nR] = mu ? dmax(0.0, mu[t]) : 0.0;
        c->inws[rows[t]] = 1;
        c->nR++;
    }
}

/* a . b summed in order (the dense rows' Gram entries of the start). */
static double plain_dot(const double *a, const double *b, int n)
{
    double s = 0.0;
    for (int j = 0; j < n; j++)
        s += a[j] * b[j];
    return s;
}

/* Start from the p = 2 multipliers on R: mu = (A_R A_R^T)^{-1} 1, clipped. */
void attsvm__dn_start_p2(attsvm__dn *c)
{
    const attsvm__prob *P = c->P;
    const int n = c->nR, nx = P->nx;
    if (c->nomem)
        return;
    if (pn_reserve(c, &c->Hc, &c->capHc, (size_t)n * n + 1))
        return;
    double *G = c->Hc, *rhs = c->rhs;
    for (int a = 0; a < n; a++)
        for (int b = 0; b <= a; b++) {
            const double s = P->gen ? attsvm__rows_dot(P, c->R[a], c->R[b])
                                    : plain_dot(attsvm__row(P, c->R[a]), attsvm__row(P, c->R[b]), nx);
            G[(size_t)a * n + b] = G[(size_t)b * n + a] = s + (a == b ? 1e-12 * s : 0.0);
        }
    for (int k = 0; k < n; k++)
        rhs[k] = 1.0;
    if (attsvm__chol_solve(n, G, rhs) != 0)
        for (int k = 0; k < n; k++)
            rhs[k] = 1.0;
    int pos = 0;
    for (int k = 0; k < n; k++)
        pos += (c->mu[k] = dmax(0.0, rhs[k])) > 0.0;
    if (!pos)
        for (int k = 0; k < n; k++)
            c->mu[k] = 1.0;
}


/* ||A_S^T l||_1 / sum_k l_k ||a_{S[k]}||_1 (the Farkas residual of
 * design.md (20)), the product in long double; norm1: the rows' 1-norms. */
static double farkas_residual(attsvm__dn *c, const int *S, int ns, const long double *l,
                              const double *norm1)
{
    attsvm__rows_sub_atmu(c->P, S, ns, l, c->ul);
    long double un = 0.0L, den = 0.0L;
    for (int j = 0; j < c->P->nx; j++)
        un += fabsl(c->ul[j]);
    for (int k = 0; k < ns; k++)
        den += l[k] * norm1[k];
    return den > 0.0L ? (double)(un / den) : INFINITY;
}

/* Candidate l = (G_SS + ridge I)^{-1} 1 clipped at 0 and scaled to sum 1
 * (G in Hc, factored in a copy); 0, or -1 when it does not factor. */
static int farkas_candidate(attsvm__dn *c, int ns, double ridge, long double *l)
{
    double *F = c->H, *y = c->d;
    memcpy(F, c->Hc, sizeof *F * (size_t)ns * ns);
    for (int a = 0; a < ns; a++) {
        F[(size_t)a * ns + a] += ridge;
        y[a] = 1.0;
    }
    if (attsvm__chol_solve(ns, F, y))
        return -1;
    long double sum = 0.0L;
    for (int a = 0; a < ns; a++)
        sum += l[a] = y[a] > 0.0 ? y[a] : 0.0;
    if (!(sum > 0.0L))
        return -1;
    for (int a = 0; a < ns; a++)
        l[a] /= sum;
    return 0;
}

/* One try at the multipliers' Farkas vector: their direction, and with
 * nullvec the null vectors of their rows' Gram matrix.  1, 0, -1 (memory). */
static int farkas_try(attsvm__dn *c, double tol, int nullvec, double *lam)
{
    const attsvm__prob *P = c->P;
    int *S = malloc(sizeof *S * ((size_t)c->nR + 1));
    long double *l = malloc(sizeof *l * ((size_t)c->nR + 1)), mmax = 0.0L, sum = 0.0L;
    double *norm1 = malloc(sizeof *norm1 * ((size_t)c->nR + 1));
    int ns = 0, found = 0;
    if (!S || !l || !norm1)
        goto nomem;
    for (int k = 0; k < c->nR; k++)
        mmax = c->mu[k] > mmax ? c->mu[k] : mmax;
    for (int k = 0; k < c->nR && mmax > 0.0L; k++)
        if (c->mu[k] > 1e-6L * mmax) {
            S[ns] = c->R[k];
            sum += l[ns++] = c->mu[k];
        }
    if (!ns)
        goto out;
    for (int j = 0; j < P->nx; j++)
        c->u2[j] = 1.0;
    if (attsvm__rows_sub_absax(P, S, ns, c->u2, norm1) != 0)
        for (int k = 0; k < ns; k++)
            norm1[k] = attsvm__norm(attsvm__row(P, S[k]), P->nx, 1.0);
    for (int k = 0; k < ns; k++)
        l[k] /= sum;
    found = farkas_residual(c, S, ns, l, norm1) <= tol;
    if (!found && nullvec) {
        if (pn_reserve(c, &c->Hc, &c->capHc, (size_t)ns * ns + 1) ||
            pn_reserve(c, &c->H, &c->capH, (size_t)ns * ns + 1))
            goto nomem;
        double gmax = 0.0;
        for (int a = 0; a < ns; a++) {
            attsvm__rows_dots(P, S[a], S, a + 1, c->g2);
            for (int b = 0; b <= a; b++)
                c->Hc[(size_t)a * ns + b] = c->Hc[(size_t)b * ns + a] = c->g2[b];
            gmax = dmax(gmax, c->g2[a]);
        }
        static const double ridges[] = {1e-14, 1e-12, 1e-10};
        for (int t = 0; t < 3 && !found; t++)
            found = farkas_candidate(c, ns, ridges[t] * gmax, l) == 0 &&
                    farkas_residual(c, S, ns, l, norm1) <= tol;
    }
    if (found) {
        memset(lam, 0, sizeof *lam * (size_t)P->m);
        for (int k = 0; k < ns; k++)
            lam[S[k]] = (double)l[k];
    }
out:
    free(S);
    free(l);
    free(norm1);
    return found;
nomem:
    c->nomem = 1;
    free(S);
    free(l);
    free(norm1);
    return -1;
}

/* Newton steps of one more divergence (dualnewton.h, attsvm__dn_farkas). */
enum { FARKAS_PUSH_STEPS = 50 };

int attsvm__dn_farkas(attsvm__dn *c, double tol, int push, attsvm__out *o, double *lam)
{
    int f = farkas_try(c, tol, 0, lam);
    while (f == 0 && push-- > 0 && attsvm__dn_solve(c, FARKAS_PUSH_STEPS, o) == 1)
        f = farkas_try(c, tol, 0, lam);
    return f == 0 && !c->nomem ? farkas_try(c, tol, 1, lam) : c->nomem ? -1 : f;
}

int attsvm__dn_init(attsvm__dn *c, const attsvm__prob *P)
{
    const int m = P->m, nx = P->nx;
    memset(c, 0, sizeof *c);
    c->P = P;
    c->inws = calloc((size_t)m, 1);
    c->u = malloc(sizeof *c->u * (size_t)nx);
    c->x = malloc(sizeof *c->x * (size_t)nx);
    c->u2 = malloc(sizeof *c->u2 * (size_t)nx);
    c->x2 = malloc(sizeof *c->x2 * (size_t)nx);
    c->wt = malloc(sizeof *c->wt * (size_t)nx);
    c->sw = malloc(sizeof *c->sw * (size_t)nx);
    c->flip = calloc((size_t)nx, 1);
    c->ul = malloc(sizeof *c->ul * (size_t)nx);
    c->flipmem = FLIP_MEMORY;
    if (!c->inws || !c->u || !c->x || !c->u2 || !c->x2 || !c->wt || !c->sw || !c->flip || !c->ul)
        c->nomem = 1;
    return c->nomem ? -1 : 0;
}

void attsvm__dn_free(attsvm__dn *c)
{
    free(c->R);
    free(c->inws);
    free(c->mu);
    free(c->mu2);
    free(c->u);
    free(c->x);
    free(c->u2);
    free(c->x2);
    free(c->g);
    free(c->g2);
    free(c->wt);
    free(c->sw);
    free(c->flip);
    free(c->ul);
    for (int t = 0; t < c->ngl; t++)
        free(c->G[t]);
    free(c->G);
    free(c->gp);
    free(c->gl);
    free(c->glr);
    free(c->Lc);
    free(c->Fc);
    free(c->posF);
    free(c->H);
    free(c->d);
    free(c->F);
    free(c->fkey);
    free(c->fr);
    free(c->in);
    free(c->rhs);
    free(c->B);
    free(c->Hc);
    free(c->rot);
    memset(c, 0, sizeof *c);
}
