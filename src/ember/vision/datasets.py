"""Image data sets read from local files (no downloads), as in ``torchvision.datasets``.

An item's image is a PIL image, as in torchvision, so that a torchvision pipeline (crops
and flips, then ``ToTensor``) runs unchanged.  Pillow is optional: without it the image is
the ``uint8`` tensor the PIL image would be made from (``(H, W)`` for MNIST, ``(H, W, C)``
for CIFAR and :class:`FakeData`), which :class:`ember.vision.transforms.ToTensor` accepts
(the other transforms read a tensor as ``(..., C, H, W)``, so they come after it).
:class:`ImageFolder`'s default loader reads image files, and needs Pillow.
"""
import codecs
import gzip
import os
import pickle

import numpy as np

import ember
from ember.utils.data import Dataset

__all__ = ["MNIST", "FashionMNIST", "read_idx", "CIFAR10", "CIFAR100", "FakeData",
           "DatasetFolder", "ImageFolder", "find_classes", "make_dataset",
           "has_file_allowed_extension", "IMG_EXTENSIONS", "default_loader"]

# IDX type codes (third byte of the magic number) and the big-endian NumPy dtype of each.
_IDX_DTYPES = {
    0x08: np.dtype(">u1"), 0x09: np.dtype(">i1"), 0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"), 0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8"),
}


def _to_image(image):
    """A ``uint8`` tensor ``(H, W)`` or ``(H, W, C)`` as the PIL image torchvision hands
    out (mode ``L``, ``LA``, ``RGB`` or ``RGBA``), or the tensor itself without Pillow."""
    try:
        from PIL import Image
    except ImportError:
        return image
    return Image.fromarray(image.numpy())


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


def _transformed(dataset, sample, target):
    """``(sample, target)`` through the data set's ``transform`` and ``target_transform``."""
    if dataset.transform is not None:
        sample = dataset.transform(sample)
    if dataset.target_transform is not None:
        target = dataset.target_transform(target)
    return sample, target


def _describe(dataset, body):
    """torchvision's data set ``repr``: the name, the size, ``body`` lines, the transforms."""
    lines = [f"Dataset {type(dataset).__name__}", f"    Number of datapoints: {len(dataset)}"]
    lines += ["    " + line for line in body]
    for head, function in (("Transform: ", dataset.transform),
                           ("Target transform: ", dataset.target_transform)):
        if function is not None:
            text = repr(function).splitlines()
            lines.append(f"    {head}{text[0]}")
            lines += ["    " + " " * len(head) + line for line in text[1:]]
    return "\n".join(lines)


class _LabelledImages(Dataset):
    """A split of images in ``data`` with integer labels in ``targets`` (MNIST, CIFAR)."""

    def __getitem__(self, index):
        """``(image, label)``: the image transformed by ``transform``, the label by
        ``target_transform``."""
        image, target = _to_image(self.data[index]), int(self.targets[index])
        return _transformed(self, image, target)

    def __len__(self):
        return len(self.data)

    def __repr__(self):
        return _describe(self, [f"Root location: {self.root}",
                                f"Split: {'Train' if self.train else 'Test'}"])


class MNIST(_LabelledImages):
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
        Applied to each image (a PIL image of mode ``L``; without Pillow, a ``uint8``
        tensor of shape ``(28, 28)``).
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


# The globals a pickled NumPy array needs (``_codecs.encode`` makes the bytes of protocol 2
# pickles written by Python 3): whatever else a pickle names is refused, so loading a CIFAR
# file cannot run code.
_PICKLE_GLOBALS = {
    ("_codecs", "encode"): codecs.encode,
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
    ("numpy.core.multiarray", "_reconstruct"): np.ndarray.__reduce__(np.zeros(0))[0],
    ("numpy._core.multiarray", "_reconstruct"): np.ndarray.__reduce__(np.zeros(0))[0],
    ("numpy.core.multiarray", "scalar"): np.int64(0).__reduce__()[0],
    ("numpy._core.multiarray", "scalar"): np.int64(0).__reduce__()[0],
}


