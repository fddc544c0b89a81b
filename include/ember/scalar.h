/* Scalar helpers used by the expressions of the elementwise op table. */
#ifndef EMBER_SCALAR_H
#define EMBER_SCALAR_H

#include <stdint.h>
#include <string.h>
#include <tgmath.h>
#include "ember/dtype.h"
#include "ember/simd.h"     /* the op table's math calls are vector calls */

/* Per-call context handed to every elementwise loop; loops report errors here
 * (only integer division by zero today) instead of crashing. */
typedef struct {
    int error;
} em_ew_ctx;

#define EM_ERR_ZERO_DIVISION 1

static inline int64_t em_ifloordiv(int64_t a, int64_t b, em_ew_ctx *ctx)
{
    if (b == 0) {
        ctx->error = EM_ERR_ZERO_DIVISION;
        return 0;
    }
    if (b == -1) {
        return (int64_t)(0 - (uint64_t)a); /* INT64_MIN / -1 wraps instead of trapping */
    }
    int64_t q = a / b, r = a % b;
    if (r != 0 && ((r < 0) != (b < 0))) {
        q -= 1;
    }
    return q;
}

static inline int64_t em_iremainder(int64_t a, int64_t b, em_ew_ctx *ctx)
{
    if (b == 0) {
        ctx->error = EM_ERR_ZERO_DIVISION;
        return 0;
    }
    if (b == -1) {
        return 0;
    }
    int64_t r = a % b;
    if (r != 0 && ((r < 0) != (b < 0))) {
        r += b;
    }
    return r;
}

#define EM_UFLOORDIV(a, b, ctx) ((b) == 0 ? ((ctx)->error = EM_ERR_ZERO_DIVISION, (T)0) : (T)((a) / (b)))
#define EM_UREM(a, b, ctx) ((b) == 0 ? ((ctx)->error = EM_ERR_ZERO_DIVISION, (T)0) : (T)((a) % (b)))

/* Python's float floor division (Objects/floatobject.c), as PyTorch does. */
#define EM_DEFINE_FFLOORDIV(T, SUF)                                         \
static inline T em_ffloordiv##SUF(T a, T b)                                 \
{                                                                           \
    if (b == 0) {                                                           \
        return a / b;                                                       \
    }                                                                       \
    T mod = fmod(a, b);                                                     \
    T div = (a - mod) / b;                                                  \
    if (mod != 0 && ((b < 0) != (mod < 0))) {                              \
        div -= 1;                                                           \
    }                                                                       \
    T floordiv;                                                             \
    if (div != 0) {                                                         \
        floordiv = floor(div);                                              \
        if (div - floordiv > (T)0.5) {                                      \
            floordiv += 1;                                                  \
        }                                                                   \
    } else {                                                                \
        floordiv = copysign((T)0, a / b);                                   \
    }                                                                       \
    return floordiv;                                                        \
}                                                                           \
static inline T em_fremainder##SUF(T a, T b)                                \
{                                                                           \
    T mod = fmod(a, b);                                                     \
    if (mod != 0 && ((b < 0) != (mod < 0))) {                               \
        mod += b;                                                           \
    }                                                                       \
    return mod;                                                             \
}

EM_DEFINE_FFLOORDIV(float, f)
EM_DEFINE_FFLOORDIV(double, d)

#define EM_FFLOORDIV(a, b) _Generic((a), float: em_ffloordivf, double: em_ffloordivd)((a), (b))
#define EM_FREMAINDER(a, b) _Generic((a), float: em_fremainderf, double: em_fremainderd)((a), (b))

/* exp(x) for x <= 0 in float arithmetic alone (Cephes' expf: a degree-5 polynomial
 * on [-ln2/2, ln2/2] and 2**k put into the exponent bits, k >= -126), 0 below
 * -87.3, where exp(x) is below float's smallest normal number.  Loops that call it vectorise without a call to libmvec, around which
 * GCC spilled gelu's registers (gelu ran at a third of torch's speed). */
