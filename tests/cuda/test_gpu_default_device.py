"""ember.set_default_device('cuda') and ``with ember.device('cuda'):``: PyTorch's factory
functions create their tensors on cuda when given no ``device=``, with the CPU's values
(the same Philox stream for the random ones); ``*_like`` functions and tensors sharing
memory with their input stay where their input is.  Marked gpu: without a GPU they run
on the emulated one."""
import numpy as np
import pytest

import ember
import ember.nn as nn

from test_gpu import assert_same

pytestmark = pytest.mark.gpu

FACTORIES = {
    "empty": lambda: ember.empty(2, 3).zero_(),
    "zeros": lambda: ember.zeros(2, 3),
    "ones": lambda: ember.ones(4, dtype=ember.int64),
    "full": lambda: ember.full((2,), 1.5),
    "empty_strided": lambda: ember.empty_strided((2, 2), (1, 2)).fill_(3.0),
    "arange": lambda: ember.arange(5),
    "linspace": lambda: ember.linspace(0, 1, 5),
    "logspace": lambda: ember.logspace(0, 2, 3),
    "eye": lambda: ember.eye(3),
    "tensor": lambda: ember.tensor([[1.0, 2.0]]),
    "as_tensor": lambda: ember.as_tensor([1, 2]),
    "asarray": lambda: ember.asarray([1.0, 2.0]),
    "scalar_tensor": lambda: ember.scalar_tensor(2.5),
    "tril_indices": lambda: ember.tril_indices(3, 3),
    "triu_indices": lambda: ember.triu_indices(3, 4, 1),
    "hann_window": lambda: ember.hann_window(8),
    "kaiser_window": lambda: ember.kaiser_window(6),
    "fftfreq": lambda: ember.fft.fftfreq(6),
    "rfftfreq": lambda: ember.fft.rfftfreq(6),
    "rand": lambda: (ember.manual_seed(3), ember.rand(4))[1],
    "randn": lambda: (ember.manual_seed(3), ember.randn(4))[1],
    "randint": lambda: (ember.manual_seed(3), ember.randint(0, 9, (5,)))[1],
    "randperm": lambda: (ember.manual_seed(3), ember.randperm(6))[1],
}


@pytest.fixture(autouse=True)
def _restore_default():
    yield
    ember.set_default_device(None)


@pytest.mark.parametrize("name", sorted(FACTORIES))
def test_factories_follow_the_default_device(name):
    expected = FACTORIES[name]()
    with ember.device("cuda"):
        assert ember.get_default_device() == ember.device("cuda", 0)
        got = FACTORIES[name]()
    assert ember.get_default_device() == ember.device("cpu")
    assert_same(got, expected)


def test_set_default_device_and_modules():
    ember.manual_seed(0)
    expected = nn.Linear(3, 2)
    ember.set_default_device("cuda")
    ember.manual_seed(0)
    layer = nn.Linear(3, 2)
    x = ember.ones(4, 3)
    assert layer.weight.device.type == "cuda" and x.device.type == "cuda"
    result = layer(x)
    ember.set_default_device(None)
    assert_same(layer.weight.detach(), expected.weight.detach())
    assert_same(result.detach(), expected(ember.ones(4, 3)).detach())


def test_what_the_default_leaves_alone():
    host = ember.arange(3.0)
    with ember.device("cuda"):
        assert ember.zeros_like(host).device.type == "cpu"
        assert ember.from_numpy(np.ones(2)).device.type == "cpu"
        assert ember.zeros(2, device="cpu").device.type == "cpu"
        assert ember.as_tensor(host).device.type == "cuda"


def _train_steps(model_seed=0):
    """Two Adam steps of a small CNN on fixed data: the losses and the final weights."""
    ember.manual_seed(model_seed)
    model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Flatten(), nn.Linear(4 * 4 * 4, 3))
    opt = ember.optim.Adam(model.parameters(), lr=0.01)
    x = ember.linspace(-1, 1, 2 * 64).reshape(2, 1, 8, 8)
    y = ember.tensor([0, 2])
    losses = []
    for _ in range(2):
        opt.zero_grad()
        loss = nn.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        losses.append(loss.detach())
    return ember.stack(losses), model[0].weight.detach()


def test_training_under_a_cuda_default_matches_the_cpu():
    expected = _train_steps()
    ember.set_default_device("cuda")
    got = _train_steps()
    ember.set_default_device(None)
    assert_same(got[0], expected[0])
    assert_same(got[1], expected[1])
