"""ember: strided tensors, automatic differentiation and neural networks for Python.

A PyTorch user should feel at home: the same names, semantics and defaults,
built as a Cython-accelerated library in the SciPy mould.
"""
from ember._core._dtype import (
    dtype, bool_ as bool, uint8, int8, int16, int32, int64, float16, bfloat16, float32,
    float64, complex64, complex128, promote_types, can_cast, get_default_dtype,
    set_default_dtype,
)
from ember._core._dtype import float16 as half, float32 as float, float64 as double
from ember._core._dtype import int16 as short, int32 as int, int64 as long
from ember._core._dtype import complex64 as cfloat, complex128 as cdouble
from ember._core._tensor import (
    Tensor, Size, Storage, device, result_type, broadcast_shapes,
    set_num_threads, get_num_threads,
    empty, zeros, ones, full, empty_like, zeros_like, ones_like, full_like, empty_strided,
    arange, linspace, eye, tensor, as_tensor, asarray, from_numpy,
    clone, view as _view, reshape as _reshape, flatten, squeeze, unsqueeze, transpose, permute,
    narrow, select, split, chunk, unbind, diagonal, as_strided, movedim, real, imag,
)
from ember._formatting import set_printoptions

# DLPack interchange (also attaches Tensor.__dlpack__ and Tensor.__dlpack_device__)
from ember._core._dlpack import from_dlpack
# random number generation
from ember._core._random import (
    Generator, default_generator, manual_seed, seed, initial_seed, get_rng_state, set_rng_state,
    rand, randn, randint, randperm, rand_like, randn_like, randint_like, bernoulli, normal,
)
# index ops: advanced indexing hooks, gather/scatter, masked fill, nonzero, joining
from ember.ops.index import (
    cat, concat, concatenate, stack, index_select, gather, scatter, scatter_add, index_put,
    masked_fill, nonzero,
)
# reductions, scans and softmax
from ember._core._reduce import (
    sum, mean, prod, amax, amin, argmax, argmin, max, min, var, std, norm, logsumexp, all, any,
    cumsum, softmax, log_softmax,
)
from ember.ops.elementwise import functions as _elementwise_functions

globals().update(_elementwise_functions)
del _elementwise_functions

# ---- linalg: the matmul family
from ember.ops.linalg import (matmul, mm, bmm, mv, dot, vdot, outer, ger, addmm, addmv, baddbmm, addbmm)

# ---- autograd: the graph, the engine and the grad modes (the derivative formulas live
# beside their ops, in ember.ops)
from ember.ops import views as _views, reduce as _reduce_derivatives  # noqa: F401
from ember.ops import random as _random_derivatives  # noqa: F401
from ember.ops import nn_fused as _nn_fused_ops  # noqa: F401
from ember.ops import pool as _pool_derivatives  # noqa: F401
from ember.ops import conv as _conv_derivatives  # noqa: F401
from ember.ops import rnn as _rnn_derivatives  # noqa: F401
from ember import autograd
from ember.autograd.grad_mode import (
    no_grad, enable_grad, set_grad_enabled, inference_mode, is_grad_enabled,
    is_inference_mode_enabled,
)

__version__ = "0.1.0.dev0"


def reshape(input, shape):
    """``input`` with a new shape: a view when the strides allow, else a copy."""
    return _reshape(input, tuple(shape))


def swapaxes(input, axis0, axis1):
    """Swap two dimensions (alias of :func:`transpose`)."""
    return transpose(input, axis0, axis1)


swapdims = swapaxes


def is_tensor(obj):
    """Whether ``obj`` is an ember Tensor."""
    return isinstance(obj, Tensor)


def numel(input):
    """Number of elements of ``input``."""
    return input.numel()


def is_floating_point(input):
    """Whether the dtype of ``input`` is a floating-point type."""
    return input.is_floating_point()


def is_complex(input):
    """Whether the dtype of ``input`` is a complex type."""
    return input.is_complex()
from ember import utils  # noqa: E402
from ember.serialization import save, load  # noqa: E402
from ember import optim  # noqa: E402
from ember import nn  # noqa: E402
from ember.ops.sorting import sort, argsort, msort, topk, kthvalue, take_along_dim  # noqa: E402
from ember.ops.compare import equal, isclose, allclose  # noqa: E402
from ember.ops.shape_extra import (tril, triu, flip, fliplr, flipud, roll, diag, masked_select, meshgrid, square, lerp, nan_to_num, clamp_min, clamp_max, multinomial)  # noqa: E402,E501
from ember.ops.einsum import einsum  # noqa: E402

# issue 5: sorting and searching
from ember.ops.sorting import unique, unique_consecutive  # noqa: E402
from ember.ops.search import searchsorted, bucketize, bincount, histc, histogram  # noqa: E402
