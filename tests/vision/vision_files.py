"""Write tiny MNIST-style IDX files and read PNG files back, independently of ember."""
import gzip
import struct
import zlib

import numpy as np

IDX_TYPE_CODES = {np.uint8: 0x08, np.int8: 0x09, np.int16: 0x0B, np.int32: 0x0C,
                  np.float32: 0x0D, np.float64: 0x0E}


def idx_bytes(array):
    """The IDX encoding of ``array``: magic (0, 0, type, ndim), big-endian sizes and data."""
    array = np.asarray(array)
    code = IDX_TYPE_CODES[array.dtype.type]
    header = struct.pack(">BBBB", 0, 0, code, array.ndim)
    header += b"".join(struct.pack(">I", n) for n in array.shape)
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


def write_idx(path, array):
    """Write ``array`` as an IDX file, gzip-compressed when ``path`` ends in ``.gz``."""
    data = idx_bytes(array)
    path.write_bytes(gzip.compress(data) if str(path).endswith(".gz") else data)


def write_mnist(root, folder="MNIST", n_train=12, n_test=5, size=28, gz=False, seed=0):
    """Random images and labels in ``root/folder/raw``; returns the four arrays."""
    rng = np.random.default_rng(seed)
    raw = root / folder / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    suffix = ".gz" if gz else ""
    arrays = {}
    for split, n in (("train", n_train), ("t10k", n_test)):
        images = rng.integers(0, 256, (n, size, size), dtype=np.uint8)
        labels = rng.integers(0, 10, n, dtype=np.uint8)
        write_idx(raw / f"{split}-images-idx3-ubyte{suffix}", images)
        write_idx(raw / f"{split}-labels-idx1-ubyte{suffix}", labels)
        arrays[split] = (images, labels)
    return arrays


def read_png(data):
    """Decode an 8-bit, non-interlaced, unfiltered PNG to a ``(H, W, C)`` array."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    position, chunks = 8, {}
    while position < len(data):
        length, tag = struct.unpack(">I4s", data[position:position + 8])
        body = data[position + 8:position + 8 + length]
        crc, = struct.unpack(">I", data[position + 8 + length:position + 12 + length])
        assert crc == zlib.crc32(tag + body) & 0xFFFFFFFF, tag
        chunks.setdefault(tag, []).append(body)
        position += 12 + length
    assert list(chunks)[-1] == b"IEND"
    width, height, depth, color, _, _, interlace = struct.unpack(">IIBBBBB", chunks[b"IHDR"][0])
    assert depth == 8 and interlace == 0
    channels = {0: 1, 4: 2, 2: 3, 6: 4}[color]
    rows = np.frombuffer(zlib.decompress(b"".join(chunks[b"IDAT"])), np.uint8)
    rows = rows.reshape(height, 1 + width * channels)
    assert (rows[:, 0] == 0).all(), "only filter type 0 (none) is decoded here"
    return rows[:, 1:].reshape(height, width, channels)
