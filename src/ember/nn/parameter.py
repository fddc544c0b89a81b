"""``Parameter``: a tensor that a :class:`~ember.nn.Module` registers as one of its weights."""
import copy

from ember._core._tensor import Tensor, empty

__all__ = ["Parameter", "Buffer"]


class Parameter(Tensor):
    """A tensor that is a module parameter.

    Assigning a ``Parameter`` as an attribute of a :class:`~ember.nn.Module`
    registers it, so that it appears in :meth:`~ember.nn.Module.parameters`.
    The parameter shares the storage of ``data`` and is a leaf of the autograd
    graph.  Results of operations on parameters are plain tensors.

    Parameters
    ----------
    data : Tensor, optional
        The parameter's data (an empty float tensor when omitted).
    requires_grad : bool, default True
        Whether the parameter requires gradient.

    Examples
    --------
    >>> import ember
    >>> p = ember.nn.Parameter(ember.ones(2))
    >>> p
    Parameter containing:
    tensor([1., 1.], requires_grad=True)
    >>> type(p * 2).__name__
    'Tensor'
    """

    def __new__(cls, data=None, requires_grad=True):
        if data is None:
            data = empty(0)
        if not isinstance(data, Tensor):
            raise TypeError(f"Parameter(): data must be a Tensor, got {type(data).__name__}")
        param = Tensor.__new__(cls)
        param.data = data   # shares storage and layout, outside any graph
        param.requires_grad_(requires_grad)
        return param

    def __init__(self, data=None, requires_grad=True):
        pass

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()

    def __deepcopy__(self, memo):
        if id(self) in memo:
            return memo[id(self)]
        result = type(self)(self.data.clone(), self.requires_grad)
        memo[id(self)] = result
        if self.grad is not None:
            result.grad = self.grad.clone()
        result.__dict__.update(copy.deepcopy(self.__dict__, memo))
        return result

    def __reduce_ex__(self, protocol):
        return (_rebuild_parameter, (self.data, self.requires_grad))


def _rebuild_parameter(data, requires_grad):
    return Parameter(data, requires_grad)


class Buffer(Tensor):
    """A tensor that is module state but not a parameter (e.g. running statistics).

    Assigning a ``Buffer`` as an attribute of a :class:`~ember.nn.Module`
    registers it as a buffer, as :meth:`~ember.nn.Module.register_buffer` does.
    The buffer shares the storage of ``data``.

    Parameters
    ----------
    data : Tensor, optional
        The buffer's data (an empty float tensor when omitted).
    persistent : bool, default True
        Whether the buffer is part of the module's state dict.

    Examples
    --------
    >>> import ember
    >>> from ember import nn
    >>> m = nn.Module()
    >>> m.mean = nn.Buffer(ember.zeros(2))
    >>> list(m.state_dict())
    ['mean']
    """

    def __new__(cls, data=None, *, persistent=True):
        if data is None:
            data = empty(0)
        if not isinstance(data, Tensor):
            raise TypeError(f"Buffer(): data must be a Tensor, got {type(data).__name__}")
        buf = Tensor.__new__(cls)
        buf.data = data
        buf.requires_grad_(data.requires_grad)
        buf.persistent = persistent
        return buf

    def __init__(self, data=None, *, persistent=True):
        pass

    def __reduce_ex__(self, protocol):
        return (_rebuild_buffer, (self.data, self.requires_grad, self.persistent))


def _rebuild_buffer(data, requires_grad, persistent):
    return Buffer(data.requires_grad_(requires_grad), persistent=persistent)
