"""The tensor protocol against PyTorch: creation, repr, Python conversions, pickling, metadata."""
import copy
import operator
import pickle
import warnings

import numpy as np
import pytest

import ember

import torch


def _norm(r):
    """A comparable summary of a result from either library."""
    if isinstance(r, (torch.Tensor, ember.Tensor)):
        vals = r.float().tolist() if r.dtype in (torch.bfloat16, ember.bfloat16) else r.tolist()
        return ("tensor", tuple(r.shape), str(r.dtype).split(".")[-1], vals, r.requires_grad)
    if isinstance(r, (torch.dtype, ember.dtype)):
        return str(r).split(".")[-1]
    if isinstance(r, str):
        return r.replace("torch", "ember")
    if type(r).__name__ == "Size":
        return ("Size", tuple(r))
    if type(r).__name__ == "device":
        return ("device", repr(r))
    return (type(r).__name__, r)


def _outcome(expr, lib):
    ns = {"lib": lib, "torch": torch, "np": np, "operator": operator}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return _norm(eval(expr, ns))
    except Exception as ex:  # the exception class is the outcome to compare
        return type(ex)


def _assert_same(expr):
    want, got = _outcome(expr, torch), _outcome(expr, ember)
    if isinstance(want, type):
        assert isinstance(got, type) and issubclass(got, want), (got, want)
    else:
        assert got == want


def _lines(text):
    return [line for line in text.strip().split("\n") if line]


# ---------------------------------------------------------------- creation

