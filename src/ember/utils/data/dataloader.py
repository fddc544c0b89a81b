"""DataLoader: batches of a dataset, in the main process or in worker processes (as ``torch.utils.data``)."""
import itertools
import math
import multiprocessing
import queue
import warnings

import ember
from ember.utils.data import _worker
from ember.utils.data._collate import default_collate, default_convert
from ember.utils.data.dataset import IterableDataset
from ember.utils.data.sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler

__all__ = ["DataLoader"]

# attributes fixed once a DataLoader is built (PyTorch refuses to change them too)
_FROZEN_ATTRIBUTES = ("batch_size", "batch_sampler", "sampler", "drop_last", "dataset",
                      "persistent_workers")


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
        Accepted for compatibility; ember has no pinned memory, so True only warns.
    drop_last : bool, optional
        Drop the last batch when it is incomplete (default False).
    timeout : float, optional
        Seconds to wait for a batch from the workers (default 0: no limit).
    worker_init_fn : callable, optional
        Called as ``worker_init_fn(worker_id)`` in each worker after seeding.
    multiprocessing_context : str or context, optional
        Start method of the workers (``"fork"``, ``"spawn"``, ``"forkserver"``).
    generator : Generator, optional
        Source of the shuffling order and of the workers' base seed.
    prefetch_factor : int, optional
        Batches each worker loads ahead (default 2 with workers; must be None without).
    persistent_workers : bool, optional
        Keep workers alive across epochs; not supported (raises NotImplementedError).

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
                 prefetch_factor=None, persistent_workers=False):
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
        if persistent_workers:
            raise NotImplementedError("persistent_workers=True is not supported by "
                                      "ember.utils.data.DataLoader: workers are started anew "
                                      "for each epoch")
        if pin_memory:
            warnings.warn("pin_memory=True has no effect: ember has no pinned host memory",
                          stacklevel=2)

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
        self._is_iterable = is_iterable
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
        if self.num_workers == 0:
            return _SingleProcessIter(self)
        return _MultiProcessIter(self)

    def __len__(self):
        if self._is_iterable:
            length = len(self.dataset)
            if self.batch_size is not None:
                length = (length // self.batch_size if self.drop_last
                          else math.ceil(length / self.batch_size))
            return length
        return len(self._index_sampler)


class _BaseIter:
    def __init__(self, loader):
        self._loader = loader
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
        self._length = None

    def __iter__(self):
        return self

    def __len__(self):
        return len(self._loader)


class _SingleProcessIter(_BaseIter):
    def __init__(self, loader):
        super().__init__(loader)
        self._fetcher = self._fetcher_class(self._dataset, self._auto_collation,
                                            self._collate_fn, self._drop_last)

    def __next__(self):
        index = next(self._sampler_iter)
        return self._fetcher.fetch(index)


def _context(spec):
    if spec is None:
        return multiprocessing.get_context()
    if isinstance(spec, str):
        return multiprocessing.get_context(spec)
    return spec


class _MultiProcessIter(_BaseIter):
    """Hands indices round-robin to worker processes and yields their batches in order."""

    def __init__(self, loader):
        super().__init__(loader)
        self._timeout = loader.timeout
        self._num_workers = loader.num_workers
        ctx = _context(loader.multiprocessing_context)
        self._result_queue = ctx.Queue()
        self._done_event = ctx.Event()
        self._index_queues, self._workers = [], []
        for worker_id in range(self._num_workers):
            index_queue = ctx.Queue()
            index_queue.cancel_join_thread()
            worker = ctx.Process(
                target=_worker.worker_loop,
                args=(self._fetcher_class, self._dataset, index_queue, self._result_queue,
                      self._done_event, self._auto_collation, self._collate_fn,
                      self._drop_last, self._base_seed, loader.worker_init_fn, worker_id,
                      self._num_workers),
                daemon=True)
            worker.start()
            self._index_queues.append(index_queue)
            self._workers.append(worker)
        self._active = [True] * self._num_workers
        self._next_worker = itertools.cycle(range(self._num_workers))
        self._send_idx = 0
        self._rcvd_idx = 0
        # send index -> (worker id,) while pending, (worker id, data) once received early
        self._tasks = {}
        self._shut_down = False
        for _ in range(loader.prefetch_factor * self._num_workers):
            self._put_index()

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
        self._index_queues[worker_id].put((self._send_idx, index))
        self._tasks[self._send_idx] = (worker_id,)
        self._send_idx += 1

    def _get_result(self):
        if self._timeout > 0:
            try:
                return self._result_queue.get(timeout=self._timeout)
            except queue.Empty:
                self._shutdown()
                raise RuntimeError(f"DataLoader timed out after {self._timeout} seconds") from None
        while True:
            try:
                return self._result_queue.get(timeout=_worker.STATUS_CHECK_INTERVAL_S)
            except queue.Empty:
                dead = [w.pid for w in self._workers if not w.is_alive()]
                if dead:
                    self._shutdown()
                    raise RuntimeError(f"DataLoader worker (pid(s) {dead}) exited "
                                       "unexpectedly") from None

    def __next__(self):
        while True:
            # skip the requests of workers whose stream ended: they will never answer
            while self._rcvd_idx < self._send_idx:
                task = self._tasks[self._rcvd_idx]
                if len(task) == 2 or self._active[task[0]]:
                    break
                del self._tasks[self._rcvd_idx]
                self._rcvd_idx += 1
            else:
                self._shutdown()
                raise StopIteration
            task = self._tasks[self._rcvd_idx]
            if len(task) == 2:
                del self._tasks[self._rcvd_idx]
                self._rcvd_idx += 1
                return self._deliver(task[1])
            if self._shut_down:
                raise StopIteration
            send_idx, data = self._get_result()
            if isinstance(data, _worker.IterableStreamEnd):
                self._active[data.worker_id] = False
                self._index_queues[data.worker_id].put(None)
                self._put_index()
                continue
            if send_idx != self._rcvd_idx:
                self._tasks[send_idx] += (data,)
                continue
            del self._tasks[send_idx]
            self._rcvd_idx += 1
            return self._deliver(data)

    def _deliver(self, data):
        self._put_index()
        if isinstance(data, _worker.ExceptionWrapper):
            self._shutdown()
            data.reraise()
        return data

    def _shutdown(self):
        if self._shut_down:
            return
        self._shut_down = True
        self._done_event.set()
        for index_queue in self._index_queues:
            index_queue.put(None)
        for worker in self._workers:
            worker.join(timeout=_worker.STATUS_CHECK_INTERVAL_S)
            if worker.is_alive():
                worker.terminate()
        for index_queue in self._index_queues:
            index_queue.close()
        self._result_queue.cancel_join_thread()
        self._result_queue.close()

    def __del__(self):
        if getattr(self, "_workers", None) is not None:
            self._shutdown()
