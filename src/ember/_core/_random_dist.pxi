# Samplers with tensor parameters (gamma, Poisson, binomial, Dirichlet), the
# inverse-transform Tensor fills (cauchy_, log_normal_, geometric_) and the
# implicit-reparameterisation gradients.  Included by _random.pyx; kernels in
# random_samplers.c.

cdef extern from "ember/random.h" nogil:
    enum:
        EM_RNG_GAMMA
        EM_RNG_POISSON
        EM_RNG_BINOMIAL
        EM_RNG_CAUCHY
        EM_RNG_LOG_NORMAL
        EM_RNG_GEOMETRIC
    uint64_t em_rng_param_fill(int kind, double *out, const double *a, const double *b,
                               int64_t n, uint64_t seed, uint64_t offset, double tiny)
    uint64_t em_rng_transform_fill(int kind, double *out, int64_t n, uint64_t seed,
                                   uint64_t offset, double p0, double p1)
    void em_rng_gamma_grad(double *out, const double *alpha, const double *x, int64_t n)
    void em_rng_dirichlet_grad(double *out, const double *x, const double *alpha,
                               const double *total, int64_t n)

# smallest positive normal value of each float dtype: gamma samples never round to 0
cdef dict _FLOAT_TINY = {EM_FLOAT16: 6.103515625e-05, EM_BFLOAT16: 1.1754943508222875e-38,
                         EM_FLOAT32: 1.1754943508222875e-38,
                         EM_FLOAT64: 2.2250738585072014e-308}


cdef Tensor _as_f64(Tensor t):
    """`t` as a contiguous float64 CPU tensor (a detached view when it already is one)."""
    if t._dtype == EM_FLOAT64 and t.is_contig() and t._storage.device.type_num == DEV_CPU:
        return t.detach()
    cdef Tensor r = new_tensor(t._ndim, t._shape, EM_FLOAT64, CPU)
    copy_into(r, t.detach().cpu() if t._storage.device.type_num != DEV_CPU else t.detach())
    return r


cdef Tensor _from_f64(Tensor buf, int dt, em_device dev):
    """The float64 result `buf` cast to dtype `dt` on device `dev`."""
    cdef Tensor r = buf
    if dt != EM_FLOAT64:
        r = new_tensor(buf._ndim, buf._shape, dt, CPU)
        copy_into(r, buf)
    return _finish(r, dev, False)


cdef int _check_float_input(Tensor t, str kernel) except -1:
    if em_category[t._dtype] != 2:
        raise NotImplementedError(f"\"{kernel}\" not implemented for '{_name(t._dtype)}'")
    return 0


cdef Tensor _param_sample(int kind, Tensor a, Tensor b, double tiny, Generator gen):
    """Per-element samples of `kind` with parameters `a` (and `b`), as float64."""
    cdef Tensor a64 = _as_f64(a)
    cdef Tensor b64 = _as_f64(b) if b is not None else a64
    cdef Tensor out = new_tensor(a._ndim, a._shape, EM_FLOAT64, CPU)
    cdef int64_t n = out._numel
    cdef uint64_t offset = gen.take(em_rng_blocks(n, 1))
    cdef uint64_t seed_ = gen._seed
    cdef double *po = <double *>out.ptr()
    cdef const double *pa = <const double *>a64.ptr()
    cdef const double *pb = <const double *>b64.ptr()
    with nogil:
        em_rng_param_fill(kind, po, pa, pb, n, seed_, offset, tiny)
    return out


def _standard_gamma(Tensor input, generator=None):
    """Samples of Gamma(``input``, 1), elementwise (Marsaglia and Tsang's method).

    Differentiable in ``input`` through the implicit reparameterisation gradient
    :func:`ember._standard_gamma_grad`.  Non-positive concentrations give the
    dtype's smallest normal number, as in PyTorch.

    Parameters
    ----------
    input : Tensor
        Concentrations (a floating dtype).
    generator : Generator, optional

    Returns
    -------
    Tensor
        Positive samples of ``input``'s dtype and shape.

    Examples
    --------
    >>> import ember
    >>> x = ember._standard_gamma(ember.full((1000,), 3.0, dtype=ember.float64))
    >>> 2.5 < float(x.mean()) < 3.5
    True
    """
    if grad_enabled() and input._requires_grad:
        return record_op("_standard_gamma", _standard_gamma, (input,), {"generator": generator})
    _check_float_input(input, "gamma_cpu")
    cdef em_device dev = <em_device>input._storage.device
    cdef Generator gen = _generator_for(generator, dev)
    buf = _param_sample(EM_RNG_GAMMA, input, None, _FLOAT_TINY[input._dtype], gen)
    return _from_f64(buf, input._dtype, dev)


def _standard_gamma_grad(Tensor self, Tensor output):
    """d ``output`` / d ``self`` for ``output = _standard_gamma(self)`` at a fixed CDF.

    Parameters
    ----------
    self : Tensor
        Concentrations.
    output : Tensor
        Gamma samples of the same shape.

    Returns
    -------
    Tensor
    """
    return _binary_grad(self, output, "_standard_gamma_grad", 0)


