"""The special-function tests import the shared helpers of tests/autograd and tests/core."""
import sys
from pathlib import Path

tests = Path(__file__).parent.parent
for folder in ("autograd", "core"):
    if str(tests / folder) not in sys.path:
        sys.path.insert(0, str(tests / folder))
