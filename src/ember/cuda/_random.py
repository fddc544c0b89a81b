"""Random fills of cuda tensors with the CPU's Philox stream (``kernels/random.cu``).

The core reserves the Philox blocks of a request from the generator (as for a CPU
fill) and hands the dense device buffer here; the kernels compute value i of the
request from (seed, offset, i) exactly as ``random.c`` does, so a seed gives the same
numbers on both devices without a copy from the host.
"""
import numpy as np

from ember.cuda import _kernels

# kind -> (kernel name for a float32 / float64 (or only) buffer, per-value argument types)
_KERNELS = {
    "uniform": (("em_cu_rng_uniform_f32", (np.int32, np.float32, np.float32, np.float32)),
                ("em_cu_rng_uniform_f64", (np.float64, np.float64, np.float64))),
    "normal": (("em_cu_rng_normal_f32", (np.float32, np.float32)),
               ("em_cu_rng_normal_f64", (np.float64, np.float64))),
    "exponential": (("em_cu_rng_exponential_f32", (np.float64,)),
                    ("em_cu_rng_exponential_f64", (np.float64,))),
    "bernoulli": (("em_cu_rng_bernoulli", (np.float64,)),),
    "randint_small": (("em_cu_rng_randint_small", (np.int64, np.uint64)),),
    "randint_large": (("em_cu_rng_randint_large", (np.int64, np.uint64)),),
}


def random_fill(kind, buf, n, blocks, seed, offset, params):
    """Fill the dense cuda tensor ``buf`` with ``n`` values of distribution ``kind`` from
    the Philox blocks starting at ``offset`` of stream ``seed``.

    Parameters
    ----------
    kind : str
        ``'uniform'`` (params: mantissa bits, from, span, below; the bits are dropped for
        float64), ``'normal'`` (mean, std), ``'exponential'`` (lambd), ``'bernoulli'``
        (p), ``'randint_small'`` / ``'randint_large'`` (low, range).
    buf : Tensor
        Contiguous; float32 or float64 for the floating kinds (complex buffers as pairs
        of reals: ``n`` counts reals), bool for bernoulli, int64 for randint.
    n : int
    blocks : int
        The Philox blocks the request reserved (one thread each).
    seed, offset : int
    params : tuple
    """
    if n == 0:
        return
    variants = _KERNELS[kind]
    wide = buf.dtype.itemsize == 16 or buf.dtype.name == "float64"
    name, types = variants[1] if len(variants) > 1 and wide else variants[0]
    if kind == "uniform" and wide:
        params = params[1:]
    fn = _kernels.function("random", name)
    fn((_kernels.grid_for(blocks),), (_kernels.BLOCK,),
       (buf.data_ptr(), np.int64(n), np.uint64(seed), np.uint64(offset),
        *(t(v) for t, v in zip(types, params))))
