"""Sorting and binary search on the GPU through CuPy (stable CUB/Thrust sorts), and
the compaction of bool masks by ember's own scan kernels.

``ember._core._sort`` hands the contiguous rows it would sort on the CPU to
:class:`~ember.cuda._backend.CudaBackend` (``sort_rows``, ``search_rows``): the
tensors are viewed as CuPy arrays without a copy and the results written into ember
cuda tensors on the device.  The order is the CPU's: stable, NaN after every number
(first when descending), equal elements in their original order either way.

``nonzero`` (and ``argwhere``, ``masked_scatter``) and the boolean masks of advanced
indexing (``x[mask]``, ``masked_select``, ``index_put`` with a mask: ``mask_offsets``)
list the True elements of a mask with the compaction kernels of ``kernels/scan.cu``:
tile counts, their prefix sum and a scatter, all on the device; only the count comes
back to the host, to size the result (as PyTorch syncs there too).
"""
import numpy as np

from ember.cuda import _kernels
from ember.cuda._runtime import require_gpu

# struct em_cu_mask_geom of kernels/scan.cu.in (EM_MAX_DIMS dims)
MASK_DTYPE = np.dtype([("ndim", np.int64), ("coords", np.int64), ("shape", np.int64, (64,)),
                       ("weights", np.int64, (64,))])
_MASK_TILE = 2048      # EM_MASK_TILE
_MAX_BLOCKS = 65535 * 8


def _ember():
    import ember
    return ember


def as_cupy(t, bits=False):
    """A CuPy array over the memory of the cuda tensor ``t`` (no copy; ``t`` owns it);
    with ``bits``, of unsigned integers of its element size (any dtype, bfloat16 too)."""
    cp = require_gpu()
    isz = t.element_size()
    extent = isz + sum((n - 1) * abs(s) * isz for n, s in zip(t.shape, t.stride()))
    memory = cp.cuda.UnownedMemory(t.data_ptr(), extent if t.numel() else 0, t)
    dtype = np.dtype(f"u{isz}") if bits else np.dtype(t.dtype.numpy_dtype)
    return cp.ndarray(tuple(t.shape), dtype=dtype,
                      memptr=cp.cuda.MemoryPointer(memory, 0),
                      strides=tuple(s * isz for s in t.stride()))


def _keys(t):
    """``t`` as a CuPy array CuPy orders as ember does: float16/bfloat16 widened to
    float32 and bool to uint8 (exact, order-preserving)."""
    ember = _ember()
    if t.dtype.is_complex:
        raise RuntimeError("Sort does not support complex dtypes on CUDA")
    if t.dtype in (ember.float16, ember.bfloat16):
        t = t.to(ember.float32)
    elif t.dtype == ember.bool:
        t = t.to(ember.uint8)
    return as_cupy(t)


def sort_rows(src, descending, first):
    """``(values, indices)`` of each row of the contiguous ``src`` (its last dim) sorted
    stably, the first ``first`` of each row; ember cuda tensors."""
    ember = _ember()
    cp = require_gpu()
    n = src.shape[-1] if src.dim() else 1
    shape = tuple(src.shape[:-1]) + (first,) if src.dim() else ()
    values = ember.empty(shape, dtype=src.dtype, device=src.device)
    indices = ember.empty(shape, dtype=ember.int64, device=src.device)
    rows = src.numel() // n if n else 0
    if rows == 0 or first == 0:
        return values, indices
    keys = _keys(src).reshape(rows, n)
    if descending:
        # the stable ascending order of the reversed rows, reversed: descending, with
        # equal elements in their original order and NaN first
        order = (n - 1) - cp.argsort(keys[:, ::-1], axis=-1)[:, ::-1]
    else:
        order = cp.argsort(keys, axis=-1)
    order = order[:, :first]
    as_cupy(indices).reshape(rows, first)[...] = order
    as_cupy(values, bits=True).reshape(rows, first)[...] = cp.take_along_axis(
        as_cupy(src, bits=True).reshape(rows, n), order, axis=1)
    return values, indices


