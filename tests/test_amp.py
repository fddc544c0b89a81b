"""ember.autocast and ember.amp.GradScaler against torch 2.13 on the CPU: the dtypes of
each policy's ops, gradients, nested and disabled regions, the decorator form, the weight
cast cache; the scaler's scale sequence, skipped steps and parameters."""
import threading
import warnings

import numpy as np
import pytest
import torch

import ember
import ember.nn.functional as F
import torch.nn.functional as TF
from ember.ops import autocast as policy


def pair(*shape, seed=0, dtype=np.float32, positive=False):
    """The same random data as an ember and a torch tensor."""
    a = np.random.default_rng(seed).standard_normal(shape).astype(dtype)
    if positive:
        a = np.abs(a) + 0.1
    return ember.tensor(a), torch.tensor(a)


def dtype_name(d):
    return str(d).split(".")[-1]


def both(fn_e, fn_t, *args):
    """Run ``fn_e`` on the ember tensors and ``fn_t`` on the torch ones of ``args``
    (pairs), each in a CPU autocast region; return both results."""
    with ember.autocast("cpu"):
        out_e = fn_e(*[a[0] for a in args])
    with torch.autocast("cpu"):
        out_t = fn_t(*[a[1] for a in args])
    return out_e, out_t


def check(out_e, out_t, rtol=2e-2, atol=2e-2):
    assert dtype_name(out_e.dtype) == dtype_name(out_t.dtype)
    np.testing.assert_allclose(out_e.float().detach().numpy(), out_t.float().detach().numpy(),
                               rtol=rtol, atol=atol)


# ---------------------------------------------------------------- policies on the CPU

LOWER = {
    "matmul": (lambda a, b: a @ b, lambda a, b: a @ b, [(3, 4), (4, 5)]),
    "mm": (ember.mm, torch.mm, [(3, 4), (4, 5)]),
    "bmm": (ember.bmm, torch.bmm, [(2, 3, 4), (2, 4, 5)]),
    "addmm": (ember.addmm, torch.addmm, [(3, 5), (3, 4), (4, 5)]),
    "baddbmm": (ember.baddbmm, torch.baddbmm, [(2, 3, 5), (2, 3, 4), (2, 4, 5)]),
    "addbmm": (ember.addbmm, torch.addbmm, [(3, 5), (2, 3, 4), (2, 4, 5)]),
    "linear": (F.linear, TF.linear, [(3, 4), (5, 4), (5,)]),
    "conv1d": (F.conv1d, TF.conv1d, [(1, 2, 7), (3, 2, 3)]),
    "conv2d": (F.conv2d, TF.conv2d, [(1, 2, 5, 5), (3, 2, 3, 3), (3,)]),
    "conv3d": (F.conv3d, TF.conv3d, [(1, 2, 4, 4, 4), (3, 2, 2, 2, 2)]),
    "conv_transpose1d": (F.conv_transpose1d, TF.conv_transpose1d, [(1, 2, 5), (2, 3, 3)]),
    "conv_transpose2d": (F.conv_transpose2d, TF.conv_transpose2d, [(1, 2, 4, 4), (2, 3, 3, 3)]),
    "conv_transpose3d": (F.conv_transpose3d, TF.conv_transpose3d,
                         [(1, 2, 3, 3, 3), (2, 3, 2, 2, 2)]),
    "prelu": (F.prelu, TF.prelu, [(2, 3, 4), (3,)]),
    "scaled_dot_product_attention": (F.scaled_dot_product_attention,
                                     TF.scaled_dot_product_attention,
                                     [(1, 2, 4, 8), (1, 2, 4, 8), (1, 2, 4, 8)]),
}


@pytest.mark.parametrize("name", sorted(LOWER))
def test_lower_precision_ops(name):
    fn_e, fn_t, shapes = LOWER[name]
    args = [pair(*s, seed=k) for k, s in enumerate(shapes)]
    out_e, out_t = both(fn_e, fn_t, *args)
    assert out_e.dtype == ember.bfloat16
    check(out_e, out_t, rtol=5e-2, atol=5e-2)


# PyTorch's CPU table does not name these: their composite kernels call bmm/mm, which
# autocast lowers (ember ran them with autocast off, in float32); an einsum that sums
# nothing multiplies, and stays in float32
DECOMPOSED = {
    "einsum": (lambda a, b: ember.einsum("bij,bjk->bik", a, b),
               lambda a, b: torch.einsum("bij,bjk->bik", a, b), [(2, 3, 4), (2, 4, 5)],
               "bfloat16"),
    "einsum_dot": (lambda a, b: ember.einsum("i,i->", a, b),
                   lambda a, b: torch.einsum("i,i->", a, b), [(4,), (4,)], "bfloat16"),
    "einsum_outer": (lambda a, b: ember.einsum("i,j->ij", a, b),
                     lambda a, b: torch.einsum("i,j->ij", a, b), [(6,), (4,)], "float32"),
    "tensordot": (lambda a, b: ember.tensordot(a, b, dims=1),
                  lambda a, b: torch.tensordot(a, b, dims=1), [(3, 4), (4, 5)], "bfloat16"),
    "multi_dot": (lambda a, b: ember.linalg.multi_dot([a, b, a.t()]),
                  lambda a, b: torch.linalg.multi_dot([a, b, a.t()]), [(3, 4), (4, 4)],
                  "bfloat16"),
}


