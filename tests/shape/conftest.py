"""The shape/indexing tests share the autograd oracle and the core comparison helpers."""
import sys
from pathlib import Path

_TESTS = Path(__file__).parent.parent
for _folder in ("autograd", "core", "shape"):
    sys.path.insert(0, str(_TESTS / _folder))
