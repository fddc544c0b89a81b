# cython: embedsignature=False
"""ember's strided tensor: Storage, Tensor and the hot paths from Python to the kernels.

Everything a small op does between the Python call and the C loop lives here,
typed, so that a call costs tens of nanoseconds.  The module is split into
include files by concern: devices and storage (``_storage.pxi``), shapes,
strides and allocation (``_layout.pxi``), views and basic indexing
(``_views.pxi``), the elementwise engine (``_elementwise.pxi``) and its fast
paths and entry points (``_elementwise_fast.pxi``), copies and casts
(``_copy.pxi``), creation (``_creation.pxi``), NumPy / buffer interop
(``_interop.pxi``), the converting methods (``_conversions.pxi``: ``to``,
``float``..., ``numpy``, ``tolist``, pickling and copying) and the hooks the
Python layers install (``_tensor_hooks.pxi``).
"""
cimport cython
from cpython.mem cimport PyMem_Malloc, PyMem_Free
from cpython.bytearray cimport PyByteArray_AS_STRING
from cpython.bytes cimport PyBytes_FromStringAndSize
from cpython.object cimport PyObject
from cpython.slice cimport PySlice_Unpack, PySlice_AdjustIndices
from cpython.buffer cimport PyBUF_WRITABLE, PyBUF_FORMAT, PyBUF_STRIDES
from libc.string cimport memcpy, memset
from libc.stdint cimport int64_t, uint8_t, int8_t, int16_t, int32_t, uint16_t, uint32_t, uint64_t

import numpy as np
import operator
import threading
import warnings

from ember._core._dtype import TORCH_NAMES

from ember._core._dtype cimport (
    dtype, dtype_of, default_float, promote_nums, complex_of, real_of, as_dtype,
    em_itemsize, em_category, em_float_to_half, em_float_to_bfloat16,
    em_half_to_float, em_bfloat16_to_float,
    EM_BOOL, EM_UINT8, EM_INT8, EM_INT16, EM_INT32, EM_INT64, EM_FLOAT16, EM_BFLOAT16,
    EM_FLOAT32, EM_FLOAT64, EM_COMPLEX64, EM_COMPLEX128, EM_UINT16, EM_UINT32, EM_UINT64,
    EM_NTYPES,
)

cdef extern from "Python.h":
    Py_ssize_t PY_SSIZE_T_MAX


include "_storage.pxi"
include "_layout.pxi"
include "_memory_format.pxi"
include "_autograd_hooks.pxi"
include "_autocast_hooks.pxi"


# ---------------------------------------------------------------- the Tensor

cdef int _become_alias(Tensor self, Tensor src) except -1:
    """``ember.Tensor(t)``: ``self`` becomes an alias of ``t``, as ``torch.Tensor(t)`` is
    ``t.alias()``: a view of the same memory, layout and dtype, sharing ``t``'s version
    counter, and in ``t``'s graph (AliasBackward0) when ``t`` requires grad."""
    _init_from(self, src)
    self._view_base = src if src._view_base is None else src._view_base
    self._version_counter = src._version_counter
    if em_grad_mode and src._requires_grad:
        record_view("alias", src, self, (src,))
    return 0


@cython.freelist(64)
@cython.no_gc
cdef class VersionCounter:
    """The version counter of a tensor that shares memory but not the counter with the
    tensor it came from: :attr:`Tensor.data` (and the views of it), and a tensor whose
    ``data`` was replaced or ``set_`` to other memory, which keeps counting its own
    versions, as in PyTorch."""


cdef VersionCounter own_counter(Tensor t):
    """``t``'s counter as an object of its own, holding its current version (made for a
    tensor that counts with its storage)."""
    cdef VersionCounter counter = t._version_counter
    if counter is None:
        counter = VersionCounter.__new__(VersionCounter)
        counter.version = t._storage.version
    return counter


cdef extern from "Python.h":
    ctypedef struct PyTypeObjectDict "PyTypeObject":
        PyObject *tp_dict
    void PyType_Modified(PyObject *tp)


