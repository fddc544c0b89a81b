"""ember.random against torch.random: the same functions, and fork_rng restoring state."""
import warnings

import pytest
import torch

import ember


def test_names_match_torch_random():
    for name in ("manual_seed", "seed", "initial_seed", "get_rng_state", "set_rng_state",
                 "fork_rng", "default_generator"):
        assert hasattr(torch.random, name) and hasattr(ember.random, name)
    # the module's functions are the top-level ones
    assert ember.random.manual_seed is ember.manual_seed
    assert ember.random.default_generator is ember.default_generator


def test_seed_and_state_round_trip():
    g = ember.random.manual_seed(123)
    assert g is ember.default_generator
    assert ember.random.initial_seed() == 123
    state = ember.random.get_rng_state()
    a = ember.rand(4)
    ember.random.set_rng_state(state)
    assert bool((ember.rand(4) == a).all())
    s = ember.random.seed()
    assert isinstance(s, int) and ember.random.initial_seed() == s


@pytest.mark.parametrize("lib", [ember, torch])
def test_fork_rng_restores_cpu_state(lib):
    lib.random.manual_seed(5)
    before = lib.random.get_rng_state()
    with lib.random.fork_rng(devices=[]):
        lib.rand(10)
        lib.random.manual_seed(99)
    assert bool((lib.random.get_rng_state() == before).all())


@pytest.mark.parametrize("lib", [ember, torch])
def test_fork_rng_restores_after_an_exception(lib):
    before = lib.random.get_rng_state()
    with pytest.raises(ValueError):
        with lib.random.fork_rng(devices=[]):
            lib.rand(3)
            raise ValueError
    assert bool((lib.random.get_rng_state() == before).all())


@pytest.mark.parametrize("lib", [ember, torch])
def test_fork_rng_disabled_does_nothing(lib):
    lib.random.manual_seed(5)
    with lib.random.fork_rng(enabled=False):
        a = lib.rand(3)
    lib.random.manual_seed(5)
    lib.rand(3)
    assert bool((lib.rand(3) != a).any())       # the stream moved on past ``a``


def test_fork_rng_default_devices_without_gpu_is_quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with ember.random.fork_rng():
            ember.rand(2)


def test_fork_rng_meta_and_unknown_device_type():
    with ember.random.fork_rng(device_type="meta"):
        pass
    with pytest.raises(RuntimeError, match="no module of `xpu`"):
        with ember.random.fork_rng(device_type="xpu"):
            pass


@pytest.mark.gpu
def test_fork_rng_restores_cuda_state():
    ember.cuda.manual_seed(4)
    before = ember.cuda.get_rng_state(0)
    with ember.random.fork_rng(devices=[0]):
        ember.rand(5, device="cuda")
    assert bool((ember.cuda.get_rng_state(0) == before).all())
