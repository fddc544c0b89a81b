"""Reductions, scans and softmax on the GPU: the launches of ``kernels/reduce.cu`` and
``kernels/scan.cu``.

``ember._core._reduce`` validates the arguments, picks the result dtypes and makes
the outputs exactly as on the CPU, then hands each reduction (the input, the mask
of reduced dims and the contiguous outputs) or each op along one dim (the input
and output lanes) to :class:`~ember.cuda._backend.CudaBackend`, which calls here.
"""
import numpy as np

from ember.cuda import _kernels

# struct em_reduce_params of kernels/ember_cuda.cuh
PARAMS_DTYPE = np.dtype([("scale", np.float64), ("p", np.float64), ("inv_p", np.float64),
                         ("correction", np.float64), ("take_sqrt", np.int32),
                         ("pad", np.int32)], align=True)
SLOT = 32             # EM_RED_SLOT: bytes of one partial accumulator
OUTER_X, OUTER_Y = 32, 8
MAX_SPLITS = 1024     # partial results of one reduction pass (the second pass combines them)
INNER_CHUNK = 4096    # fewest elements a split of the inner kernel reduces
OUTER_CHUNK = 256     # ... and of the outer kernel, per output
MAX_GRID = 65535

ARG_OPS = ("argmax", "argmin")


def _ember():
    import ember
    return ember


# the reductions and scans with complex kernels (complex sums, means and cumsums reduce a
# real view)
COMPLEX_OPS = ("prod", "max_abs", "min_abs", "abs_sum", "pow_sum", "nonzero", "all", "any",
               "cumprod")


def _complex_unsupported(op, t):
    if t.dtype.is_complex and op not in COMPLEX_OPS:
        raise NotImplementedError(f"{op}: not implemented for device cuda yet for complex "
                                  f"dtypes")


def _innermost(t):
    """The dim with the smallest byte stride among the dims longer than 1 (None if none)."""
    best = None
    for d, (size, st) in enumerate(zip(t.shape, t.stride())):
        if size > 1 and (best is None or abs(st) < abs(t.stride()[best])):
            best = d
    return best


def params_record(scale=1.0, p=2.0, inv_p=0.5, correction=1.0, take_sqrt=False):
    """The ``em_reduce_params`` argument (a one-element structured array, passed by value)."""
    rec = np.zeros(1, dtype=PARAMS_DTYPE)
    rec["scale"], rec["p"], rec["inv_p"] = scale, p, inv_p
    rec["correction"], rec["take_sqrt"] = correction, int(bool(take_sqrt))
    return rec


