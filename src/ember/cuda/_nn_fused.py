"""Fused layer/RMS, batch and group norm, cross-entropy and the CTC loss on the GPU: the
launches of ``kernels/norm.cu``.

``ember._core._nn_fused`` checks the arguments, makes the inputs contiguous in the
compute dtype (float32 or float64) and allocates the outputs exactly as for its CPU
kernels, then hands them here through :class:`~ember.cuda._backend.CudaBackend`
(``nn_fused``).  Every kernel takes one ``em_norm_args`` record by value (the CTC
kernels one ``em_ctc_args``).
"""
import numpy as np

from ember.cuda import _backend, _kernels

MAX_GRID = 65535
MAX_SPLITS = 1024     # row splits of the weight/bias column sums (pass 1 of 2)
SPLIT_ROWS = 64       # fewest rows a split sums

_POINTERS = ("x", "grad", "weight", "bias", "mean", "rstd", "target", "y", "out_mean",
             "out_rstd", "grad_x", "grad_weight", "grad_bias", "running_mean", "running_var",
             "work", "error")
_SIZES = ("rows", "cols", "n", "channels", "spatial", "groups", "splits", "ignore_index")
_REALS = ("eps", "momentum", "smoothing")
_FLAGS = ("center", "training", "log_input", "reduction")
# struct em_norm_args of kernels/norm.cu, field for field
ARGS_DTYPE = np.dtype([(f, np.uint64) for f in _POINTERS] + [(f, np.int64) for f in _SIZES]
                      + [(f, np.float64) for f in _REALS] + [(f, np.int32) for f in _FLAGS],
                      align=True)
REDUCTIONS = {"none": 0, "mean": 1, "sum": 2}


def _ember():
    import ember
    return ember


def args(**fields):
    """The ``em_norm_args`` record: tensors (or None) become their device addresses."""
    rec = np.zeros(1, dtype=ARGS_DTYPE)
    for name, value in fields.items():
        if name in _POINTERS and not isinstance(value, int):
            value = 0 if value is None else value.data_ptr()
        rec[name] = value
    return rec


def _same_device(what, first, *others):
    for t in others:
        if t is not None and t.device != first.device:
            raise RuntimeError(f"{what}: expected all tensors to be on the same device, but "
                               f"found at least two devices, {first.device} and {t.device}!")


def _launch(name, x, grid, block, rec, path=None):
    name = f"em_cu_{name}_{x.dtype.name}" + (f"_{path}" if path else "")
    _kernels.function("norm", name)(grid, block, (rec,))


