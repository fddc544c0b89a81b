"""Build checks of the CUDA kernels that need no GPU: the kernels render from the op
table, the installed fatbins hold the configured architectures, and the sources
compile the way NVRTC compiles them at run time."""
import json
import os
import shutil
import struct
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from ember.cuda import _build, _kernels

ROOT = Path(__file__).resolve().parents[2]
TOOLS = ROOT / "tools"
KERNELS = ROOT / "src" / "ember" / "cuda" / "kernels"
TABLES = [ROOT / "src" / "ember" / "ops" / "elementwise.toml",
          ROOT / "src" / "ember" / "ops" / "activations.toml"]
NVCC = shutil.which("nvcc")
needs_sources = pytest.mark.skipif(not (TOOLS / "gen_loops.py").is_file(),
                                   reason="the source tree's tools/ is not beside the tests")
needs_nvcc = pytest.mark.skipif(NVCC is None, reason="nvcc is not on PATH")


def render(tmp_path, family, mode, tables=TABLES):
    out = tmp_path / f"{family}.cu"
    subprocess.run([sys.executable, str(TOOLS / "gen_loops.py"), str(KERNELS / f"{family}.cu.in"),
                    mode, "-o", str(out), *map(str, tables)], check=True)
    return out


def load_table():
    table = {}
    for path in TABLES:
        with open(path, "rb") as f:
            table.update(tomllib.load(f))
    return table


@needs_sources
def test_every_op_of_the_table_has_cuda_kernels(tmp_path):
    text = render(tmp_path, "elementwise", "cuda").read_text()
    for name, spec in load_table().items():
        for suffix in ("c", "s32", "s64"):
            assert f"em_cu_{name}_" in text and f"_{suffix}(" in text, name
            if "c" in spec["kinds"]:
                for dt in ("complex64", "complex128"):
                    assert f"em_cu_{name}_{dt}_{suffix}(" in text, (name, dt)
    assert "em_cu_add_float32_c(" in text and "em_cu_where_bfloat16_s64(" in text
    # abs and angle of complex have real results
    assert "typedef float OT;\n    typedef em_complex64 IT0;" in text


@needs_sources
def test_every_cast_pair_has_kernels(tmp_path):
    text = render(tmp_path, "copy", "cuda-cast").read_text()
    names = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "bfloat16",
             "float32", "float64", "complex64", "complex128"]
    for src in names:
        for dst in names:
            assert f"em_cu_cast_{src}_{dst}_s64(" in text
    for bits in (8, 16, 32, 64, 128):
        assert f"em_cu_fill{bits}_s32(" in text


@needs_sources
def test_index_kernels_cover_every_dtype_and_index_width(tmp_path):
    text = render(tmp_path, "index", "cuda-index").read_text()
    names = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "bfloat16",
             "float32", "float64"]
    for index in ("i32", "i64"):
        for bits in (8, 16, 32, 64, 128):        # 64 and 128 bits: complex64, complex128
            assert f"em_cu_gather{bits}_{index}(" in text
            assert f"em_cu_scatter{bits}_{index}(" in text
        for name in names:
            for op in ("add", "mul", "max", "min"):
                assert f"em_cu_scatter_{op}_{name}_{index}(" in text
        for name in ("complex64", "complex128"):
            assert f"em_cu_scatter_add_{name}_{index}(" in text
            assert f"em_cu_scatter_mul_{name}_{index}(" not in text
        assert f"em_cu_index_offset_{index}(" in text and f"em_cu_index_check_{index}(" in text
    assert "em_cu_masked_fill64(" in text and "em_cu_masked_fill128(" in text


def render_reduce(tmp_path, family):
    out = tmp_path / f"{family}.cu"
    subprocess.run([sys.executable, str(TOOLS / "gen_reduce.py"), "--cuda",
                    str(KERNELS / f"{family}.cu.in"), "-o", str(out)], check=True)
    return out


