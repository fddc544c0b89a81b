"""ember.optimize: exact gradients of ember objectives for scipy.optimize.minimize."""
import numpy as np
import pytest
from scipy.optimize import minimize, rosen, rosen_der, rosen_hess_prod

import ember
from ember.optimize import hessp, value_and_grad


def rosenbrock(x):
    return (100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2).sum()


def test_value_and_gradient_equal_scipys_rosenbrock():
    x = np.array([-1.2, 1.0, 0.5, 0.3, 2.0])
    value, grad = value_and_grad(rosenbrock)(x)
    assert isinstance(value, float) and grad.dtype == np.float64 and grad.shape == x.shape
    np.testing.assert_allclose(value, rosen(x), rtol=1e-14)
    np.testing.assert_allclose(grad, rosen_der(x), rtol=1e-13)
    p = np.array([0.3, -1.0, 2.0, 0.0, 1.0])
    np.testing.assert_allclose(hessp(rosenbrock)(x, p), rosen_hess_prod(x, p), rtol=1e-13)


@pytest.mark.parametrize("method", ["BFGS", "L-BFGS-B", "CG"])
def test_minimize_finds_the_rosenbrock_minimum(method):
    result = minimize(value_and_grad(rosenbrock), np.array([-1.2, 1.0]), jac=True,
                      method=method, tol=1e-10)
    assert result.success
    np.testing.assert_allclose(result.x, [1.0, 1.0], atol=1e-5)


def test_trust_ncg_with_hessian_vector_products():
    result = minimize(value_and_grad(rosenbrock), np.zeros(4), jac=True,
                      hessp=hessp(rosenbrock), method="trust-ncg", tol=1e-10)
    assert result.success
    np.testing.assert_allclose(result.x, np.ones(4), atol=1e-6)


def test_shape_and_extra_arguments():
    target = np.arange(6.0).reshape(2, 3)

    def distance(w, t):
        assert tuple(w.shape) == (2, 3)
        return ((w - ember.asarray(t)) ** 2).sum()

    result = minimize(value_and_grad(distance, shape=(2, 3)), np.zeros(6), args=(target,),
                      jac=True, method="BFGS")
    np.testing.assert_allclose(result.x.reshape(2, 3), target, atol=1e-6)


def test_objective_must_return_one_element():
    with pytest.raises(RuntimeError, match="one element"):
        value_and_grad(lambda x: x * 2)(np.ones(3))
    with pytest.raises(TypeError, match="ember Tensor"):
        value_and_grad(lambda x: 1.0)(np.ones(3))
