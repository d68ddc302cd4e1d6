/* model.c - forward pass, losses and gradients of one-layer softmax attention
 * (design.md (1)-(5)).
 *
 * Sample i: scores a_t = x_t^T W z, s = softmax(a), h = X v, f = s^T h,
 * margin u = Y f, c = l'(u) Y / n.
 *   grad_W L = sum_i c_i X_i^T J_i h_i z_i^T,   grad_v L = sum_i c_i X_i^T s_i.
 *
 * The stable form (mdatt_eval_grad).  With a = argmax_t a_t, delta_t =
 * a_t - a_a <= 0, dmax = max_{t != a} delta_t, r_t = exp(delta_t - dmax) in
 * (0, 1], R = sum_{t != a} r_t, S = e^dmax R (so s_a = 1/(1+S) and
 * s_t = e^dmax r_t / (1+S) = smax r_t):
 *   h_a - f = smax Dt,  Dt = sum_{u != a} r_u (h_a - h_u),
 *   X^T J h = sum_{t != a} s_t (h_t - f)(x_t - x_a)
 *           = smax sum_{t != a} r_t [(h_t - h_a) + smax Dt] (x_t - x_a).
 * No difference of O(1) numbers with an O(smax) result is ever formed, and
 * the factor smax |c_i| is kept as a logarithm
 *   L_i = log|l'(u_i)| - log n + dmax - log1p(S),
 * so that G = sum_i exp(L_i - max L) sgn(c_i) g~_i z_i^T with
 * grad = G exp(max L) keeps its direction when exp(max L) underflows.  The
 * weights are formed directly when every factor is a normal double, from
 * |l'(u_i)| / (1 + S_i) e^{dmax_i - max dmax} when only smax_i is not, and
 * from L_i otherwise.
 *
 * Per sample: r_t = e^{(a_t - amax) - dmax} (one exp per token; dmax is
 * second largest score minus amax, equal to max_{t != a} fl(a_t - amax) as
 * rounding is monotonic), beta_t = r_t ((h_t - h_a) + smax Dt) for t != a,
 * beta_a = -sum_{t != a} beta_t, g~ = X^T beta (the identity above, as
 * sum_t beta_t x_t).  Two evaluation paths (struct mdatt_work): the packed
 * one (small sizes; four samples per vector lane on an interleaved copy of
 * X) and the unpacked one (one sample at a time on the caller's X; OpenBLAS
 * for the dense products at large sizes).  Each is deterministic and free of
 * FMA, so the AVX2 and baseline clones agree to the bit. */
#include <cblas.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* ------------------------------------------------------------------ loss */

const char *mdatt_loss_name(mdatt_loss l)
{
    switch (l) {
    case MDATT_LOSS_LOGISTIC: return "logistic";
    case MDATT_LOSS_EXPONENTIAL: return "exponential";
    case MDATT_LOSS_CORRELATION: return "correlation";
    }
    return "unknown";
}

mdatt_status mdatt_loss_parse(const char *name, mdatt_loss *out)
{
    static const mdatt_loss all[] = {MDATT_LOSS_LOGISTIC, MDATT_LOSS_EXPONENTIAL,
                                     MDATT_LOSS_CORRELATION};
    if (!name || !out) return MDATT_EINVAL;
    for (size_t k = 0; k < sizeof all / sizeof *all; k++)
        if (strcmp(name, mdatt_loss_name(all[k])) == 0) {
            *out = all[k];
            return MDATT_OK;
        }
    return MDATT_EINVAL;
}

/* log(1 + e^x) without overflow (log1p(e) = e to rounding for e < 2^-54). */
static inline double softplus(double x)
{
    double e;
    if (x > 0) {
        e = mdatt__exp_nonpos(-x);
        return x + (x > 38.0 ? e : log1p(e));
    }
    e = mdatt__exp_nonpos(x);
    return x < -38.0 ? e : log1p(e);
}

/* log(softplus(x)), finite for every finite x. */
static double log_softplus(double x)
{
    if (x < -36.0) return x;        /* softplus = e^x (1 - e^x/2 ...), e^x < 2.4e-16 */
    return log(softplus(x));
}

/* ------------------------------------------------------------------ work */

static size_t up4(size_t x) { return (x + 3) & ~(size_t)3; }

mdatt_work *mdatt_work_new(const mdatt_instance *in)
{
    mdatt_work *w;
    size_t n, T, d, Tp, dp, np, gl, hl;
    if (!in || in->n <= 0 || in->T <= 0 || in->d <= 0) return NULL;
    n = (size_t)in->n; T = (size_t)in->T; d = (size_t)in->d;
    if (n > SIZE_MAX / 8 / sizeof(double) / (d + 4) || n > SIZE_MAX / 8 / sizeof(double) / (T + 4)
        || T > SIZE_MAX / 8 / sizeof(double) / (d + 4))
        return NULL;
    Tp = up4(T); dp = up4(d); np = up4(n);
    gl = n * dp > d * np ? n * dp : d * np;
    hl = n * Tp > np * T ? n * Tp : np * T;
    w = calloc(1, sizeof *w);
    if (!w) return NULL;
    w->n = in->n; w->T = in->T; w->d = in->d;
    w->Tp = (int)Tp; w->dp = (int)dp; w->np = (int)np;
#ifdef MDATT_FAULTS
    w->faults = MDATT_FAULT_BITS();
#endif
    w->U = malloc(n * d * sizeof(double));
    w->H = calloc(hl, sizeof(double));          /* padding tokens: h = 0 */
    w->hlen = n * Tp;
    w->a = malloc(4 * Tp * sizeof(double));
    w->r = malloc(4 * Tp * sizeof(double));
    w->beta = malloc(8 * Tp * sizeof(double));
    w->Gm = malloc(gl * sizeof(double));
    w->Gv = malloc(gl * sizeof(double));
    w->LW = calloc(np, sizeof(double));
    w->LV = calloc(np, sizeof(double));
    w->sg = malloc(np * sizeof(double));
    w->ll = malloc(np * sizeof(double));
    w->nzW = malloc(np * sizeof(int));
    w->uu = malloc(4 * np * sizeof(double));
    if (w->uu) { w->dm = w->uu + np; w->SS = w->dm + np; w->RR = w->SS + np; }
    if (!w->uu || !w->U || !w->H || !w->a || !w->r || !w->beta || !w->Gm || !w->Gv || !w->LW
        || !w->LV || !w->sg || !w->ll || !w->nzW) {
        mdatt_work_free(w);
        return NULL;
    }
    for (size_t t = 0; t < Tp; t++) w->a[t] = -INFINITY;
    if (n * d * d < MDATT_BLAS_MIN_GEMM && n * T * d <= MDATT_PACK_MAX) {
        /* zero padding everywhere (calloc); mdatt__pack fills the rest */
        w->XS = calloc(np * T * d, sizeof(double));
        w->YS = calloc(np, sizeof(double));
        w->ZT = calloc(d * np, sizeof(double));
        w->ZP = calloc(n * dp, sizeof(double));
        w->UT = calloc(d * np, sizeof(double));
        if (!w->XS || !w->YS || !w->ZT || !w->ZP || !w->UT) {
            free(w->XS); free(w->YS); free(w->ZT); free(w->ZP); free(w->UT);
            w->XS = w->YS = w->ZT = w->ZP = w->UT = NULL;      /* unpacked path */
        }
    }
    return w;
}

void mdatt_work_free(mdatt_work *w)
{
    if (!w) return;
    free(w->U); free(w->H); free(w->a); free(w->r); free(w->beta);
    free(w->Gm); free(w->Gv); free(w->LW); free(w->LV); free(w->sg);
    free(w->ll); free(w->nzW); free(w->uu);
    free(w->XS); free(w->YS); free(w->ZT); free(w->ZP); free(w->UT);
    free(w);
}

