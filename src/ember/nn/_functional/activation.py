"""Activation functions of :mod:`ember.nn.functional`: fused elementwise kernels of the op
table (``ember.ops.elementwise``, each with a fused backward kernel) where PyTorch has them,
compositions of differentiable ember ops for the rest."""
from ember.ops.autocast import autocasts
import warnings

import ember
from ember._core._tensor import _recorded
from ember.ops import elementwise as _ew
from ember.ops import elementwise_math as _em
from ember.ops.elementwise_math import hardshrink, require_float  # noqa: F401 (one hardshrink)


def _log1p_exp(z):
    """``log(1 + exp(z))`` without overflow: ``max(z, 0) + log1p(exp(-|z|))``.

    Both halves are written with ``where`` on ``z > 0`` so the derivative at 0 is
    ``sigmoid(0) = 0.5`` and no branch ever evaluates ``exp`` of a large number.
    """
    positive = z > 0
    return ember.where(positive, z, 0.0) + ember.log1p(ember.exp(ember.where(positive, -z, z)))


def _inplace_result(input, compute, inplace):
    """``compute(input)``, written into ``input`` for the ``inplace=True`` variants.

    When autograd records it, the in-place variant computes from a copy of ``input``,
    as PyTorch keeps the original input of an in-place op whose derivative reads it:
    the write into ``input`` then leaves what the backward saved untouched."""
    if not inplace:
        return compute(input)
    if _recorded(input):
        return input.copy_(compute(input.clone()))
    return input.copy_(compute(input))


def relu(input, inplace=False):
    """Rectified linear unit, ``max(input, 0)`` elementwise.

    Parameters
    ----------
    input : Tensor
    inplace : bool, optional
        Write the result into ``input``.

    Returns
    -------
    Tensor

    Examples
    --------
    >>> import ember
    >>> import ember.nn.functional as F
    >>> F.relu(ember.tensor([-1.0, 0.5]))
    tensor([0.0000, 0.5000])
    """
    return input.relu_() if inplace else ember.relu(input)


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    """Clamp ``input`` to ``[min_val, max_val]``; the gradient is zero at and beyond the bounds.

    Parameters
    ----------
    input : Tensor
    min_val, max_val : float, optional
        Bounds of the linear region.
    inplace : bool, optional

    Returns
    -------
    Tensor
    """
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")
    if isinstance(input, ember.Tensor) and not (input.is_floating_point() or input.is_complex()):
        # an integer input keeps its dtype, the bounds converted to it (as PyTorch's clamp)
        if input.dtype == ember.bool:
            raise RuntimeError("Bool inputs not supported for hardtanh")
        if input.dtype == ember.uint8 and min(min_val, max_val) < 0:
            raise RuntimeError("cannot do hardtanh on an unsigned type with negative limits")
        min_val, max_val = int(min_val), int(max_val)
    return _inplace_result(input, lambda x: ember.where(
        x <= min_val, min_val, ember.where(x >= max_val, max_val, x)), inplace)


def relu6(input, inplace=False):
    """``min(max(input, 0), 6)`` elementwise (``hardtanh(input, 0, 6)``).

    Parameters
    ----------
    input : Tensor
    inplace : bool, optional

    Returns
    -------
    Tensor
    """
    return hardtanh(input, 0.0, 6.0, inplace)


def leaky_relu(input, negative_slope=0.01, inplace=False):
    """``input`` where positive, ``negative_slope * input`` elsewhere.

    Parameters
    ----------
    input : Tensor
    negative_slope : float, optional
    inplace : bool, optional

    Returns
    -------
    Tensor
    """
    require_float("leaky_relu", input)
    return _inplace_result(input, lambda x: _ew.leaky_relu(x, negative_slope), inplace)


def elu(input, alpha=1.0, inplace=False):
    """Exponential linear unit: ``input`` where positive, ``alpha * (exp(input) - 1)`` elsewhere.

    Parameters
    ----------
    input : Tensor
    alpha : float, optional
    inplace : bool, optional

    Returns
    -------
    Tensor
    """
    require_float("elu", input)
    return _inplace_result(input, lambda x: _ew.elu(x, alpha), inplace)


def selu(input, inplace=False):
    """Scaled ELU with the self-normalising constants of Klambauer et al. (2017).

    Parameters
    ----------
    input : Tensor
    inplace : bool, optional

    Returns
    -------
    Tensor
    """
    return _inplace_result(input, _em.selu, inplace)


def celu(input, alpha=1.0, inplace=False):
    """``max(0, x) + min(0, alpha * (exp(x / alpha) - 1))`` elementwise.

    Parameters
    ----------
    input : Tensor
    alpha : float, optional
    inplace : bool, optional

    Returns
    -------
    Tensor
    """
    return _inplace_result(input, lambda x: _em.celu(x, alpha), inplace)


