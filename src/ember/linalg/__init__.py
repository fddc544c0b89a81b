"""``ember.linalg``: linear algebra as ``torch.linalg`` gives it.

Solvers and factorizations (LAPACK through SciPy, batched without the GIL), norms and
matrix functions, every one differentiable with PyTorch's formulas.
"""
from ember.linalg._common import LinAlgError
from ember.linalg._solve import solve, solve_ex, inv, inv_ex, det, slogdet
from ember.linalg._factor import (cholesky, cholesky_ex, solve_triangular, lu_factor, lu_factor_ex, lu, lu_solve)  # noqa: E501
