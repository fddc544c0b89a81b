"""nn.RNN / LSTM / GRU and the cells against PyTorch: outputs, final states, and the
gradients of the input, the initial states and every parameter."""
import warnings

import numpy as np
import pytest
import torch

import ember
from ember import nn
from ember.autograd import gradcheck, gradgradcheck
from nn_helpers import assert_close, copy_weights, to_ember

DTYPES = [(torch.float32, ember.float32, 2e-5), (torch.float64, ember.float64, 1e-10)]
LAYERS = {"RNN": (nn.RNN, torch.nn.RNN), "LSTM": (nn.LSTM, torch.nn.LSTM),
          "GRU": (nn.GRU, torch.nn.GRU)}


def _pair(kind, tdtype, **kwargs):
    torch.manual_seed(0)
    tm = LAYERS[kind][1](4, 6, dtype=tdtype, **kwargs)
    em = LAYERS[kind][0](4, 6, dtype=ember.float32 if tdtype == torch.float32 else ember.float64,
                         **kwargs)
    copy_weights(tm, em)
    return tm, em


def _states(out):
    h = out[1]
    return list(h) if isinstance(h, tuple) else [h]


def _compare(tm, em, x, hx, tol):
    """Run both modules, compare outputs/states and all gradients of one loss."""
    xt = x.clone().requires_grad_()
    xe = to_ember(x, requires_grad=True)
    hts = [h.clone().requires_grad_() for h in hx] if hx is not None else None
    hes = [to_ember(h, requires_grad=True) for h in hx] if hx is not None else None
    arg_t = None if hx is None else (tuple(hts) if len(hts) == 2 else hts[0])
    arg_e = None if hx is None else (tuple(hes) if len(hes) == 2 else hes[0])
    out_t, out_e = tm(xt, arg_t), em(xe, arg_e)
    assert_close(out_e[0], out_t[0], rtol=tol, atol=tol)
    for a, b in zip(_states(out_e), _states(out_t)):
        assert tuple(a.shape) == tuple(b.shape)
        assert_close(a, b, rtol=tol, atol=tol)
    gen = np.random.default_rng(1)
    weights = [gen.standard_normal(tuple(t.shape)) for t in [out_t[0]] + _states(out_t)]
    loss_t = sum((t * torch.from_numpy(w).to(t.dtype)).sum()
                 for t, w in zip([out_t[0]] + _states(out_t), weights))
    loss_e = sum((t * ember.from_numpy(w).to(t.dtype)).sum()
                 for t, w in zip([out_e[0]] + _states(out_e), weights))
    loss_t.backward()
    loss_e.backward()
    assert_close(xe.grad, xt.grad, rtol=tol * 10, atol=tol * 10)
    if hx is not None:
        for a, b in zip(hes, hts):
            assert_close(a.grad, b.grad, rtol=tol * 10, atol=tol * 10)
    for (name, pe), (name_t, pt) in zip(em.named_parameters(), tm.named_parameters()):
        assert name == name_t
        assert_close(pe.grad, pt.grad, rtol=tol * 10, atol=tol * 10)


@pytest.mark.parametrize("tdtype,edtype,tol", DTYPES)
@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize("layers,bidirectional,batch_first", [
    (1, False, False), (2, False, True), (1, True, False), (2, True, True)])
def test_layers_match_torch(kind, layers, bidirectional, batch_first, tdtype, edtype, tol):
    tm, em = _pair(kind, tdtype, num_layers=layers, bidirectional=bidirectional,
                   batch_first=batch_first)
    x = torch.randn((3, 5, 4) if batch_first else (5, 3, 4), dtype=tdtype)
    d = 2 if bidirectional else 1
    hx = [torch.randn(layers * d, 3, 6, dtype=tdtype) for _ in range(2 if kind == "LSTM" else 1)]
    _compare(tm, em, x, hx, tol)
    _compare(tm, em, x, None, tol)


