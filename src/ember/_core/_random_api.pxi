# Public sampling functions and Tensor methods.  Included by _random.pyx.

cdef int _float_dtype(object dt, str fname) except -1:
    """The dtype of a float sampler's result: the default float, or a float/complex dtype."""
    cdef int num = default_float() if dt is None else as_dtype(dt).num
    if em_category[num] < 2:
        raise NotImplementedError(f"\"{fname}\" not implemented for '{_name(num)}'")
    return num


cdef list _bind(str fname, tuple args, dict kwargs, tuple names, list values):
    """Bind positional `args` and keyword `kwargs` to `names` over default `values`."""
    if len(args) > len(names):
        raise TypeError(f"{fname}() takes at most {len(names)} arguments ({len(args)} given)")
    for i, v in enumerate(args):
        values[i] = v
    for key, v in kwargs.items():
        if key not in names:
            raise TypeError(f"{fname}() got an unexpected keyword argument '{key}'")
        i = names.index(key)
        if i < len(args):
            raise TypeError(f"{fname}() got multiple values for argument '{key}'")
        values[i] = v
    return values


cdef Tensor _like_output(Tensor input, int dt, em_device dev, object memory_format):
    """A tensor shaped like `input` on `dev`: in `memory_format` when one is given, else
    with `input`'s dense layout (PyTorch's preserve_format, on any device)."""
    if (memory_format is None and dev.type_num == DEV_CPU
            and input._storage.device.type_num == DEV_CPU):
        return new_like_layout(input, dt)
    return <Tensor>_tensor_mod.empty_like(input, dtype=dtype_of(dt), device=dev,
                                          memory_format=memory_format)


cdef em_device _like_device(Tensor input, object dev):
    return <em_device>input._storage.device if dev is None else _device_arg(dev)


def rand(*size_args, size=None, generator=None, out=None, dtype=None, layout=None, device=None,
         requires_grad=False, pin_memory=False):
    """Samples uniform on ``[0, 1)``.

    Parameters
    ----------
    *size_args : int or sequence of int
        The shape: ``rand(2, 3)``, ``rand((2, 3))``, or ``rand(size=(2, 3))``.
    generator : Generator, optional
        The generator to draw from (default: the device's default generator).
    out : Tensor, optional
        The tensor to fill instead of a new one, resized to the shape (with PyTorch's
        warning when it had elements).
    dtype : ember.dtype, optional
        A floating or complex dtype (default :func:`ember.get_default_dtype`).
        Complex tensors get uniform real and imaginary parts.
    device : str or ember.device, optional
    requires_grad : bool, optional

    Returns
    -------
    Tensor

    Examples
    --------
    >>> import ember
    >>> _ = ember.manual_seed(0)
    >>> ember.rand(2, 3).shape
    ember.Size([2, 3])
    """
    _check_layout(layout, "rand")
    shape = _parse_size(size_args, size, "rand")
    cdef int dt = _float_dtype(dtype if out is None or dtype is not None else out.dtype, "rand")
    cdef em_device dev = _device_arg(default_device_arg(device))
    cdef Generator gen = _generator_for(generator, dev)
    cdef Tensor t = _output(shape, dt, out, "rand", dev)
    _uniform_into(t, 0.0, 1.0, gen)
    return t if out is not None else _finish(t, dev, requires_grad)


def randn(*size_args, size=None, generator=None, out=None, dtype=None, layout=None, device=None,
          requires_grad=False, pin_memory=False):
    """Samples from the standard normal distribution (Box-Muller).

    Complex dtypes get real and imaginary parts of variance 1/2 each, as in PyTorch.

    Parameters
    ----------
    *size_args : int or sequence of int
        The shape, as for :func:`rand` (or ``size=``).
    generator : Generator, optional
    out : Tensor, optional
    dtype : ember.dtype, optional
        A floating or complex dtype (default :func:`ember.get_default_dtype`).
    device : str or ember.device, optional
    requires_grad : bool, optional

    Returns
    -------
    Tensor

    Examples
    --------
    >>> import ember
    >>> ember.randn(4, dtype=ember.float64).dtype
    ember.float64
    """
    _check_layout(layout, "randn")
    shape = _parse_size(size_args, size, "randn")
    cdef int dt = _float_dtype(dtype if out is None or dtype is not None else out.dtype, "randn")
    cdef em_device dev = _device_arg(default_device_arg(device))
    cdef Generator gen = _generator_for(generator, dev)
    cdef Tensor t = _output(shape, dt, out, "randn", dev)
    _normal_into(t, 0.0, 1.0, gen)
    return t if out is not None else _finish(t, dev, requires_grad)


