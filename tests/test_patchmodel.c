/* test_patchmodel.c - the real-data attention classifier: gradients against
 * central finite differences of the loss (every parameter, softmax and
 * logistic heads), the optimizer steps against their formulas written out,
 * determinism, and a tiny task it must learn. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "mdatt.h"
#include "patchmodel.h"

static void random_batch(double *U, int *lab, int B, int T, int Pd, int C, uint64_t seed)
{
    mdatt_rng r;
    mdatt_rng_seed(&r, seed);
    for (int k = 0; k < B * T * Pd; k++)
        U[k] = mdatt_rng_uniform(&r);
    for (int i = 0; i < B; i++)
        lab[i] = (int)(mdatt_rng_uniform(&r) * (C == 1 ? 2 : C));
}

static void check_gradient(int C)
{
    const int T = 5, Pd = 4, d = 3, B = 4;
    mdatt_pm_model m;
    cr_assert_eq(mdatt_pm_model_init(&m, T, Pd, d, C, 7), 0);
    /* Larger W and z than the default so that the attention is far from
     * uniform and its Jacobian is exercised. */
    for (size_t k = m.off[MDATT_PM_W]; k < m.off[MDATT_PM_Z] + m.len[MDATT_PM_Z]; k++)
        m.w[k] *= 3.0;
    mdatt_pm_work *w = mdatt_pm_work_new(&m, B);
    double U[B * T * Pd], *g = malloc(sizeof(double) * m.np);
    int lab[B];
    random_batch(U, lab, B, T, Pd, C, 11);
    mdatt_pm_stats st;
    mdatt_pm_forward(&m, w, U, lab, B, g, NULL, &st);
    cr_assert(st.entropy < B * log(T) - 0.05, "attention should not be uniform");
    for (size_t k = 0; k < m.np; k++) {
        const double w0 = m.w[k], h = 1e-5 * fmax(1.0, fabs(w0));
        mdatt_pm_stats sp, sm;
        m.w[k] = w0 + h;
        mdatt_pm_forward(&m, w, U, lab, B, NULL, NULL, &sp);
        m.w[k] = w0 - h;
        mdatt_pm_forward(&m, w, U, lab, B, NULL, NULL, &sm);
        m.w[k] = w0;
        const double fd = (sp.loss - sm.loss) / (2 * h);
        cr_assert(fabs(fd - g[k]) <= 1e-6 * fmax(1e-3, fabs(fd)) + 1e-9,
                  "C=%d entry %zu: gradient %.12g, finite difference %.12g", C, k, g[k], fd);
    }
    free(g);
    mdatt_pm_work_free(w);
    mdatt_pm_model_free(&m);
}

Test(patchmodel, gradient_matches_finite_differences_softmax) { check_gradient(3); }
Test(patchmodel, gradient_matches_finite_differences_logistic) { check_gradient(1); }

Test(patchmodel, loss_and_accuracy_by_hand)
{
    /* T = 1: s = 1, x = E u + P, o = V^T x; check the cross-entropy directly. */
    mdatt_pm_model m;
    cr_assert_eq(mdatt_pm_model_init(&m, 1, 2, 2, 2, 3), 0);
    double *E = m.w + m.off[MDATT_PM_E], *P = m.w + m.off[MDATT_PM_P], *V = m.w + m.off[MDATT_PM_V];
    const double u[2] = {0.5, -1.0};
    double x[2], o[2];
    for (int j = 0; j < 2; j++)
        x[j] = E[j * 2] * u[0] + E[j * 2 + 1] * u[1] + P[j];
    for (int c = 0; c < 2; c++)
        o[c] = x[0] * V[c] + x[1] * V[2 + c];
    const double want = log(exp(o[0]) + exp(o[1])) - o[1];
    mdatt_pm_work *w = mdatt_pm_work_new(&m, 1);
    int lab = 1;
    mdatt_pm_stats st;
    mdatt_pm_forward(&m, w, u, &lab, 1, NULL, NULL, &st);
    cr_assert(fabs(st.loss - want) < 1e-14, "loss %.17g, by hand %.17g", st.loss, want);
    cr_assert_eq(st.correct, o[1] > o[0]);
    cr_assert(fabs(st.entropy) < 1e-15 && st.topmass == 1.0);
    mdatt_pm_work_free(w);
    mdatt_pm_model_free(&m);
}

