"""CIFAR, FakeData and the folder data sets against torchvision reading the same files."""
import os
import pickle

import numpy as np
import pytest

import ember
from ember.utils.data import DataLoader
from ember.vision import datasets, transforms

torchvision = pytest.importorskip("torchvision")
Image = pytest.importorskip("PIL.Image")

tv_datasets = torchvision.datasets


def _write_cifar(root, cifar100=False, n=6, seed=0):
    """Tiny CIFAR files in the published layout (dicts of a uint8 array and label lists)."""
    rng = np.random.default_rng(seed)
    cls = datasets.CIFAR100 if cifar100 else datasets.CIFAR10
    folder = root / cls.base_folder
    folder.mkdir()
    label_key = "fine_labels" if cifar100 else "labels"
    n_classes = 100 if cifar100 else 10
    for name in cls.train_list + cls.test_list:
        entry = {"batch_label": name,
                 "data": rng.integers(0, 256, (n, 3072), dtype=np.uint8),
                 label_key: [int(v) for v in rng.integers(0, n_classes, n)],
                 "filenames": [f"{name}_{i}.png" for i in range(n)]}
        with open(folder / name, "wb") as f:
            pickle.dump(entry, f, protocol=2)
    with open(folder / cls.meta["filename"], "wb") as f:
        pickle.dump({cls.meta["key"]: [f"class{i}" for i in range(n_classes)]}, f)
    return folder


@pytest.fixture
def tv_no_checksums(monkeypatch):
    """torchvision checks the published MD5 sums, which tiny test files cannot match."""
    monkeypatch.setattr(tv_datasets.cifar, "check_integrity", lambda *args: True)
    monkeypatch.setattr(tv_datasets.CIFAR10, "_check_integrity", lambda self: True)


@pytest.mark.parametrize("cifar100", [False, True])
@pytest.mark.parametrize("train", [True, False])
def test_cifar_matches_torchvision(tmp_path, tv_no_checksums, cifar100, train):
    _write_cifar(tmp_path, cifar100)
    ours = (datasets.CIFAR100 if cifar100 else datasets.CIFAR10)(tmp_path, train=train)
    theirs = (tv_datasets.CIFAR100 if cifar100 else tv_datasets.CIFAR10)(tmp_path,
                                                                         train=train)
    assert ours.data.dtype == ember.uint8
    np.testing.assert_array_equal(ours.data.numpy(), theirs.data)
    assert ours.targets == theirs.targets and len(ours) == len(theirs)
    assert ours.classes == theirs.classes and ours.class_to_idx == theirs.class_to_idx
    for index in (0, 3, -1):
        image, target = ours[index]
        pil, tv_target = theirs[index]
        assert target == tv_target and isinstance(target, int)
        assert isinstance(image, Image.Image) and image.mode == pil.mode == "RGB"
        np.testing.assert_array_equal(np.asarray(image), np.asarray(pil))
    tensor = datasets.CIFAR10 if not cifar100 else datasets.CIFAR100
    ours = tensor(tmp_path, train=train, transform=transforms.ToTensor(),
                  target_transform=lambda y: y + 1)
    theirs.transform = torchvision.transforms.ToTensor()
    image, target = ours[2]
    assert target == theirs[2][1] + 1
    np.testing.assert_allclose(image.numpy(), theirs[2][0].numpy(), rtol=1e-6)
    images, _ = next(iter(DataLoader(ours, batch_size=4)))
    assert images.shape == (4, 3, 32, 32)



