/* claim_duality.c - weak and strong duality of the l_p-AttSVM and the v-SVM,
 * recomputed here from the rows and the norms alone.
 *
 * Claim (design.md (14)-(16); the conic duality of norm
 * minimization, e.g. Boyd and Vandenberghe, "Convex Optimization", Sec. 5.8
 * and Exercise 5.1x; for the attention SVM arXiv 2410.14581, Sec. 3):
 *   primal  min ||W||_p  s.t. <A_it, W> >= 1, A_it = (x_ia - x_it) z_i^T,
 *   dual    max sum(lambda) s.t. ||sum lambda_it A_it||_q <= 1, lambda >= 0.
 *  (1) rows: attsvm_build_rows equals the rows built here from design.md (14);
 *  (2) weak duality: for every lambda >= 0 and every feasible W,
 *      sum(lambda) / ||A^T lambda||_q <= ||W||_p  (Hoelder); checked for 60
 *      random lambdas per solve (dense, sparse, single-row, and the oracle's
 *      multipliers perturbed by 1% and 30%) against the oracle's W and
 *      against random feasible W (oracle's W plus noise, scaled to
 *      feasibility); relative tolerance 1e-12;
 *  (3) strong duality at the oracle's answer: with this file's own
 *      ||.||_p, ||.||_q (long double) and rows, UB = ||W||_p / min(1, min
 *      margin) and LB = sum(lambda*) / ||A^T lambda*||_q satisfy
 *      (UB - LB)/UB <= 1e-8, for the p requested;
 *  (4) the oracle's reported objective and lower bound equal UB and LB
 *      (relative 1e-9) and attsvm_certify agrees (1e-9);
 *  (5) complementary slackness: sum_r lambda_r (a_r.W - 1) / sum lambda <= 1e-8;
 *  (6) the same (2)-(3) for the v-SVM (rows Y_i x_ia);
 *  (7) single constraint: min ||w||_p s.t. a.w >= 1 equals 1/||a||_q
 *      (attsvm_solve_rows, relative 1e-9);
 *  (8) infeasibility: a duplicated selected token (A_it = 0) makes the W-SVM
 *      infeasible; the oracle must say so with a Farkas certificate
 *      lambda >= 0, sum lambda > 0, A^T lambda = 0 (||A^T lambda||_1 /
 *      sum lambda_r ||a_r||_1 <= 1e-9, recomputed here).
 *
 *  (9) every feasible instance is solved (status optimal), the
 *      generator's instances being feasible for every alpha (at most
 *      n (T-1) = 42 generic rows in d^2 = 100 unknowns).
 *
 * Instances: 200 seeded instances of the paper's generator (n=6, T=8,
 * d=10, seeds 5000+i); each is solved for the W-SVM at one exponent from
 * {1, 1.5, 1.75, 2, 3, inf} (in turn: 33-34 instances per exponent) at the
 * globally optimal tokens (even i) or random tokens (odd i), and for the
 * v-SVM at all six exponents; 200 single-row problems; 40 infeasible ones.
 * A solver that optimizes a different exponent (e.g. p + 0.5) fails (3).
 */
#include "common.h"

#define NINST 200
#define NL 60
#define N 6
#define TT 8
#define DD 10

static const double P[] = {1.0, 1.5, 1.75, 2.0, 3.0, INFINITY};

typedef struct {
    double weak, strong, report, slack, rows;
    int solved, failed;
} stats;

/* Checks (2)-(5) for one optimal result; A (m x nx) built here. */
static void check_result(const double *A, int m, int nx, double p, const attsvm_result *res,
                         mdatt_rng *r, stats *st)
{
    double *lam = calloc((size_t)m, sizeof *lam), *lstar = calloc((size_t)m, sizeof *lstar);
    double *W = malloc((size_t)nx * sizeof *W);
    for (int k = 0; k < res->ndual; k++)
        if (res->dual[k].row >= 0 && res->dual[k].row < m) lstar[res->dual[k].row] = res->dual[k].lambda;
    double UB = pc_primal_bound(A, m, nx, res->x, p);
    double LB = pc_dual_bound(A, m, nx, lstar, p);
    pc_max(&st->strong, (UB - LB) / UB);
    pc_max(&st->report, fabs(res->objective - UB) / UB);
    pc_max(&st->report, fabs(res->lower_bound - LB) / UB);
    attsvm_cert c;
    attsvm_certify(A, m, nx, p, res->x, res->dual, res->ndual, &c);
    pc_max(&st->report, fabs(c.upper - UB) / UB);
    pc_max(&st->report, fabs(c.lower - LB) / UB);
    long double sl = 0, sls = 0;
    for (int i = 0; i < m; i++) {
        long double ax = 0;
        for (int j = 0; j < nx; j++) ax += (long double)A[(size_t)i * nx + j] * res->x[j];
        sl += lstar[i] * (ax - 1);
        sls += lstar[i];
    }
    pc_max(&st->slack, (double)(fabsl(sl) / sls));
    /* weak duality: random lambdas against the oracle's W and random feasible W */
    for (int t = 0; t < NL; t++) {
        int kind = t % 5;
        for (int i = 0; i < m; i++) {
            double u = mdatt_rng_uniform(r);
            switch (kind) {
            case 0: lam[i] = -log(1 - u); break;
            case 1: lam[i] = u < 0.2 ? -log(1 - mdatt_rng_uniform(r)) : 0; break;
            case 2: lam[i] = 0; break;
            case 3: lam[i] = fmax(0, lstar[i] * (1 + 0.01 * mdatt_rng_normal(r)) + 1e-3 * u * LB / m); break;
            default: lam[i] = fmax(0, lstar[i] * (1 + 0.3 * mdatt_rng_normal(r))); break;
            }
        }
        if (kind == 2) lam[(int)(mdatt_rng_uniform(r) * m)] = 1.0;
        double lb = pc_dual_bound(A, m, nx, lam, p);
        if (!(lb > 0)) continue;            /* all-zero lambda: no bound */
        pc_max(&st->weak, lb / UB - 1);
        for (int j = 0; j < nx; j++)
            W[j] = res->x[j] + 0.3 * mdatt_rng_normal(r) * UB / sqrt((double)nx);
        double ub2 = pc_primal_bound(A, m, nx, W, p);
        if (isfinite(ub2)) pc_max(&st->weak, lb / ub2 - 1);
    }
    free(lam);
    free(lstar);
    free(W);
}

