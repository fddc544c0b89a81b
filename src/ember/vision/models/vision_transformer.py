"""Vision Transformers, as ``torchvision.models.vision_transformer``."""
import math
from collections import OrderedDict
from functools import partial
from typing import Callable, NamedTuple

import ember
from ember import nn
from ember.vision.models._utils import _builder, _check_weights
from ember.vision.ops import MLP, Conv2dNormActivation

__all__ = ["VisionTransformer", "vit_b_16", "vit_b_32", "vit_l_16", "vit_l_32"]


class ConvStemConfig(NamedTuple):
    """One layer of an optional convolutional stem in place of the patch projection."""

    out_channels: int
    kernel_size: int
    stride: int
    norm_layer: Callable = nn.BatchNorm2d
    activation_layer: Callable = nn.ReLU


class MLPBlock(MLP):
    """The encoder's feed-forward block: linear, GELU, dropout, linear, dropout."""

    def __init__(self, in_dim, mlp_dim, dropout):
        super().__init__(in_dim, [mlp_dim, in_dim], activation_layer=nn.GELU, inplace=None,
                         dropout=dropout)
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.xavier_uniform_(m.weight)
                if m.bias is not None:
                    nn.init.normal_(m.bias, std=1e-6)


def _check_tokens(input):
    if input.ndim != 3:
        raise AssertionError(f"Expected (batch_size, seq_length, hidden_dim) got {input.shape}")


class EncoderBlock(nn.Module):
    """A pre-norm transformer layer: self-attention, then the MLP, each added to its input."""

    def __init__(self, num_heads, hidden_dim, mlp_dim, dropout, attention_dropout,
                 norm_layer=partial(nn.LayerNorm, eps=1e-6)):
        super().__init__()
        self.num_heads = num_heads
        self.ln_1 = norm_layer(hidden_dim)
        self.self_attention = nn.MultiheadAttention(hidden_dim, num_heads,
                                                    dropout=attention_dropout, batch_first=True)
        self.dropout = nn.Dropout(dropout)
        self.ln_2 = norm_layer(hidden_dim)
        self.mlp = MLPBlock(hidden_dim, mlp_dim, dropout)

    def forward(self, input):
        """Apply the layer to tokens of shape ``(N, L, hidden_dim)``."""
        _check_tokens(input)
        x = self.ln_1(input)
        x, _ = self.self_attention(x, x, x, need_weights=False)
        x = self.dropout(x) + input
        return x + self.mlp(self.ln_2(x))


class Encoder(nn.Module):
    """Learned position embeddings, ``num_layers`` encoder blocks and a final layer norm."""

    def __init__(self, seq_length, num_layers, num_heads, hidden_dim, mlp_dim, dropout,
                 attention_dropout, norm_layer=partial(nn.LayerNorm, eps=1e-6)):
        super().__init__()
        # initialized as BERT's
        self.pos_embedding = nn.Parameter(ember.empty(1, seq_length, hidden_dim).normal_(std=0.02))
        self.dropout = nn.Dropout(dropout)
        self.layers = nn.Sequential(OrderedDict(
            (f"encoder_layer_{i}", EncoderBlock(num_heads, hidden_dim, mlp_dim, dropout,
                                                attention_dropout, norm_layer))
            for i in range(num_layers)))
        self.ln = norm_layer(hidden_dim)

    def forward(self, input):
        """Encode tokens of shape ``(N, seq_length, hidden_dim)``."""
        _check_tokens(input)
        return self.ln(self.layers(self.dropout(input + self.pos_embedding)))


