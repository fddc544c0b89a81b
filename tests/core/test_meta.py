"""The meta device against PyTorch's: tensors with a shape, a dtype and strides but no
memory; ops give the shapes, dtypes and strides torch's meta kernels give (autograd
included), what needs the values raises as in torch, and models are built on meta,
then materialised with ``to_empty`` and ``load_state_dict``."""
import warnings

import numpy as np
import pytest
import torch

import ember
from ember import nn

META = ember.device("meta")


@pytest.fixture(autouse=True)
def _restore_default_device():
    yield
    ember.set_default_device(None)
    torch.set_default_device(None)


def _dtype(t):
    return str(t.dtype).split(".")[-1]


def assert_like_torch(e, t, strides=True):
    """Same shape, dtype and (unless not ``strides``) strides; ``e`` on meta as ``t`` is."""
    if isinstance(t, (tuple, list)):
        assert len(e) == len(t)
        for a, b in zip(e, t):
            assert_like_torch(a, b, strides)
        return
    assert e.device == META and t.device.type == "meta"
    assert tuple(e.shape) == tuple(t.shape)
    assert _dtype(e) == _dtype(t)
    if strides:
        assert tuple(e.stride()) == tuple(t.stride())


# ---------------------------------------------------------------- the device

def test_the_device():
    assert str(META) == "meta" and repr(META) == "device(type='meta')"
    assert META == "meta" and ember.device("meta:0").index == 0
    with pytest.raises(RuntimeError, match="Expected one of cpu, cuda, meta"):
        ember.device("tpu")


def test_a_meta_tensor_holds_no_memory():
    x = ember.empty(1 << 20, 1 << 20, device="meta")     # 4 TiB of float32
    assert x.is_meta and not x.is_cpu and not x.is_cuda
    assert x.device == META and x.data_ptr() == 0
    assert x.untyped_storage().nbytes() == 4 << 40
    assert not ember.zeros(2).is_meta


@pytest.mark.parametrize("make", [
    lambda lib: lib.empty(2, 3, device="meta"),
    lambda lib: lib.empty((0, 4), device="meta"),
    lambda lib: lib.empty((), device="meta"),
    lambda lib: lib.zeros(3, dtype=lib.int64, device="meta"),
    lambda lib: lib.ones(2, 3, device="meta", requires_grad=True),
    lambda lib: lib.empty(2, device="meta").expand(3, 2),
    lambda lib: lib.empty(2, 3, device="meta").t(),
])
def test_repr_as_torch(make):
    assert repr(make(ember)) == repr(make(torch)).replace("torch.", "ember.")
    assert str(make(ember)) == str(make(torch)).replace("torch.", "ember.")


def test_format_of_a_meta_scalar_is_its_repr():
    assert f"{ember.empty((), device='meta')}" == f"{torch.empty((), device='meta')}"


def test_parameter_and_storage_repr():
    p = nn.Parameter(ember.empty(3, device="meta"))
    assert repr(p) == repr(torch.nn.Parameter(torch.empty(3, device="meta")))
    s = str(ember.empty(2, 3, device="meta").untyped_storage())
    assert s == " ...\n[ember.UntypedStorage(device=meta) of size 24]"


# ---------------------------------------------------------------- creation

