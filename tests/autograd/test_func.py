"""ember.func against torch.func on the same data: grad, vjp, jvp, linearize, jacrev,
jacfwd, hessian, vmap, functional_call and stack_module_state -- values, gradients
through the transforms, nesting, pytrees and the errors."""
import numpy as np
import pytest
import torch
import torch.func as tf

import ember
import ember.func as ef

RNG = np.random.default_rng(11)


def arr(*shape):
    return RNG.standard_normal(shape)


def make(lib, tree, dtype="float64", requires_grad=False):
    """ndarrays of a pytree as ``lib`` tensors (same structure); other leaves as they are."""
    if isinstance(tree, dict):
        return {k: make(lib, v, dtype, requires_grad) for k, v in tree.items()}
    if isinstance(tree, (tuple, list)):
        return type(tree)(make(lib, v, dtype, requires_grad) for v in tree)
    if isinstance(tree, np.ndarray):
        return lib.tensor(tree.copy(), dtype=getattr(lib, dtype), requires_grad=requires_grad)
    return tree


def assert_same(e, t, path="result", check_requires_grad=True):
    """Same pytree structure, shapes, dtypes, requires_grad and values."""
    if isinstance(t, torch.Tensor):
        assert isinstance(e, ember.Tensor), f"{path}: ember gave {type(e).__name__}"
        assert tuple(e.shape) == tuple(t.shape), f"{path}: shape {e.shape} vs {t.shape}"
        assert str(e.dtype).split(".")[-1] == str(t.dtype).split(".")[-1], f"{path}: dtype"
        if check_requires_grad:
            assert e.requires_grad == t.requires_grad, f"{path}: requires_grad"
        double = t.dtype == torch.float64
        np.testing.assert_allclose(np.asarray(e.detach()), t.detach().numpy(),
                                   rtol=1e-10 if double else 2e-5,
                                   atol=1e-12 if double else 2e-5, err_msg=path)
    elif isinstance(t, dict):
        assert isinstance(e, dict) and list(e) == list(t), f"{path}: {e!r} vs dict"
        for k in t:
            assert_same(e[k], t[k], f"{path}[{k!r}]", check_requires_grad)
    elif isinstance(t, (tuple, list)):
        assert type(e) is type(t) and len(e) == len(t), f"{path}: {type(e)} vs {type(t)}"
        for i, (a, b) in enumerate(zip(e, t)):
            assert_same(a, b, f"{path}[{i}]", check_requires_grad)
    else:
        assert e == t, f"{path}: {e!r} vs {t!r}"


def both(transform, fn_of_lib, args, *targs, dtype="float64", **kw):
    """Apply ``transform`` (a name in ember.func/torch.func) to the lib's function and
    call it on the same arguments; compare."""
    e = getattr(ef, transform)(fn_of_lib(ember), *targs, **kw)(*make(ember, args, dtype))
    t = getattr(tf, transform)(fn_of_lib(torch), *targs, **kw)(*make(torch, args, dtype))
    assert_same(e, t)
    return e, t


def f_scalar(lib):
    return lambda x: (lib.sin(x) * x).sum()


def f_two(lib):
    return lambda x, y: (x * lib.exp(y)).sum() + (x ** 2).sum()


def f_tree(lib):
    return lambda p: (p["w"] @ p["v"][0]).tanh().sum() + p["v"][1].pow(3).sum()


TREE = {"w": arr(2, 3), "v": [arr(3), arr(4)]}


# ---------------------------------------------------------------- grad

@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_grad_matches_torch(dtype):
    both("grad", f_scalar, (arr(3, 2),), dtype=dtype)
    both("grad", f_two, (arr(4), arr(4)), dtype=dtype)
    both("grad", f_two, (arr(4), arr(4)), argnums=1, dtype=dtype)
    both("grad", f_two, (arr(4), arr(4)), argnums=(0, 1), dtype=dtype)
    both("grad", f_two, (arr(4), arr(4)), argnums=-1, dtype=dtype)
    both("grad", f_tree, (TREE,), dtype=dtype)