CREATION = _lines("""
lib.zeros(2, 3)
lib.zeros((2, 3))
lib.zeros([2, 3])
lib.zeros(())
lib.zeros([])
lib.zeros(0)
lib.zeros(2, 3, dtype=lib.int32)
lib.zeros(2, dtype=lib.bool)
lib.zeros(2, device='cpu')
lib.zeros(2, device=lib.device('cpu'))
lib.zeros(-1)
lib.zeros(2, -3)
lib.zeros(2.5)
lib.zeros('a')
lib.zeros(2, dtype=float)
lib.zeros(2, dtype=int)
lib.zeros(2, dtype=bool)
lib.zeros(2, dtype=complex)
lib.zeros(np.int64(3))
lib.zeros(lib.tensor(3))
lib.zeros((2, lib.tensor(3)))
lib.zeros(2, device='nonsense')
lib.ones(2, 2, dtype=lib.complex64)
lib.ones(3, dtype=lib.bfloat16)
lib.ones(2, 0, 3, dtype=lib.int8)
lib.full((2, 2), 3.5)
lib.full((2,), 3)
lib.full((2,), True)
lib.full((2,), 1j)
lib.full([2], 2, dtype=lib.float64)
lib.full((2,), lib.tensor(3.5))
lib.full((), 4)
lib.full((2,), 300, dtype=lib.uint8)
lib.full((2,), -255, dtype=lib.uint8)
lib.full((2,), 1e6, dtype=lib.float16)
lib.full((2,), float('inf'), dtype=lib.float16)
lib.full((2,), float('nan'), dtype=lib.int32)
lib.full((2,), 2.5, dtype=lib.int32)
lib.full((2,), 1 + 1j, dtype=lib.int32)
lib.full((2,), 1e40, dtype=lib.float32)
lib.full((2,), 'a')
lib.empty(2, 3).shape
lib.empty(0).shape
lib.empty(2, 3, dtype=lib.int8).dtype
lib.empty(-2)
lib.empty_strided((2, 3), (1, 2)).stride()
lib.empty_strided((2, 3), (0, 1)).stride()
lib.empty_strided((2, 3), (3, 1), dtype=lib.int32).dtype
lib.empty_strided((2, 3), (1,))
lib.empty_strided((0, 3), (100, 1)).stride()
lib.zeros_like(lib.ones(2, 3, dtype=lib.int32))
lib.ones_like(lib.ones(2, 3), dtype=lib.float64)
lib.full_like(lib.ones(2, 3, dtype=lib.int32), 2.7)
lib.full_like(lib.ones(2), 7)
lib.empty_like(lib.ones(2, 3).T).stride()
lib.zeros_like(lib.ones(2, 3).T).stride()
lib.ones_like(lib.ones(2, 3, 4).permute(2, 0, 1)).stride()
lib.zeros_like(lib.ones(1, 3).expand(2, 3)).stride()
lib.zeros_like(lib.tensor(2.5))
lib.arange(5)
lib.arange(1, 5)
lib.arange(1, 5, 2)
lib.arange(5, 1, -1)
lib.arange(5, 1, -2)
lib.arange(0, 1, 0.25)
lib.arange(0.5, 3)
lib.arange(5.0)
lib.arange(1, 2.5, 0.5)
lib.arange(0, -1, -0.25)
lib.arange(5, dtype=lib.float64)
lib.arange(5, dtype=lib.int32)
lib.arange(0.5, 5.5, dtype=lib.int64)
lib.arange(0.5, 3.7, 1.5, dtype=lib.int64)
lib.arange(-2.5, 2, 1.5, dtype=lib.int32)
lib.arange(0, 10, 2.5, dtype=lib.int64)
lib.arange(0, 10, 2.5, dtype=lib.uint8)
lib.arange(0)
lib.arange(1, 1)
lib.arange(5, 1)
lib.arange(1, 5, 0)
lib.arange(1, 5, -1)
lib.arange(lib.tensor(3))
lib.arange(lib.tensor(3.5))
lib.arange(np.int64(4))
lib.arange(True, 3)
lib.arange(-3, 3, dtype=lib.float16)
lib.arange(10**10, 10**10 + 3)
lib.arange(float('nan'))
lib.arange(float('inf'))
lib.arange(0, 1, 0.1)
lib.arange(0.1, 0.9, 0.1)
lib.arange(0, 1, 0.1, dtype=lib.float64)
lib.arange(0, 3, dtype=lib.bool)
lib.arange(0, 3, dtype=lib.complex64)
lib.linspace(0, 3, 4, dtype=lib.bool)
lib.ones(2, dtype=lib.float16).fill_(lib.tensor(1e6))
lib.ones(2, dtype=lib.uint8).fill_(lib.tensor(300))
lib.ones(2, dtype=lib.uint8).fill_(300)
lib.zeros(2, dtype=lib.bfloat16).fill_(1e39)
lib.linspace(0, 1, 5)
lib.linspace(0, 1, 1)
lib.linspace(0, 1, 0)
lib.linspace(0, 10, 6, dtype=lib.int64)
lib.linspace(-1.5, 1.5, 4, dtype=lib.int32)
lib.linspace(4.3, -3, 50, dtype=lib.int64)
lib.linspace(-4.7, 2.7, 5, dtype=lib.int8)
lib.linspace(0, 1, 3, dtype=lib.float64)
lib.linspace(0, 1 + 1j, 3)
lib.linspace(0, 1, -1)
lib.linspace(0, 1, 2.5)
lib.linspace(lib.tensor(0.), lib.tensor(2.), 3)
lib.linspace(0, 7, 8, dtype=lib.uint8)
lib.linspace(3, 9, 7)
lib.eye(3)
lib.eye(2, 3)
lib.eye(3, 2, dtype=lib.int64)
lib.eye(0)
lib.eye(-1)
lib.eye(2, dtype=lib.bool)
lib.eye(2.5)
lib.tensor([[1, 2], [3, 4]])
lib.tensor([[1, 2], [3]])
lib.tensor([[[]]])
lib.tensor([[], []])
lib.tensor([1, 2.5])
lib.tensor([1, True])
lib.tensor([True, 1.5])
lib.tensor([1, 2j])
lib.tensor(((1, 2), (3, 4)))
lib.tensor(np.float32(1.5))
lib.tensor(np.int32(7))
lib.tensor(np.bool_(True))
lib.tensor(np.float16(2.5))
lib.tensor(np.array([1, 2], dtype=np.int32))
lib.tensor(np.array(3.5))
lib.tensor(np.array([1, 2]), dtype=lib.float16)
lib.tensor(np.array([300]), dtype=lib.uint8)
lib.tensor([lib.tensor(1), lib.tensor(2)])
lib.tensor([np.float64(1.5), np.float64(2)])
lib.tensor([np.float64(1.5), 2.0])
lib.tensor([1, np.float64(2)])
lib.tensor([np.float32(1), np.float64(2)])
lib.tensor([[np.float16(1)], [np.float16(2)]])
lib.tensor([np.int32(1), np.int32(2)])
lib.tensor([np.int32(1), 2])
lib.tensor([np.uint8(1), np.int8(2)])
lib.tensor([np.uint8(200)])
lib.tensor([np.int32(1), np.float32(2)])
lib.tensor([1j, np.float64(1)])
lib.tensor([np.ones(2), np.zeros(2)])
lib.tensor([np.ones(2, np.float16), [1.0, 2.0]])
lib.tensor([lib.tensor(1.5, dtype=lib.float64), 2])
lib.tensor([lib.tensor(1, dtype=lib.int32), lib.tensor(2, dtype=lib.int32)])
lib.tensor([lib.tensor(1, dtype=lib.int32), 2])
lib.tensor([[], []])
lib.tensor([np.float64(1.5)], dtype=lib.float32)
lib.tensor([1, 2], dtype=lib.float64)
lib.tensor([[1.5]], dtype=lib.int32)
lib.tensor([300], dtype=lib.uint8)
lib.tensor([-1], dtype=lib.uint8)
lib.tensor(300, dtype=lib.uint8)
lib.tensor([1e10], dtype=lib.int32)
lib.tensor([255.9], dtype=lib.uint8)
lib.tensor([float('nan')], dtype=lib.int64)
lib.tensor([1e40], dtype=lib.float32)
lib.tensor([1e6], dtype=lib.float16)
lib.tensor([2, 0], dtype=lib.bool)
lib.tensor(None)
lib.tensor([1, None])
lib.tensor('abc')
lib.tensor({1, 2})
lib.tensor(range(4))
lib.tensor([range(2), range(2)])
lib.tensor(3.5, requires_grad=True)
lib.tensor([1.5], requires_grad=True).requires_grad
lib.tensor([1, 2], requires_grad=True)
lib.zeros(2, requires_grad=True).requires_grad
lib.zeros(2, dtype=lib.int64, requires_grad=True)
lib.ones(2, requires_grad=True).requires_grad
lib.full((2,), 1.5, requires_grad=True).requires_grad
lib.arange(3.0, requires_grad=True).requires_grad
lib.eye(2, requires_grad=True).requires_grad
lib.empty(2, requires_grad=True).requires_grad
lib.zeros_like(lib.ones(2), requires_grad=True).requires_grad
lib.linspace(0, 1, 3, requires_grad=True).requires_grad
lib.tensor([1, 2]).requires_grad
lib.as_tensor([1, 2])
lib.as_tensor([1, 2], dtype=lib.float32)
lib.asarray([1.5, 2])
lib.Tensor([1, 2])
lib.Tensor(2, 3).shape
lib.Tensor()
""")


