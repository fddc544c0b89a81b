# cython: embedsignature=False
"""Fused optimizer updates over a whole parameter group (the multi-tensor entry).

``step(kind, group, params, grads, states, steps, extra)`` checks every tensor,
advances the per-parameter step counters, computes each parameter's
step-dependent scalars (bias corrections, decayed learning rates) and runs the
update loops of ``optim.c.in`` on all tensors in one call without the GIL.  The
update is in place: the version counters of parameters, states and counters
are bumped as an in-place op would.  ``fusable`` tells the optimizers which
parameters the fused loops take (contiguous tensors of one floating dtype whose
gradient does not require grad, on the CPU or, for the kinds in ``DEVICE_KINDS``,
on a device whose backend has the loops: ``ember/cuda/kernels/optim.cu``); they
update the others with ember ops.  The step counters stay on the CPU, where the
step-dependent scalars are computed, for every device.
"""
from libc.math cimport pow, sqrt
from libc.stdlib cimport malloc, free

from ember._core._dtype cimport (
    dtype_of, EM_FLOAT16, EM_BFLOAT16, EM_FLOAT32, EM_FLOAT64,
)
from ember._core._tensor cimport Tensor, DEV_CPU, inference_mode_on, bump_version
from ember._core._tensor import backend


cdef extern from "ember/strided.h":
    int em_get_num_threads() noexcept nogil

cdef extern from "ember/optim.h" nogil:
    enum:
        EM_OPTIM_SGD
        EM_OPTIM_ADAM
        EM_OPTIM_ADAMAX
        EM_OPTIM_NADAM
        EM_OPTIM_RADAM
        EM_OPTIM_RMSPROP
        EM_OPTIM_ADAGRAD
        EM_OPTIM_ADADELTA
        EM_OPTIM_MAX_STATES
    ctypedef struct em_optim_hyper:
        double lr, weight_decay, eps, beta1, beta2, momentum, dampening
        int maximize, nesterov, amsgrad, centered, decoupled
    ctypedef struct em_optim_tensor:
        char *param
        const char *grad
        char *state[EM_OPTIM_MAX_STATES]
        Py_ssize_t numel
        int dtype
        double coef[3]
    int em_optim_run(int kind, em_optim_tensor *tensors, Py_ssize_t count,
                     const em_optim_hyper *hyper, int nthreads)


cdef dict KINDS = {
    "sgd": EM_OPTIM_SGD, "adam": EM_OPTIM_ADAM, "adamax": EM_OPTIM_ADAMAX,
    "nadam": EM_OPTIM_NADAM, "radam": EM_OPTIM_RADAM, "rmsprop": EM_OPTIM_RMSPROP,
    "adagrad": EM_OPTIM_ADAGRAD, "adadelta": EM_OPTIM_ADADELTA,
}


# optimizers with fused loops on the devices other than the CPU (cuda)
DEVICE_KINDS = frozenset({"sgd", "adam"})


cdef inline bint kernel_dtype(int dt) noexcept:
    return dt == EM_FLOAT32 or dt == EM_FLOAT64 or dt == EM_FLOAT16 or dt == EM_BFLOAT16


cdef inline bint like_param(Tensor p, object obj) noexcept:
    """Whether `obj` is a contiguous tensor of `p`'s dtype, shape and device."""
    cdef Tensor t
    cdef int d
    if type(obj) is not Tensor and not isinstance(obj, Tensor):
        return False
    t = <Tensor>obj
    if (t._dtype != p._dtype or t._ndim != p._ndim or not t.is_contig()
            or t._storage.device.type_num != p._storage.device.type_num
            or t._storage.device.index != p._storage.device.index):
        return False
    for d in range(p._ndim):
        if t._shape[d] != p._shape[d]:
            return False
    return True


cdef inline bint is_counter(object obj) noexcept:
    """Whether `obj` is a one-element float32 or float64 CPU tensor (a step counter)."""
    if not isinstance(obj, Tensor):
        return False
    cdef Tensor t = <Tensor>obj
    return (t._numel == 1 and (t._dtype == EM_FLOAT32 or t._dtype == EM_FLOAT64)
            and t._storage.device.type_num == DEV_CPU and not t._storage.readonly_mem)


