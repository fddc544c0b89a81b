"""Pruning of a module's tensors by masks (PyTorch's ``torch.nn.utils.prune``).

Pruning ``module.<name>`` moves the parameter to ``<name>_orig``, stores a 0/1 mask
as the buffer ``<name>_mask`` and registers a forward pre-hook (the pruning method
itself) that recomputes ``<name> = <name>_mask * <name>_orig`` before each forward.
Pruning the same tensor again combines the masks through a :class:`PruningContainer`;
:func:`remove` makes the pruning permanent.  Attribute names, state_dict keys, masks
and errors are PyTorch's.

Which of several equal scores is pruned first (ties in ``l1_unstructured``,
``ln_structured`` and ``global_unstructured``) follows ember's ``topk`` and can differ
from PyTorch's choice, which its ``topk`` leaves unspecified.
"""
import numbers
from abc import ABC, abstractmethod
from collections.abc import Iterable

import ember
from ember.nn.utils.convert_parameters import parameters_to_vector

__all__ = ["BasePruningMethod", "PruningContainer", "Identity", "RandomUnstructured",
           "L1Unstructured", "RandomStructured", "LnStructured", "CustomFromMask",
           "identity", "random_unstructured", "l1_unstructured", "random_structured",
           "ln_structured", "global_unstructured", "custom_from_mask", "remove", "is_pruned"]


class BasePruningMethod(ABC):
    """Base class of the pruning methods: a mask rule that is also the forward
    pre-hook recomputing the pruned tensor.

    Subclasses define ``PRUNING_TYPE`` (``"unstructured"``, ``"structured"`` or
    ``"global"``) and :meth:`compute_mask`.
    """

    _tensor_name = None

    def __call__(self, module, inputs):
        """The forward pre-hook: set ``module.<name>`` to the masked ``<name>_orig``."""
        setattr(module, self._tensor_name, self.apply_mask(module))

    @abstractmethod
    def compute_mask(self, t, default_mask):
        """The mask of ``t``, applied on top of ``default_mask`` (the mask so far).

        Parameters
        ----------
        t : Tensor
            The importance scores (the tensor itself unless others are given).
        default_mask : Tensor
            The mask from earlier pruning, of ``t``'s shape.

        Returns
        -------
        Tensor
            The new mask, of ``t``'s shape.
        """

    def apply_mask(self, module):
        """``<name>_mask * <name>_orig`` of ``module`` (the mask cast to the tensor's dtype)."""
        if self._tensor_name is None:
            raise AssertionError(f"Module {module} has to be pruned")
        mask = getattr(module, self._tensor_name + "_mask")
        orig = getattr(module, self._tensor_name + "_orig")
        return mask.to(dtype=orig.dtype) * orig

    @classmethod
    def apply(cls, module, name, *args, importance_scores=None, **kwargs):
        """Prune ``module.<name>`` with a new ``cls(*args, **kwargs)`` and return the hook.

        The first pruning of ``name`` reparametrizes it (``<name>_orig``, ``<name>_mask``
        and the hook); a later one combines its mask with the earlier ones in a
        :class:`PruningContainer`, which becomes the hook.

        Parameters
        ----------
        module : Module
            The module holding the tensor.
        name : str
            The parameter to prune.
        *args, **kwargs
            Arguments of the method's constructor.
        importance_scores : Tensor, optional
            Scores of ``module.<name>``'s shape that decide what is pruned (default:
            the tensor itself).
        """
        method = _composite_method(cls, module, name, *args, **kwargs)
        orig = getattr(module, name)
        if importance_scores is not None:
            if importance_scores.shape != orig.shape:
                raise AssertionError(
                    f"importance_scores should have the same shape as parameter {name} of "
                    f"{module}, got {importance_scores.shape} vs {orig.shape}")
        else:
            importance_scores = orig
        if not isinstance(method, PruningContainer):
            module.register_parameter(name + "_orig", orig)
            del module._parameters[name]
            default_mask = ember.ones_like(orig)
        else:
            default_mask = getattr(module, name + "_mask").detach().clone(
                memory_format=ember.contiguous_format)
        try:
            mask = method.compute_mask(importance_scores, default_mask=default_mask)
            module.register_buffer(name + "_mask", mask)
            setattr(module, name, method.apply_mask(module))
            module.register_forward_pre_hook(method)
        except Exception:
            # roll back the reparametrization of a first pruning
            if not isinstance(method, PruningContainer):
                orig = getattr(module, name + "_orig")
                module.register_parameter(name, orig)
                del module._parameters[name + "_orig"]
            raise
        return method

    def prune(self, t, default_mask=None, importance_scores=None):
        """``t`` times its mask (computed from ``importance_scores``, else from ``t``),
        without touching any module."""
        if importance_scores is not None:
            if importance_scores.shape != t.shape:
                raise AssertionError(
                    f"importance_scores should have the same shape as tensor t, got "
                    f"{importance_scores.shape} vs {t.shape}")
        else:
            importance_scores = t
        default_mask = default_mask if default_mask is not None else ember.ones_like(t)
        return t * self.compute_mask(importance_scores, default_mask=default_mask)

    def remove(self, module):
        """Make the pruning of ``module`` permanent: ``<name>`` becomes a parameter again,
        holding the pruned values, and ``<name>_orig`` and ``<name>_mask`` go."""
        if self._tensor_name is None:
            raise AssertionError(
                f"Module {module} has to be pruned before pruning can be removed")
        weight = self.apply_mask(module)
        if hasattr(module, self._tensor_name):
            delattr(module, self._tensor_name)
        orig = module._parameters[self._tensor_name + "_orig"]
        orig.data = weight.data
        del module._parameters[self._tensor_name + "_orig"]
        del module._buffers[self._tensor_name + "_mask"]
        setattr(module, self._tensor_name, orig)


