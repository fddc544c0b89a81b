"""Activation layers: thin modules over the functions of ``ember.nn.functional``."""
import warnings

import ember
from ember.nn import functional as F
from ember.nn import init
from ember.nn.parameter import Parameter
from ember.nn.modules.module import Module

__all__ = [
    "ReLU", "ReLU6", "LeakyReLU", "PReLU", "ELU", "SELU", "CELU", "GELU", "SiLU", "Mish",
    "Sigmoid", "Tanh", "Softplus", "Softsign", "Hardtanh", "Hardsigmoid", "Hardswish", "Softmax",
    "LogSoftmax", "Softmin", "GLU", "Threshold", "LogSigmoid", "Tanhshrink", "Softshrink",
    "Hardshrink",
    "RReLU", "Softmax2d", "MultiheadAttention",
]


def _inplace_suffix(inplace):
    return ", inplace=True" if inplace else ""


class _InplaceOnly(Module):
    """An activation whose only option is ``inplace``."""

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def extra_repr(self):
        return "inplace=True" if self.inplace else ""


class ReLU(_InplaceOnly):
    """Rectified linear unit, ``max(0, x)``.

    Parameters
    ----------
    inplace : bool, default False
        Overwrite the input.

    Examples
    --------
    >>> import ember
    >>> from ember import nn
    >>> nn.ReLU()(ember.tensor([-1.0, 2.0]))
    tensor([0., 2.])
    """

    def forward(self, input):
        """Apply the activation."""
        return F.relu(input, inplace=self.inplace)


class Hardtanh(Module):
    """Clamp to ``[min_val, max_val]``.

    Parameters
    ----------
    min_val, max_val : float, default -1.0, 1.0
        The bounds.
    inplace : bool, default False
        Overwrite the input.
    min_value, max_value : float, optional
        Deprecated spellings of ``min_val`` and ``max_val``.
    """

    def __init__(self, min_val=-1.0, max_val=1.0, inplace=False, min_value=None,
                 max_value=None):
        super().__init__()
        if min_value is not None:
            warnings.warn("keyword argument `min_value` is deprecated and renamed to `min_val`",
                          FutureWarning, stacklevel=2)
            min_val = min_value
        if max_value is not None:
            warnings.warn("keyword argument `max_value` is deprecated and renamed to `max_val`",
                          FutureWarning, stacklevel=2)
            max_val = max_value
        if max_val <= min_val:
            # PyTorch's class for this check
            raise AssertionError(f"max_val ({max_val}) must be greater than min_val ({min_val})")
        self.min_val = min_val
        self.max_val = max_val
        self.inplace = inplace

    def forward(self, input):
        """Apply the activation."""
        return F.hardtanh(input, self.min_val, self.max_val, self.inplace)

    def extra_repr(self):
        return f"min_val={self.min_val}, max_val={self.max_val}{_inplace_suffix(self.inplace)}"


class ReLU6(Hardtanh):
    """``min(max(0, x), 6)``.

    Parameters
    ----------
    inplace : bool, default False
        Overwrite the input.
    """

    def __init__(self, inplace=False):
        super().__init__(0.0, 6.0, inplace)

    def extra_repr(self):
        return "inplace=True" if self.inplace else ""


class LeakyReLU(Module):
    """``x`` for positive ``x``, ``negative_slope * x`` otherwise.

    Parameters
    ----------
    negative_slope : float, default 0.01
        Slope of the negative part.
    inplace : bool, default False
        Overwrite the input.
    """

    def __init__(self, negative_slope=0.01, inplace=False):
        super().__init__()
        self.negative_slope = negative_slope
        self.inplace = inplace

    def forward(self, input):
        """Apply the activation."""
        return F.leaky_relu(input, self.negative_slope, self.inplace)

    def extra_repr(self):
        return f"negative_slope={self.negative_slope}{_inplace_suffix(self.inplace)}"


class PReLU(Module):
    """Leaky ReLU with a learnt negative slope, one per channel or shared.

    Parameters
    ----------
    num_parameters : int, default 1
        Number of slopes: 1 or the number of channels (dimension 1 of the input).
    init : float, default 0.25
        Initial slope.
    device, dtype : optional
        Where and of what dtype the weight is created.

    Attributes
    ----------
    weight : Parameter
        Shape ``(num_parameters,)``.
    """

    def __init__(self, num_parameters=1, init=0.25, device=None, dtype=None):
        super().__init__()
        self.num_parameters = num_parameters
        self.init = init
        self.weight = Parameter(ember.empty(num_parameters, device=device, dtype=dtype))
        self.reset_parameters()

    def reset_parameters(self):
        """Set every slope to ``init``."""
        init.constant_(self.weight, self.init)

    def forward(self, input):
        """Apply the activation."""
        return F.prelu(input, self.weight)

    def extra_repr(self):
        return f"num_parameters={self.num_parameters}"


