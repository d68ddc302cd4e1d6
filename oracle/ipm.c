/* ipm.c - the p = inf LP by a primal-dual interior-point method that uses
 * the Kronecker structure of the W-SVM rows; it only names the optimal
 * vertex (active rows, free columns), which lp.c then computes exactly.
 *
 * The W rows are a_it = vec(b_it z_i^T), b_it = x_ia - x_it: entry j*d + k
 * is b_j z_k.  An interior-point step needs the normal matrix
 * A^T D A = sum_i C_i (x) z_i z_i^T with C_i = sum_t D_it b_it b_it^T, which
 * costs n d^4 instead of the m d^4 = (T - 1) n d^4 of dense rows.  The
 * structure is read off A itself (attsvm_solve_rows' rows qualify when they
 * have it) and checked entry by entry.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ipm.h"
#include "linalg.h"
#include "rows.h"

/* The W rows' structure (rows.h) with what the normal matrix needs besides. */
typedef struct {
    int n, d, g;
    const double *z;    /* n x d */
    const double *b;    /* m x d */
    double *zz;         /* n x d^2: z_i z_i^T */
    int *pj, *pjj;      /* the pairs j >= j' */
} kron;

static void kron_free(kron *K)
{
    free(K->zz);
    free(K->pj);
    free(K->pjj);
}

/* The products the normal matrix needs, from the rows' structure R:
 * z_i z_i^T and the pairs j >= j'.  0, or -1 when they cannot be allocated
 * (the method is then not used). */
static int kron_build(const attsvm__kron *R, kron *K)
{
    const int d = R->d, nx = d * d;
    K->n = R->n;
    K->d = d;
    K->g = R->g;
    K->z = R->z;
    K->b = R->b;
    K->zz = malloc(sizeof *K->zz * (size_t)K->n * nx);
    K->pj = malloc(sizeof *K->pj * (size_t)nx);
    K->pjj = malloc(sizeof *K->pjj * (size_t)nx);
    if (!K->zz || !K->pj || !K->pjj)
        return -1;
    for (int i = 0; i < K->n; i++)
        for (int k = 0; k < d; k++)
            for (int kk = 0; kk < d; kk++)
                K->zz[(size_t)i * nx + k * d + kk] = K->z[(size_t)i * d + k] * K->z[(size_t)i * d + kk];
    for (int j = 0, p = 0; j < d; j++)
        for (int jj = 0; jj <= j; jj++, p++) {
            K->pj[p] = j;
            K->pjj[p] = jj;
        }
    return 0;
}

/* Lower triangle of M = diag(dg) + sum_r w_r a_r a_r^T, a_r = b_r (x) z_i:
 * the block of M at (b index j, j') is sum_i C_i[j][j'] z_i z_i^T, i.e. the
 * product of the (pairs j >= j') x n matrix Cp with the n x d^2 matrix of the
 * z_i z_i^T (K->zz): one product (attsvm__gemm_nn) per KN_CHUNK pairs into
 * Out (KN_CHUNK x d^2), whose rows are then scattered into M. */
enum { KN_CHUNK = 128 };

static void kron_normal(const kron *K, const double *w, const double *dg, double *M, double *C,
                        double *Cp, double *Out)
{
    const int d = K->d, n = d * d, N = K->n, np = d * (d + 1) / 2;
    for (int i = 0; i < N; i++) {
        memset(C, 0, sizeof *C * (size_t)d * d);
        for (int t = 0; t < K->g; t++) {
            const double *b = K->b + ((size_t)i * K->g + t) * d, wr = w[i * K->g + t];
            for (int j = 0; j < d; j++) {
                const double v = wr * b[j];
                for (int jj = 0; jj <= j; jj++)
                    C[j * d + jj] += v * b[jj];
            }
        }
        for (int p = 0; p < np; p++)
            Cp[(size_t)p * N + i] = C[K->pj[p] * d + K->pjj[p]];
    }
    for (int p0 = 0; p0 < np; p0 += KN_CHUNK) {
        const int nq = np - p0 < KN_CHUNK ? np - p0 : KN_CHUNK;
        attsvm__gemm_nn(nq, n, N, Cp + (size_t)p0 * N, N, K->zz, n, Out, n);
        for (int q = 0; q < nq; q++) {
            const int j = K->pj[p0 + q], jj = K->pjj[p0 + q];
            const double *o = Out + (size_t)q * n;
            for (int k = 0; k < d; k++) {
                double *mrow = M + (size_t)(j * d + k) * n + jj * d;
                const double *orow = o + (size_t)k * d;
                /* entry (a, b) = (j d + k, jj d + kk) is kept when b <= a */
                const int kkmax = jj < j ? d - 1 : k;
                for (int kk = 0; kk <= kkmax; kk++)
                    mrow[kk] = orow[kk];
            }
        }
    }
    for (int a = 0; a < n; a++)
        M[(size_t)a * n + a] += dg[a];
}

