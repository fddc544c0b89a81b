"""Saving and loading tensors and nested state as safetensors files (never pickle).

Layout (the safetensors format): an 8-byte little-endian header length N, N
bytes of JSON header, then the tensors' bytes.  The header maps each tensor
name to ``{"dtype", "shape", "data_offsets": [begin, end]}`` (offsets relative
to the end of the header) and holds ``"__metadata__"``, a string-to-string map
in which ember keeps the structure of the saved object as JSON, and the device of
each tensor that was not on the CPU (its bytes are always stored from the CPU).
The structure records, as plain JSON tags, what ``torch.load(torch.save(obj))`` keeps
beyond the values: a tensor that requires grad, an ``nn.Parameter`` (with its
``requires_grad``), and an ``OrderedDict`` (a ``state_dict()``, with its ``_metadata``).
A dtype the format has no tag for (complex128) is stored as its real and imaginary parts,
a trailing dimension of 2 (what ``torch.view_as_real`` gives), with the true dtype in
``__metadata__``, so that every file ember writes is one the ``safetensors`` package reads.
"""
import collections
import io
import json
import math
import os
import secrets
import stat
import struct

import ml_dtypes
import numpy as np

import ember

__all__ = ["save", "load"]

# safetensors dtype name <-> ember dtype <-> little-endian NumPy dtype, for every dtype of
# ember that the safetensors format has a tag for
_DTYPES = {
    "BOOL": (ember.bool, np.dtype("?")),
    "U8": (ember.uint8, np.dtype("u1")),
    "U16": (ember.uint16, np.dtype("<u2")),
    "U32": (ember.uint32, np.dtype("<u4")),
    "U64": (ember.uint64, np.dtype("<u8")),
    "I8": (ember.int8, np.dtype("i1")),
    "I16": (ember.int16, np.dtype("<i2")),
    "I32": (ember.int32, np.dtype("<i4")),
    "I64": (ember.int64, np.dtype("<i8")),
    "F16": (ember.float16, np.dtype("<f2")),
    "BF16": (ember.bfloat16, np.dtype(ml_dtypes.bfloat16)),
    "F32": (ember.float32, np.dtype("<f4")),
    "F64": (ember.float64, np.dtype("<f8")),
    "C64": (ember.complex64, np.dtype("<c8")),
}
_NAME_OF_DTYPE = {dtype: name for name, (dtype, _) in _DTYPES.items()}
# ember dtypes the format has no tag for (the safetensors package refuses a whole file with
# an unknown tag): stored as their real and imaginary parts, a trailing dimension of 2 of the
# tag given (the bytes are the same), their names listed under _STORED_DTYPES_KEY.
# ember dtype name -> (ember dtype, tag stored, little-endian NumPy dtype)
_AS_REAL = {"complex128": (ember.complex128, "F64", np.dtype("<c16"))}
_AS_REAL_NAME_OF_DTYPE = {dtype: name for name, (dtype, _, _) in _AS_REAL.items()}
# tags that only earlier ember files hold: complex128 was written as "C128"
_OLD_DTYPES = {"C128": (ember.complex128, np.dtype("<c16"))}
_READ_DTYPES = {**_DTYPES, **_OLD_DTYPES}

_HEADER_LENGTH_BYTES = 8
# headers larger than this are refused before being read (safetensors uses the same bound)
_MAX_HEADER_BYTES = 100 * 1024 * 1024
_ALIGNMENT = 8
_STRUCTURE_KEY = "ember.structure"
_DEVICES_KEY = "ember.devices"      # {tensor name: device} for tensors saved off the CPU
_STORED_DTYPES_KEY = "ember.dtypes"  # {tensor name: ember dtype name} for _AS_REAL tensors
# JSON nested deeper than this is refused, by ember.load (a hostile file) and by ember.save
# (so that it never writes what it would refuse): a safetensors header is 3 levels deep, and
# the structure takes 2 levels per list, tuple or dict saved (4 per OrderedDict)
_MAX_JSON_DEPTH = 256
# new files get the mode open() gives, 0o666 less the umask, as torch.save's files
_NEW_FILE_MODE = 0o666
# tags of the structure JSON; any other JSON value is a plain scalar
_TENSOR, _DICT, _LIST, _TUPLE, _FLOAT = "__tensor__", "__dict__", "__list__", "__tuple__", "__float__"
# NumPy arrays and scalars (a checkpoint's np.float32 metric, a pretrained embedding
# matrix): stored as tensors, given back as NumPy objects of the same dtype
_NDARRAY, _NUMPY_SCALAR = "__ndarray__", "__numpy_scalar__"
# a dict with keys other than str (an optimizer's state is keyed by parameter index):
# its [key, value] pairs in order
_ITEMS = "__items__"
_KEY_TYPES = (str, int, float, bool, type(None), tuple)
# what PyTorch's pickles keep and plain tensors and dicts would lose: a tensor that requires
# grad ({_REQUIRES_GRAD: name}), an nn.Parameter ({_PARAMETER: {"tensor": name,
# "requires_grad": bool}}) and an OrderedDict ({_ORDERED_DICT: {"items": dict node,
# "_metadata": node}}, "_metadata" only when the dict has that attribute, as a
# state_dict() does).  Files written before these tags load as they always did.
_REQUIRES_GRAD, _PARAMETER, _ORDERED_DICT = "__requires_grad__", "__parameter__", "__ordered_dict__"


