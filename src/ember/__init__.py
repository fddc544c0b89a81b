"""ember: strided tensors, automatic differentiation and neural networks for Python.

A PyTorch user should feel at home: the same names, semantics and defaults,
built as a Cython-accelerated library in the SciPy mould.
"""
from ember._core._dtype import (
    dtype, bool_ as bool, uint8, int8, int16, int32, int64, float16, bfloat16, float32,
    float64, complex64, complex128, uint16, uint32, uint64, promote_types, can_cast, get_default_dtype,
    set_default_dtype,
)
from ember._core._dtype import float16 as half, float32 as float, float64 as double
from ember._core._dtype import int16 as short, int32 as int, int64 as long
from ember._core._dtype import complex64 as cfloat, complex128 as cdouble
from ember._core._tensor import (
    Tensor, Size, Storage, device, result_type, broadcast_shapes, set_default_device,
    get_default_device,
    set_num_threads, get_num_threads, set_flush_denormal,
    empty, zeros, ones, full, empty_like, zeros_like, ones_like, full_like, empty_strided,
    arange, linspace, eye, tensor, as_tensor, asarray, from_numpy,
    view as _view, reshape as _reshape, flatten, squeeze, unsqueeze, transpose, permute,
    narrow, select, split, chunk, unbind, diagonal, as_strided, movedim, real, imag,
    memory_format, contiguous_format, channels_last, channels_last_3d, preserve_format,
    layout, strided, sparse_coo, sparse_csr,
)
from ember._formatting import set_printoptions

# DLPack interchange (also attaches Tensor.__dlpack__ and Tensor.__dlpack_device__)
from ember._core._dlpack import from_dlpack
from ember.utils.dlpack import to_dlpack
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

from ember import version
from ember.version import __version__


def reshape(input, shape):
    """``input`` with a new shape: a view when the strides allow, else a copy."""
    return _reshape(input, tuple(shape))


def swapaxes(input, axis0, axis1):
    """Swap two dimensions (alias of :func:`transpose`)."""
    return transpose(input, axis0, axis1)


swapdims = swapaxes


# torch.clone takes the method's memory_format: the function is the method itself
clone = Tensor.clone


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
from ember import random, utils  # noqa: E402
from ember.serialization import save, load  # noqa: E402
from ember import hub  # noqa: E402  (torch.hub: checkpoints and hubconf.py entrypoints)
from ember import optim  # noqa: E402
from ember import nn  # noqa: E402
from ember.ops.sorting import sort, argsort, msort, topk, kthvalue, take_along_dim  # noqa: E402
from ember.ops.compare import equal, isclose, allclose, hash_tensor  # noqa: E402
from ember.ops.shape_extra import (tril, triu, flip, fliplr, flipud, roll, diag, masked_select, meshgrid, square, lerp, nan_to_num, clamp_min, clamp_max, multinomial)  # noqa: E402,E501
from ember.ops.einsum import einsum  # noqa: E402

# issue 5: shape, joining, indexing, creation
from ember.ops.joining import (atleast_1d, atleast_2d, atleast_3d, hstack, vstack, row_stack, dstack, column_stack, tensor_split, hsplit, vsplit, dsplit, rot90, tile, repeat_interleave, unflatten, kron, cross, block_diag, cartesian_prod, combinations, trace, diag_embed, diagflat)  # noqa: E402,E501
from ember.ops.complex import view_as_real, view_as_complex, complex, polar  # noqa: E402
from ember.ops.creation import tril_indices, triu_indices, logspace, range, from_file  # noqa: E402
from ember.ops.segment import segment_reduce  # noqa: E402
from ember.ops.index_extra import (take, index_add, index_copy, index_fill, index_reduce, scatter_reduce, masked_scatter, argwhere, narrow_copy, select_scatter, slice_scatter, diagonal_scatter, nonzero_static, as_strided_scatter)  # noqa: E402,E501
# issue 5: special
from ember import special, signal  # noqa: E402
from ember.special import digamma, polygamma, erfinv, i0, mvlgamma  # noqa: E402
from ember.special import _igamma as igamma, _igammac as igammac  # noqa: E402
# issue 5: fft and contractions
from ember import fft  # noqa: E402
# sparse COO tensors and CSR matrices
from ember import sparse  # noqa: E402
from ember.sparse import sparse_coo_tensor, sparse_csr_tensor, mm as spmm  # noqa: E402
# masked reductions and normalizations (torch.masked)
from ember import masked  # noqa: E402
from ember.ops.stft import stft, istft  # noqa: E402
from ember.ops.linalg import tensordot, inner, chain_matmul, addr  # noqa: E402
# issue 5: linalg decompositions
from ember import linalg  # noqa: E402
from ember.linalg._decomp_derived import svd_compat as svd, qr_compat as qr, pinverse, orgqr  # noqa: E402
# issue 5: linalg
from ember.linalg._solve import det, slogdet, logdet, inv as inverse  # noqa: E402
from ember.linalg._factor import cholesky_inverse, cholesky_top_level as cholesky  # noqa: E402
from ember.linalg._matfun import matrix_power, matrix_exp  # noqa: E402
from ember.linalg._legacy import (lu, lu_solve, lu_unpack, cholesky_solve, triangular_solve, geqrf, ormqr, nuclear_norm, frobenius_norm)  # noqa: E402,E501
from ember.linalg._lowrank import svd_lowrank, pca_lowrank  # noqa: E402
# issue 5: reductions, scans, statistics
from ember._core._reduce import cumprod, logcumsumexp, cummax, cummin  # noqa: E402
from ember.ops.stats import (nansum, nanmean, aminmax, var_mean, std_mean, count_nonzero, median, nanmedian, quantile, nanquantile, mode, cov, corrcoef)  # noqa: E402,E501
from ember.ops.differences import diff, trapezoid, cumulative_trapezoid, renorm, dist, cdist  # noqa: E402

