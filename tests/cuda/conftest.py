"""The CUDA tests import their shared helpers from cuda_helpers.py."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