class _AlphaActivation(Module):
    """An activation with ``alpha`` and ``inplace`` options (ELU, CELU: siblings, as in
    PyTorch, so ``isinstance(m, nn.ELU)`` does not catch a CELU)."""

    def __init__(self, alpha=1.0, inplace=False):
        super().__init__()
        self.alpha = alpha
        self.inplace = inplace

    def extra_repr(self):
        return f"alpha={self.alpha}{_inplace_suffix(self.inplace)}"


class ELU(_AlphaActivation):
    """Exponential linear unit.

    Parameters
    ----------
    alpha : float, default 1.0
        Scale of the negative part.
    inplace : bool, default False
        Overwrite the input.
    """

    def forward(self, input):
        """Apply the activation."""
        return F.elu(input, self.alpha, self.inplace)


class CELU(_AlphaActivation):
    """Continuously differentiable exponential linear unit.

    Parameters
    ----------
    alpha : float, default 1.0
        Scale of the negative part.
    inplace : bool, default False
        Overwrite the input.
    """

    def forward(self, input):
        """Apply the activation."""
        return F.celu(input, self.alpha, self.inplace)


class SELU(_InplaceOnly):
    """Scaled exponential linear unit.

    Parameters
    ----------
    inplace : bool, default False
        Overwrite the input.
    """

    def forward(self, input):
        """Apply the activation."""
        return F.selu(input, self.inplace)


class SiLU(_InplaceOnly):
    """Sigmoid linear unit, ``x * sigmoid(x)``.

    Parameters
    ----------
    inplace : bool, default False
        Overwrite the input.
    """

    def forward(self, input):
        """Apply the activation."""
        return F.silu(input, inplace=self.inplace)


class Mish(_InplaceOnly):
    """``x * tanh(softplus(x))``.

    Parameters
    ----------
    inplace : bool, default False
        Overwrite the input.
    """

    def forward(self, input):
        """Apply the activation."""
        return F.mish(input, inplace=self.inplace)


class _HardActivation(Module):
    """Hardsigmoid and Hardswish: ``inplace`` is not in their repr, as in PyTorch."""

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace


class Hardsigmoid(_HardActivation):
    """Piecewise-linear sigmoid, ``clamp(x / 6 + 1 / 2, 0, 1)``.

    Parameters
    ----------
    inplace : bool, default False
        Overwrite the input.
    """

    def forward(self, input):
        """Apply the activation."""
        return F.hardsigmoid(input, self.inplace)


class Hardswish(_HardActivation):
    """``x * hardsigmoid(x)``.

    Parameters
    ----------
    inplace : bool, default False
        Overwrite the input.
    """

    def forward(self, input):
        """Apply the activation."""
        return F.hardswish(input, self.inplace)


class GELU(Module):
    """Gaussian error linear unit.

    Parameters
    ----------
    approximate : {'none', 'tanh'}, default 'none'
        Exact (erf) form or the tanh approximation.
    """

    def __init__(self, approximate="none"):
        super().__init__()
        self.approximate = approximate

    def forward(self, input):
        """Apply the activation."""
        return F.gelu(input, approximate=self.approximate)

    def extra_repr(self):
        return f"approximate={self.approximate!r}"


class Sigmoid(Module):
    """Logistic sigmoid, ``1 / (1 + exp(-x))``."""

    def forward(self, input):
        """Apply the activation."""
        return ember.sigmoid(input)


class Tanh(Module):
    """Hyperbolic tangent."""

    def forward(self, input):
        """Apply the activation."""
        return ember.tanh(input)


class Softsign(Module):
    """``x / (1 + |x|)``."""

    def forward(self, input):
        """Apply the activation."""
        return F.softsign(input)


class LogSigmoid(Module):
    """``log(sigmoid(x))``, computed stably."""

    def forward(self, input):
        """Apply the activation."""
        return F.logsigmoid(input)


class Tanhshrink(Module):
    """``x - tanh(x)``."""

    def forward(self, input):
        """Apply the activation."""
        return F.tanhshrink(input)


class Softplus(Module):
    """``log(1 + exp(beta * x)) / beta``, linear above ``threshold``.

    Parameters
    ----------
    beta : float, default 1.0
        Sharpness.
    threshold : float, default 20.0
        Above ``beta * x > threshold`` the output is ``x``.
    """

    def __init__(self, beta=1.0, threshold=20.0):
        super().__init__()
        self.beta = beta
        self.threshold = threshold

    def forward(self, input):
        """Apply the activation."""
        return F.softplus(input, self.beta, self.threshold)

    def extra_repr(self):
        return f"beta={self.beta}, threshold={self.threshold}"