@pytest.mark.parametrize("name", sorted(DECOMPOSED))
def test_decomposed_ops(name):
    fn_e, fn_t, shapes, expected = DECOMPOSED[name]
    args = [pair(*s, seed=k) for k, s in enumerate(shapes)]
    out_e, out_t = both(fn_e, fn_t, *args)
    assert dtype_name(out_e.dtype) == expected
    check(out_e, out_t, rtol=5e-2, atol=5e-2)

def test_matrix_exp_products_are_not_lowered():
    # a kernel of its own in PyTorch: autocast does not reach its matrix products
    a = pair(3, 3)
    out_e, out_t = both(ember.linalg.matrix_exp, torch.linalg.matrix_exp, (a[0] * 0.3, a[1] * 0.3))
    assert out_e.dtype == ember.float32
    check(out_e, out_t, rtol=1e-4, atol=5e-5)       # bfloat16 products would be ~1e-2 off

def _bf16(pair_):
    return pair_[0].to(ember.bfloat16), pair_[1].to(torch.bfloat16)


FP32 = {
    "mse_loss": (F.mse_loss, TF.mse_loss, [(3, 4), (3, 4)]),
    "l1_loss": (F.l1_loss, TF.l1_loss, [(3, 4), (3, 4)]),
    "smooth_l1_loss": (F.smooth_l1_loss, TF.smooth_l1_loss, [(3, 4), (3, 4)]),
    "huber_loss": (F.huber_loss, TF.huber_loss, [(3, 4), (3, 4)]),
    "soft_margin_loss": (F.soft_margin_loss, TF.soft_margin_loss, [(3, 4), (3, 4)]),
    "kl_div": (lambda a, b: F.kl_div(a, b, reduction="batchmean"),
               lambda a, b: TF.kl_div(a, b, reduction="batchmean"), [(3, 4), (3, 4)]),
    "binary_cross_entropy_with_logits": (F.binary_cross_entropy_with_logits,
                                         TF.binary_cross_entropy_with_logits,
                                         [(3, 4), (3, 4)]),
    "cosine_embedding_loss": (lambda a, b: F.cosine_embedding_loss(a, b, ember.ones(3)),
                              lambda a, b: TF.cosine_embedding_loss(a, b, torch.ones(3)),
                              [(3, 4), (3, 4)]),
    "margin_ranking_loss": (lambda a, b: F.margin_ranking_loss(a, b, ember.ones(4)),
                            lambda a, b: TF.margin_ranking_loss(a, b, torch.ones(4)),
                            [(4,), (4,)]),
    "hinge_embedding_loss": (lambda a: F.hinge_embedding_loss(a, ember.ones(3, 4)),
                             lambda a: TF.hinge_embedding_loss(a, torch.ones(3, 4)), [(3, 4)]),
    "triplet_margin_loss": (F.triplet_margin_loss, TF.triplet_margin_loss,
                            [(3, 4), (3, 4), (3, 4)]),
    "nll_loss": (lambda a: F.nll_loss(a, ember.tensor([0, 2, 1])),
                 lambda a: TF.nll_loss(a, torch.tensor([0, 2, 1])), [(3, 4)]),
    "cross_entropy": (lambda a: F.cross_entropy(a, ember.tensor([0, 2, 1])),
                      lambda a: TF.cross_entropy(a, torch.tensor([0, 2, 1])), [(3, 4)]),
    "multi_margin_loss": (lambda a: F.multi_margin_loss(a, ember.tensor([0, 2, 1])),
                          lambda a: TF.multi_margin_loss(a, torch.tensor([0, 2, 1])), [(3, 4)]),
    "prod": (lambda a: a.prod(), lambda a: a.prod(), [(2, 3)]),
    "cdist": (ember.cdist, torch.cdist, [(3, 4), (5, 4)]),
    "trace": (ember.trace, torch.trace, [(3, 3)]),
    "quantile": (lambda a: ember.quantile(a, 0.3), lambda a: torch.quantile(a, 0.3), [(7,)]),
}


