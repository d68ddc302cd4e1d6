/* patchmodel.c - forward, backward, optimizers and the training loop of the
 * patch attention classifier (patchmodel.h, doc/design.md §10), with the
 * study's statistics (plateau rule, paired t-interval) and the
 * token-selection task's data.  The batched products (embeddings and the
 * gradient of E) are OpenBLAS dgemm calls; the per-input attention is small. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cblas.h>
#include "internal.h"
#include "mdatt.h"
#include "patchmodel.h"

struct mdatt_pm_work {
    int maxB;
    double *X;      /* maxB*T*d embeddings */
    double *GX;     /* their gradient */
    double *S;      /* maxB*T attention */
    double *R;      /* maxB*d attended vectors */
    double *O;      /* maxB*C outputs, then their gradient */
    double *tmp;    /* 3*d scratch: q, dL/dq, dL/dr */
};

const char *mdatt_pm_block_name(int block)
{
    static const char *n[] = {"E", "P", "W", "z", "V"};
    return block >= 0 && block < MDATT_PM_NBLOCK ? n[block] : "?";
}

int mdatt_pm_model_init(mdatt_pm_model *m, int T, int Pd, int d, int C, uint64_t seed)
{
    memset(m, 0, sizeof *m);
    m->T = T;
    m->Pd = Pd;
    m->d = d;
    m->C = C;
    const size_t len[MDATT_PM_NBLOCK] = {(size_t)d * Pd, (size_t)T * d, (size_t)d * d, (size_t)d,
                                   (size_t)d * C};
    const double sd[MDATT_PM_NBLOCK] = {1.0 / sqrt(Pd), 0.1, 1.0 / sqrt(d), 1.0 / sqrt(d), 1.0 / sqrt(d)};
    for (int b = 0; b < MDATT_PM_NBLOCK; b++) {
        m->off[b] = m->np;
        m->len[b] = len[b];
        m->np += len[b];
    }
    m->w = malloc(sizeof(double) * m->np);
    if (!m->w)
        return -1;
    mdatt_rng r;
    mdatt_rng_seed(&r, seed);
    for (int b = 0; b < MDATT_PM_NBLOCK; b++)
        for (size_t k = 0; k < len[b]; k++)
            m->w[m->off[b] + k] = sd[b] * mdatt_rng_normal(&r);
    return 0;
}

void mdatt_pm_model_free(mdatt_pm_model *m)
{
    free(m->w);
    memset(m, 0, sizeof *m);
}

mdatt_pm_work *mdatt_pm_work_new(const mdatt_pm_model *m, int maxB)
{
    mdatt_pm_work *w = calloc(1, sizeof *w);
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
        mdatt_pm_work_free(w);
        return NULL;
    }
    return w;
}

void mdatt_pm_work_free(mdatt_pm_work *w)
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

/* The embedding: X = U E^T + P (per token) and q = W z, so that the scores
 * are a_t = x_t^T q (design.md §10). */
static void pm_embed(const mdatt_pm_model *m, mdatt_pm_work *w, const double *U, int B)
{
    const int T = m->T, Pd = m->Pd, d = m->d, BT = B * T;
    const double *E = m->w + m->off[MDATT_PM_E], *P = m->w + m->off[MDATT_PM_P],
                 *W = m->w + m->off[MDATT_PM_W], *z = m->w + m->off[MDATT_PM_Z];
    double *X = w->X, *q = w->tmp;
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, BT, d, Pd, 1.0, U, Pd, E, Pd, 0.0, X, d);
    for (int i = 0; i < B; i++)
        for (int t = 0; t < T; t++) {
            double *x = X + ((size_t)i * T + t) * d;
            for (int j = 0; j < d; j++)
                x[j] += P[t * d + j];
        }
    for (int j = 0; j < d; j++) {
        double s = 0.0;
        for (int k = 0; k < d; k++)
            s += W[j * d + k] * z[k];
        q[j] = s;
    }
}

