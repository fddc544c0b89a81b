"""DataLoader: batches of a dataset, in the main process or in worker processes (as ``torch.utils.data``)."""
import functools
import itertools
import math
import multiprocessing
import multiprocessing.connection
import pickle
import signal
import time
import warnings

import ember
from ember.utils.data import _shared_memory, _worker
from ember.utils.data._collate import default_collate, default_convert
from ember.utils.data._worker import get_worker_info  # noqa: F401  (PyTorch's import path)
from ember.utils.data.dataset import IterableDataset
from ember.utils.data.sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler

__all__ = ["DataLoader"]

# attributes fixed once a DataLoader is built (PyTorch refuses to change them too)
_FROZEN_ATTRIBUTES = ("batch_size", "batch_sampler", "sampler", "drop_last", "dataset",
                      "persistent_workers")
# seconds the shutdown of an iterator waits for its workers before terminating them
_JOIN_TIMEOUT_S = 2.0


class _InfiniteConstantSampler(Sampler):
    """Yields None forever: the "index" stream of an iterable dataset."""

    def __iter__(self):
        while True:
            yield None


class DataLoader:
    """Iterate over a dataset in batches.

    Combines a dataset with a sampler (the order of indices) and a collate
    function (how samples become a batch), as PyTorch's ``DataLoader``.

    Parameters
    ----------
    dataset : Dataset or IterableDataset
        Where the samples come from.
    batch_size : int or None, optional
        Samples per batch (default 1); None turns automatic batching off, and
        each sample is passed through ``collate_fn`` (default :func:`default_convert`) alone.
    shuffle : bool, optional
        Visit a map-style dataset in a fresh random order each epoch (default False).
    sampler : Sampler or iterable, optional
        Order of the indices; exclusive with ``shuffle``.
    batch_sampler : Sampler or iterable, optional
        Yields lists of indices, one per batch; exclusive with ``batch_size``,
        ``shuffle``, ``sampler`` and ``drop_last``.
    num_workers : int, optional
        Worker processes that load batches (default 0: load in the main process).
    collate_fn : callable, optional
        Turns a list of samples into a batch (default :func:`default_collate`).
    pin_memory : bool, optional
        Accepted for compatibility: ember has no accelerator to pin memory for, so
        True only warns (as PyTorch without an accelerator).
    drop_last : bool, optional
        Drop the last batch when it is incomplete (default False).
    timeout : float, optional
        Seconds to wait for a batch from the workers (default 0: no limit); past
        it, iteration raises ``RuntimeError("DataLoader timed out after N seconds")``.
    worker_init_fn : callable, optional
        Called as ``worker_init_fn(worker_id)`` in each worker after seeding.
    multiprocessing_context : str or context, optional
        Start method of the workers (``"fork"``, ``"spawn"``, ``"forkserver"``);
        default: the platform's default.
    generator : Generator, optional
        Source of the shuffling order and of the workers' base seed: worker ``i``
        seeds ember's and Python's generators with ``base_seed + i`` and NumPy's
        with a hash of both.
    prefetch_factor : int, optional
        Batches each worker loads ahead (default 2 with workers; must be None without).
    persistent_workers : bool, optional
        Keep the workers alive across epochs (default False): the next epoch's
        iterator reuses them, and the dataset is not copied again.
    pin_memory_device : str, optional
        Ignored, as in PyTorch (deprecated there).
    in_order : bool, optional
        Deliver batches in sampler order (default True); False yields each batch
        as soon as a worker has it.

    Notes
    -----
    With ``num_workers > 0`` each worker process collates its batch directly into
    POSIX shared memory and sends only a small descriptor; the main process maps the
    memory, so a batch's tensor data is never pickled or copied between processes.
    A worker that raises makes iteration raise the same exception class naming the
    worker, with the worker's traceback; a worker that dies raises ``RuntimeError``
    naming it and its exit code or signal.

    Examples
    --------
    >>> import ember
    >>> from ember.utils.data import DataLoader, TensorDataset
    >>> ds = TensorDataset(ember.arange(5), ember.arange(5) * 10)
    >>> loader = DataLoader(ds, batch_size=2)
    >>> len(loader)
    3
    >>> for x, y in loader:
    ...     print(x.tolist(), y.tolist())
    [0, 1] [0, 10]
    [2, 3] [20, 30]
    [4] [40]
    """

    def __init__(self, dataset, batch_size=1, shuffle=None, sampler=None, batch_sampler=None,
                 num_workers=0, collate_fn=None, pin_memory=False, drop_last=False, timeout=0,
                 worker_init_fn=None, multiprocessing_context=None, generator=None, *,
                 prefetch_factor=None, persistent_workers=False, pin_memory_device="",
                 in_order=True):
        if not isinstance(num_workers, int) or isinstance(num_workers, bool) or num_workers < 0:
            raise ValueError("num_workers option should be non-negative; "
                             "use num_workers=0 to disable multiprocessing.")
        if timeout < 0:
            raise ValueError("timeout option should be non-negative")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError("prefetch_factor option could only be specified in multiprocessing."
                             "let num_workers > 0 to enable multiprocessing, otherwise set "
                             "prefetch_factor to None.")
        if num_workers > 0 and prefetch_factor is None:
            prefetch_factor = 2
        elif prefetch_factor is not None and prefetch_factor < 0:
            raise ValueError("prefetch_factor option should be non-negative")
        if persistent_workers and num_workers == 0:
            raise ValueError("persistent_workers option needs num_workers > 0")
        multiprocessing_context = _check_context(multiprocessing_context, num_workers)

        is_iterable = isinstance(dataset, IterableDataset)
        if is_iterable:
            if shuffle not in (False, None):
                raise ValueError("DataLoader with IterableDataset: expected unspecified shuffle "
                                 f"option, but got shuffle={shuffle}")
            if sampler is not None:
                raise ValueError("DataLoader with IterableDataset: expected unspecified sampler "
                                 f"option, but got sampler={sampler}")
            if batch_sampler is not None:
                raise ValueError("DataLoader with IterableDataset: expected unspecified "
                                 f"batch_sampler option, but got batch_sampler={batch_sampler}")
        shuffle = bool(shuffle)
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive with batch_size, "
                                 "shuffle, sampler, and drop_last")
            batch_size = None
            drop_last = False
        elif batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually "
                             "exclusive with drop_last")

        if sampler is None:
            if is_iterable:
                sampler = _InfiniteConstantSampler()
            elif shuffle:
                sampler = RandomSampler(dataset, generator=generator)
            else:
                sampler = SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        if collate_fn is None:
            collate_fn = default_collate if batch_sampler is not None else default_convert

        self.dataset = dataset
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.num_workers = num_workers
        self.collate_fn = collate_fn
        self.pin_memory = pin_memory
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = multiprocessing_context
        self.generator = generator
        self.prefetch_factor = prefetch_factor
        self.persistent_workers = persistent_workers
        self.pin_memory_device = pin_memory_device
        self.in_order = in_order
        self._is_iterable = is_iterable
        self._iterator = None
        self.__initialized = True

    def __setattr__(self, name, value):
        if getattr(self, "_DataLoader__initialized", False) and name in _FROZEN_ATTRIBUTES:
            raise ValueError(f"{name} attribute should not be set after "
                             f"{type(self).__name__} is initialized")
        super().__setattr__(name, value)

    @property
    def _auto_collation(self):
        return self.batch_sampler is not None

    @property
    def _index_sampler(self):
        return self.batch_sampler if self._auto_collation else self.sampler

    def __iter__(self):
        if self.pin_memory:
            warnings.warn("'pin_memory' argument is set as true but no accelerator is found, "
                          "then device pinned memory won't be used.", stacklevel=2)
        if self.num_workers == 0:
            return _SingleProcessIter(self)
        if not self.persistent_workers:
            return _MultiProcessIter(self)
        if self._iterator is None or self._iterator._shut_down:
            self._iterator = _MultiProcessIter(self)
        else:
            self._iterator._reset(self)
        return self._iterator

    def __len__(self):
        return _loader_length(self.dataset, self._is_iterable, self.batch_size, self.drop_last,
                              self._index_sampler)


