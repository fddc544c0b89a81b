"""``ember.linalg``: linear algebra as ``torch.linalg`` gives it.

Solvers and factorizations (LAPACK through SciPy, batched without the GIL), norms and
matrix functions, every one differentiable with PyTorch's formulas.
"""
from ember.linalg._common import LinAlgError
from ember.linalg._solve import solve, solve_ex, inv, inv_ex, det, slogdet
from ember.linalg._factor import (cholesky, cholesky_ex, solve_triangular, lu_factor, lu_factor_ex, lu, lu_solve)  # noqa: E501
from ember.linalg._lstsq import lstsq
from ember.linalg._norms import vector_norm, matrix_norm, norm
from ember.linalg._matfun import (matrix_power, matrix_exp, multi_dot, cross, vecdot, tensorinv, tensorsolve)  # noqa: E501

__all__ = ["LinAlgError", "solve", "solve_ex", "inv", "inv_ex", "det", "slogdet", "cholesky",
           "cholesky_ex", "solve_triangular", "lu_factor", "lu_factor_ex", "lu", "lu_solve",
           "lstsq", "vector_norm", "matrix_norm", "norm", "matrix_power", "matrix_exp",
           "multi_dot", "cross", "vecdot", "tensorinv", "tensorsolve"]
