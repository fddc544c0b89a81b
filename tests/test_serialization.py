"""ember.save / ember.load: safetensors files, round trips, atomic writes, hostile input."""
import collections
import io
import json
import math
import os
import stat
import struct

import ml_dtypes
import numpy as np
import pytest
import safetensors
import safetensors.numpy
import torch

import ember

DTYPES = [ember.bool, ember.uint8, ember.int8, ember.int16, ember.int32, ember.int64,
          ember.float16, ember.bfloat16, ember.float32, ember.float64, ember.complex64,
          ember.complex128]


def _roundtrip(obj):
    buffer = io.BytesIO()
    ember.save(obj, buffer)
    buffer.seek(0)
    return ember.load(buffer)


def _equal(a, b):
    assert a.dtype == b.dtype and tuple(a.shape) == tuple(b.shape)
    np.testing.assert_array_equal(a.numpy(), b.numpy())


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_roundtrip_every_dtype_and_layout(dtype):
    base = (ember.arange(24, dtype=ember.float64).reshape(2, 3, 4) - 7).to(dtype)
    views = [base, base.transpose(0, 2), base[:, ::-1], base[0, 1].expand(5, 4),
             base[1, 2, 3], base[:, :0]]
    loaded = _roundtrip(views)
    assert isinstance(loaded, list)
    for ours, original in zip(loaded, views):
        _equal(ours, original)
        assert ours.is_contiguous()