def _loader_length(dataset, is_iterable, batch_size, drop_last, index_sampler):
    """Batches per epoch: from the dataset's length if iterable, else the sampler's."""
    if is_iterable:
        length = len(dataset)
        if batch_size is not None:
            length = length // batch_size if drop_last else math.ceil(length / batch_size)
        return length
    return len(index_sampler)


class _BaseIter:
    def __init__(self, loader):
        self._length = functools.partial(_loader_length, loader.dataset, loader._is_iterable,
                                         loader.batch_size, loader.drop_last,
                                         loader._index_sampler)
        self._dataset = loader.dataset
        self._auto_collation = loader._auto_collation
        self._drop_last = loader.drop_last
        self._collate_fn = loader.collate_fn
        self._fetcher_class = (_worker.IterableDatasetFetcher if loader._is_iterable
                               else _worker.MapDatasetFetcher)
        self._sampler_iter = iter(loader._index_sampler)
        # drawn from the loader's generator before the sampler's indices, as PyTorch
        self._base_seed = int(ember.empty((), dtype=ember.int64)
                              .random_(generator=loader.generator).item())

    def __iter__(self):
        return self

    def __len__(self):
        return self._length()


class _SingleProcessIter(_BaseIter):
    def __init__(self, loader):
        super().__init__(loader)
        self._fetcher = self._fetcher_class(self._dataset, self._auto_collation,
                                            self._collate_fn, self._drop_last)

    def __next__(self):
        index = next(self._sampler_iter)
        return self._fetcher.fetch(index)


