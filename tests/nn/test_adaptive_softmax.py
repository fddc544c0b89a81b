"""nn.AdaptiveLogSoftmaxWithLoss against torch.nn given the same weights: outputs, loss,
gradients, log_prob, predict and errors."""
import numpy as np
import pytest
import torch

import ember
from ember import nn
from nn_helpers import assert_close, copy_weights, to_ember

CONFIGS = [
    (16, 20, [5, 10, 15], 2.0, False),
    (12, 10, [2], 2.0, True),
    (8, 30, [10, 20], 1.5, False),
]


def pair(in_features, n_classes, cutoffs, div_value, head_bias, dtype=torch.float64):
    torch.manual_seed(0)
    tm = torch.nn.AdaptiveLogSoftmaxWithLoss(in_features, n_classes, cutoffs, div_value,
                                             head_bias, dtype=dtype)
    m = nn.AdaptiveLogSoftmaxWithLoss(in_features, n_classes, cutoffs, div_value, head_bias,
                                      dtype=getattr(ember, str(dtype).split(".")[1]))
    copy_weights(tm, m)
    return m, tm


@pytest.mark.parametrize("config", CONFIGS, ids=[str(c[:3]) for c in CONFIGS])
def test_forward_and_gradients_match_torch(config):
    m, tm = pair(*config)
    rng = np.random.default_rng(1)
    x = rng.standard_normal((9, config[0]))
    target = rng.integers(0, config[1], 9)
    target[:3] = [0, config[1] - 1, config[2][0]]       # every kind of row
    tx = torch.tensor(x, requires_grad=True)
    ex = ember.tensor(x, requires_grad=True)
    out, loss = m(ex, ember.tensor(target))
    tout, tloss = tm(tx, torch.tensor(target))
    assert_close(out, tout, rtol=1e-10, atol=1e-12)
    assert_close(loss, tloss, rtol=1e-10, atol=1e-12)
    (loss + out[1] * 0.5).backward()
    (tloss + tout[1] * 0.5).backward()
    assert_close(ex.grad, tx.grad, rtol=1e-9, atol=1e-12)
    tparams = dict(tm.named_parameters())
    assert [k for k, _ in m.named_parameters()] == list(tparams)
    for key, p in m.named_parameters():
        assert_close(p.grad, tparams[key].grad, rtol=1e-9, atol=1e-12)


def test_unbatched_and_single_rows():
    m, tm = pair(*CONFIGS[0])
    x = torch.randn(16, dtype=torch.float64)
    for t in (3, 7, 19):
        out, loss = m(to_ember(x), ember.tensor(t))
        tout, tloss = tm(x, torch.tensor(t))
        assert out.dim() == 0 and loss.dim() == 0
        assert_close(out, tout, rtol=1e-10)
        assert_close(loss, tloss, rtol=1e-10)
    # a batch of one row in a cluster (torch squeezes its indices to 0-D there)
    x1 = torch.randn(1, 16, dtype=torch.float64)
    assert_close(m(to_ember(x1), ember.tensor([12])).output, tm(x1, torch.tensor([12])).output)