def search_rows(seq, values, right, out_int32):
    """Insertion positions of ``values`` in the sorted rows of ``seq`` (1-D: one row for
    every value; else one row per row of ``values``): the CPU's binary search, step for
    step over every value at once, so that NaN lands where the CPU puts it."""
    ember = _ember()
    cp = require_gpu()
    out = ember.empty(tuple(values.shape), dtype=ember.int32 if out_int32 else ember.int64,
                      device=values.device)
    length = seq.shape[-1]
    per_row = values.shape[-1] if values.dim() and seq.dim() > 1 else values.numel()
    rows = values.numel() // per_row if per_row else 0
    if rows == 0:
        return out
    flat = _keys(seq).reshape(-1)
    v = _keys(values).reshape(rows, per_row)
    base = cp.arange(rows).reshape(rows, 1) * (length if seq.dim() > 1 else 0)
    lo = cp.full((rows, per_row), 0, dtype=np.int64)
    hi = cp.full((rows, per_row), length, dtype=np.int64)
    for _ in range(length.bit_length()):
        mid = lo + (hi - lo) // 2
        m = cp.take(flat, base + cp.minimum(mid, length - 1))
        # as the CPU: go right unless m > v (right) or m >= v (left); NaN goes right
        up = (lo < hi) & ~((m > v) if right else (m >= v))
        down = (lo < hi) & ~up
        lo = cp.where(up, mid + 1, lo)
        hi = cp.where(down, mid, hi)
    as_cupy(out).reshape(rows, per_row)[...] = lo
    return out


def _compact(mask, weights):
    """The rows of the True elements of the cuda bool tensor ``mask`` in row-major order:
    their coordinates, ``(n, mask.ndim)``, when ``weights`` is None, else the ``(n,)``
    sums of coordinate times weight."""
    ember = _ember()
    shape = tuple(mask.shape)
    n = mask.numel()
    tiles = (n + _MASK_TILE - 1) // _MASK_TILE
    counts = ember.empty((tiles + 1,), dtype=ember.int64, device=mask.device)
    grid, total = (min(tiles, _MAX_BLOCKS),), 0
    if n:
        mask = mask if mask.is_contiguous() else mask.contiguous()
        _kernels.function("scan", "em_cu_mask_count")(
            grid, (_kernels.BLOCK,), (mask.data_ptr(), np.int64(n), counts.data_ptr()))
        _kernels.function("scan", "em_cu_mask_offsets")(
            (1,), (_kernels.BLOCK,), (counts.data_ptr(), np.int64(tiles)))
        total = int(counts[tiles].item())   # waits for the GPU: it sizes the result
    out = ember.empty((total, len(shape)) if weights is None else (total,), dtype=ember.int64,
                      device=mask.device)
    if total:
        geom = np.zeros(1, dtype=MASK_DTYPE)
        geom["ndim"], geom["coords"] = len(shape), weights is None
        geom["shape"][0, :len(shape)] = shape
        if weights is not None:
            geom["weights"][0, :len(shape)] = weights
        _kernels.function("scan", "em_cu_mask_write")(
            grid, (_kernels.BLOCK,),
            (mask.data_ptr(), np.int64(n), counts.data_ptr(), out.data_ptr(), geom))
    return out


def nonzero(t):
    """The ``(n, t.ndim)`` int64 indices of ``t``'s nonzero elements in row-major order."""
    ember = _ember()
    return _compact(t if t.dtype == ember.bool else t != 0, None)


def mask_offsets(mask, weights):
    """The ``(n,)`` int64 sums of coordinate times ``weights`` (one per dim) of the True
    elements of the cuda bool tensor ``mask`` in row-major order."""
    return _compact(mask, tuple(weights))
