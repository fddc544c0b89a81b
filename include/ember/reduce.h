/* Reductions, scans and fused softmax: the engine and the generated kernel tables.
 *
 * A reduction kernel folds input elements into per-output accumulators.  The
 * engine (reduce.c) sorts and coalesces the input's dimensions, splits them
 * into kept and reduced groups and hands the kernel a 2-D block: K outputs
 * (the innermost kept dim) times N elements each (the innermost reduced dim).
 * In "run" mode the reduced dim is innermost in memory and each output folds
 * a run; in "row" mode the kept dim is innermost and whole rows are folded
 * into a vector of accumulators.  Lane kernels (cumsum, softmax) map each lane
 * along one dim to a lane of the output, again K lanes at a time.
 */
#ifndef EMBER_REDUCE_H
#define EMBER_REDUCE_H

#include <stddef.h>
#include <stdint.h>
#include "ember/dtype.h"
#include "ember/strided.h"

/* Hot kernels are multiversioned (EM_MULTIVERSION, ember/simd.h); the helpers
 * they call must be inlined to be compiled for the same instruction set. */
#if defined(__GNUC__)
#define EM_INLINE static inline __attribute__((always_inline))
#else
#define EM_INLINE static inline
#endif

/* float16 -> float32 from the bits, branch-free so that loops using it vectorise
 * (GCC does not vectorise _Float16 conversions without AVX512-FP16). */
EM_INLINE float em_half_bits_to_float(em_half h)
{
    union { uint32_t u; float f; } v, denormal;
    uint32_t bits = (uint32_t)(h & 0x7fff) << 13;       /* exponent and mantissa, float-aligned */
    uint32_t exponent = bits & 0x0f800000;
    denormal.u = bits + (113u << 23);                     /* 2^-14 * (1 + m), then drop the 1 */
    denormal.f -= 6.103515625e-05f;
    v.u = bits + (exponent == 0x0f800000 ? 224u << 23 : 112u << 23);   /* inf/nan : normal */
    v.u = exponent == 0 ? denormal.u : v.u;
    v.u |= (uint32_t)(h & 0x8000) << 16;
    return v.f;
}

/* Most outputs (or lanes) one kernel call handles: bounds the kernels' stack buffers. */
#define EM_REDUCE_TILE 4096

typedef struct {
    double scale;       /* sum: result multiplier (1/N for mean) */
    double p, inv_p;    /* pow-sum norm order and its inverse */
    double correction;  /* var/std: the divisor is max(N - correction, 0) */
    int take_sqrt;      /* var -> std */
} em_reduce_params;

/* Fold, for k < K and n < N, element in[k*s_k + n*s_n] (byte strides) into acc[k];
 * idx0 + n is the element's index along the reduced dim (arg reductions). */
typedef void (*em_fold_fn)(void *acc, intptr_t K, intptr_t s_k, const char *in, intptr_t N,
                           intptr_t s_n, int64_t idx0, int row_mode, const em_reduce_params *prm);
typedef void (*em_init_fn)(void *acc, intptr_t K);
/* acc[k] = acc[k] (+) other[k], where `other` folded elements after those of `acc` */
typedef void (*em_combine_fn)(void *acc, const void *other, intptr_t K);
/* write K results with byte stride s_out (and indices with s_idx when out_idx is set) */
typedef void (*em_finalize_fn)(char *out, intptr_t s_out, char *out_idx, intptr_t s_idx,
                               const void *acc, intptr_t K, const em_reduce_params *prm);

typedef struct {
    size_t acc_size;    /* 0: no kernel for this dtype */
    em_init_fn init;
    em_fold_fn fold;
    em_combine_fn combine;
    em_finalize_fn finalize;
} em_reduce_kernel;

typedef enum {
    EM_RED_SUM,        /* sum and mean (scale) */
    EM_RED_PROD,
    EM_RED_MAX,        /* NaN-propagating */
    EM_RED_MIN,
    EM_RED_MAX_ABS,    /* inf-norm */
    EM_RED_MIN_ABS,    /* -inf-norm */
    EM_RED_ABS_SUM,    /* 1-norm */
    EM_RED_SQ_SUM,     /* 2-norm (sqrt of the sum of squares) */
    EM_RED_POW_SUM,    /* p-norm */
    EM_RED_NONZERO,    /* 0-norm */
    EM_RED_ALL,
    EM_RED_ANY,
    EM_RED_ARGMAX,     /* value and first index of the maximum, NaN wins */
    EM_RED_ARGMIN,
    EM_RED_VAR,        /* var and std */
    EM_NRED
} em_reduce_op;

