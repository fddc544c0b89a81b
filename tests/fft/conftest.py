"""The fft tests use the shared oracles of tests/autograd and tests/core."""
import sys
from pathlib import Path

_TESTS = Path(__file__).parent.parent
for _folder in ("autograd", "core"):
    sys.path.insert(0, str(_TESTS / _folder))
