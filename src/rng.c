/* rng.c - portable seeded RNG: SplitMix64 seeding xoshiro256** (Blackman and
 * Vigna, "Scrambled linear pseudorandom number generators", 2021), uniform
 * doubles with 53 bits, and Marsaglia's polar method for normal deviates.
 *
 * Every operation here is an IEEE-754 basic operation (+ - * / sqrt, all
 * correctly rounded) or exact (frexp), and the logarithm is our own, so a seed
 * gives the same numbers on every platform and libc.  Compiled as ISO C11,
 * GCC does not contract a*b+c into FMA (-ffp-contract=off in ISO modes).
 */
#include <math.h>
#include "mdatt.h"

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static inline uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

void mdatt_rng_seed(mdatt_rng *r, uint64_t seed)
{
    uint64_t x = seed;
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&x);
    r->has_spare = 0;
    r->spare = 0.0;
}

uint64_t mdatt_rng_next(mdatt_rng *r)
{
    uint64_t *s = r->s;
    const uint64_t result = rotl(s[1] * 5, 7) * 9;
    const uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double mdatt_rng_uniform(mdatt_rng *r)
{
    return (double)(mdatt_rng_next(r) >> 11) * 0x1.0p-53;
}

/* log x = e ln 2 + log(1 + f), x = (1 + f) 2^e with 1 + f in [sqrt(1/2), sqrt(2)).
 * With s = f/(2 + f), log(1 + f) = 2 atanh(s) = f - hf + s (hf + R), hf = f^2/2,
 * R = sum_{k>=1} 2 s^{2k}/(2k+1) (the arrangement of fdlibm's e_log.c, with
 * Taylor coefficients: |s| <= 0.1716, so 12 terms reach 1e-18).  ln 2 is split
 * so that e ln2_hi is exact. */
double mdatt_portable_log(double x)
{
    if (!(x > 0.0))
        return x == 0.0 ? -INFINITY : NAN;
    if (isinf(x))
        return x;
    int e;
    double m = frexp(x, &e);            /* x = m 2^e, m in [0.5, 1) */
    if (m < 0.70710678118654752440) {
        m *= 2.0;
        e -= 1;
    }
    const double f = m - 1.0;           /* exact (Sterbenz) */
    const double s = f / (2.0 + f), z = s * s;
    double R = 0.0;
    for (int k = 12; k >= 1; k--)
        R = z * (2.0 / (2 * k + 1) + R);
    const double hf = 0.5 * f * f;
    const double ln2_hi = 6.93147180369123816490e-01; /* 0x3fe62e42fee00000 */
    const double ln2_lo = 1.90821492927058770002e-10; /* 0x3dea39ef35793c76 */
    return e * ln2_hi - ((hf - (s * (hf + R) + e * ln2_lo)) - f);
}

double mdatt_rng_normal(mdatt_rng *r)
{
    if (r->has_spare) {
        r->has_spare = 0;
        return r->spare;
    }
    double u, v, s;
    do {
        u = 2.0 * mdatt_rng_uniform(r) - 1.0;
        v = 2.0 * mdatt_rng_uniform(r) - 1.0;
        s = u * u + v * v;
    } while (s >= 1.0 || s == 0.0);
    const double f = sqrt(-2.0 * mdatt_portable_log(s) / s);
    r->spare = v * f;
    r->has_spare = 1;
    return u * f;
}
