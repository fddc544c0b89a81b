"""F.embedding_bag and nn.EmbeddingBag against torch: values and weight gradients."""
import numpy as np
import pytest
import torch

import ember
import ember.nn.functional as F
from functional_oracle import compare

rng = np.random.default_rng(3)
INDICES = np.array([1, 4, 4, 0, 2, 3, 1, 0])
OFFSETS = np.array([0, 3, 3, 5])


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
@pytest.mark.parametrize("padding_idx", [None, 4])
def test_offsets(mode, padding_idx):
    compare(lambda F, lib, w: F.embedding_bag(lib.tensor(INDICES), w, lib.tensor(OFFSETS),
                                              mode=mode, padding_idx=padding_idx),
            rng.standard_normal((5, 3)))


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
def test_two_dimensional_and_last_offset(mode):
    idx = rng.integers(0, 6, (4, 3))
    compare(lambda F, lib, w: F.embedding_bag(lib.tensor(idx), w, mode=mode),
            rng.standard_normal((6, 2)), dtype=np.float32)
    ends = np.append(OFFSETS, INDICES.size)
    compare(lambda F, lib, w: F.embedding_bag(lib.tensor(INDICES), w, lib.tensor(ends),
                                              mode=mode, include_last_offset=True),
            rng.standard_normal((5, 3)))


def test_per_sample_weights_and_module():
    psw = rng.standard_normal(INDICES.size)
    compare(lambda F, lib, w, p: F.embedding_bag(lib.tensor(INDICES), w, lib.tensor(OFFSETS),
                                                 mode="sum", per_sample_weights=p),
            rng.standard_normal((5, 3)), psw)
    table = rng.standard_normal((5, 3))
    eb = ember.nn.EmbeddingBag.from_pretrained(ember.tensor(table), freeze=False, mode="max")
    tb = torch.nn.EmbeddingBag.from_pretrained(torch.tensor(table), freeze=False, mode="max")
    np.testing.assert_allclose(
        np.asarray(eb(ember.tensor(INDICES), ember.tensor(OFFSETS)).detach()),
        tb(torch.tensor(INDICES), torch.tensor(OFFSETS)).detach().numpy())
    assert ember.nn.EmbeddingBag(7, 2, mode="sum")(ember.tensor([[1, 2]])).shape == (1, 2)


def test_errors():
    w = ember.randn(5, 3)
    with pytest.raises(NotImplementedError, match="per_sample_weights"):
        F.embedding_bag(ember.tensor([[1, 2]]), w, per_sample_weights=ember.ones(1, 2))
    with pytest.raises(ValueError, match="offsets has to be None"):
        F.embedding_bag(ember.tensor([[1, 2]]), w, ember.tensor([0]))
    with pytest.raises(ValueError, match="offsets has to be a 1D"):
        F.embedding_bag(ember.tensor([1, 2]), w)
    with pytest.raises(IndexError, match="index out of range"):
        F.embedding_bag(ember.tensor([1, 9]), w, ember.tensor([0]))
