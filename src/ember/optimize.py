"""Exact derivatives of ember objectives for :func:`scipy.optimize.minimize`.

SciPy's optimisers work on flat float64 NumPy vectors. :func:`value_and_grad` wraps an
objective written with ember ops so that ``minimize(f, x0, jac=True)`` gets the value and
the reverse-mode gradient from one call, and :func:`hessp` gives the Hessian-vector
products that ``method='trust-ncg'`` or ``'Newton-CG'`` use, both computed by
:mod:`ember.autograd.functional`.

Examples
--------
>>> import numpy as np
>>> from scipy.optimize import minimize
>>> import ember
>>> def rosenbrock(x):
...     return (100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2).sum()
>>> result = minimize(ember.optimize.value_and_grad(rosenbrock), np.zeros(4), jac=True,
...                   method="BFGS")
>>> np.allclose(result.x, 1.0, atol=1e-4)
True
"""
import numpy as np

import ember
from ember.autograd.functional import hvp, vjp

__all__ = ["value_and_grad", "hessp"]


def _as_tensor(x, shape, dtype):
    return ember.tensor(np.asarray(x, dtype=np.float64), dtype=dtype).reshape(shape)


def _scalar_objective(fun, args, shape, name):
    def objective(t):
        value = fun(t, *args)
        if not isinstance(value, ember.Tensor):
            raise TypeError(f"{name}: the objective must return an ember Tensor, got "
                            f"{type(value).__name__}")
        if value.numel() != 1:
            raise RuntimeError(f"{name}: the objective must return one element, got shape "
                               f"{tuple(value.shape)}")
        return value.reshape(())
    return objective


def value_and_grad(fun, *, shape=None, dtype=ember.float64):
    """Wrap ``fun`` for ``scipy.optimize.minimize(..., jac=True)``.

    Parameters
    ----------
    fun : callable
        ``fun(x, *args)`` computes a one-element ember Tensor from the Tensor ``x`` with
        ember ops (anything autograd differentiates).
    shape : tuple of int, optional
        The shape ``x`` has inside ``fun``; SciPy's flat vector is reshaped to it (and
        the gradient flattened back). The default keeps the flat vector.
    dtype : ember.dtype, optional
        The dtype ``fun`` computes in (float64 by default, SciPy's precision).

    Returns
    -------
    callable
        ``wrapped(x, *args) -> (float, numpy.ndarray)``: the value and the exact gradient
        as a float64 vector.

    Examples
    --------
    >>> import numpy as np
    >>> import ember
    >>> f = ember.optimize.value_and_grad(lambda x: (x ** 2).sum())
    >>> f(np.array([1.0, -2.0]))
    (5.0, array([ 2., -4.]))
    """
    def wrapped(x, *args):
        t = _as_tensor(x, (-1,) if shape is None else shape, dtype)
        value, grad = vjp(_scalar_objective(fun, args, shape, "value_and_grad"), t)
        return float(value), np.array(grad, dtype=np.float64).reshape(-1)
    return wrapped


def hessp(fun, *, shape=None, dtype=ember.float64):
    """Wrap ``fun`` as the ``hessp`` argument of ``scipy.optimize.minimize``.

    Parameters
    ----------
    fun, shape, dtype
        As for :func:`value_and_grad`.

    Returns
    -------
    callable
        ``wrapped(x, p, *args) -> numpy.ndarray``: the Hessian of ``fun`` at ``x`` times
        the vector ``p``, by double backward.

    Examples
    --------
    >>> import numpy as np
    >>> import ember
    >>> hp = ember.optimize.hessp(lambda x: (x ** 3).sum())
    >>> hp(np.array([1.0, 2.0]), np.array([1.0, 1.0]))
    array([ 6., 12.])
    """
    def wrapped(x, p, *args):
        full_shape = (-1,) if shape is None else shape
        t, v = _as_tensor(x, full_shape, dtype), _as_tensor(p, full_shape, dtype)
        _, product = hvp(_scalar_objective(fun, args, shape, "hessp"), t, v)
        return np.array(product, dtype=np.float64).reshape(-1)
    return wrapped