def gelu(input, approximate="none"):
    """Gaussian error linear unit, exact (``'none'``) or with the ``'tanh'`` approximation.

    Parameters
    ----------
    input : Tensor
    approximate : {'none', 'tanh'}, optional

    Returns
    -------
    Tensor
    """
    return ember.gelu(input, approximate=approximate)


def silu(input, inplace=False):
    """``input * sigmoid(input)`` elementwise (swish).

    Parameters
    ----------
    input : Tensor
    inplace : bool, optional

    Returns
    -------
    Tensor
    """
    return _inplace_result(input, ember.silu, inplace)


def mish(input, inplace=False):
    """``input * tanh(softplus(input))`` elementwise.

    Parameters
    ----------
    input : Tensor
    inplace : bool, optional

    Returns
    -------
    Tensor
    """
    return _inplace_result(input, _ew.mish, inplace)


def sigmoid(input):
    """Logistic sigmoid ``1 / (1 + exp(-input))``.

    Parameters
    ----------
    input : Tensor

    Returns
    -------
    Tensor
    """
    return ember.sigmoid(input)


def tanh(input):
    """Hyperbolic tangent.

    Parameters
    ----------
    input : Tensor

    Returns
    -------
    Tensor
    """
    return ember.tanh(input)


@autocasts("softplus")
def softplus(input, beta=1.0, threshold=20.0):
    """``log(1 + exp(beta * input)) / beta``, linear where ``beta * input > threshold``.

    Parameters
    ----------
    input : Tensor
    beta : float, optional
    threshold : float, optional

    Returns
    -------
    Tensor
    """
    scaled = input * beta
    return ember.where(scaled > threshold, input, _log1p_exp(scaled) / beta)


def logsigmoid(input):
    """``log(sigmoid(input))``, computed as ``-softplus(-input)`` without overflow.

    Parameters
    ----------
    input : Tensor

    Returns
    -------
    Tensor
    """
    return -_log1p_exp(-input)


def softsign(input):
    """``input / (1 + |input|)`` elementwise.

    Parameters
    ----------
    input : Tensor

    Returns
    -------
    Tensor
        Floating point (an integer ``input`` computes in the default dtype, as PyTorch)
        or complex.
    """
    if isinstance(input, ember.Tensor) and input.is_complex():  # PyTorch's composition
        return input / (1 + input.abs())
    return _ew.softsign(_integers_to_float(input))


def hardsigmoid(input, inplace=False):
    """Piecewise linear sigmoid ``relu6(input + 3) / 6``.

    Parameters
    ----------
    input : Tensor
    inplace : bool, optional

    Returns
    -------
    Tensor
    """
    return _inplace_result(input, _ew.hardsigmoid, inplace)


def hardswish(input, inplace=False):
    """``input * relu6(input + 3) / 6`` (Howard et al., 2019).

    Parameters
    ----------
    input : Tensor
    inplace : bool, optional

    Returns
    -------
    Tensor
    """
    # written piecewise so the derivative at -3 and 3 matches PyTorch's (0 and 1)
    return _inplace_result(input, _ew.hardswish, inplace)


def _softmax_dim(name, ndim):
    warnings.warn(f"Implicit dimension choice for {name} has been deprecated. "
                  "Change the call to include dim=X as an argument.", stacklevel=3)
    return 0 if ndim in (0, 1, 3) else 1


def softmax(input, dim=None, _stacklevel=3, dtype=None):
    """Softmax along ``dim``: ``exp(x) / exp(x).sum(dim)``.

    Parameters
    ----------
    input : Tensor
    dim : int, optional
        Without it, the deprecated implicit choice of PyTorch (0 for 0-, 1- and
        3-D input, else 1) is used with a warning.
    dtype : ember.dtype, optional
        Cast ``input`` to this dtype first.

    Returns
    -------
    Tensor
    """
    if dim is None:
        dim = _softmax_dim("softmax", input.dim())
    return ember.softmax(input, dim, dtype=dtype)


def softmin(input, dim=None, _stacklevel=3, dtype=None):
    """``softmax(-input)`` along ``dim``.

    Parameters
    ----------
    input : Tensor
    dim : int, optional
    dtype : ember.dtype, optional

    Returns
    -------
    Tensor
    """
    if dim is None:
        dim = _softmax_dim("softmin", input.dim())
    if dtype is not None:
        input = input.to(dtype)
    return ember.softmax(-input, dim)


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    """Logarithm of :func:`softmax`, computed stably as ``x - logsumexp(x, dim)``.

    Parameters
    ----------
    input : Tensor
    dim : int, optional
    dtype : ember.dtype, optional

    Returns
    -------
    Tensor
    """
    if dim is None:
        dim = _softmax_dim("log_softmax", input.dim())
    return ember.log_softmax(input, dim, dtype=dtype)


