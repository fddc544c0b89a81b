"""Transformer layers (PyTorch's ``torch.nn.Transformer`` family): encoder and decoder
layers, their stacks, and the full encoder-decoder model."""
import copy
import warnings

import ember
from ember._core._tensor import _recorded
from ember.nn import functional as F
from ember.nn import init
from ember.nn._functional import attention as _attention_functional
from ember.nn.modules.activation import GELU, ReLU
from ember.nn.modules.activation_attention import MultiheadAttention
from ember.nn.modules.container import ModuleList
from ember.nn.modules.dropout import Dropout
from ember.nn.modules.linear import Linear
from ember.nn.modules.module import Module
from ember.nn.modules.normalization import LayerNorm

__all__ = ["Transformer", "TransformerEncoder", "TransformerDecoder",
           "TransformerEncoderLayer", "TransformerDecoderLayer"]


def _generate_square_subsequent_mask(sz, device=None, dtype=None):
    """``(sz, sz)`` float mask: ``-inf`` above the diagonal, 0 on and below it."""
    steps = ember.arange(sz, device=device)
    above = steps.unsqueeze(0) > steps.unsqueeze(1)
    mask = ember.zeros((sz, sz), dtype=dtype, device=device)
    return mask.masked_fill_(above, float("-inf"))


def _get_seq_len(src, batch_first):
    if src.dim() == 2:
        return src.shape[0]
    return src.shape[1 if batch_first else 0]


def _detect_is_causal_mask(mask, is_causal=None, size=None):
    """``is_causal`` if given, else whether ``mask`` equals the causal mask of ``size``."""
    make_causal = is_causal is True
    if is_causal is None and mask is not None:
        size = size if size is not None else mask.shape[-2]
        causal = _generate_square_subsequent_mask(size, device=mask.device, dtype=mask.dtype)
        if tuple(mask.shape) == tuple(causal.shape):
            make_causal = bool((mask == causal).all())
    return make_causal


def _get_clones(module, n):
    return ModuleList([copy.deepcopy(module) for _ in range(n)])


def _get_activation_fn(activation):
    if activation == "relu":
        return F.relu
    if activation == "gelu":
        return F.gelu
    raise RuntimeError(f"activation should be relu/gelu, not {activation}")


def _canonical_masks(key_padding_mask, key_padding_name, mask, mask_name, dtype):
    """Both masks as float masks (True = blocked -> -inf), as the layers take them."""
    functional = _attention_functional
    key_padding_mask = functional._canonical_mask(
        key_padding_mask, key_padding_name, functional._none_or_dtype(mask), mask_name, dtype)
    mask = functional._canonical_mask(mask, mask_name, None, "", dtype, check_other=False)
    return key_padding_mask, mask


class TransformerEncoderLayer(Module):
    """Self-attention then a feed-forward network, each with a residual connection,
    dropout and layer normalisation ("Attention Is All You Need").

    Parameters
    ----------
    d_model : int
        Feature size of the input and output.
    nhead : int
        Number of attention heads.
    dim_feedforward : int, default 2048
        Hidden size of the feed-forward network.
    dropout : float, default 0.1
    activation : {'relu', 'gelu'} or callable, default F.relu
        Activation of the feed-forward network.
    layer_norm_eps : float, default 1e-5
    batch_first : bool, default False
        Inputs are ``(N, S, E)`` instead of ``(S, N, E)``.
    norm_first : bool, default False
        Normalise before attention and feed-forward (pre-norm) instead of after.
    bias : bool, default True
        Biases in the linear layers and layer norms.
    device, dtype : optional

    Examples
    --------
    >>> import ember
    >>> from ember import nn
    >>> layer = nn.TransformerEncoderLayer(d_model=16, nhead=4, dim_feedforward=32,
    ...                                    batch_first=True)
    >>> layer(ember.randn(2, 10, 16)).shape
    ember.Size([2, 10, 16])
    """

    def __init__(self, d_model, nhead, dim_feedforward=2048, dropout=0.1, activation=F.relu,
                 layer_norm_eps=1e-5, batch_first=False, norm_first=False, bias=True,
                 device=None, dtype=None):
        factory = {"device": device, "dtype": dtype}
        super().__init__()
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias,
                                            batch_first=batch_first, **factory)
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, **factory)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, **factory)
        self.norm_first = norm_first
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **factory)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **factory)
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)
        if isinstance(activation, str):
            activation = _get_activation_fn(activation)
        if activation is F.relu or isinstance(activation, ReLU):
            self.activation_relu_or_gelu = 1
        elif activation is F.gelu or isinstance(activation, GELU):
            self.activation_relu_or_gelu = 2
        else:
            self.activation_relu_or_gelu = 0
        self.activation = activation

    def forward(self, src, src_mask=None, src_key_padding_mask=None, is_causal=False):
        """Run the layer.

        Parameters
        ----------
        src : Tensor
            ``(S, E)``, ``(S, N, E)`` or ``(N, S, E)`` with ``batch_first``.
        src_mask : Tensor, optional
            ``(S, S)`` or ``(N * nhead, S, S)`` attention mask (True / -inf = blocked).
        src_key_padding_mask : Tensor, optional
            ``(N, S)`` (True / -inf = padding).
        is_causal : bool, optional
            A hint that ``src_mask`` is the causal mask.

        Returns
        -------
        Tensor
            Shaped like ``src``.
        """
        src_key_padding_mask, src_mask = _canonical_masks(
            src_key_padding_mask, "src_key_padding_mask", src_mask, "src_mask", src.dtype)
        x = src
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), src_mask, src_key_padding_mask, is_causal)
            x = x + self._ff_block(self.norm2(x))
        else:
            x = self.norm1(x + self._sa_block(x, src_mask, src_key_padding_mask, is_causal))
            x = self.norm2(x + self._ff_block(x))
        return x

    def _sa_block(self, x, attn_mask, key_padding_mask, is_causal=False):
        x = self.self_attn(x, x, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask,
                           need_weights=False, is_causal=is_causal)[0]
        return self.dropout1(x)

    def _ff_block(self, x):
        x = self.linear2(self.dropout(self.activation(self.linear1(x))))
        return self.dropout2(x)


