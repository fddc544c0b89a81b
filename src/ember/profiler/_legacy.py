"""``ember.autograd.profiler.profile``: PyTorch's older profiler API, one recording per
``with`` block; :class:`ember.profiler.profile` drives one of these per cycle of its
schedule."""
import warnings

from ember.profiler import _recorder
from ember.profiler._events import EventList

__all__ = ["profile"]


class profile:
    """Record the op calls of a block of code (the CPU time of each, nested as they ran).

    Parameters
    ----------
    enabled : bool
        ``False`` makes the context manager do nothing.
    use_cuda : bool
        Deprecated in PyTorch; ember records the CPU side of every op, whatever its device.
    use_device : str, optional
        Accepted for PyTorch's signature (no device time is recorded).
    record_shapes : bool
        Record the shapes of each call's tensor arguments (``input_shapes``).
    with_flops : bool
        Accepted for PyTorch's signature; ember does not estimate FLOPs.
    profile_memory : bool
        Not supported: ember's CPU allocator keeps no count of the bytes it hands out,
        so ``True`` warns and no memory columns are shown.
    with_stack : bool
        Record the Python call site of each event (``stack``).
    with_modules : bool
        Accepted for PyTorch's signature; module hierarchies are not recorded.
    use_kineto, use_cpu, experimental_config, custom_trace_id_callback
        Accepted for PyTorch's signature.
    acc_events : bool
        Keep the events of earlier recordings of this object when it records again.

    Examples
    --------
    >>> import ember
    >>> from ember.autograd import profiler
    >>> x = ember.ones(4, 4)
    >>> with profiler.profile(record_shapes=True) as prof:
    ...     y = x.sum()
    >>> [(e.key, e.count, e.input_shapes)
    ...  for e in prof.key_averages(group_by_input_shape=True)]
    [('ember::sum', 1, [[4, 4]])]
    """

    def __init__(self, enabled=True, *, use_cuda=False, use_device=None, record_shapes=False,
                 with_flops=False, profile_memory=False, with_stack=False, with_modules=False,
                 use_kineto=False, use_cpu=True, experimental_config=None, acc_events=False,
                 custom_trace_id_callback=None, **kwargs):
        self.enabled = enabled
        self.use_cuda = use_cuda
        if use_cuda:
            warnings.warn("The attribute `use_cuda` will be deprecated soon, please use "
                          "``use_device = 'cuda'`` instead.", FutureWarning, stacklevel=2)
        self.use_device = "cuda" if use_cuda else use_device
        self.record_shapes = record_shapes
        self.with_flops = with_flops
        self.profile_memory = profile_memory
        if profile_memory:
            warnings.warn("ember's profiler does not record memory: its CPU allocator keeps "
                          "no count of the bytes it hands out", UserWarning, stacklevel=2)
        self.with_stack = with_stack
        self.with_modules = with_modules
        self.acc_events = acc_events
        self.entered = False
        self._recorder = None
        self._function_events = None

    def __enter__(self):
        if not self.enabled:
            return None
        if self.entered:
            raise RuntimeError("Profiler context manager is not reentrant")
        self._prepare_trace()
        self._start_trace()
        return self

    def _prepare_trace(self):
        self.entered = True

    def _start_trace(self):
        self.entered = True
        self._recorder = _recorder.Recorder(self.record_shapes, self.with_stack)
        _recorder.start(self._recorder)

    def __exit__(self, exc_type, exc_val, exc_tb):
        if not self.enabled:
            return False
        _recorder.stop(self._recorder)
        earlier = self._function_events if self.acc_events else None
        self._function_events = EventList(self._recorder.events,
                                          profile_memory=self.profile_memory)
        if earlier:
            self._function_events.extend(earlier)
        return False

    def __repr__(self):
        if self._function_events is None:
            return "<unfinished ember.autograd.profile>"
        return repr(self._function_events)

    def __str__(self):
        if self._function_events is None:
            return "<unfinished ember.autograd.profile>"
        return str(self._function_events)

    def _events(self):
        if self._function_events is None:
            raise RuntimeError("Profiler didn't finish running")
        return self._function_events

    @property
    def function_events(self):
        """The recorded :class:`~ember.profiler.FunctionEvent`\\ s, in the order they
        started (an :class:`~ember.autograd.profiler.EventList`)."""
        return self._events()

    def events(self):
        """The recorded events (:attr:`function_events`)."""
        return self._events()

    def table(self, sort_by=None, row_limit=100, max_src_column_width=75,
              max_name_column_width=55, max_shapes_column_width=80, header=None,
              top_level_events_only=False):
        """The recorded events, one row each, as PyTorch's table (see
        :meth:`EventList.table`)."""
        return self._events().table(
            sort_by=sort_by, row_limit=row_limit, max_src_column_width=max_src_column_width,
            max_name_column_width=max_name_column_width,
            max_shapes_column_width=max_shapes_column_width, header=header,
            top_level_events_only=top_level_events_only)

    def export_chrome_trace(self, path):
        """Write the events to ``path`` as a Chrome trace (see
        :meth:`EventList.export_chrome_trace`)."""
        return self._events().export_chrome_trace(path)

    def export_stacks(self, path, metric="self_cpu_time_total"):
        """Write each event's call site and ``metric`` to ``path`` for flame graph tools
        (see :meth:`EventList.export_stacks`); needs ``with_stack=True``."""
        if not self.with_stack:
            raise AssertionError("export_stacks() requires with_stack=True")
        return self._events().export_stacks(path, metric)

    def key_averages(self, group_by_input_shape=False, group_by_stack_n=0,
                     group_by_overload_name=False):
        """The events summed per name (see :meth:`EventList.key_averages`)."""
        return self._events().key_averages(group_by_input_shape, group_by_stack_n,
                                           group_by_overload_name)

    def total_average(self):
        """All events summed into one average (see :meth:`EventList.total_average`)."""
        return self._events().total_average()

    @property
    def self_cpu_time_total(self):
        """The sum of the events' self times, in microseconds."""
        return self._events().self_cpu_time_total
