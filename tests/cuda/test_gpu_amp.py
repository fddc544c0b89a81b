"""Mixed precision and random numbers on a real GPU, against the CPU: the Philox fills
give the CPU's numbers for a seed, GradScaler's kernels and scale update give the
CPU's results, and a small autocast + GradScaler training run behaves as on the CPU.
Marked gpu: skipped, with the reason, where CuPy or a GPU is missing."""
import numpy as np
import pytest

import ember
from ember.amp.grad_scaler import non_finite_check_and_unscale_, update_scale_

pytestmark = pytest.mark.gpu


def both(make):
    """``make(device)`` on the CPU and on cuda after the same seed, as NumPy arrays."""
    out = []
    for device in ("cpu", "cuda"):
        ember.manual_seed(1234)
        out.append(make(device).cpu())
    return out


def as_numpy(t):
    return (t.float() if t.dtype == ember.bfloat16 else t).numpy()


# exact: uniforms, integers, Bernoulli draws and float32 normals (random.cu is built with
# -fmad=false and uses the CPU's float polynomials); float64 normals and exponentials go
# through the GPU's libm, equal up to the last bits
EXACT = {
    "rand_f32": lambda d: ember.rand(1001, device=d),
    "rand_f16": lambda d: ember.rand(1001, dtype=ember.float16, device=d),
    "rand_bf16": lambda d: ember.rand(1001, dtype=ember.bfloat16, device=d),
    "rand_f64": lambda d: ember.rand(1001, dtype=ember.float64, device=d),
    "randn_f32": lambda d: ember.randn(1001, device=d),
    "randn_c64": lambda d: ember.view_as_real(ember.randn(501, dtype=ember.complex64, device=d)),
    "randint_small": lambda d: ember.randint(-5, 17, (1001,), device=d),
    "randint_large": lambda d: ember.randint(-2 ** 62, 2 ** 62, (1001,), device=d),
    "randint_int8": lambda d: ember.randint(-3, 3, (99,), dtype=ember.int8, device=d),
    "bernoulli": lambda d: ember.empty(1001, device=d).bernoulli_(0.3),
    "uniform_": lambda d: ember.empty(33, 31, device=d).uniform_(-2, 3),
    "normal_": lambda d: ember.empty(1001, device=d).normal_(1.5, 0.5),
    "strided": lambda d: ember.empty(8, 6, device=d).t().uniform_(),
    "rand_like": lambda d: ember.rand_like(ember.empty(5, 7, device=d)),
    "dropout_mask": lambda d: ember.nn.functional.dropout(ember.ones(1001, device=d), 0.4),
}


@pytest.mark.parametrize("name", sorted(EXACT))
def test_same_numbers_as_the_cpu(name):
    cpu, gpu = both(EXACT[name])
    assert cpu.dtype == gpu.dtype
    np.testing.assert_array_equal(as_numpy(gpu), as_numpy(cpu))


@pytest.mark.parametrize("make", [
    lambda d: ember.randn(1001, dtype=ember.float64, device=d),
    lambda d: ember.empty(1001, device=d).exponential_(1.5),
    lambda d: ember.empty(1001, dtype=ember.float64, device=d).exponential_(0.5),
])
def test_libm_distributions_match_to_the_last_bits(make):
    cpu, gpu = both(make)
    np.testing.assert_allclose(gpu.numpy(), cpu.numpy(), rtol=1e-6)


def test_generator_positions_stay_in_step():
    ember.manual_seed(5)
    ember.rand(10, device="cuda")
    after_cuda = ember.rand(4, device="cuda").cpu()
    ember.manual_seed(5)
    ember.rand(10)
    np.testing.assert_array_equal(after_cuda.numpy(), ember.rand(4).numpy())


@pytest.mark.parametrize("dtype", [ember.float16, ember.bfloat16, ember.float32,
                                   ember.float64])
