/* test_train.c - l_p-AttGD / l_p-JointGD (design.md (6)-(9),
 * "Saturation"). */
#include <criterion/criterion.h>
#include <float.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mdatt.h"

#define PD 10
#define PDD (PD * PD)

/* The paper instance (n=6, T=8, d=10, seed 1) and W_0 ~ N(0,1) from seed 1. */
static void paper(mdatt_instance *in, double *W0)
{
    mdatt_gen_settings g;
    mdatt_rng r;
    mdatt_gen_default_settings(&g);
    cr_assert_eq(g.n, 6);
    cr_assert_eq(mdatt_gen(&g, in), MDATT_OK);
    mdatt_rng_seed(&r, 1);
    for (int j = 0; j < PDD; j++) W0[j] = mdatt_rng_normal(&r);
}

/* (sum |x|^q)^(1/q) with pow: an independent dual-norm reference */
static double qnorm_ref(const double *x, size_t m, double q)
{
    double s = 0;
    for (size_t j = 0; j < m; j++) s += pow(fabs(x[j]), q);
    return pow(s, 1.0 / q);
}

Test(train, settings)
{
    mdatt_train_settings s;
    mdatt_train_default_settings(&s);
    cr_expect(s.p == 2.0 && s.lr == 0.1 && s.iters == 1000 && !s.normalized && !s.joint);
    cr_expect(s.loss == MDATT_LOSS_LOGISTIC && s.grad_mode == MDATT_GRAD_STABLE);
    cr_expect(s.eps == 1e-12 && s.log_every == 0 && s.hook == NULL);
    cr_expect(mdatt_train_check_settings(&s) == NULL);
    s.p = 1.0;
    cr_expect(strncmp(mdatt_train_check_settings(&s), "p:", 2) == 0);
    s.p = INFINITY;
    cr_expect(mdatt_train_check_settings(&s) != NULL);
    s.p = 1.01;
    cr_expect(mdatt_train_check_settings(&s) == NULL);
    s.lr = 0;
    cr_expect(strncmp(mdatt_train_check_settings(&s), "lr:", 3) == 0);
    s.lr = 0.1;
    s.iters = -1;
    cr_expect(strncmp(mdatt_train_check_settings(&s), "iters:", 6) == 0);
    s.iters = 1;
    s.eps = NAN;
    cr_expect(strncmp(mdatt_train_check_settings(&s), "eps:", 4) == 0);
    s.eps = INFINITY;
    cr_expect(strncmp(mdatt_train_check_settings(&s), "eps:", 4) == 0);
    s.eps = -1e-300;
    cr_expect(strncmp(mdatt_train_check_settings(&s), "eps:", 4) == 0);
    s.eps = 0.0; /* the documented range is eps >= 0 */
    cr_expect(mdatt_train_check_settings(&s) == NULL);
}

/* One step of p = 2 mirror descent is a GD step, to the last bit. */
/* One p = 2 step is one GD step on the gradient mdatt_eval_grad computes
 * (with v an argument, never a cached X v), bit for bit; v stays fixed.  The
 * paper instance takes the packed evaluation, the second instance (n T d
 * above the packed copies' limit) the unpacked one, each with the trainer's
 * cached X v. */
