"""``ember.linalg``: linear algebra as ``torch.linalg`` gives it.

Solvers, factorizations and decompositions (LAPACK through SciPy, batched without the
GIL), norms and matrix functions, every one differentiable with PyTorch's formulas.

The signatures use the argument names of PyTorch's documentation (``A``, ``B``); where its
Python binding names an argument otherwise, that keyword is accepted too
(``eigh(input=A)``, ``lstsq(input=A, b=B)``, ``tensorsolve(input=A, other=B)``).
"""
from ember.linalg._common import LinAlgError
from ember.linalg._solve import solve, solve_ex, inv, inv_ex, det, slogdet
from ember.linalg._factor import (cholesky, cholesky_ex, solve_triangular, lu_factor, lu_factor_ex, lu, lu_solve)  # noqa: E501
from ember.linalg._lstsq import lstsq
from ember.linalg._norms import vector_norm, matrix_norm, norm
from ember.linalg._matfun import (matrix_power, matrix_exp, multi_dot, cross, vecdot, tensorinv, tensorsolve, diagonal, matmul)  # noqa: E501
from ember.linalg._ldl import ldl_factor_ex, ldl_factor, ldl_solve
from ember.linalg._decomp import (qr, svd, svdvals, eig, eigvals, eigh, eigvalsh, householder_product)  # noqa: E501
from ember.linalg._decomp_derived import pinv, matrix_rank, cond
from ember.ops.api_functions import linalg_vander as vander

__all__ = ["LinAlgError", "solve", "solve_ex", "inv", "inv_ex", "det", "slogdet", "cholesky",
           "cholesky_ex", "solve_triangular", "lu_factor", "lu_factor_ex", "lu", "lu_solve",
           "lstsq", "vector_norm", "matrix_norm", "norm", "matrix_power", "matrix_exp",
           "multi_dot", "cross", "vecdot", "tensorinv", "tensorsolve", "qr", "svd", "svdvals",
           "eig", "eigvals", "eigh", "eigvalsh", "householder_product", "pinv", "matrix_rank",
           "cond", "vander", "diagonal", "matmul", "ldl_factor_ex", "ldl_factor", "ldl_solve"]

# Tensor methods PyTorch has for these (the top-level forms, tensor first)
from ember._core._tensor import _add_method as _add  # noqa: E402
from ember.linalg._solve import logdet as _logdet  # noqa: E402
from ember.linalg._factor import cholesky_inverse as _cholesky_inverse, cholesky_top_level as _cholesky_top  # noqa: E402,E501

for _name, _fn in {"det": det, "slogdet": slogdet, "logdet": _logdet, "inverse": inv,
                   "cholesky": _cholesky_top, "cholesky_inverse": _cholesky_inverse,
                   "matrix_power": matrix_power, "matrix_exp": matrix_exp}.items():
    _add(_name, _fn)
del _name, _fn, _add
