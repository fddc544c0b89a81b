"""Train a small CNN on scikit-learn's bundled 8x8 handwritten digits (no download).

Run it with::

    python -m ember.examples.digits            # train, save, reload, report
    python -m ember.examples.digits --plot     # also write PNGs (needs matplotlib)

It prints the loss, accuracy and time of each epoch, saves a checkpoint (model and
optimizer state, an ``ember.save`` safetensors file), reloads it into a fresh model and
checks that the reloaded model scores the same.  The data set is 1,797 grey 8x8 images of
the digits 0-9 (values 0-16); a stratified fifth of it is held out for testing.
"""
import argparse
import os
import sys
import time

import numpy as np

import ember
from ember import nn
from ember.utils.data import DataLoader, TensorDataset


def load_data(test_fraction=0.2, seed=0):
    """The digits as ``(N, 1, 8, 8)`` float32 tensors scaled to [0, 1] and int64 labels,
    split into a stratified train and test set: ``(x_train, y_train, x_test, y_test)``."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    images = (digits.images / 16.0).astype(np.float32)[:, None, :, :]
    x_train, x_test, y_train, y_test = train_test_split(
        images, digits.target.astype(np.int64), test_size=test_fraction, random_state=seed,
        stratify=digits.target)
    return tuple(ember.from_numpy(np.ascontiguousarray(a))
                 for a in (x_train, y_train, x_test, y_test))


def build_model(side=8):
    """conv 1->32 3x3, conv 32->64 3x3, 2x2 max-pool, dropout, linear 128, linear 10, for
    ``side`` x ``side`` images (8 for the digits; the MNIST example uses 28)."""
    return nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Dropout(0.25),
        nn.Flatten(),
        nn.Linear(64 * (side // 2) ** 2, 128), nn.ReLU(),
        nn.Dropout(0.5),
        nn.Linear(128, 10),
    )


def evaluate(model, x, y, batch_size=512):
    """Mean cross-entropy, accuracy and predicted labels of ``model`` on ``(x, y)``."""
    model.eval()
    total_loss, predictions = 0.0, []
    with ember.no_grad():
        for start in range(0, len(x), batch_size):
            logits = model(x[start:start + batch_size])
            total_loss += nn.functional.cross_entropy(
                logits, y[start:start + batch_size], reduction="sum").item()
            predictions.append(logits.argmax(1))
    predicted = ember.cat(predictions)
    accuracy = (predicted == y).float().mean().item()
    return total_loss / len(x), accuracy, predicted


def train_epoch(model, loader, optimizer, loss_fn, progress):
    """One pass over ``loader``; returns the mean training loss and accuracy, and the
    fraction of the epoch spent waiting for the loader's batches."""
    model.train()
    total_loss, correct, seen, waited = 0.0, 0, 0, 0.0
    start = time.perf_counter()
    batches = iter(progress(loader))
    while True:
        wait_start = time.perf_counter()
        batch = next(batches, None)
        waited += time.perf_counter() - wait_start
        if batch is None:
            break
        images, labels = batch
        optimizer.zero_grad()
        logits = model(images)
        loss = loss_fn(logits, labels)
        loss.backward()
        optimizer.step()
        total_loss += loss.item() * len(labels)
        correct += (logits.argmax(1) == labels).sum().item()
        seen += len(labels)
    return total_loss / seen, correct / seen, waited / (time.perf_counter() - start)


def _progress_bar(enabled, epoch, epochs):
    from tqdm import tqdm

    def wrap(loader):
        return tqdm(loader, desc=f"epoch {epoch}/{epochs}", leave=False, unit="batch",
                    disable=not enabled, file=sys.stderr)
    return wrap


