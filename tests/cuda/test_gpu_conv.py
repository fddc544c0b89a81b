"""Convolution, fold/unfold and pooling on the GPU against the CPU result: dtypes,
strides, padding, dilation, groups, transposed convolutions, 1-d to 3-d, the pooling
variants and the gradients through autograd.  Marked gpu: skipped, with the reason,
where CuPy or a GPU is missing (tests/cuda/conftest.py then runs them on the emulated GPU)."""
import numpy as np
import pytest

import ember
import ember.nn.functional as F
from ember.cuda import _conv

pytestmark = pytest.mark.gpu

FLOATS = [ember.float16, ember.bfloat16, ember.float32, ember.float64]
# cuBLAS and the kernels accumulate 16-bit and float32 data in float32, as the CPU does,
# but in another order
TOL = {ember.float16: 4e-3, ember.bfloat16: 3e-2, ember.float32: 2e-5, ember.float64: 1e-12}


def sample(shape, dtype, seed=0):
    return ember.tensor(np.random.default_rng(seed).uniform(-1.0, 1.0, shape)).to(dtype)


def assert_same(got, want, scale=1.0):
    """``got`` (cuda) equals ``want`` (CPU) within the dtype's tolerance, relative to
    ``scale`` (the size of the terms summed into each element)."""
    if isinstance(want, (tuple, list)):
        for a, b in zip(got, want):
            assert_same(a, b, scale)
        return
    assert got.device.type == "cuda"
    got = got.cpu()
    assert got.dtype == want.dtype and got.shape == want.shape
    if not want.dtype.is_floating_point:
        np.testing.assert_array_equal(got.numpy(), want.numpy())
        return
    tol = TOL[want.dtype]
    np.testing.assert_allclose(got.to(ember.float64).numpy(), want.to(ember.float64).numpy(),
                               rtol=tol, atol=tol * scale, equal_nan=True)


def on_both(fn, *tensors):
    """``fn`` of the CPU tensors and of their cuda copies."""
    return fn(*tensors), fn(*[t.cuda() if t is not None else None for t in tensors])


# (spatial input size, kernel, stride, padding, dilation, groups)
CONV_CASES = [
    ((9,), (3,), 1, 0, 1, 1),
    ((10,), (4,), 3, 2, 2, 2),
    ((7, 6), (3, 3), 1, 1, 1, 1),
    ((8, 9), (3, 2), (2, 1), (1, 0), (1, 2), 2),
    ((6, 5), (1, 1), 1, 0, 1, 4),
    ((4, 5, 4), (2, 3, 2), (1, 2, 1), (1, 1, 0), 1, 2),
]
CONV_IDS = ["1d", "1d-strided-groups", "2d-same", "2d-dilated-groups", "2d-pointwise-depthwise",
            "3d"]
CONVS = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}
TRANSPOSED = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}


