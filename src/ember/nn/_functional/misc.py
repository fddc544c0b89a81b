"""Dropout, embeddings, linear maps, distances, padding and attention of
:mod:`ember.nn.functional`, written as compositions of differentiable ember ops."""
from ember.ops.autocast import autocasts
import math
import warnings

import ember
from ember import _switches
from ember.autograd.engine import _is_checkpoint_valid
from ember.autograd.function import Function
from ember.ops.nn_fused import fused_embedding
from ember.sparse import _grad as _sparse_grad
from ember.sparse._coo import SparseCooTensor


_SELU_ALPHA_PRIME = 1.7580993408473766  # -scale * alpha of SELU: the value dropped units take


def _dropout(input, p, training, inplace, feature_dims=None, alpha=False):
    """Dropout as PyTorch's ``_dropout_impl``: a Bernoulli(1 - p) mask (one draw per channel when
    ``feature_dims`` leading dimensions index the channels), rescaled."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0 or input.numel() == 0:
        return input
    if p == 1:
        zeros = ember.zeros((), dtype=input.dtype, device=input.device)
        return input.mul_(zeros) if inplace else input * zeros
    if feature_dims is not None and input.dim() < 2:
        raise RuntimeError("Feature dropout requires at least 2 dimensions in the input")
    if feature_dims is None:
        mask_shape = tuple(input.shape)
    else:
        mask_shape = tuple(input.shape[:feature_dims]) + (1,) * (input.dim() - feature_dims)
    # keep where a uniform draw is below 1 - p: a float32 uniform takes a quarter of a
    # Philox block per element where bernoulli_ takes half, so this is twice as fast
    uniform_dtype = ember.float64 if input.dtype == ember.float64 else ember.float32
    mask = (ember.rand(mask_shape, dtype=uniform_dtype, device=input.device) < 1 - p).to(
        input.dtype)
    if not alpha:
        mask.div_(1 - p)
        return input.mul_(mask) if inplace else input * mask
    scale = 1.0 / math.sqrt((_SELU_ALPHA_PRIME ** 2 * p + 1) * (1 - p))
    shift = (mask - 1) * (_SELU_ALPHA_PRIME * scale) + _SELU_ALPHA_PRIME * scale * p
    mask = mask * scale
    return input.mul_(mask).add_(shift) if inplace else input * mask + shift


def dropout(input, p=0.5, training=True, inplace=False):
    """Zero each element with probability ``p`` and scale the rest by ``1 / (1 - p)``.

    Draws from ember's default generator (see :func:`ember.manual_seed`).

    Parameters
    ----------
    input : Tensor
    p : float, optional
        In ``[0, 1]``.
    training : bool, optional
        When false, ``input`` is returned unchanged.
    inplace : bool, optional

    Returns
    -------
    Tensor
    """
    return _dropout(input, p, training, inplace)


def _check_feature_rank(name, input, batched_dims, strict):
    """A rank other than ``batched_dims`` or one less raises when ``strict``, else warns
    (deprecated but accepted by PyTorch's ``dropout2d`` and ``dropout3d``)."""
    if input.dim() in (batched_dims - 1, batched_dims):
        return
    spatial = batched_dims - 2
    if strict:
        raise RuntimeError(f"{name}: Expected {batched_dims - 1}D or {batched_dims}D input, "
                           f"but received a {input.dim()}D input. Note that {name} exists "
                           f"to provide channel-wise dropout on inputs with {spatial} "
                           "spatial dimension(s)")
    warnings.warn(f"{name}: Received a {input.dim()}-D input to {name}, which is deprecated "
                  "and will result in an error in a future release. To retain the behavior "
                  "and silence this warning, please use dropout instead. Note that "
                  f"{name} exists to provide channel-wise dropout on inputs with {spatial} "
                  "spatial dimensions, a channel dimension, and an optional batch dimension "
                  f"(i.e. {batched_dims - 1}D or {batched_dims}D inputs).", stacklevel=4)


def _feature_dropout(name, input, p, training, inplace, batched_dims, strict=True):
    """Channel dropout of a batched (``batched_dims``-D) input, or of any other as a batch
    of one (see :func:`_check_feature_rank`)."""
    _check_feature_rank(name, input, batched_dims, strict)
    if input.dim() == batched_dims:
        return _dropout(input, p, training, inplace, 2)
    return _dropout(input.unsqueeze(0), p, training, inplace, 2).squeeze(0)


def dropout1d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of an ``(N, C, L)`` or ``(C, L)`` input with probability ``p``.

    Parameters
    ----------
    input : Tensor
    p : float, optional
    training : bool, optional
    inplace : bool, optional

    Returns
    -------
    Tensor
    """
    return _feature_dropout("dropout1d", input, p, training, inplace, 3)


def dropout2d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of an ``(N, C, H, W)`` input with probability ``p``.

    A 3-D input is taken as ``(N, C, L)`` (channel-wise 1-D dropout), as in PyTorch.

    Parameters
    ----------
    input : Tensor
    p : float, optional
    training : bool, optional
    inplace : bool, optional

    Returns
    -------
    Tensor
    """
    _check_feature_rank("dropout2d", input, 4, strict=False)
    if input.dim() == 3:
        warnings.warn("dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D "
                      "dropout behavior is desired - input is interpreted as shape (N, C, L), where "
                      "C is the channel dim. This behavior will change in a future release to "
                      "interpret the input as one without a batch dimension, i.e. shape (C, H, W). "
                      "To maintain the 1D channel-wise dropout behavior, please switch to using "
                      "dropout1d instead.", stacklevel=2)
    # never unsqueezed, as PyTorch: a 3-D input is taken as batched (N, C, L)
    return _dropout(input, p, training, inplace, 2)


def dropout3d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of an ``(N, C, D, H, W)`` or ``(C, D, H, W)`` input with probability ``p``.

    Parameters
    ----------
    input : Tensor
    p : float, optional
    training : bool, optional
    inplace : bool, optional

    Returns
    -------
    Tensor
    """
    return _feature_dropout("dropout3d", input, p, training, inplace, 5, strict=False)


def alpha_dropout(input, p=0.5, training=False, inplace=False):
    """Dropout that keeps the mean and variance of SELU activations (dropped units take SELU's
    negative saturation value, then an affine correction).

    Parameters
    ----------
    input : Tensor
    p : float, optional
    training : bool, optional
    inplace : bool, optional

    Returns
    -------
    Tensor
    """
    return _dropout(input, p, training, inplace, alpha=True)


def feature_alpha_dropout(input, p=0.5, training=False, inplace=False):
    """:func:`alpha_dropout` of whole channels (dimension 1 of a batched input).

    Parameters
    ----------
    input : Tensor
    p : float, optional
    training : bool, optional
    inplace : bool, optional

    Returns
    -------
    Tensor
    """
    return _dropout(input, p, training, inplace, 2, alpha=True)


def one_hot(input, num_classes=-1):
    """One-hot encoding of int64 class indices: a new last dimension of size ``num_classes``.

    Parameters
    ----------
    input : Tensor
        Non-negative class indices (int64).  PyTorch's documentation calls it
        ``tensor``; its keyword, as here, is ``input``.
    num_classes : int, optional
        -1 means ``input.max() + 1``.

    Returns
    -------
    Tensor
        int64, shape ``input.shape + (num_classes,)``.

    Examples
    --------
    >>> import ember
    >>> import ember.nn.functional as F
    >>> F.one_hot(ember.tensor([0, 2]))
    tensor([[1, 0, 0],
            [0, 0, 1]])
    """
    if input.dtype != ember.int64:
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    if input.numel():
        if (input < 0).any():
            raise RuntimeError("Class values must be non-negative.")
        if num_classes == -1:
            num_classes = input.max().item() + 1
        elif (input >= num_classes).any():
            raise RuntimeError("Class values must be smaller than num_classes.")
    elif num_classes == -1:
        raise RuntimeError("Can not infer total number of classes from empty tensor.")
    classes = ember.arange(num_classes, dtype=ember.int64, device=input.device)
    return (input.unsqueeze(-1) == classes).to(ember.int64)


def normalize(input, p=2.0, dim=1, eps=1e-12, out=None):
    """Divide ``input`` by its ``p``-norm along ``dim`` (at least ``eps``).

    Parameters
    ----------
    input : Tensor
    p : float, optional
    dim : int or tuple of int, optional
    eps : float, optional
    out : Tensor, optional
        Receives the result, as ``ember.div(..., out=out)`` (refused when an input
        requires grad, as PyTorch).

    Returns
    -------
    Tensor
    """
    norm = ember.clamp(ember.norm(input, p, dim, keepdim=True), min=eps)
    return ember.div(input, norm, out=out)


@autocasts("cosine_similarity")
def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """Cosine of the angle between ``x1`` and ``x2`` along ``dim`` (broadcast together).

    Each norm is clamped to ``>= eps``; the clamp lets the gradient through, as in PyTorch.

    Parameters
    ----------
    x1, x2 : Tensor
    dim : int, optional
    eps : float, optional

    Returns
    -------
    Tensor
    """
    dtype = ember.result_type(x1, x2)
    if not dtype.is_floating_point:
        raise RuntimeError(f"expected common dtype to be floating point, yet common dtype is "
                           f"{dtype}")
    shape = ember.broadcast_shapes(tuple(x1.shape), tuple(x2.shape))
    x1, x2 = x1.to(dtype).expand(shape), x2.to(dtype).expand(shape)

    def clamped_norm(x):
        norm = ember.norm(x, 2, dim, keepdim=True)
        return norm + (ember.clamp(norm, min=eps) - norm).detach()

    return ((x1 / clamped_norm(x1)) * (x2 / clamped_norm(x2))).sum(dim)


def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    """``p``-norm of ``x1 - x2 + eps`` along the last dimension.

    Parameters
    ----------
    x1, x2 : Tensor
    p : float, optional
    eps : float, optional
    keepdim : bool, optional

    Returns
    -------
    Tensor
    """
    dim = max(x1.dim(), x2.dim()) - 1
    return ember.norm(x1 - x2 + eps, p, dim, keepdim=keepdim)


def _embedding_renorm(weight, indices, max_norm, norm_type):
    """Scale the rows of ``weight`` used by ``indices`` down to norm ``max_norm`` (in place)."""
    with ember.no_grad():
        used = ember.zeros(weight.shape[0], dtype=ember.bool, device=weight.device)
        used[indices.reshape(-1)] = True
        rows = used.nonzero().reshape(-1)
        selected = weight.index_select(0, rows)
        norms = ember.norm(selected, norm_type, 1, keepdim=True)
        scale = ember.where(norms > max_norm, max_norm / (norms + 1e-7), 1.0)
        weight[rows] = selected * scale


class _SparseGradEmbedding(Function):
    """Rows of a leaf ``weight`` whose backward adds PyTorch's sparse gradient into
    ``weight.grad``: the autograd engine carries dense gradients only, so the weight
    receives none from it.  A backward pass that does not accumulate into every leaf
    (``autograd.grad``, ``backward(inputs=...)``) gets the same gradient dense."""

    @staticmethod
    def forward(ctx, weight, flat, padding_idx, scale_grad_by_freq):
        ctx.weight, ctx.flat = weight, flat
        ctx.padding_idx, ctx.scale_grad_by_freq = padding_idx, scale_grad_by_freq
        return weight.index_select(0, flat)

    @staticmethod
    def backward(ctx, grad):
        if ctx.scale_grad_by_freq:
            raise RuntimeError("embedding_backward: scale_grad_by_freq not supported with "
                               "sparse gradients")
        indices, values = ctx.flat, grad
        if ctx.padding_idx is not None:
            keep = (indices != ctx.padding_idx).nonzero().reshape(-1)
            indices, values = indices[keep], values[keep]
        else:
            values = values.clone()     # the gradient may be another tensor's .grad
        weight = ctx.weight
        if not _is_checkpoint_valid():
            dense = ember.zeros(weight.shape, dtype=weight.dtype, device=weight.device)
            return dense.index_add_(0, indices, values.to(weight.dtype)), None, None, None
        _sparse_grad.accumulate(weight, SparseCooTensor(
            indices.reshape(1, -1), values.detach().to(weight.dtype), weight.shape))
        return None, None, None, None


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0,
              scale_grad_by_freq=False, sparse=False):
    """Rows of ``weight`` picked by the indices in ``input``.

    Parameters
    ----------
    input : Tensor
        Indices (int64 or int32) of any shape.
    weight : Tensor
        ``(num_embeddings, embedding_dim)``.
    padding_idx : int, optional
        Row whose entries get no gradient.
    max_norm : float, optional
        Rows used by ``input`` with a larger ``norm_type``-norm are scaled down to
        it, in place, before the lookup.
    norm_type : float, optional
    scale_grad_by_freq : bool, optional
        Divide each row's gradient by how often its index occurs in ``input``.
    sparse : bool, optional
        Give a leaf ``weight`` a sparse COO gradient (PyTorch's layout): the looked-up
        indices, uncoalesced, and the gradient of each looked-up row, ``padding_idx``
        excluded.  For :class:`~ember.optim.SparseAdam`, :class:`~ember.optim.SGD` and
        :class:`~ember.optim.Adagrad`.

    Returns
    -------
    Tensor
        Shape ``input.shape + (embedding_dim,)``.
    """
    if input.dtype not in (ember.int64, ember.int32):
        raise RuntimeError("Expected tensor for argument #1 'indices' to have one of the following "
                           f"scalar types: Long, Int; but got {input.dtype} instead (while checking "
                           "arguments for embedding)")
    if weight.dim() != 2:
        raise RuntimeError("'weight' must be 2-D")
    count = weight.shape[0]
    if padding_idx is not None:
        if padding_idx > 0:
            assert padding_idx < count, "Padding_idx must be within num_embeddings"
        elif padding_idx < 0:
            assert padding_idx >= -count, "Padding_idx must be within num_embeddings"
            padding_idx = count + padding_idx
    flat = input.reshape(-1).to(ember.int64)
    # on a GPU index_select checks the indices itself (the error word), raising the same
    if flat.device.type == "cpu" and flat.numel() and ((flat < 0) | (flat >= count)).any():
        raise IndexError("index out of range in self")
    if max_norm is not None:
        _embedding_renorm(weight, flat, max_norm, norm_type)
    if sparse and weight.requires_grad and weight.is_leaf and ember.is_grad_enabled():
        rows = _SparseGradEmbedding.apply(weight, flat, padding_idx, scale_grad_by_freq)
        return rows.reshape(tuple(input.shape) + (weight.shape[1],))
    if weight.is_floating_point():
        return fused_embedding(weight, flat.reshape(tuple(input.shape)), padding_idx,
                               scale_grad_by_freq)
    rows = weight.index_select(0, flat)
    if scale_grad_by_freq and flat.numel():
        frequency = ember.zeros(count, dtype=weight.dtype, device=weight.device).scatter_add(
            0, flat, ember.ones(flat.numel(), dtype=weight.dtype, device=weight.device))
        scale = (1 / frequency.index_select(0, flat)).unsqueeze(1)
        # same values, gradient scaled by 1 / frequency
        rows = rows.detach() + (rows - rows.detach()) * scale
    if padding_idx is not None:
        rows = ember.where((flat == padding_idx).unsqueeze(1), rows.detach(), rows)
    return rows.reshape(tuple(input.shape) + (weight.shape[1],))


@autocasts("linear")
def linear(input, weight, bias=None):
    """``input @ weight.T + bias``.

    Parameters
    ----------
    input : Tensor
        ``(*, in_features)``.
    weight : Tensor
        ``(out_features, in_features)`` or ``(in_features,)``.
    bias : Tensor, optional
        ``(out_features,)``.

    Returns
    -------
    Tensor

    Examples
    --------
    >>> import ember
    >>> import ember.nn.functional as F
    >>> F.linear(ember.ones(2, 3), ember.ones(4, 3), ember.zeros(4)).shape
    ember.Size([2, 4])
    """
    if input.dim() == 2 and weight.dim() == 2 and bias is not None:
        return ember.addmm(bias, input, weight.t())
    result = ember.matmul(input, weight.t() if weight.dim() == 2 else weight)
    return result if bias is None else result + bias


@autocasts("bilinear")
def bilinear(input1, input2, weight, bias=None):
    """``y_o = x1 W_o x2 + b_o`` for each output feature ``o``.

    Parameters
    ----------
    input1 : Tensor
        ``(*, in1_features)``.
    input2 : Tensor
        ``(*, in2_features)``, same leading dimensions.
    weight : Tensor
        ``(out_features, in1_features, in2_features)``.
    bias : Tensor, optional
        ``(out_features,)``.

    Returns
    -------
    Tensor
        ``(*, out_features)``.
    """
    if input1.dim() != input2.dim():
        raise RuntimeError(f"bilinear(): input dimensions do not match: got {input1.dim()} and "
                           f"{input2.dim()}")
    if tuple(input1.shape[:-1]) != tuple(input2.shape[:-1]):
        raise RuntimeError("bilinear(): input batch dimensions do not match: got "
                           f"{list(input1.shape)} and {list(input2.shape)}")
    if weight.dim() != 3:
        raise RuntimeError(f"bilinear(): weight must be three-dimensional, got {weight.dim()}")
    out_features, in1, in2 = weight.shape
    if input1.shape[-1] != in1:
        raise RuntimeError(f"bilinear(): input1 size does not match weight size: got "
                           f"{input1.shape[-1]} but expected {in1}")
    if input2.shape[-1] != in2:
        raise RuntimeError(f"bilinear(): input2 size does not match weight size: got "
                           f"{input2.shape[-1]} but expected {in2}")
    batch = tuple(input1.shape[:-1])
    x1 = input1.reshape(-1, in1)
    x2 = input2.reshape(-1, in2)
    # (B, in1) @ (in1, O * in2) -> (B, O, in2), then contract in2 with x2
    mixed = ember.matmul(x1, weight.permute(1, 0, 2).reshape(in1, out_features * in2))
    # the sum keeps the dtype (an integer sum would otherwise widen to int64)
    result = (mixed.reshape(-1, out_features, in2) * x2.unsqueeze(1)).sum(2, dtype=mixed.dtype)
    if bias is not None:
        result = result + bias
    return result.reshape(batch + (out_features,))


def _pad_indices(size, before, after, mode, device):
    """Source index of each output position along one padded dimension."""
    positions = ember.arange(-before, size + after, dtype=ember.int64, device=device)
    if mode == "replicate":
        return ember.clamp(positions, 0, size - 1)
    if mode == "circular":
        # as PyTorch: negative pads crop first, then the padding wraps around the cropped part
        start = max(-before, 0)
        kept = size - start - max(-after, 0)
        return ember.remainder(positions - start, kept) + start
    reflected = ember.abs(positions)
    return ember.where(reflected >= size, 2 * (size - 1) - reflected, reflected)


def pad(input, pad, mode="constant", value=None):
    """Pad (or, with negative sizes, crop) the last ``len(pad) // 2`` dimensions.

    Parameters
    ----------
    input : Tensor
    pad : sequence of int
        ``(left_last, right_last, left_second_last, right_second_last, ...)``.
    mode : {'constant', 'reflect', 'replicate', 'circular'}, optional
    value : float, optional
        Fill value for ``'constant'`` (default 0).

    Returns
    -------
    Tensor

    Examples
    --------
    >>> import ember
    >>> import ember.nn.functional as F
    >>> F.pad(ember.tensor([[1.0, 2.0]]), (1, 2))
    tensor([[0., 1., 2., 0., 0.]])
    """
    pad = [int(p) for p in pad]
    if len(pad) % 2:
        raise RuntimeError("Padding length must be divisible by 2")
    dims = len(pad) // 2
    if dims > input.dim():
        raise RuntimeError("Padding length should be less than or equal to two times the input "
                           f"dimension but got padding length {len(pad)} and input of dimension "
                           f"{input.dim()}")
    if mode not in ("constant", "reflect", "replicate", "circular"):
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    shape = list(input.shape)
    if mode == "constant":
        out_shape = list(shape)
        cropped = input
        for k in range(dims):
            dim = input.dim() - 1 - k
            before, after = pad[2 * k], pad[2 * k + 1]
            out_shape[dim] = shape[dim] + before + after
            if out_shape[dim] < 0:
                raise RuntimeError(f"The input size {shape[dim]}, plus negative padding {before} and "
                                   f"{after} resulted in a negative output size, which is invalid. "
                                   f"Check dimension {dim} of your input.")
            start, stop = max(-before, 0), shape[dim] - max(-after, 0)
            cropped = cropped.narrow(dim, start, max(stop - start, 0))
        result = ember.full(tuple(out_shape), 0 if value is None else value, dtype=input.dtype,
                            device=input.device)
        region = [slice(None)] * input.dim()
        for k in range(dims):
            dim = input.dim() - 1 - k
            start = max(pad[2 * k], 0)
            region[dim] = slice(start, start + cropped.shape[dim])
        result[tuple(region)] = cropped
        return result
    if dims > 3 or input.dim() not in (dims + 1, dims + 2):
        raise NotImplementedError(f"Padding size {len(pad)} is not supported for {input.dim()}D "
                                  "input tensor.")
    result = input
    for k in range(dims):
        dim = input.dim() - 1 - k
        before, after = pad[2 * k], pad[2 * k + 1]
        size = shape[dim]
        if mode == "reflect" and (before >= size or after >= size):
            raise RuntimeError("Argument #4: Padding size should be less than the corresponding input "
                               f"dimension, but got: padding ({before}, {after}) at dimension {dim} "
                               f"of input {shape}")
        if mode == "circular" and (before > size or after > size):
            raise RuntimeError("Padding value causes wrapping around more than once.")
        result = result.index_select(dim, _pad_indices(size, before, after, mode, input.device))
    return result


def _additive_mask(mask, dtype, allowed_where_true):
    """A float mask to add to attention scores: a boolean ``mask`` becomes 0 where
    ``mask == allowed_where_true`` and ``-inf`` elsewhere; a float one is returned as is."""
    if mask is None or mask.dtype != ember.bool:
        return mask
    blocked = ~mask if allowed_where_true else mask
    return ember.zeros(tuple(mask.shape), dtype=dtype, device=mask.device).masked_fill_(
        blocked, float("-inf"))


def _causal_mask(length, source, dtype, device):
    """``(length, source)`` float mask: 0 where key ``j <= i`` (upper-left aligned), else -inf."""
    above = (ember.arange(source, device=device).unsqueeze(0)
             > ember.arange(length, device=device).unsqueeze(1))
    return ember.zeros((length, source), dtype=dtype, device=device).masked_fill_(
        above, float("-inf"))


def _attention(query, key, value, mask=None, dropout_p=0.0, is_causal=False, scale=None,
               safe=True):
    """``softmax(query @ key.T * scale + mask) @ value``, and the attention weights.

    ``mask`` is additive (float) and broadcasts against the scores ``(..., L, S)``; it is
    added once, never expanded to the scores' shape beforehand.  With ``safe``, rows whose
    mask is ``-inf`` everywhere attend to nothing (zero weights, finite gradients), as
    PyTorch's ``_safe_softmax``; otherwise they are NaN, as PyTorch's plain softmax.
    The products are batched matmuls that read strided (e.g. head-split) views without
    copying them.
    """
    length, source = query.shape[-2], key.shape[-2]
    scale_factor = 1 / math.sqrt(query.shape[-1]) if scale is None else scale
    scores = ember.matmul(query * scale_factor, key.transpose(-2, -1))
    fully_masked = None
    if is_causal:  # every row sees at least key 0: nothing is fully masked
        mask = _causal_mask(length, source, scores.dtype, scores.device)
    elif mask is not None and safe:
        # decided on the (small) mask: a row blocked everywhere by it is blocked in
        # the scores; it gets scores 0 for a finite softmax, then zero weights
        blocked_rows = (mask == float("-inf")).all(-1, keepdim=True)
        if blocked_rows.any():
            fully_masked = blocked_rows
            mask = mask.masked_fill(blocked_rows, 0.0)
    if mask is not None:
        scores = scores + mask
    weights = ember.softmax(scores, -1)
    if fully_masked is not None:
        weights = weights.masked_fill(fully_masked, 0.0)
    if dropout_p > 0:
        weights = dropout(weights, dropout_p)
    return ember.matmul(weights, value), weights


def _check_attention_dtypes(query, key, value, attn_mask):
    if not (query.dtype == key.dtype == value.dtype):
        raise RuntimeError("Expected query, key, and value to have the same dtype, but got "
                           f"query.dtype: {query.dtype} key.dtype: {key.dtype} and value.dtype: "
                           f"{value.dtype} instead.")
    if not query.is_floating_point():
        raise RuntimeError(f"scaled_dot_product_attention: expected a floating-point query, "
                           f"but got {query.dtype}")
    if attn_mask is not None and attn_mask.dtype not in (ember.bool, query.dtype):
        raise RuntimeError("Expected attn_mask dtype to be bool or float or to match query "
                           f"dtype, but got attn_mask.dtype: {attn_mask.dtype} and  query.dtype: "
                           f"{query.dtype} instead.")


def _repeat_heads(tensor, repeats):
    """Repeat each head (dimension -3) ``repeats`` times in place order (repeat_interleave)."""
    if repeats == 1:
        return tensor
    shape = tuple(tensor.shape)
    expanded = tensor.unsqueeze(-3).expand(*shape[:-2], repeats, *shape[-2:])
    return expanded.reshape(*shape[:-3], shape[-3] * repeats, *shape[-2:])


@autocasts("scaled_dot_product_attention")
def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0,
                                 is_causal=False, scale=None, enable_gqa=False):
    """``softmax(query @ key.T * scale + mask) @ value`` over the last two dimensions.

    The leading dimensions of ``query``, ``key`` and ``value`` broadcast together.
    The products are batched matrix multiplications over all leading dimensions and
    the softmax is ember's fused kernel; the mask is added once, in its own shape.

    Parameters
    ----------
    query : Tensor
        ``(..., L, E)``.
    key : Tensor
        ``(..., S, E)``.
    value : Tensor
        ``(..., S, Ev)``.
    attn_mask : Tensor, optional
        Broadcastable to ``(..., L, S)``: boolean (True = may attend) or a float mask
        of the query's dtype added to the scores.  Rows that may attend to nothing get
        zero weights (a zero output row), as in PyTorch.
    dropout_p : float, optional
        Dropout probability on the attention weights (always applied when positive,
        as in PyTorch: pass ``0.0`` in evaluation).
    is_causal : bool, optional
        Position ``i`` attends only to ``j <= i`` (upper-left aligned); excludes ``attn_mask``.
    scale : float, optional
        Defaults to ``1 / sqrt(E)``.
    enable_gqa : bool, optional
        Grouped-query attention: each key/value head (dimension -3) serves
        ``query.shape[-3] // key.shape[-3]`` consecutive query heads.

    Returns
    -------
    Tensor
        ``(..., L, Ev)``.

    Examples
    --------
    >>> import ember
    >>> import ember.nn.functional as F
    >>> q, k, v = ember.randn(2, 4, 5, 8), ember.randn(2, 4, 7, 8), ember.randn(2, 4, 7, 3)
    >>> F.scaled_dot_product_attention(q, k, v, is_causal=True).shape
    ember.Size([2, 4, 5, 3])
    """
    if not _switches._sdp_enabled["math"]:
        # ember's only kernel is the math one (ember.nn.attention.sdpa_kernel)
        raise RuntimeError("No viable backend for scaled_dot_product_attention was found. This "
                           "is likely due to turning off both the math kernel and the fused "
                           "kernels.")
    if is_causal and attn_mask is not None:
        raise RuntimeError("_scaled_dot_product_attention: Explicit attn_mask should not be set when "
                           "is_causal=True")
    _check_attention_dtypes(query, key, value, attn_mask)
    if not 0.0 <= dropout_p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {dropout_p}")
    if enable_gqa and query.dim() >= 3 and key.dim() >= 3:
        heads, kv_heads = query.shape[-3], key.shape[-3]
        if heads % kv_heads or heads % value.shape[-3]:
            raise RuntimeError("Number of heads in key and value must divide the number of heads "
                               f"in query, but got query heads {heads}, key heads {kv_heads} "
                               f"and value heads {value.shape[-3]}")
        key = _repeat_heads(key, heads // kv_heads)
        value = _repeat_heads(value, heads // value.shape[-3])
    mask = _additive_mask(attn_mask, query.dtype, allowed_where_true=True)
    return _attention(query, key, value, mask, dropout_p, is_causal, scale)[0]