def _team(length):
    """Threads of a block that reduces ``length`` elements: whole warps, at most BLOCK."""
    return min(_kernels.BLOCK, 32 * max(1, -(-length // 32)))


def _column_sums(x, rec, rows, cols):
    """Weight/bias gradients as column sums: partial sums per split of the rows, then
    the splits added in order (deterministic: no atomics)."""
    col_blocks = -(-cols // _kernels.BLOCK)
    splits = max(1, min(-(-rows // SPLIT_ROWS), MAX_SPLITS // col_blocks, MAX_GRID))
    work = _ember().empty((2 * splits * cols,), dtype=_ember().float64, device=x.device)
    rec["work"], rec["splits"] = work.data_ptr(), splits
    _launch("layer_norm_bwd_params", x, (min(col_blocks, MAX_GRID), splits),
            (_kernels.BLOCK,), rec)
    _launch("norm_colsum", x, (_kernels.grid_for(cols),), (_kernels.BLOCK,), rec)


def layer_norm_forward(x, weight, bias, y, mean, rstd, rows, cols, eps, center):
    """Layer (RMS without ``center``) norm of the ``rows`` rows of ``cols`` of ``x``."""
    _same_device("layer_norm", x, weight, bias)
    if rows == 0:
        return
    rec = args(x=x, weight=weight, bias=bias, y=y, out_mean=mean, out_rstd=rstd, rows=rows,
               cols=cols, eps=eps, center=center)
    _launch("layer_norm_fwd", x, (min(rows, MAX_GRID),), (_team(cols),), rec)


def layer_norm_backward(grad, x, mean, rstd, weight, grad_x, grad_weight, grad_bias, rows, cols,
                        center):
    """The gradients of :func:`layer_norm_forward` into the given outputs (None: not wanted)."""
    _same_device("layer_norm_backward", x, grad, weight)
    rec = args(x=x, grad=grad, mean=mean, rstd=rstd, weight=weight, grad_x=grad_x,
               grad_weight=grad_weight, grad_bias=grad_bias, rows=rows, cols=cols,
               center=center)
    if grad_x is not None and rows:
        _launch("layer_norm_bwd", x, (min(rows, MAX_GRID),), (_team(cols),), rec)
    if (grad_weight is not None or grad_bias is not None) and cols:
        _column_sums(x, rec, rows, cols)


def batch_norm_forward(x, weight, bias, running_mean, running_var, y, mean, invstd, n, channels,
                       spatial, training, momentum, eps):
    """Batch norm of the ``(n, channels, spatial)`` ``x``; updates the running statistics
    in place when ``training``."""
    _same_device("batch_norm", x, weight, bias, running_mean, running_var)
    if channels == 0:
        return
    rec = args(x=x, weight=weight, bias=bias, running_mean=running_mean,
               running_var=running_var, y=y, out_mean=mean, out_rstd=invstd, n=n,
               channels=channels, spatial=spatial, training=training, momentum=momentum,
               eps=eps)
    _launch("batch_norm_stats", x, (min(channels, MAX_GRID),), (_team(n * spatial),), rec)
    if n * spatial:
        _launch("batch_norm_apply", x, (_kernels.grid_for(n * channels * spatial),),
                (_kernels.BLOCK,), rec)


def batch_norm_backward(grad, x, mean, invstd, weight, grad_x, grad_weight, grad_bias, n,
                        channels, spatial, training):
    """The gradients of :func:`batch_norm_forward` into the given outputs."""
    _same_device("batch_norm_backward", x, grad, weight)
    if channels == 0:
        return
    work = _ember().empty((2 * channels,), dtype=_ember().float64, device=x.device)
    rec = args(x=x, grad=grad, mean=mean, rstd=invstd, weight=weight, grad_x=grad_x,
               grad_weight=grad_weight, grad_bias=grad_bias, work=work, n=n,
               channels=channels, spatial=spatial, training=training)
    _launch("batch_norm_bwd_reduce", x, (min(channels, MAX_GRID),), (_team(n * spatial),), rec)
    if grad_x is not None and n * spatial:
        _launch("batch_norm_bwd_input", x, (_kernels.grid_for(n * channels * spatial),),
                (_kernels.BLOCK,), rec)


def group_norm_forward(x, weight, bias, y, mean, rstd, n, channels, spatial, groups, eps):
    """Group norm of the ``(n, channels, spatial)`` ``x``, statistics per sample and group."""
    _same_device("group_norm", x, weight, bias)
    rows, cols = n * groups, channels // groups * spatial
    if rows == 0:
        return
    rec = args(x=x, weight=weight, bias=bias, y=y, out_mean=mean, out_rstd=rstd, n=n,
               channels=channels, spatial=spatial, groups=groups, eps=eps)
    _launch("group_norm_fwd", x, (min(rows, MAX_GRID),), (_team(cols),), rec)


def group_norm_backward(grad, x, mean, rstd, weight, grad_x, grad_weight, grad_bias, n, channels,
                        spatial, groups):
    """The gradients of :func:`group_norm_forward` into the given outputs."""
    _same_device("group_norm_backward", x, grad, weight)
    if channels == 0:
        return
    work = _ember().empty((max(1, 2 * n * channels),), dtype=_ember().float64, device=x.device)
    rec = args(x=x, grad=grad, mean=mean, rstd=rstd, weight=weight, grad_x=grad_x,
               grad_weight=grad_weight, grad_bias=grad_bias, work=work, n=n,
               channels=channels, spatial=spatial, groups=groups)
    if n:
        _launch("group_norm_bwd", x, (min(n * groups, MAX_GRID),), (_team(spatial),), rec)
    if grad_weight is not None or grad_bias is not None:
        _launch("group_norm_bwd_params", x, (_kernels.grid_for(channels),), (_kernels.BLOCK,),
                rec)


def _positions(x, n, classes, spatial):
    """Grid and block of a per-position kernel: a block per position when its classes are
    contiguous, else a thread per position."""
    if spatial == 1:
        return "block", (min(n, MAX_GRID),), (_team(classes),)
    return "serial", (_kernels.grid_for(n * spatial),), (_kernels.BLOCK,)


def _raise_bad_target(target, classes, ignore_index):
    values = target.cpu().numpy().reshape(-1)
    bad = values[(values != ignore_index) & ((values < 0) | (values >= classes))]
    raise IndexError(f"Target {int(bad[0])} is out of bounds.")


def cross_entropy_forward(x, target, weight, loss, lse, n, classes, spatial, ignore_index,
                          smoothing, log_input, reduction):
    """Per-position ``loss`` and ``lse`` (None with ``log_input``) of cross-entropy, and
    the reduced loss (None for ``'none'``) and the targets' weight total (a 0-d float64
    tensor), both computed on the device; IndexError for a target out of range."""
    ember = _ember()
    _same_device("cross_entropy", x, target, weight)
    work = ember.zeros((2,), dtype=ember.float64, device=x.device)
    mode = REDUCTIONS[reduction]
    out = ember.empty((), dtype=x.dtype, device=x.device) if mode else None
    rec = args(x=x, target=target, weight=weight, y=loss, out_rstd=lse, work=work,
               error=_backend._error_flag(), n=n, channels=classes, spatial=spatial,
               ignore_index=ignore_index, smoothing=smoothing, log_input=log_input,
               reduction=mode)
    if n * spatial:
        path, grid, block = _positions(x, n, classes, spatial)
        _launch("cross_entropy_fwd", x, grid, block, rec, path)
        if _backend._take_error_flag() == _backend._ERR_INDEX:
            _raise_bad_target(target, classes, ignore_index)
    # the totals read the losses the forward wrote
    rec["x"], rec["y"] = loss.data_ptr(), 0 if out is None else out.data_ptr()
    _launch("cross_entropy_total", x, (1,), (_kernels.BLOCK,), rec)
    return out, work[1]


def cross_entropy_backward(grad, x, target, weight, lse, weight_sum, grad_x, n, classes, spatial,
                           ignore_index, smoothing, log_input, reduction):
    """The input gradient of :func:`cross_entropy_forward` into ``grad_x``; ``weight_sum``
    is its weight total (the divisor of the mean)."""
    _same_device("cross_entropy_backward", x, grad, target, weight, lse)
    if n * spatial == 0:
        return
    mode = REDUCTIONS[reduction]
    if mode == 1 and not hasattr(weight_sum, "data_ptr"):
        weight_sum = _ember().tensor(float(weight_sum), dtype=_ember().float64, device=x.device)
    rec = args(x=x, grad=grad, target=target, weight=weight, rstd=lse, grad_x=grad_x,
               work=weight_sum if mode == 1 else 0, error=_backend._error_flag(), n=n,
               channels=classes, spatial=spatial, ignore_index=ignore_index,
               smoothing=smoothing, log_input=log_input, reduction=mode)
    path, grid, block = _positions(x, n, classes, spatial)
    _launch("cross_entropy_bwd", x, grid, block, rec, path)
    if _backend._take_error_flag() == _backend._ERR_INDEX:
        _raise_bad_target(target, classes, ignore_index)


# struct em_ctc_args of kernels/norm.cu, field for field
CTC_DTYPE = np.dtype([(f, np.uint64) for f in ("log_probs", "targets", "offsets",
                                                "input_lengths", "target_lengths", "alpha",
                                                "beta", "nll", "grad")]
                     + [(f, np.int64) for f in ("T", "N", "C", "S", "blank", "zero_infinity")])


def ctc_loss(log_probs, targets, offsets, input_lengths, target_lengths, blank, zero_infinity,
             need_grad):
    """The per-sample CTC losses of the contiguous ``(T, N, C)`` ``log_probs`` (float32 or
    float64) and, with ``need_grad``, their gradient; the checked int64 ``targets``
    (each sample's at its ``offsets``) and lengths are NumPy arrays.  The alpha (and
    beta) tables stay on the device; nothing comes back to the host."""
    ember = _ember()
    T, N, C = (int(s) for s in log_probs.shape)
    device = log_probs.device

    def upload(values):
        return ember.tensor(values, dtype=ember.int64, device=device)

    S = 2 * int(target_lengths.max(initial=0)) + 1
    nll = ember.empty((N,), dtype=log_probs.dtype, device=device)
    grad = ember.empty((T, N, C), dtype=log_probs.dtype, device=device) if need_grad else None
    if N == 0:
        return nll, grad
    lengths = [upload(v) for v in (targets, offsets, input_lengths, target_lengths)]
    alpha = ember.empty((N, T, S), dtype=log_probs.dtype, device=device)
    beta = ember.empty((N, T, S), dtype=log_probs.dtype, device=device) if need_grad else None
    rec = np.zeros(1, dtype=CTC_DTYPE)
    for field, t in zip(CTC_DTYPE.names, [log_probs, *lengths, alpha, beta, nll, grad]):
        rec[field] = 0 if t is None else t.data_ptr()
    rec["T"], rec["N"], rec["C"], rec["S"] = T, N, C, S
    rec["blank"], rec["zero_infinity"] = blank, bool(zero_infinity)
    team = (_team(S),)
    _launch("ctc_alpha", log_probs, (min(N, MAX_GRID),), team, rec)
    if need_grad:
        _launch("ctc_beta", log_probs, (min(N, MAX_GRID),), team, rec)
        if grad.numel():
            _launch("ctc_grad", log_probs, (_kernels.grid_for(grad.numel()),),
                    (_kernels.BLOCK,), rec)
    return nll, grad
