/* train.c - l_p-AttGD and l_p-JointGD (design.md (6)-(9);
 * arXiv 2410.14581, Algorithm "l_p-AttGD").
 *
 * The state is the dual iterate theta = grad psi(W), kept as an unevaluated
 * double-double sum hi + lo: theta_{k+1} = theta_k - eta G_k is then exact to
 * about 1e-32 relative however large theta grows, so every applied step has
 * the dual norm it was given (eta in normalized mode) to rounding of the step
 * itself, and W_{k+1} = (grad psi)^{-1}(hi) costs one map per entry. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"

#ifdef MDATT_FAULTS
int mdatt_fault(const char *name)
{
    const char *e = getenv("MDATT_FAULT");
    return e && name && strcmp(e, name) == 0;
}

unsigned mdatt__fault_bits(void)
{
    return (mdatt_fault("inverse_exponent") ? MDATT_FI_INVERSE_EXPONENT : 0u)
           | (mdatt_fault("grad_sign") ? MDATT_FI_GRAD_SIGN : 0u)
           | (mdatt_fault("no_normalize") ? MDATT_FI_NO_NORMALIZE : 0u)
           | (mdatt_fault("drop_sample") ? MDATT_FI_DROP_SAMPLE : 0u);
}
#endif

void mdatt_train_default_settings(mdatt_train_settings *s)
{
    memset(s, 0, sizeof *s);
    s->p = 2.0;
    s->lr = 0.1;
    s->iters = 1000;
    s->normalized = 0;
    s->joint = 0;
    s->loss = MDATT_LOSS_LOGISTIC;
    s->grad_mode = MDATT_GRAD_STABLE;
    s->eps = 1e-12;
    s->log_every = 0;
    s->hook = NULL;
    s->hook_ctx = NULL;
}

const char *mdatt_train_check_settings(const mdatt_train_settings *s)
{
    if (!s) return "settings: NULL";
    if (!(s->p > 1.0) || isinf(s->p)) return "p: must be a real number > 1";
    if (!(s->lr > 0.0) || isinf(s->lr)) return "lr: must be positive and finite";
    if (s->iters < 0) return "iters: must be >= 0";
    if (s->log_every < 0) return "log_every: must be >= 0";
    if ((unsigned)s->loss > MDATT_LOSS_CORRELATION) return "loss: unknown loss";
    if ((unsigned)s->grad_mode > MDATT_GRAD_NAIVE_EPS) return "grad_mode: unknown mode";
    if (!(s->eps >= 0.0) || isinf(s->eps)) return "eps: must be >= 0 and finite";
    return NULL;
}

/* theta (hi + lo) += -(coef * G_j) (normalized) or -(coef * (G_j * sc))
 * (plain: sc = exp(log_scale)), each as an error-free TwoSum followed by a
 * renormalization.  The applied change of hi + lo goes to dstep if given.
 * Returns 1 if theta changed.  The vector and scalar forms do the same
 * operations, so results do not depend on the alignment of m to 4. */

/* The TwoSum update of one entry; T_ is double or mdatt_v4d. */
#define DD_ADD(T_, h0_, l0_, dl_, nh_, nl_) do {                               \
    const T_ s_ = (h0_) + (dl_), bb_ = s_ - (h0_);                             \
    const T_ err_ = ((h0_) - (s_ - bb_)) + ((dl_) - bb_);                      \
    const T_ e2_ = (l0_) + err_;                                               \
    (nh_) = s_ + e2_;                                                          \
    (nl_) = e2_ - ((nh_) - s_);                                                \
} while (0)

MDATT_HOT
static int dual_step(double *hi, double *lo, const double *G, double coef, double sc,
                     int plain, size_t m, double *dstep)
{
    int changed = 0;
    size_t j = 0;
    mdatt_v4i ch = {0, 0, 0, 0};
    for (; j + 4 <= m; j += 4) {
        const mdatt_v4d g = MDATT_LD4(G + j), h0 = MDATT_LD4(hi + j), l0 = MDATT_LD4(lo + j);
        const mdatt_v4d dl = plain ? -(coef * (g * sc)) : -(g * coef);
        mdatt_v4d nh, nl;
        DD_ADD(mdatt_v4d, h0, l0, dl, nh, nl);
        if (dstep) MDATT_ST4(dstep + j, (nh - h0) + (nl - l0));
        ch |= (nh != h0) | (nl != l0);
        MDATT_ST4(hi + j, nh);
        MDATT_ST4(lo + j, nl);
    }
    changed = (ch[0] | ch[1] | ch[2] | ch[3]) != 0;
    for (; j < m; j++) {
        const double dl = plain ? -(coef * (G[j] * sc)) : -(G[j] * coef);
        const double h0 = hi[j], l0 = lo[j];
        double nh, nl;
        DD_ADD(double, h0, l0, dl, nh, nl);
        if (dstep) dstep[j] = (nh - h0) + (nl - l0);
        changed |= (nh != h0) | (nl != l0);
        hi[j] = nh;
        lo[j] = nl;
    }
    return changed;
}

