"""stft and istft against PyTorch: values over frame/hop/window settings, padding modes,
one- and two-sided spectra, complex signals, batches, the round trip, errors, and
gradients (torch's and finite differences)."""
import warnings

import numpy as np
import pytest
import torch

import ember

RNG = np.random.default_rng(0)
SIGNAL = RNG.standard_normal((2, 100))
CSIGNAL = SIGNAL + 1j * RNG.standard_normal((2, 100))

SETTINGS = [
    dict(n_fft=16),
    dict(n_fft=16, hop_length=5, win_length=10),
    dict(n_fft=15, hop_length=3, center=False),
    dict(n_fft=16, normalized=True, pad_mode="constant"),
    dict(n_fft=16, pad_mode="replicate", onesided=False),
    dict(n_fft=32, hop_length=32, pad_mode="circular"),
    dict(n_fft=8, hop_length=1),
]


def window(lib, kind, size):
    if kind is None:
        return None
    return getattr(lib, f"{kind}_window")(size, dtype=lib.float64)


def outcome(fn):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            out = fn()
        except RuntimeError as exc:
            return "RuntimeError", None
    return "ok", (torch.view_as_real(out) if out.is_complex() else out).numpy() \
        if isinstance(out, torch.Tensor) else \
        (ember.view_as_real(out) if out.is_complex() else out).numpy()


def compare(fn):
    (tk, tv), (ek, ev) = outcome(lambda: fn(torch)), outcome(lambda: fn(ember))
    assert tk == ek
    if tk == "ok":
        assert tv.shape == ev.shape
        np.testing.assert_allclose(ev, tv, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("kwargs", SETTINGS, ids=range(len(SETTINGS)))
@pytest.mark.parametrize("kind", [None, "hann", "hamming"])
@pytest.mark.parametrize("batched", [True, False])
def test_stft_and_istft_match_torch(kwargs, kind, batched):
    signal = SIGNAL if batched else SIGNAL[0]
    size = kwargs.get("win_length", kwargs["n_fft"])

    def spec(lib):
        return lib.stft(lib.tensor(signal), window=window(lib, kind, size),
                        return_complex=True, **kwargs)
    compare(spec)
    inverse = {k: v for k, v in kwargs.items() if k != "pad_mode"}
    for length in (None, 90, 110):
        compare(lambda lib: lib.istft(spec(lib), window=window(lib, kind, size),
                                      length=length, **inverse))


def test_round_trip():
    w = ember.hann_window(16, dtype=ember.float64)
    x = ember.tensor(SIGNAL)
    spec = ember.stft(x, 16, hop_length=4, window=w, return_complex=True)
    np.testing.assert_allclose(ember.istft(spec, 16, hop_length=4, window=w,
                                           length=100).numpy(), SIGNAL, atol=1e-12)


@pytest.mark.parametrize("onesided", [None, False])
def test_complex_signal(onesided):
    compare(lambda lib: lib.stft(lib.tensor(CSIGNAL), 16, window=lib.hann_window(
        16, dtype=lib.float64), onesided=onesided, return_complex=True))
    compare(lambda lib: lib.istft(lib.stft(lib.tensor(CSIGNAL), 16, window=lib.hann_window(
        16, dtype=lib.float64), return_complex=True), 16, window=lib.hann_window(
        16, dtype=lib.float64), return_complex=True, length=100))


SPECTRUM = RNG.standard_normal((10, 10, 6)) + 1j * RNG.standard_normal((10, 10, 6))
CWINDOW = 1 + RNG.random(10) + 1j * RNG.random(10)


def test_istft_of_any_two_sided_spectrum_matches_torch():
    # not the spectrum of a real signal: a real result reads the non-negative frequencies
    # only (irfft), a complex window divides by the sum of its squares, not of |w|^2
    compare(lambda lib: lib.istft(lib.tensor(SPECTRUM), 10))
    compare(lambda lib: lib.istft(lib.tensor(SPECTRUM[0, :, :2]), 10, onesided=False))
    compare(lambda lib: lib.istft(lib.tensor(SPECTRUM), 10, window=lib.tensor(CWINDOW),
                                  return_complex=True))
    compare(lambda lib: lib.istft(lib.tensor(SPECTRUM), 10, window=lib.tensor(CWINDOW)))


def test_real_and_imaginary_parts_when_not_complex():
    compare(lambda lib: lib.stft(lib.tensor(SIGNAL), 16, window=lib.hann_window(
        16, dtype=lib.float64), return_complex=False))


def test_float32_and_the_method_forms():
    x = ember.tensor(SIGNAL, dtype=ember.float32)
    w = ember.hann_window(16)
    spec = x.stft(16, window=w, return_complex=True)
    assert spec.dtype == ember.complex64
    ref = torch.stft(torch.tensor(SIGNAL, dtype=torch.float32), 16,
                     window=torch.hann_window(16), return_complex=True)
    np.testing.assert_allclose(spec.numpy(), ref.numpy(), rtol=1e-5, atol=1e-5)
    assert spec.istft(16, window=w).dtype == ember.float32


@pytest.mark.parametrize("call", [
    lambda lib: lib.stft(lib.tensor(SIGNAL), 16),                        # return_complex
    lambda lib: lib.stft(lib.tensor(SIGNAL), 0, return_complex=True),
    lambda lib: lib.stft(lib.tensor(SIGNAL), 16, hop_length=0, return_complex=True),
    lambda lib: lib.stft(lib.tensor(SIGNAL), 16, win_length=17, return_complex=True),
    lambda lib: lib.stft(lib.tensor(SIGNAL), 16, window=lib.ones(8, dtype=lib.float64),
                         return_complex=True),
    lambda lib: lib.stft(lib.tensor(SIGNAL[0, :10]), 16, center=False, return_complex=True),
    lambda lib: lib.stft(lib.zeros(2, 2, 50), 16, return_complex=True),
    lambda lib: lib.istft(lib.tensor(SIGNAL), 16),                       # not complex
    lambda lib: lib.istft(lib.zeros(2, 7, 5, dtype=lib.complex128), 16),  # wrong n_freq
    lambda lib: lib.istft(lib.zeros(9, 5, dtype=lib.complex128), 16, hop_length=4,
                          window=lib.hann_window(16, dtype=lib.float64), center=False),
])
def test_errors_match_torch(call):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(RuntimeError):
            call(torch)
        with pytest.raises(RuntimeError):
            call(ember)


def test_missing_window_warns_like_torch():
    with pytest.warns(UserWarning, match="A window was not provided"):
        ember.stft(ember.tensor(SIGNAL), 16, return_complex=True)


def test_gradients_match_torch_and_finite_differences():
    grads = []
    for lib in (torch, ember):
        x = lib.tensor(SIGNAL[0, :40], requires_grad=True)
        w = lib.hann_window(8, dtype=lib.float64)
        spec = lib.stft(x, 8, hop_length=2, window=w, return_complex=True)
        y = lib.istft(spec * spec.abs(), 8, hop_length=2, window=w, length=40)
        (spec.abs().sum() + (y * y).sum()).backward()
        grads.append(x.grad.numpy())
    np.testing.assert_allclose(grads[1], grads[0], rtol=1e-9, atol=1e-10)

    def fn(x):
        return ember.stft(x, 8, hop_length=3, window=ember.hann_window(8, dtype=ember.float64),
                          return_complex=True).abs()
    assert ember.autograd.gradcheck(fn, (ember.tensor(SIGNAL[0, :30], requires_grad=True),))
