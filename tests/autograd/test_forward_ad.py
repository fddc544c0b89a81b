"""ember.autograd.forward_ad against torch.autograd.forward_ad: the tangents of many ops
(float64, and float32), broadcasting, non-contiguous inputs, views and in-place ops on
dual tensors, the JVP of small networks (against torch and finite differences), the
levels and their errors, and duals mixed with reverse mode."""
import numpy as np
import pytest
import torch
import torch.autograd.forward_ad as tfw

import ember
import ember.autograd.forward_ad as fwAD

RNG = np.random.default_rng(11)


def rand(*shape, positive=False):
    a = RNG.standard_normal(shape)
    return np.abs(a) + 0.5 if positive else a


def to_lib(lib, a, dtype="float64"):
    if isinstance(a, np.ndarray):
        if a.dtype.kind in "iub":
            return lib.tensor(a)
        return lib.tensor(a.copy(), dtype=getattr(lib, dtype))
    return a


def outputs_of(r):
    return list(r) if isinstance(r, (tuple, list)) else [r]


def run_dual(lib, fw, fn, primals, tangents, dtype="float64"):
    """``fn(lib, *inputs)`` with the inputs that have a tangent made dual; the primal and
    tangent of each output."""
    with fw.dual_level():
        inputs = []
        for p, t in zip(primals, tangents):
            x = to_lib(lib, p, dtype)
            if t is not None:
                x = fw.make_dual(x, to_lib(lib, t, dtype))
            inputs.append(x)
        out = []
        for o in outputs_of(fn(lib, *inputs)):
            primal, tangent = fw.unpack_dual(o)
            out.append((primal.detach().numpy().copy(),
                        None if tangent is None else tangent.detach().numpy().copy()))
    return out


def check_against_torch(fn, primals, tangents=None, dtype="float64"):
    if tangents is None:
        tangents = [rand(*p.shape) if isinstance(p, np.ndarray) and p.dtype.kind == "f"
                    else None for p in primals]
    got = run_dual(ember, fwAD, fn, primals, tangents, dtype)
    want = run_dual(torch, tfw, fn, primals, tangents, dtype)
    tol = dict(rtol=1e-9, atol=1e-10) if dtype == "float64" else dict(rtol=2e-4, atol=2e-5)
    assert len(got) == len(want)
    for (gp, gt), (wp, wt) in zip(got, want):
        np.testing.assert_allclose(gp, wp, **tol)
        if wt is None:
            assert gt is None or not gt.any()
            continue
        assert gt is not None, "ember gave no tangent"
        np.testing.assert_allclose(gt, wt, **tol)


def F(lib):
    return lib.nn.functional


X34, Y34, P34 = rand(3, 4), rand(3, 4), rand(3, 4, positive=True)
TARGET = np.array([1, 0, 3])