/* out = a / b entry by entry: the verdicts handed to the crossover. */
static void ratios(int n, const double *a, const double *b, double *out)
{
    for (int k = 0; k < n; k++)
        out[k] = a[k] / b[k];
}

static double step_to_boundary(int n, const double *v, const double *dv, double sign)
{
    double a = 1.0;
    for (int k = 0; k < n; k++)
        if (sign * dv[k] < 0.0)
            a = fmin(a, -v[k] / (sign * dv[k]));
    return a;
}

/* A workspace is a list of arrays of doubles, allocated (zeroed) together. */
typedef struct {
    double **p;
    size_t n;
} ws_array;

/* Room for a method's list of arrays (inf_arrays, one_arrays). */
enum { WS_ARRAYS = 32 };

static void arrays_free(const ws_array *a, size_t k)
{
    for (size_t t = 0; t < k; t++) {
        free(*a[t].p);
        *a[t].p = NULL;
    }
}

/* 0, or -1 (nothing left allocated) when one cannot be had. */
static int arrays_new(const ws_array *a, size_t k)
{
    for (size_t t = 0; t < k; t++)
        *a[t].p = NULL;
    for (size_t t = 0; t < k; t++)
        if (!(*a[t].p = calloc(a[t].n ? a[t].n : 1, sizeof **a[t].p))) {
            arrays_free(a, k);
            return -1;
        }
    return 0;
}

/* The phases of a primal-dual interior-point method with Mehrotra's
 * predictor-corrector, on its workspace. */
typedef struct {
    void (*start)(void *ws);
    int (*residuals)(void *ws);         /* 1: converged */
    int (*newton)(void *ws);            /* factor the Newton system: 0, or -1 */
    void (*direction)(void *ws, int pass, double sig); /* 0: predictor, 1: corrector */
    double (*sigma)(const void *ws);    /* centring from the predictor */
    void (*step)(void *ws);
} ipm_steps;

/* At most 80 iterations: 0 converged, -1 not; *iters: iterations taken. */
static int ipm_loop(const ipm_steps *S, void *ws, int *iters)
{
    int it, rc = -1;
    S->start(ws);
    for (it = 0; it < 80; it++) {
        if (S->residuals(ws)) {
            rc = 0;
            break;
        }
        if (S->newton(ws))
            break;
        S->direction(ws, 0, 0.0);
        S->direction(ws, 1, S->sigma(ws));
        S->step(ws);
    }
    *iters = it;
    return rc;
}

/* ------------------------------------------------------------ p = inf */

/* max gamma s.t. A w - gamma e - s = 0, s >= 0, -1 <= w <= 1 (L = w + 1,
 * U = 1 - w), with duals y >= 0 (sum 1), zl, zu >= 0:
 *     A^T y + zl - zu = 0,   e^T y = 1,   y s = zl L = zu U = mu,
 * Mehrotra's predictor-corrector.  The Newton system reduces to the bordered
 * [M, -g; -g^T, h] [dw; dgamma] = [f1; f2] with M = A^T Dy A + Db,
 * Dy = y/s, Db = zl/L + zu/U, g = A^T Dy e, h = e^T Dy e. */
typedef struct {
    const attsvm__prob *P;
    const kron *K;
    int m, nx;
    double *w, *L, *U, *zl, *zu, *s, *y, gam;           /* the iterate */
    double *rp, *rd, rg, mu, umax;                      /* residuals */
    double *Dy, *Db, *gv, *v1, *v2, *M, *F, *sc, *C, *Cp, *Out, h, gv2; /* Newton system */
    double *dw, *ds, *dy, *dzl, *dzu, *rs, *rl, *ru, dg, ap, ad;  /* direction */
    double *tm, *tn;                                    /* scratch, m and nx */
} inf_ws;

