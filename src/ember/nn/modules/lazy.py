"""``LazyModuleMixin``: modules whose parameter shapes are inferred at the first forward."""
import itertools

from ember.autograd.grad_mode import no_grad
from ember.nn.parameter import is_lazy

__all__ = ["LazyModuleMixin"]


def _lazy_load_pre_hook(module, *args):
    module._lazy_load_hook(*args)


class LazyModuleMixin:
    """A mixin for modules that infer the shapes of their parameters from their first
    input, as ``torch.nn.modules.lazy.LazyModuleMixin``.

    A lazy module declares its parameters as :class:`~ember.nn.UninitializedParameter`
    (buffers as :class:`~ember.nn.UninitializedBuffer`).  A forward pre-hook calls
    :meth:`initialize_parameters` with the first input, which materialises them and
    initialises them with the ordinary module's ``reset_parameters``; the hooks are then
    removed and the module becomes :attr:`cls_to_become` (``LazyLinear`` becomes
    ``Linear``).  Loading a state dict into a lazy module materialises its parameters
    with the shapes of the loaded tensors.

    Subclasses put the mixin first in their bases and define
    :meth:`initialize_parameters`.

    Examples
    --------
    >>> import ember
    >>> from ember import nn
    >>> m = nn.LazyLinear(4)
    >>> m
    LazyLinear(in_features=0, out_features=4, bias=True)
    >>> m.has_uninitialized_params()
    True
    >>> m(ember.ones(2, 3)).shape
    ember.Size([2, 4])
    >>> m
    Linear(in_features=3, out_features=4, bias=True)
    """

    cls_to_become = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._load_hook = self.register_load_state_dict_pre_hook(_lazy_load_pre_hook)
        self._initialize_hook = self.register_forward_pre_hook(self._infer_parameters,
                                                               with_kwargs=True)

    def _save_to_state_dict(self, destination, prefix, keep_vars):
        # uninitialized entries are saved themselves: they have no data to detach
        for name, param in self._parameters.items():
            if param is not None:
                destination[prefix + name] = (param if is_lazy(param) or keep_vars
                                              else param.detach())
        for name, buf in self._buffers.items():
            if buf is not None and name not in self._non_persistent_buffers_set:
                destination[prefix + name] = (buf if is_lazy(buf) or keep_vars
                                              else buf.detach())

    def _lazy_load_hook(self, state_dict, prefix, local_metadata, strict, missing_keys,
                        unexpected_keys, error_msgs):
        """Materialise the uninitialized entries that ``state_dict`` holds initialized
        tensors for, with those tensors' shapes (the load then copies the values)."""
        for name, param in itertools.chain(self._parameters.items(), self._buffers.items()):
            key = prefix + name
            if key in state_dict and param is not None and is_lazy(param):
                input_param = state_dict[key]
                if not is_lazy(input_param):
                    with no_grad():
                        param.materialize(input_param.shape)

    def initialize_parameters(self, *args, **kwargs):
        """Materialise and initialise the parameters from the forward's arguments."""
        raise NotImplementedError(
            f"initialize_parameters is not implemented for {self.__class__.__name__}")

    def has_uninitialized_params(self):
        """Whether any of the module's own parameters or buffers is uninitialized."""
        return any(is_lazy(t) for t in itertools.chain(self._parameters.values(),
                                                       self._buffers.values()))

    def _infer_parameters(self, module, args, kwargs=None):
        """The forward pre-hook: initialise from the first input, then become
        :attr:`cls_to_become`."""
        module.initialize_parameters(*args, **(kwargs or {}))
        if module.has_uninitialized_params():
            raise RuntimeError(f"module {self._get_name()} has not been fully initialized")
        module._initialize_hook.remove()
        module._load_hook.remove()
        delattr(module, "_initialize_hook")
        delattr(module, "_load_hook")
        if module.cls_to_become is not None:
            module.__class__ = module.cls_to_become