CASES = {
    # elementwise, with broadcasting and Python scalars
    "add": (lambda L, a, b: a + b, [X34, Y34]),
    "add_broadcast": (lambda L, a, b: a + b, [X34, rand(4)]),
    "sub_rsub": (lambda L, a, b: 2.0 - a - b, [X34, rand(3, 1)]),
    "mul": (lambda L, a, b: a * b, [X34, Y34]),
    "div": (lambda L, a, b: a / b, [X34, P34]),
    "pow": (lambda L, a, b: a ** b, [P34, Y34]),
    "pow_scalar": (lambda L, a: a ** 3, [X34]),
    "exp_log": (lambda L, a, b: a.exp() + b.log(), [X34, P34]),
    "sin_cos_tanh": (lambda L, a: a.sin() * a.cos() + a.tanh(), [X34]),
    "sqrt_rsqrt": (lambda L, a: a.sqrt() + a.rsqrt(), [P34]),
    "sigmoid": (lambda L, a: L.sigmoid(a), [X34]),
    "abs_neg": (lambda L, a: -a.abs(), [X34]),
    "clamp": (lambda L, a: a.clamp(-0.5, 0.5), [X34]),
    "where": (lambda L, c, a, b: L.where(c, a, b), [X34 > 0, X34, Y34]),
    "maximum": (lambda L, a, b: L.maximum(a, b), [X34, Y34]),
    "atan2": (lambda L, a, b: L.atan2(a, b), [X34, Y34]),
    # reductions
    "sum": (lambda L, a: a.sum(), [X34]),
    "sum_dim": (lambda L, a: a.sum(1, keepdim=True), [X34]),
    "mean": (lambda L, a: a.mean(0), [X34]),
    "prod": (lambda L, a: a.prod(1), [P34]),
    "var_std": (lambda L, a: a.var(1) + a.std(0).sum(), [X34]),
    "amax": (lambda L, a: a.amax(1), [X34]),
    "max_dim": (lambda L, a: a.max(1), [X34]),
    "logsumexp": (lambda L, a: a.logsumexp(1), [X34]),
    "norm": (lambda L, a: a.norm(), [X34]),
    "cumsum": (lambda L, a: a.cumsum(1), [X34]),
    # linear algebra
    "matmul": (lambda L, a, b: a @ b, [X34, rand(4, 5)]),
    "bmm": (lambda L, a, b: L.bmm(a, b), [rand(2, 3, 4), rand(2, 4, 2)]),
    "mv": (lambda L, a, b: L.mv(a, b), [X34, rand(4)]),
    "linear": (lambda L, x, w, b: F(L).linear(x, w, b), [X34, rand(5, 4), rand(5)]),
    "inv": (lambda L, a: L.linalg.inv(a), [rand(3, 3) + 3 * np.eye(3)]),
    "det": (lambda L, a: L.linalg.det(a), [rand(3, 3)]),
    # views and indexing
    "transpose": (lambda L, a: a.t() * 2, [X34]),
    "permute_reshape": (lambda L, a: a.permute(2, 0, 1).reshape(4, 6), [rand(2, 3, 4)]),
    "slice": (lambda L, a: a[1:, ::2], [X34]),
    "expand": (lambda L, a: a.unsqueeze(0).expand(2, 3, 4), [X34]),
    "narrow_select": (lambda L, a: a.narrow(1, 1, 2).select(0, 1), [X34]),
    "diagonal": (lambda L, a: a.diagonal(), [rand(4, 4)]),
    "split": (lambda L, a: a.split(2, 1), [X34]),
    "unbind": (lambda L, a: a.unbind(0), [X34]),
    "index_tensor": (lambda L, a: a[L.tensor([2, 0, 2])], [X34]),
    "gather": (lambda L, a: a.gather(1, L.tensor([[0, 1], [3, 3], [2, 0]])), [X34]),
    "index_select": (lambda L, a: a.index_select(1, L.tensor([3, 0])), [X34]),
    "cat_stack": (lambda L, a, b: L.cat([a, L.stack([b, a]).sum(0)]), [X34, Y34]),
    "flip_roll": (lambda L, a: a.flip(0).roll(1, 1), [X34]),
    "sort_topk": (lambda L, a: a.sort(1)[0] + a.topk(4, 1)[0], [X34]),
    # activations, normalisation and layers
    "softmax": (lambda L, a: a.softmax(1), [X34]),
    "log_softmax": (lambda L, a: F(L).log_softmax(a, 0), [X34]),
    "relu_gelu": (lambda L, a: F(L).relu(a) + F(L).gelu(a), [X34]),
    "elu_silu": (lambda L, a: F(L).elu(a) * F(L).silu(a), [X34]),
    "layer_norm": (lambda L, x, w, b: F(L).layer_norm(x, (4,), w, b), [X34, rand(4), rand(4)]),
    "batch_norm": (lambda L, x, w, b: F(L).batch_norm(x, None, None, w, b, training=True),
                   [rand(5, 3), rand(3), rand(3)]),
    "conv2d": (lambda L, x, w, b: F(L).conv2d(x, w, b, padding=1),
               [rand(2, 3, 5, 5), rand(4, 3, 3, 3), rand(4)]),
    "conv1d_stride": (lambda L, x, w: F(L).conv1d(x, w, stride=2), [rand(2, 2, 9), rand(3, 2, 3)]),
    "max_pool2d": (lambda L, x: F(L).max_pool2d(x, 2), [rand(1, 2, 4, 4)]),
    "avg_pool2d": (lambda L, x: F(L).avg_pool2d(x, 2), [rand(1, 2, 4, 4)]),
    "pad": (lambda L, x: F(L).pad(x, (1, 2)), [X34]),
    # complex intermediates (the tangents of their real and imaginary parts)
    "complex_exp_mul": (lambda L, a, b: L.view_as_real(L.complex(a, b).exp() * L.complex(b, a)),
                        [rand(3), rand(3)]),
    "complex_abs": (lambda L, a, b: L.complex(a, b).abs() + L.complex(a, b).angle(),
                    [rand(3), rand(3)]),
    "complex_matmul": (lambda L, a, b: L.view_as_real(L.complex(a, b) @ L.complex(b, a).mT),
                       [rand(2, 3), rand(2, 3)]),
    "fft": (lambda L, a: L.fft.fft(a).abs() + L.fft.rfft(a).real.sum(), [rand(3, 8)]),
    # losses
    "mse_loss": (lambda L, a, b: F(L).mse_loss(a, b), [X34, Y34]),
    "cross_entropy": (lambda L, a, t: F(L).cross_entropy(a, t), [X34, TARGET]),
    "nll_loss": (lambda L, a, t: F(L).nll_loss(a.log_softmax(1), t), [X34, TARGET]),
    "bce_with_logits": (lambda L, a, b: F(L).binary_cross_entropy_with_logits(a, b.sigmoid()),
                        [X34, Y34]),
    "smooth_l1": (lambda L, a, b: F(L).smooth_l1_loss(a, b), [X34, Y34]),
}