@pytest.mark.parametrize("tdtype,edtype,tol", DTYPES)
@pytest.mark.parametrize("bidirectional", [False, True])
def test_lstm_projection(bidirectional, tdtype, edtype, tol):
    tm, em = _pair("LSTM", tdtype, num_layers=2, proj_size=3, bidirectional=bidirectional)
    d = 2 if bidirectional else 1
    x = torch.randn(5, 2, 4, dtype=tdtype)
    hx = [torch.randn(2 * d, 2, 3, dtype=tdtype), torch.randn(2 * d, 2, 6, dtype=tdtype)]
    _compare(tm, em, x, hx, tol)


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_relu_and_no_bias(kind):
    kwargs = {"bias": False}
    if kind == "RNN":
        kwargs["nonlinearity"] = "relu"
    tm, em = _pair(kind, torch.float64, **kwargs)
    _compare(tm, em, torch.randn(4, 2, 4, dtype=torch.float64), None, 1e-10)


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize("batch_first", [False, True])
def test_unbatched(kind, batch_first):
    tm, em = _pair(kind, torch.float64, num_layers=2, batch_first=batch_first)
    x = torch.randn(5, 4, dtype=torch.float64)
    hx = [torch.randn(2, 6, dtype=torch.float64) for _ in range(2 if kind == "LSTM" else 1)]
    _compare(tm, em, x, hx, 1e-10)


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_packed_unsorted(kind, bidirectional):
    tm, em = _pair(kind, torch.float64, num_layers=2, bidirectional=bidirectional)
    lengths = [3, 5, 2, 5]
    x = torch.randn(5, 4, 4, dtype=torch.float64)
    xt = x.clone().requires_grad_()
    xe = to_ember(x, requires_grad=True)
    pt = torch.nn.utils.rnn.pack_padded_sequence(xt, lengths, enforce_sorted=False)
    pe = nn.utils.rnn.pack_padded_sequence(xe, lengths, enforce_sorted=False)
    # initial states in the caller's batch order: permuted to the packed order and back
    d = 2 if bidirectional else 1
    hx = [torch.randn(2 * d, 4, 6, dtype=torch.float64) for _ in range(2 if kind == "LSTM" else 1)]
    arg_t = tuple(hx) if kind == "LSTM" else hx[0]
    arg_e = tuple(to_ember(h) for h in hx) if kind == "LSTM" else to_ember(hx[0])
    out_t, out_e = tm(pt, arg_t), em(pe, arg_e)
    assert isinstance(out_e[0], nn.utils.rnn.PackedSequence)
    assert_close(out_e[0].data, out_t[0].data, rtol=1e-10, atol=1e-10)
    for a, b in zip(_states(out_e), _states(out_t)):
        assert_close(a, b, rtol=1e-10, atol=1e-10)
    pad_t, len_t = torch.nn.utils.rnn.pad_packed_sequence(out_t[0])
    pad_e, len_e = nn.utils.rnn.pad_packed_sequence(out_e[0])
    assert_close(pad_e, pad_t, rtol=1e-10, atol=1e-10)
    assert len_e.tolist() == len_t.tolist()
    ((pad_t ** 2).sum() + sum((s * 1.5).sum() for s in _states(out_t))).backward()
    ((pad_e ** 2).sum() + sum((s * 1.5).sum() for s in _states(out_e))).backward()
    assert_close(xe.grad, xt.grad, rtol=1e-9, atol=1e-9)
    for pe_, pt_ in zip(em.parameters(), tm.parameters()):
        assert_close(pe_.grad, pt_.grad, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("kind,cells", [("RNN", (nn.RNNCell, torch.nn.RNNCell)),
                                        ("LSTM", (nn.LSTMCell, torch.nn.LSTMCell)),
                                        ("GRU", (nn.GRUCell, torch.nn.GRUCell))])
@pytest.mark.parametrize("batched", [True, False])
def test_cells_match_torch(kind, cells, batched):
    torch.manual_seed(0)
    tc = cells[1](4, 6, dtype=torch.float64)
    ec = cells[0](4, 6, dtype=ember.float64)
    copy_weights(tc, ec)
    shape = (3, 4) if batched else (4,)
    x = torch.randn(shape, dtype=torch.float64)
    hshape = (3, 6) if batched else (6,)
    hx = [torch.randn(hshape, dtype=torch.float64) for _ in range(2 if kind == "LSTM" else 1)]
    xt, xe = x.clone().requires_grad_(), to_ember(x, requires_grad=True)
    ht = [h.clone().requires_grad_() for h in hx]
    he = [to_ember(h, requires_grad=True) for h in hx]
    out_t = tc(xt, tuple(ht) if kind == "LSTM" else ht[0])
    out_e = ec(xe, tuple(he) if kind == "LSTM" else he[0])
    outs_t = list(out_t) if kind == "LSTM" else [out_t]
    outs_e = list(out_e) if kind == "LSTM" else [out_e]
    for a, b in zip(outs_e, outs_t):
        assert_close(a, b, rtol=1e-10, atol=1e-10)
    sum((o * (k + 1.0)).sum() for k, o in enumerate(outs_t)).backward()
    sum((o * (k + 1.0)).sum() for k, o in enumerate(outs_e)).backward()
    assert_close(xe.grad, xt.grad, rtol=1e-9, atol=1e-9)
    for a, b in zip(he, ht):
        assert_close(a.grad, b.grad, rtol=1e-9, atol=1e-9)
    for pe_, pt_ in zip(ec.parameters(), tc.parameters()):
        assert_close(pe_.grad, pt_.grad, rtol=1e-9, atol=1e-9)
    assert repr(ec) == repr(tc)


@pytest.mark.parametrize("kind", ["LSTM", "GRU", "RNN"])
def test_gradcheck_and_gradgradcheck(kind):
    ember.manual_seed(0)
    layer = {"LSTM": nn.LSTM, "GRU": nn.GRU, "RNN": nn.RNN}[kind](2, 3, dtype=ember.float64)
    params = list(layer.parameters())
    x = ember.randn(3, 2, 2, dtype=ember.float64, requires_grad=True)
    # the input and the recurrent weights through the fused op
    inputs = (x, params[1].detach().clone().requires_grad_())

    def g(x, w_hh):
        gx = ember.addmm(params[2].detach(), x.reshape(6, 2), params[0].detach().t())
        from ember.ops.rnn import MODES, rnn_layer
        h0 = ember.zeros(2, 3, dtype=ember.float64)
        c0 = ember.zeros(2, 3, dtype=ember.float64) if kind == "LSTM" else None
        mode = MODES["RNN_TANH" if kind == "RNN" else kind]
        out, h, c = rnn_layer(mode, gx, h0, c0, w_hh, params[3].detach(), None,
                              ember.tensor([2, 2, 2]), False)
        return out, h
    assert gradcheck(g, inputs)
    assert gradgradcheck(g, inputs)


def test_dropout_between_layers():
    ember.manual_seed(0)
    m = nn.LSTM(4, 50, num_layers=2, dropout=0.5)
    x = ember.randn(3, 8, 4)
    m.eval()
    a, b = m(x)[0], m(x)[0]
    assert np.array_equal(np.asarray(a.detach()), np.asarray(b.detach()))
    m.train()
    c, d = m(x)[0], m(x)[0]
    assert not np.array_equal(np.asarray(c.detach()), np.asarray(d.detach()))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        nn.LSTM(4, 5, dropout=0.3)
    assert any("num_layers greater than 1" in str(w.message) for w in caught)


def test_dropout_statistics():
    ember.manual_seed(0)
    m = nn.RNN(4, 200, num_layers=2, dropout=0.4, nonlinearity="relu", bias=False)
    with ember.no_grad():
        m.weight_hh_l1.zero_()
        m.weight_ih_l1.copy_(ember.eye(200))
        m.weight_hh_l0.zero_()
    x = ember.rand(1, 50, 4) + 0.1
    m.train()
    out = np.asarray(m(x)[0].detach())
    m.eval()
    ref = np.asarray(m(x)[0].detach())
    kept = (out != 0) & (ref != 0)
    frac_dropped = 1 - kept.sum() / (ref != 0).sum()
    assert abs(frac_dropped - 0.4) < 0.03
    np.testing.assert_allclose(out[kept], ref[kept] / 0.6, rtol=1e-5)


def test_default_init_statistics():
    ember.manual_seed(0)
    m = nn.GRU(10, 64, num_layers=2, bidirectional=True)
    values = np.concatenate([np.asarray(p.detach()).ravel() for p in m.parameters()])
    bound = 1 / np.sqrt(64)
    assert values.min() >= -bound and values.max() <= bound
    assert abs(values.mean()) < 0.01 * bound * 10
    assert abs(values.std() - bound / np.sqrt(3)) < 0.02 * bound
    names = [n for n, _ in m.named_parameters()]
    assert names == [n for n, _ in torch.nn.GRU(10, 64, 2, bidirectional=True).named_parameters()]


def test_repr_and_flatten_parameters():
    for args, kwargs in [((3, 5), {}), ((3, 5, 2), {"batch_first": True, "dropout": 0.5}),
                         ((3, 5), {"bias": False, "bidirectional": True})]:
        for kind in ("RNN", "LSTM", "GRU"):
            e, t = LAYERS[kind][0](*args, **kwargs), LAYERS[kind][1](*args, **kwargs)
            assert repr(e) == repr(t)
            e.flatten_parameters()
    assert repr(nn.RNN(3, 5, nonlinearity="relu")) == repr(torch.nn.RNN(3, 5,
                                                                        nonlinearity="relu"))
    assert repr(nn.LSTM(3, 5, proj_size=2)) == repr(torch.nn.LSTM(3, 5, proj_size=2))


def _error(fn, lib):
    try:
        fn(lib)
    except Exception as exc:  # noqa: BLE001
        return type(exc), str(exc)
    return None, None


@pytest.mark.parametrize("case", [
    lambda lib: lib.nn.LSTM(4, 6)(lib.zeros(5, 3, 7)),
    lambda lib: lib.nn.GRU(4, 6)(lib.zeros(5, 3, 4), lib.zeros(1, 2, 6)),
    lambda lib: lib.nn.LSTM(4, 6)(lib.zeros(5, 3, 4), (lib.zeros(1, 3, 6), lib.zeros(1, 3, 5))),
    lambda lib: lib.nn.LSTM(4, 6, proj_size=2)(lib.zeros(5, 3, 4),
                                               (lib.zeros(1, 3, 6), lib.zeros(1, 3, 6))),
    lambda lib: lib.nn.RNN(4, 6)(lib.zeros(5, 3, 4), lib.zeros(3, 6)),
    lambda lib: lib.nn.RNN(4, 6)(lib.zeros(2, 5, 3, 4)),
    lambda lib: lib.nn.RNN(4, 6)(lib.zeros(5, 3, 4, dtype=lib.float64)),
    lambda lib: lib.nn.LSTM(4, 6, dropout=1.5),
    lambda lib: lib.nn.GRU(4, 6, proj_size=2),
    lambda lib: lib.nn.LSTM(4, 6, proj_size=6),
    lambda lib: lib.nn.RNN(4, 6, nonlinearity="sigmoid"),
    lambda lib: lib.nn.LSTM(4.0, 6),
    lambda lib: lib.nn.GRUCell(4, 6)(lib.zeros(3, 4, 1)),
    lambda lib: lib.nn.utils.rnn.pack_padded_sequence(lib.zeros(3, 2), [2, 3]),
    lambda lib: lib.nn.utils.rnn.pack_padded_sequence(lib.zeros(3, 2), [2, 0]),
    lambda lib: lib.nn.utils.rnn.pad_sequence([lib.zeros(2)], padding_side="top"),
])
def test_errors_match_torch(case):
    kind_t, msg_t = _error(case, torch)
    kind_e, msg_e = _error(case, ember)
    assert kind_t is not None
    assert kind_e is kind_t, (msg_e, msg_t)
    assert msg_e == msg_t.replace("torch.", "ember.")


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_strided_inputs_and_states(kind):
    """Transposed, reversed (negative-stride) and expanded (zero-stride) inputs."""
    tm, em = _pair(kind, torch.float64)
    base = torch.randn(3, 6, 4, dtype=torch.float64)
    xt = base.transpose(0, 1).flip(0)                   # (6, 3, 4), non-contiguous
    xe = to_ember(base).transpose(0, 1)[::-1]
    h = torch.randn(1, 1, 6, dtype=torch.float64)
    states_t = [h.expand(1, 3, 6)] * (2 if kind == "LSTM" else 1)
    states_e = [to_ember(h).expand(1, 3, 6)] * (2 if kind == "LSTM" else 1)
    out_t = tm(xt, tuple(states_t) if kind == "LSTM" else states_t[0])
    out_e = em(xe, tuple(states_e) if kind == "LSTM" else states_e[0])
    assert_close(out_e[0], out_t[0], rtol=1e-10, atol=1e-10)
    for a, b in zip(_states(out_e), _states(out_t)):
        assert_close(a, b, rtol=1e-10, atol=1e-10)


def test_packed_float32_batch_first():
    tm, em = _pair("LSTM", torch.float32, batch_first=True)
    x = torch.randn(3, 4, 4)
    pt = torch.nn.utils.rnn.pack_padded_sequence(x, [4, 1, 2], batch_first=True,
                                                 enforce_sorted=False)
    pe = nn.utils.rnn.pack_padded_sequence(to_ember(x), [4, 1, 2], batch_first=True,
                                           enforce_sorted=False)
    out_t, (h_t, c_t) = tm(pt)
    out_e, (h_e, c_e) = em(pe)
    assert_close(out_e.data, out_t.data, rtol=2e-5, atol=2e-6)
    assert_close(h_e, h_t, rtol=2e-5, atol=2e-6)
    assert_close(c_e, c_t, rtol=2e-5, atol=2e-6)


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_graph_freed_without_garbage_collector(kind):
    # a reference cycle through the saved output would keep every step's buffers alive
    # until the collector runs (training loops that disable it would grow without bound)
    import gc
    layer = LAYERS[kind][0](4, 6)
    x = ember.randn(5, 3, 4, requires_grad=True)
    layer(x)[0].sum().backward()      # first call: lazy imports and caches
    gc.collect()
    gc.disable()
    try:
        out = layer(x)[0]
        out.sum().backward()
        del out
        assert gc.collect() == 0
        out = layer(x)[0]
        del out                       # a graph never backpropagated is freed too
        assert gc.collect() == 0
    finally:
        gc.enable()


@pytest.mark.parametrize("kind, kwargs", [("RNN", {}), ("LSTM", {}), ("GRU", {}),
                                          ("LSTM", {"proj_size": 40, "bidirectional": True})])
@pytest.mark.parametrize("threads", [2, 3])
def test_batch_split_across_threads(kind, kwargs, threads):
    # big enough that the recurrence cuts the batch into one block of rows per thread;
    # packed lengths make the blocks run different numbers of steps
    torch.manual_seed(0)
    tm = LAYERS[kind][1](8, 72, dtype=torch.float64, **kwargs)
    em = LAYERS[kind][0](8, 72, dtype=ember.float64, **kwargs)
    copy_weights(tm, em)
    lengths = [16, 3, 9, 1, 7, 5, 2, 11, 4, 6, 8, 10, 15, 12, 14, 13]  # distinct: a fixed order
    x = torch.randn(16, len(lengths), 8, dtype=torch.float64)
    pt = torch.nn.utils.rnn.pack_padded_sequence(x.requires_grad_(), lengths,
                                                 enforce_sorted=False)
    xe = to_ember(x.detach()).requires_grad_()
    pe = nn.utils.rnn.pack_padded_sequence(xe, lengths, enforce_sorted=False)
    saved = ember.get_num_threads()
    ember.set_num_threads(threads)
    try:
        out_e, h_e = em(pe)
        (out_e.data.sum() + sum(h.sum() for h in _states((None, h_e)))).backward()
    finally:
        ember.set_num_threads(saved)
    out_t, h_t = tm(pt)
    (out_t.data.sum() + sum(h.sum() for h in _states((None, h_t)))).backward()
    assert_close(out_e.data, out_t.data, rtol=1e-10, atol=1e-12)
    for a, b in zip(_states((None, h_e)), _states((None, h_t))):
        assert_close(a, b, rtol=1e-10, atol=1e-12)
    assert_close(xe.grad, x.grad, rtol=1e-9, atol=1e-11)
    for (name, pe_), (_, pt_) in zip(em.named_parameters(), tm.named_parameters()):
        assert_close(pe_.grad, pt_.grad, rtol=1e-9, atol=1e-11)
