/* realdata_svm.c - part B of the "realdata" experiment (beyond the paper):
 * the l_p-AttSVM on real tokens.  Fixed tokens, query and probe decoder
 * (mdatt_fmnist_instance), normalized l_p-AttGD (mdatt_train, step
 * R^{p-1}/K0 so that every p can reach ||W||_p = R) until the selected tokens
 * stop changing (no change at any check over the last max(S checks, f k)
 * iterations: f = 1/2 asks for no change since k/2) or a cap, then the oracle
 * at those tokens: directional Bregman divergence along training, token
 * optimality (and which samples break it) and the certified gap; then runs
 * started inside the cone of a locally optimal selection (cone_job). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "realdata.h"
#include "mdatt_check.h"
#include "mdatt_fmnist.h"


/* Step size of normalized l_p-AttGD at p.  Normalized steps have dual norm
 * eta and ||W_k||_p^{p-1} = ||theta_k||_q <= eta k, so eta = R^{p-1} / K0
 * lets ||W||_p reach R after K0 steps at every p (a fixed eta would move
 * W by (eta k)^{1/(p-1)}: 10 orders of magnitude apart between p = 1.1 and 3). */
static double svm_eta(const expB *X, double p)
{
    return X->lr_norm > 0 ? pow(X->lr_norm, p - 1.0) / X->lr_ramp : X->lr;
}

typedef struct {
    const mdatt_instance *in;
    int *alpha, *prev;
    long *last_i;           /* per sample: last check at which its token changed */
    long every, need, max_iters; /* check period, minimum quiet window, cap */
    double frac;            /* quiet window >= frac k */
    long last;              /* last check with a change (0: the start) */
    long next_snap;         /* next snapshot at a check k >= next_snap */
    int acc, stable;        /* changes since the last snapshot; stopped with stable tokens */
    bench_snaps *S;
    int *changes;
    double loss0;           /* loss at k = 0 */
    int diff0;              /* samples whose token at k = 0 differs from prev's start */
    const double *Wmm;      /* cone runs: also stop only once D_psi(Wmm, W_k) <= target */
    double p, target;
    long below;             /* first check with D_psi <= target (-1: none yet) */
    double dmax;            /* cone runs: largest D_psi(Wmm, W_k) at the checks */
    int full;               /* run to the cap: never stop early */
} stop_ctx;

/* Training hook, called at every check (k a multiple of `every`) and at the
 * cap: count the samples whose selected token changed since the previous
 * check, snapshot W_k (log-spaced, 20 per decade, and the last iterate), and
 * stop once no token changed over the last max(need, frac k) iterations.  A
 * fixed window (frac = 0) is fooled by quiet spells that the runs measured
 * here cross again much later; frac = 1/2 asks the tokens to have been
 * unchanged over the second half of the run. */
static int stop_hook(const mdatt_train_point *pt, void *vctx)
{
    stop_ctx *c = vctx;
    if (pt->k == 0)
        c->loss0 = pt->ev.loss;
    mdatt_selected_tokens(c->in, pt->W, c->alpha, NULL, NULL);
    int chg = 0;
    for (int i = 0; i < c->in->n; i++)
        if (c->alpha[i] != c->prev[i]) {
            chg++;
            c->last_i[i] = pt->k;
        }
    memcpy(c->prev, c->alpha, sizeof(int) * c->in->n);
    if (pt->k > 0 && chg > 0)
        c->last = pt->k;
    if (pt->k == 0)
        c->diff0 = chg;
    c->acc += pt->k == 0 ? 0 : chg;
    const long quiet = pt->k - c->last, window = (long)fmax((double)c->need, c->frac * pt->k);
    c->stable = pt->k > 0 && quiet >= window;
    if (c->Wmm) {
        const double dv = mdatt_bregman_dir(c->Wmm, pt->W, (size_t)c->in->d * c->in->d, c->p);
        if (dv <= c->target && c->below < 0)
            c->below = pt->k;
        c->dmax = fmax(c->dmax, dv);
        c->stable = c->stable && dv <= c->target;
    }
    if (pt->k == 0 || pt->k >= c->next_snap || c->stable || pt->k >= c->max_iters) {
        const int before = c->S->count;
        bench_snap_hook(pt, c->S);
        if (c->S->count > before) {
            c->changes[c->S->count - 1] = pt->k == 0 ? c->in->n : c->acc;
            c->acc = 0;
        }
        c->next_snap = (long)fmax((double)(pt->k + c->every), ceil(pt->k * 1.122));
    }
    return c->stable && !c->full;
}

/* An instance of job (pair, p)'s pair from the training file (test 0: the
 * X->n training images, the same for every p) or the test file (test 1: the
 * X->ntest_img images of the selected-patch figure, their indices into
 * X->test_index). */
static int pair_instance(const expB *X, int job, int test, mdatt_instance *in)
{
    char err[MDATT_ERRLEN];
    mdatt_fmnist_settings fs;
    mdatt_fmnist_default_settings(&fs);
    fs.neg = X->pair[job / X->np][0];
    fs.pos = X->pair[job / X->np][1];
    fs.n = test ? X->ntest_img : X->n;
    fs.seed = (uint64_t)X->seed;
    return mdatt_fmnist_instance(test ? X->te : X->tr, &fs, in,
                                 test ? X->test_index + (size_t)job * X->ntest_img : NULL, err) ==
           MDATT_OK ? 0 : -1;
}

/* Normalized l_p-AttGD from W (in place, v = the probe) with step eta, at
 * most `iters` iterations, stopped by stop_hook; sc must hold the caller's
 * in, alpha, prev, last_i, S, changes and (cone runs) Wmm and full. */
static int run_stopped(const expB *X, double p, double eta, long iters, double *W, stop_ctx *sc,
                       mdatt_train_info *info)
{
    const mdatt_instance *in = sc->in;
    double *v = malloc(sizeof(double) * in->d);
    if (!v)
        return -1;
    memcpy(v, in->v, sizeof(double) * in->d);
    sc->every = X->check_every;
    sc->need = X->stable * X->check_every;
    sc->max_iters = iters;
    sc->frac = X->stable_frac;
    sc->loss0 = NAN;
    sc->p = p;
    sc->target = X->cone_target;
    sc->below = -1;
    sc->dmax = 0.0;
    mdatt_train_settings ts;
    mdatt_train_default_settings(&ts);
    ts.p = p;
    ts.lr = eta;
    ts.iters = iters;
    ts.normalized = 1;
    ts.log_every = X->check_every;
    ts.hook = stop_hook;
    ts.hook_ctx = sc;
    const int rc = mdatt_train(in, &ts, W, v, sc->alpha, info) == MDATT_OK ? 0 : -1;
    free(v);
    return rc;
}

/* Growth of the dual iterate: ||theta_k||_q = ||W_k||_p^{p-1} <= eta k,
 * with equality when every normalized step points the same way; a
 * least-squares slope of log ||theta_k||_q on log k over the snapshots in
 * the last 3/4 of the run. */
static double dual_growth(const bench_snaps *S, long iters, int dd, double p)
{
    double sx = 0, sy = 0, sxx = 0, sxy = 0;
    int m = 0;
    for (int k = 0; k < S->count; k++)
        if (S->k[k] > 0 && 4 * S->k[k] >= iters) {
            const double x = log((double)S->k[k]),
                         y = (p - 1.0) * log(mdatt_norm_p(S->W + (size_t)k * dd, dd, p));
            sx += x;
            sy += y;
            sxx += x * x;
            sxy += x * y;
            m++;
        }
    return m >= 3 && m * sxx - sx * sx > 0 ? (m * sxy - sx * sy) / (m * sxx - sx * sx) : NAN;
}

/* Fraction of the samples with sign(v^T x_alpha) = Y. */
static double probe_accuracy(const mdatt_instance *in, const int *alpha)
{
    int right = 0;
    for (int i = 0; i < in->n; i++) {
        double f = 0.0;
        for (int j = 0; j < in->d; j++)
            f += in->v[j] * in->X[((size_t)i * in->T + alpha[i]) * in->d + j];
        right += f * in->Y[i] > 0;
    }
    return (double)right / in->n;
}

/* Samples breaking local optimality: bad[i] = 1 when a support token t
 * scores gamma_it = Y_i v^T x_it higher than the selected token, 2 when only
 * tied (equal scores, e.g. two blank patches: v's coordinate entries are 0,
 * since the mean token's coordinates are 0 in every image). */
