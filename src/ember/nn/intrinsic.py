"""Fused float modules (``ember.nn.intrinsic``): the module sequences that
``ember.quantization.fuse_modules`` merges so that static quantization computes them
as one quantized operation (the ReLU clamps the requantized output)."""
from ember import nn

__all__ = ["ConvReLU2d", "LinearReLU"]


class ConvReLU2d(nn.Sequential):
    """``Conv2d`` followed by ``ReLU``, as ``torch.ao.nn.intrinsic.ConvReLU2d``.

    Examples
    --------
    >>> from ember import nn
    >>> nn.intrinsic.ConvReLU2d(nn.Conv2d(1, 2, 3), nn.ReLU())[0]
    Conv2d(1, 2, kernel_size=(3, 3), stride=(1, 1))
    """

    def __init__(self, conv, relu):
        if not isinstance(conv, nn.Conv2d) or not isinstance(relu, nn.ReLU):
            raise TypeError(f"ConvReLU2d fuses a Conv2d and a ReLU, got "
                            f"{type(conv).__name__} and {type(relu).__name__}")
        super().__init__(conv, relu)


class LinearReLU(nn.Sequential):
    """``Linear`` followed by ``ReLU``, as ``torch.ao.nn.intrinsic.LinearReLU``.

    Examples
    --------
    >>> from ember import nn
    >>> nn.intrinsic.LinearReLU(nn.Linear(2, 3), nn.ReLU())[1]
    ReLU()
    """

    def __init__(self, linear, relu):
        if not isinstance(linear, nn.Linear) or not isinstance(relu, nn.ReLU):
            raise TypeError(f"LinearReLU fuses a Linear and a ReLU, got "
                            f"{type(linear).__name__} and {type(relu).__name__}")
        super().__init__(linear, relu)
