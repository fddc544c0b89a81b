"""Autocast's op tables and caster: which ops run in lower precision, which in float32
and which at the widest input type, per device type, as PyTorch's ``autocast_mode.cpp``
lists them.

The entry of every op named here checks the core's per-thread autocast flag (one C read:
``_autocast_hooks.pxi``) and, when it is on, hands the call to :func:`cast_and_run`,
which looks the op up in the table of its tensors' device type, casts the arguments as
the policy says and runs the op with the flag off, so that the ops it is made of are not
cast again (PyTorch excludes its autocast key below a wrapped op the same way).  The
casts are ordinary differentiable ops, so gradients flow back to the float32 tensors.

Policies:

``lower``
    floating tensors (not float64) are cast to the region's dtype (float16/bfloat16);
    a float32 leaf that requires grad (a weight) is cast once per region (the cache).
``fp32``
    float16/bfloat16 tensors are cast to float32.
``fp32_dtype``
    reductions that take ``dtype=``: without one, a floating (not float64) input
    computes and returns in float32.
``promote``
    floating tensors are cast to the widest floating type among them (float64 ones are
    left alone).
``decompose``
    nothing is cast, and the op runs with the flag still on, so that the matrix products
    it is made of are cast by their own policies: PyTorch's CPU table does not name
    ``einsum``, ``tensordot`` or ``linalg_multi_dot``, but their composite kernels call
    ``bmm``/``mm`` below the autocast key, which lower them (an ``einsum`` that contracts
    nothing stays in float32).
``banned``
    raises (``binary_cross_entropy`` under CUDA autocast, as in PyTorch).

Only ops that ember has are listed; PyTorch's tables name a few more (``conv_tbc``,
``stft``, ``geqrf``, ``ormqr``, ``lu_solve``, the reflection and replication padding
and fractional pooling of the CPU table, RNN cells...).
"""
import functools
import threading
import weakref

from ember._core import _dtype
from ember._core import _tensor as _core

__all__ = ["POLICIES", "autocasts", "cast_and_run", "interpose", "state"]

_LOWER_COMMON = (
    "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
    "conv_transpose3d", "prelu", "addmm", "matmul", "mm", "bmm", "baddbmm", "addbmm",
    "linear", "scaled_dot_product_attention", "linalg_vecdot",
)
_FP32_LOSSES = (
    "mse_loss", "cosine_embedding_loss", "nll_loss", "hinge_embedding_loss",
    "poisson_nll_loss", "smooth_l1_loss", "l1_loss", "huber_loss", "margin_ranking_loss",
    "soft_margin_loss", "triplet_margin_loss", "multi_margin_loss", "kl_div",
    "multilabel_margin_loss", "binary_cross_entropy_with_logits",
)

# the CPU's float32 linear algebra and FFTs (their CPU kernels take float32 and float64)
_FP32_LINALG_FFT = tuple("linalg_" + n for n in (
    "cond", "matrix_rank", "solve", "cholesky", "svdvals", "eigvals", "eigvalsh", "inv",
    "householder_product", "tensorinv", "tensorsolve", "qr", "cholesky_ex", "svd", "eig",
    "eigh", "lstsq", "inv_ex")) + tuple("fft_" + n for n in (
        "fft", "ifft", "fft2", "ifft2", "fftn", "ifftn", "rfft", "irfft", "rfft2", "irfft2",
        "rfftn", "irfftn", "hfft", "ihfft"))

