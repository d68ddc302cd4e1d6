/* pnorm.c - the l_p SVM for 1 < p < inf: Newton methods, certified.
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
 * violated rows join R (row generation).
 *
 * For p > KKT_P the dual only finds the working set (at p = KKT_P) and a
 * primal-dual Newton method on x and the multipliers continues in p up to p
 * (pn_kkt: the dual map cannot resolve small |x_j| when q is near 1).
 *
 * Optional GLPK phase (settings.lp_phase, off by default, p != 2): the
 * working set and the starting multipliers come from a linear program, the
 * separable piecewise-linear model of (1/p)||x||_p^p solved with row
 * generation by the dual simplex (lp.c).
 *
 * Certificate: lambda = mu.  At the optimum sum(mu) = mu^T A x = u^T x =
 * ||u||_q^q and ||x||_p^p = ||u||_q^q, so UB = LB up to the Newton residual.
 */
#include <math.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* fmax without the library call (GCC keeps fmax out of line at -O2): the
 * larger of a and b, the other one if either is NaN. */
static inline double dmax(double a, double b)
{
    return a > b || b != b ? a : b;
}

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
    char *flip;         /* steps left on majorizing curvature after u_j changed sign (q < 2) */
    int flipmem;        /* FLIP_MEMORY, or FLIP_STICKY after a stall */
    double *G;          /* p = 2: Gram matrix of the working rows (ld ldG) */
    double *Lc;         /* p = 2: Cholesky factor of G_FcFc + rhoc I (ld ldL) */
    int *Fc, *posF;     /* its rows (working-row indices) and their positions (-1: not in) */
    int nFc, ldL, nupd; /* nFc = 0: no factor cached; nupd: updates since the last refactor */
    double rhoc;
    long double *ul;    /* nx accumulators of pn_eval */
    double divlim;      /* growth of sum(mu) within one solve taken for divergence */
    int ldG;
    char *gh;           /* p = 2: G's row and column of this working row are computed */
    int *gl, ngl, ngh;  /* the rows with gh = 1; gh is initialized up to ngh */
    int nomem;          /* an allocation failed: the solve ends with ATTSVM_NOMEM */
} pn_ctx;

/* realloc that keeps *p on failure and records it in c->nomem. */
static void pn_realloc(pn_ctx *c, void *pp, size_t bytes)
{
    void **p = pp;
    void *q = c->nomem ? NULL : realloc(*p, bytes ? bytes : 1);
    if (q)
        *p = q;
    else
        c->nomem = 1;
}

/* Room for cap working rows (the per-row arrays and the cap x cap H);
 * 0, or -1 with c->nomem set. */
static int pn_grow(pn_ctx *c, int cap)
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
    if ((double)n * n * sizeof *c->H > (double)SIZE_MAX / 2)
        c->nomem = 1;
    else
        pn_realloc(c, &c->H, sizeof *c->H * n * n);
    if (c->nomem)
        return -1;
    c->capR = cap;
    return 0;
}