@pytest.mark.parametrize("name", list(CASES))
def test_tangent_matches_torch(name):
    fn, primals = CASES[name]
    check_against_torch(fn, primals)


@pytest.mark.parametrize("name", ["mul", "matmul", "softmax", "layer_norm", "conv2d",
                                  "cross_entropy", "slice"])
def test_tangent_matches_torch_float32(name):
    fn, primals = CASES[name]
    check_against_torch(fn, primals, dtype="float32")


def test_dual_with_plain_tensor():
    # only the first input is dual: the others count as constants
    check_against_torch(lambda L, a, b: (a * b).sum(1) @ b, [X34, Y34],
                        tangents=[rand(3, 4), None])


@pytest.mark.parametrize("op", ["add", "matmul", "softmax"])
def test_non_contiguous_inputs(op):
    fn, primals = CASES[op]

    def on_transposed(L, *xs):
        # the inputs come in transposed (non-contiguous) and are transposed back
        return fn(L, *[x.transpose(0, 1) if isinstance(x, L.Tensor) else x for x in xs])

    transposed = [p.T.copy() for p in primals]
    check_against_torch(on_transposed, transposed)


def test_non_contiguous_tangent_is_copied_to_the_primal_layout():
    x = ember.tensor(X34)
    v = ember.tensor(rand(4, 3)).t()        # a transposed tangent for a contiguous primal
    with fwAD.dual_level():
        d = fwAD.make_dual(x, v)
        t = fwAD.unpack_dual(d).tangent
        assert t.stride() == x.stride()
        np.testing.assert_array_equal(t.numpy(), v.numpy())
        same = ember.tensor(Y34)
        assert fwAD.unpack_dual(fwAD.make_dual(x, same)).tangent is same


def test_views_share_the_tangent():
    x, v = rand(3, 4), rand(3, 4)

    def fn(L, d):
        row = d[1]
        row.mul_(3.0)                    # in place through a view: the base's tangent too
        d.t()[0].add_(1.0)
        return d, row

    check_against_torch(lambda L, d: fn(L, d.clone()), [x], [v])


def test_inplace_view_ops_on_duals():
    def fn(L, a):
        a = a.clone()
        a.unsqueeze_(0)
        a.t_() if a.dim() == 2 else a.transpose_(0, 2)
        return a * 2

    check_against_torch(fn, [X34])


