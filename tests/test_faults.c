/* test_faults.c - verification power: each planted fault (test builds only,
 * libraries compiled with -DMDATT_FAULTS, selected by the environment variable
 * MDATT_FAULT) must be flagged by at least one independent check, and without
 * a fault every check passes.  The checks use only formulas written out here,
 * never the code under test, to judge it:
 *   grad     finite differences of the risk against the returned gradient;
 *   step     one mirror-descent step recomputed from the formulas of design.md;
 *   cert     the oracle's certificate recomputed (UB, LB, gap) for the asked p;
 *   verdict  the end-to-end claim: after the paper's iterations the risk has
 *            decreased, the selected tokens are locally optimal and the
 *            directional Bregman divergence to the own-p SVM is <= 1e-2. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include "attsvm.h"
#include "mdatt.h"

#define P 1.75

static mdatt_instance in;
static double W0[100];

static void setup(void)
{
    mdatt_gen_settings gs = {6, 8, 10, 1};
    cr_assert_eq(mdatt_gen(&gs, &in), MDATT_OK);
    mdatt_rng r;
    mdatt_rng_seed(&r, 1);
    for (int k = 0; k < 100; k++)
        W0[k] = mdatt_rng_normal(&r);
}
static void teardown(void) { mdatt_instance_free(&in); }

/* The risk L(W) (logistic), written out. */
static double risk(const double *W)
{
    const int n = in.n, T = in.T, d = in.d;
    double L = 0.0;
    for (int i = 0; i < n; i++) {
        double a[64], m = -INFINITY, s = 0.0, f = 0.0;
        for (int t = 0; t < T; t++) {
            const double *x = in.X + ((size_t)i * T + t) * d;
            a[t] = 0.0;
            for (int j = 0; j < d; j++)
                for (int k = 0; k < d; k++)
                    a[t] += x[j] * W[j * d + k] * in.Z[i * d + k];
            m = fmax(m, a[t]);
        }
        for (int t = 0; t < T; t++)
            s += exp(a[t] - m);
        for (int t = 0; t < T; t++) {
            const double *x = in.X + ((size_t)i * T + t) * d;
            double h = 0.0;
            for (int j = 0; j < d; j++)
                h += x[j] * in.v[j];
            f += exp(a[t] - m) / s * h;
        }
        L += log1p(exp(-in.Y[i] * f)) / n;
    }
    return L;
}

/* Central finite differences of the risk at W0 with step h. */
static void fd_gradient(double h, double G[100])
{
    for (int k = 0; k < 100; k++) {
        double Wp[100], Wm[100];
        memcpy(Wp, W0, sizeof Wp);
        memcpy(Wm, W0, sizeof Wm);
        Wp[k] += h;
        Wm[k] -= h;
        G[k] = (risk(Wp) - risk(Wm)) / (2 * h);
    }
}

/* Central finite differences of the risk against the library's gradient. */
static int grad_check_fails(void)
{
    double G[100];
    mdatt_work *w = mdatt_work_new(&in);
    mdatt_eval ev;
    mdatt_grad g = {G, 0.0};
    mdatt_eval_grad(&in, W0, in.v, MDATT_LOSS_LOGISTIC, w, &ev, &g, NULL, NULL);
    mdatt_work_free(w);
    double fd[100], worst = 0.0, scale = 0.0;
    fd_gradient(1e-5, fd);
    for (int k = 0; k < 100; k++) {
        worst = fmax(worst, fabs(fd[k] - G[k] * exp(g.log_scale)));
        scale = fmax(scale, fabs(fd[k]));
    }
    return worst > 1e-6 * scale;
}

/* One normalized step by the trainer against the formulas of design.md with the
 * gradient by finite differences: theta_1 = grad psi(W_0) - eta G/||G||_q,
 * W_1 = sign(theta_1)|theta_1|^{1/(p-1)}. */
static int step_check_fails(void)
{
    const double eta = 0.1, q = P / (P - 1.0);
    double G[100], W1[100], v[10], nq = 0.0;
    fd_gradient(1e-6, G);
    for (int k = 0; k < 100; k++)
        nq += pow(fabs(G[k]), q);
    nq = pow(nq, 1.0 / q);
    mdatt_train_settings ts;
    mdatt_train_default_settings(&ts);
    ts.p = P;
    ts.lr = eta;
    ts.iters = 1;
    ts.normalized = 1;
    memcpy(W1, W0, sizeof W1);
    memcpy(v, in.v, sizeof v);
    mdatt_train_info info;
    if (mdatt_train(&in, &ts, W1, v, NULL, &info) != MDATT_OK)
        return 1;
    double worst = 0.0;
    for (int k = 0; k < 100; k++) {
        double th = copysign(pow(fabs(W0[k]), P - 1.0), W0[k]) - eta * G[k] / nq;
        double want = copysign(pow(fabs(th), 1.0 / (P - 1.0)), th);
        worst = fmax(worst, fabs(W1[k] - want) / (1.0 + fabs(want)));
    }
    return worst > 1e-6;
}