Test(patchmodel, optimizer_steps_follow_their_formulas)
{
    mdatt_pm_model m;
    cr_assert_eq(mdatt_pm_model_init(&m, 3, 2, 2, 1, 5), 0);
    double *w0 = malloc(sizeof(double) * m.np), *g = malloc(sizeof(double) * m.np);
    memcpy(w0, m.w, sizeof(double) * m.np);
    for (size_t k = 0; k < m.np; k++)
        g[k] = 0.1 * sin((double)k + 1.0);
    const double ps[3] = {1.1, 2.0, 3.0};
    for (int pi = 0; pi < 3; pi++) {
        memcpy(m.w, w0, sizeof(double) * m.np);
        mdatt_pm_opt o;
        cr_assert_eq(mdatt_pm_opt_init(&o, MDATT_PM_OPT_MD, ps[pi], 0.05, &m), 0);
        mdatt_pm_opt_step(&o, &m, g);
        for (size_t k = 0; k < m.np; k++) {
            const double p = ps[pi], th = copysign(pow(fabs(w0[k]), p - 1), w0[k]) - 0.05 * g[k],
                         want = copysign(pow(fabs(th), 1 / (p - 1)), th);
            cr_assert(fabs(m.w[k] - want) <= 1e-12 * fmax(1e-12, fabs(want)),
                      "p=%g entry %zu: %.17g, formula %.17g", p, k, m.w[k], want);
        }
        mdatt_pm_opt_free(&o);
    }
    memcpy(m.w, w0, sizeof(double) * m.np);
    mdatt_pm_opt o;
    cr_assert_eq(mdatt_pm_opt_init(&o, MDATT_PM_OPT_ADAM, 0, 0.01, &m), 0);
    mdatt_pm_opt_step(&o, &m, g);
    for (size_t k = 0; k < m.np; k++) {    /* first Adam step: lr g / (|g| + eps) */
        const double want = w0[k] - 0.01 * g[k] / (fabs(g[k]) + 1e-8);
        cr_assert(fabs(m.w[k] - want) <= 1e-14, "adam entry %zu", k);
    }
    mdatt_pm_opt_free(&o);
    free(w0);
    free(g);
    mdatt_pm_model_free(&m);
}

/* Inputs whose class is the position of one bright patch among dark ones:
 * attention has to find it. */
static void bright_task(double *U, int *lab, int B, int T, int Pd, int C, mdatt_rng *r)
{
    for (int i = 0; i < B; i++) {
        lab[i] = (int)(mdatt_rng_uniform(r) * C);
        const int hot = (int)(mdatt_rng_uniform(r) * T);
        for (int t = 0; t < T; t++)
            for (int j = 0; j < Pd; j++)
                U[((size_t)i * T + t) * Pd + j] =
                    t == hot ? 0.5 + 0.5 * (j == lab[i]) : 0.1 * mdatt_rng_uniform(r);
    }
}

Test(patchmodel, learns_a_tiny_task_deterministically)
{
    const int T = 6, Pd = 3, d = 8, C = 3, B = 30;
    double U[B * T * Pd], final[2][2];
    int lab[B];
    for (int rep = 0; rep < 2; rep++) {
        mdatt_pm_model m;
        cr_assert_eq(mdatt_pm_model_init(&m, T, Pd, d, C, 1), 0);
        mdatt_pm_work *w = mdatt_pm_work_new(&m, B);
        double *g = malloc(sizeof(double) * m.np);
        mdatt_pm_opt o;
        cr_assert_eq(mdatt_pm_opt_init(&o, MDATT_PM_OPT_ADAM, 0, 0.02, &m), 0);
        mdatt_rng r;
        mdatt_rng_seed(&r, 9);
        mdatt_pm_stats st;
        for (int it = 0; it < 400; it++) {
            bright_task(U, lab, B, T, Pd, C, &r);
            mdatt_pm_forward(&m, w, U, lab, B, g, NULL, &st);
            mdatt_pm_opt_step(&o, &m, g);
        }
        bright_task(U, lab, B, T, Pd, C, &r);
        mdatt_pm_forward(&m, w, U, lab, B, NULL, NULL, &st);
        final[rep][0] = st.loss;
        final[rep][1] = st.correct;
        cr_assert(st.correct >= 27, "accuracy %d/30 after training (loss %g)", st.correct, st.loss);
        free(g);
        mdatt_pm_opt_free(&o);
        mdatt_pm_work_free(w);
        mdatt_pm_model_free(&m);
    }
    cr_assert(final[0][0] == final[1][0] && final[0][1] == final[1][1], "not deterministic");
}

/* ------------------------------------------------ training and the study */

/* A fixed data set of `bright_task` inputs that mdatt_pm_train reads by index. */
typedef struct {
    int n, T, Pd;
    double *U;
    int *lab;
} table_t;