def test_inplace_ops_on_duals():
    def fn(L, a, b):
        a = a.clone()
        a.mul_(b)
        a.add_(b, alpha=2.0)
        a.exp_()
        a[0, :2] = b[1, 1:3]              # setitem of a dual into a dual
        a.clamp_(max=3.0)
        return a

    check_against_torch(fn, [X34 * 0.3, Y34 * 0.3])


def test_inplace_dual_into_plain_tensor():
    def fn(L, b):
        a = L.zeros(3, 4, dtype=L.float64)
        a.add_(b * 2)                       # a had no tangent: it gets b's
        a[1] = b[0]
        c = L.zeros(3, 4, dtype=L.float64)
        c[2].add_(b[0])                     # through a view: c gets the tangent
        return a, c

    check_against_torch(fn, [Y34])


def _mlp(L, x, w1, b1, w2, b2):
    h = F(L).gelu(F(L).linear(x, w1, b1))
    return F(L).log_softmax(F(L).linear(F(L).layer_norm(h, (8,)), w2, b2), 1)


def _cnn(L, x, w, b, w2):
    h = F(L).max_pool2d(F(L).relu(F(L).conv2d(x, w, b, padding=1)), 2)
    return F(L).linear(h.flatten(1), w2).tanh()


NETS = {
    "mlp": (_mlp, [rand(5, 6), rand(8, 6), rand(8), rand(3, 8), rand(3)]),
    "cnn": (_cnn, [rand(2, 1, 6, 6), rand(3, 1, 3, 3), rand(3), rand(4, 27)]),
}


@pytest.mark.parametrize("net", list(NETS))
@pytest.mark.parametrize("wrt", ["input", "parameters"])
def test_network_jvp(net, wrt):
    fn, primals = NETS[net]
    tangents = [rand(*p.shape) for p in primals]
    if wrt == "input":
        tangents = [tangents[0]] + [None] * (len(primals) - 1)
    else:
        tangents = [None] + tangents[1:]
    check_against_torch(fn, primals, tangents)
    # and against central finite differences
    [(_, jvp)] = run_dual(ember, fwAD, fn, primals, tangents)
    eps = 1e-6

    def at(sign):
        args = [ember.tensor(p + sign * eps * (t if t is not None else 0)) for p, t in
                zip(primals, tangents)]
        return fn(ember, *args).numpy()

    np.testing.assert_allclose(jvp, (at(1) - at(-1)) / (2 * eps), rtol=1e-5, atol=1e-7)


def test_gradcheck_of_the_tangent():
    # the tangent is itself differentiable: gradcheck it in the primal and the tangent
    def tangent_of(x, v):
        with fwAD.dual_level():
            return fwAD.unpack_dual((fwAD.make_dual(x, v).sin() * x).logsumexp(0)).tangent

    x = ember.tensor(rand(4), requires_grad=True)
    v = ember.tensor(rand(4), requires_grad=True)
    assert ember.autograd.gradcheck(tangent_of, (x, v))


# ---------------------------------------------------------------- with reverse mode

def test_requires_grad_is_reported_as_torch():
    x = ember.tensor(X34)
    xr = ember.tensor(X34, requires_grad=True)
    with fwAD.dual_level():
        d = fwAD.make_dual(x, ember.tensor(Y34))
        assert not d.requires_grad and d.grad_fn is None and d.is_leaf
        y = (d * 2).sum()
        assert not y.requires_grad and y.grad_fn is None
        dr = fwAD.make_dual(xr, ember.tensor(Y34))
        assert dr.requires_grad and dr.grad_fn is not None
        d.numpy()                                 # a dual alone does not refuse NumPy
        assert fwAD.unpack_dual(d.detach()).tangent is None
        d.requires_grad_()                        # a leaf dual may start requiring grad
        assert d.requires_grad and fwAD.unpack_dual(d).tangent is not None


