/* realdata_train.c - part A of the "realdata" experiment: the patch attention
 * classifier of src/patchmodel.h trained with un-normalized l_p-MD (per
 * entry) and Adam on Fashion-MNIST tasks (10 classes, pairs of classes, and
 * the token-selection task: sequences of items of which exactly one decides
 * the label, doc/design.md "Real data").  Every run goes through
 * mdatt_pm_train with the same schedule; runs of different optimizers with
 * the same seed share their initialization and batch order (paired seeds).
 * Step sizes are picked on a validation split of the training side (short
 * runs over a log-spaced grid, then the best and next smaller steps at full
 * length over several seeds); the final runs record validation and test
 * accuracy after every epoch, and on the token task the fraction of test
 * sequences whose top attention is on the label-relevant item and the
 * certified l_p-AttSVM at the selected tokens. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "realdata.h"
#include "mdatt_check.h"
#include "mdatt_fmnist.h"

/* ------------------------------------------------------------ inputs */

/* Where a run's inputs come from: the task and the side (0: the training
 * file, 1: the test file). */
typedef struct {
    const expA *A;
    const task_t *t;
    int side;
} feed_t;

/* mdatt_pm_fill_fn: images as 49 patches of 4x4 (label: the class, or 0/1
 * for a pair), or sequences of projected items (label: which target class). */
static void feed(const int *idx, int B, double *U, int *y, void *ctx)
{
    const feed_t *f = ctx;
    const task_t *t = f->t;
    if (t->kind == TASK_TOKENS) {
        const double *F = t->feat[f->side];
        const int *it = t->items[f->side];
        for (int i = 0; i < B; i++) {
            for (int k = 0; k < t->T; k++)
                memcpy(U + ((size_t)i * t->T + k) * t->Pd,
                       F + (size_t)it[(size_t)idx[i] * t->T + k] * t->Pd, sizeof(double) * t->Pd);
            y[i] = t->label[f->side][idx[i]];
        }
        return;
    }
    const mdatt_images *im = f->side ? f->A->te : f->A->tr;
    for (int i = 0; i < B; i++) {
        mdatt_image_patches(im, idx[i], PATCH, U + (size_t)i * NT * PD);
        const int lab = im->labels[idx[i]];
        y[i] = t->C == 1 ? lab == t->cls[1] : lab;
    }
}

/* Batch buffers for evaluation. */
typedef struct {
    mdatt_pm_work *w;
    double *U, *attn;
    int *y;
} scratch_t;

static int scratch_init(scratch_t *s, const mdatt_pm_model *m, int B)
{
    s->w = mdatt_pm_work_new(m, B);
    s->U = malloc(sizeof(double) * B * m->T * m->Pd);
    s->attn = malloc(sizeof(double) * B * m->T);
    s->y = malloc(sizeof(int) * B);
    return s->w && s->U && s->attn && s->y ? 0 : -1;
}

static void scratch_free(scratch_t *s)
{
    mdatt_pm_work_free(s->w);
    free(s->U);
    free(s->attn);
    free(s->y);
}

typedef struct {
    double acc, ent, top, tok;
} eval_t;

/* Accuracy and attention statistics of m on items idx of a side; on the
 * token task tok = the fraction whose top attention is on the label-relevant
 * item (else NAN); amap (10*T, may be NULL) accumulates the attention per
 * true class of the 10-class task, cnt the counts. */
static eval_t evaluate(const expA *A, const task_t *t, int side, const mdatt_pm_model *m,
                       scratch_t *s, const int *idx, int n, double *amap, int *cnt)
{
    const int B = (int)A->batch, T = m->T;
    const feed_t f = {A, t, side};
    eval_t e = {0, 0, 0, NAN};
    long correct = 0, tok = 0;
    for (int at = 0; at < n; at += B) {
        const int nb = n - at < B ? n - at : B;
        feed(idx + at, nb, s->U, s->y, (void *)&f);
        mdatt_pm_stats st;
        mdatt_pm_forward(m, s->w, s->U, s->y, nb, NULL, s->attn, &st);
        correct += st.correct;
        e.ent += st.entropy;
        e.top += st.topmass;
        for (int i = 0; i < nb && t->kind == TASK_TOKENS; i++) {
            int best = 0;
            for (int k = 1; k < T; k++)
                if (s->attn[i * T + k] > s->attn[i * T + best])
                    best = k;
            tok += best == t->pos[side][idx[at + i]];
        }
        for (int i = 0; amap && i < nb; i++) {
            const int c = A->te->labels[idx[at + i]];
            cnt[c]++;
            for (int k = 0; k < T; k++)
                amap[c * T + k] += s->attn[i * T + k];
        }
    }
    e.acc = (double)correct / n;
    e.ent /= n;
    e.top /= n;
    if (t->kind == TASK_TOKENS)
        e.tok = (double)tok / n;
    return e;
}