def test_grad_and_value_and_aux():
    def f(lib):
        return lambda x, y: ((x * y).sum(), {"double": 2 * x, "n": [x.sum()]})
    both("grad", f, (arr(3), arr(3)), has_aux=True)
    both("grad_and_value", f, (arr(3), arr(3)), argnums=(0, 1), has_aux=True)
    both("grad_and_value", f_two, (arr(3), arr(3)))


def test_grad_kwargs_and_non_tensor_args_pass_through():
    def f(lib):
        return lambda x, n, scale=1.0: (x ** n).sum() * scale
    x = arr(3)
    e = ef.grad(f(ember))(make(ember, x), 3, scale=2.0)
    t = tf.grad(f(torch))(make(torch, x), 3, scale=2.0)
    assert_same(e, t)


def test_grad_of_an_unused_input_is_zero():
    both("grad", lambda lib: lambda x, y: (x * 2).sum(), (arr(3), arr(2)), argnums=(0, 1))


@pytest.mark.parametrize("order", [2, 3])
def test_nested_grad_gives_higher_derivatives(order):
    def f(lib):
        g = lambda x: lib.sin(x) * x ** 3   # noqa: E731
        tr = getattr(ef if lib is ember else tf, "grad")
        for _ in range(order):
            g = tr(g)
        return g
    x = np.array(0.7)
    assert_same(f(ember)(make(ember, x)), f(torch)(make(torch, x)))


def test_grad_of_a_function_calling_grad_on_a_closure():
    # d/dx [ d/dy (x * y**2) at y=x ] = d/dx (2 x^2) = 4x
    def outer(lib):
        tr = ef if lib is ember else tf
        return lambda x: tr.grad(lambda y: (x * y ** 2).sum())(x).sum()
    both("grad", outer, (arr(3),))


def test_grad_results_keep_the_graph_to_outside_tensors():
    x, w = arr(3), arr(3)
    ex, ew = make(ember, x), make(ember, w, requires_grad=True)
    tx, tw = make(torch, x), make(torch, w, requires_grad=True)
    eg = ef.grad(lambda a: (ember.sin(a * ew)).sum())(ex)
    tg = tf.grad(lambda a: (torch.sin(a * tw)).sum())(tx)
    assert_same(eg, tg)
    (eg ** 2).sum().backward()
    (tg ** 2).sum().backward()
    assert_same(ew.grad, tw.grad)
    # an input that requires grad: the gradient is differentiable with respect to it
    ex2, tx2 = make(ember, x, requires_grad=True), make(torch, x, requires_grad=True)
    eg, tg = ef.grad(f_scalar(ember))(ex2), tf.grad(f_scalar(torch))(tx2)
    assert_same(eg, tg)
    eg.sum().backward()
    tg.sum().backward()
    assert_same(ex2.grad, tx2.grad)


def test_gradcheck_through_grad():
    g = ef.grad(lambda x: (ember.sin(x) * x.exp()).sum())
    x = ember.tensor(arr(4), dtype=ember.float64, requires_grad=True)
    assert ember.autograd.gradcheck(g, (x,))


def test_grad_errors_match_torch():
    cases = [
        (lambda lib: lambda x: x, (arr(2),), {}),                          # not a scalar
        (lambda lib: lambda x: 3.0, (arr(2),), {}),                        # not a tensor
        (lambda lib: lambda x: x.sum(), (arr(2),), {"argnums": 1}),
        (lambda lib: lambda x: x.sum(), (arr(2),), {"argnums": [0]}),
        (lambda lib: lambda x, y: x.sum(), (arr(2), arr(2)), {"argnums": ()}),
        (lambda lib: lambda x, y: x.sum(), (arr(2), arr(2)), {"argnums": (0, 0)}),
        (lambda lib: lambda x: x.sum(), (arr(2),), {"has_aux": True}),
        (lambda lib: lambda x: x.sum(), (2.0,), {}),                       # not a tensor arg
        (lambda lib: lambda x: (x.sum(), 3), (arr(2),), {"has_aux": True}),  # non-tensor aux
    ]
    for f, args, kw in cases:
        with pytest.raises(Exception) as t_err:
            tf.grad(f(torch), **kw)(*make(torch, args))
        with pytest.raises(t_err.type) as e_err:
            ef.grad(f(ember), **kw)(*make(ember, args))
        assert str(e_err.value) == str(t_err.value)


