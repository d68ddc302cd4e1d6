/* splitmix.h - the oracle tests' uniform numbers: splitmix64 mapped to
 * (0, 1).  The oracle's tests draw their instances with it instead of the
 * trainer's RNG (src/rng.c), so that they depend on libattsvm alone. */
#ifndef MDATT_TESTS_SPLITMIX_H
#define MDATT_TESTS_SPLITMIX_H

#include <stdint.h>

static inline double unif(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return ((double)(z >> 11) + 0.5) / 9007199254740992.0;
}

#endif
