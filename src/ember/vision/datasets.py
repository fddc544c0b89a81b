"""Image data sets read from local files (no downloads), as in ``torchvision.datasets``.

Pillow is not a dependency, so an item's image is what torchvision keeps in ``data``: a
``uint8`` tensor of shape ``(H, W)``; :class:`ember.vision.transforms.ToTensor` accepts it.
"""
import gzip
import os

import numpy as np

import ember
from ember.utils.data import Dataset

__all__ = ["MNIST", "FashionMNIST", "read_idx"]

# IDX type codes (third byte of the magic number) and the big-endian NumPy dtype of each.
_IDX_DTYPES = {
    0x08: np.dtype(">u1"), 0x09: np.dtype(">i1"), 0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"), 0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8"),
}


def read_idx(path):
    """Read an IDX file (the format of the MNIST files), plain or gzip-compressed.

    Parameters
    ----------
    path : str or os.PathLike
        The file; a name ending in ``.gz`` is decompressed.

    Returns
    -------
    Tensor
        The array with the file's shape and element type (``uint8``, ``int8``, ``int16``,
        ``int32``, ``float32`` or ``float64``).

    Raises
    ------
    RuntimeError
        If the file is not a well-formed IDX file.

    Examples
    --------
    >>> import os, struct, tempfile
    >>> from ember.vision.datasets import read_idx
    >>> path = os.path.join(tempfile.mkdtemp(), "labels-idx1-ubyte")
    >>> with open(path, "wb") as f:
    ...     _ = f.write(struct.pack(">4BI", 0, 0, 8, 1, 3) + bytes([7, 0, 9]))
    >>> read_idx(path)
    tensor([7, 0, 9], dtype=ember.uint8)
    """
    path = os.fspath(path)
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        raw = f.read()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_DTYPES:
        raise RuntimeError(f"{path!r} is not an IDX file: its magic number is "
                           f"{raw[:4].hex() or 'missing'}")
    dtype, ndim = _IDX_DTYPES[raw[2]], raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise RuntimeError(f"{path!r} is truncated: {len(raw)} bytes, the header of a "
                           f"{ndim}-dimensional IDX file needs {header}")
    shape = tuple(int(n) for n in np.frombuffer(raw, ">u4", count=ndim, offset=4))
    expected = header + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(raw) != expected:
        raise RuntimeError(f"{path!r} holds {len(raw)} bytes, but an IDX file of shape "
                           f"{shape} and type {dtype.name} holds {expected}")
    array = np.frombuffer(raw, dtype, offset=header).reshape(shape)
    return ember.from_numpy(array.astype(dtype.newbyteorder("="), copy=True))


class MNIST(Dataset):
    """The MNIST handwritten digits, read from the four IDX files in ``root/MNIST/raw``.

    Nothing is downloaded.  Put ``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``,
    ``t10k-images-idx3-ubyte`` and ``t10k-labels-idx1-ubyte`` (or their ``.gz`` forms, as
    published) in ``root/MNIST/raw/``.

    Parameters
    ----------
    root : str or os.PathLike
        The folder that holds ``MNIST/raw`` (``~`` is expanded).
    train : bool, default True
        The 60,000 training images, else the 10,000 test images.
    transform : callable, optional
        Applied to each image (a ``uint8`` tensor of shape ``(28, 28)``).
    target_transform : callable, optional
        Applied to each label (a Python ``int``).
    download : bool, default False
        Accepted for torchvision compatibility: ember does not download, so when the files
        are missing the error says where to put them.

    Attributes
    ----------
    data : Tensor
        All images, ``uint8`` of shape ``(N, 28, 28)``.
    targets : Tensor
        All labels, ``int64`` of shape ``(N,)``.
    classes : list of str
        The class names, indexed by label.

    Raises
    ------
    RuntimeError
        If a file is missing (naming each missing file and the folder) or malformed.

    Examples
    --------
    >>> from ember.vision import datasets, transforms
    >>> train = datasets.MNIST("data", train=True,
    ...                        transform=transforms.ToTensor())  # doctest: +SKIP
    >>> image, label = train[0]                                # doctest: +SKIP
    >>> image.shape, label                                     # doctest: +SKIP
    (ember.Size([1, 28, 28]), 5)
    """

    classes = ["0 - zero", "1 - one", "2 - two", "3 - three", "4 - four",
               "5 - five", "6 - six", "7 - seven", "8 - eight", "9 - nine"]
    _splits = {True: ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
               False: ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")}

    def __init__(self, root, train=True, transform=None, target_transform=None,
                 download=False):
        self.root = os.path.expanduser(os.fspath(root))
        self.train = bool(train)
        self.transform = transform
        self.target_transform = target_transform
        image_path, label_path = (self._find(name) for name in self._splits[self.train])
        images, labels = read_idx(image_path), read_idx(label_path)
        if images.dtype != ember.uint8 or images.dim() != 3:
            raise RuntimeError(f"{image_path!r} should hold uint8 images (N, H, W), "
                               f"got {images.dtype} of shape {tuple(images.shape)}")
        if labels.dtype != ember.uint8 or labels.dim() != 1 or len(labels) != len(images):
            raise RuntimeError(f"{label_path!r} should hold {len(images)} uint8 labels, "
                               f"got {labels.dtype} of shape {tuple(labels.shape)}")
        self.data = images
        self.targets = labels.long()

    @property
    def raw_folder(self):
        """The folder the IDX files are read from: ``root/<class name>/raw``."""
        return os.path.join(self.root, type(self).__name__, "raw")

    @property
    def class_to_idx(self):
        """``{class name: label}``."""
        return {name: index for index, name in enumerate(self.classes)}

    def _find(self, name):
        for candidate in (name, name + ".gz"):
            path = os.path.join(self.raw_folder, candidate)
            if os.path.isfile(path):
                return path
        missing = [n for n in self._splits[True] + self._splits[False]
                   if not any(os.path.isfile(os.path.join(self.raw_folder, n + ext))
                              for ext in ("", ".gz"))]
        raise RuntimeError(
            f"{type(self).__name__} not found: {', '.join(missing)} (or the .gz forms) "
            f"missing from {self.raw_folder!r}. ember does not download data sets; fetch the "
            f"IDX files yourself and put them in that folder.")

    def __getitem__(self, index):
        """``(image, label)``: the image transformed by ``transform``, the label by
        ``target_transform``."""
        image, target = self.data[index], int(self.targets[index])
        if self.transform is not None:
            image = self.transform(image)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return image, target

    def __len__(self):
        return len(self.data)

    def __repr__(self):
        lines = [f"Dataset {type(self).__name__}", f"    Number of datapoints: {len(self)}",
                 f"    Root location: {self.root}",
                 f"    Split: {'Train' if self.train else 'Test'}"]
        for head, function in (("Transform: ", self.transform),
                               ("Target transform: ", self.target_transform)):
            if function is not None:
                body = repr(function).splitlines()
                lines.append(f"    {head}{body[0]}")
                lines += ["    " + " " * len(head) + line for line in body[1:]]
        return "\n".join(lines)


class FashionMNIST(MNIST):
    """Zalando's Fashion-MNIST, read from the four IDX files in ``root/FashionMNIST/raw``.

    The same files, names, parameters and attributes as :class:`MNIST`, with clothing
    classes.

    Examples
    --------
    >>> from ember.vision.datasets import FashionMNIST
    >>> FashionMNIST.classes[:3]
    ['T-shirt/top', 'Trouser', 'Pullover']
    """

    classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
               "Sneaker", "Bag", "Ankle boot"]
