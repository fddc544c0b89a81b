"""Shared helpers for the vision tests: synthetic IDX files and a small PNG reader."""
import sys
from pathlib import Path

# the test modules import write_idx / write_mnist / read_png from vision_files.py
sys.path.insert(0, str(Path(__file__).parent))

import pytest  # noqa: E402

import ember  # noqa: E402


@pytest.fixture
def restore_default_dtype():
    """Run a test that changes ember's default dtype, then put it back."""
    default = ember.get_default_dtype()
    yield
    ember.set_default_dtype(default)
