/* rows.c - the constraint rows of a problem: products with A and A^T, row
 * norms and the Kronecker structure of the W rows (rows.h says why every
 * method goes through here).  Rows come from the dense matrix P->A or, for
 * attsvm_solve's W-SVM, from the generator P->gen (wrows.c), whose products
 * cost O(n (T d + d^2)) and never form A.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "linalg.h"
#include "rows.h"

void attsvm__rows_ax(const attsvm__prob *P, const double *x, double *ax)
{
    if (P->gen) {
        attsvm__wrows_ax(&P->gen->K, x, ax);
        return;
    }
    for (int r = 0; r < P->m; r++)
        ax[r] = (double)attsvm__dotl(attsvm__row(P, r), x, P->nx);
}

void attsvm__rows_ax_d(const attsvm__prob *P, const double *x, double *ax)
{
    if (P->gen) {
        attsvm__wrows_ax(&P->gen->K, x, ax);
        return;
    }
    for (int r = 0; r < P->m; r++) {
        const double *a = attsvm__row(P, r);
        double s = 0.0;
        for (int j = 0; j < P->nx; j++)
            s += a[j] * x[j];
        ax[r] = s;
    }
}

int attsvm__rows_atlam(const attsvm__prob *P, const double *lam, double *u)
{
    if (P->gen) {
        attsvm__wrows_atlam(&P->gen->K, lam, u);
        return 0;
    }
    long double *acc = calloc((size_t)P->nx, sizeof *acc);
    if (!acc)
        return -1;
    for (int r = 0; r < P->m; r++) {
        if (lam[r] == 0.0)
            continue;
        const double *a = attsvm__row(P, r);
        for (int j = 0; j < P->nx; j++)
            acc[j] += (long double)lam[r] * a[j];
    }
    for (int j = 0; j < P->nx; j++)
        u[j] = (double)acc[j];
    free(acc);
    return 0;
}

void attsvm__rows_atlam_d(const attsvm__prob *P, const double *lam, double *u)
{
    if (P->gen) {
        attsvm__wrows_atlam(&P->gen->K, lam, u);
        return;
    }
    memset(u, 0, sizeof *u * (size_t)P->nx);
    for (int r = 0; r < P->m; r++) {
        const double *a = attsvm__row(P, r), v = lam[r];
        if (v != 0.0)
            for (int j = 0; j < P->nx; j++)
                u[j] += v * a[j];
    }
}

void attsvm__rows_norms(const attsvm__prob *P, double p, double *out)
{
    if (P->gen) {
        attsvm__wrows_norms(&P->gen->K, p, out);
        return;
    }
    for (int r = 0; r < P->m; r++)
        out[r] = attsvm__norm(attsvm__row(P, r), P->nx, p);
}

double attsvm__rows_absmax(const attsvm__prob *P)
{
    if (P->gen)
        return attsvm__wrows_absmax(&P->gen->K);
    double amax = 0.0;
    for (size_t k = 0; k < (size_t)P->m * P->nx; k++)
        amax = fmax(amax, fabs(P->A[k]));
    return amax;
}

void attsvm__kron_free(attsvm__kron *K)
{
    free(K->z);
    free(K->b);
    K->z = K->b = NULL;
}

/* One block i: z_i from the row holding the block's largest |a| (divided by
 * that entry's z component), b_r from column ks; -1 if any entry differs
 * from b_rj z_ik by more than 1e-13 of the largest. */
