"""In-place view ops (squeeze_, unsqueeze_, t_, transpose_, swapaxes_, swapdims_,
as_strided_) and resize_/resize_as_ against PyTorch."""
import numpy as np
import pytest
import torch

import ember

CASES = [
    ("t_", (2, 3), ()),
    ("transpose_", (2, 3, 4), (0, 2)),
    ("swapaxes_", (2, 3, 4), (1, 2)),
    ("swapdims_", (2, 3), (0, 1)),
    ("unsqueeze_", (2, 3), (1,)),
    ("unsqueeze_", (2, 3), (-1,)),
    ("squeeze_", (2, 1, 3, 1), ()),
    ("squeeze_", (2, 1, 3), (1,)),
    ("as_strided_", (4, 4), ((2, 2), (1, 4), 1)),
]


@pytest.mark.parametrize("name,shape,args", CASES)
def test_layout_and_values_match_torch(name, shape, args):
    data = np.arange(int(np.prod(shape)), dtype=np.float32).reshape(shape)
    e, t = ember.tensor(data), torch.tensor(data)
    e_ptr, version = e.data_ptr(), e._version
    assert getattr(e, name)(*args) is e
    getattr(t, name)(*args)
    assert tuple(e.shape) == tuple(t.shape) and e.stride() == t.stride()
    assert e.storage_offset() == t.storage_offset() and e.data_ptr() - e_ptr == \
        4 * e.storage_offset()
    assert e._version > version
    np.testing.assert_array_equal(e.numpy(), t.numpy())


@pytest.mark.parametrize("name,shape,args", CASES[:-1])
def test_gradients_flow_through_the_new_view_like_torch(name, shape, args):
    data = np.random.default_rng(0).standard_normal(shape)
    grads = []
    for lib in (ember, torch):
        leaf = lib.tensor(data, requires_grad=True)
        x = leaf * 2
        getattr(x, name)(*args)
        weights = lib.tensor(np.arange(x.numel(), dtype=np.float64).reshape(tuple(x.shape)))
        (x * weights).sum().backward()
        grads.append(leaf.grad.numpy())
    np.testing.assert_allclose(grads[0], grads[1])


def test_leaf_that_requires_grad_is_refused():
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        ember.zeros(3, requires_grad=True).unsqueeze_(0)
    with ember.no_grad():
        x = ember.zeros(3, requires_grad=True)
        assert x.unsqueeze_(0).shape == (1, 3)


def test_resize_keeps_the_prefix_grows_the_storage_and_is_seen_by_views():
    for lib in (ember, torch):
        x = lib.arange(6.0)
        view = x[:2]
        assert x.resize_(2, 2) is x
        assert x.tolist() == [[0.0, 1.0], [2.0, 3.0]] and x.stride() == (2, 1)
        x.resize_((3, 3))
        assert tuple(x.shape) == (3, 3) and x.reshape(-1)[:6].tolist() == [0, 1, 2, 3, 4, 5]
        x.fill_(7.0)
        assert view.tolist() == [7.0, 7.0]       # one storage, grown in place
        x.resize_as_(lib.zeros(4))
        assert tuple(x.shape) == (4,)
        x.resize_(0)
        assert x.numel() == 0
        assert x.resize_(size=(2, 1)) is x and tuple(x.shape) == (2, 1)    # PyTorch's name
        with pytest.raises(TypeError):
            x.resize_(2, size=(2,))


def test_resize_errors_match_torch():
    with pytest.raises(RuntimeError, match="negative dimension -1"):
        ember.zeros(2).resize_(-1, 2)
    for lib in (ember, torch):
        with pytest.raises(RuntimeError, match="not resizable"):
            lib.from_numpy(np.arange(3.0)).resize_(10)
        with pytest.raises(RuntimeError):       # torch: "numel: integer multiplication overflow"
            lib.zeros(2).resize_(-1, 2)
        with pytest.raises(RuntimeError, match="require grad"):
            lib.zeros(2, requires_grad=True).resize_(4)
