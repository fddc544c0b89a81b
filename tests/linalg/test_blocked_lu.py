"""ember's blocked LU (float32 matrices from 64 rows and columns) against LAPACK's
sgetrf: the same pivots, factors within float32 rounding, LAPACK's info for exact
zero pivots, and results that do not depend on the thread count."""
import numpy as np
import pytest
import scipy.linalg
import torch

import ember

rng = np.random.default_rng(7)


def _factor(a, threads=None):
    previous = ember.get_num_threads()
    if threads is not None:
        ember.set_num_threads(threads)
    try:
        lu, piv = ember.linalg.lu_factor(ember.from_numpy(a))
    finally:
        ember.set_num_threads(previous)
    return lu.numpy(), piv.numpy()


@pytest.mark.parametrize("m,n", [(64, 64), (256, 256), (97, 97), (300, 257), (257, 300),
                                 (64, 200), (200, 64)])
def test_lu_factor_matches_lapack(m, n):
    a = rng.standard_normal((m, n)).astype(np.float32)
    lu, piv = _factor(a)
    ref_lu, ref_piv = scipy.linalg.lu_factor(a) if m == n else (None, None)
    if ref_piv is not None:
        np.testing.assert_array_equal(piv - 1, ref_piv)
        np.testing.assert_allclose(lu, ref_lu, rtol=0, atol=2e-3)
    # P A = L U to float32 rounding, whatever the shape
    P, L, U = ember.linalg.lu(ember.from_numpy(a))
    np.testing.assert_allclose((P @ L @ U).numpy(), a, rtol=0, atol=5e-5)
    tp, _, _ = torch.linalg.lu(torch.from_numpy(a))
    np.testing.assert_array_equal(P.numpy(), tp.numpy())


def test_thread_count_does_not_change_the_bits():
    a = rng.standard_normal((320, 320)).astype(np.float32)
    one = _factor(a, threads=1)
    two = _factor(a, threads=2)
    np.testing.assert_array_equal(one[0], two[0])
    np.testing.assert_array_equal(one[1], two[1])


def test_zero_pivot_reports_lapack_info_and_completes():
    a = rng.standard_normal((128, 128)).astype(np.float32)
    a[:, 70] = 0.0                      # column 70 (0-based) gives the first zero pivot
    at = ember.from_numpy(a.copy())
    lu, piv, info = ember.linalg.lu_factor_ex(at)
    assert info.item() == 71
    _, _, tinfo = torch.linalg.lu_factor_ex(torch.from_numpy(a))
    assert tinfo.item() == 71
    with pytest.raises(ember.linalg.LinAlgError, match="singular"):
        ember.linalg.solve(at, ember.ones(128, 1))


@pytest.mark.parametrize("batch", [1, 3])
def test_solve_large_float32(batch):
    n = 150
    a = (rng.standard_normal((batch, n, n)) + n * np.eye(n)).astype(np.float32)
    b = rng.standard_normal((batch, n, 4)).astype(np.float32)
    x = ember.linalg.solve(ember.from_numpy(a), ember.from_numpy(b)).numpy()
    np.testing.assert_allclose(x, np.linalg.solve(a.astype(np.float64), b), rtol=0, atol=1e-5)
    # a transposed (row-major) operand goes through the transposed factorization
    xt = ember.linalg.solve(ember.from_numpy(a).mT, ember.from_numpy(b)).numpy()
    np.testing.assert_allclose(xt, np.linalg.solve(a.transpose(0, 2, 1).astype(np.float64), b),
                               rtol=0, atol=1e-5)
