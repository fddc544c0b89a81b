cimport cython
from ember._core._dtype cimport dtype

cdef extern from "ember/dtype.h":
    int em_itemsize_of "em_itemsize_fn"(int num) noexcept nogil

cdef extern from "ember/strided.h":
    enum:
        EM_MAX_DIMS
        EM_MAX_OPERANDS
        EM_GRAIN_SIZE
    ctypedef void (*em_loop_fn)(char **data, const Py_ssize_t *strides, Py_ssize_t n, void *ctx) noexcept nogil
    ctypedef struct em_iter:
        int nop
        int ndim
        Py_ssize_t shape[64]
        Py_ssize_t strides[8][64]
        char *data[8]
    Py_ssize_t em_iter_prepare(em_iter *it, int allow_flip) noexcept nogil
    Py_ssize_t em_iter_prepare_ordered(em_iter *it) noexcept nogil
    void em_iter_run(const em_iter *it, em_loop_fn fn, void *ctx, int parallel) noexcept nogil
    void em_iter_run_write_only(const em_iter *it, em_loop_fn fn, void *ctx,
                                const Py_ssize_t *itemsize) noexcept nogil
    int em_iter_run_tiled(const em_iter *it, em_loop_fn fn, void *ctx,
                          const Py_ssize_t *itemsize, int backward) noexcept nogil
    void em_set_num_threads(int n) noexcept nogil
    int em_get_num_threads() noexcept nogil
    int em_set_flush_denormal(int on) noexcept nogil
    void *em_alloc(size_t nbytes) noexcept nogil
    void em_free(void *ptr, size_t nbytes) noexcept nogil
    void em_allocator_empty_cache() noexcept nogil
    size_t em_allocator_cached_bytes() noexcept nogil
    void em_allocator_set_limit(size_t nbytes) noexcept nogil

# device types, as DLPack numbers them; meta tensors hold no memory and have no DLPack number
cdef enum:
    DEV_CPU = 1
    DEV_CUDA = 2
    DEV_META = 1000

# the bits of Tensor._requires_grad
cdef enum:
    REQUIRES_GRAD = 1
    FW_GRAD = 2

# the bits of the thread's grad mode (grad_enabled()): gradients are recorded; a
# forward-mode dual level is open
cdef enum:
    GRAD_MODE = 1
    FW_MODE = 2

# shape and strides live inline for tensors of up to this many dims
cdef enum:
    INLINE_DIMS = 6


cdef class device:
    cdef readonly str type
    cdef readonly object index
    cdef int type_num


cdef class Storage:
    cdef char *data
    cdef Py_ssize_t size_bytes
    cdef bint owns_data          # allocated by ember's allocator, freed on dealloc
    cdef object owner            # keeps borrowed memory alive
    cdef readonly device device
    cdef bint readonly_mem
    cdef Py_ssize_t version
    cdef bint inference          # allocated under inference_mode: an inference tensor's


# Tensor.ptr's error for memory on another device
cdef char *not_on_cpu(object t) except NULL


# A version counter of its own, for a tensor that shares its storage's memory but not its
# counter (what Tensor.data returns, and the views of it); every other tensor counts with
# its storage's `version`
@cython.final
cdef class VersionCounter:
    cdef Py_ssize_t version


cdef class Tensor:
    cdef Storage _storage
    cdef Py_ssize_t _offset       # in elements
    cdef int _ndim
    cdef int _dtype               # em_dtype number
    cdef Py_ssize_t _numel
    cdef Py_ssize_t *_shape
    cdef Py_ssize_t *_strides     # in elements
    cdef Py_ssize_t _inline[12]   # 2 * INLINE_DIMS
    cdef object _dims_owner       # holds shape and strides past INLINE_DIMS
    cdef Tensor _view_base        # for a view: the tensor it views (never itself a view)
    cdef VersionCounter _version_counter  # None: the storage's version counts (see bump_version)
    # autograd state, owned by ember.autograd
    # bit 0 (REQUIRES_GRAD): requires grad; bit 1 (FW_GRAD): carries a forward-mode tangent.
    # Any bit routes the tensor's ops to autograd's recorders
    cdef int _requires_grad
    cdef object _grad
    cdef object _grad_fn
    cdef object _autograd_meta
    cdef object __weakref__

    cdef inline char *ptr(self) except? NULL:
        # the one gate between tensors and ember's CPU kernels: memory on another
        # device is never handed to them (a CUDA op without a kernel raises here)
        if self._storage.device.type_num != DEV_CPU:
            return not_on_cpu(self)     # out of line, so that this stays small enough to inline
        return self._storage.data + self._offset * em_itemsize_of(self._dtype)
    cdef inline char *address(self) noexcept:
        # the first element's address on whatever device: for address arithmetic only
        return self._storage.data + self._offset * em_itemsize_of(self._dtype)
    cdef inline bint is_contig(self) noexcept:
        # row-major without gaps; size-1 dims may have any stride (as in PyTorch)
        cdef Py_ssize_t expected = 1
        cdef int d
        for d in range(self._ndim - 1, -1, -1):
            if self._shape[d] != 1:
                if self._strides[d] != expected:
                    return self._numel == 0
                expected *= self._shape[d]
        return True
    cdef dtype get_dtype(self)
    cdef Tensor cpu_tensor(self)

# The version counter in-place ops bump and autograd checks saved tensors against: the
# storage's, except for a tensor with a counter of its own (a predictable branch, no
# allocation for ordinary tensors)
cdef inline void bump_version(Tensor t) noexcept:
    if t._version_counter is None:
        t._storage.version += 1
    else:
        t._version_counter.version += 1

cdef inline Py_ssize_t version_of(Tensor t) noexcept:
    if t._version_counter is None:
        return t._storage.version
    return t._version_counter.version

cdef Tensor new_tensor(int ndim, const Py_ssize_t *shape, int dtype_num, device dev)
cdef object default_device_arg(object dev)
cdef Tensor new_like_layout(Tensor like, int dtype_num)
cdef Tensor make_view(Tensor base, int ndim, const Py_ssize_t *shape, const Py_ssize_t *strides,
                      Py_ssize_t offset)
cdef int set_dims(Tensor t, int ndim, const Py_ssize_t *shape, const Py_ssize_t *strides) except -1
cdef int copy_into(Tensor dst, Tensor src) except -1
cdef int resize_output(Tensor out, int nd, const Py_ssize_t *shape, bint warn=*) except -1
cdef int wrap_dim(object dim, int ndim) except -1
cdef Tensor storage_base(Tensor t)
cdef Storage borrow_storage(char *data, Py_ssize_t nbytes, object owner, bint readonly, device dev)
cdef bint inference_mode_on() noexcept
cdef int check_not_inference(Tensor t, str what) except -1

# autograd plumbing (see _autograd_hooks.pxi)
cdef bint grad_enabled() noexcept
cdef bint set_grad_mode(bint mode) noexcept
cdef object record_op(str name, object fn, tuple args, dict kwargs)
cdef object ew_forward(int op, list args, object out, bint inplace)

# autocast plumbing (see _autocast_hooks.pxi)
cdef bint autocast_mode() noexcept
cdef object autocast_op(str name, object fn, tuple args, dict kwargs)