def _composite_method(cls, module, name, *args, **kwargs):
    """The new method, or the container that joins it to the hook already pruning
    ``name`` (which is taken off the module: ``apply`` registers the result)."""
    old_method, keys = None, []
    for k, hook in module._forward_pre_hooks.items():
        if isinstance(hook, BasePruningMethod) and hook._tensor_name == name:
            old_method = hook
            keys.append(k)
    if len(keys) > 1:
        raise AssertionError(f"Avoid adding multiple pruning hooks to the same tensor {name} "
                             f"of module {module}. Use a PruningContainer.")
    for k in keys:
        del module._forward_pre_hooks[k]
    method = cls(*args, **kwargs)
    method._tensor_name = name
    if isinstance(old_method, PruningContainer):
        old_method.add_pruning_method(method)
        method = old_method
    elif old_method is not None:
        container = PruningContainer(old_method)
        container.add_pruning_method(method)
        method = container
    return method


class PruningContainer(BasePruningMethod):
    """The pruning methods applied in turn to one tensor (iterative pruning).

    Each new method computes its mask only on what the earlier ones left: the
    unpruned entries (unstructured), the channels not yet fully pruned
    (structured), or the whole tensor (global).

    Parameters
    ----------
    *args : BasePruningMethod
        The methods, oldest first; all must act on the same tensor name.
    """

    def __init__(self, *args):
        self._pruning_methods = ()
        if len(args) == 1:
            self._tensor_name = args[0]._tensor_name
            self.add_pruning_method(args[0])
        else:
            for method in args:
                self.add_pruning_method(method)

    def add_pruning_method(self, method):
        """Append ``method`` (a :class:`BasePruningMethod` on the container's tensor)."""
        if not isinstance(method, BasePruningMethod) and method is not None:
            raise TypeError(f"{type(method)} is not a BasePruningMethod subclass")
        if method is not None and self._tensor_name != method._tensor_name:
            raise ValueError(
                f"Can only add pruning methods acting on the parameter named "
                f"'{self._tensor_name}' to PruningContainer {self}. Found "
                f"'{method._tensor_name}'")
        self._pruning_methods += (method,)

    def __len__(self):
        return len(self._pruning_methods)

    def __iter__(self):
        return iter(self._pruning_methods)

    def __getitem__(self, idx):
        return self._pruning_methods[idx]

    def compute_mask(self, t, default_mask):
        """``default_mask`` with the newest method's mask written into the part of ``t``
        it may still prune (see the class notes)."""
        method = self._pruning_methods[-1]
        new_mask = default_mask.to(dtype=t.dtype)
        if method.PRUNING_TYPE == "unstructured":
            slc = default_mask == 1
        elif method.PRUNING_TYPE == "structured":
            if not hasattr(method, "dim"):
                raise AttributeError('Pruning methods of PRUNING_TYPE "structured" need to '
                                     'have the attribute `dim` defined.')
            n_dims = t.dim()
            dim = method.dim + n_dims if method.dim < 0 else method.dim
            if dim < 0:
                raise IndexError(f"Index is out of bounds for tensor with dimensions {n_dims}")
            keep_channel = default_mask.sum(dim=[d for d in range(n_dims) if d != dim]) != 0
            slc = [slice(None)] * n_dims
            slc[dim] = keep_channel
            slc = tuple(slc)
        elif method.PRUNING_TYPE == "global":
            slc = (slice(None),) * t.dim()
        else:
            raise ValueError(f"Unrecognized PRUNING_TYPE {method.PRUNING_TYPE}")
        partial_mask = method.compute_mask(t[slc], default_mask=default_mask[slc])
        new_mask[slc] = partial_mask.to(dtype=new_mask.dtype)
        return new_mask


