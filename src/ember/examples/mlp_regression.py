"""Fit an MLP to Friedman's nonlinear regression function and report its test error.

Run it with ``python -m ember.examples.mlp_regression``.  The data are drawn afresh
(NumPy, no download): ten features uniform on [0, 1], of which the first five matter,

    y = 10 sin(pi x1 x2) + 20 (x3 - 0.5)^2 + 10 x4 + 5 x5 + noise,

the "Friedman #1" benchmark.  The MLP (10 -> 64 -> 64 -> 1, SiLU) trains with AdamW,
a one-cycle learning-rate schedule and mean squared error; each epoch prints the
training and test RMSE and the test R^2 (1 is perfect, 0 is predicting the mean).
"""
import argparse
import time

import numpy as np

import ember
from ember import nn
from ember.utils.data import DataLoader, TensorDataset


def friedman1(samples, noise, rng):
    """``samples`` draws of Friedman #1: float32 features ``(n, 10)`` and targets ``(n, 1)``."""
    x = rng.uniform(size=(samples, 10)).astype(np.float32)
    y = (10 * np.sin(np.pi * x[:, 0] * x[:, 1]) + 20 * (x[:, 2] - 0.5) ** 2
         + 10 * x[:, 3] + 5 * x[:, 4] + noise * rng.standard_normal(samples))
    return ember.from_numpy(x), ember.from_numpy(y.astype(np.float32)[:, None])


def build_model(hidden=64):
    return nn.Sequential(nn.Linear(10, hidden), nn.SiLU(), nn.Linear(hidden, hidden), nn.SiLU(),
                         nn.Linear(hidden, 1))


def rmse_and_r2(model, x, y):
    """Root mean squared error and coefficient of determination of ``model`` on (x, y)."""
    model.eval()
    with ember.no_grad():
        error = ((model(x) - y) ** 2).mean().item()
    return error ** 0.5, 1 - error / y.var(correction=0).item()


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m ember.examples.mlp_regression",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--train-size", type=int, default=4000)
    parser.add_argument("--test-size", type=int, default=1000)
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=1e-2, help="peak learning rate")
    parser.add_argument("--noise", type=float, default=1.0, help="std of the target noise")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    ember.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    x_train, y_train = friedman1(args.train_size, args.noise, rng)
    x_test, y_test = friedman1(args.test_size, args.noise, rng)
    # standardise inputs and targets with the training set's statistics
    x_mean, x_std = x_train.mean(0), x_train.std(0)
    y_mean, y_std = y_train.mean(), y_train.std()
    x_train, x_test = (x_train - x_mean) / x_std, (x_test - x_mean) / x_std
    y_train, y_test = (y_train - y_mean) / y_std, (y_test - y_mean) / y_std

    loader = DataLoader(TensorDataset(x_train, y_train), batch_size=args.batch_size,
                        shuffle=True, generator=ember.Generator().manual_seed(args.seed))
    model = build_model(args.hidden)
    optimizer = ember.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=1e-4)
    scheduler = ember.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=args.lr, epochs=args.epochs, steps_per_epoch=len(loader))
    loss_fn = nn.MSELoss()
    scale = y_std.item()  # RMSE is printed in the target's own units
    print(f"Friedman #1: {args.train_size} training and {args.test_size} test samples, "
          f"noise std {args.noise}; MLP 10-{args.hidden}-{args.hidden}-1")
    history = []
    start = time.perf_counter()
    for epoch in range(1, args.epochs + 1):
        model.train()
        for x, y in loader:
            optimizer.zero_grad()
            loss_fn(model(x), y).backward()
            optimizer.step()
            scheduler.step()
        train_rmse, _ = rmse_and_r2(model, x_train, y_train)
        test_rmse, test_r2 = rmse_and_r2(model, x_test, y_test)
        history.append({"train_rmse": train_rmse * scale, "test_rmse": test_rmse * scale,
                        "test_r2": test_r2})
        print(f"epoch {epoch:3d}/{args.epochs}  train RMSE {train_rmse * scale:.3f}  "
              f"test RMSE {test_rmse * scale:.3f}  test R^2 {test_r2:.4f}", flush=True)
    print(f"trained in {time.perf_counter() - start:.1f} s; the noise alone gives an RMSE of "
          f"{args.noise:.3f}")
    return history


if __name__ == "__main__":
    main()
