"""nn.utils.rnn (packing and padding of variable-length sequences) against PyTorch:
values, lengths, permutations and gradients."""
import numpy as np
import pytest
import torch

import ember
from ember.nn.utils import rnn as ern
from nn_helpers import assert_close, to_ember

trn = torch.nn.utils.rnn


def _seqs(lengths, feature=(3,), dtype=torch.float64):
    gen = torch.Generator().manual_seed(0)
    return [torch.randn((n,) + feature, generator=gen, dtype=dtype) for n in lengths]


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("padding_side", ["right", "left"])
@pytest.mark.parametrize("feature", [(), (3,), (2, 2)])
def test_pad_sequence(batch_first, padding_side, feature):
    seqs = _seqs([3, 5, 1], feature)
    t = trn.pad_sequence(seqs, batch_first=batch_first, padding_value=-1.5,
                         padding_side=padding_side)
    e = ern.pad_sequence([to_ember(s) for s in seqs], batch_first=batch_first,
                         padding_value=-1.5, padding_side=padding_side)
    assert tuple(e.shape) == tuple(t.shape)
    assert_close(e, t, rtol=0, atol=0)


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("lengths,enforce_sorted", [([5, 3, 1], True), ([3, 5, 1, 5], False),
                                                    (ember.tensor([2, 4]), False)])
def test_pack_padded_and_back(batch_first, lengths, enforce_sorted):
    lens = [int(n) for n in (lengths.tolist() if isinstance(lengths, ember.Tensor) else lengths)]
    padded = trn.pad_sequence(_seqs(lens), batch_first=batch_first)
    pt = trn.pack_padded_sequence(padded, lens, batch_first=batch_first,
                                  enforce_sorted=enforce_sorted)
    pe = ern.pack_padded_sequence(to_ember(padded), lengths, batch_first=batch_first,
                                  enforce_sorted=enforce_sorted)
    assert isinstance(pe, ern.PackedSequence)
    assert_close(pe.data, pt.data, rtol=0, atol=0)
    assert pe.batch_sizes.tolist() == pt.batch_sizes.tolist()
    assert pe.batch_sizes.dtype == ember.int64
    for a, b in ((pe.sorted_indices, pt.sorted_indices),
                 (pe.unsorted_indices, pt.unsorted_indices)):
        assert (a is None) == (b is None)
        if a is not None:
            assert a.tolist() == b.tolist()
    for total in (None, max(lens) + 2):
        out_t, len_t = trn.pad_packed_sequence(pt, batch_first=batch_first, padding_value=7.0,
                                               total_length=total)
        out_e, len_e = ern.pad_packed_sequence(pe, batch_first=batch_first, padding_value=7.0,
                                               total_length=total)
        assert_close(out_e, out_t, rtol=0, atol=0)
        assert len_e.tolist() == len_t.tolist()


def test_pack_sequence_unpack_and_unpad():
    seqs = _seqs([2, 4, 3])
    pt = trn.pack_sequence(seqs, enforce_sorted=False)
    pe = ern.pack_sequence([to_ember(s) for s in seqs], enforce_sorted=False)
    assert_close(pe.data, pt.data, rtol=0, atol=0)
    for a, b in zip(ern.unpack_sequence(pe), trn.unpack_sequence(pt)):
        assert_close(a, b, rtol=0, atol=0)
    padded = trn.pad_sequence(seqs)
    for a, b in zip(ern.unpad_sequence(to_ember(padded), [2, 4, 3]),
                    trn.unpad_sequence(padded, torch.tensor([2, 4, 3]))):
        assert_close(a, b, rtol=0, atol=0)


def test_packing_is_differentiable():
    seqs = _seqs([3, 5, 2])
    weights = np.random.default_rng(0).standard_normal((5, 3, 3))
    grads = []
    for lib, mod, wrap in ((torch, trn, lambda s: s.clone().requires_grad_()),
                           (ember, ern, lambda s: to_ember(s, requires_grad=True))):
        leaves = [wrap(s) for s in seqs]
        packed = mod.pack_sequence(leaves, enforce_sorted=False)
        out, _ = mod.pad_packed_sequence(packed)
        (out * lib.from_numpy(weights)).sum().backward()
        grads.append([leaf.grad for leaf in leaves])
    for a, b in zip(*reversed(grads)):
        assert_close(a, b, rtol=0, atol=0)


def test_packed_sequence_to_and_fields():
    pe = ern.pack_sequence([ember.ones(3, 2), ember.ones(1, 2)])
    assert pe._fields == ("data", "batch_sizes", "sorted_indices", "unsorted_indices")
    as64 = pe.to(ember.float64)
    assert as64.data.dtype == ember.float64 and as64.batch_sizes.tolist() == [2, 1, 1]
    assert pe.to(ember.float32) is pe
    assert pe.double().data.dtype == ember.float64
    assert not pe.is_cuda
    data, batch_sizes, sorted_indices, unsorted_indices = pe
    assert sorted_indices is None and unsorted_indices is None
    perm = ember.tensor([2, 0, 1])
    assert ern.invert_permutation(perm).tolist() == [1, 2, 0]


def test_errors_match_torch():
    cases = [
        lambda m, lib: m.pad_packed_sequence(m.pack_sequence([lib.ones(3), lib.ones(2)]),
                                             total_length=2),
        lambda m, lib: m.pack_sequence([lib.ones(2), lib.ones(3)]),
        lambda m, lib: m.pack_padded_sequence(lib.zeros(3, 2), [3, 2, 1]),
    ]
    for case in cases:
        kinds = []
        for m, lib in ((trn, torch), (ern, ember)):
            try:
                case(m, lib)
            except Exception as exc:  # noqa: BLE001
                kinds.append((type(exc), str(exc)))
        assert len(kinds) == 2 and kinds[0] == kinds[1], kinds
