/* wrows.c - the W-SVM's rows a_r = vec(b_r z_i^T) as products, without the
 * m x d^2 matrix (doc/design.md (14), (21)).
 *
 *   A w:       u_i = W z_i (d^2 per sample), then a_r . w = b_r . u_i (d per row);
 *   A^T lam:   sum_i g_i z_i^T with g_i = sum_t lam_it b_it (one rank-one
 *              update per sample);
 *   ||a_r||_q = ||b_r||_q ||z_i||_q for every q in [1, inf], since
 *              sum_jc |b_j z_c|^q = (sum_j |b_j|^q)(sum_c |z_c|^q).
 * Sums run in long double, like the dense products of cert.c, so that
 * certificates computed either way agree to rounding.
 */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "linalg.h"
#include "wrows.h"

int attsvm__wrows_init(attsvm__wrows *K, const attsvm_data *D, const int *alpha)
{
    if (D->T < 2 || (double)D->n * (D->T - 1) > INT_MAX || (double)D->d * D->d > INT_MAX)
        return -1;
    *K = (attsvm__wrows){D->n, D->T, D->d, D->T - 1, D->n * (D->T - 1), D->d * D->d,
                        D->X, D->Z, alpha};
    return 0;
}

void attsvm__wrows_pair(const attsvm__wrows *K, int r, int *i, int *t)
{
    const int k = r % K->g;
    *i = r / K->g;
    *t = k < K->alpha[*i] ? k : k + 1;
}

static const double *token(const attsvm__wrows *K, int i, int t)
{
    return K->X + ((size_t)i * K->T + t) * K->d;
}

void attsvm__wrows_diff(const attsvm__wrows *K, int r, double *b)
{
    int i, t;
    attsvm__wrows_pair(K, r, &i, &t);
    const double *xa = token(K, i, K->alpha[i]), *xt = token(K, i, t);
    for (int j = 0; j < K->d; j++)
        b[j] = xa[j] - xt[j];
}

const double *attsvm__wrows_query(const attsvm__wrows *K, int i)
{
    return K->Z + (size_t)i * K->d;
}

void attsvm__wrows_row(const attsvm__wrows *K, int r, double *a)
{
    const int d = K->d;
    int i, t;
    attsvm__wrows_pair(K, r, &i, &t);
    const double *xa = token(K, i, K->alpha[i]), *xt = token(K, i, t), *z = attsvm__wrows_query(K, i);
    for (int j = 0; j < d; j++) {
        const double b = xa[j] - xt[j];
        double *aj = a + (size_t)j * d;
        for (int c = 0; c < d; c++)
            aj[c] = b * z[c];
    }
}

/* u = W z_i (W row-major d x d, entry j d + c multiplies x_j z_c). */
static void w_times_z(const attsvm__wrows *K, const double *w, int i, long double *u)
{
    const int d = K->d;
    const double *z = attsvm__wrows_query(K, i);
    for (int j = 0; j < d; j++) {
        const double *wj = w + (size_t)j * d;
        long double s0 = 0.0L, s1 = 0.0L;
        int c = 0;
        for (; c + 1 < d; c += 2) {
            s0 += (long double)wj[c] * z[c];
            s1 += (long double)wj[c + 1] * z[c + 1];
        }
        if (c < d)
            s0 += (long double)wj[c] * z[c];
        u[j] = s0 + s1;
    }
}

/* a_r . w = b_r . u_i, b_r formed in double as in the stored row. */
static long double row_dotl(const attsvm__wrows *K, int i, int t, const long double *u)
{
    const double *xa = token(K, i, K->alpha[i]), *xt = token(K, i, t);
    long double s0 = 0.0L, s1 = 0.0L;
    int j = 0;
    for (; j + 1 < K->d; j += 2) {
        s0 += (long double)(xa[j] - xt[j]) * u[j];
        s1 += (long double)(xa[j + 1] - xt[j + 1]) * u[j + 1];
    }
    if (j < K->d)
        s0 += (long double)(xa[j] - xt[j]) * u[j];
    return s0 + s1;
}

static double row_dot(const attsvm__wrows *K, int i, int t, const long double *u)
{
    return (double)row_dotl(K, i, t, u);
}

void attsvm__wrows_ax(const attsvm__wrows *K, const double *w, double *ax)
{
    long double u[K->d];
    for (int i = 0; i < K->n; i++) {
        w_times_z(K, w, i, u);
        for (int k = 0; k < K->g; k++) {
            int ii, t;
            attsvm__wrows_pair(K, i * K->g + k, &ii, &t);
            ax[i * K->g + k] = row_dot(K, i, t, u);
        }
    }
}

