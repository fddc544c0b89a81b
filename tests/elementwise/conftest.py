"""Put the shared comparison helpers (tests/autograd/grad_oracle.py, tests/core/core_oracle.py)
on sys.path for the elementwise-math tests."""
import sys
from pathlib import Path

_TESTS = Path(__file__).resolve().parent.parent
for _folder in ("autograd", "core"):
    if str(_TESTS / _folder) not in sys.path:
        sys.path.insert(0, str(_TESTS / _folder))
