"""PyTorch's low-level recurrent functions (ember.lstm_cell, ember.lstm, ...) against
torch on the same weights: outputs, final states and every gradient, both overloads of
the layer functions (padded and packed), and the argument errors."""
import warnings

import numpy as np
import pytest
import torch

import ember
from ember.autograd import gradcheck

rng = np.random.default_rng(7)
TOL = {np.float32: dict(rtol=1e-4, atol=1e-5), np.float64: dict(rtol=1e-9, atol=1e-11)}
GATES = {"lstm": 4, "gru": 3, "rnn_tanh": 1, "rnn_relu": 1}


def _leaves(arrays, dtype):
    t = [torch.tensor(a.astype(dtype), requires_grad=True) for a in arrays]
    e = [ember.tensor(a.astype(dtype), requires_grad=True) for a in arrays]
    return t, e


def _check(t_outs, e_outs, t_leaves, e_leaves, dtype):
    tol = TOL[dtype]
    for t, e in zip(t_outs, e_outs):
        assert tuple(e.shape) == tuple(t.shape)
        np.testing.assert_allclose(np.asarray(e.detach()), t.detach().numpy(), **tol)
    grads = [rng.standard_normal(tuple(t.shape)).astype(dtype) for t in t_outs]
    sum((t * torch.tensor(g)).sum() for t, g in zip(t_outs, grads)).backward()
    sum((e * ember.tensor(g)).sum() for e, g in zip(e_outs, grads)).backward()
    for t, e in zip(t_leaves, e_leaves):
        np.testing.assert_allclose(np.asarray(e.grad), t.grad.numpy(), **tol)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", ["lstm_cell", "gru_cell", "rnn_tanh_cell", "rnn_relu_cell"])
@pytest.mark.parametrize("bias", ["both", "none", "ih"])
def test_cells_match_torch(name, bias, dtype):
    gates = GATES[name[:-5]]
    batch, inp, hid = 3, 4, 5
    arrays = [rng.standard_normal(s) for s in
              [(batch, inp), (batch, hid), (batch, hid), (gates * hid, inp), (gates * hid, hid),
               (gates * hid,), (gates * hid,)]]
    t, e = _leaves(arrays, dtype)

    def run(lib, x, h, c, w_ih, w_hh, b_ih, b_hh):
        biases = {"both": (b_ih, b_hh), "none": (None, None), "ih": (b_ih, None)}[bias]
        hx = (h, c) if name == "lstm_cell" else h
        out = getattr(lib, name)(x, hx, w_ih, w_hh, *biases)
        return out if isinstance(out, tuple) else (out,)

    used = {"both": 7, "none": 5, "ih": 6}[bias]
    if name != "lstm_cell":
        t, e = t[:2] + t[3:], e[:2] + e[3:]
        used -= 1
        _check(run(torch, t[0], t[1], None, *t[2:]), run(ember, e[0], e[1], None, *e[2:]),
               t[:used], e[:used], dtype)
    else:
        _check(run(torch, *t), run(ember, *e), t[:used], e[:used], dtype)


def test_cells_non_contiguous_and_gradcheck():
    x = rng.standard_normal((4, 3))
    w_ih = rng.standard_normal((5, 16))      # used as the view .t()[:, :3]
    w_hh = rng.standard_normal((4, 16))      # used as the view .t()
    h, c = rng.standard_normal((4, 4)), rng.standard_normal((4, 4))
    t, e = _leaves([x, w_ih, w_hh, h, c], np.float64)
    _check(torch.lstm_cell(t[0], (t[3].t(), t[4]), t[1].t()[:, :3], t[2].t()),
           ember.lstm_cell(e[0], (e[3].t(), e[4]), e[1].t()[:, :3], e[2].t()),
           t, e, np.float64)
    inputs = [ember.tensor(rng.standard_normal(s), requires_grad=True)
              for s in [(2, 3), (2, 4), (12, 3), (12, 4), (12,), (12,)]]
    assert gradcheck(lambda *a: ember.gru_cell(*a), inputs)


def _params(gates, inp, hid, layers, directions, bias, proj=0):
    shapes = []
    real = proj or hid
    for layer in range(layers):
        for _ in range(directions):
            width = inp if layer == 0 else real * directions
            shapes += [(gates * hid, width), (gates * hid, real)]
            if bias:
                shapes += [(gates * hid,), (gates * hid,)]
            if proj:
                shapes.append((proj, hid))
    return [rng.standard_normal(s) * 0.5 for s in shapes]