void attsvm__wrows_atlam(const attsvm__wrows *K, const double *lam, double *u)
{
    const int d = K->d;
    long double *acc = calloc((size_t)K->nx, sizeof *acc), g[d];
    if (!acc) {
        /* Same products in double: only the accumulation is coarser. */
        memset(u, 0, sizeof *u * (size_t)K->nx);
    }
    for (int i = 0; i < K->n; i++) {
        int any = 0;
        memset(g, 0, sizeof g);
        const double *xa = token(K, i, K->alpha[i]), *z = attsvm__wrows_query(K, i);
        for (int k = 0; k < K->g; k++) {
            const double l = lam[i * K->g + k];
            if (l == 0.0)
                continue;
            int ii, t;
            attsvm__wrows_pair(K, i * K->g + k, &ii, &t);
            const double *xt = token(K, i, t);
            for (int j = 0; j < d; j++)
                g[j] += (long double)l * (xa[j] - xt[j]);
            any = 1;
        }
        if (!any)
            continue;
        for (int j = 0; j < d; j++)
            for (int c = 0; c < d; c++) {
                if (acc)
                    acc[(size_t)j * d + c] += g[j] * z[c];
                else
                    u[(size_t)j * d + c] += (double)(g[j] * z[c]);
            }
    }
    if (acc)
        for (int e = 0; e < K->nx; e++)
            u[e] = (double)acc[e];
    free(acc);
}

/* ||v||_q with the scaling of cert.c's norm (no overflow for large q). */
static double qnorm(const double *v, int n, double q)
{
    double mx = 0.0;
    for (int j = 0; j < n; j++)
        mx = fmax(mx, fabs(v[j]));
    if (isinf(q) || mx == 0.0)
        return mx;
    long double s = 0.0L;
    for (int j = 0; j < n; j++)
        s += q == 1.0 ? fabs(v[j]) / mx : q == 2.0 ? (v[j] / mx) * (v[j] / mx) : pow(fabs(v[j]) / mx, q);
    return mx * (double)(q == 1.0 ? s : q == 2.0 ? sqrtl(s) : powl(s, 1.0L / q));
}

void attsvm__wrows_norms(const attsvm__wrows *K, double q, double *nq)
{
    double b[K->d];
    for (int i = 0; i < K->n; i++) {
        const double zn = qnorm(attsvm__wrows_query(K, i), K->d, q);
        for (int k = 0; k < K->g; k++) {
            const int r = i * K->g + k;
            attsvm__wrows_diff(K, r, b);
            nq[r] = qnorm(b, K->d, q) * zn;
        }
    }
}

void attsvm__wrows_factors(const attsvm__wrows *K, double *z, double *b)
{
    memcpy(z, K->Z, sizeof *z * (size_t)K->n * K->d);
    for (int r = 0; r < K->m; r++)
        attsvm__wrows_diff(K, r, b + (size_t)r * K->d);
}

static long double dotl(const double *a, const double *b, int n)
{
    long double s0 = 0.0L, s1 = 0.0L;
    int j = 0;
    for (; j + 1 < n; j += 2) {
        s0 += (long double)a[j] * b[j];
        s1 += (long double)a[j + 1] * b[j + 1];
    }
    if (j < n)
        s0 += (long double)a[j] * b[j];
    return s0 + s1;
}

double attsvm__wrows_dot(const attsvm__wrows *K, int r, int s)
{
    double br[K->d], bs[K->d];
    attsvm__wrows_diff(K, r, br);
    attsvm__wrows_diff(K, s, bs);
    const int i = r / K->g, i2 = s / K->g;
    const double *zi = attsvm__wrows_query(K, i), *zs = attsvm__wrows_query(K, i2);
    return (double)(dotl(br, bs, K->d) * (i == i2 ? dotl(zi, zi, K->d) : dotl(zi, zs, K->d)));
}

/* (xa - xt) . b over n entries in double, two 128-bit partial sums (the
 * row's b formed on the fly). */
static double diff_dot(const double *xa, const double *xt, const double *b, int n);

void attsvm__wrows_dots(const attsvm__wrows *K, int r, const int *s, int ns, double *out)
{
    const int d = K->d;
    double br[d];
    attsvm__wrows_diff(K, r, br);
    const int i = r / K->g;
    const double *zi = attsvm__wrows_query(K, i);
    int prev = -1;
    double zz = 0.0;
    for (int k = 0; k < ns; k++) {
        int i2, t;
        attsvm__wrows_pair(K, s[k], &i2, &t);
        if (i2 != prev) {
            zz = diff_dot(attsvm__wrows_query(K, i2), NULL, zi, d);
            prev = i2;
        }
        out[k] = diff_dot(token(K, i2, K->alpha[i2]), token(K, i2, t), br, d) * zz;
    }
}