CREATION = {
    "empty": lambda lib: lib.empty(2, 3, device="meta"),
    "empty_strided": lambda lib: lib.empty_strided((2, 3), (1, 2), device="meta"),
    "zeros": lambda lib: lib.zeros((2, 3), dtype=lib.float64, device="meta"),
    "ones": lambda lib: lib.ones(4, dtype=lib.int32, device="meta"),
    "full": lambda lib: lib.full((2, 2), 7, device="meta"),
    "full_bool": lambda lib: lib.full((2,), True, device="meta"),
    "rand": lambda lib: lib.rand(2, 3, device="meta"),
    "randn": lambda lib: lib.randn(5, dtype=lib.float64, device="meta"),
    "randint": lambda lib: lib.randint(0, 10, (3, 4), device="meta"),
    "randperm": lambda lib: lib.randperm(6, device="meta"),
    "bernoulli": lambda lib: lib.bernoulli(lib.empty(2, 3, device="meta")),
    "arange": lambda lib: lib.arange(5, device="meta"),
    "arange_float": lambda lib: lib.arange(0, 1, 0.25, device="meta"),
    "linspace": lambda lib: lib.linspace(0, 1, 7, device="meta"),
    "eye": lambda lib: lib.eye(3, 4, device="meta"),
    "tensor": lambda lib: lib.tensor([[1.0, 2.0]], device="meta"),
    "zeros_like": lambda lib: lib.zeros_like(lib.ones(2, 3).t(), device="meta"),
    "empty_like": lambda lib: lib.empty_like(lib.empty(4, 2, device="meta")),
    "ones_like": lambda lib: lib.ones_like(lib.empty(4, 2, device="meta"), dtype=lib.int64),
    "full_like": lambda lib: lib.full_like(lib.empty(3, device="meta"), 2.5),
    "rand_like": lambda lib: lib.rand_like(lib.empty(3, device="meta")),
    "randn_like": lambda lib: lib.randn_like(lib.empty(3, 2, device="meta")),
    "new_zeros": lambda lib: lib.empty(3, device="meta").new_zeros(2, 2),
    "new_full": lambda lib: lib.empty(3, device="meta").new_full((4,), 1.0),
    "to": lambda lib: lib.ones(2, 3).t().to("meta"),
    "to_dtype": lambda lib: lib.ones(2, 3).to("meta", lib.float16),
    "triu_indices": lambda lib: lib.triu_indices(4, 5, 1, device="meta"),
    "tril_indices": lambda lib: lib.tril_indices(3, 3, dtype=lib.int32, device="meta"),
    "logspace": lambda lib: lib.logspace(0, 2, 5, device="meta"),
}


@pytest.mark.parametrize("name", CREATION)
def test_creation_functions_as_torch(name):
    assert_like_torch(CREATION[name](ember), CREATION[name](torch))


def test_like_functions_keep_the_layout_across_devices():
    # PyTorch's preserve_format: a dense input's dimension order, whatever the device
    x = ember.empty(2, 3, 4).permute(2, 0, 1)
    for like in (ember.empty_like, ember.zeros_like, ember.ones_like, ember.rand_like):
        assert like(x, device="meta").stride() == x.stride() == (1, 12, 4)
        assert like(x.to("meta"), device="cpu").stride() == (1, 12, 4)
    y = ember.empty(4, 6)[:, ::2]         # not dense: contiguous, as torch
    assert ember.empty_like(y, device="meta").stride() == (3, 1)


def test_pickle_and_deepcopy_keep_the_layout():
    import copy
    import pickle
    x = ember.empty(2, 3, device="meta", requires_grad=True).t()
    for y in (pickle.loads(pickle.dumps(x.detach())), copy.deepcopy(x.detach())):
        assert y.is_meta and y.shape == (3, 2) and y.stride() == (1, 3)
    leaf = ember.empty(4, device="meta", requires_grad=True)
    assert pickle.loads(pickle.dumps(leaf)).requires_grad
    model = copy.deepcopy(nn.Linear(3, 2, device="meta"))
    assert model.weight.is_meta and isinstance(model.weight, nn.Parameter)


def test_meta_as_the_default_device():
    with ember.device("meta"):
        assert ember.zeros(2, 3).is_meta and ember.arange(4).is_meta
        assert ember.triu_indices(3, 3).is_meta and ember.logspace(0, 1, 3).is_meta
        layer = nn.Linear(3, 2)
    assert layer.weight.is_meta and layer.bias.is_meta
    assert not ember.zeros(1).is_meta
    ember.set_default_device("meta")
    assert ember.get_default_device() == META and ember.randn(2).is_meta
    ember.set_default_device("cpu")
    assert not ember.randn(2).is_meta


# ---------------------------------------------------------------- ops

def _inputs(lib, batch=2):
    x = lib.empty(4, 3, device="meta", requires_grad=True)
    img = lib.empty(batch, 3, 8, 8, device="meta", requires_grad=True)
    return x, img


