"""grid_sample's compiled kernels (ember.ops.grid) against torch: every mode, padding and
align_corners in 2-D and 3-D, both float dtypes, gradients, strided and extreme grids,
and the composite the kernels replace (which other devices and double backward use)."""
import itertools
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import ember
import ember.nn.functional as F
from ember.autograd import gradcheck, gradgradcheck
from ember.ops import grid as grid_ops

sys.path.insert(0, str(Path(__file__).parent))
from functional_oracle import compare  # noqa: E402

rng = np.random.default_rng(11)

MODES = ["bilinear", "nearest", "bicubic"]
PADDINGS = ["zeros", "border", "reflection"]
CASES = [(spatial, mode, padding, align)
         for spatial, mode, padding, align in itertools.product((2, 3), MODES, PADDINGS,
                                                                 (False, True))
         if not (spatial == 3 and mode == "bicubic")]


def _shapes(spatial, channels=3):
    """Input and grid shapes (2-D kernels take few channels point by point, more a block
    of points at a time)."""
    if spatial == 2:
        return (2, channels, 5, 6), (2, 4, 7, 2)
    return (2, channels, 4, 5, 3), (2, 2, 3, 4, 3)


def _grid(shape, spread=1.5):
    """Points inside and outside the input, some far outside."""
    grid = rng.uniform(-spread, spread, shape)
    flat = grid.reshape(-1)
    flat[:6] = [30.0, -7.5, 1e4, -1e4, 1.0, -1.0]
    return grid


@pytest.mark.parametrize("channels", [3, 5])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("spatial, mode, padding, align", CASES)
def test_matches_torch_with_grads(spatial, mode, padding, align, dtype, channels):
    input_shape, grid_shape = _shapes(spatial, channels)
    options = dict(mode=mode, padding_mode=padding, align_corners=align)
    compare(lambda F, lib, x, g: F.grid_sample(x, g, **options),
            rng.standard_normal(input_shape), _grid(grid_shape), dtype=dtype)


@pytest.mark.parametrize("channels", [3, 5])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("mode", MODES)
def test_warp_inside_the_input(mode, dtype, channels):
    """A warp whose points all lie inside the input (the kernels' fast paths)."""
    theta = np.array([[[0.8, 0.1, 0.05], [-0.1, 0.7, -0.02]]] * 2)
    grid = TF.affine_grid(torch.tensor(theta), (2, channels, 9, 11), align_corners=False)
    compare(lambda F, lib, x, g: F.grid_sample(x, g, mode=mode, align_corners=False),
            rng.standard_normal((2, channels, 8, 10)), grid.numpy(), dtype=dtype)


@pytest.mark.parametrize("spatial, mode, padding, align", CASES)
def test_gradcheck(spatial, mode, padding, align):
    shape = (1, 2, 3, 4) if spatial == 2 else (1, 2, 3, 2, 3)
    grid_shape = (1, 2, 3, 2) if spatial == 2 else (1, 2, 1, 2, 3)
    x = ember.tensor(rng.standard_normal(shape), requires_grad=True)
    # away from pixel centres and borders, where the sampling is not differentiable
    grid = ember.tensor(rng.uniform(-1.6, 1.6, grid_shape) + 0.013, requires_grad=True)
    wrt = (x, grid) if mode != "nearest" else (x,)

    def fn(*args):
        return F.grid_sample(*(args + (grid,))[:2], mode=mode, padding_mode=padding,
                             align_corners=align)
    assert gradcheck(fn, wrt)