/* Solve the W-SVM at the globally optimal tokens and recompute its
 * certificate for the asked p from x and lambda alone. */
static int cert_check_fails(void)
{
    attsvm_data D = {in.n, in.T, in.d, in.X, in.Z, in.Y, in.v};
    int alpha[6], m, nx;
    attsvm_global_alpha(&D, alpha, NULL);
    attsvm_settings s;
    attsvm_default_settings(&s);
    s.p = P;
    attsvm_result r;
    if (attsvm_solve(&D, alpha, ATTSVM_TARGET_W, &s, &r) != ATTSVM_OPTIMAL)
        return 1;
    double *A = attsvm_build_rows(&D, alpha, ATTSVM_TARGET_W, &m, &nx);
    const double q = P / (P - 1.0);
    double ub = 0.0, minmarg = INFINITY, sl = 0.0, lq = 0.0, u[100] = {0};
    for (int k = 0; k < nx; k++)
        ub += pow(fabs(r.x[k]), P);
    for (int i = 0; i < m; i++) {
        double a = 0.0;
        for (int k = 0; k < nx; k++)
            a += A[(size_t)i * nx + k] * r.x[k];
        minmarg = fmin(minmarg, a);
    }
    ub = pow(ub, 1.0 / P) / fmin(1.0, minmarg);
    for (int j = 0; j < r.ndual; j++) {
        sl += r.dual[j].lambda;
        for (int k = 0; k < nx; k++)
            u[k] += r.dual[j].lambda * A[(size_t)r.dual[j].row * nx + k];
    }
    for (int k = 0; k < nx; k++)
        lq += pow(fabs(u[k]), q);
    double lb = sl / pow(lq, 1.0 / q);
    free(A);
    attsvm_result_free(&r);
    return !((ub - lb) / ub <= 1e-9 && minmarg >= 1.0 - 1e-9);
}

/* The paper's claim at its iteration count: normalized l_1.75-AttGD, 1500
 * steps, directional divergence to the own-p SVM at the selected tokens. */
static int verdict_fails(void)
{
    double W[100], v[10];
    int alpha[6];
    memcpy(W, W0, sizeof W);
    memcpy(v, in.v, sizeof v);
    mdatt_train_settings ts;
    mdatt_train_default_settings(&ts);
    ts.p = P;
    ts.lr = 0.1;
    ts.iters = 1500;
    ts.normalized = 1;
    mdatt_train_info info;
    if (mdatt_train(&in, &ts, W, v, alpha, &info) != MDATT_OK)
        return 1;
    attsvm_data D = {in.n, in.T, in.d, in.X, in.Z, in.Y, in.v};
    attsvm_settings s;
    attsvm_default_settings(&s);
    s.p = P;
    attsvm_result r;
    if (attsvm_solve(&D, alpha, ATTSVM_TARGET_W, &s, &r) != ATTSVM_OPTIMAL)
        return 1;
    double div = mdatt_bregman_dir(r.x, W, 100, P);
    attsvm_tokens tok = {0};
    attsvm_classify(&D, alpha, &r, &tok);
    int local = tok.locally_optimal;
    attsvm_tokens_free(&tok);
    attsvm_result_free(&r);
    /* the run must lower the risk and reach locally optimal tokens */
    return !(div <= 1e-2 && local && risk(W) < risk(W0));
}

/* Run every check; return a bit mask of the ones that flagged. */
static int run_checks(const char *fault)
{
    if (fault)
        setenv("MDATT_FAULT", fault, 1);
    else
        unsetenv("MDATT_FAULT");
    return grad_check_fails() | step_check_fails() << 1 | cert_check_fails() << 2 |
           verdict_fails() << 3;
}

TestSuite(faults, .init = setup, .fini = teardown, .timeout = 60);

Test(faults, without_a_fault_every_check_passes)
{
    int m = run_checks(NULL);
    cr_assert_eq(m, 0, "checks flagged without a fault: mask %#x (grad 1, step 2, cert 4, verdict 8)", m);
}

#define FAULT_TEST(name, expect_mask)                                                        \
    Test(faults, name##_is_caught)                                                           \
    {                                                                                        \
        int m = run_checks(#name);                                                           \
        cr_assert(m != 0, "fault " #name " went unnoticed by every check");                  \
        cr_log_info("fault " #name ": flagged by mask %#x", m);                              \
        cr_assert((m & (expect_mask)) == (expect_mask),                                      \
                  "fault " #name ": mask %#x lacks the expected checks %#x", m, expect_mask); \
    }

FAULT_TEST(inverse_exponent, 2)     /* the step recomputed from the formulas */
FAULT_TEST(grad_sign, 1 | 2 | 8)    /* gradient, step, and the claim itself */
FAULT_TEST(no_normalize, 2)         /* step length is not eta */
FAULT_TEST(drop_sample, 1 | 2)      /* gradient and step */
FAULT_TEST(oracle_p, 4)             /* certificate recomputed for the asked p */
