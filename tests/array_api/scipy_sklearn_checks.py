"""Calls SciPy and scikit-learn functions on ember tensors and on NumPy arrays.

Run by test_scipy_sklearn.py in a subprocess with SCIPY_ARRAY_API=1 (read once, when SciPy
is imported). Prints one JSON object: for each check, the type name of the result on ember
input and the largest difference from the NumPy result.
"""
import json
import warnings

import numpy as np
import scipy.fft
import scipy.ndimage
import scipy.optimize
import scipy.signal
import scipy.special
import scipy.stats
import sklearn
from sklearn.datasets import make_classification
from sklearn.decomposition import PCA
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
from sklearn.linear_model import Ridge
from sklearn.metrics import (accuracy_score, average_precision_score, log_loss,
                             mean_squared_error, r2_score, roc_auc_score, roc_curve)
from sklearn.preprocessing import MinMaxScaler, StandardScaler

import ember

rng = np.random.default_rng(0)
a, b = rng.standard_normal(32), rng.standard_normal(32)
X, y = make_classification(n_samples=120, n_features=6, n_informative=4, random_state=0)
y_reg = X @ np.arange(6.0) + 0.1


def first(result):
    return result[0] if isinstance(result, tuple) else result


SCIPY = {
    "special.erf": lambda x, y: scipy.special.erf(x),
    "special.gammaln": lambda x, y: scipy.special.gammaln(x),
    "special.xlogy": lambda x, y: scipy.special.xlogy(abs(x), abs(y)),
    "special.logsumexp": lambda x, y: scipy.special.logsumexp(x),
    "special.softmax": lambda x, y: scipy.special.softmax(x),
    "special.log_softmax": lambda x, y: scipy.special.log_softmax(x),
    "special.entr": lambda x, y: scipy.special.entr(abs(x)),
    "stats.zscore": lambda x, y: scipy.stats.zscore(x),
    "stats.skew": lambda x, y: scipy.stats.skew(x),
    "stats.kurtosis": lambda x, y: scipy.stats.kurtosis(x),
    "stats.moment": lambda x, y: scipy.stats.moment(x, order=3),
    "stats.ttest_1samp": lambda x, y: scipy.stats.ttest_1samp(x, 0.0).statistic,
    "stats.ttest_ind": lambda x, y: scipy.stats.ttest_ind(x, y).pvalue,
    "stats.pearsonr": lambda x, y: scipy.stats.pearsonr(x, y).statistic,
    "stats.describe": lambda x, y: scipy.stats.describe(x).variance,
    "stats.gmean": lambda x, y: scipy.stats.gmean(abs(x)),
    "stats.sem": lambda x, y: scipy.stats.sem(x),
    "signal.fftconvolve": lambda x, y: scipy.signal.fftconvolve(x, y),
    "signal.convolve": lambda x, y: scipy.signal.convolve(x, y),
    "signal.correlate": lambda x, y: scipy.signal.correlate(x, y),
    "signal.lfilter": lambda x, y: scipy.signal.lfilter(y[:3], y[3:6] * 0.1 + 1, x),
    "signal.detrend": lambda x, y: scipy.signal.detrend(x),
    "fft.fft": lambda x, y: scipy.fft.fft(x),
    "fft.rfft": lambda x, y: scipy.fft.rfft(x),
    "fft.dct": lambda x, y: scipy.fft.dct(x),
    "ndimage.gaussian_filter": lambda x, y: scipy.ndimage.gaussian_filter(x, 1.0),
    "ndimage.median_filter": lambda x, y: scipy.ndimage.median_filter(x, 3),
    "optimize.rosen": lambda x, y: scipy.optimize.rosen(x),
    "optimize.rosen_der": lambda x, y: scipy.optimize.rosen_der(x),
}

SKLEARN = {
    "LinearDiscriminantAnalysis.predict_proba":
        lambda X, y, t: LinearDiscriminantAnalysis().fit(X, y).predict_proba(X),
    "LinearDiscriminantAnalysis.predict":
        lambda X, y, t: LinearDiscriminantAnalysis().fit(X, y).predict(X),
    # components are defined up to sign
    "PCA.transform": lambda X, y, t: abs(PCA(n_components=3, svd_solver="full").fit(X)
                                         .transform(X)),
    "Ridge.predict": lambda X, y, t: Ridge(alpha=1.0, solver="svd").fit(X, t).predict(X),
    "StandardScaler.fit_transform": lambda X, y, t: StandardScaler().fit_transform(X),
    "MinMaxScaler.fit_transform": lambda X, y, t: MinMaxScaler().fit_transform(X),
}


# metrics on labels and scores: a ranking's curve, areas, losses
scores = 1 / (1 + np.exp(-(X[:, 0] + 0.5 * X[:, 1])))
METRICS = {
    "roc_curve": lambda y, s: roc_curve(y, s)[1],
    "roc_auc_score": roc_auc_score,
    "average_precision_score": average_precision_score,
    "log_loss": log_loss,
    "accuracy_score": lambda y, s: accuracy_score(y, (s > 0.5) * 1),
    "mean_squared_error": mean_squared_error,
    "r2_score": r2_score,
}


def compare(ours, reference):
    ours, reference = first(ours), first(reference)
    difference = float(np.max(np.abs(np.asarray(ours) - np.asarray(reference))))
    return {"type": type(ours).__name__, "difference": difference}


def main():
    results = {}
    for name, fn in SCIPY.items():
        results[name] = compare(fn(ember.asarray(a), ember.asarray(b)), fn(a, b))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, fn in SKLEARN.items():
            with sklearn.config_context(array_api_dispatch=True):
                ours = fn(ember.asarray(X), ember.asarray(y), ember.asarray(y_reg))
            results[name] = compare(ours, fn(X, y, y_reg))
        for name, fn in METRICS.items():
            with sklearn.config_context(array_api_dispatch=True):
                ours = fn(ember.asarray(y), ember.asarray(scores))
            results["metrics." + name] = compare(ours, fn(y, scores))
    print(json.dumps(results))


if __name__ == "__main__":
    main()
