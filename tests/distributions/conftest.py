"""Puts the shared oracles (tests/autograd, tests/core) on sys.path."""
import sys
from pathlib import Path

_TESTS = Path(__file__).parent.parent
for _folder in ("autograd", "core"):
    if str(_TESTS / _folder) not in sys.path:
        sys.path.insert(0, str(_TESTS / _folder))