@pytest.mark.parametrize("expr", CREATION)
def test_creation_matches_torch(expr):
    _assert_same(expr)


@pytest.mark.usefixtures("restore_default_dtype")
def test_creation_follows_the_default_dtype():
    ember.set_default_dtype(ember.float64)
    torch.set_default_dtype(torch.float64)
    for expr in ("lib.zeros(2)", "lib.tensor([1.5])", "lib.arange(0.0, 1.0, 0.5)", "lib.eye(2)",
                 "lib.tensor([1j])", "lib.full((1,), 2.5)", "lib.linspace(0, 1, 2)",
                 "lib.empty_strided((2,), (1,)).dtype", "lib.Tensor([1, 2])"):
        _assert_same(expr)


def test_as_tensor_and_asarray_share_memory():
    a = np.arange(4.0)
    t = ember.as_tensor(a)
    a[0] = 9.0
    assert t[0].item() == 9.0
    e = ember.ones(3)
    assert ember.as_tensor(e) is e
    assert ember.asarray(e) is e
    assert ember.asarray(e, copy=True).untyped_storage() is not e.untyped_storage()
    with pytest.raises(ValueError):
        ember.asarray([1, 2], copy=False)
    with pytest.raises(ValueError):
        ember.asarray(e, dtype=ember.float64, copy=False)


def test_tensor_copies_its_data():
    a = np.arange(4.0)
    t = ember.tensor(a)
    a[0] = 9.0
    assert t[0].item() == 0.0
    e = ember.ones(2)
    c = ember.tensor(e)
    assert c.untyped_storage() is not e.untyped_storage()


