"""The CUDA tests import their shared helpers from cuda_helpers.py.

Without a real GPU, the tests of test_gpu*.py (marked ``gpu``) run on the emulated
GPU of cuda_emulation.py: every kernel family compiled for the host once per session,
CuPy replaced for each test.  ``--emulated-gpu=all`` (the default) runs all of them,
``sample`` SAMPLE of each test function's parametrizations, ``off`` none; tests marked
``real_gpu`` never run there.  Where no g++ or no rendered kernel sources are found,
they skip as the other gpu tests do.
"""
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

# with --emulated-gpu=sample: at most this many of each test function's
# parametrizations, spread evenly over its cases in collection order
SAMPLE = 24


def _emulation_missing():
    """Why the emulated GPU cannot run here, or None."""
    import ember
    from cuda_emulation import CXX, FAMILIES
    if ember.cuda.is_available():
        return "a real GPU is visible"
    if CXX is None:
        return "no g++ to compile the kernels for the emulated GPU"
    from ember.cuda import _kernels
    missing = [f for f in FAMILIES if not _kernels.kernel_file(f + ".cu").is_file()]
    if missing:
        return f"the rendered kernel sources are missing: {', '.join(missing)}"
    return None


def _sample(items):
    """The items kept by --emulated-gpu=sample: SAMPLE per test function, evenly spread."""
    groups = {}
    for item in items:
        groups.setdefault((item.path, item.originalname), []).append(item)
    kept = set()
    for group in groups.values():
        step = max(1.0, len(group) / SAMPLE)
        kept.update(id(group[int(k * step)]) for k in range(min(SAMPLE, len(group))))
    return kept


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    mode = config.getoption("--emulated-gpu")
    candidates = [item for item in items if "gpu" in item.keywords
                  and item.path.parent == Path(__file__).parent
                  and item.path.name.startswith("test_gpu")]
    if mode == "off" or not candidates or _emulation_missing():
        return
    kept = _sample(candidates) if mode == "sample" else {id(item) for item in candidates}
    for item in candidates:
        if "real_gpu" in item.keywords:
            continue
        item.add_marker(pytest.mark.emulated_gpu)
        if id(item) not in kept:
            item.add_marker(pytest.mark.skip(
                reason="sampled out on the emulated GPU (--emulated-gpu=all runs it)"))


@pytest.fixture(scope="session")
def emulated_kernels(tmp_path_factory):
    """Every kernel family compiled for the host (cuda_emulation.build)."""
    from cuda_emulation import FAMILIES, build
    return build(FAMILIES, tmp_path_factory.mktemp("cuda_emulation"))


@pytest.fixture(autouse=True)
def _on_the_emulated_gpu(request):
    """Tests marked emulated_gpu run with CuPy replaced by the emulation."""
    if request.node.get_closest_marker("emulated_gpu") is None:
        yield None
        return
    from cuda_emulation import install
    libs = request.getfixturevalue("emulated_kernels")
    yield install(request.getfixturevalue("monkeypatch"), libs)
