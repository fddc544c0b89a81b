"""Every collective on 2 ranks, for every dtype, against the arithmetic done in NumPy."""
import gc

import ml_dtypes
import numpy as np
import pytest

import ember
import ember.distributed as dist

RANK, WORLD = dist.get_rank(), dist.get_world_size()
DTYPES = {
    "float32": (ember.float32, np.float32), "float64": (ember.float64, np.float64),
    "float16": (ember.float16, np.float16), "bfloat16": (ember.bfloat16, ml_dtypes.bfloat16),
    "int8": (ember.int8, np.int8), "uint8": (ember.uint8, np.uint8),
    "int16": (ember.int16, np.int16), "int32": (ember.int32, np.int32),
    "int64": (ember.int64, np.int64), "bool": (ember.bool, np.bool_),
    "complex64": (ember.complex64, np.complex64), "complex128": (ember.complex128, np.complex128),
}
REDUCE = {dist.ReduceOp.SUM: np.sum, dist.ReduceOp.PRODUCT: np.prod,
          dist.ReduceOp.MIN: np.min, dist.ReduceOp.MAX: np.max}


def data(rank, name, shape=(3, 4)):
    """Small values (exact in every dtype, products included) that differ per rank."""
    np_dtype = DTYPES[name][1]
    gen = np.random.default_rng(100 + rank)
    if name == "bool":
        return gen.integers(0, 2, shape).astype(bool)
    values = gen.integers(1, 4, shape).astype(np.float64)
    if name.startswith("complex"):
        values = values + 1j * gen.integers(0, 3, shape)
    return values.astype(np_dtype)


def tensor(a):
    """A tensor holding a copy of ``a`` (collectives write into it)."""
    if a.dtype == ml_dtypes.bfloat16:
        return ember.from_numpy(a.astype(np.float32)).to(ember.bfloat16)
    return ember.from_numpy(a.copy())


def as_numpy(t):
    return t.float().numpy() if t.dtype == ember.bfloat16 else t.numpy()


def expected_reduction(name, op):
    stacked = np.stack([data(r, name) for r in range(WORLD)])
    if name == "bool":
        return stacked.any(0) if op in (dist.ReduceOp.SUM, dist.ReduceOp.MAX) else stacked.all(0)
    if name == "bfloat16":
        stacked = stacked.astype(np.float32)
    if op is dist.ReduceOp.AVG:
        total = stacked.sum(0)
        if np.issubdtype(stacked.dtype, np.integer):
            return np.trunc(total / WORLD).astype(stacked.dtype)
        return total / WORLD
    return REDUCE[op](stacked, axis=0)


def valid(name, op):
    if name.startswith("complex") and op in (dist.ReduceOp.MIN, dist.ReduceOp.MAX):
        return False
    return not (name == "bool" and op is dist.ReduceOp.AVG)


CASES = [(name, op) for name in DTYPES for op in dist.ReduceOp if valid(name, op)]


@pytest.mark.parametrize("name,op", CASES, ids=[f"{n}-{o.name}" for n, o in CASES])
def test_all_reduce(name, op):
    t = tensor(data(RANK, name))
    assert dist.all_reduce(t, op=op) is None
    np.testing.assert_array_equal(as_numpy(t), expected_reduction(name, op))


SHM_OPS = [dist.ReduceOp.SUM, dist.ReduceOp.AVG, dist.ReduceOp.PRODUCT, dist.ReduceOp.MIN,
           dist.ReduceOp.MAX]


