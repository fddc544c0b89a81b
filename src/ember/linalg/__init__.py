"""``ember.linalg``: linear algebra as ``torch.linalg``."""
from ember.linalg._decomp import (  # noqa: F401
    LinAlgError, qr, svd, svdvals, eig, eigvals, eigh, eigvalsh, householder_product,
)
from ember.linalg._decomp_derived import pinv, matrix_rank, cond  # noqa: F401