# ---------------------------------------------------------------- vjp, jvp, linearize

def test_vjp_matches_torch():
    def f(lib):
        return lambda x, y: {"a": x * y, "b": (lib.cos(x), y.sum())}
    x, y = arr(3), arr(3)
    (eo, efn), (to, tfn) = ef.vjp(f(ember), *make(ember, (x, y))), \
        tf.vjp(f(torch), *make(torch, (x, y)))
    assert_same(eo, to)
    cot = {"a": arr(3), "b": (arr(3), np.array(2.0))}
    for _ in range(2):      # vjp_fn may be called again
        assert_same(efn(make(ember, cot)), tfn(make(torch, cot)))


def test_vjp_has_aux_and_errors():
    x = arr(3)
    eo, efn, eaux = ef.vjp(lambda a: (a * 2, a.sum()), make(ember, x), has_aux=True)
    to, tfn, taux = tf.vjp(lambda a: (a * 2, a.sum()), make(torch, x), has_aux=True)
    assert_same((eo, eaux), (to, taux))
    assert_same(efn(make(ember, x)), tfn(make(torch, x)))
    for lib, mod in ((ember, ef), (torch, tf)):
        _, fn = mod.vjp(lambda a: a * 2, make(lib, x))
        with pytest.raises(RuntimeError, match="pytree structure of cotangents"):
            fn((make(lib, x),))
        with pytest.raises(RuntimeError, match="must be floating-point"):
            mod.vjp(lambda a: (a > 0).long(), make(lib, x))
        with pytest.raises(RuntimeError, match="only tensors"):
            mod.vjp(lambda a: 3, make(lib, x))


def test_vjp_fn_is_differentiable_in_the_cotangent():
    x, v = arr(3), arr(3)
    ev, tv = make(ember, v, requires_grad=True), make(torch, v, requires_grad=True)
    _, efn = ef.vjp(ember.sin, make(ember, x))
    _, tfn = tf.vjp(torch.sin, make(torch, x))
    (eg,), (tg,) = efn(ev), tfn(tv)
    assert_same(eg, tg)
    (eg ** 2).sum().backward()
    (tg ** 2).sum().backward()
    assert_same(ev.grad, tv.grad)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_jvp_matches_torch(dtype):
    def f(lib):
        return lambda x, y: (lib.sin(x) * y, (x @ y).exp())
    x, y = arr(3, 3), arr(3, 3)
    primals, tangents = (x, y), (arr(3, 3), arr(3, 3))
    e = ef.jvp(f(ember), make(ember, primals, dtype), make(ember, tangents, dtype))
    t = tf.jvp(f(torch), make(torch, primals, dtype), make(torch, tangents, dtype))
    assert_same(e, t)


def test_jvp_aux_strict_and_pytrees():
    def f(lib):
        return lambda p: ({"s": p["a"].tanh(), "c": lib.ones(2, dtype=lib.float64)}, p["a"] * 0)
    primals, tangents = ({"a": arr(2)},), ({"a": arr(2)},)
    e = ef.jvp(f(ember), make(ember, primals), make(ember, tangents), has_aux=True)
    t = tf.jvp(f(torch), make(torch, primals), make(torch, tangents), has_aux=True)
    assert_same(e, t)
    for lib, mod in ((ember, ef), (torch, tf)):
        with pytest.raises(RuntimeError, match="independent of the inputs"):
            mod.jvp(lambda a: lib.ones(2), make(lib, (arr(2),)), make(lib, (arr(2),)),
                    strict=True)