/* ------------------------------------------------------------- one run */

/* Per-epoch measurements of a run: validation accuracy (vc), test accuracy
 * (tc) and the test token accuracy (kc) after every epoch, or only the
 * validation accuracy after the last one (last_only). */
typedef struct {
    const expA *A;
    const task_t *t;
    int ntr, epochs, last_only;
    double *vc, *tc, *kc;
    scratch_t s;
    int ready;
} curves_t;

static int epoch_hook(int ep, const mdatt_pm_model *m, int diverged, void *ctx)
{
    curves_t *c = ctx;
    if (c->last_only && ep + 1 < c->epochs)
        return 0;
    if (!c->ready) {
        if (scratch_init(&c->s, m, (int)c->A->batch))
            return 1;
        c->ready = 1;
    }
    const task_t *t = c->t;
    const int at = c->last_only ? 0 : ep;
    if (diverged) {
        c->vc[at] = NAN;
        if (c->tc)
            c->tc[at] = NAN;
        if (c->kc)
            c->kc[at] = NAN;
        return 0;
    }
    c->vc[at] = t->nval > 0 ? evaluate(c->A, t, 0, m, &c->s, t->train + t->ntrain - t->nval, t->nval,
                                       NULL, NULL).acc : NAN;
    if (c->tc) {
        const eval_t e = evaluate(c->A, t, 1, m, &c->s, t->test, t->ntest, NULL, NULL);
        c->tc[at] = e.acc;
        if (c->kc)
            c->kc[at] = e.tok;
    }
    return 0;
}

/* Train on the first ntr items of the task's training side for `epochs`
 * epochs at step lr with seed; c receives the curves.  The trained model
 * stays in m (freed by the caller). */
static int run(const expA *A, const task_t *t, const opt_spec *o, double lr, long seed, int ntr,
               int epochs, curves_t *c, mdatt_pm_model *m, mdatt_pm_train_info *info)
{
    mdatt_pm_train_settings s;
    mdatt_pm_train_default_settings(&s);
    s.kind = o->kind;
    s.p = o->p;
    s.lr = lr;
    s.epochs = epochs;
    s.batch = (int)A->batch;
    s.schedule = A->schedule;
    s.warmup = A->warmup;
    s.clip = A->clip;
    s.seed = (uint64_t)seed;
    s.epoch_hook = epoch_hook;
    s.hook_ctx = c;
    c->A = A;
    c->t = t;
    c->ntr = ntr;
    c->epochs = epochs;
    c->ready = 0;
    const feed_t f = {A, t, 0};
    int rc = mdatt_pm_train(m, t->T, t->Pd, t->d, t->C, t->train, ntr, feed, (void *)&f, &s, info);
    if (c->ready)
        scratch_free(&c->s);
    return rc;
}

/* ---------------------------------------------- selection on validation */

/* Training images of a stage-1 selection run: the first sel_train before
 * the validation split. */
static int sel_ntrain(const expA *A, const task_t *t)
{
    const int before = t->ntrain - t->nval;
    return A->sel_train < before ? (int)A->sel_train : before;
}

static size_t sel_at(int ti, int oi, int li)
{
    return ((size_t)ti * MAXOPT + oi) * MAXLR + li;
}

/* Selection run job: stage 1 (task, opt, lr) short; stage 2 (task, opt, lr,
 * seed) for the finalists, at a final run's length and training split. */
static int sel_job(int job, void *ctx)
{
    expA *A = ctx;
    const int sd = A->stage == 2 ? job % A->sel_seeds : 0;
    job = A->stage == 2 ? job / (int)A->sel_seeds : job;
    const int ti = job / (MAXOPT * MAXLR), oi = job / MAXLR % MAXOPT, li = job % MAXLR;
    const task_t *t = &A->task[ti];
    const opt_spec *o = &A->opt[oi];
    if (oi >= A->nopt || li >= o->nlr || (A->stage == 2 && !(A->val2[job] == -2.0)))
        return 0;
    const int ntr = A->stage == 2 ? t->ntrain - t->nval : sel_ntrain(A, t);
    const int ep = A->stage == 2 ? t->epochs : (int)A->sel_epochs;
    double v;
    curves_t c = {.vc = &v, .last_only = 1};
    mdatt_pm_model m;
    mdatt_pm_train_info info;
    const int rc = run(A, t, o, o->lr[li], A->seed0 + sd, ntr, ep, &c, &m, &info);
    mdatt_pm_model_free(&m);
    if (rc)
        return 1;
    (A->stage == 2 ? A->val2s + (size_t)job * MAXSEL + sd : A->val + job)[0] =
        info.diverged ? -1.0 : v;
    return 0;
}