int mdatt__pack(const mdatt_instance *in, mdatt_work *w)
{
    const int n = w->n, T = w->T, d = w->d, dp = w->dp, np = w->np;
    w->packed = 0;
    w->hlen = (size_t)n * w->Tp;
    if (!w->XS || in->n != n || in->T != T || in->d != d) return 0;
    for (int i = 0; i < np; i++) {
        double *XSg = w->XS + (size_t)(i / 4) * 4 * T * d + i % 4;
        w->YS[i] = i < n ? in->Y[i] : 1.0;
        if (i >= n) continue;
        for (int t = 0; t < T; t++)
            for (int j = 0; j < d; j++)
                XSg[((size_t)t * d + j) * 4] = in->X[((size_t)i * T + t) * d + j];
        for (int j = 0; j < d; j++) {
            w->ZT[(size_t)j * np + i] = in->Z[(size_t)i * d + j];
            w->ZP[(size_t)i * dp + j] = in->Z[(size_t)i * d + j];
        }
    }
    w->packed = 1;
    w->hlen = (size_t)np * T;
    return 1;
}

/* ------------------------------------------------------- dense kernels */

/* y = A x, A rows x cols row-major.  pf (may be NULL): the next sample's
 * block of the same shape, prefetched row by row so that its load from
 * memory overlaps the work on this one. */
MDATT_INLINE void mv_pf(const double *A, const double *x, double *y, int rows, int cols,
                        int blas, const double *pf)
{
    if (blas) {
        cblas_dgemv(CblasRowMajor, CblasNoTrans, rows, cols, 1.0, A, cols, x, 1, 0.0, y, 1);
        return;
    }
    for (int t = 0; t < rows; t++) {
        const double *a = A + (size_t)t * cols;
        if (pf)
            for (int j = 0; j < cols; j += 8) __builtin_prefetch(pf + (size_t)t * cols + j);
        mdatt_v4d acc = {0, 0, 0, 0}, acc1 = acc, acc2 = acc, acc3 = acc;
        double s = 0;
        int j = 0;
        /* four independent sums: the additions do not wait on each other */
        for (; j + 16 <= cols; j += 16) {
            acc += MDATT_LD4(a + j) * MDATT_LD4(x + j);
            acc1 += MDATT_LD4(a + j + 4) * MDATT_LD4(x + j + 4);
            acc2 += MDATT_LD4(a + j + 8) * MDATT_LD4(x + j + 8);
            acc3 += MDATT_LD4(a + j + 12) * MDATT_LD4(x + j + 12);
        }
        for (; j + 4 <= cols; j += 4) acc += MDATT_LD4(a + j) * MDATT_LD4(x + j);
        for (; j < cols; j++) s += a[j] * x[j];
        acc = (acc + acc1) + (acc2 + acc3);
        y[t] = MDATT_HSUM(acc) + s;
    }
}

MDATT_INLINE void mv(const double *A, const double *x, double *y, int rows, int cols,
                      int blas)
{
    mv_pf(A, x, y, rows, cols, blas, NULL);
}

/* y = A^T b, A rows x cols row-major with leading dimension ld: column
 * blocks of 4 accumulated in registers over the rows (y is written once). */
MDATT_INLINE void mtv(const double *A, const double *b, double *y, int rows, int cols,
                      int ld, int blas)
{
    int j = 0;
    if (blas) {
        cblas_dgemv(CblasRowMajor, CblasTrans, rows, cols, 1.0, A, ld, b, 1, 0.0, y, 1);
        return;
    }
    for (; j + 16 <= cols; j += 16) {  /* 16 columns per pass over the rows */
        mdatt_v4d a0 = {0, 0, 0, 0}, a1 = a0, a2 = a0, a3 = a0;
        for (int t = 0; t < rows; t++) {
            const double *r = A + (size_t)t * ld + j;
            const double bt = b[t];
            a0 += bt * MDATT_LD4(r);
            a1 += bt * MDATT_LD4(r + 4);
            a2 += bt * MDATT_LD4(r + 8);
            a3 += bt * MDATT_LD4(r + 12);
        }
        MDATT_ST4(y + j, a0); MDATT_ST4(y + j + 4, a1);
        MDATT_ST4(y + j + 8, a2); MDATT_ST4(y + j + 12, a3);
    }
    for (; j + 4 <= cols; j += 4) {
        mdatt_v4d acc = {0, 0, 0, 0};
        for (int t = 0; t < rows; t++) acc += b[t] * MDATT_LD4(A + (size_t)t * ld + j);
        MDATT_ST4(y + j, acc);
    }
    for (; j < cols; j++) {
        double acc = 0;
        for (int t = 0; t < rows; t++) acc += b[t] * A[(size_t)t * ld + j];
        y[j] = acc;
    }
}

/* G = sum_i w_i g_i z_i^T (G d x d; g_i, z_i rows of Gm, Z), each block of 4
 * entries accumulated in registers over i. */
MDATT_INLINE void outer_sum(const double *Gm, const double *Z, const double *wt, double *G,
                            int n, int d)
{
    for (int j = 0; j < d; j++) {
        double *Gj = G + (size_t)j * d;
        int k = 0;
        for (; k + 4 <= d; k += 4) {
            mdatt_v4d acc = {0, 0, 0, 0};
            for (int i = 0; i < n; i++)
                acc += (wt[i] * Gm[(size_t)i * d + j]) * MDATT_LD4(Z + (size_t)i * d + k);
            MDATT_ST4(Gj + k, acc);
        }
        for (; k < d; k++) {
            double acc = 0;
            for (int i = 0; i < n; i++)
                acc += (wt[i] * Gm[(size_t)i * d + j]) * Z[(size_t)i * d + k];
            Gj[k] = acc;
        }
    }
}

/* ------------------------------------------------------- packed kernels */
/* Row-vector products along 4-wide blocks: y[0..4*nb) = sum_k c_k A[k*lda ..]
 * (sequential in k, the same sum in every lane).  Specialized for 1, 2, 3
 * blocks so that the accumulators stay in registers. */
MDATT_INLINE void axpy_rows(const double *c, size_t cs, const double *A, size_t lda, int rows,
                            int nb, double *y)
{
    if (nb == 1) {
        mdatt_v4d a0 = {0, 0, 0, 0};
        for (int k = 0; k < rows; k++) a0 += c[k * cs] * MDATT_LD4(A + k * lda);
        MDATT_ST4(y, a0);
    } else if (nb == 2) {
        mdatt_v4d a0 = {0, 0, 0, 0}, a1 = a0;
        for (int k = 0; k < rows; k++) {
            const double ck = c[k * cs];
            a0 += ck * MDATT_LD4(A + k * lda);
            a1 += ck * MDATT_LD4(A + k * lda + 4);
        }
        MDATT_ST4(y, a0); MDATT_ST4(y + 4, a1);
    } else if (nb == 3) {
        mdatt_v4d a0 = {0, 0, 0, 0}, a1 = a0, a2 = a0;
        for (int k = 0; k < rows; k++) {
            const double ck = c[k * cs];
            a0 += ck * MDATT_LD4(A + k * lda);
            a1 += ck * MDATT_LD4(A + k * lda + 4);
            a2 += ck * MDATT_LD4(A + k * lda + 8);
        }
        MDATT_ST4(y, a0); MDATT_ST4(y + 4, a1); MDATT_ST4(y + 8, a2);
    } else {
        for (int b = 0; b < nb; b++) {
            mdatt_v4d a0 = {0, 0, 0, 0};
            for (int k = 0; k < rows; k++) a0 += c[k * cs] * MDATT_LD4(A + k * lda + 4 * b);
            MDATT_ST4(y + 4 * b, a0);
        }
    }
}

/* 2^k for -1022 <= k <= 1023, from its bits. */
MDATT_INLINE double pow2i(int k)
{
    const uint64_t b = (uint64_t)(k + 1023) << 52;
    double x;
    memcpy(&x, &b, sizeof x);
    return x;
}