def randint(*args, low=None, high=None, size=None, generator=None, out=None, dtype=None,
            layout=None, device=None, requires_grad=False, pin_memory=False):
    """Integers uniform on ``[low, high)``: ``randint(high, size)`` or ``randint(low, high, size)``.

    Every value of the range is equally likely: wide ranges use 64- or 128-bit draws
    rather than a biased modulo.

    Parameters
    ----------
    low : int, optional
        Lowest value (default 0).
    high : int
        One above the highest value.
    size : sequence of int
    generator : Generator, optional
    out : Tensor, optional
    dtype : ember.dtype, optional
        Default ``ember.int64``; floating dtypes hold the integers as floats.
    device : str or ember.device, optional
    requires_grad : bool, optional

    Returns
    -------
    Tensor

    Examples
    --------
    >>> import ember
    >>> x = ember.randint(3, 7, (100,))
    >>> bool(((x >= 3) & (x < 7)).numpy().all())
    True
    """
    _check_layout(layout, "randint")
    given = {"low": low, "high": high, "size": size}
    n_kw = sum(v is not None for v in given.values())
    # torch's two overloads: (high, size) and (low, high, size)
    if low is not None or len(args) + n_kw >= 3:
        names = ("low", "high", "size")
    else:
        names = ("high", "size")
    if len(args) > len(names):
        raise TypeError(f"randint() takes at most 3 positional arguments ({len(args)} given)")
    for name, v in zip(names, args):
        if given[name] is not None:
            raise TypeError(f"randint() got multiple values for argument '{name}'")
        given[name] = v
    if given["high"] is None:
        raise TypeError("randint() missing required argument 'high'")
    if given["size"] is None:
        raise TypeError("randint() missing required argument 'size'")
    lo = 0 if given["low"] is None else _int_arg(given["low"], "randint", "low")
    hi = _int_arg(given["high"], "randint", "high")
    shape = _size_arg(given["size"], "randint")
    cdef int dt = _dtype_num(dtype if out is None or dtype is not None else out.dtype, EM_INT64)
    _check_random_bounds(dt, lo, hi, "randint")
    cdef em_device dev = _device_arg(default_device_arg(device))
    cdef Generator gen = _generator_for(generator, dev)
    cdef Tensor t = _output(shape, dt, out, "randint", dev)
    _randint_into(t, lo, hi, gen)
    return t if out is not None else _finish(t, dev, requires_grad)


def randperm(n, *, generator=None, out=None, dtype=None, layout=None, device=None,
             requires_grad=False, pin_memory=False):
    """A random permutation of ``0, 1, ..., n - 1``.

    The permutation orders the indices by 64-bit random keys (ties by index), so
    a GPU sort of the same keys gives the same permutation.

    Parameters
    ----------
    n : int
        Number of elements (at least 0).
    generator : Generator, optional
    out : Tensor, optional
    dtype : ember.dtype, optional
        Default ``ember.int64``; any integer or floating dtype that holds ``n - 1``.
    device : str or ember.device, optional
    requires_grad : bool, optional

    Returns
    -------
    Tensor

    Examples
    --------
    >>> import ember
    >>> sorted(ember.randperm(5).tolist())
    [0, 1, 2, 3, 4]
    """
    _check_layout(layout, "randperm")
    count = _int_arg(n, "randperm", "n")
    if count < 0:
        raise RuntimeError(f"Trying to create tensor with negative dimension {count}: [{count}]")
    cdef int dt = _dtype_num(dtype if out is None or dtype is not None else out.dtype, EM_INT64)
    cdef int cat = em_category[dt]
    if cat == 0 or cat == 3:
        raise NotImplementedError(f"\"randperm\" not implemented for '{_name(dt)}'")
    if cat == 2 and count > (1 << _MANTISSA_BITS[dt]) + 1:
        raise RuntimeError(f"n cannot be greater than 2^{_MANTISSA_BITS[dt]}+1 for {_name(dt)}, "
                           f"got n={count}")
    if cat == 1 and count - 1 > _INT_BOUNDS[dt][1]:
        raise RuntimeError(f"randperm: n={count} is too large for {_name(dt)}: the largest value "
                           f"n - 1 = {count - 1} does not fit")
    cdef em_device dev = _device_arg(default_device_arg(device))
    cdef Generator gen = _generator_for(generator, dev)
    cdef Tensor t = _output((count,), dt, out, "randperm")
    cdef Tensor buf = _work_buffer(t, EM_INT64)
    cdef int64_t total = count
    cdef uint64_t used
    cdef uint64_t offset = gen.take(em_rng_blocks(total, EM_RNG_PER_BLOCK_KEYS))
    cdef uint64_t seed_ = gen._seed
    cdef int64_t *ptr = <int64_t *>buf.ptr()
    cdef int status
    with nogil:
        status = em_rng_randperm_fill(ptr, total, seed_, offset, &used)
    if status != 0:
        raise MemoryError(f"randperm: cannot allocate scratch memory for n={count}")
    _store(t, buf)
    return t if out is not None else _finish(t, dev, requires_grad)