/* u, x(u), f and g at mu (x = sign(u)|u|^{q-1}, the inverse mirror map). */
static int pn_eval(const pn_ctx *c, const long double *mu, double *u, double *x, double *g,
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
    if (q != 2.0) {
        long double *ul = c->ul;
        for (int j = 0; j < nx; j++)
            ul[j] = 0.0L;
        for (int k = 0; k < c->nR; k++) {
            if (mu[k] == 0.0)
                continue;
            const double *a = P->A + (size_t)c->R[k] * nx;
            const long double mk = mu[k];
            smu += mk;
            for (int j = 0; j < nx; j++)
                ul[j] += mk * a[j];
        }
        for (int j = 0; j < nx; j++)
            u[j] = (double)ul[j];
    } else {
        for (int j = 0; j < nx; j++)
            u[j] = 0.0;
        for (int k = 0; k < c->nR; k++) {
            if (mu[k] == 0.0)
                continue;
            const double *a = P->A + (size_t)c->R[k] * nx;
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
    for (int k = 0; k < c->nR; k++)
        g[k] = (double)(attsvm__dotl(P->A + (size_t)c->R[k] * nx, x, nx) - 1.0L);
    *f = (double)(sq / q - smu);
    return isfinite(*f) ? 0 : -1;
}

/* Projected-gradient norm: max_r |mu_r - max(0, mu_r - g_r)|. */
static double pn_pgnorm(const pn_ctx *c, const long double *mu, const double *g)
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
static int pn_decrease(const pn_ctx *c, double f2, double lin, double pg)
{
    if (f2 <= c->f + 1e-4 * lin)
        return 1;
    const double noise = 1e-12 * dmax(1.0, fabs(c->f));
    return (pg < 1e-6 || -lin < noise) && pn_pgnorm(c, c->mu2, c->g2) < pg;
}

enum { FLIP_MEMORY = 3, FLIP_STICKY = 120 };

/* Above this p the dual Newton only finds the working set (at p = KKT_P):
 * measured at 950 x 400, the dual's last steps lose accuracy as q -> 1 (gap
 * 2e-13 at p = 4, 9e-11 at p = 4.5) and time (0.3 s at p = 4, 8 s at p = 5),
 * while the primal-dual Newton takes ~1 s for any p in 4.5 .. 8. */
#define KKT_P 4.0
/* pn_kkt's steps per continuation stage before the interior-point method
 * takes over (a stage whose active set is right converges in a few). */
#define KKT_STEPS 15

/* Newton weights wt_j = (q-1)|u_j|^{q-2}, floored where q < 2 lets them blow
 * up at u_j = 0.  For q < 2 the map u -> |u|^{q-1} is concave, Newton
 * overshoots through 0 (on |u|^q/q alone it maps u to (q-2)u/(q-1): a 2-cycle
 * at q = 1.5), so a coordinate whose sign has flipped gets the majorizing
 * curvature |u_j|^{q-2} for the next FLIP_MEMORY steps instead ((u^2)^{q/2} is concave
 * in u^2, the IRLS bound): still a descent step, and no oscillation.  If Newton
 * still stalls, the round is retried with the bound kept for good (linear
 * but sure convergence, FLIP_STICKY). */
static void pn_weights(const pn_ctx *c)
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

/* Lower triangle (mirrored) of H = B B^T, B n x nx row-major: blocks of 4 x 2
 * rows, dot products on pairs of columns in 128-bit vectors (GCC/Clang vector
 * extension: 8 vector accumulators and 6 loads fit the 16 SSE registers). */
typedef double v2d __attribute__((vector_size(16)));

static inline v2d ld2(const double *p)
{
    v2d v;
    memcpy(&v, p, sizeof v);
    return v;
}

static void gram_lower(int n, int nx, const double *B, double *H)
{
    const int nx2 = nx & ~1;
    for (int a = 0; a < n; a += 4) {
        const double *ar[4];
        for (int i = 0; i < 4; i++)
            ar[i] = B + (size_t)(a + i < n ? a + i : a) * nx;
        for (int b = 0; b <= a + 3 && b < n; b += 2) {
            const double *b0 = B + (size_t)b * nx, *b1 = b + 1 < n ? b0 + nx : b0;
            const double *x0 = ar[0], *x1 = ar[1], *x2 = ar[2], *x3 = ar[3];
            v2d s00 = {0, 0}, s01 = s00, s10 = s00, s11 = s00, s20 = s00, s21 = s00, s30 = s00,
                s31 = s00;
            for (int j = 0; j < nx2; j += 2) {
                const v2d y0 = ld2(b0 + j), y1 = ld2(b1 + j);
                v2d xi = ld2(x0 + j);
                s00 += xi * y0;
                s01 += xi * y1;
                xi = ld2(x1 + j);
                s10 += xi * y0;
                s11 += xi * y1;
                xi = ld2(x2 + j);
                s20 += xi * y0;
                s21 += xi * y1;
                xi = ld2(x3 + j);
                s30 += xi * y0;
                s31 += xi * y1;
            }
            const v2d s[4][2] = {{s00, s01}, {s10, s11}, {s20, s21}, {s30, s31}};
            for (int i = 0; i < 4 && a + i < n; i++)
                for (int k = 0; k < 2 && b + k < n && b + k <= a + i; k++) {
                    double v = s[i][k][0] + s[i][k][1];
                    if (nx2 < nx)
                        v += ar[i][nx2] * (k ? b1 : b0)[nx2];
                    H[(size_t)(a + i) * n + b + k] = H[(size_t)(b + k) * n + a + i] = v;
                }
        }
    }
}

/* Entries of the Gram matrix G = A_R A_R^T are computed for the rows that
 * have been in a face (G[a][b] is valid when both a and b have been): rows
 * that never leave 0 cost nothing. */
static void pn_gram_face(pn_ctx *c, int nF)
{
    const int nx = c->P->nx;
    if (c->ldG < c->capR) {
        double *G = malloc(sizeof *G * (size_t)c->capR * c->capR);
        pn_realloc(c, &c->gh, (size_t)c->capR);
        pn_realloc(c, &c->gl, sizeof *c->gl * (size_t)c->capR);
        if (!G || c->nomem) {
            free(G);
            c->nomem = 1;
            return;
        }
        for (int a = 0; a < c->ldG; a++)
            memcpy(G + (size_t)a * c->capR, c->G + (size_t)a * c->ldG, sizeof *G * (size_t)c->ldG);
        free(c->G);
        c->G = G;
        c->ldG = c->capR;
    }
    for (int k = c->ngh; k < c->nR; k++)
        c->gh[k] = 0;
    c->ngh = c->nR;
    for (int f = 0; f < nF; f++) {
        const int a = c->F[f];
        if (c->gh[a])
            continue;
        c->gh[a] = 1;
        c->gl[c->ngl++] = a;
        const double *ra = c->P->A + (size_t)c->R[a] * nx;
        for (int t = 0; t < c->ngl; t++) {
            const int b = c->gl[t];
            const double *rb = c->P->A + (size_t)c->R[b] * nx;
            v2d s0 = {0, 0}, s1 = s0;
            int j = 0;
            for (; j + 3 < nx; j += 4) {
                s0 += ld2(ra + j) * ld2(rb + j);
                s1 += ld2(ra + j + 2) * ld2(rb + j + 2);
            }
            double v = (s0[0] + s1[0]) + (s0[1] + s1[1]);
            for (; j < nx; j++)
                v += ra[j] * rb[j];
            c->G[(size_t)a * c->ldG + b] = c->G[(size_t)b * c->ldG + a] = v;
        }
    }
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
static void p2_cache_reserve(pn_ctx *c)
{
    if (c->ldL >= c->capR)
        return;
    double *L = malloc(sizeof *L * (size_t)c->capR * c->capR);
    int *posF = malloc(sizeof *posF * (size_t)c->capR);
    pn_realloc(c, &c->Fc, sizeof *c->Fc * (size_t)c->capR);
    if (!L || !posF || c->nomem) {
        free(L);
        free(posF);
        c->nomem = 1;
        return;
    }
    for (int r = 0; r < c->nFc; r++)
        memcpy(L + (size_t)r * c->capR, c->Lc + (size_t)r * c->ldL, sizeof *L * (size_t)(r + 1));
    free(c->Lc);
    c->Lc = L;
    c->ldL = c->capR;
    free(c->posF);
    c->posF = posF;
}

/* Delete row/column i of the n x n factor L (ld): the rows below move up, and
 * the trailing block absorbs the deleted column v: L33' L33'^T = L33 L33^T + v v^T. */
static void chol_delete(double *L, int ld, int n, int i, double *v)
{
    for (int r = i + 1; r < n; r++) {
        const double *src = L + (size_t)r * ld;
        double *dst = L + (size_t)(r - 1) * ld;
        v[r - 1] = src[i];
        memmove(dst, src, sizeof *dst * (size_t)i);
        memmove(dst + i, src + i + 1, sizeof *dst * (size_t)(r - i));
    }
    for (int k = i; k < n - 1; k++) {
        double *lk = L + (size_t)k * ld;
        const double a = lk[k], r = hypot(a, v[k]), cc = r / a, sn = v[k] / a;
        lk[k] = r;
        for (int m = k + 1; m < n - 1; m++) {
            double *lm = L + (size_t)m * ld;
            lm[k] = (lm[k] + sn * v[m]) / cc;
            v[m] = cc * v[m] - sn * lm[k];
        }
    }
}

static void p2_cache_store(pn_ctx *c, int nF, const double *Hc, double rho)
{
    p2_cache_reserve(c);
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

/* Bring the cached factor to the face F and solve for the direction: 0, or
 * -1 (cache dropped: factor afresh). */
static int p2_cache_direction(pn_ctx *c, int nF)
{
    if (c->nFc <= 0 || c->nupd >= 64)
        return -1;
    p2_cache_reserve(c);
    if (c->nomem)
        return -1;
    for (int k = 0; k < c->nR; k++)
        c->posF[k] = -1;
    for (int i = 0; i < c->nFc; i++)
        c->posF[c->Fc[i]] = i;
    char *in = calloc((size_t)c->nR + 1, 1);
    for (int a = 0; a < nF; a++)
        in[c->F[a]] = 1;
    int nrem = 0, nadd = 0;
    for (int i = 0; i < c->nFc; i++)
        nrem += !in[c->Fc[i]];
    for (int a = 0; a < nF; a++)
        nadd += c->posF[c->F[a]] < 0;
    if (nrem + nadd > nF / 4 + 8) {
        free(in);
        return -1;
    }
    double *v = c->g2 /* scratch of capR entries, free here */;
    for (int i = c->nFc - 1; i >= 0; i--)
        if (!in[c->Fc[i]]) {
            chol_delete(c->Lc, c->ldL, c->nFc, i, v);
            memmove(c->Fc + i, c->Fc + i + 1, sizeof *c->Fc * (size_t)(c->nFc - i - 1));
            c->nFc--;
        }
    free(in);
    for (int k = 0; k < c->nR; k++)
        c->posF[k] = -1;
    for (int i = 0; i < c->nFc; i++)
        c->posF[c->Fc[i]] = i;
    for (int a = 0; a < nF; a++) {
        const int k = c->F[a];
        if (c->posF[k] >= 0)
            continue;
        const int n = c->nFc;
        double *l = c->Lc + (size_t)n * c->ldL, ll = 0.0;
        for (int i = 0; i < n; i++) {
            const double *li = c->Lc + (size_t)i * c->ldL;
            double t = c->G[(size_t)c->Fc[i] * c->ldG + k];
            for (int j = 0; j < i; j++)
                t -= li[j] * l[j];
            l[i] = t / li[i];
            ll += l[i] * l[i];
        }
        const double gkk = c->G[(size_t)k * c->ldG + k] + c->rhoc, dd = gkk - ll;
        if (!(dd > 1e-12 * gkk)) {
            c->nFc = 0;
            return -1;
        }
        l[n] = sqrt(dd);
        c->Fc[n] = k;
        c->posF[k] = n;
        c->nFc++;
    }
    c->nupd += nrem + nadd;
    /* L L^T y = -g in the cache's order, then d in F's order. */
    const int n = c->nFc;
    double *y = c->g2;
    for (int i = 0; i < n; i++) {
        const double *li = c->Lc + (size_t)i * c->ldL;
        double t = -c->g[c->Fc[i]];
        for (int j = 0; j < i; j++)
            t -= li[j] * y[j];
        y[i] = t / li[i];
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

/* Newton step on the face F: H_FF d = -g_F, H = A_F diag(wt) A_F^T.  0 or -1. */
static int pn_direction(pn_ctx *c, int nF)
{
    const attsvm__prob *P = c->P;
    const int nx = P->nx;
    double *B = NULL;
    if (c->P->q != 2.0) {
        if (!(B = malloc(sizeof *B * ((size_t)nF * nx + 1)))) {
            c->nomem = 1;
            return -1;
        }
        for (int a = 0; a < nF; a++) {
            const double *ar = P->A + (size_t)c->R[c->F[a]] * nx;
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
        for (int a = 0; a < nF; a++)
            for (int b = 0; b <= a; b++)
                c->H[(size_t)a * nF + b] = c->H[(size_t)b * nF + a] =
                    c->G[(size_t)c->F[a] * c->ldG + c->F[b]];
    } else {
        gram_lower(nF, nx, B, c->H);
    }
    double hmax = 0.0;
    for (int a = 0; a < nF; a++)
        hmax = dmax(hmax, c->H[(size_t)a * nF + a]);
    free(B);
    double *Hc = malloc(sizeof *Hc * ((size_t)nF * nF + 1));
    if (!Hc) {
        c->nomem = 1;
        return -1;
    }
    int ok = -1;
    static const double ridges[] = {0.0, 1e-14, 1e-12, 1e-10, 1e-8, 1e-6};
    for (int t = 0; t < 6 && hmax > 0.0 && isfinite(hmax); t++) {
        double ridge = ridges[t] * hmax;
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
    free(Hc);
    return nF == 0 ? 0 : ok;
}

/* Rounding floors of the residual g_k = a_k.x(mu) - 1.  tol: the floor of
 * evaluating g, eps sqrt(nx) max_k sum_j |a_kj x_j|.  noise: the floor that
 * mu's own rounding allows: rounding mu moves u_j by ~eps sum_k |mu_k a_kj| =:
 * eps U_j, hence x_j by (q-1) eps U_j / |u_j| relative, and g_k by eps times
 * sum_j |a_kj x_j| (1 + (q-1) U_j / |u_j|); kept within [1e-11, 1e-9] so that
 * multipliers running off to infinity on infeasible rows never pass for
 * converged. */
static void pn_floors(const pn_ctx *c, double *tol, double *noise)
{
    const int nx = c->P->nx;
    double *U = c->wt; /* scratch: the Newton weights are recomputed after */
    for (int j = 0; j < nx; j++)
        U[j] = 0.0;
    for (int k = 0; k < c->nR; k++) {
        const double *a = c->P->A + (size_t)c->R[k] * nx;
        for (int j = 0; j < nx && c->mu[k] != 0.0; j++)
            U[j] += fabs((double)c->mu[k] * a[j]);
    }
    for (int j = 0; j < nx; j++)
        U[j] = c->u[j] != 0.0 ? 1.0 + fabs(c->P->q - 1.0) * U[j] / fabs(c->u[j]) : 1.0;
    double sc = 0.0, scn = 0.0;
    for (int k = 0; k < c->nR; k++) {
        const double *a = c->P->A + (size_t)c->R[k] * nx;
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

/* Active-set Newton on the working set (a face method for the bound
 * constraints mu >= 0): Newton steps on the free face F = {mu_k > 0} with a
 * ratio test that stops at the first multiplier reaching 0 (which then
 * leaves F), and rows at 0 whose gradient asks to grow (g_k < 0) join F once
 * the face is nearly solved.  Armijo backtracking on f = -D keeps every step
 * an ascent of the dual.  0 converged, 1 diverging (sum(mu) blows up: the
 * rows look infeasible), -1 stalled. */
static int pn_solve(pn_ctx *c, int maxit, attsvm__out *o)
{
    double tol = 1e-14, noise = 1e-11, best = INFINITY;
    int stale = 0;
    double mu0 = 0.0;
    for (int k = 0; k < c->nR; k++)
        mu0 += (double)c->mu[k];
    if (pn_eval(c, c->mu, c->u, c->x, c->g, &c->f))
        return -1;
    char *free_ = malloc((size_t)c->nR + 1);
    if (!free_) {
        c->nomem = 1;
        return -1;
    }
    for (int k = 0; k < c->nR; k++)
        free_[k] = c->mu[k] > 0.0 || c->g[k] < 0.0;
    int rc = -1;
    for (int it = 0; it < maxit; it++) {
        double pgF = 0.0, pg0 = 0.0;
        for (int k = 0; k < c->nR; k++) {
            if (free_[k])
                pgF = dmax(pgF, fabs(c->g[k]));
            else
                pg0 = dmax(pg0, -c->g[k]);
        }
        if (dmax(pgF, pg0) <= 1e-6)
            pn_floors(c, &tol, &noise);
        if (pgF <= tol && pg0 <= tol) {
            rc = 0;
            break;
        }
        /* Stagnation (no halving in 4 steps) below noise counts as converged. */
        if (dmax(pgF, pg0) < 0.5 * best) {
            best = dmax(pgF, pg0);
            stale = 0;
        } else if (++stale >= 4 && best <= noise) {
            rc = 0;
            break;
        }
        if (pg0 > tol && pgF <= dmax(tol, 0.1 * pg0)) {
            for (int k = 0; k < c->nR; k++)
                if (!free_[k] && c->g[k] < -tol)
                    free_[k] = 1;
            continue;
        }
        pn_weights(c);
        for (int j = 0; j < c->P->nx; j++)
            c->sw[j] = sqrt(c->wt[j]);
        int nF = 0, again = 1;
        while (again) {
            nF = 0;
            for (int k = 0; k < c->nR; k++)
                if (free_[k])
                    c->F[nF++] = k;
            if (pn_direction(c, nF)) {
                free(free_);
                return -1;
            }
            /* Rows at 0 the step would push negative leave the face. */
            again = 0;
            for (int b = 0; b < nF; b++)
                if (c->mu[c->F[b]] == 0.0 && c->d[b] < 0.0) {
                    free_[c->F[b]] = 0;
                    again = 1;
                }
        }
        double amax = INFINITY, slope = 0.0;
        int block = -1;
        for (int b = 0; b < nF; b++) {
            int k = c->F[b];
            slope += c->g[k] * c->d[b];
            if (c->d[b] < 0.0 && (double)(-c->mu[k] / c->d[b]) < amax) {
                amax = (double)(-c->mu[k] / c->d[b]);
                block = b;
            }
        }
        double a = fmin(1.0, amax), f2 = 0.0;
        int accepted = 0, hit = amax <= 1.0, proj = 0;
        double pg = dmax(pgF, pg0);
        if (hit) {
            /* Projected full step (Bertsekas): every multiplier the step
             * drives below 0 stops at 0 at once, instead of one face change
             * per Newton step; kept only if it decreases f by a fraction of
             * its linear model along the projected arc. */
            double lin = 0.0;
            memcpy(c->mu2, c->mu, sizeof *c->mu2 * (size_t)c->nR);
            for (int b = 0; b < nF; b++) {
                int k = c->F[b];
                const long double t = c->mu[k] + c->d[b];
                c->mu2[k] = t > 0.0L ? t : 0.0L;
                lin += c->g[k] * (double)(c->mu2[k] - c->mu[k]);
            }
            if (lin < 0.0 && pn_eval(c, c->mu2, c->u2, c->x2, c->g2, &f2) == 0 &&
                pn_decrease(c, f2, lin, pg))
                accepted = proj = 1;
        }
        for (int ls = 0; ls < 60 && !accepted; ls++) {
            memcpy(c->mu2, c->mu, sizeof *c->mu2 * (size_t)c->nR);
            for (int b = 0; b < nF; b++) {
                int k = c->F[b];
                const long double t = c->mu[k] + (long double)a * c->d[b];
                c->mu2[k] = t > 0.0L ? t : 0.0L;
            }
            if (hit && block >= 0)
                c->mu2[c->F[block]] = 0.0;
            if (pn_eval(c, c->mu2, c->u2, c->x2, c->g2, &f2) == 0 &&
                pn_decrease(c, f2, a * slope, pg))
                accepted = 1;
            if (!accepted) {
                a *= 0.5;
                hit = 0;
            }
        }
        o->newton_iterations++;
        if (!accepted) {
            rc = pg <= noise ? 0 : -1;
            break;
        }
        if (proj) {
            for (int b = 0; b < nF; b++)
                if (c->mu2[c->F[b]] == 0.0)
                    free_[c->F[b]] = 0;
        } else if (hit && block >= 0)
            free_[c->F[block]] = 0;
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
        c->f = f2;
        double smu = 0.0;
        for (int k = 0; k < c->nR; k++)
            smu += (double)c->mu[k];
        if (!isfinite(smu) || smu > c->divlim * dmax(mu0, 1e-300)) {
            rc = 1;
            break;
        }
        if (it + 1 == maxit)
            rc = pn_pgnorm(c, c->mu, c->g) <= noise ? 0 : -1;
    }
    free(free_);
    return rc;
}

/* Scale mu by the optimal c >= 0 along its ray: D(c mu) = c sum(mu) -
 * c^q ||u||_q^q / q is maximal at c^{q-1} = sum(mu) / ||u||_q^q. */
static void pn_rescale(pn_ctx *c)
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

static void pn_add(pn_ctx *c, const int *rows, int k, const double *mu)
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

/* Start from the p = 2 multipliers on R: mu = (A_R A_R^T)^{-1} 1, clipped. */
static void pn_start_p2(pn_ctx *c)
{
    const attsvm__prob *P = c->P;
    const int n = c->nR, nx = P->nx;
    if (c->nomem)
        return;
    double *G = malloc(sizeof *G * ((size_t)n * n + 1)), *rhs = malloc(sizeof *rhs * ((size_t)n + 1));
    if (!G || !rhs) {
        free(G);
        free(rhs);
        c->nomem = 1;
        return;
    }
    for (int a = 0; a < n; a++)
        for (int b = 0; b <= a; b++) {
            const double *ra = P->A + (size_t)c->R[a] * nx, *rb = P->A + (size_t)c->R[b] * nx;
            double s = 0.0;
            for (int j = 0; j < nx; j++)
                s += ra[j] * rb[j];
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
    free(rhs);
    if (!pos)
        for (int k = 0; k < n; k++)
            c->mu[k] = 1.0;
    free(G);
}

/* Large p: Newton on the primal-dual optimality conditions.
 *
 * For q near 1 the dual map x = sign(u)|u|^{q-1} resolves a small |x_j| only
 * to ~ (eps ||u||)^{1/(p-1)} (p = 7: 1e-3 of max|x|), so the dual Newton
 * stalls far from the optimum.  Here x itself is the variable: on the working
 * rows S the conditions of min (1/p)||x||_p^p s.t. A_S x = 1 are
 *     F(x, nu) = [ sign(x)|x/s|^{p-1} - A_S^T nu ;  A_S x - 1 ] = 0
 * (the gradient divided by s^{p-1}, s = max|x| at the start: the multipliers
 * lambda = s^{p-1} nu could overflow for large p, and the certificate's lower
 * bound sum(lambda)/||A^T lambda||_q does not change when lambda is scaled).
 * Newton steps solve the (nx + |S|) KKT system by LU, damped by backtracking
 * on ||F||_2.  Rows whose nu turns negative leave S, violated rows outside S
 * join it (row generation). */
typedef struct {
    const attsvm__prob *P;
    double p, s;
    int *S, nS;
    char *inws;
    int maxit;          /* Newton steps allowed */
    int nomem;          /* an allocation failed (the solve ends with ATTSVM_NOMEM) */
} pn_kkt_sys;

/* F(x, nu) into F; returns ||F||_2.  *r1, *r2: max |F| of the two blocks,
 * *gx: max |x/s|^{p-1} (the scale of the first block). */
static double kkt_res(const pn_kkt_sys *K, const double *x, const double *nu, double *F,
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
            v -= (long double)nu[k] * P->A[(size_t)K->S[k] * nx + j];
        F[j] = (double)v;
        *r1 = dmax(*r1, fabs(F[j]));
        ss += v * v;
    }
    for (int k = 0; k < K->nS; k++) {
        const double *a = P->A + (size_t)K->S[k] * nx;
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
static int kkt_scale(pn_kkt_sys *K, const double *x)
{
    K->s = 0.0;
    for (int j = 0; j < K->P->nx; j++)
        K->s = dmax(K->s, fabs(x[j]));
    return K->s > 0.0 && isfinite(K->s) && K->nS > 0 ? 0 : -1;
}

/* Solve stage p from x (nx) and nu (K->nS entries, room for m).  0 converged,
 * -1 stalled. */
static int pn_kkt(pn_kkt_sys *K, double *x, double *nu, attsvm__out *o)
{
    const attsvm__prob *P = K->P;
    const int nx = P->nx, m = P->m;
    const double p = K->p;
    if (kkt_scale(K, x))
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
                t += fabs(nu[k] * P->A[(size_t)K->S[k] * nx + j]);
            sc1 = dmax(sc1, t);
        }
        for (int k = 0; k < K->nS; k++) {
            double t = 0.0;
            for (int j = 0; j < nx; j++)
                t += fabs(P->A[(size_t)K->S[k] * nx + j] * x[j]);
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
            attsvm__rowdots(P, x, ax);
            int k = attsvm__violated_rows(P, ax, K->inws, 1e-13, add);
            if (k == 0) {
                rc = 0;
                break;
            }
            for (t = 0; t < k; t++) {
                K->S[K->nS] = add[t];
                nu[K->nS++] = 0.0;
                K->inws[add[t]] = 1;
            }
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
                touched = P->A[(size_t)K->S[k] * nx + j] != 0.0;
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
                amax = dmax(amax, fabs(P->A[(size_t)K->S[k] * nx + J[a]]));
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
                    const double v = P->A[(size_t)K->S[k] * nx + J[a]];
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

/* A stage's starting point (x, the working rows and their multipliers),
 * kept to rerun the stage. */
typedef struct {
    double *x, *nu;
    int *S, nS;
} kkt_state;

static void kkt_save(const pn_kkt_sys *K, const double *x, const double *nu, kkt_state *b)
{
    memcpy(b->x, x, sizeof *x * (size_t)K->P->nx);
    memcpy(b->nu, nu, sizeof *nu * (size_t)K->nS);
    memcpy(b->S, K->S, sizeof *K->S * (size_t)K->nS);
    b->nS = K->nS;
}

static void kkt_restore(pn_kkt_sys *K, double *x, double *nu, const kkt_state *b)
{
    memset(K->inws, 0, (size_t)K->P->m);
    for (int t = 0; t < b->nS; t++)
        K->inws[K->S[t] = b->S[t]] = 1;
    K->nS = b->nS;
    memcpy(x, b->x, sizeof *x * (size_t)K->P->nx);
    memcpy(nu, b->nu, sizeof *nu * (size_t)b->nS);
}

/* Large p, when the active set of pn_kkt does not settle.  pn_kkt holds
 * every working row at equality and drops the rows whose multiplier turns
 * negative; on real tokens rows then join and leave by the dozen per round
 * and a stage runs out of steps.  A primal-dual interior-point method on
 * the working rows W needs no such guess:
 *     grad f(x) - A_W^T nu = 0,   A_W x - 1 - s = 0,   nu o s = tau,   nu, s > 0
 * (f and its scaling as in pn_kkt), Mehrotra's predictor-corrector, the
 * Newton system reduced to x: (H + A_W^T diag(nu/s) A_W) dx = rhs, SPD, by
 * Cholesky; steps stay inside nu, s > 0 and decrease the residual norm.
 * Rows violated at its end join W.  It returns the active rows (nu_k > s_k,
 * nu scaled by its largest) with their multipliers in K->S / nu, for
 * pn_kkt to polish: 0 converged, -1 not. */
/* g = grad f(x) = sign(x)|x/s|^{p-1} (pn_kkt's scaling); returns max |g_j|. */
static double kkt_grad(const pn_kkt_sys *K, const double *x, double *g)
{
    double gmax = 0.0;
    for (int j = 0; j < K->P->nx; j++) {
        const double v = pow(fabs(x[j]) / K->s, K->p - 1);
        gmax = dmax(gmax, v);
        g[j] = x[j] < 0 ? -v : v;
    }
    return gmax;
}

/* ||F_tau||_2 of the interior-point system at (x, nu, s); g and rd scratch. */
static double ipm_res(const pn_kkt_sys *K, int nW, const double *x, const double *nu,
                      const double *s, double tau, double *rd)
{
    const attsvm__prob *P = K->P;
    const int nx = P->nx;
    long double ss = 0.0L;
    kkt_grad(K, x, rd);
    for (int k = 0; k < nW; k++) {
        const double *a = P->A + (size_t)K->S[k] * nx;
        for (int j = 0; j < nx; j++)
            rd[j] -= nu[k] * a[j];
        const long double rp = attsvm__dotl(a, x, nx) - 1.0L - s[k], rc = (long double)nu[k] * s[k] - tau;
        ss += rp * rp + rc * rc;
    }
    for (int j = 0; j < nx; j++)
        ss += (long double)rd[j] * rd[j];
    return (double)sqrtl(ss);
}

static int pn_ipm(pn_kkt_sys *K, double *x, double *nu, attsvm__out *o)
{
    const attsvm__prob *P = K->P;
    const int nx = P->nx, m = P->m;
    const double p = K->p;
    if (kkt_scale(K, x))
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
    attsvm__rowdots(P, x, ax);
    int k0 = attsvm__violated_rows(P, ax, K->inws, 1e-13, add);
    for (int t = 0; t < k0; t++) {
        K->S[nW] = add[t];
        nu[nW++] = 0.0;
        K->inws[add[t]] = 1;
    }
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
            memcpy(AW + (size_t)k * nx, P->A + (size_t)K->S[k] * nx, sizeof *AW * (size_t)nx);
        gram_lower(nW, nx, AW, G);
        double gd = 0.0;
        for (int k = 0; k < nW; k++)
            gd = dmax(gd, G[(size_t)k * nW + k]);
        for (int k = 0; k < nW; k++)
            G[(size_t)k * nW + k] += 1e-10 * gd;
        kkt_grad(K, x, rd);
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
                const double *a = P->A + (size_t)K->S[k] * nx;
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
        double mu = 0.0, rdmax = 0.0, rpmax = 0.0, cmax = 0.0, gmax = dmax(1.0, kkt_grad(K, x, rd));
        for (int j = 0; j < nx; j++)
            h[j] = (p - 1) * pow(fabs(x[j]) / K->s, p - 2) / K->s;
        numax = 0.0;
        memset(h2, 0, sizeof *h2 * (size_t)nx);
        for (int k = 0; k < nW; k++) {
            const double *a = P->A + (size_t)K->S[k] * nx;
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
            attsvm__rowdots(P, x, ax);
            int k = attsvm__violated_rows(P, ax, K->inws, 1e-13, add);
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
                Bt[(size_t)a * nW + k] = sqrt(nu[k] / s[k]) * P->A[(size_t)K->S[k] * nx + J[a]];
        gram_lower(nJ, nW, Bt, M);
        /* Its entries span many orders (nu/s -> inf on active rows): factor
         * it with unit diagonal, D^-1/2 M D^-1/2, a ridge r I only if needed. */
        for (int a = 0; a < nJ; a++) {
            M[(size_t)a * nJ + a] += h[J[a]];
            const double dg = M[(size_t)a * nJ + a];
            dsc[a] = dg > 0.0 ? 1.0 / sqrt(dg) : 1.0;
        }
        int ok = 0;
        for (double r = 0.0; r <= 1e-8 && !ok; r = r > 0.0 ? r * 100.0 : 1e-14) {
            for (int a = 0; a < nJ; a++) {
                for (int b = 0; b < nJ; b++)
                    Mf[(size_t)a * nJ + b] = M[(size_t)a * nJ + b] * dsc[a] * dsc[b];
                Mf[(size_t)a * nJ + a] += r;
            }
            ok = attsvm__chol_factor(nJ, Mf) == 0;
        }
        if (!ok)
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
                    v -= P->A[(size_t)K->S[k] * nx + J[a]] * (rc[k] + nu[k] * rp[k]) / s[k];
                rhs[a] = v;
            }
            for (int a = 0; a < nJ; a++)
                rhs[a] *= dsc[a];
            attsvm__chol_subst(nJ, Mf, rhs);
            for (int a = 0; a < nJ; a++)
                rhs[a] *= dsc[a];
            for (int j = 0; j < nx; j++)
                dx[j] = touched[j] ? 0.0 : -x[j];
            for (int a = 0; a < nJ; a++)
                dx[J[a]] = rhs[a];
            amax = 1.0;
            for (int k = 0; k < nW; k++) {
                ds[k] = (double)attsvm__dotl(P->A + (size_t)K->S[k] * nx, dx, nx) + rp[k];
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

void attsvm__pnorm_solve(const attsvm__prob *P, attsvm__out *o)
{
    const int m = P->m, nx = P->nx;
    pn_ctx c;
    memset(&c, 0, sizeof c);
    c.P = P;
    c.inws = calloc((size_t)m, 1);
    c.u = malloc(sizeof *c.u * (size_t)nx);
    c.x = malloc(sizeof *c.x * (size_t)nx);
    c.u2 = malloc(sizeof *c.u2 * (size_t)nx);
    c.x2 = malloc(sizeof *c.x2 * (size_t)nx);
    c.wt = malloc(sizeof *c.wt * (size_t)nx);
    c.sw = malloc(sizeof *c.sw * (size_t)nx);
    c.flip = calloc((size_t)nx, 1);
    c.ul = malloc(sizeof *c.ul * (size_t)nx);
    c.flipmem = FLIP_MEMORY;
    int *add = malloc(sizeof *add * (size_t)m);
    double *ax = malloc(sizeof *ax * (size_t)m), *madd = malloc(sizeof *madd * (size_t)m);
    if (!o->lam)
        o->lam = calloc((size_t)m, sizeof *o->lam);
    if (!o->x)
        o->x = calloc((size_t)nx, sizeof *o->x);
    if (!c.inws || !c.u || !c.x || !c.u2 || !c.x2 || !c.wt || !c.sw || !c.flip || !c.ul || !add ||
        !ax || !madd || !o->lam || !o->x)
        goto nomem;

    int k = attsvm__seed_rows(P, add);
    pn_add(&c, add, k, NULL);
    pn_start_p2(&c);
    if (c.nomem)
        goto nomem;
    if (P->s->lp_phase && P->p != 2.0) {
        /* Breakpoints of the piecewise-linear model on the scale of the
         * optimum over the seed rows. */
        pn_rescale(&c);
        pn_solve(&c, 30, o);
        double s = 0.0;
        for (int j = 0; j < nx; j++)
            s = dmax(s, fabs(c.x[j]));
        if (!(s > 0.0) || !isfinite(s))
            s = 1.0;
        const double pmod = fmin(P->p, 4.0); /* model exponent (large p: first stage) */
        enum { K = 3 };
        const double fr[K - 1] = {0.5, 1.0};
        double bp[K], slope[K], prev = 0.0, fprev = 0.0;
        for (int t = 0; t < K; t++) {
            bp[t] = t < K - 1 ? fr[t] * s : 2.0 * fr[K - 2] * s;
            double ft = pow(bp[t], pmod) / pmod;
            slope[t] = (ft - fprev) / (bp[t] - prev);
            prev = bp[t];
            fprev = ft;
        }
        for (int t = 0; t < K; t++)
            if (!isfinite(slope[t]) || !(slope[t] > 0.0))
                slope[t] = t ? 2.0 * slope[t - 1] : 1.0;
        attsvm__out lo = {0};
        lo.x = calloc((size_t)nx, sizeof *lo.x);
        lo.lam = calloc((size_t)m, sizeof *lo.lam);
        attsvm__lp_pwl(P, K, bp, slope, 0, 1, &lo);
        o->lp_solves += lo.lp_solves;
        o->lp_iterations += lo.lp_iterations;
        o->rounds += lo.rounds;
        if (lo.status != ATTSVM_OPTIMAL) {
            o->status = lo.status;
            memcpy(o->msg, lo.msg, sizeof o->msg);
            if (lo.status == ATTSVM_INFEASIBLE) {
                free(o->lam);
                o->lam = lo.lam;
                lo.lam = NULL;
            }
            free(lo.x);
            free(lo.lam);
            free(lo.ws);
            goto out;
        }
        /* Working set := the LP's, multipliers := its row duals. */
        for (int t = 0; t < c.nR; t++)
            c.inws[c.R[t]] = 0;
        c.nR = 0;
        for (int t = 0; t < lo.nws; t++)
            madd[t] = lo.lam[lo.ws[t]];
        pn_add(&c, lo.ws, lo.nws, madd);
        int pos = 0;
        for (int t = 0; t < c.nR; t++)
            pos += c.mu[t] > 0.0;
        if (!pos)
            pn_start_p2(&c);
        free(lo.x);
        free(lo.lam);
        free(lo.ws);
    }
    /* The dual Newton at p, or for p > KKT_P at KKT_P, where it finds the
     * working set; the primal-dual Newton (pn_kkt) then continues in p
     * (x 1.5 per stage, each warm-started) up to p.  It is also the second
     * opinion when the dual Newton stalls at p >= 2. */
    if (c.nomem)
        goto nomem;
    attsvm__prob Pk = *P;
    Pk.p = fmin(P->p, KKT_P);
    Pk.q = attsvm__dual_exp(Pk.p);
    c.P = &Pk;
    pn_rescale(&c);
    int done = 0, lpchecked = 0;
    char why[160] = "";
    /* Infeasible rows make the dual unbounded: sum(mu) grows without end, or
     * Newton stalls on the way.  At the first such sign (growth by 1e8 within
     * a solve, or a stall) the feasibility LP decides at once: a Farkas
     * certificate ends the solve; otherwise the rows are known feasible and
     * the remedies below follow (growth then counts only beyond 1e15). */
    c.divlim = P->no_farkas ? 1e15 : 1e8;
    for (int round = 0; round < P->s->max_rounds && !done && !why[0]; round++) {
        if (c.nomem)
            goto nomem;
        o->rounds++;
        int rc = pn_solve(&c, c.flipmem == FLIP_STICKY ? 2000 : 500, o);
        if (c.nomem)
            goto nomem;
        if (rc != 0 && !lpchecked && !P->no_farkas) {
            if (attsvm__farkas_or_fail(P, o, NULL) == 1)
                goto out;
            lpchecked = 1;
            c.divlim = 1e15;
            if (rc == 1) {
                pn_start_p2(&c);
                pn_rescale(&c);
                round--;
                continue;
            }
        }
        if (rc < 0 && c.flipmem != FLIP_STICKY) {
            /* Retry the round from a fresh start with the sticky bound. */
            c.flipmem = FLIP_STICKY;
            memset(c.flip, 0, (size_t)nx);
            pn_start_p2(&c);
            pn_rescale(&c);
            round--;
            continue;
        }
        if (rc == 1) {
            o->status = ATTSVM_FAILED;
            snprintf(o->msg, sizeof o->msg, "Newton phase: multipliers diverge%s",
                     lpchecked ? " (the feasibility LP finds the rows feasible)" : "");
            goto out;
        }
        if (rc < 0) {
            snprintf(why, sizeof why, "Newton phase stalled on %d working rows (p = %g)", c.nR,
                     Pk.p);
            break;
        }
        attsvm__rowdots(P, c.x, ax);
        k = attsvm__violated_rows(P, ax, c.inws, 1e-13, add);
        if (k > 0)
            pn_add(&c, add, k, NULL);
        else
            done = 1;
    }
    c.P = P;
    if (c.nomem)
        goto nomem;
    if (!done && !why[0]) {
        o->status = ATTSVM_FAILED;
        snprintf(o->msg, sizeof o->msg, "row generation did not converge in max_rounds = %d",
                 P->s->max_rounds);
        goto out;
    }
    for (int r = 0; r < m; r++)
        o->lam[r] = 0.0;
    if (done && Pk.p == P->p) {
        memcpy(o->x, c.x, sizeof *o->x * (size_t)nx);
        for (int t = 0; t < c.nR; t++)
            o->lam[c.R[t]] = (double)c.mu[t];
        o->working_rows = c.nR;
        o->status = ATTSVM_OPTIMAL;
        goto out;
    }
    if (P->p >= 2.0) {
        /* Primal-dual stages from the dual's rows with mu > 0 and x(mu). */
        pn_kkt_sys K = {P, 0.0, 0.0, malloc(sizeof(int) * (size_t)m), 0, calloc((size_t)m, 1), 150,
                        0};
        double *nu = calloc((size_t)m, sizeof *nu), *x = malloc(sizeof *x * (size_t)nx);
        double *x0 = malloc(sizeof *x0 * (size_t)nx), *nu0 = malloc(sizeof *nu0 * (size_t)m);
        int *S0 = malloc(sizeof *S0 * (size_t)m);
        if (!K.S || !K.inws || !nu || !x || !x0 || !nu0 || !S0) {
            free(K.S);
            free(K.inws);
            free(nu);
            free(x);
            free(x0);
            free(nu0);
            free(S0);
            goto nomem;
        }
        memcpy(x, c.x, sizeof *x * (size_t)nx);
        for (int t = 0; t < c.nR; t++)
            if (c.mu[t] > 0.0) {
                K.inws[c.R[t]] = 1;
                K.S[K.nS++] = c.R[t];
            }
        /* Stages p = Pk.p * ratio^k (the last one P->p), each from the one
         * before.  pn_kkt gets KKT_STEPS steps (a stage whose active set is
         * right takes a few); a stage that needs more is rerun from its start
         * by the interior-point method, which finds the active set, and
         * pn_kkt polishes that.  If this fails too, the step in p is
         * halved geometrically (ratio -> sqrt(ratio)) and grows back after a success;
         * without a stage behind (the dual stalled: the first stage is at
         * Pk.p itself), pn_kkt gets its full steps instead. */
        int rc = K.nS > 0 ? 0 : -1;
        double pdone = why[0] ? 0.0 : Pk.p, ratio = 1.5;
        kkt_state b0 = {x0, nu0, S0, 0};
        while (rc == 0 && !K.nomem) {
            const double pk = pdone > 0.0 ? pdone * ratio : Pk.p;
            K.p = pk * sqrt(ratio) < P->p ? pk : P->p; /* no last stage shorter than sqrt(ratio) */
            kkt_save(&K, x, nu, &b0);
            K.maxit = KKT_STEPS;
            if ((rc = pn_kkt(&K, x, nu, o)) != 0) {
                kkt_restore(&K, x, nu, &b0);
                K.maxit = 150;
                if ((rc = pn_ipm(&K, x, nu, o)) == 0)
                    rc = pn_kkt(&K, x, nu, o);
                else if (!(pdone > 0.0)) {
                    kkt_restore(&K, x, nu, &b0);
                    rc = pn_kkt(&K, x, nu, o);
                }
            }
            if (rc == 0) {
                if (K.p == P->p)
                    break;
                pdone = K.p;
                ratio = fmin(1.5, ratio * ratio);
                continue;
            }
            if (!(pdone > 0.0) || ratio < 1.01)
                break;
            kkt_restore(&K, x, nu, &b0);
            ratio = sqrt(K.p / pdone);
            rc = 0;
        }
        if (K.nomem)
            rc = -1;
        free(x0);
        free(nu0);
        free(S0);
        if (rc == 0) {
            memcpy(o->x, x, sizeof *x * (size_t)nx);
            for (int t = 0; t < K.nS; t++)
                o->lam[K.S[t]] = nu[t];
            o->working_rows = K.nS;
            o->status = ATTSVM_OPTIMAL;
        } else {
            char w2[160];
            snprintf(w2, sizeof w2, "%s%sprimal-dual Newton stalled at p = %g", why,
                     why[0] ? ", then " : "", K.p);
            snprintf(why, sizeof why, "%s", w2);
        }
        free(K.S);
        free(K.inws);
        free(nu);
        free(x);
        if (rc == 0)
            goto out;
        if (K.nomem)
            goto nomem;
    }
    if (!lpchecked && !done && !P->no_farkas) {
        /* A stall can mean unbounded multipliers (when the dual converged,
         * its x is feasible: nothing to test). */
        attsvm__farkas_or_fail(P, o, why);
        goto out;
    }
    o->status = ATTSVM_FAILED;
    snprintf(o->msg, sizeof o->msg, "%s%s", why,
             lpchecked ? " (the feasibility LP finds the rows feasible)" : "");
    goto out;
nomem:
    o->status = ATTSVM_NOMEM;
    snprintf(o->msg, sizeof o->msg, "out of memory in the Newton phase (%d constraint rows, "
             "%d variables)", m, nx);
out:
    free(c.R);
    free(c.inws);
    free(c.mu);
    free(c.mu2);
    free(c.u);
    free(c.x);
    free(c.u2);
    free(c.x2);
    free(c.g);
    free(c.g2);
    free(c.wt);
    free(c.sw);
    free(c.flip);
    free(c.ul);
    free(c.G);
    free(c.gh);
    free(c.gl);
    free(c.Lc);
    free(c.Fc);
    free(c.posF);
    free(c.H);
    free(c.d);
    free(c.F);
    free(add);
    free(ax);
    free(madd);
}
