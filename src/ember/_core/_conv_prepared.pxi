# Convolutions by a weight that stays the same from call to call (a traced graph's
# constant): the weight's Winograd transform is made once.  Included by _conv.pyx.

from libc.stdlib cimport free
from libc.stdint cimport uintptr_t

from ember._core._tensor cimport version_of


cdef extern from "stdlib.h" nogil:
    void *aligned_alloc(size_t alignment, size_t size)


cdef class PreparedConvolution:
    """Convolutions by one weight tensor, which the graph that holds this does not change.

    :meth:`convolution` takes the arguments of :func:`convolution` and gives the same
    bits.  When the call runs Winograd's algorithm with this very weight, it reads the
    weight's transform (``em_winograd_weights_float32``) made at the first such call
    instead of transforming the weight again (the digits CNN's second layer spent about
    a tenth of its time there at batch 64); the transform is made again when the weight
    has changed since (an in-place update or an optimizer step bumps its version, ``.data``
    assignment moves its memory).  Every other call runs :func:`convolution` as it is.
    """
    cdef readonly Tensor weight
    cdef float *U
    cdef size_t nbytes
    cdef Py_ssize_t version
    cdef uintptr_t address

    def __cinit__(self, Tensor weight):
        self.weight = weight

    def __dealloc__(self):
        free(self.U)

    cdef bint holds(self, object weight) except -1:
        """Whether ``U`` is the transform of ``weight`` as it is now (making it when
        ``weight`` is this object's float32 contiguous CPU weight)."""
        cdef Tensor w
        if weight is not self.weight:
            return False
        w = <Tensor>weight
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

    def convolution(self, input, weight, bias, stride, padding, dilation, int groups,
                    activation=None, bint pool_2x2=False):
        """:func:`convolution`, with this weight's Winograd transform made once."""
        return convolve(input, weight, bias, stride, padding, dilation, groups, activation,
                        pool_2x2, self)