def rand_like(Tensor input, *, generator=None, dtype=None, layout=None, device=None,
              requires_grad=False, memory_format=None):
    """Uniform samples on ``[0, 1)`` shaped like ``input``.

    Parameters
    ----------
    input : Tensor
        Gives the shape, and the dtype, device and dense layout unless overridden.
    generator : Generator, optional
    dtype : ember.dtype, optional
        A floating or complex dtype.
    device : str or ember.device, optional
    requires_grad : bool, optional

    Returns
    -------
    Tensor
    """
    _check_layout(layout, "rand_like")
    cdef int dt = _float_dtype(input.dtype if dtype is None else dtype, "rand_like")
    cdef em_device dev = _like_device(input, device)
    cdef Tensor t = _like_output(input, dt, dev, memory_format)
    _uniform_into(t, 0.0, 1.0, _generator_for(generator, dev))
    return _finish(t, dev, requires_grad)


def randn_like(Tensor input, *, generator=None, dtype=None, layout=None, device=None,
               requires_grad=False, memory_format=None):
    """Standard normal samples shaped like ``input``.

    Parameters
    ----------
    input : Tensor
        Gives the shape, and the dtype, device and dense layout unless overridden.
    generator : Generator, optional
    dtype : ember.dtype, optional
        A floating or complex dtype.
    device : str or ember.device, optional
    requires_grad : bool, optional

    Returns
    -------
    Tensor
    """
    _check_layout(layout, "randn_like")
    cdef int dt = _float_dtype(input.dtype if dtype is None else dtype, "randn_like")
    cdef em_device dev = _like_device(input, device)
    cdef Tensor t = _like_output(input, dt, dev, memory_format)
    _normal_into(t, 0.0, 1.0, _generator_for(generator, dev))
    return _finish(t, dev, requires_grad)


def randint_like(Tensor input, *args, low=None, high=None, generator=None, dtype=None,
                 layout=None, device=None, requires_grad=False, memory_format=None):
    """Integers uniform on ``[low, high)`` shaped like ``input``.

    Called as ``randint_like(input, high)`` or ``randint_like(input, low, high)``.

    Parameters
    ----------
    input : Tensor
        Gives the shape, and the dtype, device and dense layout unless overridden.
    low : int, optional
        Lowest value (default 0).
    high : int
        One above the highest value.
    generator : Generator, optional
    dtype : ember.dtype, optional
    device : str or ember.device, optional
    requires_grad : bool, optional

    Returns
    -------
    Tensor
    """
    _check_layout(layout, "randint_like")
    given = {"low": low, "high": high}
    if len(args) == 2 or (len(args) == 1 and high is not None):
        names = ("low", "high")
    else:
        names = ("high",)
    if len(args) > len(names):
        raise TypeError(f"randint_like() takes at most 3 positional arguments "
                        f"({len(args) + 1} given)")
    for name, v in zip(names, args):
        if given[name] is not None:
            raise TypeError(f"randint_like() got multiple values for argument '{name}'")
        given[name] = v
    if given["high"] is None:
        raise TypeError("randint_like() missing required argument 'high'")
    lo = 0 if given["low"] is None else _int_arg(given["low"], "randint_like", "low")
    hi = _int_arg(given["high"], "randint_like", "high")
    cdef int dt = input._dtype if dtype is None else as_dtype(dtype).num
    _check_random_bounds(dt, lo, hi, "randint_like")
    cdef em_device dev = _like_device(input, device)
    cdef Tensor t = _like_output(input, dt, dev, memory_format)
    _randint_into(t, lo, hi, _generator_for(generator, dev))
    return _finish(t, dev, requires_grad)


