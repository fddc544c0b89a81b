"""Fused SGD and Adam steps of cuda parameters, checked without a GPU (the CuPy stand-in
of test_backend_launches): one optim.cu launch per parameter with the CPU loop's options
and step scalars; the numbers are compared with the CPU's on a GPU (test_gpu_amp.py)."""
import numpy as np
import pytest

import ember
from ember._core import _optim

from test_backend_launches import rec  # noqa: F401  (the stand-in fixture)


def optim_launches(rec):  # noqa: F811
    return [(name, args) for family, name, _, _, args in rec.launches if family == "optim"]


def cuda_param(*shape, dtype=ember.float32):
    p = ember.nn.Parameter(ember.empty(*shape, dtype=dtype, device="cuda"))
    p.grad = ember.empty(*shape, dtype=dtype, device="cuda")
    return p


def test_sgd_with_momentum(rec):  # noqa: F811
    a, b = cuda_param(4, 3), cuda_param(5)
    opt = ember.optim.SGD([a, b], lr=0.1, momentum=0.9, dampening=0.1, nesterov=False,
                          weight_decay=0.01)
    rec.launches.clear()
    opt.step()
    (n1, a1), (n2, a2) = optim_launches(rec)
    assert n1 == n2 == "em_cu_optim_sgd_float32"
    buf = opt.state[a]["momentum_buffer"]
    assert buf.device.type == "cuda"
    assert a1[:3] == (a.data_ptr(), a.grad.data_ptr(), buf.data_ptr()) and int(a1[3]) == 12
    assert [float(v) for v in a1[4:8]] == [0.1, 0.01, 0.9, 0.1]
    assert [int(v) for v in a1[8:]] == [0, 0, 1]           # maximize, nesterov, first step
    assert int(a2[3]) == 5
    rec.launches.clear()
    opt.step()
    assert [int(optim_launches(rec)[0][1][10])] == [0]     # the buffer exists now


def test_sgd_without_momentum_passes_no_buffer(rec):  # noqa: F811
    p = cuda_param(3, dtype=ember.float16)
    rec.launches.clear()
    ember.optim.SGD([p], lr=0.5, maximize=True).step()
    (name, args), = optim_launches(rec)
    assert name == "em_cu_optim_sgd_float16" and args[2] == 0 and int(args[8]) == 1


@pytest.mark.parametrize("cls, amsgrad, decoupled", [(ember.optim.Adam, False, 0),
                                                     (ember.optim.Adam, True, 0),
                                                     (ember.optim.AdamW, False, 1)])
def test_adam_family(rec, cls, amsgrad, decoupled):  # noqa: F811
    p = cuda_param(2, 3, dtype=ember.bfloat16)
    opt = cls([p], lr=0.01, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1, amsgrad=amsgrad)
    for step in (1, 2):
        rec.launches.clear()
        opt.step()
        (name, args), = optim_launches(rec)
        state = opt.state[p]
        assert name == "em_cu_optim_adam_bfloat16"
        assert args[2:4] == (state["exp_avg"].data_ptr(), state["exp_avg_sq"].data_ptr())
        assert args[4] == (state["max_exp_avg_sq"].data_ptr() if amsgrad else 0)
        assert int(args[5]) == 6
        assert [float(v) for v in args[6:11]] == pytest.approx([0.01, 0.1, 0.8, 0.99, 1e-6])
        # the step scalars: lr / (1 - beta1^t) and sqrt(1 - beta2^t), from the CPU counter
        assert float(args[11]) == pytest.approx(0.01 / (1 - 0.8 ** step))
        assert float(args[12]) == pytest.approx(np.sqrt(1 - 0.99 ** step))
        assert [int(v) for v in args[13:]] == [0, decoupled, int(amsgrad)]
        assert state["step"].device.type == "cpu" and state["step"].item() == step


def test_other_optimizers_and_strided_params_use_ember_ops(rec):  # noqa: F811
    p = cuda_param(3)
    rec.launches.clear()
    ember.optim.Adagrad([p], lr=0.1).step()
    assert optim_launches(rec) == [] and rec.launches    # elementwise kernels instead
    q = ember.nn.Parameter(ember.empty(4, 3, device="cuda").t())
    q.grad = ember.empty(3, 4, device="cuda")
    rec.launches.clear()
    ember.optim.SGD([q], lr=0.1).step()
    assert optim_launches(rec) == []


def test_fused_step_checks_devices(rec):  # noqa: F811
    p, g = ember.empty(3, device="cuda"), ember.empty(3)
    assert not _optim.fusable(p, g, kind="sgd")
    assert not _optim.fusable(p, ember.empty(3, device="cuda"), kind="adagrad")
    with pytest.raises(RuntimeError, match="parameter's dtype, shape and device"):
        _optim.step("sgd", {"lr": 0.1, "weight_decay": 0, "maximize": False, "momentum": 0,
                            "dampening": 0, "nesterov": False}, [p], [g], [()], None, [False])
    with pytest.raises(RuntimeError, match="no fused loop for device cuda"):
        _optim.step("adagrad", {"lr": 0.1, "weight_decay": 0, "maximize": False,
                                "lr_decay": 0}, [p], [p], [(p,)], [ember.zeros(())], None)