static void breaking_samples(const mdatt_instance *in, const attsvm_data *D, const int *alpha,
                             const attsvm_result *r, int *bad)
{
    const int d = in->d;
    for (int k = 0; r->status == ATTSVM_OPTIMAL && k < r->nsupport; k++) {
        int i, t;
        attsvm_row_pair(D, alpha, ATTSVM_TARGET_W, r->support[k], &i, &t);
        double ga = 0.0, gt = 0.0;
        for (int j = 0; j < d; j++) {
            ga += in->v[j] * in->X[((size_t)i * in->T + alpha[i]) * d + j];
            gt += in->v[j] * in->X[((size_t)i * in->T + t) * d + j];
        }
        ga *= in->Y[i];
        gt *= in->Y[i];
        const int tie = fabs(gt - ga) <= 1e-9 * (fabs(ga) + fabs(gt)) + 1e-12;
        if (!tie && gt > ga)
            bad[i] = 1;
        else if (tie && !bad[i])
            bad[i] = 2;
    }
}

/* s_{i, alpha_i}: the attention of sample i on its selected token; q scratch (d). */
static double selected_attention(const mdatt_instance *in, const double *W, int i, int a, double *q)
{
    const int d = in->d;
    for (int j = 0; j < d; j++) {
        q[j] = 0.0;
        for (int k = 0; k < d; k++)
            q[j] += W[j * d + k] * in->Z[(size_t)i * d + k];
    }
    double amax = -INFINITY, sum = 0.0, aa = 0.0;
    for (int pass = 0; pass < 2; pass++)
        for (int t = 0; t < in->T; t++) {
            double s = 0.0;
            for (int j = 0; j < d; j++)
                s += in->X[((size_t)i * in->T + t) * d + j] * q[j];
            if (pass == 0)
                amax = fmax(amax, s);
            else
                sum += exp(s - amax);
            if (t == a)
                aa = s;
        }
    return exp(aa - amax) / sum;
}

/* Why not locally optimal, and which samples kept changing: the breaking
 * samples (and ties), the late changers (token changed after iters/2), the
 * mean attention on the selected token of each group, selected blank patches. */
static void token_diagnosis(expB *X, int job, const mdatt_instance *in, const attsvm_data *D,
                            const double *W, const int *alpha, const long *last_i, long iters,
                            const attsvm_result *r)
{
    const int n = in->n, d = in->d;
    int *bad = calloc(n, sizeof(int));
    double sb = 0.0, sg = 0.0, sl = 0.0, ss = 0.0, *q = malloc(sizeof(double) * d);
    X->lviol[job] = X->lviol_ties[job] = X->blank[job] = X->late[job] = 0;
    if (bad)
        breaking_samples(in, D, alpha, r, bad);
    for (int i = 0; bad && q && i < n; i++) {
        const double sa = selected_attention(in, W, i, alpha[i], q);
        if (bad[i])
            sb += sa;
        else
            sg += sa;
        if (2 * last_i[i] > iters) {
            X->late[job]++;
            sl += sa;
        } else
            ss += sa;
        X->lviol[job] += bad[i] != 0;
        X->lviol_ties[job] += bad[i] == 2;
        int blank = 1;
        for (int j = 0; j < d - 2; j++)
            blank &= in->X[((size_t)i * in->T + alpha[i]) * d + j] == 0.0;
        X->blank[job] += blank;
    }
    X->smax_bad[job] = X->lviol[job] ? sb / X->lviol[job] : NAN;
    X->smax_good[job] = X->lviol[job] < n ? sg / (n - X->lviol[job]) : NAN;
    X->s_late[job] = X->late[job] ? sl / X->late[job] : NAN;
    X->s_settled[job] = X->late[job] < n ? ss / (n - X->late[job]) : NAN;
    free(q);
    free(bad);
}

/* The oracle at the run's selected tokens: status, agreement with the
 * globally optimal tokens, token verdicts, the diagnosis, the certificate's
 * figures and the directional divergence at every snapshot.  0, or -1 when
 * out of memory. */
static int svm_oracle(expB *X, int job, const mdatt_instance *in, const double *W, const int *alpha,
                      const long *last_i, long iters, const bench_snaps *S, double p)
{
    const int n = in->n, dd = in->d * in->d, cap = X->cap;
    attsvm_result r;
    double t0 = bench_now();
    int ok = bench_svm(in, alpha, p, ATTSVM_TARGET_W, &r) == 0;
    X->svm_secs[job] = bench_now() - t0;
    X->svm_status[job] = r.status;
    snprintf(X->msg[job], sizeof X->msg[job], "%.199s", r.message);
    attsvm_data D = bench_svm_data(in);
    attsvm_tokens tok = {0};
    int *galpha = malloc(sizeof(int) * n);
    if (galpha)
        attsvm_global_alpha(&D, galpha, &tok);
    if (!galpha || tok.nties < 0) {     /* out of memory: the run fails */
        free(galpha);
        attsvm_tokens_free(&tok);
        attsvm_result_free(&r);
        return -1;
    }
    X->ties[job] = tok.nties;
    X->agree[job] = 0;
    for (int i = 0; i < n; i++)
        X->agree[job] += galpha[i] == alpha[i];
    free(galpha);
    if (r.status == ATTSVM_OPTIMAL || r.status == ATTSVM_INFEASIBLE)
        attsvm_classify(&D, alpha, &r, &tok);
    token_diagnosis(X, job, in, &D, W, alpha, last_i, iters, &r);
    X->local[job] = tok.locally_optimal;
    X->global[job] = tok.globally_optimal;
    attsvm_tokens_free(&tok);
    X->nsnap[job] = S->count;
    for (int k = 0; k < S->count; k++)
        X->snap_k[(size_t)job * cap + k] = S->k[k];
    if (ok) {
        X->obj[job] = r.objective;
        X->gap[job] = r.gap;
        X->viol[job] = r.max_violation;
        X->nsupport[job] = r.nsupport;
        X->rho[job] = mdatt_margin_ratio(in, alpha, W, p, r.objective);
        for (int k = 0; k < S->count; k++)
            X->div[(size_t)job * cap + k] =
                S->k[k] == 0 ? NAN : mdatt_bregman_dir(r.x, S->W + (size_t)k * dd, dd, p);
    } else {
        X->obj[job] = X->gap[job] = X->viol[job] = X->rho[job] = NAN;
        for (int k = 0; k < S->count; k++)
            X->div[(size_t)job * cap + k] = NAN;
    }
    attsvm_result_free(&r);
    return 0;
}

/* Part B's run (pair, p) from W_0 = 0: train until the tokens are stable or
 * the cap, then the oracle at the selected tokens. */
static int svm_job(int job, void *ctx)
{
    expB *X = ctx;
    const int cap = X->cap;
    const double p = X->p[job % X->np];
    mdatt_instance in, tin;
    memset(&tin, 0, sizeof tin);
    if (pair_instance(X, job, 0, &in))
        return 1;
    const int d = in.d, dd = d * d, n = in.n;
    double *W = calloc(dd, sizeof(double));
    int *alpha = malloc(sizeof(int) * n), *prev = malloc(sizeof(int) * n), rc = 1;
    long *last_i = calloc(n, sizeof(long));
    bench_snaps S;
    memset(&S, 0, sizeof S);
    if (pair_instance(X, job, 1, &tin) || !W || !alpha || !prev || !last_i ||
        bench_snaps_init(&S, d, cap, NULL, 0))
        goto out;
    for (int i = 0; i < n; i++)
        prev[i] = -1;
    stop_ctx sc = {.in = &in, .alpha = alpha, .prev = prev, .last_i = last_i, .S = &S,
                   .changes = X->changes + (size_t)job * cap};
    X->eta[job] = svm_eta(X, p);
    mdatt_train_info info;
    double t0 = bench_now();
    if (run_stopped(X, p, svm_eta(X, p), X->max_iters, W, &sc, &info))
        goto out;
    X->train_secs[job] = bench_now() - t0;
    X->iters[job] = info.iters;
    X->converged[job] = sc.stable;
    X->last_change[job] = sc.last;
    X->growth[job] = dual_growth(&S, info.iters, dd, p);
    X->loss0[job] = sc.loss0;
    X->loss1[job] = info.ev.loss;
    X->smax_mean[job] = info.ev.smax_mean;
    mdatt_selected_tokens(&in, W, alpha, &X->smin[job], NULL);
    X->train_acc[job] = probe_accuracy(&in, alpha);
    mdatt_selected_tokens(&tin, W, X->alpha_test + (size_t)job * X->ntest_img, NULL, NULL);
    if (svm_oracle(X, job, &in, W, alpha, last_i, info.iters, &S, p))
        goto out;
    memcpy(X->alpha_end + (size_t)job * n, alpha, sizeof(int) * n);
    rc = 0;
out:
    bench_snaps_free(&S);
    free(W);
    free(alpha);
    free(prev);
    free(last_i);
    mdatt_instance_free(&in);
    mdatt_instance_free(&tin);
    return rc;
}

