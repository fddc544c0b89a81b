"""The dispatch of the fused norms, cross-entropy and CTC loss (kernels/norm.cu), of
cummax/cummin/logcumsumexp (kernels/scan.cu), checked without a GPU: the CuPy
stand-in of cuda_helpers records the launches (and would crash a CPU kernel touching
'device' memory).  Which kernels run, with what grid, block and em_norm_args, the
outputs' dtypes, shapes and devices, and the errors."""
import ctypes

import numpy as np
import pytest

import ember
import ember.nn.functional as F
from ember.cuda import _backend, _kernels, _nn_fused, _runtime

from cuda_helpers import FlagArray, rec  # noqa: F401  (the fixture)


def cuda(*shape, dtype=ember.float32):
    return ember.empty(*shape, dtype=dtype, device="cuda")


def launches(rec, prefix="em_cu_"):
    """(name, grid, block, args) of the launches whose name starts with ``prefix``."""
    return [(n, g, b, a) for _, n, g, b, a in rec.launches if n.startswith(prefix)]


def norm_args(args):
    (record,) = args
    assert record.dtype == _nn_fused.ARGS_DTYPE
    return record[0]


def test_args_record_matches_the_c_struct_layout():
    # struct em_norm_args: 17 pointers, 8 int64, 3 doubles, 4 int32
    assert _nn_fused.ARGS_DTYPE.itemsize == 17 * 8 + 8 * 8 + 3 * 8 + 4 * 4
    assert _nn_fused.ARGS_DTYPE.fields["rows"][1] == 17 * 8
    assert _nn_fused.ARGS_DTYPE.fields["center"][1] == 17 * 8 + 8 * 8 + 3 * 8


def test_layer_norm_is_one_block_per_row_with_saved_statistics(rec):
    x, w, b = cuda(6, 100), cuda(100), cuda(100)
    y = F.layer_norm(x, (100,), w, b, eps=1e-3)
    [(name, grid, block, args)] = launches(rec, "em_cu_layer_norm")
    assert name == "em_cu_layer_norm_fwd_float32"
    assert grid == (6,) and block == (128,)
    a = norm_args(args)
    assert (a["x"], a["weight"], a["bias"], a["y"]) == (x.data_ptr(), w.data_ptr(),
                                                        b.data_ptr(), y.data_ptr())
    assert a["rows"] == 6 and a["cols"] == 100 and a["eps"] == pytest.approx(1e-3)
    assert a["center"] == 1 and a["out_mean"] and a["out_rstd"]
    assert y.device.type == "cuda" and y.shape == (6, 100) and y.dtype == ember.float32
    F.rms_norm(cuda(2, 5, dtype=ember.float64), (5,))
    name, grid, block, args = launches(rec, "em_cu_layer_norm")[-1]
    assert name == "em_cu_layer_norm_fwd_float64" and block == (32,)
    assert norm_args(args)["center"] == 0


def test_half_inputs_compute_in_float32_and_round_back(rec):
    x = cuda(3, 8, dtype=ember.bfloat16)
    y = F.layer_norm(x, (8,))
    assert launches(rec, "em_cu_layer_norm")[0][0] == "em_cu_layer_norm_fwd_float32"
    assert "em_cu_cast_bfloat16_float32_c" in rec.names()
    assert rec.names()[-1] == "em_cu_cast_float32_bfloat16_c" and y.dtype == ember.bfloat16


def test_layer_norm_backward_sums_columns_in_two_passes(rec):
    x = cuda(300, 8).requires_grad_(True)
    w = cuda(8).requires_grad_(True)
    b = cuda(8).requires_grad_(True)
    F.layer_norm(x, (8,), w, b).sum().backward()
    names = [n for n, _, _, _ in launches(rec, "em_cu_")]
    assert names[-3:] == ["em_cu_layer_norm_bwd_float32", "em_cu_layer_norm_bwd_params_float32",
                          "em_cu_norm_colsum_float32"]
    (_, grid, block, args), = [x for x in launches(rec) if x[0].endswith("bwd_params_float32")]
    a = norm_args(args)
    assert a["splits"] == 5 and grid == (1, 5) and block == (256,)       # 300 rows, 64 a split
    assert a["grad_weight"] == w.grad.data_ptr() and a["grad_bias"] == b.grad.data_ptr()
    assert a["work"] != 0 and x.grad.device.type == "cuda"


