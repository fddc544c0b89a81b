"""``Variable``: the wrapper PyTorch merged into ``Tensor`` (0.4), still written by older
scripts (``Variable(x, requires_grad=True)``)."""
import warnings

from ember._core._tensor import Tensor

__all__ = ["Variable"]


class _VariableMeta(type):
    def __instancecheck__(cls, instance):
        # every tensor is a Variable, as in PyTorch
        return isinstance(instance, Tensor)


class Variable(metaclass=_VariableMeta):
    """A tensor: ``Variable(data)`` is a new leaf sharing ``data``'s memory, with
    ``requires_grad`` as given, as PyTorch's legacy constructor; ``isinstance(t,
    Variable)`` holds for every tensor.

    Parameters
    ----------
    data : Tensor, optional
        Without it, an empty tensor.
    requires_grad : bool, default False
    volatile : bool, default False
        Removed in PyTorch: a ``UserWarning`` says to use :class:`ember.no_grad`.

    Returns
    -------
    Tensor

    Examples
    --------
    >>> import ember
    >>> from ember.autograd import Variable
    >>> x = Variable(ember.ones(2), requires_grad=True)
    >>> (x * 3).sum().backward()
    >>> x.grad, isinstance(x, Variable)
    (tensor([3., 3.]), True)
    """

    def __new__(cls, data=None, requires_grad=False, volatile=False):
        if volatile:
            warnings.warn("volatile was removed and now has no effect. Use `with "
                          "ember.no_grad():` instead.", UserWarning, stacklevel=2)
        if data is None:
            import ember
            data = ember.empty(0)
        if not isinstance(data, Tensor):
            raise TypeError(f"Variable data has to be a tensor, but got "
                            f"{type(data).__name__}")
        return data.detach().requires_grad_(bool(requires_grad))