static void check_p2_step(const mdatt_instance *in, const double *W0)
{
    const int m = in->d * in->d, d = in->d;
    double *W = malloc(sizeof(double) * m), *G = malloc(sizeof(double) * m),
           *ref = malloc(sizeof(double) * m), *v = malloc(sizeof(double) * d);
    cr_assert(W && G && ref && v);
    mdatt_grad gW = {G, 0};
    mdatt_train_settings s;
    mdatt_train_info info;
    mdatt_work *w = mdatt_work_new(in);
    cr_assert_eq(mdatt_eval_grad(in, W0, in->v, 0, w, NULL, &gW, NULL, NULL), MDATT_OK);
    mdatt_train_default_settings(&s);
    s.iters = 1;
    s.lr = 0.37;
    for (int normalized = 0; normalized <= 1; normalized++) {
        s.normalized = normalized;
        memcpy(W, W0, sizeof(double) * m);
        memcpy(v, in->v, sizeof(double) * d);
        cr_assert_eq(mdatt_train(in, &s, W, v, NULL, &info), MDATT_OK);
        for (int j = 0; j < m; j++)
            ref[j] = normalized ? W0[j] - G[j] * (s.lr / mdatt_norm_p(G, m, 2.0))
                                : W0[j] - s.lr * (G[j] * exp(gW.log_scale));
        cr_expect(memcmp(W, ref, sizeof(double) * m) == 0, "n=%d T=%d d=%d normalized=%d",
                  in->n, in->T, d, normalized);
        cr_expect(memcmp(v, in->v, sizeof(double) * d) == 0, "v is fixed in AttGD");
        cr_expect_eq(info.iters, 1);
    }
    mdatt_work_free(w);
    free(W);
    free(G);
    free(ref);
    free(v);
}

Test(train, p2_step_is_gd_step_bitwise)
{
    mdatt_instance in;
    double W0[PDD];
    paper(&in, W0);
    check_p2_step(&in, W0);
    mdatt_instance_free(&in);

    mdatt_gen_settings g;
    mdatt_gen_default_settings(&g);
    g.n = 40, g.T = 30, g.d = 16, g.seed = 4;    /* n T d = 19200 */
    cr_assert_eq(mdatt_gen(&g, &in), MDATT_OK);
    double *W1 = malloc(sizeof(double) * 256);
    mdatt_rng r;
    mdatt_rng_seed(&r, 2);
    for (int j = 0; j < 256; j++) W1[j] = 0.3 * mdatt_rng_normal(&r);
    check_p2_step(&in, W1);
    free(W1);
    mdatt_instance_free(&in);
}

/* The step reported at a logged point is the step that led to it, also at
 * the last iteration when log_every does not divide iters: with log_every =
 * 4 and 10 iterations the points are 0, 4, 8, 10, and the step at 10 must be
 * ||theta_10 - theta_9||_q, recomputed from the dual iterates of a run that
 * logs every point (plain steps: their dual norms differ from step to step). */
typedef struct {
    long k[16];
    double sd[16], th[16][PDD];
    int np;
} step_log;

static int step_hook(const mdatt_train_point *pt, void *c_)
{
    step_log *c = c_;
    cr_assert_lt(c->np, 16);
    c->k[c->np] = pt->k;
    c->sd[c->np] = pt->step_dual;
    for (int j = 0; j < PDD; j++)
        c->th[c->np][j] = pt->theta[j] + pt->theta_lo[j];
    c->np++;
    return 0;
}

Test(train, step_reported_at_the_last_point_is_the_last_step)
{
    mdatt_instance in;
    double W0[PDD], W[PDD], v[PD];
    paper(&in, W0);
    mdatt_train_settings s;
    mdatt_train_info info;
    mdatt_train_default_settings(&s);
    s.p = 1.75;
    s.lr = 0.05;
    s.iters = 10;
    s.hook = step_hook;
    step_log every = {0}, sparse = {0};
    const int le[2] = {1, 4};
    step_log *logs[2] = {&every, &sparse};
    for (int r = 0; r < 2; r++) {
        memcpy(W, W0, sizeof W);
        memcpy(v, in.v, sizeof v);
        s.log_every = le[r];
        s.hook_ctx = logs[r];
        cr_assert_eq(mdatt_train(&in, &s, W, v, NULL, &info), MDATT_OK);
    }
    cr_assert_eq(every.np, 11);
    cr_assert_eq(sparse.np, 4);
    cr_assert(sparse.k[3] == 10 && sparse.k[2] == 8);
    double diff[PDD];
    for (int j = 0; j < PDD; j++)
        diff[j] = every.th[10][j] - every.th[9][j];
    const double ref = qnorm_ref(diff, PDD, s.p / (s.p - 1.0));
    for (int j = 0; j < PDD; j++)
        diff[j] = every.th[8][j] - every.th[7][j];
    const double ref8 = qnorm_ref(diff, PDD, s.p / (s.p - 1.0));
    cr_expect(fabs(ref - ref8) > 1e-6 * ref, "steps 8 and 10 alike: the test cannot tell them");
    cr_expect(fabs(sparse.sd[3] - ref) <= 1e-9 * ref, "step at 10: %.17g, want %.17g",
              sparse.sd[3], ref);
    cr_expect(fabs(sparse.sd[2] - ref8) <= 1e-9 * ref8, "step at 8: %.17g, want %.17g",
              sparse.sd[2], ref8);
    mdatt_instance_free(&in);
}