/* An SVM run's slots: everything svm_job stores at its index. */
static void svm_slots(int job, void *ctx, bench_rec *r)
{
    expB *X = ctx;
    const size_t j = (size_t)job, cap = (size_t)X->cap, nt = (size_t)X->ntest_img;
    bench_rec_slot(r, X->alpha_test + j * nt, sizeof(int) * nt);
    bench_rec_slot(r, X->test_index + j * nt, sizeof(int) * nt);
    bench_rec_slot(r, X->snap_k + j * cap, sizeof(long) * cap);
    bench_rec_slot(r, X->div + j * cap, sizeof(double) * cap);
    bench_rec_slot(r, X->changes + j * cap, sizeof(int) * cap);
    bench_rec_slot(r, &X->iters[j], sizeof(long));
    bench_rec_slot(r, &X->last_change[j], sizeof(long));
    int *ints[] = {X->nsnap, X->converged, X->svm_status, X->local, X->global, X->agree, X->nsupport,
                   X->ties, X->lviol, X->lviol_ties, X->blank, X->late};
    for (size_t k = 0; k < sizeof ints / sizeof ints[0]; k++)
        bench_rec_slot(r, &ints[k][j], sizeof(int));
    double *dbls[] = {X->obj, X->gap, X->viol, X->svm_secs, X->train_secs, X->train_acc, X->rho, X->smin,
                      X->eta, X->loss0, X->loss1, X->smax_mean, X->smax_bad, X->smax_good,
                      X->s_late, X->s_settled, X->growth};
    for (size_t k = 0; k < sizeof dbls / sizeof dbls[0]; k++)
        bench_rec_slot(r, &dbls[k][j], sizeof(double));
    bench_rec_slot(r, X->msg[j], sizeof X->msg[j]);
    bench_rec_slot(r, X->alpha_end + j * X->n, sizeof(int) * X->n);
}

/* ============================================ B, cone starts: local convergence */

/* The selection of the cone start: the W_0 = 0 run's final tokens repaired
 * toward local optimality (bench_local_alpha); r receives its SVM. */
static int cone_alpha(const expB *X, int job, const mdatt_instance *in, double p, int *alpha,
                      attsvm_result *r)
{
    memcpy(alpha, X->alpha_end + (size_t)job * in->n, sizeof(int) * in->n);
    X->c_round[job] = bench_local_alpha(in, alpha, p, X->cone_rounds, r, &X->c_moved[job], &X->c_left[job]);
    X->c_left0[job] = X->lviol[job];
    return X->c_round[job] < 0 ? -1 : 0;
}

/* The oracle's verdict on alpha given the W-SVM r at alpha (design.md §6). */
static int oracle_local(const mdatt_instance *in, const int *alpha, const attsvm_result *r)
{
    attsvm_data D = bench_svm_data(in);
    attsvm_tokens tok = {0};
    if (r->status == ATTSVM_OPTIMAL)
        attsvm_classify(&D, alpha, r, &tok);
    const int local = tok.locally_optimal;
    attsvm_tokens_free(&tok);
    return local;
}

/* The cone run's start at a0 (SVM r): R (svm_cone_margin ||W^mm||_p, or
 * svm_cone_radius) and delta (bench_cone_start), and its step.  The cone is
 * thin (w ~ 1e-5 on real tokens), so the step is sized to it: the dual step
 * eta = zeta (p - 1) w R^{p-1} is a relative change zeta (p - 1) w of
 * theta = grad psi(W), i.e. (entrywise, d theta/theta = (p - 1) dW/W) about
 * zeta w of W per iteration.  A step of 1/K0 of R (svm.md's) moved W by ~100
 * half-widths at once and changed hundreds of selected tokens in the first
 * 500 iterations. */
static double cone_init(expB *X, int job, const mdatt_instance *in, const int *a0,
                        const attsvm_result *r, double p, double *W)
{
    const int dd = in->d * in->d;
    const double R = X->cone_margin > 0 ? X->cone_margin * mdatt_norm_p(r->x, (size_t)dd, p)
                                        : X->cone_radius;
    X->c_R[job] = R;
    X->c_width[job] = bench_cone_width(in, a0, r->x, p);
    X->c_delta[job] = bench_cone_start(in, a0, r->x, p, R, X->cone_perturb, (uint64_t)(X->seed + job), W);
    X->c_eta[job] = X->cone_step * (p - 1.0) * X->c_width[job] * pow(R, p - 1.0);
    return X->c_eta[job];
}

/* Whether p has cone runs (svm_cone_p). */
static int cone_wanted(const expB *X, double p)
{
    for (int k = 0; k < X->cone_np; k++)
        if (X->cone_p[k] == p)
            return 1;
    return 0;
}

/* After the cone run: its snapshots' D_psi to W^mm at a0, and D_psi to the
 * SVM at the final tokens (re-solved into r if they moved) and the oracle's
 * verdict on them. */
static void cone_finish(expB *X, int job, const mdatt_instance *in, const int *a0, int *alpha,
                        const double *W, const bench_snaps *S, attsvm_result *r, double p)
{
    const int cap = X->cap, dd = in->d * in->d, n = in->n;
    X->c_nsnap[job] = S->count;
    for (int k = 0; k < S->count; k++) {
        X->c_snap_k[(size_t)job * cap + k] = S->k[k];
        X->c_div[(size_t)job * cap + k] = mdatt_bregman_dir(r->x, S->W + (size_t)k * dd, dd, p);
    }
    mdatt_selected_tokens(in, W, alpha, NULL, NULL);
    X->c_final[job] = mdatt_bregman_dir(r->x, W, dd, p);
    if (memcmp(alpha, a0, sizeof(int) * n) != 0) {
        attsvm_result_free(r);
        X->c_final[job] = bench_svm(in, alpha, p, ATTSVM_TARGET_W, r) == 0
                          ? mdatt_bregman_dir(r->x, W, dd, p) : NAN;
    }
    X->c_local[job] = oracle_local(in, alpha, r);
}

/* The run from a perturbed start in the cone of the repaired selection a0,
 * svm_cone_iters iterations: tokens_stable when no selected token ever
 * differed from a0; D_psi to W^mm_a0 along the run. */
static int cone_job(int job, void *ctx)
{
    expB *X = ctx;
    const int cap = X->cap;
    const double p = X->p[job % X->np];
    mdatt_instance in;
    X->c_found[job] = -1;                 /* not run at this p */
    if (!cone_wanted(X, p))
        return 0;
    if (pair_instance(X, job, 0, &in))
        return 1;
    const int d = in.d, n = in.n;
    double *W = malloc(sizeof(double) * d * d);
    int *alpha = malloc(sizeof(int) * n), *a0 = malloc(sizeof(int) * n), *prev = malloc(sizeof(int) * n);
    long *last_i = calloc(n, sizeof(long));
    int *changes = calloc(cap, sizeof(int)), rc = 1;
    bench_snaps S;
    memset(&S, 0, sizeof S);
    attsvm_result r;
    memset(&r, 0, sizeof r);
    if (!W || !alpha || !a0 || !prev || !last_i || !changes || bench_snaps_init(&S, d, cap, NULL, 0))
        goto out;
    X->c_found[job] = cone_alpha(X, job, &in, p, a0, &r) == 0;
    if (!X->c_found[job]) {
        rc = 0;
        goto out;
    }
    X->c_gap[job] = r.gap;
    X->c_sel_local[job] = oracle_local(&in, a0, &r);
    const double eta = cone_init(X, job, &in, a0, &r, p, W);
    memcpy(alpha, a0, sizeof(int) * n);
    memcpy(prev, a0, sizeof(int) * n);
    stop_ctx sc = {.in = &in, .alpha = alpha, .prev = prev, .last_i = last_i, .S = &S,
                   .changes = changes, .Wmm = r.x, .full = 1};
    mdatt_train_info info;
    if (run_stopped(X, p, eta, X->cone_iters, W, &sc, &info))
        goto out;
    X->c_iters[job] = info.iters;
    X->c_below[job] = sc.below;
    X->c_dmax[job] = sc.dmax;
    X->c_stable[job] = sc.diff0 == 0 && sc.last == 0;
    cone_finish(X, job, &in, a0, alpha, W, &S, &r, p);
    rc = 0;
out:
    attsvm_result_free(&r);
    bench_snaps_free(&S);
    free(W);
    free(alpha);
    free(a0);
    free(prev);
    free(last_i);
    free(changes);
    mdatt_instance_free(&in);
    return rc;
}