def _tensor_name(path, tensors):
    """The header name of a tensor at ``path`` (its keys and indices joined by dots, so a
    flat state dict's tensors keep their keys, as other safetensors writers name them),
    made unique when two paths spell the same or the path is empty."""
    name = ".".join(path)
    candidate, suffix = name, 0
    while not candidate or candidate in tensors or candidate == "__metadata__":
        candidate = f"{name}#{suffix}"
        suffix += 1
    return candidate


def _encode(obj, tensors, path=()):
    """JSON-able description of ``obj``; its tensors are added to the dict ``tensors``
    under their names."""
    if isinstance(obj, ember.Tensor):
        name = _tensor_name(path, tensors)
        tensors[name] = obj
        if isinstance(obj, ember.nn.Parameter) and not ember.nn.parameter.is_lazy(obj):
            return {_PARAMETER: {"tensor": name, "requires_grad": bool(obj.requires_grad)}}
        return {_REQUIRES_GRAD if obj.requires_grad else _TENSOR: name}
    if isinstance(obj, (np.ndarray, np.generic)) and not isinstance(obj, (str, bytes)):
        array = np.asarray(obj)
        if not array.dtype.isnative:
            array = array.astype(array.dtype.newbyteorder("="))
        try:
            tensor = ember.from_numpy(array if array.flags.c_contiguous else array.copy())
        except TypeError:
            raise TypeError(f"ember.save cannot store a NumPy {type(obj).__name__} of dtype "
                            f"{array.dtype}")
        name = _tensor_name(path, tensors)
        tensors[name] = tensor
        return {_NDARRAY if isinstance(obj, np.ndarray) else _NUMPY_SCALAR: name}
    if obj is None or isinstance(obj, (bool, int, str)):
        return obj
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else {_FLOAT: repr(obj)}
    if isinstance(obj, collections.OrderedDict):
        node = {"items": _encode_dict(obj, tensors, path)}
        if hasattr(obj, "_metadata"):
            node["_metadata"] = _encode(obj._metadata, tensors, path + ("_metadata",))
        return {_ORDERED_DICT: node}
    if isinstance(obj, dict):
        return _encode_dict(obj, tensors, path)
    if isinstance(obj, list):
        return {_LIST: [_encode(item, tensors, path + (str(i),)) for i, item in enumerate(obj)]}
    if isinstance(obj, tuple):
        return {_TUPLE: [_encode(item, tensors, path + (str(i),)) for i, item in enumerate(obj)]}
    hint = ""
    if hasattr(obj, "state_dict") and callable(obj.state_dict):
        # a module or optimizer: ember files hold no pickled code, so the object itself
        # cannot be rebuilt from one -- its state can
        hint = (f"; save its state with ember.save(obj.state_dict(), f) and load it into a "
                f"new {type(obj).__name__} with load_state_dict")
    raise TypeError(f"ember.save cannot store an object of type {type(obj).__name__}: only "
                    f"tensors, NumPy arrays and scalars, dicts, lists, tuples, None, bool, int, "
                    f"float and str{hint}")