double attsvm__wrows_absmax(const attsvm__wrows *K)
{
    double mx = 0.0, b[K->d];
    for (int i = 0; i < K->n; i++) {
        const double zn = qnorm(attsvm__wrows_query(K, i), K->d, INFINITY);
        for (int k = 0; k < K->g; k++) {
            attsvm__wrows_diff(K, i * K->g + k, b);
            mx = fmax(mx, qnorm(b, K->d, INFINITY) * zn);
        }
    }
    return mx;
}

/* ---------------------------------------------------------------- row copies */

enum { WCACHE_CHUNK = 32 };

int attsvm__wcache_init(attsvm__wcache *C, const attsvm__wrows *K)
{
    memset(C, 0, sizeof *C);
    C->K = *K;
    C->slot = malloc(sizeof *C->slot * (size_t)K->m);
    C->spare = malloc(sizeof *C->spare * (size_t)K->nx);
    C->U = malloc(sizeof *C->U * (size_t)K->n * K->d);
    C->mark = calloc((size_t)K->n, sizeof *C->mark);
    if (!C->slot || !C->spare || !C->U || !C->mark) {
        attsvm__wcache_free(C);
        return -1;
    }
    for (int r = 0; r < K->m; r++)
        C->slot[r] = -1;
    return 0;
}

/* Room for one more copy; 0 or -1. */
static int wcache_room(attsvm__wcache *C)
{
    if (C->used < C->nchunk * WCACHE_CHUNK)
        return 0;
    if (C->nchunk == C->capchunk) {
        int cap = C->capchunk ? 2 * C->capchunk : 16;
        double **ch = realloc(C->chunk, sizeof *ch * (size_t)cap);
        if (!ch)
            return -1;
        C->chunk = ch;
        C->capchunk = cap;
    }
    double *rows = malloc(sizeof *rows * (size_t)WCACHE_CHUNK * C->K.nx);
    if (!rows)
        return -1;
    C->chunk[C->nchunk++] = rows;
    return 0;
}

const double *attsvm__wcache_get(attsvm__wcache *C, int r)
{
    const size_t nx = (size_t)C->K.nx;
    if (C->slot[r] >= 0)
        return C->chunk[C->slot[r] / WCACHE_CHUNK] + (size_t)(C->slot[r] % WCACHE_CHUNK) * nx;
    if (C->nomem || wcache_room(C) != 0) {
        C->nomem = 1;
        attsvm__wrows_row(&C->K, r, C->spare);
        return C->spare;
    }
    const int s = C->used++;
    double *a = C->chunk[s / WCACHE_CHUNK] + (size_t)(s % WCACHE_CHUNK) * nx;
    attsvm__wrows_row(&C->K, r, a);
    C->slot[r] = s;
    return a;
}

int attsvm__wcache_count(const attsvm__wcache *C)
{
    return C->used;
}

void attsvm__wcache_free(attsvm__wcache *C)
{
    for (int k = 0; k < C->nchunk; k++)
        free(C->chunk[k]);
    free(C->chunk);
    free(C->slot);
    free(C->spare);
    free(C->U);
    free(C->mark);
    memset(C, 0, sizeof *C);
}

/* The samples of R[0..nr-1] in order of first appearance, their U rows
 * zeroed; returns their count (C->mark set, cleared by unmark). */
static int mark_samples(attsvm__wcache *C, const int *R, int nr, int *order)
{
    int ns = 0;
    for (int k = 0; k < nr; k++) {
        const int i = R[k] / C->K.g;
        if (!C->mark[i]) {
            order[ns] = i;
            C->mark[i] = ++ns;
            memset(C->U + (size_t)(ns - 1) * C->K.d, 0, sizeof *C->U * (size_t)C->K.d);
        }
    }
    return ns;
}

static void unmark(attsvm__wcache *C, const int *order, int ns)
{
    for (int s = 0; s < ns; s++)
        C->mark[order[s]] = 0;
}

