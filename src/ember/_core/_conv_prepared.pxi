# Convolutions by a weight that stays the same from call to call (a traced graph's
# constant): the weight's Winograd transform is made once.  Included by _conv.pyx.

from libc.stdint cimport uintptr_t

from ember._core._tensor cimport version_of


cdef class CheckedCall:
    """One checked call of :func:`convolution`: its geometry, the argument objects it was
    checked with and its tensors' shapes; never changed once made (threads may share
    it)."""
    cdef conv_call call
    cdef object weight, bias, stride, padding, dilation, activation
    cdef int groups
    cdef Py_ssize_t input_shape[5]
    cdef Py_ssize_t weight_shape[5]

    cdef bint plain(self, object t, const Py_ssize_t *shape, int ndim):
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
        """Whether a call with these arguments is this one again (an input of the same
        shape, every tensor plain)."""
        cdef Py_ssize_t bias_shape[1]
        cdef int nd = self.call.spatial + 2
        if not (weight is self.weight and bias is self.bias and stride is self.stride
                and padding is self.padding and dilation is self.dilation
                and activation is self.activation and groups == self.groups
                and pool_2x2 == self.call.pool):
            return False
        bias_shape[0] = self.call.out_channels
        return (self.plain(input, self.input_shape, nd)
                and self.plain(weight, self.weight_shape, nd)
                and (bias is None or self.plain(bias, bias_shape, 1)))


cdef class PreparedConvolution:
    """Convolutions by one weight tensor, called again and again with the same arguments
    (a traced graph's convolution by a constant).

    :meth:`convolution` takes the arguments of :func:`convolution` and gives the same
    bits.  It keeps the last call's checks (a :class:`CheckedCall`): a call with the same
    argument objects (weight, bias, stride, padding, dilation, activation), an input of
    the same shape and each tensor contiguous on the CPU in the compute dtype goes
    straight to the kernels (the checks cost about half a microsecond, a fair part of a
    small convolution).  When the call runs Winograd's algorithm with this weight, it
    reads the weight's transform (``em_winograd_weights_float32``) made at the first such
    call instead of transforming the weight again (the digits CNN's second layer spent
    about 8 us on it at batch 64); the transform is made again when the weight has changed
    since (an in-place update or an optimizer step bumps its version, ``.data``
    assignment moves its memory).  Every other call runs :func:`convolution` as it is.
    The state is replaced whole, never changed in place, so threads may share the object.
    """
    cdef readonly Tensor weight
    # the weight's transform (a tensor: a call running on it keeps it alive, whatever
    # another thread's call does meanwhile), and the weight's version and memory then
    cdef Tensor transform
    cdef Py_ssize_t version
    cdef uintptr_t address
    cdef CheckedCall last

    def __cinit__(self, Tensor weight):
        self.weight = weight

    cdef Tensor transform_of(self, Tensor w):
        """The transform of ``w`` as it is now (made when ``w`` is this object's float32
        contiguous CPU weight and changed since), or None for another tensor."""
        cdef Py_ssize_t dims[1]
        cdef Tensor transform = self.transform
        if w is not self.weight:
            return None
        if (w._dtype != EM_FLOAT32 or w._ndim != 4 or not w.is_contig()
                or w._storage.device.type_num != DEV_CPU):
            return None
        if (transform is not None and version_of(w) == self.version
                and <uintptr_t>w.ptr() == self.address):
            return transform
        dims[0] = em_winograd_weights_floats(w._shape[0], w._shape[1])
        transform = new_tensor(1, dims, EM_FLOAT32, _CPU)
        em_winograd_weights_float32(<const float *>w.ptr(), w._shape[0], w._shape[1],
                                    <float *>transform.ptr())
        self.version = version_of(w)
        self.address = <uintptr_t>w.ptr()
        self.transform = transform
        return transform

    def convolution(self, input, weight, bias, stride, padding, dilation, int groups,
                    activation=None, bint pool_2x2=False):
        """:func:`convolution`, with the checks and the weight's Winograd transform made
        once."""
        cdef CheckedCall last = self.last
        cdef int d
        if last is not None and last.repeats(input, weight, bias, stride, padding, dilation,
                                             groups, activation, pool_2x2):
            return run_call(&last.call, <Tensor>input, <Tensor>weight, <Tensor>bias, input,
                            self)
        cdef CheckedCall checked = CheckedCall.__new__(CheckedCall)
        check_call(&checked.call, input, weight, bias, stride, padding, dilation, groups,
                   activation, pool_2x2)
        for d in range((<Tensor>input)._ndim):
            checked.input_shape[d] = (<Tensor>input)._shape[d]
            checked.weight_shape[d] = (<Tensor>weight)._shape[d]
        checked.weight, checked.bias, checked.activation = weight, bias, activation
        checked.stride, checked.padding, checked.dilation = stride, padding, dilation
        checked.groups = groups
        if weight is self.weight and checked.repeats(input, weight, bias, stride, padding,
                                                     dilation, groups, activation, pool_2x2):
            self.last = checked
            return run_call(&checked.call, <Tensor>input, <Tensor>weight, <Tensor>bias,
                            input, self)
        # checked once: another device, dtype or layout runs as convolution() would
        return run_checked(&checked.call, input, weight, bias, stride, padding, dilation,
                           groups, self)
