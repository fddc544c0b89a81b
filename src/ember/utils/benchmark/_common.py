"""What a timing is about (:class:`TaskSpec`), its result (:class:`Measurement`) and the
number formatting helpers that :class:`~ember.utils.benchmark.Compare` shares."""
import collections
import contextlib
import dataclasses
import math
import textwrap

import ember

_MAX_SIGNIFICANT_FIGURES = 4
_MIN_CONFIDENCE_INTERVAL = 25e-9  # 25 ns

# A Measurement warns when its spread is suspect: an IQR above 10% of the median may be
# system fluctuation, above 25% an outside influence.
_IQR_WARN_THRESHOLD = 0.1
_IQR_GROSS_WARN_THRESHOLD = 0.25


@dataclasses.dataclass(init=True, repr=False, eq=True, frozen=True)
class TaskSpec:
    """What a :class:`Timer` measures, and the labels its results are shown with.

    Parameters
    ----------
    stmt, setup : str
        The timed statement and the code run once before it.
    global_setup : str, optional
        C++ only in PyTorch; always empty in ember.
    label, sub_label, description, env : str, optional
        The labels of :class:`Timer`.
    num_threads : int, optional
        The thread count the statement was timed with.

    Examples
    --------
    >>> from ember.utils.benchmark import TaskSpec
    >>> TaskSpec("x + 1", "pass", label="add", sub_label="float32").title
    'add: float32'
    """
    stmt: str
    setup: str
    global_setup: str = ""
    label: str | None = None
    sub_label: str | None = None
    description: str | None = None
    env: str | None = None
    num_threads: int = 1

    @property
    def title(self):
        """The label (or the statement) and the sub-label, as printed above a measurement."""
        if self.label is not None:
            return self.label + (f": {self.sub_label}" if self.sub_label else "")
        if "\n" not in self.stmt:
            return self.stmt + (f": {self.sub_label}" if self.sub_label else "")
        return (f"stmt:{f' ({self.sub_label})' if self.sub_label else ''}\n"
                f"{textwrap.indent(self.stmt, '  ')}")

    def setup_str(self):
        """The setup code as printed in a measurement's summary ('' for ``pass``)."""
        if self.setup == "pass" or not self.setup:
            return ""
        if "\n" in self.setup:
            return f"setup:\n{textwrap.indent(self.setup, '  ')}"
        return f"setup: {self.setup}"

    def summarize(self):
        """Title, description and setup: the head of a measurement's ``repr``."""
        sections = [self.title, self.description or "", self.setup_str()]
        return "\n".join(f"{s}\n" if "\n" in s else s for s in sections if s)


_TASKSPEC_FIELDS = tuple(f.name for f in dataclasses.fields(TaskSpec))


def _quantile(sorted_values, q):
    """Linear-interpolation quantile of sorted values (NumPy's and PyTorch's default),
    with the same two-sided interpolation formula, so results agree to the last bit."""
    rank = q * (len(sorted_values) - 1)
    below = math.floor(rank)
    above = min(below + 1, len(sorted_values) - 1)
    low, high, weight = sorted_values[below], sorted_values[above], rank - below
    if weight < 0.5:
        return low + weight * (high - low)
    return high - (high - low) * (1 - weight)


def _log10(x):
    # -inf for 0 as a tensor's log10 gives, so that a zero time fails as it does in PyTorch
    return math.log10(x) if x > 0 else (-math.inf if x == 0 else math.nan)


