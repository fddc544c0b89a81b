"""Random number generation: generators, sampling functions and in-place samplers.

Every generator is a Philox4x32-10 counter-based stream: its state is a 64-bit
seed (the key) and a 64-bit offset (the counter of Philox blocks used so far).
Value i of a request depends only on (seed, offset, i), so results do not
depend on the number of threads, and a request reserves its blocks before the
kernel runs.  The kernels are in ``random.c``; the per-value math is in
``ember/philox.h``, shared with the CUDA kernels.

Tensors on a device with random kernels (``cuda``) are sampled there, value for
value the CPU's stream (``ember/cuda/kernels/random.cu``); the rest (``randperm``,
the samplers of ``_random_dist.pxi``) are sampled on the CPU and copied over.  Either
way a seed gives the same numbers on every device.
"""
import math
import operator
import os
import warnings

import numpy as np

from libc.stdint cimport int64_t, uint64_t, uint8_t, uint32_t
from libc.math cimport nextafter, nextafterf, INFINITY
from libc.string cimport memcpy

from ember._core._dtype cimport (
    dtype, dtype_of, as_dtype, default_float, real_of, em_category,
    EM_BOOL, EM_UINT8, EM_INT8, EM_INT16, EM_INT32, EM_INT64, EM_FLOAT16, EM_BFLOAT16,
    EM_UINT16, EM_UINT32, EM_UINT64,
    EM_FLOAT32, EM_FLOAT64, EM_COMPLEX64, EM_COMPLEX128,
)
from ember._core._tensor cimport (
    check_not_inference, grad_enabled, record_op, bump_version,
    Tensor, device as em_device, new_tensor, new_like_layout, copy_into, resize_output, DEV_CPU,
    DEV_META,
    default_device_arg,
)
from ember._core._dtype import promote_types
from ember._core._tensor import Size, _add_method, _check_layout, backend, ew, op_id
from ember._core import _tensor as _tensor_mod

cdef extern from "ember/philox.h" nogil:
    ctypedef struct em_u32x4:
        uint32_t w[4]
    em_u32x4 em_philox4x32_10(em_u32x4 ctr, uint32_t k0, uint32_t k1)
    uint64_t em_rng_blocks(int64_t n, int per_block)
    int em_rng_range_is_large(uint64_t range)
    enum:
        EM_RNG_PER_BLOCK_UNIFORM32
        EM_RNG_PER_BLOCK_UNIFORM64
        EM_RNG_PER_BLOCK_NORMAL32
        EM_RNG_PER_BLOCK_NORMAL64
        EM_RNG_PER_BLOCK_INT_SMALL
        EM_RNG_PER_BLOCK_INT_LARGE
        EM_RNG_PER_BLOCK_BERNOULLI
        EM_RNG_PER_BLOCK_EXPONENTIAL
        EM_RNG_PER_BLOCK_KEYS

cdef extern from "ember/random.h" nogil:
    uint64_t em_rng_uniform_fill(void *out, int dtype, int64_t n, uint64_t seed, uint64_t offset,
                                 int bits, double lo, double span, double below)
    uint64_t em_rng_normal_fill(void *out, int dtype, int64_t n, uint64_t seed, uint64_t offset,
                                double mean, double std)
    uint64_t em_rng_randint_fill(int64_t *out, int64_t n, uint64_t seed, uint64_t offset,
                                 int64_t low, uint64_t range)
    uint64_t em_rng_bernoulli_fill(uint8_t *out, int64_t n, uint64_t seed, uint64_t offset,
                                   double p)
    uint64_t em_rng_exponential_fill(void *out, int dtype, int64_t n, uint64_t seed,
                                     uint64_t offset, double lambd)
    int em_rng_randperm_fill(int64_t *out, int64_t n, uint64_t seed, uint64_t offset,
                             uint64_t *blocks_used)

cdef em_device CPU = em_device("cpu")
cdef object UINT64_MASK = (1 << 64) - 1
# PyTorch's seed for a fresh Generator
cdef uint64_t DEFAULT_SEED = 67280421310721
cdef int STATE_BYTES = 16
cdef int OP_LT = op_id("lt")

