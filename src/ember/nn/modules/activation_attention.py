"""``MultiheadAttention`` (PyTorch's ``torch.nn.MultiheadAttention``)."""
import ember
from ember.nn import init
from ember.nn._functional import attention as _attention_functional
from ember.nn.parameter import Parameter
from ember.nn.modules.linear import NonDynamicallyQuantizableLinear
from ember.nn.modules.module import Module

__all__ = ["MultiheadAttention", "NonDynamicallyQuantizableLinear"]


class MultiheadAttention(Module):
    """Multi-head attention: ``concat(head_1, ..., head_h) @ W_o`` with
    ``head_i = softmax(Q W_q_i (K W_k_i)^T / sqrt(d) + mask) V W_v_i``.

    Parameters
    ----------
    embed_dim : int
        Model dimension ``E`` (of the query and of the output).
    num_heads : int
        Number of parallel heads; each has dimension ``E // num_heads``.
    dropout : float, default 0.0
        Dropout probability on the attention weights (in training).
    bias : bool, default True
        Learn biases of the input and output projections.
    add_bias_kv : bool, default False
        Learn ``bias_k`` and ``bias_v``, appended to the key and value sequences.
    add_zero_attn : bool, default False
        Append a zero key and value to the sequences.
    kdim, vdim : int, optional
        Feature sizes of the key and value (default ``embed_dim``).  When either
        differs, the projections are separate parameters ``q_proj_weight``,
        ``k_proj_weight`` and ``v_proj_weight`` instead of ``in_proj_weight``.
    batch_first : bool, default False
        Inputs and output are ``(N, L, E)`` instead of ``(L, N, E)``.
    device, dtype : optional
        Where and of what dtype the parameters are created.

    Attributes
    ----------
    in_proj_weight : Parameter or None
        ``(3E, E)``, Xavier-uniform.
    in_proj_bias : Parameter or None
        ``(3E,)``, zeros.
    out_proj : NonDynamicallyQuantizableLinear
        ``E -> E``, bias zeros.
    bias_k, bias_v : Parameter or None
        ``(1, 1, E)``, Xavier-normal.

    Examples
    --------
    >>> import ember
    >>> from ember import nn
    >>> mha = nn.MultiheadAttention(16, 4, batch_first=True)
    >>> x = ember.randn(2, 5, 16)
    >>> out, weights = mha(x, x, x)
    >>> out.shape, weights.shape
    (ember.Size([2, 5, 16]), ember.Size([2, 5, 5]))
    """

    def __init__(self, embed_dim, num_heads, dropout=0.0, bias=True, add_bias_kv=False,
                 add_zero_attn=False, kdim=None, vdim=None, batch_first=False, device=None,
                 dtype=None):
        if embed_dim <= 0 or num_heads <= 0:
            raise ValueError(f"embed_dim and num_heads must be greater than 0, got "
                             f"embed_dim={embed_dim} and num_heads={num_heads} instead")
        factory = {"device": device, "dtype": dtype}
        super().__init__()
        self.embed_dim = embed_dim
        self.kdim = kdim if kdim is not None else embed_dim
        self.vdim = vdim if vdim is not None else embed_dim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.num_heads = num_heads
        self.dropout = dropout
        self.batch_first = batch_first
        self.head_dim = embed_dim // num_heads
        if self.head_dim * num_heads != embed_dim:
            raise AssertionError("embed_dim must be divisible by num_heads")
        if not self._qkv_same_embed_dim:
            self.q_proj_weight = Parameter(ember.empty((embed_dim, embed_dim), **factory))
            self.k_proj_weight = Parameter(ember.empty((embed_dim, self.kdim), **factory))
            self.v_proj_weight = Parameter(ember.empty((embed_dim, self.vdim), **factory))
            self.register_parameter("in_proj_weight", None)
        else:
            self.in_proj_weight = Parameter(ember.empty((3 * embed_dim, embed_dim), **factory))
            self.register_parameter("q_proj_weight", None)
            self.register_parameter("k_proj_weight", None)
            self.register_parameter("v_proj_weight", None)
        if bias:
            self.in_proj_bias = Parameter(ember.empty(3 * embed_dim, **factory))
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = NonDynamicallyQuantizableLinear(embed_dim, embed_dim, bias=bias,
                                                        **factory)
        if add_bias_kv:
            self.bias_k = Parameter(ember.empty((1, 1, embed_dim), **factory))
            self.bias_v = Parameter(ember.empty((1, 1, embed_dim), **factory))
        else:
            self.bias_k = self.bias_v = None
        self.add_zero_attn = add_zero_attn
        self._reset_parameters()

    def _reset_parameters(self):
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            init.xavier_uniform_(self.q_proj_weight)
            init.xavier_uniform_(self.k_proj_weight)
            init.xavier_uniform_(self.v_proj_weight)
        if self.in_proj_bias is not None:
            init.constant_(self.in_proj_bias, 0.0)
            init.constant_(self.out_proj.bias, 0.0)
        if self.bias_k is not None:
            init.xavier_normal_(self.bias_k)
        if self.bias_v is not None:
            init.xavier_normal_(self.bias_v)

    def forward(self, query, key, value, key_padding_mask=None, need_weights=True,
                attn_mask=None, average_attn_weights=True, is_causal=False):
        """Attend from ``query`` to ``key``/``value``.

        Parameters
        ----------
        query : Tensor
            ``(L, E)`` unbatched, ``(L, N, E)``, or ``(N, L, E)`` with ``batch_first``.
        key : Tensor
            ``(S, kdim)``, ``(S, N, kdim)`` or ``(N, S, kdim)``.
        value : Tensor
            ``(S, vdim)``, ``(S, N, vdim)`` or ``(N, S, vdim)``.
        key_padding_mask : Tensor, optional
            ``(N, S)`` (``(S,)`` unbatched): boolean (True = ignore that key) or float
            (added to the scores).
        need_weights : bool, optional
            Also return the attention weights.
        attn_mask : Tensor, optional
            ``(L, S)`` or ``(N * num_heads, L, S)``: boolean (True = may not attend) or
            float (added to the scores).
        average_attn_weights : bool, optional
            Average the returned weights over the heads.
        is_causal : bool, optional
            A hint that ``attn_mask`` is the causal mask.

        Returns
        -------
        attn_output : Tensor
            Shaped like ``query`` with last dimension ``E``.
        attn_output_weights : Tensor or None
            ``(N, L, S)`` (averaged) or ``(N, num_heads, L, S)``; without ``N`` unbatched.
        """
        functional = _attention_functional
        is_batched = query.dim() == 3
        key_padding_mask = functional._canonical_mask(
            key_padding_mask, "key_padding_mask", functional._none_or_dtype(attn_mask),
            "attn_mask", query.dtype)
        attn_mask = functional._canonical_mask(attn_mask, "attn_mask", None, "", query.dtype,
                                               check_other=False)
        if self.batch_first and is_batched:
            # keep the identities that select the packed projections (self-attention)
            if key is value:
                if query is key:
                    query = key = value = query.transpose(1, 0)
                else:
                    query, key = (x.transpose(1, 0) for x in (query, key))
                    value = key
            else:
                query, key, value = (x.transpose(1, 0) for x in (query, key, value))
        separate = not self._qkv_same_embed_dim
        attn_output, attn_output_weights = functional.multi_head_attention_forward(
            query, key, value, self.embed_dim, self.num_heads, self.in_proj_weight,
            self.in_proj_bias, self.bias_k, self.bias_v, self.add_zero_attn, self.dropout,
            self.out_proj.weight, self.out_proj.bias, training=self.training,
            key_padding_mask=key_padding_mask, need_weights=need_weights, attn_mask=attn_mask,
            use_separate_proj_weight=separate, q_proj_weight=self.q_proj_weight,
            k_proj_weight=self.k_proj_weight, v_proj_weight=self.v_proj_weight,
            average_attn_weights=average_attn_weights, is_causal=is_causal)
        if self.batch_first and is_batched:
            return attn_output.transpose(1, 0), attn_output_weights
        return attn_output, attn_output_weights

    def merge_masks(self, attn_mask, key_padding_mask, query):
        """Combine an attention mask and a key padding mask into one float mask.

        Parameters
        ----------
        attn_mask : Tensor or None
            ``(L, L)`` or ``(N * num_heads, L, L)`` float mask.
        key_padding_mask : Tensor or None
            ``(N, L)`` float mask.
        query : Tensor
            ``(N, L, E)``.

        Returns
        -------
        merged_mask : Tensor or None
            ``(N, num_heads, L, L)`` when ``attn_mask`` is given (plus the padding mask
            when both are), else ``key_padding_mask``.
        mask_type : int or None
            1 for a key padding mask alone, 2 when an attention mask is involved.
        """
        merged_mask, mask_type = None, None
        if key_padding_mask is not None:
            merged_mask, mask_type = key_padding_mask, 1
        if attn_mask is not None:
            batch, length = query.shape[0], query.shape[1]
            mask_type = 2
            if attn_mask.dim() == 3:
                merged_mask = attn_mask.view(batch, -1, length, length)
            else:
                merged_mask = attn_mask.view(1, 1, length, length).expand(
                    batch, self.num_heads, -1, -1)
            if key_padding_mask is not None:
                merged_mask = merged_mask + key_padding_mask.view(batch, 1, 1, length).expand(
                    -1, self.num_heads, -1, -1)
        return merged_mask, mask_type