static void table_fill(const int *idx, int B, double *U, int *y, void *ctx)
{
    const table_t *t = ctx;
    for (int i = 0; i < B; i++) {
        memcpy(U + (size_t)i * t->T * t->Pd, t->U + (size_t)idx[i] * t->T * t->Pd,
               sizeof(double) * t->T * t->Pd);
        y[i] = t->lab[idx[i]];
    }
}

/* What a run showed its order hook: the initialization and every epoch's order. */
typedef struct {
    double init[4096];
    size_t np;
    int order[8][200];
} seen_t;

static void record_order(int ep, const int *order, int n, const mdatt_pm_model *m, void *ctx)
{
    seen_t *s = ctx;
    memcpy(s->order[ep], order, sizeof(int) * n);
    if (ep == 0) {
        s->np = m->np;
        memcpy(s->init, m->w, sizeof(double) * m->np);
    }
}

static void train_seen(mdatt_pm_opt_kind kind, double p, double lr, uint64_t seed, const table_t *tb,
                       int *items, seen_t *s, mdatt_pm_train_info *info)
{
    mdatt_pm_train_settings st;
    mdatt_pm_train_default_settings(&st);
    st.kind = kind;
    st.p = p;
    st.lr = lr;
    st.epochs = 3;
    st.batch = 20;
    st.schedule = MDATT_PM_SCHED_COSINE;
    st.warmup = 0.5;
    st.seed = seed;
    st.order_hook = record_order;
    st.hook_ctx = s;
    mdatt_pm_model m;
    cr_assert_eq(mdatt_pm_train(&m, tb->T, tb->Pd, 8, 3, items, tb->n, table_fill, (void *)tb, &st, info), 0);
    mdatt_pm_model_free(&m);
}

/* The bright-patch task of n items (T = 6 patches of Pd = 3, 3 classes)
 * drawn with the given seed, as a table; items[k] = k, or n - 1 - k when
 * reversed. */
static table_t bright_table(int n, uint64_t seed, int *items, int reversed)
{
    const int T = 6, Pd = 3;
    table_t tb = {n, T, Pd, malloc(sizeof(double) * n * T * Pd), malloc(sizeof(int) * n)};
    cr_assert(tb.U && tb.lab);
    mdatt_rng r;
    mdatt_rng_seed(&r, seed);
    bright_task(tb.U, tb.lab, n, T, Pd, 3, &r);
    for (int k = 0; k < n; k++)
        items[k] = reversed ? n - 1 - k : k;
    return tb;
}

Test(patchmodel, paired_seeds_share_initialization_and_batch_order)
{
    const int n = 200;
    int items[200];
    table_t tb = bright_table(n, 4, items, 1);
    static seen_t s[4];
    mdatt_pm_train_info info[4];
    train_seen(MDATT_PM_OPT_MD, 1.1, 0.05, 7, &tb, items, &s[0], &info[0]);
    train_seen(MDATT_PM_OPT_MD, 2.0, 0.3, 7, &tb, items, &s[1], &info[1]);
    train_seen(MDATT_PM_OPT_ADAM, 2.0, 0.01, 7, &tb, items, &s[2], &info[2]);
    train_seen(MDATT_PM_OPT_MD, 1.1, 0.05, 8, &tb, items, &s[3], &info[3]);
    for (int k = 1; k < 3; k++) {
        cr_assert_eq(s[k].np, s[0].np);
        cr_assert(memcmp(s[k].init, s[0].init, sizeof(double) * s[0].np) == 0,
                  "optimizer %d starts elsewhere", k);
        cr_assert(memcmp(s[k].order, s[0].order, sizeof s[0].order) == 0,
                  "optimizer %d sees other batches", k);
        cr_assert_eq(info[k].steps, 3 * (n / 20));
    }
    /* The initialization is mdatt_pm_model_init at mdatt_pm_init_seed(seed). */
    mdatt_pm_model m;
    cr_assert_eq(mdatt_pm_model_init(&m, tb.T, tb.Pd, 8, 3, mdatt_pm_init_seed(7)), 0);
    cr_assert(memcmp(m.w, s[0].init, sizeof(double) * m.np) == 0);
    mdatt_pm_model_free(&m);
    /* Every epoch's order is a permutation of the items, the epochs differ,
     * and another seed gives another order and initialization. */
    for (int ep = 0; ep < 3; ep++) {
        int count[200] = {0};
        for (int k = 0; k < n; k++)
            count[s[0].order[ep][k]]++;
        for (int k = 0; k < n; k++)
            cr_assert_eq(count[k], 1, "epoch %d: item %d appears %d times", ep, k, count[k]);
    }
    cr_assert(memcmp(s[0].order[0], s[0].order[1], sizeof(int) * n) != 0);
    cr_assert(memcmp(s[3].order[0], s[0].order[0], sizeof(int) * n) != 0);
    cr_assert(memcmp(s[3].init, s[0].init, sizeof(double) * s[0].np) != 0);
    free(tb.U);
    free(tb.lab);
}