# issue 5: random sampling and distributions
from ember._core._random import (poisson, binomial, _standard_gamma, _standard_gamma_grad, _sample_dirichlet, _dirichlet_grad)  # noqa: E402,E501
from ember import distributions  # noqa: E402

# issue 5: elementwise
from ember.ops.elementwise_math import (logit, round, nextafter, heaviside, float_power, ldexp, addcmul, addcdiv, positive, selu, selu_, celu, celu_, threshold, threshold_, hardshrink)  # noqa: E402,E501
# issue 5: sorting and searching
from ember.ops.sorting import unique, unique_consecutive  # noqa: E402
# the _foreach_* list functions (used directly by weight-EMA code)
from ember.ops.foreach import functions as _foreach_functions  # noqa: E402
globals().update(_foreach_functions)
del _foreach_functions
from ember.ops.search import searchsorted, bucketize, bincount, histc, histogram, histogramdd  # noqa: E402
# issue 8: vision data helpers
from ember import vision  # noqa: E402
# issue 7: multiprocessing (registers shared-memory storages and the tensor reducers)
from ember import multiprocessing  # noqa: E402

# issue 7: distributed (mpi4py is imported only by init_process_group)
from ember import distributed  # noqa: E402
# issue 8: the Array API namespace (attaches Tensor.__array_namespace__ and Tensor.to_device),
# and exact gradients of ember objectives for scipy.optimize
from ember import array_api, optimize  # noqa: E402

# issue 8: quantization
from ember.quantization._qtensor import (qint8, quint8, qint32, quantize_per_tensor, quantize_per_channel, dequantize, per_tensor_affine, per_channel_affine, per_tensor_symmetric, per_channel_symmetric)  # noqa: E402,E501
from ember import quantization, ao  # noqa: E402

# issue 8: ember.jit (tracing, saved graphs)
from ember import jit  # noqa: E402
# torch.export's API on the tracer
from ember import export  # noqa: E402
# ember.compile (torch.compile) on traced graphs
from ember import compiler  # noqa: E402
from ember import backends, testing  # noqa: E402
from ember.compiler import compile  # noqa: E402,A004
# issue 6: cuda (CuPy is imported only on first use of a cuda device)
from ember import cuda  # noqa: E402
# the CPU's device module (torch.cpu), for device-agnostic code
from ember import cpu  # noqa: E402
# the meta device: tensors without memory, for shapes and deferred initialisation
from ember import _meta  # noqa: E402,F401
# issue 6: mixed precision (autocast regions, loss scaling)
from ember import amp  # noqa: E402
from ember.amp import autocast  # noqa: E402
from ember.cuda import amp as _cuda_amp  # noqa: E402,F401  (ember.cuda.amp)
from ember.amp.autocast_mode import (is_autocast_enabled, set_autocast_enabled, get_autocast_dtype, set_autocast_dtype, is_autocast_cache_enabled, set_autocast_cache_enabled, clear_autocast_cache, autocast_increment_nesting, autocast_decrement_nesting)  # noqa: E402,E501
from ember.amp.autocast_mode import (is_autocast_cpu_enabled, set_autocast_cpu_enabled, get_autocast_cpu_dtype, set_autocast_cpu_dtype, get_autocast_gpu_dtype, set_autocast_gpu_dtype)  # noqa: E402,E501
from ember.amp import GradScaler  # noqa: E402