static void sel_slots(int job, void *ctx, bench_rec *r)
{
    expA *A = ctx;
    if (A->stage == 2)
        bench_rec_slot(r, &A->val2s[(size_t)(job / A->sel_seeds) * MAXSEL + job % A->sel_seeds],
                       sizeof(double));
    else
        bench_rec_slot(r, &A->val[job], sizeof(double));
}

/* The best of v[0..n) that did not diverge (v >= 0; ties: the smaller
 * step), or -1. */
static int best_step(const opt_spec *o, const double *v)
{
    return mdatt_pm_choose_step(o->lr, v, o->nlr, 2);
}

/* Stage 1 -> 2: the best short run that did not diverge and the next
 * sel_final - 1 smaller steps of the grid become finalists (val2 = -2). */
static void mark_finalists(expA *A)
{
    for (size_t k = 0; k < (size_t)A->ntask * MAXOPT * MAXLR; k++)
        A->val2[k] = NAN;
    for (int ti = 0; ti < A->ntask; ti++)
        for (int oi = 0; oi < A->nopt; oi++) {
            const opt_spec *o = &A->opt[oi];
            const double *v1 = A->val + sel_at(ti, oi, 0);
            double *v2 = A->val2 + sel_at(ti, oi, 0);
            const int at = best_step(o, v1);
            if (at < 0 || A->sel_final < 1)
                continue;
            v2[at] = -2.0;
            for (int f = 1; f < A->sel_final; f++) {
                int nx = -1;    /* the largest step below the smallest finalist */
                for (int li = 0; li < o->nlr; li++) {
                    int below = 1;
                    for (int l2 = 0; l2 < o->nlr; l2++)
                        if (v2[l2] == -2.0 && !(o->lr[li] < o->lr[l2]))
                            below = 0;
                    if (below && v1[li] >= 0 && (nx < 0 || o->lr[li] > o->lr[nx]))
                        nx = li;
                }
                if (nx >= 0)
                    v2[nx] = -2.0;
            }
        }
}

/* When every finalist diverged at full length: the largest step of the grid
 * at most a quarter of the smallest finalist that did not diverge in the
 * short runs (the single-seed margin of mdatt_pm_choose_step below the next
 * smaller step, whose stability is then assumed), or -1. */
static int below_finalists(const opt_spec *o, const double *v1, const double *v2)
{
    double smallest = INFINITY;
    for (int li = 0; li < o->nlr; li++)
        if (!isnan(v2[li]))
            smallest = fmin(smallest, o->lr[li]);
    int at = -1;
    for (int li = 0; li < o->nlr; li++)
        if (v1[li] >= 0 && o->lr[li] <= 0.25 * smallest * (1 + 1e-9) &&
            (at < 0 || o->lr[li] > o->lr[at]))
            at = li;
    return at;
}

/* Stage 2 -> choice (doc/design.md (29)): a finalist's score is
 * mdatt_pm_select_score's, the worst of its seeds, and the choice
 * mdatt_pm_choose_step's; below_finalists' when every finalist diverged (if
 * nothing qualifies: the smallest step; without finalists: the best short
 * run). */
static void choose_steps(expA *A)
{
    for (size_t k = 0; k < (size_t)A->ntask * MAXOPT * MAXLR; k++)
        if (A->val2[k] == -2.0)
            A->val2[k] = mdatt_pm_select_score(A->val2s + k * MAXSEL, (int)A->sel_seeds);
    for (int ti = 0; ti < A->ntask; ti++)
        for (int oi = 0; oi < A->nopt; oi++) {
            const opt_spec *o = &A->opt[oi];
            const double *v1 = A->val + sel_at(ti, oi, 0), *v2 = A->val2 + sel_at(ti, oi, 0);
            int at = A->sel_final < 1 ? best_step(o, v1)
                                      : mdatt_pm_choose_step(o->lr, v2, o->nlr, (int)A->sel_seeds);
            if (at < 0 && A->sel_final > 0)
                at = below_finalists(o, v1, v2);
            double lo = o->lr[0], hi = o->lr[0];
            for (int li = 0; li < o->nlr; li++) {
                lo = fmin(lo, o->lr[li]);
                hi = fmax(hi, o->lr[li]);
            }
            A->chosen[ti][oi] = at >= 0 ? o->lr[at] : lo;
            A->sel_edge[ti][oi] = at < 0 ? 2 : o->nlr < 2 ? 0 : o->lr[at] == lo ? -1
                                  : o->lr[at] == hi ? 1 : 0;
        }
}

