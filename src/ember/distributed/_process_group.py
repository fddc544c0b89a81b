"""Process groups on MPI: initialisation, ranks, groups, reduction operations and ``Work``.

MPI (through mpi4py) is imported on first use, so ``import ember`` never needs it.  Ranks
and the world size come from the MPI launcher (``mpiexec``, ``srun``).
"""
import datetime
import enum

__all__ = [
    "Backend", "GroupMember", "ProcessGroup", "ReduceOp", "Work", "destroy_process_group",
    "get_backend", "get_rank", "get_world_size", "init_process_group", "is_available",
    "is_initialized", "is_mpi_available", "is_nccl_available", "new_group",
]

default_pg_timeout = datetime.timedelta(minutes=30)


_MPI = None


def _mpi():
    """The ``mpi4py.MPI`` module (imported once), with a clear error when mpi4py is not
    installed."""
    global _MPI
    if _MPI is None:
        try:
            from mpi4py import MPI
        except ImportError as exc:
            raise RuntimeError("ember.distributed needs mpi4py and an MPI library: install "
                               "them with `pip install 'ember[dist]'` (mpi4py and the MPICH "
                               "wheel)") from exc
        _MPI = MPI
    return _MPI


def is_available():
    """Whether distributed support can be used (mpi4py imports).

    Examples
    --------
    >>> import ember.distributed as dist
    >>> isinstance(dist.is_available(), bool)
    True
    """
    return is_mpi_available()


def is_mpi_available():
    """Whether the MPI backend is available (mpi4py and an MPI library import).

    Examples
    --------
    >>> import ember.distributed as dist
    >>> isinstance(dist.is_mpi_available(), bool)
    True
    """
    try:
        _mpi()
    except RuntimeError:
        return False
    return True


def is_nccl_available():
    """Whether the NCCL backend is available (CuPy with NCCL and a CUDA device).

    Examples
    --------
    >>> import ember.distributed as dist
    >>> isinstance(dist.is_nccl_available(), bool)
    True
    """
    from ember.distributed._nccl import nccl_available
    return nccl_available()


class Backend(str):
    """Backend names: ``Backend.MPI`` (CPU tensors) and ``Backend.NCCL`` (CUDA tensors).

    Examples
    --------
    >>> import ember.distributed as dist
    >>> dist.Backend("MPI")
    'mpi'
    """
    MPI = "mpi"
    NCCL = "nccl"

    def __new__(cls, name):
        if not isinstance(name, str):
            raise TypeError(f"Backend name must be a string, but got: {name!r}")
        value = name.lower()
        if value not in (cls.MPI, cls.NCCL):
            raise ValueError(f"Invalid backend: '{name}' (ember supports 'mpi' and 'nccl')")
        return super().__new__(cls, value)


class ReduceOp(enum.Enum):
    """Reduction operations of ``all_reduce``, ``reduce`` and ``reduce_scatter``.

    ``AVG`` is the sum divided by the group's size (truncated toward zero for integers).

    Examples
    --------
    >>> import ember.distributed as dist
    >>> dist.ReduceOp.SUM
    <ReduceOp.SUM: 0>
    """
    SUM = 0
    PRODUCT = 1
    MIN = 2
    MAX = 3
    AVG = 4


class ProcessGroup:
    """A set of ranks that run collectives together: an MPI communicator (and, for the
    NCCL backend, an NCCL communicator over the same ranks).

    Users get process groups from :func:`init_process_group` (the world) and
    :func:`new_group`; the constructor is internal.
    """

    def __init__(self, comm, backend, global_ranks):
        self.comm = comm
        self.backend = backend
        self.global_ranks = list(global_ranks)
        self._group_rank_of = {g: r for r, g in enumerate(self.global_ranks)}
        self._nccl = None
        self._shm = None   # its shared-memory window (ember.distributed._shm): None untried

    def rank(self):
        """This process's rank in the group."""
        return self.comm.Get_rank()

    def size(self):
        """The number of ranks in the group."""
        return self.comm.Get_size()

    def group_rank(self, global_rank, what):
        """The rank inside this group of ``global_rank`` (``what`` names it in errors)."""
        if not isinstance(global_rank, int) or isinstance(global_rank, bool):
            raise TypeError(f"{what} must be an int rank, got {type(global_rank).__name__}")
        try:
            return self._group_rank_of[global_rank]
        except KeyError:
            raise ValueError(f"{what}={global_rank} is not part of the group (global ranks "
                             f"{self.global_ranks})") from None

    def nccl(self):
        """The NCCL communicator of this group, created on first use."""
        if self._nccl is None:
            from ember.distributed._nccl import NcclCommunicator
            self._nccl = NcclCommunicator(self.comm)
        return self._nccl

    def __repr__(self):
        return f"ProcessGroup(backend={self.backend!r}, ranks={self.global_ranks})"


