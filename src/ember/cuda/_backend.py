"""The CUDA backend of ember's core: device memory from CuPy's pool, copies between
the host and the GPU, and the kernels of ``kernels/``.

``ember._core`` calls it (through ``register_backend('cuda', ...)``) wherever a
tensor lives on a cuda device: ``new_storage``, ``to_cpu``, ``from_cpu``,
``to_device``, ``copy_``, ``fill_``, ``elementwise``, ``gemm`` (the matmul family,
through cuBLAS: ``_blas.py``), ``index_kernel`` (gathers and scatters), the
reductions, scans and softmax of ``ember._core._reduce`` (``reduce``, ``lanes``: see
``_reduce.py``), convolutions and pooling (``conv``, ``pool``: see ``_conv.py``,
``_pool.py``), the fused norms and cross-entropy of ``ember._core._nn_fused``
(``nn_fused``: see ``_nn_fused.py``), sorting and binary search through CuPy
(``sort_rows``, ``search_rows``), the compaction of masks (``nonzero``,
``mask_offsets``: see ``_sort.py``), ``ember.linalg``'s
factorizations through cuSOLVER and cuBLAS (``linalg``: see ``_linalg.py``),
``random_fill`` and ``optim_step``.  Ops that reach the CPU kernels with cuda tensors
raise NotImplementedError there (``Tensor.ptr``), so no CPU kernel ever sees a device
pointer.
"""
import functools

import numpy as np

from ember._core._dtype import all_dtypes
from ember._core._tensor import device_storage
from ember.cuda import (_blas, _conv, _kernels, _linalg, _nn_fused, _optim, _pool, _random,
                        _reduce, _sort)
from ember.cuda._runtime import require_gpu

_H2D, _D2H, _D2D = 1, 2, 3            # cudaMemcpyKind
_INT_DIVISION = {"floor_divide", "remainder", "fmod"}
_ERR_ZERO_DIVISION, _ERR_INDEX = 1, 2     # EM_ERR_* in kernels/ember_cuda.cuh
_CONV_OPS = ("convolution", "convolution_transpose", "convolution_weight_grad", "unfold",
             "fold")
_POOL_OPS = ("max_pool", "avg_pool", "avg_pool_backward", "adaptive_avg_pool",
             "adaptive_avg_pool_backward", "adaptive_max_pool", "max_pool_backward",
             "scatter_planes")


class _Stats:
    """Per GPU: bytes held by live ember tensors and their peak since the last reset, the
    peak of CuPy's pool after ember's allocations, and the out-of-memory errors raised."""
    allocated = {}
    peak = {}
    reserved_peak = {}
    ooms = {}


class OutOfMemoryError(RuntimeError):
    """A CUDA allocation failed: the GPU (or the limit set by
    :func:`ember.cuda.set_per_process_memory_fraction`) has no room left.

    Examples
    --------
    >>> import ember
    >>> try:                                              # doctest: +SKIP
    ...     x = ember.empty(1 << 45, device='cuda')
    ... except ember.cuda.OutOfMemoryError:
    ...     x = None
    """


class _Block:
    """Owner of one pooled allocation: keeps CuPy's MemoryPointer alive for the Storage
    and keeps the per-device byte counts of ``memory_allocated``."""
    __slots__ = ("memory", "nbytes", "index")

    def __init__(self, memory, nbytes, index):
        self.memory = memory
        self.nbytes = nbytes
        self.index = index
        now = _Stats.allocated.get(index, 0) + nbytes
        _Stats.allocated[index] = now
        if now > _Stats.peak.get(index, 0):
            _Stats.peak[index] = now

    def __del__(self):
        _Stats.allocated[self.index] -= self.nbytes


def _alloc(cp, nbytes, index):
    """``nbytes`` from CuPy's pool on the current device ``index``, counted in _Stats."""
    try:
        memory = cp.cuda.alloc(max(nbytes, 1))
    except cp.cuda.memory.OutOfMemoryError as exc:   # raised after CuPy freed its cache
        _Stats.ooms[index] = _Stats.ooms.get(index, 0) + 1
        raise OutOfMemoryError(f"CUDA out of memory. Tried to allocate {nbytes} bytes on "
                               f"GPU {index}: {exc}") from exc
    reserved = cp.get_default_memory_pool().total_bytes()
    if reserved > _Stats.reserved_peak.get(index, 0):
        _Stats.reserved_peak[index] = reserved
    return memory


def _ember():
    import ember
    return ember


