/* rng.h - small deterministic random numbers (splitmix64).
 * Every random choice in lgcn goes through these, seeded from --seed, so
 * runs are reproducible bit for bit. */
#ifndef LGCN_RNG_H
#define LGCN_RNG_H

#include <math.h>
#include <stdint.h>

typedef struct {
    uint64_t s;
} lgcn_rng;

static inline void lgcn_rng_seed(lgcn_rng *r, uint64_t seed) { r->s = seed; }

/* splitmix64: full-period 2^64 generator with a strong output mix. */
static inline uint64_t lgcn_rng_next(lgcn_rng *r)
{
    uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Uniform integer in [0, n), n >= 1, without modulo bias (Lemire's
 * multiply-shift with rejection of the short interval). */
static inline uint64_t lgcn_rng_below(lgcn_rng *r, uint64_t n)
{
    uint64_t x = lgcn_rng_next(r);
    __uint128_t m = (__uint128_t)x * n;
    uint64_t lo = (uint64_t)m;
    if (lo < n) {
        uint64_t t = (0 - n) % n;
        while (lo < t) {
            x = lgcn_rng_next(r);
            m = (__uint128_t)x * n;
            lo = (uint64_t)m;
        }
    }
    return (uint64_t)(m >> 64);
}

/* Uniform double in [0, 1) with 53 random bits. */
static inline double lgcn_rng_unif(lgcn_rng *r)
{
    return (double)(lgcn_rng_next(r) >> 11) * 0x1.0p-53;
}

/* Standard normal via Box-Muller (one value per call; simple, exact enough
 * for initialisation). */
static inline double lgcn_rng_normal(lgcn_rng *r)
{
    double u1 = lgcn_rng_unif(r), u2 = lgcn_rng_unif(r);
    if (u1 < 1e-300) u1 = 1e-300;
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586476925 * u2);
}

#endif