# device type -> op name -> policy
POLICIES = {
    "cuda": {
        **dict.fromkeys(_LOWER_COMMON + ("addmv", "addr", "einsum", "mv", "chain_matmul",
                                         "linalg_multi_dot"), "lower"),
        **dict.fromkeys((
            "acos", "asin", "cosh", "erfinv", "exp", "expm1", "log", "log10", "log2",
            "log1p", "reciprocal", "rsqrt", "sinh", "tan", "pow", "softplus", "layer_norm",
            "rms_norm", "group_norm", "cosine_similarity", "dist", "pdist", "cdist", "renorm",
            "logsumexp", "interpolate",
            # PyTorch decomposes cross_entropy into log_softmax and nll_loss, both float32
            "cross_entropy",
        ) + _FP32_LOSSES, "fp32"),
        **dict.fromkeys(("prod", "softmax", "log_softmax", "cumprod", "cumsum", "sum", "norm",
                         "linalg_vector_norm", "linalg_matrix_norm"), "fp32_dtype"),
        **dict.fromkeys(("addcdiv", "addcmul", "atan2", "bilinear", "cross", "dot", "vdot",
                         "grid_sample", "index_put", "tensordot", "scatter_add"), "promote"),
        "binary_cross_entropy": "banned",
    },
    "cpu": {
        **dict.fromkeys(_LOWER_COMMON, "lower"),
        **dict.fromkeys((
            "binary_cross_entropy", "grid_sample", "polar", "prod", "quantile", "nanquantile",
            "cdist", "trace", "view_as_complex", "cross_entropy", "ctc_loss",
            "cholesky", "cholesky_inverse", "orgqr", "pinverse", "qr", "svd", "avg_pool3d",
            "max_pool3d",
            "adaptive_avg_pool3d", "adaptive_max_pool3d", "max_unpool2d", "max_unpool3d",
        ) + _FP32_LOSSES + _FP32_LINALG_FFT, "fp32"),
        **dict.fromkeys(("cat", "stack", "index_copy"), "promote"),
        **dict.fromkeys(("einsum", "tensordot", "linalg_multi_dot", "chain_matmul"),
                        "decompose"),
    },
}

_LOWER = (_dtype.float16, _dtype.bfloat16)
_DEFAULT_DTYPES = {"cpu": _dtype.bfloat16, "cuda": _dtype.float16}
_BANNED = ("torch.nn.functional.binary_cross_entropy and torch.nn.BCELoss are unsafe to "
           "autocast.\nMany models use a sigmoid layer right before the binary cross entropy "
           "layer.\nIn this case, combine the two layers using "
           "torch.nn.functional.binary_cross_entropy_with_logits\nor torch.nn.BCEWithLogitsLoss."
           "  binary_cross_entropy_with_logits and BCEWithLogits are\nsafe to autocast.")


class _State(threading.local):
    """One thread's autocast settings (a new thread starts with autocast off)."""

    def __init__(self):
        self.enabled = {"cpu": False, "cuda": False}
        self.dtype = dict(_DEFAULT_DTYPES)
        self.cache_enabled = True
        self.nesting = 0
        self.cache = {}           # id(float32 weight) -> (weakref to it, its cast)

    def sync(self):
        """Make the core's flag say whether any device type is enabled (or an
        interposer takes the calls)."""
        _core._set_autocast_mode(any(self.enabled.values()) or _interposer is not None)


state = _State()


def check_device_type(device_type):
    """Raise for a device type autocast does not know."""
    if device_type not in _DEFAULT_DTYPES:
        raise RuntimeError(f"User specified an unsupported autocast device_type "
                           f"'{device_type}'")


# ---------------------------------------------------------------- casting

def _tensors(args, kwargs):
    """Every tensor among the arguments, looking into lists and tuples (``cat``)."""
    for value in list(args) + list(kwargs.values()):
        if isinstance(value, (list, tuple)):
            yield from (v for v in value if isinstance(v, _core.Tensor))
        elif isinstance(value, _core.Tensor):
            yield value


def _map(args, kwargs, cast):
    """The arguments with ``cast`` applied to each tensor (in lists and tuples too)."""
    def one(value):
        if isinstance(value, _core.Tensor):
            return cast(value)
        if isinstance(value, (list, tuple)) and any(isinstance(v, _core.Tensor) for v in value):
            return type(value)(one(v) for v in value)
        return value
    return tuple(one(a) for a in args), {k: one(v) for k, v in kwargs.items()}


def _eligible(t, device_type):
    """Floating, on the region's device type and not float64: what autocast may cast."""
    return (t.device.type == device_type and t.is_floating_point()
            and t.dtype != _dtype.float64)


