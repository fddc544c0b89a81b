# cython: embedsignature=False
"""The fused-elementwise interpreter's entry (ember.jit's fusion pass).

A :class:`Program` is a chain of elementwise ops of the op table compiled to register
bytecode (see ``ember/fused.h`` and ``fused.c.in``); calling it broadcasts its inputs,
allocates the output and runs the whole chain as one strided loop through the iterator
(broadcasting, non-contiguous inputs and threads as every elementwise op).  float32 and
float64; each op computes with the C expression of its own loop.
"""
from array import array

from libc.stdint cimport int32_t

from ember._core._tensor cimport (
    Tensor, new_tensor, em_iter, em_iter_prepare, em_iter_run, EM_GRAIN_SIZE,
    EM_MAX_OPERANDS, DEV_CPU,
)
from ember._core._dtype cimport EM_FLOAT32, EM_FLOAT64, em_itemsize, dtype, dtype_of

cdef extern from "ember/fused.h":
    enum:
        EM_FUSED_MAX_REGS
    ctypedef struct em_fused_instr:
        int32_t op
        int32_t dst
        int32_t a
        int32_t b
        int32_t c
    ctypedef struct em_fused_program:
        const em_fused_instr *code
        int n_instr
        int n_inputs
        int n_consts
        const double *consts
        int out_reg
    const char *em_fused_op_names[]
    const int em_fused_op_arity[]
    const int em_fused_n_ops
    void em_fused_loop_float32(char **data, const Py_ssize_t *strides, Py_ssize_t n,
                               void *program) noexcept nogil
    void em_fused_loop_float64(char **data, const Py_ssize_t *strides, Py_ssize_t n,
                               void *program) noexcept nogil

MAX_REGISTERS = EM_FUSED_MAX_REGS
MAX_INPUTS = EM_MAX_OPERANDS - 1


def op_table():
    """``{name: (op number, arity)}`` of the ops a program may use."""
    cdef int k
    return {em_fused_op_names[k].decode(): (k, em_fused_op_arity[k])
            for k in range(em_fused_n_ops)}


