"""A traced convolution followed by a 2x2 max pooling computes the pooling itself
(``pool_2x2``: in Winograd's output transform, or over its result in the same call), and
a traced convolution by a constant weight keeps that weight's Winograd transform
(PreparedConvolution): the same bits as the eager ops, NaN included, and the transform
made again when the weight changes."""
import numpy as np
import pytest

import ember
import ember.nn.functional as F
from ember import nn
from ember._core._conv import PreparedConvolution, convolution

rng = np.random.default_rng(5)

# (N, C, O, H, W, padding, dtype): Winograd (float32, 32+ channels, 256+ positions) with
# rows of 4+ tiles, 2 tiles (scalar), odd sizes (a last row / column the pooling drops);
# the im2col path (few channels, one image, float64, 1x1 padding 0)
SHAPES = [(64, 32, 64, 8, 8, 1, "float32"), (3, 32, 40, 15, 15, 1, "float32"),
          (2, 33, 32, 16, 9, 1, "float32"), (6, 32, 32, 7, 7, 1, "float32"),
          (4, 32, 32, 20, 3, 2, "float32"), (1, 32, 64, 8, 8, 1, "float32"),
          (5, 32, 32, 7, 8, 1, "float32"), (2, 32, 32, 9, 17, 1, "float32"),
          (3, 32, 32, 5, 24, 1, "float32"),
          (2, 3, 8, 9, 6, 0, "float32"), (5, 4, 6, 8, 8, 1, "float64")]


def _tensors(n, c, o, h, w, dtype, nan=True):
    x = rng.standard_normal((n, c, h, w)).astype(dtype)
    if nan:
        x[0, 0, 0, :3] = np.nan
        x[-1, -1, 2, 2] = np.inf
    k = rng.standard_normal((o, c, 3, 3)).astype(dtype)
    b = rng.standard_normal(o).astype(dtype)
    return ember.from_numpy(x), ember.from_numpy(k), ember.from_numpy(b)


def _conv(x, k, b, pad, **kwargs):
    return convolution(x, k, b, (1, 1), (pad, pad), (1, 1), 1, **kwargs)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("activation", [None, "relu"])
@pytest.mark.parametrize("threads", [1, 2])
def test_pooled_convolution_is_the_pooling_of_the_convolution(shape, activation, threads):
    n, c, o, h, w, pad, dtype = shape
    x, k, b = _tensors(n, c, o, h, w, dtype)
    previous = ember.get_num_threads()
    ember.set_num_threads(threads)
    try:
        want = F.max_pool2d(_conv(x, k, b, pad, activation=activation), 2).numpy()
        got = _conv(x, k, b, pad, activation=activation, pool_2x2=True)
        prepared = PreparedConvolution(k)
        twice = [prepared.convolution(x, k, b, (1, 1), (pad, pad), (1, 1), 1,
                                      activation=activation, pool_2x2=True) for _ in range(2)]
    finally:
        ember.set_num_threads(previous)
    assert got.shape == want.shape and got.dtype == x.dtype
    np.testing.assert_array_equal(got.numpy(), want)        # NaN where the pooling has one
    for result in twice:
        np.testing.assert_array_equal(result.numpy(), want)


def test_pooled_convolution_without_bias_and_of_empty_batches():
    x, k, _ = _tensors(4, 32, 32, 8, 8, "float32")
    want = F.max_pool2d(_conv(x, k, None, 1), 2).numpy()
    np.testing.assert_array_equal(_conv(x, k, None, 1, pool_2x2=True).numpy(), want)
    empty = _conv(x[:0], k, None, 1, pool_2x2=True)
    assert tuple(empty.shape) == (0, 32, 4, 4)


def test_pooled_convolution_refuses_what_it_cannot_pool():
    x = ember.randn(2, 3, 5)
    k = ember.randn(4, 3, 3)
    with pytest.raises(RuntimeError, match="2x2 pooling needs a 2-D output"):
        convolution(x, k, None, (1,), (1,), (1,), 1, pool_2x2=True)
    with pytest.raises(RuntimeError, match="2x2 pooling needs a 2-D output"):
        _conv(ember.randn(1, 3, 3, 1), ember.randn(4, 3, 3, 3), None, 1, pool_2x2=True)


def test_prepared_convolution_follows_its_weight():
    x, k, b = _tensors(8, 32, 32, 8, 8, "float32", nan=False)
    prepared = PreparedConvolution(k)

    def run(weight):
        return prepared.convolution(x, weight, b, (1, 1), (1, 1), (1, 1), 1).numpy()

    np.testing.assert_array_equal(run(k), _conv(x, k, b, 1).numpy())
    k.mul_(0.5)                 # in place: a new version, transformed again
    np.testing.assert_array_equal(run(k), _conv(x, k, b, 1).numpy())
    k.data = ember.randn(32, 32, 3, 3)          # other memory under the same tensor
    np.testing.assert_array_equal(run(k), _conv(x, k, b, 1).numpy())
    other = ember.randn(32, 32, 3, 3)           # another weight: not the one prepared
    np.testing.assert_array_equal(run(other), _conv(x, other, b, 1).numpy())
    np.testing.assert_array_equal(run(k.double().float()), _conv(x, k, b, 1).numpy())
    half = k.to(ember.bfloat16)
    np.testing.assert_array_equal(
        PreparedConvolution(half).convolution(x.to(ember.bfloat16), half, None, (1, 1), (1, 1),
                                              (1, 1), 1).float().numpy(),
        _conv(x.to(ember.bfloat16), half, None, 1).float().numpy())


def _cnn():
    return nn.Sequential(nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(),
                         nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(64 * 4 * 4, 10)).eval()