/* Sample i: its attention s (softmax of the scores), the attended token r,
 * the outputs o, and in o the loss's gradient divided by B; returns its loss
 * and adds its entropy, top mass and correctness to st. */
static double pm_sample(const mdatt_pm_model *m, mdatt_pm_work *w, int i, int y, int B,
                        mdatt_pm_stats *st)
{
    const int T = m->T, d = m->d, C = m->C;
    const double *V = m->w + m->off[MDATT_PM_V], *q = w->tmp;
    const double *Xi = w->X + (size_t)i * T * d;
    double *s = w->S + (size_t)i * T, *r = w->R + (size_t)i * d, *o = w->O + (size_t)i * C;
    double amax = -INFINITY;
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
    if (C == 1) {
        const double sy = y ? 1.0 : -1.0, u = sy * o[0];
        st->correct += (o[0] > 0) == (y != 0);
        o[0] = -sy / (1.0 + exp(u)) / B;
        return log1pexp(-u);
    }
    double omax = -INFINITY, se = 0.0;
    int arg = 0;
    for (int c = 0; c < C; c++)
        if (o[c] > omax) {
            omax = o[c];
            arg = c;
        }
    for (int c = 0; c < C; c++)
        se += exp(o[c] - omax);
    const double loss = omax + log(se) - o[y];
    st->correct += arg == y;
    for (int c = 0; c < C; c++)
        o[c] = (exp(o[c] - omax) / se - (c == y)) / B;
    return loss;
}

/* The backward pass through sample i: gV, gP and the token gradients GX_i
 * accumulated, gq (dL/dq) too. */
static void pm_sample_backward(const mdatt_pm_model *m, mdatt_pm_work *w, int i, double *grad,
                               double *gq)
{
    const int T = m->T, d = m->d, C = m->C;
    const double *V = m->w + m->off[MDATT_PM_V], *q = w->tmp;
    double *gP = grad + m->off[MDATT_PM_P], *gV = grad + m->off[MDATT_PM_V];
    const double *Xi = w->X + (size_t)i * T * d, *s = w->S + (size_t)i * T,
                 *r = w->R + (size_t)i * d, *go = w->O + (size_t)i * C;
    double *GXi = w->GX + (size_t)i * T * d;
    double *g = w->tmp + 2 * d;     /* dL/dr of the current input */
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

void mdatt_pm_forward(const mdatt_pm_model *m, mdatt_pm_work *w, const double *U, const int *labels, int B,
                double *grad, double *attn, mdatt_pm_stats *st)
{
    const int T = m->T, Pd = m->Pd, d = m->d, BT = B * T;
    const double *W = m->w + m->off[MDATT_PM_W], *z = m->w + m->off[MDATT_PM_Z];
    double *gq = w->tmp + d;
    memset(st, 0, sizeof *st);
    pm_embed(m, w, U, B);
    double loss = 0.0;
    for (int i = 0; i < B; i++)
        loss += pm_sample(m, w, i, labels[i], B, st);
    st->loss = loss / B;
    if (attn)
        memcpy(attn, w->S, sizeof(double) * BT);
    if (!grad)
        return;
    double *gE = grad + m->off[MDATT_PM_E], *gW = grad + m->off[MDATT_PM_W],
           *gz = grad + m->off[MDATT_PM_Z];
    memset(grad, 0, sizeof(double) * m->np);
    memset(gq, 0, sizeof(double) * d);
    for (int i = 0; i < B; i++)
        pm_sample_backward(m, w, i, grad, gq);
    for (int j = 0; j < d; j++)
        for (int k = 0; k < d; k++) {
            gW[j * d + k] = gq[j] * z[k];
            gz[k] += W[j * d + k] * gq[j];
        }
    /* gE = GX^T U. */
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, d, Pd, BT, 1.0, w->GX, d, U, Pd, 0.0, gE, Pd);
}