def _dirichlet_grad(Tensor x, Tensor alpha, Tensor total):
    """d ``x`` / d ``alpha`` for ``x ~ Beta(alpha, total - alpha)`` at a fixed CDF.

    The building block of the Dirichlet and Beta reparameterised gradients.

    Parameters
    ----------
    x, alpha, total : Tensor
        Samples, concentrations and total concentrations, all of one shape and dtype.

    Returns
    -------
    Tensor
    """
    if tuple(alpha.shape) != tuple(x.shape) or tuple(total.shape) != tuple(x.shape):
        raise RuntimeError(f"_dirichlet_grad: expected x, alpha and total of one shape, got "
                           f"{list(x.shape)}, {list(alpha.shape)} and {list(total.shape)}")
    return _binary_grad(x, alpha, "_dirichlet_grad", 1, total)


cdef Tensor _binary_grad(Tensor a, Tensor b, str fname, int dirichlet, Tensor c=None):
    _check_float_input(a, fname)
    if a._dtype != b._dtype or (c is not None and c._dtype != a._dtype):
        raise RuntimeError(f"{fname}: expected tensors of one dtype, got {a.dtype} and {b.dtype}")
    if tuple(a.shape) != tuple(b.shape):
        raise RuntimeError(f"{fname}: expected tensors of one shape, got {list(a.shape)} and "
                           f"{list(b.shape)}")
    cdef Tensor a64 = _as_f64(a), b64 = _as_f64(b)
    cdef Tensor c64 = _as_f64(c) if c is not None else None
    cdef Tensor out = new_tensor(a._ndim, a._shape, EM_FLOAT64, CPU)
    cdef int64_t n = out._numel
    cdef double *po = <double *>out.ptr()
    cdef const double *pa = <const double *>a64.ptr()
    cdef const double *pb = <const double *>b64.ptr()
    cdef const double *pc = <const double *>c64.ptr() if c64 is not None else NULL
    with nogil:
        if dirichlet:
            em_rng_dirichlet_grad(po, pa, pb, pc, n)
        else:
            em_rng_gamma_grad(po, pa, pb, n)
    return _from_f64(out, a._dtype, <em_device>a._storage.device)


def _sample_dirichlet(Tensor input, generator=None):
    """Samples of Dirichlet(``input``) along the last dimension (normalised gammas).

    Parameters
    ----------
    input : Tensor
        Concentrations (a floating dtype); the last dimension is the simplex.
    generator : Generator, optional

    Returns
    -------
    Tensor
        Non-negative rows summing to 1, of ``input``'s shape and dtype.
    """
    if grad_enabled() and input._requires_grad:
        return record_op("_sample_dirichlet", _sample_dirichlet, (input,),
                         {"generator": generator})
    _check_float_input(input, "dirichlet")
    cdef em_device dev = <em_device>input._storage.device
    cdef Tensor g = _param_sample(EM_RNG_GAMMA, input, None, _FLOAT_TINY[EM_FLOAT64],
                                  _generator_for(generator, dev))
    if g._ndim > 0:
        g = g / g.sum(-1, keepdim=True)
    else:
        g = g / g
    tiny = _FLOAT_TINY[input._dtype]
    return _from_f64(g.clamp(tiny, 1.0 - 2.0 ** -53).contiguous(), input._dtype, dev)


def poisson(Tensor input, generator=None):
    """Samples of Poisson(``input``), elementwise.

    Rates of 10 and more use Hormann's transformed rejection (PTRS), smaller ones
    the product-of-uniforms method.  The gradient with respect to the rates is zero,
    as in PyTorch.

    Parameters
    ----------
    input : Tensor
        Non-negative rates (a floating dtype).
    generator : Generator, optional

    Returns
    -------
    Tensor
        Counts as floats of ``input``'s dtype.

    Examples
    --------
    >>> import ember
    >>> ember.poisson(ember.zeros(3)).tolist()
    [0.0, 0.0, 0.0]
    """
    if grad_enabled() and input._requires_grad:
        return record_op("poisson", poisson, (input,), {"generator": generator})
    _check_float_input(input, "poisson_cpu")
    cdef Tensor rates = _as_f64(input)
    if not (np.asarray(rates) >= 0).all():
        raise RuntimeError("invalid Poisson rate, expected rate to be non-negative")
    cdef em_device dev = <em_device>input._storage.device
    buf = _param_sample(EM_RNG_POISSON, rates, None, 0.0, _generator_for(generator, dev))
    return _from_f64(buf, input._dtype, dev)