int rd_select(bench_ctx *b, expA *A)
{
    const bench_jobs jobs = {sel_job, sel_slots, NULL};
    A->stage = 1;
    if (bench_parallel(b, "realdata lr", A->ntask * MAXOPT * MAXLR, &jobs, A)) {
        snprintf(b->err, sizeof b->err, "a selection run failed");
        return -1;
    }
    mark_finalists(A);
    A->stage = 2;
    if (A->sel_final > 0 && bench_parallel(b, "realdata lr (finalists)",
                                           A->ntask * MAXOPT * MAXLR * (int)A->sel_seeds, &jobs, A)) {
        snprintf(b->err, sizeof b->err, "a selection run failed");
        return -1;
    }
    choose_steps(A);
    return 0;
}

/* ------------------------------------------------------- final runs */

static void add_hist(double *h, const double *w, size_t n)
{
    for (size_t k = 0; k < n; k++) {
        double a = fabs(w[k]);
        int bin = a > 0 ? (int)floor((log10(a) + 10.0) * 2.0) : 0;
        h[bin < 0 ? 0 : bin >= NHIST ? NHIST - 1 : bin] += 1.0;
    }
}

/* The token task's trained model as an attention instance: the first
 * tok_svm_n training sequences, tokens x_t = E u_t + P_t, query z, Y = +1 for
 * the second target class, v = the output weights V. */
static int token_instance(const expA *A, const task_t *t, const mdatt_pm_model *m, mdatt_instance *in)
{
    const int n = (int)fmin((double)A->tok_svm_n, (double)(t->ntrain - t->nval)), T = t->T,
              d = t->d, Pd = t->Pd;
    if (mdatt_instance_alloc(in, n, T, d) != MDATT_OK)
        return -1;
    const double *E = m->w + m->off[MDATT_PM_E], *P = m->w + m->off[MDATT_PM_P],
                 *z = m->w + m->off[MDATT_PM_Z], *V = m->w + m->off[MDATT_PM_V];
    for (int i = 0; i < n; i++) {
        const int sq = t->train[i];
        for (int k = 0; k < T; k++) {
            const double *u = t->feat[0] + (size_t)t->items[0][(size_t)sq * T + k] * Pd;
            double *x = in->X + ((size_t)i * T + k) * d;
            for (int j = 0; j < d; j++) {
                double s = P[k * d + j];
                for (int l = 0; l < Pd; l++)
                    s += E[j * Pd + l] * u[l];
                x[j] = s;
            }
        }
        memcpy(in->Z + (size_t)i * d, z, sizeof(double) * d);
        in->Y[i] = t->label[0][sq] ? 1.0 : -1.0;
    }
    memcpy(in->v, V, sizeof(double) * d);
    return 0;
}

/* The certified l_p-AttSVM at the tokens the trained model selects on the
 * token task (p of the optimizer; 2 for Adam) and the directional Bregman
 * divergence of its W to W^mm. */
static void token_svm(expA *A, const task_t *t, const opt_spec *o, const mdatt_pm_model *m, size_t at)
{
    A->tok_status[at] = -1;
    A->tok_div[at] = A->tok_obj[at] = A->tok_sel[at] = NAN;
    mdatt_instance in;
    memset(&in, 0, sizeof in);
    int *alpha = NULL;
    if (token_instance(A, t, m, &in) || !(alpha = malloc(sizeof(int) * in.n)))
        goto out;
    const double *W = m->w + m->off[MDATT_PM_W], p = o->kind == MDATT_PM_OPT_MD ? o->p : 2.0;
    mdatt_selected_tokens(&in, W, alpha, NULL, NULL);
    int hit = 0;
    for (int i = 0; i < in.n; i++)
        hit += alpha[i] == t->pos[0][t->train[i]];
    A->tok_sel[at] = (double)hit / in.n;
    attsvm_result r;
    const int ok = bench_svm(&in, alpha, p, ATTSVM_TARGET_W, &r) == 0;
    A->tok_status[at] = r.status;
    if (ok) {
        A->tok_obj[at] = r.objective;
        A->tok_div[at] = mdatt_bregman_dir(r.x, W, (size_t)in.d * in.d, p);
    }
    attsvm_result_free(&r);
out:
    free(alpha);
    mdatt_instance_free(&in);
}

/* Final run job (task, opt, seed): trained on the task's training side
 * without the validation split, curves after every epoch, then the test
 * statistics, the weight histograms (10 classes) and the token SVM. */