@functools.lru_cache(maxsize=None)
def _cuda_device(index):
    """The ``ember.device('cuda', index)`` object (one per index)."""
    return _ember().device("cuda", index)


def _index_of(dev):
    cp = require_gpu()
    return cp.cuda.runtime.getDevice() if dev.index is None else dev.index


def _aligned_strides(t, shape):
    """``t``'s byte strides right-aligned to the broadcast ``shape`` (0 where it broadcasts)."""
    nd, td = len(shape), t.dim()
    isz = t.element_size()
    strides = t.stride()
    tshape = t.shape
    out = [0] * nd
    for d in range(td):
        if tshape[d] == shape[nd - td + d]:
            out[nd - td + d] = strides[d] * isz
    return out


def _overlap(a, b):
    """Whether ``a`` and ``b`` may share memory (byte ranges, conservatively)."""
    if a.numel() == 0 or b.numel() == 0:
        return False

    def extent(t):
        lo = hi = t.data_ptr()
        for size, st in zip(t.shape, t.stride()):
            span = st * (size - 1) * t.element_size()
            lo, hi = (lo + span, hi) if span < 0 else (lo, hi + span)
        return lo, hi + t.element_size()

    (alo, ahi), (blo, bhi) = extent(a), extent(b)
    return alo < bhi and blo < ahi