/* A cone run's slots: everything cone_job stores at its index. */
static void cone_slots(int job, void *ctx, bench_rec *r)
{
    expB *X = ctx;
    const size_t j = (size_t)job, cap = (size_t)X->cap;
    int *ints[] = {X->c_found, X->c_round, X->c_moved, X->c_left, X->c_left0, X->c_stable, X->c_nsnap,
                   X->c_local, X->c_sel_local};
    for (size_t k = 0; k < sizeof ints / sizeof ints[0]; k++)
        bench_rec_slot(r, &ints[k][j], sizeof(int));
    bench_rec_slot(r, &X->c_iters[j], sizeof(long));
    bench_rec_slot(r, &X->c_below[j], sizeof(long));
    bench_rec_slot(r, &X->c_final[j], sizeof(double));
    bench_rec_slot(r, &X->c_gap[j], sizeof(double));
    bench_rec_slot(r, &X->c_R[j], sizeof(double));
    bench_rec_slot(r, &X->c_delta[j], sizeof(double));
    bench_rec_slot(r, &X->c_dmax[j], sizeof(double));
    bench_rec_slot(r, &X->c_width[j], sizeof(double));
    bench_rec_slot(r, &X->c_eta[j], sizeof(double));
    bench_rec_slot(r, X->c_snap_k + j * cap, sizeof(long) * cap);
    bench_rec_slot(r, X->c_div + j * cap, sizeof(double) * cap);
}

/* svm_cone_*: the cone starts of part B (cone_job); svm_cone_iters = 0: none. */
static int read_cone(bench_ctx *b, expB *X)
{
    long rounds;
    if (bench_cfg_int(b, "svm_cone_iters", 0, 0, 1000000000, &X->cone_iters) ||
        bench_cfg_double(b, "svm_cone_radius", 10000.0, &X->cone_radius) ||
        bench_cfg_double(b, "svm_cone_margin", 0.0, &X->cone_margin) ||
        bench_cfg_double(b, "svm_cone_perturb", 0.5, &X->cone_perturb) ||
        bench_cfg_double(b, "svm_cone_target", 1e-3, &X->cone_target) ||
        bench_cfg_double(b, "svm_cone_step", 0.1, &X->cone_step) ||
        bench_cfg_int(b, "svm_cone_rounds", 20, 0, 1000, &rounds))
        return -1;
    if (json_object_get(b->cfg, "svm_cone_p")) {
        if (bench_cfg_doubles(b, "svm_cone_p", X->cone_p, MAXOPT, &X->cone_np))
            return -1;
    } else {
        memcpy(X->cone_p, X->p, sizeof X->cone_p);
        X->cone_np = X->np;
    }
    if (!(X->cone_step > 0)) {
        snprintf(b->err, sizeof b->err, "%s: svm_cone_step: must be > 0", b->path);
        return -1;
    }
    X->cone_rounds = (int)rounds;
    if (!(X->cone_radius > 0) || !(X->cone_margin >= 0) || !(X->cone_perturb >= 0 && X->cone_perturb < 1) ||
        !(X->cone_target > 0)) {
        snprintf(b->err, sizeof b->err, "%s: svm_cone_radius, svm_cone_target: must be > 0; "
                 "svm_cone_margin: >= 0 (0: R = svm_cone_radius); svm_cone_perturb: in [0, 1) (a "
                 "fraction of the cone's half-width)", b->path);
        return -1;
    }
    return 0;
}

/* The stopping rule of part B in words. */
static void stop_rule(const expB *X, char *out, size_t len)
{
    if (X->stable_frac > 0)
        snprintf(out, len, "stopped at the first check k (checks every %ld iterations) at which no "
                 "selected token had changed over the last max(%ld, %g k) iterations%s, or at the "
                 "cap of %ld iterations", X->check_every, X->stable * X->check_every, X->stable_frac,
                 X->stable_frac == 0.5 ? " (i.e. unchanged since k/2)" : "", X->max_iters);
    else
        snprintf(out, len, "stopped when the selected tokens were unchanged over the last %d checks "
                 "%ld iterations apart, or at the cap of %ld iterations", X->stable, X->check_every,
                 X->max_iters);
}

/* svm.{md,csv,tex}: one row per (pair, p). */
static int svm_table(bench_ctx *b, const expB *X)
{
    const int cap = X->cap, nj = X->npair * X->np;
    const char *h[] = {"pair", "p", "n", "eta", "iters", "tokens_stable", "last_change",
                       "changed_2nd_half", "s_changed", "s_settled", "dual_growth", "loss_start",
                       "loss_end", "smax_mean", "train_acc", "agree_global", "svm_status", "norm_Wmm",
                       "gap", "violation", "support", "locally_opt", "not_local", "not_local_ties",
                       "s_sel_not_local", "s_sel_others", "blank_selected", "globally_opt",
                       "bregman_dir_final", "margin_ratio"};
    bench_table t;
    bench_table_init(&t, 30, h);
    for (int j = 0; j < nj; j++) {
        const int pr = j / X->np, pi = j % X->np;
        double last = NAN;
        for (int k = X->nsnap[j] - 1; k >= 0 && !isfinite(last); k--)
            last = X->div[(size_t)j * cap + k];
        bench_table_row(&t, "%d vs %d|%g|%d|%.3g|%ld|%s|%ld|%d|%.3f|%.3f|%.2f|%.4f|%.4f|%.3f|%.3f|%.3f|%s|"
                        "%.6g|%.2g|%.2g|%d|%s|%d|%d|%.3f|%.3f|%d|%s|%.4g|%.4f",
                        X->pair[pr][0], X->pair[pr][1], X->p[pi], X->n, X->eta[j], X->iters[j],
                        X->converged[j] ? "yes" : "no (cap)", X->last_change[j], X->late[j],
                        X->s_late[j], X->s_settled[j], X->growth[j], X->loss0[j], X->loss1[j],
                        X->smax_mean[j], X->train_acc[j],
                        (double)X->agree[j] / X->n, attsvm_strerror((attsvm_status)X->svm_status[j]),
                        X->obj[j], X->gap[j], X->viol[j], X->nsupport[j], X->local[j] ? "yes" : "no",
                        X->lviol[j], X->lviol_ties[j], X->smax_bad[j], X->smax_good[j], X->blank[j],
                        X->global[j] ? "yes" : "no", last, X->rho[j]);
    }
    char cap_s[3200], etas[256], rule[400];
    stop_rule(X, rule, sizeof rule);
    if (X->lr_norm > 0)
        snprintf(etas, sizeof etas, "eta = R^{p-1} / K0 with R = %g, K0 = %g, so that ||W||_p can "
                 "reach R after K0 steps at every p", X->lr_norm, X->lr_ramp);
    else
        snprintf(etas, sizeof etas, "eta = %g", X->lr);
    snprintf(cap_s, sizeof cap_s, "The l_p-AttSVM on real tokens: normalized l_p-AttGD (%s; W_0 = 0) "
             "on n = %d training images of each pair (tokens: 4x4 patches / 4 and (row, col) in "
             "[-1, 1], d = 18; z_i = the mean token of image i; v = the linear probe, fixed), %s "
             "(tokens_stable = no (cap)); then the oracle at those tokens. last_change: the last "
             "check at which a selected token changed; changed_2nd_half: samples whose selected "
             "token changed after iters/2; s_changed / s_settled: their mean attention on the "
             "selected token at the end / that of the other samples; dual_growth: exponent a of "
             "||theta_k||_q = ||W_k||_p^{p-1} ~ k^a over the last 3/4 of the run (a = 1 when the "
             "normalized steps all point the same way, ||theta_k||_q = eta k; smaller when "
             "successive steps cancel). loss_start/loss_end: logistic loss at W_0 (the probe's loss) and at the end; "
             "smax_mean: mean top attention weight at the end (1 = saturated); "
             "train_acc: sign(v^T x_alpha) = Y; agree_global: fraction of samples whose selected "
             "token is the argmax of gamma_t = Y v^T x_t; not_local: samples with a support token "
             "(active SVM constraint) whose gamma is >= that of the selected token (these make the "
             "tokens not locally optimal), not_local_ties: of those, samples where it is only a tie "
             "(equal gamma, e.g. two blank patches); s_sel_not_local / s_sel_others: mean attention on the selected token of those samples / of the others; blank_selected: samples whose selected patch "
             "has no ink; bregman_dir_final: directional Bregman divergence to W^mm at the last "
             "check; margin_ratio: normalized margin ratio rho (1 at the max-margin direction).",
             etas, X->n, rule);
    const int rc = bench_table_write(b, &t, "svm", cap_s);
    bench_table_free(&t);
    return rc;
}

