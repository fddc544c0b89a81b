"""The index ops on cuda tensors in more layouts than test_gpu_blasindex.py (index
dtypes, sliced and transposed operands, several advanced indices, boolean masks,
index_add / index_copy / embedding backward, the device-side range errors) against
the CPU's results.  Marked gpu: without a GPU they run on the emulated one."""
import numpy as np
import pytest

import ember

pytestmark = pytest.mark.gpu

DTYPES = [ember.bool, ember.uint8, ember.int8, ember.int16, ember.int32, ember.int64,
          ember.float16, ember.float32, ember.float64]


def values(shape, dtype, seed=0):
    rng = np.random.default_rng(seed)
    if dtype == ember.bool:
        return ember.tensor(rng.random(shape) > 0.5)
    return ember.tensor(rng.integers(-5, 6, shape)).to(dtype)


def index(shape, high, dtype=ember.int64, seed=0, low=0):
    return ember.tensor(np.random.default_rng(seed).integers(low, high, shape)).to(dtype)


def check(fn, *args):
    expected = fn(*args)
    got = fn(*[a.cuda() if isinstance(a, ember.Tensor) else a for a in args])
    assert got.device.type == "cuda"
    assert got.dtype == expected.dtype and got.shape == expected.shape
    np.testing.assert_array_equal(got.cpu().numpy(), expected.numpy())


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("index_dtype", [ember.int32, ember.int64])
def test_index_select_and_gather(dtype, index_dtype):
    x = values((6, 5), dtype)
    check(lambda t, i: t.index_select(1, i), x, index((7,), 5, index_dtype))
    check(lambda t, i: t.t().index_select(0, i), x, index((3,), 5, index_dtype))
    check(lambda t, i: t.gather(0, i), x, index((4, 5), 6, index_dtype))
    check(lambda t, i: t[:, 1:].gather(1, i), x, index((6, 2), 4, index_dtype))


@pytest.mark.parametrize("dtype", DTYPES)
def test_scatters_and_their_reductions(dtype):
    x = values((6, 5), dtype)
    perm = ember.tensor(np.stack([np.random.default_rng(k).permutation(6)[:3]
                                  for k in range(5)], 1))
    src = values((3, 5), dtype, 1)
    check(lambda t, i, s: t.clone().scatter_(0, i, s), x, perm, src)
    check(lambda t, i: t.clone().scatter_(0, i, 1), x, perm)
    repeated, many = index((8, 5), 6, seed=2), values((8, 5), dtype, 3)
    check(lambda t, i, s: t.clone().scatter_add_(0, i, s), x, repeated, many)
    check(lambda t, i: t.clone().scatter_(0, i, 2, reduce="multiply"), x, repeated)
    for reduce in ("sum", "prod", "amax", "amin"):
        check(lambda t, i, s: ember.scatter_reduce(t, 0, i, s, reduce), x, repeated, many)


@pytest.mark.parametrize("dtype", DTYPES)
def test_masked_fill_and_advanced_indexing(dtype):
    x = values((4, 5, 3), dtype)
    check(lambda t, m: t.masked_fill(m, 1), x, values((5, 1), ember.bool, 1))
    check(lambda t, i: t[i], x, index((2, 3), 4, low=-4))            # negative indices wrap
    check(lambda t, i: t[:, i], x, index((2,), 5, ember.int32))
    check(lambda t, i, j: t[i, :, j], x, index((2, 1), 4), index((3,), 3))
    check(lambda t, i, j: t[i, j], x, index((3,), 4), index((3,), 5, ember.int32, seed=1))
    check(lambda t: t[[0, 3], 1:4], x)
    check(lambda t: t[..., True], x)
    check(lambda t, v: t.clone().index_put_((ember.tensor([3, 0]),), v), x,
          values((2, 5, 3), dtype, 5))
    check(lambda t, v: t.clone().index_put_((ember.tensor([1, 1]),), v, accumulate=True), x,
          values((2, 5, 3), dtype, 5))
    check(lambda t, i, j: t.clone().index_put_((i, None, j), ember.tensor(1).to(dtype)), x,
          index((2,), 4), index((2,), 3))


def test_boolean_masks_and_masked_select():
    x = values((4, 5), ember.float32)
    mask = values((4, 5), ember.bool, 1)
    check(lambda t, m: t[m], x, mask)
    check(lambda t, m: t[m[:, 0]], x, mask)
    check(lambda t, m: ember.masked_select(t, m[0]), x, mask)

    def setitem(t, m):
        t = t.clone()
        t[m] = 7.0
        return t
    check(setitem, x, mask)


