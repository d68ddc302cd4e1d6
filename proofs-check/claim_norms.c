/* claim_norms.c - comparison of entrywise l_p and l_2 norms on m entries.
 *
 * Claim (classical; Hoelder's inequality, e.g. Hardy, Littlewood and Polya,
 * "Inequalities", Thm. 16 and 19; Golub and Van Loan, "Matrix
 * Computations", eq. 2.2.5 for p in {1, 2, inf}): for x in R^m,
 *   1 <= p <= 2 :  ||x||_2 <= ||x||_p <= m^(1/p - 1/2) ||x||_2,
 *   p >= 2      :  m^(1/p - 1/2) ||x||_2 <= ||x||_p <= ||x||_2,
 * (p = inf as the limit m^(-1/2)), and both constants are attained: equality
 * at x = e_1 (the constant 1) and at x = (1, ..., 1) (the constant
 * m^(1/p - 1/2)).
 * Also checked, since MD relies on them: the dual pairing of the mirror map,
 *   ||grad psi(x)||_q = ||x||_p^(p-1),  <x, grad psi(x)> = ||x||_p^p,
 * (equality in Hoelder), and 1/p + 1/q = 1 for mdatt_dual_exponent.
 *
 * Instances: 400 seeded vectors x (m from 1 to 300; Gaussian, sparse,
 * heavy-tailed, and scaled by 1e-150 .. 1e150) for each of the 12 exponents
 * p in {1, 1.1, 1.25, 1.5, 1.75, 2, 2.5, 3, 4, 8, 16, inf}, with norms from
 * libmdatt (mdatt_norm_p) and from a long-double reference; the mirror-map
 * identities on 100 further vectors x the 10 exponents 1 < p < inf.  Violations are
 * relative: max(0, lhs/rhs - 1); tolerance 1e-13 (rounding only).
 */
#include "common.h"

#define NVEC 400
#define TOL 1e-13

static const double P[] = {1.0, 1.1, 1.25, 1.5, 1.75, 2.0, 2.5, 3.0, 4.0, 8.0, 16.0, INFINITY};
#define NP ((int)(sizeof P / sizeof P[0]))

/* Relative excess of a over b (0 when a <= b). */
static double excess(double a, double b)
{
    return a <= b ? 0.0 : (b > 0 ? a / b - 1.0 : INFINITY);
}

/* A random test vector of m entries: kind selects the distribution. */
static void draw(mdatt_rng *r, double *x, int m, int kind)
{
    static const double scales[] = {1.0, 1e-150, 1e150, 1e-5, 1e5};
    double sc = scales[(int)(mdatt_rng_uniform(r) * 5)];
    for (int j = 0; j < m; j++) {
        double g = mdatt_rng_normal(r);
        switch (kind) {
        case 0: x[j] = g; break;                                       /* Gaussian */
        case 1: x[j] = mdatt_rng_uniform(r) < 0.1 ? g : 0.0; break;    /* sparse */
        case 2: x[j] = g / (mdatt_rng_uniform(r) + 1e-3); break;       /* heavy tail */
        default: x[j] = 1.0 + 1e-3 * g; break;                         /* near-flat */
        }
        x[j] *= sc;
    }
    if (kind == 1) x[(int)(mdatt_rng_uniform(r) * m)] = sc;             /* not all zero */
}

