"""What a profiler recorded: one :class:`FunctionEvent` per op call or user range, their
averages per name (:class:`FunctionEventAvg`), and :class:`EventList`, which prints
them as PyTorch's table and writes them as a Chrome trace.

Times are in microseconds, as in ``torch.autograd.profiler_util``.  ember profiles the
CPU only: the device columns PyTorch adds for CUDA are left out, and the ``device_*``
attributes are zero (so that ``sort_by="cuda_time_total"`` still sorts, as in PyTorch).
"""
import json
import os
import tempfile
from collections import defaultdict

__all__ = ["EventList", "FunctionEvent", "FunctionEventAvg"]


def _format_time(time_us):
    if time_us >= 1e6:
        return f"{time_us / 1e6:.3f}s"
    if time_us >= 1e3:
        return f"{time_us / 1e3:.3f}ms"
    return f"{time_us:.3f}us"


def _format_time_share(time_us, total_us):
    if total_us == 0:
        return "NaN"
    return f"{time_us * 100.0 / total_us:.2f}%"


class FunctionEvent:
    """One recorded call: an op (``ember::add``), a user range (``record_function``) or
    the backward of a graph node (``autograd::engine::evaluate_function: AddBackward0``).

    Attributes
    ----------
    id : int
        The event's number, in the order events started.
    name : str
        What was called; also the event's :attr:`key`.  The ranges of the profiler's
        steps are all named ``"ProfilerStep*"``, so that the table sums them.
    trace_name : str
        The name in the Chrome trace: ``"ProfilerStep#3"`` for a step, else :attr:`name`.
    thread : int
        The id of the thread that ran it.
    start_us, end_us : float
        Start and end, in microseconds since the profiler started.
    input_shapes : list
        The shapes of the tensor arguments (``[]`` for the others) when the profiler was
        created with ``record_shapes=True``, else ``[]``.
    stack : list of str
        ``"file(line): function"`` frames of the Python call site, innermost first, when
        created with ``with_stack=True``, else ``[]``.
    cpu_parent : FunctionEvent or None
        The event this one ran inside of.
    cpu_children : list of FunctionEvent
        The events that ran directly inside this one.
    is_user_annotation : bool
        Whether the event is a :class:`record_function` range.
    """

    count = 1
    is_async = False
    is_remote = False
    is_legacy = False
    node_id = -1
    scope = 0
    flops = 0
    cpu_memory_usage = 0
    self_cpu_memory_usage = 0
    device_memory_usage = 0
    self_device_memory_usage = 0
    device_time_total = 0
    self_device_time_total = 0
    device_time = 0

    def __init__(self, id, name, thread, start_us, end_us=None, input_shapes=None,
                 stack=None, is_user_annotation=False, trace_name=None):
        self.id = id
        self.name = name
        self.trace_name = name if trace_name is None else trace_name
        self.thread = thread
        self.start_us = start_us
        self.end_us = start_us if end_us is None else end_us
        self.input_shapes = input_shapes if input_shapes is not None else []
        self.stack = stack if stack is not None else []
        self.is_user_annotation = is_user_annotation
        self.cpu_parent = None
        self.cpu_children = []

    @property
    def key(self):
        """The name the averages group by."""
        return self.name

    @property
    def cpu_time_total(self):
        """Time from start to end, in microseconds."""
        return self.end_us - self.start_us

    @property
    def self_cpu_time_total(self):
        """:attr:`cpu_time_total` less that of the children."""
        return self.cpu_time_total - sum(c.cpu_time_total for c in self.cpu_children)

    @property
    def cpu_time(self):
        """The average time per call (one call: :attr:`cpu_time_total`)."""
        return self.cpu_time_total

    def __repr__(self):
        return (f"<FunctionEvent id={self.id} name={self.name} thread={self.thread} "
                f"cpu_time_total={self.cpu_time_total:.3f}us "
                f"self_cpu_time_total={self.self_cpu_time_total:.3f}us "
                f"input_shapes={self.input_shapes}>")


class FunctionEventAvg:
    """The sum of the events of one key (a name, and the input shapes or the stack when
    grouped by them): :attr:`count` calls taking :attr:`cpu_time_total` microseconds,
    :attr:`cpu_time` on average."""

    is_async = False
    is_remote = False
    node_id = 0
    scope = 0
    flops = 0
    cpu_parent = None
    cpu_memory_usage = 0
    self_cpu_memory_usage = 0
    device_memory_usage = 0
    self_device_memory_usage = 0
    device_time_total = 0
    self_device_time_total = 0
    device_time = 0

    def __init__(self):
        self.key = None
        self.count = 0
        self.cpu_time_total = 0
        self.self_cpu_time_total = 0
        self.input_shapes = None
        self.stack = None
        self.cpu_children = None
        self.is_user_annotation = False

    def add(self, other):
        """Add event (or average) ``other``, of the same key, to this one."""
        if self.key is None:
            self.key = other.key
            self.input_shapes = other.input_shapes
            self.stack = other.stack
            self.cpu_children = other.cpu_children
            self.is_user_annotation = other.is_user_annotation
        elif other.key != self.key:
            raise AssertionError(f"Expected keys to match, got {self.key} vs {other.key}")
        self.count += other.count
        self.cpu_time_total += other.cpu_time_total
        self.self_cpu_time_total += other.self_cpu_time_total
        return self

    def __iadd__(self, other):
        return self.add(other)

    @property
    def cpu_time(self):
        """The average time per call, in microseconds."""
        return 0.0 if self.count == 0 else self.cpu_time_total / self.count

    def __repr__(self):
        return (f"<FunctionEventAvg key={self.key} self_cpu_time={self.self_cpu_time_total:.3f}us "
                f"cpu_time={self.cpu_time:.3f}us input_shapes={self.input_shapes}>")