class _SoftmaxBase(Module):
    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def extra_repr(self):
        return f"dim={self.dim}"


class Softmax(_SoftmaxBase):
    """Softmax along ``dim``.

    Parameters
    ----------
    dim : int, optional
        The dimension that sums to one.
    """

    def forward(self, input):
        """Apply the softmax."""
        return F.softmax(input, self.dim, _stacklevel=5)


class LogSoftmax(_SoftmaxBase):
    """Log of the softmax along ``dim``.

    Parameters
    ----------
    dim : int, optional
        The dimension normalised.
    """

    def forward(self, input):
        """Apply the log-softmax."""
        return F.log_softmax(input, self.dim, _stacklevel=5)


class Softmin(_SoftmaxBase):
    """Softmax of ``-x`` along ``dim``.

    Parameters
    ----------
    dim : int, optional
        The dimension that sums to one.
    """

    def forward(self, input):
        """Apply the softmin."""
        return F.softmin(input, self.dim, _stacklevel=5)


class GLU(Module):
    """Gated linear unit: first half of ``dim`` times the sigmoid of the second.

    Parameters
    ----------
    dim : int, default -1
        The dimension split in two.
    """

    def __init__(self, dim=-1):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        """Apply the gate."""
        return F.glu(input, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class Threshold(Module):
    """``x`` where ``x > threshold``, ``value`` elsewhere.

    Parameters
    ----------
    threshold : float
        The threshold.
    value : float
        The replacement.
    inplace : bool, default False
        Overwrite the input.
    """

    def __init__(self, threshold, value, inplace=False):
        super().__init__()
        self.threshold = threshold
        self.value = value
        self.inplace = inplace

    def forward(self, input):
        """Apply the threshold."""
        return F.threshold(input, self.threshold, self.value, self.inplace)

    def extra_repr(self):
        return f"threshold={self.threshold}, value={self.value}{_inplace_suffix(self.inplace)}"


class _Shrink(Module):
    """Softshrink and Hardshrink: a ``lambd`` option."""

    def __init__(self, lambd=0.5):
        super().__init__()
        self.lambd = lambd

    def extra_repr(self):
        return str(self.lambd)


class Softshrink(_Shrink):
    """``x - lambd`` above ``lambd``, ``x + lambd`` below ``-lambd``, zero between.

    Parameters
    ----------
    lambd : float, default 0.5
        Half-width of the zero band (non-negative).
    """

    def forward(self, input):
        """Apply the shrinkage."""
        return F.softshrink(input, self.lambd)


class Hardshrink(_Shrink):
    """``x`` outside ``[-lambd, lambd]``, zero inside.

    Parameters
    ----------
    lambd : float, default 0.5
        Half-width of the zero band.
    """

    def forward(self, input):
        """Apply the shrinkage."""
        return F.hardshrink(input, self.lambd)


class RReLU(Module):
    """Randomised leaky ReLU: negative inputs scaled by a slope drawn from
    ``U(lower, upper)`` per element in training, by ``(lower + upper) / 2`` in evaluation.

    Parameters
    ----------
    lower, upper : float, default 1/8, 1/3
        Range of the random slope.
    inplace : bool, default False
        Overwrite the input.

    Examples
    --------
    >>> import ember
    >>> from ember import nn
    >>> nn.RReLU(0.1, 0.3).eval()(ember.tensor([-1.0, 2.0]))
    tensor([-0.2000,  2.0000])
    """

    def __init__(self, lower=1.0 / 8, upper=1.0 / 3, inplace=False):
        super().__init__()
        self.lower = lower
        self.upper = upper
        self.inplace = inplace

    def forward(self, input):
        """Apply the activation."""
        return F.rrelu(input, self.lower, self.upper, self.training, self.inplace)

    def extra_repr(self):
        return f"lower={self.lower}, upper={self.upper}{_inplace_suffix(self.inplace)}"


class Softmax2d(Module):
    """Softmax over the channels of ``(N, C, H, W)`` or ``(C, H, W)`` inputs, at every
    spatial position.

    Examples
    --------
    >>> import ember
    >>> from ember import nn
    >>> nn.Softmax2d()(ember.zeros(2, 1, 1)).flatten()
    tensor([0.5000, 0.5000])
    """

    def forward(self, input):
        """Apply the softmax along dim -3."""
        if input.dim() not in (3, 4):
            raise ValueError(f"Softmax2d: expected input to be 3D or 4D, got {input.dim()}D "
                             "instead")
        return F.softmax(input, -3)


# PyTorch defines MultiheadAttention in torch.nn.modules.activation; ember in its own file
from ember.nn.modules.activation_attention import MultiheadAttention  # noqa: E402
