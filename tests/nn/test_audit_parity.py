"""Regressions found by comparing ember.nn with torch.nn as a ported training script
uses it (Module API details, reprs, state-dict metadata)."""
import numpy as np
import pytest
import torch

import ember
from ember import nn

from nn_helpers import to_ember


def _net(lib_nn):
    return lib_nn.Sequential(lib_nn.Linear(3, 4), lib_nn.ReLU(),
                             lib_nn.Sequential(lib_nn.Linear(4, 2), lib_nn.BatchNorm1d(2)))


def test_state_dict_metadata_matches_torch():
    ours = _net(nn).state_dict()
    theirs = _net(torch.nn).state_dict()
    assert dict(ours._metadata) == dict(theirs._metadata)
    assert dict(_net(nn).state_dict(prefix="m.")._metadata) == \
        dict(_net(torch.nn).state_dict(prefix="m.")._metadata)


def test_load_state_dict_passes_version_to_modules():
    seen = {}

    class Probe(nn.Module):
        _version = 3

        def _load_from_state_dict(self, state_dict, prefix, local_metadata, *args):
            seen[prefix] = dict(local_metadata)
            super()._load_from_state_dict(state_dict, prefix, local_metadata, *args)

    model = nn.Sequential(Probe())
    model.load_state_dict(model.state_dict())
    assert seen == {"0.": {"version": 3}}
    model.load_state_dict(dict(model.state_dict()), assign=True)   # a plain dict: no metadata
    assert seen == {"0.": {"assign_to_params_buffers": True}}


def test_state_dict_post_hook_gets_local_metadata():
    got = []
    bn = nn.BatchNorm1d(2)
    bn.register_state_dict_post_hook(lambda m, sd, prefix, meta: got.append(dict(meta)))
    bn.state_dict()
    assert got == [{"version": 2}]


def test_batchnorm_old_state_dict_without_batch_count_loads():
    bn = nn.BatchNorm1d(3)
    state = bn.state_dict()
    del state["num_batches_tracked"]
    state._metadata[""] = {"version": 1}
    assert bn.load_state_dict(state) == ([], [])
    state._metadata[""] = {"version": 2}
    with pytest.raises(RuntimeError, match="num_batches_tracked"):
        bn.load_state_dict(state)


def test_load_torch_state_dict_with_its_metadata():
    theirs = _net(torch.nn)
    state = theirs.state_dict()
    converted = type(state)((k, to_ember(v)) for k, v in state.items())
    converted._metadata = state._metadata
    ours = _net(nn)
    assert ours.load_state_dict(converted) == ([], [])
    x = np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32)
    theirs.eval()
    ours.eval()
    np.testing.assert_allclose(np.asarray(ours(ember.tensor(x)).detach()),
                               theirs(torch.tensor(x)).detach().numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("recurse", [True, False])
def test_to_empty(recurse):
    model = _net(nn)
    before = [p for p in model.parameters()]
    out = model.to_empty(device="cpu", recurse=recurse)
    assert out is model
    after = list(model.parameters())
    assert all(a is b for a, b in zip(before, after))
    assert [tuple(p.shape) for p in after] == [tuple(p.shape) for p in _net(nn).parameters()]
    assert model[2][1].num_batches_tracked.dtype == ember.int64


@pytest.mark.parametrize("kwargs", [dict(max_norm=1.0), dict(norm_type=1.5),
                                    dict(scale_grad_by_freq=True, padding_idx=2),
                                    dict(mode="sum", max_norm=2.0, norm_type=3.0)])
def test_embedding_bag_repr(kwargs):
    assert repr(nn.EmbeddingBag(10, 3, **kwargs)) == repr(torch.nn.EmbeddingBag(10, 3, **kwargs))


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
@pytest.mark.parametrize("cls", ["LSTM", "GRU", "RNN", "LSTMCell", "GRUCell"])
def test_recurrent_layers_run_in_half_precision(cls, dtype):
    torch.manual_seed(0)
    theirs = getattr(torch.nn, cls)(4, 5).to(getattr(torch, dtype))
    ours = getattr(nn, cls)(4, 5).to(getattr(ember, dtype))
    ours.load_state_dict({k: ember.tensor(v.float().numpy()).to(getattr(ember, dtype))
                          for k, v in theirs.state_dict().items()})
    shape = (2, 4) if cls.endswith("Cell") else (3, 2, 4)
    x = np.random.default_rng(0).standard_normal(shape)
    x_t = torch.tensor(x).to(getattr(torch, dtype)).requires_grad_()
    x_e = ember.tensor(x).to(getattr(ember, dtype)).requires_grad_()
    out_t, out_e = theirs(x_t), ours(x_e)
    out_t = out_t[0] if isinstance(out_t, tuple) else out_t
    out_e = out_e[0] if isinstance(out_e, tuple) else out_e
    assert out_e.dtype == getattr(ember, dtype)
    out_t.float().sum().backward()
    out_e.float().sum().backward()
    tol = dict(rtol=2e-2, atol=1e-2)
    np.testing.assert_allclose(np.asarray(out_e.detach().float()),
                               out_t.detach().float().numpy(), **tol)
    np.testing.assert_allclose(np.asarray(x_e.grad.float()), x_t.grad.float().numpy(), **tol)
    assert all(p.grad.dtype == getattr(ember, dtype) for p in ours.parameters())