/* svm_div_<pair>_p<p>.tsv and svm_divergence.svg: the divergence to W^mm
 * and the token changes along each run. */
static int svm_divergence_figure(bench_ctx *b, const expB *X)
{
    const int cap = X->cap, nj = X->npair * X->np;
    /* Divergence curves and token changes per pair: one file per (pair, p). */
    char body[32768], name[64], pa[16];
    for (int j = 0; j < nj; j++) {
        const int pr = j / X->np, pi = j % X->np;
        mdatt_outfile o;
        snprintf(name, sizeof name, "svm_div_%d_%d_p%s.tsv", X->pair[pr][0], X->pair[pr][1],
                 bench_pname(X->p[pi], pa));
        FILE *f = bench_open(b, name, &o);
        if (!f)
            return -1;
        fprintf(f, "# k\tbregman_dir\ttokens_changed\tchanges_per_1000\n# tokens_changed: changes "
                "of a sample's selected token, summed over the checks since the previous row; "
                "bregman_dir: to W^mm at the final tokens (NaN if the oracle failed)\n");
        for (int k = 1; k < X->nsnap[j]; k++) {
            const size_t at = (size_t)j * cap + k;
            const double d = X->div[at];
            fprintf(f, isfinite(d) ? "%ld\t%.8g" : "%ld\tNaN", X->snap_k[at], d);
            fprintf(f, "\t%d\t%.4g\n", X->changes[at],
                    1000.0 * X->changes[at] / (double)(X->snap_k[at] - X->snap_k[at - 1]));
        }
        if (bench_close(b, &o))
            return -1;
    }
    int len = snprintf(body, sizeof body, "set multiplot layout 2,%d title 'Normalized l_p-AttGD on "
                       "real tokens (svm.md)'\nset grid\nset logscale xy\nset format y '10^{%%L}'\n"
                       "set xlabel 'iteration k'\n", X->npair);
    for (int row = 0; row < 2; row++)
        for (int pr = 0; pr < X->npair; pr++) {
            len += snprintf(body + len, sizeof body - len, "set title '%s vs %s: %s'\n"
                            "set key %s\nplot ", mdatt_fmnist_class_name(X->pair[pr][0]),
                            mdatt_fmnist_class_name(X->pair[pr][1]), row ? "token changes per 1000 "
                            "iterations (0: not drawn)" : "Bregman divergence to the l_p-AttSVM at "
                            "the final tokens", row ? "top right" : "bottom left");
            for (int pi = 0; pi < X->np; pi++) {
                snprintf(name, sizeof name, "svm_div_%d_%d_p%s.tsv", X->pair[pr][0], X->pair[pr][1],
                         bench_pname(X->p[pi], pa));
                len += snprintf(body + len, sizeof body - len, "'%s' using 1:%s with linespoints lw 2 "
                                "pt 7 ps 0.4 lc %d title 'p = %s'%s", name,
                                row ? "($4 > 0 ? $4 : NaN)" : "2", pi + 1, pa,
                                pi + 1 < X->np ? ", " : "\n");
            }
        }
    len += snprintf(body + len, sizeof body - len, "unset multiplot");
    return bench_figure(b, "svm_divergence", "1100,800", body);
}

/* svm_images.tsv, svm_boxes.tsv and svm_selected_patches.svg: the patch
 * selected on test images, one row per pair, one box colour per p. */
static int svm_patches_figure(bench_ctx *b, const expB *X)
{
    char body[32768], pa[16];
    int len;
    {
        mdatt_outfile o;
        FILE *f = bench_open(b, "svm_images.tsv", &o);
        if (!f)
            return -1;
        fprintf(f, "# blocks (index = pair*%d + image): 28x28 test images\n", X->ntest_img);
        for (int pr = 0; pr < X->npair; pr++)
            for (int k = 0; k < X->ntest_img; k++) {
                const int img = X->test_index[(size_t)pr * X->np * X->ntest_img + k];
                const unsigned char *px = X->te->pixels + (size_t)img * 784;
                for (int r = 0; r < 28; r++)
                    for (int c = 0; c < 28; c++)
                        fprintf(f, c < 27 ? "%d " : "%d\n", px[r * 28 + c]);
                fputs("\n\n", f);
            }
        if (bench_close(b, &o))
            return -1;
        f = bench_open(b, "svm_boxes.tsv", &o);
        if (!f)
            return -1;
        fprintf(f, "# blocks (index = (pair*%d + image)*%d + p index): outline of the selected patch\n",
                X->ntest_img, X->np);
        for (int pr = 0; pr < X->npair; pr++)
            for (int k = 0; k < X->ntest_img; k++)
                for (int pi = 0; pi < X->np; pi++) {
                    const int j = pr * X->np + pi, a = X->alpha_test[(size_t)j * X->ntest_img + k];
                    const double in = 0.35 * pi / X->np;  /* nest the boxes of different p */
                    const double x0 = 4 * (a % 7) - 0.5 + in, y0 = 4 * (a / 7) - 0.5 + in,
                                 x1 = x0 + 4 - 2 * in, y1 = y0 + 4 - 2 * in;
                    fprintf(f, "%g %g\n%g %g\n%g %g\n%g %g\n%g %g\n\n\n", x0, y0, x1, y0, x1, y1, x0,
                            y1, x0, y0);
                }
        if (bench_close(b, &o))
            return -1;
        len = snprintf(body, sizeof body, "set multiplot layout %d,%d title 'Patch selected by the "
                       "trained attention on test images (box colour: ", X->npair, X->ntest_img);
        /* gnuplot's default line colours 1..8 */
        static const char *colour[] = {"purple", "green", "light blue", "orange", "yellow",
                                       "blue", "red", "black"};
        for (int pi = 0; pi < X->np; pi++)
            len += snprintf(body + len, sizeof body - len, "%sp = %s %s", pi ? ", " : "",
                            bench_pname(X->p[pi], pa), colour[pi % 8]);
        len += snprintf(body + len, sizeof body - len, ")'\n"
                        "unset key\nunset xtics\nunset ytics\nunset colorbox\nset size ratio 1\n"
                        "set xrange [-0.5:27.5]\nset yrange [27.5:-0.5]\nset palette grey\n");
        for (int pr = 0; pr < X->npair; pr++)
            for (int k = 0; k < X->ntest_img; k++) {
                const int idx = pr * X->ntest_img + k;
                len += snprintf(body + len, sizeof body - len, "set title '%s' font ',8'\n"
                                "plot 'svm_images.tsv' index %d matrix with image", k == 0 ?
                                mdatt_fmnist_class_name(X->pair[pr][0]) : "", idx);
                for (int pi = 0; pi < X->np; pi++)
                    len += snprintf(body + len, sizeof body - len, ", 'svm_boxes.tsv' index %d with "
                                    "lines lw 2 lc %d", idx * X->np + pi, pi + 1);
                len += snprintf(body + len, sizeof body - len, "\n");
            }
        len += snprintf(body + len, sizeof body - len, "unset multiplot");
        char size[32];
        snprintf(size, sizeof size, "%d,%d", 130 * X->ntest_img + 40, 150 * X->npair + 60);
        if (bench_figure(b, "svm_selected_patches", size, body))
            return -1;
    }
    return 0;
}

static int write_part_b(bench_ctx *b, expB *X)
{
    if (svm_table(b, X) || svm_divergence_figure(b, X) || svm_patches_figure(b, X))
        return -1;
    return 0;
}

