"""Ops built from other ops whose helper tensors (index ranges, masks, counts, zeros to
scatter gradients into) must be made on the input's device: each against the CPU's
result, forward and backward.  Marked gpu: without a GPU they run on the emulated one."""
import numpy as np
import pytest

import ember
import ember.nn.functional as F

from test_gpu import assert_same

pytestmark = pytest.mark.gpu


def values(*shape, seed=0):
    return ember.tensor(np.random.default_rng(seed).uniform(-2, 2, shape)).float()


def on_both(fn, *args):
    """``fn`` on the CPU tensors and on their cuda copies: (cuda result, CPU result)."""
    expected = fn(*args)
    return fn(*[a.cuda() if isinstance(a, ember.Tensor) else a for a in args]), expected


FORWARD = {
    "tril": lambda x: x.tril(-1),
    "triu_": lambda x: x.clone().triu_(1),
    "one_hot": lambda x: F.one_hot((x.abs() * 2).long(), 5),
    "unique_consecutive": lambda x: ember.unique_consecutive((x.reshape(-1) > 0).long(),
                                                             return_inverse=True),
    "bincount": lambda x: ember.bincount((x.abs() * 2).long().reshape(-1)),
    "pad_constant": lambda x: F.pad(x, (1, 2, 0, 1), value=3.0),
    "pad_reflect": lambda x: F.pad(x.unsqueeze(0), (2, 1), mode="reflect"),
    "pad_circular": lambda x: F.pad(x.unsqueeze(0), (1, 1), mode="circular"),
    "interpolate_nearest": lambda x: F.interpolate(x.unsqueeze(0), scale_factor=2),
    "interpolate_linear": lambda x: F.interpolate(x.unsqueeze(0), size=7, mode="linear"),
    "embedding_bag_mean": lambda x: F.embedding_bag(
        ember.tensor([0, 2, 1, 3, 3]).to(x.device), x, ember.tensor([0, 2]).to(x.device)),
    "embedding_bag_max": lambda x: F.embedding_bag(
        ember.tensor([[0, 2], [1, 3]]).to(x.device), x, mode="max", padding_idx=2),
    "scatter_reduce_mean": lambda x: x.scatter_reduce(
        0, ember.tensor([[0, 1, 0, 1, 0]] * 2).to(x.device), x[:2], "mean", include_self=False),
    "causal_attention": lambda x: F.scaled_dot_product_attention(
        x.unsqueeze(0), x.unsqueeze(0), x.unsqueeze(0), is_causal=True),
    "masked_attention": lambda x: F.scaled_dot_product_attention(
        x.unsqueeze(0), x.unsqueeze(0), x.unsqueeze(0), attn_mask=(x[:, :4] > 0).unsqueeze(0)),
    "square_subsequent_mask": lambda x: ember.nn.Transformer.generate_square_subsequent_mask(
        4, device=x.device) + x[:, :4],
    "multi_margin": lambda x: F.multi_margin_loss(x, ember.tensor([0, 4, 2, 1]).to(x.device)),
    "multilabel_margin": lambda x: F.multilabel_margin_loss(
        x, ember.tensor([[3, 0, -1, 1, 2]] * 4).to(x.device)),
    "complex": lambda x: ember.complex(x, 2 * x),
}


@pytest.mark.parametrize("name", sorted(FORWARD))
def test_forward_matches_cpu(name):
    got, expected = on_both(FORWARD[name], values(4, 5))
    assert_same(got, expected)


BACKWARD = {
    "gather": lambda x: x.gather(1, ember.tensor([[0, 1], [4, 4], [2, 0], [3, 3]]).to(x.device)),
    "advanced_index": lambda x: x[ember.tensor([0, 2, 2]).to(x.device)],
    "max_dim": lambda x: x.max(1)[0],
    "amax": lambda x: x.amax(0),
    "prod": lambda x: x.prod(1),
    "linear_bias": lambda x: F.linear(x, x[:3], x[0, :3]),
    "strided_view": lambda x: x.t().as_strided((3, 3), (1, 2)) * 2,
    "pad": lambda x: F.pad(x, (1, 1), value=1.0),
    "tril": lambda x: x.tril(),
    "scatter_reduce_mean": lambda x: ember.zeros(3, 5, device=x.device).scatter_reduce(
        0, ember.tensor([[0, 1, 0, 1, 2]] * 4).to(x.device), x, "mean"),
    "var_mean": lambda x: ember.var_mean(x, 1)[0],
}


@pytest.mark.parametrize("name", sorted(BACKWARD))
def test_backward_matches_cpu(name):
    grads = []
    for device in ("cpu", "cuda"):
        x = values(4, 5).to(device).requires_grad_()
        out = BACKWARD[name](x)
        out.backward(ember.ones_like(out))
        grads.append(x.grad)
    assert_same(grads[1], grads[0])


def test_gradient_through_a_device_copy_returns_to_the_leafs_device():
    x = values(4, 5).requires_grad_()
    (x.cuda() * x.cuda()).sum().backward()
    assert x.grad.device.type == "cpu"
    np.testing.assert_allclose(x.grad.numpy(), 2 * x.detach().numpy(), rtol=1e-6)


def test_saved_cuda_tensors_load_back_on_the_gpu(tmp_path):
    model = ember.nn.Linear(3, 2).cuda()
    path = tmp_path / "model.safetensors"
    ember.save({"state": model.state_dict(), "step": ember.tensor(4)}, path)
    loaded = ember.load(path)
    assert loaded["state"]["weight"].device.type == "cuda"
    assert loaded["step"].device.type == "cpu"
    assert_same(loaded["state"]["weight"], model.weight.detach().cpu())
    on_cpu = ember.load(path, map_location={"cuda:0": "cpu"})
    assert on_cpu["state"]["bias"].device.type == "cpu"
    twin = ember.nn.Linear(3, 2).cuda()
    twin.load_state_dict(loaded["state"])
    with ember.no_grad():
        assert_same(twin(ember.ones(1, 3, device="cuda")), model(ember.ones(1, 3).cuda()).cpu())