static int final_job(int job, void *ctx)
{
    expA *A = ctx;
    const int ns = A->nseeds, ti = job / (A->nopt * ns), oi = job / ns % A->nopt, sd = job % ns;
    const task_t *t = &A->task[ti];
    const opt_spec *o = &A->opt[oi];
    const size_t at = (size_t)job, me = (size_t)A->maxep;
    curves_t c = {.vc = A->vcurve + at * me, .tc = A->curve + at * me,
                  .kc = A->tcurve + at * me};
    mdatt_pm_model m;
    mdatt_pm_train_info info;
    const double t0 = bench_now();
    int rc = run(A, t, o, A->chosen[ti][oi], A->seed0 + sd, t->ntrain - t->nval, t->epochs, &c, &m,
                 &info);
    scratch_t s;
    memset(&s, 0, sizeof s);
    if (rc || scratch_init(&s, &m, (int)A->batch)) {
        rc = 1;
        goto out;
    }
    A->secs[at] = bench_now() - t0;
    A->epoch1[at] = info.first_epoch_secs;
    A->diverged[at] = info.diverged;
    A->clipfrac[at] = info.steps > 0 ? (double)info.clipped / info.steps : 0.0;
    /* A diverged run enters no statistic (accuracy, attention, histograms). */
    const eval_t e = evaluate(A, t, 1, &m, &s, t->test, t->ntest,
                              info.diverged || t->kind != TASK_CLASSES ? NULL : A->amap + at * 10 * NT,
                              A->amap_cnt + at * 10);
    for (int ep = 0; info.diverged && ep < A->maxep; ep++) /* no curve either */
        A->vcurve[at * me + ep] = A->curve[at * me + ep] = A->tcurve[at * me + ep] = NAN;
    A->acc[at] = info.diverged ? NAN : e.acc;
    A->ent[at] = info.diverged ? NAN : e.ent;
    A->top[at] = info.diverged ? NAN : e.top;
    if (t->kind == TASK_CLASSES && !info.diverged) {
        double *h = A->hist + at * 2 * NHIST;
        add_hist(h, m.w + m.off[MDATT_PM_W], m.len[MDATT_PM_W]);
        add_hist(h + NHIST, m.w + m.off[MDATT_PM_E], m.len[MDATT_PM_E]);
    }
    A->tok_status[at] = -1;
    A->tok_div[at] = A->tok_obj[at] = A->tok_sel[at] = NAN;
    if (t->kind == TASK_TOKENS && !info.diverged && A->tok_svm_n > 0)
        token_svm(A, t, o, &m, at);
out:
    scratch_free(&s);
    mdatt_pm_model_free(&m);
    return rc;
}

static void final_slots(int job, void *ctx, bench_rec *r)
{
    expA *A = ctx;
    const size_t at = (size_t)job, me = (size_t)A->maxep;
    bench_rec_slot(r, A->curve + at * me, sizeof(double) * me);
    bench_rec_slot(r, A->vcurve + at * me, sizeof(double) * me);
    bench_rec_slot(r, A->tcurve + at * me, sizeof(double) * me);
    double *dbls[] = {A->secs, A->epoch1, A->acc, A->ent, A->top, A->tok_div, A->tok_obj, A->tok_sel,
                      A->clipfrac};
    for (size_t k = 0; k < sizeof dbls / sizeof dbls[0]; k++)
        bench_rec_slot(r, &dbls[k][at], sizeof(double));
    bench_rec_slot(r, &A->diverged[at], sizeof(int));
    bench_rec_slot(r, &A->tok_status[at], sizeof(int));
    bench_rec_slot(r, A->amap + at * 10 * NT, sizeof(double) * 10 * NT);
    bench_rec_slot(r, A->amap_cnt + at * 10, sizeof(int) * 10);
    bench_rec_slot(r, A->hist + at * 2 * NHIST, sizeof(double) * 2 * NHIST);
}

/* Expected cost of a final run (for --shard): items x epochs x tokens. */
static double final_cost(int job, const void *ctx)
{
    const expA *A = ctx;
    const task_t *t = &A->task[job / (A->nopt * A->nseeds)];
    return (double)t->ntrain * t->epochs * t->T * t->Pd;
}

int rd_final(bench_ctx *b, expA *A)
{
    const bench_jobs jobs = {final_job, final_slots, final_cost};
    if (bench_parallel(b, "realdata runs", A->ntask * A->nopt * A->nseeds, &jobs, A)) {
        snprintf(b->err, sizeof b->err, "a training run failed");
        return -1;
    }
    return 0;
}

/* One 10-class epoch alone (no other run in this process), for perf.md,
 * with the optimizer whose final runs diverged least, and the mean first-epoch
 * time of each optimizer's parallel runs. */
