"""The CUDA backend's dispatch, checked without a GPU: a stand-in for CuPy hands out
unreadable 'device' pages and records every copy and kernel launch instead of running
it, so the choice of kernel, its arguments and the launch shapes are tested here; the
numbers themselves are tested on a GPU (test_gpu.py)."""
import pytest

import ember
from ember.cuda import _backend

from cuda_helpers import rec  # noqa: F401  (the fixture)


def test_creation_fills_with_the_value_bits(rec):
    x = ember.ones(4, 6, device="cuda")
    assert x.device == ember.device("cuda", 0) and x.shape == (4, 6)
    (family, name, grid, block, args), = rec.launches
    assert (family, name) == ("copy", "em_cu_fill32_s32")
    assert args[0] == x.data_ptr() and int(args[2]) == 0x3F800000
    assert args[1]["numel"][0] == 24 and args[1]["ndim"][0] == 1
    ember.full((3,), 1, dtype=ember.bfloat16, device="cuda")
    assert rec.names()[-1] == "em_cu_fill16_s32" and int(rec.launches[-1][4][2]) == 0x3F80


def test_contiguous_binary_op_takes_the_vector_path(rec):
    x, y = ember.empty(4, 6, device="cuda"), ember.empty(4, 6, device="cuda")
    z = x + y
    family, name, grid, block, args = rec.launches[-1]
    assert (family, name) == ("elementwise", "em_cu_add_float32_c")
    assert args[:4] == (z.data_ptr(), x.data_ptr(), y.data_ptr(), 0)
    assert args[4] == 24 and int(args[5]) == 0 and args[6] == 0   # n, no scalars, no flag
    assert z.device.type == "cuda" and z.dtype == ember.float32 and z.shape == (4, 6)


def test_python_scalars_become_broadcast_operands(rec):
    x = ember.empty(4, 6, device="cuda")
    x * 2
    assert rec.copies[-1] == (1, 4)                   # the scalar, copied to the device
    assert rec.names() == ["em_cu_mul_float32_c"] and int(rec.launches[-1][4][5]) == 0b10


def test_strided_and_broadcast_operands_take_the_layout_path(rec):
    x, y = ember.empty(4, 6, device="cuda"), ember.empty(6, device="cuda")
    x.t() * y[:4]
    family, name, grid, block, args = rec.launches[-1]
    assert name == "em_cu_mul_float32_s32"
    layout = args[4]
    assert layout["shape"][0, :2].tolist() == [6, 4]
    assert layout["strides"][0, 0, :2].tolist() == [16, 4]     # the new contiguous output
    assert layout["strides"][0, 1, :2].tolist() == [4, 24]     # x.t()
    assert layout["strides"][0, 2, :2].tolist() == [0, 4]      # y broadcast over rows


def test_type_promotion_casts_then_computes(rec):
    x = ember.empty(3, dtype=ember.int32, device="cuda")
    y = ember.empty(3, dtype=ember.float16, device="cuda")
    z = x + y
    assert rec.names()[-2:] == ["em_cu_cast_int32_float16_c", "em_cu_add_float16_c"]
    assert z.dtype == ember.float16
    b = x < 2
    assert rec.names()[-1] == "em_cu_lt_int32_c" and b.dtype == ember.bool


def test_where_passes_the_bool_condition_first(rec):
    c = ember.empty(5, dtype=ember.bool, device="cuda")
    x, y = ember.empty(5, device="cuda"), ember.empty(5, device="cuda")
    ember.where(c, x, y)
    family, name, grid, block, args = rec.launches[-1]
    assert name == "em_cu_where_float32_c" and args[1:4] == (c.data_ptr(), x.data_ptr(),
                                                             y.data_ptr())


def test_integer_division_checks_the_error_word(rec):
    x = ember.empty(5, dtype=ember.int64, device="cuda")
    x // x
    family, name, grid, block, args = rec.launches[-1]
    assert name == "em_cu_floor_divide_int64_c" and args[6] != 0
    flag = _backend._error_flags[0]
    flag.fill(1)          # as a kernel that met a zero divisor
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        _backend._check_error_flag()
    assert flag[0] == 0


def test_copies_between_host_and_device(rec):
    x = ember.arange(6.0).reshape(2, 3)
    d = x.cuda()
    assert rec.copies[-1] == (1, 24) and d.device.type == "cuda"
    d.cpu()
    assert rec.copies[-1] == (2, 24)
    d.t().cpu()                               # strided: made contiguous on the device first
    assert rec.names()[-1] == "em_cu_cast_float32_float32_s32" and rec.copies[-1] == (2, 24)
    d.clone()
    assert rec.copies[-1] == (3, 24)          # same layout and dtype: one device copy
    d.double()
    assert rec.names()[-1] == "em_cu_cast_float32_float64_c"
    assert d.to("cuda") is d and d.to("cuda:0") is d


def test_out_of_another_dtype_computes_then_casts(rec):
    x = ember.empty(4, device="cuda")
    out = ember.empty(4, dtype=ember.float64, device="cuda")
    ember.add(x, x, out=out)
    assert rec.names()[-2:] == ["em_cu_add_float32_c", "em_cu_cast_float32_float64_c"]


def test_empty_out_is_resized_to_the_result(rec):
    x = ember.empty(2, 3, device="cuda")
    out = ember.empty(0, device="cuda")
    storage = out.untyped_storage()
    assert ember.add(x, x, out=out) is out
    assert out.shape == (2, 3) and out.untyped_storage() is storage
    assert storage.nbytes() >= 24 and rec.names()[-1] == "em_cu_add_float32_c"
    grown = ember.empty(3, device="cuda")
    grown.resize_(2, 4)             # keeps the old bytes: one device-to-device copy
    assert grown.shape == (2, 4) and rec.copies[-1] == (3, 12)


def test_complex_dtypes_launch_their_kernels(rec):
    x = ember.empty(3, dtype=ember.complex64, device="cuda")
    x + x
    assert rec.names()[-1] == "em_cu_add_complex64_c"
    x.abs()
    assert rec.names()[-1] == "em_cu_abs_complex64_c"
    x.to(ember.complex128).fill_(1j)
    assert rec.names()[-2:] == ["em_cu_cast_complex64_complex128_c", "em_cu_fill128_s32"]
    x.cumprod(0)
    assert rec.names()[-1] == "em_cu_cumprod_complex64_serial"


def test_modules_and_optimizers_move_to_the_device(rec):
    model = ember.nn.Linear(3, 4)
    model.to("cuda")
    assert all(p.device == ember.device("cuda", 0) for p in model.parameters())
    assert all(p.requires_grad and p.is_leaf for p in model.parameters())
    for p in model.parameters():
        p.grad = ember.empty(p.shape, device="cuda")
    before = len(rec.launches)
    ember.optim.SGD(model.parameters(), lr=0.1, momentum=0.9).step()
    launched = rec.names()[before:]
    assert launched and all(n.startswith("em_cu_") for n in launched)


def test_cuda_manual_seed_seeds_the_cuda_generators(rec):
    from ember._core._random import device_generator
    ember.cuda.manual_seed(123)
    assert device_generator("cuda").initial_seed() == 123
    assert device_generator("cuda:0").initial_seed() == 123
    ember.cuda.manual_seed_all(5)
    assert device_generator("cuda:0").initial_seed() == 5
    ember.manual_seed(9)                  # the CPU's seeds every device's generator
    assert device_generator("cuda").initial_seed() == 9