OPS = {
    "add_broadcast": lambda lib, x, img: x + lib.empty(3, device="meta"),
    "mul_scalar": lambda lib, x, img: x * 2,
    "add_cpu_scalar_tensor": lambda lib, x, img: x + lib.tensor(1.0),
    "promote": lambda lib, x, img: lib.empty(3, dtype=lib.int64, device="meta") / 2,
    "compare": lambda lib, x, img: x > 0,
    "where": lambda lib, x, img: lib.where(x > 0, x, 0.0),
    "permuted_layout": lambda lib, x, img: img.permute(0, 2, 3, 1).exp(),
    "transposed_sum": lambda lib, x, img: x.t() + x.t(),
    "sum": lambda lib, x, img: x.sum(),
    "mean_dim": lambda lib, x, img: img.mean((2, 3), keepdim=True),
    "argmax": lambda lib, x, img: x.argmax(1),
    "max_dim": lambda lib, x, img: tuple(x.max(0)),
    "var": lambda lib, x, img: x.var(0),
    "cumsum": lambda lib, x, img: x.cumsum(1),
    "softmax": lambda lib, x, img: x.softmax(-1),
    "log_softmax": lambda lib, x, img: x.log_softmax(0),
    "matmul": lambda lib, x, img: x @ x.t(),
    "bmm": lambda lib, x, img: lib.empty(5, 2, 3, device="meta") @ lib.empty(3, 4, device="meta"),
    "linear": lambda lib, x, img: lib.nn.functional.linear(
        x, lib.empty(6, 3, device="meta"), lib.empty(6, device="meta")),
    "conv2d": lambda lib, x, img: lib.nn.functional.conv2d(
        img, lib.empty(5, 3, 3, 3, device="meta"), padding=1, stride=2),
    "conv_transpose2d": lambda lib, x, img: lib.nn.functional.conv_transpose2d(
        img, lib.empty(3, 4, 2, 2, device="meta"), stride=2),
    "max_pool2d": lambda lib, x, img: lib.nn.functional.max_pool2d(img, 3, 2, 1),
    "max_pool2d_indices": lambda lib, x, img: lib.nn.functional.max_pool2d(
        img, 2, return_indices=True),
    "avg_pool2d": lambda lib, x, img: lib.nn.functional.avg_pool2d(img, 2),
    "adaptive_avg_pool2d": lambda lib, x, img: lib.nn.functional.adaptive_avg_pool2d(img, 1),
    "unfold": lambda lib, x, img: lib.nn.functional.unfold(img, 3),
    "layer_norm": lambda lib, x, img: lib.nn.functional.layer_norm(x, (3,)),
    "batch_norm": lambda lib, x, img: lib.nn.functional.batch_norm(
        img, None, None, training=True),
    "group_norm": lambda lib, x, img: lib.nn.functional.group_norm(img, 3),
    "cross_entropy": lambda lib, x, img: lib.nn.functional.cross_entropy(
        x, lib.empty(4, dtype=lib.int64, device="meta")),
    "mse_loss": lambda lib, x, img: lib.nn.functional.mse_loss(x, lib.empty(4, 3, device="meta")),
    "gelu": lambda lib, x, img: lib.nn.functional.gelu(x),
    "dropout": lambda lib, x, img: lib.nn.functional.dropout(x, 0.5),
    "sort": lambda lib, x, img: tuple(x.sort(1)),
    "topk": lambda lib, x, img: tuple(x.topk(2)),
    "searchsorted": lambda lib, x, img: lib.searchsorted(
        lib.empty(4, 5, device="meta"), lib.empty(4, 2, device="meta")),
    "cat": lambda lib, x, img: lib.cat([x, x], 1),
    "stack": lambda lib, x, img: lib.stack([x, x]),
    "views": lambda lib, x, img: x.reshape(2, 6)[:, 1:].unsqueeze(0).transpose(0, 2),
    "index_select": lambda lib, x, img: x.index_select(
        0, lib.empty(7, dtype=lib.int64, device="meta")),
    "gather": lambda lib, x, img: x.gather(1, lib.empty(4, 2, dtype=lib.int64, device="meta")),
    "embedding": lambda lib, x, img: lib.nn.functional.embedding(
        lib.empty(2, 5, dtype=lib.int64, device="meta"), x),
    "int_index": lambda lib, x, img: x[lib.empty(3, dtype=lib.int64, device="meta")],
    "clone": lambda lib, x, img: img.permute(0, 2, 3, 1).clone(),
    "contiguous": lambda lib, x, img: x.t().contiguous(),
    "to_dtype": lambda lib, x, img: x.to(lib.float64),
    "pad": lambda lib, x, img: lib.nn.functional.pad(img, (1, 2, 3, 4)),
    "interpolate": lambda lib, x, img: lib.nn.functional.interpolate(img, scale_factor=2),
    "int_matmul": lambda lib, x, img: lib.empty(2, 3, dtype=lib.int64, device="meta")
    @ lib.empty(3, 4, dtype=lib.int64, device="meta"),
    "attention": lambda lib, x, img: lib.nn.functional.scaled_dot_product_attention(
        *(lib.empty(2, 4, 5, 8, device="meta") for _ in range(3))),
}


