"""Multi-head attention of :mod:`ember.nn.functional` (PyTorch's
``multi_head_attention_forward``), written with differentiable ember ops.

The heads are strided views of the projections (no copies): the input projection
runs once on the input in whatever layout it has (sequence-first, or a transposed
view of batch-first data), and ``q``, ``k`` and ``v`` become ``(N, heads, L, head_dim)``
views that the batched matmuls read directly.
"""
import warnings

import ember
from ember.nn._functional.misc import _attention, pad


def _canonical_mask(mask, mask_name, other_type, other_name, target_type, check_other=True):
    """A boolean mask (True = blocked) as a float mask of ``target_type`` (-inf where
    blocked); float masks are returned as they are (PyTorch's ``F._canonical_mask``)."""
    if mask is None:
        return None
    if mask.dtype != ember.bool and not mask.is_floating_point():
        raise AssertionError(f"only bool and floating types of {mask_name} are supported")
    if check_other and other_type is not None and mask.dtype != other_type:
        warnings.warn(f"Support for mismatched {mask_name} and {other_name} is deprecated. "
                      "Use same type for both instead.", stacklevel=3)
    if mask.dtype == ember.bool:
        # (a where, not masked_fill_ on zeros: ember.jit records it with a traced mask)
        return ember.where(mask, ember.tensor(float("-inf"), dtype=target_type),
                           ember.tensor(0.0, dtype=target_type))
    return mask


def _none_or_dtype(input):
    if input is None:
        return None
    if isinstance(input, ember.Tensor):
        return input.dtype
    raise RuntimeError("input to _none_or_dtype() must be None or torch.Tensor")


def _mha_shape_check(query, key, value, key_padding_mask, attn_mask, num_heads):
    """Whether the input is batched (3-D) or not (2-D); AssertionError for other ranks."""
    if query.dim() == 3:
        if key.dim() != 3 or value.dim() != 3:
            raise AssertionError("For batched (3-D) `query`, expected `key` and `value` to be 3-D"
                                 f" but found {key.dim()}-D and {value.dim()}-D tensors "
                                 "respectively")
        if key_padding_mask is not None and key_padding_mask.dim() != 2:
            raise AssertionError("For batched (3-D) `query`, expected `key_padding_mask` to be "
                                 f"`None` or 2-D but found {key_padding_mask.dim()}-D tensor "
                                 "instead")
        if attn_mask is not None and attn_mask.dim() not in (2, 3):
            raise AssertionError("For batched (3-D) `query`, expected `attn_mask` to be `None`, "
                                 f"2-D or 3-D but found {attn_mask.dim()}-D tensor instead")
        return True
    if query.dim() == 2:
        if key.dim() != 2 or value.dim() != 2:
            raise AssertionError("For unbatched (2-D) `query`, expected `key` and `value` to be "
                                 f"2-D but found {key.dim()}-D and {value.dim()}-D tensors "
                                 "respectively")
        if key_padding_mask is not None and key_padding_mask.dim() != 1:
            raise AssertionError("For unbatched (2-D) `query`, expected `key_padding_mask` to be "
                                 f"`None` or 1-D but found {key_padding_mask.dim()}-D tensor "
                                 "instead")
        if attn_mask is not None:
            if attn_mask.dim() not in (2, 3):
                raise AssertionError("For unbatched (2-D) `query`, expected `attn_mask` to be "
                                     f"`None`, 2-D or 3-D but found {attn_mask.dim()}-D tensor "
                                     "instead")
            expected = (num_heads, query.shape[0], key.shape[0])
            if attn_mask.dim() == 3 and tuple(attn_mask.shape) != expected:
                raise AssertionError(f"Expected `attn_mask` shape to be {expected} but got "
                                     f"{attn_mask.shape}")
        return False
    raise AssertionError("query should be unbatched 2D or batched 3D tensor but received "
                         f"{query.dim()}-D query tensor")


def _project(x, weight, bias):
    """``x @ weight.T + bias`` of a 3-D ``x``, computed in the layout ``x`` is stored in
    (a transposed view is projected untransposed) with one fused GEMM."""
    if not x.is_contiguous() and x.transpose(0, 1).is_contiguous():
        return _project(x.transpose(0, 1), weight, bias).transpose(0, 1)
    rows = x.reshape(-1, x.shape[-1])
    out = ember.matmul(rows, weight.t()) if bias is None else ember.addmm(bias, rows, weight.t())
    return out.view(tuple(x.shape[:-1]) + (weight.shape[0],))


