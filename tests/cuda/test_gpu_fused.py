"""The fused norms and cross-entropy on the GPU against the CPU result: forward, the
running statistics, and the gradients through autograd, across dtypes and layouts.
Marked gpu: skipped, with the reason, where CuPy or a GPU is missing (and run on the
emulated GPU by tests/cuda/conftest.py)."""
import numpy as np
import pytest

import ember
import ember.nn.functional as F

pytestmark = pytest.mark.gpu

FLOATS = [ember.float32, ember.float64, ember.float16, ember.bfloat16]
TOL = {ember.float16: 1e-2, ember.bfloat16: 6e-2, ember.float32: 1e-4, ember.float64: 1e-10}


def sample(shape, dtype=ember.float32, seed=0):
    rng = np.random.default_rng(seed)
    return ember.tensor(rng.uniform(-2.0, 2.0, shape)).to(dtype)


def assert_close(got, want, dtype=None):
    if want is None:
        assert got is None
        return
    assert got.device.type == "cuda", got.device
    got = got.cpu()
    assert got.dtype == want.dtype and got.shape == want.shape
    tol = TOL.get(dtype or want.dtype, 0)
    if want.dtype.is_floating_point:
        np.testing.assert_allclose(got.to(ember.float64).numpy(), want.to(ember.float64).numpy(),
                                   rtol=tol, atol=tol, equal_nan=True)
    else:
        np.testing.assert_array_equal(got.numpy(), want.numpy())


def on_both(fn, *tensors, grad=()):
    """``fn`` over the CPU tensors and over their cuda copies; with ``grad`` (indices of
    ``tensors``), also the gradients of a fixed weighting of the output.  Returns the
    outputs and gradients of each device."""
    results = []
    for device in ("cpu", "cuda"):
        args = []
        for k, t in enumerate(tensors):
            if isinstance(t, ember.Tensor):
                t = t.to(device).detach().clone()   # running stats update in place
                if k in grad:
                    t.requires_grad_(True)
            args.append(t)
        out = fn(*args)
        grads = []
        if grad:
            outs = out if isinstance(out, tuple) else (out,)
            total = sum((o.to(ember.float64) * sample(tuple(o.shape), ember.float64, seed=9)
                         .to(device)).sum() for o in outs)
            total.backward()
            grads = [args[k].grad for k in grad]
        results.append((out, grads))
    return results


def assert_both(results, dtype=None):
    (cpu_out, cpu_grads), (gpu_out, gpu_grads) = results
    if isinstance(cpu_out, tuple):
        for a, b in zip(gpu_out, cpu_out):
            assert_close(a.detach(), b.detach(), dtype)
    else:
        assert_close(gpu_out.detach(), cpu_out.detach(), dtype)
    for a, b in zip(gpu_grads, cpu_grads):
        assert_close(a, b, dtype)


# ---------------------------------------------------------------- layer and RMS norm

@pytest.mark.parametrize("dtype", FLOATS)
def test_layer_norm_matches_cpu(dtype):
    x = sample((3, 4, 40), dtype)
    w, b = sample((4, 40), dtype, 1), sample((4, 40), dtype, 2)
    assert_both(on_both(lambda x, w, b: F.layer_norm(x, (4, 40), w, b), x, w, b,
                        grad=(0, 1, 2)), dtype)
    assert_both(on_both(lambda x: F.layer_norm(x, (40,)), x, grad=(0,)), dtype)


@pytest.mark.parametrize("dtype", [ember.float32, ember.float64])
def test_layer_norm_layouts_and_long_rows_match_cpu(dtype):
    x = sample((700, 3), dtype).t()             # transposed: rows of 700
    w = sample((700,), dtype, 1)
    assert_both(on_both(lambda x, w: F.layer_norm(x, (700,), w), x, w, grad=(0, 1)), dtype)
    many = sample((300, 8), dtype)              # several splits of the weight gradient
    w8, b8 = sample((8,), dtype, 1), sample((8,), dtype, 2)
    assert_both(on_both(lambda x, w, b: F.layer_norm(x, (8,), w, b), many, w8, b8,
                        grad=(0, 1, 2)), dtype)


@pytest.mark.parametrize("dtype", FLOATS)
def test_rms_norm_matches_cpu(dtype):
    x, w = sample((5, 33), dtype), sample((33,), dtype, 1)
    assert_both(on_both(lambda x, w: F.rms_norm(x, (33,), w), x, w, grad=(0, 1)), dtype)


def test_layer_norm_of_empty_batches_matches_cpu():
    x, w = sample((0, 6)), sample((6,), seed=1)
    assert_both(on_both(lambda x, w: F.layer_norm(x, (6,), w), x, w, grad=(0, 1)))


# ---------------------------------------------------------------- batch and group norm

@pytest.mark.parametrize("dtype", FLOATS)
def test_batch_norm_training_matches_cpu_with_running_stats(dtype):
    x = sample((4, 3, 5, 2), dtype)
    w, b = sample((3,), dtype, 1), sample((3,), dtype, 2)
    stats = {}

    def fn(x, w, b, rm, rv):
        stats[x.device.type] = (rm, rv)
        return F.batch_norm(x, rm, rv, w, b, training=True, momentum=0.3)

    rm, rv = sample((3,), dtype, 3), sample((3,), dtype, 4).abs()
    assert_both(on_both(fn, x, w, b, rm, rv, grad=(0, 1, 2)), dtype)
    for a, want in zip(stats["cuda"], stats["cpu"]):
        assert_close(a, want, dtype)


