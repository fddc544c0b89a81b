/* Convolution kernels: im2col and col2im over 1, 2 or 3 spatial dims.
 *
 * A convolution of one sample is one matrix product once its input windows are
 * laid out as columns (im2col): row (c, kd, kh, kw) of the column matrix holds,
 * for every output position (od, oh, ow), the input element that kernel tap
 * meets there (zero where it falls in the padding).  col2im is the adjoint: it
 * adds every column entry back onto the input element it was read from.
 * 1-D and 2-D convolutions are 3-D ones with unit leading dims.
 *
 * All arrays are contiguous; sizes are checked by the caller.
 */
#ifndef EMBER_CONV_H
#define EMBER_CONV_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    int64_t channels;
    int64_t in[3];        /* input spatial size (D, H, W) */
    int64_t out[3];       /* output spatial size */
    int64_t kernel[3];
    int64_t pad[3];       /* zero padding before each dim (and after, as far as it is read) */
    int64_t stride[3];
    int64_t dilation[3];
} em_conv_geom;

/* Elements of the scratch plane that col2im needs for g (0 without padding). */
int64_t em_conv_scratch_size(const em_conv_geom *g);

/* col (channels * prod(kernel), (row1 - row0) * out[2]) <- windows of im (channels,
 * *in) at the output rows (od, oh) = divmod(r, out[1]) for r in [row0, row1): the
 * whole column matrix for [0, out[0] * out[1]). */
void em_im2col_float32(const em_conv_geom *g, const float *im, float *col, int64_t row0,
                       int64_t row1);
void em_im2col_float64(const em_conv_geom *g, const double *im, double *col, int64_t row0,
                       int64_t row1);
/* im (channels, *in) <- sum of the col entries read from each element (im is overwritten);
 * scratch holds em_conv_scratch_size(g) elements (NULL when that is 0). */
void em_col2im_float32(const em_conv_geom *g, const float *col, float *im, float *scratch);
void em_col2im_float64(const em_conv_geom *g, const double *col, double *im, double *scratch);

/* A 3x3 convolution of unit stride and dilation, one group, over 2-D images. */
typedef struct {
    int64_t batch, channels, height, width;     /* the input (N, C, H, W) */
    int64_t out_channels, out_height, out_width;
    int64_t pad_h, pad_w;                       /* at most 2 */
} em_winograd_geom;

/* Floats of U, the transformed weights of O x C kernels that
 * em_winograd_conv3x3_float32 reads. */
size_t em_winograd_weights_floats(int64_t out_channels, int64_t channels);
/* U from w (O, C, 3, 3), contiguous, on this thread. */
void em_winograd_weights_float32(const float *w, int64_t out_channels, int64_t channels,
                                 float *U);

/* y = the convolution of x (N, C, H, W) with w (O, C, 3, 3) by Winograd's F(2x2, 3x3),
 * plus bias (NULL for none), then ReLU'd when relu; all contiguous.  U holds w already
 * transformed by em_winograd_weights_float32 (a traced graph's constant weight), or is
 * NULL: w is transformed at every call.  With pool, y (N, O, OH / 2, OW / 2) is the max
 * pooling of that result over 2x2 windows at stride 2 (one per whole output tile,
 * NaN propagating as max_pool's); else y is (N, O, OH, OW).  Returns -1 when out of
 * memory for its buffers, else 0. */
int em_winograd_conv3x3_float32(const em_winograd_geom *q, const float *x, const float *w,
                                const float *U, const float *bias, int relu, int pool,
                                float *y);

#endif
