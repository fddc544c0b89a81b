"""The dtypes linalg's out= tensors may have, against torch: the result's own for most
functions, a safely castable one for pinv and matrix_power(A, 0); the errors word for word
(a silent cast into an integer out would truncate the result)."""
import pytest
import torch

import ember

CALLS = {
    "inv": lambda L, o: L.linalg.inv(L.eye(3) * 2, out=o),
    "det": lambda L, o: L.linalg.det(L.eye(3) * 2, out=o),
    "solve": lambda L, o: L.linalg.solve(L.eye(3) * 2, L.ones(3), out=o),
    "cholesky": lambda L, o: L.linalg.cholesky(L.eye(3), out=o),
    "vector_norm": lambda L, o: L.linalg.vector_norm(L.ones(3), out=o),
    "cross": lambda L, o: L.linalg.cross(L.ones(3), L.ones(3), out=o),
    "svdvals": lambda L, o: L.linalg.svdvals(L.eye(3), out=o),
    "slogdet": lambda L, o: L.linalg.slogdet(L.eye(2), out=(o, o.clone())),
    "pinv": lambda L, o: L.linalg.pinv(L.eye(3), out=o),
    "matrix_power": lambda L, o: L.linalg.matrix_power(L.eye(3), 2, out=o),
    "matrix_power_0": lambda L, o: L.linalg.matrix_power(L.eye(3), 0, out=o),
}


@pytest.mark.parametrize("name", CALLS)
@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "complex128"])
def test_out_dtype_rules_match_torch(name, dtype):
    outcomes = []
    for lib in (torch, ember):
        out = lib.zeros(0, dtype=getattr(lib, dtype))
        try:
            CALLS[name](lib, out)
            outcomes.append(("ok", tuple(out.shape)))
        except RuntimeError as err:
            outcomes.append(("error", str(err)))
    assert outcomes[1] == outcomes[0]