def _in_projection_packed(q, k, v, w, b=None):
    """Project query, key and value with the packed ``(3E, E)`` weight; self-attention
    (``q is k is v``) runs one GEMM, ``k is v`` two."""
    embed = q.shape[-1]
    if k is v:
        if q is k:
            return _project(q, w, b).split(embed, -1)
        w_q, w_kv = w.split([embed, 2 * embed])
        b_q, b_kv = (None, None) if b is None else b.split([embed, 2 * embed])
        return (_project(q, w_q, b_q),) + tuple(_project(k, w_kv, b_kv).split(embed, -1))
    w_q, w_k, w_v = w.chunk(3)
    b_q, b_k, b_v = (None, None, None) if b is None else b.chunk(3)
    return _project(q, w_q, b_q), _project(k, w_k, b_k), _project(v, w_v, b_v)


def _in_projection(q, k, v, w_q, w_k, w_v, b_q=None, b_k=None, b_v=None):
    """Project query, key and value with separate weights (``kdim``/``vdim`` differ)."""
    embed, key_dim, value_dim = q.shape[-1], k.shape[-1], v.shape[-1]
    for name, weight, size in (("query", w_q, (embed, embed)), ("key", w_k, (embed, key_dim)),
                               ("value", w_v, (embed, value_dim))):
        if tuple(weight.shape) != size:
            raise AssertionError(f"expecting {name} weights shape of {size}, but got "
                                 f"{weight.shape}")
    return _project(q, w_q, b_q), _project(k, w_k, b_k), _project(v, w_v, b_v)


