"""SciPy and scikit-learn take ember tensors and give ember tensors back.

SCIPY_ARRAY_API must be set before SciPy is imported, so the calls run in one subprocess
(scipy_sklearn_checks.py) that reports every result at once.
"""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import ember

SCRIPT = Path(__file__).with_name("scipy_sklearn_checks.py")


@pytest.fixture(scope="module")
def results():
    env = dict(os.environ, SCIPY_ARRAY_API="1")
    src = str(Path(ember.__file__).parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (src, env.get("PYTHONPATH")) if p)
    done = subprocess.run([sys.executable, str(SCRIPT)], capture_output=True, text=True,
                          env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_scipy_functions_return_ember_tensors_equal_to_numpy(results):
    scipy_results = {k: v for k, v in results.items() if k.split(".")[0] in
                     ("special", "stats", "signal", "fft", "ndimage", "optimize")}
    assert len(scipy_results) >= 25
    wrong_type = {k: v["type"] for k, v in scipy_results.items() if v["type"] != "Tensor"}
    assert not wrong_type
    inexact = {k: v["difference"] for k, v in scipy_results.items() if v["difference"] > 1e-10}
    assert not inexact


def test_sklearn_estimators_fit_and_predict_on_ember_tensors(results):
    estimators = {k: v for k, v in results.items() if k[0].isupper()}
    assert {k.split(".")[0] for k in estimators} >= {"LinearDiscriminantAnalysis", "PCA",
                                                     "Ridge"}
    wrong_type = {k: v["type"] for k, v in estimators.items() if v["type"] != "Tensor"}
    assert not wrong_type
    inexact = {k: v["difference"] for k, v in estimators.items() if v["difference"] > 1e-9}
    assert not inexact


def test_sklearn_metrics_on_ember_tensors(results):
    # roc_curve calls xp.diff(x, 2): n by position, as NumPy and PyTorch take it
    metrics = {k: v for k, v in results.items() if k.startswith("metrics.")}
    assert len(metrics) == 7
    assert results["metrics.roc_curve"]["type"] == "Tensor"
    # accuracy_score averages booleans in the default float dtype: float32, as PyTorch's
    tolerance = {"metrics.accuracy_score": 1e-6}
    inexact = {k: v["difference"] for k, v in metrics.items()
               if v["difference"] > tolerance.get(k, 1e-12)}
    assert not inexact