def _encode_dict(obj, tensors, path):
    if all(type(key) is str for key in obj):
        return {_DICT: {key: _encode(value, tensors, path + (key,)) for key, value in obj.items()}}
    for key in obj:
        if not isinstance(key, _KEY_TYPES) or (isinstance(key, tuple) and any(
                isinstance(part, ember.Tensor) for part in key)):
            raise TypeError(f"ember.save: dict keys must be str, int, float, bool, None or "
                            f"tuples of them, got {type(key).__name__} key {key!r}")
    return {_ITEMS: [[_encode(key, tensors, path), _encode(value, tensors, path + (str(key),))]
                     for key, value in obj.items()]}


def _saved_tensor(value, tensors):
    if not isinstance(value, str) or value not in tensors:
        raise ValueError(f"ember.load: the structure refers to tensor {value!r}, "
                         "which the file does not hold")
    return tensors[value]


def _check_can_require_grad(tensor, requires_grad):
    if requires_grad and not (tensor.is_floating_point() or tensor.is_complex()):
        raise ValueError(f"ember.load: malformed structure: a tensor of dtype {tensor.dtype} "
                         "cannot require grad")


def _decode(node, tensors):
    if isinstance(node, dict):
        if len(node) != 1:
            raise ValueError(f"ember.load: malformed structure node with keys {sorted(node)}")
        (tag, value), = node.items()
        if tag == _TENSOR:
            return _saved_tensor(value, tensors)
        if tag == _REQUIRES_GRAD:
            tensor = _saved_tensor(value, tensors)
            _check_can_require_grad(tensor, True)
            return tensor.requires_grad_(True)
        if tag == _PARAMETER:
            if not (isinstance(value, dict) and set(value) == {"tensor", "requires_grad"}
                    and isinstance(value["requires_grad"], bool)):
                raise ValueError("ember.load: malformed structure: a parameter node must hold "
                                 "its tensor's name and a bool requires_grad")
            tensor = _saved_tensor(value["tensor"], tensors)
            _check_can_require_grad(tensor, value["requires_grad"])
            return ember.nn.Parameter(tensor, value["requires_grad"])
        if tag == _ORDERED_DICT:
            if not (isinstance(value, dict) and "items" in value
                    and set(value) <= {"items", "_metadata"}):
                raise ValueError("ember.load: malformed structure: an OrderedDict node must "
                                 "hold its items and at most its _metadata")
            items = _decode(value["items"], tensors)
            if not isinstance(items, dict):
                raise ValueError("ember.load: malformed structure: an OrderedDict's items must "
                                 "be a dict")
            result = collections.OrderedDict(items)
            if "_metadata" in value:
                result._metadata = _decode(value["_metadata"], tensors)
            return result
        if tag in (_NDARRAY, _NUMPY_SCALAR):
            if not isinstance(value, str) or value not in tensors:
                raise ValueError(f"ember.load: the structure refers to tensor {value!r}, "
                                 "which the file does not hold")
            array = tensors[value].numpy(force=True)
            if array.dtype.kind in "biufc":
                array = array.view(array.dtype.str)  # np.int64, not np.longlong
            return array if tag == _NDARRAY else array[()]
        if tag == _DICT and isinstance(value, dict):
            return {key: _decode(item, tensors) for key, item in value.items()}
        if tag == _ITEMS and isinstance(value, list):
            if not all(isinstance(pair, list) and len(pair) == 2 for pair in value):
                raise ValueError("ember.load: malformed structure: dict items must be pairs")
            result = {}
            for key, item in value:
                key = _decode(key, tensors)
                try:
                    result[key] = _decode(item, tensors)
                except TypeError:  # an unhashable key: a list or dict
                    raise ValueError(f"ember.load: malformed structure: unhashable dict key "
                                     f"{key!r}") from None
            return result
        if tag == _LIST and isinstance(value, list):
            return [_decode(item, tensors) for item in value]
        if tag == _TUPLE and isinstance(value, list):
            return tuple(_decode(item, tensors) for item in value)
        if tag == _FLOAT and value in ("nan", "inf", "-inf"):
            return float(value)
        raise ValueError(f"ember.load: malformed structure node {tag!r}")
    if node is None or isinstance(node, (bool, int, float, str)):
        return node
    raise ValueError(f"ember.load: malformed structure value of type {type(node).__name__}")


def _nesting_depth(value):
    """How many levels of lists and dicts a JSON value nests (0 for a scalar), counted level
    by level without recursion, and no further than one level past _MAX_JSON_DEPTH."""
    depth, level = 0, [value]
    while depth <= _MAX_JSON_DEPTH:
        containers = [node for node in level if isinstance(node, (dict, list))]
        if not containers:
            break
        depth += 1
        level = [child for node in containers
                 for child in (node.values() if isinstance(node, dict) else node)]
    return depth


