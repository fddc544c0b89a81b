"""The everyday torch.cuda names of ember.cuda: device facts, memory statistics and
limits, out-of-memory errors, streams.  Marked gpu: without a GPU they run on the
emulated one (one device, compute capability 8.0)."""
import warnings

import numpy as np
import pytest

import ember

pytestmark = pytest.mark.gpu


def test_device_facts():
    props = ember.cuda.get_device_properties(0)
    assert ember.cuda.get_device_capability() == (props.major, props.minor)
    assert ember.cuda.get_device_capability("cuda:0") == ember.cuda.get_device_capability(0)
    assert ember.cuda.is_bf16_supported() is True            # sm_80 and later: native
    assert ember.cuda.is_bf16_supported(including_emulation=False) is (props.major >= 8)
    assert ember.cuda.is_tf32_supported() is (props.major >= 8)
    ember.cuda.init()
    assert ember.cuda.is_initialized() is True
    assert ember.cuda.can_device_access_peer(0, 0) is False
    with pytest.raises(RuntimeError, match="invalid device ordinal"):
        ember.cuda.can_device_access_peer(0, ember.cuda.device_count())
    ember.cuda.ipc_collect()


def test_arch_list_and_gencode_flags():
    from ember.cuda._build import FATBIN_ARCHS
    archs = ember.cuda.get_arch_list()
    flags = ember.cuda.get_gencode_flags()
    if not FATBIN_ARCHS:
        assert archs == [] and flags == ""
        return
    assert archs == [f"sm_{a}" for a in FATBIN_ARCHS] + [f"compute_{FATBIN_ARCHS[-1]}"]
    assert flags.split(" -gencode ")[0] == f"-gencode compute=compute_{FATBIN_ARCHS[0]}," \
                                           f"code=sm_{FATBIN_ARCHS[0]}"
    assert flags.count("-gencode") == len(archs)


def test_memory_stats_follow_allocations():
    ember.cuda.reset_peak_memory_stats()
    before = ember.cuda.memory_stats()
    assert set(before) == {"allocated_bytes.all.current", "allocated_bytes.all.peak",
                           "reserved_bytes.all.current", "reserved_bytes.all.peak", "num_ooms"}
    assert before["allocated_bytes.all.current"] == ember.cuda.memory_allocated()
    assert before["reserved_bytes.all.current"] == ember.cuda.memory_reserved()
    x = ember.empty(1 << 18, device="cuda")
    stats = ember.cuda.memory_stats(0)
    assert stats["allocated_bytes.all.current"] == before["allocated_bytes.all.current"] + (1 << 20)
    assert stats["allocated_bytes.all.peak"] == stats["allocated_bytes.all.current"]
    assert stats["reserved_bytes.all.current"] >= stats["allocated_bytes.all.current"]
    peak = stats["reserved_bytes.all.peak"]
    assert peak >= stats["reserved_bytes.all.current"] == ember.cuda.memory_reserved()
    del x
    assert ember.cuda.max_memory_reserved() == peak            # the peak stays ...
    assert ember.cuda.memory_stats()["allocated_bytes.all.peak"] >= 1 << 20
    ember.cuda.reset_peak_memory_stats()                        # ... until reset
    assert ember.cuda.max_memory_reserved() == ember.cuda.memory_reserved()
    assert ember.cuda.max_memory_allocated() == ember.cuda.memory_allocated()
    summary = ember.cuda.memory_summary()
    assert "Allocated memory" in summary and "GPU reserved memory" in summary
    assert "CUDA OOMs" in summary and ember.cuda.memory_summary(0, abbreviated=True) == summary


def test_mem_get_info():
    free, total = ember.cuda.mem_get_info()
    assert total == ember.cuda.get_device_properties(0).total_memory
    assert 0 <= free <= total
    assert ember.cuda.mem_get_info("cuda:0")[1] == total


def test_deprecated_names_warn_and_forward():
    with pytest.warns(FutureWarning, match="renamed to `ember.cuda.memory_reserved`"):
        assert ember.cuda.memory_cached() == ember.cuda.memory_reserved()
    with pytest.warns(FutureWarning, match="renamed to `ember.cuda.max_memory_reserved`"):
        assert ember.cuda.max_memory_cached() == ember.cuda.max_memory_reserved()
    x = ember.empty(1 << 10, device="cuda")
    del x
    with pytest.warns(FutureWarning, match="resets /all/ peak memory stats"):
        ember.cuda.reset_max_memory_allocated()
    assert ember.cuda.max_memory_allocated() == ember.cuda.memory_allocated()