/* The zero run j's row of svm_local: its first, largest and last D_psi (k > 0). */
static void local_zero_row(bench_table *t, const expB *X, int j)
{
    const int pr = j / X->np, pi = j % X->np, cap = X->cap;
    double last = NAN, first = NAN, dmax = NAN;
    for (int k = 0; k < X->nsnap[j]; k++) {
        const double dv = X->div[(size_t)j * cap + k];
        if (!isfinite(dv))
            continue;
        first = isfinite(first) ? first : dv;
        dmax = isfinite(dmax) ? fmax(dmax, dv) : dv;
        last = dv;
    }
    bench_table_row(t, "%d vs %d|%g|zero|%ld|%s|%.4g|%.4g|%.4g|-|-|%d|%d|-|%s|-|-|-|%.3g|%.2g", X->pair[pr][0],
                    X->pair[pr][1], X->p[pi], X->iters[j], X->converged[j] ? "yes" : "no (cap)", last, first,
                    dmax, X->lviol[j], X->lviol[j], X->local[j] ? "yes" : "no", X->eta[j], X->gap[j]);
}

/* The outcome in words, for the caption of svm_local: how many cone
 * selections the oracle certified, how many runs kept their tokens, the
 * largest D_psi along them and the W_0 = 0 runs' final range. */
static void local_outcome(const expB *X, char *out, size_t len)
{
    int run = 0, loc = 0, stable = 0, rose = 0, zcap = 0, nz = 0;
    double dmax = 0.0, zlo = INFINITY, zhi = -INFINITY;
    for (int j = 0; j < X->npair * X->np; j++) {
        for (int k = X->nsnap[j] - 1; k >= 0; k--)
            if (isfinite(X->div[(size_t)j * X->cap + k])) {
                zlo = fmin(zlo, X->div[(size_t)j * X->cap + k]);
                zhi = fmax(zhi, X->div[(size_t)j * X->cap + k]);
                break;
            }
        nz++;
        zcap += !X->converged[j];
        if (X->c_found[j] <= 0)
            continue;
        run++;
        loc += X->c_sel_local[j];
        if (X->c_sel_local[j]) {
            stable += X->c_stable[j];
            dmax = fmax(dmax, X->c_dmax[j]);
            rose += X->c_dmax[j] > X->c_div[(size_t)j * X->cap];
        }
    }
    snprintf(out, len, " In this run: the walk reached a selection that the oracle certifies as locally "
             "optimal for %d of the %d (pair, p) with cone runs; from those, the selected tokens stayed "
             "equal to a at every check in %d runs, and D_psi stayed at or below %.2g (starting near 0, "
             "inside the cone; it rose above its start in %d of them rather than falling, see the figure); "
             "the W_0 = 0 runs end at D_psi = %.2g to %.2g, %d of %d at the cap with their tokens still "
             "changing.", loc, run, stable, dmax, rose, zlo, zhi, zcap, nz);
}

/* svm_local.{md,csv,tex}: the W_0 = 0 runs beside the cone starts. */
static int local_table(bench_ctx *b, const expB *X)
{
    const int nj = X->npair * X->np, cap = X->cap;
    const char *h[] = {"pair", "p", "start", "iters", "tokens_stable", "bregman_dir_final",
                       "bregman_dir_start", "bregman_dir_max", "k_below_target", "rounds", "not_local_start",
                       "not_local", "selection_locally_opt", "locally_opt", "R", "width", "delta", "step",
                       "svm_gap"};
    bench_table t;
    bench_table_init(&t, 19, h);
    for (int j = 0; j < nj; j++) {
        const int pr = j / X->np, pi = j % X->np;
        local_zero_row(&t, X, j);
        if (X->c_found[j] <= 0) {
            bench_table_row(&t, "%d vs %d|%g|cone|0|-|-|-|-|-|-|%d|-|%s|-|-|-|-|-|-", X->pair[pr][0],
                            X->pair[pr][1], X->p[pi], X->lviol[j], X->c_found[j] < 0 ? "not run at this p "
                            "(svm_cone_p)" : "no SVM at the zero run's tokens");
            continue;
        }
        char below[32];
        snprintf(below, sizeof below, X->c_below[j] >= 0 ? "%ld" : "not reached", X->c_below[j]);
        bench_table_row(&t, "%d vs %d|%g|cone|%ld|%s|%.4g|%.4g|%.4g|%s|%d|%d|%d|%s|%s|%.4g|%.3g|%.3g|%.3g|%.2g",
                        X->pair[pr][0], X->pair[pr][1], X->p[pi], X->c_iters[j], X->c_stable[j] ? "yes" : "no",
                        X->c_final[j], X->c_div[(size_t)j * cap], X->c_dmax[j], below, X->c_round[j],
                        X->c_left0[j], X->c_left[j], X->c_sel_local[j] ? "yes" : "no",
                        X->c_local[j] ? "yes" : "no", X->c_R[j], X->c_width[j], X->c_delta[j], X->c_eta[j],
                        X->c_gap[j]);
    }
    char cap_s[5000], rule[400], radius[160];
    stop_rule(X, rule, sizeof rule);
    if (X->cone_margin > 0)
        snprintf(radius, sizeof radius, "R = %g ||W^mm_a||_p, so that every margin <A_it, W_0> is at "
                 "least %g (1 - theta)", X->cone_margin, X->cone_margin);
    else
        snprintf(radius, sizeof radius, "R = %g", X->cone_radius);
    snprintf(cap_s, sizeof cap_s,
             "Local convergence on real tokens (svm.md's instances and checks). The convergence result is "
             "local: it concerns runs started inside the cone of a locally optimal token selection "
             "(design.md §6). start = zero: the W_0 = 0 runs of svm.md (%s). start = cone: the selection a "
             "is the zero run's final tokens repaired toward local optimality: each round moves every "
             "sample that has a support token scoring gamma_t = Y v^T x_t at least as high as the selected "
             "one to the best such token if it scores strictly higher, else (only ties, e.g. two blank "
             "patches) to its own highest-scoring token, and re-solves the SVM, at most %d rounds, "
             "keeping the selection with the fewest such samples (rounds: the round that found it; not_local_start / not_local: those samples at the "
             "zero run's tokens / at a). selection_locally_opt: the oracle's verdict on a (the certified "
             "SVM exists and every support token scores strictly below the selected one), never assumed. "
             "W_0 = R (W^mm_a/||W^mm_a||_p + delta G/||G||_p), %s, G with N(0, 1) entries (seed %ld + job "
             "index), delta = theta width with theta = %g and width = 1/(||W^mm_a||_p max_it ||A_it||_q) the "
             "cone's half-width (so every margin at W_0 keeps at least 1 - theta of its value and W_0 selects "
             "a); step eta = zeta (p - 1) width R^{p-1} with zeta = %g, about zeta half-widths of relative "
             "change of W per iteration (the cone is that thin; svm.md's step, 1/%g of the norm, would cross "
             "it a hundred times over at once); %ld iterations, run only for p in svm_cone_p. tokens_stable "
             "(cone): the selected tokens equal a at every check; bregman_dir_start / _max / _final: D_psi "
             "to W^mm_a at k = 0 (for zero: at the first check), its largest value at the checks, and at "
             "the end to the SVM at the final tokens; k_below_target: first check with D_psi <= %g; "
             "locally_opt: the oracle's verdict on the final tokens; step: the run's eta (zero: svm.md's); "
             "svm_gap: certified relative gap of the "
             "SVM at a (zero: at the run's tokens).",
             rule, X->cone_rounds, radius, X->seed, X->cone_perturb, X->cone_step, X->lr_ramp, X->cone_iters,
             X->cone_target);
    local_outcome(X, cap_s + strlen(cap_s), sizeof cap_s - strlen(cap_s));
    int rc = bench_table_write(b, &t, "svm_local", cap_s);
    bench_table_free(&t);
    return rc;
}

