"""The matmul family: ``matmul`` (``@``), ``mm``, ``bmm``, ``mv``, ``dot``, ``vdot``,
``outer``, and the fused ``beta * input + alpha * product`` forms.

The products themselves live in the Cython module ``ember._core._blas`` (BLAS
through SciPy for floating and complex dtypes, a C kernel for integers); this
module is their public face: the ``ember.*`` functions and the Tensor methods.
"""
from ember._core._blas import (
    matmul, mm, bmm, mv, dot, vdot,
    addmm, addmm_, addmv, addmv_, baddbmm, baddbmm_, addbmm, addbmm_,
)
from ember._core._tensor import Tensor, _add_method, ew, op_id

__all__ = ["matmul", "mm", "bmm", "mv", "dot", "vdot", "outer", "ger",
           "addmm", "addmv", "baddbmm", "addbmm"]

_MUL = op_id("mul")


def outer(input, vec2, *, out=None):
    """Outer product of two vectors: ``out[i, j] = input[i] * vec2[j]``.

    Unlike the matrix products, the dtypes promote as in multiplication.

    Parameters
    ----------
    input : Tensor
        A vector of size ``n``.
    vec2 : Tensor
        A vector of size ``m``.
    out : Tensor, optional
        Tensor to write the ``(n, m)`` result into.

    Returns
    -------
    Tensor

    Examples
    --------
    >>> import ember
    >>> ember.outer(ember.tensor([1, 2]), ember.tensor([1, 10, 100]))
    tensor([[  1,  10, 100],
            [  2,  20, 200]])
    """
    for name, v, pos in (("input", input, 1), ("vec2", vec2, 2)):
        if not isinstance(v, Tensor):
            raise TypeError(f"outer(): argument '{name}' (position {pos}) must be Tensor, "
                            f"not {type(v).__name__}")
    if input.ndim != 1:
        raise RuntimeError(f"outer: Expected 1-D argument self, but got {input.ndim}-D")
    if vec2.ndim != 1:
        raise RuntimeError(f"outer: Expected 1-D argument vec2, but got {vec2.ndim}-D")
    return ew(_MUL, input.unsqueeze(1), vec2, out=out)


ger = outer

# Tensor methods: the functions above with the tensor as first argument
for _name, _fn in {
    "matmul": matmul, "mm": mm, "bmm": bmm, "mv": mv, "dot": dot, "vdot": vdot,
    "outer": outer, "ger": outer,
    "addmm": addmm, "addmm_": addmm_, "addmv": addmv, "addmv_": addmv_,
    "baddbmm": baddbmm, "baddbmm_": baddbmm_, "addbmm": addbmm, "addbmm_": addbmm_,
}.items():
    _add_method(_name, _fn)
del _name, _fn