def conv_operands(case, dtype, bias=True, batch=2, channels=4, out_channels=4):
    size, kernel, _, _, _, groups = case
    x = sample((batch, channels) + size, dtype, 1)
    w = sample((out_channels, channels // groups) + kernel, dtype, 2)
    b = sample((out_channels,), dtype, 3) if bias else None
    return x, w, b


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("case", CONV_CASES, ids=CONV_IDS)
def test_convolution_matches_cpu(dtype, case):
    size, kernel, stride, padding, dilation, groups = case
    x, w, b = conv_operands(case, dtype)
    conv = CONVS[len(size)]
    want, got = on_both(lambda x, w, b: conv(x, w, b, stride, padding, dilation, groups), x, w, b)
    assert_same(got, want, 4.0)
    want, got = on_both(lambda x, w: conv(x, w, None, stride, padding, dilation, groups), x, w)
    assert_same(got, want, 4.0)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("case", CONV_CASES, ids=CONV_IDS)
def test_transposed_convolution_matches_cpu(dtype, case):
    size, kernel, stride, padding, dilation, groups = case
    x = sample((2, 4) + size, dtype, 1)
    w = sample((4, 3 if groups == 1 else 2) + kernel, dtype, 2)
    b = sample((w.shape[1] * groups,), dtype, 3)
    extra = tuple(int(min(s, d)) - 1 for s, d in zip(np.broadcast_to(stride, len(size)),
                                                      np.broadcast_to(dilation, len(size))))
    conv = TRANSPOSED[len(size)]
    want, got = on_both(lambda x, w, b: conv(x, w, b, stride, padding, extra, groups, dilation),
                        x, w, b)
    assert_same(got, want, 4.0)


@pytest.mark.parametrize("dtype", [ember.float32, ember.float64])
@pytest.mark.parametrize("case", CONV_CASES, ids=CONV_IDS)
def test_convolution_gradients_match_cpu(dtype, case):
    """Input, weight and bias gradients through autograd (the transposed convolution and
    the weight gradient kernels), and those of the transposed convolution."""
    size, kernel, stride, padding, dilation, groups = case
    x, w, b = conv_operands(case, dtype)
    conv = CONVS[len(size)]

    def grads(x, w, b):
        x, w, b = (t.detach().requires_grad_() for t in (x, w, b))
        y = conv(x, w, b, stride, padding, dilation, groups)
        y.backward(sample(tuple(y.shape), dtype, 4).to(y.device))
        return x.grad, w.grad, b.grad

    want, got = on_both(grads, x, w, b)
    assert_same(got, want, 8.0)

    def transposed_grads(x, w):
        x, w = (t.detach().requires_grad_() for t in (x, w))
        y = TRANSPOSED[len(size)](x, w, None, stride, padding, 0, groups, dilation)
        y.backward(sample(tuple(y.shape), dtype, 5).to(y.device))
        return x.grad, w.grad

    wt = sample((4, 4 // groups) + kernel, dtype, 6)
    want, got = on_both(transposed_grads, x, wt)
    assert_same(got, want, 8.0)


def test_convolution_double_backward_matches_cpu():
    """Gradients of gradients (create_graph): the three convolution ops differentiate
    into each other on the GPU too."""
    x, w, b = conv_operands(CONV_CASES[3], ember.float64)

    def grad_of_grads(x, w, b):
        x, w, b = (t.detach().requires_grad_() for t in (x, w, b))
        y = F.conv2d(x, w, b, (2, 1), (1, 0), (1, 2), 2)
        gx, gw = ember.autograd.grad((y * y).sum(), (x, w), create_graph=True)
        ((gx * gx).sum() + (gw * gw).sum()).backward()
        return x.grad, w.grad, b.grad

    want, got = on_both(grad_of_grads, x, w, b)
    assert_same(got, want, 64.0)


@pytest.mark.parametrize("dtype", [ember.float16, ember.float32])
def test_convolution_of_strided_and_channels_last_inputs(dtype):
    x = sample((2, 6, 5, 4), dtype, 1)
    w = sample((3, 4, 3, 2), dtype, 2)
    views = {
        "channels_last": lambda t: t[:, :4].permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2),
        "sliced": lambda t: t[:, 1:5],
        "transposed": lambda t: t.transpose(2, 3).contiguous().transpose(2, 3)[:, :4],
    }
    for view in views.values():
        want, got = on_both(lambda x, w: F.conv2d(view(x), w, padding=1), x, w)
        assert_same(got, want, 4.0)
        want, got = on_both(lambda x, w: F.conv2d(x[:, :4], w.transpose(2, 3).contiguous()
                                                  .transpose(2, 3), padding=1), x, w)
        assert_same(got, want, 4.0)


def test_convolution_in_chunks_matches_cpu(monkeypatch):
    """Column matrices over the budget: the batch runs in chunks (the weight gradient
    sums them; the forward permutes each chunk's product into place)."""
    monkeypatch.setattr(_conv, "COLUMN_BUDGET", 2 * 4 * 9 * 20)
    case = ((5, 4), (3, 3), 1, 1, 1, 2)
    x, w, b = conv_operands(case, ember.float32, batch=5)
    want, got = on_both(lambda x, w, b: F.conv2d(x, w, b, padding=1, groups=2), x, w, b)
    assert_same(got, want, 4.0)

    def grads(x, w, b):
        x, w, b = (t.detach().requires_grad_() for t in (x, w, b))
        y = F.conv2d(x, w, b, padding=1, groups=2)
        y.backward(sample(tuple(y.shape), ember.float32, 4).to(y.device))
        return x.grad, w.grad, b.grad

    want, got = on_both(grads, x, w, b)
    assert_same(got, want, 8.0)


def test_convolution_of_empty_batches_and_channels():
    x, w, b = sample((0, 4, 5, 5), ember.float32), sample((3, 4, 3, 3), ember.float32), \
        sample((3,), ember.float32)
    want, got = on_both(lambda x, w, b: F.conv2d(x, w, b), x, w, b)
    assert_same(got, want)
    x0, w0 = sample((2, 0, 5, 5), ember.float32), sample((3, 0, 3, 3), ember.float32)
    want, got = on_both(lambda x, w, b: F.conv2d(x, w, b), x0, w0, b)
    assert_same(got, want)
    want, got = on_both(lambda x, w: F.conv_transpose2d(x, w), sample((0, 3, 4, 4), ember.float32),
                        sample((3, 2, 3, 3), ember.float32))
    assert_same(got, want)


@pytest.mark.parametrize("dtype", FLOATS)
def test_unfold_and_fold_match_cpu(dtype):
    x = sample((2, 3, 7, 6), dtype, 1)
    args = dict(kernel_size=(3, 2), dilation=(1, 2), padding=1, stride=(2, 1))
    want, got = on_both(lambda x: F.unfold(x, **args), x)
    assert_same(got, want)
    cols = sample(tuple(want.shape), dtype, 2)
    want, got = on_both(lambda c: F.fold(c, (7, 6), **args), cols)
    assert_same(got, want, 4.0)
    want, got = on_both(lambda c: F.fold(c.transpose(1, 2).contiguous().transpose(1, 2), (7, 6),
                                         **args), cols)
    assert_same(got, want, 4.0)


# ------------------------------------------------------------------ pooling

POOLS = {1: (F.max_pool1d, F.avg_pool1d, F.adaptive_avg_pool1d, F.adaptive_max_pool1d),
         2: (F.max_pool2d, F.avg_pool2d, F.adaptive_avg_pool2d, F.adaptive_max_pool2d),
         3: (F.max_pool3d, F.avg_pool3d, F.adaptive_avg_pool3d, F.adaptive_max_pool3d)}
SIZES = {1: (11,), 2: (7, 9), 3: (5, 6, 4)}


def pool_input(spatial, dtype, seed=1, ties=False):
    x = sample((2, 3) + SIZES[spatial], dtype, seed)
    if ties:        # repeated values: the first maximum's index wins
        x = (x * 2).round() / 2
    return x


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("spatial", [1, 2, 3])
@pytest.mark.parametrize("args", [dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1),
                                  dict(kernel_size=3, stride=2, dilation=2, ceil_mode=True),
                                  dict(kernel_size=2, stride=3, padding=1, ceil_mode=True)],
                         ids=["plain", "padded", "dilated-ceil", "ceil-padded"])
def test_max_pool_values_and_indices_match_cpu(dtype, spatial, args):
    x = pool_input(spatial, dtype, ties=True)
    want, got = on_both(lambda x: POOLS[spatial][0](x, return_indices=True, **args), x)
    assert_same(got, want)


def test_max_pool_propagates_nan_like_the_cpu():
    x = sample((2, 2, 6, 6), ember.float32)
    x[0, 1, 2, 3] = float("nan")
    x[1, 0, 0, 0] = float("nan")
    x[1, 0, 5, 5] = float("nan")
    for fn in (lambda x: F.max_pool2d(x, 3, 2, 1, return_indices=True),
               lambda x: F.adaptive_max_pool2d(x, (4, 3), return_indices=True)):
        want, got = on_both(fn, x)
        assert_same(got, want)


def test_pooling_of_strided_and_channels_last_inputs():
    x = pool_input(2, ember.float32, ties=True)
    views = [lambda t: t.transpose(2, 3), lambda t: t[:, :, 1:, ::2],
             lambda t: t.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2)]
    for view in views:
        for fn in (lambda x: F.max_pool2d(view(x), 2, 1, return_indices=True),
                   lambda x: F.avg_pool2d(view(x), 3, 2, 1),
                   lambda x: F.adaptive_avg_pool2d(view(x), (2, 3)),
                   lambda x: F.adaptive_max_pool2d(view(x), (3, 2), return_indices=True)):
            want, got = on_both(fn, x)
            assert_same(got, want)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("spatial", [1, 2, 3])
@pytest.mark.parametrize("args", [dict(kernel_size=2),
                                  dict(kernel_size=3, stride=2, padding=1),
                                  dict(kernel_size=3, stride=2, padding=1, count_include_pad=False,
                                       ceil_mode=True),
                                  dict(kernel_size=2, stride=1, padding=1, divisor_override=3)],
                         ids=["plain", "padded", "exclude-pad-ceil", "divisor"])
def test_avg_pool_matches_cpu(dtype, spatial, args):
    if spatial == 1 and "divisor_override" in args:
        args = {k: v for k, v in args.items() if k != "divisor_override"}
    want, got = on_both(lambda x: POOLS[spatial][1](x, **args), pool_input(spatial, dtype))
    assert_same(got, want)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("spatial", [1, 2, 3])
def test_adaptive_pools_match_cpu(dtype, spatial):
    x = pool_input(spatial, dtype, ties=True)
    _, _, avg, mx = POOLS[spatial]
    for outs in ((3,) * spatial, tuple(s + 1 for s in SIZES[spatial]), (1,) * spatial):
        want, got = on_both(lambda x: avg(x, outs), x)
        assert_same(got, want)
        want, got = on_both(lambda x: mx(x, outs, return_indices=True), x)
        assert_same(got, want)


@pytest.mark.parametrize("dtype", [ember.float16, ember.float32, ember.float64])
@pytest.mark.parametrize("spatial", [1, 2, 3])
def test_pooling_gradients_match_cpu(dtype, spatial):
    mx, avg, aavg, amx = POOLS[spatial]
    outs = tuple(s // 2 + 1 for s in SIZES[spatial])
    ops = [lambda x: mx(x, 3, 2, 1, dilation=1, ceil_mode=True),
           lambda x: mx(x, 2, 1, 0, dilation=2),
           lambda x: avg(x, 3, 2, 1, ceil_mode=True, count_include_pad=False),
           lambda x: avg(x, 2, 1, 1),
           lambda x: aavg(x, outs),
           lambda x: amx(x, outs)]
    x = pool_input(spatial, dtype, ties=True)
    for op in ops:
        def grad(x):
            x = x.detach().requires_grad_()
            y = op(x)
            y.backward(sample(tuple(y.shape), dtype, 7).to(y.device))
            return x.grad

        want, got = on_both(grad, x)
        assert_same(got, want, 4.0)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("spatial", [1, 2, 3])
def test_max_pool_backward_is_the_cpus_bit_for_bit(dtype, spatial):
    """Overlapping windows and bins, ties and constant planes (one input the maximum of
    several windows), dilation, padding: each input element's gathered sum is the CPU's
    scattered one, added in the same order, on every run."""
    mx, _, _, amx = POOLS[spatial]
    x = pool_input(spatial, dtype, ties=True)
    x[1, 2] = 0.5                                     # a constant plane: all ties
    ops = [lambda x: mx(x, 3, 1, 1), lambda x: mx(x, 3, 2, 1, dilation=2, ceil_mode=True),
           lambda x: mx(x, 2, 1, 0), lambda x: amx(x, tuple(s - 1 for s in SIZES[spatial])),
           lambda x: amx(x, tuple(s + 2 for s in SIZES[spatial]))]
    for op in ops:
        def grad(x):
            x = x.detach().requires_grad_()
            y = op(x)
            g = sample(tuple(y.shape) + (2,), dtype, 7).to(y.device)
            y.backward(g[..., 0])                     # a non-contiguous gradient
            return x.grad

        want, got = on_both(grad, x)
        again = grad(x.cuda())
        for g in (got, again):
            np.testing.assert_array_equal(g.cpu().to(ember.float64).numpy(),
                                          want.to(ember.float64).numpy())


def test_max_pool_backward_of_empty_and_strided_inputs():
    x = pool_input(2, ember.float32, ties=True)
    for view in (lambda t: t[:, :, ::2, 1:], lambda t: t.transpose(2, 3), lambda t: t[:0]):
        def grad(x):
            x = view(x).detach().requires_grad_()
            F.max_pool2d(x, 2, 1).sum().backward()
            return x.grad

        want, got = on_both(grad, x)
        np.testing.assert_array_equal(got.cpu().numpy(), want.numpy())


def test_max_pool_double_backward_matches_cpu():
    x = pool_input(2, ember.float64, ties=True)

    def grads(x):
        x = x.detach().requires_grad_()
        y = F.max_pool2d(x, 3, 1, 1)
        (g,) = ember.autograd.grad((y * y).sum(), x, create_graph=True)
        (gg,) = ember.autograd.grad((g * g).sum(), x)
        return g.detach(), gg

    want, got = on_both(grads, x)
    assert_same(got, want)


@pytest.mark.parametrize("dtype", [ember.bfloat16, ember.float32])
def test_max_unpool_matches_cpu(dtype):
    x = pool_input(2, dtype)
    values, indices = F.max_pool2d(x, 2, return_indices=True)
    want = F.max_unpool2d(values, indices, 2, output_size=(7, 9))
    got = F.max_unpool2d(values.cuda(), indices.cuda(), 2, output_size=(7, 9))
    assert_same(got, want)


def test_invalid_unpool_index_raises_like_the_cpu():
    values = sample((1, 2, 2, 2), ember.float32)
    indices = ember.tensor(np.array([[[[0, 1], [2, 99]], [[0, 1], [2, 3]]]], np.int64))
    with pytest.raises(RuntimeError) as cpu:
        F.max_unpool2d(values, indices, 2)
    with pytest.raises(RuntimeError) as gpu:
        F.max_unpool2d(values.cuda(), indices.cuda(), 2)
    assert str(gpu.value) == str(cpu.value)


def test_a_small_cnn_trains_the_same_on_both():
    """conv -> relu -> max pool -> conv -> adaptive avg pool, one SGD step."""
    rng = np.random.default_rng(0)
    x = ember.tensor(rng.standard_normal((4, 3, 12, 12)).astype(np.float32))
    params = [ember.tensor(rng.standard_normal(s).astype(np.float32) * 0.3)
              for s in [(8, 3, 3, 3), (8,), (5, 8, 3, 3), (5,)]]

    def step(x, *params):
        params = [p.detach().requires_grad_() for p in params]
        w1, b1, w2, b2 = params
        h = F.max_pool2d(F.relu(F.conv2d(x, w1, b1, padding=1)), 2)
        y = F.adaptive_avg_pool2d(F.conv2d(h, w2, b2, stride=2), 1).flatten(1)
        (y * y).sum().backward()
        return [p.grad for p in params] + [y.detach()]

    want, got = on_both(step, x, *params)
    assert_same(got, want, 16.0)
