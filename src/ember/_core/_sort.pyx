# cython: embedsignature=False
"""The compiled part of sorting: stable sort of contiguous rows and binary search
in sorted rows (``sort.c.in``).

``sort_rows`` takes a C-contiguous tensor whose last dimension holds the rows to
sort and returns the sorted values and their int64 positions, computed with the
GIL released (on another device: its backend's ``sort_rows``, e.g. CuPy's stable
sort for cuda); ``ember.ops.sorting`` builds ``sort``, ``argsort``, ``topk`` and
friends (dims, named tuples, gradients) on top of it.  ``search_rows`` is the
kernel of ``ember.ops.search.searchsorted``.
"""
from libc.stdint cimport int64_t

from ember._core._dtype cimport EM_INT32, EM_INT64, EM_NTYPES
from ember._core._tensor cimport Tensor, new_tensor, DEV_CPU
from ember._core._tensor import backend as _backend

cdef extern from "ember/sort.h":
    ctypedef int (*em_sort_fn)(const char *inp, char *values, int64_t *indices, int64_t rows,
                               int64_t n, int64_t k, int descending) nogil
    const em_sort_fn em_sort_rows[EM_NTYPES]
    ctypedef void (*em_search_fn)(const char *seq, int64_t seq_len, int64_t seq_step,
                                  const char *values, int64_t per_row, int64_t rows, void *out,
                                  int out_int32, int right) nogil
    const em_search_fn em_search_rows[EM_NTYPES]


def sort_rows(Tensor src not None, bint descending, k=None):
    """Sort the last dimension of the contiguous tensor ``src`` (stably, NaN last
    ascending); returns ``(values, indices)``, the first ``k`` of each row (default:
    all), the last dimension of size ``k``."""
    if not src.is_contig():
        raise ValueError("sort_rows(): the input must be contiguous")
    cdef int64_t n = src._shape[src._ndim - 1] if src._ndim > 0 else 1
    cdef int64_t first = n if k is None else k
    if not 0 <= first <= n:
        raise ValueError(f"sort_rows(): k={first} out of range for rows of {n}")
    if src._storage.device.type_num != DEV_CPU:
        return _backend(src._storage.device.type).sort_rows(src, descending, first)
    cdef em_sort_fn fn = em_sort_rows[src._dtype]
    if fn == NULL:
        raise RuntimeError("Sort does not support complex dtypes on CPU")
    cdef Py_ssize_t shape[64]
    cdef int d
    for d in range(src._ndim):
        shape[d] = src._shape[d]
    if src._ndim > 0:
        shape[src._ndim - 1] = first
    cdef Tensor values = new_tensor(src._ndim, shape, src._dtype, src._storage.device)
    cdef Tensor indices = new_tensor(src._ndim, shape, EM_INT64, src._storage.device)
    cdef int64_t rows = src._numel // n if n > 0 else 0
    cdef const char *inp = src.ptr()
    cdef char *out = values.ptr()
    cdef int64_t *idx = <int64_t *>indices.ptr()
    cdef int status = 0
    if rows > 0 and first > 0:
        with nogil:
            status = fn(inp, out, idx, rows, n, first, descending)
    if status != 0:
        raise MemoryError("sort(): out of memory for the row buffers")
    return values, indices


def search_rows(Tensor seq not None, Tensor values not None, bint right, bint out_int32):
    """Insertion positions of ``values`` in the sorted last-dimension rows of ``seq``.

    Both tensors are contiguous CPU tensors of one real dtype; ``seq`` is 1-D (one
    row for every value) or has the leading dimensions of ``values``.  Returns an
    int64 (int32 when ``out_int32``) tensor shaped like ``values``."""
    if not (seq.is_contig() and values.is_contig()) or seq._dtype != values._dtype:
        raise ValueError("search_rows(): contiguous inputs of one dtype expected")
    cdef em_search_fn fn = em_search_rows[seq._dtype]
    if fn == NULL:
        raise RuntimeError("searchsorted(): complex dtypes have no order")
    if seq._storage.device != values._storage.device:
        raise RuntimeError(f"searchsorted(): expected all tensors to be on the same device, but "
                           f"found {seq.device} and {values.device}")
    if seq._storage.device.type_num != DEV_CPU:
        return _backend(seq._storage.device.type).search_rows(seq, values, right, out_int32)
    cdef int64_t seq_len = seq._shape[seq._ndim - 1]
    cdef int64_t per_row = values._shape[values._ndim - 1] if values._ndim > 0 else 1
    cdef int64_t rows = values._numel // per_row if per_row > 0 else 0
    cdef int64_t seq_step = 0 if seq._ndim == 1 else seq_len
    cdef Tensor out = new_tensor(values._ndim, values._shape, EM_INT32 if out_int32 else EM_INT64,
                                 values._storage.device)
    cdef const char *seq_ptr = seq.ptr()
    cdef const char *val_ptr = values.ptr()
    cdef void *out_ptr = out.ptr()
    if rows > 0:
        with nogil:
            fn(seq_ptr, seq_len, seq_step, val_ptr, per_row, rows, out_ptr, out_int32, right)
    return out