extern const em_reduce_kernel em_reduce_kernels[EM_NRED][EM_NTYPES];

/* One reduction: the input's shape and byte strides, the output's byte strides
 * (0 on reduced dims) and, for arg reductions, the index output's. */
typedef struct {
    int ndim;
    intptr_t shape[EM_MAX_DIMS];
    intptr_t in_strides[EM_MAX_DIMS];
    intptr_t out_strides[EM_MAX_DIMS];
    intptr_t idx_strides[EM_MAX_DIMS];
    uint64_t reduced;   /* bit d: dim d is reduced */
    int keep_order;     /* walk reduced dims forwards (their indices are reported) */
    const char *in;
    char *out;          /* may be NULL when only indices are wanted */
    char *out_idx;      /* NULL unless an arg reduction */
} em_reduce_problem;

/* Run a reduction; returns 0, or -1 when scratch memory could not be allocated. */
int em_reduce_run(const em_reduce_kernel *kernel, em_reduce_problem *pb,
                  const em_reduce_params *prm);

/* Map K lanes of L elements (lane stride is_l / os_l, lane-to-lane is_k / os_k,
 * bytes); in column mode the lanes are adjacent in memory and are walked together. */
typedef void (*em_lanes_fn)(char *out, intptr_t os_l, intptr_t os_k, const char *in,
                            intptr_t is_l, intptr_t is_k, intptr_t L, intptr_t K, int col_mode);

extern const em_lanes_fn em_cumsum_lanes[EM_NTYPES];
extern const em_lanes_fn em_cumprod_lanes[EM_NTYPES];
extern const em_lanes_fn em_logcumsumexp_lanes[EM_NTYPES];

/* cumsum of one long contiguous lane, split into EM_SCAN_CHUNKS chunks scanned
 * EM_SCAN_GROUP at a time (see scan.c.in); worth it from EM_SCAN_LONG elements. */
#define EM_SCAN_CHUNKS 64
#define EM_SCAN_GROUP 8
#define EM_SCAN_LONG 65536
typedef void (*em_long_scan_fn)(char *out, const char *in, intptr_t L);
extern const em_long_scan_fn em_cumsum_long[EM_NTYPES];

/* Lanes with a second, int64 output (idx, strides xs_l / xs_k): cummax, cummin. */
typedef void (*em_lanes_idx_fn)(char *out, intptr_t os_l, intptr_t os_k, char *idx,
                                intptr_t xs_l, intptr_t xs_k, const char *in, intptr_t is_l,
                                intptr_t is_k, intptr_t L, intptr_t K);
extern const em_lanes_idx_fn em_cummax_lanes[EM_NTYPES];
extern const em_lanes_idx_fn em_cummin_lanes[EM_NTYPES];
extern const em_lanes_fn em_softmax_lanes[EM_NTYPES];
extern const em_lanes_fn em_log_softmax_lanes[EM_NTYPES];

/* Softmax / log_softmax backward over contiguous (outer, L, inner) blocks along L:
 * out = y * (g - sum(g * y)) or g - exp(y) * sum(g); out, grad, result of one dtype. */
typedef void (*em_softmax_backward_fn)(void *out, const void *grad, const void *result,
                                       intptr_t outer, intptr_t L, intptr_t inner);
extern const em_softmax_backward_fn em_softmax_backward[EM_NTYPES];
extern const em_softmax_backward_fn em_log_softmax_backward[EM_NTYPES];

/* Run a lane op along `dim`; in and out have the same shape. */
void em_lanes_run(em_lanes_fn fn, int ndim, const intptr_t *shape, const intptr_t *in_strides,
                  const intptr_t *out_strides, int dim, const char *in, char *out);
/* Run a lane op with an index output of the same shape. */
void em_lanes_idx_run(em_lanes_idx_fn fn, int ndim, const intptr_t *shape,
                      const intptr_t *in_strides, const intptr_t *out_strides,
                      const intptr_t *idx_strides, int dim, const char *in, char *out, char *idx);

#endif