/* Largest |x_j| scaled to [1/2, 1) by a power of two (exact); returns the
 * exponent e with x_old = x_new 2^e, or INT_MIN if x = 0. */
MDATT_INLINE int rescale_pow2_by(double *x, size_t m, double amax, int *zero)
{
    size_t j;
    int e;
    *zero = amax == 0.0;
    if (*zero) return 0;
    frexp(amax, &e);
    if (e != 0) {
        /* two factors keep 2^-e representable for subnormal amax */
        const int e1 = e / 2, e2 = e - e1;
        const double f1 = pow2i(-e1), f2 = pow2i(-e2);
        for (j = 0; j + 4 <= m; j += 4) MDATT_ST4(x + j, MDATT_LD4(x + j) * f1 * f2);
        for (; j < m; j++) x[j] = x[j] * f1 * f2;
    }
    return e;
}

/* Running max of |x| over 4 lanes (a NaN never wins). */
#define ABSMAX4(vm, x) do {                                                      \
    const mdatt_v4d a_ = (mdatt_v4d)((mdatt_v4u)(x) & UINT64_C(0x7fffffffffffffff)); \
    const mdatt_v4u gt_ = (mdatt_v4u)(a_ > (vm));                                \
    (vm) = (mdatt_v4d)(((mdatt_v4u)a_ & gt_) | ((mdatt_v4u)(vm) & ~gt_));        \
} while (0)

MDATT_INLINE int rescale_pow2(double *x, size_t m, int *zero)
{
    mdatt_v4d vm = {0, 0, 0, 0};
    double amax = 0;
    size_t j = 0;
    for (; j + 4 <= m; j += 4) ABSMAX4(vm, MDATT_LD4(x + j));
    for (int l = 0; l < 4; l++) if (vm[l] > amax) amax = vm[l];
    for (; j < m; j++) {
        double a = fabs(x[j]);
        if (a > amax) amax = a;
    }
    return rescale_pow2_by(x, m, amax, zero);
}

/* G = sum_i w_i g_i z_i^T (d x d row-major) from g~ in the packed layout
 * Gm[j][i] (stride np) and padded rows z_i (stride dp): the sums of
 * outer_sum, in the same order.  Gm is scaled by w_i in place (w has np
 * entries, padding 0).  Row j is computed as dp entries (the padding ones
 * are 0) and stored at G + j d: its spill into row j + 1 is overwritten
 * next, the last row goes through tmp.  Returns max |G_jk|. */
MDATT_INLINE double outer_sum_packed(double *Gm, const double *ZP, const double *wt, double *G,
                                     int n, int d, int dp, int np, double *tmp)
{
    const int nb = dp / 4;
    mdatt_v4d vm = {0, 0, 0, 0};
    double amax = 0;
    int j = 0;
    for (j = 0; j < d; j++)
        for (int b = 0; b < np; b += 4)
            MDATT_ST4(Gm + (size_t)j * np + b, MDATT_LD4(wt + b) * MDATT_LD4(Gm + (size_t)j * np + b));
    j = 0;
    if (nb <= 3)        /* two rows at a time share the loads of Z */
        for (; j + 2 < d; j += 2) {
            const double *c0 = Gm + (size_t)j * np, *c1 = c0 + np;
            mdatt_v4d p0 = {0, 0, 0, 0}, p1 = p0, p2 = p0, q0 = p0, q1 = p0, q2 = p0;
            double *y0 = G + (size_t)j * d, *y1 = y0 + d;
            for (int i = 0; i < n; i++) {
                const double *z = ZP + (size_t)i * dp;
                const mdatt_v4d z0 = MDATT_LD4(z);
                p0 += c0[i] * z0; q0 += c1[i] * z0;
                if (nb > 1) {
                    const mdatt_v4d z1 = MDATT_LD4(z + 4);
                    p1 += c0[i] * z1; q1 += c1[i] * z1;
                }
                if (nb > 2) {
                    const mdatt_v4d z2 = MDATT_LD4(z + 8);
                    p2 += c0[i] * z2; q2 += c1[i] * z2;
                }
            }
            /* row j first: its spill is overwritten by row j + 1 (j + 1 < d - 1) */
            MDATT_ST4(y0, p0); ABSMAX4(vm, p0);
            if (nb > 1) { MDATT_ST4(y0 + 4, p1); ABSMAX4(vm, p1); }
            if (nb > 2) { MDATT_ST4(y0 + 8, p2); ABSMAX4(vm, p2); }
            MDATT_ST4(y1, q0); ABSMAX4(vm, q0);
            if (nb > 1) { MDATT_ST4(y1 + 4, q1); ABSMAX4(vm, q1); }
            if (nb > 2) { MDATT_ST4(y1 + 8, q2); ABSMAX4(vm, q2); }
        }
    for (; j < d; j++) {
        double *y = j + 1 < d || dp == d ? G + (size_t)j * d : tmp;
        axpy_rows(Gm + (size_t)j * np, 1, ZP, (size_t)dp, n, nb, y);
        for (int b = 0; b < nb; b++) ABSMAX4(vm, MDATT_LD4(y + 4 * b));
        if (y == tmp) memcpy(G + (size_t)j * d, tmp, (size_t)d * sizeof *tmp);
    }
    for (int l = 0; l < 4; l++) if (vm[l] > amax) amax = vm[l];
    return amax;
}

/* ------------------------------------------------------------ evaluation */

/* log |l'(u)|. */
MDATT_INLINE double log_dloss(mdatt_loss loss, double u)
{
    switch (loss) {
    case MDATT_LOSS_EXPONENTIAL: return -u;
    case MDATT_LOSS_CORRELATION: return 0.0;
    default: return -softplus(u);
    }
}

/* |l'(u)| directly (may underflow or overflow; the caller checks). */
MDATT_INLINE double dloss(mdatt_loss loss, double u)
{
    double e;
    switch (loss) {
    case MDATT_LOSS_EXPONENTIAL: return u >= 0 ? mdatt__exp_nonpos(-u) : exp(-u);
    case MDATT_LOSS_CORRELATION: return 1.0;
    default:
        if (u >= 0) {
            e = mdatt__exp_nonpos(-u);
            return e / (1.0 + e);
        }
        return 1.0 / (1.0 + mdatt__exp_nonpos(u));
    }
}

/* A factor computed directly is trusted for the direct weighting when it is
 * comfortably inside the normal range. */
static inline int direct_ok(double x) { return x >= 0x1p-1000 && x <= 0x1p1000; }

/* ------------------------------------------------ packed path (4 samples) */
/* The packed path processes 4 samples at a time, one per vector lane
 * (samples n..np-1 are zero padding): the per-sample scalar work (max,
 * argmax, weights, loss derivative) runs once per 4 samples, with no
 * horizontal sums.  Per lane the arithmetic is that of the scalar
 * description in the header of this file. */

#define V4(x) ((mdatt_v4d){(x), (x), (x), (x)})
#define SEL4(m, a, b) ((mdatt_v4d)(((mdatt_v4u)(m) & (mdatt_v4u)(a)) | (~(mdatt_v4u)(m) & (mdatt_v4u)(b))))
#define ANY4(m) (((m)[0] | (m)[1] | (m)[2] | (m)[3]) != 0)

/* e^x per lane for x <= 0 (x < -708 or NaN gives 0).  (Vectors go through
 * pointers: by value they would change the ABI of the baseline clone.) */
MDATT_INLINE void exp4_nonpos(const mdatt_v4d *xp, mdatt_v4d *out)
{
    mdatt_v4d y;
    const mdatt_v4u ok = (mdatt_v4u)(*xp >= -708.0);
    const mdatt_v4d x = (mdatt_v4d)((mdatt_v4u)*xp & ok);
    MDATT_EXP_NONPOS(mdatt_v4d, mdatt_v4u, x, y);
    *out = (mdatt_v4d)((mdatt_v4u)y & ok);
}