# bits of a uniform in [0, 1) that every value of a float dtype holds exactly
cdef dict _MANTISSA_BITS = {EM_FLOAT16: 11, EM_BFLOAT16: 8, EM_FLOAT32: 24, EM_FLOAT64: 53,
                            EM_COMPLEX64: 24, EM_COMPLEX128: 53}
# largest finite value of each float dtype
cdef dict _FLOAT_MAX = {EM_FLOAT16: 65504.0, EM_BFLOAT16: (2 - 2.0 ** -7) * 2.0 ** 127,
                        EM_FLOAT32: (2 - 2.0 ** -23) * 2.0 ** 127,
                        EM_FLOAT64: float(np.finfo(np.float64).max)}


def _philox4x32_10(counter, key):
    """The raw Philox4x32-10 block for four 32-bit counter words and two key words."""
    cdef em_u32x4 c
    cdef int i
    for i in range(4):
        c.w[i] = counter[i]
    c = em_philox4x32_10(c, key[0], key[1])
    return tuple([c.w[i] for i in range(4)])


# ---------------------------------------------------------------- generators

cdef uint64_t _seed_value(object seed) except? 0:
    """`seed` as the unsigned 64-bit key; negative seeds wrap, as in PyTorch."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise RuntimeError(f"manual_seed expected a long, but got {type(seed).__name__}")
    seed = int(seed)
    if seed < -(1 << 63) or seed > UINT64_MASK:
        raise ValueError(f"seed must be in [-2**63, 2**64), got {seed}")
    return seed & UINT64_MASK


cdef class Generator:
    """A Philox4x32-10 random number generator, as ``torch.Generator``.

    Parameters
    ----------
    device : str or ember.device, optional
        The device whose tensors this generator samples (default ``'cpu'``).

    Notes
    -----
    The state is a 64-bit seed and a 64-bit offset counting the Philox blocks
    used; :meth:`get_state` returns it as 16 bytes (an ``ember.uint8`` tensor).
    A fresh generator has PyTorch's default seed, 67280421310721.

    Examples
    --------
    >>> import ember
    >>> g = ember.Generator().manual_seed(0)
    >>> a = ember.rand(3, generator=g)
    >>> g.manual_seed(0)  # doctest: +ELLIPSIS
    <ember.Generator ...>
    >>> bool((ember.rand(3, generator=g) == a).numpy().all())
    True
    """
    cdef uint64_t _seed
    cdef uint64_t _offset
    cdef readonly em_device device

    def __cinit__(self):
        # valid before __init__ runs, so a bare Generator.__new__ is a CPU generator
        self.device = CPU
        self._seed = DEFAULT_SEED

    def __init__(self, device="cpu"):
        self.device = _device_arg(device)
        self._seed = DEFAULT_SEED
        self._offset = 0

    def __repr__(self):
        return f"<ember.Generator device='{self.device}' seed={self._seed} offset={self._offset}>"

    def manual_seed(self, seed):
        """Seed the generator and rewind its stream; returns ``self``.

        Parameters
        ----------
        seed : int
            Any integer in ``[-2**63, 2**64)``; negative values wrap to unsigned.
        """
        self._seed = _seed_value(seed)
        self._offset = 0
        return self

    def seed(self):
        """Seed from the operating system's entropy source and return the new seed."""
        self._seed = int.from_bytes(os.urandom(8), "little")
        self._offset = 0
        return self._seed

    def initial_seed(self):
        """The seed the generator was last seeded with."""
        return self._seed

    def get_offset(self):
        """The number of Philox blocks used since the generator was seeded."""
        return self._offset

    def set_offset(self, offset):
        """Move the stream to ``offset`` Philox blocks after the seed; returns ``self``."""
        offset = operator.index(offset)
        if offset < 0 or offset > UINT64_MASK:
            raise ValueError(f"offset must be in [0, 2**64), got {offset}")
        self._offset = offset
        return self

    def get_state(self):
        """The state as a 16-byte ``ember.uint8`` tensor: seed then offset, little-endian."""
        raw = self._seed.to_bytes(8, "little") + self._offset.to_bytes(8, "little")
        cdef Py_ssize_t n = STATE_BYTES
        cdef Tensor state = new_tensor(1, &n, EM_UINT8, CPU)
        cdef const unsigned char[:] view = raw
        memcpy(state.ptr(), &view[0], STATE_BYTES)
        return state

    def set_state(self, new_state):
        """Restore a state returned by :meth:`get_state`; returns ``self``."""
        if not isinstance(new_state, Tensor):
            raise TypeError(f"expected an ember.uint8 tensor, but got {type(new_state).__name__}")
        cdef Tensor st = <Tensor>new_state
        if st._dtype != EM_UINT8:
            raise TypeError(f"RNG state must be an ember.uint8 tensor, but got {st.get_dtype()}")
        if st._numel != STATE_BYTES:
            raise RuntimeError(f"Expected an RNG state of {STATE_BYTES} bytes but found the input "
                               f"RNG state size to be {st._numel}")
        raw = np.ascontiguousarray(np.asarray(st.cpu())).tobytes()
        self._seed = int.from_bytes(raw[:8], "little")
        self._offset = int.from_bytes(raw[8:], "little")
        return self

    def __reduce__(self):
        return (_rebuild_generator, (str(self.device), self._seed, self._offset))

    cdef uint64_t take(self, uint64_t blocks) noexcept:
        """Reserve `blocks` Philox blocks; returns the offset they start at."""
        cdef uint64_t start = self._offset
        self._offset += blocks
        return start


