"""Shared helpers for the vision tests: synthetic IDX files and a small PNG reader."""
import sys
import types
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


def _import_torchvision():
    """Import torchvision, the oracle, even where its C extension was built for another torch
    (a CUDA wheel next to a CPU torch): the tests use only its pure-Python transforms and
    data sets, so the fake kernels it registers for its own operators are skipped."""
    try:
        import torchvision  # noqa: F401
    except ImportError:
        return
    except RuntimeError:
        for name in [n for n in sys.modules if n.split(".")[0] == "torchvision"]:
            del sys.modules[name]
        sys.modules["torchvision._meta_registrations"] = types.ModuleType(
            "torchvision._meta_registrations")
        import torchvision  # noqa: F401


_import_torchvision()
