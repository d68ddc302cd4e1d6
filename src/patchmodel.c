/* patchmodel.c - forward, backward and optimizers of the patch attention
 * classifier (patchmodel.h).  The batched products (embeddings and the
 * gradient of E) are OpenBLAS dgemm calls; the per-input attention is small. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <cblas.h>
#include "mdatt.h"
#include "patchmodel.h"

struct pm_work {
    int maxB;
    double *X;      /* maxB*T*d embeddings */
    double *GX;     /* their gradient */
    double *S;      /* maxB*T attention */
    double *R;      /* maxB*d attended vectors */
    double *O;      /* maxB*C outputs, then their gradient */
    double *tmp;    /* 3*d scratch: q, dL/dq, dL/dr */
};

const char *pm_block_name(int block)
{
    static const char *n[] = {"E", "P", "W", "z", "V"};
    return block >= 0 && block < PM_NBLOCK ? n[block] : "?";
}

int pm_model_init(pm_model *m, int T, int Pd, int d, int C, uint64_t seed)
{
    memset(m, 0, sizeof *m);
    m->T = T;
    m->Pd = Pd;
    m->d = d;
    m->C = C;
    const size_t len[PM_NBLOCK] = {(size_t)d * Pd, (size_t)T * d, (size_t)d * d, (size_t)d,
                                   (size_t)d * C};
    const double sd[PM_NBLOCK] = {1.0 / sqrt(Pd), 0.1, 1.0 / sqrt(d), 1.0 / sqrt(d), 1.0 / sqrt(d)};
    for (int b = 0; b < PM_NBLOCK; b++) {
        m->off[b] = m->np;
        m->len[b] = len[b];
        m->np += len[b];
    }
    m->w = malloc(sizeof(double) * m->np);
    if (!m->w)
        return -1;
    mdatt_rng r;
    mdatt_rng_seed(&r, seed);
    for (int b = 0; b < PM_NBLOCK; b++)
        for (size_t k = 0; k < len[b]; k++)
            m->w[m->off[b] + k] = sd[b] * mdatt_rng_normal(&r);
    return 0;
}

void pm_model_free(pm_model *m)
{
    free(m->w);
    memset(m, 0, sizeof *m);
}

pm_work *pm_work_new(const pm_model *m, int maxB)
{
    pm_work *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    const size_t btd = (size_t)maxB * m->T * m->d;
    w->maxB = maxB;
    w->X = malloc(sizeof(double) * btd);
    w->GX = malloc(sizeof(double) * btd);
    w->S = malloc(sizeof(double) * maxB * m->T);
    w->R = malloc(sizeof(double) * maxB * m->d);
    w->O = malloc(sizeof(double) * maxB * m->C);
    w->tmp = malloc(sizeof(double) * 3 * m->d);
    if (!w->X || !w->GX || !w->S || !w->R || !w->O || !w->tmp) {
        pm_work_free(w);
        return NULL;
    }
    return w;
}

void pm_work_free(pm_work *w)
{
    if (!w)
        return;
    free(w->X);
    free(w->GX);
    free(w->S);
    free(w->R);
    free(w->O);
    free(w->tmp);
    free(w);
}

/* log(1 + e^x) without overflow. */
static double log1pexp(double x)
{
    return x > 0 ? x + log1p(exp(-x)) : log1p(exp(x));
}

