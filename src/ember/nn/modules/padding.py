"""Padding layers: constant (and zero), reflection, replication and circular padding
of the last 1, 2 or 3 dims, over :func:`ember.nn.functional.pad`."""
from ember.nn import functional as F
from ember.nn.modules.module import Module

__all__ = [
    "ConstantPad1d", "ConstantPad2d", "ConstantPad3d", "ZeroPad1d", "ZeroPad2d", "ZeroPad3d",
    "ReflectionPad1d", "ReflectionPad2d", "ReflectionPad3d", "ReplicationPad1d",
    "ReplicationPad2d", "ReplicationPad3d", "CircularPad1d", "CircularPad2d", "CircularPad3d",
]


def _expand_padding(padding, n_dims):
    """``padding`` as a tuple of ``2 * n_dims`` ints (an int pads every side)."""
    if isinstance(padding, int):
        return (padding,) * (2 * n_dims)
    padding = tuple(padding)
    if len(padding) != 2 * n_dims or not all(isinstance(p, int) for p in padding):
        raise ValueError(f"padding must be an int or a tuple of {2 * n_dims} ints, got "
                         f"{padding}")
    return padding


class _PadNd(Module):
    """Pads the last ``n_dims`` dims of a batched or unbatched input in ``mode``."""

    n_dims = 1
    mode = "constant"

    def __init__(self, padding):
        super().__init__()
        self.padding = _expand_padding(padding, self.n_dims)

    def _check_input_dim(self, input):
        if input.dim() not in (self.n_dims + 1, self.n_dims + 2):
            raise ValueError(f"expected {self.n_dims + 1}D or {self.n_dims + 2}D input (got "
                             f"{input.dim()}D input)")

    def forward(self, input):
        """Pad ``input``."""
        return F.pad(input, self.padding, self.mode)

    def extra_repr(self):
        return f"{self.padding}"


class _ConstantPadNd(_PadNd):
    def __init__(self, padding, value):
        super().__init__(padding)
        self.value = value

    def forward(self, input):
        """Pad ``input`` with ``value``."""
        return F.pad(input, self.padding, "constant", self.value)

    def extra_repr(self):
        return f"padding={self.padding}, value={self.value}"


_PADDING_DOC = """Pads the last {n} dim{s} of the input {how}.

    Parameters
    ----------
    padding : int or tuple of {two_n} int
        The padding of each side (an int: the same for all), last dim first:
        ``(left, right{more})``.{value}

    Examples
    --------
    >>> import ember
    >>> from ember import nn
    >>> nn.{name}({example_args})(ember.ones({example_in})).shape
    ember.Size([{example_out}])
"""


def _padding_class(name, base, n_dims, how, mode, value=False):
    more = {1: "", 2: ", top, bottom", 3: ", top, bottom, front, back"}[n_dims]
    args = "1, 0.5" if value else "1"
    doc = _PADDING_DOC.format(
        n=n_dims, s="" if n_dims == 1 else "s", how=how, two_n=2 * n_dims, more=more,
        value="\n    value : float\n        The fill value." if value else "", name=name,
        example_args=args, example_in=", ".join(["1", "1"] + ["3"] * n_dims),
        example_out=", ".join(["1", "1"] + ["5"] * n_dims))
    return type(name, (base,), {"__doc__": doc, "n_dims": n_dims, "mode": mode,
                                "__module__": __name__})


def _constant_init(self, padding, value):
    _ConstantPadNd.__init__(self, padding, value)


def _zero_init(self, padding):
    _ConstantPadNd.__init__(self, padding, 0.0)


def _zero_repr(self):
    return f"{self.padding}"


ConstantPad1d = _padding_class("ConstantPad1d", _ConstantPadNd, 1, "with a constant",
                               "constant", value=True)
ConstantPad2d = _padding_class("ConstantPad2d", _ConstantPadNd, 2, "with a constant",
                               "constant", value=True)
ConstantPad3d = _padding_class("ConstantPad3d", _ConstantPadNd, 3, "with a constant",
                               "constant", value=True)
ZeroPad1d = _padding_class("ZeroPad1d", ConstantPad1d, 1, "with zeros", "constant")
ZeroPad2d = _padding_class("ZeroPad2d", ConstantPad2d, 2, "with zeros", "constant")
ZeroPad3d = _padding_class("ZeroPad3d", ConstantPad3d, 3, "with zeros", "constant")
for _cls in (ZeroPad1d, ZeroPad2d, ZeroPad3d):
    _cls.__init__ = _zero_init
    _cls.extra_repr = _zero_repr
ReflectionPad1d = _padding_class("ReflectionPad1d", _PadNd, 1,
                                 "with its reflection at the boundary", "reflect")
ReflectionPad2d = _padding_class("ReflectionPad2d", _PadNd, 2,
                                 "with its reflection at the boundary", "reflect")
ReflectionPad3d = _padding_class("ReflectionPad3d", _PadNd, 3,
                                 "with its reflection at the boundary", "reflect")
ReplicationPad1d = _padding_class("ReplicationPad1d", _PadNd, 1,
                                  "by repeating its boundary values", "replicate")
ReplicationPad2d = _padding_class("ReplicationPad2d", _PadNd, 2,
                                  "by repeating its boundary values", "replicate")
ReplicationPad3d = _padding_class("ReplicationPad3d", _PadNd, 3,
                                  "by repeating its boundary values", "replicate")


class _CircularPadNd(_PadNd):
    mode = "circular"

    def forward(self, input):
        """Pad ``input`` circularly (it wraps around)."""
        self._check_input_dim(input)
        return F.pad(input, self.padding, "circular")


CircularPad1d = _padding_class("CircularPad1d", _CircularPadNd, 1,
                               "circularly (values wrap around)", "circular")
CircularPad2d = _padding_class("CircularPad2d", _CircularPadNd, 2,
                               "circularly (values wrap around)", "circular")
CircularPad3d = _padding_class("CircularPad3d", _CircularPadNd, 3,
                               "circularly (values wrap around)", "circular")