@pytest.mark.parametrize("config", CONFIGS, ids=[str(c[:3]) for c in CONFIGS])
def test_log_prob_matches_torch_and_sums_to_one(config):
    m, tm = pair(*config)
    x = torch.randn(6, config[0], dtype=torch.float64, requires_grad=True)
    ex = to_ember(x, requires_grad=True)
    lp, tlp = m.log_prob(ex), tm.log_prob(x)
    assert tuple(lp.shape) == (6, config[1])
    assert_close(lp, tlp, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(np.asarray(lp.detach().exp().sum(1)), np.ones(6), rtol=1e-12)
    weights = torch.randn(6, config[1], dtype=torch.float64)
    (lp * to_ember(weights)).sum().backward()
    (tlp * weights).sum().backward()
    assert_close(ex.grad, x.grad, rtol=1e-9, atol=1e-12)
    # the forward's output is the log_prob of the target
    target = torch.randint(0, config[1], (6,))
    np.testing.assert_allclose(np.asarray(m(ex, to_ember(target)).output.detach()),
                               tlp.detach().numpy()[np.arange(6), target.numpy()], rtol=1e-10)


def test_predict_matches_torch_in_every_branch():
    m, tm = pair(*CONFIGS[0])
    # a head bias pushes every row into the shortlist, then into the clusters, then mixes
    with torch.no_grad():
        for bias in ([10.0] * 5 + [-10.0] * 3, [-10.0] * 5 + [10.0] * 3, None):
            head = torch.nn.Linear(16, 8, bias=False, dtype=torch.float64)
            tm.head.weight.copy_(head.weight)
            x = torch.randn(20, 16, dtype=torch.float64)
            if bias is not None:
                x[:, 0] = 1.0
                tm.head.weight[:, 0] = torch.tensor(bias, dtype=torch.float64)
            copy_weights(tm, m)
            predicted = m.predict(to_ember(x))
            np.testing.assert_array_equal(np.asarray(predicted), tm.predict(x).numpy())
            assert predicted.dtype == ember.int64
    assert (np.asarray(m.predict(to_ember(x))) == np.asarray(
        m.log_prob(to_ember(x)).argmax(1))).all()


def test_structure_repr_and_state_dict_match_torch():
    m, tm = pair(*CONFIGS[0])
    assert repr(m) == repr(tm).replace("torch.", "ember.")
    assert list(m.state_dict()) == list(tm.state_dict())
    for key, value in tm.state_dict().items():
        assert tuple(m.state_dict()[key].shape) == tuple(value.shape)
    assert (m.shortlist_size, m.n_clusters, m.head_size, m.cutoffs) == (
        tm.shortlist_size, tm.n_clusters, tm.head_size, tm.cutoffs)
    m.reset_parameters()
    assert not np.array_equal(np.asarray(m.head.weight.detach()), tm.head.weight.detach().numpy())


def test_training_step_matches_torch():
    m, tm = pair(*CONFIGS[2])
    opt = ember.optim.SGD(m.parameters(), lr=0.5)
    topt = torch.optim.SGD(tm.parameters(), lr=0.5)
    x = torch.randn(32, 8, dtype=torch.float64)
    target = torch.randint(0, 30, (32,))
    for _ in range(3):
        opt.zero_grad()
        topt.zero_grad()
        loss = m(to_ember(x), to_ember(target)).loss
        tloss = tm(x, target).loss
        assert_close(loss, tloss, rtol=1e-9)
        loss.backward()
        tloss.backward()
        opt.step()
        topt.step()


@pytest.mark.parametrize("lib", [ember, torch], ids=["ember", "torch"])
@pytest.mark.parametrize("cutoffs", [[], [5, 3], [0, 4], [4, 10], [3, 3], [2.5]])
def test_bad_cutoffs(lib, cutoffs):
    with pytest.raises(ValueError, match="cutoffs should be a sequence"):
        lib.nn.AdaptiveLogSoftmaxWithLoss(8, 10, cutoffs)


@pytest.mark.parametrize("lib", [ember, torch], ids=["ember", "torch"])
def test_input_errors(lib):
    m = lib.nn.AdaptiveLogSoftmaxWithLoss(4, 10, [3])
    with pytest.raises(RuntimeError, match=r"Target values should be in \[0, 9\], but values "
                                           r"in range \[1, 12\] were found"):
        m(lib.ones(2, 4), lib.tensor([1, 12]))
    with pytest.raises(RuntimeError, match="Input and target should have the same size"):
        m(lib.ones(2, 4), lib.tensor([1, 2, 3]))
    with pytest.raises(RuntimeError, match="1D target tensor expects 2D input tensors"):
        m(lib.ones(2, 2, 4), lib.tensor([1, 2]))
    with pytest.raises(RuntimeError, match="0D target tensor expects 1D input tensors"):
        m(lib.ones(2, 4), lib.tensor(1))
    with pytest.raises(RuntimeError, match="0D or 1D target tensor expected, multi-target"):
        m(lib.ones(2, 4), lib.tensor([[1, 2]]))
