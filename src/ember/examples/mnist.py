"""Train the digits CNN on MNIST (or Fashion-MNIST) read from local IDX files.

Run it with::

    python -m ember.examples.mnist DATA_DIR            # DATA_DIR/MNIST/raw/*-ubyte[.gz]
    python -m ember.examples.mnist DATA_DIR --fashion  # DATA_DIR/FashionMNIST/raw/...

Nothing is downloaded: put the four IDX files of the data set (as published, gzipped or
not) in ``DATA_DIR/MNIST/raw/``.  Training images are augmented with a random crop of the
2-pixel-padded image and a random rotation of up to 10 degrees; each epoch prints the loss
and accuracy on the 10,000 test images, and the script saves a grid of test images
(``--grid``, a PNG).
"""
import argparse
import time

import ember
from ember import nn
from ember.examples import digits
from ember.utils.data import DataLoader
from ember.vision import datasets, transforms
from ember.vision.utils import save_image

# Mean and standard deviation of MNIST's training pixels, scaled to [0, 1].
MNIST_MEAN, MNIST_STD = 0.1307, 0.3081


def load_datasets(root, fashion=False, augment=True):
    """``(train, test)`` data sets of ``(1, 28, 28)`` normalized float images and labels."""
    dataset = datasets.FashionMNIST if fashion else datasets.MNIST
    to_input = [transforms.ToTensor(), transforms.Normalize((MNIST_MEAN,), (MNIST_STD,))]
    augmentation = [transforms.RandomCrop(28, padding=2),
                    transforms.RandomRotation(10)] if augment else []
    train = dataset(root, train=True, transform=transforms.Compose(augmentation + to_input))
    test = dataset(root, train=False, transform=transforms.Compose(to_input))
    return train, test


def build_model():
    """The digits CNN (:func:`ember.examples.digits.build_model`) for 28x28 inputs."""
    return digits.build_model(28)


def run_epoch(model, loader, loss_fn, optimizer=None):
    """One pass over ``loader`` (training when ``optimizer`` is given); returns the mean
    loss and the accuracy."""
    model.train(optimizer is not None)
    total_loss, correct, seen = 0.0, 0, 0
    with ember.set_grad_enabled(optimizer is not None):
        for images, labels in loader:
            logits = model(images)
            loss = loss_fn(logits, labels)
            if optimizer is not None:
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
            total_loss += loss.item() * len(labels)
            correct += (logits.argmax(1) == labels).sum().item()
            seen += len(labels)
    return total_loss / seen, correct / seen


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m ember.examples.mnist",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("root", help="folder holding MNIST/raw (or FashionMNIST/raw)")
    parser.add_argument("--fashion", action="store_true", help="Fashion-MNIST instead")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--lr", type=float, default=1e-3, help="Adam's learning rate")
    parser.add_argument("--workers", type=int, default=2,
                        help="DataLoader worker processes (0: load in this process)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--grid", default="mnist_test_grid.png",
                        help="PNG of the first 64 test images (default: %(default)s)")
    args = parser.parse_args(argv)

    ember.manual_seed(args.seed)
    train, test = load_datasets(args.root, fashion=args.fashion)
    generator = ember.Generator().manual_seed(args.seed)
    train_loader = DataLoader(train, batch_size=args.batch_size, shuffle=True,
                              generator=generator, num_workers=args.workers)
    test_loader = DataLoader(test, batch_size=1000, num_workers=args.workers)
    model = build_model()
    optimizer = ember.optim.Adam(model.parameters(), lr=args.lr)
    loss_fn = nn.CrossEntropyLoss()
    print(f"{type(train).__name__}: {len(train)} training and {len(test)} test images, "
          f"{sum(p.numel() for p in model.parameters()):,} parameters")
    history = []
    for epoch in range(1, args.epochs + 1):
        start = time.perf_counter()
        train_loss, train_accuracy = run_epoch(model, train_loader, loss_fn, optimizer)
        test_loss, test_accuracy = run_epoch(model, test_loader, loss_fn)
        history.append((train_loss, train_accuracy, test_loss, test_accuracy))
        print(f"epoch {epoch}/{args.epochs}  train loss {train_loss:.4f} "
              f"acc {train_accuracy:6.2%}  |  test loss {test_loss:.4f} "
              f"acc {test_accuracy:6.2%}  |  {time.perf_counter() - start:.1f} s", flush=True)
    save_image(test.data[:64].unsqueeze(1).float() / 255, args.grid, nrow=8)
    print(f"wrote {args.grid}")
    return history


if __name__ == "__main__":
    main()