/* e^dmax for the scalar description: 0 below -745.2 (dmax may be -inf). */
MDATT_INLINE void exp4_dmax(const mdatt_v4d *dmax, mdatt_v4d *out)
{
    mdatt_v4d e;
    const mdatt_v4i mid = (mdatt_v4i)(*dmax < -708.0) & (mdatt_v4i)(*dmax >= -745.2);
    exp4_nonpos(dmax, &e);
    if (ANY4(mid))
        for (int l = 0; l < 4; l++) if (mid[l]) e[l] = exp((*dmax)[l]);
    *out = e;
}

/* Per-group outputs of group_eval (lanes = samples). */
typedef struct {
    mdatt_v4d lp, smax, u, dmax, S, R;
    mdatt_v4d al;       /* token index of the max (as double: SSE2 has no 64-bit compare) */
} group_out;

/* Scores a_t = sum_j x_tj u_j of a group (and h_t = sum_j x_tj v_j when v
 * is given), sequential in j; four tokens at a time share the loads of u. */
MDATT_INLINE void group_scores(const double *XS, const double *UT, size_t np, const double *v,
                               double *h, int T, int d, double *a)
{
    const size_t td = (size_t)d * 4;
    for (int t = 0; t < T; t += 4) {
        const int nt = T - t < 4 ? T - t : 4;
        const double *x = XS + (size_t)t * td;
        mdatt_v4d c0 = V4(0), c1 = c0, c2 = c0, c3 = c0;
        if (nt == 4) {
            for (int j = 0; j < d; j++) {
                const mdatt_v4d uj = MDATT_LD4(UT + (size_t)j * np);
                c0 += MDATT_LD4(x + 4 * j) * uj;
                c1 += MDATT_LD4(x + td + 4 * j) * uj;
                c2 += MDATT_LD4(x + 2 * td + 4 * j) * uj;
                c3 += MDATT_LD4(x + 3 * td + 4 * j) * uj;
            }
            MDATT_ST4(a + 4 * t, c0); MDATT_ST4(a + 4 * t + 4, c1);
            MDATT_ST4(a + 4 * t + 8, c2); MDATT_ST4(a + 4 * t + 12, c3);
        } else {
            for (int k = 0; k < nt; k++) {
                c0 = V4(0);
                for (int j = 0; j < d; j++)
                    c0 += MDATT_LD4(x + k * td + 4 * j) * MDATT_LD4(UT + (size_t)j * np);
                MDATT_ST4(a + 4 * (t + k), c0);
            }
        }
        if (v)
            for (int k = 0; k < nt; k++) {
                c0 = V4(0);
                for (int j = 0; j < d; j++) c0 += MDATT_LD4(x + k * td + 4 * j) * v[j];
                MDATT_ST4(h + 4 * (t + k), c0);
            }
    }
}

/* Running max amax (first index al) and second largest score of a group:
 * since rounding is monotonic, dmax = max_{t != a} fl(a_t - amax) =
 * fl(second - amax).  A NaN never wins a comparison; it is caught later.
 * bad gets the lanes whose amax is not finite. */
MDATT_INLINE void group_top(const double *a, int T, mdatt_v4d *amax_, mdatt_v4d *dmax,
                            mdatt_v4d *al_, mdatt_v4i *bad)
{
    mdatt_v4d amax = V4(-INFINITY), second = V4(-INFINITY), al = V4(0);
    for (int t = 0; t < T; t++) {
        const mdatt_v4d at = MDATT_LD4(a + 4 * t);
        const mdatt_v4i gt = (mdatt_v4i)(at > amax), gt2 = (mdatt_v4i)(at > second);
        second = SEL4(gt, amax, SEL4(gt2, at, second));
        amax = SEL4(gt, at, amax);
        al = SEL4(gt, V4((double)t), al);
    }
    *bad |= (mdatt_v4i)~(amax - amax == 0.0);       /* amax not finite */
    *dmax = second - amax;
    *amax_ = amax;
    *al_ = al;
}

/* r_t = e^{delta_t - dmax} (t != a), r_a = 0, delta_t = a_t - amax <= 0,
 * with R = sum_t r_t, Dt = sum_t r_t (h_a - h_t) and emax = e^dmax; bad
 * gets the lanes where some delta_t > 0 (a NaN score). */
MDATT_INLINE void group_ratios(const double *a, const double *h, int T, const mdatt_v4d *amax,
                               const mdatt_v4d *dmax, const mdatt_v4d *al, const mdatt_v4d *ha,
                               double *r, mdatt_v4d *R, mdatt_v4d *Dt, mdatt_v4d *emax,
                               mdatt_v4i *bad)
{
    if (T == 1) {
        *bad |= (mdatt_v4i)~(MDATT_LD4(a) - *amax <= 0.0);
        MDATT_ST4(r, V4(0));
        *emax = V4(0);
        return;
    }
    for (int t = 0; t < T; t++) {
        const mdatt_v4d dt = MDATT_LD4(a + 4 * t) - *amax, xt = dt - *dmax;
        const mdatt_v4u top = (mdatt_v4u)(*al == (double)t);
        mdatt_v4d rt;
        const mdatt_v4i far = (mdatt_v4i)(xt < -708.0);
        *bad |= (mdatt_v4i)~(dt <= 0.0);
        if (far[0] & far[1] & far[2] & far[3]) {
            rt = V4(0);     /* e^x below 1e-307 in every lane: 0 (as exp4_nonpos) */
        } else {
            exp4_nonpos(&xt, &rt);
            rt = (mdatt_v4d)(~top & (mdatt_v4u)rt);
        }
        MDATT_ST4(r + 4 * t, rt);
        *R += rt;
        *Dt += rt * (*ha - MDATT_LD4(h + 4 * t));
    }
    exp4_dmax(dmax, emax);
}

/* |l'(u)| per lane. */
MDATT_INLINE void group_dloss(mdatt_loss loss, const mdatt_v4d *u, mdatt_v4d *lp)
{
    if (loss == MDATT_LOSS_LOGISTIC) {      /* |l'(u)| = e/(1+e) (u >= 0), 1/(1+e) */
        const mdatt_v4i pos = (mdatt_v4i)(*u >= 0.0);
        const mdatt_v4d nu = SEL4(pos, -*u, *u);
        mdatt_v4d e;
        exp4_nonpos(&nu, &e);
        *lp = SEL4(pos, e, V4(1.0)) / (1.0 + e);
    } else {
        for (int l = 0; l < 4; l++) (*lp)[l] = dloss(loss, (*u)[l]);
    }
}

/* Coefficients of X^T: beta_t = r_t ((h_t - h_a) + smax Dt), beta_a = -sum
 * (when gm is wanted) and s_t = smax r_t, s_a = 1 / (1 + S) (when gvv is). */
MDATT_INLINE void group_coefs(const double *r, const double *h, int T, const mdatt_v4d *al,
                              const mdatt_v4d *ha, const mdatt_v4d *smax, const mdatt_v4d *Dt,
                              const mdatt_v4d *S, double *beta, double *s, int want_beta,
                              int want_s)
{
    if (want_beta) {
        const mdatt_v4d sD = *smax * *Dt;
        mdatt_v4d B = V4(0);
        for (int t = 0; t < T; t++) {
            const mdatt_v4d b = MDATT_LD4(r + 4 * t) * ((MDATT_LD4(h + 4 * t) - *ha) + sD);
            MDATT_ST4(beta + 4 * t, b);
            B += b;
        }
        for (int l = 0; l < 4; l++) beta[4 * (int)(*al)[l] + l] = -B[l];
    }
    if (want_s) {
        const mdatt_v4d sa = 1.0 / (1.0 + *S);
        for (int t = 0; t < T; t++) MDATT_ST4(s + 4 * t, *smax * MDATT_LD4(r + 4 * t));
        for (int l = 0; l < 4; l++) s[4 * (int)(*al)[l] + l] = sa[l];
    }
}

