"""The ``meta`` device: tensors with a shape, a dtype and strides but no memory.

``ember._core`` checks arguments, computes output shapes and dtypes, and allocates
outputs before it calls a device backend; the meta backend's storages hold no bytes
(``data_ptr()`` is 0) and its kernels do nothing, so every op that goes through the
backend gives the shapes, dtypes and strides it gives on the CPU, autograd included.
Where the backend itself makes the outputs (convolution, pooling, sorting), it makes
them with the shapes the CUDA backend gives.  What needs the data raises: copying out
of a meta tensor, ``item()``, and the ops whose output shape depends on the values
(``nonzero``, boolean masks); ops that reach a CPU kernel raise NotImplementedError
there (``Tensor.ptr``).
"""
import math

from ember._core._dtype import all_dtypes
from ember._core._tensor import device_storage, register_backend


def _ember():
    import ember
    return ember


def _no_data():
    raise NotImplementedError("Cannot copy out of meta tensor; no data!")


def _data_dependent(op):
    """NotImplementedError for an op whose output shape depends on the values."""
    raise NotImplementedError(
        f"{op}: not implemented for device meta: the shape of its result depends on the "
        f"values of its input, which a meta tensor does not have")


def _empty(shape, dtype, like):
    return _ember().empty(tuple(shape), dtype=dtype, device=like.device)


class MetaBackend:
    """What ember's core asks of the meta device: outputs of the right shape, no work."""

    # ------------------------------------------------------------ memory
    def new_storage(self, nbytes, dev):
        # the backend owns every meta storage, which makes them resizable (resize_, out=)
        return device_storage(0, nbytes, self, dev)

    # ------------------------------------------------------------ between devices
    def to_cpu(self, t):
        _no_data()

    def from_cpu(self, t, dev):
        # as PyTorch's .to('meta'): a dense layout is kept
        return _ember().empty_like(t, device=dev)

    def to_device(self, t, dev):
        """``t`` (on another device that is not the CPU) on the meta device ``dev``."""
        return t if t.device == dev else _ember().empty_like(t, device=dev)

    # ------------------------------------------------------------ copies and fills
    def contiguous(self, t):
        return _empty(t.shape, t.dtype, t)

    def copy_(self, dst, src):
        if dst.device.type != "meta":
            _no_data()

    def fill_(self, dst, value):
        pass

    def random_fill(self, kind, buf, n, blocks, seed, offset, params):
        pass

    def optim_step(self, kind, hyper, params, grads, states, coefs):
        pass

    # ------------------------------------------------------------ elementwise ops
    def elementwise(self, op, operands, out, out_dtype, shape):
        """As the CPU: the result has the layout of the first operand of the broadcast
        shape (the condition of ``where`` aside), else is contiguous."""
        ember = _ember()
        shape = tuple(shape)
        if out is not None:
            return out
        dev = next((t.device for t in operands if t.device.type == "meta"), None)
        dtype = all_dtypes[out_dtype]
        for k, t in enumerate(operands):
            if tuple(t.shape) == shape and t.device == dev and not (op == "where" and k == 0):
                return ember.empty_like(t, dtype=dtype)
        return ember.empty(shape, dtype=dtype, device=dev)

    # ------------------------------------------------------------ reductions, scans, norms
    def reduce(self, op, x, mask, out, out_idx, scale, p, inv_p, correction, take_sqrt):
        pass

    def lanes(self, op, out, x, dim, other=None):
        pass

    def nn_fused(self, kernel, *args):
        """The fused norms and cross-entropy write outputs ``ember._core._nn_fused`` made;
        the forward cross-entropy returns its reduced loss and weight total."""
        if kernel == "cross_entropy_forward":
            x, reduction = args[0], args[-1]
            total = None if reduction == "none" else _empty((), x.dtype, x)
            return total, _empty((), _ember().float64, x)
        if kernel == "ctc_loss":
            log_probs, need_grad = args[0], args[-1]
            T, N, C = log_probs.shape
            grad = _empty((T, N, C), log_probs.dtype, log_probs) if need_grad else None
            return _empty((N,), log_probs.dtype, log_probs), grad
        return None

    # ------------------------------------------------------------ sorting, search, masks
    def sort_rows(self, src, descending, first):
        shape = tuple(src.shape[:-1]) + (first,) if src.dim() else ()
        return _empty(shape, src.dtype, src), _empty(shape, _ember().int64, src)

    def search_rows(self, seq, values, right, out_int32):
        ember = _ember()
        return _empty(values.shape, ember.int32 if out_int32 else ember.int64, values)

    def nonzero(self, t):
        _data_dependent("nonzero")

    def mask_offsets(self, mask, weights):
        _data_dependent("boolean mask indexing")

    def index_kernel(self, kernel, shape, strides, ptrs, size=0, stride=0, wrap=False,
                     value=0, check=True):
        # no index can be read, so none is out of range
        return False

    # ------------------------------------------------------------ matmul, conv, pooling
    def gemm(self, a, a_vec, b, b_vec, c, input, bshape, alpha, beta, accumulate):
        return c

    def conv(self, op, *args):
        x = args[0]
        if op == "convolution":
            w, out_size = args[1], args[3]
            shape = (x.shape[0], w.shape[0]) + tuple(out_size)
        elif op == "convolution_transpose":
            w, out_size, groups = args[1], args[3], args[7]
            shape = (x.shape[0], w.shape[1] * groups) + tuple(out_size)
        elif op == "convolution_weight_grad":
            g, kernel, groups = args[1], args[2], args[6]
            shape = (g.shape[1], x.shape[1] // groups) + tuple(kernel)
        elif op == "unfold":
            kernel, out = args[1], args[2]
            shape = (x.shape[0], x.shape[1] * math.prod(kernel), math.prod(out))
        elif op == "fold":
            out_size, kernel = args[1], args[2]
            shape = (x.shape[0], x.shape[1] // math.prod(kernel)) + tuple(out_size)
        else:
            raise NotImplementedError(f"{op}: not implemented for device meta")
        return _empty(shape, x.dtype, x)

    def pool(self, op, *args):
        x, spatial = args[0], args[1]
        if op in ("max_pool", "avg_pool", "adaptive_avg_pool", "adaptive_max_pool"):
            outs = args[-3] if op == "avg_pool" else args[-1]
            shape = tuple(x.shape[:x.dim() - spatial]) + tuple(outs)
            out = _empty(shape, x.dtype, x)
            if op in ("max_pool", "adaptive_max_pool"):
                return out, _empty(shape, _ember().int64, x)
            return out
        if op in ("avg_pool_backward", "adaptive_avg_pool_backward"):
            return _empty(args[1], x.dtype, x)
        if op == "max_pool_backward":
            return _empty(args[2], x.dtype, x)
        if op == "scatter_planes":
            return _empty(args[2], x.dtype, x), 0
        raise NotImplementedError(f"{op}: not implemented for device meta")


register_backend("meta", MetaBackend())
