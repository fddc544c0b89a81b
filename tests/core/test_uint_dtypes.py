"""uint16, uint32 and uint64: PyTorch's wide unsigned dtypes.

PyTorch 2.13 gives them storage, conversions, views, indexing, joining, comparisons for
equality, ``mul``, bitwise ops, sums and sorting, and refuses promotion with any other
integral or bool dtype.  ember follows it there and also runs its integral elementwise,
reduction and scan kernels on them (NumPy is the oracle for those).
"""
import numpy as np
import pytest

import ember

import torch

UINTS = ["uint16", "uint32", "uint64"]
BITS = {"uint16": 16, "uint32": 32, "uint64": 64}


def values(name):
    top = 2 ** BITS[name] - 1
    return [0, 1, 7, 300, top // 3, top - 1, top]


def pair(name, vals=None):
    vals = values(name) if vals is None else vals
    return ember.tensor(vals, dtype=getattr(ember, name)), torch.tensor(vals, dtype=getattr(torch, name))


def same(e, t):
    assert str(e.dtype).replace("ember.", "") == str(t.dtype).replace("torch.", "")
    assert e.tolist() == t.tolist()


@pytest.mark.parametrize("name", UINTS)
def test_creation_and_python_values(name):
    e, t = pair(name)
    same(e, t)
    assert e.tolist() == values(name)
    assert e[-1].item() == 2 ** BITS[name] - 1
    assert type(e[0].item()) is int
    for fn in ("zeros", "ones", "empty"):
        assert getattr(ember, fn)(2, 3, dtype=getattr(ember, name)).shape == (2, 3)
    same(ember.full((2,), 5, dtype=getattr(ember, name)), torch.full((2,), 5, dtype=getattr(torch, name)))
    assert not getattr(ember, name).is_signed and not getattr(ember, name).is_floating_point
    info = ember.iinfo(getattr(ember, name))
    assert (info.min, info.max, info.bits) == (0, 2 ** BITS[name] - 1, BITS[name])
    assert repr(e[:2]) == repr(t[:2]).replace("torch", "ember")


@pytest.mark.parametrize("name", UINTS)
def test_numpy_round_trip_shares_memory(name):
    a = np.array(values(name), dtype=name)
    e = ember.from_numpy(a)
    assert e.dtype is getattr(ember, name)
    a[0] = 9
    assert e[0].item() == 9
    back = e.numpy()
    assert back.dtype == np.dtype(name) and np.shares_memory(back, a)
    assert ember.tensor(a).dtype is getattr(ember, name)
    assert ember.as_tensor(a[::-2]).tolist() == a[::-2].tolist()


@pytest.mark.parametrize("name", UINTS)
def test_dlpack_with_torch(name):
    e, t = pair(name)
    same(ember.from_dlpack(t), t)
    same(e, torch.from_dlpack(e))


@pytest.mark.parametrize("name", UINTS)
@pytest.mark.parametrize("other", ["bool", "uint8", "int8", "int32", "int64", "float16", "bfloat16",
                                   "float32", "float64", "complex64", "uint16", "uint32",
                                   "uint64"])
def test_conversions_match_torch(name, other):
    e, t = pair(name)
    same(e.to(getattr(ember, other)), t.to(getattr(torch, other)))
    # and back: wrapping of negative and large values as PyTorch does
    src = {"bool": [0, 1, 1, 0], "uint8": [0, 1, 2, 100, 255], "int8": [0, 1, 127, -1, -5],
           "float16": [0, 1, 2, 100, 2.5], "bfloat16": [0, 1, 2, 100, 2.5]}.get(
        other, [0, 1, 2, 100, 70000, 2 ** 32 - 1])
    if other in ("int32", "float32"):
        src = [0, 1, 2, 100, 70000, -1, -5]
    elif other == "int64":
        src = src + [-1, -5]
    elif other == "float64":      # floats past int32 convert to small types unspecified in C
        src = [0, 1, 2, 100, 70000, -1, -5]
    elif other.startswith("uint") and other != "uint8":
        src = [v for v in src if v <= ember.iinfo(getattr(ember, other)).max]
    te = torch.tensor(src, dtype=getattr(torch, other))
    ee = ember.tensor(src, dtype=getattr(ember, other))
    same(ee.to(getattr(ember, name)), te.to(getattr(torch, name)))


@pytest.mark.parametrize("name", UINTS)
def test_views_indexing_and_joining(name):
    e, t = pair(name)
    same(e[1:5:2], t[1:5:2])
    same(e[[0, 3, 6]], t[[0, 3, 6]])
    same(ember.cat([e, e[:2]]), torch.cat([t, t[:2]]))
    same(ember.stack([e, e]).T.contiguous(), torch.stack([t, t]).T.contiguous())
    same(e.view(-1).clone(), t.view(-1).clone())
    same(ember.where(e == 7, e, e[0]), torch.where(t == 7, t, t[0]))
    e2 = e.clone()
    t2 = t.clone()
    e2[1] = 42
    t2[1] = 42
    same(e2, t2)
    same(e2.fill_(3), t2.fill_(3))
    signed = {"uint16": "int16", "uint32": "int32", "uint64": "int64"}[name]
    same(e.view(getattr(ember, signed)), t.view(getattr(torch, signed)))


REV = [6, 5, 4, 3, 2, 1, 0]


@pytest.mark.parametrize("name", UINTS)
def test_ops_torch_supports(name):
    e, t = pair(name)
    same(e == e[REV], t == t[REV])
    same(e != 7, t != 7)
    same(e * e[REV], t * t[REV])
    same(e * 3, t * 3)
    same(e & e[REV], t & t[REV])
    same(e | 5, t | 5)
    same(e ^ e, t ^ t)
    same(e.sum(), t.sum())
    same(e.sum(0, keepdim=True), t.sum(0, keepdim=True))
    same(e.prod(), t.prod())
    same(e.cumsum(0), t.cumsum(0))
    same(e * 2.5, t * 2.5)
    same(e / 2, t / 2)
    same(e.float(), t.float())
    se, st = e[REV].sort(descending=True), t[REV].sort(descending=True)
    same(se.values, st.values)
    same(se.indices, st.indices)
    same(e[REV].argsort(), t[REV].argsort())
    ue, ut = ember.cat([e, e]).unique(return_counts=True), torch.cat([t, t]).unique(return_counts=True)
    same(ue[0], ut[0])
    same(ue[1], ut[1])


@pytest.mark.parametrize("name", UINTS)
def test_integral_kernels_beyond_torch_match_numpy(name):
    """ember's integral loops run on the wide unsigned types (PyTorch has none there)."""
    vals = values(name)
    a = np.array(vals, dtype=name)
    b = np.array(vals[::-1], dtype=name)
    e, f = ember.tensor(a), ember.tensor(b)
    np.testing.assert_array_equal((e + f).numpy(), a + b)
    np.testing.assert_array_equal((e - f).numpy(), a - b)
    np.testing.assert_array_equal((e < f).numpy(), a < b)
    np.testing.assert_array_equal(ember.maximum(e, f).numpy(), np.maximum(a, b))
    np.testing.assert_array_equal((e // ember.tensor(np.maximum(b, 1))).numpy(),
                                  a // np.maximum(b, 1))
    assert e.max().item() == a.max() and e.min().item() == a.min()
    assert e.argmax().item() == a.argmax()
    np.testing.assert_array_equal(e.cummax(0).values.numpy(), np.maximum.accumulate(a))
    np.testing.assert_array_equal((e >> 1).numpy(), a >> 1)


@pytest.mark.parametrize("name", UINTS)
def test_promotion_with_integers_raises_like_torch(name):
    e, t = pair(name)
    for other in ("int32", "uint8", "bool"):
        with pytest.raises(RuntimeError, match="Promotion for uint16, uint32, uint64 types is not supported"):
            t + torch.ones(7, dtype=getattr(torch, other))
        with pytest.raises(RuntimeError, match="Promotion for uint16, uint32, uint64 types is not supported"):
            e + ember.ones(7, dtype=getattr(ember, other))
    # floating types promote as usual
    same(e * ember.ones(7, dtype=ember.float64), t * torch.ones(7, dtype=torch.float64))


@pytest.mark.parametrize("name", UINTS)
def test_refused_ops_raise_clearly(name):
    e, _ = pair(name)
    with pytest.raises(NotImplementedError, match="not implemented for 'UInt"):
        e[:2].reshape(1, 2) @ e[:2].reshape(2, 1)
    with pytest.raises(RuntimeError):
        e.mean()
    with pytest.raises(RuntimeError, match="without overflow"):
        e.fill_(-1 if name != "uint64" else 2 ** 64)


@pytest.mark.parametrize("name", UINTS)
def test_save_load_round_trip(name, tmp_path):
    e, _ = pair(name)
    ember.save({"x": e}, tmp_path / "u.pt")
    got = ember.load(tmp_path / "u.pt")["x"]
    assert got.dtype is e.dtype and got.tolist() == e.tolist()


def test_randint_bounds():
    r = ember.randint(0, 2 ** 32 - 1, (50,), dtype=ember.uint32)
    assert r.dtype is ember.uint32 and 0 <= r.min().item() and r.max().item() < 2 ** 32
    with pytest.raises(RuntimeError, match="out of bounds"):
        ember.randint(-1, 5, (3,), dtype=ember.uint16)