def test_backward_through_duals():
    x = ember.tensor(X34, requires_grad=True)
    xt = torch.tensor(X34, requires_grad=True)
    v = rand(3, 4)
    results = []
    for lib, fw, p in ((ember, fwAD, x), (torch, tfw, xt)):
        with fw.dual_level():
            d = fw.make_dual(p, lib.tensor(v))
            y = (d.sin() * d).sum()
            primal, tangent = fw.unpack_dual(y)
            # reverse mode still works on the primal ...
            (g,) = lib.autograd.grad(primal, p, retain_graph=True)
            # ... and on the tangent (forward-over-reverse: a Hessian-vector product)
            (hv,) = lib.autograd.grad(tangent, p)
            results.append((g.detach().numpy().copy(), hv.detach().numpy().copy()))
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-10)


def test_backward_of_a_dual_alone_raises():
    with fwAD.dual_level():
        y = (fwAD.make_dual(ember.tensor(X34), ember.tensor(Y34)) ** 2).sum()
        with pytest.raises(RuntimeError, match="does not require grad"):
            y.backward()


def test_grad_mode_unchanged_for_plain_code():
    x = ember.ones(3, requires_grad=True)
    with fwAD.dual_level():
        y = x * 2
        assert fwAD.unpack_dual(y).tangent is None
        y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 2.0, 2.0])


# ---------------------------------------------------------------- levels and errors

def test_levels_and_unpack_outside():
    x = ember.tensor(X34)
    with fwAD.dual_level() as level:
        assert level == 0
        d = fwAD.make_dual(x, ember.tensor(Y34))
        y = d * 2
        assert fwAD.unpack_dual(y).tangent is not None
    primal, tangent = fwAD.unpack_dual(y)
    assert tangent is None and primal is y
    assert fwAD.unpack_dual(y, level=0).tangent is None
    # the tensors of the level are plain again
    z = y * 3
    assert z.grad_fn is None and not z.requires_grad
    assert fwAD.enter_dual_level() == 0
    fwAD.exit_dual_level()
    assert fwAD.UnpackedDualTensor._fields == ("primal", "tangent")


def test_dual_level_decorates():
    @fwAD.dual_level()
    def tangent(x, v):
        return fwAD.unpack_dual(fwAD.make_dual(x, v).exp()).tangent

    t = tangent(ember.zeros(2), ember.ones(2))
    np.testing.assert_array_equal(t.numpy(), [1.0, 1.0])


def _errors(lib, fw):
    x = lib.tensor(X34)
    out = []

    def expect(fn):
        with pytest.raises(Exception) as info:
            fn()
        out.append((type(info.value), str(info.value)))

    expect(lambda: fw.make_dual(x, lib.tensor(Y34)))
    expect(lambda: fw.exit_dual_level())
    with fw.dual_level():
        expect(lambda: fw.enter_dual_level())
        expect(lambda: fw.make_dual(x, lib.tensor(rand(4))))
        expect(lambda: fw.make_dual(lib.tensor([1, 2]), lib.tensor([1.0, 2.0])))
        expect(lambda: fw.make_dual(lib.tensor([1.0, 2.0]), lib.tensor([1, 2])))
        d = fw.make_dual(x, lib.tensor(Y34))
        expect(lambda: fw.make_dual(d, lib.tensor(Y34)))
        expect(lambda: fw.make_dual(x, lib.tensor(Y34), level=3))
        expect(lambda: fw.unpack_dual(d, level=3))
        expect(lambda: fw.exit_dual_level(level=4))
    return out


def test_errors_match_torch():
    got, want = _errors(ember, fwAD), _errors(torch, tfw)
    assert [t for t, _ in got] == [t for t, _ in want]
    for (_, g), (_, w) in zip(got, want):
        assert g == w.replace("torch.", "ember.")


def test_empty_tensors():
    check_against_torch(lambda L, a, b: (a * b).sum(0), [rand(0, 3), rand(0, 3)])


# ---------------------------------------------------------------- custom Functions

def _custom_square(lib):
    class Square(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x, scale):
            ctx.save_for_forward(x)
            ctx.scale = scale
            return x * x * scale

        @staticmethod
        def backward(ctx, grad):
            raise AssertionError("not used")

        @staticmethod
        def jvp(ctx, x_t, scale_t):
            (x,) = ctx.saved_tensors
            return 2 * x * x_t * ctx.scale

    return Square


