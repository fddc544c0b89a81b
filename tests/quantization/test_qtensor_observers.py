"""Quantized tensors and observers against PyTorch's."""
import numpy as np
import pytest
import torch
from torch.ao import quantization as tq

import ember
from ember import quantization as eq

DTYPES = [(ember.qint8, torch.qint8), (ember.quint8, torch.quint8), (ember.qint32, torch.qint32)]


@pytest.mark.parametrize("dtypes", DTYPES, ids=lambda d: repr(d[0]))
def test_quantize_per_tensor_matches_pytorch(dtypes):
    x = np.random.default_rng(0).standard_normal(1000).astype(np.float32) * 3
    x[:4] = [0.25, 0.75, -0.25, 1e6]   # ties round to even; saturation
    ours = ember.quantize_per_tensor(ember.from_numpy(x), 0.5, 3, dtypes[0])
    theirs = torch.quantize_per_tensor(torch.from_numpy(x), 0.5, 3, dtypes[1])
    np.testing.assert_array_equal(ours.int_repr().numpy(), theirs.int_repr().numpy())
    np.testing.assert_array_equal(ours.dequantize().numpy(), theirs.dequantize().numpy())
    assert ours.q_scale() == theirs.q_scale() and ours.q_zero_point() == theirs.q_zero_point()
    assert ours.qscheme() is ember.per_tensor_affine and ours.dtype is dtypes[0]


def test_quantize_per_channel_matches_pytorch():
    x = np.random.default_rng(1).standard_normal((4, 6, 3)).astype(np.float32)
    scales, zeros = np.array([0.01, 0.02, 0.05, 0.1, 0.2, 0.3]), np.array([0, 1, -3, 5, 0, 2])
    ours = ember.quantize_per_channel(ember.from_numpy(x), ember.from_numpy(scales),
                                      ember.from_numpy(zeros), 1, ember.qint8)
    theirs = torch.quantize_per_channel(torch.from_numpy(x), torch.from_numpy(scales),
                                        torch.from_numpy(zeros), 1, torch.qint8)
    np.testing.assert_array_equal(ours.int_repr().numpy(), theirs.int_repr().numpy())
    np.testing.assert_allclose(ours.dequantize().numpy(), theirs.dequantize().numpy(),
                               rtol=1e-6)
    np.testing.assert_array_equal(ours.q_per_channel_scales().numpy(), scales)
    assert ours.q_per_channel_axis() == 1
    assert ours.q_per_channel_zero_points().dtype == ember.int64


def test_quantized_tensor_accessors_and_repr():
    q = ember.quantize_per_tensor(ember.tensor([[-1.0, 0.5]]), 0.5, 2, ember.quint8)
    assert q.shape == (1, 2) and q.size(1) == 2 and q.dim() == 2 and q.numel() == 2
    assert q.flatten().shape == (2,) and q.is_quantized
    assert "dtype=ember.quint8" in repr(q) and "scale=0.5, zero_point=2" in repr(q)
    assert ember.dequantize(q).dtype == ember.float32
    with pytest.raises(RuntimeError, match="per-channel"):
        q.q_per_channel_scales()
    pc = ember.quantize_per_channel(ember.ones(2, 2), ember.ones(2), ember.zeros(2), 0,
                                    ember.qint8)
    with pytest.raises(RuntimeError, match="per-tensor"):
        pc.q_scale()


def test_quantize_bad_input():
    with pytest.raises(RuntimeError, match="floating point"):
        ember.quantize_per_tensor(ember.tensor([1, 2]), 0.1, 0, ember.qint8)
    with pytest.raises(RuntimeError, match="dtype must be"):
        ember.quantize_per_tensor(ember.ones(2), 0.1, 0, ember.int8)
    with pytest.raises(RuntimeError, match="out of the range"):
        ember.quantize_per_tensor(ember.ones(2), 0.1, 300, ember.quint8)
    with pytest.raises(RuntimeError, match="positive"):
        ember.quantize_per_tensor(ember.ones(2), 0.0, 0, ember.quint8)
    with pytest.raises(TypeError, match="Tensor"):
        ember.quantize_per_tensor([1.0], 0.1, 0, ember.quint8)
    with pytest.raises(RuntimeError, match="expected 3 scales"):
        ember.quantize_per_channel(ember.ones(3, 2), ember.ones(2), ember.zeros(2), 0,
                                   ember.qint8)
    with pytest.raises(IndexError, match="axis"):
        ember.quantize_per_channel(ember.ones(3, 2), ember.ones(3), ember.zeros(3), 2,
                                   ember.qint8)


OBSERVERS = [
    (lambda: eq.MinMaxObserver(), lambda: tq.MinMaxObserver()),
    (lambda: eq.MinMaxObserver(dtype=ember.qint8, qscheme=ember.per_tensor_symmetric),
     lambda: tq.MinMaxObserver(dtype=torch.qint8, qscheme=torch.per_tensor_symmetric)),
    (lambda: eq.MinMaxObserver(reduce_range=True), lambda: tq.MinMaxObserver(reduce_range=True)),
    (lambda: eq.MovingAverageMinMaxObserver(averaging_constant=0.2),
     lambda: tq.MovingAverageMinMaxObserver(averaging_constant=0.2)),
    (lambda: eq.PerChannelMinMaxObserver(ch_axis=1),
     lambda: tq.PerChannelMinMaxObserver(ch_axis=1, dtype=torch.qint8,
                                         qscheme=torch.per_channel_symmetric)),
    (lambda: eq.PerChannelMinMaxObserver(dtype=ember.quint8, qscheme=ember.per_channel_affine),
     lambda: tq.PerChannelMinMaxObserver()),
]


@pytest.mark.parametrize("make", OBSERVERS)
def test_observer_qparams_match_pytorch(make):
    ours, theirs = make[0](), make[1]()
    rng = np.random.default_rng(2)
    for shift in (0.0, 1.5, -0.7):
        x = (rng.standard_normal((5, 4, 3)) + shift).astype(np.float32)
        ours(ember.from_numpy(x))
        theirs(torch.from_numpy(x))
    scale, zero = ours.calculate_qparams()
    t_scale, t_zero = theirs.calculate_qparams()
    np.testing.assert_allclose(scale.numpy(), t_scale.numpy(), rtol=1e-6)
    np.testing.assert_array_equal(zero.numpy(), t_zero.numpy())


def test_observer_bad_use():
    with pytest.raises(RuntimeError, match="observed no values"):
        eq.MinMaxObserver().calculate_qparams()
    with pytest.raises(ValueError, match="quint8 and ember.qint8"):
        eq.MinMaxObserver(dtype=ember.qint32)
    with pytest.raises(NotImplementedError, match="per tensor"):
        eq.MinMaxObserver(qscheme=ember.per_channel_affine)
    with pytest.raises(ValueError, match="observer classes"):
        eq.QConfig(activation=eq.MinMaxObserver(), weight=eq.default_weight_observer)
    with pytest.raises(ValueError, match="unknown backend"):
        eq.get_default_qconfig("arm")
    assert eq.default_weight_observer.with_args(reduce_range=True)().quant_max == 63