def _run_op(lib, name, batch):
    """The op's outputs and, where its first output is differentiable, the gradients of
    its inputs."""
    x, img = _inputs(lib, batch)
    out = OPS[name](lib, x, img)
    first = out[0] if isinstance(out, tuple) else out
    if not first.requires_grad:
        return [out]
    first.sum().backward()
    return [out] + [t.grad for t in (x, img) if t.grad is not None]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", OPS)
def test_ops_give_torch_shapes_dtypes_and_strides(name, dtype, restore_default_dtype):
    # the default dtype makes the inputs (and the factories inside the ops) float64 too
    ember.set_default_dtype(getattr(ember, dtype))
    torch.set_default_dtype(getattr(torch, dtype))
    got, expected = _run_op(ember, name, 2), _run_op(torch, name, 2)
    assert len(got) == len(expected)
    assert_like_torch(got[0], expected[0])
    # the gradients' layouts are ember's autograd's, the same as on the CPU (which keeps
    # a permuted layout where torch's AccumulateGrad follows the leaf's)
    assert_like_torch(got[1:], expected[1:], strides=False)


@pytest.mark.parametrize("name", ["conv2d", "max_pool2d", "batch_norm", "mean_dim",
                                  "permuted_layout", "unfold"])
def test_ops_on_an_empty_batch(name):
    got, expected = _run_op(ember, name, 0), _run_op(torch, name, 0)
    assert_like_torch(got[0], expected[0])
    assert_like_torch(got[1:], expected[1:], strides=False)


def test_in_place_and_out_ops_on_meta():
    x = ember.empty(2, 3, device="meta")
    version = x._version
    assert x.add_(1) is x and x.zero_() is x and x.fill_(2) is x
    assert x.uniform_() is x and x.normal_() is x and x._version > version
    assert x.copy_(ember.ones(2, 3)) is x       # copying into meta: nothing to write
    out = ember.empty(0, device="meta")
    assert ember.add(x, 1, out=out) is out and out.shape == (2, 3)
    with pytest.raises(RuntimeError, match="doesn't match the broadcast shape"):
        ember.empty(2, 1, device="meta").add_(x)
    x.resize_(4, 5)
    assert x.shape == (4, 5)


def test_backward_on_meta_gives_meta_gradients():
    def run(lib):
        w = lib.empty(3, 5, device="meta", requires_grad=True)
        img = lib.empty(2, 3, 6, 6, device="meta", requires_grad=True)
        k = lib.empty(4, 3, 3, 3, device="meta", requires_grad=True)
        h = lib.nn.functional.conv2d(img, k, padding=1).relu()
        h = lib.nn.functional.max_pool2d(h, 2).flatten(1)
        y = (h[:, :3] @ w).log_softmax(-1).sum()
        y.backward()
        return y, w.grad, img.grad, k.grad
    for e, t in zip(run(ember), run(torch)):
        assert_like_torch(e, t)
    y = run(ember)[0]
    assert y.grad_fn is not None and y.requires_grad


def test_autograd_grad_on_meta():
    x = ember.empty(3, 4, device="meta", requires_grad=True)
    (g,) = ember.autograd.grad((x.sin() * x).sum(), x)
    assert g.is_meta and g.shape == (3, 4)


# ---------------------------------------------------------------- what needs the values

ITEM = "Tensor.item\\(\\) cannot be called on meta tensors"
NO_DATA = "Cannot copy out of meta tensor; no data!"
DEVICES = "Expected all tensors to be on the same device"