LAYER_CASES = [dict(layers=1, directions=1, bias=True, batch_first=False),
               dict(layers=2, directions=2, bias=True, batch_first=False),
               dict(layers=2, directions=1, bias=False, batch_first=True),
               dict(layers=1, directions=2, bias=False, batch_first=True)]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", ["lstm", "gru", "rnn_tanh", "rnn_relu"])
@pytest.mark.parametrize("case", LAYER_CASES)
def test_layers_match_torch(name, case, dtype):
    inp, hid, steps, batch = 3, 4, 5, 2
    layers, directions = case["layers"], case["directions"]
    x_shape = (batch, steps, inp) if case["batch_first"] else (steps, batch, inp)
    states = [(layers * directions, batch, hid)] * (2 if name == "lstm" else 1)
    arrays = ([rng.standard_normal(x_shape)] + [rng.standard_normal(s) for s in states]
              + _params(GATES[name], inp, hid, layers, directions, case["bias"]))
    t, e = _leaves(arrays, dtype)
    k = len(states) + 1

    def run(lib, leaves):
        hx = tuple(leaves[1:k]) if name == "lstm" else leaves[1]
        return getattr(lib, name)(leaves[0], hx, leaves[k:], case["bias"], layers, 0.0, False,
                                  directions == 2, case["batch_first"])

    _check(run(torch, t), run(ember, e), t, e, dtype)


@pytest.mark.parametrize("name", ["lstm", "gru", "rnn_tanh", "rnn_relu"])
def test_packed_form_matches_torch(name):
    inp, hid, layers, directions = 3, 4, 2, 2
    batch_sizes = [3, 3, 2, 1]
    states = [(layers * directions, 3, hid)] * (2 if name == "lstm" else 1)
    arrays = ([rng.standard_normal((sum(batch_sizes), inp))]
              + [rng.standard_normal(s) for s in states]
              + _params(GATES[name], inp, hid, layers, directions, True))
    t, e = _leaves(arrays, np.float64)
    k = len(states) + 1

    def run(lib, leaves):
        hx = tuple(leaves[1:k]) if name == "lstm" else leaves[1]
        return getattr(lib, name)(leaves[0], lib.tensor(batch_sizes), hx, leaves[k:], True,
                                  layers, 0.0, False, True)

    _check(run(torch, t), run(ember, e), t, e, np.float64)
    # keywords pick the overload too
    hx = tuple(e[1:k]) if name == "lstm" else e[1]
    out = getattr(ember, name)(data=e[0], batch_sizes=ember.tensor(batch_sizes), hx=hx,
                               params=e[k:], has_biases=True, num_layers=layers, dropout=0.0,
                               train=False, bidirectional=True)
    np.testing.assert_allclose(np.asarray(out[0].detach()),
                               run(torch, t)[0].detach().numpy(), rtol=1e-9, atol=1e-11)