void attsvm__wcache_atmu(attsvm__wcache *C, const int *R, int nr, const long double *mu,
                         long double *ul)
{
    const attsvm__wrows *K = &C->K;
    const int d = K->d;
    int *order = malloc(sizeof *order * (size_t)(nr + 1));
    for (int j = 0; j < K->nx; j++)
        ul[j] = 0.0L;
    if (!order) {   /* row by row through the copies */
        for (int k = 0; k < nr; k++) {
            const double *a = attsvm__wcache_get(C, R[k]);
            for (int j = 0; j < K->nx; j++)
                ul[j] += mu[k] * a[j];
        }
        return;
    }
    const int ns = mark_samples(C, R, nr, order);
    double b[d];
    for (int k = 0; k < nr; k++) {     /* g_i = sum_t mu_it b_it */
        if (mu[k] == 0.0L)
            continue;
        long double *g = C->U + (size_t)(C->mark[R[k] / K->g] - 1) * d;
        attsvm__wrows_diff(K, R[k], b);
        for (int j = 0; j < d; j++)
            g[j] += mu[k] * b[j];
    }
    for (int s = 0; s < ns; s++) {     /* ul += vec(g_i z_i^T) */
        const long double *g = C->U + (size_t)s * d;
        const double *z = attsvm__wrows_query(K, order[s]);
        for (int j = 0; j < d; j++)
            if (g[j] != 0.0L)
                for (int c = 0; c < d; c++)
                    ul[(size_t)j * d + c] += g[j] * z[c];
    }
    unmark(C, order, ns);
    free(order);
}

void attsvm__wcache_ax(attsvm__wcache *C, const int *R, int nr, const double *x,
                       long double shift, double *ax)
{
    const attsvm__wrows *K = &C->K;
    int *order = malloc(sizeof *order * (size_t)(nr + 1));
    if (!order) {
        for (int k = 0; k < nr; k++) {
            const double *a = attsvm__wcache_get(C, R[k]);
            long double sum = 0.0L;
            for (int j = 0; j < K->nx; j++)
                sum += (long double)a[j] * x[j];
            ax[k] = (double)(sum - shift);
        }
        return;
    }
    const int ns = mark_samples(C, R, nr, order);
    for (int s = 0; s < ns; s++)        /* u_i = W z_i */
        w_times_z(K, x, order[s], C->U + (size_t)s * K->d);
    for (int k = 0; k < nr; k++) {
        int i, t;
        attsvm__wrows_pair(K, R[k], &i, &t);
        ax[k] = (double)(row_dotl(K, i, t, C->U + (size_t)(C->mark[i] - 1) * K->d) - shift);
    }
    unmark(C, order, ns);
    free(order);
}

void attsvm__wcache_abs_atmu(attsvm__wcache *C, const int *R, int nr, const long double *mu,
                             double *out)
{
    const attsvm__wrows *K = &C->K;
    const int d = K->d;
    double b[d], g[d];
    memset(out, 0, sizeof *out * (size_t)K->nx);
    for (int k = 0; k < nr;) {          /* runs of rows of one sample */
        const int i = R[k] / K->g;
        memset(g, 0, sizeof g);
        for (; k < nr && R[k] / K->g == i; k++) {
            attsvm__wrows_diff(K, R[k], b);
            for (int j = 0; j < d; j++)
                g[j] += fabs((double)mu[k] * b[j]);
        }
        const double *z = attsvm__wrows_query(K, i);
        for (int j = 0; j < d; j++)
            for (int c = 0; c < d; c++)
                out[(size_t)j * d + c] += g[j] * fabs(z[c]);
    }
}

void attsvm__wcache_abs_ax(attsvm__wcache *C, const int *R, int nr, const double *v, double *out)
{
    const attsvm__wrows *K = &C->K;
    const int d = K->d;
    double u[d], b[d];
    for (int k = 0; k < nr;) {
        const int i = R[k] / K->g;
        const double *z = attsvm__wrows_query(K, i);
        for (int j = 0; j < d; j++) {   /* u = V |z_i| */
            double s = 0.0;
            for (int c = 0; c < d; c++)
                s += v[(size_t)j * d + c] * fabs(z[c]);
            u[j] = s;
        }
        for (; k < nr && R[k] / K->g == i; k++) {
            attsvm__wrows_diff(K, R[k], b);
            double s = 0.0;
            for (int j = 0; j < d; j++)
                s += fabs(b[j]) * u[j];
            out[k] = s;
        }
    }
}

/* a . b in double with four 128-bit partial sums (GCC/Clang vector
 * extension, as in linalg.c): the short (d-entry) dots of wgram. */
typedef double v2d __attribute__((vector_size(16)));

static inline v2d ld2(const double *p)
{
    v2d v;
    memcpy(&v, p, sizeof v);
    return v;
}

