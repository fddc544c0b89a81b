"""ember.set_default_device / get_default_device and ``with ember.device(...)``, as
PyTorch's: the default fills in a missing ``device=`` of the factory functions, per
thread; tensors sharing memory with their input and the ``*_like`` functions ignore it.
Without a GPU only the CPU can be the default; tests/cuda/test_gpu_default_device.py
runs the same on cuda (on the emulated GPU in CI)."""
import threading

import numpy as np
import pytest

import ember


@pytest.fixture(autouse=True)
def _restore_default():
    yield
    ember.set_default_device(None)


def test_the_default_is_the_cpu():
    assert ember.get_default_device() == ember.device("cpu")
    assert ember.zeros(2).device == ember.device("cpu")


@pytest.mark.parametrize("spelling", ["cpu", ember.device("cpu"), None])
def test_setting_the_cpu(spelling):
    ember.set_default_device(spelling)
    assert ember.get_default_device() == ember.device("cpu")
    assert ember.tensor([1.0]).device.type == "cpu"


def test_device_block_restores_the_previous_default():
    with ember.device("cpu") as dev:
        assert dev == ember.device("cpu")
        assert ember.get_default_device() == ember.device("cpu")
        with ember.device("cpu"):
            assert ember.ones(1).device.type == "cpu"
    assert ember.get_default_device() == ember.device("cpu")


def test_bad_devices_are_refused():
    with pytest.raises(RuntimeError, match="Expected one of cpu, cuda"):
        ember.set_default_device("tpu")
    with pytest.raises(TypeError):
        ember.set_default_device(1.5)


def test_cuda_without_cupy_or_a_gpu_fails_when_a_tensor_is_made():
    if ember.cuda.is_available():
        pytest.skip("a GPU is present")
    ember.set_default_device("cuda")
    with pytest.raises(RuntimeError, match="cuda|CUDA|CuPy"):
        ember.zeros(2)
    ember.set_default_device("cpu")
    assert ember.zeros(2).device.type == "cpu"
    # from_numpy shares memory: never moved
    assert ember.from_numpy(np.zeros(2)).device.type == "cpu"


def test_the_default_is_per_thread():
    ember.set_default_device("cuda")   # nothing is created on this thread
    seen = []
    worker = threading.Thread(target=lambda: seen.append(ember.get_default_device()))
    worker.start()
    worker.join()
    assert seen == [ember.device("cpu")]