static size_t inf_arrays(inf_ws *W, ws_array *a)
{
    const size_t m = (size_t)W->m, nx = (size_t)W->nx, d = (size_t)W->K->d;
    const ws_array t[] = {
        {&W->w, nx}, {&W->L, nx}, {&W->U, nx}, {&W->zl, nx}, {&W->zu, nx}, {&W->s, m},
        {&W->y, m}, {&W->rp, m}, {&W->rd, nx}, {&W->Dy, m}, {&W->Db, nx}, {&W->gv, nx},
        {&W->v1, nx}, {&W->v2, nx}, {&W->dw, nx}, {&W->ds, m}, {&W->dy, m}, {&W->dzl, nx},
        {&W->dzu, nx}, {&W->rs, m}, {&W->rl, nx}, {&W->ru, nx}, {&W->tm, m}, {&W->tn, nx},
        {&W->M, nx * nx}, {&W->F, nx * nx}, {&W->sc, nx}, {&W->C, d * d},
        {&W->Cp, nx * (size_t)W->K->n}, {&W->Out, KN_CHUNK * (size_t)nx}};
    _Static_assert(sizeof t / sizeof *t <= WS_ARRAYS, "more arrays than ws_array arr[] holds");
    memcpy(a, t, sizeof t);
    return sizeof t / sizeof *t;
}

/* Start: y uniform, s = 1, w = 0, zl and zu from A^T y. */
static void inf_start(void *ws)
{
    inf_ws *W = ws;
    const int m = W->m, nx = W->nx;
    W->gam = 0.0;
    for (int r = 0; r < m; r++) {
        W->y[r] = 1.0 / m;
        W->s[r] = 1.0;
    }
    attsvm__rows_atlam_d(W->P, W->y, W->tn);
    W->umax = 0.0;
    for (int j = 0; j < nx; j++)
        W->umax = fmax(W->umax, fabs(W->tn[j]));
    for (int j = 0; j < nx; j++) {
        W->L[j] = W->U[j] = 1.0;
        W->zl[j] = W->umax + fmax(0.0, -W->tn[j]);
        W->zu[j] = W->umax + fmax(0.0, W->tn[j]);
    }
}

/* Residuals and the stopping test (relative gap and feasibility): 1 when
 * converged. */
static int inf_residuals(void *ws)
{
    inf_ws *W = ws;
    const int m = W->m, nx = W->nx;
    attsvm__rows_ax_d(W->P, W->w, W->tm);
    double rpmax = 0.0, rdmax = 0.0, sy = 0.0, mu = 0.0, dual = 0.0;
    for (int r = 0; r < m; r++) {
        W->rp[r] = W->tm[r] - W->gam - W->s[r];
        rpmax = fmax(rpmax, fabs(W->rp[r]));
        sy += W->y[r];
        mu += W->y[r] * W->s[r];
    }
    attsvm__rows_atlam_d(W->P, W->y, W->tn);
    for (int j = 0; j < nx; j++) {
        W->rd[j] = W->tn[j] + W->zl[j] - W->zu[j];
        rdmax = fmax(rdmax, fabs(W->rd[j]));
        mu += W->zl[j] * W->L[j] + W->zu[j] * W->U[j];
        dual += W->zl[j] + W->zu[j];
    }
    W->mu = mu / (m + 2 * nx);
    W->rg = sy - 1.0;
    const double gam = W->gam;
    return gam > 0.0 && dual - gam <= 1e-9 * gam && rpmax <= 1e-9 * gam &&
           rdmax <= 1e-9 * W->umax && fabs(W->rg) <= 1e-9;
}

/* The normal matrix, its factor and the bordered solve's fixed half
 * (v2 = M^-1 g, gv2 = g.v2).  0, or -1 when M cannot be factored. */