/* svm_local_<pair>_p<p>.tsv and svm_local.svg: D_psi against k for both starts. */
static int write_local(bench_ctx *b, const expB *X)
{
    if (local_table(b, X))
        return -1;
    const int cap = X->cap;
    char name[64], pa[16], body[16384];
    for (int j = 0; j < X->npair * X->np; j++) {
        mdatt_outfile o;
        snprintf(name, sizeof name, "svm_local_%d_%d_p%s.tsv", X->pair[j / X->np][0], X->pair[j / X->np][1],
                 bench_pname(X->p[j % X->np], pa));
        FILE *f = bench_open(b, name, &o);
        if (!f)
            return -1;
        fprintf(f, "# cone start: k\tbregman_dir (to W^mm at the cone's selection)\n");
        for (int k = 0; X->c_found[j] && k < X->c_nsnap[j]; k++)
            fprintf(f, "%ld\t%.8g\n", X->c_snap_k[(size_t)j * cap + k], X->c_div[(size_t)j * cap + k]);
        if (bench_close(b, &o))
            return -1;
    }
    /* y from below the target and the smallest positive value drawn (k > 0) */
    double ylo = X->cone_target / 3.0;
    for (int j = 0; j < X->npair * X->np; j++)
        for (int k = 0; k < X->c_nsnap[j]; k++)
            if (X->c_snap_k[(size_t)j * cap + k] > 0 && X->c_div[(size_t)j * cap + k] > 0)
                ylo = fmin(ylo, X->c_div[(size_t)j * cap + k] / 2.0);
    int len = snprintf(body, sizeof body, "set multiplot layout 1,%d title 'Directional Bregman "
                       "divergence on real tokens: W_0 = 0 (dashed) and W_0 in the cone of the W_0 = 0 "
                       "run''s selection repaired toward local optimality (solid)'\nset grid\n"
                       "set logscale xy\nset format y '10^{%%L}'\nset yrange [%.3g:*]\n"
                       "set xlabel 'iteration k'\nset ylabel 'D_ψ'\nset key bottom left\n",
                       X->npair, ylo);
    for (int pr = 0; pr < X->npair; pr++) {
        len += snprintf(body + len, sizeof body - len, "set title '%s vs %s'\nplot %g with lines lc "
                        "'black' dt 3 title 'target %g', ", mdatt_fmnist_class_name(X->pair[pr][0]),
                        mdatt_fmnist_class_name(X->pair[pr][1]), X->cone_target, X->cone_target);
        for (int pi = 0; pi < X->np; pi++) {
            bench_pname(X->p[pi], pa);
            len += snprintf(body + len, sizeof body - len,
                            "'svm_local_%d_%d_p%s.tsv' using ($1 > 0 ? $1 : NaN):2 with lines lw 2 lc %d "
                            "title 'p = %s, cone', 'svm_div_%d_%d_p%s.tsv' using 1:2 with lines lw 2 dt 2 "
                            "lc %d title 'p = %s, zero'%s", X->pair[pr][0], X->pair[pr][1], pa, pi + 1, pa,
                            X->pair[pr][0], X->pair[pr][1], pa, pi + 1, pa, pi + 1 < X->np ? ", " : "\n");
        }
    }
    snprintf(body + len, sizeof body - len, "unset multiplot");
    if (bench_figure(b, "svm_local", "1200,500", body))
        return -1;
    bench_index_line(b, "- [svm_local.md](%s/svm_local.md) ([csv](%s/svm_local.csv)), [svm_local.svg]"
                     "(%s/svm_local.svg): the local question, from a start in the cone of the W_0 = 0 "
                     "run's selection repaired toward local optimality, beside the W_0 = 0 runs: "
                     "whether D_psi falls below %g with the selected tokens stable.", b->reldir, b->reldir,
                     b->reldir, X->cone_target);
    return 0;
}

/* ============================================================ the phases */

/* svm_*: part B (svm_pairs is read by the driver). */
int rd_svm_read(bench_ctx *b, expB *X)
{
    long svm_n, svm_stable, svm_test;
    if (bench_cfg_int(b, "svm_n", 500, 2, 12000, &svm_n) ||
        bench_cfg_doubles(b, "svm_p", X->p, MAXOPT, &X->np) ||
        bench_cfg_double(b, "svm_lr", 0.1, &X->lr) ||
        bench_cfg_double(b, "svm_lr_norm", 0.0, &X->lr_norm) ||
        bench_cfg_double(b, "svm_lr_ramp", 1000.0, &X->lr_ramp) ||
        bench_cfg_int(b, "svm_check_every", 250, 1, 100000000, &X->check_every) ||
        bench_cfg_int(b, "svm_max_iters", 5000, 1, 1000000000, &X->max_iters) ||
        bench_cfg_int(b, "svm_stable_checks", 3, 1, 1000, &svm_stable) ||
        bench_cfg_double(b, "svm_stable_fraction", 0.0, &X->stable_frac) ||
        bench_cfg_int(b, "svm_test_images", 8, 1, 32, &svm_test) ||
        read_cone(b, X))
        return -1;
    for (int k = 0; k < X->np; k++)
        if (!(X->p[k] > 1.0)) {
            snprintf(b->err, sizeof b->err, "%s: svm_p[%d]: must be > 1", b->path, k);
            return -1;
        }
    if (!(X->stable_frac >= 0.0 && X->stable_frac < 1.0)) {
        snprintf(b->err, sizeof b->err, "%s: svm_stable_fraction: must be in [0, 1) (0: only the "
                 "last svm_stable_checks checks)", b->path);
        return -1;
    }
    if (!(X->lr > 0) || !(X->lr_norm >= 0) || !(X->lr_ramp > 0)) {
        snprintf(b->err, sizeof b->err, "%s: svm_lr, svm_lr_ramp: must be > 0; svm_lr_norm: >= 0 "
                 "(0: the fixed step svm_lr)", b->path);
        return -1;
    }
    X->n = (int)svm_n;
    X->ntest_img = (int)svm_test;
    X->stable = (int)svm_stable;
    return 0;
}

static void *xcalloc(size_t n, size_t sz, int *bad)
{
    void *p = calloc(n ? n : 1, sz);
    if (!p)
        *bad = 1;
    return p;
}

/* The per-job arrays of the W_0 = 0 runs and of the cone runs, by type. */
#define B_INTS(X) {&(X)->converged, &(X)->svm_status, &(X)->local, &(X)->global, &(X)->agree, \
                   &(X)->nsupport, &(X)->ties, &(X)->lviol, &(X)->lviol_ties, &(X)->blank, &(X)->late, \
                   &(X)->c_found, &(X)->c_round, &(X)->c_moved, &(X)->c_stable, &(X)->c_nsnap, \
                   &(X)->c_local, &(X)->c_left, &(X)->c_left0, &(X)->nsnap, &(X)->c_sel_local}
#define B_DBLS(X) {&(X)->obj, &(X)->gap, &(X)->viol, &(X)->svm_secs, &(X)->train_secs, \
                   &(X)->train_acc, &(X)->rho, &(X)->smin, &(X)->eta, &(X)->loss0, &(X)->loss1, \
                   &(X)->smax_mean, &(X)->smax_bad, &(X)->smax_good, &(X)->s_late, &(X)->s_settled, \
                   &(X)->growth, &(X)->c_final, &(X)->c_gap, &(X)->c_R, &(X)->c_delta, &(X)->c_dmax, \
                   &(X)->c_width, &(X)->c_eta}

int rd_svm_alloc(expB *X)
{
    const int nj = X->npair * X->np;
    int bad = 0;
    /* Snapshots: every check up to 8 checks, then 20 per decade, and the last. */
    const double most = (double)(X->max_iters > X->cone_iters ? X->max_iters : X->cone_iters);
    X->cap = (int)fmin(most / X->check_every + 3.0,
                       20.0 + ceil(log(most / X->check_every + 1.0) / log(1.122)));
    X->alpha_test = xcalloc((size_t)nj * X->ntest_img, sizeof(int), &bad);
    X->test_index = xcalloc((size_t)nj * X->ntest_img, sizeof(int), &bad);
    X->snap_k = xcalloc((size_t)nj * X->cap, sizeof(long), &bad);
    X->div = xcalloc((size_t)nj * X->cap, sizeof(double), &bad);
    X->changes = xcalloc((size_t)nj * X->cap, sizeof(int), &bad);
    X->iters = xcalloc(nj, sizeof(long), &bad);
    X->last_change = xcalloc(nj, sizeof(long), &bad);
    X->msg = xcalloc(nj, sizeof *X->msg, &bad);
    X->alpha_end = xcalloc((size_t)nj * X->n, sizeof(int), &bad);
    X->c_snap_k = xcalloc((size_t)nj * X->cap, sizeof(long), &bad);
    X->c_div = xcalloc((size_t)nj * X->cap, sizeof(double), &bad);
    X->c_iters = xcalloc(nj, sizeof(long), &bad);
    X->c_below = xcalloc(nj, sizeof(long), &bad);
    int **ints[] = B_INTS(X);
    for (size_t k = 0; k < sizeof ints / sizeof ints[0]; k++)
        *ints[k] = xcalloc(nj, sizeof(int), &bad);
    double **dbls[] = B_DBLS(X);
    for (size_t k = 0; k < sizeof dbls / sizeof dbls[0]; k++)
        *dbls[k] = xcalloc(nj, sizeof(double), &bad);
    return bad ? -1 : 0;
}

