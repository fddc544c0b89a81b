"""Activation checkpointing and fork_rng on cuda: the GPU generator is saved and
replayed, so dropout recomputes the same mask and gradients match a plain pass.
Marked gpu: skipped, with the reason, where CuPy or a GPU is missing."""
import numpy as np
import pytest

import ember
from ember.utils.checkpoint import checkpoint

pytestmark = pytest.mark.gpu


def _model():
    ember.manual_seed(0)
    return ember.nn.Sequential(ember.nn.Linear(8, 16), ember.nn.Dropout(0.5),
                               ember.nn.Linear(16, 4)).to("cuda")


@pytest.mark.parametrize("use_reentrant", [True, False])
def test_dropout_mask_replayed_on_cuda(use_reentrant):
    model = _model()
    x = np.random.default_rng(0).standard_normal((32, 8)).astype(np.float32)
    ember.manual_seed(3)
    ex = ember.tensor(x, device="cuda", requires_grad=True)
    out = checkpoint(model, ex, use_reentrant=use_reentrant)
    state = ember.cuda.get_rng_state()
    out.sum().backward()
    # the recomputation leaves the GPU stream where the forward left it
    assert bool((ember.cuda.get_rng_state() == state).all())
    got_x, got_w = ex.grad.cpu().numpy(), model[0].weight.grad.cpu().numpy()
    model.zero_grad()
    ember.manual_seed(3)
    ex2 = ember.tensor(x, device="cuda", requires_grad=True)
    model(ex2).sum().backward()
    np.testing.assert_array_equal(got_x, ex2.grad.cpu().numpy())
    np.testing.assert_array_equal(got_w, model[0].weight.grad.cpu().numpy())


def test_fork_rng_restores_the_cuda_generator():
    ember.manual_seed(4)
    before = ember.cuda.get_rng_state()
    with ember.random.fork_rng():
        ember.rand(5, device="cuda")
    assert bool((ember.cuda.get_rng_state() == before).all())
    with ember.random.fork_rng(devices=[]):
        ember.rand(5, device="cuda")
    assert not bool((ember.cuda.get_rng_state() == before).all())