def test_cifar_augmentation_before_to_tensor(tmp_path, tv_no_checksums):
    # torchvision's CIFAR recipe puts the crop and flip before ToTensor, on the PIL image
    _write_cifar(tmp_path)
    tvt = torchvision.transforms

    def recipe(T):
        return T.Compose([T.Pad(4, padding_mode="reflect"), T.RandomCrop(32),
                          T.RandomHorizontalFlip(p=1.0), T.ToTensor(),
                          T.Normalize((0.4914, 0.4822, 0.4465), (0.2023, 0.1994, 0.2010))])
    ours = datasets.CIFAR10(tmp_path, transform=recipe(transforms))
    theirs = tv_datasets.CIFAR10(tmp_path, transform=recipe(tvt))
    ember.manual_seed(0)
    image = ours[1][0]
    assert image.shape == (3, 32, 32)
    # the crop is random: the one that keeps the centre matches torchvision's flip
    centred = transforms.Compose([transforms.Pad(4, padding_mode="reflect"),
                                  transforms.CenterCrop(32), transforms.RandomHorizontalFlip(1.0),
                                  transforms.ToTensor()])
    tv_centred = tvt.Compose([tvt.Pad(4, padding_mode="reflect"), tvt.CenterCrop(32),
                              tvt.RandomHorizontalFlip(1.0), tvt.ToTensor()])
    ours.transform, theirs.transform = centred, tv_centred
    np.testing.assert_allclose(ours[1][0].numpy(), theirs[1][0].numpy(), rtol=1e-6)
    loader = DataLoader(datasets.CIFAR10(tmp_path, transform=recipe(transforms)), batch_size=4,
                        shuffle=True, num_workers=2)
    assert next(iter(loader))[0].shape == (4, 3, 32, 32)


def test_cifar_missing_files_and_download(tmp_path):
    with pytest.raises(RuntimeError, match="CIFAR10 not found: data_batch_1, .*batches.meta"):
        datasets.CIFAR10(tmp_path)
    folder = _write_cifar(tmp_path)
    os.remove(folder / "test_batch")
    with pytest.raises(RuntimeError, match=r"not found: test_batch missing"):
        datasets.CIFAR10(tmp_path, train=True)
    with pytest.raises(RuntimeError, match="does not download"):
        datasets.CIFAR10(tmp_path, download=True)


class _Exploit:
    def __reduce__(self):
        return os.system, ("echo pwned > " + str(self.target),)


def test_cifar_unpickler_refuses_code(tmp_path):
    folder = _write_cifar(tmp_path)
    marker = tmp_path / "pwned"
    exploit = _Exploit()
    exploit.target = marker
    with open(folder / "data_batch_1", "wb") as f:
        pickle.dump({"data": exploit, "labels": []}, f)
    with pytest.raises(pickle.UnpicklingError, match=r"refusing to load (posix|nt)\.system"):
        datasets.CIFAR10(tmp_path)
    assert not marker.exists()
    with open(folder / "batches.meta", "wb") as f:
        pickle.dump({"label_names": [np.dtype("float32"), np.float64(2.5)],
                     "extra": np.arange(3)}, f)
    # arrays, dtypes and NumPy scalars are what the files may hold
    assert datasets.CIFAR10(tmp_path, train=False).classes[1] == 2.5
    with open(folder / "batches.meta", "wb") as f:
        pickle.dump({"label_names": [Image.Image]}, f)
    with pytest.raises(pickle.UnpicklingError, match=r"PIL\.Image\.Image"):
        datasets.CIFAR10(tmp_path, train=False)


def test_fake_data_is_deterministic_per_index():
    data = datasets.FakeData(size=5, image_size=(3, 6, 4), num_classes=3,
                             transform=transforms.ToTensor())
    assert len(data) == 5
    state = ember.get_rng_state()
    image, label = data[2]
    assert bool((ember.get_rng_state() == state).all())  # the default generator is untouched
    assert image.shape == (3, 6, 4) and image.dtype == ember.float32
    assert isinstance(label, int) and 0 <= label < 3
    again, label_again = data[2]
    assert bool((again == image).all()) and label == label_again
    assert not bool((data[3][0] == image).all())
    shifted = datasets.FakeData(size=5, image_size=(3, 6, 4), num_classes=3,
                                transform=transforms.ToTensor(), random_offset=1)
    assert bool((shifted[1][0] == image).all())
    with pytest.raises(IndexError, match="FakeData index out of range"):
        data[5]
    raw, _ = datasets.FakeData(size=5, image_size=(1, 6, 4))[0]
    tv_raw, _ = tv_datasets.FakeData(size=5, image_size=(1, 6, 4))[0]
    assert (raw.mode, raw.size) == (tv_raw.mode, tv_raw.size) == ("L", (4, 6))
    # torchvision's items: the same shapes and types, once converted
    tv = tv_datasets.FakeData(size=5, image_size=(3, 6, 4), num_classes=3,
                              transform=torchvision.transforms.ToTensor())
    assert tuple(tv[2][0].shape) == tuple(image.shape) and isinstance(tv[2][1], int)


