"""Short-time Fourier transforms: ``stft`` and its inverse ``istft``, as in PyTorch.

Both are written with ember's differentiable ops: frames are a strided ``unfold``
view, each windowed frame goes through ``ember.fft``, and the inverse overlap-adds
frames with ``index_add``, so gradients (and higher-order ones) come from those ops.
"""
import warnings

import ember
from ember._core._tensor import Tensor, _add_method

_PAD_MODES = ("constant", "reflect", "replicate", "circular")


def _hop_and_window(n_fft, hop_length, win_length, window, what, like):
    """Checked hop length and the window zero-padded (centred) to ``n_fft``."""
    if not isinstance(n_fft, int) or n_fft <= 0:
        raise RuntimeError(f"{what}: expected 0 < n_fft, but got n_fft={n_fft}")
    hop = n_fft // 4 if hop_length is None else hop_length
    if hop <= 0:
        raise RuntimeError(f"{what}: expected hop_length > 0, but got hop_length={hop}")
    win = n_fft if win_length is None else win_length
    if win <= 0 or win > n_fft:
        raise RuntimeError(f"{what}: expected 0 < win_length <= n_fft, but got "
                           f"win_length={win}")
    if window is not None:
        if window.dim() != 1 or window.shape[0] != win:
            raise RuntimeError(f"{what}: expected a 1D window tensor of size equal to "
                               f"win_length={win}, but got window with size "
                               f"{list(window.shape)}")
        if window.device != like.device:
            raise RuntimeError(f"{what}: expected the window on {like.device}, got it on "
                               f"{window.device}")
    if win < n_fft:
        left = (n_fft - win) // 2
        base = window if window is not None else ember.ones(win, dtype=like.dtype.to_real()
                                                            if like.is_complex() else like.dtype,
                                                            device=like.device)
        window = ember.nn.functional.pad(base, (left, n_fft - win - left))
    return hop, window


