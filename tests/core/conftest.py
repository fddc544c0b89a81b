"""Shared fixtures for the core tests."""
import sys
from pathlib import Path

import pytest

# the test modules import their shared comparison helpers from core_oracle.py
sys.path.insert(0, str(Path(__file__).parent))

import ember


@pytest.fixture
def restore_default_dtype():
    """Run a test that changes the default dtype, then put ember's (and torch's) back."""
    import torch
    ember_default, torch_default = ember.get_default_dtype(), torch.get_default_dtype()
    yield
    ember.set_default_dtype(ember_default)
    torch.set_default_dtype(torch_default)
