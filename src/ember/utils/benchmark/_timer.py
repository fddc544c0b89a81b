""":class:`Timer`: ``timeit.Timer`` with warm-up, ember's thread count, GPU
synchronisation and replicate-based measurements."""
import enum
import textwrap
import timeit

import ember
from ember.utils.benchmark import _common
from ember.utils.benchmark._common import Measurement, TaskSpec


def timer():
    """The time in seconds (``timeit.default_timer``), after waiting for queued GPU work.

    The default clock of :class:`Timer`.  PyTorch synchronises whenever an accelerator
    is available; ember synchronises once a CUDA device is in use, which is the same for
    a program that runs on the GPU and costs nothing to one that never touches it.

    Returns
    -------
    float

    Examples
    --------
    >>> from ember.utils.benchmark import timer
    >>> t0 = timer(); t1 = timer()
    >>> t1 >= t0
    True
    """
    if ember.cuda.is_initialized():
        ember.cuda.synchronize()
    return timeit.default_timer()


class Language(enum.Enum):
    """The language of a :class:`Timer`'s statement; ember times Python only."""
    PYTHON = 0
    CPP = 1


class Timer:
    """Time a Python statement with ember, as ``torch.utils.benchmark.Timer`` does.

    Based on ``timeit.Timer`` (which runs the statement), with these differences: the
    statement is warmed up first, runs with ``num_threads`` ember threads (restored
    afterwards), the default clock waits for queued CUDA work, and the measuring methods
    return a :class:`Measurement` of many replicates rather than one number.

    Parameters
    ----------
    stmt : str, optional
        The statement to time (``'pass'``).
    setup : str, optional
        Code run once before timing, to define what ``stmt`` uses (``'pass'``).
    global_setup : str, optional
        C++ only in PyTorch: must be empty.
    timer : callable, optional
        The clock, returning seconds; :func:`timer` by default.
    globals : dict, optional
        The global variables of ``stmt`` and ``setup`` (copied); ``ember`` is added
        when absent.
    label : str, optional
        A short name for ``stmt`` (``'ReLU(x + 1)'``), shown instead of it.
    sub_label : str, optional
        Tells apart measurements of one label (``'float32'``); the row name in
        :class:`Compare`.
    description : str, optional
        Tells apart measurements of one label and sub-label (``'n=1024'``); the column
        name in :class:`Compare`.
    env : str, optional
        The environment (``'main'``, ``'my-branch'``): equal tasks of different
        environments are not merged by :class:`Compare`.
    num_threads : int, optional
        ember's thread count while timing (1).
    language : {'python', 'py'} or Language, optional
        Only Python: ember has no C++ timer.

    Raises
    ------
    ValueError
        If ``stmt`` is not a string, ``global_setup`` is given, or the language is
        unknown.
    NotImplementedError
        For a C++ statement.

    Examples
    --------
    >>> import ember
    >>> from ember.utils.benchmark import Timer
    >>> t = Timer("x * 2", globals={"x": ember.ones(8)}, label="mul")
    >>> m = t.timeit(100)
    >>> m.number_per_run, len(m.raw_times), m.median > 0
    (100, 1, True)
    """

    def __init__(self, stmt="pass", setup="pass", global_setup="", timer=timer, globals=None,
                 label=None, sub_label=None, description=None, env=None, num_threads=1,
                 language=Language.PYTHON):
        if not isinstance(stmt, str):
            raise ValueError("Currently only a `str` stmt is supported.")
        # a copy, so that exec adding __builtins__ (or the statement) cannot touch the caller's
        self._globals = dict(globals or {})
        if language in (Language.PYTHON, "py", "python"):
            self._globals.setdefault("ember", ember)
            self._language = Language.PYTHON
            if global_setup:
                raise ValueError(f"global_setup is C++ only, got `{global_setup}`. Most "
                                 "likely this code can simply be moved to `setup`.")
        elif language in (Language.CPP, "cpp", "c++"):
            raise NotImplementedError("ember's Timer times Python statements only: C++ "
                                      "timing is not available in ember.")
        else:
            raise ValueError(f"Invalid language `{language}`.")

        # block strings written inside functions are indented and start with a newline
        stmt = textwrap.dedent(stmt)
        stmt = (stmt[1:] if stmt and stmt[0] == "\n" else stmt).rstrip()
        setup = textwrap.dedent(setup)
        setup = (setup[1:] if setup and setup[0] == "\n" else setup).rstrip()

        self._timer = timeit.Timer(stmt=stmt, setup=setup, timer=timer, globals=self._globals)
        self._task_spec = TaskSpec(stmt=stmt, setup=setup, global_setup=global_setup,
                                   label=label, sub_label=sub_label, description=description,
                                   env=env, num_threads=num_threads)

    def _timeit(self, number):
        # a clock call alone takes tens of ns, so nothing real is under 1 ns; no zero times
        return max(self._timer.timeit(number), 1e-9)

    def timeit(self, number=1000000):
        """Run ``stmt`` ``number`` times (after a warm-up) and time it as one block.

        As ``timeit.Timer.timeit``, but returns a :class:`Measurement`.

        Parameters
        ----------
        number : int, optional
            Runs in the timed block (1000000).

        Returns
        -------
        Measurement
            One raw time of ``number`` runs.
        """
        with _common._num_threads(self._task_spec.num_threads):
            self._timeit(number=max(int(number // 100), 2))     # warm-up
            return Measurement(number_per_run=number, raw_times=[self._timeit(number=number)],
                               task_spec=self._task_spec)

    def repeat(self, repeat=-1, number=-1):
        """Not implemented, as in PyTorch: use :meth:`blocked_autorange`.

        Raises
        ------
        NotImplementedError
        """
        raise NotImplementedError("See `Timer.blocked_autorange.`")

    def autorange(self, callback=None):
        """Not implemented, as in PyTorch: use :meth:`blocked_autorange`.

        Raises
        ------
        NotImplementedError
        """
        raise NotImplementedError("See `Timer.blocked_autorange.`")

    def _threaded_measurement_loop(self, number, time_hook, stop_hook, min_run_time,
                                   max_run_time=None, callback=None):
        total_time = 0.0
        can_stop = False
        times = []
        with _common._num_threads(self._task_spec.num_threads):
            while total_time < min_run_time or not can_stop:
                time_spent = time_hook()
                times.append(time_spent)
                total_time += time_spent
                if callback:
                    callback(number, time_spent)
                can_stop = stop_hook(times)
                if max_run_time and total_time > max_run_time:
                    break
        return times

    def _estimate_block_size(self, min_run_time):
        """Runs per block: enough for the clock's overhead to be under 0.01% of a block,
        and a block to last at least a thousandth of ``min_run_time``.  Also the warm-up."""
        with _common._num_threads(self._task_spec.num_threads):
            overhead = _common._quantile(sorted(self._timeit(0) for _ in range(5)), 0.5)
            number = 1
            while True:
                time_taken = self._timeit(number)
                if overhead / time_taken <= 1e-4 and time_taken >= min_run_time / 1000:
                    break
                if time_taken > min_run_time or number * 10 > 2147483647:
                    break
                number *= 10
        return number

    def blocked_autorange(self, callback=None, min_run_time=0.2):
        """Time blocks of runs until ``min_run_time`` seconds have been measured.

        The block size is found first (a warm-up): runs per block grow tenfold until the
        clock's overhead is under 0.01% of a block.  Then whole blocks are timed until
        their total reaches ``min_run_time``::

            setup
            total_time = 0
            while total_time < min_run_time:
                start = timer()
                for _ in range(block_size):
                    stmt
                total_time += timer() - start

        Parameters
        ----------
        callback : callable, optional
            Called as ``callback(number_per_run, block_time)`` after each block.
        min_run_time : float, optional
            Seconds of timed blocks to collect (0.2).

        Returns
        -------
        Measurement
        """
        number = self._estimate_block_size(min_run_time)
        times = self._threaded_measurement_loop(number, lambda: self._timeit(number),
                                                lambda times: True,
                                                min_run_time=min_run_time, callback=callback)
        return Measurement(number_per_run=number, raw_times=times, task_spec=self._task_spec)

    def adaptive_autorange(self, threshold=0.1, *, min_run_time=0.01, max_run_time=10.0,
                           callback=None):
        """Time blocks of runs until their spread is small, or ``max_run_time`` is spent.

        As :meth:`blocked_autorange` (with blocks sized for 0.05 s), but keeps timing
        blocks until more than 3 are timed, they total ``min_run_time`` and their IQR is
        below ``threshold`` times their median, or until they total ``max_run_time``.

        Parameters
        ----------
        threshold : float, optional
            The relative spread (IQR / median) to reach (0.1).
        min_run_time : float, optional
            Seconds of timed blocks before the spread is accepted (0.01).
        max_run_time : float, optional
            Seconds of timed blocks after which timing stops whatever the spread (10).
        callback : callable, optional
            Called as ``callback(number_per_run, block_time)`` after each block.

        Returns
        -------
        Measurement
        """
        number = self._estimate_block_size(min_run_time=0.05)

        def stop_hook(times):
            return len(times) > 3 and Measurement(
                number_per_run=number, raw_times=times,
                task_spec=self._task_spec).meets_confidence(threshold=threshold)

        times = self._threaded_measurement_loop(number, lambda: self._timeit(number),
                                                stop_hook, min_run_time, max_run_time,
                                                callback=callback)
        return Measurement(number_per_run=number, raw_times=times, task_spec=self._task_spec)

    def collect_callgrind(self, number=100, *, repeats=None, collect_baseline=True,
                          retain_out_file=False):
        """Not available in ember: PyTorch counts instructions under Valgrind's Callgrind.

        Raises
        ------
        NotImplementedError
            Always.
        """
        raise NotImplementedError(
            "collect_callgrind: instruction counts collected under Valgrind (Callgrind) are "
            "not available in ember; time the statement with blocked_autorange or "
            "adaptive_autorange instead.")