def test_batch_norm_launches_statistics_then_elements(rec):
    x = cuda(4, 3, 10)
    rm, rv = cuda(3), cuda(3)
    F.batch_norm(x, rm, rv, training=True, momentum=0.2)
    (n1, g1, b1, a1), (n2, g2, b2, _) = launches(rec, "em_cu_batch_norm")
    assert (n1, n2) == ("em_cu_batch_norm_stats_float32", "em_cu_batch_norm_apply_float32")
    assert g1 == (3,) and b1 == (64,)                   # a block per channel over 40 elements
    a = norm_args(a1)
    assert a["running_mean"] == rm.data_ptr() and a["running_var"] == rv.data_ptr()
    assert a["training"] == 1 and a["momentum"] == pytest.approx(0.2)
    assert (a["n"], a["channels"], a["spatial"]) == (4, 3, 10)
    F.batch_norm(x, rm, rv, training=False)
    assert norm_args(launches(rec, "em_cu_batch_norm_stats")[-1][3])["training"] == 0


def test_group_norm_and_backward(rec):
    x = cuda(2, 6, 5).requires_grad_(True)
    w = cuda(6).requires_grad_(True)
    F.group_norm(x, 3, w).sum().backward()
    names = [n for n, _, _, _ in launches(rec, "em_cu_group_norm")]
    assert names == ["em_cu_group_norm_fwd_float32", "em_cu_group_norm_bwd_float32",
                     "em_cu_group_norm_bwd_params_float32"]
    _, grid, block, args = launches(rec, "em_cu_group_norm_fwd")[0]
    assert grid == (6,) and block == (32,) and norm_args(args)["groups"] == 3


def test_cross_entropy_paths_and_totals(rec):
    x, t = cuda(5, 40), ember.zeros(5, dtype=ember.int64, device="cuda")
    loss = F.cross_entropy(x, t, label_smoothing=0.1)
    (n1, g1, b1, a1), (n2, g2, b2, _) = launches(rec, "em_cu_cross_entropy")
    assert (n1, n2) == ("em_cu_cross_entropy_fwd_float32_block",
                        "em_cu_cross_entropy_total_float32")
    assert g1 == (5,) and b1 == (64,) and g2 == (1,)
    a = norm_args(a1)
    assert a["reduction"] == 1 and a["smoothing"] == pytest.approx(0.1)
    assert a["ignore_index"] == -100 and a["error"] != 0 and a["target"] == t.data_ptr()
    assert loss.shape == () and loss.device.type == "cuda"
    # classes at a stride: a thread per position
    F.cross_entropy(cuda(2, 4, 3, 3), ember.zeros(2, 3, 3, dtype=ember.int64, device="cuda"),
                    reduction="none")
    assert launches(rec, "em_cu_cross_entropy_fwd")[-1][0] == \
        "em_cu_cross_entropy_fwd_float32_serial"


def test_cross_entropy_backward_reads_the_weight_total_on_the_device(rec):
    x = cuda(3, 4).requires_grad_(True)
    F.cross_entropy(x, ember.zeros(3, dtype=ember.int64, device="cuda")).backward()
    _, _, _, fwd = launches(rec, "em_cu_cross_entropy_total")[0]
    _, _, _, bwd = launches(rec, "em_cu_cross_entropy_bwd")[0]
    # the total kernel writes [loss, weight] sums: backward divides by the second
    assert norm_args(bwd)["work"] == norm_args(fwd)["work"] + 8
    assert norm_args(bwd)["reduction"] == 1


def test_a_target_flagged_by_the_kernel_raises_index_error(rec, monkeypatch):
    flag = FlagArray()
    flag.fill(_backend._ERR_INDEX)
    monkeypatch.setattr(_backend, "_error_flags", {0: flag})
    # the stand-in copies nothing: the host copy of the targets, for the message
    monkeypatch.setattr(_backend.CudaBackend, "to_cpu", lambda self, t: ember.tensor([0, 9]))
    with pytest.raises(IndexError, match="Target 9 is out of bounds"):
        F.cross_entropy(cuda(2, 4), ember.zeros(2, dtype=ember.int64, device="cuda"))
    assert flag[0] == 0                                 # cleared for the next launch


def test_tensors_on_other_devices_are_refused(rec):
    with pytest.raises(RuntimeError, match="same device.*cuda:0 and cpu"):
        F.layer_norm(cuda(2, 4), (4,), ember.ones(4))
    with pytest.raises(RuntimeError, match="same device.*cuda:0 and cpu"):
        F.cross_entropy(cuda(2, 4), ember.zeros(2, dtype=ember.int64))
    with pytest.raises(RuntimeError, match="expected a floating point input"):
        ember.ops.nn_fused.fused_layer_norm(cuda(2, 4, dtype=ember.int32), 4)