def test_integer_lists_at_and_past_the_int64_limits():
    # int64 lists skip the range check (NumPy only gives int64 when all values fit)
    for data in ([0], [[3]], [2**63 - 1, -2**63], [[1, 2], [3, -4]], [np.int64(5), 6]):
        t = ember.tensor(data)
        assert t.dtype == ember.int64 and t.tolist() == torch.tensor(data).tolist()
    for data in ([2**63], [-2**63 - 1], [1, 2**64], [[0], [2**63]]):
        with pytest.raises(RuntimeError, match="without overflow"):
            ember.tensor(data)
    with pytest.raises(RuntimeError, match="without overflow"):
        ember.tensor([300, 1], dtype=ember.int8)
    assert ember.tensor([2**62], dtype=ember.float32).dtype == ember.float32


def test_empty_strided_allocates_the_extent():
    t = ember.empty_strided((2, 3), (1, 2))
    t.copy_(ember.arange(6.0).reshape(2, 3))
    assert t.tolist() == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]
    assert t.untyped_storage().nbytes() == 6 * 4
    with pytest.raises(RuntimeError):
        ember.empty_strided((2,), (-1,))


@pytest.mark.parametrize("call", [lambda: ember.empty(2**62), lambda: ember.empty(2**40),
                                  lambda: ember.zeros(2**20, 2**20, 2**20),
                                  lambda: ember.ones(2**31, 2**31, dtype=ember.int64),
                                  lambda: ember.full((2**45,), 1.0), lambda: ember.arange(2**62),
                                  lambda: ember.arange(0, 1e15), lambda: ember.eye(2**31),
                                  lambda: ember.empty_strided((2**40,), (2**30,)),
                                  lambda: ember.linspace(0, 1, 2**50),
                                  lambda: ember.zeros(1).expand(2**40).contiguous(),
                                  lambda: ember.zeros(1).expand(2**31, 2**31).clone(),
                                  lambda: ember.zeros(1).expand(2**62, 4) + 1,
                                  lambda: ember.zeros_like(ember.zeros(1).expand(2**44))])
def test_absurd_sizes_raise_runtime_error(call):
    with pytest.raises(RuntimeError):
        call()


# ---------------------------------------------------------------- repr

