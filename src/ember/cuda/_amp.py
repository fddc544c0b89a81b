"""GradScaler's fused inf/NaN check and unscale on the GPU (``kernels/amp.cu``): one
launch per gradient, the flag set on the device, nothing read back."""
import numpy as np

from ember.cuda import _kernels


def non_finite_check_and_unscale_(grads, found_inf, inv_scale):
    """Multiply each cuda gradient by ``inv_scale`` in place and set ``found_inf`` to 1
    when one had an inf or NaN (see :func:`ember.amp.grad_scaler.non_finite_check_and_unscale_`).

    Parameters
    ----------
    grads : list of Tensor
        Floating gradients on ``found_inf``'s device.
    found_inf, inv_scale : Tensor
        0-d float32 tensors.
    """
    for grad in grads:
        if not grad.is_floating_point():
            raise TypeError(f"_amp_foreach_non_finite_check_and_unscale_: gradients must be "
                            f"floating point, got {grad.dtype}")
        if grad.device != found_inf.device:
            raise RuntimeError(f"Expected all tensors to be on the same device, but found "
                               f"{grad.device} and {found_inf.device}")
        n = grad.numel()
        if n == 0:
            continue
        # the kernel walks dense memory: a strided gradient goes through a dense copy
        dense = grad if grad.is_contiguous() else grad.contiguous()
        fn = _kernels.function("amp", f"em_cu_amp_unscale_{grad.dtype.name}")
        fn((_kernels.grid_for(n),), (_kernels.BLOCK,),
           (dense.data_ptr(), np.int64(n), inv_scale.data_ptr(), found_inf.data_ptr()))
        if dense is not grad:
            grad.copy_(dense)