@pytest.mark.parametrize("name", sorted(FP32))
def test_fp32_ops(name):
    fn_e, fn_t, shapes = FP32[name]
    args = [_bf16(pair(*s, seed=k)) for k, s in enumerate(shapes)]
    out_e, out_t = both(fn_e, fn_t, *args)
    assert out_e.dtype == ember.float32
    check(out_e, out_t)


def _lib_fn(lib, path):
    for part in path.split("."):
        lib = getattr(lib, part)
    return lib


# bfloat16 inputs the CPU's linear algebra and FFTs cannot take: autocast runs them in
# float32, as PyTorch's CPU table says
LINALG_FFT = ["linalg.inv", "linalg.solve", "linalg.svdvals", "linalg.eigvalsh", "linalg.eigh",
              "linalg.cholesky", "linalg.qr", "linalg.lstsq", "linalg.matrix_rank", "pinverse",
              "cholesky", "svd", "fft.fft", "fft.rfft", "fft.ifft2"]


@pytest.mark.parametrize("path", LINALG_FFT)
def test_linalg_and_fft_run_in_float32(path):
    a = np.random.default_rng(0).standard_normal((4, 4)).astype(np.float32)
    spd = a @ a.T + 4 * np.eye(4, dtype=np.float32)
    m = (ember.tensor(spd).to(ember.bfloat16), torch.tensor(spd).to(torch.bfloat16))
    args = [m, m] if path in ("linalg.solve", "linalg.lstsq") else [m]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")           # torch.cholesky is deprecated
        out_e, out_t = both(_lib_fn(ember, path), _lib_fn(torch, path), *args)
    out_e = out_e[0] if isinstance(out_e, tuple) else out_e
    out_t = out_t[0] if isinstance(out_t, tuple) else out_t
    assert dtype_name(out_e.dtype) == dtype_name(out_t.dtype)
    if path not in ("linalg.qr", "linalg.eigh", "svd"):       # factor signs may differ
        np.testing.assert_allclose(out_e.numpy(), out_t.numpy(), rtol=1e-4, atol=1e-4)


def test_vecdot_runs_in_lower_precision():
    out_e, out_t = both(ember.linalg.vecdot, torch.linalg.vecdot, pair(3, 4), pair(3, 4, seed=1))
    assert out_e.dtype == ember.bfloat16
    check(out_e, out_t, rtol=5e-2, atol=5e-2)


@pytest.mark.parametrize("name", ["avg_pool3d", "adaptive_avg_pool3d", "adaptive_max_pool3d",
                                  "adaptive_max_pool3d_with_indices", "max_pool3d"])
def test_3d_pooling_runs_in_float32_on_the_cpu(name):
    x = _bf16(pair(1, 2, 4, 4, 4))
    out_e, out_t = both(lambda a: getattr(F, name)(a, 2), lambda a: getattr(TF, name)(a, 2), x)
    if isinstance(out_e, tuple):
        out_e, out_t = out_e[0], out_t[0]
    assert out_e.dtype == ember.float32
    check(out_e, out_t)


def test_max_pool3d_with_indices_keeps_its_dtype():
    x = _bf16(pair(1, 2, 4, 4, 4))
    out_e, out_t = both(lambda a: F.max_pool3d(a, 2, return_indices=True)[0],
                        lambda a: TF.max_pool3d(a, 2, return_indices=True)[0], x)
    assert out_e.dtype == ember.bfloat16
    check(out_e, out_t)


def test_max_unpool_runs_in_float32_on_the_cpu():
    x = _bf16(pair(1, 2, 4, 4))
    pooled_e, idx_e = F.max_pool2d(x[0], 2, return_indices=True)
    pooled_t, idx_t = TF.max_pool2d(x[1], 2, return_indices=True)
    out_e, out_t = both(lambda p: F.max_unpool2d(p, idx_e, 2),
                        lambda p: TF.max_unpool2d(p, idx_t, 2), (pooled_e, pooled_t))
    assert out_e.dtype == ember.float32
    check(out_e, out_t)


def test_binary_cross_entropy_runs_in_float32_on_the_cpu():
    p = _bf16(pair(3, 4, positive=True))
    p = (p[0].sigmoid(), p[1].sigmoid())
    t = pair(3, 4, seed=1, positive=True)
    t = ((t[0] > 0.5).float(), (t[1] > 0.5).float())
    check(*both(F.binary_cross_entropy, TF.binary_cross_entropy, p, t))


@pytest.mark.parametrize("op", ["cat", "stack"])
def test_promote_ops_take_the_widest_type(op):
    low = _bf16(pair(2, 3))
    full = pair(2, 3, seed=1)
    out_e, out_t = both(lambda a, b: getattr(ember, op)([a, b]),
                        lambda a, b: getattr(torch, op)([a, b]), low, full)
    assert out_e.dtype == ember.float32
    check(out_e, out_t)
    out_e, out_t = both(lambda a, b: getattr(ember, op)([a, b]),
                        lambda a, b: getattr(torch, op)([a, b]), low, low)
    assert out_e.dtype == ember.bfloat16
    check(out_e, out_t)