/* ------------------------------------------------- the saturation run */

typedef struct {
    double eta, q, p;
    long points, checked;
    double max_rel_reported;    /* |step_dual - eta| / eta from the trainer */
    double max_rel_theta;       /* the same from theta itself, with powl */
    double last_log_loss, last_loss, first_log_loss;
    int bad_loss;
    double prev[PDD], prev_lo[PDD];
    int have_prev;
} sat_ctx;

static int sat_hook(const mdatt_train_point *pt, void *c_)
{
    sat_ctx *c = c_;
    c->points++;
    if (!isfinite(pt->ev.log_loss) || !(pt->ev.loss > 0)) c->bad_loss++;
    if (pt->k == 0) c->first_log_loss = pt->ev.log_loss;
    c->last_log_loss = pt->ev.log_loss;
    c->last_loss = pt->ev.loss;
    if (pt->k > 0) {
        double r = fabs(pt->step_dual - c->eta) / c->eta;
        if (r > c->max_rel_reported) c->max_rel_reported = r;
    }
    /* every 97th step (and its predecessor), recompute the step of the dual
     * iterate theta = hi + lo from the state itself */
    if (pt->k % 97 == 0 || pt->k % 97 == 1) {
        if (c->have_prev && pt->k % 97 == 1) {
            double diff[PDD], r;
            /* (hi' - hi) is exact (Sterbenz) once |theta| >> eta; adding the
             * difference of the low parts recovers the step to ~1e-16 */
            for (int j = 0; j < PDD; j++)
                diff[j] = (pt->theta[j] - c->prev[j]) + (pt->theta_lo[j] - c->prev_lo[j]);
            r = fabs(qnorm_ref(diff, PDD, c->q) - c->eta) / c->eta;
            if (r > c->max_rel_theta) c->max_rel_theta = r;
            c->checked++;
        }
        memcpy(c->prev, pt->theta, sizeof c->prev);
        memcpy(c->prev_lo, pt->theta_lo, sizeof c->prev_lo);
        c->have_prev = 1;
    }
    return 0;
}