@pytest.mark.parametrize("dtype", [ember.float32, ember.float64])
def test_batch_norm_eval_and_without_affine_matches_cpu(dtype):
    x = sample((6, 4), dtype)
    rm, rv = sample((4,), dtype, 3), sample((4,), dtype, 4).abs()
    w = sample((4,), dtype, 1)
    assert_both(on_both(lambda x, w, rm, rv: F.batch_norm(x, rm, rv, w, training=False),
                        x, w, rm, rv, grad=(0, 1)), dtype)
    assert_both(on_both(lambda x: F.batch_norm(x, None, None, training=True), x.t().t(),
                        grad=(0,)), dtype)


@pytest.mark.parametrize("dtype", FLOATS)
def test_group_norm_matches_cpu(dtype):
    x = sample((2, 6, 7), dtype)
    w, b = sample((6,), dtype, 1), sample((6,), dtype, 2)
    assert_both(on_both(lambda x, w, b: F.group_norm(x, 3, w, b), x, w, b, grad=(0, 1, 2)),
                dtype)
    assert_both(on_both(lambda x: F.group_norm(x, 2), x.transpose(1, 2).transpose(1, 2),
                        grad=(0,)), dtype)


# ---------------------------------------------------------------- cross-entropy and nll

def targets(shape, classes, seed=5, ignore=None):
    t = ember.tensor(np.random.default_rng(seed).integers(0, classes, shape))
    if ignore is not None and t.numel() > 1:
        t.reshape(-1)[1] = ignore
    return t


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("dtype", FLOATS)
def test_cross_entropy_matches_cpu(dtype, reduction):
    x, t = sample((6, 40), dtype), targets((6,), 40, ignore=-100)
    w = sample((40,), dtype, 1).abs()
    assert_both(on_both(lambda x, t: F.cross_entropy(x, t, reduction=reduction), x, t,
                        grad=(0,)), dtype)
    assert_both(on_both(lambda x, t, w: F.cross_entropy(x, t, w, reduction=reduction,
                                                        label_smoothing=0.2), x, t, w,
                        grad=(0,)), dtype)


@pytest.mark.parametrize("dtype", [ember.float32, ember.float64])
def test_cross_entropy_over_spatial_positions_and_nll_match_cpu(dtype):
    x, t = sample((2, 5, 3, 4), dtype), targets((2, 3, 4), 5, ignore=2)
    w = sample((5,), dtype, 1).abs()
    for kwargs in ({}, {"ignore_index": 2, "label_smoothing": 0.1}):
        assert_both(on_both(lambda x, t, w: F.cross_entropy(x, t, w, **kwargs), x, t, w,
                            grad=(0,)), dtype)
        assert_both(on_both(lambda x, t: F.cross_entropy(x, t, **kwargs), x, t, grad=(0,)),
                    dtype)
    logp = F.log_softmax(sample((7, 4), dtype), 1)
    assert_both(on_both(lambda x, t: F.nll_loss(x, t, reduction="sum"), logp,
                        targets((7,), 4), grad=(0,)), dtype)
    assert_both(on_both(lambda x, t: F.cross_entropy(x, t), sample((9,), dtype),
                        targets((), 9), grad=(0,)), dtype)


def test_cross_entropy_edge_cases_match_cpu():
    every_ignored = ember.full((3,), -100, dtype=ember.int64)
    assert_both(on_both(lambda x, t: F.cross_entropy(x, t), sample((3, 4)), every_ignored))
    assert_both(on_both(lambda x, t: F.cross_entropy(x, t), sample((0, 4)),
                        ember.zeros(0, dtype=ember.int64)))
    x = sample((2, 3))
    x[0, 1] = float("-inf")
    assert_both(on_both(lambda x, t: F.cross_entropy(x, t, reduction="none"), x,
                        ember.tensor([0, 2]), grad=(0,)))


def test_cross_entropy_target_out_of_range_raises_as_on_cpu():
    x = sample((3, 4)).to("cuda")
    with pytest.raises(IndexError, match="Target 7 is out of bounds"):
        F.cross_entropy(x, ember.tensor([0, 7, 1], device="cuda"))
    x.requires_grad_(True)
    F.cross_entropy(x, ember.tensor([0, 3, -100], device="cuda")).backward()
    with pytest.raises(IndexError, match="Target -2 is out of bounds"):
        F.nll_loss(x, ember.tensor([0, -2, 1], device="cuda"))


def test_double_backward_through_the_fused_ops_matches_cpu():
    x, w = sample((4, 6)), sample((6,), seed=1)
    t = targets((4,), 6, ignore=-100)
    grads = []
    for device in ("cpu", "cuda"):
        xx = x.to(device).detach().requires_grad_(True)
        ww = w.to(device).detach().requires_grad_(True)
        loss = F.cross_entropy(F.layer_norm(xx, (6,), ww), t.to(device), label_smoothing=0.1)
        (gx,) = ember.autograd.grad(loss, (xx,), create_graph=True)
        (gx * gx).sum().backward()
        grads.append((gx.detach(), xx.grad, ww.grad))
    for a, b in zip(grads[1], grads[0]):
        assert_close(a, b)
