"""The quantization workflows: ``quantize_dynamic``; ``fuse_modules``, ``prepare``
(observers on outputs), calibration by running data, and ``convert`` (quantized
modules), as ``torch.ao.quantization``."""
import copy

import ember
from ember import nn
from ember.nn import intrinsic
from ember.nn import quantized as nnq
from ember.quantization._qtensor import qint8
from ember.quantization.qconfig import default_dynamic_qconfig, float16_dynamic_qconfig

__all__ = ["quantize_dynamic", "fuse_modules", "prepare", "convert", "QuantStub",
           "DeQuantStub"]


class QuantStub(nn.Module):
    """Marks where float values enter the quantized part of a model: an identity
    that ``prepare`` observes and ``convert`` turns into ``nn.quantized.Quantize``.

    Examples
    --------
    >>> import ember
    >>> from ember.quantization import QuantStub
    >>> QuantStub()(ember.ones(2))
    tensor([1., 1.])
    """

    def __init__(self, qconfig=None):
        super().__init__()
        if qconfig is not None:
            self.qconfig = qconfig

    def forward(self, x):
        return x


class DeQuantStub(nn.Module):
    """Marks where values leave the quantized part of a model: an identity that
    ``convert`` turns into ``nn.quantized.DeQuantize``.

    Examples
    --------
    >>> import ember
    >>> from ember.quantization import DeQuantStub
    >>> DeQuantStub()(ember.ones(1))
    tensor([1.])
    """

    def __init__(self, qconfig=None):
        super().__init__()
        if qconfig is not None:
            self.qconfig = qconfig

    def forward(self, x):
        return x


# float module type -> its dynamically quantized type
_DYNAMIC = {nn.Linear: nnq.dynamic.Linear, nn.LSTM: nnq.dynamic.LSTM}
# float module type -> its statically quantized type (modules whose outputs are observed)
_STATIC = {
    QuantStub: nnq.Quantize, nn.Linear: nnq.Linear, intrinsic.LinearReLU: nnq.LinearReLU,
    nn.Conv2d: nnq.Conv2d, intrinsic.ConvReLU2d: nnq.ConvReLU2d,
}
# modules that work on quantized tensors as they are, or have a quantized twin
# without parameters of their own
_PASS_THROUGH = {DeQuantStub: nnq.DeQuantize, nn.ReLU: nnq.ReLU, nn.MaxPool2d: nnq.MaxPool2d,
                 nn.Dropout: nn.Identity, nn.Flatten: None, nn.Identity: None}


def _replace_children(module, swap):
    """Replace each descendant ``m`` by ``swap(m)`` where that is not None (not
    descending into replaced modules)."""
    for name, child in list(module.named_children()):
        new = swap(child)
        if new is None:
            _replace_children(child, swap)
        else:
            setattr(module, name, new)