def test_jvp_errors_match_torch():
    x = arr(2)
    cases = [
        (lambda lib: (make(lib, x), make(lib, x))),                   # primals not a tuple
        (lambda lib: ((make(lib, x),), (make(lib, x), make(lib, x)))),  # structures differ
        (lambda lib: ((make(lib, x),), (make(lib, arr(3)),))),        # sizes differ
        (lambda lib: ((2.0,), (1.0,))),                               # not tensors
    ]
    for args in cases:
        with pytest.raises(Exception) as t_err:
            tf.jvp(torch.sin, *args(torch))
        with pytest.raises(t_err.type) as e_err:
            ef.jvp(ember.sin, *args(ember))
        assert str(e_err.value).split(":")[0] == str(t_err.value).split(":")[0]


def test_linearize_matches_torch():
    def f(lib):
        return lambda x, y: (x.sin() * y).cumsum(0)
    x, y = arr(4), arr(4)
    eo, efn = ef.linearize(f(ember), *make(ember, (x, y)))
    to, tfn = tf.linearize(f(torch), *make(torch, (x, y)))
    assert_same(eo, to)
    for _ in range(2):
        tangents = (arr(4), arr(4))
        assert_same(efn(*make(ember, tangents)), tfn(*make(torch, tangents)))
    with pytest.raises(RuntimeError, match="argspec"):
        efn(make(ember, x))
    with pytest.raises(RuntimeError, match="shape"):
        efn(*make(ember, (arr(3), arr(4))))


# ---------------------------------------------------------------- Jacobians and Hessians

def f_multi(lib):
    return lambda x, y: (x.sin() @ y, {"t": (x * 2).sum(0)})


@pytest.mark.parametrize("transform", ["jacrev", "jacfwd"])
@pytest.mark.parametrize("argnums", [0, 1, (0, 1), (1,)])
def test_jacobians_match_torch(transform, argnums):
    both(transform, f_multi, (arr(2, 3), arr(3)), argnums=argnums)
    both(transform, lambda lib: lambda x: x.exp() @ x.T, (arr(2, 3),), argnums=argnums
         if argnums in (0, (0,)) else 0)


@pytest.mark.parametrize("transform", ["jacrev", "jacfwd"])
def test_jacobians_of_pytrees_aux_and_float32(transform):
    both(transform, lambda lib: lambda p: (p["w"] @ p["v"][0], p["v"][1] ** 2), (TREE,))
    both(transform, lambda lib: lambda x: (x.cos(), {"aux": x.sum()}), (arr(3),), has_aux=True)
    both(transform, f_scalar, (arr(2, 2),), dtype="float32")
    both(transform, lambda lib: lambda x: x * 2, (arr(0, 2),))     # empty input


def test_jacrev_chunk_size_and_errors():
    both("jacrev", lambda lib: lambda x: x.exp(), (arr(5),), chunk_size=2)
    with pytest.raises(ValueError, match="chunk_size"):
        ef.jacrev(ember.sin, chunk_size=0)
    for mod, lib in ((ef, ember), (tf, torch)):
        x = lib.tensor([1.0, 2.0], dtype=lib.complex128)
        with pytest.raises(RuntimeError, match="Expected all inputs to be real"):
            mod.jacrev(lib.sin)(x)
        with pytest.raises(RuntimeError, match="Expected all inputs to be real"):
            mod.jacfwd(lib.sin)(x)
        with pytest.raises(RuntimeError, match="randomness error mode"):
            mod.jacfwd(lambda a: a * lib.rand(2, dtype=lib.float64))(lib.ones(2, dtype=lib.float64))


