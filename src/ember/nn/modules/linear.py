"""Affine layers: ``Identity``, ``Linear``, ``Bilinear``."""
import math

import ember
from ember.nn import init
from ember.nn.parameter import Parameter, UninitializedParameter
from ember.nn.modules.lazy import LazyModuleMixin
from ember.nn.modules.module import Module

__all__ = ["Identity", "Linear", "NonDynamicallyQuantizableLinear", "Bilinear", "LazyLinear"]


class Identity(Module):
    """Returns its input unchanged; any constructor arguments are ignored.

    Examples
    --------
    >>> import ember
    >>> from ember import nn
    >>> x = ember.ones(2)
    >>> nn.Identity(54, unused="argument")(x) is x
    True
    """

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, input):
        """Return ``input``."""
        return input


class Linear(Module):
    """Affine map of the last dimension: ``y = x @ weight.T + bias``.

    Parameters
    ----------
    in_features : int
        Size of each input's last dimension.
    out_features : int
        Size of each output's last dimension.
    bias : bool, default True
        Whether to learn an additive bias.
    device, dtype : optional
        Where and of what dtype the parameters are created.

    Attributes
    ----------
    weight : Parameter
        Shape ``(out_features, in_features)``, initialised from
        ``U(-1/sqrt(in_features), 1/sqrt(in_features))`` (kaiming uniform with
        ``a=sqrt(5)``).
    bias : Parameter or None
        Shape ``(out_features,)``, initialised from the same distribution.

    Examples
    --------
    >>> import ember
    >>> from ember import nn
    >>> m = nn.Linear(20, 30)
    >>> m(ember.randn(128, 20)).shape
    ember.Size([128, 30])
    """

    def __init__(self, in_features, out_features, bias=True, device=None, dtype=None):
        super().__init__()
        self.in_features = in_features
        self.out_features = out_features
        self.weight = Parameter(ember.empty((out_features, in_features), device=device,
                                            dtype=dtype))
        if bias:
            self.bias = Parameter(ember.empty(out_features, device=device, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        """Re-initialise the weight and bias as the constructor does."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init._calculate_fan_in_and_fan_out(self.weight)
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input):
        """Apply the affine map to the last dimension of ``input``."""
        if input.dim() == 0:
            raise RuntimeError("both arguments to linear need to be at least 1D, but they are "
                               "0D and 2D")
        if input.shape[-1] != self.in_features:
            shape = tuple(input.shape)
            raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied "
                               f"({math.prod(shape[:-1])}x{shape[-1]} and {self.in_features}x"
                               f"{self.out_features})")
        if self.bias is None:
            return ember.matmul(input, self.weight.t())
        # as PyTorch: one fused addmm on the input viewed as a matrix
        if input.dim() == 2:
            return ember.addmm(self.bias, input, self.weight.t())
        output = ember.addmm(self.bias, input.reshape(-1, self.in_features), self.weight.t())
        return output.view(tuple(input.shape[:-1]) + (self.out_features,))

    def extra_repr(self):
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


class NonDynamicallyQuantizableLinear(Linear):
    """A :class:`Linear` layer; the class name is PyTorch's for the output projection of
    :class:`~ember.nn.MultiheadAttention` (so that reprs and checkpoints match).

    Examples
    --------
    >>> from ember import nn
    >>> nn.MultiheadAttention(8, 2).out_proj
    NonDynamicallyQuantizableLinear(in_features=8, out_features=8, bias=True)
    """


class Bilinear(Module):
    """Bilinear map ``y_k = x1^T A_k x2 + b_k`` of the last dimensions of two inputs.

    Parameters
    ----------
    in1_features, in2_features : int
        Sizes of the last dimensions of the two inputs.
    out_features : int
        Size of the output's last dimension.
    bias : bool, default True
        Whether to learn an additive bias.
    device, dtype : optional
        Where and of what dtype the parameters are created.

    Attributes
    ----------
    weight : Parameter
        Shape ``(out_features, in1_features, in2_features)``, initialised from
        ``U(-1/sqrt(in1_features), 1/sqrt(in1_features))``.
    bias : Parameter or None
        Shape ``(out_features,)``, same distribution.

    Examples
    --------
    >>> import ember
    >>> from ember import nn
    >>> m = nn.Bilinear(20, 30, 40)
    >>> m(ember.randn(128, 20), ember.randn(128, 30)).shape
    ember.Size([128, 40])
    """

    def __init__(self, in1_features, in2_features, out_features, bias=True, device=None,
                 dtype=None):
        super().__init__()
        self.in1_features = in1_features
        self.in2_features = in2_features
        self.out_features = out_features
        self.weight = Parameter(ember.empty((out_features, in1_features, in2_features),
                                            device=device, dtype=dtype))
        if bias:
            self.bias = Parameter(ember.empty(out_features, device=device, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        """Re-initialise the weight and bias as the constructor does."""
        bound = 1 / math.sqrt(self.weight.size(1))
        init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input1, input2):
        """Apply the bilinear map to the last dimensions of ``input1`` and ``input2``."""
        if input1.shape[-1] != self.in1_features:
            raise RuntimeError(f"bilinear(): input1 size does not match weight size: got "
                               f"{input1.shape[-1]} but expected {self.in1_features}")
        if input2.shape[-1] != self.in2_features:
            raise RuntimeError(f"bilinear(): input2 size does not match weight size: got "
                               f"{input2.shape[-1]} but expected {self.in2_features}")
        if tuple(input1.shape[:-1]) != tuple(input2.shape[:-1]):
            raise RuntimeError("bilinear(): input batch dimensions do not match: got "
                               f"{tuple(input1.shape[:-1])} and {tuple(input2.shape[:-1])}")
        out, in1, in2 = self.weight.shape
        # x1 @ W viewed as (in1, out * in2), then contract in2 with x2
        mixed = ember.matmul(input1, self.weight.permute(1, 0, 2).reshape(in1, out * in2))
        mixed = mixed.reshape(*input1.shape[:-1], out, in2)
        output = (mixed * input2.unsqueeze(-2)).sum(-1)
        if self.bias is not None:
            output = output + self.bias
        return output

    def extra_repr(self):
        return (f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
                f"out_features={self.out_features}, bias={self.bias is not None}")


class LazyLinear(LazyModuleMixin, Linear):
    """:class:`Linear` with ``in_features`` inferred from ``input.shape[-1]`` at the first
    forward; the module then becomes a ``Linear`` (see
    :class:`~ember.nn.modules.lazy.LazyModuleMixin`).

    Parameters
    ----------
    out_features : int
        Size of each output sample.
    bias : bool, default True
        Learn an additive bias.
    device, dtype : optional
        Where and of what dtype the parameters are created.

    Attributes
    ----------
    weight, bias : UninitializedParameter
        Until the first forward; then initialised as ``Linear``'s.

    Examples
    --------
    >>> import ember
    >>> from ember import nn
    >>> m = nn.LazyLinear(4)
    >>> m(ember.ones(2, 3)).shape, type(m).__name__, m.in_features
    (ember.Size([2, 4]), 'Linear', 3)
    """

    cls_to_become = Linear

    def __init__(self, out_features, bias=True, device=None, dtype=None):
        super().__init__(0, 0, False)
        self.weight = UninitializedParameter(device=device, dtype=dtype)
        self.out_features = out_features
        if bias:
            self.bias = UninitializedParameter(device=device, dtype=dtype)

    def reset_parameters(self):
        """Initialise as ``Linear`` does, once the parameters are materialised."""
        if not self.has_uninitialized_params() and self.in_features != 0:
            super().reset_parameters()

    def initialize_parameters(self, input):
        """Infer ``in_features`` from ``input`` and materialise and initialise the
        parameters."""
        if self.has_uninitialized_params():
            with ember.no_grad():
                self.in_features = input.shape[-1]
                self.weight.materialize((self.out_features, self.in_features))
                if self.bias is not None:
                    self.bias.materialize((self.out_features,))
                self.reset_parameters()
        if self.in_features == 0:
            # materialised by load_state_dict: take in_features from the loaded weight
            if input.shape[-1] != self.weight.shape[-1]:
                raise AssertionError(f"The in_features inferred from input: {input.shape[-1]} "
                                     "is not equal to in_features from self.weight: "
                                     f"{self.weight.shape[-1]}")
            self.in_features = input.shape[-1]