Test(patchmodel, training_learns_and_flags_divergence)
{
    int items[200];
    table_t tb = bright_table(200, 5, items, 0);
    static seen_t s;
    mdatt_pm_train_info ok, bad;
    train_seen(MDATT_PM_OPT_ADAM, 2.0, 0.03, 3, &tb, items, &s, &ok);
    cr_assert(!ok.diverged && ok.epochs == 3 && isfinite(ok.start_loss));
    train_seen(MDATT_PM_OPT_MD, 2.0, 1e6, 3, &tb, items, &s, &bad);
    cr_assert(bad.diverged, "a step of 1e6 should diverge");
    /* The rule (doc/design.md, "Divergence"): a run stops only where a loss
     * or parameter is not finite; otherwise it runs every epoch and has
     * diverged exactly when its last epoch ends above the starting loss. */
    const double steps[] = {0.01, 0.3, 3, 30, 300, 3e3, 3e4, 1e6};
    int finite_bad = 0, good = 0;
    for (int k = 0; k < 8; k++)
        for (int pk = 0; pk < 2; pk++) {
            mdatt_pm_train_info in;
            train_seen(MDATT_PM_OPT_MD, pk ? 3.0 : 2.0, steps[k], 3, &tb, items, &s, &in);
            if (!isfinite(in.final_loss)) {
                cr_expect(in.diverged, "p = %d, step %g", pk ? 3 : 2, steps[k]);
                continue;
            }
            cr_expect_eq(in.epochs, 3, "p = %d, step %g: stopped early", pk ? 3 : 2, steps[k]);
            cr_expect_eq(in.diverged, !(in.final_loss <= in.start_loss),
                         "p = %d, step %g: final %g, start %g", pk ? 3 : 2, steps[k], in.final_loss,
                         in.start_loss);
            finite_bad += in.diverged;
            good += !in.diverged;
        }
    cr_expect(finite_bad >= 4 && good >= 4, "%d diverged with a finite loss, %d trained", finite_bad,
              good);
    free(tb.U);
    free(tb.lab);
}

Test(patchmodel, clipping_scales_to_the_threshold_and_keeps_the_direction)
{
    double g[3] = {3.0, 0.0, -4.0};
    cr_assert_eq(mdatt_pm_clip(g, 3, 1.0), 5.0);
    cr_assert(fabs(g[0] - 0.6) < 1e-15 && g[1] == 0.0 && fabs(g[2] + 0.8) < 1e-15);
    /* At or below the threshold, or without one (0), g is left as it is. */
    double h[2] = {0.3, 0.4};
    cr_assert(fabs(mdatt_pm_clip(h, 2, 0.5) - 0.5) < 1e-15);
    cr_assert(h[0] == 0.3 && h[1] == 0.4);
    cr_assert(fabs(mdatt_pm_clip(h, 2, 0.0) - 0.5) < 1e-15);
    cr_assert(h[0] == 0.3 && h[1] == 0.4);
    cr_assert(fabs(mdatt_pm_clip(h, 2, 0.1) - 0.5) < 1e-15);
    cr_assert(fabs(hypot(h[0], h[1]) - 0.1) < 1e-15 && fabs(h[1] / h[0] - 4.0 / 3.0) < 1e-12);
}

/* An epoch replayed by hand from the run's initialization and batch order:
 * every step on the gradient scaled to norm clip when it is longer (clip 0:
 * unscaled), through the optimizer's own step. */