class Identity(BasePruningMethod):
    """Prunes nothing: the mask stays all ones (reparametrizes without pruning)."""

    PRUNING_TYPE = "unstructured"

    def compute_mask(self, t, default_mask):
        return default_mask

    @classmethod
    def apply(cls, module, name):
        """Reparametrize ``module.<name>`` with an all-ones mask; returns the hook."""
        return super().apply(module, name)


class RandomUnstructured(BasePruningMethod):
    """Prunes entries chosen uniformly at random.

    Parameters
    ----------
    amount : int or float
        The number of entries to prune (int) or their fraction (float in [0, 1]).
    """

    PRUNING_TYPE = "unstructured"

    def __init__(self, amount):
        _validate_pruning_amount_init(amount)
        self.amount = amount

    def compute_mask(self, t, default_mask):
        return _mask_top_scores(t, default_mask, self.amount, ember.rand_like, largest=True)

    @classmethod
    def apply(cls, module, name, amount):
        """Prune ``amount`` random entries of ``module.<name>``; returns the hook."""
        return super().apply(module, name, amount=amount)


class L1Unstructured(BasePruningMethod):
    """Prunes the entries of smallest absolute value.

    Parameters
    ----------
    amount : int or float
        The number of entries to prune (int) or their fraction (float in [0, 1]).
    """

    PRUNING_TYPE = "unstructured"

    def __init__(self, amount):
        _validate_pruning_amount_init(amount)
        self.amount = amount

    def compute_mask(self, t, default_mask):
        return _mask_top_scores(t, default_mask, self.amount, ember.abs, largest=False)

    @classmethod
    def apply(cls, module, name, amount, importance_scores=None):
        """Prune the ``amount`` smallest entries of ``module.<name>`` (by
        ``importance_scores`` if given); returns the hook."""
        return super().apply(module, name, amount=amount, importance_scores=importance_scores)