class VisionTransformer(nn.Module):
    """Vision Transformer (Dosovitskiy et al.), as ``torchvision.models.VisionTransformer``.

    The image is cut into ``patch_size`` squares, each projected to ``hidden_dim``; a class
    token is prepended, the sequence is encoded, and the class token's encoding is
    classified.

    Parameters
    ----------
    image_size : int
        Height and width of the input images (fixed: the position embeddings depend on it).
    patch_size : int
        Side of the square patches; must divide ``image_size``.
    num_layers, num_heads, hidden_dim, mlp_dim : int
        Encoder blocks, attention heads, token features and the MLP's hidden features.
    dropout, attention_dropout : float, default 0.0
        Dropout probabilities of the blocks and of the attention weights.
    num_classes : int, default 1000
        Outputs of the head.
    representation_size : int, optional
        When given, a linear layer to this size and a tanh (``pre_logits``, ``act``) come
        before the head.
    norm_layer : callable, default ``nn.LayerNorm`` with ``eps=1e-6``
        Builds the normalizations from ``hidden_dim``.
    conv_stem_configs : list of ConvStemConfig, optional
        A convolutional stem (then a 1x1 convolution ``conv_last``) in place of the patch
        projection.

    Raises
    ------
    AssertionError
        When ``patch_size`` does not divide ``image_size`` (and, in ``forward``, when the
        images are not ``image_size`` square), as torchvision's ``torch._assert``.

    Notes
    -----
    The head is initialized at zero, the patch projection from a normal of standard
    deviation ``sqrt(1 / fan_in)`` truncated to ``[-2, 2]``, as in torchvision.
    """

    def __init__(self, image_size, patch_size, num_layers, num_heads, hidden_dim, mlp_dim,
                 dropout=0.0, attention_dropout=0.0, num_classes=1000, representation_size=None,
                 norm_layer=partial(nn.LayerNorm, eps=1e-6), conv_stem_configs=None):
        super().__init__()
        if image_size % patch_size != 0:
            raise AssertionError("Input shape indivisible by patch size!")
        self.image_size = image_size
        self.patch_size = patch_size
        self.hidden_dim = hidden_dim
        self.mlp_dim = mlp_dim
        self.attention_dropout = attention_dropout
        self.dropout = dropout
        self.num_classes = num_classes
        self.representation_size = representation_size
        self.norm_layer = norm_layer
        if conv_stem_configs is not None:
            seq_proj = nn.Sequential()
            prev_channels = 3
            for i, cnf in enumerate(conv_stem_configs):
                seq_proj.add_module(f"conv_bn_relu_{i}", Conv2dNormActivation(
                    in_channels=prev_channels, out_channels=cnf.out_channels,
                    kernel_size=cnf.kernel_size, stride=cnf.stride, norm_layer=cnf.norm_layer,
                    activation_layer=cnf.activation_layer))
                prev_channels = cnf.out_channels
            seq_proj.add_module("conv_last", nn.Conv2d(prev_channels, hidden_dim, kernel_size=1))
            self.conv_proj = seq_proj
        else:
            self.conv_proj = nn.Conv2d(3, hidden_dim, kernel_size=patch_size, stride=patch_size)
        # the patches and the class token
        seq_length = (image_size // patch_size) ** 2 + 1
        self.class_token = nn.Parameter(ember.zeros(1, 1, hidden_dim))
        self.encoder = Encoder(seq_length, num_layers, num_heads, hidden_dim, mlp_dim, dropout,
                               attention_dropout, norm_layer)
        self.seq_length = seq_length
        heads_layers = OrderedDict()
        if representation_size is None:
            heads_layers["head"] = nn.Linear(hidden_dim, num_classes)
        else:
            heads_layers["pre_logits"] = nn.Linear(hidden_dim, representation_size)
            heads_layers["act"] = nn.Tanh()
            heads_layers["head"] = nn.Linear(representation_size, num_classes)
        self.heads = nn.Sequential(heads_layers)

        if isinstance(self.conv_proj, nn.Conv2d):
            fan_in = self.conv_proj.in_channels * math.prod(self.conv_proj.kernel_size)
            nn.init.trunc_normal_(self.conv_proj.weight, std=math.sqrt(1 / fan_in))
            nn.init.zeros_(self.conv_proj.bias)
        else:
            conv_last = self.conv_proj.conv_last
            nn.init.normal_(conv_last.weight, mean=0.0,
                            std=math.sqrt(2.0 / conv_last.out_channels))
            nn.init.zeros_(conv_last.bias)
        if representation_size is not None:
            pre_logits = self.heads.pre_logits
            nn.init.trunc_normal_(pre_logits.weight, std=math.sqrt(1 / pre_logits.in_features))
            nn.init.zeros_(pre_logits.bias)
        nn.init.zeros_(self.heads.head.weight)
        nn.init.zeros_(self.heads.head.bias)

    def _process_input(self, x):
        n, _, h, w = x.shape
        p = self.patch_size
        if h != self.image_size:
            raise AssertionError(f"Wrong image height! Expected {self.image_size} but got {h}!")
        if w != self.image_size:
            raise AssertionError(f"Wrong image width! Expected {self.image_size} but got {w}!")
        # (N, hidden_dim, H/p, W/p) to a sequence of (H/p)*(W/p) tokens
        x = self.conv_proj(x).reshape(n, self.hidden_dim, (h // p) * (w // p))
        return x.permute(0, 2, 1)

    def forward(self, x):
        """Class scores ``(N, num_classes)`` of images ``(N, 3, image_size, image_size)``."""
        x = self._process_input(x)
        batch_class_token = self.class_token.expand(x.shape[0], -1, -1)
        x = self.encoder(ember.cat([batch_class_token, x], dim=1))
        return self.heads(x[:, 0])


def _vision_transformer(patch_size, num_layers, num_heads, hidden_dim, mlp_dim, weights,
                        progress, **kwargs):
    _check_weights(weights)
    image_size = kwargs.pop("image_size", 224)
    return VisionTransformer(image_size=image_size, patch_size=patch_size,
                             num_layers=num_layers, num_heads=num_heads, hidden_dim=hidden_dim,
                             mlp_dim=mlp_dim, **kwargs)


_VIT = ("VisionTransformer", " (``image_size``, default 224, ``num_classes``, ``dropout``, "
        "``attention_dropout``, ``representation_size``, ``norm_layer``, "
        "``conv_stem_configs``)")


@_builder(_VIT, "ViT-B/16 (Dosovitskiy et al., 2021)")
def vit_b_16(*, weights=None, progress=True, **kwargs):
    return _vision_transformer(16, 12, 12, 768, 3072, weights, progress, **kwargs)


@_builder(_VIT, "ViT-B/32 (Dosovitskiy et al., 2021)")
def vit_b_32(*, weights=None, progress=True, **kwargs):
    return _vision_transformer(32, 12, 12, 768, 3072, weights, progress, **kwargs)


@_builder(_VIT, "ViT-L/16 (Dosovitskiy et al., 2021)")
def vit_l_16(*, weights=None, progress=True, **kwargs):
    return _vision_transformer(16, 24, 16, 1024, 4096, weights, progress, **kwargs)


@_builder(_VIT, "ViT-L/32 (Dosovitskiy et al., 2021)")
def vit_l_32(*, weights=None, progress=True, **kwargs):
    return _vision_transformer(32, 24, 16, 1024, 4096, weights, progress, **kwargs)
