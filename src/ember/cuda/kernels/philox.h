/* Counter-based random numbers: Philox4x32-10 and the per-element transforms.
 *
 * Header-only, plain arithmetic and libm, so that the CPU loops (random.c) and a
 * CUDA kernel compute the same numbers from the same (seed, offset, index):
 * bit for bit for uniforms, integers, Bernoulli draws and permutations; for
 * normals and exponentials up to the last bits of the transcendental functions
 * (and of fused multiply-adds, unless device code is built with -fmad=false).
 *
 * The scheme.  A request of n values from a generator whose state is
 * (seed, offset) splits into Philox blocks; block b is
 *     philox4x32_10(counter = {b_lo, b_hi, offset_lo, offset_hi},
 *                   key     = {seed_lo, seed_hi})
 * and yields four 32-bit words.  Each distribution takes a fixed number of
 * values from one block (EM_RNG_PER_BLOCK_*), so value i of the request comes
 * from block i / per_block alone: the result never depends on how the work is
 * split between threads or GPU blocks.  The generator's offset then advances by
 * the number of blocks used, so the next request uses fresh counters.
 */
#ifndef EMBER_PHILOX_H
#define EMBER_PHILOX_H

#if !defined(__CUDACC_RTC__) && !defined(EM_CUDA_NO_HOST_HEADERS)
#include <stdint.h>
#include <string.h>
#include <math.h>
#endif  /* NVRTC: the fixed-width types come from ember_cuda.cuh, the math is built in */

#if defined(__CUDACC__) || defined(__HIPCC__)
#define EM_RNG_FN static __host__ __device__ __forceinline__
#else
#define EM_RNG_FN static inline
#endif

/* Values each distribution takes from one Philox block (four 32-bit words). */
enum {
    EM_RNG_PER_BLOCK_UNIFORM32 = 4,  /* float uniforms from 32-bit words */
    EM_RNG_PER_BLOCK_UNIFORM64 = 2,  /* double uniforms from 64-bit words */
    EM_RNG_PER_BLOCK_NORMAL32 = 4,   /* two Box-Muller pairs from 32-bit words */
    EM_RNG_PER_BLOCK_NORMAL64 = 2,   /* one Box-Muller pair from 64-bit uniforms */
    EM_RNG_PER_BLOCK_INT_SMALL = 2,  /* integers in a range of at most 2^32: 64-bit draws */
    EM_RNG_PER_BLOCK_INT_LARGE = 1,  /* wider ranges: one 128-bit draw each */
    EM_RNG_PER_BLOCK_BERNOULLI = 2,  /* compares of 53-bit uniforms */
    EM_RNG_PER_BLOCK_EXPONENTIAL = 2,
    EM_RNG_PER_BLOCK_KEYS = 2        /* 64-bit sort keys (randperm) */
};

typedef struct {
    uint32_t w[4];
} em_u32x4;

/* ------------------------------------------------------------------ Philox */

#define EM_PHILOX_M0 0xD2511F53u
#define EM_PHILOX_M1 0xCD9E8D57u
#define EM_PHILOX_W0 0x9E3779B9u
#define EM_PHILOX_W1 0xBB67AE85u

EM_RNG_FN em_u32x4 em_philox_round(em_u32x4 c, uint32_t k0, uint32_t k1)
{
    uint64_t p0 = (uint64_t)EM_PHILOX_M0 * c.w[0];
    uint64_t p1 = (uint64_t)EM_PHILOX_M1 * c.w[2];
    em_u32x4 r;
    r.w[0] = (uint32_t)(p1 >> 32) ^ c.w[1] ^ k0;
    r.w[1] = (uint32_t)p1;
    r.w[2] = (uint32_t)(p0 >> 32) ^ c.w[3] ^ k1;
    r.w[3] = (uint32_t)p0;
    return r;
}

/* Philox4x32 with 10 rounds (Salmon et al., SC'11; Random123's philox4x32_R). */
EM_RNG_FN em_u32x4 em_philox4x32_10(em_u32x4 ctr, uint32_t k0, uint32_t k1)
{
    for (int round = 0; round < 10; round++) {
        if (round > 0) {
            k0 += EM_PHILOX_W0;
            k1 += EM_PHILOX_W1;
        }
        ctr = em_philox_round(ctr, k0, k1);
    }
    return ctr;
}

/* The four words of block `block` for a generator state (seed, offset). */
EM_RNG_FN em_u32x4 em_rng_block(uint64_t seed, uint64_t offset, uint64_t block)
{
    em_u32x4 ctr;
    ctr.w[0] = (uint32_t)block;
    ctr.w[1] = (uint32_t)(block >> 32);
    ctr.w[2] = (uint32_t)offset;
    ctr.w[3] = (uint32_t)(offset >> 32);
    return em_philox4x32_10(ctr, (uint32_t)seed, (uint32_t)(seed >> 32));
}