def test_nested_jacobians_and_gradients_through_them():
    both("hessian", f_scalar, (arr(3),))
    both("hessian", f_two, (arr(2), arr(2)), argnums=(0, 1))
    x = arr(3)
    assert_same(ef.jacfwd(ef.jacrev(f_scalar(ember)))(make(ember, x)),
                tf.jacfwd(tf.jacrev(f_scalar(torch)))(make(torch, x)))
    ex = make(ember, arr(3), requires_grad=True)
    tx = make(torch, ex.detach().numpy(), requires_grad=True)
    eh, th = ef.hessian(f_scalar(ember))(ex), tf.hessian(f_scalar(torch))(tx)
    assert_same(eh, th)
    eh.sum().backward()
    th.sum().backward()
    assert_same(ex.grad, tx.grad)


# ---------------------------------------------------------------- vmap

@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_vmap_in_and_out_dims(dtype):
    x, y = arr(4, 3), arr(3, 4)
    both("vmap", lambda lib: lib.dot, (x, y.T.copy()), dtype=dtype)
    both("vmap", lambda lib: lambda a, b: a * b, (x, y), in_dims=(0, 1), dtype=dtype)
    both("vmap", lambda lib: lambda a, b: a * b, (x, arr(3)), in_dims=(0, None), dtype=dtype)
    both("vmap", lambda lib: lambda a: a.sum(0), (arr(2, 3, 4),), in_dims=-1, out_dims=-1)
    both("vmap", lambda lib: lambda a: (a, a.sum()), (x,), out_dims=(1, 0))
    both("vmap", lambda lib: lambda a, n: a * n, (x, 3), in_dims=(0, None))


def test_vmap_pytrees_and_kwargs():
    def f(lib):
        return lambda p, s, scale=1: {"y": p["w"] @ p["v"][0] * scale, "z": [p["v"][1] + s]}
    args = ({"w": arr(3, 2, 4), "v": [arr(4, 3), arr(5)]}, arr(3))
    in_dims = ({"w": 0, "v": [1, None]}, 0)
    e = ef.vmap(f(ember), in_dims=in_dims)(*make(ember, args), scale=2)
    t = tf.vmap(f(torch), in_dims=in_dims)(*make(torch, args), scale=2)
    assert_same(e, t)
    e = ef.vmap(f(ember), in_dims=in_dims, out_dims={"y": 1, "z": [0]})(*make(ember, args))
    t = tf.vmap(f(torch), in_dims=in_dims, out_dims={"y": 1, "z": [0]})(*make(torch, args))
    assert_same(e, t)


def test_nested_vmap_chunks_and_non_contiguous_inputs():
    x, y = arr(3, 5), arr(4, 5)
    both("vmap", lambda lib: (ef if lib is ember else tf).vmap(lib.dot, in_dims=(None, 0)),
         (x, y), in_dims=(0, None))
    both("vmap", lambda lib: lib.sin, (x,), chunk_size=2)
    a = arr(5, 3)
    ex, tx = make(ember, a).T, make(torch, a).T
    assert not ex.is_contiguous()
    assert_same(ef.vmap(lambda a: a.cumsum(0))(ex), tf.vmap(lambda a: a.cumsum(0))(tx))


def test_vmap_empty_batch_and_out_dims_none():
    both("vmap", lambda lib: lambda a: a * 2, (arr(0, 3),))
    both("vmap", lambda lib: lambda a: (a * 2, a.sum()), (arr(0, 3),), out_dims=(1, 0))
    both("vmap", lambda lib: lambda a: (a, lib.ones(2, dtype=lib.float64)), (arr(3, 2),),
         out_dims=(0, None))
    assert ef.vmap(lambda a: 3, out_dims=None)(ember.ones(2)) == 3


