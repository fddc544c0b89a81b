"""A character-level LSTM language model trained on a little Shakespeare.

Run ``python -m ember.examples.char_lstm`` to train for a few epochs: it prints the
mean loss of each epoch and, at the end, text sampled from the model.  The text is
an excerpt of Shakespeare's Coriolanus (public domain) shipped with ember.
"""
import argparse
import pathlib

import numpy as np

import ember
from ember import nn

DATA = pathlib.Path(__file__).with_name("data") / "tinyshakespeare.txt"


class CharLSTM(nn.Module):
    """Embedding, LSTM and a linear read-out of the next character's logits."""

    def __init__(self, vocab, hidden, layers=1):
        super().__init__()
        self.embed = nn.Embedding(vocab, hidden)
        self.lstm = nn.LSTM(hidden, hidden, layers, batch_first=True)
        self.head = nn.Linear(hidden, vocab)

    def forward(self, codes, state=None):
        out, state = self.lstm(self.embed(codes), state)
        return self.head(out), state


def batches(codes, seq_len, batch, rng):
    """Random (input, target) windows of ``seq_len`` characters, ``batch`` at a time."""
    starts = rng.permutation(len(codes) - seq_len - 1)
    for k in range(0, len(starts) - batch + 1, batch):
        idx = starts[k:k + batch, None] + np.arange(seq_len + 1)
        window = codes[idx]
        yield ember.from_numpy(window[:, :-1].copy()), ember.from_numpy(window[:, 1:].copy())


def sample(model, chars, start, length, rng):
    """Text generated one character at a time from ``start``."""
    index = {c: i for i, c in enumerate(chars)}
    codes = [index[c] for c in start]
    out = list(start)
    state = None
    with ember.no_grad():
        x = ember.tensor([codes], dtype=ember.int64)
        for _ in range(length):
            logits, state = model(x, state)
            probs = np.asarray(ember.softmax(logits[0, -1].to(ember.float64), 0))
            code = int(rng.choice(len(chars), p=probs / probs.sum()))
            out.append(chars[code])
            x = ember.tensor([[code]], dtype=ember.int64)
    return "".join(out)


def main(argv=None):
    """Train and sample; returns the mean loss of each epoch."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--steps", type=int, default=0,
                        help="stop each epoch after this many batches (0: all)")
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--seq-len", type=int, default=64)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--sample", type=int, default=200, help="characters to sample")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    text = DATA.read_text(encoding="utf-8")
    chars = sorted(set(text))
    lookup = np.zeros(max(map(ord, chars)) + 1, dtype=np.int64)
    lookup[[ord(c) for c in chars]] = np.arange(len(chars))
    codes = lookup[np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)]
    ember.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    model = CharLSTM(len(chars), args.hidden)
    optimizer = ember.optim.Adam(model.parameters(), lr=args.lr)
    loss_fn = nn.CrossEntropyLoss()
    losses = []
    for epoch in range(args.epochs):
        total, count = 0.0, 0
        for step, (x, y) in enumerate(batches(codes, args.seq_len, args.batch, rng)):
            if args.steps and step >= args.steps:
                break
            logits, _ = model(x)
            loss = loss_fn(logits.reshape(-1, len(chars)), y.reshape(-1))
            optimizer.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 5.0)
            optimizer.step()
            total += loss.item()
            count += 1
        losses.append(total / max(count, 1))
        print(f"epoch {epoch + 1}: loss {losses[-1]:.3f}", flush=True)
    model.eval()
    print(sample(model, chars, "First Citizen:\n", args.sample, rng))
    return losses


if __name__ == "__main__":
    main()
