"""Comparison helpers shared by the core tests (PyTorch outcomes, tolerances)."""
import warnings

import numpy as np
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