def _rebuild_generator(device, seed, offset):
    g = Generator(device)
    g.manual_seed(seed)
    g.set_offset(offset)
    return g


default_generator = Generator()
# a fresh process starts from an unpredictable seed, as in PyTorch
default_generator.seed()
# default generators of other devices, created on first use (keyed by str(device))
cdef dict _device_generators = {}


cdef Generator _default_for(em_device dev):
    if dev.type_num == DEV_CPU:
        return <Generator>default_generator
    key = str(dev)
    g = _device_generators.get(key)
    if g is None:
        # seeded like the CPU generator, so manual_seed gives the same numbers on every device
        g = Generator(dev).manual_seed(default_generator.initial_seed())
        _device_generators[key] = g
    return <Generator>g


cdef Generator _generator_for(object generator, em_device dev):
    if generator is None:
        return _default_for(dev)
    if not isinstance(generator, Generator):
        raise TypeError(f"generator must be an ember.Generator, not {type(generator).__name__}")
    if (<Generator>generator).device.type != dev.type:
        raise RuntimeError(f"Expected a '{dev.type}' device type for generator but found "
                           f"'{(<Generator>generator).device.type}'")
    return <Generator>generator


def device_generator(device):
    """The default generator of ``device`` (created on first use, as the ops do).

    Parameters
    ----------
    device : str or ember.device

    Returns
    -------
    Generator
    """
    return _default_for(_device_arg(device))


def manual_seed(seed):
    """Seed the default generators of every device; returns ``ember.default_generator``.

    Parameters
    ----------
    seed : int
        Converted with ``int()``; any value in ``[-2**63, 2**64)``.

    Returns
    -------
    Generator
    """
    seed = int(seed)
    default_generator.manual_seed(seed)
    for g in _device_generators.values():
        g.manual_seed(seed)
    return default_generator


def seed():
    """Seed every default generator from OS entropy.

    Returns
    -------
    int
        The new seed.
    """
    s = default_generator.seed()
    for g in _device_generators.values():
        g.manual_seed(s)
    return s


def initial_seed():
    """The seed the default CPU generator was last seeded with.

    Returns
    -------
    int
    """
    return default_generator.initial_seed()


def get_rng_state():
    """The default CPU generator's state.

    Returns
    -------
    Tensor
        16 bytes (``ember.uint8``): the seed then the offset, little-endian.
    """
    return default_generator.get_state()


def set_rng_state(new_state):
    """Restore the default CPU generator's state.

    Parameters
    ----------
    new_state : Tensor
        A state returned by :func:`get_rng_state`.
    """
    default_generator.set_state(new_state)


# ---------------------------------------------------------------- argument helpers

cdef str _name(int dt):
    return dtype_of(dt).name


