"""Shared fixtures for the core tests."""
import pytest

import ember


@pytest.fixture
def restore_default_dtype():
    """Run a test that changes the default dtype, then put ember's (and torch's) back."""
    torch = pytest.importorskip("torch")
    ember_default, torch_default = ember.get_default_dtype(), torch.get_default_dtype()
    yield
    ember.set_default_dtype(ember_default)
    torch.set_default_dtype(torch_default)