static void settings_for(attsvm_settings *s, double p)
{
    attsvm_default_settings(s);
    s->p = p;
}

int main(void)
{
    pc_tap tap;
    double t0 = pc_now();
    mdatt_rng r;
    stats sw[6], sv[6];
    double v_single = 0, v_farkas = 0;
    int n_infeas = 0, n_single_fail = 0;

    memset(sw, 0, sizeof sw);
    memset(sv, 0, sizeof sv);
    pc_plan(&tap, 1 + 4 * 6 + 2 * 6 + 3);
    mdatt_rng_seed(&r, 5000);

    double v_rows = 0;
    for (int inst = 0; inst < NINST; inst++) {
        mdatt_instance in;
        if (pc_gen(5000 + (uint64_t)inst, N, TT, DD, &in) != MDATT_OK) return 99;
        attsvm_data D = pc_view(&in);
        int alpha[N];
        if (inst % 2 == 0) attsvm_global_alpha(&D, alpha, NULL);
        else for (int i = 0; i < N; i++) alpha[i] = (int)(mdatt_rng_uniform(&r) * TT);
        for (int tgt = 0; tgt < 2; tgt++) {
            int nx, m = 0, m2 = 0, nx2 = 0;
            double *A = NULL;
            m = pc_svm_rows(&in, alpha, tgt, &A, &nx);
            double *B = attsvm_build_rows(&D, alpha, tgt ? ATTSVM_TARGET_V : ATTSVM_TARGET_W, &m2, &nx2);
            if (!B || m2 != m || nx2 != nx) pc_max(&v_rows, INFINITY);
            else for (size_t j = 0; j < (size_t)m * nx; j++) pc_max(&v_rows, fabs(A[j] - B[j]));
            free(B);
            for (int ip = 0; ip < 6; ip++) {
                if (tgt == 0 && ip != inst % 6) continue;
                attsvm_settings s;
                attsvm_result res;
                memset(&res, 0, sizeof res);
                settings_for(&s, P[ip]);
                stats *st = tgt ? &sv[ip] : &sw[ip];
                attsvm_status rc = attsvm_solve(&D, alpha, tgt ? ATTSVM_TARGET_V : ATTSVM_TARGET_W, &s, &res);
                if (rc == ATTSVM_OPTIMAL && res.x) {
                    st->solved++;
                    check_result(A, m, nx, P[ip], &res, &r, st);
                } else {
                    st->failed++;
                    char al[64];
                    for (int i = 0; i < N; i++) snprintf(al + 2 * i, sizeof al - 2 * i, "%d,", alpha[i]);
                    al[2 * N - 1] = 0;
                    pc_diag("seed %d (n=6,T=8,d=10) alpha=%s p=%g target %s: %s (%s)", 5000 + inst, al,
                            P[ip], tgt ? "v" : "W", attsvm_strerror(rc), res.message);
                }
                attsvm_result_free(&res);
            }
            free(A);
        }
        mdatt_instance_free(&in);
    }

    /* (7) single constraint: 1/||a||_q */
    for (int t = 0; t < NINST; t++) {
        double a[DD];
        int nx = 2 + t % (DD - 1);
        pc_normal_vec(&r, a, (size_t)nx, exp(mdatt_rng_normal(&r)));
        double p = P[t % 6];
        attsvm_settings s;
        attsvm_result res;
        memset(&res, 0, sizeof res);
        settings_for(&s, p);
        if (attsvm_solve_rows(a, 1, nx, &s, &res) == ATTSVM_OPTIMAL && res.x) {
            double want = 1.0 / (double)pc_norm(a, (size_t)nx, pc_dual(p));
            pc_max(&v_single, fabs((double)pc_norm(res.x, (size_t)nx, p) / want - 1));
            pc_max(&v_single, 1 - pc_min_margin(a, 1, nx, res.x));
        } else {
            n_single_fail++;
        }
        attsvm_result_free(&res);
    }

    /* (8) duplicated selected token: infeasible with a Farkas certificate */
    for (int t = 0; t < 40; t++) {
        mdatt_instance in;
        if (pc_gen(9000 + (uint64_t)t, N, TT, DD, &in) != MDATT_OK) return 99;
        int alpha[N];
        attsvm_data D = pc_view(&in);
        attsvm_global_alpha(&D, alpha, NULL);
        int i = t % N, tdup = (alpha[i] + 1 + t % (TT - 1)) % TT;
        memcpy(in.X + ((size_t)i * TT + tdup) * DD, in.X + ((size_t)i * TT + alpha[i]) * DD, DD * sizeof(double));
        double *A;
        int nx, m = pc_svm_rows(&in, alpha, 0, &A, &nx);
        attsvm_settings s;
        attsvm_result res;
        memset(&res, 0, sizeof res);
        settings_for(&s, P[t % 6]);
        attsvm_status rc = attsvm_solve(&D, alpha, ATTSVM_TARGET_W, &s, &res);
        if (rc != ATTSVM_INFEASIBLE || res.ndual == 0 || res.x) {
            pc_max(&v_farkas, INFINITY);
        } else {
            n_infeas++;
            long double *u = calloc((size_t)nx, sizeof *u), sl = 0, den = 0;
            for (int k = 0; k < res.ndual; k++) {
                int row = res.dual[k].row;
                double l = res.dual[k].lambda;
                if (row < 0 || row >= m || l < 0) { pc_max(&v_farkas, INFINITY); continue; }
                sl += l;
                for (int j = 0; j < nx; j++) {
                    u[j] += l * (long double)A[(size_t)row * nx + j];
                    den += l * fabsl((long double)A[(size_t)row * nx + j]);
                }
            }
            long double n1 = 0;
            for (int j = 0; j < nx; j++) n1 += fabsl(u[j]);
            if (!(sl > 0)) pc_max(&v_farkas, INFINITY);
            else pc_max(&v_farkas, den > 0 ? (double)(n1 / den) : 0.0);
            free(u);
        }
        attsvm_result_free(&res);
        free(A);
        mdatt_instance_free(&in);
    }

    pc_ok(&tap, v_rows == 0, v_rows, 0, "attsvm_build_rows = rows (x_ia - x_it) z_i^T and Y_i x_ia built from design.md (14), (19)");
    int total_fail = 0;
    for (int ip = 0; ip < 6; ip++) {
        stats *st = &sw[ip];
        total_fail += st->failed;
        pc_ok(&tap, st->solved > 0 && st->weak <= 1e-12, st->weak, 1e-12,
              "W-SVM p=%g: weak duality sum(lambda)/||A^T lambda||_q <= ||W||_p, %d solves x %d lambdas x 2 W",
              P[ip], st->solved, NL);
        pc_ok(&tap, st->strong <= 1e-8, st->strong, 1e-8,
              "W-SVM p=%g: strong duality, own (UB-LB)/UB at the oracle's answer", P[ip]);
        pc_ok(&tap, st->report <= 1e-9, st->report, 1e-9,
              "W-SVM p=%g: reported objective, lower bound and attsvm_certify match the recomputation", P[ip]);
        pc_ok(&tap, st->slack <= 1e-8, st->slack, 1e-8, "W-SVM p=%g: complementary slackness", P[ip]);
    }
    for (int ip = 0; ip < 6; ip++) {
        stats *st = &sv[ip];
        total_fail += st->failed;
        pc_ok(&tap, st->solved > 0 && st->weak <= 1e-12, st->weak, 1e-12,
              "v-SVM p=%g: weak duality, %d solves x %d lambdas", P[ip], st->solved, NL);
        pc_ok(&tap, st->strong <= 1e-8 && st->report <= 1e-9 && st->slack <= 1e-8,
              fmax(st->strong, fmax(st->report, st->slack)), 1e-8,
              "v-SVM p=%g: strong duality, reports, slackness", P[ip]);
    }
    pc_ok(&tap, n_single_fail == 0 && v_single <= 1e-9, v_single, 1e-9,
          "single constraint: optimum 1/||a||_q, %d problems (%d failed)", NINST, n_single_fail);
    pc_ok(&tap, v_farkas <= 1e-9, v_farkas, 1e-9,
          "duplicate selected token: infeasible with Farkas certificate A^T lambda = 0 (%d of 40)", n_infeas);
    pc_ok(&tap, total_fail == 0, total_fail, 0,
          "the oracle returns an optimal, certified answer for every feasible instance (%d failed)",
          total_fail);
    return pc_done(&tap, "claim_duality", pc_now() - t0);
}