class CudaBackend:
    """What ember's core asks of the cuda device (see the module docstring)."""

    random_fill = staticmethod(_random.random_fill)
    optim_step = staticmethod(_optim.optim_step)

    # ------------------------------------------------------------ memory
    def new_storage(self, nbytes, dev):
        # every op's result comes through here: one runtime query, no imports or new
        # device objects per call
        cp = require_gpu()
        current = cp.cuda.runtime.getDevice()
        index = current if dev.index is None else dev.index
        if index == current:
            memory = _alloc(cp, nbytes, index)
        else:
            with cp.cuda.Device(index):
                memory = _alloc(cp, nbytes, index)
        return device_storage(memory.ptr, nbytes, _Block(memory, nbytes, index),
                              _cuda_device(index))

    # ------------------------------------------------------------ host <-> device
    def to_cpu(self, t):
        cp = require_gpu()
        ember = _ember()
        src = t if t.is_contiguous() else self.contiguous(t)
        out = ember.empty(tuple(t.shape), dtype=t.dtype, device="cpu")
        nbytes = t.numel() * t.element_size()
        if nbytes:
            stream = cp.cuda.get_current_stream()
            cp.cuda.runtime.memcpyAsync(out.data_ptr(), src.data_ptr(), nbytes, _D2H, stream.ptr)
            stream.synchronize()
        return out

    def from_cpu(self, t, dev):
        cp = require_gpu()
        ember = _ember()
        src = t.contiguous()
        out = ember.empty(tuple(t.shape), dtype=t.dtype, device=dev)
        nbytes = t.numel() * t.element_size()
        if nbytes:
            # from pageable memory the call returns once the bytes are staged, so `src`
            # may be freed right after it
            cp.cuda.runtime.memcpyAsync(out.data_ptr(), src.data_ptr(), nbytes, _H2D,
                                        cp.cuda.get_current_stream().ptr)
        return out

    def to_device(self, t, dev):
        """``t`` on cuda device ``dev`` (itself when ``dev`` names its device)."""
        if _index_of(dev) == t.device.index:
            return t
        return self.from_cpu(self.to_cpu(t), dev)

    # ------------------------------------------------------------ copies, casts, fills
    def contiguous(self, t):
        ember = _ember()
        out = ember.empty(tuple(t.shape), dtype=t.dtype, device=t.device)
        self._copy_same_device(out, t)
        return out

    def copy_(self, dst, src):
        if dst.device.type == "cpu":
            dst.copy_(self.to_cpu(src))
            return
        if src.device.type == "cpu":
            src = self.from_cpu(src.to(dst.dtype), dst.device)
        elif src.device != dst.device:
            src = self.from_cpu(self.to_cpu(src), dst.device)
        elif _overlap(dst, src) and not (dst.data_ptr() == src.data_ptr()
                                         and dst.stride() == src.stride()
                                         and dst.dtype == src.dtype):
            src = self.contiguous(src)
        self._copy_same_device(dst, src)

    def _copy_same_device(self, dst, src):
        n = dst.numel()
        if n == 0:
            return
        cp = require_gpu()
        shape = tuple(dst.shape)
        same_layout = tuple(src.shape) == shape and dst.is_contiguous() and src.is_contiguous()
        if same_layout and dst.dtype == src.dtype:
            cp.cuda.runtime.memcpyAsync(dst.data_ptr(), src.data_ptr(), n * dst.element_size(),
                                        _D2D, cp.cuda.get_current_stream().ptr)
            return
        name = f"em_cu_cast_{src.dtype.name}_{dst.dtype.name}"
        if same_layout:
            fn = _kernels.function("copy", name + "_c")
            fn((_kernels.grid_for(n),), (_kernels.BLOCK,), (dst.data_ptr(), src.data_ptr(), n))
            return
        rec, small = _kernels.layout(shape, [_aligned_strides(dst, shape),
                                             _aligned_strides(src, shape)])
        fn = _kernels.function("copy", name + ("_s32" if small else "_s64"))
        fn((_kernels.grid_for(n),), (_kernels.BLOCK,), (dst.data_ptr(), src.data_ptr(), rec))

    def fill_(self, dst, value):
        n = dst.numel()
        if n == 0:
            return
        ember = _ember()
        size = dst.element_size()
        # the value converted by the CPU's rules, as raw bits of the destination dtype
        bits = ember.full((), value, dtype=dst.dtype, device="cpu").numpy().reshape(1)
        # complex128's 16 bytes go as two 8-byte words
        words = bits.view({1: np.uint8, 2: np.uint16, 4: np.uint32, 8: np.uint64,
                           16: np.uint64}[size])
        shape = tuple(dst.shape)
        rec, small = _kernels.layout(shape, [_aligned_strides(dst, shape)])
        fn = _kernels.function("copy", f"em_cu_fill{8 * size}_{'s32' if small else 's64'}")
        fn((_kernels.grid_for(n),), (_kernels.BLOCK,),
           (dst.data_ptr(), rec, *(np.uint64(int(w)) for w in words)))

    # ------------------------------------------------------------ DLPack stream ordering
    def check_device(self, dev):
        """RuntimeError unless CuPy sees cuda device ``dev`` (memory ember is handed)."""
        from ember.cuda._runtime import device_index
        device_index(dev)

    def dlpack_export_sync(self, t, stream):
        """Make the consumer's ``stream`` (a ``cudaStream_t`` as an int: 1 the legacy default
        stream, 2 the per-thread default, -1 no ordering, None as 1) wait for the work
        queued on ember's current stream, so it sees ``t``'s final values."""
        if stream == -1:
            return
        cp = require_gpu()
        if stream is None or stream == 1:
            consumer = cp.cuda.Stream.null
        elif stream == 2:
            consumer = cp.cuda.Stream.ptds
        elif isinstance(stream, int) and stream > 2:
            consumer = cp.cuda.ExternalStream(stream)
        else:
            raise ValueError(f"__dlpack__: stream must be None, -1, 1, 2 or a CUDA stream "
                             f"handle, got {stream!r}")
        current = cp.cuda.get_current_stream()
        if consumer.ptr != current.ptr:
            consumer.wait_event(current.record())

    def dlpack_consumer_stream(self, index):
        """The stream handle ember passes to a producer on cuda device ``index``: its
        current stream (1 for the legacy default stream, whose handle is 0)."""
        cp = require_gpu()
        with cp.cuda.Device(index):
            return cp.cuda.get_current_stream().ptr or 1

    # ------------------------------------------------------------ elementwise ops
    def elementwise(self, op, operands, out, out_dtype, shape):
        """``op`` of the op table over ``operands`` (already in the compute dtype; the
        condition of ``where`` is bool) broadcast to ``shape``, into ``out`` (already of
        ``shape``) or a new tensor of dtype number ``out_dtype``."""
        ember = _ember()
        out_dtype = all_dtypes[out_dtype]
        shape = tuple(shape)
        dev = None
        for t in operands:
            if t.device.type != "cpu":
                dev = t.device
                break
        if dev is None:
            dev = out.device
        # 0-d CPU tensors may join cuda ones (as in PyTorch): move them over
        operands = [self.from_cpu(t, dev) if t.device.type == "cpu" else t for t in operands]
        compute = operands[-1].dtype
        target = out
        if out is not None:
            if out.dtype != out_dtype or any(
                    _overlap(out, t) and not (out.data_ptr() == t.data_ptr()
                                              and out.stride() == t.stride()
                                              and len(t.shape) == len(shape)) for t in operands):
                target = None
        if target is None:
            target = ember.empty(shape, dtype=out_dtype, device=dev)
        self._launch_elementwise(op, compute, target, operands, shape)
        if target is not out and out is not None:
            self.copy_(out, target)
            return out
        return target

    def _launch_elementwise(self, op, compute, target, operands, shape):
        n = target.numel()
        if n == 0:
            return
        name = f"em_cu_{op}_{compute.name}"
        ptrs = [t.data_ptr() for t in operands] + [0] * (3 - len(operands))
        err = _error_flag() if op in _INT_DIVISION and not compute.is_floating_point else 0
        scalars = 0
        contiguous = target.is_contiguous()
        for k, t in enumerate(operands):
            if t.numel() == 1:
                scalars |= 1 << k
            elif tuple(t.shape) != shape or not t.is_contiguous():
                contiguous = False
        if contiguous and scalars != (1 << len(operands)) - 1:
            fn = _kernels.function("elementwise", name + "_c")
            per_thread = 16 // max(t.element_size() for t in operands + [target])
            fn((_kernels.grid_for(n, per_thread),), (_kernels.BLOCK,),
               (target.data_ptr(), *ptrs, n, np.int32(scalars), err))
        else:
            rec, small = _kernels.layout(shape, [_aligned_strides(target, shape)]
                                         + [_aligned_strides(t, shape) for t in operands])
            fn = _kernels.function("elementwise", name + ("_s32" if small else "_s64"))
            fn((_kernels.grid_for(n),), (_kernels.BLOCK,), (target.data_ptr(), *ptrs, rec, err))
        if err:
            _check_error_flag()

    # ------------------------------------------------------------ reductions, scans, softmax
    def reduce(self, op, x, mask, out, out_idx, scale, p, inv_p, correction, take_sqrt):
        """Reduction kernel ``op`` of ``x`` over the dims in bit ``mask`` into the
        contiguous ``out`` (and int64 ``out_idx`` for argmax/argmin), with the CPU
        engine's parameters (see ``_reduce.reduce``)."""
        _reduce.reduce(op, x, mask, out, out_idx,
                       _reduce.params_record(scale, p, inv_p, correction, take_sqrt))

    def lanes(self, op, out, x, dim, other=None):
        """cumsum, cumprod, softmax, log_softmax or their backward along ``dim`` (see
        ``_reduce.lanes``); NotImplementedError for other ops."""
        _reduce.lanes(op, out, x, dim, other)

    # ------------------------------------------------------------ fused norms, cross-entropy
    def nn_fused(self, kernel, *args):
        """Fused norm or cross-entropy ``kernel`` (a function of ``_nn_fused``) over
        contiguous tensors of the compute dtype that ``ember._core._nn_fused`` made."""
        return getattr(_nn_fused, kernel)(*args)

    # ------------------------------------------------------------ sorting, search, nonzero
    def sort_rows(self, src, descending, first):
        """Stable sort of the last dim of the contiguous ``src`` (see ``_sort.sort_rows``)."""
        return _sort.sort_rows(src, descending, first)

    def search_rows(self, seq, values, right, out_int32):
        """searchsorted's insertion positions (see ``_sort.search_rows``)."""
        return _sort.search_rows(seq, values, right, out_int32)

    def nonzero(self, t):
        """The ``(n, ndim)`` int64 indices of ``t``'s nonzero elements."""
        return _sort.nonzero(t)

    def mask_offsets(self, mask, weights):
        """The int64 sums of coordinate times ``weights`` of the True elements of the bool
        ``mask``, in row-major order (byte offsets of boolean-mask indexing)."""
        return _sort.mask_offsets(mask, weights)

    # ------------------------------------------------------------ linear algebra
    def linalg(self, routine, *args):
        """The ``ember.linalg`` kernel ``routine`` (a function of ``_linalg``: cuSOLVER
        and cuBLAS through CuPy) on non-empty cuda tensors."""
        return getattr(_linalg, routine)(*args)

    # ------------------------------------------------------------ index ops
    def index_kernel(self, kernel, shape, strides, ptrs, size=0, stride=0, wrap=False,
                     value=0, check=True):
        """Launch ``em_cu_<kernel>`` of ``kernels/index.cu`` over the iteration ``shape``
        with the operands' byte ``strides`` and pointers ``ptrs``, laid out by
        ``ember._core``'s index ops as for the CPU loops; ``size``, ``stride`` and ``wrap``
        describe the indexed dim, ``value`` is masked_fill's bit pattern (up to 128 bits:
        complex128's, passed as two words).  Returns whether an index was out of range (the kernel then moved nothing for it), read from the
        error word unless the caller checked the indices already (``check`` False)."""
        numel = 1
        for s in shape:
            numel *= s
        if numel == 0:
            return False
        rec, _ = _kernels.layout(tuple(shape), strides)
        fn = _kernels.function("index", "em_cu_" + kernel)
        launch = ((_kernels.grid_for(numel),), (_kernels.BLOCK,))
        if kernel.startswith("masked_fill"):
            words = (value & (2**64 - 1), value >> 64) if kernel == "masked_fill128" else (value,)
            fn(*launch, (ptrs[0], ptrs[1], rec, *map(np.uint64, words)))
            return False
        err = _error_flag()
        if kernel.startswith("index_check"):
            fn(*launch, (ptrs[0], rec, np.int64(size), np.int32(wrap), err))
        else:
            fn(*launch, (ptrs[0], ptrs[1], ptrs[2], rec, np.int64(size), np.int64(stride),
                         np.int32(wrap), err))
        return check and _take_error_flag() == _ERR_INDEX

    # ------------------------------------------------------------ convolution, pooling
    def conv(self, op, *args):
        """Convolution op ``op`` (one of ``_CONV_OPS``) of checked arguments, as
        ``ember._core._conv`` passes them (see :mod:`ember.cuda._conv`)."""
        if op not in _CONV_OPS:
            raise NotImplementedError(f"{op}: not implemented for device cuda yet")
        return getattr(_conv, op)(self, *args)

    def pool(self, op, *args):
        """Pooling op ``op`` (one of ``_POOL_OPS``) of checked arguments, as
        ``ember._core._pool`` passes them (see :mod:`ember.cuda._pool`)."""
        if op not in _POOL_OPS:
            raise NotImplementedError(f"{op}: not implemented for device cuda yet")
        return getattr(_pool, op)(self, *args)

    # ------------------------------------------------------------ matrix products
    def gemm(self, a, a_vec, b, b_vec, c, input, bshape, alpha, beta, accumulate):
        """``c = beta * input + alpha * a @ b`` over the batch ``bshape`` (see
        :func:`ember.cuda._blas.gemm`)."""
        return _blas.gemm(self, a, a_vec, b, b_vec, c, input, bshape, alpha, beta, accumulate)


