"""What runs inside a DataLoader worker process, and the fetchers shared with the main process."""
import os
import pickle
import queue
import random
import sys
import traceback

import numpy as np

import ember
from ember.utils.data import _shared_memory

__all__ = ["WorkerInfo", "get_worker_info"]

# seconds between a worker's checks that the main process is still alive
STATUS_CHECK_INTERVAL_S = 1.0

_worker_info = None


class WorkerInfo:
    """What a DataLoader worker process knows about itself (read-only).

    Attributes
    ----------
    id : int
        The worker's number, ``0 .. num_workers - 1``.
    num_workers : int
        Number of workers of the loader.
    seed : int
        The seed this worker's generators were given (``base_seed + id``).
    dataset : Dataset
        The worker's copy of the dataset.
    """

    def __init__(self, **attributes):
        for name, value in attributes.items():
            object.__setattr__(self, name, value)

    def __setattr__(self, name, value):
        raise RuntimeError(f"Cannot assign attributes to {type(self).__name__} objects")

    def __repr__(self):
        fields = ", ".join(f"{k}={v!r}" for k, v in self.__dict__.items())
        return f"{type(self).__name__}({fields})"


def get_worker_info():
    """Information about the current DataLoader worker process, or None in the main process.

    Returns
    -------
    WorkerInfo or None
        ``id``, ``num_workers``, ``seed`` and ``dataset`` of this worker.

    Examples
    --------
    >>> from ember.utils.data import get_worker_info
    >>> get_worker_info() is None
    True
    """
    return _worker_info


class MapDatasetFetcher:
    """Fetches samples of a map-style dataset by index (or list of indices) and collates them."""

    def __init__(self, dataset, auto_collation, collate_fn, drop_last):
        self.dataset = dataset
        self.auto_collation = auto_collation
        self.collate_fn = collate_fn
        self.drop_last = drop_last

    def fetch(self, possibly_batched_index):
        if self.auto_collation:
            getitems = getattr(self.dataset, "__getitems__", None)
            if callable(getitems):
                data = getitems(possibly_batched_index)
            else:
                data = [self.dataset[i] for i in possibly_batched_index]
        else:
            data = self.dataset[possibly_batched_index]
        return self.collate_fn(data)


class IterableDatasetFetcher:
    """Takes the next sample (or batch of samples) from an iterable dataset's stream."""

    def __init__(self, dataset, auto_collation, collate_fn, drop_last):
        self.dataset_iter = iter(dataset)
        self.auto_collation = auto_collation
        self.collate_fn = collate_fn
        self.drop_last = drop_last
        self.ended = False

    def fetch(self, possibly_batched_index):
        if self.ended:
            raise StopIteration
        if self.auto_collation:
            data = []
            for _ in possibly_batched_index:
                try:
                    data.append(next(self.dataset_iter))
                except StopIteration:
                    self.ended = True
                    break
            if not data or (self.drop_last and len(data) < len(possibly_batched_index)):
                raise StopIteration
        else:
            data = next(self.dataset_iter)
        return self.collate_fn(data)


class ExceptionWrapper:
    """An exception raised in a worker, carried to the main process with its traceback text."""

    def __init__(self, where):
        exc_type, exc_value, exc_tb = sys.exc_info()
        self.exc_type = exc_type
        self.text = "".join(traceback.format_exception(exc_type, exc_value, exc_tb))
        self.where = where

    def reraise(self):
        message = f"Caught {self.exc_type.__name__} {self.where}.\nOriginal {self.text}"
        if self.exc_type is KeyError:
            # KeyError quotes its argument: keep the traceback's newlines readable
            message = _KeyErrorMessage(message)
        try:
            exception = self.exc_type(message)
        except Exception:
            # an exception class whose constructor takes other arguments
            raise RuntimeError(message) from None
        raise exception


class _KeyErrorMessage(str):
    """A string whose repr is itself, so that ``KeyError(message)`` prints the traceback as is."""

    def __repr__(self):
        return self


class IterableStreamEnd:
    """Sent by a worker whose copy of an iterable dataset is exhausted."""

    def __init__(self, worker_id):
        self.worker_id = worker_id


class ResumeIteration:
    """Sent to a persistent worker at the start of a new epoch: restart the dataset's stream."""