def _check_context(spec, num_workers):
    """The multiprocessing context ``spec`` names (None: the default), checked as PyTorch does."""
    if spec is None:
        return None
    if num_workers == 0:
        raise ValueError("multiprocessing_context can only be used with multi-process loading "
                         f"(num_workers > 0), but got num_workers={num_workers}")
    if isinstance(spec, str):
        valid = multiprocessing.get_all_start_methods()
        if spec not in valid:
            raise ValueError("multiprocessing_context option should specify a valid start "
                             f"method in {valid!r}, but got multiprocessing_context={spec!r}")
        return multiprocessing.get_context(spec)
    if not isinstance(spec, multiprocessing.context.BaseContext):
        raise TypeError("multiprocessing_context option should be a valid context object or a "
                        f"string specifying the start method, but got "
                        f"multiprocessing_context={spec}")
    return spec


def _exit_description(process):
    code = process.exitcode
    if code is not None and code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        return f"was killed by signal: {signal.strsignal(-code) or name} ({name})"
    return f"exited unexpectedly with exit code {code}"


class _MultiProcessIter(_BaseIter):
    """Hands indices round-robin to worker processes and yields their batches.

    Each worker answers on its own pipe; the main process waits on all pipes and
    on the workers' process sentinels at once, so a dead worker is noticed at
    once rather than by polling.  Tasks are tagged with an epoch so that a
    persistent iterator can drop the answers of an abandoned epoch.
    """

    def __init__(self, loader):
        super().__init__(loader)
        self._timeout = loader.timeout
        self._num_workers = loader.num_workers
        self._prefetch = loader.prefetch_factor * loader.num_workers
        self._in_order = loader.in_order
        self._persistent = loader.persistent_workers
        self._shm_prefix = _shared_memory.new_prefix()
        self._shut_down = False
        self._workers, self._index_queues, self._readers = [], [], []
        ctx = loader.multiprocessing_context or multiprocessing.get_context()
        self._done_event = ctx.Event()
        try:
            for worker_id in range(self._num_workers):
                self._start_worker(ctx, loader, worker_id)
        except BaseException:
            self._shutdown()
            raise
        self._epoch = 0
        self._start_epoch()

    def _start_worker(self, ctx, loader, worker_id):
        index_queue = ctx.Queue()
        index_queue.cancel_join_thread()
        reader, writer = ctx.Pipe(duplex=False)
        worker = ctx.Process(
            target=_worker.worker_loop,
            args=(self._fetcher_class, self._dataset, index_queue, writer, self._done_event,
                  self._auto_collation, self._collate_fn, self._drop_last, self._base_seed,
                  loader.worker_init_fn, worker_id, self._num_workers, self._shm_prefix),
            daemon=True)
        self._index_queues.append(index_queue)
        self._readers.append(reader)
        worker.start()
        self._workers.append(worker)
        # only the worker may hold the writing end: its death then ends the pipe
        writer.close()

    def _start_epoch(self):
        self._active = [True] * self._num_workers
        self._next_worker = itertools.cycle(range(self._num_workers))
        self._send_idx = 0
        self._rcvd_idx = 0
        self._tasks = {}      # send index -> worker id, until answered
        self._received = {}   # send index -> batch, answered ahead of its turn
        for _ in range(self._prefetch):
            self._put_index()

    def _reset(self, loader):
        """Start a new epoch on the same (persistent) workers."""
        self._sampler_iter = iter(loader._index_sampler)
        self._epoch += 1
        for index_queue in self._index_queues:
            index_queue.put(_worker.ResumeIteration())
        self._start_epoch()

    def _put_index(self):
        for _ in range(self._num_workers):
            worker_id = next(self._next_worker)
            if self._active[worker_id]:
                break
        else:
            return
        try:
            index = next(self._sampler_iter)
        except StopIteration:
            return
        self._index_queues[worker_id].put((self._epoch, self._send_idx, index))
        self._tasks[self._send_idx] = worker_id
        self._send_idx += 1

    def _worker_died(self, worker_id):
        worker = self._workers[worker_id]
        worker.join(timeout=1.0)
        message = (f"DataLoader worker process {worker_id} (pid {worker.pid}) "
                   f"{_exit_description(worker)}")
        self._shutdown()
        return RuntimeError(message)

    def _wait_for_message(self):
        """The next message of any worker; raises on timeout or when a worker died."""
        deadline = time.monotonic() + self._timeout if self._timeout > 0 else None
        sentinels = {worker.sentinel: worker_id for worker_id, worker in enumerate(self._workers)}
        readers = {id(reader): worker_id for worker_id, reader in enumerate(self._readers)}
        while True:
            remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
            ready = multiprocessing.connection.wait(self._readers + list(sentinels), remaining)
            if not ready:
                self._shutdown()
                raise RuntimeError(f"DataLoader timed out after {self._timeout} seconds")
            for handle in ready:
                worker_id = readers.get(id(handle))
                if worker_id is not None:
                    try:
                        return handle.recv_bytes()
                    except (EOFError, OSError):
                        raise self._worker_died(worker_id) from None
            for handle in ready:
                worker_id = sentinels[handle]
                # a worker may have answered just before it ended: read that first
                if not self._readers[worker_id].poll():
                    raise self._worker_died(worker_id)

    def _receive(self):
        """Read one answer and file it; answers of an abandoned epoch are dropped."""
        epoch, send_idx, data, retired = pickle.loads(self._wait_for_message())
        _shared_memory.detach(retired)
        if epoch != self._epoch:
            return
        worker_id = self._tasks.pop(send_idx, None)
        if isinstance(data, _worker.IterableStreamEnd):
            self._active[worker_id] = False
            self._put_index()
        else:
            self._received[send_idx] = data

    def _unanswerable(self, send_idx):
        """True if ``send_idx`` will never bring a batch (its worker's stream ended)."""
        if send_idx in self._received:
            return False
        worker_id = self._tasks.get(send_idx)
        return worker_id is None or not self._active[worker_id]

    def __next__(self):
        while True:
            if self._shut_down:
                raise StopIteration
            if self._in_order:
                while self._rcvd_idx < self._send_idx and self._unanswerable(self._rcvd_idx):
                    self._tasks.pop(self._rcvd_idx, None)
                    self._rcvd_idx += 1
                if self._rcvd_idx in self._received:
                    data = self._received.pop(self._rcvd_idx)
                    self._rcvd_idx += 1
                    return self._deliver(data)
                pending = self._rcvd_idx < self._send_idx
            else:
                if self._received:
                    return self._deliver(self._received.pop(next(iter(self._received))))
                pending = any(self._active[w] for w in self._tasks.values())
            if not pending:
                if not self._persistent:
                    self._shutdown()
                raise StopIteration
            self._receive()

    def _deliver(self, data):
        self._put_index()
        if isinstance(data, _worker.ExceptionWrapper):
            self._shutdown()
            data.reraise()
        return data

    def _shutdown(self):
        """Stop the workers (never blocking long), close the channels, free shared memory."""
        if self._shut_down:
            return
        self._shut_down = True
        try:
            self._done_event.set()
            for index_queue in self._index_queues:
                index_queue.put(None)
            # a worker blocked sending to a closed pipe gets an error and exits
            for reader in self._readers:
                reader.close()
            deadline = time.monotonic() + _JOIN_TIMEOUT_S
            for worker in self._workers:
                worker.join(timeout=max(0.0, deadline - time.monotonic()))
            for worker in self._workers:
                if worker.is_alive():
                    worker.terminate()
                    worker.join(timeout=1.0)
                if worker.is_alive():
                    worker.kill()
                    worker.join()
            for index_queue in self._index_queues:
                index_queue.close()
        finally:
            _shared_memory.unlink_prefix(self._shm_prefix)

    def __del__(self):
        if getattr(self, "_workers", None) is not None:
            try:
                self._shutdown()
            except Exception:  # noqa: BLE001 - at interpreter exit modules may be gone
                pass