cdef tuple _parse_size(tuple args, object size, str fname):
    """Sizes given as ``f(2, 3)``, ``f((2, 3))``, ``f([2, 3])`` or ``f(size=(2, 3))``."""
    if size is not None:
        if args:
            raise TypeError(f"{fname}(): size given both positionally and as a keyword")
        args = (size,)
    if not args:
        raise TypeError(f"{fname}() missing 1 required positional argument: 'size'")
    if len(args) == 1 and isinstance(args[0], (tuple, list, Size)):
        args = tuple(args[0])
    for s in args:
        if isinstance(s, (bool, float)) or not hasattr(s, "__index__"):
            raise TypeError(f"{fname}(): argument 'size' must be tuple of ints, but found element "
                            f"of type {type(s).__name__}")
    return tuple([operator.index(s) for s in args])


cdef tuple _size_arg(object size, str fname):
    """The `size` argument of randint/normal: a sequence of ints."""
    if not isinstance(size, (tuple, list, Size)):
        raise TypeError(f"{fname}(): argument 'size' must be tuple of ints, not "
                        f"{type(size).__name__}")
    return _parse_size((tuple(size),), None, fname)


cdef int _dtype_num(object dt, int default) except -1:
    return default if dt is None else as_dtype(dt).num


cdef em_device _device_arg(object dev):
    if dev is None:
        return CPU
    d = em_device(dev)
    return CPU if d.type_num == DEV_CPU else d


cdef double _real(object v, str what) except? -1.0:
    if isinstance(v, Tensor):
        v = v.item()
    if isinstance(v, complex) or not isinstance(v, (int, float, np.integer, np.floating)):
        raise TypeError(f"{what} must be a real number, got {type(v).__name__}")
    return float(v)


cdef object _int_arg(object v, str fname, str what):
    if isinstance(v, Tensor) and (<Tensor>v)._ndim == 0 and em_category[(<Tensor>v)._dtype] <= 1:
        v = v.item()
    if isinstance(v, (bool, float)) or not hasattr(v, "__index__"):
        raise TypeError(f"{fname}(): argument '{what}' must be int, not {type(v).__name__}")
    v = operator.index(v)
    if v < -(1 << 63) or v >= (1 << 63):
        raise ValueError(f"{fname}(): argument '{what}' = {v} does not fit in int64")
    return v


cdef int _check_writable_target(Tensor t) except -1:
    cdef int d
    if t._storage.readonly_mem:
        raise RuntimeError("cannot write to a tensor that views read-only memory")
    check_not_inference(t, "inplace")
    for d in range(t._ndim):
        if t._strides[d] == 0 and t._shape[d] > 1:
            raise RuntimeError("unsupported operation: more than one element of the written-to "
                               "tensor refers to a single memory location. Please clone() the "
                               "tensor before performing the operation.")
    return 0


cdef Tensor _finish(Tensor t, em_device dev, bint requires_grad):
    """A sampler's new tensor on `dev`; drawing its values is no in-place change, so its
    version stays 0, as in PyTorch."""
    t._storage.version = 0
    if dev.type_num != DEV_CPU and t._storage.device.type_num == DEV_CPU:
        t = t.to(dev)
    if requires_grad:
        t.requires_grad_(True)
    return t


cdef Tensor _output(tuple shape, int dt, object out, str fname, em_device dev=CPU):
    """A new contiguous tensor of `shape` on `dev`, or `out` checked and resized to it."""
    cdef Py_ssize_t dims[64]
    cdef int d
    if len(shape) > 64:
        raise RuntimeError(f"ember supports at most 64 dimensions, got {len(shape)}")
    for d in range(len(shape)):
        dims[d] = shape[d]
    if out is not None:
        if not isinstance(out, Tensor):
            raise TypeError(f"{fname}(): argument 'out' must be Tensor, not {type(out).__name__}")
        if (<Tensor>out)._dtype != dt:
            raise RuntimeError(f"{fname}(): expected out to have dtype {dtype_of(dt)}, "
                               f"got {(<Tensor>out).get_dtype()}")
        _check_writable_target(<Tensor>out)
        resize_output(<Tensor>out, len(shape), dims, False)
        return <Tensor>out
    return new_tensor(len(shape), dims, dt, dev)