@needs_sources
def test_every_reduction_scan_and_softmax_has_cuda_kernels(tmp_path):
    text = render_reduce(tmp_path, "reduce").read_text()
    reals = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "bfloat16",
             "float32", "float64"]
    for dt in reals:
        for op in ("sum", "prod", "max", "min", "all", "any", "argmax", "argmin"):
            for path in ("inner", "outer", "finish"):
                assert f"em_cu_red_{op}_{dt}_{path}(" in text, (op, dt, path)
    for dt in reals[6:]:
        for op in ("max_abs", "min_abs", "abs_sum", "sq_sum", "pow_sum", "nonzero", "var"):
            assert f"em_cu_red_{op}_{dt}_inner(" in text, (op, dt)
    # complex: the product and the abs-based reductions (sums reduce a real view)
    for dt in ("complex64", "complex128"):
        for op in ("prod", "max_abs", "min_abs", "abs_sum", "pow_sum", "nonzero", "all", "any"):
            assert f"em_cu_red_{op}_{dt}_finish(" in text, (op, dt)
        for op in ("sum", "max", "argmax", "var"):
            assert f"em_cu_red_{op}_{dt}_" not in text, (op, dt)
    text = render_reduce(tmp_path, "scan").read_text()
    for dt in reals:
        for op in ("cumsum", "cumprod"):
            assert f"em_cu_{op}_{dt}_block(" in text and f"em_cu_{op}_{dt}_serial(" in text
        for op in ("cummax", "cummin"):
            assert f"em_cu_{op}_{dt}_block(" in text and f"em_cu_{op}_{dt}_serial(" in text
    for dt in reals[6:]:
        for op in ("softmax", "log_softmax", "softmax_backward", "log_softmax_backward",
                   "logcumsumexp"):
            assert f"em_cu_{op}_{dt}_block(" in text and f"em_cu_{op}_{dt}_serial(" in text
    for dt in ("complex64", "complex128"):       # complex cumsums scan a real view
        assert f"em_cu_cumprod_{dt}_block(" in text and f"em_cu_cumsum_{dt}_" not in text


@needs_sources
def test_every_floating_dtype_has_an_unscale_kernel(tmp_path):
    text = render(tmp_path, "amp", "cuda-cast").read_text()
    for name in ("float16", "bfloat16", "float32", "float64"):
        assert f"em_cu_amp_unscale_{name}(" in text
    assert "em_cu_amp_unscale_int" not in text and "complex" not in text
    # 16-bit gradients compute in float, float64 ones in double (PyTorch's opmath)
    assert "em_half_to_float(g[i])" in text and "typedef double T;" in text


@needs_sources
def test_random_kernels_cover_every_fill(tmp_path):
    text = render(tmp_path, "random", "cuda-cast").read_text()
    for kind in ("uniform_f32", "uniform_f64", "normal_f32", "normal_f64", "randint_small",
                 "randint_large", "bernoulli", "exponential_f32", "exponential_f64"):
        assert f"em_cu_rng_{kind}(" in text
    assert '#include "ember/philox.h"' in text      # the CPU's per-value math, shared


@needs_sources
def test_optim_kernels_cover_sgd_and_adam_for_every_float(tmp_path):
    text = render(tmp_path, "optim", "cuda-cast").read_text()
    for name in ("float16", "bfloat16", "float32", "float64"):
        assert f"em_cu_optim_sgd_{name}(" in text and f"em_cu_optim_adam_{name}(" in text


@needs_sources
def test_conv_and_pool_kernels_cover_every_float(tmp_path):
    text = render(tmp_path, "conv", "cuda-cast").read_text()
    for bits in (16, 32, 64):
        assert f"em_cu_im2col{bits}(" in text
    floats = ("float16", "bfloat16", "float32", "float64")
    for name in floats:
        assert f"em_cu_col2im_{name}(" in text
    text = render(tmp_path, "pool", "cuda-cast").read_text()
    for name in floats:
        for kind in ("max_pool", "avg_pool", "avg_pool_backward", "adaptive_avg_pool",
                     "adaptive_avg_pool_backward", "adaptive_max_pool"):
            assert f"em_cu_{kind}_{name}(" in text, (kind, name)
    assert "em_cu_pool_scatter_float32(" in text and "em_cu_pool_scatter_float64(" in text
    for family in ("conv", "pool"):   # the backwards gather: deterministic
        assert "atomic" not in render(tmp_path, family, "cuda-cast").read_text().split("*/", 1)[1]


def test_geometry_structs_match_the_c_structs():
    """em_cu_conv_geom and em_cu_pool_geom: int64 fields and int64[3] arrays in order."""
    from ember.cuda import _conv, _pool
    for dtype, words in ((_conv.GEOM_DTYPE, 2 + 6 * 3 + 2), (_pool.GEOM_DTYPE, 1 + 6 * 3 + 2)):
        assert dtype.itemsize == 8 * words
        offsets = [dtype.fields[name][1] for name in dtype.names]
        assert offsets == sorted(offsets)
    for family, struct_name, dtype in (("conv", "em_cu_conv_geom", _conv.GEOM_DTYPE),
                                       ("pool", "em_cu_pool_geom", _pool.GEOM_DTYPE)):
        source = (KERNELS / f"{family}.cu.in").read_text()
        body = source.split(f"struct {struct_name} {{", 1)[1].split("};", 1)[0]
        fields = [f.strip().split("[")[0] for line in body.splitlines()
                  for f in line.replace("int64_t", "").rstrip(";").split(",") if f.strip()]
        assert fields == list(dtype.names), family


