/* test_mirror.c - l_p norms, mirror maps, Bregman divergences (doc/design.md,
 * "Mirror descent", "Bregman divergence").  References are computed here
 * with pow(), independently of the pow-free kernels of mirror.c. */
#include <criterion/criterion.h>
#include <float.h>
#include <math.h>

#include "mdatt.h"

#define M 103                   /* not a multiple of 4: vector tails run too */

static const double P[] = {1.25, 1.5, 1.75, 2.0, 2.5, 3.0, 4.5};
#define NP (sizeof P / sizeof *P)

static void fill(double *x, size_t m, uint64_t seed, double scale)
{
    mdatt_rng r;
    mdatt_rng_seed(&r, seed);
    for (size_t j = 0; j < m; j++) x[j] = scale * mdatt_rng_normal(&r);
}

static double ref_norm(const double *x, size_t m, double p)
{
    long double s = 0;
    if (isinf(p)) {
        double a = 0;
        for (size_t j = 0; j < m; j++) a = fmax(a, fabs(x[j]));
        return a;
    }
    for (size_t j = 0; j < m; j++) s += powl(fabsl(x[j]), p);
    return (double)powl(s, 1.0L / p);
}

static double relerr(double a, double b) { return fabs(a - b) / fmax(fabs(b), DBL_MIN); }

Test(mirror, norms_match_pow_reference)
{
    double x[M];
    const double ps[] = {1.0, 1.25, 1.5, 1.75, 2.0, 7.0 / 3.0, 3.0, 4.5, 9.0, INFINITY};
    fill(x, M, 7, 1.0);
    x[3] = 0.0;
    for (size_t k = 0; k < sizeof ps / sizeof *ps; k++) {
        double got = mdatt_norm_p(x, M, ps[k]), want = ref_norm(x, M, ps[k]);
        cr_expect(relerr(got, want) < 1e-14, "p=%g: %.17g vs %.17g", ps[k], got, want);
    }
}

Test(mirror, norms_do_not_overflow_or_underflow)
{
    double x[M], y[M];
    fill(x, M, 8, 1.0);
    for (size_t k = 0; k < NP; k++) {
        double base = mdatt_norm_p(x, M, P[k]);
        for (size_t j = 0; j < M; j++) y[j] = x[j] * 0x1p900;
        cr_expect(relerr(mdatt_norm_p(y, M, P[k]), base * 0x1p900) < 1e-14, "p=%g big", P[k]);
        for (size_t j = 0; j < M; j++) y[j] = x[j] * 0x1p-900;
        cr_expect(relerr(mdatt_norm_p(y, M, P[k]), base * 0x1p-900) < 1e-14, "p=%g small", P[k]);
    }
    cr_expect(mdatt_norm_p(x, 0, 2.0) == 0.0);
}

Test(mirror, dual_exponent_and_holder)
{
    double x[M], y[M];
    cr_expect(isinf(mdatt_dual_exponent(1.0)));
    cr_expect(mdatt_dual_exponent(INFINITY) == 1.0);
    cr_expect(mdatt_dual_exponent(2.0) == 2.0);
    cr_expect(mdatt_dual_exponent(3.0) == 1.5);
    cr_expect(relerr(mdatt_dual_exponent(1.75), 7.0 / 3.0) < 1e-15);
    fill(x, M, 9, 1.0);
    fill(y, M, 10, 1.0);
    for (size_t k = 0; k < NP; k++) {
        double q = mdatt_dual_exponent(P[k]), dot = 0;
        cr_expect(relerr(1.0 / P[k] + 1.0 / q, 1.0) < 1e-15);
        for (size_t j = 0; j < M; j++) dot += x[j] * y[j];
        cr_expect(fabs(dot) <= mdatt_norm_p(x, M, P[k]) * mdatt_norm_p(y, M, q) * (1 + 1e-14));
        /* equality case of Hoelder: <grad psi(x), x> = ||x||_p^p = ||grad psi(x)||_q^q */
        mdatt_mirror_map(x, y, M, P[k]);
        dot = 0;
        for (size_t j = 0; j < M; j++) dot += x[j] * y[j];
        cr_expect(relerr(dot, pow(mdatt_norm_p(x, M, P[k]), P[k])) < 1e-13, "p=%g", P[k]);
        cr_expect(relerr(pow(mdatt_norm_p(y, M, q), q), dot) < 1e-13, "p=%g", P[k]);
    }
}

