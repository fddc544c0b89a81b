"""Train a variational autoencoder on scikit-learn's bundled 8x8 digits (no download).

Run it with ``python -m ember.examples.vae`` (``--plot`` writes reconstructions and
new samples to a PNG; needs matplotlib).  The encoder maps an image to the mean and
log-variance of a Gaussian over a small latent space; a latent is drawn with the
reparameterisation ``z = mu + sigma * eps`` (so gradients flow through the draw), and
the decoder maps it back to per-pixel Bernoulli logits.  Training maximises the
evidence lower bound: each epoch prints the negative ELBO per image, split into the
reconstruction term and the KL divergence from the standard normal prior, on the
training and test images.
"""
import argparse
import time

import numpy as np

import ember
from ember import nn
from ember.nn import functional as F
from ember.utils.data import DataLoader, TensorDataset


class VAE(nn.Module):
    """MLP encoder 64 -> hidden -> (mu, log_var) of size ``latent``; MLP decoder back."""

    def __init__(self, pixels=64, hidden=128, latent=4):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(pixels, hidden), nn.ReLU())
        self.mu = nn.Linear(hidden, latent)
        self.log_var = nn.Linear(hidden, latent)
        self.decoder = nn.Sequential(nn.Linear(latent, hidden), nn.ReLU(),
                                     nn.Linear(hidden, pixels))

    def encode(self, x):
        h = self.encoder(x)
        return self.mu(h), self.log_var(h)

    def forward(self, x):
        mu, log_var = self.encode(x)
        z = mu + ember.exp(0.5 * log_var) * ember.randn_like(mu)  # reparameterisation
        return self.decoder(z), mu, log_var


def negative_elbo(logits, x, mu, log_var):
    """Reconstruction (Bernoulli cross-entropy) and KL(q(z|x) || N(0, I)), summed per image
    and averaged over the batch."""
    batch = x.shape[0]
    reconstruction = F.binary_cross_entropy_with_logits(logits, x, reduction="sum") / batch
    kl = -0.5 * (1 + log_var - mu ** 2 - log_var.exp()).sum() / batch
    return reconstruction, kl


def load_images(seed=0):
    """The digits flattened to ``(N, 64)`` float32 in [0, 1], shuffled and split 80/20."""
    from sklearn.datasets import load_digits

    images = (load_digits().data / 16.0).astype(np.float32)
    order = np.random.default_rng(seed).permutation(len(images))
    split = int(0.8 * len(images))
    return ember.from_numpy(images[order[:split]]), ember.from_numpy(images[order[split:]])


def evaluate(model, x):
    """Reconstruction and KL terms of the negative ELBO per image on ``x``."""
    model.eval()
    with ember.no_grad():
        logits, mu, log_var = model(x)
        reconstruction, kl = negative_elbo(logits, x, mu, log_var)
    return reconstruction.item(), kl.item()


def plot(model, x, path, count=12):
    """Write ``path``: test digits, their reconstructions, and decoded prior samples."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    model.eval()
    with ember.no_grad():
        mu, _ = model.encode(x[:count])
        rows = [x[:count], ember.sigmoid(model.decoder(mu)),
                ember.sigmoid(model.decoder(ember.randn(count, mu.shape[1])))]
    figure, grid = plt.subplots(3, count, figsize=(count, 3.4), layout="constrained")
    for row, (images, title) in enumerate(zip(rows, ("test digits", "reconstructions",
                                                      "samples from the prior"))):
        grid[row, 0].set_title(title, loc="left", fontsize=9)
        for column in range(count):
            grid[row, column].imshow(images[column].reshape(8, 8).numpy(), cmap="gray_r",
                                     vmin=0, vmax=1)
            grid[row, column].axis("off")
    figure.savefig(path, dpi=100)
    plt.close(figure)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m ember.examples.vae",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--latent", type=int, default=4)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--plot", nargs="?", const="vae_digits.png", default=None,
                        metavar="PNG", help="write reconstructions and samples "
                        "(default file: %(const)s; needs matplotlib)")
    args = parser.parse_args(argv)

    ember.manual_seed(args.seed)
    x_train, x_test = load_images(args.seed)
    loader = DataLoader(TensorDataset(x_train), batch_size=args.batch_size, shuffle=True,
                        generator=ember.Generator().manual_seed(args.seed))
    model = VAE(x_train.shape[1], args.hidden, args.latent)
    optimizer = ember.optim.Adam(model.parameters(), lr=args.lr)
    print(f"VAE on the 8x8 digits: {len(x_train)} training and {len(x_test)} test images, "
          f"latent size {args.latent}; negative ELBO per image (nats) = reconstruction + KL")
    history = []
    start = time.perf_counter()
    for epoch in range(1, args.epochs + 1):
        model.train()
        for (x,) in loader:
            optimizer.zero_grad()
            logits, mu, log_var = model(x)
            reconstruction, kl = negative_elbo(logits, x, mu, log_var)
            (reconstruction + kl).backward()
            optimizer.step()
        train, test = evaluate(model, x_train), evaluate(model, x_test)
        history.append({"train": sum(train), "test": sum(test), "test_kl": test[1]})
        print(f"epoch {epoch:3d}/{args.epochs}  train {sum(train):7.2f}  |  test "
              f"{sum(test):7.2f} = {test[0]:6.2f} + {test[1]:5.2f}", flush=True)
    print(f"trained in {time.perf_counter() - start:.1f} s")
    if args.plot:
        plot(model, x_test, args.plot)
        print(f"wrote {args.plot}")
    return history


if __name__ == "__main__":
    main()