class GroupMember:
    """``GroupMember.WORLD``: the default group once initialised;
    ``GroupMember.NON_GROUP_MEMBER``: what :func:`new_group` returns on ranks outside it."""
    WORLD = None
    NON_GROUP_MEMBER = object()


def _default_group():
    if GroupMember.WORLD is None:
        raise ValueError("Default process group has not been initialized, please make sure to "
                         "call init_process_group.")
    return GroupMember.WORLD


def _resolve(group):
    """The ProcessGroup a collective runs on, or None on ranks outside ``group``."""
    if group is None:
        return _default_group()
    if group is GroupMember.NON_GROUP_MEMBER:
        return None
    if not isinstance(group, ProcessGroup):
        raise TypeError(f"group must be a ProcessGroup or None, got {type(group).__name__}")
    _default_group()
    return group


def init_process_group(backend=None, init_method=None, timeout=None, world_size=-1, rank=-1,
                       store=None, group_name="", pg_options=None, device_id=None):
    """Initialise the default process group from the MPI launcher.

    Parameters
    ----------
    backend : {'mpi', 'nccl'}, optional
        ``'mpi'`` (the default) for CPU tensors; ``'nccl'`` for CUDA tensors (NCCL through
        CuPy, its unique id exchanged over MPI; CPU tensors still go through MPI).
    init_method, store, group_name, pg_options, device_id
        Accepted for PyTorch compatibility; the MPI launcher does the rendezvous, so
        ``init_method`` may only be None, ``'env://'`` or ``'mpi://'``.
    timeout : datetime.timedelta, optional
        Kept for compatibility (MPI has no collective timeout; bound jobs with an
        outer ``timeout`` or the launcher's own).
    world_size, rank : int, optional
        When given, they must equal what the launcher assigned.

    Raises
    ------
    ValueError
        When the group is already initialised, or ``world_size``/``rank`` disagree with the
        launcher's.

    Examples
    --------
    >>> import ember.distributed as dist
    >>> dist.init_process_group("mpi")        # doctest: +SKIP
    >>> dist.get_rank(), dist.get_world_size()  # doctest: +SKIP
    (0, 2)
    """
    if GroupMember.WORLD is not None:
        raise ValueError("trying to initialize the default process group twice!")
    backend = Backend(backend if backend is not None else Backend.MPI)
    if init_method not in (None, "env://", "mpi://"):
        raise ValueError(f"init_method {init_method!r} is not supported: ember rendezvouses "
                         "through the MPI launcher (use None)")
    if timeout is not None and not isinstance(timeout, datetime.timedelta):
        raise TypeError(f"Expected timeout argument to be of type datetime.timedelta, got "
                        f"{type(timeout).__name__}")
    MPI = _mpi()
    comm = MPI.COMM_WORLD.Dup()
    for given, actual, name in ((world_size, comm.Get_size(), "world_size"),
                                (rank, comm.Get_rank(), "rank")):
        if given != -1 and given != actual:
            comm.Free()
            raise ValueError(f"{name}={given} disagrees with the MPI launcher's {name}={actual}")
    GroupMember.WORLD = ProcessGroup(comm, backend, range(comm.Get_size()))
    if backend == Backend.NCCL:
        GroupMember.WORLD.nccl()


def is_initialized():
    """Whether the default process group has been initialised.

    Examples
    --------
    >>> import ember.distributed as dist
    >>> isinstance(dist.is_initialized(), bool)
    True
    """
    return GroupMember.WORLD is not None


def destroy_process_group(group=None):
    """Free ``group`` (by default the world group, and with it every group).

    Examples
    --------
    >>> import ember.distributed as dist
    >>> dist.destroy_process_group()          # doctest: +SKIP
    """
    if group is None or group is GroupMember.WORLD:
        pg = _default_group()
        GroupMember.WORLD = None
    else:
        pg = _resolve(group)
        if pg is None:
            return
    if pg._shm:
        pg._shm.free()
    pg.comm.Free()
    if pg._nccl is not None:
        pg._nccl.destroy()


def get_rank(group=None):
    """This process's rank in ``group`` (-1 on ranks outside it).

    Examples
    --------
    >>> import ember.distributed as dist
    >>> dist.get_rank()                       # doctest: +SKIP
    0
    """
    pg = _resolve(group)
    return -1 if pg is None else pg.rank()