def test_unscale_kernel_matches_the_cpu(dtype):
    values = np.array([1.0, -2.5, 1e3, 0.0, 6.0e4], np.float64)
    for bad in (None, np.inf, np.nan):
        data = values.copy()
        if bad is not None:
            data[2] = bad
        results = []
        for device in ("cpu", "cuda"):
            g = ember.tensor(data, device=device).to(dtype)
            found = ember.zeros((), device=device)
            non_finite_check_and_unscale_([g, g[::2]], found,
                                          ember.tensor(1 / 1024, device=device))
            results.append((as_numpy(g.cpu()), found.item()))
        np.testing.assert_array_equal(results[1][0], results[0][0])
        assert results[1][1] == results[0][1] == (0.0 if bad is None else 1.0)


def test_update_scale_on_the_device():
    scale = ember.tensor(4.0, device="cuda")
    tracker = ember.tensor(0, dtype=ember.int32, device="cuda")
    seen = []
    for found in (0.0, 0.0, 1.0, 0.0):
        update_scale_(scale, tracker, ember.tensor(found, device="cuda"), 2.0, 0.5, 2)
        seen.append((scale.item(), tracker.item()))
    assert seen == [(4.0, 1), (8.0, 0), (4.0, 0), (4.0, 1)]


OPTIMIZERS = {
    "sgd": lambda ps: ember.optim.SGD(ps, lr=0.1, momentum=0.9, weight_decay=0.01),
    "nesterov": lambda ps: ember.optim.SGD(ps, lr=0.1, momentum=0.5, nesterov=True),
    "adam": lambda ps: ember.optim.Adam(ps, lr=0.01, weight_decay=0.1),
    "amsgrad": lambda ps: ember.optim.Adam(ps, lr=0.01, amsgrad=True, maximize=True),
    "adamw": lambda ps: ember.optim.AdamW(ps, lr=0.01),
}


@pytest.mark.parametrize("dtype", [ember.float32, ember.float64, ember.float16,
                                   ember.bfloat16])
@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_fused_optimizer_steps_match_the_cpu(name, dtype):
    """optim.cu (built with -fmad=false) rounds each operation as optim.c.in does."""
    rng = np.random.default_rng(3)
    start = rng.standard_normal((3, 17, 5))
    grads = rng.standard_normal((4, 3, 17, 5))
    results = []
    for device in ("cpu", "cuda"):
        params = [ember.nn.Parameter(ember.tensor(start[k], device=device).to(dtype))
                  for k in range(3)]
        opt = OPTIMIZERS[name](params)
        for step in range(4):
            for k, p in enumerate(params):
                p.grad = ember.tensor(grads[step, k], device=device).to(dtype)
            opt.step()
        results.append([as_numpy(p.detach().cpu()) for p in params])
    for on_cpu, on_gpu in zip(*results):
        np.testing.assert_array_equal(on_gpu, on_cpu)


def test_training_with_autocast_and_grad_scaler():
    try:
        ember.ones(2, 2, device="cuda") @ ember.ones(2, 2, device="cuda")
    except NotImplementedError as e:
        pytest.skip(f"needs matmul on cuda: {e}")
    losses, scales = {}, {}
    for device in ("cpu", "cuda"):
        ember.manual_seed(0)
        model = ember.nn.Sequential(ember.nn.Linear(8, 16), ember.nn.ReLU(),
                                    ember.nn.Linear(16, 1)).to(device)
        opt = ember.optim.SGD(model.parameters(), lr=0.05)
        scaler = ember.amp.GradScaler(device, init_scale=2.0 ** 12, growth_interval=3)
        x = ember.randn(64, 8).to(device)      # the CPU's generator, after the same init
        y = x.sum(1, keepdim=True)
        history = []
        for step in range(12):
            opt.zero_grad()
            with ember.autocast(device, dtype=ember.float16):
                out = model(x)
                assert out.dtype == ember.float16
                loss = ember.nn.functional.mse_loss(out, y)
                assert loss.dtype == ember.float32
            scaler.scale(loss).backward()
            assert model[0].weight.grad.dtype == ember.float32
            scaler.step(opt)
            scaler.update()
            history.append(loss.item())
        losses[device], scales[device] = history, scaler.get_scale()
    assert losses["cuda"][-1] < losses["cuda"][0] / 2
    assert scales["cuda"] == scales["cpu"]
    np.testing.assert_allclose(losses["cuda"], losses["cpu"], rtol=5e-2)