REPRS = _lines("""
lib.tensor([1, 2, 3])
lib.tensor([-1, 200000, 3])
lib.tensor(5)
lib.tensor(5.5)
lib.tensor(-0.0)
lib.tensor(True)
lib.tensor([True, False])
lib.tensor([1.0, 2.0, 3.0])
lib.tensor([1.5, 2.25, -3.125])
lib.tensor([1e-5, 1.0])
lib.tensor([1e-4, 1.0])
lib.tensor([1e8, 1.0])
lib.tensor([1e9, 1.0])
lib.tensor([123456789.0])
lib.tensor([1e10])
lib.tensor([1e-10])
lib.tensor([0.1, 0.2])
lib.tensor([1000.5, 0.001])
lib.tensor([1.0, 1001.0])
lib.tensor([1.0, 1000.0])
lib.tensor([float('nan'), 1.0])
lib.tensor([float('nan'), 1.5])
lib.tensor([float('inf'), -float('inf'), 1.0])
lib.tensor([float('inf'), -float('inf'), 1.5])
lib.tensor([float('nan')])
lib.tensor([float('inf')])
lib.tensor([0.0, -0.0])
lib.tensor(float('nan'))
lib.tensor(1e-20)
lib.tensor(123456.7)
lib.tensor([1+2j, -3.5-0.25j])
lib.tensor([1j])
lib.tensor(1+1j)
lib.tensor([1e-6+1j, 2.0])
lib.tensor([float('nan')+1j, float('inf')*1j])
lib.tensor([[1+1j]*8]*2)
lib.tensor([1e-3+1e3j, 2.5])
lib.tensor([1, 2], dtype=lib.complex64) * 1e10
lib.tensor([1.0, 2.5], dtype=lib.float16)
lib.tensor([1.0, 2.5], dtype=lib.bfloat16)
lib.tensor([65504.0, 0.0001], dtype=lib.float16)
lib.tensor([0.5, 0.25], dtype=lib.bfloat16) * 1e-10
lib.tensor([1.0, 2.5], dtype=lib.float64)
lib.tensor([123.456, -0.001], dtype=lib.float64)
lib.tensor([1e20, 1e-20], dtype=lib.float64)
lib.tensor([1, 2], dtype=lib.int32)
lib.tensor([1, 2], dtype=lib.uint8)
lib.tensor([1, 2], dtype=lib.int8)
lib.tensor([1, 2], dtype=lib.int16)
lib.tensor([1+1j], dtype=lib.complex128)
lib.tensor(3, dtype=lib.int32)
lib.tensor(3.5, dtype=lib.float64)
lib.tensor([])
lib.tensor([], dtype=lib.int64)
lib.tensor([], dtype=lib.float64)
lib.tensor([], dtype=lib.bool)
lib.zeros(0, 3)
lib.zeros(2, 0, dtype=lib.int32)
lib.zeros(0, 3, dtype=lib.float64)
lib.zeros(3, 0, 2)
lib.arange(1001)
lib.arange(1000)
lib.arange(2000.)
lib.arange(2000.).reshape(40, 50)
lib.arange(3000).reshape(10, 10, 30)
lib.arange(1001.) / 7
lib.arange(40.)
lib.arange(40.) / 3
lib.arange(30) * 1000000
lib.arange(100).reshape(1, 100)
lib.arange(1500).reshape(1500, 1)
lib.arange(12.).reshape(3, 4)
lib.arange(24.).reshape(2, 3, 4)
lib.arange(24).reshape(2, 3, 4)
lib.arange(24.).reshape(2, 3, 4) / 7
lib.ones(2, 1, 2, 1)
lib.ones(1, 1)
lib.arange(12.).reshape(3, 4).T
lib.arange(10.)[::2]
lib.ones(3).expand(2, 3)
lib.arange(6).reshape(1, 1, 6) == 3
lib.tensor([[1e-5, 2.0], [3.0, 4e5]])
lib.tensor([1.0, 2.0], requires_grad=True)
lib.tensor(2.5, dtype=lib.float64, requires_grad=True)
lib.tensor(torch.randn(5, 5, generator=torch.Generator().manual_seed(0)).numpy())
lib.tensor(torch.randn(50, 20, generator=torch.Generator().manual_seed(1)).numpy())
lib.tensor(torch.randn(4, 40, generator=torch.Generator().manual_seed(2)).double().numpy())
lib.tensor(torch.randn(3, 7, generator=torch.Generator().manual_seed(3)).numpy() * 1e5)
lib.tensor(torch.randn(3, 30, 2, generator=torch.Generator().manual_seed(4)).numpy()).half()
""")


@pytest.mark.parametrize("expr", REPRS)
def test_repr_matches_torch(expr):
    want = repr(eval(expr, {"lib": torch, "torch": torch})).replace("torch.", "ember.")
    got = repr(eval(expr, {"lib": ember, "torch": torch}))
    assert got == want


@pytest.fixture
def restore_printoptions():
    yield
    ember.set_printoptions(profile="default")
    torch.set_printoptions(profile="default")


@pytest.mark.usefixtures("restore_printoptions")
@pytest.mark.parametrize("options", [dict(precision=2), dict(threshold=5), dict(edgeitems=1, threshold=4),
                                     dict(linewidth=40), dict(sci_mode=True), dict(sci_mode=False),
                                     dict(profile="short"), dict(profile="full"), dict(precision=6)])
def test_repr_follows_printoptions_like_torch(options):
    ember.set_printoptions(**options)
    torch.set_printoptions(**options)
    for expr in ("lib.arange(20.) / 3", "lib.arange(30).reshape(5, 6)", "lib.tensor([1e-5, 123.0])",
                 "lib.tensor([[1.5, 2j], [3, 4]])", "lib.arange(2000).reshape(40, 50) * 1.5"):
        want = repr(eval(expr, {"lib": torch})).replace("torch.", "ember.")
        assert repr(eval(expr, {"lib": ember})) == want


@pytest.mark.usefixtures("restore_default_dtype")
def test_repr_with_float64_default_matches_torch():
    ember.set_default_dtype(ember.float64)
    torch.set_default_dtype(torch.float64)
    for expr in ("lib.tensor([1.5, 2.0])", "lib.tensor([1.5], dtype=lib.float32)", "lib.tensor([1j])",
                 "lib.tensor([1j], dtype=lib.complex64)", "lib.zeros(0)", "lib.zeros(0, dtype=lib.float32)"):
        want = repr(eval(expr, {"lib": torch})).replace("torch.", "ember.")
        assert repr(eval(expr, {"lib": ember})) == want