static void replay_epoch(mdatt_pm_opt_kind kind, double p, double lr, double clip, const table_t *tb,
                         const seen_t *s, int B, mdatt_pm_model *m)
{
    cr_assert_eq(mdatt_pm_model_init(m, tb->T, tb->Pd, 8, 3, 1), 0);
    memcpy(m->w, s->init, sizeof(double) * m->np);
    mdatt_pm_work *w = mdatt_pm_work_new(m, B);
    double *U = malloc(sizeof(double) * B * tb->T * tb->Pd), *g = malloc(sizeof(double) * m->np);
    int *y = malloc(sizeof(int) * B);
    mdatt_pm_opt o;
    cr_assert_eq(mdatt_pm_opt_init(&o, kind, p, lr, m), 0);
    for (int at = 0; at + B <= tb->n; at += B) {
        mdatt_pm_stats st;
        table_fill(s->order[0] + at, B, U, y, (void *)tb);
        mdatt_pm_forward(m, w, U, y, B, g, NULL, &st);
        double ss = 0.0;
        for (size_t k = 0; k < m->np; k++)
            ss += g[k] * g[k];
        for (size_t k = 0; clip > 0 && sqrt(ss) > clip && k < m->np; k++)
            g[k] *= clip / sqrt(ss);
        mdatt_pm_opt_step(&o, m, g);
    }
    mdatt_pm_opt_free(&o);
    mdatt_pm_work_free(w);
    free(U);
    free(g);
    free(y);
}

/* mdatt_pm_train with clipping equals the replay with clipping and differs
 * from the replay without it, for MD and Adam alike. */
static void check_clipped_training(mdatt_pm_opt_kind kind, double p, double lr)
{
    const int n = 60, B = 20;
    int items[60];
    table_t tb = bright_table(n, 6, items, 0);
    static seen_t s;
    mdatt_pm_train_settings st;
    mdatt_pm_train_default_settings(&st);
    st.kind = kind;
    st.p = p;
    st.lr = lr;
    st.batch = B;
    st.seed = 9;
    st.clip = 1e-3;     /* below every gradient norm of these steps */
    st.order_hook = record_order;
    st.hook_ctx = &s;
    mdatt_pm_model m, byhand, free_run;
    mdatt_pm_train_info info;
    cr_assert_eq(mdatt_pm_train(&m, tb.T, tb.Pd, 8, 3, items, n, table_fill, &tb, &st, &info), 0);
    cr_assert_eq(info.steps, n / B);
    cr_assert_eq(info.clipped, info.steps, "kind %d: %ld of %ld steps clipped", kind, info.clipped,
                 info.steps);
    replay_epoch(kind, p, lr, st.clip, &tb, &s, B, &byhand);
    replay_epoch(kind, p, lr, 0.0, &tb, &s, B, &free_run);
    double same = 0.0, apart = 0.0;
    for (size_t k = 0; k < m.np; k++) {
        same = fmax(same, fabs(m.w[k] - byhand.w[k]));
        apart = fmax(apart, fabs(m.w[k] - free_run.w[k]));
    }
    cr_assert_eq(same, 0.0, "kind %d p %g: clipped run differs from the replay by %g", kind, p, same);
    cr_assert(apart > 1e-6, "kind %d p %g: clipping changed nothing (%g)", kind, p, apart);
    mdatt_pm_model_free(&m);
    mdatt_pm_model_free(&byhand);
    mdatt_pm_model_free(&free_run);
    free(tb.U);
    free(tb.lab);
}

Test(patchmodel, clipping_applies_the_same_rule_to_every_optimizer)
{
    check_clipped_training(MDATT_PM_OPT_MD, 1.1, 0.5);
    check_clipped_training(MDATT_PM_OPT_MD, 2.0, 5.0);
    check_clipped_training(MDATT_PM_OPT_MD, 3.0, 5.0);
    check_clipped_training(MDATT_PM_OPT_ADAM, 2.0, 0.05);
}

Test(patchmodel, selection_score_is_the_worst_seed)
{
    const double a[3] = {0.81, 0.32, 0.79}, b[2] = {0.81, -1.0}, c[1] = {0.5};
    cr_assert_eq(mdatt_pm_select_score(a, 3), 0.32);
    cr_assert_eq(mdatt_pm_select_score(a, 1), 0.81);
    cr_assert_eq(mdatt_pm_select_score(b, 2), -1.0, "a diverged seed disqualifies the step");
    cr_assert_eq(mdatt_pm_select_score(c, 1), 0.5);
    cr_assert_eq(mdatt_pm_select_score(c, 0), -1.0);
    /* The mean of a would be 0.64: a collapsing seed must not be averaged away. */
    cr_assert(mdatt_pm_select_score(a, 3) < (a[0] + a[1] + a[2]) / 3 - 0.3);
}