Test(train, paper_instance_200k_normalized_steps_exact_and_loss_finite, .timeout = 120)
{
    const double ps[] = {1.75, 2.0, 3.0};
    /* MDATT_SAT_ITERS shortens the run (e.g. under valgrind) */
    const char *env = getenv("MDATT_SAT_ITERS");
    const long iters = env ? atol(env) : 200000;
    mdatt_instance in;
    double W0[PDD];
    paper(&in, W0);
    for (int k = 0; k < 3; k++) {
        double W[PDD], v[PD];
        int alpha[6];
        mdatt_train_settings s;
        mdatt_train_info info;
        sat_ctx c;
        memset(&c, 0, sizeof c);
        memcpy(W, W0, sizeof W);
        memcpy(v, in.v, sizeof v);
        mdatt_train_default_settings(&s);
        s.p = ps[k];
        s.lr = 0.1;
        s.iters = iters;
        s.normalized = 1;
        s.log_every = 1;
        s.hook = sat_hook;
        s.hook_ctx = &c;
        c.eta = s.lr;
        c.p = s.p;
        c.q = mdatt_dual_exponent(s.p);
        cr_assert_eq(mdatt_train(&in, &s, W, v, alpha, &info), MDATT_OK);
        cr_expect_eq(info.iters, iters);
        cr_expect_eq(c.points, iters + 1);
        cr_expect_eq(info.stalled, 0);
        cr_expect(c.max_rel_reported <= 1e-12, "p=%g: reported step error %g", s.p,
                  c.max_rel_reported);
        cr_expect(c.checked >= iters / 97 - 1);
        cr_expect(c.max_rel_theta <= 1e-12, "p=%g: theta step error %g", s.p, c.max_rel_theta);
        cr_expect_eq(c.bad_loss, 0, "p=%g: loss not finite/positive at %d points", s.p,
                     c.bad_loss);
        cr_expect(c.last_log_loss < c.first_log_loss);
        cr_expect(isfinite(info.ev.log_loss) && info.ev.loss > 0);
        /* deep in saturation: the non-selected probabilities left double range
         * long ago for p = 1.75 and 2 */
        if (iters >= 200000)
            cr_expect(info.ev.log1m_smax_max < -70, "p=%g: %g", s.p, info.ev.log1m_smax_max);
        /* W grows: theta moves by eta per step in ||.||_q */
        {
            double th[PDD];
            mdatt_mirror_map(W, th, PDD, s.p);
            cr_expect(mdatt_norm_p(th, PDD, c.q) > 0.5 * s.lr * s.iters, "p=%g", s.p);
        }
    }
    mdatt_instance_free(&in);
}

/* ------------------------------------------------------------- baselines */

typedef struct { long n; double last; } count_ctx;
static int count_hook(const mdatt_train_point *pt, void *c_)
{
    count_ctx *c = c_;
    c->n++;
    c->last = pt->step_dual;
    return 0;
}

Test(train, naive_eps_baseline_stalls_in_saturation_stable_does_not)
{
    mdatt_instance in;
    double W0[PDD], W[PDD], v[PD], Ws[PDD];
    mdatt_train_settings s;
    mdatt_train_info info;
    count_ctx c = {0, 0};
    paper(&in, W0);
    for (int j = 0; j < PDD; j++) W0[j] *= 2000.0;        /* far into saturation */
    mdatt_train_default_settings(&s);
    s.normalized = 1;
    s.iters = 200;
    s.log_every = 1;
    s.hook = count_hook;
    s.hook_ctx = &c;
    memcpy(W, W0, sizeof W);
    memcpy(v, in.v, sizeof v);
    s.grad_mode = MDATT_GRAD_NAIVE_EPS;
    cr_assert_eq(mdatt_train(&in, &s, W, v, NULL, &info), MDATT_OK);
    cr_expect(info.stalled == 200 || c.last < 1e-6 * s.lr, "naive: stalled %d, last step %g",
              info.stalled, c.last);
    memcpy(Ws, W0, sizeof W);
    s.grad_mode = MDATT_GRAD_STABLE;
    cr_assert_eq(mdatt_train(&in, &s, Ws, v, NULL, &info), MDATT_OK);
    cr_expect_eq(info.stalled, 0);
    cr_expect(fabs(c.last - s.lr) < 1e-12 * s.lr, "stable step %g", c.last);
    /* deeper still, plain steps underflow to 0: counted as stalled */
    for (int j = 0; j < PDD; j++) W0[j] *= 100.0;
    memcpy(Ws, W0, sizeof W);
    s.normalized = 0;
    cr_assert_eq(mdatt_train(&in, &s, Ws, v, NULL, &info), MDATT_OK);
    cr_expect_eq(info.stalled, 200);
    cr_expect(memcmp(Ws, W0, sizeof W) == 0);
    mdatt_instance_free(&in);
}