def compile_for_each_arch(source, family):
    """SASS of `source` for sm_80 and sm_90, as the build's fatbin step compiles it.  When
    the build made fatbins, it compiled this very source (checked here; the fatbins' images
    by test_fatbins_hold_sass_for_each_arch_and_ptx_of_the_last): the minutes are not spent
    twice."""
    if _build.FATBIN_ARCHS:
        assert source.read_text() == _kernels.kernel_file(family + ".cu").read_text()
        return
    run = subprocess.run([NVCC, "--fatbin", "-O1", "-std=c++17", "-diag-suppress", "186",
                          "-gencode", "arch=compute_80,code=sm_80",
                          "-gencode", "arch=compute_90,code=sm_90", f"-I{KERNELS}",
                          "-o", os.devnull, str(source)], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr


@needs_nvcc
@pytest.mark.parametrize("family", ["conv", "pool"])
def test_conv_and_pool_families_compile_for_each_arch_and_as_nvrtc(tmp_path, family):
    source = render(tmp_path, family, "cuda-cast")
    compile_for_each_arch(source, family)
    header = (KERNELS / "ember_cuda.cuh").read_text()
    for arch in ("80", "90"):
        compile_as_nvrtc(source.read_text().replace('#include "ember_cuda.cuh"', header), arch,
                         tmp_path)
def test_norm_kernels_cover_the_fused_norms_and_cross_entropy(tmp_path):
    text = render(tmp_path, "norm", "cuda-cast").read_text()
    for name in ("float32", "float64"):
        for kernel in ("layer_norm_fwd", "layer_norm_bwd", "layer_norm_bwd_params",
                       "norm_colsum", "batch_norm_stats", "batch_norm_apply",
                       "batch_norm_bwd_reduce", "batch_norm_bwd_input", "group_norm_fwd",
                       "group_norm_bwd", "group_norm_bwd_params", "cross_entropy_total"):
            assert f"em_cu_{kernel}_{name}(em_norm_args a)" in text, (kernel, name)
        for kernel in ("cross_entropy_fwd", "cross_entropy_bwd"):
            for path in ("block", "serial"):
                assert f"em_cu_{kernel}_{name}_{path}(em_norm_args a)" in text
    assert "atomicAdd" not in text        # deterministic: no float atomics


@needs_nvcc
@pytest.mark.parametrize("family", ["reduce", "scan", "norm"])
def test_reduction_families_compile_for_each_arch_and_as_nvrtc(tmp_path, family):
    """SASS for sm_80 and sm_90 (as the build's fatbin step compiles them), and the
    NVRTC form (header inlined, no host headers)."""
    source = render(tmp_path, family, "cuda-cast") if family == "norm" else \
        render_reduce(tmp_path, family)
    compile_for_each_arch(source, family)
    header = (KERNELS / "ember_cuda.cuh").read_text()
    compile_as_nvrtc(source.read_text().replace('#include "ember_cuda.cuh"', header), "80",
                     tmp_path)


def test_installed_kernels_match_the_build():
    """The rendered sources always ship (for NVRTC); the fatbins exactly when nvcc built them."""
    for family in ("elementwise", "copy", "index", "reduce", "scan", "amp", "random", "optim",
                   "conv", "pool", "norm"):
        assert _kernels.kernel_file(family + ".cu").is_file()
        assert _kernels.kernel_file(family + ".fatbin").is_file() == bool(_build.FATBIN_ARCHS)
    assert '#include "ember_cuda.cuh"' not in _kernels.nvrtc_source("copy")
    random = _kernels.nvrtc_source("random")
    assert '#include "ember/philox.h"' not in random and "em_philox4x32_10" in random


def fatbin_images(data):
    """(kind, arch) of each image in a fatbin: kind 1 is PTX, 2 is SASS (an ELF cubin).

    The container: a 16-byte header (magic 0xBA55ED50, version, header size, payload
    size), then per image a header (kind u16, version u16, header size u32, payload size
    u64, ..., arch u32 at byte 28) and its payload."""
    magic, _, header, size = struct.unpack_from("<IHHQ", data, 0)
    assert magic == 0xBA55ED50, hex(magic)
    images, offset = [], header
    while offset < header + size:
        kind, _, entry_header, payload = struct.unpack_from("<HHIQ", data, offset)
        images.append((kind, struct.unpack_from("<I", data, offset + 28)[0]))
        offset += entry_header + payload
    return images


@pytest.mark.skipif(not _build.FATBIN_ARCHS, reason="built without nvcc: no fatbins "
                    "(configure with -Dcuda=enabled and nvcc on PATH to build them)")
def test_fatbins_hold_sass_for_each_arch_and_ptx_of_the_last():
    expected = {(2, int(arch)) for arch in _build.FATBIN_ARCHS}
    expected.add((1, int(_build.FATBIN_ARCHS[-1])))
    for family in ("elementwise", "copy", "index", "reduce", "scan", "amp", "random", "optim",
                   "conv", "pool", "norm"):
        data = _kernels.kernel_file(family + ".fatbin").read_bytes()
        assert set(fatbin_images(data)) == expected, family


def toml_value(v):
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{k} = {toml_value(x)}" for k, x in v.items()) + " }"
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    return json.dumps(v)


