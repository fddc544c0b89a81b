"""Shared fixtures for the multiprocessing tests."""
import gc
import os
import sys
from pathlib import Path

import pytest

# child processes started with 'spawn' import their target functions from mp_workers.py by name
sys.path.insert(0, str(Path(__file__).parent))

import ember.multiprocessing as mp  # noqa: E402

_SHM_DIR = "/dev/shm"


def _segments():
    return {name for name in os.listdir(_SHM_DIR) if name.startswith("ember_")}


@pytest.fixture(autouse=True)
def no_leaked_segments():
    """Fail a test that leaves a shared-memory segment of ember's behind."""
    before = _segments()
    yield
    leaked = _segments() - before
    if leaked:  # a cycle may still hold a storage: collect before judging (collecting is slow)
        gc.collect()
        leaked = _segments() - before
    assert not leaked, f"shared-memory segments left behind: {sorted(leaked)}"


@pytest.fixture(params=["file_descriptor", "file_system"])
def sharing_strategy(request):
    """Run a test under each sharing strategy, then restore the default."""
    old = mp.get_sharing_strategy()
    mp.set_sharing_strategy(request.param)
    yield request.param
    mp.set_sharing_strategy(old)


@pytest.fixture
def fork():
    """The 'fork' multiprocessing context."""
    return mp.get_context("fork")