/* One block's step.  G is the gradient direction with grad = G exp(ls)
 * (ls = 0 for the naive gradient).  Returns 1 if theta changed. */
static int block_step(const mdatt_train_settings *s, double q, double *hi, double *lo,
                      const double *G, double ls, size_t m, double *dstep, unsigned faults)
{
    if (MDATT_FAULT_ON(faults, MDATT_FI_NO_NORMALIZE) && s->normalized) {
        /* the plain step in place of the normalized one */
        if (s->grad_mode == MDATT_GRAD_NAIVE_EPS)
            return dual_step(hi, lo, G, s->lr, 1.0, 1, m, dstep);
        if (ls == -INFINITY) {
            if (dstep) memset(dstep, 0, m * sizeof *dstep);
            return 0;
        }
        return dual_step(hi, lo, G, s->lr, exp(ls), 1, m, dstep);
    }
    if (s->grad_mode == MDATT_GRAD_NAIVE_EPS) {
        if (s->normalized)
            return dual_step(hi, lo, G, s->lr / (mdatt_norm_p(G, m, q) + s->eps), 1.0, 0,
                             m, dstep);
        return dual_step(hi, lo, G, s->lr, 1.0, 1, m, dstep);
    }
    if (ls == -INFINITY) {              /* zero gradient */
        if (dstep) memset(dstep, 0, m * sizeof *dstep);
        return 0;
    }
    if (s->normalized) {
        /* G has max |G_jk| in [1/2, 1): the pow-free kernels are safe */
        double nq = mdatt__qnorm_fast(G, m, q);
        return dual_step(hi, lo, G, s->lr / nq, 1.0, 0, m, dstep);
    }
    return dual_step(hi, lo, G, s->lr, exp(ls), 1, m, dstep);
}

static int all_finite(const double *x, size_t m)
{
    double z = 0;
    for (size_t j = 0; j < m; j++) z += x[j] * 0.0;
    return z == 0.0;
}

/* The trainer's workspace, allocated once per run (train_setup). */
typedef struct {
    size_t d, dd;
    double q;                       /* dual exponent */
    mdatt_work *w;
    double *buf;                    /* the blocks below */
    double *thW, *tlW, *G, *stepW;  /* dual iterate (high, low), gradient, last step: W */
    double *thv, *tlv, *gvb, *stepv;/* the same for v (JointGD) */
    double *Hfix;                   /* X v, fixed when v is (AttGD) */
} train_state;

static void train_free(train_state *t)
{
    mdatt_work_free(t->w);
    free(t->buf);
    free(t->Hfix);
}

/* Workspace, the dual iterates grad psi(W_0) (and grad psi(v_0)), and for
 * AttGD the fixed X v. */
static mdatt_status train_setup(const mdatt_instance *in, const mdatt_train_settings *s,
                                const double *W, const double *v, unsigned faults,
                                train_state *t)
{
    const size_t d = t->d, dd = t->dd;
    t->w = mdatt_work_new(in);
#ifdef MDATT_FAULTS
    if (t->w) t->w->faults = faults;
#else
    (void)faults;
#endif
    if (t->w) mdatt__pack(in, t->w);     /* X and Z are fixed during training */
    t->buf = malloc((4 * dd + 5 * d) * sizeof *t->buf);
    if (!s->joint && t->w) t->Hfix = malloc(t->w->hlen * sizeof *t->Hfix);
    if (!t->w || !t->buf || (!s->joint && !t->Hfix))
        return MDATT_ENOMEM;
    t->thW = t->buf; t->tlW = t->thW + dd; t->G = t->tlW + dd; t->stepW = t->G + dd;
    t->thv = t->stepW + dd; t->tlv = t->thv + d; t->gvb = t->tlv + d; t->stepv = t->gvb + d;
    mdatt_mirror_map(W, t->thW, dd, s->p);
    memset(t->tlW, 0, dd * sizeof *t->tlW);
    if (s->joint) {
        mdatt_mirror_map(v, t->thv, d, s->p);
        memset(t->tlv, 0, d * sizeof *t->tlv);
        return MDATT_OK;
    }
    /* v is fixed in AttGD: X v once (same kernel as the evaluation) */
    t->w->Hfix = NULL;
    mdatt_status st = mdatt__eval(in, W, v, s->loss, t->w, 0, NULL, NULL, NULL, NULL);
    if (st != MDATT_OK) return st;
    memcpy(t->Hfix, t->w->H, t->w->hlen * sizeof *t->Hfix);
    t->w->Hfix = t->Hfix;
    return MDATT_OK;
}

