"""``ember.testing``: PyTorch's helpers for writing tests (``torch.testing``).

:func:`assert_close` compares tensors, numbers and containers of them with the
tolerances of their dtypes; :func:`make_tensor` draws random test inputs.

Examples
--------
>>> import ember
>>> from ember.testing import assert_close, make_tensor
>>> x = make_tensor(3, dtype=ember.float64, device="cpu")
>>> assert_close(x * 2, x + x)
"""
from ember.testing._comparison import assert_close
from ember.testing._creation import make_tensor

__all__ = ["assert_close", "make_tensor"]