# PyTorch API that real scripts use: factories from a tensor, broadcasting, dtype limits,
# constants, global switches, small functions, *_copy ops, in-place function forms, windows,
# and the torch.* forms of functional ops
import math as _math  # noqa: E402
from ember.ops.tensor_api import (broadcast_tensors, broadcast_to, finfo, iinfo, is_signed, typename, is_storage, put, resolve_conj, resolve_neg, is_conj, is_neg, frombuffer, adjoint, get_device_module, is_distributed)  # noqa: E402,E501
from ember.ops.api_functions import (isin, isposinf, isneginf, isreal, moveaxis, ravel, t, detach, unravel_index, vander, rsub, scalar_tensor, frexp, fill, split_with_sizes, unsafe_split, unsafe_chunk, unsafe_split_with_sizes, hann_window, hamming_window, blackman_window, bartlett_window, kaiser_window, get_device, empty_permuted)  # noqa: E402,E501
from ember.ops.storage import TypedStorage, UntypedStorage  # noqa: E402  (also Tensor.storage)
from ember.ops.storage import (BoolStorage, ByteStorage, CharStorage, ShortStorage, IntStorage, LongStorage, HalfStorage, BFloat16Storage, FloatStorage, DoubleStorage, ComplexFloatStorage, ComplexDoubleStorage)  # noqa: E402,E501
from ember._tensor_types import (BoolTensor, ByteTensor, CharTensor, ShortTensor, IntTensor, LongTensor, HalfTensor, BFloat16Tensor, FloatTensor, DoubleTensor, set_default_tensor_type)  # noqa: E402,E501
from ember.ops.api_functions import inplace_functions as _inplace_functions, copy_functions as _copy_functions  # noqa: E402,E501
from ember.ops.differences import gradient, trapz  # noqa: E402
from ember.nn._functional.rnn import (lstm_cell, gru_cell, rnn_tanh_cell, rnn_relu_cell, lstm, gru, rnn_tanh, rnn_relu)  # noqa: E402,E501
from ember._switches import (use_deterministic_algorithms, are_deterministic_algorithms_enabled, is_deterministic_algorithms_warn_only_enabled, set_deterministic_debug_mode, get_deterministic_debug_mode, set_float32_matmul_precision, get_float32_matmul_precision, set_num_interop_threads, get_num_interop_threads, set_anomaly_enabled, set_warn_always, is_warn_always_enabled, init_num_threads)  # noqa: E402,E501
from ember.autograd.anomaly_mode import is_anomaly_enabled, is_anomaly_check_nan_enabled  # noqa: E402,E501
from ember._control_flow import cond, while_loop  # noqa: E402
from ember.nn._functional.torch_forms import (adaptive_avg_pool1d, adaptive_max_pool1d, affine_grid_generator, alpha_dropout, alpha_dropout_, avg_pool1d, batch_norm, bilinear, binary_cross_entropy_with_logits, channel_shuffle, constant_pad_nd, conv1d, conv2d, conv3d, conv_tbc, conv_transpose1d, conv_transpose2d, conv_transpose3d, convolution, cosine_embedding_loss, cosine_similarity, ctc_loss, dropout, dropout_, embedding, embedding_renorm_, feature_alpha_dropout, feature_alpha_dropout_, feature_dropout, feature_dropout_, grid_sampler, grid_sampler_2d, grid_sampler_3d, group_norm, hinge_embedding_loss, instance_norm, kl_div, layer_norm, margin_ranking_loss, max_pool1d, max_pool1d_with_indices, max_pool2d, max_pool3d, norm_except_dim, pairwise_distance, pdist, pixel_shuffle, pixel_unshuffle, poisson_nll_loss, prelu, rms_norm, rrelu, rrelu_, triplet_margin_loss)  # noqa: E402,E501

globals().update(_inplace_functions)
globals().update(_copy_functions)
del _inplace_functions, _copy_functions
pi, e, inf, nan, newaxis = _math.pi, _math.e, _math.inf, _math.nan, None
# what this build has: LAPACK and pocketfft through SciPy, OpenMP threads; not MKL
has_lapack, has_spectral, has_openmp, has_mkl = True, True, True, False
from ember.cuda import OutOfMemoryError  # noqa: E402

# torch.func's transforms (grad, vjp, jacrev, vmap, ...); torch.vmap is also top-level
from ember import func  # noqa: E402
from ember.func import vmap  # noqa: E402
# torch.profiler and torch.autograd.profiler (pure Python: nothing is hooked until one records)
from ember import profiler  # noqa: E402
from ember.autograd import profiler as _autograd_profiler  # noqa: E402,F401

# issue 8: ember.onnx (imported on first use: it needs the optional onnx package)


def __getattr__(name):
    if name == "onnx":
        import importlib
        return importlib.import_module("ember.onnx")
    raise AttributeError(f"module 'ember' has no attribute {name!r}")