@dataclasses.dataclass(init=True, repr=False)
class Measurement:
    """The times of one statement: ``raw_times`` of blocks of ``number_per_run`` runs each.

    Statistics are per run (a block's time over ``number_per_run``).  The fields of
    ``task_spec`` (``stmt``, ``label``, ``num_threads``...) read as attributes.

    Parameters
    ----------
    number_per_run : int
        Runs of the statement in each timed block.
    raw_times : list of float
        The time of each block, in seconds.
    task_spec : TaskSpec
        What was timed.
    metadata : dict, optional
        The user's own payload; not used by ember.

    Examples
    --------
    >>> from ember.utils.benchmark import Measurement, TaskSpec
    >>> m = Measurement(100, [1e-4, 1.2e-4, 1.1e-4, 1.05e-4], TaskSpec("x + 1", "pass"))
    >>> round(m.median * 1e6, 3), m.num_threads
    (1.075, 1)
    """
    number_per_run: int
    raw_times: list
    task_spec: TaskSpec
    metadata: dict | None = None

    def __post_init__(self):
        self._sorted_times = ()
        self._warnings = ()
        self._median = self._mean = self._p25 = self._p75 = -1.0

    def __getattr__(self, name):
        # the TaskSpec fields read through, as in PyTorch
        if name in _TASKSPEC_FIELDS:
            return getattr(self.task_spec, name)
        return super().__getattribute__(name)

    # The statistics divide each block's time by number_per_run: how overhead amortizes
    # depends on the block size, but Timer picks blocks long enough for it not to matter.
    @property
    def times(self):
        """The time per run of each block, in seconds."""
        return [t / self.number_per_run for t in self.raw_times]

    @property
    def median(self):
        """The median time per run, in seconds."""
        self._lazy_init()
        return self._median

    @property
    def mean(self):
        """The mean time per run, in seconds."""
        self._lazy_init()
        return self._mean

    @property
    def iqr(self):
        """The interquartile range (75th minus 25th percentile) of the times per run."""
        self._lazy_init()
        return self._p75 - self._p25

    @property
    def significant_figures(self):
        """A rough count (1 to 4) of the median's significant figures.

        From the spread of the interquartile points only (the tails are skewed): a 90%
        confidence interval ``1.645 * std / sqrt(n)`` (at least 25 ns), and the figures
        of the median that lie above it.  :class:`Compare` trims numbers with it.
        """
        self._lazy_init()
        n_total = len(self._sorted_times)
        points = self._sorted_times[n_total // 4:math.ceil(3 * n_total / 4)]
        mean = math.fsum(points) / len(points)
        std = math.sqrt(math.fsum((p - mean) ** 2 for p in points) / len(points))
        confidence_interval = max(1.645 * std / math.sqrt(len(points)),
                                  _MIN_CONFIDENCE_INTERVAL)
        figures = math.floor(_log10(self._median / confidence_interval))
        return min(max(figures, 1), _MAX_SIGNIFICANT_FIGURES)

    @property
    def has_warnings(self):
        """Whether the spread of the times (IQR over median) is above 10%."""
        self._lazy_init()
        return bool(self._warnings)

    def _lazy_init(self):
        if self.raw_times and not self._sorted_times:
            self._sorted_times = tuple(sorted(self.times))
            self._median = _quantile(self._sorted_times, 0.5)
            self._mean = math.fsum(self._sorted_times) / len(self._sorted_times)
            self._p25 = _quantile(self._sorted_times, 0.25)
            self._p75 = _quantile(self._sorted_times, 0.75)

            def add_warning(msg):
                rel_iqr = self.iqr / self.median * 100
                self._warnings += (f"  WARNING: Interquartile range is {rel_iqr:.1f}% "
                                   f"of the median measurement.\n           {msg}",)

            if not self.meets_confidence(_IQR_GROSS_WARN_THRESHOLD):
                add_warning("This suggests significant environmental influence.")
            elif not self.meets_confidence(_IQR_WARN_THRESHOLD):
                add_warning("This could indicate system fluctuation.")

    def meets_confidence(self, threshold=_IQR_WARN_THRESHOLD):
        """Whether the IQR is below ``threshold`` times the median.

        Parameters
        ----------
        threshold : float, optional
            The largest relative spread accepted (0.1).

        Returns
        -------
        bool
        """
        return self.iqr / self.median < threshold

    @property
    def title(self):
        """The task's title (:attr:`TaskSpec.title`)."""
        return self.task_spec.title

    @property
    def env(self):
        """The task's ``env``, or ``'Unspecified env'``.

        PyTorch means the same but, through a misspelt attribute, gives ``None`` for an
        unspecified env.
        """
        return "Unspecified env" if self.task_spec.env is None else self.task_spec.env

    @property
    def as_row_name(self):
        """The row name in a :class:`Compare` table: the sub-label, else the statement."""
        return self.sub_label or self.stmt or "[Unknown]"

    def __repr__(self):
        self._lazy_init()
        n = len(self._sorted_times)
        unit, scale = select_unit(self._median)
        lines = [super().__repr__(), self.task_spec.summarize(),
                 f"  {'Median: ' if n > 1 else ''}{self._median / scale:.2f} {unit}"]
        if n >= 4:
            lines.append(f"  IQR:    {self.iqr / scale:.2f} {unit} "
                         f"({self._p25 / scale:.2f} to {self._p75 / scale:.2f})")
        lines.append(f"  {n} measurement{'s' if n > 1 else ''}, {self.number_per_run} runs "
                     f"{'per measurement,' if n > 1 else ','} {self.num_threads} "
                     f"thread{'s' if self.num_threads > 1 else ''}")
        lines += self._warnings
        return "\n".join("\n".join(lines).strip().splitlines())

    @staticmethod
    def merge(measurements):
        """Merge the replicates of each task into one measurement of single runs.

        Measurements with equal ``task_spec`` are merged: their per-run :attr:`times`
        make the ``raw_times`` of a measurement with ``number_per_run=1``.  Metadata is
        dropped, as it may differ between replicates.

        Parameters
        ----------
        measurements : iterable of Measurement

        Returns
        -------
        list of Measurement
            One per task, in order of first appearance.
        """
        grouped = collections.defaultdict(list)
        for m in measurements:
            grouped[m.task_spec].append(m)
        return [Measurement(number_per_run=1, raw_times=[t for m in group for t in m.times],
                            task_spec=task_spec, metadata=None)
                for task_spec, group in grouped.items()]


def select_unit(t):
    """The unit (``'ns'``, ``'us'``, ``'ms'`` or ``'s'``) and scale to print a time ``t``.

    Parameters
    ----------
    t : float
        A time in seconds.

    Returns
    -------
    tuple of (str, float)

    Examples
    --------
    >>> from ember.utils.benchmark import select_unit
    >>> select_unit(3.5e-5)
    ('us', 1e-06)
    """
    unit = {-3: "ns", -2: "us", -1: "ms"}.get(int(_log10(t) // 3), "s")
    return unit, {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1}[unit]


def unit_to_english(u):
    """The English name of a time unit from :func:`select_unit` (``'us'`` -> ``'microsecond'``).

    Examples
    --------
    >>> from ember.utils.benchmark import unit_to_english
    >>> unit_to_english("ms")
    'millisecond'
    """
    return {"ns": "nanosecond", "us": "microsecond", "ms": "millisecond", "s": "second"}[u]


def trim_sigfig(x, n):
    """``x`` rounded to ``n`` significant figures.

    Parameters
    ----------
    x : float
    n : int

    Returns
    -------
    float

    Examples
    --------
    >>> from ember.utils.benchmark import trim_sigfig
    >>> trim_sigfig(3.14159, 2)
    3.1
    """
    if n != int(n):
        raise AssertionError("Number of significant figures must be an integer")
    magnitude = int(math.ceil(_log10(abs(x))))
    scale = 10.0 ** (magnitude - n)
    return float(round(x / scale) * scale)


def ordered_unique(elements):
    """The distinct elements in order of first appearance.

    Examples
    --------
    >>> from ember.utils.benchmark import ordered_unique
    >>> ordered_unique([3, 1, 3, 2, 1])
    [3, 1, 2]
    """
    return list(dict.fromkeys(elements))


@contextlib.contextmanager
def _num_threads(n):
    """Run the block with ``n`` ember threads, restoring the prior count after."""
    prior = ember.get_num_threads()
    try:
        ember.set_num_threads(n)
        yield
    finally:
        ember.set_num_threads(prior)