# ---------------------------------------------------------------- Python conversions and metadata

PROTOCOL = _lines("""
lib.tensor(3.5).item()
lib.tensor([3.5]).item()
lib.tensor([[3]]).item()
lib.tensor([1, 2]).item()
lib.tensor([]).item()
lib.tensor(True).item()
lib.tensor(1+2j).item()
lib.tensor(3, dtype=lib.uint8).item()
lib.tensor(-3, dtype=lib.int8).item()
lib.tensor(2.5, dtype=lib.float16).item()
lib.tensor(2.5, dtype=lib.bfloat16).item()
lib.tensor(0.1).item()
lib.tensor([1, 2, 3])[1].item()
float(lib.tensor(2.5))
float(lib.tensor([2.5]))
float(lib.tensor([2.5, 1]))
float(lib.tensor(3))
float(lib.tensor(1+2j))
float(lib.tensor([]))
int(lib.tensor(2.7))
int(lib.tensor(-2.7))
int(lib.tensor([5]))
int(lib.tensor([5, 6]))
int(lib.tensor(1+2j))
int(lib.tensor(True))
int(lib.tensor(float('nan')))
int(lib.tensor(float('inf')))
bool(lib.tensor(0.0))
bool(lib.tensor([2]))
bool(lib.tensor([1, 2]))
bool(lib.tensor([]))
bool(lib.tensor(float('nan')))
bool(lib.tensor(0j))
complex(lib.tensor(2.5))
complex(lib.tensor(1+2j))
complex(lib.tensor([1, 2]))
len(lib.tensor([1, 2, 3]))
len(lib.zeros(4, 2))
len(lib.tensor(3))
len(lib.zeros(0, 3))
[t.tolist() for t in lib.tensor([[1, 2], [3, 4]])]
[t.tolist() for t in lib.tensor([[1, 2], [3, 4]]).T]
list(lib.tensor(3))
list(lib.zeros(0))
operator.index(lib.tensor(3))
operator.index(lib.tensor([3]))
operator.index(lib.tensor([3, 4]))
operator.index(lib.tensor(3.0))
operator.index(lib.tensor(True))
[10, 20, 30][lib.tensor(1)]
range(10)[lib.tensor(2):lib.tensor(5)]
hex(lib.tensor(255))
lib.tensor([[1, 2], [3, 4]]).tolist()
lib.tensor(5).tolist()
lib.tensor(2.5).tolist()
lib.tensor([1.5, 2], dtype=lib.float16).tolist()
lib.tensor([1.5, 2], dtype=lib.bfloat16).tolist()
lib.tensor([True, False]).tolist()
lib.tensor([1+2j]).tolist()
lib.zeros(2, 0).tolist()
lib.zeros(0, 2).tolist()
lib.arange(6).reshape(2, 3).T.tolist()
lib.tensor([1, 2], dtype=lib.uint8).tolist()
lib.tensor([[1, 2]]).element_size()
lib.tensor([[1, 2]], dtype=lib.complex128).element_size()
lib.tensor([[1, 2]], dtype=lib.bool).element_size()
lib.zeros(3, 4).nbytes
lib.zeros(3, 4)[:, ::2].nbytes
lib.zeros(3, 4).expand(2, 3, 4).nbytes
lib.zeros(3, 4, dtype=lib.float16).itemsize
lib.zeros(3, 4).numel()
lib.zeros(3, 0).numel()
lib.zeros(()).numel()
lib.zeros(3, 4).dim()
lib.zeros(()).dim()
lib.zeros(3, 4).ndim
lib.zeros(3, 4).size()
lib.zeros(3, 4).size(1)
lib.zeros(3, 4).size(-1)
lib.zeros(3, 4).size(2)
lib.zeros(3, 4).size(1.0)
lib.zeros(()).size()
lib.zeros(()).size(0)
lib.zeros(()).stride(0)
lib.zeros(()).stride()
lib.zeros(3, 4).stride(0)
lib.zeros(3, 4).stride(-2)
lib.zeros(3, 4).stride(5)
lib.zeros(3, 4).stride()
lib.zeros(3, 4).T.stride()
lib.zeros(3, 4).shape
lib.zeros(3, 4).shape[1:]
str(lib.zeros(3, 4).device)
repr(lib.zeros(3, 4).device)
lib.zeros(3, 4).device.type
lib.zeros(3, 4).device.index
lib.zeros(3, 4).device == lib.device('cpu')
lib.zeros(3, 4).is_cpu
lib.zeros(3, 4).is_cuda
lib.zeros(3, 4)[1:].storage_offset()
lib.zeros(3, 4).is_floating_point()
lib.zeros(3, 4, dtype=lib.int32).is_floating_point()
lib.zeros(3, dtype=lib.complex64).is_complex()
lib.zeros(3, dtype=lib.uint8).is_signed()
lib.zeros(3).nelement()
lib.zeros(3).ndimension()
lib.zeros(3).requires_grad
lib.zeros(3).is_leaf
lib.zeros(3).grad
lib.zeros(3).grad_fn
lib.zeros(3).requires_grad_().requires_grad
lib.zeros(3, dtype=lib.int64).requires_grad_()
lib.zeros(3).type()
lib.zeros(3, dtype=lib.uint8).type()
lib.Size([2, 3])
lib.Size([2, 3]).numel()
lib.Size([2, 3]) + (4,)
lib.Size([2, 3])[0]
lib.Size([2, 3])[1:]
repr(lib.Size([]))
repr(lib.Size([2, 3]))
lib.Size([2, 3]) == (2, 3)
lib.zeros(2, 3).shape == lib.Size([2, 3])
type(lib.zeros(2, 3, 4).shape[1:]).__name__
lib.zeros(2, 3, 4).shape[::-1]
lib.zeros(2, 3, 4).shape[-1]
lib.zeros(2, 3).shape[5]
lib.zeros(2, 3).shape + [4]
pickle.loads(pickle.dumps(lib.zeros(2, 3).shape))
hash(lib.zeros(2, 3).size()) == hash((2, 3))
lib.zeros(()).shape
f"{lib.tensor(2.5):.2f}"
f"{lib.tensor(2.5)}"
f"{lib.tensor(3)!s:>4}" + f"{lib.tensor(3):>4}"
f"{lib.tensor(True)}"
f"{lib.tensor(2.5, requires_grad=True)}"
f"{lib.nn.Parameter(lib.tensor(2.5))}"
f"{lib.nn.Parameter(lib.tensor(2.5)):.2f}"
f"{lib.tensor([2.5, 1])}"
f"{lib.tensor([2.5]):.2f}"
np.asarray(lib.tensor([1, 2], dtype=lib.int16)).dtype
lib.tensor([1, 2]).numpy().tolist()
len({lib.zeros(1), lib.zeros(1)})
lib.device('cpu')
lib.device('cpu:0')
lib.device('cuda', 1)
lib.device('cuda:1').index
lib.device('gpu')
lib.device('cuda:-1')
lib.device('cuda:x')
lib.device(None)
""")


