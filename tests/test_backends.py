"""ember.backends against torch.backends: the flags' defaults and round trips, and
the answers about libraries ember does not have."""
import pytest
import torch

import ember


@pytest.fixture(autouse=True)
def _restore():
    precision = ember.get_float32_matmul_precision()
    flags = ember.backends.cudnn.set_flags()
    yield
    ember.set_float32_matmul_precision(precision)
    ember.backends.cudnn.set_flags(*flags)


def test_cudnn_defaults_match_torch():
    for name in ("enabled", "benchmark", "deterministic", "allow_tf32"):
        assert getattr(ember.backends.cudnn, name) == getattr(torch.backends.cudnn, name), name
    assert ember.backends.cudnn.benchmark_limit == 10
    assert ember.backends.cudnn.is_available() is False
    assert ember.backends.cudnn.version() is None


def test_cudnn_flags_are_kept_and_independent_of_deterministic_algorithms():
    ember.backends.cudnn.deterministic = True
    ember.backends.cudnn.benchmark = True
    assert ember.backends.cudnn.deterministic and ember.backends.cudnn.benchmark
    assert not ember.are_deterministic_algorithms_enabled()
    torch.backends.cudnn.deterministic = True
    try:
        assert not torch.are_deterministic_algorithms_enabled()
    finally:
        torch.backends.cudnn.deterministic = False


@pytest.mark.parametrize("lib", [ember, torch])
def test_cudnn_flags_context_manager(lib):
    before = (lib.backends.cudnn.enabled, lib.backends.cudnn.deterministic)
    with lib.backends.cudnn.flags(enabled=True, deterministic=True, benchmark=True):
        assert lib.backends.cudnn.deterministic and lib.backends.cudnn.benchmark
    assert (lib.backends.cudnn.enabled, lib.backends.cudnn.deterministic) == before
    assert lib.backends.cudnn.benchmark is False


@pytest.mark.parametrize("lib", [ember, torch])
def test_matmul_allow_tf32_is_the_float32_matmul_precision(lib):
    lib.set_float32_matmul_precision("highest")
    assert lib.backends.cuda.matmul.allow_tf32 is False
    lib.backends.cuda.matmul.allow_tf32 = True
    assert lib.get_float32_matmul_precision() == "high"
    lib.backends.cuda.matmul.allow_tf32 = False
    assert lib.get_float32_matmul_precision() == "highest"
    lib.set_float32_matmul_precision("high")
    assert lib.backends.cuda.matmul.allow_tf32 is True
    lib.set_float32_matmul_precision("highest")


def test_matmul_unknown_attribute():
    with pytest.raises(AttributeError, match="Unknown attribute allow_everything"):
        ember.backends.cuda.matmul.allow_everything = True


def test_mps_and_cuda_built():
    assert ember.backends.mps.is_available() is False
    assert ember.backends.mps.is_built() is False
    assert ember.backends.cuda.is_built() is True
    assert ember.backends.cuda.is_flash_attention_available() is False


def test_cpu_capability_from_the_cpu_flags():
    got = ember.backends.cpu.get_cpu_capability()
    assert got in ("AVX512", "AVX2", "DEFAULT")
    try:
        with open("/proc/cpuinfo") as f:
            flags = set(next(line for line in f if line.startswith("flags")).split())
    except (OSError, StopIteration):
        pytest.skip("no /proc/cpuinfo")
    if {"avx512f", "avx512bw", "avx512vl", "avx512dq"} <= flags:
        assert got == "AVX512"
    elif {"avx2", "fma"} <= flags:
        assert got == "AVX2"
    # torch reads the same CPU
    assert got == torch.backends.cpu.get_cpu_capability()


def test_opt_einsum_not_available():
    oe = ember.backends.opt_einsum
    assert oe.is_available() is False and oe.enabled is False and oe.strategy is None
    assert oe.get_opt_einsum() is None
    with pytest.raises(ValueError, match="opt_einsum is not available"):
        oe.set_flags(True)
    with pytest.raises(ValueError, match="opt_einsum is not available"):
        with oe.flags(strategy="greedy"):
            pass
    oe.enabled = False
    assert oe.enabled is False


@pytest.mark.skipif(torch.backends.opt_einsum.is_available(), reason="torch has opt_einsum here")
def test_opt_einsum_answers_like_torch_without_it():
    assert ember.backends.opt_einsum.enabled == torch.backends.opt_einsum.enabled
    assert ember.backends.opt_einsum.strategy == torch.backends.opt_einsum.strategy
    for lib in (ember, torch):
        with pytest.raises(ValueError, match="opt_einsum is not available"):
            with lib.backends.opt_einsum.flags(enabled=True):
                pass
        assert lib.backends.opt_einsum.enabled is False