class RandomStructured(BasePruningMethod):
    """Prunes whole channels along ``dim``, chosen at random.

    Parameters
    ----------
    amount : int or float
        The number of channels to prune (int) or their fraction (float in [0, 1]).
    dim : int, optional
        The dim whose slices are the channels (default: the last).
    """

    PRUNING_TYPE = "structured"

    def __init__(self, amount, dim=-1):
        _validate_pruning_amount_init(amount)
        self.amount = amount
        self.dim = dim

    def compute_mask(self, t, default_mask):
        _validate_structured_pruning(t)
        _validate_pruning_dim(t, self.dim)
        tensor_size = t.shape[self.dim]
        nparams_toprune = _compute_nparams_toprune(self.amount, tensor_size)
        _validate_pruning_amount(nparams_toprune, tensor_size)
        if nparams_toprune == 0:
            return default_mask
        prob = ember.rand(tensor_size, device=t.device)
        threshold = ember.kthvalue(prob, k=nparams_toprune).values
        mask = _channel_mask(t, self.dim, prob > threshold)
        mask *= default_mask.to(dtype=mask.dtype)
        return mask

    @classmethod
    def apply(cls, module, name, amount, dim=-1):
        """Prune ``amount`` random channels of ``module.<name>`` along ``dim``; returns
        the hook."""
        return super().apply(module, name, amount=amount, dim=dim)


class LnStructured(BasePruningMethod):
    """Prunes the channels along ``dim`` of smallest ``n``-norm.

    Parameters
    ----------
    amount : int or float
        The number of channels to prune (int) or their fraction (float in [0, 1]).
    n : int, float, inf, -inf or 'fro'
        The order of the norm (as ``p`` of :func:`ember.norm`).
    dim : int, optional
        The dim whose slices are the channels (default: the last).
    """

    PRUNING_TYPE = "structured"

    def __init__(self, amount, n, dim=-1):
        _validate_pruning_amount_init(amount)
        self.amount = amount
        self.n = n
        self.dim = dim

    def compute_mask(self, t, default_mask):
        _validate_structured_pruning(t)
        _validate_pruning_dim(t, self.dim)
        tensor_size = t.shape[self.dim]
        nparams_toprune = _compute_nparams_toprune(self.amount, tensor_size)
        nparams_tokeep = tensor_size - nparams_toprune
        _validate_pruning_amount(nparams_toprune, tensor_size)
        norm = _compute_norm(t, self.n, self.dim)
        topk = ember.topk(norm, k=nparams_tokeep, largest=True)
        if nparams_toprune == 0:
            return default_mask
        mask = _channel_mask(t, self.dim, topk.indices)
        mask *= default_mask.to(dtype=mask.dtype)
        return mask

    @classmethod
    def apply(cls, module, name, amount, n, dim, importance_scores=None):
        """Prune the ``amount`` channels of ``module.<name>`` along ``dim`` of smallest
        ``n``-norm (of ``importance_scores`` if given); returns the hook."""
        return super().apply(module, name, amount=amount, n=n, dim=dim,
                             importance_scores=importance_scores)


class CustomFromMask(BasePruningMethod):
    """Prunes where a given mask is zero.

    Parameters
    ----------
    mask : Tensor
        The mask, of the pruned tensor's shape.
    """

    PRUNING_TYPE = "global"

    def __init__(self, mask):
        self.mask = mask

    def compute_mask(self, t, default_mask):
        if default_mask.shape != self.mask.shape:
            raise AssertionError(f"default_mask shape {default_mask.shape} must match "
                                 f"self.mask shape {self.mask.shape}")
        return default_mask * self.mask.to(dtype=default_mask.dtype)

    @classmethod
    def apply(cls, module, name, mask):
        """Prune ``module.<name>`` where ``mask`` is zero; returns the hook."""
        return super().apply(module, name, mask=mask)


