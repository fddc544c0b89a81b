"""Train a small Transformer encoder to reverse sequences of digits.

Each example is a random sequence of digits; the target at position ``i`` is the
digit at position ``L - 1 - i``.  Token embeddings plus learned position embeddings
go through :class:`ember.nn.TransformerEncoder`; a linear layer reads a digit out
of every position.  Each epoch prints the training loss and, on held-out
sequences, the accuracy per digit and per whole sequence.

Run ``python -m ember.examples.transformer --help`` for the options.
"""
import argparse
import time

import numpy as np

import ember
from ember import nn

DIGITS = 10


class SequenceReverser(nn.Module):
    """Token and position embeddings, a Transformer encoder, a per-position classifier."""

    def __init__(self, seq_len, d_model, nhead, num_layers, dim_feedforward, dropout):
        super().__init__()
        self.tokens = nn.Embedding(DIGITS, d_model)
        self.positions = nn.Embedding(seq_len, d_model)
        layer = nn.TransformerEncoderLayer(d_model, nhead, dim_feedforward, dropout,
                                           batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, num_layers)
        self.readout = nn.Linear(d_model, DIGITS)
        self.register_buffer("position_ids", ember.arange(seq_len))

    def forward(self, digits):
        hidden = self.tokens(digits) + self.positions(self.position_ids)
        return self.readout(self.encoder(hidden))


def make_data(count, seq_len, rng):
    """``count`` random digit sequences and their reversals, as int64 tensors."""
    digits = rng.integers(0, DIGITS, size=(count, seq_len))
    return ember.from_numpy(digits), ember.from_numpy(digits[:, ::-1].copy())


def evaluate(model, inputs, targets):
    """Accuracy per digit and per whole sequence."""
    model.eval()
    with ember.no_grad():
        predicted = model(inputs).argmax(-1)
    model.train()
    correct = (predicted == targets).numpy()
    return float(correct.mean()), float(correct.all(1).mean())


def train(args):
    """Train as ``args`` say; returns one dict per epoch (loss and accuracies)."""
    ember.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    train_x, train_y = make_data(args.train_size, args.seq_len, rng)
    test_x, test_y = make_data(args.test_size, args.seq_len, rng)
    model = SequenceReverser(args.seq_len, args.d_model, args.nhead, args.layers,
                             args.dim_feedforward, args.dropout)
    optimizer = ember.optim.Adam(model.parameters(), lr=args.lr)
    loss_fn = nn.CrossEntropyLoss()
    history = []
    for epoch in range(1, args.epochs + 1):
        start = time.perf_counter()
        order = ember.from_numpy(rng.permutation(args.train_size))
        total, batches = 0.0, 0
        for first in range(0, args.train_size, args.batch_size):
            batch = order[first:first + args.batch_size]
            logits = model(train_x[batch])
            loss = loss_fn(logits.reshape(-1, DIGITS), train_y[batch].reshape(-1))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item()
            batches += 1
        digit_acc, sequence_acc = evaluate(model, test_x, test_y)
        history.append({"epoch": epoch, "loss": total / batches, "digit_accuracy": digit_acc,
                        "sequence_accuracy": sequence_acc})
        print(f"epoch {epoch:2d}  loss {total / batches:.4f}  digit accuracy {digit_acc:.3f}  "
              f"sequence accuracy {sequence_acc:.3f}  ({time.perf_counter() - start:.1f} s)",
              flush=True)
    return history


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--seq-len", type=int, default=8, help="digits per sequence")
    parser.add_argument("--train-size", type=int, default=8192, help="training sequences")
    parser.add_argument("--test-size", type=int, default=1024, help="held-out sequences")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--d-model", type=int, default=64)
    parser.add_argument("--nhead", type=int, default=4)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--dim-feedforward", type=int, default=128)
    parser.add_argument("--dropout", type=float, default=0.0)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--seed", type=int, default=0)
    return parser.parse_args(argv)


def main(argv=None):
    """Command-line entry point; returns the per-epoch history."""
    return train(parse_args(argv))


if __name__ == "__main__":
    main()