static double dotv(const double *a, const double *b, int n)
{
    v2d s0 = {0, 0}, s1 = s0, s2 = s0, s3 = s0;
    int j = 0;
    for (; j + 7 < n; j += 8) {
        s0 += ld2(a + j) * ld2(b + j);
        s1 += ld2(a + j + 2) * ld2(b + j + 2);
        s2 += ld2(a + j + 4) * ld2(b + j + 4);
        s3 += ld2(a + j + 6) * ld2(b + j + 6);
    }
    s0 += s1 + s2 + s3;
    double r = s0[0] + s0[1];
    for (; j < n; j++)
        r += a[j] * b[j];
    return r;
}

static double diff_dot(const double *xa, const double *xt, const double *b, int n)
{
    v2d s0 = {0, 0}, s1 = s0;
    int j = 0;
    if (xt)
        for (; j + 3 < n; j += 4) {
            s0 += (ld2(xa + j) - ld2(xt + j)) * ld2(b + j);
            s1 += (ld2(xa + j + 2) - ld2(xt + j + 2)) * ld2(b + j + 2);
        }
    else
        for (; j + 3 < n; j += 4) {
            s0 += ld2(xa + j) * ld2(b + j);
            s1 += ld2(xa + j + 2) * ld2(b + j + 2);
        }
    s0 += s1;
    double v = s0[0] + s0[1];
    for (; j < n; j++)
        v += (xt ? xa[j] - xt[j] : xa[j]) * b[j];
    return v;
}

int attsvm__wcache_wgram(attsvm__wcache *C, const int *R, int nr, const double *w, double *H)
{
    const attsvm__wrows *K = &C->K;
    const int d = K->d;
    int *smp = malloc(sizeof *smp * (size_t)(nr + 1)), *start = calloc((size_t)nr + 2, sizeof *start);
    int *pos = malloc(sizeof *pos * (size_t)(nr + 1));
    double *B = malloc(sizeof *B * ((size_t)nr * d + 1));
    double *Zs = malloc(sizeof *Zs * ((size_t)nr * d + 1)), *Gs = malloc(sizeof *Gs * ((size_t)nr * d + 1));
    double *Ws = malloc(sizeof *Ws * ((size_t)d * d + 1));
    if (!smp || !start || !pos || !B || !Zs || !Gs || !Ws) {
        free(smp);
        free(start);
        free(pos);
        free(B);
        free(Zs);
        free(Gs);
        free(Ws);
        return -1;
    }
    const int ns = mark_samples(C, R, nr, smp);
    for (int k = 0; k < nr; k++)        /* rows grouped by sample */
        start[C->mark[R[k] / K->g]]++;
    for (int s = 0; s < ns; s++)
        start[s + 1] += start[s];
    for (int k = 0; k < nr; k++) {
        const int at = start[C->mark[R[k] / K->g] - 1]++;
        pos[at] = k;
        attsvm__wrows_diff(K, R[k], B + (size_t)at * d);
    }
    for (int s = ns; s > 0; s--)
        start[s] = start[s - 1];
    start[0] = 0;
    double bg[d];
    for (int t = 0; t < ns; t++)
        memcpy(Zs + (size_t)t * d, attsvm__wrows_query(K, smp[t]), sizeof *Zs * (size_t)d);
    for (int s = 0; s < ns; s++) {
        const double *zs = Zs + (size_t)s * d;
        for (int j = 0; j < d; j++)         /* Ws = W diag(z_s) */
            for (int c = 0; c < d; c++)
                Ws[(size_t)j * d + c] = w[(size_t)j * d + c] * zs[c];
        /* row t of Gs: g = W (z_s o z_t) = Ws z_t for every t <= s, one product */
        attsvm__gemm_nt(s + 1, d, d, Zs, d, Ws, d, Gs, d);
        /* Row by row of the lower triangle: with R grouped by sample, as
         * the dual Newton method orders its faces, pos is the identity and
         * every row of H is written front to back. */
        for (int a = start[s]; a < start[s + 1]; a++) {
            const double *ba = B + (size_t)a * d;
            for (int s2 = 0; s2 <= s; s2++) {
                const double *g = Gs + (size_t)s2 * d;
                for (int j = 0; j < d; j++)
                    bg[j] = ba[j] * g[j];
                const int end = s2 == s ? a + 1 : start[s2 + 1];
                for (int b = start[s2]; b < end; b++) {
                    const int hi = pos[a] > pos[b] ? pos[a] : pos[b], lo = pos[a] + pos[b] - hi;
                    H[(size_t)hi * nr + lo] = dotv(bg, B + (size_t)b * d, d);
                }
            }
        }
    }
    unmark(C, smp, ns);
    free(smp);
    free(start);
    free(pos);
    free(B);
    free(Zs);
    free(Gs);
    free(Ws);
    return 0;
}