def test_gradients_flow_through_vmap():
    x, w = arr(4, 3), arr(3, 3)
    ex, ew = make(ember, x, requires_grad=True), make(ember, w, requires_grad=True)
    tx, tw = make(torch, x, requires_grad=True), make(torch, w, requires_grad=True)
    eo = ef.vmap(lambda a: (a @ ew).tanh())(ex)
    to = tf.vmap(lambda a: (a @ tw).tanh())(tx)
    assert_same(eo, to)
    (eo ** 2).sum().backward()
    (to ** 2).sum().backward()
    assert_same(ex.grad, tx.grad)
    assert_same(ew.grad, tw.grad)
    g = ef.vmap(lambda a: (a * a.sin()).sum())
    assert ember.autograd.gradcheck(g, (make(ember, x, requires_grad=True),))
    assert ember.autograd.gradgradcheck(g, (make(ember, x, requires_grad=True),))


def test_vmap_of_grad_and_jacrev():
    both("vmap", lambda lib: (ef if lib is ember else tf).grad(f_scalar(lib)), (arr(4, 3),))
    both("vmap", lambda lib: (ef if lib is ember else tf).jacrev(lambda a: a.exp() * a.sum()),
         (arr(4, 3),))
    both("jacrev", lambda lib: (ef if lib is ember else tf).vmap(lambda a: a.sin() * a[0]),
         (arr(2, 3),))


def test_vmap_randomness():
    x = ember.ones(3, 2)
    with pytest.raises(RuntimeError, match="randomness error mode"):
        ef.vmap(lambda a: a + ember.rand(2))(x)
    with pytest.raises(RuntimeError, match="Only allowed values for randomness"):
        ef.vmap(lambda a: a, randomness="sometimes")
    same = ef.vmap(lambda a: a + ember.rand(2), randomness="same")(x)
    assert bool((same == same[0]).all())
    different = ef.vmap(lambda a: a + ember.rand(2), randomness="different")(x)
    assert not bool((different == different[0]).all())
    # under "same", the generator moves on as after one draw
    ember.manual_seed(3)
    ef.vmap(lambda a: ember.rand(2), randomness="same")(x)
    after = ember.rand(2)
    ember.manual_seed(3)
    ember.rand(2)
    assert bool((ember.rand(2) == after).all())


def test_vmap_errors_match_torch():
    def check(lib_fn, args_fn, **kw):
        with pytest.raises(Exception) as t_err:
            tf.vmap(lib_fn(torch), **kw)(*args_fn(torch))
        with pytest.raises(t_err.type) as e_err:
            ef.vmap(lib_fn(ember), **kw)(*args_fn(ember))
        assert str(e_err.value) == str(t_err.value)

    def ident(lib):
        return lambda *a: a[0]

    def two(lib):
        return (lib.ones(2, 3), lib.ones(3, 3))
    check(ident, two)                                                       # sizes differ
    check(ident, lambda lib: (lib.ones(2, 3),), in_dims=2)                  # dim out of range
    check(ident, lambda lib: (lib.ones(2, 3),), in_dims=[0])                # not int/tuple
    check(ident, lambda lib: (lib.ones(2, 3),), in_dims=(0, 0))             # structure
    check(ident, lambda lib: (3,), in_dims=0)                               # non-tensor
    check(ident, lambda lib: (lib.ones(2),), in_dims=(0.5,))                # bad in_dim
    check(ident, lambda lib: (3,), in_dims=None)                            # nothing mapped
    check(ident, lambda lib: ())                                            # no inputs
    check(lambda lib: lambda a: 3, lambda lib: (lib.ones(2),))             # non-tensor out
    check(ident, lambda lib: (lib.ones(2),), out_dims=(0, 1))              # out structure
    check(ident, lambda lib: (lib.ones(2),), out_dims="a")
    check(lambda lib: lambda a: a * 2, lambda lib: (lib.arange(6.0).reshape(2, 3),),
          out_dims=None)
    with pytest.raises(IndexError):
        ef.vmap(lambda a: a, out_dims=3)(ember.ones(2))
    with pytest.raises(ValueError, match="chunk_size"):
        ef.vmap(lambda a: a, chunk_size=0)


