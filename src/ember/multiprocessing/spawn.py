"""``spawn``: run a function in several processes and report how each one ended, as PyTorch does."""
import multiprocessing
import multiprocessing.connection
import signal
import sys
import traceback

__all__ = ["spawn", "start_processes", "ProcessContext", "ProcessException",
           "ProcessRaisedException", "ProcessExitedException"]


class ProcessException(Exception):
    """A process started by :func:`spawn` failed.

    Attributes
    ----------
    error_index : int
        The index ``i`` the failing process was started with.
    pid : int
        Its process id.
    """

    def __init__(self, msg, error_index, pid):
        super().__init__(msg)
        self.msg = msg
        self.error_index = error_index
        self.pid = pid

    def __reduce__(self):
        return type(self), (self.msg, self.error_index, self.pid)


class ProcessRaisedException(ProcessException):
    """A spawned process raised an exception; the message holds its traceback."""


class ProcessExitedException(ProcessException):
    """A spawned process died by a signal or exited with a non-zero code.

    Attributes
    ----------
    exit_code : int
        The exit code (negative: minus the signal number).
    signal_name : str or None
        The name of the signal that killed it, if one did.
    """

    def __init__(self, msg, error_index, error_pid, exit_code, signal_name=None):
        super().__init__(msg, error_index, error_pid)
        self.exit_code = exit_code
        self.signal_name = signal_name

    def __reduce__(self):
        return type(self), (self.msg, self.error_index, self.pid, self.exit_code,
                            self.signal_name)


def _wrap(fn, i, args, error_queue):
    try:
        fn(i, *args)
    except KeyboardInterrupt:
        pass  # the parent sends SIGINT when another process failed
    except Exception:
        error_queue.put(traceback.format_exc())
        sys.exit(1)


class ProcessContext:
    """The processes started by :func:`start_processes`, to :meth:`join`.

    Attributes
    ----------
    processes : list of multiprocessing.Process
        The processes, in the order of their index.
    error_queues : list
        One queue per process, carrying the traceback of an exception it raised.
    """

    def __init__(self, processes, error_queues):
        self.processes = processes
        self.error_queues = error_queues
        self.sentinels = {process.sentinel: index for index, process in enumerate(processes)}

    def pids(self):
        """The process ids."""
        return [int(process.pid) for process in self.processes]

    def join(self, timeout=None):
        """Wait for the processes; True once all ended well, False while some still run.

        Parameters
        ----------
        timeout : float, optional
            Seconds to wait for one process to end (None: until one ends).

        Raises
        ------
        ProcessRaisedException
            When a process raised: the others are terminated.
        ProcessExitedException
            When a process died by a signal or exited with a non-zero code.
        """
        if not self.sentinels:
            return True
        ready = multiprocessing.connection.wait(self.sentinels.keys(), timeout=timeout)
        error_index = None
        for sentinel in ready:
            index = self.sentinels.pop(sentinel)
            process = self.processes[index]
            process.join()
            if process.exitcode != 0:
                error_index = index
                break
        if error_index is None:
            return not self.sentinels
        for process in self.processes:
            if process.is_alive():
                process.terminate()
            process.join()
        failed = self.processes[error_index]
        if self.error_queues[error_index].empty():
            exit_code = failed.exitcode
            if exit_code < 0:
                name = signal.Signals(-exit_code).name
                raise ProcessExitedException(
                    f"process {error_index} terminated with signal {name}",
                    error_index=error_index, error_pid=failed.pid, exit_code=exit_code,
                    signal_name=name)
            raise ProcessExitedException(
                f"process {error_index} terminated with exit code {exit_code}",
                error_index=error_index, error_pid=failed.pid, exit_code=exit_code)
        original_trace = self.error_queues[error_index].get()
        msg = f"\n\n-- Process {error_index} terminated with the following error:\n{original_trace}"
        raise ProcessRaisedException(msg, error_index, failed.pid)


def start_processes(fn, args=(), nprocs=1, join=True, daemon=False, start_method="spawn"):
    """Start ``nprocs`` processes running ``fn(i, *args)`` with the given start method.

    Parameters are those of :func:`spawn`, plus ``start_method`` (``'spawn'``,
    ``'fork'`` or ``'forkserver'``).

    Returns
    -------
    ProcessContext or None
        The context when ``join`` is False, else None once every process ended well.
    """
    if not callable(fn):
        raise TypeError(f"spawn(): fn must be callable, got {type(fn).__name__}")
    if not isinstance(args, tuple):
        raise TypeError(f"spawn(): args must be a tuple, got {type(args).__name__}")
    if isinstance(nprocs, bool) or not isinstance(nprocs, int) or nprocs < 1:
        raise ValueError(f"spawn(): nprocs must be a positive int, got {nprocs!r}")
    ctx = multiprocessing.get_context(start_method)
    error_queues = []
    processes = []
    for i in range(nprocs):
        error_queue = ctx.SimpleQueue()
        process = ctx.Process(target=_wrap, args=(fn, i, args, error_queue), daemon=daemon)
        process.start()
        error_queues.append(error_queue)
        processes.append(process)
    context = ProcessContext(processes, error_queues)
    if not join:
        return context
    while not context.join():
        pass
    return None


def spawn(fn, args=(), nprocs=1, join=True, daemon=False, start_method="spawn"):
    """Run ``fn(i, *args)`` in ``nprocs`` new processes, ``i`` being each one's index.

    Parameters
    ----------
    fn : callable
        A module-level function (the ``'spawn'`` start method pickles it by name).
    args : tuple, default ()
        Arguments after the index; tensors among them are shared, not copied.
    nprocs : int, default 1
        Number of processes.
    join : bool, default True
        Wait for all of them (and raise if one fails), or return a :class:`ProcessContext`.
    daemon : bool, default False
        Whether the processes are daemonic.
    start_method : str, default 'spawn'
        The multiprocessing start method.

    Returns
    -------
    ProcessContext or None
        The context when ``join`` is False.

    Raises
    ------
    ProcessRaisedException
        A process raised; the message holds its traceback.
    ProcessExitedException
        A process died by a signal or exited with a non-zero code.

    Examples
    --------
    >>> import ember.multiprocessing as mp
    >>> import operator
    >>> mp.spawn(operator.add, args=(1,), nprocs=2, start_method="fork")
    """
    return start_processes(fn, args, nprocs, join, daemon, start_method)