@pytest.mark.parametrize("name", ["float32", "float64", "int32", "int64"])
@pytest.mark.parametrize("op", SHM_OPS, ids=[o.name for o in SHM_OPS])
def test_all_reduce_through_shared_memory(name, op):
    # large enough for the shared window (ember.distributed._shm), an odd count so the
    # ranks' slices differ in length; the result is bitwise the same on every rank
    from ember.distributed import _shm
    n = _shm.MIN_BYTES // 4 + 7
    t = tensor(data(RANK, name, (n,)))
    dist.all_reduce(t, op=op)
    stacked = np.stack([data(r, name, (n,)) for r in range(WORLD)])
    if op is dist.ReduceOp.AVG:
        want = stacked.sum(0)
        want = (np.trunc(want / WORLD).astype(want.dtype) if want.dtype.kind == "i"
                else want / WORLD)
    else:
        want = REDUCE[op](stacked, axis=0)
    np.testing.assert_array_equal(t.numpy(), want)
    assert dist.GroupMember.WORLD._shm, "the shared window was not used"
    everyone = [None] * WORLD
    dist.all_gather_object(everyone, t.numpy().tobytes())
    assert all(b == everyone[0] for b in everyone)


def test_all_reduce_through_shared_memory_in_several_passes():
    from ember.distributed import _shm
    n = 2 * _shm.CHUNK_BYTES // 8 + 12345          # float64: two full passes and a part
    gen = np.random.default_rng(RANK)
    a = gen.standard_normal(n)
    t = ember.from_numpy(a.copy())
    dist.all_reduce(t)
    want = sum(np.random.default_rng(r).standard_normal(n) for r in range(WORLD))
    np.testing.assert_allclose(t.numpy(), want, rtol=1e-15, atol=1e-15)
    # a non-contiguous tensor goes through a staging copy, written back
    base = ember.from_numpy(np.stack([a, a]).copy())
    view = base[:, ::2]
    dist.all_reduce(view, op=dist.ReduceOp.MAX)
    np.testing.assert_array_equal(view.numpy(), np.stack([np.max(
        [np.random.default_rng(r).standard_normal(n)[::2] for r in range(WORLD)], 0)] * 2))
    np.testing.assert_array_equal(base[:, 1::2].numpy(), np.stack([a[1::2]] * 2))


@pytest.mark.parametrize("name", ["float32", "int64", "float16", "bool"])
def test_reduce_and_async_all_reduce(name):
    t = tensor(data(RANK, name))
    dist.reduce(t, dst=1, op=dist.ReduceOp.SUM)
    want = expected_reduction(name, dist.ReduceOp.SUM) if RANK == 1 else data(RANK, name)
    np.testing.assert_array_equal(as_numpy(t), want)
    t = tensor(data(RANK, name))
    work = dist.all_reduce(t, op=dist.ReduceOp.MAX, async_op=True)
    assert isinstance(work, dist.Work)
    assert work.wait() is True and work.is_completed()
    assert work.result() == [t]
    np.testing.assert_array_equal(as_numpy(t), expected_reduction(name, dist.ReduceOp.MAX))


def test_all_reduce_non_contiguous_writes_back():
    base = ember.from_numpy(data(RANK, "float64", (4, 6)))
    view = base.t()[::2]
    dist.all_reduce(view, op=dist.ReduceOp.AVG)
    both = [data(r, "float64", (4, 6)).T[::2] for r in range(WORLD)]
    np.testing.assert_allclose(view.numpy(), (both[0] + both[1]) / 2)
    # the rest of the base tensor is untouched
    np.testing.assert_array_equal(base.t()[1::2].numpy(), data(RANK, "float64", (4, 6)).T[1::2])