Test(patchmodel, step_choice_by_worst_seed_or_with_a_margin)
{
    /* Finalists 0.2, 0.4, 0.8 (0.1 and 1.6 not finalists); the largest that
     * trained scores best. */
    const double lr[5] = {0.1, 0.2, 0.4, 0.8, 1.6};
    const double top[5] = {NAN, 0.70, 0.75, 0.80, NAN};
    cr_assert_eq(mdatt_pm_choose_step(lr, top, 5, 2), 3, "two seeds: the best worst-seed score");
    cr_assert_eq(mdatt_pm_choose_step(lr, top, 5, 1), 2, "one seed: one grid step below the edge");
    /* The largest diverged: two seeds skip it; one seed keeps the margin
     * below the largest that trained. */
    const double edge[5] = {NAN, 0.70, 0.75, -1.0, NAN};
    cr_assert_eq(mdatt_pm_choose_step(lr, edge, 5, 2), 2);
    cr_assert_eq(mdatt_pm_choose_step(lr, edge, 5, 1), 1);
    /* Ties go to the smaller step; a lone survivor is chosen; none: -1. */
    const double tie[5] = {0.75, 0.75, 0.75, NAN, NAN}, lone[5] = {-1.0, 0.6, -1.0, NAN, NAN},
                 none[5] = {-1.0, -1.0, NAN, NAN, NAN};
    cr_assert_eq(mdatt_pm_choose_step(lr, tie, 5, 2), 0);
    cr_assert_eq(mdatt_pm_choose_step(lr, tie, 5, 1), 0);
    cr_assert_eq(mdatt_pm_choose_step(lr, lone, 5, 1), 1);
    cr_assert_eq(mdatt_pm_choose_step(lr, lone, 5, 2), 1);
    cr_assert_eq(mdatt_pm_choose_step(lr, none, 5, 1), -1);
    cr_assert_eq(mdatt_pm_choose_step(lr, none, 5, 2), -1);
}

Test(patchmodel, schedule_factors_in_closed_form)
{
    cr_assert_eq(mdatt_pm_lr_factor(MDATT_PM_SCHED_CONSTANT, 37, 100, 10), 1.0);
    const long total = 110, warm = 10;
    cr_assert(fabs(mdatt_pm_lr_factor(MDATT_PM_SCHED_COSINE, 0, total, warm) - 0.1) < 1e-15);
    cr_assert(fabs(mdatt_pm_lr_factor(MDATT_PM_SCHED_COSINE, 4, total, warm) - 0.5) < 1e-15);
    cr_assert(fabs(mdatt_pm_lr_factor(MDATT_PM_SCHED_COSINE, 10, total, warm) - 1.0) < 1e-15);
    /* A quarter of the decay: (1 + cos(pi/4)) / 2; half: 1/2; the end: 0. */
    cr_assert(fabs(mdatt_pm_lr_factor(MDATT_PM_SCHED_COSINE, 35, total, warm) -
                   (1 + sqrt(0.5)) / 2) < 1e-15);
    cr_assert(fabs(mdatt_pm_lr_factor(MDATT_PM_SCHED_COSINE, 60, total, warm) - 0.5) < 1e-15);
    cr_assert(fabs(mdatt_pm_lr_factor(MDATT_PM_SCHED_COSINE, 110, total, warm)) < 1e-15);
    cr_assert(fabs(mdatt_pm_lr_factor(MDATT_PM_SCHED_COSINE, 5, 100, 0) -
                   (1 + cos(M_PI * 0.05)) / 2) < 1e-15);
}

Test(patchmodel, plateau_rule_on_synthetic_curves)
{
    /* n = 10: the last 2 epochs against the first 8. */
    const double rising[10] = {.5, .6, .65, .7, .72, .74, .75, .76, .77, .78};
    const double flat[10] = {.5, .6, .65, .7, .72, .74, .75, .76, .7609, .755};
    const double just[10] = {.5, .6, .65, .7, .72, .74, .75, .76, .761, .755};
    cr_assert(!mdatt_pm_plateaued(rising, 10, 0.2, 0.001));
    cr_assert(mdatt_pm_plateaued(flat, 10, 0.2, 0.001), "0.09 point over the last 20 %%");
    cr_assert(!mdatt_pm_plateaued(just, 10, 0.2, 0.0009), "0.1 point is an improvement at tol 0.09");
    /* A drop at the end is a plateau: nothing beats the best before. */
    const double drop[5] = {.5, .8, .79, .78, .7};
    cr_assert(mdatt_pm_plateaued(drop, 5, 0.2, 0.001));
    /* n = 7, frac 0.2: ceil(1.4) = 2 epochs in the window. */
    const double seven[7] = {.1, .2, .3, .4, .5, .5, .5015};
    cr_assert(!mdatt_pm_plateaued(seven, 7, 0.2, 0.001), "the window holds epochs 6 and 7, best .5015 vs .5");
    cr_assert(mdatt_pm_plateaued(seven, 7, 0.2, 0.01));
    /* Too short to have both parts, or not finite: no plateau. */
    cr_assert(!mdatt_pm_plateaued(drop, 1, 0.2, 0.001));
    const double nan3[3] = {.5, NAN, .5};
    cr_assert(!mdatt_pm_plateaued(nan3, 3, 0.5, 0.001));
}