class TransformerDecoderLayer(Module):
    """Self-attention, attention over the encoder's output ("memory"), then a
    feed-forward network, each with a residual connection, dropout and layer norm.

    Parameters
    ----------
    d_model : int
    nhead : int
    dim_feedforward : int, default 2048
    dropout : float, default 0.1
    activation : {'relu', 'gelu'} or callable, default F.relu
    layer_norm_eps : float, default 1e-5
    batch_first : bool, default False
    norm_first : bool, default False
    bias : bool, default True
    device, dtype : optional

    Examples
    --------
    >>> import ember
    >>> from ember import nn
    >>> layer = nn.TransformerDecoderLayer(d_model=16, nhead=4, dim_feedforward=32)
    >>> memory, tgt = ember.randn(10, 2, 16), ember.randn(7, 2, 16)
    >>> layer(tgt, memory).shape
    ember.Size([7, 2, 16])
    """

    def __init__(self, d_model, nhead, dim_feedforward=2048, dropout=0.1, activation=F.relu,
                 layer_norm_eps=1e-5, batch_first=False, norm_first=False, bias=True,
                 device=None, dtype=None):
        factory = {"device": device, "dtype": dtype}
        super().__init__()
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout,
                                            batch_first=batch_first, bias=bias, **factory)
        self.multihead_attn = MultiheadAttention(d_model, nhead, dropout=dropout,
                                                 batch_first=batch_first, bias=bias, **factory)
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, **factory)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, **factory)
        self.norm_first = norm_first
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **factory)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **factory)
        self.norm3 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **factory)
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)
        self.dropout3 = Dropout(dropout)
        self.activation = (_get_activation_fn(activation) if isinstance(activation, str)
                           else activation)

    def forward(self, tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, tgt_is_causal=False, memory_is_causal=False):
        """Run the layer.

        Parameters
        ----------
        tgt : Tensor
            ``(T, E)``, ``(T, N, E)`` or ``(N, T, E)`` with ``batch_first``.
        memory : Tensor
            The encoder's output, ``(S, E)``, ``(S, N, E)`` or ``(N, S, E)``.
        tgt_mask, memory_mask : Tensor, optional
            ``(T, T)`` and ``(T, S)`` attention masks (or 3-D per head).
        tgt_key_padding_mask, memory_key_padding_mask : Tensor, optional
            ``(N, T)`` and ``(N, S)``.
        tgt_is_causal, memory_is_causal : bool, optional
            Hints that ``tgt_mask`` / ``memory_mask`` are causal masks.

        Returns
        -------
        Tensor
            Shaped like ``tgt``.
        """
        x = tgt
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), tgt_mask, tgt_key_padding_mask, tgt_is_causal)
            x = x + self._mha_block(self.norm2(x), memory, memory_mask,
                                    memory_key_padding_mask, memory_is_causal)
            x = x + self._ff_block(self.norm3(x))
        else:
            x = self.norm1(x + self._sa_block(x, tgt_mask, tgt_key_padding_mask, tgt_is_causal))
            x = self.norm2(x + self._mha_block(x, memory, memory_mask, memory_key_padding_mask,
                                               memory_is_causal))
            x = self.norm3(x + self._ff_block(x))
        return x

    def _sa_block(self, x, attn_mask, key_padding_mask, is_causal=False):
        x = self.self_attn(x, x, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask,
                           is_causal=is_causal, need_weights=False)[0]
        return self.dropout1(x)

    def _mha_block(self, x, mem, attn_mask, key_padding_mask, is_causal=False):
        x = self.multihead_attn(x, mem, mem, attn_mask=attn_mask,
                                key_padding_mask=key_padding_mask, is_causal=is_causal,
                                need_weights=False)[0]
        return self.dropout2(x)

    def _ff_block(self, x):
        x = self.linear2(self.dropout(self.activation(self.linear1(x))))
        return self.dropout3(x)


