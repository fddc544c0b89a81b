"""Tensor.layout and ember.strided, the layout= argument of the creation functions,
ember.UntypedStorage (Tensor.untyped_storage()), Tensor.storage() / ember.TypedStorage
and Tensor.set_, against torch."""
import pickle
import warnings

import numpy as np
import pytest
import torch

import ember
from ember.ops import storage as storage_mod

DTYPES = ["float32", "float64", "int16", "int64", "bool", "uint8", "complex64"]


def pair(values, dtype):
    a = np.asarray(values).astype(dtype)
    return ember.from_numpy(a.copy()), torch.from_numpy(a.copy())


def ember_text(text):
    return text.replace("torch.storage.", "ember.").replace("torch.", "ember.")


@pytest.fixture(autouse=True)
def _quiet_typed_storage():
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "TypedStorage is deprecated")
        yield


# ---------------------------------------------------------------- layout

def test_strided_is_the_layout_of_every_tensor():
    assert repr(ember.strided) == ember_text(repr(torch.strided)) == "ember.strided"
    assert type(ember.strided) is ember.layout
    x = ember.arange(24.0).reshape(2, 3, 4)
    for t in (x, x.transpose(0, 2), x[:, ::2], ember.empty(0), ember.tensor(1.0),
              x.unsqueeze(0).expand(3, 2, 3, 4)):
        assert t.layout is ember.strided
    assert pickle.loads(pickle.dumps(ember.strided)) is ember.strided
    with pytest.raises(TypeError, match="cannot create 'ember.layout' instances"):
        ember.layout()
    with pytest.raises(TypeError):
        torch.layout()


def _creation_calls(lib, layout):
    x = lib.zeros(2, 3)
    return {
        "empty": lambda: lib.empty(2, 3, layout=layout),
        "zeros": lambda: lib.zeros(2, 3, layout=layout),
        "ones": lambda: lib.ones(2, layout=layout),
        "full": lambda: lib.full((2,), 3.0, layout=layout),
        "empty_strided": lambda: lib.empty_strided((2, 2), (1, 2), layout=layout),
        "empty_like": lambda: lib.empty_like(x, layout=layout),
        "zeros_like": lambda: lib.zeros_like(x, layout=layout),
        "ones_like": lambda: lib.ones_like(x, layout=layout),
        "full_like": lambda: lib.full_like(x, 2.0, layout=layout),
        "arange": lambda: lib.arange(5, layout=layout),
        "linspace": lambda: lib.linspace(0, 1, 5, layout=layout),
        "logspace": lambda: lib.logspace(0, 1, 5, layout=layout),
        "eye": lambda: lib.eye(3, layout=layout),
        "rand": lambda: lib.rand(2, layout=layout),
        "randn": lambda: lib.randn(2, layout=layout),
        "randint": lambda: lib.randint(0, 5, (3,), layout=layout),
        "randperm": lambda: lib.randperm(4, layout=layout),
        "rand_like": lambda: lib.rand_like(x, layout=layout),
        "randn_like": lambda: lib.randn_like(x, layout=layout),
        "randint_like": lambda: lib.randint_like(x, 5, layout=layout),
        "normal": lambda: lib.normal(0.0, 1.0, (2,), layout=layout),
        "tril_indices": lambda: lib.tril_indices(3, 3, layout=layout),
        "triu_indices": lambda: lib.triu_indices(3, 3, layout=layout),
        "scalar_tensor": lambda: lib.scalar_tensor(1.0, layout=layout),
        "hann_window": lambda: lib.hann_window(4, layout=layout),
        "kaiser_window": lambda: lib.kaiser_window(4, layout=layout),
        "fftfreq": lambda: lib.fft.fftfreq(4, layout=layout),
        "rfftfreq": lambda: lib.fft.rfftfreq(4, layout=layout),
        "new_zeros": lambda: x.new_zeros(2, layout=layout),
        "new_ones": lambda: x.new_ones((2,), layout=layout),
        "new_empty": lambda: x.new_empty(2, layout=layout),
        "new_full": lambda: x.new_full((2,), 1.0, layout=layout),
        "new_empty_strided": lambda: x.new_empty_strided((2,), (1,), layout=layout),
    }


