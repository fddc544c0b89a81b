# Convolutions by a weight that stays the same from call to call (a traced graph's
# constant): the weight's Winograd transform is made once.  Included by _conv.pyx.

from libc.stdlib cimport free
from libc.stdint cimport uintptr_t

from ember._core._tensor cimport version_of


cdef extern from "stdlib.h" nogil:
    void *aligned_alloc(size_t alignment, size_t size)


cdef class PreparedConvolution:
    """Convolutions by one weight tensor, called again and again with the same arguments
    (a traced graph's convolution by a constant).

    :meth:`convolution` takes the arguments of :func:`convolution` and gives the same
    bits.  It keeps the last call's checked geometry: a call with the same argument
    objects (weight, bias, stride, padding, dilation, activation), an input of the same
    shape and each tensor contiguous on the CPU in the compute dtype goes straight to the
    kernels (the checks cost about half a microsecond, a fair part of a small
    convolution).  When the call runs Winograd's algorithm with this weight, it reads the
    weight's transform (``em_winograd_weights_float32``) made at the first such call
    instead of transforming the weight again (the digits CNN's second layer spent about
    8 us on it at batch 64); the transform is made again when the weight has changed
    since (an in-place update or an optimizer step bumps its version, ``.data``
    assignment moves its memory).  Every other call runs :func:`convolution` as it is.
    """
    cdef readonly Tensor weight
    cdef float *U
    cdef size_t nbytes
    cdef Py_ssize_t version
    cdef uintptr_t address
    # the last plain call: its checked geometry, arguments and shapes
    cdef conv_call call
    cdef bint called
    cdef object bias, stride, padding, dilation, activation
    cdef int groups
    cdef Py_ssize_t input_shape[5]
    cdef Py_ssize_t weight_shape[5]

    def __cinit__(self, Tensor weight):
        self.weight = weight

    def __dealloc__(self):
        free(self.U)

    cdef bint holds(self, Tensor w) except -1:
        """Whether ``U`` is the transform of ``w`` as it is now (making it when ``w`` is
        this object's float32 contiguous CPU weight)."""
        if w is not self.weight:
            return False
        if (w._dtype != EM_FLOAT32 or w._ndim != 4 or not w.is_contig()
                or w._storage.device.type_num != DEV_CPU):
            return False
        if (self.U != NULL and version_of(w) == self.version
                and <uintptr_t>w.ptr() == self.address):
            return True
        cdef size_t nbytes = em_winograd_weights_floats(w._shape[0], w._shape[1]) * sizeof(float)
        if nbytes != self.nbytes:
            free(self.U)
            self.nbytes = 0
            self.U = <float *>aligned_alloc(64, (nbytes + 63) & ~(<size_t>63))
            if self.U == NULL:
                raise MemoryError("convolution: out of memory for the Winograd transform")
            self.nbytes = nbytes
        em_winograd_weights_float32(<const float *>w.ptr(), w._shape[0], w._shape[1], self.U)
        self.version = version_of(w)
        self.address = <uintptr_t>w.ptr()
        return True

    cdef bint plain(self, object t, Py_ssize_t *shape, int ndim):
        """Whether ``t`` is a contiguous CPU tensor of the call's compute dtype, of
        ``shape`` (``ndim`` dims)."""
        cdef Tensor x
        cdef int d
        if not isinstance(t, Tensor):
            return False
        x = <Tensor>t
        if (x._dtype != self.call.dt or x._ndim != ndim or not x.is_contig()
                or x._storage.device.type_num != DEV_CPU):
            return False
        for d in range(ndim):
            if x._shape[d] != shape[d]:
                return False
        return True

    cdef bint repeats(self, input, weight, bias, stride, padding, dilation, int groups,
                      activation, bint pool_2x2):
        """Whether this call is the last plain call again (another input of its shape)."""
        cdef Py_ssize_t bias_shape[1]
        cdef int nd = self.call.spatial + 2
        if not (self.called and weight is self.weight and bias is self.bias
                and stride is self.stride and padding is self.padding
                and dilation is self.dilation and activation is self.activation
                and groups == self.groups and pool_2x2 == self.call.pool):
            return False
        bias_shape[0] = self.call.out_channels
        return (self.plain(input, self.input_shape, nd)
                and self.plain(weight, self.weight_shape, nd)
                and (bias is None or self.plain(bias, bias_shape, 1)))

    def convolution(self, input, weight, bias, stride, padding, dilation, int groups,
                    activation=None, bint pool_2x2=False):
        """:func:`convolution`, with the checks and the weight's Winograd transform made
        once."""
        cdef int d
        if self.repeats(input, weight, bias, stride, padding, dilation, groups, activation,
                        pool_2x2):
            return run_call(&self.call, <Tensor>input, <Tensor>weight, <Tensor>bias, input,
                            self)
        self.called = False
        check_call(&self.call, input, weight, bias, stride, padding, dilation, groups,
                   activation, pool_2x2)
        for d in range((<Tensor>input)._ndim):
            self.input_shape[d] = (<Tensor>input)._shape[d]
            self.weight_shape[d] = (<Tensor>weight)._shape[d]
        self.bias, self.stride, self.padding, self.dilation = bias, stride, padding, dilation
        self.activation, self.groups = activation, groups
        self.called = weight is self.weight
        if self.repeats(input, weight, bias, stride, padding, dilation, groups, activation,
                        pool_2x2):
            return run_call(&self.call, <Tensor>input, <Tensor>weight, <Tensor>bias, input,
                            self)
        self.called = False
        return convolve(input, weight, bias, stride, padding, dilation, groups, activation,
                        pool_2x2, self)