/* One step of the +eps baseline (MDATT_GRAD_NAIVE_EPS) moves the dual
 * iterate by -lr g / (||g||_q + eps) (normalized) or -lr g (plain), g the
 * gradient (here from the stable evaluation, G e^log_scale).  With eps =
 * 3 ||g||_q the normalized step has dual norm lr / 4 in the direction -g: a
 * guard subtracted instead of added would reverse it. */
Test(train, naive_eps_step_direction_with_gradient_near_eps)
{
    const double p = 1.75, q = p / (p - 1);
    mdatt_instance in;
    double W0[PDD], W[PDD], v[PD], G[PDD], th0[PDD], th1[PDD], gq, gmax = 0;
    mdatt_grad gW = {G, 0};
    mdatt_train_settings s;
    mdatt_train_info info;
    paper(&in, W0);
    mdatt_work *w = mdatt_work_new(&in);
    cr_assert_eq(mdatt_eval_grad(&in, W0, in.v, MDATT_LOSS_LOGISTIC, w, NULL, &gW, NULL, NULL),
                 MDATT_OK);
    for (int j = 0; j < PDD; j++) {
        G[j] *= exp(gW.log_scale);
        gmax = fmax(gmax, fabs(G[j]));
    }
    gq = qnorm_ref(G, PDD, q);
    mdatt_mirror_map(W0, th0, PDD, p);
    mdatt_train_default_settings(&s);
    s.p = p;
    s.lr = 0.37;
    s.iters = 1;
    s.grad_mode = MDATT_GRAD_NAIVE_EPS;
    s.eps = 3.0 * gq;
    for (int normalized = 0; normalized <= 1; normalized++) {
        const double coef = normalized ? s.lr / (4.0 * gq) : s.lr;
        double err = 0;
        s.normalized = normalized;
        memcpy(W, W0, sizeof W);
        memcpy(v, in.v, sizeof v);
        cr_assert_eq(mdatt_train(&in, &s, W, v, NULL, &info), MDATT_OK);
        mdatt_mirror_map(W, th1, PDD, p);
        for (int j = 0; j < PDD; j++) err = fmax(err, fabs((th0[j] - th1[j]) - coef * G[j]));
        cr_expect(err <= 1e-9 * coef * gmax, "normalized=%d: step error %g (step %g)",
                  normalized, err, coef * gmax);
    }
    mdatt_work_free(w);
    mdatt_instance_free(&in);
}

/* info.seconds is the wall time of the loop: inside an external
 * CLOCK_MONOTONIC interval around the call, and most of it (20000
 * iterations against a set-up of one evaluation).  Preemption during the
 * set-up could break the lower bound once: three attempts. */
Test(train, seconds_within_external_clock)
{
    mdatt_instance in;
    double W0[PDD], v[PD];
    mdatt_train_settings s;
    mdatt_train_info info;
    int lower_ok = 0;
    paper(&in, W0);
    mdatt_train_default_settings(&s);
    s.iters = 20000;
    for (int attempt = 0; attempt < 3 && !lower_ok; attempt++) {
        struct timespec t0, t1;
        double ext;
        memcpy(v, in.v, sizeof v);
        clock_gettime(CLOCK_MONOTONIC, &t0);
        cr_assert_eq(mdatt_train(&in, &s, W0, v, NULL, &info), MDATT_OK);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        ext = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
        cr_expect(info.seconds > 0 && info.seconds <= ext + 1e-9,
                  "seconds %g outside the external interval %g", info.seconds, ext);
        lower_ok = info.seconds >= 0.5 * ext;
    }
    cr_expect(lower_ok, "seconds %g is less than half the external time", info.seconds);
    mdatt_instance_free(&in);
}

