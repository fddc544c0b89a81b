/* ember's dtype enum and per-dtype storage types, shared by every kernel. */
#ifndef EMBER_DTYPE_H
#define EMBER_DTYPE_H

#include <stdint.h>
#include <stdbool.h>
#include <complex.h>

typedef enum {
    EM_BOOL = 0,
    EM_UINT8,
    EM_INT8,
    EM_INT16,
    EM_INT32,
    EM_INT64,
    EM_FLOAT16,
    EM_BFLOAT16,
    EM_FLOAT32,
    EM_FLOAT64,
    EM_COMPLEX64,
    EM_COMPLEX128,
    /* PyTorch's unsigned types past uint8, after the others so the numbers above stay put */
    EM_UINT16,
    EM_UINT32,
    EM_UINT64,
    EM_NTYPES
} em_dtype;

/* Bytes per element, and the promotion category: 0 bool, 1 integral, 2 floating, 3 complex. */
static const int em_itemsize[EM_NTYPES] = {1, 1, 1, 2, 4, 8, 2, 2, 4, 8, 8, 16, 2, 4, 8};
static const int em_category[EM_NTYPES] = {0, 1, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 1, 1, 1};

static inline int em_itemsize_fn(int num) { return em_itemsize[num]; }

/* float16 and bfloat16 are stored as raw 16-bit patterns and computed in float32. */
typedef uint16_t em_half;
typedef uint16_t em_bfloat16;
typedef float _Complex em_complex64;
typedef double _Complex em_complex128;

static inline float em_half_to_float(em_half h)
{
    union { _Float16 f; uint16_t u; } v;
    v.u = h;
    return (float)v.f;
}

static inline em_half em_float_to_half(float f)
{
    union { _Float16 f; uint16_t u; } v;
    v.f = (_Float16)f;
    return v.u;
}

static inline float em_bfloat16_to_float(em_bfloat16 b)
{
    union { uint32_t u; float f; } v;
    v.u = (uint32_t)b << 16;
    return v.f;
}

/* Round to nearest even, as PyTorch's c10::BFloat16 does; NaN stays a quiet NaN. */
static inline em_bfloat16 em_float_to_bfloat16(float f)
{
    union { uint32_t u; float f; } v;
    v.f = f;
    if (f != f) {
        return (em_bfloat16)0x7fc0;
    }
    uint32_t rounding_bias = 0x7fff + ((v.u >> 16) & 1);
    return (em_bfloat16)((v.u + rounding_bias) >> 16);
}

#endif