@pytest.mark.parametrize("expr", PROTOCOL)
def test_python_protocol_matches_torch(expr):
    _assert_same(expr)


def test_iteration_yields_views():
    x = ember.arange(6.0).reshape(2, 3)
    rows = list(x)
    assert all(r.untyped_storage() is x.untyped_storage() for r in rows)
    rows[1][0] = 100.0
    assert x[1, 0].item() == 100.0


def test_data_ptr_and_device():
    x = ember.zeros(4, dtype=ember.float64)
    assert x[2:].data_ptr() == x.data_ptr() + 16
    assert x.data_ptr() % 64 == 0  # the allocator hands out 64-byte aligned blocks
    assert x.device == ember.device("cpu")
    assert x.untyped_storage().nbytes() == 32


# ---------------------------------------------------------------- pickling and copies

def _layouts():
    x = ember.arange(12.0).reshape(3, 4)
    return [x, x.T, x[:, ::2], x[1:], x[0, 0], x.expand(2, 3, 4), x[::-1], x.to(ember.bfloat16).T,
            ember.tensor([1 + 2j, 3j]), x.to(ember.int8)[:, 1], ember.zeros(0, 3),
            ember.tensor([True, False]), x.to(ember.float16)]


@pytest.mark.parametrize("index", range(13))
def test_pickle_and_deepcopy_keep_values_dtype_and_layout(index):
    t = _layouts()[index]
    for c in (pickle.loads(pickle.dumps(t)), copy.deepcopy(t)):
        assert c.dtype is t.dtype
        assert c.shape == t.shape
        assert c.stride() == t.stride()
        assert c.storage_offset() == t.storage_offset()
        assert _norm(c) == _norm(t)
        assert c.untyped_storage() is not t.untyped_storage()
    assert copy.copy(t) is t