def fusable(Tensor param, Tensor grad, tuple states=(), tuple counters=(), str kind=None):
    """Whether the fused loops can update `param` with `grad` and `states`.

    Parameters
    ----------
    param, grad : Tensor
        The parameter and its gradient.
    states : tuple of Tensor
        The parameter's state buffers, if they exist yet.
    counters : tuple
        The parameter's step counters, if any.
    kind : str, optional
        The optimizer (see :func:`step`); tensors off the CPU need one of
        ``DEVICE_KINDS``.

    Returns
    -------
    bool
        True for contiguous tensors of one dtype (float16, bfloat16, float32 or
        float64), shape and device, writable, with a gradient that does not require
        grad, and one-element float32 or float64 CPU counters.
    """
    if param._storage.device.type_num != DEV_CPU and kind not in DEVICE_KINDS:
        return False
    if (not kernel_dtype(param._dtype) or not like_param(param, param)
            or param._storage.readonly_mem or grad._requires_grad or not like_param(param, grad)
            or (param._storage.inference and not inference_mode_on())):
        return False     # (an inference tensor's step raises on the unfused path, as PyTorch)
    for s in states:
        if not like_param(param, s) or (<Tensor>s)._storage.readonly_mem:
            return False
    for c in counters:
        if not is_counter(c):
            return False
    return True


cdef str describe(Tensor t):
    return (f"a tensor of dtype {dtype_of(t._dtype)}, shape {tuple(t.shape)}, "
            f"device {t._storage.device}{'' if t.is_contig() else ', not contiguous'}")


cdef Tensor checked(object obj, Tensor param, str what, Py_ssize_t index, str kind):
    """`obj` as a tensor laid out like `param`, or a RuntimeError naming the mismatch."""
    if not isinstance(obj, Tensor):
        raise TypeError(f"fused {kind} step: {what} of parameter {index} must be a Tensor, "
                        f"not {type(obj).__name__}")
    if not like_param(param, obj):
        raise RuntimeError(
            f"fused {kind} step: {what} of parameter {index} must be a contiguous tensor of the "
            f"parameter's dtype, shape and device ({dtype_of(param._dtype)}, "
            f"{tuple(param.shape)}, {param._storage.device}), but got {describe(<Tensor>obj)}")
    return <Tensor>obj


cdef double advance(object counter, Py_ssize_t index, str kind, double factor,
                    bint multiply) except? -1.0:
    """Add 1 to (or multiply by `factor`) a 0-dim float step counter; return its new value."""
    cdef Tensor c
    cdef double value
    if not is_counter(counter):
        raise RuntimeError(f"fused {kind} step: the step counter of parameter {index} must be a "
                           f"one-element float32 or float64 CPU tensor, not {counter!r}")
    c = <Tensor>counter
    cdef float single
    if c._dtype == EM_FLOAT32:       # float arithmetic, as a float32 tensor op does
        single = (<float *>c.ptr())[0]
        single = single * <float>factor if multiply else single + 1.0
        (<float *>c.ptr())[0] = single
        value = single
    else:
        value = (<double *>c.ptr())[0]
        value = value * factor if multiply else value + 1
        (<double *>c.ptr())[0] = value
    bump_version(c)
    return value


