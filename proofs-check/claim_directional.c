/* claim_directional.c - normalized l_p-AttGD converges in direction to the
 * l_p-AttSVM of its own p at the tokens it selects, and not to the SVMs of
 * other exponents (the cross-p experiment of arXiv 2410.14581, Fig. 4).
 *
 * Claim (arXiv 2410.14581, local directional-convergence theorem for
 * l_p-AttGD; design.md §6): started in the cone of a locally
 * optimal token choice a, W_k/||W_k||_p -> W^mm_a(p)/||W^mm_a(p)||_p.
 * Setting: the paper's generator (n=6, T=8, d=10), logistic loss, v fixed,
 * W_0 ~ N(0, 1) entrywise, normalized steps with eta = 0.1, and the paper's
 * iteration counts K = 1500 (p = 1.75), 2000 (p = 2), 20000 (p = 3), then
 * 10 K.  a = argmax_t s_it at 10 K.  Metric: the directional Bregman
 * divergence D(p', k) = D_psi_p(W^mm_a(p')/||.||_p, W_k/||W_k||_p) with psi of
 * the run's p, computed here in long double.
 * Checks, over the runs whose a is locally optimal for the own-p SVM (per the
 * oracle's verdict, recomputed here from its support and the scores); a run
 * is "settled" when it selects the same tokens at K as at 10K (in a few runs
 * the selection still changes after K, and D(p, K) to the final SVM is then
 * large by construction):
 *  (1) at least 80% of the runs are eligible and settled;
 *  (2) settled runs: D(p, K) <= 1e-2 on at least 90% of them (measured: 94
 *      of 96; seed 8 at p = 1.75 ends its 1500 steps at 1.1e-2, seed 18 at
 *      p = 2 its 2000 steps at 8.5e-2 -- slow runs, not failures: both are
 *      below 1e-4 at 10K);
 *  (3) every eligible run: D(p, 10K) <= 5e-3;
 *  (4) settled runs: D(p, 10K) <= D(p, K) / 5;
 *  (5) cross-p: for p' != p, D(p', 10K) >= max(1e-3, 10 D(p, 10K)) on every
 *      eligible run -- the iterates approach their own SVM and stay away
 *      from the others;
 *  (6) the oracle's local-optimality verdict equals the one recomputed here
 *      (support rows with lambda > 0; gamma_ia > gamma_it on each).
 *
 * Instances: 32 seeded instances (seeds 1..32, W_0 seeds 1001..1032) x 3
 * exponents, fewer than 200: one instance costs 236,500 trainer steps
 * (about 0.55 s, 220,000 of them at p = 3) plus the SVM solves, and the
 * whole suite has a budget of about a minute.  bench/ runs the 100-seed
 * version of this experiment.
 */
#include "common.h"

#define NINST 32
#define N 6
#define TT 8
#define DD 10
#define M (DD * DD)

static const double P[] = {1.75, 2.0, 3.0};
static const long K[] = {1500, 2000, 20000};

typedef struct {
    long K;
    double W[2][M];
    int got;
} capture;

static int hook(const mdatt_train_point *pt, void *ctx)
{
    capture *c = ctx;
    if (pt->k == c->K) { memcpy(c->W[0], pt->W, sizeof c->W[0]); c->got |= 1; }
    if (pt->k == 10 * c->K) { memcpy(c->W[1], pt->W, sizeof c->W[1]); c->got |= 2; }
    return 0;
}

/* Local optimality recomputed: support rows (lambda > 0) in the documented
 * row order (i major, t != a_i ascending), gamma_ia > gamma_it on each. */
static int local_opt(const mdatt_instance *in, const int *alpha, const attsvm_result *r)
{
    for (int k = 0; k < r->ndual; k++) {
        if (!(r->dual[k].lambda > 0)) continue;
        int row = r->dual[k].row, i = row / (TT - 1), t = row % (TT - 1);
        if (t >= alpha[i]) t++;
        double ga = 0, gt = 0;
        for (int j = 0; j < DD; j++) {
            ga += in->v[j] * in->X[((size_t)i * TT + alpha[i]) * DD + j];
            gt += in->v[j] * in->X[((size_t)i * TT + t) * DD + j];
        }
        if (!(in->Y[i] * ga > in->Y[i] * gt)) return 0;
    }
    return 1;
}

