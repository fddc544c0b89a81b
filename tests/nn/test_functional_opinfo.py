"""Regressions found by running PyTorch's OpInfo samples for ``nn.functional`` against
ember: each case is one sample input copied from the database, compared with torch."""
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from functional_oracle import compare  # noqa: E402

rng = np.random.default_rng(7)


def randn(*shape):
    return rng.standard_normal(shape)


@pytest.mark.parametrize("pads", [(-1, 1, -2, 1), (1, -1, 0, 0), (2, -3, -1, -1)])
def test_pad_circular_negative_crops_before_wrapping(pads):
    compare(lambda F, lib, x: F.pad(x, pads, mode="circular"), randn(1, 3, 5, 5))
