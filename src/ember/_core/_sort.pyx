# cython: embedsignature=False
"""The compiled part of sorting: stable sort of contiguous rows (``sort.c.in``).

``sort_rows`` takes a C-contiguous tensor whose last dimension holds the rows to
sort and returns the sorted values and their int64 positions, computed with the
GIL released; ``ember.ops.sorting`` builds ``sort``, ``argsort``, ``topk`` and
friends (dims, named tuples, gradients) on top of it.
"""
from libc.stdint cimport int64_t

from ember._core._dtype cimport EM_INT64
from ember._core._tensor cimport Tensor, new_tensor, DEV_CPU

cdef extern from "ember/sort.h":
    ctypedef int (*em_sort_fn)(const char *inp, char *values, int64_t *indices, int64_t rows,
                               int64_t n, int64_t k, int descending) nogil
    const em_sort_fn em_sort_rows[12]


def sort_rows(Tensor src not None, bint descending, k=None):
    """Sort the last dimension of the contiguous tensor ``src`` (stably, NaN last
    ascending); returns ``(values, indices)``, the first ``k`` of each row (default:
    all), the last dimension of size ``k``."""
    if not src.is_contig():
        raise ValueError("sort_rows(): the input must be contiguous")
    if src._storage.device.type_num != DEV_CPU:
        raise RuntimeError(f"sort(): ember sorts CPU tensors; got a tensor on {src._storage.device}")
    cdef em_sort_fn fn = em_sort_rows[src._dtype]
    if fn == NULL:
        raise RuntimeError("Sort does not support complex dtypes on CPU")
    cdef int64_t n = src._shape[src._ndim - 1] if src._ndim > 0 else 1
    cdef int64_t first = n if k is None else k
    if not 0 <= first <= n:
        raise ValueError(f"sort_rows(): k={first} out of range for rows of {n}")
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
