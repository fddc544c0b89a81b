"""The autograd tests import their shared oracle helpers from grad_oracle.py."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
