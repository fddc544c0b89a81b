"""test_gpu_reduce's comparisons with the CPU, run without a GPU: the reduction, scan,
softmax, copy and elementwise kernels compiled for the host against a small emulation
of CUDA (cuda_emulation.py), and CuPy replaced by host memory.  Skipped where no g++
is found, or where the kernel sources were not built."""
import pytest

import ember

import test_gpu_reduce as gpu
from cuda_emulation import CXX, build, install

# the slowest check, on fewer dtypes: each of its reductions runs many blocks
DTYPES_OF = {"test_max_min_argmax_with_ties_and_nan_match_cpu": [ember.int32, ember.float16]}


def cases(module=gpu):
    """(test name, keyword arguments) for each parametrisation of ``module``'s tests."""
    out = []
    for name in sorted(dir(module)):
        fn = getattr(module, name)
        if not name.startswith("test_") or not callable(fn):
            continue
        combos = [{}]
        for mark in getattr(fn, "pytestmark", []):
            if mark.name == "parametrize":
                argnames = [a.strip() for a in mark.args[0].split(",")]
                values = DTYPES_OF.get(name, mark.args[1]) if argnames == ["dtype"] \
                    else mark.args[1]
                combos = [dict(c, **dict(zip(argnames, v if len(argnames) > 1 else (v,))))
                          for c in combos for v in values]
        out += [(name, c) for c in combos]
    return out


CASES = cases()


@pytest.fixture(scope="module")
def libs(tmp_path_factory):
    if CXX is None:
        pytest.skip("no g++ to compile the kernels for the host")
    try:
        return build(["reduce", "scan", "copy", "elementwise"],
                     tmp_path_factory.mktemp("cuda_emulation"))
    except FileNotFoundError as exc:
        pytest.skip(f"the rendered kernel sources are missing: {exc}")


@pytest.mark.parametrize("name,kwargs", CASES,
                         ids=[f"{n[5:]}-{'-'.join(map(str, k.values()))}" for n, k in CASES])
def test_gpu_check_passes_on_the_emulated_gpu(monkeypatch, libs, name, kwargs):
    launcher = install(monkeypatch, libs)
    getattr(gpu, name)(**kwargs)
    assert any(n.startswith(("em_cu_red_", "em_cu_cum", "em_cu_softmax", "em_cu_log_softmax"))
               for n in launcher.names)