def numpy_seed(base_seed, worker_id):
    """The NumPy seed of a worker: four 32-bit words mixed from the base seed and worker id.

    This is NumPy's ``SeedSequence`` hash-mix applied to ``[worker_id, base_seed
    low word, base_seed high word, 0]``, as PyTorch seeds NumPy in its workers, so
    workers get unrelated NumPy streams even for consecutive seeds.
    """
    mask = 0xFFFFFFFF
    xshift = 16
    multiplier_a = 0x931E8875
    hash_const = 0x43B0D7E5

    def hashmix(value):
        nonlocal hash_const
        value = (value ^ hash_const) & mask
        hash_const = (hash_const * multiplier_a) & mask
        value = (value * hash_const) & mask
        return (value ^ (value >> xshift)) & mask

    def mix(x, y):
        result = ((0xCA01F9DD * x) - (0x4973F715 * y)) & mask
        return (result ^ (result >> xshift)) & mask

    pool = [hashmix(word) for word in (worker_id, base_seed & mask, base_seed >> 32, 0)]
    for src in range(4):
        for dst in range(4):
            if src != dst:
                pool[dst] = mix(pool[dst], hashmix(pool[src]))
    state = []
    hash_const_b = 0x8B51F9DD
    for word in pool:
        word = (word ^ hash_const_b) & mask
        hash_const_b = (hash_const_b * 0x58F38DED) & mask
        word = (word * hash_const_b) & mask
        state.append((word ^ (word >> xshift)) & mask)
    return state


def _fetch(fetcher, fetcher_class, index, worker_id):
    """The collated batch for ``index``, or what to send instead (an error or the stream's end)."""
    try:
        return fetcher.fetch(index), False
    except StopIteration:
        if fetcher_class is IterableDatasetFetcher:
            return IterableStreamEnd(worker_id), True
        return ExceptionWrapper(f"in DataLoader worker process {worker_id}"), False
    except Exception:
        return ExceptionWrapper(f"in DataLoader worker process {worker_id}"), False


def _pack(arena, epoch, send_idx, data, worker_id):
    """The message for one batch: tensors in shared memory, the rest pickled."""
    retired, arena.retired = arena.retired, []
    try:
        payload = _shared_memory.dumps((epoch, send_idx, data, retired), arena)
        arena.end(sent=True)
    except Exception:
        arena.end(sent=False)
        error = ExceptionWrapper(f"in DataLoader worker process {worker_id} "
                                 "(while sending its batch)")
        try:
            payload = pickle.dumps((epoch, send_idx, error, retired))
        except Exception:
            # an exception class the main process could not look up (a local class)
            error.exc_type = RuntimeError
            payload = pickle.dumps((epoch, send_idx, error, retired))
    return payload


def worker_loop(fetcher_class, dataset, index_queue, result_conn, done_event, auto_collation,
                collate_fn, drop_last, base_seed, init_fn, worker_id, num_workers, shm_prefix):
    """Body of a worker process: fetch what ``index_queue`` asks for, answer on ``result_conn``.

    Requests are ``(epoch, send_idx, index)``, :class:`ResumeIteration` or None
    (exit).  Each answer is ``(epoch, send_idx, batch, retired segment names)``
    pickled by :func:`ember.utils.data._shared_memory.dumps`: the batch's tensors are
    collated straight into this worker's shared-memory arena.
    """
    global _worker_info
    arena = None
    # the main process, or the fork server that started us: if it dies we are re-parented
    parent_pid = os.getppid()
    try:
        # one thread per worker, as PyTorch; this also keeps a forked child off the
        # parent's OpenMP thread pool, which does not survive fork
        ember.set_num_threads(1)
        seed = base_seed + worker_id
        random.seed(seed)
        ember.manual_seed(seed)
        np.random.seed(numpy_seed(base_seed, worker_id))
        _worker_info = WorkerInfo(id=worker_id, num_workers=num_workers, seed=seed,
                                  dataset=dataset)
        arena = _shared_memory.SharedArena(f"{shm_prefix}w{worker_id}_")
        _shared_memory.set_current_arena(arena)
        init_error = None
        try:
            if init_fn is not None:
                init_fn(worker_id)
            fetcher = fetcher_class(dataset, auto_collation, collate_fn, drop_last)
        except Exception:
            init_error = ExceptionWrapper(f"in DataLoader worker process {worker_id}")
        stream_ended = False
        while not done_event.is_set():
            try:
                request = index_queue.get(timeout=STATUS_CHECK_INTERVAL_S)
            except queue.Empty:
                if os.getppid() != parent_pid:
                    break  # the main process died
                continue
            if request is None:
                break
            if isinstance(request, ResumeIteration):
                stream_ended = False
                if init_error is None:
                    try:
                        fetcher = fetcher_class(dataset, auto_collation, collate_fn, drop_last)
                    except Exception:
                        init_error = ExceptionWrapper(f"in DataLoader worker process {worker_id}")
                continue
            if stream_ended:
                continue
            epoch, send_idx, index = request
            arena.begin()
            if init_error is not None:
                data, init_error = init_error, None
            else:
                data, stream_ended = _fetch(fetcher, fetcher_class, index, worker_id)
            payload = _pack(arena, epoch, send_idx, data, worker_id)
            del data
            result_conn.send_bytes(payload)
    except (KeyboardInterrupt, BrokenPipeError, ConnectionResetError):
        pass  # interrupted, or the main process stopped listening
    finally:
        if arena is not None:
            _shared_memory.set_current_arena(None)
            arena.close()
        result_conn.close()