# ---------------------------------------------------------------- fills

cdef Tensor _work_buffer(Tensor target, int work_dtype):
    """`target` itself when the kernel can write it directly, else a contiguous CPU temp."""
    if (target._storage.device.type_num == DEV_CPU and target._dtype == work_dtype
            and target.is_contig()):
        return target
    return new_tensor(target._ndim, target._shape, work_dtype, CPU)


cdef Tensor _sample_buffer(Tensor target, int work_dtype):
    """`target` itself when a kernel can write it directly, else a contiguous temp of
    `work_dtype` on its device (the fills below have kernels on every device)."""
    if target._dtype == work_dtype and target.is_contig():
        return target
    return new_tensor(target._ndim, target._shape, work_dtype, target._storage.device)


cdef bint _device_fill(str kind, Tensor buf, int64_t n, uint64_t blocks, uint64_t seed,
                       uint64_t offset, tuple params) except -1:
    """Run a fill on `buf`'s device when it is not the CPU; False for a CPU buffer."""
    if buf._storage.device.type_num == DEV_CPU:
        return False
    backend(buf._storage.device.type).random_fill(kind, buf, n, blocks, seed, offset, params)
    return True


cdef Tensor _store(Tensor target, Tensor buf):
    if buf is not target:
        copy_into(target, buf)
    bump_version(target)
    return target


cdef Tensor _uniform_into(Tensor target, double lo, double hi, Generator gen):
    cdef int dt = target._dtype
    cdef int cat = em_category[dt]
    if cat < 2:
        raise NotImplementedError(f"\"uniform_\" not implemented for '{_name(dt)}'")
    cdef int real_dt = real_of(dt)
    cdef double limit = _FLOAT_MAX[real_dt]
    if not (-limit <= lo <= limit):
        raise RuntimeError(f"from is out of bounds for {_name(real_dt)}: from={lo:g}")
    if not (-limit <= hi <= limit):
        raise RuntimeError(f"to is out of bounds for {_name(real_dt)}: to={hi:g}")
    if lo > hi:
        raise RuntimeError(f"uniform_ expects to return a [from, to) range, but found "
                           f"from={lo:g} > to={hi:g}")
    if hi - lo > limit:
        raise RuntimeError(f"uniform_ expects to-from <= the largest {_name(real_dt)} "
                           f"({limit:g}), but found to={hi:g} and from={lo:g} which result in "
                           f"to-from to exceed the limit")
    cdef int kernel_dt = EM_FLOAT64 if real_dt == EM_FLOAT64 else EM_FLOAT32
    cdef int bits = _MANTISSA_BITS[dt]
    cdef double span = hi - lo
    cdef double below
    if span == 0:
        below = lo
    elif kernel_dt == EM_FLOAT64:
        below = nextafter(hi, -INFINITY)
    else:
        below = nextafterf(<float>hi, -INFINITY)
        span = <float>hi - <float>lo
    # float16 and bfloat16 are sampled in float32 and rounded; complex as pairs of reals
    cdef Tensor buf = _sample_buffer(target, dt if cat == 3 else kernel_dt)
    cdef int64_t n = buf._numel * (2 if cat == 3 else 1)
    cdef int per = (EM_RNG_PER_BLOCK_UNIFORM64 if kernel_dt == EM_FLOAT64
                    else EM_RNG_PER_BLOCK_UNIFORM32)
    cdef uint64_t blocks = em_rng_blocks(n, per)
    cdef uint64_t offset = gen.take(blocks)
    cdef uint64_t seed = gen._seed
    if _device_fill("uniform", buf, n, blocks, seed, offset, (bits, lo, span, below)):
        return _store(target, buf)
    cdef void *ptr = buf.ptr()
    with nogil:
        em_rng_uniform_fill(ptr, kernel_dt, n, seed, offset, bits, lo, span, below)
    return _store(target, buf)