void pm_forward(const pm_model *m, pm_work *w, const double *U, const int *labels, int B,
                double *grad, double *attn, pm_stats *st)
{
    const int T = m->T, Pd = m->Pd, d = m->d, C = m->C, BT = B * T;
    const double *E = m->w + m->off[PM_E], *P = m->w + m->off[PM_P], *W = m->w + m->off[PM_W],
                 *z = m->w + m->off[PM_Z], *V = m->w + m->off[PM_V];
    double *X = w->X, *S = w->S, *R = w->R, *O = w->O, *q = w->tmp, *gq = w->tmp + d;
    memset(st, 0, sizeof *st);
    /* X = U E^T + P (per token). */
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, BT, d, Pd, 1.0, U, Pd, E, Pd, 0.0, X, d);
    for (int i = 0; i < B; i++)
        for (int t = 0; t < T; t++) {
            double *x = X + ((size_t)i * T + t) * d;
            for (int j = 0; j < d; j++)
                x[j] += P[t * d + j];
        }
    /* q = W z: the scores are a_t = x_t^T q. */
    for (int j = 0; j < d; j++) {
        double s = 0.0;
        for (int k = 0; k < d; k++)
            s += W[j * d + k] * z[k];
        q[j] = s;
    }
    double loss = 0.0;
    for (int i = 0; i < B; i++) {
        const double *Xi = X + (size_t)i * T * d;
        double *s = S + (size_t)i * T, *r = R + (size_t)i * d, *o = O + (size_t)i * C, amax = -INFINITY;
        for (int t = 0; t < T; t++) {
            double a = 0.0;
            for (int j = 0; j < d; j++)
                a += Xi[t * d + j] * q[j];
            s[t] = a;
            amax = fmax(amax, a);
        }
        double sum = 0.0, ent = 0.0, top = 0.0;
        for (int t = 0; t < T; t++) {
            s[t] = exp(s[t] - amax);
            sum += s[t];
        }
        memset(r, 0, sizeof(double) * d);
        for (int t = 0; t < T; t++) {
            s[t] /= sum;
            if (s[t] > 0)
                ent -= s[t] * log(s[t]);
            top = fmax(top, s[t]);
            for (int j = 0; j < d; j++)
                r[j] += s[t] * Xi[t * d + j];
        }
        st->entropy += ent;
        st->topmass += top;
        for (int c = 0; c < C; c++) {
            double v = 0.0;
            for (int j = 0; j < d; j++)
                v += r[j] * V[j * C + c];
            o[c] = v;
        }
        /* Loss and its gradient in o (overwriting o), divided by B. */
        const int y = labels[i];
        if (C == 1) {
            const double sy = y ? 1.0 : -1.0, u = sy * o[0];
            loss += log1pexp(-u);
            st->correct += (o[0] > 0) == (y != 0);
            o[0] = -sy / (1.0 + exp(u)) / B;
        } else {
            double omax = -INFINITY, se = 0.0;
            int arg = 0;
            for (int c = 0; c < C; c++)
                if (o[c] > omax) {
                    omax = o[c];
                    arg = c;
                }
            for (int c = 0; c < C; c++)
                se += exp(o[c] - omax);
            loss += omax + log(se) - o[y];
            st->correct += arg == y;
            for (int c = 0; c < C; c++)
                o[c] = (exp(o[c] - omax) / se - (c == y)) / B;
        }
    }
    st->loss = loss / B;
    if (attn)
        memcpy(attn, S, sizeof(double) * BT);
    if (!grad)
        return;
    double *gE = grad + m->off[PM_E], *gP = grad + m->off[PM_P], *gW = grad + m->off[PM_W],
           *gz = grad + m->off[PM_Z], *gV = grad + m->off[PM_V], *GX = w->GX;
    memset(grad, 0, sizeof(double) * m->np);
    memset(gq, 0, sizeof(double) * d);
    double *g = w->tmp + 2 * d;     /* dL/dr of the current input */
    for (int i = 0; i < B; i++) {
        const double *Xi = X + (size_t)i * T * d, *s = S + (size_t)i * T, *r = R + (size_t)i * d,
                     *go = O + (size_t)i * C;
        double *GXi = GX + (size_t)i * T * d;
        for (int j = 0; j < d; j++) {
            double v = 0.0;
            for (int c = 0; c < C; c++) {
                v += V[j * C + c] * go[c];
                gV[j * C + c] += r[j] * go[c];
            }
            g[j] = v;
        }
        double ebar = 0.0;
        for (int j = 0; j < d; j++)
            ebar += g[j] * r[j];
        for (int t = 0; t < T; t++) {
            const double *x = Xi + t * d;
            double e = 0.0;
            for (int j = 0; j < d; j++)
                e += g[j] * x[j];
            const double da = s[t] * (e - ebar);
            double *gx = GXi + t * d, *gp = gP + t * d;
            for (int j = 0; j < d; j++) {
                gx[j] = s[t] * g[j] + da * q[j];
                gp[j] += gx[j];
                gq[j] += da * x[j];
            }
        }
    }
    for (int j = 0; j < d; j++)
        for (int k = 0; k < d; k++) {
            gW[j * d + k] = gq[j] * z[k];
            gz[k] += W[j * d + k] * gq[j];
        }
    /* gE = GX^T U. */
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, d, Pd, BT, 1.0, GX, d, U, Pd, 0.0, gE, Pd);
}

int pm_opt_init(pm_opt *o, pm_opt_kind kind, double p, double lr, const pm_model *m)
{
    memset(o, 0, sizeof *o);
    o->kind = kind;
    o->p = p;
    o->lr = lr;
    o->beta1 = 0.9;
    o->beta2 = 0.999;
    o->eps = 1e-8;
    o->np = m->np;
    o->a = calloc(m->np, sizeof(double));
    o->b = kind == PM_OPT_ADAM ? calloc(m->np, sizeof(double)) : NULL;
    if (!o->a || (kind == PM_OPT_ADAM && !o->b)) {
        pm_opt_free(o);
        return -1;
    }
    if (kind == PM_OPT_MD)
        mdatt_mirror_map(m->w, o->a, m->np, p);
    return 0;
}

void pm_opt_free(pm_opt *o)
{
    free(o->a);
    free(o->b);
    o->a = o->b = NULL;
}

void pm_opt_step(pm_opt *o, pm_model *m, const double *grad)
{
    o->t++;
    if (o->kind == PM_OPT_MD) {
        for (size_t k = 0; k < o->np; k++)
            o->a[k] -= o->lr * grad[k];
        mdatt_mirror_inverse(o->a, m->w, o->np, o->p);
        return;
    }
    const double c1 = 1.0 - pow(o->beta1, (double)o->t), c2 = 1.0 - pow(o->beta2, (double)o->t);
    for (size_t k = 0; k < o->np; k++) {
        o->a[k] = o->beta1 * o->a[k] + (1.0 - o->beta1) * grad[k];
        o->b[k] = o->beta2 * o->b[k] + (1.0 - o->beta2) * grad[k] * grad[k];
        m->w[k] -= o->lr * (o->a[k] / c1) / (sqrt(o->b[k] / c2) + o->eps);
    }
}
