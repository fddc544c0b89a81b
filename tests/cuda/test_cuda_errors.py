"""ember.cuda without CuPy or without a GPU: is_available() is False and never raises;
the calls PyTorch answers without CUDA (device_count, seeding, memory counters,
empty_cache) answer the same; everything that needs a device raises a RuntimeError
saying what is missing."""
import builtins
import types

import pytest

import ember
from ember.cuda import _runtime

# the deprecated memory names warn before they find no device, as torch's
pytestmark = pytest.mark.filterwarnings("ignore:.*(renamed|resets /all/):FutureWarning")

NEEDS_DEVICE = [
    lambda: ember.cuda.current_device(),
    lambda: ember.cuda.set_device(0),
    lambda: ember.cuda.synchronize(),
    lambda: ember.cuda.Stream(),
    lambda: ember.cuda.Event(),
    lambda: ember.cuda.current_stream(),
    lambda: ember.cuda.reset_peak_memory_stats(),
    lambda: ember.cuda.get_device_name(),
    lambda: ember.cuda.get_device_properties(0),
    lambda: ember.cuda.device(0),
    lambda: ember.ones(3, device="cuda"),
    lambda: ember.ones(3).cuda(),
    lambda: ember.ones(3).to("cuda:0"),
    lambda: ember.arange(4, device="cuda"),
    lambda: ember.cuda.init(),
    lambda: ember.cuda.get_device_capability(),
    lambda: ember.cuda.mem_get_info(),
    lambda: ember.cuda.memory_summary(),
    lambda: ember.cuda.reset_max_memory_allocated(),
    lambda: ember.cuda.set_per_process_memory_fraction(0.5),
    lambda: ember.cuda.get_per_process_memory_fraction(),
    lambda: ember.cuda.default_stream(),
    lambda: ember.cuda.ExternalStream(0),
    lambda: ember.cuda.ipc_collect(),
    lambda: ember.cuda.can_device_access_peer(0, 0),
    lambda: ember.cuda.device_of(ember.ones(1, device="cuda")),
]


@pytest.fixture
def without_cupy(monkeypatch):
    real_import = builtins.__import__

    def no_cupy(name, *args, **kwargs):
        if name == "cupy" or name.startswith("cupy."):
            raise ImportError("No module named 'cupy'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_cupy)
    monkeypatch.setattr(_runtime, "_cupy", None)
    monkeypatch.setattr(_runtime, "_gpu_count", None)


def _no_device(*args):
    raise RuntimeError("cudaErrorNoDevice: no CUDA-capable device is detected")


@pytest.fixture
def without_gpu(monkeypatch):
    """CuPy present (a stand-in: the test extra does not install CuPy) but no device."""
    fake = types.SimpleNamespace(cuda=types.SimpleNamespace(
        runtime=types.SimpleNamespace(getDeviceCount=_no_device)))
    monkeypatch.setattr(_runtime, "_cupy", fake)
    monkeypatch.setattr(_runtime, "_gpu_count", None)


def test_is_available_without_cupy(without_cupy):
    assert ember.cuda.is_available() is False


@pytest.mark.parametrize("call", range(len(NEEDS_DEVICE)))
def test_calls_without_cupy_say_how_to_install_it(without_cupy, call):
    with pytest.raises(RuntimeError, match=r"needs CuPy: pip install 'ember\[cuda\]'"):
        NEEDS_DEVICE[call]()


def test_is_available_and_device_count_without_gpu(without_gpu):
    assert ember.cuda.is_available() is False
    assert ember.cuda.device_count() == 0


@pytest.mark.parametrize("call", range(len(NEEDS_DEVICE)))
def test_calls_without_gpu_say_no_gpu_is_visible(without_gpu, call):
    with pytest.raises(RuntimeError, match="no CUDA GPU is visible"):
        NEEDS_DEVICE[call]()


@pytest.mark.parametrize("setup", ["without_cupy", "without_gpu"])
def test_answers_without_a_gpu_are_torchs_without_cuda(setup, request):
    request.getfixturevalue(setup)
    assert ember.cuda.is_bf16_supported() is False
    assert ember.cuda.is_bf16_supported(including_emulation=False) is False
    assert ember.cuda.is_tf32_supported() is False
    assert ember.cuda.is_initialized() in (True, False)
    with ember.cuda.StreamContext(None):         # no stream: nothing to do
        pass
    with ember.cuda.device_of(ember.ones(2)):    # a CPU tensor: no device to make current
        pass
    assert isinstance(ember.cuda.get_gencode_flags(), str)


@pytest.mark.parametrize("setup", ["without_cupy", "without_gpu"])
def test_seeding_and_memory_counters_answer_as_torch_without_cuda(setup, request):
    # set_seed() helpers call torch.cuda.manual_seed_all unguarded ("safe to call this
    # function if CUDA is not available; in that case, it is silently ignored")
    request.getfixturevalue(setup)
    state = ember.get_rng_state()
    for seeding in (ember.cuda.manual_seed, ember.cuda.manual_seed_all):
        assert seeding(0) is None
    assert ember.cuda.seed() is None and ember.cuda.seed_all() is None
    assert ember.equal(ember.get_rng_state(), state)
    assert ember.cuda.device_count() == 0
    assert ember.cuda.empty_cache() is None
    for counter in (ember.cuda.memory_allocated, ember.cuda.max_memory_allocated,
                    ember.cuda.memory_reserved, ember.cuda.max_memory_reserved):
        assert counter() == 0
    assert ember.cuda.memory_stats() == {}
    assert ember.cuda.get_rng_state_all() == []


@pytest.mark.parametrize("setup", ["without_cupy", "without_gpu"])
def test_gpu_script_boilerplate_runs_without_a_gpu(setup, request, monkeypatch):
    # seed_everything() and memory logging, as scripts written for a GPU call them
    # unguarded: PyTorch ignores the seeds and answers 0 before CUDA is in use
    request.getfixturevalue(setup)
    monkeypatch.setattr(_runtime, "initialized", False)
    assert ember.cuda.device_count() == 0
    for seed_call in (lambda: ember.cuda.manual_seed(0), lambda: ember.cuda.manual_seed_all(0),
                      ember.cuda.seed, ember.cuda.seed_all):
        assert seed_call() is None
    assert ember.cuda.get_rng_state_all() == []
    ember.cuda.empty_cache()
    assert ember.cuda.memory_allocated() == 0
    assert ember.cuda.max_memory_allocated() == 0
    assert ember.cuda.memory_reserved() == ember.cuda.max_memory_reserved() == 0
    assert ember.cuda.memory_cached() == ember.cuda.max_memory_cached() == 0
    assert ember.cuda.memory_stats() == {}

def test_cpu_work_never_imports_cupy(without_cupy):
    x = ember.ones(3) * 2 + ember.arange(3)
    assert x.tolist() == [2.0, 3.0, 4.0]
    assert ember.ones(2, device="cpu").device.type == "cpu"


def test_event_refuses_interprocess():
    with pytest.raises(ValueError, match="interprocess"):
        ember.cuda.Event(interprocess=True)


def test_cuda_device_objects_need_no_gpu():
    assert ember.device("cuda", 1).index == 1
    assert str(ember.device("cuda:0")) == "cuda:0"