@pytest.mark.parametrize("name", sorted(_creation_calls(ember, None)))
def test_creation_layout_argument(name):
    """``layout=ember.strided`` is accepted and changes nothing; a value that is not a
    layout is a TypeError naming the function, as in torch."""
    out = _creation_calls(ember, ember.strided)[name]()
    expected = _creation_calls(torch, torch.strided)[name]()
    assert tuple(out.shape) == tuple(expected.shape)
    assert str(out.dtype).split(".")[1] == str(expected.dtype).split(".")[1]
    assert out.layout is ember.strided
    with pytest.raises(TypeError) as info:
        _creation_calls(ember, "strided")[name]()
    assert str(info.value) == f"{name}(): argument 'layout' must be ember.layout, not str"
    with pytest.raises(TypeError):
        _creation_calls(torch, "strided")[name]()


# ---------------------------------------------------------------- UntypedStorage

@pytest.mark.parametrize("dtype", DTYPES)
def test_untyped_storage_reads_bytes_as_torch(dtype):
    e, t = pair(np.arange(-3, 5), dtype)
    es, ts = e.untyped_storage(), t.untyped_storage()
    assert isinstance(es, ember.UntypedStorage)
    assert es.tolist() == ts.tolist()
    assert len(es) == len(ts) and es.nbytes() == ts.nbytes() and es.size() == ts.size()
    assert es.element_size() == ts.element_size() == 1
    assert es.device == ember.device("cpu") and not es.is_cuda
    assert es.data_ptr() == e.data_ptr()
    for i in (0, 3, -1, -len(ts)):
        assert es[i] == ts[i]
    assert es[2:7].tolist() == ts[2:7].tolist()
    assert es[5:2].nbytes() == ts[5:2].nbytes() == 0
    assert es.untyped() is es
    assert str(es) == ember_text(str(ts))


def test_untyped_storage_writes_through():
    e, t = pair(np.arange(4), "int16")
    es, ts = e.untyped_storage(), t.untyped_storage()
    for s in (es, ts):
        view = s[2:6]
        assert view.data_ptr() - s.data_ptr() == 2
        view[0] = 7
        s[7] = 1
        s[0:2] = 9
    assert es.tolist() == ts.tolist()
    np.testing.assert_array_equal(e.numpy(), t.numpy())
    es.fill_(3)
    ts.fill_(3)
    np.testing.assert_array_equal(e.numpy(), t.numpy())


def test_untyped_storage_copy_clone_and_new():
    e, t = pair([1.5, -2.0, 3.0], "float32")
    src_e, src_t = pair([7.0, 8.0, 9.0], "float32")
    e.untyped_storage().copy_(src_e.untyped_storage())
    t.untyped_storage().copy_(src_t.untyped_storage())
    np.testing.assert_array_equal(e.numpy(), t.numpy())
    c = e.untyped_storage().clone()
    assert c.data_ptr() != e.data_ptr() and c.tolist() == e.untyped_storage().tolist()
    c.fill_(0)
    assert e.tolist() == [7.0, 8.0, 9.0]
    assert e.untyped_storage().cpu() is e.untyped_storage()
    new_e, new_t = ember.UntypedStorage(5), torch.UntypedStorage(5)
    assert new_e.nbytes() == new_t.nbytes() == 5 and new_e.device == ember.device("cpu")
    assert ember.UntypedStorage(0).nbytes() == 0
    assert str(ember.UntypedStorage(0)) == ember_text(str(torch.UntypedStorage(0)))
    # a tensor over a new storage
    s = ember.UntypedStorage(8).fill_(0)
    x = ember.tensor([], dtype=ember.int32).set_(s)
    assert x.tolist() == [0, 0]


def test_untyped_storage_errors():
    e, t = pair(np.arange(4), "int16")
    es, ts = e.untyped_storage(), t.untyped_storage()
    for s in (es, ts):
        with pytest.raises(IndexError, match="out of range for storage of size 8"):
            s[8]
        with pytest.raises(RuntimeError, match="only a step of 1 is supported"):
            s[0:8:2]
        with pytest.raises(TypeError, match="can't index a"):
            s["a"]
    with pytest.raises(RuntimeError, match="size does not match, self was 8 bytes but src was 3"):
        es.copy_(ember.UntypedStorage(3))
    with pytest.raises(RuntimeError, match="size does not match, self was 8 bytes but src was 3"):
        ts.copy_(torch.UntypedStorage(3))
    with pytest.raises(TypeError, match="expected an ember.UntypedStorage"):
        es.copy_(b"12345678")
    with pytest.raises(RuntimeError, match="non-negative"):
        ember.UntypedStorage(-1)
    with pytest.raises(RuntimeError, match="already initialised"):
        es.__init__(3)