def get_world_size(group=None):
    """The number of ranks in ``group`` (-1 on ranks outside it).

    Examples
    --------
    >>> import ember.distributed as dist
    >>> dist.get_world_size()                 # doctest: +SKIP
    2
    """
    pg = _resolve(group)
    return -1 if pg is None else pg.size()


def get_backend(group=None):
    """The backend name of ``group``.

    Examples
    --------
    >>> import ember.distributed as dist
    >>> dist.get_backend()                    # doctest: +SKIP
    'mpi'
    """
    pg = _resolve(group)
    if pg is None:
        raise ValueError("Invalid process group specified")
    return pg.backend


def new_group(ranks=None, timeout=None, backend=None, pg_options=None,
              use_local_synchronization=False, group_desc=None, device_id=None):
    """A process group of the given global ``ranks`` (all ranks when None).

    Every rank of the world must call it, in the same order, members or not.  Ranks
    outside the group get ``GroupMember.NON_GROUP_MEMBER``; collectives on it do nothing.

    Examples
    --------
    >>> import ember.distributed as dist
    >>> evens = dist.new_group([0])           # doctest: +SKIP
    """
    world = _default_group()
    size = world.size()
    ranks = list(range(size)) if ranks is None else sorted(ranks)
    for r in ranks:
        if not isinstance(r, int) or isinstance(r, bool) or not 0 <= r < size:
            raise ValueError(f"new_group: rank {r!r} is not in [0, {size - 1}]")
    if len(set(ranks)) != len(ranks):
        raise ValueError(f"new_group: ranks must be distinct, got {ranks}")
    backend = Backend(backend) if backend is not None else world.backend
    MPI = _mpi()
    member = world.rank() in ranks
    comm = world.comm.Split(0 if member else MPI.UNDEFINED, world.rank())
    if not member:
        return GroupMember.NON_GROUP_MEMBER
    return ProcessGroup(comm, backend, ranks)


def chain(*steps):
    """One step running ``steps`` in order (None entries skipped)."""
    steps = [step for step in steps if step is not None]
    if len(steps) == 1:
        return steps[0]

    def run():
        for step in steps:
            step()
    return run


class Work:
    """The handle of an asynchronous operation (``async_op=True``).

    ``wait()`` blocks until it finished (and writes results back where needed),
    ``is_completed()`` tests without blocking, ``result()`` returns the output tensors.
    """

    def __init__(self, requests=(), finish=None, outputs=(), keep_alive=None):
        self._requests = list(requests)
        self._finish = finish
        self._outputs = list(outputs)
        self._keep_alive = keep_alive   # what MPI's memory belongs to, until completion
        self._done = False

    def _complete(self):
        self._requests = []
        self._keep_alive = None
        if self._finish is not None:
            finish, self._finish = self._finish, None
            finish()
        self._done = True

    def wait(self, timeout=None):
        """Block until the operation has finished; returns True.

        Examples
        --------
        >>> import ember, ember.distributed as dist
        >>> work = dist.all_reduce(ember.ones(3), async_op=True)   # doctest: +SKIP
        >>> work.wait()                                             # doctest: +SKIP
        True
        """
        if not self._done:
            if self._requests:
                _mpi().Request.Waitall(self._requests)
            self._complete()
        return True

    def is_completed(self):
        """Whether the operation has finished (tests it without blocking)."""
        if not self._done and (not self._requests or _mpi().Request.Testall(self._requests)):
            self._complete()
        return self._done

    def is_success(self):
        """Whether the operation finished without error (MPI errors raise instead)."""
        return self.is_completed()

    def result(self):
        """The output tensors of the operation (waits for it first)."""
        self.wait()
        return self._outputs

    def get_future(self):
        """A :class:`Future` whose value is ``result()``."""
        return Future(self)


class Future:
    """A value that becomes available once a :class:`Work` completes; ``then`` chains a
    callback (as ``torch.futures.Future``: the callback receives this future)."""

    def __init__(self, work, callback=None, parent=None):
        self._work = work
        self._callback = callback
        self._parent = parent
        self._value = None
        self._has_value = False

    def wait(self):
        """Block until the value is available and return it."""
        if not self._has_value:
            if self._parent is not None:
                self._parent.wait()
                self._value = self._callback(self._parent)
            else:
                self._value = self._work.result()
            self._has_value = True
        return self._value

    def value(self):
        """The value (waits for it)."""
        return self.wait()

    def done(self):
        """Whether the value is available without blocking."""
        if self._parent is not None:
            return self._has_value or self._parent.done()
        return self._has_value or self._work.is_completed()

    def then(self, callback):
        """A new future whose value is ``callback(self)``, run when this one completes."""
        return Future(None, callback, self)
