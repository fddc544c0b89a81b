"""``ember.ao.quantization``: the same module as ``ember.quantization``, under the
name PyTorch uses (``torch.ao.quantization``)."""
import sys

from ember import quantization

sys.modules[__name__ + ".quantization"] = quantization

__all__ = ["quantization"]
