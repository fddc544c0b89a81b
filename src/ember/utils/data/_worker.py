"""What runs inside a DataLoader worker process, and the fetchers shared with the main process."""
import queue
import random
import sys
import traceback

import numpy as np

import ember

__all__ = ["WorkerInfo", "get_worker_info"]

# seconds between checks that the main process or the workers are still alive
STATUS_CHECK_INTERVAL_S = 5.0

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
        try:
            exception = self.exc_type(message)
        except Exception:
            # an exception class whose constructor takes other arguments
            raise RuntimeError(message) from None
        raise exception


class IterableStreamEnd:
    """Sent by a worker whose copy of an iterable dataset is exhausted."""

    def __init__(self, worker_id):
        self.worker_id = worker_id


def worker_loop(fetcher_class, dataset, index_queue, data_queue, done_event, auto_collation,
                collate_fn, drop_last, base_seed, init_fn, worker_id, num_workers):
    """Body of a worker process: fetch what ``index_queue`` asks for, answer on ``data_queue``."""
    global _worker_info
    try:
        # one thread per worker, as PyTorch; this also keeps a forked child off the
        # parent's OpenMP thread pool, which does not survive fork
        ember.set_num_threads(1)
        seed = base_seed + worker_id
        random.seed(seed)
        ember.manual_seed(seed)
        np.random.seed(seed % 2 ** 32)
        _worker_info = WorkerInfo(id=worker_id, num_workers=num_workers, seed=seed,
                                  dataset=dataset)
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
                continue
            if request is None:
                break
            if stream_ended:
                continue
            send_idx, index = request
            if init_error is not None:
                data, init_error = init_error, None
            else:
                try:
                    data = fetcher.fetch(index)
                except StopIteration:
                    if fetcher_class is not IterableDatasetFetcher:
                        data = ExceptionWrapper(f"in DataLoader worker process {worker_id}")
                    else:
                        data = IterableStreamEnd(worker_id)
                        stream_ended = True
                except Exception:
                    data = ExceptionWrapper(f"in DataLoader worker process {worker_id}")
            data_queue.put((send_idx, data))
    except KeyboardInterrupt:
        pass
    if done_event.is_set():
        data_queue.cancel_join_thread()
        data_queue.close()
