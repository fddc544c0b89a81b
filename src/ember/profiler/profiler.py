"""``ember.profiler.profile`` and its schedule, as ``torch.profiler``: record some steps of
a training loop, hand each recorded cycle to a callback, print or export it."""
import enum
import os
import socket
import time
import warnings
from functools import partial

from ember.profiler import _legacy
from ember.profiler._recorder import record_function

__all__ = ["ProfilerAction", "ProfilerActivity", "profile", "schedule",
           "supported_activities", "tensorboard_trace_handler"]


class ProfilerActivity(enum.Enum):
    """What a profiler records: ``CPU`` (op calls, user ranges) or ``CUDA`` (kernels on
    the GPU).  ember times the CPU side of every op, whatever its device."""

    CPU = 0
    CUDA = 2


def supported_activities():
    """The activities this build can profile: ``CPU``, and ``CUDA`` when a GPU is there.

    Returns
    -------
    set of ProfilerActivity
    """
    import ember.cuda
    activities = {ProfilerActivity.CPU}
    if ember.cuda.is_available():
        activities.add(ProfilerActivity.CUDA)
    return activities


class ProfilerAction(enum.Enum):
    """What the profiler does at a step, as a :func:`schedule` returns it.

    ``NONE`` does nothing, ``WARMUP`` prepares, ``RECORD`` records and
    ``RECORD_AND_SAVE`` records and, at the end of the step, hands the cycle to
    ``on_trace_ready``.  ``DEVICE_STOPPED`` is PyTorch's internal state for a GPU tracer
    that stopped early; a schedule must not return it.
    """

    NONE = 0
    WARMUP = 1
    RECORD = 2
    RECORD_AND_SAVE = 3
    DEVICE_STOPPED = 4


def schedule(*, wait, warmup, active, repeat=0, skip_first=0, skip_first_wait=0):
    """A profiler schedule: skip ``skip_first`` steps, then cycle through ``wait`` idle
    steps, ``warmup`` steps and ``active`` recorded steps, ``repeat`` times (0: until
    the profiler stops).

    Parameters
    ----------
    wait, warmup, active, repeat, skip_first : int
        The cycle's phases, in steps.
    skip_first_wait : int
        Nonzero skips the first cycle's ``wait`` phase.

    Returns
    -------
    callable
        ``step -> ProfilerAction``.

    Examples
    --------
    >>> from ember.profiler import schedule
    >>> s = schedule(wait=1, warmup=1, active=2, repeat=1)
    >>> [s(k).name for k in range(5)]
    ['NONE', 'WARMUP', 'RECORD', 'RECORD_AND_SAVE', 'NONE']
    """
    def schedule_fn(step):
        if step < 0:
            raise AssertionError(f"Step must be non-negative. Got {step}.")
        if step < skip_first:
            return ProfilerAction.NONE
        step -= skip_first
        if skip_first_wait != 0:
            step += wait
        num_steps = wait + warmup + active
        if repeat > 0 and step / num_steps >= repeat:
            return ProfilerAction.NONE
        mod_step = step % num_steps
        if mod_step < wait:
            return ProfilerAction.NONE
        if mod_step < wait + warmup:
            return ProfilerAction.WARMUP
        return (ProfilerAction.RECORD if mod_step < num_steps - 1
                else ProfilerAction.RECORD_AND_SAVE)

    if wait < 0 or warmup < 0 or active <= 0 or repeat < 0 or skip_first < 0:
        raise AssertionError(
            f"Invalid profiler schedule arguments. Got wait={wait} (need >= 0), "
            f"warmup={warmup} (need >= 0), active={active} (need > 0), repeat={repeat} "
            f"(need >= 0), skip_first={skip_first} (need >= 0).")
    if warmup == 0:
        warnings.warn("Profiler won't be using warmup, this can skew profiler results",
                      stacklevel=2)
    return schedule_fn


def _default_schedule_fn(_):
    return ProfilerAction.RECORD


def tensorboard_trace_handler(dir_name, worker_name=None, use_gzip=False):
    """An ``on_trace_ready`` callback writing each recorded cycle as a Chrome trace file
    ``<worker_name>.<time_ns>.pt.trace.json`` in ``dir_name`` (made if missing).

    Parameters
    ----------
    dir_name : str
        The folder, to give TensorBoard as its logdir (or open the files in Perfetto).
    worker_name : str, optional
        Unique per worker; ``"<hostname>_<pid>"`` by default.
    use_gzip : bool
        Not supported (ember writes plain JSON); ``True`` raises.

    Returns
    -------
    callable
    """
    if use_gzip:
        raise NotImplementedError("tensorboard_trace_handler: ember writes plain JSON traces")

    def handler_fn(prof):
        nonlocal worker_name
        if not os.path.isdir(dir_name):
            try:
                os.makedirs(dir_name, exist_ok=True)
            except Exception as e:
                raise RuntimeError("Can't create directory: " + dir_name) from e
        if not worker_name:
            worker_name = f"{socket.gethostname()}_{os.getpid()}"
        file_name = f"{worker_name}.{time.time_ns()}.pt.trace.json"
        prof.export_chrome_trace(os.path.join(dir_name, file_name))
    return handler_fn


