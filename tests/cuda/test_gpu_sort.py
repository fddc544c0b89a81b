"""Sorting, searching, nonzero and the ops built on them on the GPU (CuPy's stable
sorts; nonzero: ember's mask compaction kernels) against the CPU result: ties in their original order, NaN as the largest
value, every dtype, layouts, empty and 0-d inputs, gradients.  Marked gpu: skipped
where CuPy or a GPU is missing (and run on the emulated GPU, with a NumPy stand-in
for CuPy's sorts, by tests/cuda/conftest.py)."""
import numpy as np
import pytest

import ember

pytestmark = pytest.mark.gpu

DTYPES = [ember.bool, ember.uint8, ember.int16, ember.int32, ember.int64, ember.float16,
          ember.bfloat16, ember.float32, ember.float64]


def sample(shape, dtype, seed=0):
    """Values with many ties (and NaN among the floats)."""
    rng = np.random.default_rng(seed)
    if dtype == ember.bool:
        return ember.tensor(rng.random(shape) > 0.5)
    x = ember.tensor(rng.integers(0 if dtype == ember.uint8 else -3, 4, shape)).to(dtype)
    if dtype.is_floating_point and x.numel() > 2:
        x.reshape(-1)[1] = float("nan")
    return x


def same(got, want):
    if isinstance(want, (tuple, list)):
        assert len(got) == len(want)
        for a, b in zip(got, want):
            same(a, b)
        return
    assert got.device.type == "cuda", got.device
    got = got.cpu()
    assert got.dtype == want.dtype and got.shape == want.shape, (got, want)
    np.testing.assert_array_equal(got.to(ember.float64).numpy() if got.dtype == ember.bfloat16
                                  else got.numpy(),
                                  want.to(ember.float64).numpy() if want.dtype == ember.bfloat16
                                  else want.numpy())


def check(fn, *args):
    same(fn(*[a.cuda() if isinstance(a, ember.Tensor) else a for a in args]), fn(*args))


@pytest.mark.parametrize("dtype", DTYPES)
def test_sort_and_argsort_match_cpu(dtype):
    x = sample((4, 37), dtype)
    for descending in (False, True):
        check(lambda x: tuple(ember.sort(x, 1, descending=descending)), x)
        check(lambda x: tuple(ember.sort(x, 0, descending=descending, stable=True)), x)
        check(lambda x: ember.argsort(x.t(), 0, descending=descending), x)
    check(lambda x: tuple(ember.sort(x)), x[0, 0])              # 0-d
    check(lambda x: tuple(ember.sort(x, 1)), x[:, :0])          # empty rows


@pytest.mark.parametrize("dtype", [ember.int32, ember.float16, ember.float32, ember.float64])
def test_topk_kthvalue_median_mode_match_cpu(dtype):
    x = sample((3, 11), dtype)
    for largest in (True, False):
        check(lambda x: tuple(ember.topk(x, 4, 1, largest=largest)), x)
    check(lambda x: tuple(ember.kthvalue(x, 3, 1, keepdim=True)), x)
    check(lambda x: tuple(ember.median(x, 1)), x)
    check(lambda x: ember.median(x), x)
    check(lambda x: tuple(ember.mode(x, 1)), x)
    if dtype.is_floating_point:
        check(lambda x: tuple(ember.nanmedian(x, 0)), x)
        check(lambda x: ember.nanmedian(x), x)
        check(lambda x: ember.msort(x), x)
    if dtype in (ember.float32, ember.float64):
        check(lambda x: ember.quantile(x, 0.3, dim=1), x)
        check(lambda x: ember.nanquantile(x, ember.tensor([0.1, 0.9], dtype=dtype,
                                                          device=x.device)), x)


@pytest.mark.parametrize("dtype", [ember.bool, ember.int64, ember.bfloat16, ember.float32])
def test_unique_matches_cpu(dtype):
    x = sample((5, 6), dtype)
    check(lambda x: ember.unique(x), x)
    check(lambda x: ember.unique(x, return_inverse=True, return_counts=True), x)
    check(lambda x: ember.unique(x, dim=0, return_inverse=True, return_counts=True), x)
    check(lambda x: ember.unique_consecutive(x, return_inverse=True, return_counts=True), x)
    check(lambda x: ember.unique_consecutive(x, dim=1), x)