def identity(module, name):
    """Reparametrize ``module.<name>`` for pruning with an all-ones mask.

    Returns
    -------
    Module
        ``module``, with ``<name>_orig``, the buffer ``<name>_mask`` and the hook.

    Examples
    --------
    >>> import ember
    >>> from ember import nn
    >>> from ember.nn.utils import prune
    >>> m = prune.identity(nn.Linear(2, 3), "bias")
    >>> m.bias_mask
    tensor([1., 1., 1.])
    """
    Identity.apply(module, name)
    return module


def random_unstructured(module, name, amount):
    """Prune ``amount`` entries of ``module.<name>`` chosen at random.

    Parameters
    ----------
    module : Module
    name : str
        The parameter (or already pruned tensor) to prune.
    amount : int or float
        The number of entries (int) or their fraction (float in [0, 1]) to prune.

    Returns
    -------
    Module
        ``module``.

    Examples
    --------
    >>> import ember
    >>> from ember import nn
    >>> from ember.nn.utils import prune
    >>> m = prune.random_unstructured(nn.Linear(4, 5), "weight", amount=0.25)
    >>> int((m.weight_mask == 0).sum())
    5
    """
    RandomUnstructured.apply(module, name, amount)
    return module


def l1_unstructured(module, name, amount, importance_scores=None):
    """Prune the ``amount`` entries of ``module.<name>`` of smallest absolute value.

    Parameters
    ----------
    module : Module
    name : str
        The parameter (or already pruned tensor) to prune.
    amount : int or float
        The number of entries (int) or their fraction (float in [0, 1]) to prune.
    importance_scores : Tensor, optional
        Scores of the tensor's shape ranking the entries instead of the tensor.

    Returns
    -------
    Module
        ``module``.

    Examples
    --------
    >>> import ember
    >>> from ember import nn
    >>> from ember.nn.utils import prune
    >>> m = nn.Linear(3, 1)
    >>> with ember.no_grad():
    ...     _ = m.weight.copy_(ember.tensor([[0.5, -0.1, 2.0]]))
    >>> _ = prune.l1_unstructured(m, "weight", amount=1)
    >>> m.weight
    tensor([[0.5000, -0.0000, 2.0000]], grad_fn=<MulBackward0>)
    """
    L1Unstructured.apply(module, name, amount=amount, importance_scores=importance_scores)
    return module


def random_structured(module, name, amount, dim):
    """Prune ``amount`` channels of ``module.<name>`` along ``dim``, chosen at random.

    Parameters
    ----------
    module : Module
    name : str
        The parameter (or already pruned tensor) to prune.
    amount : int or float
        The number of channels (int) or their fraction (float in [0, 1]) to prune.
    dim : int
        The dim whose slices are the channels.

    Returns
    -------
    Module
        ``module``.

    Examples
    --------
    >>> import ember
    >>> from ember import nn
    >>> from ember.nn.utils import prune
    >>> m = prune.random_structured(nn.Linear(4, 6), "weight", amount=2, dim=0)
    >>> int((m.weight_mask.sum(dim=1) == 0).sum())
    2
    """
    RandomStructured.apply(module, name, amount, dim)
    return module


def ln_structured(module, name, amount, n, dim, importance_scores=None):
    """Prune the ``amount`` channels of ``module.<name>`` along ``dim`` of smallest
    ``n``-norm.

    Parameters
    ----------
    module : Module
    name : str
        The parameter (or already pruned tensor) to prune.
    amount : int or float
        The number of channels (int) or their fraction (float in [0, 1]) to prune.
    n : int, float, inf, -inf or 'fro'
        The order of the norm.
    dim : int
        The dim whose slices are the channels.
    importance_scores : Tensor, optional
        Scores of the tensor's shape whose norms rank the channels instead.

    Returns
    -------
    Module
        ``module``.

    Examples
    --------
    >>> import ember
    >>> from ember import nn
    >>> from ember.nn.utils import prune
    >>> m = nn.Linear(2, 3)
    >>> with ember.no_grad():
    ...     _ = m.weight.copy_(ember.tensor([[1.0, 1.0], [0.1, 0.2], [3.0, 0.0]]))
    >>> _ = prune.ln_structured(m, "weight", amount=1, n=2, dim=0)
    >>> m.weight_mask
    tensor([[1., 1.],
            [0., 0.],
            [1., 1.]])
    """
    LnStructured.apply(module, name, amount, n, dim, importance_scores=importance_scores)
    return module