def quantize_dynamic(model, qconfig_spec=None, dtype=qint8, mapping=None, inplace=False):
    """Replace the ``nn.Linear`` and ``nn.LSTM`` modules of ``model`` by dynamically
    quantized ones (int8 weights, one scale per tensor and symmetric; activations
    quantized per call), as ``torch.ao.quantization.quantize_dynamic``.

    Parameters
    ----------
    model : nn.Module
        The float model: its submodules of the listed types are replaced (the root is
        kept even if it is of such a type, as in PyTorch); others are left as they are.
    qconfig_spec : set of types, or dict, optional
        The module types to quantize (default: ``{nn.Linear, nn.LSTM}``), or a dict
        mapping types or submodule names to QConfigs (their ``weight`` observer is used).
    dtype : QuantizedDtype or dtype
        ``ember.qint8``, or ``ember.float16`` (weights rounded to float16, float32
        products) when ``qconfig_spec`` is a set.
    mapping : dict, optional
        Float type -> quantized type (default: the ``nn.quantized.dynamic`` modules).
    inplace : bool
        Change ``model`` itself instead of a deep copy.

    Returns
    -------
    nn.Module

    Examples
    --------
    >>> import ember
    >>> from ember import nn
    >>> _ = ember.manual_seed(0)
    >>> model = nn.Sequential(nn.Linear(8, 4), nn.ReLU())
    >>> qmodel = ember.quantization.quantize_dynamic(model, {nn.Linear}, dtype=ember.qint8)
    >>> qmodel[0]
    DynamicQuantizedLinear(in_features=8, out_features=4, dtype=ember.qint8, qscheme=ember.per_tensor_affine)
    >>> float((qmodel(ember.ones(1, 8)) - model(ember.ones(1, 8))).abs().max()) < 0.05
    True
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"quantize_dynamic() takes an nn.Module, got {type(model).__name__}")
    if dtype is not qint8 and dtype is not ember.float16:
        raise ValueError(f"Don't know how to quantize with default settings for {dtype!r}: "
                         "dynamic quantization supports ember.qint8 and ember.float16")
    mapping = dict(_DYNAMIC if mapping is None else mapping)
    if qconfig_spec is None:
        qconfig_spec = {nn.Linear, nn.LSTM}
    if isinstance(qconfig_spec, dict):
        spec = dict(qconfig_spec)
    else:
        qconfig = default_dynamic_qconfig if dtype is qint8 else float16_dynamic_qconfig
        spec = {key: qconfig for key in qconfig_spec}
    if not inplace:
        model = copy.deepcopy(model)
    names = {id(m): name for name, m in model.named_modules()}

    def swap(child):
        qconfig = spec.get(names.get(id(child)), spec.get(type(child)))
        qtype = mapping.get(type(child))
        if qconfig is None or qtype is None:
            return None
        child.qconfig = qconfig
        return qtype.from_float(child)

    _replace_children(model, swap)    # the root itself is kept, as PyTorch keeps it
    return model


def fuse_modules(model, modules_to_fuse, inplace=False):
    """Fuse ``[conv, relu]`` and ``[linear, relu]`` submodule pairs, named by their
    paths, into ``nn.intrinsic`` modules (the second becomes ``nn.Identity``), as
    ``torch.ao.quantization.fuse_modules``.

    Examples
    --------
    >>> from ember import nn
    >>> from ember.quantization import fuse_modules
    >>> model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU())
    >>> fused = fuse_modules(model, [["0", "1"]])
    >>> type(fused[0]).__name__, type(fused[1]).__name__
    ('ConvReLU2d', 'Identity')
    """
    if not inplace:
        model = copy.deepcopy(model)
    groups = modules_to_fuse
    if groups and isinstance(groups[0], str):
        groups = [groups]
    fusers = {(nn.Conv2d, nn.ReLU): intrinsic.ConvReLU2d,
              (nn.Linear, nn.ReLU): intrinsic.LinearReLU}
    for group in groups:
        mods = [model.get_submodule(name) for name in group]
        fuser = fusers.get(tuple(type(m) for m in mods))
        if fuser is None:
            raise RuntimeError(f"fuse_modules(): cannot fuse {list(group)} of types "
                               f"{[type(m).__name__ for m in mods]} (supported: Conv2d+ReLU, "
                               "Linear+ReLU)")
        for i, name in enumerate(group):
            parent_name, _, attr = name.rpartition(".")
            parent = model.get_submodule(parent_name) if parent_name else model
            setattr(parent, attr, fuser(*mods) if i == 0 else nn.Identity())
    return model


def _observe_output(module, args, output):
    return module.activation_post_process(output)


def prepare(model, inplace=False):
    """Attach an output observer (``qconfig.activation()``) to every module that static
    quantization replaces, where a ``qconfig`` is set on it or an ancestor (modules
    without one stay float); run data through the result to calibrate, then call
    :func:`convert`.

    Examples
    --------
    >>> import ember
    >>> from ember import nn
    >>> from ember.quantization import QuantStub, DeQuantStub, get_default_qconfig, prepare
    >>> model = nn.Sequential(QuantStub(), nn.Linear(4, 2), DeQuantStub())
    >>> model.qconfig = get_default_qconfig()
    >>> prepared = prepare(model)
    >>> type(prepared[1].activation_post_process).__name__
    'MinMaxObserver'
    """
    if not inplace:
        model = copy.deepcopy(model)

    def visit(module, qconfig):
        qconfig = getattr(module, "qconfig", qconfig)
        if qconfig is None:
            for child in module.children():
                visit(child, None)
            return
        module.qconfig = qconfig          # what convert reads: the module is in scope
        if type(module) in _STATIC:
            module.activation_post_process = qconfig.activation()
            module.register_forward_hook(_observe_output)
            return
        for child in module.children():
            visit(child, qconfig)

    visit(model, None)
    return model


def convert(model, inplace=False):
    """Replace observed modules by their statically quantized versions (weights
    quantized with ``qconfig.weight``, output scale and zero point from the
    calibration), as ``torch.ao.quantization.convert``.

    Examples
    --------
    >>> import ember
    >>> from ember import nn
    >>> from ember.quantization import QuantStub, DeQuantStub, get_default_qconfig
    >>> from ember.quantization import prepare, convert
    >>> _ = ember.manual_seed(0)
    >>> model = nn.Sequential(QuantStub(), nn.Linear(4, 2), DeQuantStub())
    >>> model.qconfig = get_default_qconfig()
    >>> prepared = prepare(model)
    >>> _ = prepared(ember.randn(16, 4))
    >>> quantized = convert(prepared)
    >>> type(quantized[1]).__name__
    'Linear'
    >>> quantized(ember.randn(3, 4)).shape
    ember.Size([3, 2])
    """
    if not inplace:
        model = copy.deepcopy(model)

    def swap(child):
        if hasattr(child, "activation_post_process") and type(child) in _STATIC:
            return _STATIC[type(child)].from_float(child)
        if type(child) in _PASS_THROUGH and getattr(child, "qconfig", None) is not None:
            qtype = _PASS_THROUGH[type(child)]
            return child if qtype is None else (
                qtype() if qtype is nn.Identity else qtype.from_float(child))
        return None

    _replace_children(model, swap)
    return model
