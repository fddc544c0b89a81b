"""Loading ember's CUDA kernels and launching them.

Each kernel family (``elementwise``, ``copy``, ``index``, ``reduce``, ``scan``,
``amp``, ``random``, ``optim``, ``conv``, ``pool``, ``norm``) is one module: the fatbin built by meson
(``kernels/<family>.fatbin``, SASS for the build's architectures plus PTX) when it
loads on the current GPU, else the shipped ``kernels/<family>.cu`` compiled at run
time by NVRTC through CuPy (cached by CuPy on disk).
"""
from importlib import resources

import numpy as np

from ember.cuda._runtime import require_gpu

MAX_DIMS = 8      # EM_CUDA_MAX_DIMS in kernels/ember_cuda.cuh
MAX_INPUTS = 3    # EM_CUDA_MAX_INPUTS
BLOCK = 256

# struct em_cuda_layout, field for field (the C struct is naturally aligned)
LAYOUT_DTYPE = np.dtype([("shape", np.int64, (MAX_DIMS,)),
                         ("strides", np.int64, (MAX_INPUTS + 1, MAX_DIMS)),
                         ("numel", np.int64), ("ndim", np.int32), ("pad", np.int32)], align=True)

_HEADER = "ember_cuda.cuh"
_PHILOX = "ember/philox.h"          # include/ember/philox.h, installed beside the kernels
# NVRTC options beyond -std=c++17 (the fatbins get the same from meson.build)
_OPTIONS = {"random": ("--fmad=false",), "optim": ("--fmad=false",)}
_modules = {}      # (family, device ordinal) -> cupy.RawModule
_functions = {}    # (family, name, device ordinal) -> cupy.RawKernel


def kernel_file(name):
    """The installed kernel file ``name`` (a Traversable; may not exist)."""
    return resources.files("ember.cuda") / "kernels" / name


def nvrtc_source(family):
    """The source NVRTC compiles for ``family``: the rendered .cu with its headers inlined,
    so that it needs no include path."""
    code = kernel_file(family + ".cu").read_text()
    for include, name in ((_HEADER, _HEADER), (_PHILOX, "philox.h")):
        code = code.replace(f'#include "{include}"', kernel_file(name).read_text())
    return code


def _load(family):
    cp = require_gpu()
    fatbin = kernel_file(family + ".fatbin")
    if fatbin.is_file():
        try:
            module = cp.RawModule(path=str(fatbin))
            module.get_function(_PROBES[family])   # loads it: fails if no image fits the GPU
            return module
        except cp.cuda.driver.CUDADriverError:
            pass   # no SASS for this GPU and PTX newer than the driver: compile the source
    return cp.RawModule(code=nvrtc_source(family),
                        options=("-std=c++17",) + _OPTIONS.get(family, ()))


# a kernel of each family, loaded to check that the fatbin has an image for the GPU
_PROBES = {"elementwise": "em_cu_add_float32_c", "copy": "em_cu_fill8_s32",
           "index": "em_cu_masked_fill8", "reduce": "em_cu_red_sum_float32_inner",
           "scan": "em_cu_cumsum_float32_block", "amp": "em_cu_amp_unscale_float32",
           "random": "em_cu_rng_bernoulli", "optim": "em_cu_optim_sgd_float32",
           "conv": "em_cu_im2col32", "pool": "em_cu_max_pool_float32",
           "norm": "em_cu_layer_norm_fwd_float32"}


def function(family, name):
    """The kernel ``name`` of ``family`` on the current device (cached)."""
    cp = require_gpu()
    dev = cp.cuda.runtime.getDevice()
    key = (family, name, dev)
    fn = _functions.get(key)
    if fn is None:
        module = _modules.get((family, dev))
        if module is None:
            module = _modules[(family, dev)] = _load(family)
        fn = _functions[key] = module.get_function(name)
    return fn


def grid_for(n, per_thread=1):
    """Blocks for a grid-stride launch over ``n`` items, ``per_thread`` each."""
    blocks = (n + BLOCK * per_thread - 1) // (BLOCK * per_thread)
    return max(1, min(blocks, 65535 * 8))


def coalesce(shape, strides):
    """Merge adjacent dims that are contiguous in every operand (``strides``: one list of
    byte strides per operand, aligned with ``shape``); drops size-1 dims."""
    dims = [(s, [st[d] for st in strides]) for d, s in enumerate(shape) if s != 1]
    merged = []
    for size, st in dims:
        if merged:
            psize, pst = merged[-1]
            if all(pst[k] == st[k] * size for k in range(len(st))):
                merged[-1] = (psize * size, st)
                continue
        merged.append((size, st))
    return [m[0] for m in merged], [[m[1][k] for m in merged] for k in range(len(strides))]


def layout(shape, strides):
    """The ``em_cuda_layout`` argument for ``shape`` and per-operand byte ``strides``, and
    whether 32-bit index math suffices; raises NotImplementedError past MAX_DIMS dims."""
    shape, strides = coalesce(shape, strides)
    if len(shape) > MAX_DIMS:
        raise NotImplementedError(f"CUDA kernels take at most {MAX_DIMS} dims after merging "
                                  f"contiguous ones; got {len(shape)}")
    # a one-element structured array: CuPy passes it by value as the struct
    rec = np.zeros(1, dtype=LAYOUT_DTYPE)
    numel = 1
    for s in shape:
        numel *= s
    rec["ndim"] = len(shape)
    rec["numel"] = numel
    rec["shape"][0, :len(shape)] = shape
    extent = numel
    for k, st in enumerate(strides):
        rec["strides"][0, k, :len(st)] = st
        extent = max(extent, sum(abs(x) * (s - 1) for x, s in zip(st, shape)) + 16)
    return rec, extent < 2**31