# ---------------------------------------------------------------- TypedStorage

@pytest.mark.parametrize("dtype", DTYPES)
def test_typed_storage_matches_torch(dtype):
    e, t = pair(np.arange(-3, 9), dtype)
    # a non-contiguous view with an offset: the storage is still the whole buffer
    ev, tv = e.reshape(3, 4)[1:, ::2], t.reshape(3, 4)[1:, ::2]
    es, ts = ev.storage(), tv.storage()
    assert isinstance(es, ember.TypedStorage) and ember.is_storage(es)
    assert es.tolist() == ts.tolist() and list(es) == list(ts)
    assert len(es) == len(ts) == es.size() == 12
    assert es.nbytes() == ts.nbytes() and es.element_size() == ts.element_size()
    assert str(es.dtype) == ember_text(str(ts.dtype))
    assert es.device == ember.device("cpu") and not es.is_cuda
    assert es.data_ptr() == e.data_ptr()
    assert es.untyped() is e.untyped_storage() and es._untyped_storage is e.untyped_storage()
    for i in (0, 5, -1, -12):
        assert es[i] == ts[i]
    assert str(es) == ember_text(str(ts))
    assert repr(es) == ember_text(repr(ts))


def test_typed_storage_shares_memory():
    e, t = pair([1.0, 2.0, 3.0, 4.0], "float64")
    for x in (e, t):
        s = x[1:].storage()
        s[0] = 9.0
        s[2:4] = 5.0
    np.testing.assert_array_equal(e.numpy(), t.numpy())
    e.storage().fill_(2.5)
    t.storage().fill_(2.5)
    np.testing.assert_array_equal(e.numpy(), t.numpy())
    src_e, src_t = pair([4.0, 3.0, 2.0, 1.0], "float64")
    assert e.storage().copy_(src_e.storage()).tolist() == t.storage().copy_(
        src_t.storage()).tolist()
    np.testing.assert_array_equal(e.numpy(), t.numpy())
    c = e.storage().clone()
    c.fill_(0)
    assert e.tolist() == [4.0, 3.0, 2.0, 1.0] and c.tolist() == [0.0] * 4
    assert e.storage().cpu().data_ptr() == e.data_ptr()
    assert ember.empty(0).storage().size() == torch.empty(0).storage().size() == 0


def test_typed_storage_constructors():
    for args, kwargs in (((3,), {}), (([1, 2, 3],), {"dtype": "int32"}), ((), {}),
                         ((2,), {"dtype": "float64"})):
        e_kwargs = {k: getattr(ember, v) for k, v in kwargs.items()}
        t_kwargs = {k: getattr(torch, v) for k, v in kwargs.items()}
        es, ts = ember.TypedStorage(*args, **e_kwargs), torch.TypedStorage(*args, **t_kwargs)
        assert es.size() == ts.size() and str(es.dtype) == ember_text(str(ts.dtype))
        if args and isinstance(args[0], list):
            assert es.tolist() == ts.tolist()
    wrapped = ember.TypedStorage(wrap_storage=ember.ones(2).untyped_storage(), dtype=ember.int32)
    expected = torch.TypedStorage(wrap_storage=torch.ones(2).untyped_storage(), dtype=torch.int32)
    assert wrapped.tolist() == expected.tolist()


def test_typed_storage_errors():
    e, t = pair([1.0, 2.0, 3.0], "float32")
    for s in (e.storage(), t.storage()):
        with pytest.raises(IndexError, match="index 3 out of range for storage of size 3"):
            s[3]
        with pytest.raises(IndexError, match="out of range"):
            s[-4]
        with pytest.raises(RuntimeError, match="slices are only supported in UntypedStorage"):
            s[0:2]
        with pytest.raises(RuntimeError, match="can't index a"):
            s[1.0]
    for lib, dtype in ((ember, ember.float32), (torch, torch.float32)):
        u = lib.ones(2).untyped_storage()
        with pytest.raises(RuntimeError, match="No positional arguments"):
            lib.TypedStorage(2, wrap_storage=u, dtype=dtype)
        with pytest.raises(RuntimeError, match="Argument 'dtype' must be specified"):
            lib.TypedStorage(wrap_storage=u)
        with pytest.raises(RuntimeError, match="'device' should not be specified"):
            lib.TypedStorage(wrap_storage=u, dtype=dtype, device="cpu")
        with pytest.raises(TypeError, match="'wrap_storage' must be UntypedStorage"):
            lib.TypedStorage(wrap_storage=[1], dtype=dtype)
        with pytest.raises(TypeError, match="'dtype' must be"):
            lib.TypedStorage(wrap_storage=u, dtype="float32")


