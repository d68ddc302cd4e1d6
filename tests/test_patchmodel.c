/* test_patchmodel.c - the real-data attention classifier: gradients against
 * central finite differences of the loss (every parameter, softmax and
 * logistic heads), the optimizer steps against their formulas written out,
 * determinism, and a tiny task it must learn. */
#include <criterion/criterion.h>
#include <math.h>
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
