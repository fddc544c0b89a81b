"""Comparison helpers shared by the core tests (PyTorch outcomes, tolerances)."""
import warnings

import numpy as np
import pytest
import torch

import ember

# relative tolerances by result dtype: 16-bit floats compute in float32 and round once
RTOL = {"float16": 2e-3, "bfloat16": 1.6e-2, "float32": 2e-6, "float64": 1e-10,
        "complex64": 1e-5, "complex128": 1e-10}


def np_of(t):
    """The values of ember tensor `t` as a NumPy array (16-bit floats widened)."""
    a = t.numpy()
    if t.dtype in (ember.float16, ember.bfloat16):
        a = a.astype(np.float64)
    return np.asarray(a)


def outcome(lib, fn, args):
    """`fn(*args)`, or the RuntimeError it raised (for torch, scalars its ops refuse are retried
    as wrapped-scalar tensors)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return fn(*args)
        except RuntimeError as ex:  # NotImplementedError is a RuntimeError too
            return ex
        except TypeError:
            if lib is not torch:
                raise
        # torch's minimum, maximum and logical ops take no Python scalar: give it the
        # scalar as a tensor of the dtype that a wrapped scalar would promote to
        rt = torch.result_type(*args)
        args = [a.to(rt) if isinstance(a, torch.Tensor) else torch.tensor(a, dtype=rt)
                for a in args]
        try:
            return fn(*args)
        except RuntimeError as ex:
            return ex


def compare_outcomes(got, want, input_name="bool"):
    """ember's outcome `got` matches torch's `want`: both raise, or equal dtype and values."""
    if isinstance(want, Exception):
        if "ComplexHalf" in str(want):
            return  # ember computes float16-with-complex in complex64, torch has few kernels
        assert isinstance(got, RuntimeError), (got, want)
        return
    assert not isinstance(got, Exception), (got, want)
    assert got.dtype.name == str(want.dtype).replace("torch.", "").replace("complex32", "complex64")
    w = want.to(torch.complex128 if want.is_complex() else torch.float64
                if want.is_floating_point() else want.dtype).numpy()
    g = np_of(got)
    if w.dtype.kind in "fc":
        # torch computes `scalar / t` as `t.reciprocal() * scalar`, rounding in t's dtype
        tol = max(RTOL.get(got.dtype.name, 1e-6), RTOL.get(input_name, 0))
        if want.dtype == torch.complex32:
            tol = 2e-3
        np.testing.assert_allclose(g, w, rtol=tol, atol=tol, equal_nan=True)
    else:
        np.testing.assert_array_equal(g, w)


# the dtypes an ``out=`` is tried in: PyTorch accepts some and refuses the others
OUT_DTYPES = ("bool", "uint8", "int32", "int64", "float32", "float64", "complex64",
              "complex128")


def _same_result(got, want):
    assert got.dtype.name == str(want.dtype).replace("torch.", ""), (got.dtype, want.dtype)
    assert tuple(got.shape) == tuple(want.shape), (got.shape, want.shape)
    g, w = np.asarray(got.detach()), want.detach().numpy()
    if w.dtype.kind in "fc":
        np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-6, equal_nan=True)
    else:
        np.testing.assert_array_equal(g, w)


def _resized(caught):
    return any("was resized" in str(w.message) for w in caught)


def check_out_like_torch(call, *arrays, differentiable=True):
    """``call(lib, *args, out=o)``, an op's ``out=`` form, does in ember what it does in
    PyTorch, for ``args`` made from ``arrays`` (NumPy arrays become tensors of each library,
    anything else is passed as it is): the out is returned, holding the result, in each of
    ``OUT_DTYPES`` that PyTorch accepts (where it refuses one, ember raises the same class);
    an out of another shape is resized, with a warning exactly when PyTorch warns; a strided
    out is written in place; and a first input that requires grad is refused (only if
    ``differentiable``: PyTorch refuses it too, but for ``diag`` and ``slice_scatter``, whose
    out it gives a ``grad_fn`` that cannot run backward)."""
    def args(lib, grad=False):
        made = [lib.tensor(a) if isinstance(a, np.ndarray) else a for a in arrays]
        if grad:
            made[0].requires_grad_()
        return made

    plain = call(torch, *args(torch))
    for name in OUT_DTYPES:
        eout, tout = ember.empty(0, dtype=getattr(ember, name)), \
            torch.empty(0, dtype=getattr(torch, name))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")         # PyTorch's complex-to-real cast warning
            try:
                want = call(torch, *args(torch), out=tout)
            except Exception as ex:                 # refused: ember refuses it too
                with pytest.raises(type(ex)):
                    call(ember, *args(ember), out=eout)
                continue
            got = call(ember, *args(ember), out=eout)
        assert got is eout, name
        _same_result(got, want)
    # a non-empty out of another shape: resized, warned about as PyTorch warns
    with warnings.catch_warnings(record=True) as theirs:
        warnings.simplefilter("always")
        want = call(torch, *args(torch), out=torch.zeros(7, dtype=plain.dtype))
    with warnings.catch_warnings(record=True) as ours:
        warnings.simplefilter("always")
        got = call(ember, *args(ember), out=ember.zeros(7, dtype=getattr(ember, str(
            plain.dtype).replace("torch.", ""))))
    assert _resized(ours) == _resized(theirs)
    _same_result(got, want)
    # an out of the result's shape whose dims lie reversed, every other element in memory
    result = call(ember, *args(ember))
    shape = tuple(result.shape)
    buf = ember.full(shape[::-1] + (2,), 7, dtype=result.dtype)
    view = buf.select(-1, 0).permute(*reversed(range(len(shape))))
    stride = view.stride()
    assert call(ember, *args(ember), out=view) is view and view.stride() == stride
    np.testing.assert_array_equal(np.asarray(view), np.asarray(result))
    # (7 in the result's dtype: True for a bool result)
    assert bool((buf.select(-1, 1) == ember.full((), 7, dtype=result.dtype)).all())
    if differentiable and arrays[0].dtype.kind == "f":
        with pytest.raises(RuntimeError, match="don't support automatic differentiation"):
            call(ember, *args(ember, grad=True), out=ember.empty(0, dtype=result.dtype))