@pytest.mark.parametrize("mode", MODES)
def test_double_backward_matches_torch(mode):
    x = rng.standard_normal((1, 2, 4, 5))
    grid = rng.uniform(-1.2, 1.2, (1, 3, 2, 2))
    results = {}
    for lib in (ember, torch):
        xt = lib.tensor(x, requires_grad=True)
        gt = lib.tensor(grid, requires_grad=True)
        fn = F.grid_sample if lib is ember else TF.grid_sample
        out = fn(xt, gt, mode=mode, padding_mode="border", align_corners=False)
        gx, gg = lib.autograd.grad((out * out).sum(), (xt, gt), create_graph=True)
        total = (gx * gx).sum() + (gg * gg).sum()
        found = lib.autograd.grad(total, (xt, gt), allow_unused=True)
        results[lib] = [np.zeros(t.shape) if g is None else np.asarray(g.detach())
                        for t, g in zip((xt, gt), found)]
    for ours, theirs in zip(results[ember], results[torch]):
        np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-9)
    x_e = ember.tensor(x, requires_grad=True)
    g_e = ember.tensor(grid, requires_grad=True)
    assert gradgradcheck(lambda a, b: F.grid_sample(a, b, mode=mode, align_corners=True),
                         (x_e, g_e))


def test_node_names():
    x = ember.randn(1, 1, 3, 3, requires_grad=True)
    assert F.grid_sample(x, ember.zeros(1, 2, 2, 2),
                         align_corners=False).grad_fn.name() == "GridSampler2DBackward0"
    x = ember.randn(1, 1, 2, 3, 3, requires_grad=True)
    assert F.grid_sample(x, ember.zeros(1, 1, 2, 2, 3),
                         align_corners=False).grad_fn.name() == "GridSampler3DBackward0"


@pytest.mark.parametrize("spatial", [2, 3])
def test_non_contiguous_input_and_grid(spatial):
    input_shape, grid_shape = _shapes(spatial)
    x = rng.standard_normal(input_shape[:1] + input_shape[2:] + input_shape[1:2])
    g = _grid(grid_shape[:-1] + (spatial + 1,))
    moved = (0, spatial + 1) + tuple(range(1, spatial + 1))

    def fn(F, lib, x, g):
        return F.grid_sample(x.permute(moved), g[..., 1:], mode="bilinear",
                             padding_mode="reflection", align_corners=False)
    compare(fn, x, g)
    compare(fn, x, g, dtype=np.float32)


@pytest.mark.parametrize("spatial, mode, padding", [
    (s, m, p) for s, m, p in itertools.product((2, 3), MODES, PADDINGS)
    if not (s == 3 and m == "bicubic")])
@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf, 1e10])
@pytest.mark.parametrize("channels", [3, 5])
def test_non_finite_and_huge_grid_values(spatial, mode, padding, value, channels):
    """The forward matches torch for NaN, infinite and huge coordinates (a NaN in a 2-D
    'zeros' grid makes the sample NaN in torch's kernel, zero in its 3-D one)."""
    input_shape, grid_shape = _shapes(spatial, channels)
    x = rng.standard_normal(input_shape)
    grid = _grid(grid_shape)
    grid.reshape(-1)[0] = value
    grid.reshape(-1)[spatial + 1] = value
    options = dict(mode=mode, padding_mode=padding, align_corners=False)
    ours = F.grid_sample(ember.tensor(x), ember.tensor(grid), **options)
    theirs = TF.grid_sample(torch.tensor(x), torch.tensor(grid), **options)
    np.testing.assert_allclose(np.asarray(ours), theirs.numpy(), rtol=1e-10, atol=1e-12,
                               equal_nan=True)


@pytest.mark.parametrize("spatial", [2, 3])
@pytest.mark.parametrize("channels", [3, 5])
def test_nan_grid_backward_with_zeros_padding(spatial, channels):
    """Backward too (torch's own backward of a NaN point with 'border' or 'reflection'
    padding reads out of bounds, so only 'zeros' is compared)."""
    input_shape, grid_shape = _shapes(spatial, channels)
    grid = _grid(grid_shape)
    grid.reshape(-1)[0] = np.nan
    for mode in MODES[:2 if spatial == 3 else 3]:
        compare(lambda F, lib, x, g: F.grid_sample(x, g, mode=mode, align_corners=True),
                rng.standard_normal(input_shape), grid)


