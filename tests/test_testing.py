"""ember.testing against torch.testing: assert_close's decisions and messages on the same
inputs, and make_tensor's ranges, layouts and errors."""
import collections
import re

import numpy as np
import pytest
import torch

import ember
from ember.testing import assert_close, make_tensor


def _to(lib, value):
    """``value`` with its NumPy arrays turned into ``lib`` tensors (recursively)."""
    if isinstance(value, np.ndarray):
        return lib.tensor(value) if lib is not np else value
    if isinstance(value, (list, tuple)):
        items = [_to(lib, v) for v in value]
        return type(value)(*items) if hasattr(value, "_fields") else type(value)(items)
    if isinstance(value, dict):
        return {k: _to(lib, v) for k, v in value.items()}
    return value


def _outcome(fn, actual, expected, **kwargs):
    try:
        fn(actual, expected, **kwargs)
    except Exception as error:   # noqa: BLE001 -- the outcome is what is compared
        # only the library names differ (ember._core._tensor.Tensor, torch.Tensor)
        text = str(error).replace("ember._core._tensor.", "ember.")
        return type(error), text.replace("torch.", "").replace("ember.", "")
    return None, ""


def _same_outcome(actual, expected, lib_a=None, lib_e=None, **kwargs):
    ours = _outcome(assert_close, _to(lib_a or ember, actual), _to(lib_e or ember, expected),
                    **kwargs)
    theirs = _outcome(torch.testing.assert_close, _to(lib_a or torch, actual),
                      _to(lib_e or torch, expected), **kwargs)
    assert ours == theirs
    return ours


F32 = np.array([1.0, 2.0, 3.0], np.float32)


@pytest.mark.parametrize("actual, expected, kwargs", [
    (F32, F32, {}),
    (F32, F32 + 1e-6, {}),                                  # within float32 tolerance
    (F32, F32 + np.float32([0, 0.5, 0]), {}),               # one mismatch
    (F32, F32 * 2, {}),                                     # all mismatch
    (F32, F32 + 0.1, dict(rtol=0.0, atol=0.2)),
    (F32, F32 + 0.1, dict(rtol=0.0, atol=0.0)),             # "not equal" wording
    (np.array([1.0, np.nan]), np.array([1.0, np.nan]), {}),
    (np.array([1.0, np.nan]), np.array([1.0, np.nan]), dict(equal_nan=True)),
    (np.array([1.0, 2.0]), np.array([1.0, 2.0 + 1e-8]), {}),             # float64 tolerance
    (np.array([1.0, 2.0]), np.array([1.0, 2.0 + 1e-6]), {}),
    (np.arange(6).reshape(2, 3), np.arange(6).reshape(2, 3) * 2, {}),    # int64: equality
    (np.array([True, False]), np.array([True, True]), {}),
    (np.zeros((2, 2)), np.zeros((2, 3)), {}),                            # shape
    (np.zeros(2, np.float32), np.zeros(2, np.float64), {}),              # dtype
    (np.zeros(2, np.float32), np.zeros(2, np.float64), dict(check_dtype=False)),
    (np.ones(2, np.float32), np.ones(2, np.float64) * 1.5, dict(check_dtype=False)),
    (np.float64(3.0), np.float64(3.5), {}),                               # 0-d: scalar message
    (np.array([0.0, 1.0]), np.array([1.0, 1.0]), {}),                     # relative diff to 0
    (np.array([[1.0, 5.0], [2.0, 9.0]]), np.array([[1.0, 4.0], [2.0, 1.0]]), {}),
    (np.array([1 + 1j, 2j]), np.array([1 + 1j, 2.5j]), {}),
    (np.empty((0, 3)), np.empty((0, 3)), {}),
])
def test_tensor_decisions_and_messages_match_torch(actual, expected, kwargs):
    _same_outcome(actual, expected, **kwargs)


def test_message_structure():
    error, msg = _same_outcome(F32, F32 + np.float32([0, 0.5, 0]))
    assert error is AssertionError
    lines = msg.splitlines()
    assert lines[0] == "Tensor-likes are not close!"
    assert lines[2] == "Mismatched elements: 1 / 3 (33.3%)"
    assert re.match(r"Greatest absolute difference: 0\.5 at index \(1,\) \(up to 1e-05", lines[3])
    assert lines[4].startswith("Greatest relative difference:")