def cuda_array_interface(t):
    """``__cuda_array_interface__`` (version 3) of a cuda tensor: its memory, layout and the
    current stream, which a consumer orders its work after."""
    if t.device.type != "cuda":
        raise AttributeError(f"Can't get __cuda_array_interface__ on a tensor on {t.device}")
    if t.requires_grad:
        raise RuntimeError("Can't get __cuda_array_interface__ on a Tensor that requires grad. "
                           "Use tensor.detach() first.")
    if t.dtype.numpy_dtype is None or t.dtype.name == "bfloat16":
        raise TypeError(f"__cuda_array_interface__: dtype {t.dtype} has no typestr")
    stream = require_gpu().cuda.get_current_stream().ptr
    isz = t.element_size()
    return {
        "shape": tuple(t.shape),
        "typestr": np.dtype(t.dtype.numpy_dtype).str,
        "data": (t.data_ptr() if t.numel() else 0, False),
        "strides": None if t.is_contiguous() else tuple(s * isz for s in t.stride()),
        "version": 3,
        "stream": stream or 1,     # 0 is not allowed: 1 names the legacy default stream
    }


_error_flags = {}   # device ordinal -> cupy array of one int32


def _error_flag():
    """The device's error word, which the integer division kernels set on a zero divisor
    and the index kernels on an index out of range."""
    cp = require_gpu()
    dev = cp.cuda.runtime.getDevice()
    flag = _error_flags.get(dev)
    if flag is None:
        flag = _error_flags[dev] = cp.zeros(1, dtype=cp.int32)
    return flag.data.ptr


def _take_error_flag():
    """The code a kernel left in the error word (0: none; waits for the kernel); clears it."""
    cp = require_gpu()
    flag = _error_flags[cp.cuda.runtime.getDevice()]
    code = int(flag[0])         # synchronises with the kernel
    if code != 0:
        flag.fill(0)
    return code


def _check_error_flag():
    """Raise (as the CPU does) when a division kernel set the error word; clears it."""
    if _take_error_flag() == _ERR_ZERO_DIVISION:
        raise RuntimeError("ZeroDivisionError")