/* Blocks a request of n values uses when each block gives per_block of them. */
EM_RNG_FN uint64_t em_rng_blocks(int64_t n, int per_block)
{
    return n > 0 ? (uint64_t)((n + per_block - 1) / per_block) : 0;
}

EM_RNG_FN uint64_t em_rng_word64(em_u32x4 r, int half)
{
    return (uint64_t)r.w[2 * half] | ((uint64_t)r.w[2 * half + 1] << 32);
}

/* ------------------------------------------------------------------ uniforms */

/* [0, 1) from the top `bits` bits (<= 24) of a 32-bit word: exact in float, and in
   float16 (bits = 11) or bfloat16 (bits = 8) after rounding, so 1 is never reached. */
EM_RNG_FN float em_rng_unit_f32(uint32_t word, int bits)
{
    return (float)(word >> (32 - bits)) * (1.0f / (float)(1u << bits));
}

/* [0, 1) from the top 53 bits of a 64-bit word. */
EM_RNG_FN double em_rng_unit_f64(uint64_t word)
{
    return (double)(word >> 11) * 0x1.0p-53;
}

/* (0, 1] from the top 53 bits of a 64-bit word, so a logarithm stays finite. */
EM_RNG_FN double em_rng_unit_nonzero_f64(uint64_t word)
{
    return (double)((word >> 11) + 1) * 0x1.0p-53;
}

/* from + x * span, kept below `below` (the largest value under `to`): the
   rounding of x * span + from could otherwise reach `to`. */
EM_RNG_FN float em_rng_scale_f32(float x, float from, float span, float below)
{
    float v = x * span + from;
    return v > below ? below : v;
}

EM_RNG_FN double em_rng_scale_f64(double x, double from, double span, double below)
{
    double v = x * span + from;
    return v > below ? below : v;
}

/* ------------------------------------------------------------------ normals */

/* Box-Muller from two uniforms: (r cos t, r sin t), r = sqrt(-2 log u1), t = 2 pi u2. */
EM_RNG_FN void em_rng_box_muller(double u1, double u2, double *z0, double *z1)
{
    double r = sqrt(-2.0 * log(u1));
    double t = 6.283185307179586476925 * u2;
    *z0 = r * cos(t);
    *z1 = r * sin(t);
}

/* The two standard normals of a block for float64 output, in double with libm. */
EM_RNG_FN void em_rng_normal2(em_u32x4 r, double z[2])
{
    em_rng_box_muller(em_rng_unit_nonzero_f64(em_rng_word64(r, 0)),
                      em_rng_unit_f64(em_rng_word64(r, 1)), &z[0], &z[1]);
}

/* Float32 normals use branch-free float polynomials rather than libm, so a CPU
   loop over many blocks vectorises and a GPU computes the same values (up to
   the contraction of a * b + c into fused multiply-adds). */
typedef struct {
    float z0, z1;
} em_f32x2;

EM_RNG_FN float em_rng_f32_from_bits(uint32_t u)
{
#if defined(__CUDA_ARCH__)
    return __uint_as_float(u);
#else
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
#endif
}

EM_RNG_FN uint32_t em_rng_bits_of_f32(float f)
{
#if defined(__CUDA_ARCH__)
    return __float_as_uint(f);
#else
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
#endif
}

/* Natural log of a positive normal float (Cephes logf, about 1.3 ulp). */
EM_RNG_FN float em_rng_logf(float x)
{
    uint32_t u = em_rng_bits_of_f32(x);
    int e = (int)((u >> 23) & 0xff) - 126;  /* x = m * 2^e, m in [0.5, 1) */
    float m = em_rng_f32_from_bits((u & 0x807fffffu) | 0x3f000000u);
    int small = m < 0.70710678f;
    e -= small;
    m = (m - 1.0f) + (float)small * m;      /* 2m - 1 below sqrt(1/2), else m - 1; exact */
    float z = m * m;
    float y = ((((((((7.0376836292e-2f * m - 1.1514610310e-1f) * m + 1.1676998740e-1f) * m
                    - 1.2420140846e-1f) * m + 1.4249322787e-1f) * m - 1.6668057665e-1f) * m
                 + 2.0000714765e-1f) * m - 2.4999993993e-1f) * m + 3.3333331174e-1f) * m * z;
    float fe = (float)e;
    y += -2.12194440e-4f * fe;
    y += -0.5f * z;
    return m + y + 0.693359375f * fe;
}