/* X^T beta into gm and X^T s into gvv ([j][lane], stride np; either may be
 * NULL), sequential in t; four features at a time share the loads of the
 * coefficients. */
MDATT_INLINE void group_xt(const double *XS, int T, int d, size_t np, const double *beta,
                           const double *s, double *gm, double *gvv)
{
    const size_t td = (size_t)d * 4;
    for (int j = 0; j < d; j += 4) {
        const int nj = d - j < 4 ? d - j : 4;
        const double *x = XS + 4 * (size_t)j;
        if (gm && nj == 4) {
            mdatt_v4d g0 = V4(0), g1 = g0, g2 = g0, g3 = g0;
            for (int t = 0; t < T; t++) {
                const mdatt_v4d bt = MDATT_LD4(beta + 4 * t);
                const double *xt = x + (size_t)t * td;
                g0 += bt * MDATT_LD4(xt);
                g1 += bt * MDATT_LD4(xt + 4);
                g2 += bt * MDATT_LD4(xt + 8);
                g3 += bt * MDATT_LD4(xt + 12);
            }
            MDATT_ST4(gm + (size_t)j * np, g0); MDATT_ST4(gm + (size_t)(j + 1) * np, g1);
            MDATT_ST4(gm + (size_t)(j + 2) * np, g2); MDATT_ST4(gm + (size_t)(j + 3) * np, g3);
        } else if (gm) {
            for (int k = 0; k < nj; k++) {
                mdatt_v4d g0 = V4(0);
                for (int t = 0; t < T; t++)
                    g0 += MDATT_LD4(beta + 4 * t) * MDATT_LD4(x + (size_t)t * td + 4 * k);
                MDATT_ST4(gm + (size_t)(j + k) * np, g0);
            }
        }
        if (gvv)
            for (int k = 0; k < nj; k++) {
                mdatt_v4d g0 = V4(0);
                for (int t = 0; t < T; t++)
                    g0 += MDATT_LD4(s + 4 * t) * MDATT_LD4(x + (size_t)t * td + 4 * k);
                MDATT_ST4(gvv + (size_t)(j + k) * np, g0);
            }
    }
}

/* One group of 4 samples.  XS: the group's tokens [t][j][lane]; UT, v: the
 * group's columns of U^T (stride np) or NULL for v (Hfix given); h: [t][lane]
 * (written when v is given); a, r: T vectors of scratch; beta, s: T vectors
 * of X^T coefficients (written when gm / gvv given); gm, gvv: [j][lane]
 * outputs (stride np) of X^T beta and X^T s.  Returns 0 or MDATT_ENUMERIC. */
MDATT_INLINE int group_eval(const double *XS, const double *UT, size_t np, const double *v,
                            double *h, const double *Y, int T, int d, mdatt_loss loss,
                            double *a, double *r, double *beta, double *s, double *gm,
                            double *gvv, group_out *o)
{
    mdatt_v4d amax, dmax, al, R = V4(0), Dt = V4(0), ha, emax, S, smax, f, u, lp;
    mdatt_v4i bad = {0, 0, 0, 0};

    group_scores(XS, UT, np, v, h, T, d, a);
    group_top(a, T, &amax, &dmax, &al, &bad);
    for (int l = 0; l < 4; l++) ha[l] = h[4 * (int)al[l] + l];
    group_ratios(a, h, T, &amax, &dmax, &al, &ha, r, &R, &Dt, &emax, &bad);
    if (ANY4(bad)) return MDATT_ENUMERIC;
    S = emax * R;
    smax = emax / (1.0 + S);
    f = ha - smax * Dt;
    u = MDATT_LD4(Y) * f;
    if (ANY4((mdatt_v4i)~(u - u == 0.0))) return MDATT_ENUMERIC;
    group_dloss(loss, &u, &lp);
    group_coefs(r, h, T, &al, &ha, &smax, &Dt, &S, beta, s, gm != NULL, gvv != NULL);
    group_xt(XS, T, d, np, beta, s, gm, gvv);
    o->lp = lp; o->smax = smax; o->u = u; o->dmax = dmax; o->S = S; o->R = R; o->al = al;
    return 0;
}

/* What the per-sample phase leaves for the weighting of the gradients:
 * whether every factor of the W (and v) weights is a normal double, and
 * whether |l'(u_i)| alone is (design of the weights: file header). */
typedef struct {
    int directW, directV, lpokW;
} eval_flags;

/* U^T = W Z^T on the packed copies: row j of U^T = sum_k W_jk (row k of Z^T). */
MDATT_INLINE void packed_ut(const double *W, mdatt_work *w, int d, int np)
{
    int jr = 0;
    if (np == 8)        /* two rows of U^T at a time share the loads of Z^T */
        for (; jr + 2 <= d; jr += 2) {
            const double *w0 = W + (size_t)jr * d, *w1 = w0 + d;
            mdatt_v4d p0 = V4(0), p1 = p0, q0 = p0, q1 = p0;
            for (int k = 0; k < d; k++) {
                const mdatt_v4d z0 = MDATT_LD4(w->ZT + (size_t)k * 8);
                const mdatt_v4d z1 = MDATT_LD4(w->ZT + (size_t)k * 8 + 4);
                p0 += w0[k] * z0; p1 += w0[k] * z1;
                q0 += w1[k] * z0; q1 += w1[k] * z1;
            }
            MDATT_ST4(w->UT + (size_t)jr * 8, p0); MDATT_ST4(w->UT + (size_t)jr * 8 + 4, p1);
            MDATT_ST4(w->UT + (size_t)jr * 8 + 8, q0); MDATT_ST4(w->UT + (size_t)jr * 8 + 12, q1);
        }
    for (; jr < d; jr++)
        axpy_rows(W + (size_t)jr * d, 1, w->ZT, (size_t)np, d, np / 4, w->UT + (size_t)jr * np);
}

/* The per-sample results of group g (lanes of real samples only) into w. */
MDATT_INLINE void packed_store(mdatt_work *w, int g, int n, const group_out *o,
                               const mdatt_v4i *nz, int needW, int needV, int *alpha,
                               eval_flags *fl)
{
    const mdatt_v4d lw = o->lp * o->smax;
    for (int l = 0; l < 4 && 4 * g + l < n; l++) {
        const int i = 4 * g + l;
        w->sg[i] = w->YS[i] > 0 ? -1.0 : 1.0;
        w->uu[i] = o->u[l];
        w->dm[i] = o->dmax[l];
        w->SS[i] = o->S[l];
        w->RR[i] = o->R[l];
        w->LV[i] = o->lp[l];
        if (needV && !direct_ok(o->lp[l])) fl->directV = 0;
        if (needW) {
            w->nzW[i] = (*nz)[l] != 0;
            w->LW[i] = lw[l];
            if ((*nz)[l] && !(direct_ok(o->lp[l]) && direct_ok(o->smax[l]) && direct_ok(lw[l])))
                fl->directW = 0;
            if ((*nz)[l] && !direct_ok(o->lp[l])) fl->lpokW = 0;
        }
        if (alpha) alpha[i] = (int)o->al[l];
    }
}

