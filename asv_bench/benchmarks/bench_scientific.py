"""Scans, statistics, ember.linalg and ember.fft on sizes the issue's targets name."""
import numpy as np

import ember


def _random(shape, seed=0, dtype=np.float32):
    return ember.from_numpy(np.random.default_rng(seed).standard_normal(shape).astype(dtype))


class Scans:
    """Scans and order statistics of long vectors."""

    def setup(self):
        self.x = _random((10_000_000,))
        self.small = _random((100_000,))

    def time_cumsum(self):
        ember.cumsum(self.x, 0)

    def time_cumprod(self):
        ember.cumprod(self.small, 0)

    def time_median(self):
        ember.median(self.small)

    def time_quantile(self):
        ember.quantile(self.small, ember.tensor([0.1, 0.5, 0.9]))


class Solve:
    """One 256x256 system and a batch of 1000 8x8 systems (float32), and decompositions."""

    def setup(self):
        rng = np.random.default_rng(0)
        a = rng.standard_normal((256, 256)) + 256 * np.eye(256)
        self.a = ember.from_numpy(a.astype(np.float32))
        self.b = _random((256, 1), 1)
        batch = rng.standard_normal((1000, 8, 8)) + 8 * np.eye(8)
        self.batch = ember.from_numpy(batch.astype(np.float32))
        self.batch_b = _random((1000, 8, 1), 2)
        self.spd = ember.from_numpy((a @ a.T).astype(np.float32))

    def time_solve(self):
        ember.linalg.solve(self.a, self.b)

    def time_solve_batched(self):
        ember.linalg.solve(self.batch, self.batch_b)

    def time_inv_batched(self):
        ember.linalg.inv(self.batch)

    def time_cholesky(self):
        ember.linalg.cholesky(self.spd)

    def time_svd(self):
        ember.linalg.svd(self.a)

    def time_eigh(self):
        ember.linalg.eigh(self.spd)


class FFT:
    """Transforms of one long real signal and a batch of complex rows."""

    def setup(self):
        self.x = _random((2 ** 20,))
        self.rows = ember.complex(_random((256, 1024), 1), _random((256, 1024), 2))

    def time_rfft(self):
        ember.fft.rfft(self.x)

    def time_irfft(self):
        ember.fft.irfft(ember.fft.rfft(self.x))

    def time_fft_rows(self):
        ember.fft.fft(self.rows)


class STFT:
    """Short-time transforms of a batch of 16 one-second 16 kHz signals."""

    def setup(self):
        self.x = _random((16, 16000))
        self.window = ember.hann_window(512)
        self.spec = ember.stft(self.x, 512, hop_length=128, window=self.window,
                               return_complex=True)

    def time_stft(self):
        ember.stft(self.x, 512, hop_length=128, window=self.window, return_complex=True)

    def time_istft(self):
        ember.istft(self.spec, 512, hop_length=128, window=self.window, length=16000)


class Contractions:
    """einsum written as a batched product, and tensordot."""

    def setup(self):
        self.a = _random((64, 128, 128))
        self.b = _random((64, 128, 128), 1)

    def time_einsum_bmm(self):
        ember.einsum("bij,bjk->bik", self.a, self.b)

    def time_tensordot(self):
        ember.tensordot(self.a, self.b, dims=([1, 2], [1, 2]))
