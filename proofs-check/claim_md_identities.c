/* claim_md_identities.c - the l_p-AttGD step of libmdatt is the mirror-descent
 * step of doc/design.md, recomputed here from the formulas alone.
 *
 * Claims (arXiv 2410.14581, Algorithm l_p-AttGD; Nemirovski and Yudin 1983;
 * Beck and Teboulle, "Mirror descent and nonlinear projected subgradient
 * methods for convex optimization", Oper. Res. Lett. 31 (2003), eq. (3.4)):
 *  (1) normalized step: ||grad psi(W_{k+1}) - grad psi(W_k)||_q = eta exactly
 *      (relative 1e-9), q = p/(p-1);
 *  (2) its direction: grad psi(W_{k+1}) - grad psi(W_k) = -eta g/||g||_q with
 *      g = grad L(W_k) from the textbook formula of design.md (4) written
 *      here in long double (relative error in ||.||_q <= 1e-8);
 *  (3) plain step: grad psi(W_{k+1}) - grad psi(W_k) = -eta g (same tolerance);
 *  (4) JointGD: each block moves by eta in its own dual norm, in the
 *      direction of its own gradient (relative 1e-8);
 *  (5) W_{k+1} = argmin_W eta<G, W> + D_psi(W, W_k) (G the normalized
 *      gradient): first-order condition grad psi(W_{k+1}) - grad psi(W_k) +
 *      eta G = 0 (this is (2)), and no random perturbation of relative size
 *      1e-1, 1e-2, 1e-3 lowers the objective (evaluated in long double; the
 *      increase must equal D_psi(W', W_{k+1}) to 1e-3 relative, the
 *      three-point identity);
 *  (6) p = 2 is gradient descent: mdatt_mirror_map / _inverse at p = 2 are
 *      the identity bit for bit, and 50 normalized steps of mdatt_train at
 *      p = 2 equal, bit for bit, W_{k+1} = W_k - eta G/||G||_2 written with the
 *      public gradient (mdatt_eval_grad) and a compensated (TwoSum) update;
 *      and agree with an uncompensated GD loop to 1e-12 relative;
 *  (7) mirror maps: mdatt_mirror_map / _inverse agree with sign|x|^(p-1) and
 *      sign|t|^(1/(p-1)) in long double (relative 1e-14), and are inverse;
 *  (8) the library gradient mdatt_eval_grad (G exp(log_scale)) and loss equal
 *      the textbook ones (relative 1e-10), and the textbook gradient itself
 *      matches central finite differences of the textbook loss (1e-6).
 *
 * Instances: 240 seeded instances of the paper's generator (n=6, T=8,
 * d=10, seeds 4000+i), each with one exponent p in {1.5, 1.75, 2, 2.5, 3}
 * (48 instances per p), one loss (logistic, exponential, correlation in
 * turn), W_0 ~ N(0, s^2), s in {0.1, 0.5, 1}, eta in {0.1, 0.5}, three steps
 * per mode (normalized, plain, joint).  Faults these checks are designed to
 * catch: a wrong inverse-map exponent (7, 1, 2), a sign error or a dropped
 * sample in grad_W (2, 3, 8), a lost normalization (1).
 */
#include "common.h"

#define NINST 240
#define KSTEPS 3
#define N 6
#define TT 8
#define DD 10
#define M (DD * DD)

static const double P[] = {1.5, 1.75, 2.0, 2.5, 3.0};

typedef struct {
    int n;                  /* points recorded */
    double W[KSTEPS + 1][M], v[KSTEPS + 1][DD];
} traj;

static int record(const mdatt_train_point *pt, void *ctx)
{
    traj *tr = ctx;
    if (tr->n <= KSTEPS) {
        memcpy(tr->W[tr->n], pt->W, sizeof tr->W[0]);
        memcpy(tr->v[tr->n], pt->v, sizeof tr->v[0]);
        tr->n++;
    }
    return 0;
}

/* ||x||_q / ||y||_q - 1 style helpers */
static double qnorm(const double *x, int m, double q) { return (double)pc_norm(x, (size_t)m, q); }

/* relative dual-norm error ||dth/eta + gdir||_q / ||gdir||_q */
static double dir_err(const double *dth, const double *gdir, int m, double eta, double q)
{
    double e[M];
    for (int j = 0; j < m; j++) e[j] = dth[j] / eta + gdir[j];
    return qnorm(e, m, q) / qnorm(gdir, m, q);
}