def test_index_copy_promotes():
    out_e, out_t = both(lambda a, b: ember.index_copy(a, 0, ember.tensor([1, 0]), b),
                        lambda a, b: torch.index_copy(a, 0, torch.tensor([1, 0]), b),
                        _bf16(pair(2, 3)), pair(2, 3, seed=1))
    check(out_e, out_t)


@pytest.mark.parametrize("name", ["exp", "log_softmax", "softmax", "sum", "layer_norm"])
def test_ops_without_a_cpu_policy_keep_their_dtype(name):
    fns = {"exp": (ember.exp, torch.exp),
           "log_softmax": (lambda a: ember.log_softmax(a, 1), lambda a: torch.log_softmax(a, 1)),
           "softmax": (lambda a: ember.softmax(a, 1), lambda a: torch.softmax(a, 1)),
           "sum": (lambda a: a.sum(), lambda a: a.sum()),
           "layer_norm": (lambda a: F.layer_norm(a, (4,)), lambda a: TF.layer_norm(a, (4,)))}
    out_e, out_t = both(*fns[name], _bf16(pair(3, 4)))
    assert out_e.dtype == ember.bfloat16
    check(out_e, out_t)


def test_float64_and_integer_tensors_are_not_cast():
    a, b = ember.randn(3, 3, dtype=ember.float64), ember.arange(9).reshape(3, 3)
    with ember.autocast("cpu"):
        assert (a @ a).dtype == ember.float64
        assert (b @ b).dtype == ember.int64
        assert F.mse_loss(a, a).dtype == ember.float64


def test_float16_region_on_the_cpu():
    (a, ta), (b, tb) = pair(3, 4), pair(4, 2, seed=1)
    with ember.autocast("cpu", dtype=ember.float16):
        out = a @ b
        assert ember.get_autocast_dtype("cpu") == ember.float16
    with torch.autocast("cpu", dtype=torch.float16):
        expected = ta @ tb
    check(out, expected)
    assert ember.get_autocast_dtype("cpu") == ember.bfloat16


def test_out_variants_are_not_cast():
    a = ember.randn(3, 3)
    out = ember.empty(3, 3)
    with ember.autocast("cpu"):
        ember.mm(a, a, out=out)
    assert out.dtype == ember.float32
    np.testing.assert_allclose(out.numpy(), (a @ a).numpy(), rtol=1e-6)


# ---------------------------------------------------------------- gradients

def test_gradients_reach_float32_leaves_as_in_torch():
    (x, tx), (w, tw), (b, tb) = pair(4, 3), pair(5, 3, seed=1), pair(5, seed=2)
    w.requires_grad_(True), b.requires_grad_(True), tw.requires_grad_(True)
    tb.requires_grad_(True)
    target = [1, 0, 4, 2]
    with ember.autocast("cpu"):
        y = F.linear(x, w, b)
        loss = F.cross_entropy(y, ember.tensor(target))
    with torch.autocast("cpu"):
        ty = TF.linear(tx, tw, tb)
        tloss = TF.cross_entropy(ty, torch.tensor(target))
    assert y.dtype == ember.bfloat16 and loss.dtype == ember.float32
    loss.backward()
    tloss.backward()
    assert w.grad.dtype == ember.float32 and b.grad.dtype == ember.float32
    check(w.grad, tw.grad)
    check(b.grad, tb.grad)


def test_weight_cast_is_cached_within_a_region():
    w = ember.randn(3, 3, requires_grad=True)
    x = ember.randn(2, 3)
    with ember.autocast("cpu"):
        y1 = x @ w
        y2 = x @ w
        assert len(policy.state.cache) == 1
        # the same cast feeds both products: one ToCopy node in the graph
        assert y1.grad_fn.next_functions[-1][0] is y2.grad_fn.next_functions[-1][0]
        with ember.autocast("cpu"):          # an inner region keeps the cache
            x @ w
        assert len(policy.state.cache) == 1
    assert len(policy.state.cache) == 0      # dropped with the outermost region
    (y1.float().sum() + y2.float().sum()).backward()
    np.testing.assert_allclose(w.grad.numpy(),
                               2 * x.to(ember.bfloat16).float().sum(0).numpy()[:, None]
                               .repeat(3, 1), rtol=1e-2)


def test_cache_disabled_and_non_leaves_not_cached():
    w = ember.randn(3, 3, requires_grad=True)
    with ember.autocast("cpu", cache_enabled=False):
        w @ w
        assert not policy.state.cache
    with ember.autocast("cpu"):
        (w * 2) @ w.detach()                  # a non-leaf and a leaf without grad
        assert not policy.state.cache
        w.t() @ w                             # a view of a leaf is not cached either
        assert len(policy.state.cache) == 1