void rd_svm_free(expB *X)
{
    free(X->alpha_test); free(X->test_index); free(X->snap_k); free(X->div);
    free(X->changes); free(X->iters); free(X->last_change); free(X->msg);
    free(X->alpha_end); free(X->c_snap_k); free(X->c_div); free(X->c_iters); free(X->c_below);
    int **ints[] = B_INTS(X);
    for (size_t k = 0; k < sizeof ints / sizeof ints[0]; k++)
        free(*ints[k]);
    double **dbls[] = B_DBLS(X);
    for (size_t k = 0; k < sizeof dbls / sizeof dbls[0]; k++)
        free(*dbls[k]);
}

int rd_svm_run(bench_ctx *b, expB *X)
{
    const int nj = X->npair * X->np;
    const bench_jobs svm_jobs = {svm_job, svm_slots, NULL}, cone_jobs = {cone_job, cone_slots, NULL};
    if (nj > 0 && bench_parallel(b, "realdata svm", nj, &svm_jobs, X)) {
        snprintf(b->err, sizeof b->err, "an SVM run failed (n = %d)", X->n);
        return -1;
    }
    if (nj > 0 && X->cone_iters > 0 && bench_parallel(b, "realdata svm cone", nj, &cone_jobs, X)) {
        snprintf(b->err, sizeof b->err, "a cone-start run failed (n = %d)", X->n);
        return -1;
    }
    return 0;
}

int rd_svm_write(bench_ctx *b, expB *X)
{
    const int nj = X->npair * X->np;
    if (nj > 0 && write_part_b(b, X))
        return -1;
    if (nj > 0 && X->cone_iters > 0 && write_local(b, X))
        return -1;
    return 0;
}

/* Part B's section of summary.md. */
/* Part B's summary line of run j. */
static void svm_summary_run(FILE *f, const expB *X, int j)
{
    const int pr = j / X->np, pi = j % X->np;
    double last = NAN;
    for (int k = X->nsnap[j] - 1; k >= 0 && !isfinite(last); k--)
        last = X->div[(size_t)j * X->cap + k];
    fprintf(f, "- %s vs %s, p = %g: %ld iterations (%s; last change at k = %ld, %d "
            "samples changed their token after k = %ld), ||theta_k||_q ~ k^%.2f, loss "
            "%.4f -> %.4f, mean top attention %.3f; oracle %s",
            mdatt_fmnist_class_name(X->pair[pr][0]), mdatt_fmnist_class_name(X->pair[pr][1]),
            X->p[pi], X->iters[j], X->converged[j] ? "selected tokens stable"
            : "cap reached, tokens still changing", X->last_change[j], X->late[j],
            X->iters[j] / 2, X->growth[j], X->loss0[j], X->loss1[j], X->smax_mean[j],
            attsvm_strerror((attsvm_status)X->svm_status[j]));
    if (X->svm_status[j] == ATTSVM_OPTIMAL) {
        fprintf(f, ", ||W^mm||_p = %.4g, certified gap %.2g; directional Bregman divergence "
                "at the last check %.3g; tokens %s optimal (%d samples with a support "
                "token scoring at least as high as the selected one, %d of them ties; "
                "mean attention on their selected token %.3f vs %.3f for the other "
                "samples), %s optimal; %.1f %% of the samples select the argmax of "
                "Y v^T x_t, %d select a blank patch", X->obj[j], X->gap[j], last,
                X->local[j] ? "locally" : "not locally", X->lviol[j], X->lviol_ties[j],
                X->smax_bad[j], X->smax_good[j],
                X->global[j] ? "globally" : "not globally", 100.0 * X->agree[j] / X->n,
                X->blank[j]);
    } else if (X->msg[j][0])
        fprintf(f, " (%s)", X->msg[j]);
    fprintf(f, ".\n");
}

void rd_svm_summary(FILE *f, const expB *X)
{
    const int nj = X->npair * X->np;
    if (nj > 0) {
        char etas[160];
        if (X->lr_norm > 0)
            snprintf(etas, sizeof etas, "eta = R^{p-1}/K0, R = %g, K0 = %g", X->lr_norm, X->lr_ramp);
        else
            snprintf(etas, sizeof etas, "eta = %g", X->lr);
        char rule[400];
        stop_rule(X, rule, sizeof rule);
        fprintf(f, "## B. The l_p-AttSVM on real tokens\n\nn = %d images per pair, normalized "
                "l_p-AttGD (%s), %s (svm.md):\n\n", X->n, etas, rule);
        int ncap = 0, nopt = 0, nloc = 0;
        for (int j = 0; j < nj; j++) {
            ncap += !X->converged[j];
            nopt += X->svm_status[j] == ATTSVM_OPTIMAL;
            nloc += X->svm_status[j] == ATTSVM_OPTIMAL && X->local[j];
            svm_summary_run(f, X, j);
        }
        double nb = 0, sbad = 0, sgood = 0, smean = 0, late = 0, sl = 0, ss = 0, gr = 0;
        int nsb = 0, nsl = 0, ngr = 0;
        for (int j = 0; j < nj; j++) {
            smean += X->smax_mean[j] / nj;
            late += (double)X->late[j] / nj;
            if (isfinite(X->s_late[j]) && isfinite(X->s_settled[j])) {
                sl += X->s_late[j];
                ss += X->s_settled[j];
                nsl++;
            }
            if (isfinite(X->growth[j])) {
                gr += X->growth[j];
                ngr++;
            }
            if (X->svm_status[j] != ATTSVM_OPTIMAL)
                continue;
            nb += (double)X->lviol[j] / (nopt ? nopt : 1);
            if (isfinite(X->smax_bad[j]) && isfinite(X->smax_good[j])) {
                sbad += X->smax_bad[j];
                sgood += X->smax_good[j];
                nsb++;
            }
        }
        if (nsb) {
            sbad /= nsb;
            sgood /= nsb;
        }
        if (nsl) {
            sl /= nsl;
            ss /= nsl;
        }
        gr = ngr ? gr / ngr : NAN;
        fprintf(f, "\n%d of %d runs reached the cap with the tokens still changing; the oracle "
                "solved %d of %d (certified); %d token choices were locally optimal. Mean top "
                "attention at the end: %.3f (1 = saturated). Why not locally optimal: in the "
                "solved runs on average %.1f of %d samples have a support token (active SVM "
                "constraint) that scores at least as high under Y v^T x as the selected one; "
                "the attention on their selected token averages %.3f against %.3f for the "
                "other samples%s; a locally optimal selection needs every one of those samples "
                "to settle.\n\nWhy the tokens keep changing: on average %.1f of %d samples "
                "changed their selected token in the second half of a run; their attention on "
                "the selected token at the end averages %.3f against %.3f for the other "
                "samples%s. The dual iterate grows like ||theta_k||_q ~ k^a with mean a = %.2f "
                "over the runs, where a = 1 if successive normalized steps pointed the same way "
                "(||theta_k||_q = eta k): %s\n", ncap, nj, nopt, nj, nloc, smean, nb, X->n,
                sbad, sgood, sbad < sgood ? ": these are mostly samples whose attention has not "
                "settled on one token" : "", late, X->n, sl, ss, sl < ss ? ", i.e. samples whose "
                "attention stays split between tokens" : "", gr, gr < 0.8 ? "the steps largely "
                "cancel, so ||W_k|| grows far slower than the step allows and the relative step "
                "eta / ||theta_k||_q falls only like k^{-a}; the iterate zigzags, and the argmax "
                "of a sample whose attention is split between tokens flips with it." :
                "the steps mostly agree.");
        if (X->stable_frac > 0)
            fprintf(f, "\nThe stopping rule asks for no change over the last %g k iterations, "
                    "not over a fixed number of checks, because these runs have quiet spells of "
                    "thousands of iterations that they leave again later.\n", X->stable_frac);
    }
}

void rd_svm_index(bench_ctx *b, const expB *X)
{
    if (X->npair * X->np > 0)
        bench_index_line(b, "- [svm.md](%s/svm.md), [svm_divergence.svg](%s/svm_divergence.svg), "
                         "[svm_selected_patches.svg](%s/svm_selected_patches.svg): l_p-AttGD on fixed "
                         "real tokens (n = %d) against the certified l_p-AttSVM.", b->reldir, b->reldir,
                         b->reldir, X->n);
}