def binomial(Tensor count, Tensor prob, generator=None):
    """Samples of Binomial(``count``, ``prob``), elementwise.

    Hormann's BTRS when the expected number of the rarer outcome is at least 10,
    else by summing geometric waiting times.  Not differentiable (as in PyTorch).

    Parameters
    ----------
    count : Tensor
        Numbers of trials, as floats.
    prob : Tensor
        Success probabilities, same dtype; broadcast against ``count``.
    generator : Generator, optional

    Returns
    -------
    Tensor
        Successes, of ``count``'s dtype.

    Examples
    --------
    >>> import ember
    >>> ember.binomial(ember.tensor([5.0, 0.0]), ember.tensor([1.0, 0.5])).tolist()
    [5.0, 0.0]
    """
    if grad_enabled() and (count._requires_grad or prob._requires_grad):
        return record_op("binomial", binomial, (count, prob), {"generator": generator})
    if em_category[count._dtype] != 2:
        raise ValueError(f"binomial only supports floating-point dtypes for count, got: "
                         f"{_name(count._dtype)}")
    if em_category[prob._dtype] != 2:
        raise ValueError(f"binomial only supports floating-point dtypes for prob, got: "
                         f"{_name(prob._dtype)}")
    if prob._dtype != count._dtype:
        raise RuntimeError(f"Found dtype {_name(prob._dtype)} but expected "
                           f"{_name(count._dtype)}")
    shape = tuple(np.broadcast_shapes(tuple(count.shape), tuple(prob.shape)))
    cdef em_device dev = <em_device>count._storage.device
    cdef Tensor c = count.expand(shape) if tuple(count.shape) != shape else count
    cdef Tensor p = prob.expand(shape) if tuple(prob.shape) != shape else prob
    buf = _param_sample(EM_RNG_BINOMIAL, c, p, 0.0, _generator_for(generator, dev))
    return _from_f64(buf, count._dtype, dev)


cdef Tensor _transform_into(Tensor target, int kind, double p0, double p1, Generator gen):
    cdef Tensor buf = new_tensor(target._ndim, target._shape, EM_FLOAT64, CPU)
    cdef int64_t n = buf._numel
    cdef uint64_t offset = gen.take(em_rng_blocks(n, 2))
    cdef uint64_t seed_ = gen._seed
    cdef double *ptr = <double *>buf.ptr()
    with nogil:
        em_rng_transform_fill(kind, ptr, n, seed_, offset, p0, p1)
    return _store(target, buf)


cdef int _check_continuous(Tensor t, str what) except -1:
    if em_category[t._dtype] != 2:
        raise RuntimeError(f"{what} distribution is a continuous probability distribution. "
                           f"dtype must be a floating point but you specified {_name(t._dtype)}")
    return 0


def cauchy_(Tensor self, median=0.0, sigma=1.0, *, generator=None):
    """Fill with samples of the Cauchy distribution ``median + sigma * tan(pi * (U - 1/2))``.

    Parameters
    ----------
    median : float, optional
    sigma : float, optional
        The scale, positive.
    generator : Generator, optional

    Returns
    -------
    Tensor
        ``self``.
    """
    if grad_enabled() and self._requires_grad:
        return record_op("cauchy_", cauchy_, (self, median, sigma), {"generator": generator})
    _check_continuous(self, "Cauchy")
    s = _real(sigma, "sigma")
    if not s > 0.0:
        raise RuntimeError(f"cauchy_ expects sigma > 0.0, but found sigma={s:g}")
    _check_writable_target(self)
    return _transform_into(self, EM_RNG_CAUCHY, _real(median, "median"), s,
                           _generator_for(generator, self._storage.device))


def log_normal_(Tensor self, mean=1.0, std=2.0, *, generator=None):
    """Fill with ``exp(X)``, ``X`` normal with the given mean and standard deviation.

    Parameters
    ----------
    mean : float, optional
    std : float, optional
        Positive.
    generator : Generator, optional

    Returns
    -------
    Tensor
        ``self``.
    """
    if grad_enabled() and self._requires_grad:
        return record_op("log_normal_", log_normal_, (self, mean, std), {"generator": generator})
    if em_category[self._dtype] != 2:
        raise NotImplementedError(f"\"log_normal_cpu\" not implemented for "
                                  f"'{_name(self._dtype)}'")
    s = _real(std, "std")
    if not s > 0.0:
        raise RuntimeError(f"log_normal_ expects std > 0.0, but found std={s:g}")
    _check_writable_target(self)
    return _transform_into(self, EM_RNG_LOG_NORMAL, _real(mean, "mean"), s,
                           _generator_for(generator, self._storage.device))


def geometric_(Tensor self, p, *, generator=None):
    """Fill with the number of Bernoulli(``p``) trials up to the first success (1, 2, ...).

    Parameters
    ----------
    p : float
        In ``(0, 1)``.
    generator : Generator, optional

    Returns
    -------
    Tensor
        ``self`` (any real dtype).
    """
    if grad_enabled() and self._requires_grad:
        return record_op("geometric_", geometric_, (self, p), {"generator": generator})
    if em_category[self._dtype] == 3:
        raise NotImplementedError(f"\"geometric_cpu\" not implemented for '{_name(self._dtype)}'")
    q = _real(p, "p")
    if not 0.0 < q < 1.0:
        raise RuntimeError(f"geometric_ expects p to be in (0, 1), but got p={q:g}")
    _check_writable_target(self)
    return _transform_into(self, EM_RNG_GEOMETRIC, q, 0.0,
                           _generator_for(generator, self._storage.device))


for _method in (cauchy_, log_normal_, geometric_):
    _add_method(_method.__name__, _method)