def test_empty_inputs_launch_nothing_but_the_totals(rec):
    F.layer_norm(cuda(0, 4), (4,))
    loss = F.cross_entropy(cuda(0, 3), ember.zeros(0, dtype=ember.int64, device="cuda"))
    assert [n for n, _, _, _ in launches(rec, "em_cu_")
            if "norm" in n or "cross" in n] == ["em_cu_cross_entropy_total_float32"]
    assert loss.shape == ()


# ---------------------------------------------------------------- cummax, cummin, logcumsumexp

def test_cumulative_extremes_launch_scan_kernels_with_their_positions(rec):
    x = cuda(4, 60)
    values, indices = ember.cummax(x, 1)
    name, grid, block, args = launches(rec, "em_cu_cummax")[0]
    assert name == "em_cu_cummax_float32_block" and grid == (4,) and block == (64,)
    assert args[:3] == (values.data_ptr(), x.data_ptr(), indices.data_ptr())
    assert indices.dtype == ember.int64 and indices.device.type == "cuda"
    assert [int(v) for v in args[4:]] == [60, 4, 4, 8]      # length, byte strides
    ember.cummin(cuda(4, 6, dtype=ember.int16), 0)
    assert rec.names()[-1] == "em_cu_cummin_int16_serial"
    ember.logcumsumexp(cuda(3, 40, dtype=ember.float16), 1)
    assert rec.names()[-1] == "em_cu_logcumsumexp_float16_block"
    with pytest.raises(NotImplementedError, match="cummax_cpu.*ComplexFloat"):
        ember.cummax(cuda(3, dtype=ember.complex64), 0)


def test_no_cpu_kernel_sees_device_memory_in_sorts(rec, monkeypatch):
    # the sorts go to CuPy, which this stand-in lacks: the call fails there, not in C
    with pytest.raises(AttributeError):
        ember.sort(cuda(3, 4), 1)
    assert np.all([c[0] != 2 for c in rec.copies])      # nothing was copied to the host
    # nonzero runs ember's compaction kernels and reads back only the count (8 bytes)
    def memcpy(dst, src, n, kind, stream):
        rec.copies.append((kind, n))
        if kind == 2:
            ctypes.memset(dst, 0, n)                     # no True element 'found'
    monkeypatch.setattr(_runtime._cupy.cuda.runtime, "memcpyAsync", memcpy)
    rec.copies.clear()
    assert ember.nonzero(cuda(3, 4)).shape[1] == 2
    assert [n for _, n, _, _, _ in rec.launches if n.startswith("em_cu_mask")] == [
        "em_cu_mask_count", "em_cu_mask_offsets"]
    assert [c for c in rec.copies if c[0] == 2] == [(2, 8)]


def test_ctc_loss_runs_its_recursions_on_the_device(rec):
    from ember._core import _ctc
    lp = cuda(6, 3, 70, dtype=ember.float64)
    targets = [[1, 2] + [3] * 38, [3, 3] + [0] * 38, [4] + [0] * 39]
    nll, grad = _ctc.ctc_loss(lp, targets, [6, 5, 4], [40, 2, 1], 0, True, True)
    assert nll.device.type == grad.device.type == "cuda" and grad.shape == (6, 3, 70)
    (_, alpha, grid, block, args), beta, grads = [c for c in rec.launches
                                                  if c[1].startswith("em_cu_ctc")]
    assert [alpha, beta[1], grads[1]] == ["em_cu_ctc_alpha_float64", "em_cu_ctc_beta_float64",
                                          "em_cu_ctc_grad_float64"]
    assert grid == beta[2] == (3,) and block == beta[3] == (96,)    # 81 positions: 3 warps
    assert grads[2] == (_kernels.grid_for(6 * 3 * 70),)
    (record,) = args
    assert record.dtype == _nn_fused.CTC_DTYPE
    assert [int(record[f][0]) for f in ("T", "N", "C", "S", "blank", "zero_infinity")] == [
        6, 3, 70, 81, 0, 1]
    assert int(record["log_probs"][0]) == lp.data_ptr()
    assert int(record["nll"][0]) == nll.data_ptr() and int(record["grad"][0]) == grad.data_ptr()
    assert all(kind != 2 for kind, _ in rec.copies)       # nothing came back to the host
    rec.launches.clear()
    _ctc.ctc_loss(lp, targets, [6, 5, 4], [40, 2, 1], 0, False, False)
    assert [c[1] for c in rec.launches] == ["em_cu_ctc_alpha_float64"]