/* Student's t density and its CDF by composite Simpson over [0, x]. */
static double t_cdf(double x, int v)
{
    const double c = exp(lgamma((v + 1) / 2.0) - lgamma(v / 2.0)) / sqrt(v * M_PI);
    const int n = 20000;
    const double h = x / n;
    double s = 0.0;
    for (int k = 0; k <= n; k++) {
        const double u = k * h, f = c * pow(1 + u * u / v, -(v + 1) / 2.0);
        s += (k == 0 || k == n ? 1 : k % 2 ? 4 : 2) * f;
    }
    return 0.5 + s * h / 3;
}

Test(patchmodel, t_quantiles_against_closed_forms_and_integration)
{
    /* df = 1 (Cauchy): tan(pi (0.975 - 1/2)); df = 2: (2p-1) sqrt(2 / (4p(1-p))). */
    cr_assert(fabs(mdatt_pm_t975(1) - tan(M_PI * 0.475)) < 1e-8);
    cr_assert(fabs(mdatt_pm_t975(2) - 0.95 * sqrt(2 / (4 * 0.975 * 0.025))) < 1e-8);
    for (int v = 3; v <= 120; v += v < 30 ? 1 : 13) {
        const double t = mdatt_pm_t975(v), F = t_cdf(t, v);
        cr_assert(fabs(F - 0.975) < 2e-6, "df %d: t %.8f has CDF %.8f", v, t, F);
    }
    cr_assert(isnan(mdatt_pm_t975(0)));
}

Test(patchmodel, paired_interval_by_hand)
{
    /* Differences 1, 2, 3, 4: mean 2.5, sd sqrt(5/3), half-width
     * t_{0.975,3} sd / 2 with t_{0.975,3} = 3.182446305. */
    const double a[4] = {11, 12, 13, 14}, b[4] = {10, 10, 10, 10};
    mdatt_pm_paired c;
    mdatt_pm_paired_diff(a, b, 4, &c);
    const double half = 3.182446305 * sqrt(5.0 / 3.0) / 2;
    cr_assert_eq(c.n, 4);
    cr_assert(fabs(c.mean - 2.5) < 1e-12 && fabs(c.sd - sqrt(5.0 / 3.0)) < 1e-12);
    cr_assert(fabs(c.lo - (2.5 - half)) < 1e-8 && fabs(c.hi - (2.5 + half)) < 1e-8,
              "[%g, %g]", c.lo, c.hi);
    cr_assert_str_eq(mdatt_pm_verdict(&c), "better");
    mdatt_pm_paired_diff(b, a, 4, &c);
    cr_assert_str_eq(mdatt_pm_verdict(&c), "worse");
    /* Differences 1, -1, 2, -2: the interval holds 0. */
    const double a2[4] = {1, -1, 2, -2}, z[4] = {0};
    mdatt_pm_paired_diff(a2, z, 4, &c);
    cr_assert(c.lo < 0 && c.hi > 0);
    cr_assert_str_eq(mdatt_pm_verdict(&c), "no difference detected at this resolution");
    mdatt_pm_paired_diff(a, b, 1, &c);
    cr_assert_str_eq(mdatt_pm_verdict(&c), "no difference detected at this resolution");
}

/* Median, wins, losses and the exact sign test against hand counts: ten
 * seeds with nine differences of +1 and one of -30 (one run collapsed): the
 * mean and its t-interval are dragged below 0 and hold it, the median is +1,
 * 9 wins and 1 loss give p = 2 (1 + 10) / 2^10 = 0.021484375.  Ties are
 * left out of the test; an odd count takes the middle difference. */