def plot(history, images, labels, predicted, path):
    """Write ``path``: the loss and accuracy curves, and a grid of misclassified digits."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    wrong = np.flatnonzero(predicted.numpy() != labels.numpy())[:24]
    figure = plt.figure(figsize=(12, 4.5), layout="constrained")
    left, right = figure.subfigures(1, 2, width_ratios=[1.2, 1])
    loss_axes, accuracy_axes = left.subplots(2, 1, sharex=True)
    epochs = np.arange(1, len(history["train_loss"]) + 1)
    loss_axes.plot(epochs, history["train_loss"], label="train")
    loss_axes.plot(epochs, history["test_loss"], label="test")
    loss_axes.set_ylabel("cross-entropy")
    loss_axes.legend()
    accuracy_axes.plot(epochs, np.array(history["train_accuracy"]) * 100, label="train")
    accuracy_axes.plot(epochs, np.array(history["test_accuracy"]) * 100, label="test")
    accuracy_axes.set_ylabel("accuracy (%)")
    accuracy_axes.set_xlabel("epoch")
    accuracy_axes.legend()
    right.suptitle(f"{len(wrong)} misclassified test digits (true -> predicted)"
                   if len(wrong) else "no misclassified test digits")
    grid = right.subplots(4, 6)
    for axes, index in zip(grid.flat, list(wrong) + [None] * 24):
        axes.axis("off")
        if index is not None:
            axes.imshow(images[index, 0].numpy(), cmap="gray_r", vmin=0, vmax=1)
            axes.set_title(f"{labels[index].item()} -> {predicted[index].item()}", fontsize=9)
    figure.savefig(path, dpi=100)
    plt.close(figure)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m ember.examples.digits",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=2e-3, help="Adam's learning rate")
    parser.add_argument("--workers", type=int, default=2,
                        help="DataLoader worker processes (0: load in this process)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--checkpoint", default="digits_cnn.safetensors",
                        help="where to save the trained model (default: %(default)s)")
    parser.add_argument("--plot", nargs="?", const="digits_training.png", default=None,
                        metavar="PNG", help="write training curves and misclassified digits "
                        "(default file: %(const)s; needs matplotlib)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")
    args = parser.parse_args(argv)

    ember.manual_seed(args.seed)
    x_train, y_train, x_test, y_test = load_data(seed=args.seed)
    generator = ember.Generator().manual_seed(args.seed)
    loader = DataLoader(TensorDataset(x_train, y_train), batch_size=args.batch_size,
                        shuffle=True, generator=generator, num_workers=args.workers,
                        persistent_workers=args.workers > 0)
    model = build_model()
    optimizer = ember.optim.Adam(model.parameters(), lr=args.lr)
    scheduler = ember.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=args.epochs)
    loss_fn = nn.CrossEntropyLoss()
    print(f"digits: {len(x_train)} training and {len(x_test)} test images of 8x8, "
          f"{sum(p.numel() for p in model.parameters()):,} parameters, "
          f"{ember.get_num_threads()} threads, {args.workers} loader workers")

    history = {"train_loss": [], "train_accuracy": [], "test_loss": [], "test_accuracy": []}
    show_progress = not args.no_progress
    start = time.perf_counter()
    for epoch in range(1, args.epochs + 1):
        epoch_start = time.perf_counter()
        train_loss, train_accuracy, waiting = train_epoch(
            model, loader, optimizer, loss_fn, _progress_bar(show_progress, epoch, args.epochs))
        scheduler.step()
        test_loss, test_accuracy, _ = evaluate(model, x_test, y_test)
        for key, value in zip(history, (train_loss, train_accuracy, test_loss, test_accuracy)):
            history[key].append(value)
        print(f"epoch {epoch:2d}/{args.epochs}  train loss {train_loss:.4f}  "
              f"acc {train_accuracy:6.2%}  |  test loss {test_loss:.4f}  "
              f"acc {test_accuracy:6.2%}  |  {time.perf_counter() - epoch_start:.2f} s "
              f"({waiting:.0%} waiting for data)",
              flush=True)
    elapsed = time.perf_counter() - start
    test_loss, test_accuracy, predicted = evaluate(model, x_test, y_test)
    print(f"trained in {elapsed:.1f} s: test accuracy {test_accuracy:.2%}")

    ember.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                "epochs": args.epochs, "test_accuracy": test_accuracy}, args.checkpoint)
    checkpoint = ember.load(args.checkpoint)
    reloaded = build_model()
    reloaded.load_state_dict(checkpoint["model"])
    _, reloaded_accuracy, reloaded_predicted = evaluate(reloaded, x_test, y_test)
    same = bool((reloaded_predicted == predicted).all().item())
    print(f"saved {args.checkpoint} ({os.path.getsize(args.checkpoint) / 1024:.0f} KiB); "
          f"reloaded model: test accuracy {reloaded_accuracy:.2%} "
          f"({'same predictions' if same else 'PREDICTIONS DIFFER'})")
    if args.plot:
        plot(history, x_test, y_test, predicted, args.plot)
        print(f"wrote {args.plot}")
    return {"history": history, "test_accuracy": test_accuracy, "seconds": elapsed,
            "reloaded_accuracy": reloaded_accuracy, "same_predictions": same}


if __name__ == "__main__":
    main()
