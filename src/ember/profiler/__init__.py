"""Profiling, as ``torch.profiler``: which ops a program runs, how often, and where its
CPU time goes.

:class:`profile` records each op call (``ember::matmul``...), each
:class:`record_function` range and each autograd node run in ``backward()``; its
:meth:`~profile.key_averages` sums them per name into a table; a :func:`schedule`
picks the steps of a training loop to record, and :func:`tensorboard_trace_handler`
writes each recorded cycle as a Chrome trace.  ``ember.autograd.profiler`` is the older
API on the same recorder.  No op is slowed down while no profiler records.
"""
from ember.profiler._events import EventList, FunctionEvent, FunctionEventAvg
from ember.profiler._recorder import record_function
from ember.profiler.profiler import (
    ProfilerAction, ProfilerActivity, profile, schedule, supported_activities,
    tensorboard_trace_handler,
)

__all__ = ["EventList", "FunctionEvent", "FunctionEventAvg", "ProfilerAction",
           "ProfilerActivity", "profile", "record_function", "schedule",
           "supported_activities", "tensorboard_trace_handler"]
