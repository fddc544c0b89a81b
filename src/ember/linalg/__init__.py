"""``ember.linalg``: linear algebra as ``torch.linalg``."""
from ember.linalg._decomp import (  # noqa: F401
    LinAlgError, qr, svd, svdvals, eig, eigvals, eigh, eigvalsh, pinv, matrix_rank, cond,
    householder_product,
)