int rd_measure_epoch(bench_ctx *b, expA *A, int full0)
{
    const int ns = A->nseeds;
    int tim = 0, fewest = ns + 1;
    for (int oi = 0; oi < A->nopt; oi++) {
        int nd = 0;
        for (int sd = 0; sd < ns; sd++)
            nd += A->diverged[rd_at(A, 0, oi, sd)];
        if (nd < fewest) {
            fewest = nd;
            tim = oi;
        }
    }
    task_t t1 = A->task[0];
    t1.ntrain = full0;
    t1.nval = 0;
    t1.epochs = 1;
    curves_t c = {.last_only = 1};
    double v;
    c.vc = &v;
    mdatt_pm_model m;
    mdatt_pm_train_info info;
    const int rc = run(A, &t1, &A->opt[tim], A->chosen[0][tim], A->seed0, full0, 1, &c, &m, &info);
    const size_t np = m.np;
    mdatt_pm_model_free(&m);
    A->epoch_secs = NAN;
    if (rc || info.diverged)
        return 0;
    A->epoch_secs = info.first_epoch_secs;
    mdatt_outfile o;
    FILE *f = bench_open(b, "perf.md", &o);
    if (!f)
        return -1;
    fprintf(f, "# Real-data trainer speed\n\nOne epoch of the 10-class patch attention model "
            "(%d images, batch %ld, d = %ld, T = 49, %zu parameters; OpenBLAS dgemm for "
            "the embeddings and the E gradient, OPENBLAS_NUM_THREADS=%s; %s, step %g), "
            "timed on one thread with no other run of this process active: **%.2f s** "
            "(%s, target <= 5 s).\n\n"
            "Mean first-epoch time during the parallel runs (%d threads sharing the machine):\n\n"
            "| optimizer | seconds per epoch |\n|---|---|\n", full0, A->batch, A->d, np,
            getenv("OPENBLAS_NUM_THREADS") ? getenv("OPENBLAS_NUM_THREADS") : "unset",
            A->opt[tim].name, A->chosen[0][tim], A->epoch_secs, A->epoch_secs <= 5.0 ? "met" : "NOT met",
            b->threads);
    for (int oi = 0; oi < A->nopt; oi++) {
        double x[256], mean, sdv;
        int m2 = 0;
        for (int sd = 0; sd < ns && m2 < 256; sd++)
            x[m2++] = A->epoch1[rd_at(A, 0, oi, sd)];
        bench_mean_std(x, m2, &mean, &sdv);
        fprintf(f, "| %s | %.2f |\n", A->opt[oi].name, mean);
    }
    fprintf(f, "\nThe machine is shared with other jobs, so these are upper bounds.\n");
    return bench_close(b, &o);
}

/* ------------------------------------------------------ configuration */

int rd_read_optimizers(bench_ctx *b, expA *A)
{
    json_t *a = json_object_get(b->cfg, "optimizers");
    if (!json_is_array(a) || json_array_size(a) == 0 || json_array_size(a) > MAXOPT) {
        snprintf(b->err, sizeof b->err, "%s: optimizers: a list of 1..%d objects {\"name\", \"kind\": "
                 "\"md\"|\"adam\", \"p\" (md), \"lr\": [grid]}", b->path, MAXOPT);
        return -1;
    }
    A->nopt = (int)json_array_size(a);
    for (int k = 0; k < A->nopt; k++) {
        json_t *o = json_array_get(a, k), *nm = json_object_get(o, "name"),
               *kd = json_object_get(o, "kind"), *p = json_object_get(o, "p"),
               *lr = json_object_get(o, "lr");
        opt_spec *s = &A->opt[k];
        if (!json_is_string(nm) || !json_is_string(kd) ||
            (strcmp(json_string_value(kd), "md") && strcmp(json_string_value(kd), "adam"))) {
            snprintf(b->err, sizeof b->err, "%s: optimizers[%d]: needs \"name\" and \"kind\" (md or adam)",
                     b->path, k);
            return -1;
        }
        snprintf(s->name, sizeof s->name, "%s", json_string_value(nm));
        s->kind = strcmp(json_string_value(kd), "md") == 0 ? MDATT_PM_OPT_MD : MDATT_PM_OPT_ADAM;
        s->p = json_is_number(p) ? json_number_value(p) : 2.0;
        if (s->kind == MDATT_PM_OPT_MD && !(s->p > 1.0)) {
            snprintf(b->err, sizeof b->err, "%s: optimizers[%d].p: must be > 1", b->path, k);
            return -1;
        }
        if (!json_is_array(lr) || json_array_size(lr) == 0 || json_array_size(lr) > MAXLR) {
            snprintf(b->err, sizeof b->err, "%s: optimizers[%d].lr: a grid of 1..%d step sizes",
                     b->path, k, MAXLR);
            return -1;
        }
        s->nlr = (int)json_array_size(lr);
        for (int j = 0; j < s->nlr; j++) {
            json_t *e = json_array_get(lr, j);
            if (!json_is_number(e) || !(json_number_value(e) > 0)) {
                snprintf(b->err, sizeof b->err, "%s: optimizers[%d].lr[%d]: must be > 0", b->path, k, j);
                return -1;
            }
            s->lr[j] = json_number_value(e);
        }
    }
    return 0;
}

