"""ONNX interchange: :func:`export` writes an ember model as an ONNX file (traced with
:mod:`ember.jit`), :func:`load` reads one back as a runnable ember module.

``onnx`` (and, to run exported models, ``onnxruntime``) are optional dependencies:
``pip install ember[onnx]``.
"""
try:
    import onnx  # noqa: F401
except ImportError as error:        # pragma: no cover -- the optional extra is missing
    raise ImportError("ember.onnx needs the 'onnx' package: pip install ember[onnx]") from error

from ember.onnx._builder import UnsupportedOperatorError
from ember.onnx._export import export
from ember.onnx._import import OnnxModule, load

__all__ = ["export", "load", "OnnxModule", "UnsupportedOperatorError"]