cdef int set_coefficients(int kind, em_optim_tensor *t, dict group, object step_counter,
                          object extra, Py_ssize_t index, str name) except -1:
    """Advance the counters of one parameter and set its step-dependent scalars."""
    cdef double step, lr, beta1, beta2, bc1, bc2, mu, mu_next, mu_product, rho_inf, rho_t, psi
    if kind == EM_OPTIM_SGD:
        t.coef[0] = 1.0 if extra else 0.0
        return 0
    step = advance(step_counter, index, name, 0.0, False)
    if kind == EM_OPTIM_RMSPROP or kind == EM_OPTIM_ADADELTA:
        return 0
    lr = group["lr"]
    if kind == EM_OPTIM_ADAGRAD:
        t.coef[0] = lr / (1 + (step - 1) * group["lr_decay"])
        return 0
    beta1, beta2 = group["betas"]
    bc1 = 1 - pow(beta1, step)
    bc2 = 1 - pow(beta2, step)
    if kind == EM_OPTIM_ADAM:
        t.coef[0] = lr / bc1
        t.coef[1] = sqrt(bc2)
    elif kind == EM_OPTIM_ADAMAX:
        t.coef[0] = lr / bc1
    elif kind == EM_OPTIM_NADAM:
        psi = group["momentum_decay"]
        mu = beta1 * (1.0 - 0.5 * pow(0.96, step * psi))
        mu_next = beta1 * (1.0 - 0.5 * pow(0.96, (step + 1) * psi))
        mu_product = advance(extra, index, name, mu, True)
        t.coef[0] = -lr * (1.0 - mu) / (1.0 - mu_product)
        t.coef[1] = -lr * mu_next / (1.0 - mu_product * mu_next)
        t.coef[2] = bc2
    else:  # RAdam: the rectification switches on once the variance is tractable
        rho_inf = 2 / (1 - beta2) - 1
        rho_t = rho_inf - 2 * step * pow(beta2, step) / bc2
        if rho_t > 5.0:
            t.coef[0] = 1.0
            t.coef[1] = lr * sqrt((rho_t - 4) * (rho_t - 2) * rho_inf
                                  / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) * sqrt(bc2) / bc1
        else:
            t.coef[0] = 0.0
            t.coef[1] = lr / bc1
    return 0


cdef int states_needed(int kind, const em_optim_hyper *h) noexcept:
    """How many state tensors the loop of `kind` reads with these options."""
    if kind == EM_OPTIM_SGD:
        return h.momentum != 0
    if kind == EM_OPTIM_ADAM:
        return 2 + h.amsgrad
    if kind == EM_OPTIM_RMSPROP:
        return 1 + (h.momentum > 0) + h.centered
    if kind == EM_OPTIM_ADAGRAD:
        return 1
    return 2


cdef int read_hyper(int kind, dict group, em_optim_hyper *h) except -1:
    h.lr = group["lr"]
    h.weight_decay = group["weight_decay"]
    h.eps = group.get("eps", 0.0)
    h.maximize = bool(group["maximize"])
    h.beta1 = h.beta2 = h.momentum = h.dampening = 0.0
    h.nesterov = h.amsgrad = h.centered = h.decoupled = 0
    if kind == EM_OPTIM_SGD:
        h.momentum = group["momentum"]
        h.dampening = group["dampening"]
        h.nesterov = bool(group["nesterov"])
    elif kind == EM_OPTIM_RMSPROP:
        h.beta2 = group["alpha"]
        h.momentum = group["momentum"]
        h.centered = bool(group["centered"])
    elif kind == EM_OPTIM_ADADELTA:
        h.beta2 = group["rho"]
    elif kind != EM_OPTIM_ADAGRAD:
        h.beta1, h.beta2 = group["betas"]
        h.amsgrad = bool(group.get("amsgrad", False))
        h.decoupled = bool(group.get("decoupled_weight_decay", False))
    return 0