/* The hook at a logged point; non-zero stops training. */
static int train_report(const mdatt_train_settings *s, const train_state *t, long k,
                        const mdatt_eval *ev, const double *W, const double *v, double sdW,
                        double sdv)
{
    mdatt_train_point pt;
    memset(&pt, 0, sizeof pt);
    pt.k = k;
    pt.ev = *ev;
    pt.norm_p = mdatt_norm_p(W, t->dd, s->p);
    pt.step_dual = sdW;
    pt.step_dual_v = sdv;
    pt.W = W;
    pt.v = v;
    pt.theta = t->thW;
    pt.theta_lo = t->tlW;
    return s->hook(&pt, s->hook_ctx);
}

/* One mirror step (7) of W (and v) from the gradients in t; the dual norms
 * of the steps into sdW, sdv when lognext.  Returns whether a dual iterate
 * changed. */
static int train_step(const mdatt_train_settings *s, train_state *t, const mdatt_grad *gW,
                      const mdatt_grad *gv, double *W, double *v, int lognext, unsigned faults,
                      double *sdW, double *sdv)
{
    const size_t d = t->d, dd = t->dd;
    int changed = block_step(s, t->q, t->thW, t->tlW, t->G, gW->log_scale, dd,
                             lognext ? t->stepW : NULL, faults);
    if (MDATT_FAULT_ON(faults, MDATT_FI_INVERSE_EXPONENT))
        mdatt__mirror_inverse_faulty(t->thW, W, dd, s->p);
    else
        mdatt_mirror_inverse(t->thW, W, dd, s->p);
    if (s->joint) {
        changed |= block_step(s, t->q, t->thv, t->tlv, t->gvb, gv->log_scale, d,
                              lognext ? t->stepv : NULL, faults);
        if (MDATT_FAULT_ON(faults, MDATT_FI_INVERSE_EXPONENT))
            mdatt__mirror_inverse_faulty(t->thv, v, d, s->p);
        else
            mdatt_mirror_inverse(t->thv, v, d, s->p);
    }
    if (lognext) {
        *sdW = mdatt_norm_p(t->stepW, dd, t->q);
        *sdv = s->joint ? mdatt_norm_p(t->stepv, d, t->q) : 0.0;
    }
    return changed;
}

mdatt_status mdatt_train(const mdatt_instance *in, const mdatt_train_settings *s,
                         double *W, double *v, int *alpha, mdatt_train_info *info)
{
    const int naive = s && s->grad_mode == MDATT_GRAD_NAIVE_EPS;
    train_state t = {0};
    mdatt_status st = MDATT_OK;
    mdatt_train_info inf;
    mdatt_eval ev;
    const unsigned faults = MDATT_FAULT_BITS();
    struct timespec t0, t1;
    double sdW = 0, sdv = 0;

    memset(&inf, 0, sizeof inf);
    if (info) *info = inf;
    if (!in || !s || !W || !v || mdatt_train_check_settings(s)) return MDATT_EINVAL;
    if (in->n <= 0 || in->T <= 0 || in->d <= 0 || !in->X || !in->Y || !in->Z)
        return MDATT_EINVAL;
    t.d = (size_t)in->d;
    t.dd = t.d * t.d;
    t.q = mdatt_dual_exponent(s->p);
    if (!all_finite(W, t.dd) || !all_finite(v, t.d)) return MDATT_EINVAL;
    if ((st = train_setup(in, s, W, v, faults, &t)) != MDATT_OK)
        goto done;

    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (long k = 0;; k++) {
        const int last = k == s->iters;
        const int logp = k == 0 || last || (s->log_every > 0 && k % s->log_every == 0);
        const int lognext = !last && (k + 1 == s->iters
                                      || (s->log_every > 0 && (k + 1) % s->log_every == 0));
        mdatt_grad gW = {t.G, 0}, gv = {t.gvb, 0};

        if (naive && !last) {
            st = mdatt_eval_grad_naive(in, W, v, s->loss, NULL, t.G, s->joint ? t.gvb : NULL);
            if (st == MDATT_OK && logp)
                st = mdatt__eval(in, W, v, s->loss, t.w, 1, &ev, NULL, NULL, alpha);
        } else {
            st = mdatt__eval(in, W, v, s->loss, t.w, logp, &ev, (last || naive) ? NULL : &gW,
                             (last || naive || !s->joint) ? NULL : &gv, logp ? alpha : NULL);
        }
        if (st != MDATT_OK) break;
        if (logp) {
            inf.ev = ev;
            inf.iters = k;
            if (s->hook && train_report(s, &t, k, &ev, W, v, sdW, sdv)) break;
        }
        if (last) break;
        if (!train_step(s, &t, &gW, &gv, W, v, lognext, faults, &sdW, &sdv)) inf.stalled++;
        /* a non-finite W or v makes the next evaluation fail with ENUMERIC */
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    inf.seconds = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);

done:
    if (info) *info = inf;
    train_free(&t);
    return st;
}