static int inf_newton(void *ws)
{
    inf_ws *W = ws;
    const int m = W->m, nx = W->nx;
    W->h = 0.0;
    for (int r = 0; r < m; r++) {
        W->Dy[r] = W->y[r] / W->s[r];
        W->h += W->Dy[r];
    }
    for (int j = 0; j < nx; j++)
        W->Db[j] = W->zl[j] / W->L[j] + W->zu[j] / W->U[j];
    kron_normal(W->K, W->Dy, W->Db, W->M, W->C, W->Cp, W->Out);
    if (attsvm__chol_factor_scaled(nx, W->M, W->F, W->sc))
        return -1;
    attsvm__rows_atlam_d(W->P, W->Dy, W->gv);
    memcpy(W->v2, W->gv, sizeof *W->v2 * nx);
    attsvm__chol_subst_scaled(nx, W->F, W->sc, W->v2);
    W->gv2 = 0.0;
    for (int j = 0; j < nx; j++)
        W->gv2 += W->gv[j] * W->v2[j];
    return 0;
}

/* One solve for the complementarity targets (pass 0: the predictor; pass 1:
 * the corrector with centring sig): the direction and the step lengths
 * ap, ad to the boundary. */
static void inf_direction(void *ws, int pass, double sig)
{
    inf_ws *W = ws;
    const int m = W->m, nx = W->nx;
    const double mu = W->mu;
    for (int r = 0; r < m; r++)
        W->rs[r] = W->y[r] * W->s[r] + (pass ? W->ds[r] * W->dy[r] - sig * mu : 0.0);
    for (int j = 0; j < nx; j++) {
        W->rl[j] = W->zl[j] * W->L[j] + (pass ? W->dw[j] * W->dzl[j] - sig * mu : 0.0);
        W->ru[j] = W->zu[j] * W->U[j] + (pass ? -W->dw[j] * W->dzu[j] - sig * mu : 0.0);
    }
    double f2 = -W->rg;
    for (int r = 0; r < m; r++) {
        W->tm[r] = W->rs[r] / W->s[r] + W->Dy[r] * W->rp[r];
        f2 += W->tm[r];
    }
    attsvm__rows_atlam_d(W->P, W->tm, W->v1);
    for (int j = 0; j < nx; j++)
        W->v1[j] = W->rd[j] - W->v1[j] - W->rl[j] / W->L[j] + W->ru[j] / W->U[j];
    attsvm__chol_subst_scaled(nx, W->F, W->sc, W->v1);
    double gv1 = 0.0;
    for (int j = 0; j < nx; j++)
        gv1 += W->gv[j] * W->v1[j];
    W->dg = (f2 + gv1) / (W->h - W->gv2);
    for (int j = 0; j < nx; j++)
        W->dw[j] = W->v1[j] + W->v2[j] * W->dg;
    attsvm__rows_ax_d(W->P, W->dw, W->ds);
    for (int r = 0; r < m; r++) {
        W->ds[r] += W->rp[r] - W->dg;
        W->dy[r] = -(W->rs[r] + W->y[r] * W->ds[r]) / W->s[r];
    }
    for (int j = 0; j < nx; j++) {
        W->dzl[j] = -(W->rl[j] + W->zl[j] * W->dw[j]) / W->L[j];
        W->dzu[j] = -(W->ru[j] - W->zu[j] * W->dw[j]) / W->U[j];
    }
    W->ap = fmin(step_to_boundary(m, W->s, W->ds, 1.0),
                 fmin(step_to_boundary(nx, W->L, W->dw, 1.0), step_to_boundary(nx, W->U, W->dw, -1.0)));
    W->ad = fmin(step_to_boundary(m, W->y, W->dy, 1.0),
                 fmin(step_to_boundary(nx, W->zl, W->dzl, 1.0), step_to_boundary(nx, W->zu, W->dzu, 1.0)));
}

/* Mehrotra's centring sigma = (mu_aff / mu)^3 from the predictor. */
static double inf_sigma(const void *ws)
{
    const inf_ws *W = ws;
    const int m = W->m, nx = W->nx;
    const double ap = W->ap, ad = W->ad;
    double ma = 0.0;
    for (int r = 0; r < m; r++)
        ma += (W->s[r] + ap * W->ds[r]) * (W->y[r] + ad * W->dy[r]);
    for (int j = 0; j < nx; j++)
        ma += (W->L[j] + ap * W->dw[j]) * (W->zl[j] + ad * W->dzl[j]) +
              (W->U[j] - ap * W->dw[j]) * (W->zu[j] + ad * W->dzu[j]);
    ma /= m + 2 * nx;
    return fmin(1.0, pow(ma / W->mu, 3.0));
}