/* token_*: the token-selection task (token_train 0: none). */
int rd_read_tokens(bench_ctx *b, expA *A)
{
    double cls[2];
    int ncls = 0;
    json_t *jc = json_object_get(b->cfg, "token_classes");
    if (bench_cfg_int(b, "token_train", 0, 0, 1000000, &A->tok_n[0]) ||
        bench_cfg_int(b, "token_val", 2000, 1, 1000000, &A->tok_n[1]) ||
        bench_cfg_int(b, "token_test", 5000, 1, 1000000, &A->tok_n[2]) ||
        bench_cfg_int(b, "token_T", 8, 2, 64, &A->tok_T) ||
        bench_cfg_int(b, "token_features", 32, 1, 784, &A->tok_Pd) ||
        bench_cfg_int(b, "token_d", 16, 1, 256, &A->tok_d) ||
        bench_cfg_int(b, "token_epochs", 10, 1, 1000, &A->tok_epochs) ||
        bench_cfg_int(b, "token_svm_n", 300, 0, 100000, &A->tok_svm_n) ||
        (jc && bench_cfg_doubles(b, "token_classes", cls, 2, &ncls)))
        return -1;
    A->tok_cls[0] = 2;
    A->tok_cls[1] = 4;
    if (jc && (ncls != 2 || cls[0] != floor(cls[0]) || cls[1] != floor(cls[1]) || cls[0] < 0 ||
               cls[0] > 9 || cls[1] < 0 || cls[1] > 9 || cls[0] == cls[1])) {
        snprintf(b->err, sizeof b->err, "%s: token_classes: need [A, B], different labels in 0..9",
                 b->path);
        return -1;
    }
    if (jc) {
        A->tok_cls[0] = (int)cls[0];
        A->tok_cls[1] = (int)cls[1];
    }
    return 0;
}

/* ------------------------------------------------------------- tasks */

static int *class_indices(const mdatt_images *im, const int *cls, int ncls, int *count)
{
    int *idx = malloc(sizeof(int) * im->n);
    *count = 0;
    for (int i = 0; idx && i < im->n; i++)
        for (int c = 0; c < ncls; c++)
            if (im->labels[i] == cls[c])
                idx[(*count)++] = i;
    return idx;
}

static int *iota(int n)
{
    int *x = malloc(sizeof(int) * (n > 0 ? n : 1));
    for (int k = 0; x && k < n; k++)
        x[k] = k;
    return x;
}

/* The token task: tok_n[0] + tok_n[1] training-side sequences (the last
 * tok_n[1] the validation split) from the training file, tok_n[2] test
 * sequences from the test file; items projected to tok_Pd features. */
static int token_task(expA *A, task_t *t)
{
    const int T = (int)A->tok_T, n[2] = {(int)(A->tok_n[0] + A->tok_n[1]), (int)A->tok_n[2]};
    t->kind = TASK_TOKENS;
    t->C = 1;
    t->T = T;
    t->Pd = (int)A->tok_Pd;
    t->d = (int)A->tok_d;
    t->cls[0] = A->tok_cls[0];
    t->cls[1] = A->tok_cls[1];
    t->epochs = (int)A->tok_epochs;
    for (int side = 0; side < 2; side++) {
        const mdatt_images *im = side ? A->te : A->tr;
        t->items[side] = malloc(sizeof(int) * (size_t)n[side] * T);
        t->pos[side] = malloc(sizeof(int) * n[side]);
        t->label[side] = malloc(sizeof(int) * n[side]);
        t->feat[side] = malloc(sizeof(double) * (size_t)im->n * t->Pd);
        if (!t->items[side] || !t->pos[side] || !t->label[side] || !t->feat[side] ||
            mdatt_pm_token_task(im, t->cls, n[side], T, (uint64_t)A->seed0 * 31 + side, t->items[side],
                                t->pos[side], t->label[side]) ||
            mdatt_pm_project(im, t->Pd, (uint64_t)A->seed0 + 977, t->feat[side]))
            return -1;
    }
    t->train = iota(n[0]);
    t->ntrain = n[0];
    t->nval = (int)A->tok_n[1];
    t->test = iota(n[1]);
    t->ntest = n[1];
    return t->train && t->test ? 0 : -1;
}

