"""Fused optimizer updates of cuda parameters (``kernels/optim.cu``): ember's fused SGD
and Adam/AdamW loops, one launch per parameter.  ``ember._core._optim.step`` checks the
tensors and computes the step-dependent scalars on the CPU, then calls
:func:`optim_step`."""
import numpy as np

from ember.cuda import _kernels


def optim_step(kind, hyper, params, grads, states, coefs):
    """Update each cuda parameter, in place, with its gradient and state buffers.

    Parameters
    ----------
    kind : str
        ``'sgd'`` or ``'adam'``.
    hyper : dict
        The group's options as ``em_optim_hyper`` holds them (``lr``, ``weight_decay``,
        ``eps``, ``beta1``, ``beta2``, ``momentum``, ``dampening``, ``maximize``,
        ``nesterov``, ``amsgrad``, ``decoupled``...).
    params, grads : list of Tensor
        Contiguous, one dtype and shape per pair, on one device.
    states : list of tuple of Tensor
        The buffers of each parameter in ``ember/optim.h``'s order.
    coefs : list of tuple of float
        The step scalars of each parameter (SGD: whether the momentum buffer is new;
        Adam: the step size and the square root of the second bias correction).
    """
    h = hyper
    for p, g, state, coef in zip(params, grads, states, coefs):
        n = p.numel()
        if n == 0:
            continue
        ptrs = [t.data_ptr() for t in state] + [0] * (3 - len(state))
        if kind == "sgd":
            name = "em_cu_optim_sgd_"
            args = (p.data_ptr(), g.data_ptr(), ptrs[0], np.int64(n), np.float64(h["lr"]),
                    np.float64(h["weight_decay"]), np.float64(h["momentum"]),
                    np.float64(h["dampening"]), np.int32(h["maximize"]),
                    np.int32(h["nesterov"]), np.int32(coef[0] != 0))
        else:
            name = "em_cu_optim_adam_"
            args = (p.data_ptr(), g.data_ptr(), *ptrs, np.int64(n), np.float64(h["lr"]),
                    np.float64(h["weight_decay"]), np.float64(h["beta1"]),
                    np.float64(h["beta2"]), np.float64(h["eps"]), np.float64(coef[0]),
                    np.float64(coef[1]), np.int32(h["maximize"]), np.int32(h["decoupled"]),
                    np.int32(h["amsgrad"]))
        fn = _kernels.function("optim", name + p.dtype.name)
        fn((_kernels.grid_for(n),), (_kernels.BLOCK,), args)