def bernoulli(Tensor input, p=None, *, generator=None, out=None):
    """Draws 1 with probability ``input`` (elementwise), or with probability ``p`` when given.

    Parameters
    ----------
    input : Tensor
        Probabilities in ``[0, 1]`` (a floating dtype), or only the shape and dtype
        of the result when ``p`` is given.
    p : float, optional
    generator : Generator, optional
    out : Tensor, optional

    Returns
    -------
    Tensor
        Zeros and ones of ``input``'s dtype.
    """
    cdef em_device dev = <em_device>input._storage.device
    cdef Generator gen = _generator_for(generator, dev)
    cdef Tensor t = (_output(tuple(input.shape), input._dtype, out, "bernoulli") if out is not None
                     else _like_output(input, input._dtype, dev, None))
    if p is None:
        _bernoulli_tensor_into(t, input.detach(), gen)     # probabilities may require grad
    else:
        _bernoulli_into(t, _real(p, "p"), gen)
    return t if out is not None else _finish(t, dev, False)


def normal(mean, std=1.0, size=None, *, generator=None, out=None, dtype=None, layout=None,
           device=None, requires_grad=False, pin_memory=False):
    """Normal samples with the given mean and standard deviation.

    ``normal(mean_tensor, std_tensor)``, ``normal(mean_tensor, std=1.0)`` and
    ``normal(mean, std_tensor)`` broadcast the tensors elementwise (and are
    differentiable in them); ``normal(mean, std, size)`` takes two numbers.

    Parameters
    ----------
    mean : Tensor or float
    std : Tensor or float, optional
        Non-negative.
    size : sequence of int, optional
        The shape, when ``mean`` and ``std`` are both numbers.
    generator : Generator, optional
    out : Tensor, optional
    dtype, device, requires_grad : optional
        For the all-numbers form.

    Returns
    -------
    Tensor
    """
    _check_layout(layout, "normal")
    cdef Generator gen
    cdef Tensor z
    if not isinstance(mean, Tensor) and not isinstance(std, Tensor):
        if size is None:
            raise TypeError("normal(): with a float mean and std, the argument 'size' is required")
        shape = _size_arg(size, "normal")
        dt = _float_dtype(dtype if out is None or dtype is not None else out.dtype, "normal")
        dev = _device_arg(device)
        gen = _generator_for(generator, dev)
        z = _output(shape, dt, out, "normal", dev)
        _normal_into(z, _real(mean, "mean"), _real(std, "std"), gen)
        return z if out is not None else _finish(z, dev, requires_grad)
    if size is not None:
        raise TypeError("normal(): 'size' is only accepted when mean and std are numbers")
    tensors = [a for a in (mean, std) if isinstance(a, Tensor)]
    for a in tensors:
        if em_category[(<Tensor>a)._dtype] < 2:
            raise RuntimeError(f"normal expects floating-point mean and std tensors, got "
                               f"{a.dtype}")
    if isinstance(std, Tensor):
        if not (np.asarray(std.detach().cpu()) >= 0).all():
            raise RuntimeError("normal expects all elements of std >= 0.0")
    elif not _real(std, "std") >= 0.0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")
    dev = (<Tensor>tensors[0])._storage.device
    shape = np.broadcast_shapes(*[tuple(a.shape) for a in tensors])
    dt = tensors[0].dtype if len(tensors) == 1 else promote_types(mean.dtype, std.dtype)
    gen = _generator_for(generator, dev)
    z = _output(tuple(shape), as_dtype(dt).num, None, "normal")
    _normal_into(z, 0.0, 1.0, gen)
    result = ew(op_id("add"), ew(op_id("mul"), _finish(z, dev, False), std), mean)
    if out is not None:
        if len(tensors) == 2:
            # as PyTorch: resized like other out= tensors; with one tensor argument PyTorch
            # computes in place in out, so another shape fails to broadcast (copy_ raises)
            resize_output(<Tensor>out, (<Tensor>result)._ndim, (<Tensor>result)._shape)
        out.copy_(result)
        return out
    return result


# ---------------------------------------------------------------- in-place Tensor methods