@pytest.mark.parametrize("batch", [1, 64])
def test_traced_cnn_pools_in_its_convolution(batch, tmp_path):
    # the convolutions and the pooling bit for bit; the whole model to float32 rounding
    # (its last product, 10 columns wide, runs on OpenBLAS, whose kernels sum the folded
    # contiguous weight.t() and eager's transposed view in other orders)
    model = _cnn()
    features = model[:6]
    x = ember.randn(batch, 1, 8, 8)
    x[0, 0, 3, 3] = float("nan")
    traced, traced_features = ember.jit.trace(model, x), ember.jit.trace(features, x)
    for graph in (traced, traced_features):
        assert graph.passes["conv_pool"] == 1
        ops = [n.op for n in graph.graph.nodes]
        assert "max_pool" not in ops and ops.count("convolution") == 2
        assert "pool_2x2=True" in str(graph.graph)

    def check():
        with ember.no_grad():
            want, want_features = model(x).numpy(), features(x).numpy()
        np.testing.assert_array_equal(traced_features(x).numpy(), want_features)
        np.testing.assert_allclose(traced(x).numpy(), want, rtol=1e-5, atol=1e-6)
        return want_features

    want_features = check()
    traced_features.save(tmp_path / "cnn.emb")
    np.testing.assert_array_equal(ember.jit.load(tmp_path / "cnn.emb")(x).numpy(),
                                  want_features)
    # the weights change after tracing: the graph reads them, and transforms them again
    with ember.no_grad():
        model[2].weight.mul_(0.5)
    check()


def test_traced_pooling_stays_apart_where_it_must():
    conv = nn.Conv2d(3, 4, 3).eval()

    def reads_indices(x):
        return F.max_pool2d(conv(x), 2, return_indices=True)

    def reads_the_convolution(x):
        y = conv(x)
        return F.max_pool2d(y, 2) + y[:, :, :6:2, :6:2]

    def other_window(x):
        return F.max_pool2d(conv(x), 3, stride=2)

    def ceil_mode(x):
        return F.max_pool2d(conv(x), 2, ceil_mode=True)

    x = ember.randn(2, 3, 9, 9)
    for fn in (reads_indices, reads_the_convolution, other_window, ceil_mode):
        traced = ember.jit.trace(fn, x)
        assert traced.passes["conv_pool"] == 0, fn.__name__
        with ember.no_grad():
            want = fn(x)
        got = traced(x)
        for a, e in zip(got if isinstance(got, tuple) else (got,),
                        want if isinstance(want, tuple) else (want,)):
            np.testing.assert_array_equal(a.numpy(), e.numpy())


def test_prepared_convolution_checks_each_call_that_differs_from_the_last():
    x, k, b = _tensors(2, 3, 4, 9, 9, "float32", nan=False)
    prepared = PreparedConvolution(k)
    one, pad = (1, 1), (1, 1)

    def both(*args, **kwargs):
        got = prepared.convolution(*args, **kwargs)
        want = convolution(*args, **kwargs)
        assert got.dtype == want.dtype
        np.testing.assert_array_equal(got.numpy(), want.numpy())

    for _ in range(2):                          # the second: the cached geometry
        both(x, k, b, one, pad, one, 1)
    both(x[:1], k, b, one, pad, one, 1)                     # another input shape
    both(ember.randn(2, 3, 7, 11), k, b, one, pad, one, 1)
    both(x, k, b, (2, 2), pad, one, 1)                      # other argument objects
    both(x, k, b, one, (0, 0), one, 1)
    both(x, k, b, one, pad, (2, 2), 1)
    both(x, k, None, one, pad, one, 1)
    both(x, k, b, one, pad, one, 1, activation="relu")
    both(x, k, b, one, pad, one, 1, pool_2x2=True)
    both(x.transpose(2, 3), k, b, one, pad, one, 1)         # not contiguous
    both(x.double(), k.double(), b.double(), one, pad, one, 1)   # another weight
    both(x, k, b, one, pad, one, 1)
    b.data = ember.randn(4)                                 # the same bias, other memory
    both(x, k, b, one, pad, one, 1)
    k.data = ember.randn(4, 3, 3, 3).double()               # the weight, now float64
    with pytest.raises(RuntimeError, match="should be the same"):
        prepared.convolution(x, k, b, one, pad, one, 1)
    both(x.double(), k, b.double(), one, pad, one, 1)
    k.data = ember.randn(6, 3, 1, 1)                        # another shape
    with pytest.raises(RuntimeError, match="expected bias to be 1-dimensional with 6"):
        prepared.convolution(x, k, b, one, pad, one, 1)
    both(x, k, None, one, pad, one, 1)
    with pytest.raises(RuntimeError, match="expected input.* to have 3 channels"):
        prepared.convolution(ember.randn(2, 5, 9, 9), k, None, one, pad, one, 1)
    with pytest.raises(TypeError, match="input must be a Tensor"):
        prepared.convolution(x.numpy(), k, None, one, pad, one, 1)


def test_traced_convolutions_called_from_threads_at_once():
    # each call runs its kernels on its own copy of the checked geometry and holds the
    # weight transform it reads, whatever the other threads' calls check meanwhile
    import threading
    model = _cnn()
    traced = ember.jit.trace(model, ember.randn(64, 1, 8, 8))
    inputs = [ember.randn(batch, 1, 8, 8) for batch in (64, 1, 48, 3)]
    wants = [traced(x).numpy() for x in inputs]         # one call at a time
    errors = []

    def work(k):
        try:
            for _ in range(30):
                np.testing.assert_array_equal(traced(inputs[k]).numpy(), wants[k])
        except Exception as error:          # reported below, in the main thread
            errors.append(error)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(len(inputs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[0]
