"""MNIST / FashionMNIST read from synthetic IDX files, and the IDX reader itself."""
import gzip
import struct
import sys

import numpy as np
import pytest

import ember
from ember.utils.data import DataLoader
from ember.vision import datasets, transforms
from vision_files import idx_bytes, write_idx, write_mnist


@pytest.mark.parametrize("gz", [False, True])
@pytest.mark.parametrize("train", [True, False])
def test_mnist_reads_data_and_targets(tmp_path, gz, train):
    arrays = write_mnist(tmp_path, gz=gz)
    images, labels = arrays["train" if train else "t10k"]
    ds = datasets.MNIST(tmp_path, train=train)
    assert ds.data.dtype == ember.uint8 and ds.targets.dtype == ember.int64
    np.testing.assert_array_equal(ds.data.numpy(), images)
    np.testing.assert_array_equal(ds.targets.numpy(), labels)
    assert len(ds) == len(labels)
    image, target = ds[3]
    assert isinstance(target, int) and target == labels[3]
    assert image.mode == "L"  # a PIL image, as torchvision's
    np.testing.assert_array_equal(np.asarray(image), images[3])
    np.testing.assert_array_equal(np.asarray(ds[-1][0]), images[-1])


def test_items_are_tensors_without_pillow(tmp_path, monkeypatch):
    images, labels = write_mnist(tmp_path)["train"]
    monkeypatch.setitem(sys.modules, "PIL", None)  # import PIL now raises ImportError
    ds = datasets.MNIST(tmp_path)
    image, target = ds[3]
    assert image.shape == (28, 28) and image.dtype == ember.uint8
    np.testing.assert_array_equal(image.numpy(), images[3])
    fake, _ = datasets.FakeData(size=2, image_size=(3, 5, 4))[1]
    assert fake.shape == (5, 4, 3) and fake.dtype == ember.uint8
    assert transforms.ToTensor()(fake).shape == (3, 5, 4)


def test_transforms_and_loader(tmp_path):
    images, labels = write_mnist(tmp_path, n_train=10)["train"]
    ds = datasets.MNIST(str(tmp_path), transform=transforms.ToTensor(),
                        target_transform=lambda y: y + 100)
    image, target = ds[2]
    assert image.shape == (1, 28, 28) and image.dtype == ember.float32
    np.testing.assert_allclose(image.numpy()[0], images[2] / 255, rtol=1e-6)
    assert target == labels[2] + 100
    batch_images, batch_targets = next(iter(DataLoader(ds, batch_size=4)))
    assert batch_images.shape == (4, 1, 28, 28)
    np.testing.assert_array_equal(batch_targets.numpy(), labels[:4].astype(np.int64) + 100)


def test_fashion_mnist_has_own_folder_and_classes(tmp_path):
    write_mnist(tmp_path, folder="FashionMNIST", gz=True)
    ds = datasets.FashionMNIST(tmp_path, train=False)
    assert ds.raw_folder == str(tmp_path / "FashionMNIST" / "raw")
    assert ds.classes == ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal",
                          "Shirt", "Sneaker", "Bag", "Ankle boot"]
    assert ds.class_to_idx["Ankle boot"] == 9
    assert datasets.MNIST.classes[3] == "3 - three"
    with pytest.raises(RuntimeError, match="MNIST not found"):
        datasets.MNIST(tmp_path)  # the FashionMNIST files are not MNIST's


def test_repr_lists_split_and_transforms(tmp_path):
    write_mnist(tmp_path)
    ds = datasets.MNIST(tmp_path, train=False, transform=transforms.Compose(
        [transforms.ToTensor(), transforms.Normalize((0.5,), (0.5,))]))
    assert repr(ds).splitlines() == [
        "Dataset MNIST", "    Number of datapoints: 5", f"    Root location: {tmp_path}",
        "    Split: Test", "    Transform: Compose(", "                   ToTensor()",
        "                   Normalize(mean=(0.5,), std=(0.5,))", "               )"]


def test_missing_files_are_named(tmp_path):
    write_mnist(tmp_path)
    (tmp_path / "MNIST" / "raw" / "t10k-labels-idx1-ubyte").unlink()
    datasets.MNIST(tmp_path, train=True)  # the training files are all there
    with pytest.raises(RuntimeError) as info:
        datasets.MNIST(tmp_path, train=False, download=True)
    message = str(info.value)
    assert "t10k-labels-idx1-ubyte" in message and "train-images" not in message
    assert str(tmp_path / "MNIST" / "raw") in message and "does not download" in message
    with pytest.raises(RuntimeError, match="train-images-idx3-ubyte, train-labels"):
        datasets.MNIST(tmp_path / "elsewhere")


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32,
                                   np.float64])
def test_read_idx_element_types(tmp_path, dtype):
    array = (np.arange(24).reshape(2, 3, 4) - 5).astype(dtype)
    write_idx(tmp_path / "a.idx.gz", array)
    out = datasets.read_idx(tmp_path / "a.idx.gz")
    assert out.dtype == getattr(ember, np.dtype(dtype).name)
    np.testing.assert_array_equal(out.numpy(), array)


@pytest.mark.parametrize("data, match", [
    (b"\x01\x00\x08\x01" + struct.pack(">I", 1) + b"\x00", "not an IDX file"),
    (b"\x00\x00\x07\x01" + struct.pack(">I", 1) + b"\x00", "not an IDX file"),
    (b"\x00\x00", "not an IDX file"),
    (b"\x00\x00\x08\x03" + struct.pack(">I", 1), "truncated"),
    (idx_bytes(np.zeros((2, 3), np.int16))[:-1], r"shape \(2, 3\) and type int16"),
])
def test_read_idx_rejects_malformed_files(tmp_path, data, match):
    (tmp_path / "bad").write_bytes(data)
    with pytest.raises(RuntimeError, match=match):
        datasets.read_idx(tmp_path / "bad")


def test_mismatched_images_and_labels(tmp_path):
    write_mnist(tmp_path, gz=True)
    raw = tmp_path / "MNIST" / "raw"
    (raw / "train-labels-idx1-ubyte.gz").write_bytes(
        gzip.compress(idx_bytes(np.zeros(3, np.uint8))))
    with pytest.raises(RuntimeError, match="should hold 12 uint8 labels"):
        datasets.MNIST(tmp_path)
    write_idx(raw / "train-images-idx3-ubyte", np.zeros((3, 4), np.uint8))  # plain beats .gz
    with pytest.raises(RuntimeError, match=r"uint8 images \(N, H, W\)"):
        datasets.MNIST(tmp_path)