def uniform_(Tensor self, *args, generator=None, **kwargs):
    """Fill with samples uniform on ``[from, to)``: ``uniform_(from=0, to=1, *, generator=None)``.

    Parameters
    ----------
    from, to : float, optional
        The bounds (``from <= to``); ``from`` is a keyword in Python, so pass it
        positionally or as ``**{'from': x}``.
    generator : Generator, optional

    Returns
    -------
    Tensor
        ``self``.
    """
    if grad_enabled() and self._requires_grad:
        return record_op("uniform_", uniform_, (self,) + args, dict(kwargs, generator=generator))
    lo, hi = _bind("uniform_", args, kwargs, ("from", "to"), [0.0, 1.0])
    _check_writable_target(self)
    return _uniform_into(self, _real(lo, "from"), _real(hi, "to"),
                         _generator_for(generator, self._storage.device))


def normal_(Tensor self, *args, generator=None, **kwargs):
    """Fill with normal samples: ``normal_(mean=0, std=1, *, generator=None)``.

    Parameters
    ----------
    mean : float, optional
    std : float, optional
        Non-negative.  Complex tensors get real and imaginary parts of
        standard deviation ``std / sqrt(2)`` each, both offset by ``mean``.
    generator : Generator, optional

    Returns
    -------
    Tensor
        ``self``.
    """
    if grad_enabled() and self._requires_grad:
        return record_op("normal_", normal_, (self,) + args, dict(kwargs, generator=generator))
    mean, std = _bind("normal_", args, kwargs, ("mean", "std"), [0.0, 1.0])
    _check_writable_target(self)
    return _normal_into(self, _real(mean, "mean"), _real(std, "std"),
                        _generator_for(generator, self._storage.device))


def random_(Tensor self, *args, generator=None, **kwargs):
    """Fill with integers uniform on ``[from, to)``.

    ``random_()`` draws from ``[0, 2**mantissa]`` for floating dtypes and from
    ``[0, max]`` for integer dtypes; ``random_(to)`` from ``[0, to)``;
    ``random_(from, to)`` from ``[from, to)`` (``to=None``: up to the dtype's maximum).

    Parameters
    ----------
    from : int, optional
    to : int or None, optional
    generator : Generator, optional

    Returns
    -------
    Tensor
        ``self``.
    """
    if grad_enabled() and self._requires_grad:
        return record_op("random_", random_, (self,) + args, dict(kwargs, generator=generator))
    if len(args) == 1 and not kwargs:
        args = (0, args[0])
    lo, hi = _bind("random_", args, kwargs, ("from", "to"), [0, None])
    if em_category[self._dtype] == 3:
        raise NotImplementedError(f"\"random_\" not implemented for '{_name(self._dtype)}'")
    lo = _int_arg(lo, "random_", "from")
    hi = _default_to(self._dtype) if hi is None else _int_arg(hi, "random_", "to")
    _check_random_bounds(self._dtype, lo, hi, "random_")
    _check_writable_target(self)
    return _randint_into(self, lo, hi, _generator_for(generator, self._storage.device))


def bernoulli_(Tensor self, p=0.5, *, generator=None):
    """Fill with 1 with probability ``p``, else 0.

    Parameters
    ----------
    p : float or Tensor, optional
        In ``[0, 1]``; a floating tensor broadcastable to ``self`` gives each
        element its own probability.
    generator : Generator, optional

    Returns
    -------
    Tensor
        ``self``.
    """
    if grad_enabled() and self._requires_grad:
        return record_op("bernoulli_", bernoulli_, (self, p), {"generator": generator})
    _check_writable_target(self)
    gen = _generator_for(generator, self._storage.device)
    if isinstance(p, Tensor) and (<Tensor>p)._ndim > 0:
        return _bernoulli_tensor_into(self, <Tensor>p, gen)
    return _bernoulli_into(self, _real(p, "p"), gen)


def exponential_(Tensor self, lambd=1.0, *, generator=None):
    """Fill with samples of the exponential distribution of rate ``lambd``.

    Parameters
    ----------
    lambd : float, optional
        The rate, positive.
    generator : Generator, optional

    Returns
    -------
    Tensor
        ``self``.
    """
    if grad_enabled() and self._requires_grad:
        return record_op("exponential_", exponential_, (self, lambd), {"generator": generator})
    _check_writable_target(self)
    return _exponential_into(self, _real(lambd, "lambd"),
                             _generator_for(generator, self._storage.device))


def _bernoulli_method(Tensor self, p=None, *, generator=None):
    """Zeros and ones drawn with probabilities ``self`` (or ``p``): see :func:`ember.bernoulli`."""
    return bernoulli(self, p, generator=generator)


for _method in (uniform_, normal_, random_, bernoulli_, exponential_):
    _add_method(_method.__name__, _method)
_add_method("bernoulli", _bernoulli_method)