cdef Tensor _normal_into(Tensor target, double mean, double std, Generator gen):
    cdef int dt = target._dtype
    cdef int cat = em_category[dt]
    if cat < 2:
        raise NotImplementedError(f"\"normal_\" not implemented for '{_name(dt)}'")
    if not std >= 0.0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std:g}")
    cdef int kernel_dt = EM_FLOAT64 if real_of(dt) == EM_FLOAT64 else EM_FLOAT32
    if cat == 3:
        # real and imaginary parts each carry half the variance, as in PyTorch
        std = std / math.sqrt(2.0)
    cdef Tensor buf = _sample_buffer(target, dt if cat == 3 else kernel_dt)
    cdef int64_t n = buf._numel * (2 if cat == 3 else 1)
    cdef int per = (EM_RNG_PER_BLOCK_NORMAL64 if kernel_dt == EM_FLOAT64
                    else EM_RNG_PER_BLOCK_NORMAL32)
    cdef uint64_t blocks = em_rng_blocks(n, per)
    cdef uint64_t offset = gen.take(blocks)
    cdef uint64_t seed = gen._seed
    if _device_fill("normal", buf, n, blocks, seed, offset, (mean, std)):
        return _store(target, buf)
    cdef void *ptr = buf.ptr()
    with nogil:
        em_rng_normal_fill(ptr, kernel_dt, n, seed, offset, mean, std)
    return _store(target, buf)


cdef Tensor _exponential_into(Tensor target, double lambd, Generator gen):
    cdef int dt = target._dtype
    if em_category[dt] != 2:
        raise RuntimeError(f"Exponential distribution is a continuous probability distribution. "
                           f"dtype must be a floating point but you specified {_name(dt)}")
    if not lambd > 0.0:
        raise RuntimeError(f"exponential_ expects lambda > 0.0, but found lambda={lambd:g}")
    cdef int kernel_dt = EM_FLOAT64 if dt == EM_FLOAT64 else EM_FLOAT32
    cdef Tensor buf = _sample_buffer(target, kernel_dt)
    cdef int64_t n = buf._numel
    cdef uint64_t blocks = em_rng_blocks(n, EM_RNG_PER_BLOCK_EXPONENTIAL)
    cdef uint64_t offset = gen.take(blocks)
    cdef uint64_t seed = gen._seed
    if _device_fill("exponential", buf, n, blocks, seed, offset, (lambd,)):
        return _store(target, buf)
    cdef void *ptr = buf.ptr()
    with nogil:
        em_rng_exponential_fill(ptr, kernel_dt, n, seed, offset, lambd)
    return _store(target, buf)


cdef Tensor _bernoulli_into(Tensor target, double p, Generator gen):
    if em_category[target._dtype] == 3:
        raise NotImplementedError(f"\"bernoulli_\" not implemented for '{_name(target._dtype)}'")
    if not (0.0 <= p <= 1.0):
        raise RuntimeError(f"bernoulli_ expects p to be in [0, 1], but got p={p:g}")
    cdef Tensor buf = _sample_buffer(target, EM_BOOL)
    cdef int64_t n = buf._numel
    cdef uint64_t blocks = em_rng_blocks(n, EM_RNG_PER_BLOCK_BERNOULLI)
    cdef uint64_t offset = gen.take(blocks)
    cdef uint64_t seed = gen._seed
    if _device_fill("bernoulli", buf, n, blocks, seed, offset, (p,)):
        return _store(target, buf)
    cdef uint8_t *ptr = <uint8_t *>buf.ptr()
    with nogil:
        em_rng_bernoulli_fill(ptr, n, seed, offset, p)
    return _store(target, buf)


cdef Tensor _bernoulli_tensor_into(Tensor target, Tensor p, Generator gen):
    """Each element 1 with its own probability: a 53-bit uniform below p."""
    if em_category[target._dtype] == 3:
        raise NotImplementedError(f"\"bernoulli_\" not implemented for '{_name(target._dtype)}'")
    if em_category[p._dtype] != 2:
        raise NotImplementedError(f"\"bernoulli_\" not implemented for p of dtype "
                                  f"'{_name(p._dtype)}'")
    if target._storage.device.type_num == DEV_META:
        # no values to draw: the probabilities are not read
        bump_version(target)
        return target
    probs = np.asarray(p.cpu()).astype(np.float64)
    if not ((probs >= 0) & (probs <= 1)).all():
        raise RuntimeError("bernoulli_ expects all elements of p to be in [0, 1]")
    cdef Tensor u = new_tensor(target._ndim, target._shape, EM_FLOAT64, CPU)
    _uniform_into(u, 0.0, 1.0, gen)
    if p._storage.device.type_num != DEV_CPU:
        p = p.cpu()
    return _store(target, ew(OP_LT, u, p.expand(target.shape)))


