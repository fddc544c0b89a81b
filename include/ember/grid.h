/* Grid sampling kernels: PyTorch's grid_sampler_2d / grid_sampler_3d on the CPU,
 * forward and backward.
 *
 * The input is a contiguous (N, C, D, H, W) tensor (a 2-D problem has D = 1), the
 * grid a contiguous (N, points, spatial) tensor of normalised (x, y[, z]) and the
 * output a contiguous (N, C, points) tensor.  The forward splits the N * points
 * sampling points across OpenMP threads; the backward, which scatters into the
 * input's gradient, splits the batch (each thread owns its samples' gradient).
 * float32 and float64 are compiled; float16 and bfloat16 are computed in float32
 * by the caller.
 */
#ifndef EMBER_GRID_H
#define EMBER_GRID_H

#include <stdint.h>

/* PyTorch's enums, in its order. */
enum { EM_GRID_BILINEAR = 0, EM_GRID_NEAREST = 1, EM_GRID_BICUBIC = 2 };
enum { EM_GRID_ZEROS = 0, EM_GRID_BORDER = 1, EM_GRID_REFLECTION = 2 };

typedef struct {
    int64_t batch;
    int64_t channels;
    int64_t in[3];        /* input depth, height, width */
    int64_t points;       /* sampling points per sample */
    int spatial;          /* 2 or 3 */
    int mode;             /* EM_GRID_BILINEAR, ... (bicubic: 2-D only) */
    int padding;          /* EM_GRID_ZEROS, ... */
    int align_corners;
} em_grid_geom;

/* em_grid_sample_backward_*: grad_input (zeroed here) and grad_grid may each be NULL
 * when not wanted; input is read only for grad_grid. */
#define EM_GRID_DECLARE(NAME, T) \
void em_grid_sample_forward_ ## NAME(const T *input, const T *grid, T *out, \
                                     const em_grid_geom *g); \
void em_grid_sample_backward_ ## NAME(const T *grad_out, const T *input, const T *grid, \
                                      T *grad_input, T *grad_grid, const em_grid_geom *g);

EM_GRID_DECLARE(float32, float)
EM_GRID_DECLARE(float64, double)

#undef EM_GRID_DECLARE

#endif