def stft(input, n_fft, hop_length=None, win_length=None, window=None, center=True,
         pad_mode="reflect", normalized=False, onesided=None, return_complex=None):
    """Short-time Fourier transform of a 1-D signal or a batch of them.

    Parameters
    ----------
    input : Tensor
        Signal of shape ``(L,)`` or ``(B, L)``, real or complex.
    n_fft : int
        Length of each frame's Fourier transform.
    hop_length : int, optional
        Samples between frames; ``n_fft // 4`` by default.
    win_length : int, optional
        Window length (at most ``n_fft``; the window is zero-padded on both sides to
        ``n_fft``); ``n_fft`` by default.
    window : Tensor, optional
        1-D window of ``win_length`` samples; a rectangular window by default.
    center : bool, optional
        Pad the signal by ``n_fft // 2`` on both sides so frame ``t`` is centred on
        sample ``t * hop_length``.
    pad_mode : {'reflect', 'constant', 'replicate', 'circular'}, optional
        How ``center`` pads.
    normalized : bool, optional
        Scale by ``n_fft ** -0.5``.
    onesided : bool, optional
        Keep the ``n_fft // 2 + 1`` non-negative frequencies; the default for a real
        signal and window.
    return_complex : bool
        Required for real inputs.  False returns the real and imaginary parts in a
        trailing dimension of size 2 (deprecated in PyTorch).

    Returns
    -------
    Tensor
        ``(B?, n_freq, n_frames)``, complex unless ``return_complex=False``.

    Examples
    --------
    >>> import ember
    >>> x = ember.arange(16, dtype=ember.float64)
    >>> ember.stft(x, 8, hop_length=4, window=ember.hann_window(8, dtype=ember.float64),
    ...            return_complex=True).shape
    ember.Size([5, 5])
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"stft(): argument 'input' must be Tensor, not {type(input).__name__}")
    complex_in = input.is_complex() or (window is not None and window.is_complex())
    if return_complex is None:
        if not complex_in:
            raise RuntimeError("stft requires the return_complex parameter be given for real "
                               "inputs, and will further require that return_complex=True in "
                               "a future PyTorch release.")
        return_complex = True
    if input.dim() not in (1, 2):
        raise RuntimeError(f"stft: expected a 1D or 2D tensor, but got {input.dim()}D")
    if not (input.is_floating_point() or input.is_complex()):
        raise RuntimeError(f"stft: expected a floating or complex input, got {input.dtype}")
    if pad_mode not in _PAD_MODES:
        raise RuntimeError(f"stft: unknown pad_mode '{pad_mode}', expected one of "
                           f"{', '.join(_PAD_MODES)}")
    if window is None:
        warnings.warn("A window was not provided. A rectangular window will be applied, which "
                      "is known to cause spectral leakage. Other windows such as "
                      "ember.hann_window or ember.hamming_window are recommended to reduce "
                      "spectral leakage. To suppress this warning and use a rectangular "
                      "window, explicitly set `window=ember.ones(n_fft, device=<device>)`.",
                      UserWarning, stacklevel=2)
    x = input.unsqueeze(0) if input.dim() == 1 else input
    if center:
        pad = n_fft // 2 if isinstance(n_fft, int) else 0
        x = ember.nn.functional.pad(x.unsqueeze(1), (pad, pad), mode=pad_mode).squeeze(1)
    hop, window = _hop_and_window(n_fft, hop_length, win_length, window, "stft", input)
    length = x.shape[-1]
    if n_fft > length:
        raise RuntimeError(f"stft: expected 0 < n_fft <= {length}, but got n_fft={n_fft}")
    frames = x.unfold(-1, n_fft, hop)                        # (B, n_frames, n_fft)
    if window is not None:
        frames = frames * window
    if onesided is None:
        onesided = not complex_in
    if onesided and complex_in:
        raise RuntimeError("Cannot have onesided output if window or input is complex")
    norm = "ortho" if normalized else "backward"
    spec = (ember.fft.rfft(frames, norm=norm) if onesided
            else ember.fft.fft(frames, norm=norm)).transpose(-1, -2)
    if input.dim() == 1:
        spec = spec.squeeze(0)
    return spec if return_complex else ember.view_as_real(spec)


def istft(input, n_fft, hop_length=None, win_length=None, window=None, center=True,
          normalized=False, onesided=None, length=None, return_complex=False):
    """Inverse short-time Fourier transform: the signal whose ``stft`` is ``input``,
    by overlap-add of the inverse-transformed frames divided by the summed squared
    window.

    Parameters
    ----------
    input : Tensor
        Complex spectrogram ``(B?, n_freq, n_frames)``, as ``stft`` returns it.
    n_fft, hop_length, win_length, window, center, normalized
        As given to :func:`stft`.
    onesided : bool, optional
        Whether ``input`` holds only the non-negative frequencies; inferred from its
        size (``n_freq != n_fft``) by default.
    length : int, optional
        Trim or zero-pad the output to this many samples.
    return_complex : bool, optional
        Return a complex signal (for two-sided spectrograms of complex signals).

    Returns
    -------
    Tensor
        ``(B?, length)``.

    Examples
    --------
    >>> import ember
    >>> x = ember.randn(64, dtype=ember.float64)
    >>> w = ember.hann_window(16, dtype=ember.float64)
    >>> spec = ember.stft(x, 16, hop_length=4, window=w, return_complex=True)
    >>> bool(ember.allclose(ember.istft(spec, 16, hop_length=4, window=w, length=64), x))
    True
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"istft(): argument 'input' must be Tensor, not {type(input).__name__}")
    if not input.is_complex():
        raise RuntimeError("istft requires a complex-valued input tensor")
    if input.dim() not in (2, 3):
        raise RuntimeError(f"istft: expected a tensor with 2 or 3 dimensions of complex "
                           f"dtype, but got {input.dim()}D")
    spec = input.unsqueeze(0) if input.dim() == 2 else input
    hop, window = _hop_and_window(n_fft, hop_length, win_length, window, "istft", input)
    n_freq, n_frames = spec.shape[-2], spec.shape[-1]
    if onesided is None:
        onesided = n_freq != n_fft
    if onesided:
        if n_freq != n_fft // 2 + 1:
            raise RuntimeError(f"istft: expected the frequency dimension (3rd to the last) "
                               f"of the input tensor to match n_fft / 2 + 1 when onesided="
                               f"True, but got {n_freq}")
        if return_complex:
            raise RuntimeError("cannot have onesided output if window or input is complex")
    elif n_freq != n_fft:
        raise RuntimeError(f"istft: expected the frequency dimension (3rd to the last) of "
                           f"the input tensor to match n_fft when onesided=False, but got "
                           f"{n_freq}")
    if n_frames == 0:
        raise RuntimeError("istft: input tensor cannot be empty.")
    norm = "ortho" if normalized else "backward"
    columns = spec.transpose(-1, -2)                          # (B, n_frames, n_freq)
    if return_complex:
        frames = ember.fft.ifft(columns, n=n_fft, norm=norm)
    else:
        if window is not None and window.is_complex():
            raise RuntimeError("Complex windows are incompatible with return_complex=False")
        # a real signal comes from the non-negative frequencies alone, as in PyTorch: the
        # rest of a two-sided spectrum is taken to be their mirror image, not read
        frames = ember.fft.irfft(columns.narrow(-1, 0, n_fft // 2 + 1), n=n_fft, norm=norm)
    real_dtype = frames.real.dtype if frames.is_complex() else frames.dtype
    if window is None:
        window = ember.ones(n_fft, dtype=real_dtype, device=input.device)
    frames = frames * window

    expected = n_fft + hop * (n_frames - 1)
    positions = (ember.arange(n_frames, device=input.device).unsqueeze(1) * hop
                 + ember.arange(n_fft, device=input.device)).reshape(-1)
    batch = frames.shape[0]
    y = ember.zeros(batch, expected, dtype=frames.dtype, device=input.device).index_add(
        1, positions, frames.reshape(batch, -1))
    envelope = ember.zeros(expected, dtype=window.dtype, device=input.device).index_add(
        0, positions, (window * window).expand(n_frames, n_fft).reshape(-1))

    start = n_fft // 2 if center else 0
    if length is not None:
        end = start + length
    else:
        end = expected - n_fft // 2 if center else expected
    y = y[:, start:end]
    envelope = envelope[start:end]
    if envelope.numel() and float(envelope.abs().min()) < 1e-11:
        raise RuntimeError("istft(...) window overlap add min: the window's squares do not "
                           "overlap to a nonzero sum everywhere (NOLA condition failed)")
    y = y / envelope
    if end > expected:
        y = ember.nn.functional.pad(y, (0, end - expected))
    return y.squeeze(0) if input.dim() == 2 else y


_add_method("stft", stft)
_add_method("istft", istft)
