/* Fused optimizer updates: one loop per optimizer over the elements of a parameter,
 * its gradient and its state buffers, in place (PyTorch's update rules).
 *
 * A step over a parameter group is a list of `em_optim_tensor`s (contiguous data of
 * one dtype each: float16, bfloat16 (computed in float32), float32 or float64), the
 * group's options in `em_optim_hyper` and, per tensor, the step-dependent scalars in
 * `em_optim_tensor.coef`.  `em_optim_run` shares the elements of all tensors out over
 * OpenMP threads: chunks of one large tensor, or whole small tensors, per thread.
 */
#ifndef EMBER_OPTIM_H
#define EMBER_OPTIM_H

#include <stdint.h>

enum em_optim_kind {
    EM_OPTIM_SGD = 0,
    EM_OPTIM_ADAM,
    EM_OPTIM_ADAMAX,
    EM_OPTIM_NADAM,
    EM_OPTIM_RADAM,
    EM_OPTIM_RMSPROP,
    EM_OPTIM_ADAGRAD,
    EM_OPTIM_ADADELTA,
    EM_OPTIM_NKINDS
};

#define EM_OPTIM_MAX_STATES 3

/* A parameter group's options (the ones an optimizer does not use are ignored). */
typedef struct {
    double lr, weight_decay, eps;
    double beta1, beta2;        /* Adam family; RMSprop's alpha and Adadelta's rho in beta2 */
    double momentum, dampening;
    int maximize, nesterov, amsgrad, centered, decoupled;
} em_optim_hyper;

/* One parameter: its data, gradient and state buffers (same dtype and size).
 *
 * States by optimizer: SGD (momentum_buffer), Adam (exp_avg, exp_avg_sq[,
 * max_exp_avg_sq]), Adamax (exp_avg, exp_inf), NAdam and RAdam (exp_avg,
 * exp_avg_sq), RMSprop (square_avg[, momentum_buffer][, grad_avg]), Adagrad (sum),
 * Adadelta (square_avg, acc_delta).
 *
 * Step scalars `coef`: SGD (coef[0] != 0: first step, the buffer starts as the
 * gradient); Adam (step size lr / bc1, sqrt(bc2)); Adamax (lr / bc1); NAdam
 * (coefficient of the gradient, of exp_avg, bc2); RAdam (coef[0] != 0: rectified;
 * scale of exp_avg / denom, or of exp_avg); Adagrad (the decayed lr).
 */
typedef struct {
    char *param;
    const char *grad;
    char *state[EM_OPTIM_MAX_STATES];
    intptr_t numel;
    int dtype;
    double coef[3];
} em_optim_tensor;

/* Update `count` tensors in place on up to `nthreads` threads.
 * Returns 0, or -1 when a tensor's dtype has no kernel (nothing is updated then). */
int em_optim_run(int kind, em_optim_tensor *tensors, intptr_t count,
                 const em_optim_hyper *hyper, int nthreads);

#endif