def test_top_level_vmap_is_the_same_function():
    assert ember.vmap is ef.vmap


# ---------------------------------------------------------------- functional_call

def _twin_models():
    torch.manual_seed(0)
    t_model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(),
                                  torch.nn.Linear(8, 3)).double()
    e_model = ember.nn.Sequential(ember.nn.Linear(4, 8), ember.nn.ReLU(),
                                  ember.nn.Linear(8, 3)).double()
    with ember.no_grad():
        for (_, ep), (_, tp) in zip(e_model.named_parameters(), t_model.named_parameters()):
            ep.copy_(ember.tensor(tp.detach().numpy()))
    return e_model, t_model


def test_per_sample_gradients():
    """The torch.func tutorial: per-sample gradients with functional_call, vmap and grad."""
    e_model, t_model = _twin_models()
    data, targets = arr(6, 4), RNG.integers(0, 3, 6)

    def per_sample(lib, mod, model):
        params = {k: v.detach() for k, v in model.named_parameters()}
        buffers = {k: v.detach() for k, v in model.named_buffers()}

        def loss(params, buffers, sample, target):
            out = mod.functional_call(model, (params, buffers), (sample.unsqueeze(0),))
            return lib.nn.functional.cross_entropy(out, target.unsqueeze(0))
        return mod.vmap(mod.grad(loss), in_dims=(None, None, 0, 0))(
            params, buffers, lib.tensor(data), lib.tensor(targets))

    e, t = per_sample(ember, ef, e_model), per_sample(torch, tf, t_model)
    assert_same(e, t)
    # each per-sample gradient is the gradient of that sample's loss
    t_model.zero_grad()
    torch.nn.functional.cross_entropy(t_model(torch.tensor(data[2:3])),
                                      torch.tensor(targets[2:3])).backward()
    np.testing.assert_allclose(np.asarray(e["0.weight"][2]), t_model[0].weight.grad.numpy(),
                               rtol=1e-10)


def test_model_ensembling_with_stack_module_state():
    models = [_twin_models() for _ in range(3)]
    e_params, e_buffers = ef.stack_module_state([m[0] for m in models])
    t_params, t_buffers = tf.stack_module_state([m[1] for m in models])
    assert_same(e_params, t_params)
    assert_same(e_buffers, t_buffers)
    x = arr(5, 4)
    e_base, t_base = models[0]

    def run(mod, base, params, buffers, inp):
        return mod.vmap(lambda p, b: mod.functional_call(base, (p, b), (inp,)))(params, buffers)
    assert_same(run(ef, e_base, e_params, e_buffers, make(ember, x)),
                run(tf, t_base, t_params, t_buffers, make(torch, x)))
    with pytest.raises(RuntimeError, match="at least one model"):
        ef.stack_module_state([])
    with pytest.raises(RuntimeError, match="same class"):
        ef.stack_module_state([ember.nn.Linear(2, 2), ember.nn.Tanh()])


def test_functional_call_substitutes_and_restores():
    model = ember.nn.BatchNorm1d(3).double().eval()
    weight = model.weight
    mean = ember.tensor([1.0, 2.0, 3.0], dtype=ember.float64)
    x = ember.tensor(arr(4, 3))
    out = ef.functional_call(model, {"running_mean": mean}, x)
    expected = (x - mean) / (1 + 1e-5) ** 0.5
    np.testing.assert_allclose(np.asarray(out.detach()), np.asarray(expected), rtol=1e-10)
    assert model.weight is weight and bool((model.running_mean == 0).all())

    class Boom(ember.nn.Module):
        def __init__(self):
            super().__init__()
            self.w = ember.nn.Parameter(ember.ones(2))

        def forward(self, x):
            raise ValueError("boom")
    boom = Boom()
    w = boom.w
    with pytest.raises(ValueError, match="boom"):
        ef.functional_call(boom, {"w": ember.zeros(2)}, ember.ones(2))
    assert boom.w is w