Test(train, plain_mode_decreases_loss_and_general_p)
{
    const double ps[] = {1.3, 1.75, 2.0, 2.5, 3.0, 4.0};
    mdatt_instance in;
    double W0[PDD];
    paper(&in, W0);
    for (size_t k = 0; k < sizeof ps / sizeof *ps; k++) {
        double W[PDD], v[PD], th0[PDD], th[PDD], l0;
        mdatt_train_settings s;
        mdatt_train_info info;
        mdatt_eval ev;
        mdatt_work *w = mdatt_work_new(&in);
        memcpy(W, W0, sizeof W);
        memcpy(v, in.v, sizeof v);
        cr_assert_eq(mdatt_eval_grad(&in, W, v, 0, w, &ev, NULL, NULL, NULL), MDATT_OK);
        l0 = ev.loss;
        mdatt_train_default_settings(&s);
        s.p = ps[k];
        s.iters = 300;
        cr_assert_eq(mdatt_train(&in, &s, W, v, NULL, &info), MDATT_OK);
        cr_expect(info.ev.loss < l0, "p=%g: %g -> %g", s.p, l0, info.ev.loss);
        /* theta moved, W is the inverse map of the dual iterate */
        mdatt_mirror_map(W0, th0, PDD, s.p);
        mdatt_mirror_map(W, th, PDD, s.p);
        cr_expect(memcmp(th, th0, sizeof th) != 0);
        mdatt_work_free(w);
    }
    mdatt_instance_free(&in);
}

/* ---------------------------------------------------------- joint mode */

typedef struct { int bad; double first, last; long n; double max_rel_v; double eta; } joint_ctx;
static int joint_hook(const mdatt_train_point *pt, void *c_)
{
    joint_ctx *c = c_;
    if (isnan(pt->ev.log_loss) || isinf(pt->ev.log_loss)) c->bad++;
    if (pt->k == 0) c->first = pt->ev.log_loss;
    if (pt->k > 0) {
        double r = fabs(pt->step_dual_v - c->eta) / c->eta;
        if (r > c->max_rel_v) c->max_rel_v = r;
    }
    c->last = pt->ev.log_loss;
    c->n++;
    return 0;
}

Test(train, joint_toy_loss_to_zero_stays_finite_in_log_domain)
{
    const double ps[] = {1.75, 2.0, 3.0};
    mdatt_instance in;
    cr_assert_eq(mdatt_gen_toy_joint(&in), MDATT_OK);
    for (int k = 0; k < 3; k++) {
        double W[4] = {0}, v[2];
        int alpha[2];
        mdatt_train_settings s;
        mdatt_train_info info;
        joint_ctx c = {0, 0, 0, 0, 0, 0.1};
        memcpy(v, in.v, sizeof v);
        mdatt_train_default_settings(&s);
        s.p = ps[k];
        s.joint = 1;
        s.normalized = 1;
        s.iters = 20000;
        s.log_every = 1;
        s.hook = joint_hook;
        s.hook_ctx = &c;
        cr_assert_eq(mdatt_train(&in, &s, W, v, alpha, &info), MDATT_OK);
        cr_expect_eq(c.bad, 0, "p=%g: non-finite log loss", s.p);
        cr_expect(c.last < -100, "p=%g: log L %g should go to -inf", s.p, c.last);
        cr_expect(info.ev.loss >= 0 && isfinite(info.ev.log_loss));
        cr_expect(c.max_rel_v < 1e-12, "p=%g: v step %g", s.p, c.max_rel_v);
        cr_expect(mdatt_norm_p(v, 2, s.p) > 0);
    }
    mdatt_instance_free(&in);
}

/* --------------------------------------------- hook, alpha, determinism */

static int stop_at_5(const mdatt_train_point *pt, void *c_)
{
    (void)c_;
    return pt->k == 5;
}

