/* mirror.c - l_p norms, the potential psi(W) = ||W||_p^p / p, its mirror map
 * and inverse, Bregman divergences and the cosine (SPEC section 1, "Mirror
 * descent", "Bregman divergence").
 *
 * The trainer calls the mirror maps and dual norms once per step, so the
 * exponents of the paper's experiments have pow-free kernels:
 *   p = 2    : identity maps, q = 2;
 *   p = 3    : inverse exponent 1/2 (sqrt), q = 3/2 (|g| sqrt|g|);
 *   p = 1.75 : inverse exponent 4/3 (t cbrt|t|), q = 7/3 (g^2 cbrt|g|).
 * Every other real p > 1 goes through pow. */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "internal.h"

/* ------------------------------------------------------------ cube root */

/* x^(1/3) for x = 0 or DBL_MIN <= x < inf, within a few ulp: a bit-level
 * guess of x^(-1/3) refined by two fourth-order Newton steps
 * r <- r (1 + e/3 + 2e^2/9 + 14e^3/81), e = 1 - x r^3, then x r^2.
 * Branch-free and division-free (glibc's cbrt costs ~20 ns; this ~3 ns). */
static inline double cbrt_fast(double x)
{
    uint64_t b;
    double r, e;
    memcpy(&b, &x, sizeof b);
    b = UINT64_C(0x553ef0ff289dd796) - b / 3;
    memcpy(&r, &b, sizeof r);
    e = 1.0 - x * r * r * r;
    r = r + r * e * (1.0 / 3.0 + e * (2.0 / 9.0 + e * (14.0 / 81.0)));
    e = 1.0 - x * r * r * r;
    r = r + r * e * (1.0 / 3.0 + e * (2.0 / 9.0 + e * (14.0 / 81.0)));
    return x * r * r;
}

/* 1 if cbrt_fast is not valid for |x| (subnormal, infinite or NaN). */
static inline int cbrt_bad(double ax)
{
    return !(ax < INFINITY) || (ax != 0.0 && ax < DBL_MIN);
}

static int is_7_3(double q) { return q == 7.0 / 3.0; }

/* --------------------------------------------------------------- kernels */

double mdatt__pow_sum(const double *x, size_t m, double q)
{
    double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    size_t j = 0;
    if (q == 2.0) {
        for (; j + 4 <= m; j += 4) {
            s0 += x[j] * x[j]; s1 += x[j + 1] * x[j + 1];
            s2 += x[j + 2] * x[j + 2]; s3 += x[j + 3] * x[j + 3];
        }
        for (; j < m; j++) s0 += x[j] * x[j];
    } else if (q == 1.0) {
        for (; j < m; j++) s0 += fabs(x[j]);
    } else if (q == 1.5) {
        for (; j < m; j++) { double a = fabs(x[j]); s0 += a * sqrt(a); }
    } else if (q == 3.0) {
        for (; j < m; j++) { double a = fabs(x[j]); s0 += a * a * a; }
    } else if (is_7_3(q)) {
        int bad = 0;
        for (; j < m; j++) {
            double a = fabs(x[j]);
            bad |= cbrt_bad(a);
            s0 += a * a * cbrt_fast(a);
        }
        if (bad) {
            s0 = 0;
            for (j = 0; j < m; j++) { double a = fabs(x[j]); s0 += a * a * cbrt(a); }
        }
    } else {
        for (; j < m; j++) s0 += pow(fabs(x[j]), q);
    }
    return (s0 + s1) + (s2 + s3);
}

double mdatt__qnorm_fast(const double *x, size_t m, double q)
{
    double s = mdatt__pow_sum(x, m, q);
    if (q == 2.0) return sqrt(s);
    if (q == 1.0) return s;
    if (q == 1.5) return cbrt(s * s);
    return pow(s, 1.0 / q);
}

/* ----------------------------------------------------------------- norms */

double mdatt_norm_p(const double *x, size_t m, double p)
{
    double amax = 0, s = 0;
    size_t j;
    for (j = 0; j < m; j++) {
        double a = fabs(x[j]);
        if (!(a <= amax)) amax = a;         /* NaN propagates */
    }
    if (m == 0 || amax == 0.0 || isnan(amax) || isinf(amax) || isinf(p)) return amax;
    if (p == 1.0) return mdatt__pow_sum(x, m, 1.0);
    if (amax >= 0x1p-100 && amax <= 0x1p100 && p <= 8.0)
        return mdatt__qnorm_fast(x, m, p);
    /* rescaled by the largest entry: no overflow or underflow */
    for (j = 0; j < m; j++) s += pow(fabs(x[j]) / amax, p);
    return amax * pow(s, 1.0 / p);
}