@pytest.mark.parametrize("actual, expected, kwargs", [
    (1, 1, {}), (1, 2, {}), (1.0, 1.0 + 1e-9, {}), (1.0, 1.1, {}),
    (1.0, 1.1, dict(rtol=0.2, atol=0)),
    (float("nan"), float("nan"), {}), (float("nan"), float("nan"), dict(equal_nan=True)),
    (1 + 2j, 1 + 2.5j, {}), (True, False, {}), (True, True, {}), (None, None, {}),
    (None, 1, {}), (np.float32(1.0), 1.0, {}), (0.0, 1e-8, {}),
    (float("inf"), float("inf"), {}), (float("inf"), float("-inf"), {}),
])
def test_python_scalars(actual, expected, kwargs):
    _same_outcome(actual, expected, **kwargs)


@pytest.mark.parametrize("actual, expected", [
    ([np.ones(2), 3.0], [np.ones(2), 3.0]),
    ([np.ones(2), 3.0], [np.ones(2), 3.5]),
    ((np.ones(2), np.ones(3)), (np.ones(2), np.ones(3) * 2)),          # failure at item [1]
    ([np.ones(2)], [np.ones(2), np.ones(2)]),                           # length
    ({"a": np.ones(2), "b": [1, 2]}, {"a": np.ones(2), "b": [1, 3]}),   # nested item ['b'][1]
    ({"a": 1}, {"b": 1}),                                               # keys
    ({"a": 1, "c": 2}, {"a": 1, "b": 1}),
    ([1, "x"], [2, "y"]),                                               # TypeError wins
    ("abc", "abc"),
])
def test_sequences_and_mappings(actual, expected):
    _same_outcome(actual, expected)


def test_namedtuple_and_ordered_dict():
    Point = collections.namedtuple("Point", "x y")
    _same_outcome(Point(np.ones(2), 1.0), Point(np.ones(2), 2.0))
    _same_outcome(collections.OrderedDict(a=np.zeros(1)), {"a": np.zeros(1)})


def test_numpy_arrays_as_torch_accepts_them():
    a, b = np.array([1.0, 2.0]), np.array([1.0, 2.5])
    _same_outcome(a, b, lib_a=np, lib_e=np)            # two arrays: compared as tensors
    _same_outcome(a, a, lib_a=np, lib_e=np)
    _same_outcome(a, a, lib_e=np)                     # tensor and array: no comparison
    _same_outcome(F32, [1.0, 2.0, 3.0])               # tensor and list: item by item fails


def test_tolerance_arguments_both_or_neither():
    error, msg = _same_outcome(F32, F32, rtol=1e-3)
    assert error is ValueError and "must be either specified or omitted" in msg
    _same_outcome(F32, F32, atol=1e-3)


def test_msg_string_and_callable():
    assert _same_outcome(F32, F32 * 2, msg="custom") == (AssertionError, "custom")
    error, msg = _same_outcome(F32, F32 * 2, msg=lambda m: m + "\nFooter")
    assert msg.endswith("Footer")


def test_subclasses_stride_and_device():
    p = ember.nn.Parameter(ember.ones(2))
    assert_close(p, ember.ones(2))
    with pytest.raises(TypeError, match="No comparison pair"):
        assert_close(p, ember.ones(2), allow_subclasses=False)
    with pytest.raises(TypeError, match="No comparison pair"):
        torch.testing.assert_close(torch.nn.Parameter(torch.ones(2)), torch.ones(2),
                                   allow_subclasses=False)
    x = ember.arange(6.0).reshape(2, 3)
    _same_outcome(np.arange(6.0).reshape(3, 2).T, np.arange(6.0).reshape(3, 2).T.copy(),
                  check_stride=True)
    assert_close(x.t(), x.t().contiguous())
    with pytest.raises(AssertionError, match=r"The values for attribute 'stride\(\)'"):
        assert_close(x.t(), x.t().contiguous(), check_stride=True)


def test_requires_grad_is_ignored():
    assert_close(ember.ones(2, requires_grad=True) * 2, ember.full((2,), 2.0))


@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float32", "float64", "complex64",
                                   "complex128", "int32", "int64", "uint8", "bool"])
def test_default_tolerance_per_dtype(dtype):
    # the smallest perturbation that passes/fails must agree with torch's table
    e_dtype, t_dtype = getattr(ember, dtype), getattr(torch, dtype)
    for delta in (1e-8, 1e-6, 1e-5, 1e-4, 1e-2, 1.0):
        ours = _outcome(assert_close, ember.ones(3, dtype=e_dtype) + ember.tensor(delta).to(e_dtype)
                        if dtype != "bool" else ember.ones(3, dtype=e_dtype),
                        ember.ones(3, dtype=e_dtype))[0]
        theirs = _outcome(torch.testing.assert_close,
                          torch.ones(3, dtype=t_dtype) + torch.tensor(delta).to(t_dtype)
                          if dtype != "bool" else torch.ones(3, dtype=t_dtype),
                          torch.ones(3, dtype=t_dtype))[0]
        assert ours is theirs, delta


