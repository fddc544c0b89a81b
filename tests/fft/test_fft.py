"""ember.fft against torch.fft (semantics, dtypes, errors) and NumPy (values)."""
import numpy as np
import pytest
import torch

import ember
from grad_oracle import LAYOUTS, assert_grads_match_torch, check_gradients

ONE_D = ["fft", "ifft", "rfft", "irfft", "hfft", "ihfft"]
TWO_D = ["fft2", "ifft2", "rfft2", "irfft2", "hfft2", "ihfft2"]
N_D = ["fftn", "ifftn", "rfftn", "irfftn", "hfftn", "ihfftn"]
REAL_ONLY = {"rfft", "ihfft", "rfft2", "ihfft2", "rfftn", "ihfftn"}
NORMS = [None, "backward", "ortho", "forward"]
TOL = {ember.complex64: 2e-5, ember.float32: 2e-5, ember.complex128: 1e-12,
       ember.float64: 1e-12}


def _data(shape, dtype, seed=0):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal(shape)
    if dtype in ("complex64", "complex128"):
        a = a + 1j * rng.standard_normal(shape)
    if dtype == "int64":
        return (a * 5).astype(np.int64)
    return a.astype(dtype)


def _same(e, t):
    """ember result ``e`` equals torch result ``t``: dtype, shape and values."""
    t = t.resolve_conj()
    assert str(e.dtype).split(".")[-1] == str(t.dtype).split(".")[-1]
    assert tuple(e.shape) == tuple(t.shape)
    scale = max(1.0, float(np.abs(t.numpy()).max())) if t.numel() else 1.0
    np.testing.assert_allclose(e.numpy(), t.numpy(), rtol=TOL[e.dtype],
                               atol=TOL[e.dtype] * scale)


def _both(name, a, **kw):
    e = getattr(ember.fft, name)(ember.tensor(a), **kw)
    t = getattr(torch.fft, name)(torch.tensor(a), **kw)
    _same(e, t)
    return e


# ---------------------------------------------------------------- values and dtypes

def _name_dtype_pairs(names, dtypes):
    """The (transform, input dtype) pairs to test: the real-input transforms get no
    complex input (that is an error, tested below)."""
    return [(n, d) for n in names for d in dtypes
            if not (n in REAL_ONLY and d.startswith("complex"))]


@pytest.mark.parametrize("name,dtype", _name_dtype_pairs(
    ONE_D, ["float32", "float64", "complex64", "complex128", "int64"]))
@pytest.mark.parametrize("norm", NORMS)
def test_one_dim_matches_torch(name, dtype, norm):
    a = _data((3, 8), dtype)
    _both(name, a, norm=norm)
    for n in (5, 8, 11):
        _both(name, a, n=n, norm=norm)
    _both(name, a, dim=0, norm=norm)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("norm", NORMS)
def test_long_rfft_split_across_threads_matches_torch(dtype, norm):
    # from 2**16 points on 2 threads, rfft runs as two half-length transforms side by side
    previous = ember.get_num_threads()
    ember.set_num_threads(2)
    try:
        for shape in ((2**16,), (1, 2**16 + 4), (2**17,)):
            _both("rfft", _data(shape, dtype), norm=norm)
        _both("rfft", _data((2**16 + 2,), dtype), norm=norm)     # not a multiple of 4
        x = ember.tensor(_data((2**16,), "float64"), requires_grad=True)
        t = torch.tensor(x.detach().numpy(), requires_grad=True)
        (ember.fft.rfft(x, norm=norm).abs() ** 2).sum().backward()
        (torch.fft.rfft(t, norm=norm).abs() ** 2).sum().backward()
        np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-9, atol=1e-9)
    finally:
        ember.set_num_threads(previous)