def test_all_reduce_fast_path_takes_only_plain_contiguous_cpu_tensors():
    from ember._core._dlpack import contiguous_cpu_nbytes
    from ember.distributed._collectives import _FAST_MASK
    assert contiguous_cpu_nbytes(ember.ones(10), _FAST_MASK) == 40
    assert contiguous_cpu_nbytes(ember.ones(0, dtype=ember.int64), _FAST_MASK) == 0
    for other in (ember.ones(4, 4).t(), ember.ones(3, dtype=ember.bool),
                  ember.ones(3, dtype=ember.float16), ember.nn.Parameter(ember.ones(3)),
                  np.ones(3), 3.0):
        assert contiguous_cpu_nbytes(other, _FAST_MASK) == -1
    # what it turns away takes the general path: a transposed view and a Parameter
    base = ember.from_numpy(data(RANK, "float32", (3, 5)))
    view = base.t()
    dist.all_reduce(view)
    np.testing.assert_array_equal(view.numpy(), sum(data(r, "float32", (3, 5)).T
                                                    for r in range(WORLD)))
    p = ember.nn.Parameter(ember.from_numpy(data(RANK, "float32", (4,))))
    with ember.no_grad():
        dist.all_reduce(p)
    np.testing.assert_array_equal(p.detach().numpy(), sum(data(r, "float32", (4,))
                                                          for r in range(WORLD)))


@pytest.mark.parametrize("name", list(DTYPES))
def test_data_movement(name):
    mine = data(RANK, name)
    # broadcast
    t = tensor(mine)
    dist.broadcast(t, src=1)
    np.testing.assert_array_equal(as_numpy(t), as_numpy(tensor(data(1, name))))
    # all_gather and all_gather_into_tensor
    out = [ember.empty((3, 4), dtype=DTYPES[name][0]) for _ in range(WORLD)]
    dist.all_gather(out, tensor(mine))
    for r in range(WORLD):
        np.testing.assert_array_equal(as_numpy(out[r]), as_numpy(tensor(data(r, name))))
    flat = ember.empty((WORLD * 3, 4), dtype=DTYPES[name][0])
    dist.all_gather_into_tensor(flat, tensor(mine))
    np.testing.assert_array_equal(
        as_numpy(flat), np.concatenate([as_numpy(tensor(data(r, name))) for r in range(WORLD)]))
    # gather to rank 0, scatter from rank 1
    gathered = [ember.empty((3, 4), dtype=DTYPES[name][0]) for _ in range(WORLD)] \
        if RANK == 0 else None
    dist.gather(tensor(mine), gathered, dst=0)
    if RANK == 0:
        for r in range(WORLD):
            np.testing.assert_array_equal(as_numpy(gathered[r]), as_numpy(tensor(data(r, name))))
    parts = [tensor(data(10 + r, name)) for r in range(WORLD)] if RANK == 1 else None
    got = ember.empty((3, 4), dtype=DTYPES[name][0])
    dist.scatter(got, parts, src=1)
    np.testing.assert_array_equal(as_numpy(got), as_numpy(tensor(data(10 + RANK, name))))
    # all_to_all: rank r sends data(10 * r + i) to rank i
    outs = [ember.empty((3, 4), dtype=DTYPES[name][0]) for _ in range(WORLD)]
    dist.all_to_all(outs, [tensor(data(10 * RANK + i, name)) for i in range(WORLD)])
    for r in range(WORLD):
        np.testing.assert_array_equal(as_numpy(outs[r]),
                                      as_numpy(tensor(data(10 * r + RANK, name))))


@pytest.mark.parametrize("name", ["float32", "int32", "float16", "complex64"])
def test_reduce_scatter(name):
    src = [tensor(data(10 * RANK + i, name)) for i in range(WORLD)]
    out = ember.empty((3, 4), dtype=DTYPES[name][0])
    dist.reduce_scatter(out, src)
    want = sum(as_numpy(tensor(data(10 * r + RANK, name))) for r in range(WORLD))
    np.testing.assert_array_equal(as_numpy(out), want)
    out2 = ember.empty((3, 4), dtype=DTYPES[name][0])
    work = dist.reduce_scatter_tensor(out2, ember.cat(src), async_op=True)
    work.wait()
    np.testing.assert_array_equal(as_numpy(out2), want)


