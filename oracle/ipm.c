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

static int all_allocated(double *const *p, size_t n)
{
    for (size_t k = 0; k < n; k++)
        if (!p[k])
            return 0;
    return 1;
}

static void free_all(double *const *p, size_t n)
{
    for (size_t k = 0; k < n; k++)
        free(p[k]);
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
 * z_i z_i^T (K->zz), computed four pairs and 256 columns at a time (the
 * accumulators stay in L1, each zz load feeds four products). */
static void kron_normal(const kron *K, const double *w, const double *dg, double *M, double *C,
                        double *Cp)
{
    const int d = K->d, n = d * d, N = K->n, np = d * (d + 1) / 2;
    enum { CH = 256 };
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
    for (int p0 = 0; p0 < np; p0 += 4)
        for (int e0 = 0; e0 < n; e0 += CH) {
            const int len = n - e0 < CH ? n - e0 : CH, nq = np - p0 < 4 ? np - p0 : 4;
            double acc[4][CH];
            memset(acc, 0, sizeof acc);
            const double *c0 = Cp + (size_t)p0 * N, *c1 = nq > 1 ? c0 + N : c0,
                         *c2 = nq > 2 ? c0 + 2 * (size_t)N : c0, *c3 = nq > 3 ? c0 + 3 * (size_t)N : c0;
            for (int i = 0; i < N; i++) {
                const double *zr = K->zz + (size_t)i * n + e0, a0 = c0[i], a1 = c1[i], a2 = c2[i],
                             a3 = c3[i];
                for (int e = 0; e < len; e++) {
                    const double z = zr[e];
                    acc[0][e] += a0 * z;
                    acc[1][e] += a1 * z;
                    acc[2][e] += a2 * z;
                    acc[3][e] += a3 * z;
                }
            }
            for (int q = 0; q < nq; q++) {
                const int j = K->pj[p0 + q], jj = K->pjj[p0 + q];
                for (int e = 0; e < len; e++) {
                    const int k = (e0 + e) / d, kk = (e0 + e) % d, a = j * d + k, b = jj * d + kk;
                    if (b <= a)
                        M[(size_t)a * n + b] = acc[q][e];
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

/* max gamma s.t. A w - gamma e - s = 0, s >= 0, -1 <= w <= 1 (L = w + 1,
 * U = 1 - w), with duals y >= 0 (sum 1), zl, zu >= 0:
 *     A^T y + zl - zu = 0,   e^T y = 1,   y s = zl L = zu U = mu,
 * Mehrotra's predictor-corrector.  The Newton system reduces to the bordered
 * [M, -g; -g^T, h] [dw; dgamma] = [f1; f2] with M = A^T Dy A + Db,
 * Dy = y/s, Db = zl/L + zu/U, g = A^T Dy e, h = e^T Dy e. */
static int ipm_inf(const attsvm__prob *P, const kron *Kp, double *rrow, double *cl, double *cu, int *iters)
{
    const kron K = *Kp;
    const int m = P->m, nx = P->nx;
    int rc = -1;
    double *w = calloc((size_t)nx, sizeof *w), *L = malloc(sizeof *L * nx), *U = malloc(sizeof *U * nx),
           *zl = malloc(sizeof *zl * nx), *zu = malloc(sizeof *zu * nx), *s = malloc(sizeof *s * m),
           *y = malloc(sizeof *y * m), *rp = malloc(sizeof *rp * m), *rd = malloc(sizeof *rd * nx),
           *Dy = malloc(sizeof *Dy * m), *Db = malloc(sizeof *Db * nx), *gv = malloc(sizeof *gv * nx),
           *v1 = malloc(sizeof *v1 * nx), *v2 = malloc(sizeof *v2 * nx), *dw = malloc(sizeof *dw * nx),
           *ds = malloc(sizeof *ds * m), *dy = malloc(sizeof *dy * m), *dzl = malloc(sizeof *dzl * nx),
           *dzu = malloc(sizeof *dzu * nx), *rs = malloc(sizeof *rs * m), *rl = malloc(sizeof *rl * nx),
           *ru = malloc(sizeof *ru * nx), *tm = malloc(sizeof *tm * m), *tn = malloc(sizeof *tn * nx),
           *M = malloc(sizeof *M * (size_t)nx * nx), *F = malloc(sizeof *F * (size_t)nx * nx),
           *sc = malloc(sizeof *sc * nx), *C = malloc(sizeof *C * (size_t)K.d * K.d),
           *Cp = malloc(sizeof *Cp * (size_t)nx * K.n);
    double *fr[] = {w, L, U, zl, zu, s, y, rp, rd, Dy, Db, gv, v1, v2, dw, ds, dy, dzl, dzu,
                    rs, rl, ru, tm, tn, M, F, sc, C, Cp};
    if (!all_allocated(fr, sizeof fr / sizeof *fr)) {   /* the simplex takes over */
        free_all(fr, sizeof fr / sizeof *fr);
        *iters = 0;
        return -1;
    }
    double gam = 0.0;
    for (int r = 0; r < m; r++) {
        y[r] = 1.0 / m;
        s[r] = 1.0;
    }
    attsvm__rows_atlam_d(P, y, tn);
    double umax = 0.0;
    for (int j = 0; j < nx; j++)
        umax = fmax(umax, fabs(tn[j]));
    for (int j = 0; j < nx; j++) {
        L[j] = U[j] = 1.0;
        zl[j] = umax + fmax(0.0, -tn[j]);
        zu[j] = umax + fmax(0.0, tn[j]);
    }
    const int N = m + 2 * nx;
    int it;
    for (it = 0; it < 80; it++) {
        /* Residuals and the stopping test (relative gap and feasibility). */
        attsvm__rows_ax_d(P, w, tm);
        double rpmax = 0.0, rdmax = 0.0, sy = 0.0, mu = 0.0, dual = 0.0;
        for (int r = 0; r < m; r++) {
            rp[r] = tm[r] - gam - s[r];
            rpmax = fmax(rpmax, fabs(rp[r]));
            sy += y[r];
            mu += y[r] * s[r];
        }
        attsvm__rows_atlam_d(P, y, tn);
        for (int j = 0; j < nx; j++) {
            rd[j] = tn[j] + zl[j] - zu[j];
            rdmax = fmax(rdmax, fabs(rd[j]));
            mu += zl[j] * L[j] + zu[j] * U[j];
            dual += zl[j] + zu[j];
        }
        mu /= N;
        const double rg = sy - 1.0;
        if (gam > 0.0 && dual - gam <= 1e-9 * gam && rpmax <= 1e-9 * gam && rdmax <= 1e-9 * umax &&
            fabs(rg) <= 1e-9) {
            rc = 0;
            break;
        }
        /* Normal matrix and the bordered solve's fixed half. */
        double h = 0.0;
        for (int r = 0; r < m; r++) {
            Dy[r] = y[r] / s[r];
            h += Dy[r];
        }
        for (int j = 0; j < nx; j++)
            Db[j] = zl[j] / L[j] + zu[j] / U[j];
        kron_normal(&K, Dy, Db, M, C, Cp);
        if (attsvm__chol_factor_scaled(nx, M, F, sc))
            break;
        attsvm__rows_atlam_d(P, Dy, gv);
        memcpy(v2, gv, sizeof *v2 * nx);
        attsvm__chol_subst_scaled(nx, F, sc, v2);
        double gv2 = 0.0;
        for (int j = 0; j < nx; j++)
            gv2 += gv[j] * v2[j];
        double sig = 0.0, ap = 1.0, ad = 1.0, dg = 0.0;
        for (int pass = 0; pass < 2; pass++) {
            for (int r = 0; r < m; r++)
                rs[r] = y[r] * s[r] + (pass ? ds[r] * dy[r] - sig * mu : 0.0);
            for (int j = 0; j < nx; j++) {
                rl[j] = zl[j] * L[j] + (pass ? dw[j] * dzl[j] - sig * mu : 0.0);
                ru[j] = zu[j] * U[j] + (pass ? -dw[j] * dzu[j] - sig * mu : 0.0);
            }
            double f2 = -rg;
            for (int r = 0; r < m; r++) {
                tm[r] = rs[r] / s[r] + Dy[r] * rp[r];
                f2 += tm[r];
            }
            attsvm__rows_atlam_d(P, tm, v1);
            for (int j = 0; j < nx; j++)
                v1[j] = rd[j] - v1[j] - rl[j] / L[j] + ru[j] / U[j];
            attsvm__chol_subst_scaled(nx, F, sc, v1);
            double gv1 = 0.0;
            for (int j = 0; j < nx; j++)
                gv1 += gv[j] * v1[j];
            dg = (f2 + gv1) / (h - gv2);
            for (int j = 0; j < nx; j++)
                dw[j] = v1[j] + v2[j] * dg;
            attsvm__rows_ax_d(P, dw, ds);
            for (int r = 0; r < m; r++) {
                ds[r] += rp[r] - dg;
                dy[r] = -(rs[r] + y[r] * ds[r]) / s[r];
            }
            for (int j = 0; j < nx; j++) {
                dzl[j] = -(rl[j] + zl[j] * dw[j]) / L[j];
                dzu[j] = -(ru[j] - zu[j] * dw[j]) / U[j];
            }
            ap = fmin(step_to_boundary(m, s, ds, 1.0),
                      fmin(step_to_boundary(nx, L, dw, 1.0), step_to_boundary(nx, U, dw, -1.0)));
            ad = fmin(step_to_boundary(m, y, dy, 1.0),
                      fmin(step_to_boundary(nx, zl, dzl, 1.0), step_to_boundary(nx, zu, dzu, 1.0)));
            if (pass == 0) {
                double ma = 0.0;
                for (int r = 0; r < m; r++)
                    ma += (s[r] + ap * ds[r]) * (y[r] + ad * dy[r]);
                for (int j = 0; j < nx; j++)
                    ma += (L[j] + ap * dw[j]) * (zl[j] + ad * dzl[j]) +
                          (U[j] - ap * dw[j]) * (zu[j] + ad * dzu[j]);
                ma /= N;
                sig = fmin(1.0, pow(ma / mu, 3.0));
            }
        }
        ap = fmin(1.0, 0.99 * ap);
        ad = fmin(1.0, 0.99 * ad);
        for (int j = 0; j < nx; j++) {
            w[j] += ap * dw[j];
            L[j] = fmax(L[j] + ap * dw[j], 1e-300);
            U[j] = fmax(U[j] - ap * dw[j], 1e-300);
            zl[j] += ad * dzl[j];
            zu[j] += ad * dzu[j];
        }
        gam += ap * dg;
        for (int r = 0; r < m; r++) {
            s[r] += ap * ds[r];
            y[r] += ad * dy[r];
        }
    }
    *iters = it;
    if (rc == 0) {
        ratios(m, y, s, rrow);
        ratios(nx, zl, L, cl);
        ratios(nx, zu, U, cu);
    }
    free_all(fr, sizeof fr / sizeof *fr);
    return rc;
}

/* p = 1: min sum(w+ + w-) s.t. A (w+ - w-) - s = 1, w+-, s >= 0, with duals
 * y >= 0, z+- >= 0:  A^T y + z+ = 1,  -A^T y + z- = 1,  y s = w+ z+ = w- z- = mu.
 * With Theta = w+/z+ + w-/z- the Newton system reduces to dx = dw+ - dw-:
 *     (A^T Dy A + Theta^-1) dx = Theta^-1 q - A^T (rs/s + Dy rp),
 * q = (w+ r+ - rc+)/z+ - (w- r- - rc-)/z-, and the rest follows. */
static int ipm_one(const attsvm__prob *P, const kron *Kp, double *rrow, double *cp, double *cn, int *iters)
{
    const kron K = *Kp;
    const int m = P->m, nx = P->nx;
    int rc = -1;
    double *wp = malloc(sizeof *wp * nx), *wn = malloc(sizeof *wn * nx), *zp = malloc(sizeof *zp * nx),
           *zn = malloc(sizeof *zn * nx), *s = malloc(sizeof *s * m), *y = malloc(sizeof *y * m),
           *rp = malloc(sizeof *rp * m), *rpl = malloc(sizeof *rpl * nx), *rmi = malloc(sizeof *rmi * nx),
           *Dy = malloc(sizeof *Dy * m), *Ti = malloc(sizeof *Ti * nx), *q = malloc(sizeof *q * nx),
           *dx = malloc(sizeof *dx * nx), *dwp = malloc(sizeof *dwp * nx), *dwn = malloc(sizeof *dwn * nx),
           *dzp = malloc(sizeof *dzp * nx), *dzn = malloc(sizeof *dzn * nx), *ds = malloc(sizeof *ds * m),
           *dy = malloc(sizeof *dy * m), *rs = malloc(sizeof *rs * m), *rcp = malloc(sizeof *rcp * nx),
           *rcn = malloc(sizeof *rcn * nx), *tm = malloc(sizeof *tm * m), *tn = malloc(sizeof *tn * nx),
           *x = malloc(sizeof *x * nx), *M = malloc(sizeof *M * (size_t)nx * nx),
           *F = malloc(sizeof *F * (size_t)nx * nx), *sc = malloc(sizeof *sc * nx),
           *C = malloc(sizeof *C * (size_t)K.d * K.d), *Cp = malloc(sizeof *Cp * (size_t)nx * K.n);
    double *fr[] = {wp, wn, zp, zn, s, y, rp, rpl, rmi, Dy, Ti, q, dx, dwp, dwn, dzp, dzn,
                    ds, dy, rs, rcp, rcn, tm, tn, x, M, F, sc, C, Cp};
    if (!all_allocated(fr, sizeof fr / sizeof *fr)) {   /* the simplex takes over */
        free_all(fr, sizeof fr / sizeof *fr);
        *iters = 0;
        return -1;
    }
    for (int r = 0; r < m; r++) {
        y[r] = 1.0 / m;
        s[r] = 1.0;
    }
    attsvm__rows_atlam_d(P, y, tn);
    for (int j = 0; j < nx; j++) {
        wp[j] = wn[j] = 1.0;
        zp[j] = 1.0 + fmax(0.0, tn[j]);
        zn[j] = 1.0 + fmax(0.0, -tn[j]);
    }
    const int N = m + 2 * nx;
    int it;
    for (it = 0; it < 80; it++) {
        for (int j = 0; j < nx; j++)
            x[j] = wp[j] - wn[j];
        attsvm__rows_ax_d(P, x, tm);
        double rpmax = 0.0, rdmax = 0.0, mu = 0.0, pobj = 0.0, dobj = 0.0;
        for (int r = 0; r < m; r++) {
            rp[r] = tm[r] - s[r] - 1.0;
            rpmax = fmax(rpmax, fabs(rp[r]));
            mu += y[r] * s[r];
            dobj += y[r];
        }
        attsvm__rows_atlam_d(P, y, tn);
        for (int j = 0; j < nx; j++) {
            rpl[j] = tn[j] + zp[j] - 1.0;
            rmi[j] = -tn[j] + zn[j] - 1.0;
            rdmax = fmax(rdmax, fmax(fabs(rpl[j]), fabs(rmi[j])));
            mu += wp[j] * zp[j] + wn[j] * zn[j];
            pobj += wp[j] + wn[j];
        }
        mu /= N;
        if (pobj - dobj <= 1e-9 * pobj && rpmax <= 1e-9 && rdmax <= 1e-9) {
            rc = 0;
            break;
        }
        for (int r = 0; r < m; r++)
            Dy[r] = y[r] / s[r];
        for (int j = 0; j < nx; j++)
            Ti[j] = 1.0 / (wp[j] / zp[j] + wn[j] / zn[j]);
        kron_normal(&K, Dy, Ti, M, C, Cp);
        if (attsvm__chol_factor_scaled(nx, M, F, sc))
            break;
        double sig = 0.0, ap = 1.0, ad = 1.0;
        for (int pass = 0; pass < 2; pass++) {
            for (int r = 0; r < m; r++) {
                rs[r] = y[r] * s[r] + (pass ? ds[r] * dy[r] - sig * mu : 0.0);
                tm[r] = rs[r] / s[r] + Dy[r] * rp[r];
            }
            for (int j = 0; j < nx; j++) {
                rcp[j] = wp[j] * zp[j] + (pass ? dwp[j] * dzp[j] - sig * mu : 0.0);
                rcn[j] = wn[j] * zn[j] + (pass ? dwn[j] * dzn[j] - sig * mu : 0.0);
                q[j] = (wp[j] * rpl[j] - rcp[j]) / zp[j] - (wn[j] * rmi[j] - rcn[j]) / zn[j];
            }
            attsvm__rows_atlam_d(P, tm, dx);
            for (int j = 0; j < nx; j++)
                dx[j] = Ti[j] * q[j] - dx[j];
            attsvm__chol_subst_scaled(nx, F, sc, dx);
            attsvm__rows_ax_d(P, dx, ds);
            for (int r = 0; r < m; r++) {
                ds[r] += rp[r];
                dy[r] = -(rs[r] + y[r] * ds[r]) / s[r];
            }
            for (int j = 0; j < nx; j++) { /* A^T dy, taken so that dw+ - dw- = dx exactly */
                tn[j] = Ti[j] * (dx[j] - q[j]);
                dzp[j] = -rpl[j] - tn[j];
                dzn[j] = -rmi[j] + tn[j];
                dwp[j] = -(rcp[j] + wp[j] * dzp[j]) / zp[j];
                dwn[j] = -(rcn[j] + wn[j] * dzn[j]) / zn[j];
            }
            ap = fmin(step_to_boundary(m, s, ds, 1.0),
                      fmin(step_to_boundary(nx, wp, dwp, 1.0), step_to_boundary(nx, wn, dwn, 1.0)));
            ad = fmin(step_to_boundary(m, y, dy, 1.0),
                      fmin(step_to_boundary(nx, zp, dzp, 1.0), step_to_boundary(nx, zn, dzn, 1.0)));
            if (pass == 0) {
                double ma = 0.0;
                for (int r = 0; r < m; r++)
                    ma += (s[r] + ap * ds[r]) * (y[r] + ad * dy[r]);
                for (int j = 0; j < nx; j++)
                    ma += (wp[j] + ap * dwp[j]) * (zp[j] + ad * dzp[j]) +
                          (wn[j] + ap * dwn[j]) * (zn[j] + ad * dzn[j]);
                ma /= N;
                sig = fmin(1.0, pow(ma / mu, 3.0));
            }
        }
        ap = fmin(1.0, 0.99 * ap);
        ad = fmin(1.0, 0.99 * ad);
        for (int j = 0; j < nx; j++) {
            wp[j] += ap * dwp[j];
            wn[j] += ap * dwn[j];
            zp[j] += ad * dzp[j];
            zn[j] += ad * dzn[j];
        }
        for (int r = 0; r < m; r++) {
            s[r] += ap * ds[r];
            y[r] += ad * dy[r];
        }
    }
    *iters = it;
    if (rc == 0) {
        ratios(m, y, s, rrow);
        ratios(nx, wp, zp, cp);
        ratios(nx, wn, zn, cn);
    }
    free_all(fr, sizeof fr / sizeof *fr);
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
