"""ember.load accepts torch.load's weights_only (ember never unpickles either way):
a training checkpoint loads the same with every value."""
import io

import numpy as np
import pytest

import ember


@pytest.mark.parametrize("weights_only", [None, True, False])
def test_load_accepts_weights_only(weights_only):
    buffer = io.BytesIO()
    state = {"weight": ember.arange(6.0).reshape(2, 3), "step": 3, "lr": [0.1, None]}
    ember.save(state, buffer)
    buffer.seek(0)
    loaded = ember.load(buffer, map_location="cpu", weights_only=weights_only)
    assert loaded["step"] == 3 and loaded["lr"] == [0.1, None]
    np.testing.assert_array_equal(np.asarray(loaded["weight"]), np.arange(6.0).reshape(2, 3))