def _extreme_values(dtype):
    """A NumPy array of ``dtype``'s corner values (signed zeros, infinities, NaN, limits)."""
    if dtype == np.bool_:
        return np.array([True, False, True])
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        return np.array([info.min, info.max, 0, 1, info.max // 3], dtype=dtype)
    if dtype.kind == "c":
        real = _extreme_values(np.dtype(f"f{dtype.itemsize // 2}"))
        values = np.empty(real.shape, dtype)
        values.real, values.imag = real, real[::-1]
        return values
    info = ml_dtypes.finfo(dtype)
    return np.array([-0.0, np.inf, -np.inf, np.nan, 1.5, info.smallest_subnormal, info.max,
                     info.min], dtype=dtype)


# every ember dtype, with the NumPy dtype of its values
EVERY_DTYPE = {ember.bool: np.dtype(np.bool_), ember.uint8: np.dtype(np.uint8),
               ember.uint16: np.dtype(np.uint16), ember.uint32: np.dtype(np.uint32),
               ember.uint64: np.dtype(np.uint64), ember.int8: np.dtype(np.int8),
               ember.int16: np.dtype(np.int16), ember.int32: np.dtype(np.int32),
               ember.int64: np.dtype(np.int64), ember.float16: np.dtype(np.float16),
               ember.bfloat16: np.dtype(ml_dtypes.bfloat16), ember.float32: np.dtype(np.float32),
               ember.float64: np.dtype(np.float64), ember.complex64: np.dtype(np.complex64),
               ember.complex128: np.dtype(np.complex128)}


def test_every_dtype_is_covered():
    assert set(EVERY_DTYPE) == {value for value in vars(ember).values()
                                if isinstance(value, ember.dtype)}


def test_every_dtype_round_trips_in_a_file_the_safetensors_package_reads(tmp_path):
    arrays = {str(dtype): _extreme_values(np_dtype) for dtype, np_dtype in EVERY_DTYPE.items()}
    state = {name: ember.from_numpy(array.reshape(-1, 1)) for name, array in arrays.items()}
    state["nested"] = {"c128": ember.from_numpy(arrays["ember.complex128"][:2]),
                       "scalar": ember.tensor(3 - 4j, dtype=ember.complex128),
                       "empty": ember.zeros(0, 3, dtype=ember.complex128),
                       "numpy": arrays["ember.complex128"][::-1]}
    path = tmp_path / "every_dtype.safetensors"
    ember.save(state, path)

    read = safetensors.numpy.load_file(str(path))
    with safetensors.safe_open(str(path), framework="pt") as f:
        as_torch = {name: f.get_tensor(name) for name in f.keys()}
        assert f.metadata()["format"] == "ember"
    assert set(read) == set(as_torch) == set(arrays) | {
        "nested.c128", "nested.scalar", "nested.empty", "nested.numpy"}
    for name, array in arrays.items():
        expected = array.reshape(-1, 1)
        if array.dtype == np.complex128:       # no safetensors dtype: float64 pairs
            expected = np.stack([expected.real, expected.imag], axis=-1)
            assert as_torch[name].dtype == torch.float64
            assert torch.view_as_complex(as_torch[name]).numpy().tobytes() == array.tobytes()
        assert read[name].dtype == expected.dtype and read[name].shape == expected.shape, name
        assert read[name].tobytes() == expected.tobytes(), name
    assert read["nested.scalar"].tolist() == [3.0, -4.0]
    assert read["nested.empty"].shape == (0, 3, 2)

    loaded = ember.load(path)
    for name, tensor in state.items():
        if name == "nested":
            continue
        assert loaded[name].dtype == tensor.dtype and loaded[name].shape == tensor.shape, name
        assert loaded[name].numpy().tobytes() == tensor.numpy().tobytes(), name
    nested = loaded["nested"]
    for key in ("c128", "scalar", "empty"):
        assert nested[key].dtype == ember.complex128, key
        _equal(nested[key], state["nested"][key])
    assert type(nested["numpy"]) is np.ndarray and nested["numpy"].dtype == np.complex128
    assert nested["numpy"].tobytes() == state["nested"]["numpy"].tobytes()


def test_complex128_is_stored_as_float64_pairs_with_its_dtype_in_the_metadata():
    buffer = io.BytesIO()
    ember.save({"c": ember.tensor([[1 + 2j, 3 - 4j]], dtype=ember.complex128),
                "z": ember.tensor([1j], dtype=ember.complex64)}, buffer)
    raw = buffer.getvalue()
    n, = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    assert header["c"]["dtype"] == "F64" and header["c"]["shape"] == [1, 2, 2]
    assert header["z"]["dtype"] == "C64" and header["z"]["shape"] == [1]
    assert json.loads(header["__metadata__"]["ember.dtypes"]) == {"c": "complex128"}
    assert safetensors.numpy.load(raw)["c"].tolist() == [[[1.0, 2.0], [3.0, -4.0]]]
    # a file without complex128 tensors records no dtypes
    buffer = io.BytesIO()
    ember.save({"z": ember.tensor([1j], dtype=ember.complex64)}, buffer)
    assert b"ember.dtypes" not in buffer.getvalue()


def test_files_with_the_old_c128_tag_still_load():
    # what ember wrote before storing complex128 as float64 pairs
    values = np.array([1 + 2j, -3.5j], dtype="<c16")
    header = {"c": {"dtype": "C128", "shape": [2], "data_offsets": [0, 32]},
              "__metadata__": {"format": "ember",
                               "ember.structure": json.dumps({"__tensor__": "c"})}}
    loaded = ember.load(io.BytesIO(_with_header(header, values.tobytes())))
    assert loaded.dtype == ember.complex128
    assert loaded.numpy().tobytes() == values.tobytes()


def test_roundtrip_nested_state(tmp_path):
    state = {"model": {"w": ember.randn(3, 2), "b": ember.zeros(2)},
             "opt": [{"lr": 0.1, "betas": (0.9, 0.999), "step": 10 ** 20, "name": "adam",
                      "nesterov": False, "foo": None}],
             "special": [math.inf, -math.inf, math.nan], "empty": {}, "nested": [[], ()]}
    path = tmp_path / "state.safetensors"
    ember.save(state, path)
    loaded = ember.load(str(path))
    assert loaded["opt"] == state["opt"] and loaded["empty"] == {} and loaded["nested"] == [[], ()]
    assert isinstance(loaded["opt"][0]["betas"], tuple)
    assert loaded["special"][:2] == [math.inf, -math.inf] and math.isnan(loaded["special"][2])
    for key in ("w", "b"):
        _equal(loaded["model"][key], state["model"][key])
    assert not any(p.name.endswith(".tmp") for p in tmp_path.iterdir())
    assert _roundtrip(ember.tensor(3.5)).item() == 3.5


def _torch_roundtrip(obj):
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    buffer.seek(0)
    return torch.load(buffer)


def _kept(obj):
    """What a round trip keeps beyond values, in terms both libraries share."""
    if isinstance(obj, dict):
        metadata = getattr(obj, "_metadata", None)
        return (type(obj).__name__, {key: _kept(value) for key, value in obj.items()},
                None if metadata is None else (type(metadata).__name__, dict(metadata)))
    if isinstance(obj, (list, tuple)):
        return type(obj).__name__, [_kept(item) for item in obj]
    if not hasattr(obj, "requires_grad"):
        return obj
    return (type(obj).__name__, obj.requires_grad, obj.is_leaf, obj.grad_fn is None,
            obj.tolist())


def test_requires_grad_and_parameters_load_as_torch_loads_them():

    def build(lib):
        w = lib.ones(2, requires_grad=True)
        return {"leaf": w, "result": w * 3, "plain": lib.ones(2),
                "param": lib.nn.Parameter(lib.ones(2)),
                "frozen": lib.nn.Parameter(lib.ones(2), requires_grad=False),
                "int_param": lib.nn.Parameter(lib.arange(2), requires_grad=False),
                "nested": [lib.zeros(1, requires_grad=True), (lib.nn.Parameter(lib.ones(1)),)]}
    ours, theirs = _roundtrip(build(ember)), _torch_roundtrip(build(torch))
    assert _kept(ours) == _kept(theirs)
    assert isinstance(ours["param"], ember.nn.Parameter) and ours["param"].requires_grad
    assert type(ours["result"]) is ember.Tensor and ours["result"].is_leaf


def test_state_dict_loads_as_ordered_dict_with_metadata():
    modules = [(ember.nn.Sequential(ember.nn.Linear(2, 2), ember.nn.BatchNorm1d(2)),
                torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.BatchNorm1d(2)))]
    for ours_module, torch_module in modules:
        ours, theirs = _roundtrip(ours_module.state_dict()), _torch_roundtrip(torch_module.state_dict())
        assert type(ours) is type(theirs) is collections.OrderedDict
        assert list(ours) == list(theirs)
        assert type(ours._metadata) is type(theirs._metadata) is collections.OrderedDict
        assert ours._metadata == theirs._metadata
        assert all(type(v) is ember.Tensor and not v.requires_grad for v in ours.values())
        ours_module.load_state_dict(ours)
    # any OrderedDict stays one (with or without _metadata); a dict stays a dict

    def build(lib):
        plain = collections.OrderedDict([("b", 1), ("a", lib.ones(1))])
        return {"x": plain, "y": [plain, {"a": 1}]}
    assert _kept(_roundtrip(build(ember))) == _kept(_torch_roundtrip(build(torch)))
    keyed = collections.OrderedDict([(2, "two"), (1, "one")])
    assert list(_roundtrip(keyed).items()) == [(2, "two"), (1, "one")]


def test_tags_are_plain_json_in_the_header():
    param = ember.nn.Parameter(ember.ones(1))
    state = collections.OrderedDict(w=param, g=ember.ones(1, requires_grad=True))
    state._metadata = collections.OrderedDict({"": {"version": 1}})
    buffer = io.BytesIO()
    ember.save(state, buffer)
    raw = buffer.getvalue()
    n, = struct.unpack("<Q", raw[:8])
    structure = json.loads(json.loads(raw[8:8 + n])["__metadata__"]["ember.structure"])
    assert structure == {"__ordered_dict__": {
        "items": {"__dict__": {"w": {"__parameter__": {"tensor": "w", "requires_grad": True}},
                               "g": {"__requires_grad__": "g"}}},
        "_metadata": {"__ordered_dict__": {"items": {"__dict__": {"": {"__dict__": {
            "version": 1}}}}}}}}


def test_files_without_the_tags_still_load():
    # what ember wrote before recording requires_grad, parameters and OrderedDicts
    structure = {"__dict__": {"w": {"__tensor__": "w"}, "n": 3}}
    raw = _safetensors_file({"w": np.ones(2, dtype=np.float32)},
                            metadata={"format": "ember",
                                      "ember.structure": json.dumps(structure)})
    loaded = ember.load(io.BytesIO(raw))
    assert type(loaded) is dict and loaded["n"] == 3
    assert type(loaded["w"]) is ember.Tensor and not loaded["w"].requires_grad


@pytest.mark.parametrize("node, message", [
    ({"__parameter__": "w"}, "parameter node"),
    ({"__parameter__": {"tensor": "w", "requires_grad": 1}}, "parameter node"),
    ({"__parameter__": {"tensor": "x", "requires_grad": True}}, "does not hold"),
    ({"__parameter__": {"tensor": "i", "requires_grad": True}}, "cannot require grad"),
    ({"__requires_grad__": "i"}, "cannot require grad"),
    ({"__ordered_dict__": {"items": {"__list__": []}}}, "items must be a dict"),
    ({"__ordered_dict__": {"_metadata": None}}, "OrderedDict node"),
    ({"__ordered_dict__": {"items": {"__dict__": {}}, "extra": 1}}, "OrderedDict node"),
])
def test_malformed_tags_raise_value_error(node, message):
    raw = _safetensors_file({"w": np.ones(2, dtype=np.float32), "i": np.arange(2)},
                            metadata={"format": "ember", "ember.structure": json.dumps(node)})
    with pytest.raises(ValueError, match=message):
        ember.load(io.BytesIO(raw))


def test_file_is_plain_safetensors():
    x = ember.arange(6, dtype=ember.float32).reshape(2, 3)
    buffer = io.BytesIO()
    ember.save({"x": x, "n": 1}, buffer)
    raw = buffer.getvalue()
    n, = struct.unpack("<Q", raw[:8])
    assert (8 + n) % 8 == 0
    header = json.loads(raw[8:8 + n])
    tensors = {k: v for k, v in header.items() if k != "__metadata__"}
    assert all(isinstance(v, str) for v in header["__metadata__"].values())
    (entry,) = tensors.values()
    assert entry["dtype"] == "F32" and entry["shape"] == [2, 3]
    begin, end = entry["data_offsets"]
    np.testing.assert_array_equal(
        np.frombuffer(raw[8 + n + begin:8 + n + end], "<f4").reshape(2, 3), x.numpy())


def _safetensors_file(tensors, metadata=None):
    """A safetensors file written from the format description, as the reference writer does."""
    header, chunks, offset = {}, [], 0
    names = {np.dtype("<f4"): "F32", np.dtype("<i8"): "I64", np.dtype(ml_dtypes.bfloat16): "BF16",
             np.dtype("<f2"): "F16"}
    for name, array in tensors.items():
        data = np.ascontiguousarray(array).tobytes()
        header[name] = {"dtype": names[array.dtype], "shape": list(array.shape),
                        "data_offsets": [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    if metadata is not None:
        header["__metadata__"] = metadata
    text = json.dumps(header).encode()
    return struct.pack("<Q", len(text)) + text + b"".join(chunks)


def test_loads_foreign_safetensors_file(tmp_path):
    arrays = {"weight": np.arange(6, dtype=np.float32).reshape(3, 2),
              "ids": np.array([5, -1], dtype=np.int64),
              "half": np.array([1.5, -2.0], dtype=ml_dtypes.bfloat16),
              "f16": np.array([0.25], dtype=np.float16)}
    path = tmp_path / "foreign.safetensors"
    path.write_bytes(_safetensors_file(arrays, metadata={"format": "pt"}))
    loaded = ember.load(path)
    assert set(loaded) == set(arrays)
    assert loaded["half"].dtype == ember.bfloat16 and loaded["f16"].dtype == ember.float16
    for name, array in arrays.items():
        np.testing.assert_array_equal(loaded[name].numpy().astype(np.float64),
                                      array.astype(np.float64))
    assert loaded["weight"].dtype == ember.float32 and loaded["ids"].dtype == ember.int64


def test_atomic_write_keeps_previous_file(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.safetensors"
    ember.save({"v": ember.ones(3)}, path)

    def failing_fsync(fd):
        raise OSError("disk failure during write")

    monkeypatch.setattr(os, "fsync", failing_fsync)
    with pytest.raises(OSError, match="disk failure"):
        ember.save({"v": ember.zeros(3)}, path)
    monkeypatch.undo()
    assert ember.load(path)["v"].tolist() == [1.0, 1.0, 1.0]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt.safetensors"]

    def failing_replace(src, dst):
        raise OSError("rename failed")

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(OSError, match="rename failed"):
        ember.save({"v": ember.zeros(3)}, path)
    monkeypatch.undo()
    assert ember.load(path)["v"].tolist() == [1.0, 1.0, 1.0]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt.safetensors"]


@pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits and umask")
@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002, 0o027], ids=oct)
def test_new_files_get_the_mode_torch_save_gives(tmp_path, umask):
    # 0o666 less the umask, as open() (and so torch.save) creates files
    old = os.umask(umask)
    try:
        ember.save({"w": ember.ones(2)}, tmp_path / "ember.safetensors")
        torch.save({"w": torch.ones(2)}, tmp_path / "torch.pt")
    finally:
        os.umask(old)
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in tmp_path.iterdir()}
    assert modes == {"ember.safetensors": 0o666 & ~umask, "torch.pt": 0o666 & ~umask}


@pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")
def test_overwritten_file_keeps_its_permissions_and_is_replaced_atomically(tmp_path):
    path = tmp_path / "ckpt.safetensors"
    ember.save({"step": 0}, path)
    old = os.umask(0o022)
    try:
        for step, mode in enumerate((0o640, 0o604, 0o600, 0o666, 0o444), 1):
            os.chmod(path, mode)
            inode = path.stat().st_ino
            ember.save({"step": step}, path)
            assert stat.S_IMODE(path.stat().st_mode) == mode
            # a new file renamed over the old one, not the old one written in place
            assert path.stat().st_ino != inode
            assert ember.load(path)["step"] == step
    finally:
        os.umask(old)
    assert [p.name for p in tmp_path.iterdir()] == ["ckpt.safetensors"]


def test_non_str_keys_round_trip_in_order():
    obj = {"state": {1: ember.ones(2), 0: {"step": 3}}, (1, "a"): None, 2.5: True,
           None: [1], False: "f"}
    buffer = io.BytesIO()
    ember.save(obj, buffer)
    back = ember.load(io.BytesIO(buffer.getvalue()))
    assert list(back) == list(obj) and list(back["state"]) == [1, 0]
    assert back["state"][1].tolist() == [1.0, 1.0] and back["state"][0] == {"step": 3}
    assert back[(1, "a")] is None and back[2.5] is True and back[None] == [1]


def test_optimizer_and_scheduler_state_round_trip(tmp_path):
    model = ember.nn.Linear(3, 2)
    optimizer = ember.optim.Adam(model.parameters(), lr=0.1, betas=(0.8, 0.9))
    scheduler = ember.optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5)
    for _ in range(3):
        optimizer.zero_grad()
        model(ember.ones(4, 3)).sum().backward()
        optimizer.step()
        scheduler.step()
    path = tmp_path / "ckpt.safetensors"
    ember.save({"optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict()}, path)
    loaded = ember.load(path)
    fresh = ember.optim.Adam(model.parameters(), lr=0.1)
    fresh.load_state_dict(loaded["optimizer"])
    assert fresh.param_groups[0]["betas"] == (0.8, 0.9)
    assert fresh.param_groups[0]["lr"] == optimizer.param_groups[0]["lr"]
    for p in model.parameters():
        for key, value in optimizer.state[p].items():
            assert bool((fresh.state[p][key] == value).all())
    assert loaded["scheduler"] == scheduler.state_dict()


def test_numpy_arrays_and_scalars_round_trip(tmp_path):
    # checkpoints hold NumPy values as well: a metric computed with NumPy, a pretrained
    # embedding matrix (torch pickles them; ember stores them as tensors)
    embeddings = np.arange(12, dtype=np.float32).reshape(3, 4)
    state = {"best": np.float32(1.5), "epoch": np.int64(3), "flag": np.bool_(True),
             "ratio": np.float64(0.25), "zero_d": np.array(2.0), "emb": embeddings,
             "view": embeddings[:, ::2], "half": np.ones(2, np.float16), "empty": np.zeros((0, 2)),
             "nested": [np.int32(7), {"a": np.arange(3)}], "weight": ember.ones(2)}
    path = tmp_path / "ckpt.safetensors"
    ember.save(state, path)
    loaded = ember.load(path)
    for key in ("best", "epoch", "flag", "ratio"):
        assert isinstance(loaded[key], np.generic) and loaded[key] == state[key]
        assert loaded[key].dtype == state[key].dtype
    for key in ("zero_d", "emb", "view", "half", "empty"):
        assert type(loaded[key]) is np.ndarray and loaded[key].dtype == state[key].dtype
        np.testing.assert_array_equal(loaded[key], state[key])
    assert loaded["nested"][0].dtype == np.int32 and loaded["nested"][0].ndim == 0
    np.testing.assert_array_equal(loaded["nested"][1]["a"], np.arange(3))
    assert isinstance(loaded["weight"], ember.Tensor)
    with pytest.raises(TypeError, match="NumPy ndarray of dtype <U1"):
        ember.save({"words": np.array(["a", "b"])}, io.BytesIO())


def test_unsupported_objects_are_refused():
    with pytest.raises(TypeError, match="dict keys must be str, int"):
        ember.save({frozenset(): ember.ones(1)}, io.BytesIO())
    with pytest.raises(TypeError, match="cannot store an object of type set"):
        ember.save({"s": {1, 2}}, io.BytesIO())
    # a whole module (torch pickles it): ember files hold no code, the message says what to do
    with pytest.raises(TypeError, match=r"type Linear.*ember.save\(obj.state_dict\(\), f\)"):
        ember.save(ember.nn.Linear(2, 2), io.BytesIO())
    with pytest.raises(TypeError, match="map_location"):
        ember.load(io.BytesIO(b""), map_location=3)


def test_numpy_values_round_trip_as_numpy():
    # metrics computed with NumPy end up in checkpoints (torch pickles them)
    state = {"acc": np.float32(0.5), "n": np.int64(3), "flag": np.bool_(True),
             "confusion": np.arange(6).reshape(2, 3), "view": np.arange(6.0).reshape(2, 3).T,
             "big_endian": np.arange(3, dtype=">i4"), "empty": np.zeros((0, 2), np.float32),
             "bf16": np.ones(2, ml_dtypes.bfloat16), "zero_d": np.array(2.5)}
    loaded = _roundtrip(state)
    for key, value in state.items():
        assert type(loaded[key]) is type(value), key
        assert loaded[key].dtype == value.dtype.newbyteorder("="), key
        np.testing.assert_array_equal(loaded[key], value)
    with pytest.raises(TypeError, match="NumPy ndarray of dtype <U1"):
        ember.save({"names": np.array(["a"])}, io.BytesIO())
    with pytest.raises(TypeError, match="dtype object"):
        ember.save(np.array([None]), io.BytesIO())


def test_pickle_arguments_of_torch_save_and_load_are_accepted():
    import pickle
    buffer = io.BytesIO()
    ember.save({"w": ember.ones(2)}, buffer, pickle_module=pickle, pickle_protocol=4,
               _use_new_zipfile_serialization=False)
    buffer.seek(0)
    loaded = ember.load(buffer, "cpu", pickle, weights_only=False, encoding="latin1")
    assert loaded["w"].tolist() == [1.0, 1.0]
    with pytest.raises(TypeError, match="unexpected keyword argument 'map_loction'"):
        ember.load(io.BytesIO(buffer.getvalue()), map_loction="cpu")

def test_pytorch_checkpoint_gets_a_clear_error():
    for zipped in (True, False):
        buffer = io.BytesIO()
        torch.save({"w": torch.ones(2)}, buffer, _use_new_zipfile_serialization=zipped)
        with pytest.raises(ValueError, match="PyTorch checkpoint.*ember.from_dlpack"):
            ember.load(io.BytesIO(buffer.getvalue()))


def test_header_length_that_starts_like_a_pickle_still_loads():
    # a header of 0x280 bytes: the file starts with b"\x80\x02", as a pickle does
    text = json.dumps({"t": _entry(), "__metadata__": {"pad": ""}}).encode()
    text = json.dumps({"t": _entry(), "__metadata__": {"pad": " " * (0x280 - len(text))}})
    content = _with_header(text.encode(), b"\0" * 8)
    assert content[:2] == b"\x80\x02"
    assert tuple(ember.load(io.BytesIO(content))["t"].shape) == (2,)

def _with_header(header, data=b"", length=None):
    text = json.dumps(header).encode() if isinstance(header, dict) else header
    return struct.pack("<Q", len(text) if length is None else length) + text + data


def _entry(dtype="F32", shape=(2,), offsets=(0, 8)):
    return {"dtype": dtype, "shape": list(shape), "data_offsets": list(offsets)}


@pytest.mark.parametrize("content, message", [
    (b"", "too short"),
    (b"\x01\x02", "too short"),
    (_with_header({}, length=2 ** 63), "exceeds the limit"),
    (_with_header({}, length=50), "exceeds the 2 bytes"),
    (_with_header(b"{not json"), "not valid JSON"),
    (_with_header(b"\xff\xfe\x00\x00"), "not valid JSON"),
    (_with_header(b"[1, 2]"), "must be a JSON object"),
    (_with_header({"t": _entry(dtype="F99")}, b"\0" * 8), "unknown dtype"),
    (_with_header({"t": _entry(shape=(-1,))}, b"\0" * 8), "invalid shape"),
    (_with_header({"t": _entry(shape=("2",))}, b"\0" * 8), "invalid shape"),
    (_with_header({"t": _entry(offsets=(0,))}, b"\0" * 8), "invalid data_offsets"),
    (_with_header({"t": _entry(offsets=(0, 16))}, b"\0" * 8), "outside"),
    (_with_header({"t": _entry(offsets=(8, 0))}, b"\0" * 8), "outside"),
    (_with_header({"t": _entry(offsets=(-8, 0))}, b"\0" * 8), "outside"),
    (_with_header({"t": _entry(shape=(3,))}, b"\0" * 8), "needs 12 bytes"),
    (_with_header({"t": _entry(shape=(2 ** 40, 2 ** 40))}, b"\0" * 8), "needs"),
    (_with_header({"a": _entry(), "b": _entry(offsets=(4, 12))}, b"\0" * 12), "overlap"),
    (_with_header({"a": _entry(), "e": _entry(shape=(0,), offsets=(4, 4))}, b"\0" * 8),
     "overlap"),
    (_with_header({"t": {"dtype": "F32"}}), "exactly the keys"),
    (_with_header({"t": [1, 2]}), "exactly the keys"),
    (_with_header({"__metadata__": {"a": 1}}), "__metadata__ must map str to str"),
    (_with_header({"__metadata__": {"ember.structure": "{bad"}}), "structure metadata"),
    (_with_header({"__metadata__": {"ember.structure": '{"__tensor__": "9"}'}}),
     "does not hold"),
    (_with_header({"__metadata__": {"ember.structure": '{"__pickle__": "x"}'}}), "malformed"),
    (_with_header({"__metadata__": {"ember.structure": '{"__float__": "1e999e"}'}}),
     "malformed"),
])
def test_hostile_files_raise_value_error(content, message):
    with pytest.raises(ValueError, match=message):
        ember.load(io.BytesIO(content))


def _nested(depth, node='"x"'):
    return '{"__list__": [' * depth + node + "]}" * depth


@pytest.mark.parametrize("content, message", [
    (_with_header(b"[" * 100000 + b"]" * 100000), "the header is not valid: .*nested more"),
    (_with_header(b'{"a":' * 3000 + b"1" + b"}" * 3000), "header .*nested more than 256"),
    # deeper than the limit but not deep enough to exhaust Python's recursion
    (_with_header(b'{"a":' * 257 + b"1" + b"}" * 257), "header .*nested more than 256"),
    (_with_header({"__metadata__": {"ember.structure": "[" * 100000 + "]" * 100000}}),
     "the structure metadata is not valid: .*nested more than 256"),
    (_with_header({"__metadata__": {"ember.structure": _nested(5000)}}),
     "structure metadata .*nested more than 256"),
    (_with_header({"__metadata__": {"ember.structure": _nested(129)}}),
     "structure metadata .*nested more than 256"),
    (_with_header({"__metadata__": {"ember.devices": "[" * 50000 + "]" * 50000}}),
     "the device metadata is not valid: .*nested more"),
    (_with_header({"__metadata__": {"ember.dtypes": "[" * 50000 + "]" * 50000}}),
     "the dtype metadata is not valid: .*nested more"),
], ids=["header-lists", "header-objects", "header-257", "structure-lists", "structure-5000",
        "structure-129-lists", "devices", "dtypes"])
def test_deeply_nested_json_raises_value_error(content, message):
    with pytest.raises(ValueError, match=message):
        ember.load(io.BytesIO(content))


def test_nesting_within_the_limit_round_trips_and_deeper_is_refused_on_save():
    # 127 lists around a tensor: a structure 2 * 127 + 1 = 255 levels deep, the most there is
    deep = ember.ones(1)
    for _ in range(127):
        deep = [deep]
    loaded = _roundtrip(deep)
    for _ in range(127):
        assert type(loaded) is list and len(loaded) == 1
        loaded = loaded[0]
    assert loaded.tolist() == [1.0]
    # what ember.load would refuse, ember.save refuses to write
    with pytest.raises(ValueError, match="nested too deeply"):
        ember.save([deep], io.BytesIO())
    very_deep = {}
    for _ in range(5000):
        very_deep = {"a": very_deep}
    with pytest.raises(ValueError, match="nested too deeply"):
        ember.save(very_deep, io.BytesIO())
    itself = []
    itself.append(itself)
    with pytest.raises(ValueError, match="may contain itself"):
        ember.save(itself, io.BytesIO())


_F32_AS_C128 = {"__metadata__": {"ember.dtypes": '{"t": "complex128"}'}, "t": _entry()}


@pytest.mark.parametrize("content, message", [
    (_with_header(_F32_AS_C128, b"\0" * 8), "must be stored as F64 with a last dimension"),
    (_with_header({"__metadata__": {"ember.dtypes": '{"t": "complex128"}'},
                   "t": _entry(dtype="F64", shape=(3,), offsets=(0, 24))}, b"\0" * 24),
     "must be stored as F64 with a last dimension of 2"),
    (_with_header({"__metadata__": {"ember.dtypes": '{"t": "complex128"}'},
                   "t": _entry(dtype="F64", shape=(), offsets=(0, 8))}, b"\0" * 8),
     "must be stored as F64"),
    (_with_header({"__metadata__": {"ember.dtypes": '{"x": "complex128"}'}}),
     "dtype metadata must map tensor names of the file"),
    (_with_header({"__metadata__": {"ember.dtypes": '{"t": "complex256"}'},
                   "t": _entry(dtype="F64", shape=(1, 2), offsets=(0, 16))}, b"\0" * 16),
     "dtype metadata must map"),
    (_with_header({"__metadata__": {"ember.dtypes": '["t"]'}}), "dtype metadata must map"),
    (_with_header({"__metadata__": {"ember.dtypes": "{bad"}}), "dtype metadata is not valid"),
], ids=["stored-as-F32", "last-dim-3", "scalar", "unknown-name", "unknown-dtype", "not-a-dict",
        "bad-json"])
def test_malformed_dtype_metadata_raises_value_error(content, message):
    with pytest.raises(ValueError, match=message):
        ember.load(io.BytesIO(content))


# files whose data has bytes no tensor covers: the safetensors format forbids them
@pytest.mark.parametrize("content, message", [
    (_with_header({"a": _entry(offsets=(4, 12))}, b"\0" * 12),
     "4 bytes of data before tensor 'a' belong to no tensor"),
    (_with_header({"a": _entry(), "b": _entry(offsets=(12, 20))}, b"\0" * 20),
     "4 bytes of data before tensor 'b' belong to no tensor"),
    (_with_header({"a": _entry()}, b"\0" * 16), "8 bytes after the tensors' data"),
    (_with_header({"a": _entry(), "e": _entry(shape=(0,), offsets=(9, 9))}, b"\0" * 9),
     "1 bytes of data before tensor 'e'"),
    (_with_header({}, b"\0" * 8), "8 bytes after the tensors' data"),
    (_with_header({"__metadata__": {"format": "pt"}}, b"x"), "1 bytes after"),
], ids=["gap-first", "gap-between", "trailing", "empty-tensor-after-gap", "no-tensors",
        "metadata-only"])
def test_data_not_covered_by_tensors_is_refused_as_safetensors_refuses_it(content, message):
    with pytest.raises(ValueError, match=message):
        ember.load(io.BytesIO(content))
    with pytest.raises(safetensors.SafetensorError):
        safetensors.numpy.load(content)


def test_layouts_the_safetensors_package_accepts_load():
    arrays = {"b": np.arange(3, dtype=np.int64), "a": np.ones((2, 2), np.float32),
              "h": np.zeros(5, np.float16), "e": np.zeros((0, 4), np.float32),
              "z": np.array([True])}
    raw = safetensors.numpy.save(arrays, metadata={"format": "np"})
    loaded = ember.load(io.BytesIO(raw))
    assert set(loaded) == set(arrays)
    for name, array in arrays.items():
        np.testing.assert_array_equal(loaded[name].numpy(), array)
    # any order of the entries; empty tensors at the start, between others and at the end
    entries = {"z": _entry(shape=(0,), offsets=(16, 16)), "b": _entry(offsets=(8, 16)),
               "e": _entry(shape=(0,), offsets=(8, 8)), "a": _entry(),
               "s": _entry(shape=(0, 3), offsets=(0, 0))}
    content = _with_header(entries, np.arange(4, dtype="<f4").tobytes())
    assert set(safetensors.numpy.load(content)) == set(entries)
    loaded = ember.load(io.BytesIO(content))
    assert loaded["a"].tolist() == [0.0, 1.0] and loaded["b"].tolist() == [2.0, 3.0]
    assert tuple(loaded["s"].shape) == (0, 3) and tuple(loaded["z"].shape) == (0,)


def test_truncated_file_raises(tmp_path):
    buffer = io.BytesIO()
    ember.save({"x": ember.arange(100)}, buffer)
    raw = buffer.getvalue()
    for cut in (4, 40, len(raw) - 1):
        with pytest.raises(ValueError):
            ember.load(io.BytesIO(raw[:cut]))
    with pytest.raises(TypeError, match="binary mode"):
        path = tmp_path / "x.safetensors"
        path.write_bytes(raw)
        with open(path) as text_file:
            ember.load(text_file)


def test_load_reads_from_unbuffered_and_unseekable_streams(tmp_path):
    # tensors are read straight into their memory from a stream that seeks (a raw file may
    # fill part of a buffer per call); one that does not seek is read into memory first
    state = {"a": ember.arange(100000.0).reshape(100, 1000), "b": ember.tensor([1, 2, 3]),
             "empty": ember.zeros(0, 3)}
    path = tmp_path / "s.safetensors"
    ember.save(state, path)

    class Trickle(io.RawIOBase):      # a raw stream returning at most 1000 bytes a call
        def __init__(self, data):
            self.data, self.pos = data, 0

        def readable(self):
            return True

        def seekable(self):
            return True

        def seek(self, offset, whence=io.SEEK_SET):
            self.pos = {io.SEEK_SET: 0, io.SEEK_CUR: self.pos,
                        io.SEEK_END: len(self.data)}[whence] + offset
            return self.pos

        def tell(self):
            return self.pos

        def readinto(self, buffer):
            chunk = self.data[self.pos:self.pos + min(len(buffer), 1000)]
            buffer[:len(chunk)] = chunk
            self.pos += len(chunk)
            return len(chunk)

    class OneShot:                      # read() only
        def __init__(self, data):
            self.data = data

        def read(self):
            return self.data

    data = path.read_bytes()
    for source in (Trickle(data), OneShot(data), io.BytesIO(data)):
        loaded = ember.load(source)
        for key, value in state.items():
            assert ember.equal(loaded[key], value), key
    with pytest.raises(ValueError, match="outside the 400019 bytes of data"):
        ember.load(io.BytesIO(data[:-5]))      # caught from the header, before any read
