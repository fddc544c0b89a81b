"""Whole programs written with raw ops: gradients equal PyTorch's (float64, tight
tolerance) and pass gradcheck."""
import numpy as np
import pytest

from grad_oracle import assert_grads_match_torch, check_gradients

rng = np.random.default_rng(42)


def randn(*shape, scale=1.0):
    return rng.standard_normal(shape) * scale


def mlp(lib, x, w1, b1, w2, b2, w3, b3):
    h = (x @ w1 + b1).relu()
    h = (h @ w2 + b2).tanh()
    return (h @ w3 + b3).sigmoid().mean()


def softmax_cross_entropy(lib, logits, target):
    log_p = logits.log_softmax(1)
    picked = log_p.gather(1, target.unsqueeze(1)).squeeze(1)
    return -picked.mean()


def softmax_cross_entropy_by_hand(lib, logits, onehot):
    shifted = logits - logits.amax(1, keepdim=True)
    log_p = shifted - shifted.exp().sum(1, keepdim=True).log()
    return -(log_p * onehot).sum() / logits.shape[0]


def rnn_two_layers(lib, xs, h0, wx1, wh1, b1, wx2, wh2, b2, wo):
    h1, h2 = h0[0], h0[1]
    outputs = []
    for t in range(xs.shape[0]):
        h1 = (xs[t] @ wx1 + h1 @ wh1 + b1).tanh()
        h2 = (h1 @ wx2 + h2 @ wh2 + b2).tanh()
        outputs.append(h2 @ wo)
    out = lib.stack(outputs)
    return (out * out).mean() + h2.sum()


def attention(lib, q, k, v):
    scores = q @ k.transpose(-2, -1) / q.shape[-1] ** 0.5
    weights = scores.softmax(-1)
    return (weights @ v).norm()


def layer_norm_by_hand(lib, x, gamma, beta):
    mean = x.mean(-1, keepdim=True)
    var = ((x - mean) ** 2).mean(-1, keepdim=True)
    y = (x - mean) / (var + 1e-5).sqrt() * gamma + beta
    return (y * y.exp()).sum()


def buffer_filled_in_place(lib, x, w):
    out = lib.zeros(4, 3, dtype=lib.float64)
    for i in range(4):
        out[i] = (x[i] * w).sin()
    out[:, 1] *= 2
    return out.logsumexp(0).sum()


PROGRAMS = {
    "mlp": (mlp, lambda: [randn(5, 4), randn(4, 8, scale=0.5), randn(8), randn(8, 6, scale=0.5),
                          randn(6), randn(6, 1), randn(1)]),
    "softmax_cross_entropy": (softmax_cross_entropy,
                              lambda: [randn(6, 5), rng.integers(0, 5, size=6)]),
    "softmax_cross_entropy_by_hand": (softmax_cross_entropy_by_hand,
                                      lambda: [randn(6, 5), np.eye(5)[rng.integers(0, 5, 6)]]),
    "rnn_two_layers": (rnn_two_layers, lambda: [
        randn(5, 2, 3), randn(2, 2, 4, scale=0.1), randn(3, 4, scale=0.5),
        randn(4, 4, scale=0.5), randn(4), randn(4, 4, scale=0.5), randn(4, 4, scale=0.5),
        randn(4), randn(4, 2)]),
    "attention": (attention, lambda: [randn(2, 3, 4), randn(2, 5, 4), randn(2, 5, 4)]),
    "layer_norm_by_hand": (layer_norm_by_hand, lambda: [randn(3, 6), randn(6), randn(6)]),
    "buffer_filled_in_place": (buffer_filled_in_place, lambda: [randn(4, 3), randn(3)]),
}


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_program_gradients_match_torch(name):
    fn, make = PROGRAMS[name]
    assert_grads_match_torch(fn, *make(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", ["mlp", "softmax_cross_entropy", "attention",
                                  "layer_norm_by_hand", "buffer_filled_in_place"])
def test_program_gradcheck(name):
    fn, make = PROGRAMS[name]
    arrays = make()
    check_gradients(fn, *arrays, gradgrad=name in ("attention", "layer_norm_by_hand"))