@pytest.mark.parametrize("read, error, match", [
    (lambda lib, x: x[0, 0].item(), RuntimeError, ITEM),
    (lambda lib, x: bool(x[0, 0]), RuntimeError, ITEM),
    (lambda lib, x: float(x[0, 0]), RuntimeError, ITEM),
    (lambda lib, x: int(x[0, 0]), RuntimeError, ITEM),
    (lambda lib, x: x.tolist(), NotImplementedError, NO_DATA),
    (lambda lib, x: x.cpu(), NotImplementedError, NO_DATA),
    (lambda lib, x: x.to("cpu"), NotImplementedError, NO_DATA),
    (lambda lib, x: x.to("cpu", lib.float64), NotImplementedError, NO_DATA),
    (lambda lib, x: lib.empty(2, 3).copy_(x), NotImplementedError, NO_DATA),
    (lambda lib, x: x.numpy(), TypeError, "can't convert meta device type tensor to numpy"),
    (lambda lib, x: x + lib.ones(2, 3), RuntimeError, None),
    (lambda lib, x: lib.ones(2, 3) * x, RuntimeError, None),
    (lambda lib, x: x.nonzero(), NotImplementedError, "nonzero"),
    (lambda lib, x: x[x > 0], NotImplementedError, None),
    (lambda lib, x: x.masked_select(x > 0), NotImplementedError, None),
    (lambda lib, x: x.__dlpack_device__(), ValueError, "Unknown device type meta for Dlpack"),
])
def test_reading_values_raises_as_torch(read, error, match):
    with pytest.raises(error, match=match):
        read(torch, torch.empty(2, 3, device="meta"))
    with pytest.raises(error, match=match or "meta"):
        read(ember, ember.empty(2, 3, device="meta"))


def test_mixing_devices_names_both():
    x = ember.empty(2, 3, device="meta")
    with pytest.raises(RuntimeError, match=f"{DEVICES}.*meta and cpu"):
        x + ember.ones(2, 3)
    with pytest.raises(RuntimeError, match=DEVICES):
        x @ ember.ones(3, 2)


def _sweep_calls():
    """Every public ember function and Tensor method, called with meta tensors."""
    skip = ("set_", "use_", "manual_seed", "seed", "save", "load", "compile", "backward")
    for name in sorted(dir(ember)):
        fn = getattr(ember, name)
        if name.startswith(skip) or name.startswith("_") or isinstance(fn, type) \
                or not callable(fn):
            continue
        yield name, fn
    for name in sorted(dir(ember.Tensor)):
        if name.startswith(skip) or name.startswith("_"):
            continue
        yield "Tensor." + name, lambda *args, _name=name: getattr(args[0], _name)(*args[1:])


def test_no_op_reads_the_memory_of_a_meta_tensor():
    # whatever an op does with meta tensors, it never hands their null pointer to a CPU
    # kernel (Tensor.ptr refuses every device but the CPU): it gives a meta result or
    # raises, and what it raises about the values names the meta device
    for name, fn in _sweep_calls():
        for args in [(4, 4), (4, 4, 4)], [(4, 4)], [(4, 4), 1], [(3,), (3,)]:
            args = [ember.empty(a, device="meta") if isinstance(a, tuple) else a for a in args]
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    fn(*args)
            except NotImplementedError as e:
                assert "meta" in str(e) or "device" not in str(e), (name, e)
            except Exception:   # wrong arguments for this op, or an op that needs values
                pass
    assert ember.get_default_dtype() == ember.float32


# ---------------------------------------------------------------- modules

def test_layers_take_device_meta():
    layers = [nn.Linear(4, 3, device="meta"), nn.Conv2d(3, 4, 3, device="meta"),
              nn.BatchNorm2d(4, device="meta"), nn.LayerNorm(4, device="meta"),
              nn.Embedding(10, 4, device="meta"), nn.LSTM(4, 8, device="meta"),
              nn.MultiheadAttention(8, 2, device="meta")]
    for layer in layers:
        tensors = list(layer.parameters()) + list(layer.buffers())
        assert tensors and all(t.is_meta for t in tensors)