# ---------------------------------------------------------------- regions and state

def test_nested_and_disabled_regions():
    a = ember.randn(2, 2)
    assert not ember.is_autocast_enabled("cpu")
    with ember.autocast("cpu"):
        assert ember.is_autocast_enabled("cpu")
        with ember.autocast("cpu", enabled=False):
            assert not ember.is_autocast_enabled("cpu")
            assert (a @ a).dtype == ember.float32
            with ember.autocast("cpu"):
                assert (a @ a).dtype == ember.bfloat16
        assert (a @ a).dtype == ember.bfloat16
        assert not ember.is_autocast_enabled("cuda")
    assert not ember.is_autocast_enabled("cpu")
    assert (a @ a).dtype == ember.float32
    assert not ember._core._tensor._autocast_mode()


def test_region_exits_on_exception():
    with pytest.raises(ZeroDivisionError):
        with ember.autocast("cpu"):
            1 / 0
    assert not ember.is_autocast_enabled("cpu")
    assert not ember._core._tensor._autocast_mode()


def test_decorator_form():
    @ember.autocast("cpu")
    def forward(a, b):
        """Doc."""
        return a @ b

    a = ember.randn(2, 2)
    assert forward(a, a).dtype == ember.bfloat16
    assert forward.__doc__ == "Doc."
    assert (a @ a).dtype == ember.float32


def test_aliases_and_state_functions():
    assert ember.amp.autocast is ember.autocast
    assert issubclass(ember.cuda.amp.autocast, ember.autocast)
    assert ember.amp.is_autocast_available("cpu") and not ember.amp.is_autocast_available("xla")
    ember.set_autocast_enabled("cpu", True)
    try:
        assert ember.is_autocast_enabled("cpu")
        assert (ember.ones(2, 2) @ ember.ones(2, 2)).dtype == ember.bfloat16
    finally:
        ember.set_autocast_enabled("cpu", False)
    assert not ember._core._tensor._autocast_mode()
    ember.set_autocast_cache_enabled(False)
    assert not ember.is_autocast_cache_enabled()
    ember.set_autocast_cache_enabled(True)
    assert ember.autocast_increment_nesting() == 1
    assert ember.autocast_decrement_nesting() == 0


def test_bad_arguments():
    with pytest.raises(ValueError, match="device_type"):
        ember.autocast(ember.device("cpu"))
    with pytest.raises(RuntimeError, match="unsupported autocast device_type 'tpu'"):
        ember.autocast("tpu")
    with pytest.warns(UserWarning, match="target dtype is not supported"):
        region = ember.autocast("cpu", dtype=ember.float32)
    with region:
        assert not ember.is_autocast_enabled("cpu")


def test_cuda_region_without_a_gpu_warns_and_is_off():
    if ember.cuda.is_available():
        pytest.skip("a GPU is present")
    with pytest.warns(UserWarning, match="CUDA is not available"):
        region = ember.cuda.amp.autocast()
    with region:
        assert not ember.is_autocast_enabled("cuda")
        assert (ember.ones(2, 2) @ ember.ones(2, 2)).dtype == ember.float32


def test_state_is_per_thread():
    seen = []
    with ember.autocast("cpu"):
        worker = threading.Thread(target=lambda: seen.append(
            (ember.is_autocast_enabled("cpu"), (ember.ones(2, 2) @ ember.ones(2, 2)).dtype)))
        worker.start()
        worker.join()
    assert seen == [(False, ember.float32)]


# ---------------------------------------------------------------- the CUDA table's policies

@pytest.fixture
def cuda_table_on_cpu(monkeypatch):
    """CPU regions that apply the CUDA table: its policies, checked without a GPU."""
    monkeypatch.setitem(policy.POLICIES, "cpu", policy.POLICIES["cuda"])
    with ember.autocast("cpu", dtype=ember.float16):
        yield