/* 0.99 of the way to the boundary. */
static void inf_step(void *ws)
{
    inf_ws *W = ws;
    const double ap = fmin(1.0, 0.99 * W->ap), ad = fmin(1.0, 0.99 * W->ad);
    for (int j = 0; j < W->nx; j++) {
        W->w[j] += ap * W->dw[j];
        W->L[j] = fmax(W->L[j] + ap * W->dw[j], 1e-300);
        W->U[j] = fmax(W->U[j] - ap * W->dw[j], 1e-300);
        W->zl[j] += ad * W->dzl[j];
        W->zu[j] += ad * W->dzu[j];
    }
    W->gam += ap * W->dg;
    for (int r = 0; r < W->m; r++) {
        W->s[r] += ap * W->ds[r];
        W->y[r] += ad * W->dy[r];
    }
}

static int ipm_inf(const attsvm__prob *P, const kron *K, double *rrow, double *c1, double *c2,
                   int *iters)
{
    inf_ws W = {.P = P, .K = K, .m = P->m, .nx = P->nx};
    ws_array arr[WS_ARRAYS];
    const size_t na = inf_arrays(&W, arr);
    *iters = 0;
    if (arrays_new(arr, na)) /* the simplex takes over */
        return -1;
    static const ipm_steps steps = {inf_start, inf_residuals, inf_newton, inf_direction, inf_sigma,
                                    inf_step};
    const int rc = ipm_loop(&steps, &W, iters);
    if (rc == 0) {
        ratios(W.m, W.y, W.s, rrow);
        ratios(W.nx, W.zl, W.L, c1);
        ratios(W.nx, W.zu, W.U, c2);
    }
    arrays_free(arr, na);
    return rc;
}

/* ------------------------------------------------------------ p = 1 */

/* p = 1: min sum(w+ + w-) s.t. A (w+ - w-) - s = 1, w+-, s >= 0, with duals
 * y >= 0, z+- >= 0:  A^T y + z+ = 1,  -A^T y + z- = 1,  y s = w+ z+ = w- z- = mu.
 * With Theta = w+/z+ + w-/z- the Newton system reduces to dx = dw+ - dw-:
 *     (A^T Dy A + Theta^-1) dx = Theta^-1 q - A^T (rs/s + Dy rp),
 * q = (w+ r+ - rc+)/z+ - (w- r- - rc-)/z-, and the rest follows. */
typedef struct {
    const attsvm__prob *P;
    const kron *K;
    int m, nx;
    double *wp, *wn, *zp, *zn, *s, *y;                  /* the iterate */
    double *rp, *rpl, *rmi, mu;                         /* residuals */
    double *Dy, *Ti, *M, *F, *sc, *C, *Cp, *Out;        /* Newton system */
    double *q, *dx, *dwp, *dwn, *dzp, *dzn, *ds, *dy, *rs, *rcp, *rcn, ap, ad; /* direction */
    double *tm, *tn, *x;                                /* scratch, m, nx, nx */
} one_ws;

static size_t one_arrays(one_ws *W, ws_array *a)
{
    const size_t m = (size_t)W->m, nx = (size_t)W->nx, d = (size_t)W->K->d;
    const ws_array t[] = {
        {&W->wp, nx}, {&W->wn, nx}, {&W->zp, nx}, {&W->zn, nx}, {&W->s, m}, {&W->y, m},
        {&W->rp, m}, {&W->rpl, nx}, {&W->rmi, nx}, {&W->Dy, m}, {&W->Ti, nx}, {&W->q, nx},
        {&W->dx, nx}, {&W->dwp, nx}, {&W->dwn, nx}, {&W->dzp, nx}, {&W->dzn, nx}, {&W->ds, m},
        {&W->dy, m}, {&W->rs, m}, {&W->rcp, nx}, {&W->rcn, nx}, {&W->tm, m}, {&W->tn, nx},
        {&W->x, nx}, {&W->M, nx * nx}, {&W->F, nx * nx}, {&W->sc, nx}, {&W->C, d * d},
        {&W->Cp, nx * (size_t)W->K->n}, {&W->Out, KN_CHUNK * (size_t)nx}};
    _Static_assert(sizeof t / sizeof *t <= WS_ARRAYS, "more arrays than ws_array arr[] holds");
    memcpy(a, t, sizeof t);
    return sizeof t / sizeof *t;
}