def _why_not_nested(layer):
    """Why PyTorch would not run this encoder layer on nested (unpadded) tensors."""
    name = "encoder_layer"
    if not isinstance(layer, TransformerEncoderLayer):
        return f"{name} was not TransformerEncoderLayer"
    if layer.norm_first:
        return f"{name}.norm_first was True"
    if not layer.self_attn.batch_first:
        return (f"{name}.self_attn.batch_first was not True(use batch_first for better "
                "inference performance)")
    if not layer.self_attn._qkv_same_embed_dim:
        return f"{name}.self_attn._qkv_same_embed_dim was not True"
    if layer.self_attn.in_proj_bias is None:
        return f"{name}.self_attn was passed bias=False"
    if not layer.activation_relu_or_gelu:
        return f"{name}.activation_relu_or_gelu was not True"
    if layer.norm1.eps != layer.norm2.eps:
        return f"{name}.norm1.eps was not equal to {name}.norm2.eps"
    if layer.self_attn.num_heads % 2 == 1:
        return f"{name}.self_attn.num_heads is odd"
    return ""


class TransformerEncoder(Module):
    """A stack of ``num_layers`` deep copies of an encoder layer, then an optional norm.

    Parameters
    ----------
    encoder_layer : TransformerEncoderLayer
        Copied ``num_layers`` times (the copies do not share parameters).
    num_layers : int
    norm : Module, optional
        Applied to the output of the last layer.
    enable_nested_tensor : bool, default True
        PyTorch skips padded positions in evaluation when possible; ember computes
        them but, in the same cases, returns zeros at the padded positions as PyTorch does.
    mask_check : bool, default True
        Check that the padding is at the end of each sequence before taking the
        nested-tensor path above.

    Examples
    --------
    >>> import ember
    >>> from ember import nn
    >>> layer = nn.TransformerEncoderLayer(d_model=16, nhead=4, dim_feedforward=32,
    ...                                    batch_first=True)
    >>> encoder = nn.TransformerEncoder(layer, num_layers=2)
    >>> encoder(ember.randn(3, 8, 16)).shape
    ember.Size([3, 8, 16])
    """

    def __init__(self, encoder_layer, num_layers, norm=None, enable_nested_tensor=True,
                 mask_check=True):
        super().__init__()
        self.layers = _get_clones(encoder_layer, num_layers)
        self.num_layers = num_layers
        self.norm = norm
        self.enable_nested_tensor = enable_nested_tensor
        self.use_nested_tensor = enable_nested_tensor
        self.mask_check = mask_check
        why_not = _why_not_nested(encoder_layer)
        if enable_nested_tensor and why_not:
            warnings.warn(f"enable_nested_tensor is True, but self.use_nested_tensor is False "
                          f"because {why_not}", stacklevel=2)
            self.use_nested_tensor = False

    def _zeroes_padding(self, src, mask, src_key_padding_mask):
        """Whether PyTorch would take its nested-tensor path, which gives zeros at the
        padded positions (inference without gradients, a key padding mask that pads the
        ends of the sequences, no attention mask)."""
        if (not self.use_nested_tensor or self.layers[0].training or src.dim() != 3
                or src_key_padding_mask is None or mask is not None):
            return False
        if self.mask_check:
            # PyTorch's path needs each sequence's padding at its end
            keep = src_key_padding_mask != float("-inf")
            if not bool((keep[:, 1:] <= keep[:, :-1]).all()):
                return False
        layer = self.layers[0]
        tensors = [src] + [p for m in (layer.self_attn, layer.self_attn.out_proj, layer.norm1,
                                        layer.norm2, layer.linear1, layer.linear2)
                           for p in m.parameters(recurse=False)]
        return not (any(_recorded(t) for t in tensors))

    def forward(self, src, mask=None, src_key_padding_mask=None, is_causal=None):
        """Run the layers in turn.

        Parameters
        ----------
        src : Tensor
            ``(S, E)``, ``(S, N, E)`` or ``(N, S, E)`` with ``batch_first``.
        mask : Tensor, optional
            ``(S, S)`` or ``(N * nhead, S, S)`` attention mask.
        src_key_padding_mask : Tensor, optional
            ``(N, S)``.
        is_causal : bool, optional
            Whether ``mask`` is the causal mask; detected from ``mask`` when None.

        Returns
        -------
        Tensor
            Shaped like ``src``.
        """
        src_key_padding_mask, mask = _canonical_masks(
            src_key_padding_mask, "src_key_padding_mask", mask, "mask", src.dtype)
        zero_padding = self._zeroes_padding(src, mask, src_key_padding_mask)
        batch_first = self.layers[0].self_attn.batch_first
        is_causal = _detect_is_causal_mask(mask, is_causal, _get_seq_len(src, batch_first))
        output = src
        for layer in self.layers:
            output = layer(output, src_mask=mask, is_causal=is_causal,
                           src_key_padding_mask=src_key_padding_mask)
        if zero_padding:
            padded = (src_key_padding_mask == float("-inf")).unsqueeze(-1)
            output = output.masked_fill(padded, 0.0)
        if self.norm is not None:
            output = self.norm(output)
        return output