/* The packed path: every sample's quantities, four at a time. */
MDATT_INLINE int packed_samples(const mdatt_instance *in, const double *W, const double *v,
                                mdatt_loss loss, mdatt_work *w, int needW, int needV,
                                int *alpha, eval_flags *fl)
{
    const int n = in->n, T = in->T, d = in->d, np = w->np;
    packed_ut(W, w, d, np);
    for (int g = 0; g < np / 4; g++) {
        const size_t td = (size_t)T * d * 4;
        double *h = w->Hfix ? (double *)w->Hfix + (size_t)g * T * 4 : w->H + (size_t)g * T * 4;
        double *gm = needW ? w->Gm + 4 * (size_t)g : NULL;
        double *gvv = needV ? w->Gv + 4 * (size_t)g : NULL;
        group_out o;
        mdatt_v4i nz = {0, 0, 0, 0};
        if (group_eval(w->XS + g * td, w->UT + 4 * (size_t)g, (size_t)np,
                       w->Hfix ? NULL : v, h, w->YS + 4 * g, T, d, loss, w->a, w->r,
                       w->beta, w->beta + 4 * w->Tp, gm, gvv, &o))
            return MDATT_ENUMERIC;
        if (gm)
            for (int j = 0; j < d; j++) nz |= (mdatt_v4i)(MDATT_LD4(gm + (size_t)j * np) != 0.0);
        packed_store(w, g, n, &o, &nz, needW, needV, alpha, fl);
    }
    return MDATT_OK;
}

/* One sample's softmax in the stable form: from the scores a (T of Tp, the
 * padding -inf) and h, its top token al with ha = h_al, dmax, the ratios r
 * (r_al = 0), R = sum r_t, Dt = sum r_t (h_a - h_t) and emax = e^dmax.
 * MDATT_ENUMERIC for a score that is not finite. */
MDATT_INLINE int sample_ratios(const double *a, const double *h, int T, int Tp, double *r,
                               int *al_, double *ha, double *dmax_, double *R, double *Dt,
                               double *emax)
{
    const int TB = Tp / 4;
    mdatt_v4d m4, R4 = V4(0), D4 = V4(0);
    mdatt_v4i bad = {0, 0, 0, 0};
    double amax, dmax;
    int al;
    /* amax = max_t a_t (a NaN never wins; caught below), al its first index */
    m4 = MDATT_LD4(a);
    for (int b = 1; b < TB; b++) {
        const mdatt_v4d x = MDATT_LD4(a + 4 * b);
        m4 = SEL4(x > m4, x, m4);
    }
    amax = m4[0];
    for (int l = 1; l < 4; l++) if (m4[l] > amax) amax = m4[l];
    if (!isfinite(amax)) return MDATT_ENUMERIC;
    for (al = 0; al < T && !(a[al] == amax); al++) {}
    *ha = h[al];
    /* delta_t = a_t - amax <= 0; dmax over t != al */
    m4 = V4(-INFINITY);
    for (int b = 0; b < TB; b++) {
        const mdatt_v4d dt = MDATT_LD4(a + 4 * b) - amax;
        bad |= (mdatt_v4i)~(dt <= 0.0);
        MDATT_ST4(r + 4 * b, dt);
    }
    if (ANY4(bad)) return MDATT_ENUMERIC;
    r[al] = -INFINITY;
    for (int b = 0; b < TB; b++) {
        const mdatt_v4d x = MDATT_LD4(r + 4 * b);
        m4 = SEL4(x > m4, x, m4);
    }
    dmax = m4[0];
    for (int l = 1; l < 4; l++) if (m4[l] > dmax) dmax = m4[l];
    *al_ = al;
    *dmax_ = dmax;
    *R = *Dt = *emax = 0;
    if (T == 1) {
        for (int t = 0; t < Tp; t++) r[t] = 0.0;
        return MDATT_OK;
    }
    /* r_t = e^{delta_t - dmax} (t != al), r_al = 0; emax = e^dmax */
    for (int b = 0; b < TB; b++) {     /* r_al = -inf: 0 */
        const mdatt_v4d xb = MDATT_LD4(r + 4 * b) - dmax;
        mdatt_v4d rb;
        exp4_nonpos(&xb, &rb);
        MDATT_ST4(r + 4 * b, rb);
    }
    r[al] = 0.0;
    for (int b = 0; b < TB; b++) {
        const mdatt_v4d rb = MDATT_LD4(r + 4 * b);
        R4 += rb;
        D4 += rb * (*ha - MDATT_LD4(h + 4 * b));
    }
    *R = MDATT_HSUM(R4);
    *Dt = MDATT_HSUM(D4);
    const mdatt_v4d dm4 = V4(dmax);
    mdatt_v4d e4;
    exp4_dmax(&dm4, &e4);
    *emax = e4[0];
    return MDATT_OK;
}

/* g~_i = X_i^T beta, beta_t = r_t ((h_t - h_a) + smax Dt), beta_a = -sum,
 * into Gm; its weight |l'| smax and flags. */
MDATT_INLINE void sample_grad_w(const double *Xi, const double *r, const double *h, int i,
                                int al, double ha, double smax, double Dt, double lp, int T,
                                int blas_mv, mdatt_work *w, eval_flags *fl)
{
    const int d = w->d, TB = w->Tp / 4;
    double *beta = w->beta;
    const mdatt_v4d sD = V4(smax * Dt);
    mdatt_v4d B4 = V4(0);
    double *g = w->Gm + (size_t)i * d;
    int nz = 0;
    for (int b = 0; b < TB; b++) {
        const mdatt_v4d bb = MDATT_LD4(r + 4 * b) * ((MDATT_LD4(h + 4 * b) - ha) + sD);
        MDATT_ST4(beta + 4 * b, bb);
        B4 += bb;
    }
    beta[al] = -MDATT_HSUM(B4);
    mtv(Xi, beta, g, T, d, d, blas_mv);
    for (int j = 0; j < d; j++) nz |= g[j] != 0.0;
    w->nzW[i] = nz;
    w->LW[i] = lp * smax;
    if (nz && !(direct_ok(lp) && direct_ok(smax) && direct_ok(w->LW[i]))) fl->directW = 0;
    if (nz && !direct_ok(lp)) fl->lpokW = 0;
}

/* X_i^T s_i into Gv, s_t = smax r_t, s_a = 1 / (1 + S). */
MDATT_INLINE void sample_grad_v(const double *Xi, const double *r, int i, int al, double smax,
                                double S, double lp, int T, int blas_mv, mdatt_work *w,
                                eval_flags *fl)
{
    const int d = w->d, TB = w->Tp / 4;
    double *s = w->beta + w->Tp;
    for (int b = 0; b < TB; b++) MDATT_ST4(s + 4 * b, smax * MDATT_LD4(r + 4 * b));
    s[al] = 1.0 / (1.0 + S);
    mtv(Xi, s, w->Gv + (size_t)i * d, T, d, d, blas_mv);
    if (!direct_ok(lp)) fl->directV = 0;
}

/* The unpacked path: one sample at a time on the caller's X (OpenBLAS for
 * the dense products at large sizes). */
MDATT_INLINE int unpacked_samples(const mdatt_instance *in, const double *W, const double *v,
                                  mdatt_loss loss, mdatt_work *w, int needW, int needV,
                                  int *alpha, eval_flags *fl)
{
    const int n = in->n, T = in->T, d = in->d, Tp = w->Tp;
    const int blas_mm = (size_t)n * d * d >= MDATT_BLAS_MIN_GEMM;
    const int blas_mv = (size_t)T * d >= MDATT_BLAS_MIN_GEMV;
    const int prefetch = (size_t)T * d >= MDATT_PREFETCH_MIN;
    double *a = w->a, *r = w->r;
    /* U = Z W^T: u_i = W z_i */
    if (blas_mm)
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, d, d, 1.0, in->Z, d, W, d,
                    0.0, w->U, d);
    else
        for (int i = 0; i < n; i++) mv(W, in->Z + (size_t)i * d, w->U + (size_t)i * d, d, d, 0);

    for (int i = 0; i < n; i++) {
        const double *Xi = in->X + (size_t)i * T * d;
        const double *h;
        double dmax, R, Dt, emax, S, smax, ha, f, u, lp;
        int al;

        /* scores (and h) while X_i is in cache; padding tokens score -inf */
        mv_pf(Xi, w->U + (size_t)i * d, a, T, d, blas_mv,
              prefetch && i + 1 < n ? Xi + (size_t)T * d : NULL);
        for (int t = T; t < Tp; t++) a[t] = -INFINITY;
        if (w->Hfix) {
            h = w->Hfix + (size_t)i * Tp;
        } else {
            mv(Xi, v, w->H + (size_t)i * Tp, T, d, blas_mv);
            h = w->H + (size_t)i * Tp;
        }
        if (sample_ratios(a, h, T, Tp, r, &al, &ha, &dmax, &R, &Dt, &emax))
            return MDATT_ENUMERIC;
        S = emax * R;
        smax = emax / (1.0 + S);
        f = ha - smax * Dt;
        u = in->Y[i] * f;
        if (!isfinite(u)) return MDATT_ENUMERIC;
        lp = dloss(loss, u);
        w->sg[i] = in->Y[i] > 0 ? -1.0 : 1.0;     /* sign of c_i = l'(u) y / n, l' < 0 */
        w->uu[i] = u;
        w->dm[i] = dmax;
        w->SS[i] = S;
        w->RR[i] = R;
        w->LV[i] = lp;
        if (needW) sample_grad_w(Xi, r, h, i, al, ha, smax, Dt, lp, T, blas_mv, w, fl);
        if (needV) sample_grad_v(Xi, r, i, al, smax, S, lp, T, blas_mv, w, fl);
        if (alpha) alpha[i] = al;
    }
    return MDATT_OK;
}