static int kron_block(const attsvm__prob *P, attsvm__kron *K, int i)
{
    const int nx = P->nx, d = K->d, g = K->g;
    const double *A0 = attsvm__row(P, i * g);
    size_t at = 0;
    double amax = 0.0;
    for (size_t e = 0; e < (size_t)g * nx; e++)
        if (fabs(A0[e]) > amax) {
            amax = fabs(A0[e]);
            at = e;
        }
    if (!(amax > 0.0))
        return -1;
    const double *ar = A0 + at / nx * nx;
    const int js = (int)(at % nx) / d, ks = (int)(at % nx) % d;
    double *z = K->z + (size_t)i * d;
    for (int k = 0; k < d; k++)
        z[k] = ar[js * d + k] / ar[js * d + ks];
    for (int t = 0; t < g; t++) {
        const double *a = A0 + (size_t)t * nx;
        double *b = K->b + ((size_t)i * g + t) * d;
        for (int j = 0; j < d; j++)
            b[j] = a[j * d + ks];
        for (int j = 0; j < d; j++)
            for (int k = 0; k < d; k++)
                if (fabs(a[j * d + k] - b[j] * z[k]) > 1e-13 * amax)
                    return -1;
    }
    return 0;
}

int attsvm__rows_kron(const attsvm__prob *P, attsvm__kron *K)
{
    const int m = P->m, nx = P->nx, g = P->group, d = (int)lround(sqrt((double)nx));
    if (g <= 0 || m % g || d * d != nx || d < 2)
        return -1;
    K->n = m / g;
    K->d = d;
    K->g = g;
    K->z = malloc(sizeof *K->z * (size_t)K->n * d);
    K->b = malloc(sizeof *K->b * (size_t)m * d);
    if (!K->z || !K->b)
        return -1;
    if (P->gen) {
        attsvm__wrows_factors(&P->gen->K, K->z, K->b);
        return 0;
    }
    for (int i = 0; i < K->n; i++)
        if (kron_block(P, K, i))
            return -1;
    return 0;
}

double attsvm__rows_dot(const attsvm__prob *P, int r, int s)
{
    if (P->gen)
        return attsvm__wrows_dot(&P->gen->K, r, s);
    return attsvm__dot(attsvm__row(P, r), attsvm__row(P, s), P->nx);
}

void attsvm__rows_dots(const attsvm__prob *P, int r, const int *s, int ns, double *out)
{
    if (P->gen) {
        attsvm__wrows_dots(&P->gen->K, r, s, ns, out);
        return;
    }
    for (int k = 0; k < ns; k++)
        out[k] = attsvm__dot(attsvm__row(P, r), attsvm__row(P, s[k]), P->nx);
}

void attsvm__rows_sub_atmu(const attsvm__prob *P, const int *R, int nr, const long double *mu,
                           long double *ul)
{
    if (P->gen) {
        attsvm__wcache_atmu(P->gen, R, nr, mu, ul);
        return;
    }
    for (int j = 0; j < P->nx; j++)
        ul[j] = 0.0L;
    for (int k = 0; k < nr; k++) {
        if (mu[k] == 0.0L)
            continue;
        const double *a = attsvm__row(P, R[k]);
        const long double mk = mu[k];
        for (int j = 0; j < P->nx; j++)
            ul[j] += mk * a[j];
    }
}

void attsvm__rows_sub_ax(const attsvm__prob *P, const int *R, int nr, const double *x,
                         long double shift, double *ax)
{
    if (P->gen) {
        attsvm__wcache_ax(P->gen, R, nr, x, shift, ax);
        return;
    }
    for (int k = 0; k < nr; k++)
        ax[k] = (double)(attsvm__dotl(attsvm__row(P, R[k]), x, P->nx) - shift);
}

int attsvm__rows_wgram(const attsvm__prob *P, const int *R, int nr, const double *w, double *H)
{
    return P->gen ? attsvm__wcache_wgram(P->gen, R, nr, w, H) : -1;
}

int attsvm__rows_sub_abs(const attsvm__prob *P, const int *R, int nr, const long double *mu,
                         double *out)
{
    if (!P->gen)
        return -1;
    attsvm__wcache_abs_atmu(P->gen, R, nr, mu, out);
    return 0;
}

int attsvm__rows_sub_absax(const attsvm__prob *P, const int *R, int nr, const double *v,
                           double *outr)
{
    if (!P->gen)
        return -1;
    attsvm__wcache_abs_ax(P->gen, R, nr, v, outr);
    return 0;
}
