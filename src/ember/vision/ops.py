"""Layers of ``torchvision.ops`` that the classification networks are built from.

Their submodule names are torchvision's (``Conv2dNormActivation`` is a ``Sequential`` of
``0``, ``1``, ``2``; ``SqueezeExcitation`` has ``fc1`` and ``fc2``), so state dicts match.
"""
import ember
from ember import nn

__all__ = ["Conv2dNormActivation", "MLP", "Permute", "SqueezeExcitation", "StochasticDepth",
           "stochastic_depth"]


class Conv2dNormActivation(nn.Sequential):
    """A convolution, a normalization and an activation, as torchvision's.

    Parameters
    ----------
    in_channels, out_channels : int
        Channels of the convolution.
    kernel_size : int, default 3
        Kernel size.
    stride : int, default 1
        Stride.
    padding : int, optional
        Default ``(kernel_size - 1) // 2 * dilation`` (same size at stride 1).
    groups : int, default 1
        Groups of the convolution.
    norm_layer : callable or None, default ``nn.BatchNorm2d``
        Builds the normalization from ``out_channels``; ``None`` leaves it out.
    activation_layer : callable or None, default ``nn.ReLU``
        Builds the activation; ``None`` leaves it out.
    dilation : int, default 1
        Dilation of the convolution.
    inplace : bool or None, default True
        Passed to ``activation_layer`` unless ``None``.
    bias : bool, optional
        Bias of the convolution; default: only without normalization.
    """

    def __init__(self, in_channels, out_channels, kernel_size=3, stride=1, padding=None,
                 groups=1, norm_layer=nn.BatchNorm2d, activation_layer=nn.ReLU, dilation=1,
                 inplace=True, bias=None):
        if padding is None:
            padding = (kernel_size - 1) // 2 * dilation
        if bias is None:
            bias = norm_layer is None
        layers = [nn.Conv2d(in_channels, out_channels, kernel_size, stride, padding,
                            dilation=dilation, groups=groups, bias=bias)]
        if norm_layer is not None:
            layers.append(norm_layer(out_channels))
        if activation_layer is not None:
            params = {} if inplace is None else {"inplace": inplace}
            layers.append(activation_layer(**params))
        super().__init__(*layers)
        self.out_channels = out_channels


class SqueezeExcitation(nn.Module):
    """Squeeze-and-excitation (Hu et al.): channels rescaled by a gate of their means.

    Parameters
    ----------
    input_channels : int
        Channels of the input (and output).
    squeeze_channels : int
        Channels of the bottleneck between ``fc1`` and ``fc2``.
    activation : callable, default ``nn.ReLU``
        Builds the activation after ``fc1``.
    scale_activation : callable, default ``nn.Sigmoid``
        Builds the gate's activation.
    """

    def __init__(self, input_channels, squeeze_channels, activation=nn.ReLU,
                 scale_activation=nn.Sigmoid):
        super().__init__()
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Conv2d(input_channels, squeeze_channels, 1)
        self.fc2 = nn.Conv2d(squeeze_channels, input_channels, 1)
        self.activation = activation()
        self.scale_activation = scale_activation()

    def forward(self, input):
        """``input`` of shape ``(N, C, H, W)`` times its gate of shape ``(N, C, 1, 1)``."""
        scale = self.activation(self.fc1(self.avgpool(input)))
        return self.scale_activation(self.fc2(scale)) * input


class MLP(nn.Sequential):
    """Linear layers, each but the last followed by an optional normalization, an activation
    and dropout; the last by dropout only.

    Parameters
    ----------
    in_channels : int
        Features of the input.
    hidden_channels : list of int
        Features out of each linear layer (the last is the output's).
    norm_layer : callable or None, default None
        Builds a normalization from a feature count, after each hidden linear layer.
    activation_layer : callable or None, default ``nn.ReLU``
        Builds the activation after each hidden layer.
    inplace : bool or None, default None
        Passed to the activation and dropout layers unless ``None``.
    bias : bool, default True
        Whether the linear layers have a bias.
    dropout : float, default 0.0
        Dropout probability.
    """

    def __init__(self, in_channels, hidden_channels, norm_layer=None,
                 activation_layer=nn.ReLU, inplace=None, bias=True, dropout=0.0):
        params = {} if inplace is None else {"inplace": inplace}
        layers = []
        in_dim = in_channels
        for hidden_dim in hidden_channels[:-1]:
            layers.append(nn.Linear(in_dim, hidden_dim, bias=bias))
            if norm_layer is not None:
                layers.append(norm_layer(hidden_dim))
            layers.append(activation_layer(**params))
            layers.append(nn.Dropout(dropout, **params))
            in_dim = hidden_dim
        layers.append(nn.Linear(in_dim, hidden_channels[-1], bias=bias))
        layers.append(nn.Dropout(dropout, **params))
        super().__init__(*layers)


class Permute(nn.Module):
    """A view of the input with its dimensions permuted, as a module (for ``Sequential``).

    Parameters
    ----------
    dims : list of int
        The new order of the dimensions, as in :func:`ember.permute`.
    """

    def __init__(self, dims):
        super().__init__()
        self.dims = dims

    def forward(self, x):
        """``x.permute(self.dims)``."""
        return x.permute(self.dims)


def stochastic_depth(input, p, mode, training=True):
    """Drop residual branches at random (Huang et al., "Deep Networks with Stochastic Depth").

    Parameters
    ----------
    input : Tensor
        Of shape ``(N, ...)``: a batch of ``N`` rows.
    p : float
        Probability, in ``[0, 1]``, that a row (or the whole batch) is zeroed.
    mode : {"batch", "row"}
        ``"row"`` zeroes each row independently, ``"batch"`` the whole input at once.
    training : bool, default True
        When false, ``input`` is returned unchanged.

    Returns
    -------
    Tensor
        ``input`` with its dropped rows zeroed and the others scaled by ``1 / (1 - p)``.

    Raises
    ------
    ValueError
        When ``p`` is outside ``[0, 1]`` or ``mode`` is neither ``"batch"`` nor ``"row"``.

    Examples
    --------
    >>> from ember.vision.ops import stochastic_depth
    >>> x = ember.ones(4, 2)
    >>> bool((stochastic_depth(x, 0.5, "row", training=False) == x).all())
    True
    >>> sorted(set(stochastic_depth(x, 0.5, "row").flatten().tolist()) - {0.0, 2.0})
    []
    """
    if p < 0.0 or p > 1.0:
        raise ValueError(f"drop probability has to be between 0 and 1, but got {p}")
    if mode not in ("batch", "row"):
        raise ValueError(f"mode has to be either 'batch' or 'row', but got {mode}")
    if not training or p == 0.0:
        return input
    survival_rate = 1.0 - p
    size = [input.shape[0]] + [1] * (input.ndim - 1) if mode == "row" else [1] * input.ndim
    noise = ember.empty(size, dtype=input.dtype, device=input.device).bernoulli_(survival_rate)
    if survival_rate > 0.0:
        noise.div_(survival_rate)
    return input * noise


class StochasticDepth(nn.Module):
    """:func:`stochastic_depth` as a module, active in training mode only.

    Parameters
    ----------
    p : float
        Probability that a row (or the batch) is zeroed.
    mode : {"batch", "row"}
        What is dropped at once.
    """

    def __init__(self, p, mode):
        super().__init__()
        self.p = p
        self.mode = mode

    def forward(self, input):
        """``stochastic_depth(input, p, mode, self.training)``."""
        return stochastic_depth(input, self.p, self.mode, self.training)

    def __repr__(self):
        return f"{self.__class__.__name__}(p={self.p}, mode={self.mode})"