def _nvrtc():
    """CuPy's NVRTC bindings when libnvrtc loads, else None."""
    try:
        from cupy_backends.cuda.libs import nvrtc
        nvrtc.getVersion()
        return nvrtc
    except Exception:
        return None


def compile_as_nvrtc(source, arch, tmp_path):
    """Compile NVRTC's input ``source`` (header inlined) to PTX: with NVRTC itself when it
    loads, else with nvcc taking the header's no-host-headers branch."""
    nvrtc = _nvrtc()
    if nvrtc is not None:
        prog = nvrtc.createProgram(source, "ember.cu", [], [])
        try:
            nvrtc.compileProgram(prog, ["-std=c++17", f"--gpu-architecture=compute_{arch}"])
        except Exception:
            pytest.fail(nvrtc.getProgramLog(prog))
        return
    if NVCC is None:
        pytest.skip("neither NVRTC (libnvrtc via CuPy) nor nvcc is available")
    src = tmp_path / f"nvrtc_{arch}.cu"
    src.write_text(source)
    run = subprocess.run([NVCC, "--ptx", "-std=c++17", f"-arch=compute_{arch}",
                          "-DEM_CUDA_NO_HOST_HEADERS", "-diag-suppress", "177,186",
                          "-o", os.devnull, str(src)], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr


@needs_sources
@pytest.mark.parametrize("arch", ["80", "90"])
def test_sources_compile_as_nvrtc_does(tmp_path, arch):
    """The copy, index, amp, random and optim kernels whole, and the elementwise template
    over one op of each shape (unary, binary, where, ternary, integer division with its
    error flag, the shifts) and the complex functions of ember_cuda.cuh (through the ops
    that call them): the full elementwise file is compiled by the build's nvcc step."""
    subset = {name: spec for name, spec in load_table().items()
              if name in ("exp", "add", "where", "clamp", "floor_divide", "bitwise_left_shift",
                          "threshold_backward", "div", "abs", "angle", "pow", "sqrt", "tan",
                          "asin", "acos", "acosh", "atan", "log1p", "sgn", "isinf")}
    table = tmp_path / "subset.toml"
    table.write_text("\n".join(f"[{name}]\n" + "\n".join(f"{k} = {toml_value(v)}"
                                                          for k, v in spec.items())
                               for name, spec in subset.items()))
    header = (KERNELS / "ember_cuda.cuh").read_text()
    philox = (ROOT / "include" / "ember" / "philox.h").read_text()
    for family, mode, tables in (("copy", "cuda-cast", TABLES), ("index", "cuda-index", TABLES),
                                 ("amp", "cuda-cast", TABLES), ("random", "cuda-cast", TABLES),
                                 ("optim", "cuda-cast", TABLES),
                                 ("elementwise", "cuda", [table])):
        code = render(tmp_path, family, mode, tables).read_text()
        code = code.replace('#include "ember_cuda.cuh"', header)
        compile_as_nvrtc(code.replace('#include "ember/philox.h"', philox), arch, tmp_path)


def test_layout_struct_matches_the_c_struct():
    """em_cuda_layout: int64 shape[8], int64 strides[4][8], int64 numel, int32 ndim, pad."""
    assert _kernels.LAYOUT_DTYPE.itemsize == 8 * 8 + 8 * 4 * 8 + 8 + 4 + 4
    assert [_kernels.LAYOUT_DTYPE.fields[f][1] for f in ("shape", "strides", "numel", "ndim")] \
        == [0, 64, 320, 328]


def test_layout_merges_contiguous_dims_and_picks_the_index_width():
    # a transposed (3, 4) float32 output and a row broadcast over it
    rec, small = _kernels.layout((3, 4), [[4, 12], [0, 4]])
    assert small and rec["ndim"][0] == 2 and rec["numel"][0] == 12
    assert rec["shape"][0, :2].tolist() == [3, 4]
    assert rec["strides"][0, 0, :2].tolist() == [4, 12]
    # contiguous operands merge into one dim; size-1 dims vanish
    rec, _ = _kernels.layout((2, 1, 3, 5), [[60, 60, 20, 4], [60, 0, 20, 4]])
    assert rec["ndim"][0] == 1 and rec["shape"][0, 0] == 30
    # offsets past 2**31 bytes need 64-bit index math
    _, small = _kernels.layout((2, 2**30), [[2**32, 4], [2**32, 4]])
    assert not small
    with pytest.raises(NotImplementedError, match="at most 8 dims"):
        _kernels.layout((2,) * 9, [[4 ** (9 - d) for d in range(9)]])   # gaps: no merging