@pytest.mark.parametrize("dtype", [ember.float16, ember.bfloat16])
def test_half_types_compute_in_float32(dtype):
    x = ember.randn(1, 2, 4, 5).to(dtype).requires_grad_()
    grid = (ember.rand(1, 3, 3, 2) * 2 - 1).to(dtype).requires_grad_()
    out = F.grid_sample(x, grid, align_corners=False)
    assert out.dtype == dtype
    expected = F.grid_sample(x.float(), grid.float(), align_corners=False)
    assert ember.allclose(out.float(), expected.to(dtype).float())
    out.float().sum().backward()
    assert x.grad.dtype == dtype and grid.grad.dtype == dtype


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("input_shape, grid_shape", [
    ((0, 3, 4, 5), (0, 2, 3, 2)), ((2, 3, 4, 5), (2, 0, 3, 2)), ((2, 0, 4, 5), (2, 3, 3, 2))])
def test_empty_with_grads(mode, input_shape, grid_shape):
    x = ember.zeros(input_shape, requires_grad=True)
    grid = ember.zeros(grid_shape, requires_grad=True)
    out = F.grid_sample(x, grid, mode=mode, align_corners=False)
    assert tuple(out.shape) == input_shape[:2] + grid_shape[1:3]
    out.sum().backward()
    assert tuple(x.grad.shape) == input_shape and not x.grad.any()
    assert tuple(grid.grad.shape) == grid_shape and not grid.grad.any()


def test_one_gradient_only():
    x = ember.randn(2, 3, 4, 5, requires_grad=True)
    grid = ember.rand(2, 3, 3, 2) * 2 - 1
    F.grid_sample(x, grid, align_corners=False).sum().backward()
    x2 = ember.randn(2, 3, 4, 5)
    grid2 = (ember.rand(2, 3, 3, 2) * 2 - 1).requires_grad_()
    F.grid_sample(x2, grid2, align_corners=False).sum().backward()
    assert x.grad is not None and grid2.grad is not None


@pytest.mark.parametrize("spatial, mode, padding, align", CASES[::3])
def test_composite_matches_kernel(spatial, mode, padding, align):
    """The composite (other devices, double backward) and the kernels agree."""
    input_shape, grid_shape = _shapes(spatial)
    x = ember.tensor(rng.standard_normal(input_shape))
    grid = ember.tensor(_grid(grid_shape))
    kernel = F.grid_sample(x, grid, mode=mode, padding_mode=padding, align_corners=align)
    composite = grid_ops.grid_sample_composite(x, grid, mode, padding, align)
    assert ember.allclose(kernel, composite, atol=1e-12)


def test_bad_inputs_raise_like_torch():
    def sample(input_shape, grid_shape, dtype="float32", **options):
        def run(F, lib):
            kind = getattr(lib, dtype)
            return F.grid_sample(lib.ones(input_shape, dtype=kind),
                                 lib.zeros(grid_shape, dtype=kind), align_corners=False,
                                 **options)
        return run
    cases = [sample((1, 1, 0, 2), (1, 1, 1, 2)), sample((1, 1, 2, 2), (1, 1, 1, 2), "int64"),
             sample((1, 1, 3, 2), (1, 1, 2)), sample((2, 1, 3, 2), (1, 1, 1, 2)),
             sample((1, 1, 3, 2), (1, 1, 1, 3)),
             sample((1, 1, 3, 2, 2), (1, 1, 1, 1, 3), mode="bicubic"),
             sample((1, 1, 3, 2), (1, 1, 1, 2), mode="area"),
             sample((1, 1, 3, 2), (1, 1, 1, 2), padding_mode="circular")]
    for case in cases:
        with pytest.raises(Exception) as theirs:
            case(TF, torch)
        with pytest.raises(theirs.type) as ours:
            case(F, ember)
        first = str(theirs.value).split(",")[0]
        assert str(ours.value).startswith(first), (str(ours.value), first)