def _write_folder(root):
    rng = np.random.default_rng(1)
    layout = {"dog": ["b.png", "a.jpg", "sub/c.png", "notes.txt"], "cat": ["x.PNG"],
              "bird": ["y.bmp"]}
    for cls, names in layout.items():
        for name in names:
            path = root / cls / name
            path.parent.mkdir(parents=True, exist_ok=True)
            if name.endswith(".txt"):
                path.write_text("not an image")
            else:
                array = rng.integers(0, 256, (5, 7, 3), dtype=np.uint8)
                fmt = {"png": "PNG", "jpg": "JPEG", "bmp": "BMP"}[name.rsplit(".", 1)[1].lower()]
                Image.fromarray(array).save(path, format=fmt)
    (root / "README").write_text("files at the top level are not samples")


def test_image_folder_matches_torchvision(tmp_path):
    _write_folder(tmp_path)
    ours = datasets.ImageFolder(tmp_path, target_transform=str)
    theirs = tv_datasets.ImageFolder(tmp_path, target_transform=str)
    assert ours.classes == theirs.classes == ["bird", "cat", "dog"]
    assert ours.class_to_idx == theirs.class_to_idx
    assert ours.samples == theirs.samples and ours.imgs == theirs.imgs
    assert ours.targets == theirs.targets
    for index in range(len(ours)):
        image, target = ours[index]
        tv_image, tv_target = theirs[index]
        assert target == tv_target
        assert isinstance(image, Image.Image) and image.mode == "RGB"
        np.testing.assert_array_equal(np.asarray(image), np.asarray(tv_image))


def test_dataset_folder_extensions_and_is_valid_file(tmp_path):
    _write_folder(tmp_path)
    ours = datasets.DatasetFolder(tmp_path, loader=os.path.getsize, extensions=(".png",),
                                  allow_empty=True)
    theirs = tv_datasets.DatasetFolder(tmp_path, loader=os.path.getsize, extensions=(".png",),
                                       allow_empty=True)
    assert ours.samples == theirs.samples and [ours[i] for i in range(len(ours))] == \
        [theirs[i] for i in range(len(theirs))]
    valid = lambda path: path.endswith(".txt")  # noqa: E731
    assert datasets.make_dataset(str(tmp_path), is_valid_file=valid, allow_empty=True) == \
        tv_datasets.folder.make_dataset(str(tmp_path), is_valid_file=valid, allow_empty=True)
    assert datasets.find_classes(tmp_path) == tv_datasets.folder.find_classes(tmp_path)
    assert datasets.has_file_allowed_extension("A.JPEG", ".jpeg")
    assert datasets.IMG_EXTENSIONS == tv_datasets.folder.IMG_EXTENSIONS


def test_folder_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="Couldn't find any class folder"):
        datasets.ImageFolder(tmp_path)
    _write_folder(tmp_path)
    with pytest.raises(FileNotFoundError, match="no valid file for the classes bird, cat. "
                                                "Supported extensions are: .jpg"):
        datasets.DatasetFolder(tmp_path, loader=str, extensions=(".jpg",))
    with pytest.raises(ValueError, match="Both extensions and is_valid_file"):
        datasets.DatasetFolder(tmp_path, loader=str)
    with pytest.raises(ValueError, match="Both extensions and is_valid_file"):
        datasets.make_dataset(tmp_path, extensions=".png", is_valid_file=bool)
    with pytest.raises(ValueError, match="at least one entry"):
        datasets.make_dataset(tmp_path, {}, extensions=".png")
