"""How ember tensors reach MPI: zero-copy buffer specs, staging copies, dtype and op maps."""
import ml_dtypes
import numpy as np

import ember
from ember.distributed._process_group import ReduceOp, _mpi

_datatypes = None
# MPI has no 16-bit float types: they travel as 16-bit integers and reduce through these
# user-defined operations, computing in the dtype itself (as NCCL does), created on first use
_NUMPY_16BIT = {ember.float16: np.float16, ember.bfloat16: ml_dtypes.bfloat16}
UFUNCS = {ReduceOp.SUM: np.add, ReduceOp.AVG: np.add, ReduceOp.PRODUCT: np.multiply,
          ReduceOp.MIN: np.minimum, ReduceOp.MAX: np.maximum}
_ops_16bit = {}
_native_ops = None
# dtypes whose buffer-protocol format mpi4py maps to the right MPI type: these tensors are
# handed to MPI as they are on all_reduce's fast path
FAST_DTYPES = frozenset((ember.float32, ember.float64, ember.int32, ember.int64))


def _datatype_of(dtype):
    global _datatypes
    if _datatypes is None:
        MPI = _mpi()
        _datatypes = {
            ember.float32: MPI.FLOAT, ember.float64: MPI.DOUBLE,
            ember.float16: MPI.UINT16_T, ember.bfloat16: MPI.UINT16_T,
            ember.int8: MPI.INT8_T, ember.int16: MPI.INT16_T, ember.int32: MPI.INT32_T,
            ember.int64: MPI.INT64_T, ember.uint8: MPI.UINT8_T, ember.bool: MPI.C_BOOL,
            ember.complex64: MPI.C_FLOAT_COMPLEX, ember.complex128: MPI.C_DOUBLE_COMPLEX,
        }
    try:
        return _datatypes[dtype]
    except KeyError:
        raise RuntimeError(f"ember.distributed does not support dtype {dtype}") from None


def spec(t):
    """The MPI buffer spec ``[memory, count, datatype]`` of contiguous CPU tensor ``t``:
    its own memory, no copy.  The caller keeps ``t`` alive while MPI uses it."""
    return [_mpi().buffer.fromaddress(t.data_ptr(), t.nbytes), t.numel(), _datatype_of(t.dtype)]


def spec_blocks(t):
    """The MPI buffer spec ``[memory, datatype]`` of contiguous CPU tensor ``t`` holding one
    equal block per rank (MPI's per-rank count is its size divided by the group's)."""
    return [_mpi().buffer.fromaddress(t.data_ptr(), t.nbytes), _datatype_of(t.dtype)]


def check_tensor(t, name="tensor"):
    """A tensor: on the CPU (MPI), or on a CUDA device (the NCCL backend: the collectives
    check that the group has it)."""
    if not isinstance(t, ember.Tensor):
        raise TypeError(f"Invalid function argument. Expected parameter `{name}` of type "
                        f"ember.Tensor but got {type(t)} instead.")
    if t.device.type not in ("cpu", "cuda"):
        raise RuntimeError(f"collectives take CPU tensors (MPI) or CUDA tensors (NCCL), got "
                           f"`{name}` on {t.device}")


def check_tensor_list(ts, name):
    if not isinstance(ts, (list, tuple)):
        raise TypeError(f"Invalid function argument. Expected parameter `{name}` of type "
                        f"List[ember.Tensor] but got {type(ts)} instead.")
    for t in ts:
        check_tensor(t, name)


def check_same(ts, like, name):
    """Every tensor of ``ts`` must have ``like``'s dtype and number of elements."""
    for t in ts:
        if t.dtype != like.dtype:
            raise RuntimeError(f"{name}: tensors must all have dtype {like.dtype}, got {t.dtype}")
        if t.numel() != like.numel():
            raise RuntimeError(f"{name}: tensors must all have {like.numel()} elements "
                               f"(shape {tuple(like.shape)}), got shape {tuple(t.shape)}")


class Staged:
    """A contiguous tensor MPI can use in place of ``t``: ``t`` itself when it is contiguous,
    else a contiguous copy written back by ``finish``."""

    __slots__ = ("target", "buffer")

    def __init__(self, t, copy_in=True):
        self.target = t
        if t.is_contiguous():
            self.buffer = t
        else:
            self.buffer = t.contiguous() if copy_in else ember.empty(t.shape, dtype=t.dtype)

    def finish(self):
        if self.buffer is not self.target:
            with ember.no_grad():
                self.target.copy_(self.buffer)


def mpi_op(op, dtype):
    """The MPI operation computing ``op`` on ``dtype`` (AVG: its sum, divided afterwards)."""
    if not isinstance(op, ReduceOp):
        raise TypeError(f"op must be an ember.distributed.ReduceOp, got {op!r}")
    MPI = _mpi()
    if dtype == ember.bool:
        if op == ReduceOp.AVG:
            raise RuntimeError("ReduceOp.AVG is not supported for bool tensors")
        return MPI.LOR if op in (ReduceOp.SUM, ReduceOp.MAX) else MPI.LAND
    if dtype.is_complex and op in (ReduceOp.MIN, ReduceOp.MAX):
        raise RuntimeError(f"ReduceOp.{op.name} is not supported for complex tensors ({dtype})")
    if dtype in _NUMPY_16BIT:
        return _op_16bit(dtype, op)
    global _native_ops
    if _native_ops is None:
        _native_ops = {ReduceOp.SUM: MPI.SUM, ReduceOp.AVG: MPI.SUM, ReduceOp.PRODUCT: MPI.PROD,
                       ReduceOp.MIN: MPI.MIN, ReduceOp.MAX: MPI.MAX}
    return _native_ops[op]


def divide(buffer, n):
    """``buffer /= n`` in place: true division for floats, truncation toward zero for integers."""
    with ember.no_grad():
        if buffer.dtype.is_floating_point or buffer.dtype.is_complex:
            buffer.div_(n)
        else:
            buffer.copy_(ember.div(buffer, n, rounding_mode="trunc"))


def _op_16bit(dtype, op):
    key = (dtype, UFUNCS[op])
    if key not in _ops_16bit:
        np_dtype, ufunc = _NUMPY_16BIT[dtype], UFUNCS[op]

        def apply(inbuf, inoutbuf, datatype):
            inout = np.frombuffer(inoutbuf, dtype=np_dtype)
            ufunc(np.frombuffer(inbuf, dtype=np_dtype), inout, out=inout)

        _ops_16bit[key] = _mpi().Op.Create(apply, commute=True)
    return _ops_16bit[key]