def test_deprecation_warning_once_as_torch():
    torch.storage._reset_warn_typed_storage_removal()
    storage_mod._reset_warn_typed_storage_removal()
    for lib in (torch, ember):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            s = lib.zeros(2).storage()
            s.size()
            lib.zeros(3).storage().tolist()
        assert len(caught) == 1 and caught[0].category is UserWarning
        assert str(caught[0].message).startswith("TypedStorage is deprecated")
        assert caught[0].filename == __file__
    storage_mod._reset_warn_typed_storage_removal()
    with pytest.warns(UserWarning, match="UntypedStorage will be the only storage class"):
        ember.TypedStorage(2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ember.TypedStorage(2).size()          # only the first use warns


# ---------------------------------------------------------------- Tensor.set_

def _set_cases(lib):
    def src():
        return lib.arange(6, dtype=lib.float32)

    return {
        "storage": lambda: lib.tensor([], dtype=lib.float32).set_(src().untyped_storage()),
        "storage strided": lambda: lib.zeros(1, dtype=lib.int16).set_(
            src().untyped_storage(), 1, (2, 2), (1, 3)),
        "storage offset": lambda: lib.zeros(1).set_(src().untyped_storage(), 2, (3,)),
        "typed storage": lambda: lib.zeros(2).set_(src().storage(), 1, (2, 2)),
        "tensor": lambda: lib.zeros(2).set_(src()[1:5:2]),
        "tensor and layout": lambda: lib.zeros(2).set_(src(), 1, (2,), (2,)),
        "empty": lambda: lib.zeros(2).set_(),
        "double from float bytes": lambda: lib.zeros(2, dtype=lib.float64).set_(
            lib.arange(4, dtype=lib.float32).untyped_storage()),
    }


@pytest.mark.parametrize("case", sorted(_set_cases(ember)))
def test_set_matches_torch(case):
    out, expected = _set_cases(ember)[case](), _set_cases(torch)[case]()
    np.testing.assert_array_equal(out.numpy(), expected.numpy())
    assert out.stride() == expected.stride()
    assert out.storage_offset() == expected.storage_offset()
    assert out.is_contiguous() == expected.is_contiguous()


def test_set_shares_memory_and_bumps_version():
    src = ember.arange(4.0)
    x = ember.zeros(2)
    v = x._version
    x.set_(src)
    assert x._version > v and x.data_ptr() == src.data_ptr()
    assert x.untyped_storage() is src.untyped_storage()
    x[0] = 10.0
    assert src[0].item() == 10.0
    x.set_(src.untyped_storage(), 1, (3,))
    src[1] = -1.0
    assert x.tolist() == [-1.0, 2.0, 3.0]
    leaf = ember.zeros(2, requires_grad=True)
    with ember.no_grad():
        leaf.set_(src)
    assert leaf.requires_grad and leaf.tolist() == src.tolist()


def test_set_errors():
    for lib in (ember, torch):
        s = lib.arange(6, dtype=lib.float32)
        with pytest.raises(RuntimeError, match="Could not set tensor of type"):
            lib.zeros(2).set_(lib.zeros(2, dtype=lib.int64))
        with pytest.raises(RuntimeError, match="Expected a Storage of type"):
            lib.zeros(2).set_(lib.zeros(2, dtype=lib.int64).storage())
        with pytest.raises(RuntimeError, match="a leaf Variable that requires grad"):
            lib.zeros(2, requires_grad=True).set_(s.untyped_storage())
        with pytest.raises(TypeError):
            lib.zeros(2).set_(3)
    # torch grows a storage too small for the view; ember's storages have a fixed size
    with pytest.raises(RuntimeError, match="out of bounds for storage of size 24"):
        ember.zeros(2).set_(ember.arange(6.0).untyped_storage(), 2, (5,))
    with pytest.raises(RuntimeError, match="Negative storage offset"):
        ember.zeros(2).set_(ember.arange(6.0).untyped_storage(), -1, (2,))
