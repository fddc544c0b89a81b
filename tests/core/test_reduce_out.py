"""``out=`` of the reductions, scans, sorts and order statistics, against PyTorch.

Each op of the table runs with ``out=`` in ember and in PyTorch: the values, the
returned object (``out`` itself), the dtypes ``out`` may have (an error of the same
class where PyTorch refuses one), resizing (with PyTorch's warning), outs that are
strided views or overlap the input, and the refusal of inputs that require grad.
"""
import warnings

import numpy as np
import pytest
import torch

import ember

# name -> (call, differentiable): call(module, x, **kw) runs the op of `module`
# (ember or torch) on x, a (3, 4, 5) tensor of distinct floats; kw is out=
CASES = {
    "sum": (lambda m, x, **kw: m.sum(x, 1, **kw), True),
    "sum_dims_keepdim": (lambda m, x, **kw: m.sum(x, (0, 2), True, **kw), True),
    "mean": (lambda m, x, **kw: m.mean(x, 1, **kw), True),
    "mean_all": (lambda m, x, **kw: m.mean(x, **kw), True),
    "prod": (lambda m, x, **kw: m.prod(x, 1, **kw), True),
    "amax": (lambda m, x, **kw: m.amax(x, (0, 2), **kw), True),
    "amin": (lambda m, x, **kw: m.amin(x, -1, True, **kw), True),
    "argmax": (lambda m, x, **kw: m.argmax(x, 1, **kw), False),
    "argmin_flat": (lambda m, x, **kw: m.argmin(x, **kw), False),
    "max_all": (lambda m, x, **kw: m.max(x, **kw), True),
    "min_other": (lambda m, x, **kw: m.min(x, x.flip(0), **kw), True),
    "std": (lambda m, x, **kw: m.std(x, 1, **kw), True),
    "var": (lambda m, x, **kw: m.var(x, (0, 1), correction=0, **kw), True),
    "logsumexp": (lambda m, x, **kw: m.logsumexp(x, 1, **kw), True),
    "norm": (lambda m, x, **kw: m.norm(x, 2, 1, **kw), True),
    "norm_p1": (lambda m, x, **kw: m.norm(x, 1, (0, 2), **kw), True),
    "all": (lambda m, x, **kw: m.all(x > 0, 1, **kw), False),
    "any": (lambda m, x, **kw: m.any(x > 0, 2, **kw), False),
    "cumsum": (lambda m, x, **kw: m.cumsum(x, 1, **kw), True),
    "cumprod": (lambda m, x, **kw: m.cumprod(x, 2, **kw), True),
    "logcumsumexp": (lambda m, x, **kw: m.logcumsumexp(x, 1, **kw), True),
    "softmax": (lambda m, x, **kw: m.softmax(x, 1, **kw), True),
    "log_softmax": (lambda m, x, **kw: m.log_softmax(x, 0, **kw), True),
    "nansum": (lambda m, x, **kw: m.nansum(x, 1, **kw), True),
    "nanmean": (lambda m, x, **kw: m.nanmean(x, 1, **kw), True),
    "msort": (lambda m, x, **kw: m.msort(x, **kw), True),
    "quantile": (lambda m, x, **kw: m.quantile(x, 0.3, 1, **kw), True),
    "nanquantile_q_tensor": (lambda m, x, **kw: m.nanquantile(
        x, m.tensor([0.2, 0.9], dtype=x.dtype), 2, True, **kw), True),
    # several results: out is a tuple
    "max_dim": (lambda m, x, **kw: m.max(x, 1, **kw), True),
    "min_dim": (lambda m, x, **kw: m.min(x, 2, True, **kw), True),
    "sort": (lambda m, x, **kw: m.sort(x, 1, **kw), True),
    "sort_descending": (lambda m, x, **kw: m.sort(x, 0, True, **kw), True),
    "topk": (lambda m, x, **kw: m.topk(x, 2, 1, **kw), True),
    "kthvalue": (lambda m, x, **kw: m.kthvalue(x, 2, 1, **kw), True),
    "median": (lambda m, x, **kw: m.median(x, 1, **kw), True),
    "nanmedian": (lambda m, x, **kw: m.nanmedian(x, 2, True, **kw), True),
    "mode": (lambda m, x, **kw: m.mode(x.round(), 1, **kw), True),
    "aminmax": (lambda m, x, **kw: m.aminmax(x, dim=1, **kw), True),
    "cummax": (lambda m, x, **kw: m.cummax(x, 1, **kw), True),
    "cummin": (lambda m, x, **kw: m.cummin(x, 0, **kw), True),
}
OUT_DTYPES = ["bool", "uint8", "int32", "int64", "float16", "float32", "float64", "complex64"]