cdef class Program:
    """A checked fused program over tensors of one dtype (float32 or float64).

    ``instructions`` are ``(op number, dst, a, b, c)``: registers ``0..n_inputs-1`` hold
    the inputs, the next ``len(constants)`` these numbers; each instruction reads only
    registers that hold a value (unused operands are ignored) and writes one of the
    others (contiguous inputs are read in place, so no instruction may write an input's
    register); register ``out_reg`` is the result.
    Calling the program with ``n_inputs`` tensors (0-d ones for scalars) broadcasts them
    and returns the result: a new contiguous tensor, or ``out`` (which may be one of the
    inputs: each block is read before it is written)."""
    cdef bytes _code
    cdef bytes _consts
    cdef em_fused_program prog
    cdef int dtype_num
    cdef readonly int n_inputs

    def __init__(self, instructions, int n_inputs, constants, int out_reg, dtype dt):
        cdef int arity
        cdef int first_free = n_inputs + len(constants)
        cdef set defined = set(range(first_free))
        if dt.num != EM_FLOAT32 and dt.num != EM_FLOAT64:
            raise TypeError(f"a fused program computes in float32 or float64, not {dt}")
        if not 1 <= n_inputs <= EM_MAX_OPERANDS - 1:
            raise ValueError(f"a fused program takes 1 to {EM_MAX_OPERANDS - 1} inputs, "
                             f"got {n_inputs}")
        if first_free > EM_FUSED_MAX_REGS:
            raise ValueError(f"a fused program uses at most {EM_FUSED_MAX_REGS} registers")
        flat = []
        for instr in instructions:
            op, dst, a, b, c = [int(x) for x in instr]
            if not 0 <= op < em_fused_n_ops:
                raise ValueError(f"fused program: no op number {op}")
            if not first_free <= dst < EM_FUSED_MAX_REGS:
                raise ValueError(f"fused program: bad destination register {dst}")
            arity = em_fused_op_arity[op]
            operands = [a, b, c]
            for k in range(3):
                if k < arity and operands[k] not in defined:
                    raise ValueError(f"fused program: register {operands[k]} read before "
                                     "it is written")
                if k >= arity:
                    operands[k] = 0
            defined.add(dst)
            flat += [op, dst] + operands
        if out_reg not in defined:
            raise ValueError(f"fused program: output register {out_reg} is never written")
        self.dtype_num = dt.num
        self._code = array("i", flat).tobytes()
        self._consts = array("d", [float(v) for v in constants]).tobytes()
        self.prog.consts = <const double *><const char *>self._consts
        self.prog.n_consts = len(constants)
        self.prog.code = <const em_fused_instr *><const char *>self._code
        self.prog.n_instr = len(flat) // 5
        self.prog.n_inputs = n_inputs
        self.prog.out_reg = out_reg
        self.n_inputs = n_inputs

    def __call__(self, *inputs, Tensor out=None):
        cdef em_iter it
        cdef Tensor t
        cdef int k, d, nd = 0, j
        cdef Py_ssize_t shape[64]
        cdef Py_ssize_t total, size
        if len(inputs) != self.n_inputs:
            raise TypeError(f"the fused program takes {self.n_inputs} tensors "
                            f"({len(inputs)} given)")
        for x in inputs:
            t = <Tensor?>x
            if t._dtype != self.dtype_num:
                raise RuntimeError(f"the fused program computes in {dtype_of(self.dtype_num)}, "
                                   f"got a {dtype_of(t._dtype)} input")
            if t._storage.device.type_num != DEV_CPU:
                raise RuntimeError("the fused program runs on the CPU, got a tensor on "
                                   f"{t._storage.device}")
            nd = max(nd, t._ndim)
        for d in range(nd):
            shape[d] = 1
        for x in inputs:
            t = <Tensor>x
            for d in range(t._ndim):
                j = nd - t._ndim + d
                size = t._shape[d]
                if size != shape[j] and size != 1:
                    if shape[j] != 1:
                        raise RuntimeError(
                            f"the size of tensor a ({shape[j]}) must match the size of "
                            f"tensor b ({size}) at non-singleton dimension {d}")
                    shape[j] = size
        itemsize = em_itemsize[self.dtype_num]
        if out is None:
            out = new_tensor(nd, shape, self.dtype_num, (<Tensor>inputs[0])._storage.device)
        elif out._ndim != nd or out._dtype != self.dtype_num or any(
                [out._shape[d] != shape[d] for d in range(nd)]):
            raise RuntimeError(f"the fused program's out= must be a {dtype_of(self.dtype_num)} "
                               f"tensor of shape {tuple([shape[d] for d in range(nd)])}")
        it.nop = self.n_inputs + 1
        it.ndim = nd
        for d in range(nd):
            it.shape[d] = shape[d]
            it.strides[0][d] = out._strides[d] * itemsize
        it.data[0] = out.ptr()
        for k in range(self.n_inputs):
            t = <Tensor>inputs[k]
            it.data[k + 1] = t.ptr()
            for d in range(nd):
                it.strides[k + 1][d] = 0
            for d in range(t._ndim):
                if t._shape[d] != 1:
                    it.strides[k + 1][nd - t._ndim + d] = t._strides[d] * itemsize
        total = em_iter_prepare(&it, 1)
        if total == 0:
            return out
        if self.dtype_num == EM_FLOAT32:
            if total >= EM_GRAIN_SIZE:
                with nogil:
                    em_iter_run(&it, em_fused_loop_float32, &self.prog, 1)
            else:
                em_iter_run(&it, em_fused_loop_float32, &self.prog, 0)
        else:
            if total >= EM_GRAIN_SIZE:
                with nogil:
                    em_iter_run(&it, em_fused_loop_float64, &self.prog, 1)
            else:
                em_iter_run(&it, em_fused_loop_float64, &self.prog, 0)
        return out