def test_cuda_table_policies(cuda_table_on_cpu):
    h = ember.randn(3, 4).half()
    f = ember.randn(3, 4)
    assert ember.exp(h).dtype == ember.float32            # fp32 (elementwise entry)
    assert ember.pow(h, 2).dtype == ember.float32
    assert F.layer_norm(h, (4,)).dtype == ember.float32
    assert ember.softmax(h, 1).dtype == ember.float32     # fp32_dtype
    assert h.sum().dtype == ember.float32
    assert ember.cumsum(h, 1).dtype == ember.float32
    assert h.sum(dtype=ember.float16).dtype == ember.float16   # an explicit dtype wins
    assert ember.erfinv(h * 0.5).dtype == ember.float32
    assert ember.norm(h).dtype == ember.float32
    assert ember.linalg.vector_norm(h).dtype == ember.float32
    assert ember.linalg.matrix_norm(h).dtype == ember.float32
    assert (f @ f.t()).dtype == ember.float16             # lower
    assert ember.mv(f, f[0]).dtype == ember.float16
    assert ember.addcmul(h, h, f).dtype == ember.float32  # promote
    assert ember.atan2(h, h).dtype == ember.float16
    assert ember.cat([h, h]).dtype == ember.float16       # no policy on CUDA
    np.testing.assert_allclose(ember.exp(h).numpy(), np.exp(h.float().numpy()), rtol=1e-6)
    with pytest.raises(RuntimeError, match="unsafe to autocast"):
        F.binary_cross_entropy(h.sigmoid(), ember.ones(3, 4))


def test_in_place_elementwise_ops_are_not_cast(cuda_table_on_cpu):
    h = ember.randn(3).half()
    h.exp_()
    assert h.dtype == ember.float16


def test_every_table_entry_has_an_entry_point():
    """Each op a table names checks the autocast flag at its entry (no dead rows)."""
    import re
    from pathlib import Path
    root = Path(__file__).resolve().parents[1] / "src" / "ember"     # the sources, not the install
    if not (root / "_core" / "_matmul.pxi").is_file():
        pytest.skip("the source tree is not beside the tests")
    text = "\n".join(p.read_text() for p in root.rglob("*.p*")
                     if p.suffix in (".py", ".pyx", ".pxi"))
    hooked = set(re.findall(r'autocasts\("(\w+)"\)|autocast_op\("(\w+)"', text))
    hooked = {a or b for a, b in hooked} | set(ember._core._tensor.elementwise_ops())
    for table in policy.POLICIES.values():
        assert set(table) <= hooked, sorted(set(table) - hooked)


# ---------------------------------------------------------------- GradScaler

def _models(seed=0):
    rng = np.random.default_rng(seed)
    w1, b1 = rng.standard_normal((8, 4)).astype(np.float32), np.zeros(8, np.float32)
    w2, b2 = rng.standard_normal((1, 8)).astype(np.float32), np.zeros(1, np.float32)
    e = ember.nn.Sequential(ember.nn.Linear(4, 8), ember.nn.ReLU(), ember.nn.Linear(8, 1))
    t = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 1))
    for mod, tensor in ((e, ember.tensor), (t, torch.tensor)):
        with (ember.no_grad() if mod is e else torch.no_grad()):
            for p, v in zip(mod.parameters(), (w1, b1, w2, b2)):
                p.copy_(tensor(v))
    return e, t


@pytest.mark.parametrize("opt", ["SGD", "Adam"])
def test_scaler_matches_torch_with_injected_infs(opt):
    model_e, model_t = _models()
    kw = {"lr": 0.01, "momentum": 0.9} if opt == "SGD" else {"lr": 0.01}
    opt_e = getattr(ember.optim, opt)(model_e.parameters(), **kw)
    opt_t = getattr(torch.optim, opt)(model_t.parameters(), **kw)
    scaler_e = ember.amp.GradScaler("cpu", init_scale=2.0 ** 10, growth_interval=2)
    scaler_t = torch.amp.GradScaler("cpu", init_scale=2.0 ** 10, growth_interval=2)
    rng = np.random.default_rng(1)
    bad_steps = {2, 5, 6}
    scales_e, scales_t = [], []
    for step in range(9):
        x = rng.standard_normal((5, 4)).astype(np.float32)
        y = rng.standard_normal((5, 1)).astype(np.float32)
        if step in bad_steps:
            x[0, 0] = np.inf if step != 5 else np.nan
        for model, o, scaler, tensor, fn, scales in (
                (model_e, opt_e, scaler_e, ember.tensor, F.mse_loss, scales_e),
                (model_t, opt_t, scaler_t, torch.tensor, TF.mse_loss, scales_t)):
            o.zero_grad()
            loss = fn(model(tensor(x)), tensor(y))
            scaler.scale(loss).backward()
            scaler.step(o)
            scaler.update()
            scales.append(scaler.get_scale())
    assert scales_e == scales_t
    assert scales_e[2] == scales_e[1] / 2                 # backed off after an inf
    assert scaler_e.state_dict() == scaler_t.state_dict()
    for pe, pt in zip(model_e.parameters(), model_t.parameters()):
        assert np.isfinite(pe.detach().numpy()).all()
        np.testing.assert_allclose(pe.detach().numpy(), pt.detach().numpy(), rtol=1e-5,
                                   atol=1e-6)