def _cached_cast(t, dtype):
    """``t`` cast to ``dtype``; a float32 leaf that requires grad (a weight, used again
    and again in one forward pass) is cast once per autocast region."""
    if not (state.cache_enabled and t.dtype == _dtype.float32 and t.requires_grad
            and t.is_leaf and t._base is None):
        return t.to(dtype)
    hit = state.cache.get(id(t))
    if hit is not None and hit[0]() is t:
        return hit[1]
    cast = t.to(dtype)
    state.cache[id(t)] = (weakref.ref(t), cast)
    return cast


def _cast_args(policy, device_type, args, kwargs):
    if policy == "lower":
        low = state.dtype[device_type]
        return _map(args, kwargs, lambda t: _cached_cast(t, low) if (
            _eligible(t, device_type) and t.dtype != low) else t)
    if policy == "fp32":
        return _map(args, kwargs, lambda t: t.float() if (
            _eligible(t, device_type) and t.dtype in _LOWER) else t)
    if policy == "fp32_dtype":
        first = next(_tensors(args, {}), None)
        if kwargs.get("dtype") is None and first is not None and _eligible(first, device_type):
            kwargs = dict(kwargs, dtype=_dtype.float32)
        return args, kwargs
    if policy == "promote":
        widest = state.dtype[device_type]
        for t in _tensors(args, kwargs):
            if _eligible(t, device_type) and t.dtype == _dtype.float32:
                widest = _dtype.float32
        return _map(args, kwargs, lambda t: t.to(widest) if (
            _eligible(t, device_type) and t.dtype != widest) else t)
    raise AssertionError(f"unknown autocast policy {policy!r}")


def cast_and_run(name, fn, args, kwargs):
    """Run op ``name`` as ``fn(*args, **kwargs)`` with the arguments cast as this thread's
    autocast region says, and the core's flag off below it (the caster the core calls
    while autocast is on)."""
    kwargs = kwargs or {}
    first = next(_tensors(args, kwargs), None)
    device_type = first.device.type if first is not None else None
    policy = None
    if device_type in POLICIES and state.enabled[device_type]:
        policy = POLICIES[device_type].get(name)
    if policy == "banned":
        raise RuntimeError(_BANNED)
    if policy == "decompose":
        return fn(*args, **kwargs)
    if kwargs.get("out") is not None:
        policy = None         # PyTorch's tables name the functional overloads only
    if policy is not None:
        args, kwargs = _cast_args(policy, device_type, args, kwargs)
    previous = _core._set_autocast_mode(False)
    try:
        return fn(*args, **kwargs)
    finally:
        _core._set_autocast_mode(previous)


def autocasts(name):
    """Decorate the Python entry of op ``name`` so that autocast reaches it.

    Parameters
    ----------
    name : str
        The op's name in :data:`POLICIES`.
    """
    def decorate(fn):
        return functools.update_wrapper(_core.autocast_wrapper(name, fn), fn)
    return decorate


# takes every call the flag routes here instead of cast_and_run (ember.profiler), or None
_interposer = None


def _install():
    """Give the core the caster and the elementwise ops to route to it: the interposer
    and all of them while one looks, else cast_and_run and those the tables name."""
    names = set(_core.elementwise_ops())
    if _interposer is None:
        names &= set().union(*POLICIES.values())
    _core._set_autocaster(_interposer or cast_and_run, [_core.op_id(n) for n in names])


def interpose(interposer):
    """Route through ``interposer(name, fn, args, kwargs)`` every call that reaches the
    core's autocast flag (each elementwise op and each entry named in :data:`POLICIES`),
    with the flag on for this thread; ``None`` restores autocast's own routing.

    The profiler (``ember.profiler``) times op calls this way.  ``interposer`` must
    return what :func:`cast_and_run` would: the simplest calls it.

    Returns
    -------
    callable or None
        The previous interposer.
    """
    global _interposer
    previous, _interposer = _interposer, interposer
    _install()
    state.sync()
    return previous


_install()