def test_functional_call_keys_ties_and_errors_match_torch():
    class Tied(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.a = torch.nn.Linear(2, 2, bias=False)
            self.b = torch.nn.Linear(2, 2, bias=False)
            self.b.weight = self.a.weight

        def forward(self, x):
            return self.b(self.a(x))

    class ETied(ember.nn.Module):
        def __init__(self):
            super().__init__()
            self.a = ember.nn.Linear(2, 2, bias=False)
            self.b = ember.nn.Linear(2, 2, bias=False)
            self.b.weight = self.a.weight

        def forward(self, x):
            return self.b(self.a(x))

    w, w2, x = arr(2, 2), arr(2, 2), arr(1, 2)
    for tie in (True, False):
        e = ef.functional_call(ETied().double(), {"a.weight": make(ember, w)}, make(ember, x),
                               tie_weights=tie)
        t = tf.functional_call(Tied().double(), {"a.weight": make(torch, w)}, make(torch, x),
                               tie_weights=tie)
        if tie:
            assert_same(e, t)
        else:   # the untied b keeps the module's own (random) weight
            assert tuple(e.shape) == tuple(t.shape)
    cases = [
        ({"a.weight": w, "b.weight": w2}, {}),                    # two values for tied names
        ([{"a.weight": w}, {"a.weight": w}], {}),                 # same key in two dicts
        ({"a.weight": w, "c": w}, {"strict": True, "tie_weights": False}),
        ({"a.weight": w}, {"strict": True, "tie_weights": False}),
        ("weights", {}),
    ]
    for params, kw in cases:
        with pytest.raises(Exception) as t_err:
            tf.functional_call(Tied().double(), make(torch, params), make(torch, x), **kw)
        with pytest.raises(t_err.type) as e_err:
            ef.functional_call(ETied().double(), make(ember, params), make(ember, x), **kw)
        assert str(e_err.value).replace("ETied", "Tied") == str(t_err.value)


def test_functional_call_writes_reassigned_tensors_back():
    class Counter(ember.nn.Module):
        def __init__(self):
            super().__init__()
            self.register_buffer("count", ember.zeros(()))

        def forward(self):
            self.count = self.count + 1
            return self.count

    model = Counter()
    given = {"count": ember.tensor(5.0)}
    assert float(ef.functional_call(model, given)) == 6.0
    assert float(given["count"]) == 6.0 and float(model.count) == 0.0


def test_replace_all_batch_norm_modules_matches_torch():
    e = ef.replace_all_batch_norm_modules_(
        ember.nn.Sequential(ember.nn.Linear(3, 3), ember.nn.BatchNorm1d(3)).double())
    t = tf.replace_all_batch_norm_modules_(
        torch.nn.Sequential(torch.nn.Linear(3, 3), torch.nn.BatchNorm1d(3)).double())
    assert e[1].running_mean is None and e[1].num_batches_tracked is None
    assert not e[1].track_running_stats and list(e.named_buffers()) == []
    x = arr(4, 3)
    with torch.no_grad():
        for (_, ep), (_, tp) in zip(e.named_parameters(), t.named_parameters()):
            ep.data = ember.tensor(tp.numpy())
    e.eval(), t.eval()      # batch statistics are used even in eval mode
    assert_same(e(make(ember, x)).detach(), t(make(torch, x)).detach())


def test_nn_utils_stateless_functional_call_is_the_deprecated_spelling():
    import ember.nn.utils.stateless as stateless
    layer = ember.nn.Linear(2, 1)
    params = {"weight": ember.ones(1, 2), "bias": ember.zeros(1)}
    with pytest.warns(FutureWarning, match="ember.func.functional_call"):
        out = stateless.functional_call(layer, params, (ember.tensor([[1.0, 2.0]]),))
    assert ember.equal(out, ember.tensor([[3.0]]))