class TransformerDecoder(Module):
    """A stack of ``num_layers`` deep copies of a decoder layer, then an optional norm.

    Parameters
    ----------
    decoder_layer : TransformerDecoderLayer
        Copied ``num_layers`` times.
    num_layers : int
    norm : Module, optional

    Examples
    --------
    >>> import ember
    >>> from ember import nn
    >>> layer = nn.TransformerDecoderLayer(d_model=16, nhead=4, dim_feedforward=32)
    >>> decoder = nn.TransformerDecoder(layer, num_layers=2)
    >>> decoder(ember.randn(7, 2, 16), ember.randn(10, 2, 16)).shape
    ember.Size([7, 2, 16])
    """

    def __init__(self, decoder_layer, num_layers, norm=None):
        super().__init__()
        self.layers = _get_clones(decoder_layer, num_layers)
        self.num_layers = num_layers
        self.norm = norm

    def forward(self, tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, tgt_is_causal=None, memory_is_causal=False):
        """Run the layers in turn.

        Parameters
        ----------
        tgt : Tensor
            ``(T, E)``, ``(T, N, E)`` or ``(N, T, E)`` with ``batch_first``.
        memory : Tensor
            The encoder's output.
        tgt_mask, memory_mask : Tensor, optional
        tgt_key_padding_mask, memory_key_padding_mask : Tensor, optional
        tgt_is_causal : bool, optional
            Whether ``tgt_mask`` is causal; detected from it when None.
        memory_is_causal : bool, optional

        Returns
        -------
        Tensor
            Shaped like ``tgt``.
        """
        output = tgt
        seq_len = _get_seq_len(tgt, self.layers[0].self_attn.batch_first)
        tgt_is_causal = _detect_is_causal_mask(tgt_mask, tgt_is_causal, seq_len)
        for layer in self.layers:
            output = layer(output, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                           tgt_key_padding_mask=tgt_key_padding_mask,
                           memory_key_padding_mask=memory_key_padding_mask,
                           tgt_is_causal=tgt_is_causal, memory_is_causal=memory_is_causal)
        if self.norm is not None:
            output = self.norm(output)
        return output