int main(void)
{
    pc_tap tap;
    double t0 = pc_now();
    int runs = 0, train_fail = 0, eligible = 0, settled = 0, above1 = 0, verdict_mismatch = 0, oracle_fail = 0;
    double v_all = 0, v_fall = 0, v_cross = 0, v_end = 0, worstK[3] = {0, 0, 0}, worst10K[3] = {0, 0, 0};
    double mincross = INFINITY;

    pc_plan(&tap, 6);
    for (int inst = 0; inst < NINST; inst++) {
        mdatt_instance in;
        if (pc_gen(1 + (uint64_t)inst, N, TT, DD, &in) != MDATT_OK) return 99;
        attsvm_data D = pc_view(&in);
        mdatt_rng r;
        double W0[M];
        mdatt_rng_seed(&r, 1001 + (uint64_t)inst);
        pc_normal_vec(&r, W0, M, 1.0);
        /* SVMs are cached per token choice: alpha[c] and res[c][p'] */
        int alphas[3][N], nal = 0;
        attsvm_result res[3][3];
        int ok[3][3];
        memset(res, 0, sizeof res);
        for (int ip = 0; ip < 3; ip++) {
            capture c;
            mdatt_train_settings s;
            double W[M], v[DD];
            int alpha[N], aK[N];
            memset(&c, 0, sizeof c);
            c.K = K[ip];
            mdatt_train_default_settings(&s);
            s.p = P[ip];
            s.lr = 0.1;
            s.iters = 10 * K[ip];
            s.normalized = 1;
            s.log_every = K[ip];
            s.hook = hook;
            s.hook_ctx = &c;
            memcpy(W, W0, sizeof W);
            memcpy(v, in.v, sizeof v);
            runs++;
            if (mdatt_train(&in, &s, W, v, alpha, NULL) != MDATT_OK || c.got != 3) {
                train_fail++;
                continue;
            }
            pc_log1m_smax(&in, c.W[1], alpha);
            pc_log1m_smax(&in, c.W[0], aK);
            const int settle = memcmp(alpha, aK, sizeof aK) == 0;
            int ca = -1;
            for (int q = 0; q < nal; q++)
                if (memcmp(alphas[q], alpha, sizeof alpha) == 0) ca = q;
            if (ca < 0) {
                ca = nal++;
                memcpy(alphas[ca], alpha, sizeof alpha);
                for (int jp = 0; jp < 3; jp++) {
                    attsvm_settings as;
                    attsvm_default_settings(&as);
                    as.p = P[jp];
                    ok[ca][jp] = attsvm_solve(&D, alpha, ATTSVM_TARGET_W, &as, &res[ca][jp]) == ATTSVM_OPTIMAL
                                 && res[ca][jp].x;
                    if (!ok[ca][jp]) {
                        oracle_fail++;
                        pc_diag("seed %d p=%g: oracle failed (%s)", inst + 1, P[jp], res[ca][jp].message);
                    }
                }
            }
            if (!ok[ca][ip]) continue;
            attsvm_tokens tk;
            memset(&tk, 0, sizeof tk);
            attsvm_classify(&D, alpha, &res[ca][ip], &tk);
            int lo = local_opt(&in, alpha, &res[ca][ip]);
            verdict_mismatch += lo != tk.locally_optimal;
            attsvm_tokens_free(&tk);
            if (!lo) {
                pc_diag("seed %d p=%g: selected tokens not locally optimal; run skipped", inst + 1, P[ip]);
                continue;
            }
            eligible++;
            double d0 = (double)pc_bregman_dir(res[ca][ip].x, c.W[0], M, P[ip]);
            double d1 = (double)pc_bregman_dir(res[ca][ip].x, c.W[1], M, P[ip]);
            pc_max(&v_end, d1);
            pc_max(&worst10K[ip], d1);
            if (!settle) {
                pc_diag("seed %d p=%g: tokens change after K (D(p,K) = %.3g, D(p,10K) = %.3g)", inst + 1,
                        P[ip], d0, d1);
            } else {
                settled++;
                if (d0 > 1e-2) {
                    above1++;
                    pc_diag("seed %d p=%g: D(p, K) = %.3g > 1e-2", inst + 1, P[ip], d0);
                }
                pc_max(&v_all, d0);
                pc_max(&v_fall, d1 / d0);
                pc_max(&worstK[ip], d0);
            }
            for (int jp = 0; jp < 3; jp++) {
                if (jp == ip || !ok[ca][jp]) continue;
                double dc = (double)pc_bregman_dir(res[ca][jp].x, c.W[1], M, P[ip]);
                if (dc < mincross) mincross = dc;
                pc_max(&v_cross, fmax(1e-3, 10 * d1) / dc);
            }
        }
        for (int q = 0; q < nal; q++)
            for (int jp = 0; jp < 3; jp++) attsvm_result_free(&res[q][jp]);
        mdatt_instance_free(&in);
    }
    pc_diag("runs %d, eligible (locally optimal) %d, settled %d, oracle failures %d", runs, eligible,
            settled, oracle_fail);
    pc_diag("largest D(p,K) (settled): p=1.75 %.3g, p=2 %.3g, p=3 %.3g; largest D(p,10K): %.3g, %.3g, %.3g",
            worstK[0], worstK[1], worstK[2], worst10K[0], worst10K[1], worst10K[2]);
    pc_diag("smallest cross-p divergence at 10K: %.3g", mincross);
    pc_ok(&tap, settled * 5 >= runs * 4 && train_fail == 0, runs - settled, runs / 5,
          "eligible and settled runs: %d of %d (runs not counted shown; %d training errors)", settled,
          runs, train_fail);
    pc_ok(&tap, settled > 0 && above1 * 10 <= settled, above1, settled / 10.0,
          "settled runs: D(p,K) <= 1e-2 at the paper's counts on >= 90%% (runs above shown; largest "
          "D(p,K) %.3g)", v_all);
    pc_ok(&tap, v_end <= 5e-3, v_end, 5e-3, "D(p,10K) <= 5e-3 on every eligible run");
    pc_ok(&tap, v_fall <= 0.2, v_fall, 0.2, "settled runs: D(p,10K) <= D(p,K)/5 (largest ratio)");
    pc_ok(&tap, v_cross <= 1, v_cross, 1,
          "cross-p: D(p',10K) >= max(1e-3, 10 D(p,10K)) for p' != p (largest ratio bound/D)");
    pc_ok(&tap, verdict_mismatch == 0, verdict_mismatch, 0,
          "attsvm_classify's local-optimality verdict = recomputation from support and scores");
    return pc_done(&tap, "claim_directional", pc_now() - t0);
}
