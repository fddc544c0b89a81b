"""Functions run in child processes by the multiprocessing tests (importable by name)."""
import os
import signal
import sys

import ember


def fill_and_reply(inbox, outbox):
    """Receive a tensor, add one to it in place, send it back with a new tensor of the child's."""
    t = inbox.get()
    t.add_(1)
    outbox.put((t, ember.full((3,), 7.0)))
    # the receiver maps the child's segments through this process (file descriptors): wait for it
    inbox.get()


def sum_tensor(t):
    """The sum of ``t`` as a float, after doubling it in place."""
    t.mul_(2)
    return float(t.sum())


def write_index(i, t):
    """Write ``i + 1`` into element ``i`` of the shared tensor ``t``."""
    t[i] = i + 1


def raise_on_one(i):
    """Raise in process 1."""
    if i == 1:
        raise ValueError(f"bad input in process {i}")


def exit_with(i, code):
    """Exit with ``code`` in process 0."""
    if i == 0:
        sys.exit(code)


def kill_self(i):
    """Die by SIGKILL."""
    os.kill(os.getpid(), signal.SIGKILL)


def hogwild_step(i, shared, lock):
    """One A3C-style update: a local copy's gradient handed to the shared model's optimizer."""
    local = ember.nn.Linear(2, 1)
    local.load_state_dict(shared.state_dict())
    local(ember.ones(1, 2)).sum().backward()   # d/dw = 1, d/db = 1
    for p, shared_p in zip(local.parameters(), shared.parameters()):
        shared_p._grad = p.grad
    with lock:
        ember.optim.SGD(shared.parameters(), lr=0.25).step()