@pytest.mark.parametrize("build, inputs", [
    (lambda lib: lib.nn.LSTM(4, 8, num_layers=2, batch_first=True, device="meta"),
     lambda lib: (lib.empty(3, 5, 4, device="meta", requires_grad=True),)),
    (lambda lib: lib.nn.GRU(4, 6, bidirectional=True, device="meta"),
     lambda lib: (lib.empty(5, 3, 4, device="meta", requires_grad=True),)),
    (lambda lib: lib.nn.MultiheadAttention(8, 2, batch_first=True, device="meta"),
     lambda lib: (lib.empty(2, 5, 8, device="meta", requires_grad=True),) * 3),
    (lambda lib: lib.nn.Embedding(10, 4, device="meta"),
     lambda lib: (lib.empty(2, 3, dtype=lib.int64, device="meta"),)),
])
def test_layers_run_on_meta_as_torch(build, inputs):
    def run(lib):
        layer = build(lib)
        args = inputs(lib)
        out = layer(*args)
        first = out[0] if isinstance(out, tuple) else out
        first.sum().backward()
        return [first] + [p.grad for p in layer.parameters()]
    got, expected = run(ember), run(torch)
    assert len(got) == len(expected)
    for e, t in zip(got, expected):
        # the layouts are the CPU's, which for these composite layers may differ from torch's
        assert_like_torch(e, t, strides=False)


def test_ctc_loss_on_meta():
    log_probs = ember.empty(5, 2, 4, device="meta", requires_grad=True)
    loss = nn.functional.ctc_loss(log_probs, ember.tensor([[1, 2, 1], [2, 3, 3]]), [5, 5],
                                  [3, 2], reduction="none")
    expected = torch.nn.functional.ctc_loss(
        torch.empty(5, 2, 4, device="meta"), torch.tensor([[1, 2, 1], [2, 3, 3]]), [5, 5],
        [3, 2], reduction="none")
    assert_like_torch(loss, expected)
    loss.sum().backward()       # torch has no meta kernel for this backward
    assert log_probs.grad.is_meta and log_probs.grad.shape == (5, 2, 4)


def test_every_layer_that_takes_device_in_torch_takes_it():
    import inspect
    for name in dir(torch.nn):
        cls = getattr(torch.nn, name)
        if not (isinstance(cls, type) and issubclass(cls, torch.nn.Module)):
            continue
        if "device" not in inspect.signature(cls.__init__).parameters:
            continue
        ours = getattr(nn, name, None)
        if ours is not None:
            assert "device" in inspect.signature(ours.__init__).parameters, name


@pytest.mark.parametrize("init, args", [
    ("uniform_", ()), ("normal_", ()), ("trunc_normal_", ()), ("constant_", (0.5,)),
    ("ones_", ()), ("zeros_", ()), ("eye_", ()), ("xavier_uniform_", ()),
    ("xavier_normal_", ()), ("kaiming_uniform_", ()), ("kaiming_normal_", ()),
    ("orthogonal_", ()), ("sparse_", (0.5,)),
])
def test_init_functions_do_nothing_on_meta(init, args):
    w = ember.empty(1 << 16, 1 << 16, device="meta")     # 16 GiB if materialised
    assert getattr(nn.init, init)(w, *args) is w and w.is_meta
    d = ember.empty(4, 4, 3, 3, device="meta")
    assert nn.init.dirac_(d) is d


def test_module_to_meta_and_to_empty():
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    weight = model[0].weight
    assert model.to("meta") is model
    assert model[0].weight is weight and weight.is_meta
    assert all(t.is_meta for t in model.state_dict().values())
    model.to_empty(device="cpu")
    assert all(not t.is_meta for t in model.state_dict().values())
    shallow = nn.Sequential(nn.Linear(3, 4))
    shallow.register_buffer("scale", ember.ones(2))
    shallow.to_empty(device="meta", recurse=False)
    assert shallow.scale.is_meta and not shallow[0].weight.is_meta


def test_skip_init_builds_on_meta():
    calls = []

    class Probe(nn.Linear):
        def reset_parameters(self):
            calls.append(self.weight.device)
            super().reset_parameters()
    layer = nn.utils.skip_init(Probe, 3, 2)
    assert calls == [META] and layer.weight.device.type == "cpu"
    assert layer.weight.shape == (2, 3) and isinstance(layer.weight, nn.Parameter)
    assert nn.utils.skip_init(nn.Linear, 1 << 16, 1 << 16, device="meta").weight.is_meta