class EventList(list):
    """A list of :class:`FunctionEvent` (or of :class:`FunctionEventAvg`, as
    :meth:`key_averages` returns) that prints as a table and exports as a Chrome trace."""

    def __init__(self, *args, profile_memory=False, with_flops=False, **kwargs):
        super().__init__(*args)
        self._profile_memory = profile_memory
        self._with_flops = with_flops

    @property
    def self_cpu_time_total(self):
        """The sum of the events' self times, in microseconds: the time profiled."""
        return sum(e.self_cpu_time_total for e in self)

    def key_averages(self, group_by_input_shapes=False, group_by_stack_n=0,
                     group_by_overload_name=False):
        """The events summed per name.

        Parameters
        ----------
        group_by_input_shapes : bool
            Also tell apart calls by their input shapes (needs ``record_shapes=True``).
        group_by_stack_n : int
            Also tell apart calls by the innermost ``n`` frames of their call site (needs
            ``with_stack=True``).
        group_by_overload_name : bool
            Accepted for PyTorch's signature; ember's ops have no overload names.

        Returns
        -------
        EventList
            One :class:`FunctionEventAvg` per key, in the order the keys first occur;
            as in PyTorch, their ``input_shapes`` are ``""`` unless grouped by them, and
            their ``stack`` keeps ``group_by_stack_n`` frames.
        """
        stats = defaultdict(FunctionEventAvg)
        for event in self:
            key = [event.key, event.is_user_annotation]
            if group_by_input_shapes:
                key.append(str(event.input_shapes))
            if group_by_stack_n > 0:
                key += event.stack[:group_by_stack_n]
            stats[tuple(key)].add(event)
        averages = EventList(stats.values(), profile_memory=self._profile_memory)
        for average in averages:
            average.stack = average.stack[:group_by_stack_n]
            if not group_by_input_shapes:
                average.input_shapes = ""
        return averages

    def total_average(self):
        """All events summed into one :class:`FunctionEventAvg` keyed ``"Total"``."""
        total = FunctionEventAvg()
        for event in self:
            total.count += event.count
            total.cpu_time_total += event.cpu_time_total
            total.self_cpu_time_total += event.self_cpu_time_total
        total.key = "Total"
        return total

    def table(self, sort_by=None, row_limit=100, max_src_column_width=75,
              max_name_column_width=55, max_shapes_column_width=80, header=None,
              top_level_events_only=False, time_unit=None):
        """The events as PyTorch's profiler table.

        Parameters
        ----------
        sort_by : str, optional
            An attribute to sort by, largest first: ``"cpu_time_total"``,
            ``"self_cpu_time_total"``, ``"cpu_time"``, ``"count"``... (PyTorch's keys;
            an unknown one raises AttributeError, as there).
        row_limit : int
            At most this many rows.
        max_src_column_width, max_name_column_width, max_shapes_column_width : int
            Widest source location, name and input shape cells.
        header : str, optional
            A line printed above the table.
        top_level_events_only : bool
            Only the events that ran inside no other.
        time_unit : {None, "s", "ms", "us"}
            Print every time in this unit (default: each in the unit that suits it).

        Returns
        -------
        str
        """
        return _build_table(self, sort_by, row_limit, max_src_column_width,
                            max_name_column_width, max_shapes_column_width, header,
                            top_level_events_only, time_unit)

    def __str__(self):
        return self.table()

    def export_chrome_trace(self, path):
        """Write the events to ``path`` as a Chrome trace (``chrome://tracing``, Perfetto):
        a JSON object whose ``"traceEvents"`` holds one complete (``"ph": "X"``) event per
        call.  The file is replaced atomically: a reader never sees half of it."""
        trace = {"traceEvents": [_trace_event(e) for e in self
                                 if isinstance(e, FunctionEvent)],
                 "displayTimeUnit": "ms"}
        folder = os.path.dirname(os.path.abspath(path))
        fd, tmp = tempfile.mkstemp(prefix=".trace-", suffix=".json", dir=folder)
        try:
            with os.fdopen(fd, "w") as f:
                json.dump(trace, f)
            os.replace(tmp, path)
        except BaseException:
            os.unlink(tmp)
            raise

    def supported_export_stacks_metrics(self):
        """The metrics :meth:`export_stacks` takes (PyTorch's list)."""
        return ["self_cpu_time_total", "self_cuda_time_total", "self_xpu_time_total",
                "self_privateuse1_time_total"]

    def export_stacks(self, path, metric):
        """Write each event's call site and ``metric`` (whole microseconds) to ``path``,
        one ``"outer;...;inner value"`` line per event: the input of flame graph tools.
        Only events recorded ``with_stack=True`` and with a positive value are written.

        Parameters
        ----------
        path : str
        metric : str
            One of :meth:`supported_export_stacks_metrics` (the device ones are zero).
        """
        if metric not in self.supported_export_stacks_metrics():
            raise ValueError("metric should be one of: "
                             + str(self.supported_export_stacks_metrics()))
        attr = metric.replace("cuda", "device").replace("xpu", "device").replace(
            "privateuse1", "device")
        # the separators of the format must not appear inside a frame
        translate_table = str.maketrans(" ;\t\n", "____")
        with open(path, "w") as f:
            for event in self:
                value = int(getattr(event, attr))
                if event.stack and value > 0:
                    frames = ";".join(e.translate(translate_table)
                                      for e in reversed(event.stack))
                    f.write(f"{frames} {value}\n")