def global_unstructured(parameters, pruning_method, importance_scores=None, **kwargs):
    """Prune several tensors together: the entries are ranked across all of them.

    Parameters
    ----------
    parameters : iterable of (Module, str)
        The tensors to prune (a generator will do: it is read once).
    pruning_method : type
        An unstructured :class:`BasePruningMethod` subclass (e.g. :class:`L1Unstructured`).
    importance_scores : dict, optional
        ``{(module, name): scores}`` replacing the tensors' own values in the ranking.
    **kwargs
        Arguments of ``pruning_method`` (``amount`` counts over all the tensors).

    Examples
    --------
    >>> import ember
    >>> from ember import nn
    >>> from ember.nn.utils import prune
    >>> net = nn.Sequential(nn.Linear(4, 4), nn.Linear(4, 2))
    >>> params = [(net[0], "weight"), (net[1], "weight")]
    >>> prune.global_unstructured(params, prune.L1Unstructured, amount=12)
    >>> int((net[0].weight == 0).sum() + (net[1].weight == 0).sum())
    12
    """
    if not isinstance(parameters, Iterable):
        raise TypeError("global_unstructured(): parameters is not an Iterable")
    importance_scores = importance_scores if importance_scores is not None else {}
    if not isinstance(importance_scores, dict):
        raise TypeError("global_unstructured(): importance_scores must be of type dict")
    parameters = list(parameters)
    relevant_importance_scores = parameters_to_vector(
        [importance_scores.get((module, name), getattr(module, name))
         for module, name in parameters])
    default_mask = parameters_to_vector(
        [getattr(module, name + "_mask", ember.ones_like(getattr(module, name)))
         for module, name in parameters])
    container = PruningContainer()
    container._tensor_name = "temp"
    method = pruning_method(**kwargs)
    method._tensor_name = "temp"
    if method.PRUNING_TYPE != "unstructured":
        raise TypeError(f'Only "unstructured" PRUNING_TYPE supported for the '
                        f'`pruning_method`. Found method {pruning_method} of type '
                        f'{method.PRUNING_TYPE}')
    container.add_pruning_method(method)
    final_mask = container.compute_mask(relevant_importance_scores, default_mask)
    pointer = 0
    for module, name in parameters:
        param = getattr(module, name)
        num_param = param.numel()
        custom_from_mask(module, name, mask=final_mask[pointer:pointer + num_param].view_as(param))
        pointer += num_param


def custom_from_mask(module, name, mask):
    """Prune ``module.<name>`` where ``mask`` is zero.

    Parameters
    ----------
    module : Module
    name : str
        The parameter (or already pruned tensor) to prune.
    mask : Tensor
        Of the tensor's shape.

    Returns
    -------
    Module
        ``module``.

    Examples
    --------
    >>> import ember
    >>> from ember import nn
    >>> from ember.nn.utils import prune
    >>> m = prune.custom_from_mask(nn.Linear(5, 3), "bias", mask=ember.tensor([0, 1, 0]))
    >>> m.bias_mask
    tensor([0., 1., 0.])
    """
    CustomFromMask.apply(module, name, mask)
    return module


