/* mirror.c - l_p norms, the potential psi(W) = ||W||_p^p / p, its mirror map
 * and inverse, Bregman divergences and the cosine (design.md (6)-(8),
 * (10)-(12)).
 *
 * The trainer calls the mirror maps and dual norms once per step, so the
 * exponents of the paper's experiments have pow-free kernels:
 *   p = 2    : identity maps, q = 2;
 *   p = 3    : inverse exponent 1/2 (sqrt), q = 3/2 (|g| sqrt|g|);
 *   p = 1.75 : inverse exponent 4/3 (t cbrt|t|), q = 7/3 (g^2 cbrt|g|),
 *              |w|^1.75 = |w| sqrt(|w| sqrt|w|).
 * Every other real p > 1 goes through pow. */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "internal.h"

/* ------------------------------------------------------------ cube root */

/* x^(1/3) for x = 0 or DBL_MIN <= x < inf, within a few ulp: a bit-level
 * guess of x^(-1/3) (bits(x)/3 taken through an exact double conversion, so
 * that it vectorizes) refined by two fourth-order Newton steps
 * r <- r (1 + e/3 + 2e^2/9 + 14e^3/81), e = 1 - x r^3, then x r^2.
 * Division-free; T_ is double or mdatt_v4d (U_ the matching integer type). */
#define CBRT_BODY(T_, U_, x_, out_) do {                                          \
    const T_ xx_ = (x_);                                                         \
    U_ b_, t_;                                                                   \
    T_ db_, r_, e_;                                                              \
    memcpy(&b_, &xx_, sizeof b_);                                                \
    t_ = (b_ >> 12) | UINT64_C(0x4330000000000000);                              \
    memcpy(&db_, &t_, sizeof db_);                                               \
    db_ = (db_ - 0x1p52) * (1.0 / 3.0) + 0x1p52;                                 \
    memcpy(&t_, &db_, sizeof t_);                                                \
    b_ = UINT64_C(0x553ef0ff289dd796) - ((t_ & UINT64_C(0xfffffffffffff)) << 12); \
    memcpy(&r_, &b_, sizeof r_);                                                 \
    e_ = 1.0 - xx_ * r_ * r_ * r_;                                               \
    r_ = r_ + r_ * e_ * (1.0 / 3.0 + e_ * (2.0 / 9.0 + e_ * (14.0 / 81.0)));      \
    e_ = 1.0 - xx_ * r_ * r_ * r_;                                               \
    r_ = r_ + r_ * e_ * (1.0 / 3.0 + e_ * (2.0 / 9.0 + e_ * (14.0 / 81.0)));      \
    (out_) = xx_ * r_ * r_;                                                      \
} while (0)

MDATT_INLINE double cbrt_fast(double x)
{
    double y;
    CBRT_BODY(double, uint64_t, x, y);
    return y;
}

#define ABS4(x) ((mdatt_v4d)((mdatt_v4u)(x) & UINT64_C(0x7fffffffffffffff)))
/* lanes where cbrt_fast is not valid (subnormal, infinite, NaN): -1 */
#define BAD4(a) ({ const mdatt_v4i b_ = (mdatt_v4i)(a);                          \
    (b_ >= INT64_C(0x7ff0000000000000)) | ((b_ != 0) & (b_ < INT64_C(0x0010000000000000))); })

/* 1 if cbrt_fast is not valid for |x| (subnormal, infinite or NaN). */
MDATT_INLINE int cbrt_bad(double ax)
{
    return !(ax < INFINITY) || (ax != 0.0 && ax < DBL_MIN);
}

/* Correctly rounded square roots of 4 lanes (SSE2 sqrtpd, baseline on
 * x86-64; VEX-encoded in the AVX2 clone). */