int rd_tasks(expA *A, const int pairs[][2], int npairs, long epochs, long pair_epochs,
             long train_limit, int *full0)
{
    int all[10] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, bad = 0;
    A->ntask = 1 + npairs;
    for (int ti = 0; ti < A->ntask; ti++) {
        task_t *t = &A->task[ti];
        t->kind = ti ? TASK_PAIR : TASK_CLASSES;
        t->C = ti ? 1 : 10;
        t->T = NT;
        t->Pd = PD;
        t->d = (int)A->d;
        if (ti) {
            t->cls[0] = pairs[ti - 1][0];
            t->cls[1] = pairs[ti - 1][1];
        }
        t->epochs = (int)(ti ? (pair_epochs < epochs ? pair_epochs : epochs) : epochs);
        t->train = class_indices(A->tr, ti ? t->cls : all, ti ? 2 : 10, &t->ntrain);
        t->test = class_indices(A->te, ti ? t->cls : all, ti ? 2 : 10, &t->ntest);
        bad |= !t->train || !t->test;
        if (ti == 0)
            *full0 = t->ntrain;
        if (train_limit > 0 && t->ntrain > train_limit)
            t->ntrain = (int)train_limit;   /* the first images of the file's order */
        /* Validation = the last sel_val images of the task's training list. */
        t->nval = A->sel_train + A->sel_val > t->ntrain ? t->ntrain / 10 : (int)A->sel_val;
    }
    if (!bad && A->tok_n[0] > 0 && A->ntask < MAXTASK)
        bad |= token_task(A, &A->task[A->ntask++]) != 0;
    A->maxep = 1;
    for (int ti = 0; ti < A->ntask; ti++)
        A->maxep = A->task[ti].epochs > A->maxep ? A->task[ti].epochs : A->maxep;
    return bad ? -1 : 0;
}

const char *rd_task_name(const task_t *t, char *buf, size_t len)
{
    if (t->kind == TASK_CLASSES)
        snprintf(buf, len, "10 classes");
    else if (t->kind == TASK_TOKENS)
        snprintf(buf, len, "token selection (%s or %s among distractors)",
                 mdatt_fmnist_class_name(t->cls[0]), mdatt_fmnist_class_name(t->cls[1]));
    else
        snprintf(buf, len, "%s vs %s", mdatt_fmnist_class_name(t->cls[0]),
                 mdatt_fmnist_class_name(t->cls[1]));
    return buf;
}

/* ------------------------------------------------------------ memory */

static void *xcalloc(size_t n, size_t sz, int *bad)
{
    void *p = calloc(n ? n : 1, sz);
    if (!p)
        *bad = 1;
    return p;
}

int rd_alloc(expA *A)
{
    const size_t nruns = (size_t)A->ntask * A->nopt * A->nseeds, nsel = (size_t)A->ntask * MAXOPT * MAXLR;
    int bad = 0;
    A->val = xcalloc(nsel, sizeof(double), &bad);
    A->val2 = xcalloc(nsel, sizeof(double), &bad);
    A->val2s = xcalloc(nsel * MAXSEL, sizeof(double), &bad);
    A->curve = xcalloc(nruns * A->maxep, sizeof(double), &bad);
    A->vcurve = xcalloc(nruns * A->maxep, sizeof(double), &bad);
    A->tcurve = xcalloc(nruns * A->maxep, sizeof(double), &bad);
    double **dbls[] = {&A->acc, &A->ent, &A->top, &A->secs, &A->epoch1, &A->tok_div, &A->tok_obj,
                       &A->tok_sel, &A->clipfrac};
    for (size_t k = 0; k < sizeof dbls / sizeof dbls[0]; k++)
        *dbls[k] = xcalloc(nruns, sizeof(double), &bad);
    A->diverged = xcalloc(nruns, sizeof(int), &bad);
    A->tok_status = xcalloc(nruns, sizeof(int), &bad);
    A->amap = xcalloc(nruns * 10 * NT, sizeof(double), &bad);
    A->amap_cnt = xcalloc(nruns * 10, sizeof(int), &bad);
    A->hist = xcalloc(nruns * 2 * NHIST, sizeof(double), &bad);
    return bad ? -1 : 0;
}

void rd_free(expA *A)
{
    for (int ti = 0; ti < A->ntask; ti++) {
        task_t *t = &A->task[ti];
        free(t->train);
        free(t->test);
        for (int side = 0; side < 2; side++) {
            free(t->items[side]);
            free(t->pos[side]);
            free(t->label[side]);
            free(t->feat[side]);
        }
    }
    free(A->val); free(A->val2); free(A->val2s); free(A->curve); free(A->vcurve); free(A->tcurve);
    free(A->acc); free(A->ent); free(A->top); free(A->secs); free(A->epoch1); free(A->tok_div);
    free(A->tok_obj); free(A->tok_sel); free(A->clipfrac); free(A->diverged); free(A->tok_status); free(A->amap);
    free(A->amap_cnt); free(A->hist);
}
