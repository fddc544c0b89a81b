"""Mixed precision on cuda tensors, checked without a GPU (the CuPy stand-in of
test_backend_launches): GradScaler's unscale kernel launches and autocast's casts of
cuda tensors; the numbers are tested on a GPU (test_gpu_amp.py)."""
import numpy as np
import pytest

import ember
from ember.amp.grad_scaler import non_finite_check_and_unscale_

from test_backend_launches import rec  # noqa: F401  (the stand-in fixture)


@pytest.mark.parametrize("dtype", [ember.float16, ember.bfloat16, ember.float32,
                                   ember.float64])
def test_unscale_launches_one_kernel_per_gradient(rec, dtype):  # noqa: F811
    grads = [ember.empty(5, 7, dtype=dtype, device="cuda"),
             ember.empty(3, dtype=dtype, device="cuda")]
    found = ember.empty((), device="cuda")
    inv = ember.empty((), device="cuda")
    rec.launches.clear()
    non_finite_check_and_unscale_(grads, found, inv)
    assert rec.names() == [f"em_cu_amp_unscale_{dtype.name}"] * 2
    for (family, _, grid, block, args), g in zip(rec.launches, grads):
        assert family == "amp" and block == (256,) and grid == (1,)
        assert args[0] == g.data_ptr() and int(args[1]) == g.numel()
        assert args[2:] == (inv.data_ptr(), found.data_ptr())
    assert not rec.copies                     # nothing read back to the host


def test_unscale_of_a_strided_gradient_goes_through_a_dense_copy(rec):  # noqa: F811
    g = ember.empty(4, 6, device="cuda").t()
    found, inv = ember.empty((), device="cuda"), ember.empty((), device="cuda")
    rec.launches.clear()
    non_finite_check_and_unscale_([g], found, inv)
    assert rec.names() == ["em_cu_cast_float32_float32_s32", "em_cu_amp_unscale_float32",
                           "em_cu_cast_float32_float32_s32"]
    dense = rec.launches[1][4][0]
    assert dense != g.data_ptr() and rec.launches[2][4][0] == g.data_ptr()


def test_unscale_skips_empty_gradients_and_checks_arguments(rec):  # noqa: F811
    found, inv = ember.empty((), device="cuda"), ember.empty((), device="cuda")
    rec.launches.clear()
    non_finite_check_and_unscale_([ember.empty(0, device="cuda")], found, inv)
    assert rec.launches == []
    with pytest.raises(TypeError, match="floating point"):
        non_finite_check_and_unscale_([ember.empty(2, dtype=ember.int32, device="cuda")],
                                      found, inv)
    with pytest.raises(RuntimeError, match="same device"):
        non_finite_check_and_unscale_([ember.empty(2)], found, inv)


def test_cuda_autocast_casts_cuda_tensors_only(rec):  # noqa: F811
    h = ember.empty(4, dtype=ember.float16, device="cuda")
    f = ember.empty(4, device="cuda")
    host = ember.ones(4, dtype=ember.float16)
    with ember.autocast("cuda"):
        assert ember.is_autocast_enabled("cuda") and not ember.is_autocast_enabled("cpu")
        rec.launches.clear()
        y = ember.exp(h)                                   # fp32 policy
        assert rec.names() == ["em_cu_cast_float16_float32_c", "em_cu_exp_float32_c"]
        assert y.dtype == ember.float32 and y.device.type == "cuda"
        rec.launches.clear()
        z = ember.atan2(h, f)                              # promote: to the widest, float32
        assert rec.names() == ["em_cu_cast_float16_float32_c", "em_cu_atan2_float32_c"]
        assert z.dtype == ember.float32
        rec.launches.clear()
        assert ember.atan2(h, h).dtype == ember.float16
        assert rec.names() == ["em_cu_atan2_float16_c"]
        assert ember.exp(host).dtype == ember.float16      # a CPU tensor: no CPU region
        np.testing.assert_allclose(ember.exp(host).float().numpy(), np.e, rtol=1e-3)
        rec.launches.clear()
        h.exp_()                                           # in place: never cast
        assert rec.names() == ["em_cu_exp_float16_c"]
    assert not ember.is_autocast_enabled("cuda")


def test_cuda_autocast_bans_binary_cross_entropy(rec):  # noqa: F811
    p = ember.empty(3, device="cuda")
    with ember.autocast("cuda"):
        with pytest.raises(RuntimeError, match="unsafe to autocast"):
            ember.nn.functional.binary_cross_entropy(p, p)


def test_cuda_grad_scaler_is_enabled_with_a_gpu(rec):  # noqa: F811
    scaler = ember.cuda.amp.GradScaler(init_scale=8.0)
    assert scaler.is_enabled()
    loss = ember.empty((), device="cuda")
    rec.launches.clear()
    scaled = scaler.scale(loss)
    assert scaled.device.type == "cuda"
    assert rec.names()[-1].startswith("em_cu_mul_float32_")
    assert all(kind != 2 for kind, _ in rec.copies)        # nothing read back (D2H)
    assert scaler._scale.device.type == "cuda" and scaler._growth_tracker.dtype == ember.int32