def _convnet():
    return nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten(),
                         nn.Linear(4 * 4 * 4, 5))


def test_deferred_initialisation_matches_a_normal_model():
    ember.manual_seed(0)
    reference = _convnet().eval()
    state = reference.state_dict()
    x = ember.randn(2, 3, 6, 6)
    with ember.device("meta"):
        model = _convnet()
    assert all(t.is_meta for t in model.state_dict().values())
    model.to_empty(device="cpu")
    model.load_state_dict(state)
    model.eval()
    np.testing.assert_array_equal(model(x).detach().numpy(), reference(x).detach().numpy())


def test_load_state_dict_assign_replaces_meta_tensors():
    ember.manual_seed(0)
    reference = _convnet().eval()
    state = reference.state_dict()
    model = _convnet().to("meta").eval()
    result = model.load_state_dict(state, assign=True)
    assert not result.missing_keys and not result.unexpected_keys
    assert all(not t.is_meta for t in model.state_dict().values())
    assert isinstance(model[0].weight, nn.Parameter) and model[0].weight.requires_grad
    assert model[1].running_mean is state["1.running_mean"]
    x = ember.randn(2, 3, 6, 6)
    np.testing.assert_array_equal(model(x).detach().numpy(), reference(x).detach().numpy())


def test_loading_into_meta_without_assign_warns_as_torch():
    model = nn.Linear(2, 2, device="meta")
    state = nn.Linear(2, 2).state_dict()
    with pytest.warns(UserWarning, match="copying from a non-meta parameter in the checkpoint "
                                         "to a meta parameter"):
        model.load_state_dict(state)
    assert model.weight.is_meta


def test_resnet18_on_meta():
    from ember.vision.models import resnet18
    with ember.device("meta"):
        model = resnet18()
    params = list(model.parameters())
    assert all(p.is_meta for p in params)
    assert sum(p.numel() for p in params) == 11689512        # torchvision's count
    x = ember.empty(8, 3, 224, 224, device="meta", requires_grad=True)
    y = model(x)
    assert y.is_meta and y.shape == (8, 1000) and y.dtype == ember.float32
    y.sum().backward()
    assert x.grad.is_meta and x.grad.shape == x.shape
    for p in params:
        assert p.grad.is_meta and p.grad.shape == p.shape


def test_resnet18_meta_shapes_match_the_cpu_run():
    from ember.vision.models import resnet18
    ember.manual_seed(0)
    model = resnet18(num_classes=7).eval()
    x = ember.randn(1, 3, 32, 32)
    expected = model(x)
    meta = resnet18(num_classes=7).to("meta").eval()
    assert meta(x.to("meta")).shape == expected.shape


def test_transformer_on_meta_as_torch():
    def run(lib):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = lib.nn.Transformer(d_model=16, nhead=4, num_encoder_layers=2,
                                       num_decoder_layers=2, dim_feedforward=32,
                                       batch_first=True, device="meta")
        src = lib.empty(3, 7, 16, device="meta", requires_grad=True)
        tgt = lib.empty(3, 5, 16, device="meta")
        mask = lib.nn.Transformer.generate_square_subsequent_mask(5, device="meta")
        # without tgt_is_causal the model compares the mask with a causal one: item()
        out = model(src, tgt, tgt_mask=mask, tgt_is_causal=True)
        out.sum().backward()
        return [out, src.grad] + [p.grad for p in model.parameters()]
    got, expected = run(ember), run(torch)
    assert len(got) == len(expected)
    for e, t in zip(got, expected):
        assert_like_torch(e, t)


def test_a_causal_mask_on_meta_cannot_be_detected_as_torch():
    for lib in (torch, ember):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            layer = lib.nn.TransformerDecoder(
                lib.nn.TransformerDecoderLayer(8, 2, 16, batch_first=True, device="meta"), 1)
        x = lib.empty(2, 3, 8, device="meta")
        mask = lib.nn.Transformer.generate_square_subsequent_mask(3, device="meta")
        with pytest.raises(RuntimeError, match="Tensor.item\\(\\) cannot be called on meta"):
            layer(x, x, tgt_mask=mask)