static void dtheta(const double *W0, const double *W1, double *dth, int m, double p)
{
    for (int j = 0; j < m; j++) dth[j] = pc_map1(W1[j], p) - pc_map1(W0[j], p);
}

/* eta <G, W> + D_psi(W, Wk) in long double */
static long double md_obj(const double *W, const double *Wk, const double *G, double eta, double p)
{
    long double s = 0;
    for (int j = 0; j < M; j++) s += (long double)G[j] * W[j];
    return eta * s + pc_bregman(W, Wk, M, p);
}

int main(void)
{
    pc_tap tap;
    double t0 = pc_now();
    double v_norm = 0, v_dir = 0, v_plain = 0, v_joint = 0, v_var = 0, v_fo = 0, v_maps = 0,
           v_grad = 0, v_fd = 0, v_gd_bits = 0, v_gd_plain = 0, v_id2 = 0;
    long gd_bit_mismatch = 0, perturbations = 0;
    mdatt_rng r;
    traj tr;
    mdatt_work *wk = NULL;

    pc_plan(&tap, 12);
    mdatt_rng_seed(&r, 4000);

    for (int inst = 0; inst < NINST; inst++) {
        mdatt_instance in;
        if (pc_gen(4000 + (uint64_t)inst, N, TT, DD, &in) != MDATT_OK) return 99;
        const double p = P[inst % 5], q = pc_dual(p);
        const double sd = (double[]){0.1, 0.5, 1.0}[(inst / 5) % 3];
        const double eta = inst % 2 ? 0.5 : 0.1;
        const mdatt_loss loss = (mdatt_loss)(inst % 3);
        double W0[M], v0[DD], g[M], gv[DD], gh[M], dth[M], dthv[DD];
        pc_normal_vec(&r, W0, M, sd);
        memcpy(v0, in.v, sizeof v0);

        /* (8) library gradient and loss vs textbook; textbook vs finite differences */
        {
            double G[M], Gv[DD], Lm = pc_risk_grad(&in, W0, v0, loss, g, gv);
            mdatt_eval ev;
            mdatt_grad gw = {G, 0}, gvv = {Gv, 0};
            if (!wk) wk = mdatt_work_new(&in);
            if (mdatt_eval_grad(&in, W0, v0, loss, wk, &ev, &gw, &gvv, NULL) != MDATT_OK) {
                pc_max(&v_grad, INFINITY);
            } else {
                double sc = exp(gw.log_scale), scv = exp(gvv.log_scale);
                for (int j = 0; j < M; j++) gh[j] = G[j] * sc - g[j];
                pc_max(&v_grad, qnorm(gh, M, q) / qnorm(g, M, q));
                for (int j = 0; j < DD; j++) dthv[j] = Gv[j] * scv - gv[j];
                pc_max(&v_grad, qnorm(dthv, DD, q) / qnorm(gv, DD, q));
                pc_max(&v_grad, fabs(ev.loss - Lm) / fabs(Lm));
            }
            if (inst % 8 == 0) {            /* finite differences on a few entries */
                for (int c = 0; c < 6; c++) {
                    int j = (int)(mdatt_rng_uniform(&r) * M);
                    double Wp[M], h = 1e-5;
                    memcpy(Wp, W0, sizeof Wp);
                    Wp[j] += h;
                    double Lp = pc_risk_grad(&in, Wp, v0, loss, NULL, NULL);
                    Wp[j] -= 2 * h;
                    double Lq = pc_risk_grad(&in, Wp, v0, loss, NULL, NULL);
                    pc_max(&v_fd, fabs((Lp - Lq) / (2 * h) - g[j]) / qnorm(g, M, INFINITY));
                }
            }
        }

        for (int mode = 0; mode < 3; mode++) {      /* normalized, plain, joint */
            mdatt_train_settings s;
            mdatt_train_default_settings(&s);
            s.p = p;
            s.lr = eta;
            s.iters = KSTEPS;
            s.normalized = mode != 1;
            s.joint = mode == 2;
            s.loss = loss;
            s.log_every = 1;
            s.hook = record;
            s.hook_ctx = &tr;
            double W[M], v[DD];
            memcpy(W, W0, sizeof W);
            memcpy(v, v0, sizeof v);
            tr.n = 0;
            if (mdatt_train(&in, &s, W, v, NULL, NULL) != MDATT_OK || tr.n != KSTEPS + 1) {
                pc_max(mode == 0 ? &v_norm : mode == 1 ? &v_plain : &v_joint, INFINITY);
                continue;
            }
            for (int k = 0; k < KSTEPS; k++) {
                pc_risk_grad(&in, tr.W[k], tr.v[k], loss, g, s.joint ? gv : NULL);
                dtheta(tr.W[k], tr.W[k + 1], dth, M, p);
                double gq = qnorm(g, M, q);
                if (mode == 1) {
                    pc_max(&v_plain, dir_err(dth, g, M, eta, q));
                    continue;
                }
                for (int j = 0; j < M; j++) gh[j] = g[j] / gq;
                if (mode == 2) {
                    dtheta(tr.v[k], tr.v[k + 1], dthv, DD, p);
                    double gvq = qnorm(gv, DD, q), ghv[DD];
                    for (int j = 0; j < DD; j++) ghv[j] = gv[j] / gvq;
                    pc_max(&v_joint, fabs(qnorm(dth, M, q) / eta - 1));
                    pc_max(&v_joint, fabs(qnorm(dthv, DD, q) / eta - 1));
                    pc_max(&v_joint, dir_err(dth, gh, M, eta, q));
                    pc_max(&v_joint, dir_err(dthv, ghv, DD, eta, q));
                    continue;
                }
                pc_max(&v_norm, fabs(qnorm(dth, M, q) / eta - 1));
                pc_max(&v_dir, dir_err(dth, gh, M, eta, q));
                /* (5) variational characterization */
                double fo[M];
                for (int j = 0; j < M; j++) fo[j] = dth[j] + eta * gh[j];
                pc_max(&v_fo, qnorm(fo, M, q) / eta);
                long double o1 = md_obj(tr.W[k + 1], tr.W[k], gh, eta, p);
                double nW = qnorm(tr.W[k + 1], M, 2.0) / sqrt((double)M);
                for (int t = 0; t < 6; t++) {
                    double Wp[M], rho = pow(10.0, -1 - t % 3);
                    for (int j = 0; j < M; j++) Wp[j] = tr.W[k + 1][j] + rho * nW * mdatt_rng_normal(&r);
                    long double o2 = md_obj(Wp, tr.W[k], gh, eta, p);
                    long double dref = pc_bregman(Wp, tr.W[k + 1], M, p);
                    perturbations++;
                    if (o2 < o1) pc_max(&v_var, INFINITY);
                    else pc_max(&v_var, (double)fabsl((o2 - o1) / dref - 1));
                }
            }
        }
        mdatt_work_free(wk);
        wk = NULL;

        /* (7) maps vs long-double formulas, round trip */
        {
            double x[M], th[M], back[M];
            pc_normal_vec(&r, x, M, exp(2 * mdatt_rng_normal(&r)));
            mdatt_mirror_map(x, th, M, p);
            for (int j = 0; j < M; j++) pc_max(&v_maps, fabs(th[j] - pc_map1(x[j], p)) / fabs(pc_map1(x[j], p)));
            mdatt_mirror_inverse(th, back, M, p);
            for (int j = 0; j < M; j++) {
                pc_max(&v_maps, fabs(back[j] - pc_inv1(th[j], p)) / fabs(pc_inv1(th[j], p)));
                pc_max(&v_maps, fabs(back[j] - x[j]) / fabs(x[j]) / 4);   /* two roundings, conditioning */
            }
        }

        /* (6) p = 2 is GD, bit for bit */
        if (inst < 40) {
            const int K = 50;
            double W[M], v[DD], Wr[M], lo[M], Wg[M];
            mdatt_train_settings s;
            mdatt_train_default_settings(&s);
            s.p = 2.0;
            s.lr = eta;
            s.iters = K;
            s.normalized = 1;
            s.loss = loss;
            memcpy(W, W0, sizeof W);
            memcpy(v, v0, sizeof v);
            memcpy(Wr, W0, sizeof Wr);
            memcpy(Wg, W0, sizeof Wg);
            memset(lo, 0, sizeof lo);
            if (mdatt_train(&in, &s, W, v, NULL, NULL) != MDATT_OK) {
                pc_max(&v_gd_bits, INFINITY);
            } else {
                mdatt_work *w2 = mdatt_work_new(&in);
                for (int k = 0; k < K; k++) {
                    double G[M];
                    mdatt_grad gw = {G, 0};
                    mdatt_eval_grad(&in, Wr, v0, loss, w2, NULL, &gw, NULL, NULL);
                    const double c = eta / mdatt_norm_p(G, M, 2.0);
                    for (int j = 0; j < M; j++) {       /* Wr + lo -= c G (TwoSum, renormalize) */
                        const double dl = -(G[j] * c), h0 = Wr[j], l0 = lo[j];
                        const double sm = h0 + dl, bb = sm - h0;
                        const double err = (h0 - (sm - bb)) + (dl - bb);
                        const double e2 = l0 + err, nh = sm + e2;
                        lo[j] = e2 - (nh - sm);
                        Wr[j] = nh;
                    }
                    mdatt_eval_grad(&in, Wg, v0, loss, w2, NULL, &gw, NULL, NULL);
                    const double cg = eta / (double)pc_norm(G, M, 2.0);
                    for (int j = 0; j < M; j++) Wg[j] -= cg * G[j];
                }
                mdatt_work_free(w2);
                for (int j = 0; j < M; j++) {
                    if (memcmp(&W[j], &Wr[j], sizeof(double)) != 0) gd_bit_mismatch++;
                    pc_max(&v_gd_bits, fabs(W[j] - Wr[j]));
                }
                double e[M];
                for (int j = 0; j < M; j++) e[j] = W[j] - Wg[j];
                pc_max(&v_gd_plain, qnorm(e, M, 2.0) / qnorm(W, M, 2.0));
            }
        }
        mdatt_instance_free(&in);
    }
    /* identity maps at p = 2 for every kind of double */
    {
        double x[64], y[64];
        for (int j = 0; j < 64; j++)
            x[j] = ldexp(mdatt_rng_normal(&r), (int)(mdatt_rng_uniform(&r) * 2100) - 1074);
        x[0] = 0.0;
        x[1] = -0.0;
        x[2] = 4.9406564584124654e-324;
        mdatt_mirror_map(x, y, 64, 2.0);
        v_id2 += memcmp(x, y, sizeof x) != 0;
        mdatt_mirror_inverse(x, y, 64, 2.0);
        v_id2 += memcmp(x, y, sizeof x) != 0;
    }

    pc_ok(&tap, v_norm <= 1e-9, v_norm, 1e-9,
          "normalized step: ||grad psi(W_k+1) - grad psi(W_k)||_q = eta, %d instances x %d steps",
          NINST, KSTEPS);
    pc_ok(&tap, v_dir <= 1e-8, v_dir, 1e-8,
          "normalized step direction = -grad L / ||grad L||_q (textbook gradient)");
    pc_ok(&tap, v_plain <= 1e-8, v_plain, 1e-8, "plain step: grad psi(W_k+1) - grad psi(W_k) = -eta grad L");
    pc_ok(&tap, v_joint <= 1e-8, v_joint, 1e-8,
          "JointGD: each block moves eta in its dual norm along its own gradient");
    pc_ok(&tap, v_fo <= 1e-8, v_fo, 1e-8,
          "argmin eta<G,W> + D_psi(W,W_k): first-order condition at W_k+1 (||.||_q / eta)");
    pc_ok(&tap, v_var <= 1e-3, v_var, 1e-3,
          "argmin: %ld random perturbations never lower the objective; increase = D_psi(W',W_k+1)",
          perturbations);
    pc_ok(&tap, v_id2 == 0, v_id2, 0, "p=2: mirror map and inverse are the identity bit for bit");
    pc_ok(&tap, gd_bit_mismatch == 0, v_gd_bits, 0,
          "p=2: 50 trainer steps = compensated GD W - eta G/||G||_2, bit for bit (40 instances; "
          "%ld entries differ)", gd_bit_mismatch);
    pc_ok(&tap, v_gd_plain <= 1e-12, v_gd_plain, 1e-12,
          "p=2: 50 trainer steps = plain double GD to 1e-12 relative");
    pc_ok(&tap, v_maps <= 1e-14, v_maps, 1e-14,
          "mdatt_mirror_map/_inverse = sign|x|^(p-1), sign|t|^(1/(p-1)); inverse(map(x)) = x");
    pc_ok(&tap, v_grad <= 1e-10, v_grad, 1e-10,
          "mdatt_eval_grad (W and v blocks) and loss = textbook formulas, all three losses");
    pc_ok(&tap, v_fd <= 1e-6, v_fd, 1e-6, "textbook gradient = central finite differences of the loss");
    return pc_done(&tap, "claim_md_identities", pc_now() - t0);
}
