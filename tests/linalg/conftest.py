"""Put the shared oracles of the autograd and core tests on the import path."""
import sys
from pathlib import Path

_tests = Path(__file__).parent.parent
for folder in ("autograd", "core"):
    sys.path.insert(0, str(_tests / folder))
