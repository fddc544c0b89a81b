"""Fixtures shared by every suite: the ``device`` fixture runs a test on the CPU and,
when ember sees a CUDA GPU (CuPy installed and a device visible), on ``cuda``; tests
marked ``gpu`` skip with the reason when there is none -- except those that
tests/cuda/conftest.py hands to the emulated GPU (marked ``emulated_gpu``)."""
import pytest


def pytest_addoption(parser):
    parser.addoption(
        "--emulated-gpu", choices=("all", "sample", "off"), default="all",
        help="without a GPU, run tests/cuda/test_gpu*.py on the emulated GPU "
             "(tests/cuda/cuda_emulation.py): all of them (default), a sample of each "
             "test's parametrizations, or none (they skip)")


def _cuda_missing():
    """Why cuda tests cannot run here, or None when they can."""
    import ember
    if ember.cuda.is_available():
        return None
    try:
        import cupy  # noqa: F401
    except ImportError:
        return "no CUDA: CuPy is not installed (pip install 'ember[cuda]')"
    return "no CUDA: CuPy sees no GPU"


def pytest_collection_modifyitems(config, items):
    reason = None
    for item in items:
        if "gpu" in item.keywords and "emulated_gpu" not in item.keywords:
            if reason is None:
                reason = _cuda_missing() or ""
            if reason:
                item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(params=["cpu", pytest.param("cuda", marks=pytest.mark.gpu)])
def device(request):
    """'cpu', then 'cuda' (marked gpu: skipped with the reason without a GPU)."""
    return request.param


@pytest.fixture(autouse=True)
def _restore_cuda_initialized():
    """Tests that stand in for CuPy (a recording fake, the emulated GPU) make ember.cuda
    believe a GPU was found; put its flag back so later tests see this machine as it is."""
    from ember.cuda import _runtime
    initialized = _runtime.initialized
    yield
    _runtime.initialized = initialized