class Transformer(Module):
    """Encoder-decoder Transformer ("Attention Is All You Need").

    Parameters
    ----------
    d_model : int, default 512
    nhead : int, default 8
    num_encoder_layers : int, default 6
    num_decoder_layers : int, default 6
    dim_feedforward : int, default 2048
    dropout : float, default 0.1
    activation : {'relu', 'gelu'} or callable, default F.relu
    custom_encoder, custom_decoder : Module, optional
        Used instead of the default stacks.
    layer_norm_eps : float, default 1e-5
    batch_first : bool, default False
    norm_first : bool, default False
    bias : bool, default True
    device, dtype : optional

    Notes
    -----
    Every parameter with more than one dimension is re-initialised Xavier-uniform.

    Examples
    --------
    >>> import ember
    >>> from ember import nn
    >>> model = nn.Transformer(d_model=16, nhead=4, num_encoder_layers=1,
    ...                        num_decoder_layers=1, dim_feedforward=32, batch_first=True)
    >>> src, tgt = ember.randn(2, 10, 16), ember.randn(2, 7, 16)
    >>> mask = nn.Transformer.generate_square_subsequent_mask(7)
    >>> model(src, tgt, tgt_mask=mask).shape
    ember.Size([2, 7, 16])
    """

    def __init__(self, d_model=512, nhead=8, num_encoder_layers=6, num_decoder_layers=6,
                 dim_feedforward=2048, dropout=0.1, activation=F.relu, custom_encoder=None,
                 custom_decoder=None, layer_norm_eps=1e-5, batch_first=False, norm_first=False,
                 bias=True, device=None, dtype=None):
        factory = {"device": device, "dtype": dtype}
        super().__init__()
        if custom_encoder is not None:
            self.encoder = custom_encoder
        else:
            encoder_layer = TransformerEncoderLayer(
                d_model, nhead, dim_feedforward, dropout, activation, layer_norm_eps,
                batch_first, norm_first, bias, **factory)
            encoder_norm = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **factory)
            self.encoder = TransformerEncoder(encoder_layer, num_encoder_layers, encoder_norm)
        if custom_decoder is not None:
            self.decoder = custom_decoder
        else:
            decoder_layer = TransformerDecoderLayer(
                d_model, nhead, dim_feedforward, dropout, activation, layer_norm_eps,
                batch_first, norm_first, bias, **factory)
            decoder_norm = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **factory)
            self.decoder = TransformerDecoder(decoder_layer, num_decoder_layers, decoder_norm)
        self._reset_parameters()
        self.d_model = d_model
        self.nhead = nhead
        self.batch_first = batch_first

    def forward(self, src, tgt, src_mask=None, tgt_mask=None, memory_mask=None,
                src_key_padding_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, src_is_causal=None, tgt_is_causal=None,
                memory_is_causal=False):
        """Encode ``src``, then decode ``tgt`` attending to the encoding.

        Parameters
        ----------
        src : Tensor
            ``(S, E)``, ``(S, N, E)`` or ``(N, S, E)`` with ``batch_first``.
        tgt : Tensor
            ``(T, E)``, ``(T, N, E)`` or ``(N, T, E)``.
        src_mask, tgt_mask, memory_mask : Tensor, optional
            ``(S, S)``, ``(T, T)`` and ``(T, S)`` attention masks.
        src_key_padding_mask, tgt_key_padding_mask, memory_key_padding_mask : Tensor, optional
            ``(N, S)``, ``(N, T)`` and ``(N, S)``.
        src_is_causal, tgt_is_causal, memory_is_causal : bool, optional
            Hints that the matching masks are causal.

        Returns
        -------
        Tensor
            Shaped like ``tgt``.
        """
        is_batched = src.dim() == 3
        batch_dim = 0 if self.batch_first else 1
        if is_batched and src.shape[batch_dim] != tgt.shape[batch_dim]:
            raise RuntimeError("the batch number of src and tgt must be equal")
        if src.shape[-1] != self.d_model or tgt.shape[-1] != self.d_model:
            raise RuntimeError("the feature number of src and tgt must be equal to d_model")
        memory = self.encoder(src, mask=src_mask, src_key_padding_mask=src_key_padding_mask,
                              is_causal=src_is_causal)
        return self.decoder(tgt, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                            tgt_key_padding_mask=tgt_key_padding_mask,
                            memory_key_padding_mask=memory_key_padding_mask,
                            tgt_is_causal=tgt_is_causal, memory_is_causal=memory_is_causal)

    @staticmethod
    def generate_square_subsequent_mask(sz, device=None, dtype=None):
        """Causal mask for a sequence of length ``sz``.

        Parameters
        ----------
        sz : int
        device, dtype : optional

        Returns
        -------
        Tensor
            ``(sz, sz)``: ``-inf`` above the diagonal, 0 elsewhere.

        Examples
        --------
        >>> from ember import nn
        >>> nn.Transformer.generate_square_subsequent_mask(3)
        tensor([[0., -inf, -inf],
                [0., 0., -inf],
                [0., 0., 0.]])
        """
        return _generate_square_subsequent_mask(sz, device=device, dtype=dtype)

    def _reset_parameters(self):
        for p in self.parameters():
            if p.dim() > 1:
                init.xavier_uniform_(p)