def _trace_event(event):
    args = {"External id": event.id}
    if event.input_shapes:
        args["Input Dims"] = event.input_shapes
    if event.stack:
        args["Call stack"] = ";".join(event.stack)
    return {"ph": "X", "cat": "user_annotation" if event.is_user_annotation else "cpu_op",
            "name": event.trace_name, "pid": os.getpid(), "tid": event.thread,
            "ts": event.start_us, "dur": event.cpu_time_total, "args": args}


def _build_table(events, sort_by, row_limit, max_src_column_width, max_name_column_width,
                 max_shapes_column_width, header, top_level_events_only, time_unit):
    """PyTorch's ``_build_table`` with the CPU columns only."""
    if len(events) == 0:
        return ""
    if sort_by is not None:
        # PyTorch names the device columns "cuda_*" in its keys
        attr = sort_by.replace("cuda", "device").replace("xpu", "device")
        events = sorted(events, key=lambda e: getattr(e, attr), reverse=True)
    has_shapes = any(e.input_shapes for e in events)
    stacks = [e.stack for e in events if e.stack]
    name_width = min(max(len(e.key) for e in events) + 4, max_name_column_width)
    shapes_width = min(max(len(str(e.input_shapes)) for e in events) + 4,
                       max_shapes_column_width)
    headers = ["Name", "Self CPU %", "Self CPU", "CPU total %", "CPU total", "CPU time avg",
               "# of Calls"]
    widths = [name_width] + [12] * (len(headers) - 1)
    if has_shapes:
        headers.append("Input Shapes")
        widths.append(shapes_width)
    if stacks:
        src_width = min(max(len(f) for s in stacks for f in s) + 4, max_src_column_width)
        headers.append("Source Location")
        widths.append(src_width)
    row_format = "".join("{: " + (">" if k < len(widths) - 1 or not stacks else "<")
                         + str(w) + "}  " for k, w in enumerate(widths))
    header_sep = "".join("-" * w + "  " for w in widths)
    line_length = sum(w + 2 for w in widths) - 2

    def unit(time_us):
        scale = {"s": 1e6, "ms": 1e3, "us": 1.0}.get(time_unit)
        return _format_time(time_us) if scale is None else f"{time_us / scale:.3f}{time_unit}"

    total = sum(e.self_cpu_time_total for e in events)
    lines = []
    if header is not None:
        lines += ["=" * line_length, header]
    if top_level_events_only:
        lines += ["=" * line_length, "This report only display top-level ops statistics"]
    lines += [header_sep, row_format.format(*headers), header_sep]
    rows = 0
    for e in events:
        if rows == row_limit:
            break
        if top_level_events_only and e.cpu_parent is not None:
            continue
        rows += 1
        name = e.key
        if len(name) >= max_name_column_width - 3:
            name = name[:max_name_column_width - 3] + "..."
        row = [name, _format_time_share(e.self_cpu_time_total, total),
               unit(e.self_cpu_time_total), _format_time_share(e.cpu_time_total, total),
               unit(e.cpu_time_total), unit(e.cpu_time), e.count]
        if has_shapes:
            row.append(str(e.input_shapes)[:shapes_width])
        if stacks:
            frames = e.stack or [""]
            row.append(_trim(frames[0], src_width))
            lines.append(row_format.format(*row))
            for frame in frames[1:]:
                lines.append(row_format.format(*([""] * (len(row) - 1)
                                                 + [_trim(frame, src_width)])))
            lines.append(row_format.format(*[""] * len(row)))
        else:
            lines.append(row_format.format(*row))
    lines += [header_sep, f"Self CPU time total: {unit(total)}"]
    return "\n".join(lines) + "\n"


def _trim(path, width):
    if len(path) > width:
        path = "..." + path[len(path) - width + 3:]
    return path