def test_lstm_projections_match_torch():
    inp, hid, proj, layers = 3, 5, 2, 2
    arrays = ([rng.standard_normal((4, 2, inp)), rng.standard_normal((layers * 2, 2, proj)),
               rng.standard_normal((layers * 2, 2, hid))]
              + _params(4, inp, hid, layers, 2, True, proj))
    t, e = _leaves(arrays, np.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch: "LSTM with projections is not supported with oneDNN"
        t_out = torch.lstm(t[0], (t[1], t[2]), t[3:], True, layers, 0.0, False, True, False)
    _check(t_out, ember.lstm(e[0], (e[1], e[2]), e[3:], True, layers, 0.0, False, True, False),
           t, e, np.float64)


def test_layer_forms_equal_the_modules():
    lstm = ember.nn.LSTM(3, 4, num_layers=2, bidirectional=True, batch_first=True)
    x = ember.randn(2, 5, 3)
    h0, c0 = ember.randn(4, 2, 4), ember.randn(4, 2, 4)
    out, (h, c) = lstm(x, (h0, c0))
    f_out, f_h, f_c = ember.lstm(x, (h0, c0), list(lstm.parameters()), True, 2, 0.0, False,
                                 True, True)
    for a, b in ((out, f_out), (h, f_h), (c, f_c)):
        np.testing.assert_array_equal(np.asarray(a.detach()), np.asarray(b.detach()))
    cell = ember.nn.GRUCell(3, 4)
    x, hx = ember.randn(5, 3), ember.randn(5, 4)
    np.testing.assert_array_equal(
        np.asarray(cell(x, hx).detach()),
        np.asarray(ember.gru_cell(x, hx, *cell.parameters()).detach()))


def test_dropout_follows_train():
    arrays = ([rng.standard_normal((4, 2, 3)), rng.standard_normal((2, 2, 4))]
              + _params(1, 3, 4, 2, 1, True))
    t, e = _leaves(arrays, np.float64)
    plain = ember.rnn_tanh(e[0], e[1], e[2:], True, 2, 0.0, False, False, False)
    off = ember.rnn_tanh(e[0], e[1], e[2:], True, 2, 0.5, False, False, False)
    np.testing.assert_array_equal(np.asarray(plain[0].detach()), np.asarray(off[0].detach()))
    # p = 1 zeroes the first layer's outputs: deterministic, so torch can be compared
    _check(torch.rnn_tanh(t[0], t[1], t[2:], True, 2, 1.0, True, False, False),
           ember.rnn_tanh(e[0], e[1], e[2:], True, 2, 1.0, True, False, False),
           t, e, np.float64)


def test_empty_batch():
    params = [ember.tensor(p) for p in _params(3, 3, 4, 1, 1, True)]
    out, h = ember.gru(ember.randn(5, 0, 3, dtype=ember.float64),
                       ember.zeros(1, 0, 4, dtype=ember.float64), params, True, 1, 0.0, False,
                       False, False)
    assert out.shape == (5, 0, 4) and h.shape == (1, 0, 4)


def test_errors():
    x, h = ember.randn(3, 4), ember.randn(3, 5)
    w_ih, w_hh = ember.randn(20, 4), ember.randn(20, 5)
    with pytest.raises(RuntimeError, match="lstm_cell expects two hidden states"):
        ember.lstm_cell(x, (h,), w_ih, w_hh)
    with pytest.raises(RuntimeError, match="input has inconsistent input_size: got 4 expected 3"):
        ember.lstm_cell(x, (h, h), w_ih[:, :3], w_hh)
    with pytest.raises(RuntimeError, match="Input batch size 3 doesn't match hidden0 batch size 2"):
        ember.lstm_cell(x, (h[:2], h), w_ih, w_hh)
    with pytest.raises(RuntimeError, match="weight_ih first dim must be 3 \\* hidden_size = 15"):
        ember.gru_cell(x, h, w_ih, w_hh[:15])
    with pytest.raises(RuntimeError, match="expected a 2-D input"):
        ember.rnn_tanh_cell(x[0], h[0], w_ih[:5], w_hh[:5])
    with pytest.raises(TypeError, match="'hx' must be Tensor"):
        ember.rnn_tanh_cell(x, None, w_ih[:5], w_hh[:5])
    seq = ember.randn(6, 3, 4)
    params = [ember.randn(20, 4), ember.randn(20, 5), ember.randn(20), ember.randn(20)]
    zeros = ember.zeros(1, 3, 5)
    with pytest.raises(RuntimeError, match="lstm expects two hidden states"):
        ember.lstm(seq, (zeros,), params, True, 1, 0.0, False, False, False)
    with pytest.raises(RuntimeError, match="expected 4 parameters per layer"):
        ember.lstm(seq, (zeros, zeros), params[:2], True, 1, 0.0, False, False, False)
    with pytest.raises(RuntimeError, match="expected hx of shape"):
        ember.lstm(seq, (zeros, zeros), params, True, 1, 0.0, False, False, True)
    with pytest.raises(RuntimeError, match="expected a 3-D input"):
        ember.gru(seq[0], zeros[0], [p[:15] for p in params], True, 1, 0.0, False, False, False)
    with pytest.raises(RuntimeError, match="sequence length to be larger than 0"):
        ember.rnn_relu(seq[:0], zeros, [p[:5] for p in params], True, 1, 0.0, False, False,
                       False)
    with pytest.raises(TypeError):
        ember.gru(seq, zeros, [p[:15] for p in params], True, 1, 0.0, False, False)