Test(mirror, maps_match_pow_reference)
{
    double w[M], t[M], back[M];
    fill(w, M, 11, 3.0);
    w[0] = 0.0;
    w[1] = -0.0;
    w[2] = 1e-30;
    w[3] = -1e30;
    for (size_t k = 0; k < NP; k++) {
        double p = P[k];
        mdatt_mirror_map(w, t, M, p);
        for (size_t j = 0; j < M; j++) {
            double want = copysign(pow(fabs(w[j]), p - 1.0), w[j]);
            cr_expect(relerr(t[j], want) < 8 * DBL_EPSILON, "p=%g map w=%g: %.17g vs %.17g",
                      p, w[j], t[j], want);
        }
        mdatt_mirror_inverse(t, back, M, p);
        for (size_t j = 0; j < M; j++) {
            /* 1/(p-1) = 4/3 is not a double: the reference uses cbrt */
            double want = p == 1.75 ? t[j] * cbrt(fabs(t[j]))
                                    : copysign(pow(fabs(t[j]), 1.0 / (p - 1.0)), t[j]);
            cr_expect(relerr(back[j], want) < 8 * DBL_EPSILON, "p=%g inverse t=%g", p, t[j]);
            cr_expect(relerr(back[j], w[j]) < 1e-13, "p=%g round trip w=%g got %g", p, w[j],
                      back[j]);
        }
        /* in place */
        for (size_t j = 0; j < M; j++) back[j] = w[j];
        mdatt_mirror_map(back, back, M, p);
        mdatt_mirror_inverse(back, back, M, p);
        for (size_t j = 0; j < M; j++) cr_expect(relerr(back[j], w[j]) < 1e-13);
    }
}

Test(mirror, p2_maps_are_identity_to_the_bit)
{
    double w[M], t[M];
    fill(w, M, 12, 1.0);
    mdatt_mirror_map(w, t, M, 2.0);
    cr_expect(memcmp(w, t, sizeof w) == 0);
    mdatt_mirror_inverse(w, t, M, 2.0);
    cr_expect(memcmp(w, t, sizeof w) == 0);
}

Test(mirror, cube_root_kernel_handles_subnormals_and_specials)
{
    /* p = 1.75 uses a pow-free cube root; subnormal inputs take libm */
    double t[8] = {1e-310, -4e-320, 8.0, -27.0, 0.0, 1e308, -1e-308, 2.0};
    double w[8];
    mdatt_mirror_inverse(t, w, 8, 1.75);
    for (int j = 0; j < 8; j++) {
        double want = t[j] * cbrt(fabs(t[j]));
        cr_expect(w[j] == want || relerr(w[j], want) < 8 * DBL_EPSILON, "t=%g: %g vs %g", t[j],
                  w[j], want);
    }
    cr_expect(isinf(w[5]) && w[4] == 0.0);
}

Test(mirror, bregman_nonnegative_zero_on_diagonal_three_point)
{
    double a[M], b[M], c[M], ga[M], gb[M], gc[M];
    fill(a, M, 13, 1.0);
    fill(b, M, 14, 1.0);
    fill(c, M, 15, 2.0);
    for (size_t k = 0; k < NP; k++) {
        double p = P[k], lhs, rhs = 0, dab, dbc, dac;
        cr_expect(mdatt_bregman(a, a, M, p) == 0.0, "p=%g", p);
        dab = mdatt_bregman(a, b, M, p);
        dbc = mdatt_bregman(b, c, M, p);
        dac = mdatt_bregman(a, c, M, p);
        cr_expect(dab > 0 && dbc > 0 && dac > 0);
        /* D(a,b) = psi(a) - psi(b) - <grad psi(b), a - b>, by definition */
        mdatt_mirror_map(a, ga, M, p);
        mdatt_mirror_map(b, gb, M, p);
        mdatt_mirror_map(c, gc, M, p);
        for (size_t j = 0; j < M; j++) rhs += gb[j] * (a[j] - b[j]);
        rhs = mdatt_psi(a, M, p) - mdatt_psi(b, M, p) - rhs;
        cr_expect(relerr(dab, rhs) < 1e-12, "p=%g def: %g vs %g", p, dab, rhs);
        /* three-point identity: D(a,b) + D(b,c) - D(a,c) = <grad psi(c) - grad psi(b), a - b> */
        lhs = dab + dbc - dac;
        rhs = 0;
        for (size_t j = 0; j < M; j++) rhs += (gc[j] - gb[j]) * (a[j] - b[j]);
        cr_expect(fabs(lhs - rhs) < 1e-12 * (dab + dbc + dac), "p=%g: %g vs %g", p, lhs, rhs);
        (void)ga;
    }
}