def test_all_to_all_single_uneven_splits():
    # rank 0 sends 1 row to rank 0 and 2 rows to rank 1; rank 1 sends 2 and 1
    rows = [[1, 2], [2, 1]]
    inp = ember.arange(3 * 2, dtype=ember.float32).reshape(3, 2) + 100 * RANK
    recv_rows = [rows[r][RANK] for r in range(WORLD)]
    out = ember.empty((sum(recv_rows), 2))
    dist.all_to_all_single(out, inp, output_split_sizes=recv_rows, input_split_sizes=rows[RANK])
    pieces = []
    for r in range(WORLD):
        src = np.arange(6, dtype=np.float32).reshape(3, 2) + 100 * r
        start = sum(rows[r][:RANK])
        pieces.append(src[start:start + rows[r][RANK]])
    np.testing.assert_array_equal(out.numpy(), np.concatenate(pieces))


def test_point_to_point():
    if RANK == 0:
        dist.send(ember.arange(4.0), dst=1)
        work = dist.isend(ember.full((2,), 7, dtype=ember.int64), dst=1, tag=3)
        work.wait()
        back = ember.empty(3)
        assert dist.recv(back) == 1
        np.testing.assert_array_equal(back.numpy(), [5.0, 5.0, 5.0])
    else:
        t = ember.empty(4)
        assert dist.recv(t, src=0) == 0
        np.testing.assert_array_equal(t.numpy(), [0, 1, 2, 3])
        got = ember.empty((4,), dtype=ember.int64)[::2]   # non-contiguous receive
        work = dist.irecv(got, src=0, tag=3)
        work.wait()
        assert work.is_completed()
        assert got.tolist() == [7, 7]
        dist.send(ember.full((3,), 5.0), dst=0)


def test_async_handles_and_barrier():
    works = [dist.broadcast(ember.full((1000,), float(RANK)), src=0, async_op=True),
             dist.all_gather_into_tensor(ember.empty(2 * WORLD), ember.ones(2), async_op=True),
             dist.barrier(async_op=True)]
    for w in works:
        w.wait()
        assert w.is_completed()
    assert works[0].result()[0].tolist() == [0.0] * 1000
    fut = dist.all_reduce(ember.ones(2), async_op=True).get_future()
    doubled = fut.then(lambda f: f.value()[0] * 2)
    assert doubled.wait().tolist() == [4.0, 4.0]
    assert dist.barrier() is None


def test_object_collectives():
    objs = [{"rank": RANK, "items": list(range(RANK + 1))}, "x" * RANK] if RANK == 1 \
        else [None, None]
    dist.broadcast_object_list(objs, src=1)
    assert objs == [{"rank": 1, "items": [0, 1]}, "x"]
    gathered = [None] * WORLD
    dist.all_gather_object(gathered, ("rank", RANK))
    assert gathered == [("rank", 0), ("rank", 1)]
    to_zero = [None] * WORLD if RANK == 0 else None
    dist.gather_object(RANK * 10, to_zero, dst=0)
    if RANK == 0:
        assert to_zero == [0, 10]
    out = [None]
    dist.scatter_object_list(out, ["a", "b"] if RANK == 0 else None, src=0)
    assert out == [["a", "b"][RANK]]


def test_async_ops_keep_their_staging_copies_alive():
    base = ember.arange(8.0).reshape(4, 2) + 100 * RANK
    out = ember.empty(4 * WORLD)
    work = dist.all_gather_into_tensor(out, base[:, 0], async_op=True)   # strided input
    sent = dist.isend(base[:, 1], dst=1 - RANK)
    got = ember.empty(4)
    received = dist.irecv(got, src=1 - RANK)
    del base
    gc.collect()
    scribble = [ember.full((4,), -1.0) for _ in range(64)]   # reuse freed memory, if any
    for w in (work, sent, received):
        w.wait()
    want = np.concatenate([np.arange(0, 8, 2.0) + 100 * r for r in range(WORLD)])
    np.testing.assert_array_equal(out.numpy(), want)
    np.testing.assert_array_equal(got.numpy(), np.arange(1, 8, 2.0) + 100 * (1 - RANK))
    assert len(scribble) == 64
