"""test_gpu_conv's comparisons with the CPU, run without a GPU: the conv, pool, copy,
elementwise and reduction kernels compiled for the host against the emulation of
CUDA (cuda_emulation.py), cuBLAS's GEMMs in NumPy (emulated_cuda.py), and CuPy
replaced by host memory.  Skipped where no g++ is found, or where the kernel
sources were not built."""
import pytest

import test_gpu_conv as gpu
from cuda_emulation import CXX, build, install


def cases():
    out = []
    for name in sorted(dir(gpu)):
        fn = getattr(gpu, name)
        if not name.startswith("test_") or not callable(fn):
            continue
        combos = [{}]
        for mark in getattr(fn, "pytestmark", []):
            if mark.name == "parametrize":
                argnames = [a.strip() for a in mark.args[0].split(",")]
                combos = [dict(c, **dict(zip(argnames, v if len(argnames) > 1 else (v,))))
                          for c in combos for v in mark.args[1]]
        out += [(name, c) for c in combos]
    return out


CASES = cases()
# checks that launch no kernel of these families (nothing to compute)
NO_KERNELS = {"test_convolution_of_empty_batches_and_channels"}


@pytest.fixture(scope="module")
def libs(tmp_path_factory):
    if CXX is None:
        pytest.skip("no g++ to compile the kernels for the host")
    try:
        return build(["conv", "pool", "copy", "elementwise", "reduce"],
                     tmp_path_factory.mktemp("cuda_emulation"))
    except FileNotFoundError as exc:
        pytest.skip(f"the rendered kernel sources are missing: {exc}")


@pytest.mark.parametrize("name,kwargs", CASES,
                         ids=[f"{n[5:]}-{'-'.join(map(str, k.values()))}" for n, k in CASES])
def test_gpu_check_passes_on_the_emulated_gpu(monkeypatch, libs, name, kwargs):
    launcher = install(monkeypatch, libs)
    fn = getattr(gpu, name)
    if "monkeypatch" in fn.__code__.co_varnames[:fn.__code__.co_argcount]:
        kwargs = dict(kwargs, monkeypatch=monkeypatch)
    fn(**kwargs)
    ours = ("em_cu_im2col", "em_cu_col2im", "em_cu_max_pool", "em_cu_avg_pool", "em_cu_adaptive",
            "em_cu_pool_scatter")
    assert name in NO_KERNELS or any(n.startswith(ours) for n in launcher.names)
