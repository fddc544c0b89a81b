cdef extern from "ember/dtype.h":
    ctypedef enum em_dtype:
        EM_BOOL
        EM_UINT8
        EM_INT8
        EM_INT16
        EM_INT32
        EM_INT64
        EM_FLOAT16
        EM_BFLOAT16
        EM_FLOAT32
        EM_FLOAT64
        EM_COMPLEX64
        EM_COMPLEX128
        EM_UINT16
        EM_UINT32
        EM_UINT64
        EM_NTYPES
    const int em_itemsize[EM_NTYPES]
    const int em_category[EM_NTYPES]
    ctypedef unsigned short em_half
    ctypedef unsigned short em_bfloat16
    float em_half_to_float(em_half h) nogil
    em_half em_float_to_half(float f) nogil
    float em_bfloat16_to_float(em_bfloat16 b) nogil
    em_bfloat16 em_float_to_bfloat16(float f) nogil


cdef class dtype:
    cdef readonly int num
    cdef readonly str name
    cdef readonly int itemsize
    cdef readonly bint is_floating_point
    cdef readonly bint is_complex
    cdef readonly bint is_signed
    cdef readonly object numpy_dtype


cdef dtype dtype_of(int num)
cdef int default_float() noexcept

cdef int promote_nums(int a, int b) except -1
cdef int complex_of(int num) noexcept
cdef int real_of(int num) noexcept
cdef dtype as_dtype(object obj)