def _serialize(obj):
    """The safetensors file for ``obj``, as the chunks to write one after the other: the
    header's bytes, then each tensor's data as a flat uint8 array (not copied into one
    ``bytes``: a checkpoint's tensors are written straight from their memory)."""
    tensors = {}
    too_deep = (f"ember.save: the object is nested too deeply: ember.load reads structures "
                f"at most {_MAX_JSON_DEPTH} levels deep (2 per list, tuple or dict)")
    try:
        structure = _encode(obj, tensors)
    except RecursionError:
        raise ValueError(too_deep + ", and this one may contain itself") from None
    if _nesting_depth(structure) > _MAX_JSON_DEPTH:
        raise ValueError(too_deep)
    header, chunks, offset, stored_dtypes = {}, [], 0, {}
    for name, tensor in tensors.items():
        shape = list(tensor.shape)
        dtype_name = _NAME_OF_DTYPE.get(tensor.dtype)
        if dtype_name is not None:
            np_dtype = _DTYPES[dtype_name][1]
        elif tensor.dtype in _AS_REAL_NAME_OF_DTYPE:
            stored_dtypes[name] = _AS_REAL_NAME_OF_DTYPE[tensor.dtype]
            _, dtype_name, np_dtype = _AS_REAL[stored_dtypes[name]]
            shape.append(2)
        else:
            raise TypeError(f"ember.save: unsupported dtype {tensor.dtype}")
        array = tensor.detach().to("cpu").contiguous().numpy()
        data = np.ascontiguousarray(array, dtype=np_dtype).reshape(-1).view(np.uint8)
        header[name] = {"dtype": dtype_name, "shape": shape,
                        "data_offsets": [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    header["__metadata__"] = {"format": "ember", _STRUCTURE_KEY: json.dumps(structure,
                                                                          allow_nan=False)}
    devices = {name: str(t.device) for name, t in tensors.items() if t.device.type != "cpu"}
    if devices:
        header["__metadata__"][_DEVICES_KEY] = json.dumps(devices)
    if stored_dtypes:
        header["__metadata__"][_STORED_DTYPES_KEY] = json.dumps(stored_dtypes)
    text = json.dumps(header, separators=(",", ":")).encode()
    # pad with spaces so the data starts aligned, as the safetensors writer does
    text += b" " * (-(len(text) + _HEADER_LENGTH_BYTES) % _ALIGNMENT)
    return [struct.pack("<Q", len(text)) + text] + chunks


def save(obj, f, pickle_module=None, pickle_protocol=2, _use_new_zipfile_serialization=True,
         _disable_byteorder_record=False):
    """Save tensors and nested state to a safetensors file.

    ``obj`` may be a tensor or any nesting of dicts, lists, tuples, None,
    bool, int, float, str, tensors and NumPy arrays and scalars (dict keys: str,
    int, float, bool, None or tuples of them, so an optimizer's ``state_dict()``
    with its parameter-index keys saves as it is).  NumPy values are stored as
    tensors and load back as NumPy values of the same dtype.  Tensors are written
    contiguous and little-endian (views are saved as their values), and the
    structure goes in the header's ``__metadata__``.  Nothing is pickled.  As with
    ``torch.save``, what loads back keeps more than the values: a tensor that
    requires grad loads as a leaf that requires grad, an :class:`ember.nn.Parameter`
    as a ``Parameter`` (with its ``requires_grad``), and an ``OrderedDict`` (what
    :meth:`~ember.nn.Module.state_dict` returns) as an ``OrderedDict`` with its
    ``_metadata``.
    Writing to a path is atomic: a temporary file in the same directory is
    written, flushed and synced, then renamed over ``f``, so a failure leaves
    any previous file intact.  A new file gets the permissions ``open()`` (and
    ``torch.save``) would give it, ``0o666`` less the umask; a file written over
    keeps its permission bits.  Every dtype is stored as one the ``safetensors``
    package reads: complex128, which the format has no tag for, as float64 with a
    trailing dimension of 2 (its real and imaginary parts, as
    ``torch.view_as_real``), its dtype recorded for :func:`ember.load`.

    Parameters
    ----------
    obj : object
        What to save.
    f : str, os.PathLike or binary file object
        Destination.
    pickle_module, pickle_protocol : optional
        Accepted for PyTorch compatibility (as are its private ``_use_new_zipfile_serialization``
        and ``_disable_byteorder_record``): nothing is pickled.

    Raises
    ------
    TypeError
        For objects or dict keys of other types.
    ValueError
        For an object nested too deeply for :func:`ember.load` to read back (a
        structure more than 256 JSON levels deep: about 128 nested lists, tuples or
        dicts), or one that contains itself.

    Examples
    --------
    >>> import io, ember
    >>> buffer = io.BytesIO()
    >>> ember.save({"w": ember.ones(2, 3), "step": 7}, buffer)
    >>> _ = buffer.seek(0)
    >>> state = ember.load(buffer)
    >>> state["w"].shape, state["step"]
    (ember.Size([2, 3]), 7)
    >>> buffer = io.BytesIO()
    >>> ember.save(ember.nn.Linear(2, 1).state_dict(), buffer)
    >>> _ = buffer.seek(0)
    >>> state = ember.load(buffer)
    >>> type(state).__name__, dict(state._metadata)
    ('OrderedDict', {'': {'version': 1}})
    """
    del pickle_module, pickle_protocol, _use_new_zipfile_serialization, _disable_byteorder_record
    chunks = _serialize(obj)
    if not isinstance(f, (str, os.PathLike)):
        for chunk in chunks:
            f.write(chunk)
        return
    path = os.fspath(f)
    directory = os.path.dirname(os.path.abspath(path))
    mode = _permission_bits(path)
    tmp, tmp_path = _open_temporary(directory, os.path.basename(path))
    try:
        with tmp:
            if mode is not None:
                _chmod(tmp_path, mode)      # an overwritten file keeps its permissions
            for chunk in chunks:
                tmp.write(chunk)
            tmp.flush()
            os.fsync(tmp.fileno())
        os.replace(tmp_path, path)
    except BaseException:
        if os.path.exists(tmp_path):
            os.unlink(tmp_path)
        raise
    _fsync_directory(directory)


def _permission_bits(path):
    """The permission bits of the file at ``path``, or None when there is none."""
    try:
        return stat.S_IMODE(os.stat(path).st_mode) & 0o777
    except OSError:
        return None


def _open_temporary(directory, name):
    """``(binary file object, path)`` of a new file in ``directory``, named after ``name``.
    It is created as ``open(path, "wb")`` creates a file, with mode 0o666 less the umask
    (``tempfile.mkstemp`` gives 0o600, which the rename would hand on to the checkpoint)."""
    flags = (os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
             | getattr(os, "O_BINARY", 0))
    for _ in range(100):
        tmp_path = os.path.join(directory, f".{name}.{secrets.token_hex(4)}.tmp")
        try:
            fd = os.open(tmp_path, flags, _NEW_FILE_MODE)
        except FileExistsError:
            continue
        return os.fdopen(fd, "wb"), tmp_path
    raise FileExistsError(f"ember.save: no free temporary file name in {directory}")


def _chmod(path, mode):
    try:
        os.chmod(path, mode)
    except OSError:     # a file system without permission bits: the file keeps its default
        pass


def _fsync_directory(directory):
    """Make the rename durable; not every platform lets a directory be opened."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _check_entry(name, entry, data_length):
    """(numpy dtype, shape, begin, end) of a header entry, after checking every field."""
    if not isinstance(entry, dict) or set(entry) != {"dtype", "shape", "data_offsets"}:
        raise ValueError(f"ember.load: header entry {name!r} must have exactly the keys "
                         "dtype, shape and data_offsets")
    dtype_name, shape, offsets = entry["dtype"], entry["shape"], entry["data_offsets"]
    if not isinstance(dtype_name, str) or dtype_name not in _READ_DTYPES:
        raise ValueError(f"ember.load: tensor {name!r} has unknown dtype {dtype_name!r}")
    if not isinstance(shape, list) or not all(
            isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in shape):
        raise ValueError(f"ember.load: tensor {name!r} has invalid shape {shape!r}")
    if not (isinstance(offsets, list) and len(offsets) == 2 and all(
            isinstance(o, int) and not isinstance(o, bool) for o in offsets)):
        raise ValueError(f"ember.load: tensor {name!r} has invalid data_offsets {offsets!r}")
    begin, end = offsets
    if not 0 <= begin <= end <= data_length:
        raise ValueError(f"ember.load: tensor {name!r} has data_offsets {offsets} outside the "
                         f"{data_length} bytes of data")
    np_dtype = _READ_DTYPES[dtype_name][1]
    # math.prod on Python ints cannot overflow; the size is checked before any allocation
    expected = math.prod(shape) * np_dtype.itemsize
    if end - begin != expected:
        raise ValueError(f"ember.load: tensor {name!r} of shape {shape} and dtype {dtype_name} "
                         f"needs {expected} bytes but data_offsets {offsets} span {end - begin}")
    return np_dtype, shape, begin, end


def _open_source(f):
    """``(binary stream, whether to close it)``: a path is opened, a file object that seeks
    is read in place, any other is read into memory first."""
    if isinstance(f, (str, os.PathLike)):
        return open(f, "rb"), True
    if isinstance(f, io.TextIOBase):
        raise TypeError("ember.load: the file object must be opened in binary mode")
    if getattr(f, "seekable", lambda: False)() and hasattr(f, "readinto"):
        return f, False
    data = f.read()
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError("ember.load: the file object must be opened in binary mode")
    return io.BytesIO(data), False


def _read_exactly(stream, count):
    data = stream.read(count)
    if len(data) != count:
        raise ValueError(f"ember.load: the file ended {count - len(data)} bytes early")
    return data


def _parse_header(stream):
    """``(header dict, offset of the data in the stream, data bytes)`` of a safetensors
    file, with the header length checked against the file size."""
    start = stream.tell()
    size = stream.seek(0, io.SEEK_END) - start
    stream.seek(start)
    if size < _HEADER_LENGTH_BYTES:
        raise ValueError(f"ember.load: file of {size} bytes is too short for a "
                         "safetensors header")
    prefix = _read_exactly(stream, _HEADER_LENGTH_BYTES)
    header_length, = struct.unpack("<Q", prefix)
    too_long = header_length > min(_MAX_HEADER_BYTES, size - _HEADER_LENGTH_BYTES)
    if too_long and (prefix[:4] == b"PK\x03\x04" or prefix[:1] == b"\x80"):
        # no safetensors header but a zip archive or a pickle: what torch.save writes
        raise ValueError(
            "ember.load: this is a PyTorch checkpoint (torch.save's pickle format), which "
            "ember does not read since unpickling can run code from the file; convert it "
            "once where PyTorch is installed, e.g. state = torch.load(path, "
            "map_location='cpu', weights_only=True); ember.save({k: ember.from_dlpack(v) "
            "for k, v in state.items()}, new_path)")
    if header_length > _MAX_HEADER_BYTES:
        raise ValueError(f"ember.load: header length {header_length} exceeds the limit of "
                         f"{_MAX_HEADER_BYTES} bytes")
    if header_length > size - _HEADER_LENGTH_BYTES:
        raise ValueError(f"ember.load: header length {header_length} exceeds the "
                         f"{size - _HEADER_LENGTH_BYTES} bytes after it in the file")
    raw = _read_exactly(stream, header_length)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ValueError(f"ember.load: the header is not valid JSON: {error}") from None
    header = _loads(text, "the header")
    if not isinstance(header, dict):
        raise ValueError("ember.load: the header must be a JSON object")
    data_start = start + _HEADER_LENGTH_BYTES + header_length
    return header, data_start, size - _HEADER_LENGTH_BYTES - header_length


def _loads(text, what):
    """The JSON value of ``text`` (``what``: the header or a metadata entry, for errors),
    refused as malformed when nested more than _MAX_JSON_DEPTH levels deep."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(f"ember.load: {what} is not valid JSON: {error}") from None
    except RecursionError:
        # the decoder recurses once per level: nested far deeper than the limit
        value = None
    else:
        if _nesting_depth(value) <= _MAX_JSON_DEPTH:
            return value
    raise ValueError(f"ember.load: {what} is not valid: its JSON is nested more than "
                     f"{_MAX_JSON_DEPTH} levels deep")


def _read_tensor(stream, data_start, np_dtype, shape, begin, end):
    """A new CPU tensor holding the bytes ``begin:end`` of the data, read straight into
    its memory (one copy, as torch.load makes)."""
    native = np_dtype if np_dtype.byteorder in "=|" else np_dtype.newbyteorder("=")
    if native != np_dtype:          # a big-endian machine: read, then swap
        stream.seek(data_start + begin)
        array = np.frombuffer(_read_exactly(stream, end - begin), dtype=np_dtype)
        return ember.from_numpy(array.astype(native).reshape(shape))
    array = np.empty(shape, dtype=native)
    target = memoryview(array.reshape(-1).view(np.uint8))
    stream.seek(data_start + begin)
    filled = 0
    while filled < end - begin:     # a raw (unbuffered) stream may fill part of it per call
        count = stream.readinto(target[filled:])
        if not count:
            raise ValueError("ember.load: the file ended inside a tensor's data")
        filled += count
    return ember.from_numpy(array)


def _check_map_location(map_location):
    if map_location is None or callable(map_location) or isinstance(
            map_location, (str, ember.device)):
        return
    if isinstance(map_location, dict):
        for value in map_location.values():
            if not isinstance(value, (str, ember.device)):
                raise TypeError("ember.load: the values of a map_location dict must be str or "
                                f"ember.device, got {type(value).__name__}")
        return
    raise TypeError("ember.load: map_location must be None, a str, an ember.device, a dict or "
                    f"a callable, got {type(map_location).__name__}")


def _saved_devices(metadata, names):
    """{tensor name: device string} of the tensors saved off the CPU (checked)."""
    if metadata is None or _DEVICES_KEY not in metadata:
        return {}
    devices = _loads(metadata[_DEVICES_KEY], "the device metadata")
    if not isinstance(devices, dict) or not all(
            name in names and isinstance(location, str) for name, location in devices.items()):
        raise ValueError("ember.load: the device metadata must map tensor names of the file "
                         "to device strings")
    for location in devices.values():
        try:
            ember.device(location)
        except (RuntimeError, ValueError, TypeError):
            raise ValueError(f"ember.load: malformed saved device {location!r}") from None
    return devices


def _as_complex(metadata, header, entries):
    """``entries`` (name: (NumPy dtype, shape, begin, end)) with the tensors stored as
    their real and imaginary parts (_AS_REAL, listed in the metadata) read back as the
    dtype they were saved with."""
    if metadata is None or _STORED_DTYPES_KEY not in metadata:
        return entries
    stored = _loads(metadata[_STORED_DTYPES_KEY], "the dtype metadata")
    if not isinstance(stored, dict) or not all(
            name in entries and isinstance(dtype_name, str) and dtype_name in _AS_REAL
            for name, dtype_name in stored.items()):
        raise ValueError("ember.load: the dtype metadata must map tensor names of the file "
                         f"to one of the dtypes {sorted(_AS_REAL)}")
    entries = dict(entries)
    for name, dtype_name in stored.items():
        _, tag, np_dtype = _AS_REAL[dtype_name]
        _, shape, begin, end = entries[name]
        if header[name]["dtype"] != tag or not shape or shape[-1] != 2:
            raise ValueError(f"ember.load: tensor {name!r} of dtype {dtype_name} must be stored "
                             f"as {tag} with a last dimension of 2, not as "
                             f"{header[name]['dtype']} of shape {shape}")
        entries[name] = (np_dtype, shape[:-1], begin, end)
    return entries


def _check_layout(entries, data_length):
    """As the safetensors reader: the tensors' data, in the order of their offsets, must
    cover the data section exactly, without overlap, gaps or bytes after the last (the
    format forbids bytes that belong to no tensor, so that no file is also a valid file
    of another format; its writer, as ember's, never leaves any)."""
    position, previous = 0, None
    for begin, end, name in sorted((begin, end, name)
                                   for name, (_, _, begin, end) in entries.items()):
        if begin < position:
            raise ValueError(f"ember.load: the data of tensors {previous!r} and {name!r} overlap")
        if begin > position:
            raise ValueError(f"ember.load: {begin - position} bytes of data before tensor "
                             f"{name!r} belong to no tensor: a safetensors file's tensors "
                             "must cover its data without gaps")
        position, previous = end, name
    if position != data_length:
        raise ValueError(f"ember.load: {data_length - position} bytes after the tensors' data "
                         "belong to no tensor: a safetensors file's tensors must cover its "
                         "data to the end of the file")


def _restore(tensor, location):
    """``tensor`` (read on the CPU) back on the device it was saved from, as PyTorch."""
    if location == "cpu":
        return tensor
    if ember.device(location).type == "cuda" and not ember.cuda.is_available():
        raise RuntimeError("Attempting to deserialize object on a CUDA device but "
                           "ember.cuda.is_available() is False. If you are running on a "
                           "CPU-only machine, please use ember.load with "
                           "map_location='cpu' to map your storages to the CPU.")
    return tensor.to(location)


def _relocate(tensor, map_location, location):
    """``tensor``, saved from ``location``, moved as ``map_location`` says (by default
    back to ``location``)."""
    if map_location is None:
        return _restore(tensor, location)
    if isinstance(map_location, dict):
        target = map_location.get(location)
        return _restore(tensor, location) if target is None else tensor.to(target)
    if callable(map_location):
        moved = map_location(tensor, location)
        if moved is None:
            return _restore(tensor, location)
        if not isinstance(moved, ember.Tensor):
            raise TypeError("ember.load: a map_location callable must return a tensor or None, "
                            f"got {type(moved).__name__}")
        return moved
    return tensor.to(map_location)


def load(f, map_location=None, pickle_module=None, *, weights_only=None, mmap=None,
         **pickle_load_args):
    """Load what :func:`ember.save` wrote, or any safetensors file.

    Every field of the file is checked before data is read (header length
    against the file size, JSON syntax and nesting depth, dtype names, shapes,
    offsets in range, sizes equal to ``numel * itemsize``, and, as the
    ``safetensors`` package checks, tensors that cover the data exactly: no
    overlap, gap or trailing bytes); nothing is unpickled.

    Parameters
    ----------
    f : str, os.PathLike or binary file object
        Source.
    map_location : str, device, dict, callable or None, optional
        Where to put the tensors, as in PyTorch: a device (or its name); a dict
        mapping a saved location (``"cpu"``, ``"cuda:0"``...) to a device; or a
        function ``fn(tensor, location)`` given the tensor read on the CPU, returning
        the tensor to use (None: the default).  Default: back on the device each
        tensor was saved from (a RuntimeError for a cuda tensor without a GPU).
    weights_only : bool or None, optional
        Accepted for PyTorch compatibility: the format holds no code, so every load
        is weights-only.
    mmap : bool or None, optional
        Accepted for PyTorch compatibility; the data is read into memory.
    pickle_module, **pickle_load_args : optional
        Accepted for PyTorch compatibility (``encoding``, ``errors``, ``fix_imports``):
        nothing is unpickled.

    Returns
    -------
    object
        The saved object (tensors that required grad require it again, parameters are
        :class:`ember.nn.Parameter`, ordered dicts keep their ``_metadata``); for a
        safetensors file without ember's structure metadata, a dict from tensor name
        to tensor.

    Raises
    ------
    ValueError
        For a malformed or inconsistent file.
    TypeError
        For a ``map_location`` of another type.

    Examples
    --------
    >>> import io, ember
    >>> buffer = io.BytesIO()
    >>> ember.save([ember.arange(3), (1.5, None)], buffer)
    >>> _ = buffer.seek(0)
    >>> ember.load(buffer, map_location="cpu", weights_only=True)
    [tensor([0, 1, 2]), (1.5, None)]
    """
    unknown = set(pickle_load_args) - {"encoding", "errors", "fix_imports"}
    if unknown:
        raise TypeError(f"load() got an unexpected keyword argument {sorted(unknown)[0]!r}")
    del pickle_module, weights_only, mmap  # no pickle; see the docstring
    _check_map_location(map_location)
    stream, close = _open_source(f)
    try:
        return _load_stream(stream, map_location)
    finally:
        if close:
            stream.close()


def _load_stream(stream, map_location):
    header, data_start, data_length = _parse_header(stream)
    metadata = header.pop("__metadata__", None)
    if metadata is not None and not (isinstance(metadata, dict) and
                                     all(isinstance(v, str) for v in metadata.values())):
        raise ValueError("ember.load: __metadata__ must map str to str")
    entries = {name: _check_entry(name, entry, data_length) for name, entry in header.items()}
    _check_layout(entries, data_length)
    entries = _as_complex(metadata, header, entries)
    devices = _saved_devices(metadata, entries)
    tensors = {}
    for name, (np_dtype, shape, begin, end) in entries.items():
        tensor = _read_tensor(stream, data_start, np_dtype, shape, begin, end)
        tensors[name] = _relocate(tensor, map_location, devices.get(name, "cpu"))
    if metadata is None or _STRUCTURE_KEY not in metadata:
        return tensors
    return _decode(_loads(metadata[_STRUCTURE_KEY], "the structure metadata"), tensors)