def inputs(dtype="float64", seed=0):
    """The same (3, 4, 5) tensor of distinct values in ember and in torch."""
    arr = (np.random.default_rng(seed).permutation(60).reshape(3, 4, 5) - 30) / 8
    arr = arr.astype(dtype)
    return ember.from_numpy(arr.copy()), torch.from_numpy(arr.copy())


def results(r):
    return tuple(r) if isinstance(r, tuple) else (r,)


def empty_like_result(m, r, dtype=None):
    return m.empty(0, dtype=getattr(m, dtype) if dtype else r.dtype)


def outs_for(m, plain, dtypes=None):
    """Empty outs for the results `plain` (of module `m`), of their dtypes or `dtypes`."""
    made = [empty_like_result(m, r, None if dtypes is None else dtypes[k])
            for k, r in enumerate(results(plain))]
    return tuple(made) if isinstance(plain, tuple) else made[0]


def assert_same(got, want):
    got, want = np.asarray(got), want.numpy()
    assert got.shape == want.shape, (got.shape, want.shape)
    assert str(got.dtype) == str(want.dtype), (got.dtype, want.dtype)
    if got.dtype.kind in "fc":
        tol = 2e-3 if got.dtype == np.float16 else 1e-5 if got.dtype.itemsize <= 8 else 1e-12
        np.testing.assert_allclose(got, want, rtol=tol, atol=tol)
    else:
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", CASES)
def test_out_is_returned_and_holds_the_values(case, dtype):
    call = CASES[case][0]
    x, tx = inputs(dtype)
    plain = call(ember, x)
    out = outs_for(ember, plain)
    got = call(ember, x, out=out)
    tout = outs_for(torch, call(torch, tx))
    want = call(torch, tx, out=tout)
    if isinstance(out, tuple):
        assert isinstance(got, tuple) and all(g is o for g, o in zip(got, out))
        assert type(got) is type(plain)      # the named tuple of the plain call
    else:
        assert got is out
    for o, p, w in zip(results(out), results(plain), results(want)):
        assert_same(o, w)
        assert_same(p, w)


# max(x, other) is the elementwise maximum, whose out= is not resized from a non-empty shape
@pytest.mark.parametrize("case", [c for c in CASES if c != "min_other"])
def test_out_of_another_shape_is_resized_with_a_warning(case):
    call = CASES[case][0]
    x, tx = inputs()
    plain, tplain = call(ember, x), call(torch, tx)
    outs = tuple(ember.zeros(7, dtype=r.dtype) for r in results(plain))
    touts = tuple(torch.zeros(7, dtype=r.dtype) for r in results(tplain))
    with pytest.warns(UserWarning, match="An output with one or more elements was resized"):
        got = call(ember, x, out=outs if isinstance(plain, tuple) else outs[0])
    with pytest.warns(UserWarning, match="An output with one or more elements was resized"):
        call(torch, tx, out=touts if isinstance(tplain, tuple) else touts[0])
    for o, t in zip(results(got), touts):
        assert_same(o, t)
    # an empty out takes the result's shape quietly
    outs = tuple(ember.empty(0, dtype=r.dtype) for r in results(plain))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = call(ember, x, out=outs if isinstance(plain, tuple) else outs[0])
    for o, p in zip(results(got), results(plain)):
        assert o.shape == p.shape


def strided_view(shape, dtype):
    """A buffer of 7s and a view into every other element of it of `shape`, its dims in
    reverse order in memory (transposed): a layout no result has."""
    buf = ember.full(tuple(reversed(shape)) + (2,), 7, dtype=dtype)
    return buf, buf.select(-1, 0).permute(*reversed(range(len(shape))))