def plan_reduce(x, mask):
    """How to launch a reduction of ``x`` over the dims in bit ``mask``: the kernel path
    (``'inner'`` or ``'outer'``), the kept and reduced layouts, the output count, the
    reduced count, and the number of splits of the reduced elements."""
    isz = x.element_size()
    kept = [d for d in range(x.dim()) if not (mask >> d) & 1]
    red = [d for d in range(x.dim()) if (mask >> d) & 1]
    # the reduced elements in memory order: the innermost is walked fastest
    red.sort(key=lambda d: -abs(x.stride()[d]))
    kept_rec, _ = _kernels.layout([x.shape[d] for d in kept], [[x.stride()[d] * isz for d in kept]])
    red_rec, _ = _kernels.layout([x.shape[d] for d in red], [[x.stride()[d] * isz for d in red]])
    n_out, count = int(kept_rec["numel"][0]), int(red_rec["numel"][0])
    inner = n_out == 1 or (_innermost(x) in red and count >= 32)
    if inner:
        splits = min(-(-count // INNER_CHUNK), max(1, MAX_SPLITS // max(n_out, 1)))
    else:
        blocks = max(1, -(-n_out // OUTER_X))
        splits = min(-(-count // OUTER_CHUNK), max(1, MAX_SPLITS // blocks))
    splits = max(1, splits)
    chunk = -(-count // splits)
    splits = max(1, -(-count // chunk)) if chunk else 1
    return ("inner" if inner else "outer"), kept_rec, red_rec, n_out, count, splits, chunk


def reduce(op, x, mask, out, out_idx, params):
    """Reduce cuda tensor ``x`` over the dims in bit ``mask`` with kernel ``op`` (``sum``,
    ``prod``, ``max``, ``min``, ``max_abs``, ``min_abs``, ``abs_sum``, ``sq_sum``,
    ``pow_sum``, ``nonzero``, ``all``, ``any``, ``argmax``, ``argmin``, ``var``) into the
    contiguous ``out`` (row-major over the kept dims; None for an argmax without values)
    and, for argmax/argmin, the int64 ``out_idx``; ``params`` is ``params_record``'s."""
    _complex_unsupported(op, x)
    path, kept, red, n_out, count, splits, chunk = plan_reduce(x, mask)
    if n_out == 0:
        return
    name = f"em_cu_red_{op}_{x.dtype.name}"
    out_ptr = out.data_ptr() if out is not None else 0
    idx_ptr = out_idx.data_ptr() if out_idx is not None else 0
    partial = None
    if splits > 1:
        partial = _ember().empty((n_out * splits * SLOT,), dtype=_ember().uint8, device=x.device)
    part_ptr = partial.data_ptr() if partial is not None else 0
    if path == "inner":
        # short runs: fewer warps, so that threads are not left idle
        threads = min(_kernels.BLOCK, 32 * max(1, -(-min(count, chunk) // 32)))
        grid, block = (min(n_out, MAX_GRID), splits), (threads,)
    else:
        grid, block = (min(-(-n_out // OUTER_X), MAX_GRID), splits), (OUTER_X, OUTER_Y)
    fn = _kernels.function("reduce", f"{name}_{path}")
    fn(grid, block, (out_ptr, idx_ptr, x.data_ptr(), kept, red, params, part_ptr,
                     np.int64(chunk)))
    if partial is not None:
        fn = _kernels.function("reduce", f"{name}_finish")
        fn((_kernels.grid_for(n_out),), (_kernels.BLOCK,),
           (out_ptr, idx_ptr, part_ptr, np.int64(n_out), np.int32(splits), params))


LANE_OPS = ("cumsum", "cumprod", "logcumsumexp", "cummax", "cummin", "softmax", "log_softmax",
            "softmax_backward", "log_softmax_backward")


def lanes(op, out, x, dim, other=None):
    """Run lane op ``op`` (one of ``LANE_OPS``) along ``dim`` of cuda tensor ``x`` into
    ``out`` (same shape, any layout); ``other`` is the forward result ``y`` of a
    backward (``x`` then being the gradient), or the int64 positions cummax/cummin
    write."""
    if op not in LANE_OPS:
        raise NotImplementedError(f"{op}: not implemented for device cuda yet")
    _complex_unsupported(op, x)
    if x.numel() == 0:
        return
    operands = [out, x] + ([other] if other is not None else [])
    if x.dim() == 0:
        length, lane_strides, shape, strides = 1, [0] * len(operands), [], [[] for _ in operands]
    else:
        length = x.shape[dim]
        lane_strides = [t.stride()[dim] * t.element_size() for t in operands]
        shape = [s for d, s in enumerate(x.shape) if d != dim]
        strides = [[st * t.element_size() for d, st in enumerate(t.stride()) if d != dim]
                   for t in operands]
    rec, _ = _kernels.layout(shape, strides)
    n_lanes = int(rec["numel"][0])
    lane_strides += [0] * (3 - len(lane_strides))
    # one block per lane when the lane runs along the innermost dim (its loads are
    # coalesced) or when there are too few lanes to fill the GPU one thread each
    along_inner = x.dim() > 0 and _innermost(x) == dim
    if length >= 32 and (along_inner or n_lanes < 4 * _kernels.BLOCK):
        path = "block"
        grid = (min(n_lanes, MAX_GRID),)
        block = (min(_kernels.BLOCK, 32 * -(-length // 32)),)
    else:
        path = "serial"
        grid, block = (_kernels.grid_for(n_lanes),), (_kernels.BLOCK,)
    fn = _kernels.function("scan", f"em_cu_{op}_{x.dtype.name}_{path}")
    fn(grid, block, (out.data_ptr(), x.data_ptr(), other.data_ptr() if other is not None else 0,
                     rec, np.int64(length), *map(np.int64, lane_strides)))