@pytest.mark.parametrize("name", ["fft", "ifft", "rfft", "irfft"])
def test_matches_numpy(name):
    a = _data((4, 10), "complex128" if name in ("ifft", "irfft") else "float64")
    e = getattr(ember.fft, name)(ember.tensor(a), n=12, norm="ortho")
    np.testing.assert_allclose(e.numpy(), getattr(np.fft, name)(a, n=12, norm="ortho"),
                               rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name,dtype", _name_dtype_pairs(TWO_D + N_D, ["float32", "complex128"]))
def test_multi_dim_matches_torch(name, dtype):
    a = _data((2, 5, 6), dtype)
    _both(name, a)
    _both(name, a, norm="ortho")
    _both(name, a, s=(4, 7))
    _both(name, a, s=(-1, 8), dim=(0, 2), norm="forward")
    _both(name, a, dim=(2, 0))
    if name in N_D:
        _both(name, a, dim=1)
        _both(name, a, s=(3, 4, 5), norm="backward")


def test_fftn_without_dims_copies_into_complex():
    _both("fftn", _data((3, 4), "float32"), dim=())


@pytest.mark.parametrize("layout", ["transposed", "sliced", "expanded", "flipped"])
@pytest.mark.parametrize("name", ["fft", "rfft", "irfft", "ihfft", "fft2", "irfftn"])
def test_views(layout, name):
    dtype = "float64" if name in REAL_ONLY else "complex128"
    base = _data((6, 8), dtype)
    view = {"transposed": lambda t: t.T, "sliced": lambda t: t[1::2, ::3],
            "expanded": lambda t: t[:, :1].expand(6, 5),
            "flipped": lambda t: t[::-1]}[layout]
    e_in = view(ember.tensor(base))
    values = np.ascontiguousarray(np.asarray(e_in))
    e = getattr(ember.fft, name)(e_in)
    _same(e, getattr(torch.fft, name)(torch.tensor(values)))


def test_empty_batch_and_zero_dim():
    # torch's MKL backend refuses an empty batch; NumPy gives the empty spectrum
    e = ember.fft.fft(ember.zeros(0, 4))
    assert e.dtype == ember.complex64 and tuple(e.shape) == (0, 4)
    e = ember.fft.rfft2(ember.zeros(0, 3, 4, dtype=ember.float64))
    assert e.dtype == ember.complex128 and tuple(e.shape) == (0, 3, 3)
    with pytest.raises(IndexError, match="no dimensions"):
        ember.fft.fft(ember.tensor(1.0))
    _same(ember.fft.fftn(ember.tensor(2.0)), torch.fft.fftn(torch.tensor(2.0)))


def test_out():
    a = _data((4, 6), "float32")
    out = ember.empty(0, dtype=ember.complex64)
    r = ember.fft.fft(ember.tensor(a), out=out)
    assert r is out
    _same(out, torch.fft.fft(torch.tensor(a)))
    with pytest.raises(RuntimeError, match="dtype"):
        ember.fft.fft(ember.tensor(a), out=ember.empty(4, 6))


# ---------------------------------------------------------------- errors

@pytest.mark.parametrize("call", [
    lambda m, x: m.fft.fft(x, norm="bad"),
    lambda m, x: m.fft.fft(x.sum()),
    lambda m, x: m.fft.fft2(x[0]),
    lambda m, x: m.fft.fft(x, n=0),
    lambda m, x: m.fft.fft(x[:, :0]),
    lambda m, x: m.fft.rfft(x * 1j),
    lambda m, x: m.fft.ihfft2(x * 1j),
    lambda m, x: m.fft.fftn(x[0], s=(2, 2)),
    lambda m, x: m.fft.fftn(x, dim=(0, 0)),
    lambda m, x: m.fft.fftn(x, s=(2, 2), dim=(0,)),
    lambda m, x: m.fft.irfft(x[:, :1] * 1j),
    lambda m, x: m.fft.rfftn(x, dim=()),
    lambda m, x: m.fft.irfftn(x, dim=()),
    lambda m, x: m.fft.fft(x.half()),
    lambda m, x: m.fft.rfft(x.bfloat16()),
    lambda m, x: m.fft.fft(x, dim=2),
    lambda m, x: m.fft.fftshift(x.sum()),
    lambda m, x: m.fft.fftshift(x, dim=3),
    lambda m, x: m.fft.fftfreq(4, dtype=m.int64),
    lambda m, x: m.fft.fft("signal"),
])
def test_errors_match_torch(call):
    x = np.ones((3, 4), np.float32)
    with pytest.raises(Exception) as expected:
        call(torch, torch.tensor(x))
    with pytest.raises(expected.type):
        call(ember, ember.tensor(x))


# ---------------------------------------------------------------- helpers

@pytest.mark.parametrize("n", [0, 1, 4, 5])
@pytest.mark.parametrize("d", [1.0, 0.25])
def test_frequencies(n, d):
    for name in ("fftfreq", "rfftfreq"):
        e = getattr(ember.fft, name)(n, d)
        t = getattr(torch.fft, name)(n, d)
        assert e.dtype == ember.float32 and tuple(e.shape) == tuple(t.shape)
        np.testing.assert_allclose(e.numpy(), t.numpy(), rtol=1e-6)
    e = ember.fft.fftfreq(n, d, dtype=ember.float64, requires_grad=True)
    assert e.requires_grad and e.dtype == ember.float64
    np.testing.assert_allclose(e.detach().numpy(), np.fft.fftfreq(n, d) if n else [],
                               rtol=1e-15)


@pytest.mark.parametrize("dim", [None, 0, 1, (0, 1), -1])
@pytest.mark.parametrize("shape", [(5, 4), (4, 7)])
def test_shifts(dim, shape):
    a = np.arange(np.prod(shape)).reshape(shape)
    for name in ("fftshift", "ifftshift"):
        e = getattr(ember.fft, name)(ember.tensor(a), dim=dim)
        t = getattr(torch.fft, name)(torch.tensor(a), dim=dim)
        np.testing.assert_array_equal(e.numpy(), t.numpy())
        np.testing.assert_array_equal(e.numpy(), getattr(np.fft, name)(a, axes=dim))


# ---------------------------------------------------------------- gradients

def _grad_case(name, **kw):
    return lambda lib, x: getattr(lib.fft, name)(x, **kw)


@pytest.mark.parametrize("name,dtype", _name_dtype_pairs(ONE_D, ["float64", "complex128"]))
@pytest.mark.parametrize("kw", [{}, {"n": 5, "norm": "ortho"}, {"n": 10, "norm": "forward"},
                                {"dim": 0}])
def test_grads_match_torch(name, dtype, kw):
    a = _data((4, 7), dtype, seed=3)
    assert_grads_match_torch(_grad_case(name, **kw), a, atol=1e-9)


@pytest.mark.parametrize("name", TWO_D + N_D)
@pytest.mark.parametrize("kw", [{}, {"s": (3, 6), "norm": "ortho"}])
def test_grads_multi_dim_match_torch(name, kw):
    dtype = "float64" if name in REAL_ONLY else "complex128"
    a = _data((3, 4, 5), dtype, seed=4)
    assert_grads_match_torch(_grad_case(name, **kw), a, layout=LAYOUTS["transposed"])


@pytest.mark.parametrize("name", ["fft", "irfft", "hfft", "ihfft", "rfft2", "irfftn",
                                  "hfftn", "ihfftn"])
def test_gradcheck_and_gradgradcheck(name):
    dtype = "float64" if name in REAL_ONLY else "complex128"
    a = _data((3, 4), dtype, seed=5)
    check_gradients(_grad_case(name, norm="ortho"), a)
    check_gradients(lambda lib, x: getattr(lib.fft, name)(x.flip(-1)), a)


def test_gradient_of_real_input_through_complex_transform():
    # fft of a real signal takes the real part of the adjoint
    a = _data((6,), "float64")
    assert_grads_match_torch(lambda lib, x: lib.fft.ifft(lib.fft.fft(x) * 2, n=8), a)
    check_gradients(lambda lib, x: lib.fft.fft(x, n=9).abs(), a)


def test_grads_of_shift_and_freq_pipeline():
    a = _data((4, 6), "float64")
    assert_grads_match_torch(
        lambda lib, x: lib.fft.ifftshift(lib.fft.fftshift(lib.fft.rfft2(x), dim=0) * 3, dim=0),
        a)