Test(mirror, psi_is_norm_to_the_p_over_p)
{
    double a[M];
    fill(a, M, 16, 1.0);
    for (size_t k = 0; k < NP; k++)
        cr_expect(relerr(mdatt_psi(a, M, P[k]), pow(ref_norm(a, M, P[k]), P[k]) / P[k]) < 1e-13);
}

Test(mirror, directional_bregman_range_and_cosine)
{
    double a[M], b[M], na[M];
    fill(a, M, 17, 1.0);
    fill(b, M, 18, 1.0);
    for (size_t j = 0; j < M; j++) na[j] = -a[j];
    for (size_t k = 0; k < NP; k++) {
        double p = P[k], s[M];
        double dab = mdatt_bregman_dir(a, b, M, p);
        cr_expect(dab >= 0 && dab <= 2, "p=%g: %g", p, dab);
        for (size_t j = 0; j < M; j++) s[j] = 7.5 * a[j];
        cr_expect(mdatt_bregman_dir(s, a, M, p) < 1e-14, "scale invariance p=%g", p);
        cr_expect(fabs(mdatt_bregman_dir(na, a, M, p) - 2.0) < 1e-13, "opposite p=%g", p);
    }
    cr_expect(isnan(mdatt_bregman_dir(a, (double[M]){0}, M, 2.0)));
    cr_expect(fabs(mdatt_cosine(a, a, M) - 1.0) < 1e-15);
    cr_expect(fabs(mdatt_cosine(a, na, M) + 1.0) < 1e-15);
    {
        double dot = 0, c = mdatt_cosine(a, b, M);
        for (size_t j = 0; j < M; j++) dot += a[j] * b[j];
        cr_expect(relerr(c, dot / (ref_norm(a, M, 2) * ref_norm(b, M, 2))) < 1e-13);
    }
}

/* Degenerate arguments: the zero vector has norm 0 for every p; the
 * directional divergence and the cosine are NaN when a norm is 0 or
 * infinite (an infinite entry, or finite entries whose 2-norm overflows)
 * and for empty vectors, never a finite number. */
Test(mirror, degenerate_norms_divergences_and_cosines)
{
    double a[M], z[M] = {0}, ai[M], big[M];
    const double big2[2] = {DBL_MAX, DBL_MAX}, one2[2] = {1, 2};
    fill(a, M, 21, 1.0);
    for (size_t j = 0; j < M; j++) {
        ai[j] = a[j];
        big[j] = DBL_MAX;
    }
    ai[M / 2] = -INFINITY;
    for (size_t k = 0; k < NP; k++) {
        cr_expect(mdatt_norm_p(z, M, P[k]) == 0.0, "p=%g: norm of 0", P[k]);
        cr_expect(isnan(mdatt_bregman_dir(z, a, M, P[k])), "p=%g: D(0, a)", P[k]);
        cr_expect(isnan(mdatt_bregman_dir(ai, a, M, P[k])), "p=%g: D(a with -inf, a)", P[k]);
        cr_expect(isnan(mdatt_bregman_dir(a, ai, M, P[k])), "p=%g: D(a, a with -inf)", P[k]);
    }
    cr_expect(mdatt_norm_p(z, M, 1.0) == 0.0 && mdatt_norm_p(z, M, 20.0) == 0.0);
    cr_expect(isinf(mdatt_norm_p(big, M, 2.0)), "the 2-norm of DBL_MAX entries overflows");
    cr_expect(isnan(mdatt_bregman_dir(big, a, M, 2.0)) && isnan(mdatt_bregman_dir(a, big, M, 2.0)));
    cr_expect(isnan(mdatt_cosine(big2, one2, 2)) && isnan(mdatt_cosine(one2, big2, 2)));
    cr_expect(isnan(mdatt_cosine(ai, a, M)) && isnan(mdatt_cosine(a, ai, M)));
    cr_expect(isnan(mdatt_cosine(a, z, M)) && isnan(mdatt_cosine(z, a, M)));
    cr_expect(isnan(mdatt_cosine(a, a, 0)) && isnan(mdatt_bregman_dir(a, a, 0, 2.0)));
}