int mdatt_pm_opt_init(mdatt_pm_opt *o, mdatt_pm_opt_kind kind, double p, double lr, const mdatt_pm_model *m)
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
    o->b = kind == MDATT_PM_OPT_ADAM ? calloc(m->np, sizeof(double)) : NULL;
    if (!o->a || (kind == MDATT_PM_OPT_ADAM && !o->b)) {
        mdatt_pm_opt_free(o);
        return -1;
    }
    if (kind == MDATT_PM_OPT_MD)
        mdatt_mirror_map(m->w, o->a, m->np, p);
    return 0;
}

void mdatt_pm_opt_free(mdatt_pm_opt *o)
{
    free(o->a);
    free(o->b);
    o->a = o->b = NULL;
}

void mdatt_pm_opt_step(mdatt_pm_opt *o, mdatt_pm_model *m, const double *grad)
{
    o->t++;
    if (o->kind == MDATT_PM_OPT_MD) {
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

/* ============================================================== training */

/* The schedule's factor f(k), doc/design.md (25). */
double mdatt_pm_lr_factor(mdatt_pm_schedule s, long step, long total, long warm)
{
    if (s != MDATT_PM_SCHED_COSINE)
        return 1.0;
    if (step < warm)
        return (double)(step + 1) / (double)warm;
    if (total <= warm)
        return 1.0;
    const double x = (double)(step - warm) / (double)(total - warm);
    return 0.5 * (1.0 + cos(M_PI * fmin(x, 1.0)));
}

void mdatt_pm_train_default_settings(mdatt_pm_train_settings *s)
{
    memset(s, 0, sizeof *s);
    s->kind = MDATT_PM_OPT_MD;
    s->p = 2.0;
    s->lr = 0.1;
    s->epochs = 1;
    s->batch = 100;
    s->schedule = MDATT_PM_SCHED_CONSTANT;
    s->seed = 1;
    s->start_batches = 20;
}

/* Paired seeds (doc/design.md §10): functions of the run seed only. */
uint64_t mdatt_pm_init_seed(uint64_t seed)
{
    return seed * 7919 + 17;
}

uint64_t mdatt_pm_order_seed(uint64_t seed)
{
    return seed * 104729 + 3;
}

static int pm_finite(const mdatt_pm_model *m)
{
    for (size_t k = 0; k < m->np; k++)
        if (!isfinite(m->w[k]))
            return 0;
    return 1;
}

static double pm_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

/* Scratch of one run. */
typedef struct {
    mdatt_pm_work *w;
    double *U, *g;
    int *y, *perm;
} pm_run;

static void pm_run_free(pm_run *r)
{
    mdatt_pm_work_free(r->w);
    free(r->U);
    free(r->g);
    free(r->y);
    free(r->perm);
}

/* The starting loss: mean over the first (up to) start_batches batches of
 * the item list (in its given order) at the initial parameters. */
static double pm_start_loss(const mdatt_pm_model *m, pm_run *r, const int *train, int ntrain,
                            mdatt_pm_fill_fn fill, void *fctx, const mdatt_pm_train_settings *s)
{
    const int B = s->batch;
    double start = 0.0;
    int n = 0;
    for (int at = 0; at + B <= ntrain && n < s->start_batches; at += B, n++) {
        mdatt_pm_stats st;
        fill(train + at, B, r->U, r->y, fctx);
        mdatt_pm_forward(m, r->w, r->U, r->y, B, NULL, NULL, &st);
        start += st.loss;
    }
    return n ? start / n : INFINITY;
}

/* Gradient-norm clipping, doc/design.md (28). */
double mdatt_pm_clip(double *g, size_t n, double c)
{
    double ss = 0.0;
    for (size_t k = 0; k < n; k++)
        ss += g[k] * g[k];
    const double norm = sqrt(ss);
    if (c > 0 && norm > c) {
        const double f = c / norm;
        for (size_t k = 0; k < n; k++)
            g[k] *= f;
    }
    return norm;
}

/* One epoch of steps in the order r->perm, each on the gradient clipped to
 * s->clip (the same rule for every optimizer; *clipped counts the steps it
 * shortened); the mean training loss, or NAN once a loss is not finite (no
 * further step is taken). */
static double pm_epoch(mdatt_pm_model *m, pm_run *r, mdatt_pm_opt *o, int ntrain,
                       mdatt_pm_fill_fn fill, void *fctx, const mdatt_pm_train_settings *s,
                       long total, long warm, long *clipped)
{
    const int B = s->batch;
    double sum = 0.0;
    int nb = 0;
    for (int at = 0; at + B <= ntrain; at += B) {
        mdatt_pm_stats st;
        fill(r->perm + at, B, r->U, r->y, fctx);
        mdatt_pm_forward(m, r->w, r->U, r->y, B, r->g, NULL, &st);
        if (!isfinite(st.loss))
            return NAN;
        sum += st.loss;
        nb++;
        if (s->clip > 0 && mdatt_pm_clip(r->g, m->np, s->clip) > s->clip)
            (*clipped)++;
        o->lr = s->lr * mdatt_pm_lr_factor(s->schedule, o->t, total, warm);
        mdatt_pm_opt_step(o, m, r->g);
    }
    return nb ? sum / nb : 0.0;
}

int mdatt_pm_train(mdatt_pm_model *m, int T, int Pd, int d, int C, const int *train, int ntrain,
                   mdatt_pm_fill_fn fill, void *fill_ctx, const mdatt_pm_train_settings *s,
                   mdatt_pm_train_info *info)
{
    memset(info, 0, sizeof *info);
    if (mdatt_pm_model_init(m, T, Pd, d, C, mdatt_pm_init_seed(s->seed)))
        return -1;
    const int B = s->batch;
    pm_run r = {mdatt_pm_work_new(m, B), malloc(sizeof(double) * B * T * Pd),
                malloc(sizeof(double) * m->np), malloc(sizeof(int) * B),
                malloc(sizeof(int) * (ntrain > 0 ? ntrain : 1))};
    mdatt_pm_opt o;
    memset(&o, 0, sizeof o);
    int rc = -1;
    if (!r.w || !r.U || !r.g || !r.y || !r.perm || mdatt_pm_opt_init(&o, s->kind, s->p, s->lr, m))
        goto out;
    memcpy(r.perm, train, sizeof(int) * ntrain);
    mdatt_rng rng;
    mdatt_rng_seed(&rng, mdatt_pm_order_seed(s->seed));
    const long total = (long)s->epochs * (ntrain / B), warm = (long)ceil(s->warmup * (ntrain / B));
    info->start_loss = pm_start_loss(m, &r, train, ntrain, fill, fill_ctx, s);
    double last = info->start_loss; /* the last epoch's mean training loss */
    for (int ep = 0; ep < s->epochs; ep++) {
        const double t0 = pm_now();
        for (int k = ntrain - 1; k > 0; k--) {
            const int j = (int)(mdatt_rng_uniform(&rng) * (k + 1)), tmp = r.perm[k];
            r.perm[k] = r.perm[j];
            r.perm[j] = tmp;
        }
        if (s->order_hook)
            s->order_hook(ep, r.perm, ntrain, m, s->hook_ctx);
        if (!info->diverged) {
            last = pm_epoch(m, &r, &o, ntrain, fill, fill_ctx, s, total, warm, &info->clipped);
            info->diverged = !isfinite(last) || !pm_finite(m);
        }
        if (ep == 0)
            info->first_epoch_secs = pm_now() - t0;
        info->epochs = ep + 1;
        if (s->epoch_hook && s->epoch_hook(ep, m, info->diverged, s->hook_ctx))
            break;
    }
    /* A run that ends above its starting loss diverged too (doc/design.md,
     * "Divergence"); an epoch above it on the way does not end the run. */
    info->final_loss = last;
    if (!(last <= info->start_loss))
        info->diverged = 1;
    info->steps = o.t;
    rc = 0;
out:
    mdatt_pm_opt_free(&o);
    pm_run_free(&r);
    return rc;
}

/* ============================================================= the study */

/* The plateau rule, doc/design.md (26). */
int mdatt_pm_plateaued(const double *acc, int n, double frac, double tol)
{
    const int win = (int)ceil(frac * n), head = n - win;
    if (win < 1 || head < 1)
        return 0;
    double before = -INFINITY, last = -INFINITY;
    for (int k = 0; k < n; k++) {
        if (!isfinite(acc[k]))
            return 0;
        if (k < head)
            before = fmax(before, acc[k]);
        else
            last = fmax(last, acc[k]);
    }
    return last < before + tol;
}

/* The selection score, doc/design.md (29). */
double mdatt_pm_select_score(const double *val, int n)
{
    double worst = INFINITY;
    for (int k = 0; k < n; k++) {
        if (!(val[k] >= 0))
            return -1.0;
        worst = fmin(worst, val[k]);
    }
    return n > 0 ? worst : -1.0;
}

/* The best score of the steps that trained, skipping index skip (ties: the
 * smaller step), or -1. */
static int pm_best_step(const double *lr, const double *score, int n, int skip)
{
    int at = -1;
    for (int k = 0; k < n; k++)
        if (k != skip && score[k] >= 0 &&
            (at < 0 || score[k] > score[at] || (score[k] == score[at] && lr[k] < lr[at])))
            at = k;
    return at;
}

/* The choice among the finalists, doc/design.md (29). */
int mdatt_pm_choose_step(const double *lr, const double *score, int n, int seeds)
{
    if (seeds >= 2)
        return pm_best_step(lr, score, n, -1);
    int largest = -1, trained = 0;
    for (int k = 0; k < n; k++)
        if (score[k] >= 0) {
            trained++;
            if (largest < 0 || lr[k] > lr[largest])
                largest = k;
        }
    return trained < 2 ? largest : pm_best_step(lr, score, n, largest);
}

double mdatt_pm_t975(int df)
{
    static const double t[31] = {NAN, 12.7062047362, 4.3026527297, 3.1824463053, 2.7764451052,
                                 2.5705818366, 2.4469118511, 2.3646242516, 2.3060041352,
                                 2.2621571628, 2.2281388520, 2.2009851601, 2.1788128297,
                                 2.1603686565, 2.1447866879, 2.1314495456, 2.1199052992,
                                 2.1098155778, 2.1009220402, 2.0930240544, 2.0859634473,
                                 2.0796138447, 2.0738730679, 2.0686576104, 2.0638985616,
                                 2.0595385528, 2.0555294386, 2.0518305165, 2.0484071418,
                                 2.0452296421, 2.0422724563};
    if (df < 1)
        return NAN;
    if (df <= 30)
        return t[df];
    const double z = 1.959963984540054, z2 = z * z, v = df;
    return z + z * (z2 + 1) / (4 * v) + z * ((5 * z2 + 16) * z2 + 3) / (96 * v * v) +
           z * (((3 * z2 + 19) * z2 + 17) * z2 - 15) / (384 * v * v * v);
}

/* The paired interval, doc/design.md (27), and beside it (27b). */
void mdatt_pm_paired_diff(const double *a, const double *b, int n, mdatt_pm_paired *out)
{
    double mean = 0.0, ss = 0.0;
    for (int i = 0; i < n; i++)
        mean += (a[i] - b[i]) / n;
    for (int i = 0; i < n; i++)
        ss += (a[i] - b[i] - mean) * (a[i] - b[i] - mean);
    out->n = n;
    out->mean = n > 0 ? mean : NAN;
    out->sd = n > 1 ? sqrt(ss / (n - 1)) : NAN;
    const double half = n > 1 ? mdatt_pm_t975(n - 1) * out->sd / sqrt((double)n) : NAN;
    out->lo = out->mean - half;
    out->hi = out->mean + half;
    /* median, wins and losses (a handful of seeds: a copy on the stack) */
    out->median = NAN;
    out->wins = out->losses = 0;
    out->sign_p = 1.0;
    if (n <= 0 || n > 4096)
        return;
    double dd[n];
    for (int i = 0; i < n; i++) {
        dd[i] = a[i] - b[i];
        out->wins += dd[i] > 0.0;
        out->losses += dd[i] < 0.0;
    }
    mdatt__sort(dd, (size_t)n);
    out->median = mdatt__quantile(dd, n, 0.5);
    /* sign test: 2 P(Bin(m, 1/2) <= k), k = min(wins, losses) */
    const int m = out->wins + out->losses, k = out->wins < out->losses ? out->wins : out->losses;
    if (m == 0)
        return;
    double term = ldexp(1.0, -m), tail = 0.0;   /* C(m, 0) / 2^m */
    for (int j = 0; j <= k; j++) {
        tail += term;
        term = term * (m - j) / (j + 1);
    }
    out->sign_p = fmin(1.0, 2.0 * tail);
}

const char *mdatt_pm_verdict(const mdatt_pm_paired *c)
{
    if (c->n >= 2 && c->lo > 0)
        return "better";
    if (c->n >= 2 && c->hi < 0)
        return "worse";
    return "no difference detected at this resolution";
}

/* Indices of the images whose label is (in = 1) or is not (in = 0) one of
 * target[0..1]. */
static int *pm_group(const mdatt_images *im, const int target[2], int in, int *count)
{
    int *idx = malloc(sizeof(int) * (im->n > 0 ? im->n : 1));
    *count = 0;
    for (int i = 0; idx && i < im->n; i++)
        if ((im->labels[i] == target[0] || im->labels[i] == target[1]) == in)
            idx[(*count)++] = i;
    return idx;
}

int mdatt_pm_token_task(const mdatt_images *im, const int target[2], int n, int T, uint64_t seed,
                        int *items, int *pos, int *label)
{
    int nt, nd, rc = -1;
    int *tg = pm_group(im, target, 1, &nt), *ds = pm_group(im, target, 0, &nd);
    if (!tg || !ds || nt == 0 || (T > 1 && nd == 0))
        goto out;
    mdatt_rng r;
    mdatt_rng_seed(&r, seed);
    for (int i = 0; i < n; i++) {
        pos[i] = (int)(mdatt_rng_uniform(&r) * T);
        for (int t = 0; t < T; t++) {
            const int *g = t == pos[i] ? tg : ds, ng = t == pos[i] ? nt : nd;
            items[(size_t)i * T + t] = g[(int)(mdatt_rng_uniform(&r) * ng)];
        }
        label[i] = im->labels[items[(size_t)i * T + pos[i]]] == target[1];
    }
    rc = 0;
out:
    free(tg);
    free(ds);
    return rc;
}

int mdatt_pm_project(const mdatt_images *im, int Pd, uint64_t seed, double *out)
{
    const int D = im->rows * im->cols, chunk = 1000;
    double *G = malloc(sizeof(double) * Pd * D), *X = malloc(sizeof(double) * chunk * D);
    if (!G || !X) {
        free(G);
        free(X);
        return -1;
    }
    mdatt_rng r;
    mdatt_rng_seed(&r, seed);
    for (int k = 0; k < Pd * D; k++)
        G[k] = mdatt_rng_normal(&r) / sqrt((double)D);
    for (int i0 = 0; i0 < im->n; i0 += chunk) {
        const int m = im->n - i0 < chunk ? im->n - i0 : chunk;
        for (size_t k = 0; k < (size_t)m * D; k++)
            X[k] = im->pixels[(size_t)i0 * D + k] / 255.0;
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, Pd, D, 1.0, X, D, G, D, 0.0,
                    out + (size_t)i0 * Pd, Pd);
    }
    free(G);
    free(X);
    return 0;
}