Test(train, hook_stops_and_alpha_is_final_argmax)
{
    mdatt_instance in;
    double W0[PDD], W[PDD], v[PD];
    int alpha[6];
    mdatt_train_settings s;
    mdatt_train_info info;
    paper(&in, W0);
    memcpy(W, W0, sizeof W);
    memcpy(v, in.v, sizeof v);
    mdatt_train_default_settings(&s);
    s.iters = 100;
    s.log_every = 1;
    s.hook = stop_at_5;
    cr_assert_eq(mdatt_train(&in, &s, W, v, alpha, &info), MDATT_OK);
    cr_expect_eq(info.iters, 5);
    /* independent argmax of the scores at the returned W */
    s.hook = NULL;
    s.iters = 777;
    s.normalized = 1;
    s.p = 1.75;
    cr_assert_eq(mdatt_train(&in, &s, W, v, alpha, &info), MDATT_OK);
    for (int i = 0; i < in.n; i++) {
        int best = 0;
        double bs = -INFINITY;
        for (int t = 0; t < in.T; t++) {
            double a = 0;
            for (int j = 0; j < PD; j++)
                for (int k = 0; k < PD; k++)
                    a += in.X[(i * in.T + t) * PD + j] * W[j * PD + k] * in.Z[i * PD + k];
            if (a > bs) { bs = a; best = t; }
        }
        cr_expect_eq(alpha[i], best, "sample %d", i);
    }
    mdatt_instance_free(&in);
}

typedef struct {
    const mdatt_instance *in;
    double W[PDD], v[PD];
    double p;
    int joint;
    mdatt_status st;
} job;

static void *run_job(void *j_)
{
    job *j = j_;
    mdatt_train_settings s;
    mdatt_train_info info;
    mdatt_train_default_settings(&s);
    s.p = j->p;
    s.normalized = 1;
    s.joint = j->joint;
    s.iters = 3000;
    j->st = mdatt_train(j->in, &s, j->W, j->v, NULL, &info);
    return NULL;
}

Test(train, deterministic_and_reentrant)
{
    mdatt_instance in;
    double W0[PDD];
    job a[4], b[4];
    pthread_t th[4];
    paper(&in, W0);
    for (int k = 0; k < 4; k++) {
        a[k].in = &in;
        a[k].p = k < 2 ? 1.75 : 3.0;
        a[k].joint = k & 1;
        memcpy(a[k].W, W0, sizeof W0);
        memcpy(a[k].v, in.v, sizeof a[k].v);
        b[k] = a[k];
    }
    for (int k = 0; k < 4; k++) run_job(&a[k]);
    for (int k = 0; k < 4; k++) cr_assert_eq(pthread_create(&th[k], NULL, run_job, &b[k]), 0);
    for (int k = 0; k < 4; k++) pthread_join(th[k], NULL);
    for (int k = 0; k < 4; k++) {
        cr_expect_eq(a[k].st, MDATT_OK);
        cr_expect_eq(b[k].st, MDATT_OK);
        cr_expect(memcmp(a[k].W, b[k].W, sizeof a[k].W) == 0, "job %d: W differs", k);
        cr_expect(memcmp(a[k].v, b[k].v, sizeof a[k].v) == 0, "job %d: v differs", k);
    }
    mdatt_instance_free(&in);
}

Test(train, argument_errors)
{
    mdatt_instance in;
    double W0[PDD], v[PD];
    mdatt_train_settings s;
    mdatt_train_info info;
    paper(&in, W0);
    memcpy(v, in.v, sizeof v);
    mdatt_train_default_settings(&s);
    s.p = 0.5;
    cr_expect_eq(mdatt_train(&in, &s, W0, v, NULL, &info), MDATT_EINVAL);
    s.p = 2;
    cr_expect_eq(mdatt_train(NULL, &s, W0, v, NULL, &info), MDATT_EINVAL);
    W0[3] = NAN;
    cr_expect_eq(mdatt_train(&in, &s, W0, v, NULL, &info), MDATT_EINVAL);
    mdatt_instance_free(&in);
}
