"""Convolutions over random geometries against torch: 1-3 spatial dims, kernel,
stride, dilation, padding, groups and (transposed) output padding, with the input
and weight gradients; unfold/fold likewise.  Padding exercises the padded scratch
plane of im2col/col2im; an output padding of a stride or more (below the dilation)
the full-scatter-and-crop path of the transposed convolution."""
import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import ember
import ember.nn.functional as F


def _geometries(seed, count):
    draw = np.random.default_rng(seed)
    found = 0
    while found < count:
        spatial = int(draw.integers(1, 4))
        size = tuple(int(s) for s in draw.integers(1, 8, size=spatial))
        kernel = tuple(int(s) for s in draw.integers(1, 4, size=spatial))
        stride = tuple(int(s) for s in draw.integers(1, 3, size=spatial))
        dilation = tuple(int(s) for s in draw.integers(1, 4, size=spatial))
        padding = tuple(int(s) for s in draw.integers(0, 3, size=spatial))
        if any((k - 1) * d + 1 > s + 2 * p for k, d, s, p in zip(kernel, dilation, size, padding)):
            continue
        found += 1
        yield draw, spatial, size, kernel, stride, dilation, padding, int(draw.choice([1, 2]))


def _both(x):
    return ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)


def _close(e, t):
    np.testing.assert_allclose(np.asarray(e.detach()), t.detach().numpy(), rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("seed", range(4))
def test_convolution_and_gradients(seed):
    for draw, sp, size, kernel, stride, dilation, padding, groups in _geometries(seed, 12):
        x = draw.standard_normal((2, 2 * groups) + size)
        w = draw.standard_normal((2 * groups, 2) + kernel)
        b = draw.standard_normal(2 * groups)
        (ex, tx), (ew, tw), (eb, tb) = _both(x), _both(w), _both(b)
        args = (stride, padding, dilation, groups)
        ey = getattr(F, f"conv{sp}d")(ex, ew, eb, *args)
        ty = getattr(TF, f"conv{sp}d")(tx, tw, tb, *args)
        _close(ey, ty)
        g = draw.standard_normal(tuple(ty.shape))
        ey.backward(ember.tensor(g))
        ty.backward(torch.tensor(g))
        for e, t in ((ex, tx), (ew, tw), (eb, tb)):
            _close(e.grad, t.grad)


@pytest.mark.parametrize("seed", range(4))
def test_transposed_convolution_and_gradients(seed):
    for draw, sp, size, kernel, stride, dilation, padding, groups in _geometries(seed + 10, 12):
        output_padding = tuple(int(draw.integers(0, max(s, d))) for s, d in zip(stride, dilation))
        out = [(n - 1) * s - 2 * p + d * (k - 1) + op + 1 for n, s, p, d, k, op in
               zip(size, stride, padding, dilation, kernel, output_padding)]
        if min(out) <= 0:
            continue
        x = draw.standard_normal((2, 2 * groups) + size)
        w = draw.standard_normal((2 * groups, 3) + kernel)
        b = draw.standard_normal(3 * groups)
        (ex, tx), (ew, tw), (eb, tb) = _both(x), _both(w), _both(b)
        args = (stride, padding, output_padding, groups, dilation)
        ey = getattr(F, f"conv_transpose{sp}d")(ex, ew, eb, *args)
        ty = getattr(TF, f"conv_transpose{sp}d")(tx, tw, tb, *args)
        _close(ey, ty)
        g = draw.standard_normal(tuple(ty.shape))
        ey.backward(ember.tensor(g))
        ty.backward(torch.tensor(g))
        for e, t in ((ex, tx), (ew, tw), (eb, tb)):
            _close(e.grad, t.grad)


def test_unfold_and_fold():
    for draw, sp, size, kernel, stride, dilation, padding, _ in _geometries(3, 40):
        if sp != 2:
            continue
        x = draw.standard_normal((2, 3) + size)
        args = (kernel, dilation, padding, stride)
        e_cols, t_cols = F.unfold(ember.tensor(x), *args), TF.unfold(torch.tensor(x), *args)
        _close(e_cols, t_cols)
        _close(F.fold(e_cols, size, *args), TF.fold(t_cols, size, *args))