static inline float em_expf_nonpositive(float x)
{
    const float round = 12582912.0f;    /* 1.5 * 2**23: adding it rounds to an integer */
    float xc = x < -87.3f ? -87.3f : x;
    float k = (xc * 1.44269504088896341f + round) - round;
    float r = xc - k * 0.693359375f;
    r = r + k * 2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    float y = p * (r * r) + r + 1.0f;
    int32_t bits = ((int32_t)k + 127) << 23;
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    return x < -87.3f ? 0.0f : y * scale;
}

/* Phi(x), the standard normal CDF, for gelu: 0.5 * erfc(-x / sqrt(2)).  In float it is
 * Numerical Recipes' erfcc (fractional error below 1.2e-7 for every argument, so gelu's
 * negative tail keeps its relative accuracy where 1 + erf(x) cancels), written without
 * branches so loops vectorise: one exp and one division, half the cost of libm's erff. */
static inline float em_normal_cdff(float x)
{
    float z = fabsf(x) * 0.70710678118654752f;
    float t = 1.0f / (1.0f + 0.5f * z);
    /* the degree-9 polynomial in Estrin's form: a dependency chain of 4 FMAs, not 9 */
    float t2 = t * t, t4 = t2 * t2, t8 = t4 * t4;
    float p = ((-1.26551223f + 1.00002368f * t) + (0.37409196f + 0.09678418f * t) * t2)
              + ((-0.18628806f + 0.27886807f * t) + (-1.13520398f + 1.48851587f * t) * t2) * t4
              + (-0.82215223f + 0.17087277f * t) * t8;
    float half_erfc = 0.5f * t * em_expf_nonpositive(p - z * z);
    return x >= 0 ? 1.0f - half_erfc : half_erfc;
}

static inline double em_normal_cdfd(double x)
{
    return 0.5 * erfc(-x * 0.70710678118654752440);
}

#define EM_NORMAL_CDF(x) _Generic((x), float: em_normal_cdff, double: em_normal_cdfd)(x)

/* Integer power by squaring; negative exponents give 0 except for bases 1 and -1. */
static inline int64_t em_ipow(int64_t base, int64_t exp)
{
    if (exp < 0) {
        if (base == 1) {
            return 1;
        }
        if (base == -1) {
            return (exp & 1) ? -1 : 1;
        }
        return 0;
    }
    uint64_t result = 1, b = (uint64_t)base;
    while (exp) {
        if (exp & 1) {
            result *= b;
        }
        b *= b;
        exp >>= 1;
    }
    return (int64_t)result;
}

/* C's fmod for integers (the result has the sign of the dividend), as torch.fmod. */
static inline int64_t em_ifmod(int64_t a, int64_t b, em_ew_ctx *ctx)
{
    if (b == 0) {
        ctx->error = EM_ERR_ZERO_DIVISION;
        return 0;
    }
    return b == -1 ? 0 : a % b;  /* INT64_MIN % -1 traps */
}

/* Greatest common divisor, non-negative (gcd(0, 0) = 0), and the least common
 * multiple |a / gcd * b|, as PyTorch computes them (wrapping on overflow). */
static inline int64_t em_igcd(int64_t a, int64_t b)
{
    uint64_t x = a < 0 ? 0 - (uint64_t)a : (uint64_t)a, y = b < 0 ? 0 - (uint64_t)b : (uint64_t)b;
    while (y != 0) {
        uint64_t t = x % y;
        x = y;
        y = t;
    }
    return (int64_t)x;
}

static inline int64_t em_ilcm(int64_t a, int64_t b)
{
    int64_t g = em_igcd(a, b);
    if (g == 0) {
        return 0;
    }
    int64_t l = (int64_t)((uint64_t)(a / g) * (uint64_t)b);
    return l < 0 ? (int64_t)(0 - (uint64_t)l) : l;
}

/* Shifts by a count outside [0, bits) give what shifting one bit at a time would:
 * 0 to the left, 0 or -1 (the sign) to the right, as PyTorch; C leaves them undefined. */
#define EM_SHL(T, a, b) ((b) < 0 || (uint64_t)(b) >= 8 * sizeof(T) ? (T)0 \
                         : (T)((uint64_t)(a) << (b)))
#define EM_SHR(T, a, b) ((b) < 0 || (uint64_t)(b) >= 8 * sizeof(T) ? (T)((a) < 0 ? -1 : 0) \
                         : (T)((a) >> (b)))

#endif
