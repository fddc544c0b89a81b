"""ember.nn.attention.sdpa_kernel and SDPBackend against torch.nn.attention: ember runs
the math kernel only, so a selection without MATH leaves nothing to run."""
import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from torch.nn.attention import SDPBackend as TBackend, sdpa_kernel as t_sdpa_kernel

import ember
import ember.nn.functional as F
from ember.nn.attention import SDPBackend, sdpa_kernel

NO_KERNEL = "No viable backend for scaled_dot_product_attention was found"


def _qkv(dtype=np.float64):
    rng = np.random.default_rng(0)
    return [rng.standard_normal((2, 3, 4, 5)).astype(dtype) for _ in range(3)]


def test_enum_matches_torch():
    assert [b.name for b in SDPBackend] == list(TBackend.__members__)
    for b in SDPBackend:
        assert int(b) == int(getattr(TBackend, b.name))
    assert repr(SDPBackend.MATH) == repr(TBackend.MATH)
    assert str(SDPBackend.MATH) == str(TBackend.MATH)


@pytest.mark.parametrize("backends", [SDPBackend.MATH, [SDPBackend.MATH],
                                      [SDPBackend.FLASH_ATTENTION, SDPBackend.MATH]])
def test_math_selected_runs_like_torch(backends):
    q, k, v = _qkv()
    eq, ek, ev = (ember.tensor(a, requires_grad=True) for a in (q, k, v))
    tq, tk, tv = (torch.tensor(a, requires_grad=True) for a in (q, k, v))
    tb = ([getattr(TBackend, b.name) for b in backends] if isinstance(backends, list)
          else getattr(TBackend, backends.name))
    with sdpa_kernel(backends):
        out = F.scaled_dot_product_attention(eq, ek, ev, is_causal=True)
    with t_sdpa_kernel(tb):
        tout = TF.scaled_dot_product_attention(tq, tk, tv, is_causal=True)
    np.testing.assert_allclose(out.detach().numpy(), tout.detach().numpy(), rtol=1e-12)
    out.sum().backward()
    tout.sum().backward()
    np.testing.assert_allclose(eq.grad.numpy(), tq.grad.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", ["FLASH_ATTENTION", "EFFICIENT_ATTENTION", "CUDNN_ATTENTION"])
def test_without_math_no_kernel(name):
    q = ember.randn(1, 2, 3, 4)
    with sdpa_kernel(getattr(SDPBackend, name)):
        assert not ember.backends.cuda.math_sdp_enabled()
        with pytest.raises(RuntimeError, match=NO_KERNEL):
            F.scaled_dot_product_attention(q, q, q)
    # restored on exit
    assert ember.backends.cuda.math_sdp_enabled()
    F.scaled_dot_product_attention(q, q, q)


def test_empty_selection_raises_like_torch():
    q = ember.randn(1, 2, 3, 4)
    with sdpa_kernel([]):
        with pytest.raises(RuntimeError, match=NO_KERNEL):
            F.scaled_dot_product_attention(q, q, q)
    tq = torch.randn(1, 2, 3, 4)
    with t_sdpa_kernel([]):
        with pytest.raises(RuntimeError, match=NO_KERNEL):
            TF.scaled_dot_product_attention(tq, tq, tq)


def test_module_uses_the_selection():
    mha = ember.nn.MultiheadAttention(8, 2, batch_first=True)
    x = ember.randn(2, 3, 8)
    with sdpa_kernel(SDPBackend.MATH):
        mha(x, x, x)


def test_flags_restored_after_exception_and_nesting():
    with pytest.raises(KeyError):
        with sdpa_kernel(SDPBackend.FLASH_ATTENTION):
            raise KeyError
    assert ember.backends.cuda.math_sdp_enabled() and ember.backends.cuda.flash_sdp_enabled()
    with sdpa_kernel([SDPBackend.MATH, SDPBackend.CUDNN_ATTENTION]):
        with sdpa_kernel(SDPBackend.FLASH_ATTENTION):
            assert not ember.backends.cuda.math_sdp_enabled()
        assert ember.backends.cuda.math_sdp_enabled()
        assert ember.backends.cuda.cudnn_sdp_enabled()
        assert not ember.backends.cuda.flash_sdp_enabled()
    assert ember.backends.cuda.flash_sdp_enabled()


def test_enable_math_sdp_switch():
    q = ember.randn(1, 1, 2, 4)
    ember.backends.cuda.enable_math_sdp(False)
    try:
        with pytest.raises(RuntimeError, match=NO_KERNEL):
            F.scaled_dot_product_attention(q, q, q)
    finally:
        ember.backends.cuda.enable_math_sdp(True)


@pytest.mark.parametrize("lib_kernel", [sdpa_kernel, t_sdpa_kernel])
def test_bad_backends_argument(lib_kernel):
    with pytest.raises(AssertionError, match="Backend must be an instance of SDPBackend"):
        with lib_kernel("MATH"):
            pass


@pytest.mark.parametrize("math", [True, False])
def test_deprecated_sdp_kernel_switches(math):
    # the pre-2.3 spelling: torch.backends.cuda.sdp_kernel(enable_flash=..., ...)
    q = ember.randn(1, 2, 3, 4)
    with pytest.warns(FutureWarning, match="sdpa_kernel"):
        with ember.backends.cuda.sdp_kernel(enable_flash=True, enable_math=math,
                                            enable_mem_efficient=False) as context:
            assert context == {}
            assert ember.backends.cuda.flash_sdp_enabled()
            assert not ember.backends.cuda.mem_efficient_sdp_enabled()
            assert ember.backends.cuda.math_sdp_enabled() is math
            if math:
                F.scaled_dot_product_attention(q, q, q)
            else:
                with pytest.raises(RuntimeError, match=NO_KERNEL):
                    F.scaled_dot_product_attention(q, q, q)
    assert ember.backends.cuda.math_sdp_enabled()
    assert ember.backends.cuda.mem_efficient_sdp_enabled()
    with pytest.warns(FutureWarning):
        with torch.backends.cuda.sdp_kernel(enable_mem_efficient=False):
            assert not torch.backends.cuda.mem_efficient_sdp_enabled()
