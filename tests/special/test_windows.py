"""ember.signal.windows against torch.signal.windows 2.13 and scipy.signal.windows."""
import numpy as np
import pytest
import scipy.signal.windows as sw
import torch

import ember

WINDOWS = {  # name -> (keyword arguments, SciPy's call)
    "hann": ({}, lambda M, sym: sw.hann(M, sym=sym)),
    "hamming": ({}, lambda M, sym: sw.hamming(M, sym=sym)),
    "blackman": ({}, lambda M, sym: sw.blackman(M, sym=sym)),
    "bartlett": ({}, lambda M, sym: sw.bartlett(M, sym=sym)),
    "cosine": ({}, lambda M, sym: sw.cosine(M, sym=sym)),
    "nuttall": ({}, lambda M, sym: sw.nuttall(M, sym=sym)),
    "gaussian": ({"std": 1.7}, lambda M, sym: sw.gaussian(M, 1.7, sym=sym)),
    "kaiser": ({"beta": 5.0}, lambda M, sym: sw.kaiser(M, 5.0, sym=sym)),
    "exponential": ({"tau": 2.5}, lambda M, sym: sw.exponential(M, tau=2.5, sym=sym)),
    "general_cosine": ({"a": [0.5, 0.3, 0.2]},
                       lambda M, sym: sw.general_cosine(M, [0.5, 0.3, 0.2], sym=sym)),
    "general_hamming": ({"alpha": 0.6}, lambda M, sym: sw.general_hamming(M, 0.6, sym=sym)),
}


@pytest.mark.parametrize("name", sorted(WINDOWS))
def test_windows_match_torch_and_scipy(name):
    kwargs, scipy_window = WINDOWS[name]
    for M in (0, 1, 2, 5, 10, 33):
        for sym in (True, False):
            got = getattr(ember.signal.windows, name)(M, sym=sym, dtype=ember.float64, **kwargs)
            expected = getattr(torch.signal.windows, name)(M, sym=sym, dtype=torch.float64,
                                                           **kwargs)
            assert got.dtype == ember.float64 and tuple(got.shape) == (M,)
            np.testing.assert_allclose(got.numpy(), expected.numpy(), rtol=1e-9, atol=1e-12,
                                       err_msg=f"M={M}, sym={sym}")
            if M > 0:
                np.testing.assert_allclose(got.numpy(), scipy_window(M, sym), rtol=1e-9,
                                           atol=1e-12, err_msg=f"M={M}, sym={sym}")
    single = getattr(ember.signal.windows, name)(8, **kwargs)
    assert single.dtype == ember.get_default_dtype() == ember.float32
    np.testing.assert_allclose(single.numpy(),
                               getattr(torch.signal.windows, name)(8, **kwargs).numpy(),
                               rtol=1e-5, atol=1e-6)


def test_exponential_center_and_requires_grad():
    got = ember.signal.windows.exponential(7, center=2.0, sym=False, dtype=ember.float64)
    np.testing.assert_allclose(got.numpy(), sw.exponential(7, center=2.0, sym=False),
                               rtol=1e-12)
    w = ember.signal.windows.hann(4, requires_grad=True)
    assert w.requires_grad and w.is_leaf


def test_window_errors_as_torch():
    windows = ember.signal.windows
    with pytest.raises(ValueError, match="non-negative window length, got M=-1"):
        windows.hann(-1)
    with pytest.raises(ValueError, match="float32 or float64 dtypes"):
        windows.kaiser(4, dtype=ember.float16)
    with pytest.raises(ValueError, match="float32 or float64 dtypes"):
        windows.bartlett(4, dtype=ember.int64)
    with pytest.raises(ValueError, match="Tau must be positive"):
        windows.exponential(4, tau=0.0)
    with pytest.raises(ValueError, match="Center must be None for symmetric"):
        windows.exponential(4, center=1.0)
    with pytest.raises(ValueError, match="Standard deviation must be positive"):
        windows.gaussian(4, std=-1.0)
    with pytest.raises(ValueError, match="beta must be non-negative"):
        windows.kaiser(4, beta=-1.0)
    with pytest.raises(TypeError, match="Coefficients must be a list/tuple"):
        windows.general_cosine(4, a=0.5)
    with pytest.raises(ValueError, match="Coefficients cannot be empty"):
        windows.general_cosine(4, a=[])
    with pytest.raises(TypeError, match="'M' must be int"):
        windows.hann(4.0)