def test_index_add_copy_and_embedding():
    x = values((5, 3), ember.float32)
    idx, src = index((4,), 5), values((4, 3), ember.float32, 1)
    check(lambda t, i, s: t.index_add(0, i, s), x, idx, src)
    check(lambda t, i, s: t.index_copy(0, i, s), x, ember.tensor([4, 0, 2, 1]), src)
    weight, ids = values((10, 4), ember.float32), index((2, 3), 10)
    check(lambda w, i: ember.nn.functional.embedding(i, w), weight, ids)
    from ember.ops.nn_fused import embedding_dense_backward
    check(lambda g, i: embedding_dense_backward(g, i, 10, 2, False), values((2, 3, 4),
                                                                             ember.float32),
          ids)


def test_out_of_range_indices_raise_and_write_nothing():
    x = ember.zeros(4, 3, device="cuda")
    bad = ember.tensor([0, 4], device="cuda")
    unknown = r"index \(its value is not known: checked on the device\)"
    with pytest.raises(IndexError, match="index out of range in self"):
        x.index_select(0, bad)
    with pytest.raises(RuntimeError, match=unknown + " is out of bounds for dimension 0"):
        x.gather(0, bad.reshape(2, 1))
    with pytest.raises(RuntimeError, match=unknown + " is out of bounds for dimension 0"):
        x.scatter_(0, bad.reshape(2, 1), 1.0)
    with pytest.raises(IndexError, match=unknown + " is out of bounds for dimension 0 "
                                                   "with size 4"):
        x[bad]
    with pytest.raises(IndexError, match="out of bounds for dimension 0 with size 3"):
        x[:, ember.tensor([3, -1], device="cuda")] = 1.0
    with pytest.raises(IndexError, match="out of bounds"):
        x[ember.tensor([[1], [-5]], device="cuda"), ember.tensor([0, 1], device="cuda")]
    assert (x.cpu() == 0).all()
    assert x.index_select(0, bad[:1]).shape == (1, 3)     # the error word was cleared


# ---------------------------------------------------------------- boolean-mask compaction

def tiled_mask(fill, shape=(13, 7, 47), seed=3):
    """A mask over more than two of the compaction's tiles (2048 elements each)."""
    n = int(np.prod(shape))
    bits = {"random": np.random.default_rng(seed).random(n) > 0.7,
            "none": np.zeros(n, bool), "all": np.ones(n, bool)}[fill]
    return ember.tensor(bits.reshape(shape))


@pytest.mark.parametrize("fill", ["random", "none", "all"])
def test_masks_over_several_tiles_compact_as_on_the_cpu(fill):
    mask = tiled_mask(fill)
    x = values(tuple(mask.shape), ember.float32)
    check(lambda m: ember.nonzero(m), mask)
    check(lambda m: ember.argwhere(m), mask)
    check(lambda t: ember.nonzero(t), x * mask)                   # float: nonzero values
    check(lambda t, m: t[m], x, mask)
    check(lambda t, m: t.transpose(0, 2)[m.transpose(0, 2)], x, mask)   # strided
    check(lambda t, m: ember.masked_select(t, m), x, mask[:, :1])  # broadcast
    check(lambda t, m: t[:, m[0]], x, mask)                      # on inner dims
    check(lambda t, m, s: t.masked_scatter(m, s), x, mask, values((mask.numel(),),
                                                                  ember.float32, 2))


def test_boolean_mask_writes_and_accumulates():
    x = values((6, 5, 3), ember.float64)
    mask = values((6, 5), ember.bool, 1)

    def setitem(t, m):
        t = t.clone()
        t[m] = ember.arange(float(m.sum()), device=t.device).reshape(-1, 1)
        return t
    check(setitem, x, mask)
    check(lambda t, m, v: t.clone().index_put_((m,), v, accumulate=True), x, mask,
          values((int(mask.sum()), 3), ember.float64, 2))
    check(lambda t, m, i: t[m, i], x, mask, index((1,), 3))      # a mask beside an index
    check(lambda t, m: t[1:, m[1:, 0]], x, mask)


def test_mask_compaction_edge_cases():
    check(lambda t: ember.nonzero(t), values((), ember.int32, 1))      # 0-d
    check(lambda t: ember.nonzero(t), ember.tensor(0.0))
    check(lambda t: ember.nonzero(t), values((0, 3), ember.float32))
    check(lambda t, m: t[m], values((0, 3), ember.float32), values((0, 3), ember.bool))
    check(lambda t: ember.nonzero(t), values((2,) * 9, ember.bool, 4))  # past 8 dims
    check(lambda t: ember.nonzero(t, as_tuple=True)[1], values((3, 4), ember.int8, 2))
    x = ember.zeros(3, 4, device="cuda")
    with pytest.raises(IndexError, match="The shape of the mask"):
        x[ember.ones(4, dtype=ember.bool, device="cuda")]
