/* Fused normalisation, softmax cross-entropy and embedding kernels (nn_fused.c.in).
 *
 * Every tensor argument is a contiguous block of the function's dtype (float32:
 * "_f32", float64: "_f64"); float16 and bfloat16 callers convert to float32.
 * Optional tensors (weight, bias, outputs nobody needs) may be NULL.  Sums over
 * many rows are split by thread and combined in thread order: the results do not
 * depend on timing.  Functions returning int give -1 when memory ran out.
 *
 * Layouts:
 *   layer/RMS norm   x (rows, cols), normalised over cols; weight, bias (cols);
 *                    mean, rstd (rows).  `center` = 0 gives RMS norm (no mean).
 *   batch norm       x (n, channels, spatial); weight, bias, running statistics,
 *                    mean, invstd (channels).
 *   group norm       x (n, channels, spatial); weight, bias (channels); mean,
 *                    rstd (n, groups).
 *   cross-entropy    logits x (n, classes, spatial), target (n, spatial) int64;
 *                    per-position loss and logsumexp (n, spatial).  With
 *                    `log_input` the input holds log-probabilities (nll_loss).
 *   embedding        grad (count, dim) of the looked-up rows, indices (count),
 *                    checked to lie in [0, num_weights).
 */
#ifndef EMBER_NN_FUSED_H
#define EMBER_NN_FUSED_H

#include <stdint.h>

#define EM_NN_FUSED_DECLARE(sfx, T)                                                          \
    void em_layer_norm_fwd_##sfx(const T *x, const T *weight, const T *bias, T *y, T *mean,  \
                                 T *rstd, int64_t rows, int64_t cols, double eps,           \
                                 int center);                                               \
    int em_layer_norm_bwd_##sfx(const T *grad, const T *x, const T *mean, const T *rstd,     \
                                const T *weight, T *grad_x, T *grad_weight, T *grad_bias,   \
                                int64_t rows, int64_t cols, int center);                    \
    int em_batch_norm_fwd_##sfx(const T *x, const T *weight, const T *bias, T *running_mean, \
                                T *running_var, T *y, T *mean, T *invstd, int64_t n,        \
                                int64_t channels, int64_t spatial, int training,            \
                                double momentum, double eps);                               \
    int em_batch_norm_bwd_##sfx(const T *grad, const T *x, const T *mean, const T *invstd,   \
                                const T *weight, T *grad_x, T *grad_weight, T *grad_bias,   \
                                int64_t n, int64_t channels, int64_t spatial, int training); \
    void em_group_norm_fwd_##sfx(const T *x, const T *weight, const T *bias, T *y, T *mean,  \
                                 T *rstd, int64_t n, int64_t channels, int64_t spatial,     \
                                 int64_t groups, double eps);                               \
    int em_group_norm_bwd_##sfx(const T *grad, const T *x, const T *mean, const T *rstd,     \
                                const T *weight, T *grad_x, T *grad_weight, T *grad_bias,   \
                                int64_t n, int64_t channels, int64_t spatial,               \
                                int64_t groups);                                            \
    int em_cross_entropy_fwd_##sfx(const T *x, const int64_t *target, const T *weight,       \
                                   T *loss, T *lse, double *loss_sum, double *weight_sum,   \
                                   int64_t n, int64_t classes, int64_t spatial,             \
                                   int64_t ignore_index, double smoothing, int log_input);  \
    void em_cross_entropy_bwd_##sfx(const T *grad, int grad_is_scalar, double scale,         \
                                    const T *x, const int64_t *target, const T *weight,     \
                                    const T *lse, T *grad_x, int64_t n, int64_t classes,    \
                                    int64_t spatial, int64_t ignore_index,                  \
                                    double smoothing, int log_input);                       \
    int em_embedding_bwd_##sfx(const T *grad, const int64_t *indices, int64_t count,         \
                               int64_t num_weights, int64_t dim, int64_t padding_idx,       \
                               int scale_by_freq, T *grad_weight);

EM_NN_FUSED_DECLARE(f32, float)
EM_NN_FUSED_DECLARE(f64, double)

/* Position of the first target outside [0, classes) that is not ignore_index, or -1. */
int64_t em_first_bad_target(const int64_t *target, int64_t count, int64_t classes,
                            int64_t ignore_index);

#endif
