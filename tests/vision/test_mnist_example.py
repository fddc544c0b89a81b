"""The MNIST example's data loading and a short training run, on synthetic IDX files."""
import numpy as np

import ember
from ember.examples import mnist
from ember.utils.data import DataLoader
from vision_files import read_png, write_mnist


def test_load_datasets_normalizes_and_augments(tmp_path):
    arrays = write_mnist(tmp_path, n_train=8, n_test=4, gz=True)
    train, test = mnist.load_datasets(tmp_path)
    image, label = test[1]
    expected = (arrays["t10k"][0][1] / 255 - mnist.MNIST_MEAN) / mnist.MNIST_STD
    np.testing.assert_allclose(image.numpy()[0], expected, rtol=1e-5, atol=1e-6)
    assert label == arrays["t10k"][1][1]
    ember.manual_seed(0)
    augmented = [train[0][0] for _ in range(4)]
    assert all(a.shape == (1, 28, 28) and a.dtype == ember.float32 for a in augmented)
    assert not all(np.array_equal(a.numpy(), augmented[0].numpy()) for a in augmented[1:])
    images, labels = next(iter(DataLoader(train, batch_size=8)))
    assert images.shape == (8, 1, 28, 28) and labels.dtype == ember.int64
    fashion_root = tmp_path / "fashion"
    write_mnist(fashion_root, folder="FashionMNIST", n_train=2, n_test=2)
    assert type(mnist.load_datasets(fashion_root, fashion=True)[0]).__name__ == "FashionMNIST"


def test_main_trains_and_writes_grid(tmp_path, capsys):
    write_mnist(tmp_path, n_train=24, n_test=8)
    grid = tmp_path / "grid.png"
    history = mnist.main([str(tmp_path), "--epochs", "1", "--batch-size", "12",
                          "--workers", "0", "--grid", str(grid)])
    out = capsys.readouterr().out
    assert "MNIST: 24 training and 8 test images" in out and out.count("epoch ") == 1
    assert len(history) == 1 and all(np.isfinite(h).all() for h in history)
    assert read_png(grid.read_bytes()).shape == (30 + 2, 8 * 30 + 2, 3)
