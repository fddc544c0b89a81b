"""Harness for tests that run on every rank of ``mpiexec -n 2 python -m mpi4py -m pytest``.

* Before and after each test, every rank meets at a watchdog barrier (an ``Ibarrier`` on a
  private communicator, polled): when the ranks diverge (a test failed on one rank before a
  collective the other rank now waits in), the rank that waits longer than
  ``EMBER_TEST_SYNC_TIMEOUT`` seconds prints the test and its failures and aborts the job,
  instead of hanging.
* At the end of the session the exit status is reduced (MAX) across ranks, so a failure
  on one rank fails every rank.
"""
import os
import sys
import time

import pytest
from mpi4py import MPI

import ember.distributed as dist

SYNC_TIMEOUT = float(os.environ.get("EMBER_TEST_SYNC_TIMEOUT", "20"))
_watch = MPI.COMM_WORLD.Dup()
_failures = []


def pytest_configure(config):
    if not dist.is_initialized():
        dist.init_process_group("mpi")


def _meet(where, item):
    request = _watch.Ibarrier()
    deadline = time.monotonic() + SYNC_TIMEOUT
    while not request.Test():
        if time.monotonic() > deadline:
            capture = item.config.pluginmanager.getplugin("capturemanager")
            if capture is not None:
                capture.suspend_global_capture(in_=True)
            sys.stderr.write(f"\n[rank {_watch.Get_rank()}] ranks diverged {where} "
                             f"{item.nodeid}: no other rank arrived within {SYNC_TIMEOUT} s; "
                             "failures on this rank:\n" + "\n".join(_failures) + "\n")
            sys.stderr.flush()
            _watch.Abort(70)
        time.sleep(0.0005)


@pytest.fixture(autouse=True)
def _watchdog(request):
    _meet("before", request.node)
    yield
    _meet("after", request.node)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.failed:
        _failures.append(f"{item.nodeid} ({report.when}):\n{report.longreprtext}")


def pytest_sessionfinish(session, exitstatus):
    session.exitstatus = MPI.COMM_WORLD.allreduce(int(exitstatus), op=MPI.MAX)