def test_pickle_matches_torch_layout():
    x, tx = ember.arange(12.0).reshape(3, 4), torch.arange(12.0).reshape(3, 4)
    for fn in (lambda v: v.T, lambda v: v[:, ::2], lambda v: v[1:], lambda v: v.expand(2, 3, 4)):
        e, t = pickle.loads(pickle.dumps(fn(x))), pickle.loads(pickle.dumps(fn(tx)))
        assert (e.stride(), e.storage_offset()) == (t.stride(), t.storage_offset())


def test_views_copied_together_keep_sharing_storage():
    x = ember.arange(6.0).reshape(2, 3)
    for a, b in (copy.deepcopy([x, x.T]), pickle.loads(pickle.dumps([x, x.T]))):
        a[0, 1] = 100.0
        assert b[1, 0].item() == 100.0
        assert x[0, 1].item() == 1.0


def test_pickle_and_deepcopy_keep_requires_grad_and_grad():
    x = ember.ones(3, requires_grad=True)
    x.grad = ember.full((3,), 2.0)
    d = copy.deepcopy(x)
    assert d.requires_grad and d.grad.tolist() == [2.0, 2.0, 2.0]
    assert d.grad.untyped_storage() is not x.grad.untyped_storage()
    assert pickle.loads(pickle.dumps(x)).requires_grad


def test_unpickling_checks_the_layout_against_the_storage():
    from ember._core._tensor import _rebuild_tensor_view
    storage = ember.zeros(4).untyped_storage()
    with pytest.raises(RuntimeError):
        _rebuild_tensor_view(storage, "float32", (5,), (1,), 0, False)
    with pytest.raises(RuntimeError):
        _rebuild_tensor_view(storage, "float64", (3,), (1,), 0, False)
    assert _rebuild_tensor_view(storage, "float32", (2,), (2,), 1, False).tolist() == [0.0, 0.0]


# ---------------------------------------------------------------- NumPy interop

@pytest.mark.parametrize("name", ["bool", "uint8", "int8", "int16", "int32", "int64", "float16",
                                  "bfloat16", "float32", "float64", "complex64", "complex128"])
def test_numpy_round_trip_shares_memory(name):
    t = ember.ones(2, 3, dtype=getattr(ember, name))
    a = t.numpy()
    assert a.shape == (2, 3)
    back = ember.from_numpy(a)
    assert back.dtype is t.dtype and back.data_ptr() == t.data_ptr()
    t.T[0, 1] = 0
    assert not bool(a[1, 0])


def test_from_numpy_keeps_strides_and_readonly():
    a = np.arange(12.0).reshape(3, 4)[::-1, ::2]
    t = ember.from_numpy(a)
    assert t.tolist() == a.tolist()
    assert t.stride() == (-4, 2)
    ro = np.arange(3.0)
    ro.flags.writeable = False
    r = ember.from_numpy(ro)
    with pytest.raises(RuntimeError):
        r[0] = 1.0
    with pytest.raises(RuntimeError):
        r.add_(1)
    with pytest.raises(TypeError):
        ember.from_numpy([1, 2])
    with pytest.raises(TypeError):
        ember.from_numpy(np.zeros(2, dtype=np.longdouble))


def test_bare_tensor_new_is_a_valid_empty_tensor():
    # Tensor.__new__ without a creator must never leave a kernel a NULL storage
    t = ember.Tensor.__new__(ember.Tensor)
    assert t.shape == (0,) and t.dtype is ember.float32
    assert (t + 1).shape == (0,)
    assert t.sum().item() == 0.0
    assert ember.Tensor().add_(1).shape == (0,)


def test_storage_construction():
    # ember.UntypedStorage(nbytes) allocates, as torch.UntypedStorage; a bare __new__ does not
    assert ember.Storage().nbytes() == 0 and ember.Storage(3).nbytes() == 3
    from ember._core import _tensor
    with pytest.raises(TypeError):
        _tensor._rebuild_tensor_view(ember.Storage.__new__(ember.Storage), "float32", (0,), (1,), 0,
                                     False)