@cython.freelist(256)
cdef class Tensor:
    """A strided, typed, n-dimensional array on a device.

    Tensors are created by factory functions such as :func:`ember.tensor`,
    :func:`ember.zeros` or :func:`ember.from_numpy`.  ``ember.Tensor(data)``
    builds a tensor of the default float dtype from nested sequences, as
    ``torch.Tensor`` does; ``ember.Tensor(*sizes)`` an uninitialised one; and
    ``ember.Tensor(t)``, for a tensor ``t``, an alias of ``t`` (the same memory, dtype
    and layout, in ``t``'s autograd graph), as ``torch.Tensor(t)``.
    """

    __array_priority__ = 1000

    def __cinit__(self):
        # a valid empty float32 tensor until a creator gives it a layout and storage, so
        # that a bare Tensor.__new__(Tensor) can never lead a kernel to a NULL storage
        self._shape = self._inline
        self._strides = self._inline + INLINE_DIMS
        self._storage = _EMPTY_STORAGE
        self._ndim = 1
        self._shape[0] = 0
        self._strides[0] = 1
        self._dtype = EM_FLOAT32

    def __init__(self, *args, **kwargs):
        if not args and not kwargs:
            if self._storage is _EMPTY_STORAGE:
                _init_from(self, new_tensor(1, [0], default_float(), CPU))
            return
        if kwargs:
            raise TypeError(f"Tensor(): unexpected keyword arguments {sorted(kwargs)}")
        if len(args) == 1 and isinstance(args[0], Tensor):
            _become_alias(self, <Tensor>args[0])
            return
        # one sequence is data, as PyTorch, except a Size, which is a shape
        if len(args) == 1 and not isinstance(args[0], (int, Size)):
            src = tensor_from_data(args[0], dtype_of(default_float()), None)
        else:
            src = empty(*args)
        _init_from(self, src)

    # ------------------------------------------------------------ metadata
    @property
    def shape(self):
        """The size of each dimension, as an :class:`ember.Size`."""
        if _size_hook is not None:
            traced = _size_hook(self)
            if traced is not None:
                return traced
        return em_size_from(self._shape, self._ndim)

    def size(self, dim=None):
        """The shape, or the size of dimension ``dim``."""
        if _size_hook is not None:
            traced = _size_hook(self)
            if traced is not None:
                return traced if dim is None else traced[_existing_dim(dim, self._ndim)]
        if dim is None:
            return em_size_from(self._shape, self._ndim)
        return self._shape[_existing_dim(dim, self._ndim)]

    def stride(self, dim=None):
        """Strides in elements (zero and negative allowed), or the stride of ``dim``."""
        cdef int d
        if dim is None:
            return tuple([self._strides[d] for d in range(self._ndim)])
        return self._strides[_existing_dim(dim, self._ndim)]

    def storage_offset(self):
        """Offset of the first element from the start of the storage, in elements."""
        return self._offset

    def dim(self):
        """Number of dimensions."""
        return self._ndim

    def ndimension(self):
        """Number of dimensions (alias of :meth:`dim`)."""
        return self._ndim

    @property
    def ndim(self):
        """Number of dimensions."""
        return self._ndim

    def numel(self):
        """Number of elements."""
        return self._numel

    def nelement(self):
        """Number of elements (alias of :meth:`numel`)."""
        return self._numel

    def element_size(self):
        """Bytes per element."""
        return em_itemsize[self._dtype]

    @property
    def itemsize(self):
        """Bytes per element."""
        return em_itemsize[self._dtype]

    @property
    def nbytes(self):
        """Bytes spanned by the elements (``numel() * element_size()``)."""
        return self._numel * em_itemsize[self._dtype]

    @property
    def dtype(self):
        """The element type."""
        return dtype_of(self._dtype)

    cdef dtype get_dtype(self):
        return dtype_of(self._dtype)

    @property
    def device(self):
        """The device holding the tensor's memory."""
        return self._storage.device

    @property
    def layout(self):
        """How the elements are stored: always ``ember.strided``."""
        return strided

    @property
    def is_cuda(self):
        """Whether the tensor is stored on a CUDA device."""
        return self._storage.device.type_num == DEV_CUDA

    @property
    def is_cpu(self):
        """Whether the tensor is stored on the CPU."""
        return self._storage.device.type_num == DEV_CPU

    @property
    def is_meta(self):
        """Whether the tensor is on the meta device (a shape and a dtype, no memory)."""
        return self._storage.device.type_num == DEV_META

    def is_floating_point(self):
        """Whether the dtype is a floating-point type."""
        return em_category[self._dtype] == 2

    def is_complex(self):
        """Whether the dtype is a complex type."""
        return em_category[self._dtype] == 3

    def is_signed(self):
        """Whether the dtype is signed (every dtype but bool and uint8)."""
        return self._dtype != EM_BOOL and self._dtype != EM_UINT8

    def data_ptr(self):
        """Address of the first element."""
        return <size_t>self.address()

    def untyped_storage(self):
        """The :class:`Storage` behind this tensor."""
        return self._storage

    def set_(self, source=None, storage_offset=0, size=None, stride=None):
        """View ``source`` in place: a tensor (its storage, offset, sizes and strides), a
        storage (``ember.UntypedStorage`` or a ``TypedStorage`` of this dtype; the whole of
        it as a 1-D tensor unless ``size`` is given), or a new empty storage (no source).
        ``stride`` defaults to contiguous strides.  Returns ``self``."""
        return _set_source(self, source, storage_offset, size, stride)

    def share_memory_(self):
        """Move the storage into shared memory in place (see :meth:`Storage.share_memory_`).

        A no-op if it is already shared or not on the CPU.  Returns ``self``.
        """
        self._storage.share_memory_()
        return self

    def is_shared(self):
        """Whether the storage is in shared memory."""
        return self._storage.is_shared()

    @property
    def _version(self):
        """The version counter, bumped by every in-place operation: shared with the
        storage's other tensors, except for :attr:`data`, which counts on its own."""
        check_not_inference(self, "version")
        return version_of(self)

    def is_inference(self):
        """Whether this is an inference tensor: made under :class:`ember.inference_mode`
        (or a view of one).  Outside that mode it cannot be written in place, saved for
        backward or made to require grad, as in PyTorch; ``clone()`` gives a normal one."""
        return self._storage.inference

    def is_contiguous(self, memory_format=None):
        """Whether the elements are laid out in row-major order without gaps (in the
        channels-last order for ``memory_format=ember.channels_last``/``channels_last_3d``)."""
        cdef int code = format_code(memory_format, "is_contiguous")
        if code == FORMAT_CHANNELS_LAST or code == FORMAT_CHANNELS_LAST_3D:
            return is_channels_last(self, code)
        return self.is_contig()

    def is_non_overlapping_and_dense(self):
        """Whether the elements fill a gap-free block without overlap, in some dim order."""
        cdef Py_ssize_t perm[64]
        return self.is_contig() or _dense_permutation(self, perm)

    # ------------------------------------------------------------ autograd state
    @property
    def requires_grad(self):
        """Whether gradients are recorded for operations on this tensor."""
        return (self._requires_grad & REQUIRES_GRAD) != 0

    @requires_grad.setter
    def requires_grad(self, value):
        self.requires_grad_(value)

    def requires_grad_(self, requires_grad=True):
        """Set :attr:`requires_grad` in place and return ``self``."""
        if requires_grad and em_category[self._dtype] < 2:
            raise RuntimeError("only Tensors of floating point and complex dtype can require "
                               f"gradients, got {dtype_of(self._dtype)}")
        if not requires_grad and self._grad_fn is not None:
            raise RuntimeError("you can only change requires_grad flags of leaf variables.")
        if requires_grad:
            check_not_inference(self, "requires_grad")
        # a forward-mode tangent stays
        self._requires_grad = (self._requires_grad & FW_GRAD) | (REQUIRES_GRAD if requires_grad
                                                                 else 0)
        return self

    @property
    def grad(self):
        """The accumulated gradient (None until a backward pass writes one)."""
        if self._grad is None and self._grad_fn is not None and not self.retains_grad:
            warnings.warn(_NON_LEAF_GRAD, UserWarning, stacklevel=2)
        return self._grad

    @grad.setter
    def grad(self, value):
        cdef Tensor g
        if value is not None:
            if isinstance(value, Tensor):
                g = <Tensor>value
                if g is self:
                    raise RuntimeError("can't assign Variable as its own grad")
                if g._dtype != self._dtype:
                    raise RuntimeError("assigned grad has data of a different type")
                if g._storage.device != self._storage.device:
                    raise RuntimeError("assigned grad has data located on a different device")
                if _shape_tuple(g) != _shape_tuple(self):
                    raise RuntimeError("assigned grad has data of a different size")
            elif _sparse_grad_type is not None and isinstance(value, _sparse_grad_type):
                if value.dtype != dtype_of(self._dtype):
                    raise RuntimeError("assigned grad has data of a different type")
                if value.device != self._storage.device:
                    raise RuntimeError("assigned grad has data located on a different device")
                if tuple(value.shape) != _shape_tuple(self):
                    raise RuntimeError("assigned grad has data of a different size")
            else:
                raise TypeError(f"assigned grad expected to be a Tensor or None but got "
                                f"{type(value).__name__}")
        self._grad = value

    @grad.deleter
    def grad(self):
        self._grad = None

    @property
    def data(self):
        """The same data outside the autograd graph, as :meth:`detach` returns it but
        with a version counter of its own: in-place changes through ``.data`` are hidden
        from autograd (they do not bump this tensor's ``_version``), as in PyTorch.
        Assigning a tensor replaces this tensor's data, keeping its autograd identity and
        its version counter (a tensor given its first data, as ``Parameter(data)`` is, counts
        with that data instead)."""
        cdef Tensor t = <Tensor>self.detach()
        t._version_counter = VersionCounter.__new__(VersionCounter)
        return t

    @data.setter
    def data(self, value):
        cdef Tensor src = <Tensor?>value
        cdef VersionCounter counter = (src._version_counter if self._storage is _EMPTY_STORAGE
                                       else own_counter(self))
        _init_from(self, src)
        self._version_counter = counter

    @property
    def grad_fn(self):
        """The graph node that created this tensor (None for leaves)."""
        return self._grad_fn

    @property
    def is_leaf(self):
        """Whether the tensor was created by the user rather than by a recorded op."""
        return self._grad_fn is None

    def _set_grad_fn(self, node):
        self._grad_fn = node
        if node is not None:
            self._requires_grad |= REQUIRES_GRAD

    def detach(self):
        """A view of the same data that is outside any autograd graph."""
        cdef Tensor t = make_view(self, self._ndim, self._shape, self._strides, self._offset)
        t._view_base = None     # not a view for autograd: in-place changes stay its own
        if _creation_hook is not None:
            _creation_hook("detach", (self,), None, t)     # ember.jit: the value flows on
        return t

    @property
    def _base(self):
        """The tensor this one is a view of (None when it is not a view)."""
        return self._view_base

    def detach_(self):
        """Remove this tensor from the autograd graph, in place."""
        self._grad_fn = None
        self._requires_grad = False
        return self

    # ------------------------------------------------------------ Python protocols
    # (the conversions to Python values tell ember.jit's tracer, which warns when a traced
    # value leaves the graph: see _set_python_value_hook)
    def __len__(self):
        if self._ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._shape[0]

    def __iter__(self):
        if self._ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        cdef Py_ssize_t i
        return iter([select(self, 0, i) for i in range(self._shape[0])])

    def __bool__(self):
        if self._numel != 1:
            raise RuntimeError(f"Boolean value of Tensor with {'no' if self._numel == 0 else 'more than one'} "
                               "value is ambiguous")
        if _python_value_hook is not None:
            _python_value_hook(self, "a Python boolean")
        return bool(_item(self))

    def __float__(self):
        if _python_value_hook is not None:
            _python_value_hook(self, "a Python float")
        return float(self._real_value("float64"))

    def __int__(self):
        if _python_value_hook is not None:
            _python_value_hook(self, "a Python integer")
        return int(self._real_value("int64"))

    def __complex__(self):
        if _python_value_hook is not None:
            _python_value_hook(self, "a Python complex")
        return complex(self._scalar_value())

    def __index__(self):
        if self._numel != 1 or em_category[self._dtype] > 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        if _python_value_hook is not None:
            _python_value_hook(self, "a Python index")
        return int(_item(self))

    def _scalar_value(self):
        if self._numel != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")
        return _item(self)

    def _real_value(self, what):
        v = self._scalar_value()
        if isinstance(v, complex):
            if v.imag != 0:
                raise RuntimeError(f"value cannot be converted to type {what} without overflow")
            v = v.real
        return v

    def item(self):
        """The value of a one-element tensor as a Python number."""
        if self._numel != 1:
            raise RuntimeError(f"a Tensor with {self._numel} elements cannot be converted to Scalar")
        if _python_value_hook is not None:
            _python_value_hook(self, "a Python number")
        return _item(self)

    def __repr__(self):
        from ember._formatting import tensor_repr
        return tensor_repr(self)

    def __format__(self, spec):
        # as in PyTorch, a 0-d Tensor (not a subclass such as Parameter) formats as its
        # value, with or without a spec: f"{loss}" gives 0.25, not tensor(0.2500); a meta
        # tensor has no value and formats as its repr
        if (self._ndim == 0 and type(self) is Tensor
                and self._storage.device.type_num != DEV_META):
            return format(self.item(), spec)
        return object.__format__(self, spec)

    # ------------------------------------------------------------ buffer and array protocols
    def __getbuffer__(self, Py_buffer *buffer, int flags):
        fill_buffer(self, buffer, flags)

    def __releasebuffer__(self, Py_buffer *buffer):
        PyMem_Free(buffer.internal)

    # ------------------------------------------------------------ conversions
    cdef Tensor cpu_tensor(self):
        if self._storage.device.type_num == DEV_CPU:
            return self
        return <Tensor>backend_for(self._storage.device).to_cpu(self)

    # ------------------------------------------------------------ copies
    def contiguous(self, memory_format=None):
        """This tensor if it is contiguous, else a contiguous copy; with ``memory_format=``
        ``ember.channels_last`` (4-D) or ``channels_last_3d`` (5-D), in that order."""
        cdef int code = format_code(memory_format, "contiguous")
        if code == FORMAT_CHANNELS_LAST or code == FORMAT_CHANNELS_LAST_3D:
            return in_format(self, code)
        if self.is_contig():
            return self
        if memory_format is not None and code == FORMAT_PRESERVE:
            raise RuntimeError("preserve memory format is unsupported by the contiguous operator")
        if em_grad_mode and self._requires_grad:
            return record_op("contiguous", contiguous_clone, (self,), None)
        return contiguous_copy(self)

    def clone(self, *, memory_format=None):
        """A copy with its own memory: in the same layout when the tensor is dense
        (``preserve_format``), else in ``memory_format``."""
        cdef int code = format_code(memory_format, "clone")
        if code == FORMAT_PRESERVE:
            return clone(self)
        return copy_in_format(self, code)

    def copy_(self, src, non_blocking=False):
        """Copy ``src`` (broadcast to this shape, converted to this dtype) into ``self``."""
        if em_grad_mode and (self._requires_grad or (isinstance(src, Tensor)
                                                     and (<Tensor>src)._requires_grad)):
            return record_op("copy_", Tensor.copy_, (self, src), None)
        copy_broadcast(self, src)
        return self

    def fill_(self, value):
        """Fill with ``value``, in place."""
        if em_grad_mode and (self._requires_grad or (isinstance(value, Tensor)
                                                     and (<Tensor>value)._requires_grad)):
            return record_op("fill_", Tensor.fill_, (self, value), None)
        fill(self, value)
        return self

    def zero_(self):
        """Fill with zeros, in place."""
        if em_grad_mode and self._requires_grad:
            return record_op("zero_", Tensor.zero_, (self,), None)
        fill(self, 0)
        return self

    # ------------------------------------------------------------ views
    @property
    def real(self):
        """The real part (a view; the tensor itself when it is real).  Assigning to it
        copies the value (a tensor or a number, broadcast) into that view, as in
        PyTorch."""
        return real(self)

    @real.setter
    def real(self, value):
        _set_part(real(self), value)

    @property
    def imag(self):
        """The imaginary part of a complex tensor (a view).  Assigning to it copies the
        value (a tensor or a number, broadcast) into that view, as in PyTorch."""
        return imag(self)

    @imag.setter
    def imag(self, value):
        _set_part(imag(self), value)

    @property
    def T(self):
        """The tensor with its dimensions reversed (for 2-D, the transpose)."""
        return reverse_dims(self)

    @property
    def mT(self):
        """The tensor with its last two dimensions swapped."""
        if self._ndim < 2:
            raise RuntimeError(f"tensor.mT is only supported on matrices or batches of matrices. "
                               f"Got {self._ndim}-D tensor.")
        return transpose(self, -2, -1)

    @property
    def H(self):
        """Conjugate transpose of a 2-D tensor."""
        if self._ndim > 2:
            raise RuntimeError("tensor.H is only supported on matrices (2-D tensors)")
        t = reverse_dims(self)
        return t.conj() if em_category[self._dtype] == 3 else t

    @property
    def mH(self):
        """Conjugate transpose of the last two dimensions."""
        t = self.mT
        return t.conj() if em_category[self._dtype] == 3 else t

    # binding=False: a plain method descriptor skips the argument-tuple slice a bound
    # Cython function makes per call (a third of a small reshape's time); the text
    # signature keeps inspect.signature and the docs working.
    @cython.binding(False)
    def view(self, *shape, size=None, dtype=None):
        """view($self, *shape, size=None, dtype=None)
--

        A view with a new shape (or a reinterpretation as another dtype of the same size).

        The shape comes as ints, one sequence or ``size=``; a dtype as the one argument
        or ``dtype=``, as PyTorch's ``view`` takes them."""
        if dtype is not None:
            if shape or size is not None:
                raise TypeError("view() takes a shape or a dtype, not both")
            return view_dtype(self, as_dtype(dtype))
        if size is not None:
            shape = _int_list_keyword("view", "size", shape, size)
        elif len(shape) == 1 and type(shape[0]) is not int \
                and not isinstance(shape[0], (tuple, list, Size)) \
                and not hasattr(shape[0], "__index__"):
            return view_dtype(self, as_dtype(shape[0]))
        return view(self, _shape_arg(shape))

    def view_as(self, other):
        """A view with the shape of ``other`` (see :meth:`view`)."""
        return view(self, _shape_tuple(<Tensor?>other))

    @cython.binding(False)
    def reshape(self, *sizes, shape=None):
        """reshape($self, *shape)
--

        The tensor with a new shape: a view when the strides allow, else a copy.  The
        shape comes as ints, one sequence or ``shape=``."""
        if shape is not None:
            sizes = _int_list_keyword("reshape", "shape", sizes, shape)
        return reshape(self, _shape_arg(sizes))

    def reshape_as(self, other):
        """The tensor with the shape of ``other`` (see :meth:`reshape`)."""
        return reshape(self, _shape_tuple(<Tensor?>other))

    def flatten(self, start_dim=0, end_dim=-1):
        """Merge dimensions ``start_dim..end_dim`` into one."""
        return flatten(self, start_dim, end_dim)

    @cython.binding(False)
    def squeeze(self, *dims, dim=None):
        """squeeze($self, *dim)
--

        Remove size-1 dimensions (all, or those in ``dim``: an int, ints or one
        sequence, or ``dim=``)."""
        if dim is not None:
            dims = _int_list_keyword("squeeze", "dim", dims, dim)
        if not dims:
            return squeeze(self, None)
        return squeeze(self, dims[0] if len(dims) == 1 else dims)

    def unsqueeze(self, dim):
        """Insert a size-1 dimension at ``dim``."""
        return unsqueeze(self, dim)

    def transpose(self, dim0, dim1):
        """Swap two dimensions."""
        return transpose(self, dim0, dim1)

    def swapdims(self, dim0, dim1):
        """Swap two dimensions (alias of :meth:`transpose`)."""
        return transpose(self, dim0, dim1)

    def swapaxes(self, axis0, axis1):
        """Swap two dimensions (alias of :meth:`transpose`)."""
        return transpose(self, axis0, axis1)

    def t(self):
        """Transpose a tensor of at most 2 dimensions."""
        if self._ndim > 2:
            raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {self._ndim}D")
        if em_grad_mode and self._requires_grad:
            return record_op("t", Tensor.t, (self,), None)
        return reverse_dims(self)

    @cython.binding(False)
    def permute(self, *order, dims=None):
        """permute($self, *dims)
--

        Reorder the dimensions (given as ints, one sequence or ``dims=``)."""
        if dims is not None:
            order = _int_list_keyword("permute", "dims", order, dims)
        return permute(self, _shape_arg(order))

    @cython.binding(False)
    def expand(self, *sizes, size=None, implicit=False):
        """expand($self, *sizes, size=None, implicit=False)
--

        Broadcast to a larger shape without copying (-1 keeps a size).  The sizes come
        as ints, one sequence or ``size=``; ``implicit`` is accepted and ignored, as in
        PyTorch (a flag of its tracer)."""
        if size is not None:
            sizes = _int_list_keyword("expand", "size", sizes, size)
        return expand(self, _shape_arg(sizes))

    def expand_as(self, other):
        """A view expanded to the shape of ``other`` (see :meth:`expand`)."""
        return expand(self, _shape_tuple(<Tensor?>other))

    @cython.binding(False)
    def broadcast_to(self, *sizes, size=None):
        """broadcast_to($self, *size)
--

        A view broadcast to ``size`` (ints, one sequence or ``size=``; see
        :meth:`expand`)."""
        if size is not None:
            sizes = _int_list_keyword("broadcast_to", "size", sizes, size)
        return expand(self, _shape_arg(sizes))

    def narrow(self, dim, start, length):
        """The slice ``start:start + length`` of dimension ``dim``, as a view."""
        return narrow(self, dim, start, length)

    def select(self, dim, index):
        """Index ``dim`` at ``index``, removing that dimension (a view)."""
        return select(self, dim, index)

    def split(self, split_size, dim=0):
        """Split into views of ``split_size`` (an int or a list of sizes) along ``dim``."""
        return split(self, split_size, dim)

    def chunk(self, chunks, dim=0):
        """Split into ``chunks`` views of near-equal size along ``dim``."""
        return chunk(self, chunks, dim)

    def unbind(self, dim=0):
        """All slices along ``dim``, each with that dimension removed."""
        return unbind(self, dim)

    def diagonal(self, offset=0, dim1=0, dim2=1):
        """A view of the diagonal of ``dim1`` and ``dim2``, appended as the last dimension."""
        return diagonal(self, offset, dim1, dim2)

    def as_strided(self, size, stride, storage_offset=None):
        """A view with the given sizes, strides and offset over the same storage."""
        return as_strided(self, size, stride, storage_offset)

    def unfold(self, dimension, size, step):
        """All slices of length ``size`` along ``dimension``, ``step`` apart, as a new last dim."""
        return unfold(self, dimension, size, step)

    def movedim(self, source, destination):
        """Move dimensions ``source`` to positions ``destination``, as a view."""
        return movedim(self, source, destination)

    # ------------------------------------------------------------ indexing
    def __getitem__(self, index):
        return getitem(self, index)

    def __setitem__(self, index, value):
        setitem(self, index, value)

    # ------------------------------------------------------------ arithmetic operators
    def __add__(self, other):
        return binary_operator(OP_ADD, self, other)

    def __radd__(self, other):
        return binary_operator(OP_ADD, other, self)

    def __iadd__(self, other):
        return ew_inplace(OP_ADD, self, other)

    def __sub__(self, other):
        return binary_operator(OP_SUB, self, other)

    def __rsub__(self, other):
        return binary_operator(OP_SUB, other, self)

    def __isub__(self, other):
        return ew_inplace(OP_SUB, self, other)

    def __mul__(self, other):
        return binary_operator(OP_MUL, self, other)

    def __rmul__(self, other):
        return binary_operator(OP_MUL, other, self)

    def __imul__(self, other):
        return ew_inplace(OP_MUL, self, other)

    def __truediv__(self, other):
        return binary_operator(OP_DIV, self, other)

    def __rtruediv__(self, other):
        return binary_operator(OP_DIV, other, self)

    def __itruediv__(self, other):
        return ew_inplace(OP_DIV, self, other)

    def __floordiv__(self, other):
        return binary_operator(OP_FLOOR_DIVIDE, self, other)

    def __rfloordiv__(self, other):
        return binary_operator(OP_FLOOR_DIVIDE, other, self)

    def __ifloordiv__(self, other):
        return ew_inplace(OP_FLOOR_DIVIDE, self, other)

    def __mod__(self, other):
        return binary_operator(OP_REMAINDER, self, other)

    def __rmod__(self, other):
        return binary_operator(OP_REMAINDER, other, self)

    def __imod__(self, other):
        return ew_inplace(OP_REMAINDER, self, other)

    def __pow__(self, other, mod):
        if mod is not None:
            return NotImplemented
        return binary_operator(OP_POW, self, other)

    def __rpow__(self, other, mod):
        if mod is not None:
            return NotImplemented
        return binary_operator(OP_POW, other, self)

    def __ipow__(self, other):
        return ew_inplace(OP_POW, self, other)

    def __matmul__(self, other):
        if not isinstance(other, (Tensor, np.ndarray)):
            return NotImplemented
        from ember.ops.linalg import matmul
        return matmul(self, other)

    def __rmatmul__(self, other):
        if not isinstance(other, np.ndarray):
            return NotImplemented
        from ember.ops.linalg import matmul
        return matmul(other, self)

    def __and__(self, other):
        return binary_operator(OP_BITWISE_AND, self, other)

    def __rand__(self, other):
        return binary_operator(OP_BITWISE_AND, other, self)

    def __iand__(self, other):
        return ew_inplace(OP_BITWISE_AND, self, other)

    def __or__(self, other):
        return binary_operator(OP_BITWISE_OR, self, other)

    def __ror__(self, other):
        return binary_operator(OP_BITWISE_OR, other, self)

    def __ior__(self, other):
        return ew_inplace(OP_BITWISE_OR, self, other)

    def __xor__(self, other):
        return binary_operator(OP_BITWISE_XOR, self, other)

    def __rxor__(self, other):
        return binary_operator(OP_BITWISE_XOR, other, self)

    def __ixor__(self, other):
        return ew_inplace(OP_BITWISE_XOR, self, other)

    def __lshift__(self, other):
        return binary_operator(OP_BITWISE_LEFT_SHIFT, self, other)

    def __rlshift__(self, other):
        return binary_operator(OP_BITWISE_LEFT_SHIFT, other, self)

    def __ilshift__(self, other):
        return ew_inplace(OP_BITWISE_LEFT_SHIFT, self, other)

    def __rshift__(self, other):
        return binary_operator(OP_BITWISE_RIGHT_SHIFT, self, other)

    def __rrshift__(self, other):
        return binary_operator(OP_BITWISE_RIGHT_SHIFT, other, self)

    def __irshift__(self, other):
        return ew_inplace(OP_BITWISE_RIGHT_SHIFT, self, other)

    def __neg__(self):
        return unary_operator(OP_NEG, self)

    def __pos__(self):
        if self._dtype == EM_BOOL:
            raise RuntimeError("The `+` operator, on a bool tensor is not supported.")
        return self

    def __abs__(self):
        return unary_operator(OP_ABS, self)

    def __invert__(self):
        if em_category[self._dtype] > 1:
            raise TypeError("~ (operator.invert) is only implemented on integer and Boolean-type "
                            "tensors")
        return unary_operator(OP_BITWISE_NOT, self)

    def __eq__(self, other):
        return binary_operator(OP_EQ, self, other)

    def __ne__(self, other):
        return binary_operator(OP_NE, self, other)

    def __lt__(self, other):
        return binary_operator(OP_LT, self, other)

    def __le__(self, other):
        return binary_operator(OP_LE, self, other)

    def __gt__(self, other):
        return binary_operator(OP_GT, self, other)

    def __ge__(self, other):
        return binary_operator(OP_GE, self, other)

    def __hash__(self):
        # identity hash, as in PyTorch: tensors are dict keys and set members by object
        return object.__hash__(self)


device_cls = device

_NON_LEAF_GRAD = (
    "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its .grad "
    "attribute won't be populated during autograd.backward(). If you indeed want the .grad "
    "field to be populated for a non-leaf Tensor, use .retain_grad() on the non-leaf Tensor. "
    "If you access the non-leaf Tensor by mistake, make sure you access the leaf Tensor "
    "instead.")


include "_tensor_hooks.pxi"

include "_views.pxi"
include "_elementwise.pxi"
include "_elementwise_fast.pxi"
include "_copy.pxi"
include "_creation.pxi"
include "_interop.pxi"
include "_conversions.pxi"