@pytest.mark.parametrize("case", CASES)
def test_strided_out_receives_the_values_in_place(case):
    call = CASES[case][0]
    x, _ = inputs()
    plain = call(ember, x)
    bufs, views = zip(*[strided_view(tuple(r.shape), r.dtype) for r in results(plain)])
    strides = [v.stride() for v in views]
    got = call(ember, x, out=views if isinstance(plain, tuple) else views[0])
    for buf, view, stride, g, p in zip(bufs, views, strides, results(got), results(plain)):
        assert g is view and view.stride() == stride          # written in place
        np.testing.assert_array_equal(np.asarray(view), np.asarray(p))
        np.testing.assert_array_equal(np.asarray(buf.select(-1, 1)),
                                      np.asarray(ember.full((), 7, dtype=p.dtype)))


@pytest.mark.parametrize("case", ["sum", "amax", "cumsum", "cumprod", "softmax", "sort",
                                  "max_dim", "logsumexp", "msort", "nansum", "cummax"])
def test_out_overlapping_the_input_gets_the_plain_result(case):
    call = CASES[case][0]
    x, _ = inputs()
    want = [np.asarray(r).copy() for r in results(call(ember, x))]
    first = results(call(ember, x))[0]
    # the first out is a view of x itself, of the result's shape where it fits
    view = x.reshape(-1)[:first.numel()].reshape(first.shape)
    outs = (view,) + tuple(ember.empty(0, dtype=r.dtype) for r in results(call(ember, x))[1:])
    got = call(ember, x, out=outs if len(outs) > 1 else outs[0])
    for g, w in zip(results(got), want):
        np.testing.assert_array_equal(np.asarray(g), w)


@pytest.mark.parametrize("case", CASES)
def test_out_dtypes_follow_pytorch(case):
    call = CASES[case][0]
    x, tx = inputs()
    n = len(results(call(torch, tx)))
    plain = results(call(torch, tx))
    for k in range(n):
        for name in OUT_DTYPES:
            dtypes = [str(r.dtype).split(".")[1] for r in plain]
            dtypes[k] = name
            tout = outs_for(torch, call(torch, tx), dtypes)
            eout = outs_for(ember, call(ember, x), dtypes)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")       # torch's complex-to-real cast warning
                try:
                    want = call(torch, tx, out=tout)
                except Exception as e:     # ember refuses too, with the same class
                    with pytest.raises(type(e)):
                        call(ember, x, out=eout)
                    continue
                got = call(ember, x, out=eout)
            for g, w in zip(results(got), results(want)):
                assert_same(g, w)


@pytest.mark.parametrize("case", ["sum", "mean", "prod", "std", "var", "norm", "cumsum", "all",
                                  "any"])
def test_out_dtypes_of_complex_inputs_follow_pytorch(case):
    call = CASES[case][0]
    arr = np.arange(60).reshape(3, 4, 5) * (1 + 0.5j) / 30
    x, tx = ember.from_numpy(arr.copy()), torch.from_numpy(arr.copy())
    for name in OUT_DTYPES + ["complex128"]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")           # complex to real discards imaginary parts
            try:
                want = call(torch, tx, out=torch.empty(0, dtype=getattr(torch, name)))
            except Exception as e:
                with pytest.raises(type(e)):
                    call(ember, x, out=ember.empty(0, dtype=getattr(ember, name)))
                continue
            got = call(ember, x, out=ember.empty(0, dtype=getattr(ember, name)))
        assert_same(got, want)


@pytest.mark.parametrize("case", CASES)
def test_inputs_requiring_grad_are_refused_like_pytorch(case):
    call, differentiable = CASES[case]
    x, _ = inputs()
    x.requires_grad_()
    with ember.no_grad():
        outs = outs_for(ember, call(ember, x))
    if differentiable:
        with pytest.raises(RuntimeError, match="functions with out=... arguments don't support "
                                               "automatic differentiation"):
            call(ember, x, out=outs)
    else:
        call(ember, x, out=outs)
        assert all(not o.requires_grad for o in results(outs))
    with ember.no_grad():
        got = call(ember, x, out=outs)
    assert all(not o.requires_grad and o.grad_fn is None for o in results(got))


