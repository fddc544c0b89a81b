"""Shared helpers for the vision tests: synthetic IDX files and a small PNG reader."""
import sys
from pathlib import Path

# the test modules import write_idx / write_mnist / read_png from vision_files.py
sys.path.insert(0, str(Path(__file__).parent))