def step(str kind, dict group, list params, list grads, list states, list steps=None,
         list extra=None):
    """Update every parameter of a group in place with one fused loop per tensor.

    Parameters
    ----------
    kind : str
        ``"sgd"``, ``"adam"`` (also AdamW), ``"adamax"``, ``"nadam"``, ``"radam"``,
        ``"rmsprop"``, ``"adagrad"`` or ``"adadelta"``.
    group : dict
        The parameter group's options, under PyTorch's names.
    params, grads : list of Tensor
        Parameters and their gradients (same dtype and shape, contiguous), on the CPU,
        or all on one device for the kinds of ``DEVICE_KINDS``.
    states : list of tuple of Tensor
        Each parameter's state buffers in the optimizer's order (see ``ember/optim.h``),
        laid out like the parameter.
    steps : list of Tensor, optional
        Each parameter's one-element step counter, advanced by one (not for SGD).
    extra : list, optional
        SGD: per parameter, whether its momentum buffer is new (it then starts as the
        gradient).  NAdam: each parameter's ``mu_product`` counter.

    Raises
    ------
    RuntimeError
        If a tensor is not a contiguous tensor of its parameter's dtype, shape and
        device, or a dtype or device has no fused loop.
    """
    cdef int k
    cdef Py_ssize_t n = len(params), i, j, nstates
    cdef em_optim_hyper hyper
    cdef em_optim_tensor *tensors
    cdef Tensor p, g, s
    cdef int rc, nthreads
    if kind not in KINDS:
        raise ValueError(f"fused step: unknown optimizer {kind!r}; expected one of "
                         f"{', '.join(KINDS)}")
    k = KINDS[kind]
    if len(grads) != n or len(states) != n or (k != EM_OPTIM_SGD and (steps is None
                                                                       or len(steps) != n)):
        raise RuntimeError(f"fused {kind} step: got {n} parameters but {len(grads)} gradients, "
                           f"{len(states)} states and "
                           f"{'no' if steps is None else len(steps)} step counters")
    if (k == EM_OPTIM_SGD or k == EM_OPTIM_NADAM) and (extra is None or len(extra) != n):
        raise RuntimeError(f"fused {kind} step: expected one extra entry per parameter ({n})")
    read_hyper(k, group, &hyper)
    if n == 0:
        return
    if not isinstance(params[0], Tensor):
        raise TypeError(f"fused {kind} step: parameter 0 must be a Tensor, "
                        f"not {type(params[0]).__name__}")
    cdef object dev = (<Tensor>params[0])._storage.device
    cdef bint on_device = (<Tensor>params[0])._storage.device.type_num != DEV_CPU
    if on_device and kind not in DEVICE_KINDS:
        raise RuntimeError(f"fused {kind} step: no fused loop for device {dev}")
    tensors = <em_optim_tensor *>malloc(n * sizeof(em_optim_tensor))
    if tensors == NULL:
        raise MemoryError()
    try:
        # check everything before anything changes
        for i in range(n):
            if not isinstance(params[i], Tensor):
                raise TypeError(f"fused {kind} step: parameter {i} must be a Tensor, "
                                f"not {type(params[i]).__name__}")
            p = <Tensor>params[i]
            if not kernel_dtype(p._dtype):
                raise RuntimeError(f"fused {kind} step: parameter {i} has dtype "
                                   f"{dtype_of(p._dtype)}; the fused loops take float16, "
                                   f"bfloat16, float32 and float64")
            checked(p, p, "the data", i, kind)
            if p._storage.device != dev:
                raise RuntimeError(f"fused {kind} step: parameter {i} is on "
                                   f"{p._storage.device}, parameter 0 on {dev}")
            g = checked(grads[i], p, "the gradient", i, kind)
            if p._storage.readonly_mem:
                raise RuntimeError(f"fused {kind} step: parameter {i} views read-only memory")
            nstates = len(states[i])
            if nstates != states_needed(k, &hyper):
                raise RuntimeError(f"fused {kind} step: parameter {i} has {nstates} state "
                                   f"tensors, but these options use "
                                   f"{states_needed(k, &hyper)}")
            tensors[i].param = NULL if on_device else p.ptr()
            tensors[i].grad = NULL if on_device else g.ptr()
            tensors[i].numel = p._numel
            tensors[i].dtype = p._dtype
            for j in range(EM_OPTIM_MAX_STATES):
                tensors[i].state[j] = NULL
            for j in range(nstates):
                s = checked(states[i][j], p, f"state tensor {j}", i, kind)
                tensors[i].state[j] = NULL if on_device else s.ptr()
            for j in range(3):
                tensors[i].coef[j] = 0.0
        for i in range(n):
            set_coefficients(k, &tensors[i], group, None if steps is None else steps[i],
                             None if extra is None else extra[i], i, kind)
            bump_version(<Tensor>params[i])
            for s in states[i]:
                bump_version(s)
        if on_device:
            backend(dev.type).optim_step(kind, hyper, params, grads, states,
                                         [tuple(tensors[i].coef) for i in range(n)])
            return
        nthreads = em_get_num_threads()
        with nogil:
            rc = em_optim_run(k, tensors, n, &hyper, nthreads)
        if rc != 0:
            raise RuntimeError(f"fused {kind} step: no fused loop for this dtype")
    finally:
        free(tensors)