class _ArrayUnpickler(pickle.Unpickler):
    """An unpickler that builds only dicts, lists, strings, numbers and NumPy arrays."""

    def find_class(self, module, name):
        try:
            return _PICKLE_GLOBALS[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(
                f"refusing to load {module}.{name} from a data set pickle: only NumPy "
                f"arrays, dtypes and scalars are allowed (the file is not a plain CIFAR "
                f"batch, and unpickling it could run code)") from None


def _load_pickle(path):
    with open(path, "rb") as f:
        return _ArrayUnpickler(f, encoding="latin1").load()


class CIFAR10(_LabelledImages):
    """CIFAR-10, read from the Python version's batches in ``root/cifar-10-batches-py``.

    Nothing is downloaded: unpack ``cifar-10-python.tar.gz`` into ``root``.  The files are
    pickles, read with an unpickler that only builds NumPy arrays and plain Python values,
    so a tampered file cannot run code.  Checksums are not verified.

    Parameters
    ----------
    root : str or os.PathLike
        The folder that holds ``cifar-10-batches-py`` (``~`` is expanded).
    train : bool, default True
        The five training batches (50,000 images), else the test batch (10,000).
    transform : callable, optional
        Applied to each image (a PIL image of mode ``RGB``; without Pillow, a ``uint8``
        tensor of shape ``(32, 32, 3)``).
    target_transform : callable, optional
        Applied to each label (a Python ``int``).
    download : bool, default False
        ``True`` raises: ember does not download data sets.

    Attributes
    ----------
    data : Tensor
        All images, ``uint8`` of shape ``(N, 32, 32, 3)`` (height, width, RGB).
    targets : list of int
        All labels.
    classes : list of str
        The class names (from the meta file), indexed by label.
    class_to_idx : dict
        ``{class name: label}``.

    Raises
    ------
    RuntimeError
        If a file is missing (naming each missing file and the folder) or ``download`` is
        true.
    pickle.UnpicklingError
        If a file asks for anything but NumPy arrays and plain values.

    Examples
    --------
    >>> from ember.vision import datasets, transforms
    >>> train = datasets.CIFAR10("data", transform=transforms.ToTensor())  # doctest: +SKIP
    >>> image, label = train[0]                                           # doctest: +SKIP
    >>> image.shape, train.classes[label]                                 # doctest: +SKIP
    (ember.Size([3, 32, 32]), 'frog')
    """

    base_folder = "cifar-10-batches-py"
    train_list = ["data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4",
                  "data_batch_5"]
    test_list = ["test_batch"]
    meta = {"filename": "batches.meta", "key": "label_names"}

    def __init__(self, root, train=True, transform=None, target_transform=None,
                 download=False):
        self.root = os.path.expanduser(os.fspath(root))
        self.train = bool(train)
        self.transform = transform
        self.target_transform = target_transform
        folder = os.path.join(self.root, self.base_folder)
        if download:
            raise RuntimeError(f"ember does not download data sets: unpack the "
                               f"{type(self).__name__} Python archive into {self.root!r} "
                               f"(giving {folder!r}) and pass download=False")
        names = self.train_list + self.test_list + [self.meta["filename"]]
        missing = [n for n in names if not os.path.isfile(os.path.join(folder, n))]
        if missing:
            raise RuntimeError(f"{type(self).__name__} not found: {', '.join(missing)} missing "
                               f"from {folder!r}. ember does not download data sets; unpack "
                               f"the Python version of the archive into {self.root!r}.")
        data, self.targets = [], []
        for name in self.train_list if self.train else self.test_list:
            entry = _load_pickle(os.path.join(folder, name))
            data.append(entry["data"])
            self.targets.extend(entry["labels"] if "labels" in entry else entry["fine_labels"])
        images = np.vstack(data).reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
        self.data = ember.from_numpy(np.ascontiguousarray(images, dtype=np.uint8))
        self.classes = _load_pickle(os.path.join(folder, self.meta["filename"]))[
            self.meta["key"]]
        self.class_to_idx = {name: index for index, name in enumerate(self.classes)}


class CIFAR100(CIFAR10):
    """CIFAR-100, read from the Python version's files in ``root/cifar-100-python``.

    The same parameters and attributes as :class:`CIFAR10`; the labels are the 100 fine
    classes (``fine_labels``) and ``classes`` their names.

    Examples
    --------
    >>> from ember.vision.datasets import CIFAR100
    >>> CIFAR100.base_folder, CIFAR100.train_list, CIFAR100.test_list
    ('cifar-100-python', ['train'], ['test'])
    """

    base_folder = "cifar-100-python"
    train_list = ["train"]
    test_list = ["test"]
    meta = {"filename": "meta", "key": "fine_label_names"}


class FakeData(Dataset):
    """Random images and labels, the same for an index every time.

    Item ``i`` is drawn from a generator seeded with ``i + random_offset`` (ember's default
    generator is left as it was), as in torchvision: a standard normal image of
    ``image_size`` turned into a PIL image as ``ToPILImage`` does (``x * 255`` converted to
    ``uint8``; mode ``L`` for one channel, ``RGB`` for three) and a label below
    ``num_classes``.  The values differ from torchvision's, whose generator is another.

    Parameters
    ----------
    size : int, default 1000
        The number of items.
    image_size : (int, int, int), default (3, 224, 224)
        ``(C, H, W)``.
    num_classes : int, default 10
    transform : callable, optional
        Applied to each image (a PIL image; without Pillow, a ``uint8`` tensor of shape
        ``(H, W, C)``).
    target_transform : callable, optional
        Applied to each label (a Python ``int``).
    random_offset : int, default 0
        Added to the index to make the seed.

    Examples
    --------
    >>> from ember.vision.datasets import FakeData
    >>> data = FakeData(size=4, image_size=(3, 8, 6), num_classes=5)
    >>> image, label = data[1]
    >>> image.mode, image.size, 0 <= label < 5
    ('RGB', (6, 8), True)
    >>> data[1][0].tobytes() == image.tobytes()
    True
    """

    def __init__(self, size=1000, image_size=(3, 224, 224), num_classes=10, transform=None,
                 target_transform=None, random_offset=0):
        self.size, self.image_size = size, image_size
        self.num_classes, self.random_offset = num_classes, random_offset
        self.transform, self.target_transform = transform, target_transform

    def __getitem__(self, index):
        """``(image, label)`` for ``index``; ``IndexError`` from ``size`` on."""
        if index >= len(self):
            raise IndexError(f"{type(self).__name__} index out of range")
        generator = ember.Generator().manual_seed(index + self.random_offset)
        image = ember.randn(*self.image_size, generator=generator)
        target = int(ember.randint(0, self.num_classes, size=(1,), generator=generator))
        image = image.mul(255).to(ember.uint8)
        if image.dim() == 3:
            image = image[0] if image.shape[0] == 1 else image.permute(1, 2, 0).contiguous()
        image = _to_image(image)
        return _transformed(self, image, target)

    def __len__(self):
        return self.size

    def __repr__(self):
        return _describe(self, [])


IMG_EXTENSIONS = (".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp")


def has_file_allowed_extension(filename, extensions):
    """Whether ``filename`` ends (case-insensitively) with one of ``extensions``.

    Examples
    --------
    >>> from ember.vision.datasets import has_file_allowed_extension
    >>> has_file_allowed_extension("cat/01.PNG", (".png", ".jpg"))
    True
    """
    return filename.lower().endswith(extensions if isinstance(extensions, str)
                                     else tuple(extensions))


def find_classes(directory):
    """The class names (sub-folder names, sorted) and ``{name: index}``.

    Raises
    ------
    FileNotFoundError
        If ``directory`` has no sub-folder.

    Examples
    --------
    >>> import os, tempfile
    >>> from ember.vision.datasets import find_classes
    >>> root = tempfile.mkdtemp()
    >>> for name in ("dog", "cat"):
    ...     os.makedirs(os.path.join(root, name))
    >>> find_classes(root)
    (['cat', 'dog'], {'cat': 0, 'dog': 1})
    """
    classes = sorted(entry.name for entry in os.scandir(directory) if entry.is_dir())
    if not classes:
        raise FileNotFoundError(f"Couldn't find any class folder in {directory}.")
    return classes, {name: index for index, name in enumerate(classes)}


def make_dataset(directory, class_to_idx=None, extensions=None, is_valid_file=None,
                 allow_empty=False):
    """``[(path, class index), ...]`` for the files under each class folder, sorted.

    Parameters
    ----------
    directory : str or os.PathLike
        The root folder (``~`` is expanded).
    class_to_idx : dict, optional
        ``{class folder name: index}``; default :func:`find_classes`.
    extensions : str or tuple of str, optional
        The file name endings to keep.  Give this or ``is_valid_file``, not both.
    is_valid_file : callable, optional
        ``is_valid_file(path)`` says whether to keep a file.
    allow_empty : bool, default False
        Allow a class folder with no kept file.

    Raises
    ------
    ValueError
        If ``class_to_idx`` is empty, or both or neither of ``extensions`` and
        ``is_valid_file`` are given.
    FileNotFoundError
        If a class has no file and ``allow_empty`` is false.
    """
    directory = os.path.expanduser(directory)
    if class_to_idx is None:
        _, class_to_idx = find_classes(directory)
    elif not class_to_idx:
        raise ValueError("'class_to_index' must have at least one entry to collect any "
                         "samples.")
    if (extensions is None) == (is_valid_file is None):
        raise ValueError("Both extensions and is_valid_file cannot be None or not None at "
                         "the same time")
    if extensions is not None:
        def is_valid_file(path):
            return has_file_allowed_extension(path, extensions)
    instances, available = [], set()
    for target_class in sorted(class_to_idx):
        target_dir = os.path.join(directory, target_class)
        if not os.path.isdir(target_dir):
            continue
        for folder, _, names in sorted(os.walk(target_dir, followlinks=True)):
            for name in sorted(names):
                path = os.path.join(folder, name)
                if is_valid_file(path):
                    instances.append((path, class_to_idx[target_class]))
                    available.add(target_class)
    empty = set(class_to_idx) - available
    if empty and not allow_empty:
        message = f"Found no valid file for the classes {', '.join(sorted(empty))}. "
        if extensions is not None:
            message += ("Supported extensions are: " + (
                extensions if isinstance(extensions, str) else ", ".join(extensions)))
        raise FileNotFoundError(message)
    return instances


def default_loader(path):
    """Open an image file with Pillow and convert it to RGB (``PIL.Image.Image``).

    Raises
    ------
    ImportError
        If Pillow is not installed (``pip install ember[vision]``).
    """
    try:
        from PIL import Image
    except ImportError:
        raise ImportError("reading image files needs Pillow: pip install pillow (or "
                          "ember[vision]), or pass ImageFolder a loader of your own") from None
    with open(path, "rb") as f:
        return Image.open(f).convert("RGB")


class DatasetFolder(Dataset):
    """Samples stored as ``root/<class>/**/<file>``, one class per sub-folder.

    Parameters
    ----------
    root : str or os.PathLike
        The root folder.
    loader : callable
        ``loader(path)`` reads a sample.
    extensions : tuple of str, optional
        The file name endings to keep.  Give this or ``is_valid_file``, not both.
    transform, target_transform : callable, optional
        Applied to each sample and to each label (an ``int``).
    is_valid_file : callable, optional
        ``is_valid_file(path)`` says whether to keep a file.
    allow_empty : bool, default False
        Allow class folders with no kept file.

    Attributes
    ----------
    classes : list of str
        The sub-folder names, sorted.
    class_to_idx : dict
        ``{class name: label}``.
    samples : list of (str, int)
        ``(path, label)`` of every sample, by class then path.
    targets : list of int
        The label of every sample.

    Examples
    --------
    >>> import os, tempfile
    >>> from ember.vision.datasets import DatasetFolder
    >>> root = tempfile.mkdtemp()
    >>> for cls, value in (("high", "9"), ("low", "1")):
    ...     os.makedirs(os.path.join(root, cls))
    ...     with open(os.path.join(root, cls, "a.txt"), "w") as f:
    ...         _ = f.write(value)
    >>> data = DatasetFolder(root, loader=lambda p: int(open(p).read()), extensions=".txt")
    >>> data.classes, [data[i] for i in range(len(data))]
    (['high', 'low'], [(9, 0), (1, 1)])
    """

    def __init__(self, root, loader, extensions=None, transform=None, target_transform=None,
                 is_valid_file=None, allow_empty=False):
        self.root = os.path.expanduser(os.fspath(root))
        self.transform, self.target_transform = transform, target_transform
        classes, class_to_idx = self.find_classes(self.root)
        self.samples = self.make_dataset(self.root, class_to_idx=class_to_idx,
                                         extensions=extensions, is_valid_file=is_valid_file,
                                         allow_empty=allow_empty)
        self.loader, self.extensions = loader, extensions
        self.classes, self.class_to_idx = classes, class_to_idx
        self.targets = [label for _, label in self.samples]

    @staticmethod
    def make_dataset(directory, class_to_idx, extensions=None, is_valid_file=None,
                     allow_empty=False):
        """The ``(path, label)`` samples: :func:`make_dataset` (override to change)."""
        if class_to_idx is None:
            raise ValueError("The class_to_idx parameter cannot be None.")
        return make_dataset(directory, class_to_idx, extensions=extensions,
                            is_valid_file=is_valid_file, allow_empty=allow_empty)

    def find_classes(self, directory):
        """The classes and ``{name: label}``: :func:`find_classes` (override to change)."""
        return find_classes(directory)

    def __getitem__(self, index):
        """``(sample, label)``: the loaded sample transformed by ``transform``, the label by
        ``target_transform``."""
        path, target = self.samples[index]
        sample = self.loader(path)
        return _transformed(self, sample, target)

    def __len__(self):
        return len(self.samples)

    def __repr__(self):
        return _describe(self, [f"Root location: {self.root}"])


class ImageFolder(DatasetFolder):
    """Images stored as ``root/<class>/**/<image file>``, one class per sub-folder.

    A :class:`DatasetFolder` that keeps files with the endings of :data:`IMG_EXTENSIONS`
    (unless ``is_valid_file`` is given) and reads them with :func:`default_loader` (Pillow,
    converted to RGB) unless ``loader`` is given.

    Parameters
    ----------
    root : str or os.PathLike
    transform, target_transform : callable, optional
    loader : callable, default :func:`default_loader`
    is_valid_file : callable, optional
    allow_empty : bool, default False

    Attributes
    ----------
    imgs : list of (str, int)
        The same list as ``samples``.

    Examples
    --------
    >>> from ember.vision import datasets, transforms
    >>> data = datasets.ImageFolder("photos",
    ...                             transform=transforms.ToTensor())  # doctest: +SKIP
    >>> data.classes                                                  # doctest: +SKIP
    ['cat', 'dog']
    """

    def __init__(self, root, transform=None, target_transform=None, loader=default_loader,
                 is_valid_file=None, allow_empty=False):
        super().__init__(root, loader, IMG_EXTENSIONS if is_valid_file is None else None,
                         transform=transform, target_transform=target_transform,
                         is_valid_file=is_valid_file, allow_empty=allow_empty)
        self.imgs = self.samples