def glu(input, dim=-1):
    """Gated linear unit: halves ``a, b`` of ``input`` along ``dim`` give ``a * sigmoid(b)``.

    Parameters
    ----------
    input : Tensor
    dim : int, optional

    Returns
    -------
    Tensor
    """
    if input.dim() == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    size = input.shape[dim]
    if size % 2:
        wrapped = dim % input.dim()
        raise RuntimeError(f"Halving dimension must be even, but dimension {wrapped} is size {size}")
    first, second = input.split(size // 2, dim)
    return first * ember.sigmoid(second)


def threshold(input, threshold, value, inplace=False):
    """``input`` where ``input > threshold``, else ``value``.

    Parameters
    ----------
    input : Tensor
    threshold : float
    value : float
    inplace : bool, optional

    Returns
    -------
    Tensor
    """
    return _inplace_result(input, lambda x: _em.threshold(x, threshold, value), inplace)


@autocasts("prelu")
def prelu(input, weight):
    """Leaky ReLU with a learned slope per channel (dimension 1) or one shared slope.

    Parameters
    ----------
    input : Tensor
    weight : Tensor
        One slope, or one per channel.

    Returns
    -------
    Tensor
    """
    if weight.dim() > 1:
        raise RuntimeError("prelu: Expected `weight` to be a scalar or 1D tensor, but got: "
                           f"ndim = {weight.dim()}")
    count = weight.numel()
    if count != 1:
        if input.dim() == 0:
            raise RuntimeError("Not allow zero-dim input tensor.")
        channels = input.shape[1] if input.dim() >= 2 else input.shape[0]
        if count != channels:
            raise RuntimeError("Mismatch of parameter numbers and input channel size. Found parameter "
                               f"numbers = {count} and channel size = {channels}.")
        if input.dim() >= 2:
            weight = weight.reshape((channels,) + (1,) * (input.dim() - 2))
    else:  # one shared slope keeps the input's shape, even a 0-d one
        weight = weight.reshape(())
    return ember.where(input > 0, input, weight * input)


def tanhshrink(input):
    """``input - tanh(input)`` elementwise.

    Parameters
    ----------
    input : Tensor

    Returns
    -------
    Tensor
        Floating point (an integer ``input`` computes in the default dtype, as PyTorch)
        or complex.
    """
    if isinstance(input, ember.Tensor) and input.is_complex():  # PyTorch's composition
        return input - ember.tanh(input)
    return _ew.tanhshrink(_integers_to_float(input))


def _integers_to_float(input):
    """An integer tensor in the default float dtype, for the float-only table activations
    that PyTorch composes from promoting ops (bool stays refused)."""
    if (isinstance(input, ember.Tensor) and input.dtype != ember.bool
            and not (input.is_floating_point() or input.is_complex())):
        return input.to(ember.get_default_dtype())
    return input


def _check_lambda(lambd):
    if lambd < 0:
        raise RuntimeError(f"lambda must be greater or equal to 0, but found to be {lambd}.")


def softshrink(input, lambd=0.5):
    """Shrink toward zero by ``lambd``: ``x - lambd`` above, ``x + lambd`` below ``-lambd``, else 0.

    Parameters
    ----------
    input : Tensor
    lambd : float, optional
        Non-negative.

    Returns
    -------
    Tensor
    """
    _check_lambda(lambd)
    require_float("softshrink", input)
    return _ew.softshrink(input, lambd)


def rrelu(input, lower=1.0 / 8, upper=1.0 / 3, training=False, inplace=False):
    """Randomised leaky ReLU: negative inputs scaled by a slope drawn from ``U(lower, upper)``
    per element when ``training``, else by ``(lower + upper) / 2``.

    Parameters
    ----------
    input : Tensor
    lower, upper : float, optional
        Range of the slope.
    training : bool, optional
    inplace : bool, optional

    Returns
    -------
    Tensor
    """
    return _rrelu(input, lower, upper, training, inplace)


def _rrelu(input, lower, upper, training, inplace, generator=None):
    """:func:`rrelu`, drawing the slopes from ``generator`` (for ``torch.rrelu``)."""
    if lower > upper:
        raise RuntimeError("Lower bound should be less than or equal to the upper bound")
    if training:
        slope = ember.empty(tuple(input.shape), dtype=input.dtype, device=input.device).uniform_(
            lower, upper, generator=generator)
    else:
        slope = (lower + upper) / 2
    return _inplace_result(input, lambda x: ember.where(x > 0, x, x * slope), inplace)


def _inplace_variant(function, name):
    def variant(input, *args, **kwargs):
        return function(input, *args, inplace=True, **kwargs)

    variant.__name__ = variant.__qualname__ = name
    variant.__doc__ = f"In-place version of :func:`ember.nn.functional.{function.__name__}`."
    return variant


relu_ = _inplace_variant(relu, "relu_")
elu_ = _inplace_variant(elu, "elu_")
selu_ = _inplace_variant(selu, "selu_")
celu_ = _inplace_variant(celu, "celu_")
leaky_relu_ = _inplace_variant(leaky_relu, "leaky_relu_")
hardtanh_ = _inplace_variant(hardtanh, "hardtanh_")
threshold_ = _inplace_variant(threshold, "threshold_")
rrelu_ = _inplace_variant(rrelu, "rrelu_")
