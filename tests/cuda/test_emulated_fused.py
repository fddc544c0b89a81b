"""test_gpu_fused's comparisons with the CPU, run without a GPU: the norm family (and the
copy, elementwise, reduce and index kernels the ops around it use) compiled for the host
against the emulation of cuda_emulation.py, and CuPy replaced by host memory.  Skipped
where no g++ is found, or where the kernel sources were not built."""
import pytest

import test_gpu_fused as gpu
from cuda_emulation import CXX, build, install
from test_emulated_reduce import cases

CASES = cases(gpu)


@pytest.fixture(scope="module")
def libs(tmp_path_factory):
    if CXX is None:
        pytest.skip("no g++ to compile the kernels for the host")
    try:
        return build(["norm", "copy", "elementwise", "reduce", "scan"],
                     tmp_path_factory.mktemp("cuda_emulation_fused"))
    except FileNotFoundError as exc:
        pytest.skip(f"the rendered kernel sources are missing: {exc}")


@pytest.mark.parametrize("name,kwargs", CASES,
                         ids=[f"{n[5:]}-{'-'.join(map(str, k.values()))}" for n, k in CASES])
def test_gpu_check_passes_on_the_emulated_gpu(monkeypatch, libs, name, kwargs):
    launcher = install(monkeypatch, libs)
    getattr(gpu, name)(**kwargs)
    assert any(n.startswith(("em_cu_layer_norm", "em_cu_batch_norm", "em_cu_group_norm",
                             "em_cu_cross_entropy")) for n in launcher.names)