def remove(module, name):
    """Make the pruning of ``module.<name>`` permanent: ``<name>`` becomes a plain
    parameter holding the pruned values; ``<name>_orig``, ``<name>_mask`` and the hook go.

    Examples
    --------
    >>> import ember
    >>> from ember import nn
    >>> from ember.nn.utils import prune
    >>> m = prune.random_unstructured(nn.Linear(5, 3), "weight", amount=0.2)
    >>> m = prune.remove(m, "weight")
    >>> sorted(m.state_dict())
    ['bias', 'weight']
    """
    for k, hook in module._forward_pre_hooks.items():
        if isinstance(hook, BasePruningMethod) and hook._tensor_name == name:
            hook.remove(module)
            del module._forward_pre_hooks[k]
            return module
    raise ValueError(f"Parameter '{name}' of module {module} has to be pruned before pruning "
                     f"can be removed")


def is_pruned(module):
    """Whether ``module`` or one of its submodules has a pruning hook.

    Examples
    --------
    >>> from ember import nn
    >>> from ember.nn.utils import prune
    >>> net = nn.Sequential(nn.Linear(2, 2), nn.ReLU())
    >>> prune.is_pruned(net)
    False
    >>> _ = prune.identity(net[0], "weight")
    >>> prune.is_pruned(net)
    True
    """
    for _, submodule in module.named_modules():
        for hook in submodule._forward_pre_hooks.values():
            if isinstance(hook, BasePruningMethod):
                return True
    return False


def _mask_top_scores(t, default_mask, amount, score, largest):
    """``default_mask`` with the ``amount`` entries of ``t`` of largest (or smallest)
    ``score(t)`` zeroed: the unstructured methods."""
    tensor_size = t.nelement()
    nparams_toprune = _compute_nparams_toprune(amount, tensor_size)
    _validate_pruning_amount(nparams_toprune, tensor_size)
    mask = default_mask.clone(memory_format=ember.contiguous_format)
    if nparams_toprune != 0:
        topk = ember.topk(score(t).view(-1), k=nparams_toprune, largest=largest)
        mask.view(-1)[topk.indices] = 0
    return mask


def _channel_mask(t, dim, channels):
    """Zeros of ``t``'s shape with ones on ``channels`` (indices or booleans) along ``dim``."""
    mask = ember.zeros_like(t)
    slc = [slice(None)] * t.dim()
    slc[dim] = channels
    mask[tuple(slc)] = 1
    return mask


def _validate_pruning_amount_init(amount):
    """``amount`` is a non-negative int or a float in [0, 1]."""
    if not isinstance(amount, numbers.Real):
        raise TypeError(f"Invalid type for amount: {amount}. Must be int or float.")
    if (isinstance(amount, numbers.Integral) and amount < 0) or (
            not isinstance(amount, numbers.Integral)
            and (float(amount) > 1.0 or float(amount) < 0.0)):
        raise ValueError(f"amount={amount} should either be a float in the range [0, 1] or a "
                         f"non-negative integer")


def _validate_pruning_amount(amount, tensor_size):
    """An int ``amount`` is at most the number of units there are to prune."""
    if isinstance(amount, numbers.Integral) and amount > tensor_size:
        raise ValueError(f"amount={amount} should be smaller than the number of parameters to "
                         f"prune={tensor_size}")


def _validate_structured_pruning(t):
    """Channels need a tensor of two or more dims."""
    shape = t.shape
    if len(shape) <= 1:
        raise ValueError(f"Structured pruning can only be applied to multidimensional tensors. "
                         f"Found tensor of shape {shape} with {len(shape)} dims")


def _compute_nparams_toprune(amount, tensor_size):
    """An int ``amount`` as it is; a fraction rounded to units (half to even, as round())."""
    if isinstance(amount, numbers.Integral):
        return amount
    return round(amount * tensor_size)


def _validate_pruning_dim(t, dim):
    if dim >= t.dim():
        raise IndexError(f"Invalid index {dim} for tensor of size {t.shape}")


def _compute_norm(t, n, dim):
    """The ``n``-norm of each slice of ``t`` along ``dim``."""
    dims = list(range(t.dim()))
    if dim < 0:
        dim = dims[dim]
    dims.remove(dim)
    return ember.norm(t, p=n, dim=dims)