def test_an_out_requiring_grad_is_refused():
    x, _ = inputs()
    out = ember.zeros(3, 5, dtype=ember.float64, requires_grad=True)
    with pytest.raises(RuntimeError, match="don't support automatic differentiation"):
        ember.sum(x, 1, out=out)


def test_out_arguments_of_the_wrong_kind_raise_type_errors():
    x, tx = inputs()
    for m, t in ((ember, x), (torch, tx)):
        with pytest.raises(TypeError):
            m.sum(t, 1, out=3)
        with pytest.raises(TypeError):      # several results need a tuple of outs
            m.sort(t, 1, out=m.empty(0, dtype=t.dtype))
        with pytest.raises(TypeError):
            m.max(t, 1, out=(m.empty(0, dtype=t.dtype), m.empty(0, dtype=m.int64),
                             m.empty(0, dtype=m.int64)))
        with pytest.raises(TypeError):      # median of all elements has no out= form
            m.median(t, out=(m.empty(0, dtype=t.dtype), m.empty(0, dtype=m.int64)))
    # a list of outs does as a tuple
    v, i = ember.empty(0, dtype=ember.float64), ember.empty(0, dtype=ember.int64)
    got = ember.topk(x, 2, out=[v, i])
    assert got.values is v and got.indices is i


def test_expanded_and_read_only_outs_are_refused():
    x, _ = inputs()
    with pytest.raises(RuntimeError, match="single memory location"):
        ember.sum(x, 1, out=ember.zeros(1, 1, dtype=ember.float64).expand(3, 5))
    arr = np.zeros((3, 5))
    arr.flags.writeable = False
    with pytest.raises(RuntimeError, match="read-only"):
        ember.sum(x, 1, out=ember.from_numpy(arr))


def test_a_given_dtype_must_match_the_out_of_ops_computing_in_it():
    x, tx = inputs()
    for m, t in ((ember, x), (torch, tx)):
        for fn in (lambda o: m.sum(t, 1, dtype=m.float32, out=o),
                   lambda o: m.cumsum(t, 1, dtype=m.float32, out=o),
                   lambda o: m.mean(t, 1, dtype=m.float32, out=o)):
            with pytest.raises(RuntimeError, match="Expected out tensor to have dtype float"):
                fn(m.empty(0, dtype=m.float64))
            assert fn(m.empty(0, dtype=m.float32)).dtype == m.float32
    # the sum is taken in out's dtype: the fractions are dropped before summing
    got = ember.sum(ember.tensor([0.6, 0.6]), 0, out=ember.empty(0, dtype=ember.int64))
    assert got.item() == torch.sum(torch.tensor([0.6, 0.6]), 0,
                                   out=torch.empty(0, dtype=torch.int64)).item() == 0


@pytest.mark.parametrize("case", ["sum", "mean", "amax", "cumsum", "sort", "all", "argmax"])
def test_empty_inputs(case):
    call = {"sum": lambda m, x, **kw: m.sum(x, 1, **kw),
            "mean": lambda m, x, **kw: m.mean(x, 0, **kw),
            "amax": lambda m, x, **kw: m.amax(x, 1, **kw),
            "cumsum": lambda m, x, **kw: m.cumsum(x, 0, **kw),
            "sort": lambda m, x, **kw: m.sort(x, 0, **kw),
            "all": lambda m, x, **kw: m.all(x, 1, **kw),
            "argmax": lambda m, x, **kw: m.argmax(x, 1, **kw)}[case]
    x, tx = ember.zeros(0, 3, dtype=ember.float64), torch.zeros(0, 3, dtype=torch.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = call(torch, tx, out=outs_for(torch, call(torch, tx)))
        got = call(ember, x, out=outs_for(ember, call(ember, x)))
    for g, w in zip(results(got), results(want)):
        assert_same(g, w)


def test_max_with_a_tensor_other_writes_the_elementwise_maximum():
    x, tx = inputs()
    out = ember.empty(0, dtype=ember.float64)
    assert ember.max(x, x.flip(1), out=out) is out
    assert_same(out, torch.max(tx, tx.flip(1)))