/* A pair of standard normals from two 32-bit words (Box-Muller).  u1 = (k + 1) / 2^24
   lies in (0, 1]; the angle 2 pi u2 is split exactly into its quadrant (top two bits
   of w2) and a fraction whose sine and cosine come from polynomials on [0, pi/4]. */
EM_RNG_FN em_f32x2 em_rng_box_muller_f32(uint32_t w1, uint32_t w2)
{
    float u1 = (float)(int32_t)((w1 >> 8) + 1) * 0x1.0p-24f;
    float r = sqrtf(-2.0f * em_rng_logf(u1));
    uint32_t quadrant = w2 >> 30;
    float f = (float)(int32_t)(w2 & 0x3fffffffu) * 0x1.0p-30f;
    float g = 1.0f - f;
    /* fold the fraction to h <= 1/2: sin and cos swap roles past the half */
    uint32_t past_half = f > 0.5f;
    float x = (f < g ? f : g) * 1.57079632679489661923f, x2 = x * x;
    float s = ((-1.9515295891e-4f * x2 + 8.3321608736e-3f) * x2 - 1.6666654611e-1f) * x2 * x + x;
    float c = ((2.443315711809948e-5f * x2 - 1.388731625493765e-3f) * x2
               + 4.166664568298827e-2f) * x2 * x2 - 0.5f * x2 + 1.0f;
    /* rotate by the quadrant: swap for odd quadrants, then fix the signs */
    uint32_t swap = 0u - (past_half ^ (quadrant & 1));
    uint32_t cos_bits = (em_rng_bits_of_f32(s) & swap) | (em_rng_bits_of_f32(c) & ~swap);
    uint32_t sin_bits = (em_rng_bits_of_f32(c) & swap) | (em_rng_bits_of_f32(s) & ~swap);
    cos_bits ^= ((quadrant ^ (quadrant >> 1)) & 1) << 31;
    sin_bits ^= (quadrant >> 1) << 31;
    em_f32x2 z = {r * em_rng_f32_from_bits(cos_bits), r * em_rng_f32_from_bits(sin_bits)};
    return z;
}

/* ------------------------------------------------------------------ integers */

/* High 64 bits of a * b. */
EM_RNG_FN uint64_t em_rng_mulhi64(uint64_t a, uint64_t b)
{
#if defined(__CUDA_ARCH__)
    return __umul64hi(a, b);
#elif defined(__SIZEOF_INT128__)
    return (uint64_t)(((unsigned __int128)a * b) >> 64);
#else
    uint64_t a_lo = (uint32_t)a, a_hi = a >> 32, b_lo = (uint32_t)b, b_hi = b >> 32;
    uint64_t lo_lo = a_lo * b_lo, hi_lo = a_hi * b_lo, lo_hi = a_lo * b_hi, hi_hi = a_hi * b_hi;
    uint64_t cross = (lo_lo >> 32) + (uint32_t)hi_lo + lo_hi;
    return (cross >> 32) + (hi_lo >> 32) + hi_hi;
#endif
}

/* Whether a range needs the 128-bit draw (range 0 stands for 2^64). */
EM_RNG_FN int em_rng_range_is_large(uint64_t range)
{
    return range == 0 || range > ((uint64_t)1 << 32);
}

/* floor(u * range / 2^64) for a 64-bit draw u: uniform on [0, range) up to a
   bias below range / 2^64 <= 2^-32 (no modulo, so no bias toward small values). */
EM_RNG_FN uint64_t em_rng_below_small(uint64_t u, uint64_t range)
{
    return em_rng_mulhi64(u, range);
}

/* floor(u * range / 2^128) for a 128-bit draw u = hi * 2^64 + lo: bias below
   2^-64 for any 64-bit range; range 0 means 2^64 (every 64-bit value). */
EM_RNG_FN uint64_t em_rng_below_large(uint64_t hi, uint64_t lo, uint64_t range)
{
    if (range == 0) {
        return hi;
    }
    uint64_t top = em_rng_mulhi64(hi, range);
    uint64_t mid = hi * range;           /* low 64 bits of hi * range */
    uint64_t carry_in = em_rng_mulhi64(lo, range);
    return top + (mid + carry_in < mid ? 1u : 0u);
}

/* ------------------------------------------------------------------ others */

/* Exponential with rate lambd from a 64-bit word: -log(u) / lambd, u in (0, 1]. */
EM_RNG_FN double em_rng_exponential_value(uint64_t word, double lambd)
{
    return -log(em_rng_unit_nonzero_f64(word)) / lambd;
}

#endif
