"""Random fills of cuda tensors, checked without a GPU (the CuPy stand-in of
test_backend_launches): each fill is one launch of a random.cu kernel with the CPU
fill's Philox seed, offset and parameters, and nothing is copied from the host; the
numbers themselves are compared with the CPU's on a GPU (test_gpu_amp.py)."""
import math

import numpy as np
import pytest

import ember
from ember._core._random import device_generator

from test_backend_launches import rec  # noqa: F401  (the stand-in fixture)


def launched(rec):  # noqa: F811
    (family, name, grid, block, args), = [r for r in rec.launches if r[0] == "random"]
    return name, args


def test_rand_draws_on_the_device_from_the_cpu_stream_position(rec):  # noqa: F811
    ember.manual_seed(7)
    rec.copies.clear()
    x = ember.rand(10, device="cuda")
    name, args = launched(rec)
    assert name == "em_cu_rng_uniform_f32" and args[0] == x.data_ptr()
    assert [int(a) for a in args[1:5]] == [10, 7, 0, 24]
    assert (float(args[5]), float(args[6]), float(args[7])) == (0.0, 1.0,
                                                                np.nextafter(np.float32(1), 0))
    assert rec.copies == []                               # no host buffer, no copy
    # the generator advanced by the blocks the CPU's fill takes: ceil(10 / 4)
    assert device_generator("cuda").get_offset() == 3
    rec.launches.clear()
    ember.rand(3, device="cuda")
    assert int(launched(rec)[1][3]) == 3


def test_reduced_floats_sample_in_float32_and_cast_on_the_device(rec):  # noqa: F811
    ember.manual_seed(0)
    rec.launches.clear()
    ember.rand(5, dtype=ember.float16, device="cuda")
    assert [n for _, n, _, _, _ in rec.launches] == ["em_cu_rng_uniform_f32",
                                                     "em_cu_cast_float32_float16_c"]
    assert int(rec.launches[0][4][4]) == 11               # float16's mantissa bits


@pytest.mark.parametrize("dtype, name, n, std", [
    (ember.float32, "em_cu_rng_normal_f32", 6, 1.0),
    (ember.float64, "em_cu_rng_normal_f64", 6, 1.0),
    (ember.complex64, "em_cu_rng_normal_f32", 12, math.sqrt(0.5)),
])
def test_randn_kernels(rec, dtype, name, n, std):  # noqa: F811
    ember.manual_seed(1)
    rec.launches.clear()
    ember.randn(2, 3, dtype=dtype, device="cuda")
    kernel, args = launched(rec)
    assert kernel == name and int(args[1]) == n and int(args[2]) == 1
    assert float(args[4]) == 0.0 and float(args[5]) == pytest.approx(std)


def test_randint_picks_the_draw_width_of_the_range(rec):  # noqa: F811
    rec.launches.clear()
    ember.randint(-3, 5, (7,), device="cuda")
    name, args = launched(rec)
    assert name == "em_cu_rng_randint_small"
    assert int(args[4]) == -3 and int(args[5]) == 8
    rec.launches.clear()
    ember.randint(-2 ** 62, 2 ** 62, (7,), device="cuda")
    name, args = launched(rec)
    assert name == "em_cu_rng_randint_large" and int(args[5]) == 2 ** 63


def test_in_place_samplers(rec):  # noqa: F811
    x = ember.empty(9, device="cuda")
    for call, name, value in ((lambda: x.bernoulli_(0.25), "em_cu_rng_bernoulli", 0.25),
                              (lambda: x.exponential_(2.0), "em_cu_rng_exponential_f32", 2.0),
                              (lambda: x.uniform_(-1, 1), "em_cu_rng_uniform_f32", -1.0),
                              (lambda: x.normal_(3.0, 2.0), "em_cu_rng_normal_f32", 3.0)):
        rec.launches.clear()
        call()
        kernel, args = launched(rec)
        assert kernel == name
        assert float(args[4] if name != "em_cu_rng_uniform_f32" else args[5]) == value


def test_dropout_draws_its_mask_on_the_device(rec):  # noqa: F811
    x = ember.empty(4, 5, device="cuda")
    rec.launches.clear()
    rec.copies.clear()
    y = ember.nn.functional.dropout(x, 0.25)
    kernel, args = launched(rec)
    assert kernel == "em_cu_rng_uniform_f32" and int(args[1]) == 20
    assert y.device.type == "cuda"
    assert all(n <= 8 for _, n in rec.copies)            # only scalars cross over


def test_randperm_sorts_on_the_host_and_copies(rec):  # noqa: F811
    rec.copies.clear()
    rec.launches.clear()
    ember.randperm(6, device="cuda")
    assert not [r for r in rec.launches if r[0] == "random"]
    assert rec.copies == [(1, 48)]                        # host to device, 6 int64


def test_cuda_rng_state_functions(rec):  # noqa: F811
    ember.cuda.manual_seed(11)
    assert ember.cuda.initial_seed() == 11
    ember.rand(8, device="cuda")
    state = ember.cuda.get_rng_state()
    assert state.dtype == ember.uint8 and state.device.type == "cpu"
    ember.rand(8, device="cuda")
    ember.cuda.set_rng_state(state)
    assert device_generator("cuda").get_offset() == 2
    assert device_generator("cuda:0").get_offset() == 2
    assert [s.tolist() for s in ember.cuda.get_rng_state_all()] == [state.tolist()]
    ember.cuda.seed()
    assert device_generator("cuda").initial_seed() == device_generator("cuda:0").initial_seed()
    ember.cuda.seed_all()
    ember.cuda.set_rng_state_all([state])
    assert ember.cuda.initial_seed() == 11