double mdatt_dual_exponent(double p)
{
    if (p == 1.0) return INFINITY;
    if (isinf(p)) return 1.0;
    return p / (p - 1.0);
}

double mdatt_psi(const double *W, size_t m, double p)
{
    if (p == 1.75) {        /* |w|^(7/4) = |w| sqrt(|w| sqrt|w|) */
        double s = 0;
        for (size_t j = 0; j < m; j++) {
            double a = fabs(W[j]);
            s += a * sqrt(a * sqrt(a));
        }
        return s / p;
    }
    return mdatt__pow_sum(W, m, p) / p;
}

/* ------------------------------------------------------------ mirror map */

void mdatt_mirror_map(const double *W, double *theta, size_t m, double p)
{
    size_t j;
    if (p == 2.0) {
        if (theta != W) memmove(theta, W, m * sizeof *W);
    } else if (p == 3.0) {
        for (j = 0; j < m; j++) theta[j] = W[j] * fabs(W[j]);
    } else if (p == 1.75) {        /* |w|^(3/4) = sqrt(|w| sqrt|w|) */
        for (j = 0; j < m; j++) {
            double a = fabs(W[j]);
            theta[j] = copysign(sqrt(a * sqrt(a)), W[j]);
        }
    } else if (p == 1.0) {
        for (j = 0; j < m; j++) theta[j] = W[j] > 0 ? 1.0 : W[j] < 0 ? -1.0 : 0.0;
    } else {
        for (j = 0; j < m; j++) theta[j] = copysign(pow(fabs(W[j]), p - 1.0), W[j]);
    }
}

void mdatt_mirror_inverse(const double *theta, double *W, size_t m, double p)
{
    size_t j;
    if (p == 2.0) {
        if (theta != W) memmove(W, theta, m * sizeof *W);
    } else if (p == 3.0) {
        for (j = 0; j < m; j++) W[j] = copysign(sqrt(fabs(theta[j])), theta[j]);
    } else if (p == 1.75) {
        int bad = 0;
        for (j = 0; j < m; j++) {
            double t = theta[j], a = fabs(t);
            bad |= cbrt_bad(a);
            W[j] = t * cbrt_fast(a);
        }
        if (bad)
            for (j = 0; j < m; j++) W[j] = theta[j] * cbrt(fabs(theta[j]));
    } else {
        double e = 1.0 / (p - 1.0);
        for (j = 0; j < m; j++) W[j] = copysign(pow(fabs(theta[j]), e), theta[j]);
    }
}

/* ------------------------------------------------------------- Bregman */

/* One coordinate of D_psi: |a|^p/p - |b|^p/p - sign(b)|b|^(p-1)(a - b) >= 0
 * (convexity of |.|^p/p); summing non-negative terms keeps small
 * divergences accurate. */
static double breg_term(double a, double b, double p)
{
    double t;
    if (p == 2.0) {
        t = 0.5 * (a - b) * (a - b);
    } else {
        double ab = fabs(b), bp1 = pow(ab, p - 1.0);
        t = pow(fabs(a), p) / p - ab * bp1 / p - copysign(bp1, b) * (a - b);
    }
    return t > 0 ? t : 0.0;
}

double mdatt_bregman(const double *A, const double *B, size_t m, double p)
{
    double s = 0;
    for (size_t j = 0; j < m; j++) s += breg_term(A[j], B[j], p);
    return s;
}

double mdatt_bregman_dir(const double *A, const double *B, size_t m, double p)
{
    double na = mdatt_norm_p(A, m, p), nb = mdatt_norm_p(B, m, p), s = 0;
    if (!(na > 0) || !(nb > 0) || isinf(na) || isinf(nb)) return NAN;
    for (size_t j = 0; j < m; j++) s += breg_term(A[j] / na, B[j] / nb, p);
    return s < 2.0 ? s : 2.0;
}

double mdatt_cosine(const double *A, const double *B, size_t m)
{
    double na = mdatt_norm_p(A, m, 2.0), nb = mdatt_norm_p(B, m, 2.0), s = 0;
    if (!(na > 0) || !(nb > 0) || isinf(na) || isinf(nb)) return NAN;
    for (size_t j = 0; j < m; j++) s += (A[j] / na) * (B[j] / nb);
    return s > 1.0 ? 1.0 : s < -1.0 ? -1.0 : s;
}