def test_unscale_then_clip_and_step():
    model_e, model_t = _models()
    opt_e = ember.optim.SGD(model_e.parameters(), lr=0.1)
    opt_t = torch.optim.SGD(model_t.parameters(), lr=0.1)
    scaler_e = ember.amp.GradScaler("cpu")
    scaler_t = torch.amp.GradScaler("cpu")
    x = np.ones((3, 4), np.float32)
    for model, o, scaler, tensor, clip in (
            (model_e, opt_e, scaler_e, ember.tensor, ember.nn.utils.clip_grad_norm_),
            (model_t, opt_t, scaler_t, torch.tensor, torch.nn.utils.clip_grad_norm_)):
        scaler.scale(model(tensor(x)).sum()).backward()
        scaler.unscale_(o)
        clip(model.parameters(), 0.5)
        scaler.step(o)
        scaler.update()
    for pe, pt in zip(model_e.parameters(), model_t.parameters()):
        np.testing.assert_allclose(pe.detach().numpy(), pt.detach().numpy(), rtol=1e-5,
                                   atol=1e-6)


def test_non_finite_check_and_unscale_matches_torch():
    from ember.amp.grad_scaler import non_finite_check_and_unscale_
    for values, expected_inf in (([1.0, 2.0], 0.0), ([1.0, float("inf")], 1.0),
                                 ([float("nan"), 3.0], 1.0)):
        g = [ember.tensor(values), ember.tensor([4.0, 8.0]).to(ember.bfloat16)]
        found = ember.zeros(())
        non_finite_check_and_unscale_(g, found, ember.tensor(0.25))
        tg = [torch.tensor(values), torch.tensor([4.0, 8.0]).to(torch.bfloat16)]
        tfound = torch.zeros(())
        torch._amp_foreach_non_finite_check_and_unscale_(tg, tfound, torch.tensor(0.25))
        assert found.item() == tfound.item() == expected_inf
        for a, b in zip(g, tg):
            assert dtype_name(a.dtype) == dtype_name(b.dtype)
            np.testing.assert_array_equal(a.float().numpy(), b.float().numpy())


def test_update_scale_matches_torch():
    from ember.amp.grad_scaler import update_scale_
    scale, tracker = ember.tensor(4.0), ember.tensor(0, dtype=ember.int32)
    tscale, ttracker = torch.tensor(4.0), torch.tensor(0, dtype=torch.int32)
    for found in (0.0, 0.0, 0.0, 1.0, 0.0, 2.0, 0.0, 0.0):
        update_scale_(scale, tracker, ember.tensor(found), 2.0, 0.5, 2)
        torch._amp_update_scale_(tscale, ttracker, torch.tensor(found), 2.0, 0.5, 2)
        assert (scale.item(), tracker.item()) == (tscale.item(), ttracker.item())
    big = ember.tensor(3e38)                   # growing it would overflow: kept
    update_scale_(big, ember.tensor(0, dtype=ember.int32), ember.tensor(0.0), 2.0, 0.5, 1)
    assert big.item() == pytest.approx(3e38)


def test_scaler_scales_iterables_and_misuse_errors():
    scaler = ember.amp.GradScaler("cpu", init_scale=4.0)
    a, b = ember.ones(2), ember.ones(3)
    out = scaler.scale([a, (b, a)])
    assert out[0].tolist() == [4.0, 4.0] and out[1][0].tolist() == [4.0] * 3
    with pytest.raises(ValueError, match="iterable of Tensors"):
        scaler.scale(3)
    w = ember.nn.Parameter(ember.ones(2))
    opt = ember.optim.SGD([w], lr=0.1)
    (scaler.scale(w.sum())).backward()
    scaler.unscale_(opt)
    assert w.grad.tolist() == [1.0, 1.0]
    with pytest.raises(RuntimeError, match="already been called"):
        scaler.unscale_(opt)
    with pytest.raises(RuntimeError, match="Closure use"):
        scaler.step(opt, closure=lambda: 0)
    scaler.step(opt)
    with pytest.raises(RuntimeError, match="after step"):
        scaler.unscale_(opt)
    with pytest.raises(RuntimeError, match="step\\(\\) has already been called"):
        scaler.step(opt)
    scaler.update(8.0)
    assert scaler.get_scale() == 8.0
    fresh = ember.amp.GradScaler("cpu")
    with pytest.raises(AssertionError, match="did not use scaler.scale"):
        fresh.step(opt)
    half = ember.nn.Parameter(ember.ones(2, dtype=ember.float16))
    half.grad = ember.ones(2, dtype=ember.float16)
    fresh.scale(ember.ones(1))
    with pytest.raises(ValueError, match="FP16 gradients"):
        fresh.unscale_(ember.optim.SGD([half], lr=0.1))
    with pytest.raises(AssertionError, match="growth factor"):
        ember.amp.GradScaler("cpu", growth_factor=1.0)