class profile:
    """Profile a block of code, or some steps of a loop as a :func:`schedule` picks them.

    A context manager (or call :meth:`start` and :meth:`stop`); call :meth:`step` at the
    end of each step.  Each op call (``ember::add``, ``ember::linear``...), each
    :class:`record_function` range and each autograd node run in ``backward()``
    (``autograd::engine::evaluate_function: MulBackward0``) is an event with its CPU time,
    nested as they ran.  Nothing is hooked while no profiler records: ops then run at
    full speed.

    Parameters
    ----------
    activities : iterable of ProfilerActivity, optional
        Default :func:`supported_activities`.  ember records the CPU side of every op.
    schedule : callable, optional
        ``step -> ProfilerAction`` (see :func:`schedule`); default: record every step.
        With one, each step is also a ``ProfilerStep#<n>`` range.
    on_trace_ready : callable, optional
        Called with this profiler when a cycle's recording ends (at a
        ``RECORD_AND_SAVE`` step's end, or at :meth:`stop` while recording).
    record_shapes : bool
        Record the shapes of each op's tensor arguments.
    profile_memory : bool
        Not supported: ember's CPU allocator keeps no count of allocated bytes; ``True``
        warns.
    with_stack : bool
        Record each event's Python call site.
    with_flops, with_modules, experimental_config, execution_trace_observer,
    custom_trace_id_callback, post_processing_timeout_s
        Accepted for PyTorch's signature; not recorded.
    acc_events : bool
        Keep the events of earlier cycles in :meth:`events`.
    use_cuda : bool, optional
        Deprecated in PyTorch: adds or removes ``ProfilerActivity.CUDA``.

    Examples
    --------
    >>> import ember
    >>> from ember.profiler import profile, ProfilerActivity
    >>> x = ember.randn(16, 16)
    >>> with profile(activities=[ProfilerActivity.CPU], record_shapes=True) as prof:
    ...     y = (x @ x).relu().sum()
    >>> [(e.key, e.count) for e in prof.key_averages()]
    [('ember::matmul', 1), ('ember::relu', 1), ('ember::sum', 1)]
    >>> table = prof.key_averages().table(sort_by="cpu_time_total", row_limit=5)
    """

    def __init__(self, *, activities=None, schedule=None, on_trace_ready=None,
                 record_shapes=False, profile_memory=False, with_stack=False,
                 with_flops=False, with_modules=False, experimental_config=None,
                 execution_trace_observer=None, acc_events=False, use_cuda=None,
                 custom_trace_id_callback=None, post_processing_timeout_s=None):
        activities_set = set()
        if activities is not None:
            for item in activities:
                if isinstance(item, ProfilerActivity):
                    activities_set.add(item)
                elif isinstance(item, dict):
                    activities_set.update(item.keys())
        else:
            activities_set = supported_activities()
        if use_cuda is not None:
            warnings.warn("`use_cuda` is deprecated, use `activities` argument instead",
                          FutureWarning, stacklevel=2)
            if use_cuda:
                activities_set.add(ProfilerActivity.CUDA)
            else:
                activities_set.discard(ProfilerActivity.CUDA)
        if len(activities_set) == 0:
            raise AssertionError("No valid profiler activities found")
        if profile_memory:
            warnings.warn("ember's profiler does not record memory: its CPU allocator keeps "
                          "no count of the bytes it hands out", UserWarning, stacklevel=2)
        self.activities = activities_set
        self.record_shapes = record_shapes
        self.with_stack = with_stack
        self.with_flops = with_flops
        self.with_modules = with_modules
        self.acc_events = acc_events
        self.profiler = None
        if schedule:
            self.schedule = schedule
            self.record_steps = True      # each step is a ProfilerStep#<n> range
        else:
            self.schedule = _default_schedule_fn
            self.record_steps = False
        self.on_trace_ready = on_trace_ready
        self.step_num = 0
        self.step_rec_fn = None
        action = self.schedule(self.step_num)
        if action == ProfilerAction.DEVICE_STOPPED:
            raise ValueError("ProfilerAction.DEVICE_STOPPED is set internally by the "
                             "profiler and must not be returned by a user-provided schedule")
        self.current_action = action
        A = ProfilerAction
        # PyTorch's transitions: (previous action, current action) -> what to do
        self.action_map = {
            (A.NONE, A.NONE): [],
            (A.NONE, A.WARMUP): [self.prepare_trace],
            (A.NONE, A.RECORD): [self.prepare_trace, self.start_trace],
            (A.NONE, A.RECORD_AND_SAVE): [self.prepare_trace, self.start_trace],
            (A.WARMUP, A.NONE): [partial(warnings.warn,
                                         "Incorrect schedule: WARMUP followed by NONE"),
                                 self.start_trace, self.stop_trace],
            (A.WARMUP, A.WARMUP): [],
            (A.WARMUP, A.RECORD): [self.start_trace],
            (A.WARMUP, A.RECORD_AND_SAVE): [self.start_trace],
            (A.RECORD, A.NONE): [partial(warnings.warn,
                                         "Incorrect schedule: RECORD followed by NONE"),
                                 self.stop_trace],
            (A.RECORD, A.WARMUP): [partial(warnings.warn,
                                           "Incorrect schedule: RECORD followed by WARMUP"),
                                   self.stop_trace],
            (A.RECORD, A.RECORD): [],
            (A.RECORD, A.RECORD_AND_SAVE): [],
            (A.RECORD_AND_SAVE, A.NONE): [self.stop_trace, self._trace_ready],
            (A.RECORD_AND_SAVE, A.WARMUP): [self.stop_trace, self._trace_ready,
                                            self.prepare_trace],
            (A.RECORD_AND_SAVE, A.RECORD): [self.stop_trace, self._trace_ready,
                                            self.prepare_trace, self.start_trace],
            (A.RECORD_AND_SAVE, A.RECORD_AND_SAVE): [self.stop_trace, self._trace_ready,
                                                     self.prepare_trace, self.start_trace],
            (A.WARMUP, None): [self.start_trace, self.stop_trace],
            (A.RECORD, None): [self.stop_trace, self._trace_ready],
            (A.RECORD_AND_SAVE, None): [self.stop_trace, self._trace_ready],
        }

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, exc_type, exc_val, exc_tb):
        self.stop()
        return False

    def start(self):
        """Start profiling (what the schedule says for step 0)."""
        self._transit_action(ProfilerAction.NONE, self.current_action)
        if self.record_steps:
            self.step_rec_fn = record_function("ProfilerStep#" + str(self.step_num))
            self.step_rec_fn.__enter__()

    def stop(self):
        """Stop profiling; a cycle being recorded goes to ``on_trace_ready``."""
        if self.record_steps and self.step_rec_fn:
            self.step_rec_fn.__exit__(None, None, None)
            self.step_rec_fn = None
        self._transit_action(self.current_action, None)

    def step(self):
        """Signal that the next step starts: the schedule says what to do now."""
        if self.record_steps and self.step_rec_fn:
            self.step_rec_fn.__exit__(None, None, None)
            self.step_rec_fn = None
        prev_action = self.current_action
        self.step_num += 1
        action = self.schedule(self.step_num)
        if action == ProfilerAction.DEVICE_STOPPED:
            raise ValueError("ProfilerAction.DEVICE_STOPPED is set internally by the "
                             "profiler and must not be returned by a user-provided schedule")
        self.current_action = action
        self._transit_action(prev_action, self.current_action)
        if self.record_steps:
            self.step_rec_fn = record_function("ProfilerStep#" + str(self.step_num))
            self.step_rec_fn.__enter__()

    def _transit_action(self, prev_action, current_action):
        for action in self.action_map.get((prev_action, current_action), []):
            action()

    def _trace_ready(self):
        if self.on_trace_ready:
            self.on_trace_ready(self)

    # ---------------------------------------------------------------- recording
    def prepare_trace(self):
        """Get a new recording ready (the ``WARMUP`` phase)."""
        if self.profiler is None or not self.acc_events:
            self.profiler = _legacy.profile(record_shapes=self.record_shapes,
                                            with_stack=self.with_stack,
                                            with_flops=self.with_flops,
                                            with_modules=self.with_modules,
                                            acc_events=self.acc_events)
        self.profiler._prepare_trace()

    def start_trace(self):
        """Start recording."""
        if self.profiler is None:
            self.prepare_trace()
        self.profiler._start_trace()

    def stop_trace(self):
        """Stop recording; the events are then available."""
        if self.profiler is not None:
            self.profiler.__exit__(None, None, None)

    def _finished(self):
        if self.profiler is None:
            raise AssertionError("Expected profiling results")
        return self.profiler

    def events(self):
        """The events of the last recorded cycle (of every cycle with ``acc_events``), in
        the order they started.

        Returns
        -------
        EventList
        """
        return self._finished().function_events

    def key_averages(self, group_by_input_shape=False, group_by_stack_n=0,
                     group_by_overload_name=False):
        """The events summed per name (and input shapes or call site when asked).

        Parameters
        ----------
        group_by_input_shape : bool
            Tell apart calls by their input shapes (needs ``record_shapes=True``).
        group_by_stack_n : int
            Tell apart calls by their innermost ``n`` frames (needs ``with_stack=True``).
        group_by_overload_name : bool
            Accepted for PyTorch's signature.

        Returns
        -------
        EventList
            Of :class:`FunctionEventAvg`; ``.table(sort_by=..., row_limit=...)`` prints it.
        """
        return self._finished().key_averages(group_by_input_shape, group_by_stack_n,
                                             group_by_overload_name)

    def export_chrome_trace(self, path):
        """Write the events to ``path`` as a Chrome trace JSON file (atomically)."""
        return self._finished().export_chrome_trace(path)

    def export_stacks(self, path, metric="self_cpu_time_total"):
        """Write each event's call site and ``metric`` to ``path`` for flame graph tools
        (``"outer;...;inner microseconds"`` lines); needs ``with_stack=True``."""
        if self.profiler is None:
            raise AssertionError("Profiler must be initialized before exporting stacks")
        return self.profiler.export_stacks(path, metric)