def _split_heads(x, heads):
    """``(S, N, E)`` (any strides) -> ``(N, heads, S, E // heads)`` view."""
    length, batch, embed = x.shape
    return x.view(length, batch, heads, embed // heads).permute(1, 2, 0, 3)


def _static_heads(static, name, batch, heads, head_dim):
    """A caller's ``(N * heads, S, head_dim)`` key or value as ``(N, heads, S, head_dim)``."""
    if static.shape[0] != batch * heads:
        raise AssertionError(f"expecting {name}.size(0) of {batch * heads}, but got "
                             f"{static.shape[0]}")
    if static.shape[2] != head_dim:
        raise AssertionError(f"expecting {name}.size(2) of {head_dim}, but got "
                             f"{static.shape[2]}")
    return static.view(batch, heads, static.shape[1], head_dim)


def multi_head_attention_forward(query, key, value, embed_dim_to_check, num_heads,
                                 in_proj_weight, in_proj_bias, bias_k, bias_v, add_zero_attn,
                                 dropout_p, out_proj_weight, out_proj_bias, training=True,
                                 key_padding_mask=None, need_weights=True, attn_mask=None,
                                 use_separate_proj_weight=False, q_proj_weight=None,
                                 k_proj_weight=None, v_proj_weight=None, static_k=None,
                                 static_v=None, average_attn_weights=True, is_causal=False):
    """Multi-head attention of sequence-first inputs, as :class:`ember.nn.MultiheadAttention`.

    Parameters
    ----------
    query : Tensor
        ``(L, N, E)``, or ``(L, E)`` unbatched.
    key, value : Tensor
        ``(S, N, kdim)`` and ``(S, N, vdim)``, or ``(S, kdim)`` / ``(S, vdim)``.
    embed_dim_to_check : int
        ``E``; the query's last dimension must equal it.
    num_heads : int
        Number of heads; must divide ``E``.
    in_proj_weight : Tensor or None
        Packed ``(3E, E)`` query/key/value projection (unless ``use_separate_proj_weight``).
    in_proj_bias : Tensor or None
        ``(3E,)``.
    bias_k, bias_v : Tensor or None
        ``(1, 1, E)`` biases appended to the key and value sequences.
    add_zero_attn : bool
        Append a zero key and value to the sequences.
    dropout_p : float
        Dropout probability on the attention weights (in training only).
    out_proj_weight : Tensor
        ``(E, E)``.
    out_proj_bias : Tensor or None
        ``(E,)``.
    training : bool, optional
        Apply dropout when true.
    key_padding_mask : Tensor, optional
        ``(N, S)`` (``(S,)`` unbatched): boolean (True = ignore that key) or float (added).
    need_weights : bool, optional
        Also return the attention weights.  When false the attention is computed as
        :func:`scaled_dot_product_attention` (rows masked everywhere give zeros).
    attn_mask : Tensor, optional
        ``(L, S)`` or ``(N * num_heads, L, S)``: boolean (True = blocked) or float (added).
    use_separate_proj_weight : bool, optional
        Use ``q_proj_weight``, ``k_proj_weight`` and ``v_proj_weight``.
    q_proj_weight, k_proj_weight, v_proj_weight : Tensor, optional
        ``(E, E)``, ``(E, kdim)``, ``(E, vdim)``.
    static_k, static_v : Tensor, optional
        ``(N * num_heads, S, E / num_heads)`` keys and values used as they are.
    average_attn_weights : bool, optional
        Average the returned weights over the heads.
    is_causal : bool, optional
        A hint that ``attn_mask`` is the causal mask (``attn_mask`` is still required).

    Returns
    -------
    attn_output : Tensor
        ``(L, N, E)`` (``(L, E)`` unbatched).
    attn_output_weights : Tensor or None
        ``(N, L, S)`` averaged or ``(N, num_heads, L, S)`` per head (without the batch
        dimension when unbatched); None unless ``need_weights``.
    """
    is_batched = _mha_shape_check(query, key, value, key_padding_mask, attn_mask, num_heads)
    if not is_batched:
        query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
        if key_padding_mask is not None:
            key_padding_mask = key_padding_mask.unsqueeze(0)
    tgt_len, bsz, embed_dim = query.shape
    src_len = key.shape[0]
    key_padding_mask = _canonical_mask(key_padding_mask, "key_padding_mask",
                                       _none_or_dtype(attn_mask), "attn_mask", query.dtype)
    if is_causal and attn_mask is None:
        raise RuntimeError("Need attn_mask if specifying the is_causal hint. You may use the "
                           "Transformer module method `generate_square_subsequent_mask` to "
                           "create this mask.")
    if is_causal and key_padding_mask is None and not need_weights:
        attn_mask = None  # the causal mask is built inside the attention
    else:
        attn_mask = _canonical_mask(attn_mask, "attn_mask", None, "", query.dtype,
                                    check_other=False)
        if key_padding_mask is not None:
            is_causal = False
    if embed_dim != embed_dim_to_check:
        raise AssertionError(f"was expecting embedding dimension of {embed_dim_to_check}, but "
                             f"got {embed_dim}")
    head_dim = embed_dim // num_heads
    if head_dim * num_heads != embed_dim:
        raise AssertionError(f"embed_dim {embed_dim} not divisible by num_heads {num_heads}")
    if use_separate_proj_weight:
        if tuple(key.shape[:2]) != tuple(value.shape[:2]):
            raise AssertionError(f"key's sequence and batch dims {tuple(key.shape[:2])} do not "
                                 f"match value's {tuple(value.shape[:2])}")
        for name, weight in (("q", q_proj_weight), ("k", k_proj_weight), ("v", v_proj_weight)):
            if weight is None:
                raise AssertionError(f"use_separate_proj_weight is True but {name}_proj_weight "
                                     "is None")
        biases = (None, None, None) if in_proj_bias is None else in_proj_bias.chunk(3)
        q, k, v = _in_projection(query, key, value, q_proj_weight, k_proj_weight,
                                 v_proj_weight, *biases)
    else:
        if tuple(key.shape) != tuple(value.shape):
            raise AssertionError(f"key shape {key.shape} does not match value shape "
                                 f"{value.shape}")
        if in_proj_weight is None:
            raise AssertionError("use_separate_proj_weight is False but in_proj_weight is None")
        q, k, v = _in_projection_packed(query, key, value, in_proj_weight, in_proj_bias)

    if attn_mask is not None:
        if attn_mask.dim() == 2:
            if tuple(attn_mask.shape) != (tgt_len, src_len):
                raise RuntimeError(f"The shape of the 2D attn_mask is {attn_mask.shape}, but "
                                   f"should be {(tgt_len, src_len)}.")
            attn_mask = attn_mask.unsqueeze(0)
        elif attn_mask.dim() == 3:
            if tuple(attn_mask.shape) != (bsz * num_heads, tgt_len, src_len):
                raise RuntimeError(f"The shape of the 3D attn_mask is {attn_mask.shape}, but "
                                   f"should be {(bsz * num_heads, tgt_len, src_len)}.")
        else:
            raise RuntimeError(f"attn_mask's dimension {attn_mask.dim()} is not supported")

    if bias_k is not None and bias_v is not None:
        if static_k is not None:
            raise AssertionError("bias cannot be added to static key.")
        if static_v is not None:
            raise AssertionError("bias cannot be added to static value.")
        k = ember.cat([k, bias_k.expand(1, bsz, embed_dim)])
        v = ember.cat([v, bias_v.expand(1, bsz, embed_dim)])
        if attn_mask is not None:
            attn_mask = pad(attn_mask, (0, 1))
        if key_padding_mask is not None:
            key_padding_mask = pad(key_padding_mask, (0, 1))
    elif bias_k is not None:
        raise AssertionError("bias_k is set but bias_v is None")
    elif bias_v is not None:
        raise AssertionError("bias_v is set but bias_k is None")

    q = _split_heads(q, num_heads)
    k = (_split_heads(k, num_heads) if static_k is None
         else _static_heads(static_k, "static_k", bsz, num_heads, head_dim))
    v = (_split_heads(v, num_heads) if static_v is None
         else _static_heads(static_v, "static_v", bsz, num_heads, head_dim))
    if add_zero_attn:
        zeros = ember.zeros((bsz, num_heads, 1, head_dim), dtype=k.dtype, device=k.device)
        k = ember.cat([k, zeros], 2)
        v = ember.cat([v, zeros], 2)
        if attn_mask is not None:
            attn_mask = pad(attn_mask, (0, 1))
        if key_padding_mask is not None:
            key_padding_mask = pad(key_padding_mask, (0, 1))
    src_len = k.shape[2]

    # masks in the 4-D layout of the scores (N, heads, L, S), broadcast, never expanded
    if attn_mask is not None:
        attn_mask = (attn_mask.unsqueeze(0) if attn_mask.shape[0] == 1
                     else attn_mask.view(bsz, num_heads, tgt_len, src_len))
    if key_padding_mask is not None:
        if key_padding_mask.shape[0] != bsz:
            raise AssertionError(f"Expected key_padded_mask.shape[0] to be {bsz}, but got "
                                 f"{key_padding_mask.shape[0]}")
        if key_padding_mask.shape[1] != src_len:
            raise AssertionError(f"Expected key_padded_mask.shape[1] to be {src_len}, but got "
                                 f"{key_padding_mask.shape[1]}")
        key_padding_mask = key_padding_mask.view(bsz, 1, 1, src_len)
        attn_mask = key_padding_mask if attn_mask is None else attn_mask + key_padding_mask
    if not training:
        dropout_p = 0.0

    output, weights = _attention(q, k, v, attn_mask, dropout_p, is_causal and attn_mask is None,
                                 safe=not need_weights)
    # (N, heads, L, head_dim) -> rows of (L, N, E), or of (N, L, E) when the query is a
    # transposed view of batch-first data (the output then keeps that layout)
    batch_major = bsz > 1 and query.stride(0) < query.stride(1)
    if batch_major:
        rows = output.permute(0, 2, 1, 3).reshape(bsz * tgt_len, embed_dim)
    else:
        rows = output.permute(2, 0, 1, 3).reshape(tgt_len * bsz, embed_dim)
    if out_proj_bias is None:
        projected = ember.matmul(rows, out_proj_weight.t())
    else:
        projected = ember.addmm(out_proj_bias, rows, out_proj_weight.t())
    if batch_major:
        attn_output = projected.view(bsz, tgt_len, embed_dim).transpose(0, 1)
    else:
        attn_output = projected.view(tgt_len, bsz, embed_dim)
    if not need_weights:
        return (attn_output if is_batched else attn_output.squeeze(1)), None
    if average_attn_weights:
        weights = weights.mean(dim=1)
    if not is_batched:
        return attn_output.squeeze(1), weights.squeeze(0)
    return attn_output, weights