/* Start: y uniform, s = 1, w+- = 1, z+- from A^T y. */
static void one_start(void *ws)
{
    one_ws *W = ws;
    for (int r = 0; r < W->m; r++) {
        W->y[r] = 1.0 / W->m;
        W->s[r] = 1.0;
    }
    attsvm__rows_atlam_d(W->P, W->y, W->tn);
    for (int j = 0; j < W->nx; j++) {
        W->wp[j] = W->wn[j] = 1.0;
        W->zp[j] = 1.0 + fmax(0.0, W->tn[j]);
        W->zn[j] = 1.0 + fmax(0.0, -W->tn[j]);
    }
}

/* Residuals and the stopping test (relative gap and feasibility): 1 when
 * converged. */
static int one_residuals(void *ws)
{
    one_ws *W = ws;
    const int m = W->m, nx = W->nx;
    for (int j = 0; j < nx; j++)
        W->x[j] = W->wp[j] - W->wn[j];
    attsvm__rows_ax_d(W->P, W->x, W->tm);
    double rpmax = 0.0, rdmax = 0.0, mu = 0.0, pobj = 0.0, dobj = 0.0;
    for (int r = 0; r < m; r++) {
        W->rp[r] = W->tm[r] - W->s[r] - 1.0;
        rpmax = fmax(rpmax, fabs(W->rp[r]));
        mu += W->y[r] * W->s[r];
        dobj += W->y[r];
    }
    attsvm__rows_atlam_d(W->P, W->y, W->tn);
    for (int j = 0; j < nx; j++) {
        W->rpl[j] = W->tn[j] + W->zp[j] - 1.0;
        W->rmi[j] = -W->tn[j] + W->zn[j] - 1.0;
        rdmax = fmax(rdmax, fmax(fabs(W->rpl[j]), fabs(W->rmi[j])));
        mu += W->wp[j] * W->zp[j] + W->wn[j] * W->zn[j];
        pobj += W->wp[j] + W->wn[j];
    }
    W->mu = mu / (m + 2 * nx);
    return pobj - dobj <= 1e-9 * pobj && rpmax <= 1e-9 && rdmax <= 1e-9;
}

/* The normal matrix A^T Dy A + Theta^-1 and its factor: 0, or -1. */
static int one_newton(void *ws)
{
    one_ws *W = ws;
    for (int r = 0; r < W->m; r++)
        W->Dy[r] = W->y[r] / W->s[r];
    for (int j = 0; j < W->nx; j++)
        W->Ti[j] = 1.0 / (W->wp[j] / W->zp[j] + W->wn[j] / W->zn[j]);
    kron_normal(W->K, W->Dy, W->Ti, W->M, W->C, W->Cp, W->Out);
    return attsvm__chol_factor_scaled(W->nx, W->M, W->F, W->sc);
}

/* One solve (pass 0: the predictor; 1: the corrector with centring sig):
 * the direction and the step lengths ap, ad to the boundary. */