/* The risk and the saturation figures from the per-sample quantities. */
MDATT_INLINE void eval_summary(mdatt_work *w, int n, mdatt_loss loss, double logn,
                               mdatt_eval *ev)
{
    double loss_sum = 0, smax_sum = 0, smax_min = 1, l1m_max = -INFINITY;
    for (int i = 0; i < n; i++) {
        const double S = w->SS[i], u = w->uu[i];
        const double sa = 1.0 / (1.0 + S), l1m = w->dm[i] + log(w->RR[i]) - log1p(S);
        smax_sum += sa;
        if (sa < smax_min) smax_min = sa;
        if (l1m > l1m_max) l1m_max = l1m;
        switch (loss) {
        case MDATT_LOSS_EXPONENTIAL: loss_sum += exp(-u); w->ll[i] = -u; break;
        case MDATT_LOSS_CORRELATION: loss_sum += -u; w->ll[i] = 0; break;
        default: loss_sum += softplus(-u); w->ll[i] = log_softplus(-u); break;
        }
    }
    if (!ev)
        return;
    ev->loss = loss_sum / n;
    ev->smax_mean = smax_sum / n;
    ev->smax_min = smax_min;
    ev->log1m_smax_max = l1m_max;
    if (loss == MDATT_LOSS_CORRELATION) {
        /* -Y f is not a positive quantity: log L only where L > 0 */
        ev->log_loss = ev->loss > 0 ? log(ev->loss) : -INFINITY;
    } else {
        double m = -INFINITY, s = 0;
        for (int i = 0; i < n; i++) if (w->ll[i] > m) m = w->ll[i];
        for (int i = 0; i < n; i++) s += exp(w->ll[i] - m);
        ev->log_loss = m + log(s) - logn;
    }
}

/* Divide the weights LW (those of samples with g~_i != 0; others 0) by
 * their largest, with the sign of c_i; returns that largest (0: every
 * weight is 0). */
MDATT_INLINE double normalize_weights_w(mdatt_work *w, int n)
{
    double wmax = 0;
    for (int i = 0; i < n; i++) if (w->nzW[i] && w->LW[i] > wmax) wmax = w->LW[i];
    if (wmax > 0) {
        const double inv = 1.0 / wmax;
        for (int i = 0; i < n; i++) w->LW[i] = w->nzW[i] ? w->sg[i] * (w->LW[i] * inv) : 0;
    } else {
        for (int i = 0; i < n; i++) w->LW[i] = 0;
    }
    return wmax;
}

/* The W block's sample weights exp(L_i - max L) sgn(c_i), L_i = log|c_i| +
 * dmax_i - log1p(S_i), into LW; returns max L (-inf: no weight). */
MDATT_INLINE double weights_w(mdatt_work *w, int n, mdatt_loss loss, double logn,
                              const eval_flags *fl)
{
    double MW = -INFINITY;
    int i;
    if (fl->directW) {
        const double wmax = normalize_weights_w(w, n);
        return wmax > 0 ? log(wmax) - logn : -INFINITY;
    }
    if (fl->lpokW) {
        /* smax_i out of range, |l'(u_i)| not: |c_i| smax_i is proportional
         * to |l'(u_i)| / (1 + S_i) e^{dmax_i - D}, D = max dmax (over
         * g~_i != 0), whose largest value is >= 2^-1000 / T */
        double D = -INFINITY;
        for (i = 0; i < n; i++) if (w->nzW[i] && w->dm[i] > D) D = w->dm[i];
        i = 0;
        for (; i + 4 <= n; i += 4) {
            const mdatt_v4d x = MDATT_LD4(w->dm + i) - D;
            mdatt_v4d e4;
            exp4_nonpos(&x, &e4);
            MDATT_ST4(w->LW + i, MDATT_LD4(w->LV + i) / (1.0 + MDATT_LD4(w->SS + i)) * e4);
        }
        for (; i < n; i++)
            w->LW[i] = w->LV[i] / (1.0 + w->SS[i]) * mdatt__exp_nonpos(w->dm[i] - D);
        const double wmax = normalize_weights_w(w, n);
        return wmax > 0 ? log(wmax) + D - logn : -INFINITY;
    }
    for (i = 0; i < n; i++) {
        const double Si = w->SS[i], l1p = Si < 0x1p-60 ? Si : log1p(Si);
        w->LW[i] = log_dloss(loss, w->uu[i]) - logn + w->dm[i] - l1p;
        if (w->nzW[i] && w->LW[i] > MW) MW = w->LW[i];
    }
    for (i = 0; i < n; i++)
        w->LW[i] = w->nzW[i] ? w->sg[i] * mdatt__exp_nonpos(w->LW[i] - MW) : 0.0;
    return MW;
}

/* The W gradient G = sum_i LW_i g~_i z_i^T, scaled to max |G_jk| = O(1). */
MDATT_INLINE void grad_w(const mdatt_instance *in, mdatt_work *w, mdatt_loss loss,
                         const eval_flags *fl, unsigned faults, mdatt_grad *gW)
{
    const int n = in->n, d = in->d;
    const size_t dd = (size_t)d * d;
    double *G = gW->G;
    int e, zero;
    const double MW = weights_w(w, n, loss, log((double)n), fl);
    if (MDATT_FAULT_ON(faults, MDATT_FI_DROP_SAMPLE)) w->LW[0] = 0.0;
    if (w->packed) {
        const double amax = outer_sum_packed(w->Gm, w->ZP, w->LW, G, n, d, w->dp, w->np, w->UT);
        e = rescale_pow2_by(G, dd, amax, &zero);
    } else {
        if ((size_t)n * d * d >= MDATT_BLAS_MIN_GEMM) {
            for (int i = 0; i < n; i++) {
                double *g = w->Gm + (size_t)i * d;
                for (int j = 0; j < d; j++) g[j] *= w->LW[i];
            }
            cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, d, d, n, 1.0, w->Gm, d,
                        in->Z, d, 0.0, G, d);
        } else {
            outer_sum(w->Gm, in->Z, w->LW, G, n, d);
        }
        e = rescale_pow2(G, dd, &zero);
    }
    gW->log_scale = zero || MW == -INFINITY ? -INFINITY : MW + e * M_LN2;
    if (MDATT_FAULT_ON(faults, MDATT_FI_GRAD_SIGN))
        for (size_t j = 0; j < dd; j++) G[j] = -G[j];
}

