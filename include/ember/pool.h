/* Pooling kernels: max, average, adaptive average and adaptive max pooling over
 * 1 to 3 spatial dimensions, forward and backward.
 *
 * Every kernel works on `planes` contiguous planes of (depth, height, width)
 * elements (a 1-D or 2-D problem has its missing sizes set to 1), the N * C
 * planes of a contiguous (N, C, *spatial) tensor.  Indices of maxima are flat
 * positions within their plane, as in PyTorch.  Planes are split across OpenMP
 * threads above a grain size.  float32 and float64 are compiled; float16 and
 * bfloat16 are computed in float32 by the caller.
 */
#ifndef EMBER_POOL_H
#define EMBER_POOL_H

#include <stdint.h>

typedef struct {
    int64_t planes;
    int64_t in[3];        /* input depth, height, width */
    int64_t out[3];       /* output depth, height, width */
    int64_t kernel[3];
    int64_t stride[3];
    int64_t pad[3];
    int64_t dilation[3];
    int count_include_pad;  /* average pooling: count the zero padding */
    int64_t divisor;        /* average pooling: divide by this when nonzero */
} em_pool_geom;

/* em_pool_scatter_*: writes (accumulate = 0) or adds (accumulate = 1) src[i] at
 * dst[indices[i]] within each plane of `in_size` (dst) and `out_size` (src) elements;
 * dst is zeroed first.  Returns 0, or 1 with *bad set to an index outside [0, in_size). */
/* The kernels of one dtype NAME with C type T.  em_max_pool_forward_*: indices may be
 * NULL (values only); returns -1 when out of memory for that walk's scratch, else 0. */
#define EM_POOL_DECLARE(NAME, T) \
int em_max_pool_forward_ ## NAME(const T *in, T *out, int64_t *indices, \
                                 const em_pool_geom *g); \
void em_avg_pool_forward_ ## NAME(const T *in, T *out, const em_pool_geom *g); \
void em_avg_pool_backward_ ## NAME(const T *grad_out, T *grad_in, \
                                   const em_pool_geom *g); \
void em_adaptive_avg_forward_ ## NAME(const T *in, T *out, const em_pool_geom *g); \
void em_adaptive_avg_backward_ ## NAME(const T *grad_out, T *grad_in, \
                                       const em_pool_geom *g); \
void em_adaptive_max_forward_ ## NAME(const T *in, T *out, int64_t *indices, \
                                      const em_pool_geom *g); \
int em_pool_scatter_ ## NAME(const T *src, const int64_t *indices, T *dst, \
                             int64_t planes, int64_t out_size, int64_t in_size, int accumulate, \
                             int64_t *bad);

EM_POOL_DECLARE(float32, float)
EM_POOL_DECLARE(float64, double)


#endif