def test_scaler_state_dict_and_disabled():
    scaler = ember.amp.GradScaler("cpu", init_scale=16.0, growth_interval=3)
    scaler.scale(ember.ones(1))
    other = ember.amp.GradScaler("cpu")
    other.load_state_dict(scaler.state_dict())
    assert other.state_dict() == {"scale": 16.0, "growth_factor": 2.0, "backoff_factor": 0.5,
                                  "growth_interval": 3, "_growth_tracker": 0}
    off = ember.amp.GradScaler("cpu", enabled=False)
    assert not off.is_enabled() and off.state_dict() == {} and off.get_scale() == 1.0
    x = ember.ones(2)
    assert off.scale(x) is x
    with pytest.raises(RuntimeError, match="state dict is empty"):
        other.load_state_dict({})
    w = ember.nn.Parameter(ember.ones(1))
    w.grad = ember.ones(1)
    off.step(ember.optim.SGD([w], lr=1.0))
    assert w.item() == 0.0


def test_cuda_scaler_without_a_gpu_is_disabled():
    if ember.cuda.is_available():
        pytest.skip("a GPU is present")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        scaler = ember.cuda.amp.GradScaler()
    assert not scaler.is_enabled()
    assert any("CUDA is not available" in str(w.message) for w in caught)


# ---------------------------------------------------------------- custom_fwd / custom_bwd

def _square(lib, amp, cast_inputs):
    """x * x as a custom Function of ``lib`` (ember or torch) whose forward and backward
    record the autocast state and input dtype they run with."""
    seen = []

    class Square(lib.autograd.Function):
        @staticmethod
        @amp.custom_fwd(device_type="cpu", cast_inputs=cast_inputs)
        def forward(ctx, x):
            ctx.save_for_backward(x)
            seen.append(("fwd", lib.is_autocast_enabled("cpu"), dtype_name(x.dtype)))
            return x * x

        @staticmethod
        @amp.custom_bwd(device_type="cpu")
        def backward(ctx, grad):
            x, = ctx.saved_tensors
            seen.append(("bwd", lib.is_autocast_enabled("cpu")))
            return 2 * x * grad

    return Square, seen


@pytest.mark.parametrize("cast", [True, False])
def test_custom_fwd_and_bwd_as_torch(cast):
    runs = []
    for lib, amp in ((ember, ember.amp), (torch, torch.amp)):
        Square, seen = _square(lib, amp, lib.float32 if cast else None)
        x = lib.ones(3, dtype=lib.bfloat16, requires_grad=True)
        with lib.autocast("cpu"):
            y = Square.apply(x)
        y.float().sum().backward()
        runs.append((seen, dtype_name(y.dtype), dtype_name(x.grad.dtype)))
    assert runs[0] == runs[1]
    assert runs[0][1] == ("float32" if cast else "bfloat16")


def test_custom_fwd_outside_a_region_does_nothing():
    Square, seen = _square(ember, ember.amp, ember.float32)
    x = ember.ones(2, dtype=ember.bfloat16)
    assert Square.apply(x).dtype == ember.bfloat16
    assert seen == [("fwd", False, "bfloat16")]
    with pytest.raises(ValueError, match="device_type"):
        ember.amp.custom_fwd(device_type=None)


def test_cuda_amp_custom_fwd_and_bwd_spellings():
    # the deprecated torch.cuda.amp forms, bare or called, as older code decorates with
    runs = []
    for lib in (ember, torch):
        seen = []
        with pytest.warns(FutureWarning, match="custom_fwd"):
            cast = lib.cuda.amp.custom_fwd(cast_inputs=lib.float32)
        with pytest.warns(FutureWarning, match="custom_(fwd|bwd)"):

            class Scale(lib.autograd.Function):
                @staticmethod
                @lib.cuda.amp.custom_fwd
                def forward(ctx, x):
                    return x * 2

                @staticmethod
                @lib.cuda.amp.custom_bwd
                def backward(ctx, grad):
                    return grad * 2

        class Cast(lib.autograd.Function):
            @staticmethod
            @cast
            def forward(ctx, x):
                seen.append((dtype_name(x.dtype), lib.is_autocast_enabled("cuda")))
                return x * 1

            @staticmethod
            def backward(ctx, grad):
                return grad

        x = lib.ones(2, dtype=lib.bfloat16, requires_grad=True)
        Scale.apply(x).sum().backward()
        lib.set_autocast_enabled("cuda", True)
        try:
            Cast.apply(x)
        finally:
            lib.set_autocast_enabled("cuda", False)
        runs.append((seen, x.grad.tolist()))
    # cast_inputs casts tensors of the decorator's device only: these CPU ones are kept
    assert runs[0] == runs[1] == ([("bfloat16", False)], [2.0, 2.0])