def test_memory_fraction_limits_the_pool_and_oom_raises():
    assert ember.cuda.get_per_process_memory_fraction() == 1.0
    total = ember.cuda.get_device_properties(0).total_memory
    ooms = ember.cuda.memory_stats()["num_ooms"]
    try:
        ember.cuda.set_per_process_memory_fraction(0.25)
        assert ember.cuda.get_per_process_memory_fraction(0) == 0.25
        small = ember.ones(4, device="cuda")                  # fits
        with pytest.raises(ember.cuda.OutOfMemoryError, match="CUDA out of memory"):
            ember.empty(total // 2, dtype=ember.uint8, device="cuda")
        assert ember.cuda.memory_stats()["num_ooms"] == ooms + 1
        assert isinstance(ember.cuda.OutOfMemoryError("x"), RuntimeError)
        assert small.cpu().tolist() == [1.0] * 4
        ember.cuda.set_per_process_memory_fraction(0.0)        # nothing fits
        with pytest.raises(ember.cuda.OutOfMemoryError):
            ember.ones(1, device="cuda")
    finally:
        ember.cuda.set_per_process_memory_fraction(1.0)
    with pytest.raises(TypeError, match="must be `float`"):
        ember.cuda.set_per_process_memory_fraction(1)
    with pytest.raises(ValueError, match="Allowed range: 0~1"):
        ember.cuda.set_per_process_memory_fraction(1.5)


def test_streams():
    default = ember.cuda.default_stream()
    assert default.cuda_stream == 0 and default.device_index == 0
    assert ember.cuda.current_stream() == default              # outside any stream block
    s = ember.cuda.Stream()
    with ember.cuda.StreamContext(s) as entered:
        assert entered is None
        assert ember.cuda.current_stream() == s
        y = ember.ones(5, device="cuda") * 2
    assert ember.cuda.current_stream() == default
    with ember.cuda.StreamContext(None):
        assert ember.cuda.current_stream() == default
    external = ember.cuda.ExternalStream(s.cuda_stream)
    assert isinstance(external, ember.cuda.Stream) and external == s
    with ember.cuda.stream(external):
        z = y + 1
    external.synchronize()
    assert z.cpu().tolist() == [3.0] * 5


def test_device_of():
    x = ember.ones(2, device="cuda")
    with ember.cuda.device_of(x):
        assert ember.cuda.current_device() == 0
    with ember.cuda.device_of(ember.ones(2)):                  # a CPU tensor: no change
        assert ember.cuda.current_device() == 0


def test_bf16_tensors_where_supported():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert ember.cuda.is_bf16_supported()
    x = ember.tensor([1.5, -2.0], dtype=ember.bfloat16, device="cuda")
    assert (x * 2).cpu().float().tolist() == [3.0, -4.0]


def test_data_parallel_on_one_device():
    module = ember.nn.Linear(3, 2)
    expected = module(ember.ones(4, 3))
    model = ember.nn.DataParallel(module)                     # every GPU: the one there is
    assert model.device_ids == [0] and model.output_device == 0
    assert module.weight.device == ember.device("cuda", 0)    # moved to device_ids[0]
    out = model(ember.ones(4, 3))                             # inputs follow it there
    assert out.device == ember.device("cuda", 0)
    assert (out.cpu() - expected).abs().max().item() < 1e-6
    kwargs_out = ember.nn.DataParallel(ember.nn.Bilinear(2, 2, 1), device_ids=["cuda:0"])(
        ember.ones(3, 2), input2=ember.ones(3, 2))
    assert kwargs_out.device == ember.device("cuda", 0)
    assert sorted(model.state_dict()) == ["module.bias", "module.weight"]
    module.cpu()
    with pytest.raises(RuntimeError, match=r"parameters and buffers on device cuda:0"):
        model(ember.ones(4, 3))
    with pytest.raises(NotImplementedError, match="one device"):
        ember.nn.DataParallel(ember.nn.Linear(3, 2), device_ids=[0, 1])


def test_muon_steps_on_the_gpu_as_on_the_cpu():
    """Within the bfloat16 rounding of the updates (lr 0.02, three steps): cuBLAS may sum
    the Newton-Schulz products in another order than the CPU."""
    rng = np.random.default_rng(0)
    start = rng.standard_normal((5, 3)).astype(np.float32)
    params = [ember.tensor(start, requires_grad=True),
              ember.tensor(start, device="cuda", requires_grad=True)]
    opts = [ember.optim.Muon([p], lr=0.02) for p in params]
    for _ in range(3):
        grad = rng.standard_normal((5, 3)).astype(np.float32)
        for p, opt in zip(params, opts):
            p.grad = ember.tensor(grad, device=p.device)
            opt.step()
    cpu, gpu = params[0].detach().numpy(), params[1].detach().cpu().numpy()
    np.testing.assert_allclose(gpu, cpu, rtol=0, atol=3e-3)
    assert not np.allclose(cpu, start, atol=1e-2)