Test(patchmodel, median_wins_and_sign_test_by_hand)
{
    double a[10], b[10] = {0};
    for (int i = 0; i < 10; i++)
        a[i] = i == 7 ? -30.0 : 1.0;
    mdatt_pm_paired c;
    mdatt_pm_paired_diff(a, b, 10, &c);
    cr_assert(fabs(c.mean - (-2.1)) < 1e-12 && c.lo < 0 && c.hi > 0);
    cr_assert_eq(c.median, 1.0);
    cr_assert_eq(c.wins, 9);
    cr_assert_eq(c.losses, 1);
    cr_assert(fabs(c.sign_p - 22.0 / 1024.0) < 1e-15, "p %.17g", c.sign_p);
    /* 3 wins, 0 losses, 2 ties: p = 2 / 8; median of 5 = the middle one */
    const double a2[5] = {0.5, 0.0, 2.0, 0.0, 1.0}, z[5] = {0};
    mdatt_pm_paired_diff(a2, z, 5, &c);
    cr_assert_eq(c.wins, 3);
    cr_assert_eq(c.losses, 0);
    cr_assert(fabs(c.sign_p - 0.25) < 1e-15);
    cr_assert_eq(c.median, 0.5);
    /* all tied: no evidence either way */
    mdatt_pm_paired_diff(z, z, 5, &c);
    cr_assert_eq(c.sign_p, 1.0);
    cr_assert_eq(c.median, 0.0);
    /* 5 wins 5 losses: p = 1 (capped) */
    const double a3[10] = {1, -1, 1, -1, 1, -1, 1, -1, 1, -1}, z10[10] = {0};
    mdatt_pm_paired_diff(a3, z10, 10, &c);
    cr_assert_eq(c.sign_p, 1.0);
    cr_assert_eq(c.median, 0.0);
}

/* Labelled images 0..n-1 with label k % 10 and pixel values from k. */
static mdatt_images fake_images(int n)
{
    mdatt_images im = {n, 28, 28, malloc((size_t)n * 784), malloc(n)};
    for (int k = 0; k < n; k++) {
        im.labels[k] = (unsigned char)(k % 10);
        for (int j = 0; j < 784; j++)
            im.pixels[(size_t)k * 784 + j] = (unsigned char)((k * 31 + j * 7) % 256);
    }
    return im;
}

Test(patchmodel, token_task_has_one_relevant_item_per_sequence)
{
    mdatt_images im = fake_images(500);
    const int n = 400, T = 7, target[2] = {2, 4};
    int *items = malloc(sizeof(int) * n * T), pos[400], label[400], seen_pos[7] = {0}, lab1 = 0;
    cr_assert_eq(mdatt_pm_token_task(&im, target, n, T, 3, items, pos, label), 0);
    for (int i = 0; i < n; i++) {
        int relevant = 0;
        cr_assert(pos[i] >= 0 && pos[i] < T);
        seen_pos[pos[i]]++;
        for (int t = 0; t < T; t++) {
            const int it = items[i * T + t], c = im.labels[it];
            cr_assert(it >= 0 && it < im.n);
            if (c == target[0] || c == target[1]) {
                relevant++;
                cr_assert_eq(t, pos[i], "sequence %d: a target item off the relevant position", i);
                cr_assert_eq(label[i], c == target[1], "sequence %d: label %d for class %d", i, label[i], c);
            }
        }
        cr_assert_eq(relevant, 1, "sequence %d has %d label-relevant items", i, relevant);
        lab1 += label[i];
    }
    for (int t = 0; t < T; t++)
        cr_assert(seen_pos[t] > 20, "position %d used %d times", t, seen_pos[t]);
    cr_assert(lab1 > 150 && lab1 < 250, "labels unbalanced: %d of 400", lab1);
    /* A class group without images cannot make sequences. */
    const int none[2] = {11, 12};
    cr_assert_eq(mdatt_pm_token_task(&im, none, 3, T, 3, items, pos, label), -1);
    free(items);
    free(im.pixels);
    free(im.labels);
}

Test(patchmodel, projection_matches_a_direct_sum)
{
    mdatt_images im = fake_images(1500);   /* more than one chunk of 1000 */
    const int Pd = 5;
    double *out = malloc(sizeof(double) * im.n * Pd), *G = malloc(sizeof(double) * Pd * 784);
    cr_assert_eq(mdatt_pm_project(&im, Pd, 42, out), 0);
    mdatt_rng r;
    mdatt_rng_seed(&r, 42);
    for (int k = 0; k < Pd * 784; k++)
        G[k] = mdatt_rng_normal(&r) / 28.0;
    for (int i = 0; i < im.n; i += 149)
        for (int k = 0; k < Pd; k++) {
            double s = 0.0;
            for (int j = 0; j < 784; j++)
                s += G[k * 784 + j] * im.pixels[(size_t)i * 784 + j] / 255.0;
            cr_assert(fabs(out[i * Pd + k] - s) < 1e-12 * (1 + fabs(s)), "image %d feature %d", i, k);
        }
    free(out);
    free(G);
    free(im.pixels);
    free(im.labels);
}