# ---------------------------------------------------------------- make_tensor

@pytest.mark.parametrize("dtype, low, high", [
    ("float32", None, None), ("float64", -1, 1), ("int64", None, None), ("uint8", None, None),
    ("int8", -200, 200), ("bool", None, None), ("complex64", None, None), ("float16", 0, 1e9),
    ("int32", 2.5, 7.2),
])
def test_make_tensor_ranges_match_torch(dtype, low, high):
    e = make_tensor(50, 40, dtype=getattr(ember, dtype), device="cpu", low=low, high=high)
    t = torch.testing.make_tensor(50, 40, dtype=getattr(torch, dtype), device="cpu", low=low,
                                  high=high)
    assert str(e.dtype).split(".")[-1] == str(t.dtype).split(".")[-1]
    assert tuple(e.shape) == tuple(t.shape) == (50, 40)
    ev = e.numpy()
    tv = t.numpy()
    if np.iscomplexobj(ev):
        ev, tv = np.concatenate([ev.real, ev.imag]), np.concatenate([tv.real, tv.imag])
    ev, tv = ev.astype(np.float64), tv.astype(np.float64)
    # the same interval (up to sampling): both fall within the other's bounds
    lo, hi = min(ev.min(), tv.min()), max(ev.max(), tv.max())
    assert tv.min() >= lo and ev.min() >= lo and ev.max() <= hi
    if dtype in ("int64", "uint8", "bool", "int8", "int32"):
        ours, theirs = set(np.unique(ev)), set(np.unique(tv))
        if len(ours | theirs) <= 50:
            # 2000 draws each: every value of a small range shows up in both
            assert ours == theirs
        else:
            # a wide range (int8's [-128, 127]) is not covered by every draw: compare the
            # range's ends and how much of it each covers
            info = np.iinfo(getattr(np, dtype))
            assert info.min <= ev.min() and ev.max() <= info.max
            assert len(ours) > 0.9 * len(ours | theirs) and len(theirs) > 0.9 * len(ours | theirs)


def test_make_tensor_shapes_and_layouts():
    assert make_tensor((2, 3), dtype=ember.float32, device="cpu").shape == (2, 3)
    assert make_tensor([4], dtype=ember.float32, device="cpu").shape == (4,)
    assert make_tensor(dtype=ember.float32, device="cpu").shape == ()
    t = make_tensor(3, 4, dtype=ember.float32, device="cpu", noncontiguous=True)
    tt = torch.testing.make_tensor(3, 4, dtype=torch.float32, device="cpu", noncontiguous=True)
    assert t.stride() == tt.stride() and not t.is_contiguous()
    # a single element stays contiguous
    assert make_tensor(1, dtype=ember.float32, device="cpu", noncontiguous=True).is_contiguous()
    c = make_tensor(2, 3, 4, 5, dtype=ember.float32, device="cpu",
                    memory_format=ember.channels_last)
    assert c.is_contiguous(memory_format=ember.channels_last)
    g = make_tensor(3, dtype=ember.float64, device="cpu", requires_grad=True)
    assert g.requires_grad and g.is_leaf


def test_make_tensor_exclude_zero():
    for dtype in (ember.int64, ember.bool, ember.float32):
        t = make_tensor(200, dtype=dtype, device="cpu", low=0, high=2, exclude_zero=True)
        assert not bool((t == 0).any())
    f = make_tensor(2000, dtype=ember.float16, device="cpu", low=0, high=1e-3,
                    exclude_zero=True)
    assert not bool((f == 0).any())


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(dtype="int64", requires_grad=True), ValueError, "not supported for boolean and integral"),
    (dict(dtype="float32", low=2, high=1), ValueError, "`low` must be less than `high`"),
    (dict(dtype="float32", low=float("nan")), ValueError, "cannot be NaN"),
    (dict(dtype="uint8", low=300, high=400), ValueError, "only supports"),
    (dict(dtype="float32", noncontiguous=True, memory_format="channels_last"), ValueError,
     "mutually exclusive"),
])
def test_make_tensor_errors_match_torch(kwargs, error, match):
    for lib, fn in ((ember, make_tensor), (torch, torch.testing.make_tensor)):
        args = dict(kwargs, dtype=getattr(lib, kwargs["dtype"]))
        if "memory_format" in args:
            args["memory_format"] = getattr(lib, args["memory_format"])
        with pytest.raises(error, match=match):
            fn(2, 2, device="cpu", **args)


def test_make_tensor_low_equal_high_warns():
    with pytest.warns(FutureWarning, match="low==high"):
        t = make_tensor(3, dtype=ember.float32, device="cpu", low=1, high=1)
    assert bool((t == 1).all())