static void one_direction(void *ws, int pass, double sig)
{
    one_ws *W = ws;
    const int m = W->m, nx = W->nx;
    const double mu = W->mu;
    for (int r = 0; r < m; r++) {
        W->rs[r] = W->y[r] * W->s[r] + (pass ? W->ds[r] * W->dy[r] - sig * mu : 0.0);
        W->tm[r] = W->rs[r] / W->s[r] + W->Dy[r] * W->rp[r];
    }
    for (int j = 0; j < nx; j++) {
        W->rcp[j] = W->wp[j] * W->zp[j] + (pass ? W->dwp[j] * W->dzp[j] - sig * mu : 0.0);
        W->rcn[j] = W->wn[j] * W->zn[j] + (pass ? W->dwn[j] * W->dzn[j] - sig * mu : 0.0);
        W->q[j] = (W->wp[j] * W->rpl[j] - W->rcp[j]) / W->zp[j] -
                  (W->wn[j] * W->rmi[j] - W->rcn[j]) / W->zn[j];
    }
    attsvm__rows_atlam_d(W->P, W->tm, W->dx);
    for (int j = 0; j < nx; j++)
        W->dx[j] = W->Ti[j] * W->q[j] - W->dx[j];
    attsvm__chol_subst_scaled(nx, W->F, W->sc, W->dx);
    attsvm__rows_ax_d(W->P, W->dx, W->ds);
    for (int r = 0; r < m; r++) {
        W->ds[r] += W->rp[r];
        W->dy[r] = -(W->rs[r] + W->y[r] * W->ds[r]) / W->s[r];
    }
    for (int j = 0; j < nx; j++) { /* A^T dy, taken so that dw+ - dw- = dx exactly */
        W->tn[j] = W->Ti[j] * (W->dx[j] - W->q[j]);
        W->dzp[j] = -W->rpl[j] - W->tn[j];
        W->dzn[j] = -W->rmi[j] + W->tn[j];
        W->dwp[j] = -(W->rcp[j] + W->wp[j] * W->dzp[j]) / W->zp[j];
        W->dwn[j] = -(W->rcn[j] + W->wn[j] * W->dzn[j]) / W->zn[j];
    }
    W->ap = fmin(step_to_boundary(m, W->s, W->ds, 1.0),
                 fmin(step_to_boundary(nx, W->wp, W->dwp, 1.0), step_to_boundary(nx, W->wn, W->dwn, 1.0)));
    W->ad = fmin(step_to_boundary(m, W->y, W->dy, 1.0),
                 fmin(step_to_boundary(nx, W->zp, W->dzp, 1.0), step_to_boundary(nx, W->zn, W->dzn, 1.0)));
}

/* Mehrotra's centring sigma = (mu_aff / mu)^3 from the predictor. */
static double one_sigma(const void *ws)
{
    const one_ws *W = ws;
    const int m = W->m, nx = W->nx;
    const double ap = W->ap, ad = W->ad;
    double ma = 0.0;
    for (int r = 0; r < m; r++)
        ma += (W->s[r] + ap * W->ds[r]) * (W->y[r] + ad * W->dy[r]);
    for (int j = 0; j < nx; j++)
        ma += (W->wp[j] + ap * W->dwp[j]) * (W->zp[j] + ad * W->dzp[j]) +
              (W->wn[j] + ap * W->dwn[j]) * (W->zn[j] + ad * W->dzn[j]);
    ma /= m + 2 * nx;
    return fmin(1.0, pow(ma / W->mu, 3.0));
}

/* 0.99 of the way to the boundary. */
static void one_step(void *ws)
{
    one_ws *W = ws;
    const double ap = fmin(1.0, 0.99 * W->ap), ad = fmin(1.0, 0.99 * W->ad);
    for (int j = 0; j < W->nx; j++) {
        W->wp[j] += ap * W->dwp[j];
        W->wn[j] += ap * W->dwn[j];
        W->zp[j] += ad * W->dzp[j];
        W->zn[j] += ad * W->dzn[j];
    }
    for (int r = 0; r < W->m; r++) {
        W->s[r] += ap * W->ds[r];
        W->y[r] += ad * W->dy[r];
    }
}

static int ipm_one(const attsvm__prob *P, const kron *K, double *rrow, double *c1, double *c2,
                   int *iters)
{
    one_ws W = {.P = P, .K = K, .m = P->m, .nx = P->nx};
    ws_array arr[WS_ARRAYS];
    const size_t na = one_arrays(&W, arr);
    *iters = 0;
    if (arrays_new(arr, na)) /* the simplex takes over */
        return -1;
    static const ipm_steps steps = {one_start, one_residuals, one_newton, one_direction, one_sigma,
                                    one_step};
    const int rc = ipm_loop(&steps, &W, iters);
    if (rc == 0) {
        ratios(W.m, W.y, W.s, rrow);
        ratios(W.nx, W.wp, W.zp, c1);
        ratios(W.nx, W.wn, W.zn, c2);
    }
    arrays_free(arr, na);
    return rc;
}

int attsvm__ipm(const attsvm__prob *P, int one, double *rrow, double *c1, double *c2, int *iters)
{
    attsvm__kron R = {0};
    kron K = {0};
    int rc = -1;
    if (attsvm__rows_kron(P, &R) == 0 && kron_build(&R, &K) == 0)
        rc = (one ? ipm_one : ipm_inf)(P, &K, rrow, c1, c2, iters);
    kron_free(&K);
    attsvm__kron_free(&R);
    return rc;
}