# random_ / randint: C type names as PyTorch prints them in its bounds errors
cdef dict _INT_BOUNDS = {EM_BOOL: (0, 1), EM_UINT8: (0, 255), EM_INT8: (-128, 127),
                         EM_INT16: (-(1 << 15), (1 << 15) - 1),
                         EM_INT32: (-(1 << 31), (1 << 31) - 1),
                         EM_INT64: (-(1 << 63), (1 << 63) - 1),
                         EM_UINT16: (0, (1 << 16) - 1), EM_UINT32: (0, (1 << 32) - 1),
                         EM_UINT64: (0, (1 << 64) - 1)}


cdef object _default_to(int dt):
    """One past the largest value random_ draws by default for dtype `dt`."""
    if em_category[dt] == 2:
        return (1 << _MANTISSA_BITS[dt]) + 1
    return _INT_BOUNDS[dt][1] + 1


cdef int _check_random_bounds(int dt, object lo, object hi, str fname) except -1:
    """PyTorch's check: `lo` and `hi - 1` must fit the dtype (floats warn past exact integers)."""
    if em_category[dt] == 3:
        raise NotImplementedError(f"\"{fname}\" not implemented for '{_name(dt)}'")
    if lo >= hi:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got "
                           f"from={lo} >= to={hi}")
    if em_category[dt] == 2:
        limit = _FLOAT_MAX[dt]
        exact = 1 << _MANTISSA_BITS[dt]
        for what, v in (("from", lo), ("to - 1", hi - 1)):
            if not -limit <= v <= limit:
                raise RuntimeError(f"{what} is out of bounds for {_name(dt)}: {v}")
            if not -exact <= v <= exact:
                warnings.warn(f"{what} is out of bounds [-(2^{_MANTISSA_BITS[dt]}), "
                              f"2^{_MANTISSA_BITS[dt]}]. Due to precision limitations "
                              f"{_name(dt)} can support discrete uniform distribution only "
                              f"within this range.", UserWarning, stacklevel=3)
        return 0
    dmin, dmax = _INT_BOUNDS[dt]
    if not dmin <= lo <= dmax:
        raise RuntimeError(f"from is out of bounds for {_name(dt)}: from={lo} is not in "
                           f"[{dmin}, {dmax}]")
    if not dmin <= hi - 1 <= dmax:
        raise RuntimeError(f"to - 1 is out of bounds for {_name(dt)}: to - 1 = {hi - 1} is not "
                           f"in [{dmin}, {dmax}]")
    return 0


cdef Tensor _randint_into(Tensor target, object lo, object hi, Generator gen):
    """Integers uniform on [lo, hi) (already checked) into `target`, any real dtype."""
    cdef uint64_t range_ = (hi - lo) & UINT64_MASK
    cdef int64_t low = lo
    cdef Tensor buf = _sample_buffer(target, EM_INT64)
    cdef int64_t n = buf._numel
    cdef bint large = em_rng_range_is_large(range_)
    cdef int per = EM_RNG_PER_BLOCK_INT_LARGE if large else EM_RNG_PER_BLOCK_INT_SMALL
    cdef uint64_t blocks = em_rng_blocks(n, per)
    cdef uint64_t offset = gen.take(blocks)
    cdef uint64_t seed = gen._seed
    if _device_fill("randint_large" if large else "randint_small", buf, n, blocks, seed,
                    offset, (low, range_)):
        return _store(target, buf)
    cdef int64_t *ptr = <int64_t *>buf.ptr()
    with nogil:
        em_rng_randint_fill(ptr, n, seed, offset, low, range_)
    return _store(target, buf)


include "_random_api.pxi"
include "_random_dist.pxi"