def test_custom_function_jvp():
    check_against_torch(lambda L, x: _custom_square(L).apply(x, 3.0).sin(), [X34])


def test_custom_function_without_jvp_raises():
    class NoJvp(ember.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, grad):
            return grad * 2

    with fwAD.dual_level():
        d = fwAD.make_dual(ember.tensor(X34), ember.tensor(Y34))
        with pytest.raises(NotImplementedError, match="implement the jvp function"):
            NoJvp.apply(d)


def test_tangents_under_no_grad():
    # as in PyTorch, no_grad stops reverse mode only: tangents still propagate
    def fn(L, a, w):
        with L.no_grad():
            h = F(L).conv1d(a.unsqueeze(0), w).relu()
            out = (h.squeeze(0) @ a.t()).softmax(1)
            assert not out.requires_grad
        return out

    check_against_torch(fn, [rand(3, 4), rand(3, 3, 1)])
    xr = ember.tensor(X34, requires_grad=True)
    with fwAD.dual_level(), ember.no_grad():
        y = fwAD.make_dual(xr, ember.tensor(Y34)) * 2
        assert y.grad_fn is None and not y.requires_grad
        assert fwAD.unpack_dual(y).tangent is not None
        xr.mul_(1.0)                    # in place on a leaf: allowed under no_grad


def test_failed_inplace_op_leaves_no_stale_state():
    def fn(L, a, b):
        a = a.clone()
        with pytest.raises(RuntimeError):
            a.add_(b.sum(0, keepdim=True).t())       # (4, 1) does not broadcast into (3, 4)
        a.mul_(b)
        return a

    check_against_torch(fn, [X34, Y34])


def test_module_jvp_with_parameters_that_require_grad():
    # an nn module (its parameters require grad): the JVP w.r.t. the input, then
    # backward of the primal into the parameters, both as in torch
    x, v = rand(4, 3), rand(4, 3)
    tnet = torch.nn.Sequential(torch.nn.Linear(3, 5), torch.nn.Tanh(),
                               torch.nn.LayerNorm(5), torch.nn.Linear(5, 2)).double()
    enet = ember.nn.Sequential(ember.nn.Linear(3, 5), ember.nn.Tanh(),
                               ember.nn.LayerNorm(5), ember.nn.Linear(5, 2)).double()
    enet.load_state_dict({k: ember.tensor(p.detach().numpy()) for k, p in
                          tnet.state_dict().items()})
    results = []
    for lib, fw, net in ((ember, fwAD, enet), (torch, tfw, tnet)):
        with fw.dual_level():
            out = net(fw.make_dual(lib.tensor(x), lib.tensor(v)))
            primal, tangent = fw.unpack_dual(out)
            primal.pow(2).sum().backward()
        grads = [p.grad.numpy().copy() for p in net.parameters()]
        results.append([tangent.detach().numpy().copy()] + grads)
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


MODULES = {
    "lstm": (lambda nn: nn.LSTM(3, 4, batch_first=True), (2, 5, 3)),
    "gru": (lambda nn: nn.GRU(3, 4), (5, 2, 3)),
    "attention": (lambda nn: nn.MultiheadAttention(4, 2, batch_first=True), (2, 3, 4)),
    "conv_batchnorm": (lambda nn: nn.Sequential(nn.Conv2d(2, 3, 3), nn.BatchNorm2d(3)),
                       (2, 2, 5, 5)),
}


@pytest.mark.parametrize("name", list(MODULES))
def test_module_tangents(name):
    make, shape = MODULES[name]
    tmod, emod = make(torch.nn).double(), make(ember.nn).double()
    emod.load_state_dict({k: ember.tensor(p.detach().numpy()) for k, p in
                          tmod.state_dict().items()})

    def fn(L, a):
        module = emod if L is ember else tmod
        out = module(a, a, a) if name == "attention" else module(a)
        return out if name == "conv_batchnorm" else out[0]

    check_against_torch(fn, [rand(*shape)])