#if defined(__GNUC__) && defined(__x86_64__) && !defined(__clang__)
typedef double v2d __attribute__((vector_size(16)));
#define SQRT4(x, out) do {                                                       \
    const mdatt_v4d x_ = (x);                                                    \
    v2d lo_ = {x_[0], x_[1]}, hi_ = {x_[2], x_[3]};                              \
    lo_ = __builtin_ia32_sqrtpd(lo_);                                            \
    hi_ = __builtin_ia32_sqrtpd(hi_);                                            \
    (out) = (mdatt_v4d){lo_[0], lo_[1], hi_[0], hi_[1]};                         \
} while (0)
#else
#define SQRT4(x, out) do {                                                       \
    const mdatt_v4d x_ = (x);                                                    \
    (out) = (mdatt_v4d){sqrt(x_[0]), sqrt(x_[1]), sqrt(x_[2]), sqrt(x_[3])};     \
} while (0)
#endif

static int is_7_3(double q) { return q == 7.0 / 3.0; }

/* --------------------------------------------------------------- kernels */

MDATT_HOT
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
        mdatt_v4d acc = {0, 0, 0, 0};
        for (; j + 4 <= m; j += 4) {
            const mdatt_v4d a = ABS4(MDATT_LD4(x + j));
            mdatt_v4d r;
            SQRT4(a, r);
            acc += a * r;
        }
        s1 = MDATT_HSUM(acc);
        for (; j < m; j++) { double a = fabs(x[j]); s0 += a * sqrt(a); }
    } else if (q == 1.75) {
        for (; j < m; j++) { double a = fabs(x[j]); s0 += a * sqrt(a * sqrt(a)); }
    } else if (q == 3.0) {
        for (; j < m; j++) { double a = fabs(x[j]); s0 += a * a * a; }
    } else if (is_7_3(q)) {
        int bad = 0;
        mdatt_v4d acc = {0, 0, 0, 0};
        mdatt_v4i bv = {0, 0, 0, 0};
        for (; j + 4 <= m; j += 4) {
            const mdatt_v4d a = ABS4(MDATT_LD4(x + j));
            mdatt_v4d c;
            bv |= BAD4(a);
            CBRT_BODY(mdatt_v4d, mdatt_v4u, a, c);
            acc += a * a * c;
        }
        s1 = MDATT_HSUM(acc);
        bad = (bv[0] | bv[1] | bv[2] | bv[3]) != 0;
        for (; j < m; j++) {
            double a = fabs(x[j]);
            bad |= cbrt_bad(a);
            s0 += a * a * cbrt_fast(a);
        }
        if (bad) {
            s0 = s1 = 0;
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

MDATT_HOT
void mdatt_mirror_inverse(const double *theta, double *W, size_t m, double p)
{
    size_t j;
    if (MDATT_FAULT("inverse_exponent")) {
        mdatt__mirror_inverse_faulty(theta, W, m, p);
    } else if (p == 2.0) {
        if (theta != W) memmove(W, theta, m * sizeof *W);
    } else if (p == 3.0) {
        for (j = 0; j + 4 <= m; j += 4) {
            const mdatt_v4d t = MDATT_LD4(theta + j);
            const mdatt_v4u sign = (mdatt_v4u)t & UINT64_C(0x8000000000000000);
            mdatt_v4d r;
            SQRT4(ABS4(t), r);
            MDATT_ST4(W + j, (mdatt_v4d)((mdatt_v4u)r | sign));
        }
        for (; j < m; j++) W[j] = copysign(sqrt(fabs(theta[j])), theta[j]);
    } else if (p == 1.75) {
        int bad = 0;
        mdatt_v4i bv = {0, 0, 0, 0};
        for (j = 0; j + 4 <= m; j += 4) {
            const mdatt_v4d t = MDATT_LD4(theta + j), a = ABS4(t);
            mdatt_v4d c;
            bv |= BAD4(a);
            CBRT_BODY(mdatt_v4d, mdatt_v4u, a, c);
            MDATT_ST4(W + j, t * c);
        }
        bad = (bv[0] | bv[1] | bv[2] | bv[3]) != 0;
        for (; j < m; j++) {
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
    if (a == b) return 0.0;
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