/* The v gradient G = sum_i LV_i X_i^T s_i, weights exp(log|c_i| - max). */
MDATT_INLINE void grad_v(const mdatt_instance *in, mdatt_work *w, mdatt_loss loss,
                         const eval_flags *fl, unsigned faults, mdatt_grad *gv)
{
    const int n = in->n, d = in->d, np = w->np;
    const double logn = log((double)n);
    double *G = gv->G, MV = -INFINITY;
    int e, zero, i;
    if (fl->directV) {
        double wmax = 0, inv;
        for (i = 0; i < n; i++) if (w->LV[i] > wmax) wmax = w->LV[i];
        inv = 1.0 / wmax;
        MV = log(wmax) - logn;
        for (i = 0; i < n; i++) w->LV[i] = w->sg[i] * (w->LV[i] * inv);
    } else {
        for (i = 0; i < n; i++) {
            w->LV[i] = log_dloss(loss, w->uu[i]) - logn;
            if (w->LV[i] > MV) MV = w->LV[i];
        }
        for (i = 0; i < n; i++) w->LV[i] = w->sg[i] * mdatt__exp_nonpos(w->LV[i] - MV);
    }
    if (MDATT_FAULT_ON(faults, MDATT_FI_DROP_SAMPLE)) w->LV[0] = 0.0;
    if (w->packed) {        /* G_j = sum_i LV_i g_ij, sequential in i (as mtv) */
        for (int j = 0; j < d; j++) {
            const double *gj = w->Gv + (size_t)j * np;
            double acc = 0;
            for (i = 0; i < n; i++) acc += w->LV[i] * gj[i];
            G[j] = acc;
        }
    } else {
        mtv(w->Gv, w->LV, G, n, d, d, 0);
    }
    e = rescale_pow2(G, (size_t)d, &zero);
    gv->log_scale = zero ? -INFINITY : MV + e * M_LN2;
}

/* The evaluation in phases: per-sample quantities (packed or unpacked
 * path), the risk, then the weighted gradients. */
MDATT_HOT
mdatt_status mdatt__eval(const mdatt_instance *in, const double *W, const double *v,
                         mdatt_loss loss, mdatt_work *w, int want_eval, mdatt_eval *ev,
                         mdatt_grad *gW, mdatt_grad *gv, int *alpha)
{
    const unsigned faults = MDATT_WORK_FAULTS(w);
    eval_flags fl = {1, 1, 1};
    int st;
    if (w->n != in->n || w->T != in->T || w->d != in->d) return MDATT_EINVAL;
    if (w->packed)
        st = packed_samples(in, W, v, loss, w, gW != NULL, gv != NULL, alpha, &fl);
    else
        st = unpacked_samples(in, W, v, loss, w, gW != NULL, gv != NULL, alpha, &fl);
    if (st != MDATT_OK) return st;
    if (want_eval) eval_summary(w, in->n, loss, log((double)in->n), ev);
    if (gW) grad_w(in, w, loss, &fl, faults, gW);
    if (gv) grad_v(in, w, loss, &fl, faults, gv);
    return MDATT_OK;
}

static mdatt_status check_args(const mdatt_instance *in, const double *W, const double *v)
{
    if (!in || !W || !v || !in->X || !in->Y || !in->Z || in->n <= 0 || in->T <= 0
        || in->d <= 0)
        return MDATT_EINVAL;
    return MDATT_OK;
}

mdatt_status mdatt_eval_grad(const mdatt_instance *in, const double *W, const double *v,
                             mdatt_loss loss, mdatt_work *w, mdatt_eval *ev,
                             mdatt_grad *gW, mdatt_grad *gv, int *alpha)
{
    mdatt_status st = check_args(in, W, v);
    const double *hfix;
    if (st != MDATT_OK) return st;
    if (!w || (gW && !gW->G) || (gv && !gv->G)) return MDATT_EINVAL;
    if ((unsigned)loss > MDATT_LOSS_CORRELATION) return MDATT_EINVAL;
    hfix = w->Hfix;
#ifdef MDATT_FAULTS
    w->faults = MDATT_FAULT_BITS();
#endif
    w->Hfix = NULL;         /* v is an argument here: never use a cached X v */
    mdatt__pack(in, w);     /* X and Z are arguments too */
    st = mdatt__eval(in, W, v, loss, w, ev != NULL, ev, gW, gv, alpha);
    w->Hfix = hfix;
    return st;
}

/* ------------------------------------------------------- naive gradient */

mdatt_status mdatt_eval_grad_naive(const mdatt_instance *in, const double *W, const double *v,
                                   mdatt_loss loss, mdatt_eval *ev, double *gW, double *gv)
{
    const int n = in ? in->n : 0, T = in ? in->T : 0, d = in ? in->d : 0;
    double *u, *s, *h, *g, lsum = 0, smean = 0, smin = 1, l1m = -INFINITY;
    const unsigned faults = MDATT_FAULT_BITS();
    mdatt_status st = check_args(in, W, v);
    if (st != MDATT_OK) return st;
    if ((unsigned)loss > MDATT_LOSS_CORRELATION) return MDATT_EINVAL;
    u = malloc((size_t)d * sizeof *u);
    g = malloc((size_t)d * sizeof *g);
    s = malloc((size_t)T * sizeof *s);
    h = malloc((size_t)T * sizeof *h);
    if (!u || !g || !s || !h) {
        free(u); free(g); free(s); free(h);
        return MDATT_ENOMEM;
    }
    if (gW) memset(gW, 0, (size_t)d * d * sizeof *gW);
    if (gv) memset(gv, 0, (size_t)d * sizeof *gv);
    for (int i = 0; i < n; i++) {
        const double *Xi = in->X + (size_t)i * T * d, *z = in->Z + (size_t)i * d;
        double amax = -INFINITY, Z = 0, f = 0, y = in->Y[i], m, lp, c, smx = 0;
        mv(W, z, u, d, d, 0);
        mv(Xi, u, s, T, d, 0);
        mv(Xi, v, h, T, d, 0);
        for (int t = 0; t < T; t++) if (s[t] > amax) amax = s[t];
        for (int t = 0; t < T; t++) { s[t] = exp(s[t] - amax); Z += s[t]; }
        for (int t = 0; t < T; t++) { s[t] /= Z; f += s[t] * h[t]; if (s[t] > smx) smx = s[t]; }
        m = y * f;
        switch (loss) {
        case MDATT_LOSS_EXPONENTIAL: lp = -exp(-m); lsum += exp(-m); break;
        case MDATT_LOSS_CORRELATION: lp = -1.0; lsum += -m; break;
        default: lp = -1.0 / (1.0 + exp(m)); lsum += log1p(exp(-m)); break;
        }
        smean += smx;
        if (smx < smin) smin = smx;
        if (log1p(-smx) > l1m) l1m = log1p(-smx);
        c = lp * y / n;
        if (MDATT_FAULT_ON(faults, MDATT_FI_DROP_SAMPLE) && i == 0) c = 0.0;
        if (gW) {       /* c X^T J h z^T, J h = s .* (h - f) */
            for (int j = 0; j < d; j++) g[j] = 0;
            for (int t = 0; t < T; t++) {
                const double jt = s[t] * (h[t] - f);
                for (int j = 0; j < d; j++) g[j] += jt * Xi[(size_t)t * d + j];
            }
            for (int j = 0; j < d; j++)
                for (int k = 0; k < d; k++) gW[(size_t)j * d + k] += c * g[j] * z[k];
        }
        if (gv)
            for (int t = 0; t < T; t++)
                for (int j = 0; j < d; j++) gv[j] += c * s[t] * Xi[(size_t)t * d + j];
    }
    if (gW && MDATT_FAULT_ON(faults, MDATT_FI_GRAD_SIGN))
        for (size_t j = 0; j < (size_t)d * d; j++) gW[j] = -gW[j];
    if (ev) {
        ev->loss = lsum / n;
        ev->log_loss = log(ev->loss);
        ev->smax_mean = smean / n;
        ev->smax_min = smin;
        ev->log1m_smax_max = l1m;
    }
    free(u); free(g); free(s); free(h);
    return MDATT_OK;
}