@pytest.mark.parametrize("dtype", [ember.int32, ember.bfloat16, ember.float32, ember.float64])
def test_searchsorted_matches_cpu(dtype):
    seq = ember.sort(sample((3, 9), dtype, 1), 1)[0]
    values = sample((3, 5), dtype, 2)
    for right in (False, True):
        check(lambda s, v: ember.searchsorted(s, v, right=right), seq, values)
        check(lambda s, v: ember.searchsorted(s, v, right=right, out_int32=True), seq[0], values)
    check(lambda s, v: ember.searchsorted(s, v, side="right"), seq[1], values[0, 0])
    check(lambda s, v: ember.bucketize(v, s), seq[2], values)
    unsorted = sample((7,), dtype, 3)
    check(lambda s, v: ember.searchsorted(s, v, sorter=ember.argsort(s)), unsorted, values)


@pytest.mark.parametrize("dtype", [ember.bool, ember.int16, ember.float32])
def test_nonzero_masks_and_selects_match_cpu(dtype):
    x = sample((4, 5), dtype)
    mask = sample((4, 5), ember.bool, 1)
    check(lambda x: ember.nonzero(x), x)
    check(lambda x: ember.nonzero(x, as_tuple=True), x)
    check(lambda x: ember.argwhere(x), x)
    check(lambda x: ember.nonzero(x), x[0, 0])
    check(lambda x: ember.nonzero(x), x[:0])
    check(lambda x, m: ember.masked_select(x, m), x, mask)
    check(lambda x, m: x[m], x, mask)
    check(lambda x, m: x[:, m[0]], x, mask)


def test_sort_and_topk_gradients_match_cpu():
    x = ember.tensor(np.random.default_rng(0).standard_normal((3, 8)))
    grads = []
    for device in ("cpu", "cuda"):
        t = x.to(device).detach().requires_grad_(True)
        values = ember.sort(t, 1, descending=True)[0] + ember.topk(t, 3)[0].sum()
        (values * ember.arange(8.0, device=device)).sum().backward()
        grads.append(t.grad)
    same(grads[1], grads[0])


# ---------------------------------------------------------------- cummax, cummin, logcumsumexp

@pytest.mark.parametrize("dtype", DTYPES)
def test_cummax_cummin_match_cpu_with_ties_and_nan(dtype):
    x = sample((3, 70), dtype)          # lanes of 70: the block kernel, in two tiles
    for op in (ember.cummax, ember.cummin):
        check(lambda x: tuple(op(x, 1)), x)
        check(lambda x: tuple(op(x, 0)), x)          # short lanes: one thread each
        check(lambda x: tuple(op(x.t(), 1)), x)
        check(lambda x: tuple(op(x, 0)), x[0, 0])    # 0-d
        check(lambda x: tuple(op(x, 1)), x[:, :0])   # empty


@pytest.mark.parametrize("dtype", [ember.float16, ember.bfloat16, ember.float32, ember.float64])
def test_logcumsumexp_matches_cpu(dtype):
    x = ember.tensor(np.random.default_rng(0).uniform(-30, 30, (3, 300))).to(dtype)
    x[0, 5], x[1, 7], x[2, 0] = float("inf"), float("-inf"), float("nan")
    for dim in (0, 1):
        got = ember.logcumsumexp(x.cuda(), dim).cpu().to(ember.float64).numpy()
        want = ember.logcumsumexp(x, dim).to(ember.float64).numpy()
        np.testing.assert_allclose(got, want, rtol=1e-2 if dtype.itemsize == 2 else 1e-6,
                                   equal_nan=True)


def test_mode_and_cummax_gradients_match_cpu():
    x = ember.tensor([[1.0, 3.0, 3.0, 2.0, 2.0, 2.0], [0.0, 0.0, 5.0, 5.0, 4.0, 4.0]])
    check(lambda x: tuple(ember.mode(x, 1)), x)
    grads = []
    for device in ("cpu", "cuda"):
        t = x.to(device).detach().requires_grad_(True)
        (ember.cummax(t, 1)[0] * ember.arange(6.0, device=device)).sum().backward()
        grads.append(t.grad)
    same(grads[1], grads[0])