int main(void)
{
    pc_tap tap;
    double t0 = pc_now();
    double vlib = 0, vref = 0, vagree = 0, vtight = 0, vdual = 0, vq = 0;
    double *x = malloc(300 * sizeof *x), *th = malloc(300 * sizeof *th);
    mdatt_rng r;

    pc_plan(&tap, 6);
    mdatt_rng_seed(&r, 20241018);
    for (int it = 0; it < NVEC; it++) {
        int m = 1 + (int)(mdatt_rng_uniform(&r) * 300);
        draw(&r, x, m, it % 4);
        double n2l = mdatt_norm_p(x, (size_t)m, 2.0);
        double n2r = (double)pc_norm(x, (size_t)m, 2.0);
        for (int ip = 0; ip < NP; ip++) {
            double p = P[ip];
            double c = isinf(p) ? 1.0 / sqrt((double)m) : pow((double)m, 1.0 / p - 0.5);
            double npl = mdatt_norm_p(x, (size_t)m, p), npr = (double)pc_norm(x, (size_t)m, p);
            double lo_l, hi_l, lo_r, hi_r;  /* the claimed sandwich lo <= ||x||_p <= hi */
            if (p <= 2) {
                lo_l = n2l; hi_l = c * n2l; lo_r = n2r; hi_r = c * n2r;
            } else {
                lo_l = c * n2l; hi_l = n2l; lo_r = c * n2r; hi_r = n2r;
            }
            pc_max(&vlib, excess(lo_l, npl));
            pc_max(&vlib, excess(npl, hi_l));
            pc_max(&vref, excess(lo_r, npr));
            pc_max(&vref, excess(npr, hi_r));
            pc_max(&vagree, fabs(npl - npr) / npr);
        }
    }
    pc_ok(&tap, vlib <= TOL, vlib, TOL,
          "norm sandwich with mdatt_norm_p, %d vectors x %d exponents", NVEC, NP);
    pc_ok(&tap, vref <= TOL, vref, TOL,
          "norm sandwich with the long-double reference, %d vectors x %d exponents", NVEC, NP);
    pc_ok(&tap, vagree <= 1e-14 * 300, vagree, 1e-14 * 300,
          "mdatt_norm_p agrees with the long-double reference (relative)");

    /* tightness: e_1 attains the constant 1, the all-ones vector m^(1/p-1/2) */
    for (int m = 1; m <= 300; m += 7) {
        for (int j = 0; j < m; j++) x[j] = 1.0;
        double n2 = mdatt_norm_p(x, (size_t)m, 2.0);
        for (int ip = 0; ip < NP; ip++) {
            double p = P[ip];
            double c = isinf(p) ? 1.0 / sqrt((double)m) : pow((double)m, 1.0 / p - 0.5);
            pc_max(&vtight, fabs(mdatt_norm_p(x, (size_t)m, p) / (c * n2) - 1.0));
        }
        memset(x, 0, (size_t)m * sizeof *x);
        x[0] = 3.5;
        for (int ip = 0; ip < NP; ip++)
            pc_max(&vtight, fabs(mdatt_norm_p(x, (size_t)m, P[ip]) / mdatt_norm_p(x, (size_t)m, 2.0) - 1.0));
    }
    pc_ok(&tap, vtight <= 1e-14, vtight, 1e-14,
          "constants attained: ||e_1||_p = ||e_1||_2, ||1||_p = m^(1/p-1/2) ||1||_2, m = 1..300");

    /* Hoelder equality at the mirror map, and 1/p + 1/q = 1 */
    for (int it = 0; it < NVEC / 4; it++) {
        int m = 1 + (int)(mdatt_rng_uniform(&r) * 200);
        draw(&r, x, m, 0);
        for (int ip = 1; ip < NP - 1; ip++) {   /* 1 < p < inf */
            double p = P[ip], q = mdatt_dual_exponent(p);
            pc_max(&vq, fabs(1.0 / p + 1.0 / q - 1.0));
            /* keep |x|^p in range: normalize to unit max entry */
            double mx = mdatt_norm_p(x, (size_t)m, INFINITY);
            for (int j = 0; j < m; j++) x[j] /= mx;
            mdatt_mirror_map(x, th, (size_t)m, p);
            long double np_ = pc_norm(x, (size_t)m, p), nq = pc_norm(th, (size_t)m, q), ip_ = 0;
            for (int j = 0; j < m; j++) ip_ += (long double)x[j] * th[j];
            pc_max(&vdual, fabs((double)(nq / powl(np_, p - 1.0) - 1.0L)));
            pc_max(&vdual, fabs((double)(ip_ / powl(np_, p) - 1.0L)));
        }
    }
    pc_ok(&tap, vdual <= 1e-12, vdual, 1e-12,
          "||grad psi(x)||_q = ||x||_p^(p-1) and <x, grad psi(x)> = ||x||_p^p (mdatt_mirror_map)");
    pc_ok(&tap, vq <= 4e-16, vq, 4e-16, "1/p + 1/q = 1 for mdatt_dual_exponent");

    free(x);
    free(th);
    return pc_done(&tap, "claim_norms", pc_now() - t0);
}
