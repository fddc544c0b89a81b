"""Smoke tests: every asv benchmark runs once, and the comparison tool runs.

Benchmarks are only timed by asv and tools/bench_compare.py; these tests make
sure they keep working as the API changes.
"""
import importlib.util
import inspect
import itertools
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BENCH_DIR = ROOT / "asv_bench" / "benchmarks"


def _benchmark_classes():
    for path in sorted(BENCH_DIR.glob("bench_*.py")):
        spec = importlib.util.spec_from_file_location(f"asv_{path.stem}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        for name, cls in vars(module).items():
            if (inspect.isclass(cls) and cls.__module__ == module.__name__
                    and not name.startswith("_")):  # asv skips private bases too
                yield pytest.param(cls, id=f"{path.stem}.{name}")


@pytest.mark.parametrize("cls", list(_benchmark_classes()))
def test_benchmark_runs_once(cls):
    params = getattr(cls, "params", [])
    if params and not isinstance(params[0], list):
        params = [params]
    methods = [m for m in dir(cls) if m.startswith(("time_", "mem_", "peakmem_", "track_"))]
    assert methods, f"{cls.__name__} has no benchmark method"
    for combo in itertools.product(*params) if params else [()]:
        bench = cls()
        if hasattr(bench, "setup"):
            bench.setup(*combo)
        try:
            for name in methods:
                getattr(bench, name)(*combo)
        finally:
            if hasattr(bench, "teardown"):
                bench.teardown(*combo)


def test_asv_finds_and_checks_the_suite_offline():
    """``asv check --python=same`` imports the suite in this environment, with no network."""
    import asv  # noqa: F401  (part of the test extra)
    result = subprocess.run([sys.executable, "-m", "asv", "check", "--python=same"],
                            cwd=ROOT / "asv_bench", capture_output=True, text=True, timeout=300,
                            stdin=subprocess.DEVNULL)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No problems found" in result.stdout, result.stdout


def test_bench_compare_prints_medians_and_ratios(capsys):
    """The comparison tool runs (in this process, leaving the environment alone)."""
    spec = importlib.util.spec_from_file_location("bench_compare", ROOT / "tools" / "bench_compare.py")
    bench_compare = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench_compare)
    import ember
    threads = ember.get_num_threads()
    assert bench_compare.main(["--quick", "--filter", "(4,)"]) == 0
    assert ember.get_num_threads() == threads
    lines = capsys.readouterr().out.splitlines()
    assert any(line.startswith("case") and "numpy/ember" in line for line in lines)
    rows = [line for line in lines if line.startswith("a + b (4,)")]
    assert len(rows) == 1 and rows[0].count("x") >= 2, lines
    assert any(line.startswith("zeros((4,))") for line in lines)
    assert not any(line.startswith("x.T (") for line in lines)  # filtered out


def test_bench_training_prints_step_ratios(capsys):
    """The training-step comparison runs a case and restores the thread counts."""
    spec = importlib.util.spec_from_file_location("bench_training",
                                                  ROOT / "tools" / "bench_training.py")
    bench_training = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench_training)
    import ember
    threads = ember.get_num_threads()
    assert bench_training.main(["--quick", "--filter", "batch 64, SGD"]) == 0
    assert ember.get_num_threads() == threads
    rows = [line for line in capsys.readouterr().out.splitlines() if line.startswith("MLP")]
    assert len(rows) == 1 and rows[0].rstrip().endswith("0.7x"), rows
