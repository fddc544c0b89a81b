"""ember.profiler and ember.autograd.profiler against torch.profiler: the events of a
training step, record_function nesting, the schedule's states, the Chrome trace, the
table, and that nothing is hooked outside a profiler."""
import json
import threading

import numpy as np
import pytest
import torch
import torch.profiler

import ember
import ember.nn.functional as F
from ember.autograd import profiler as autograd_profiler
from ember.ops import autocast as _autocast
from ember.profiler import (
    EventList, ProfilerAction, ProfilerActivity, profile, record_function, schedule,
    supported_activities, tensorboard_trace_handler,
)

pytestmark = [pytest.mark.filterwarnings("ignore:Profiler won't be using warmup"),
              pytest.mark.filterwarnings("ignore:Warning. Profiler clears events")]


def _mlp_steps(lib, profiler_module, steps, **kwargs):
    """``steps`` SGD steps of a two-layer MLP written with the functional API, profiled."""
    lib.manual_seed(0)
    functional = lib.nn.functional
    w1 = lib.randn(20, 10, requires_grad=True)
    b1 = lib.zeros(20, requires_grad=True)
    w2 = lib.randn(3, 20, requires_grad=True)
    opt = lib.optim.SGD([w1, b1, w2], lr=0.1)
    x = lib.randn(8, 10)
    y = lib.tensor([0, 1, 2, 0, 1, 2, 0, 1])
    with profiler_module.profile(**kwargs) as prof:
        for _ in range(steps):
            opt.zero_grad()
            h = functional.relu(functional.linear(x, w1, b1))
            loss = functional.cross_entropy(functional.linear(h, w2), y)
            loss.backward()
            opt.step()
    return prof


def _counts(prof):
    return {e.key: e.count for e in prof.key_averages()}


def _depth(event):
    d = 0
    while event.cpu_parent is not None:
        event, d = event.cpu_parent, d + 1
    return d


# ---------------------------------------------------------------- op events

@pytest.mark.parametrize("steps", [1, 3])
def test_mlp_training_step_counts_match_torch(steps):
    ours = _counts(_mlp_steps(ember, ember.profiler, steps))
    theirs = _counts(_mlp_steps(torch, torch.profiler, steps))
    shared = ["linear", "relu", "addmm", "cross_entropy"]
    for name in shared:
        torch_name = "aten::cross_entropy_loss" if name == "cross_entropy" else "aten::" + name
        assert ours["ember::" + name] == theirs[torch_name], name
    for key in ["Optimizer.step#SGD.step", "Optimizer.zero_grad#SGD.zero_grad"] + [
            "autograd::engine::evaluate_function: " + n
            for n in ("AddmmBackward0", "MmBackward0", "ReluBackward0", "TBackward0")]:
        assert ours[key] == theirs[key], key
    assert (ours["autograd::engine::evaluate_function: AccumulateGrad"]
            == theirs["autograd::engine::evaluate_function: torch::autograd::AccumulateGrad"]
            == 3 * steps)


def test_calls_counted_as_made():
    x = ember.randn(4, 5, dtype=ember.float64)
    w = ember.randn(5, 5, dtype=ember.float64).t()       # non-contiguous
    with profile() as prof:
        for _ in range(4):
            y = x @ w
        for _ in range(3):
            y = ember.add(y, 1)
        y = y.exp()
        y = y * 2 + y.sum(0)
        F.softmax(y, dim=-1)
    counts = _counts(prof)
    assert counts["ember::matmul"] == 4
    assert counts["ember::add"] == 4       # 3 calls of ember.add and one "+"
    assert counts["ember::exp"] == 1
    assert counts["ember::mul"] == 1
    assert counts["ember::sum"] == 1
    assert counts["ember::softmax"] == 1


def test_backward_node_events_hold_their_ops():
    a = ember.randn(3, 4, requires_grad=True)
    with profile() as prof:
        (a.exp() * 3).sum().backward()
    by_name = {e.name: e for e in prof.events()}
    node = by_name["autograd::engine::evaluate_function: ExpBackward0"]
    assert node.cpu_children, "the gradient formula's ops run inside the node's event"
    assert all(c.end_us <= node.end_us for c in node.cpu_children)
    np.testing.assert_allclose(a.grad.numpy(), 3 * np.exp(a.detach().numpy()), rtol=1e-6)


def test_record_shapes_match_torch():
    x, w = ember.randn(8, 10), ember.randn(20, 10)
    tx, tw = torch.randn(8, 10), torch.randn(20, 10)
    with profile(record_shapes=True) as prof:
        F.linear(x, w)
        ember.cat([x, x])
        x.sum()
    with torch.profiler.profile(record_shapes=True) as tprof:
        torch.nn.functional.linear(tx, tw)
        torch.cat([tx, tx])
    shapes = {e.key: e.input_shapes for e in prof.key_averages(group_by_input_shape=True)}
    tshapes = {e.key: e.input_shapes for e in tprof.key_averages(group_by_input_shape=True)}
    assert shapes["ember::linear"][:2] == tshapes["aten::linear"][:2] == [[8, 10], [20, 10]]
    assert shapes["ember::cat"][0] == [[8, 10], [8, 10]]
    assert shapes["ember::sum"][0] == [8, 10]


def test_group_by_input_shape_and_stack():
    with profile(record_shapes=True, with_stack=True) as prof:
        ember.ones(2, 3).sum()
        ember.ones(4).sum()
    sums = [e for e in prof.key_averages(group_by_input_shape=True) if e.key == "ember::sum"]
    assert sorted(str(e.input_shapes) for e in sums) == ["[[2, 3]]", "[[4]]"]
    assert len([e for e in prof.key_averages() if e.key == "ember::sum"]) == 1
    event = next(e for e in prof.events() if e.name == "ember::sum")
    assert __file__ in event.stack[0] and "test_group_by_input_shape_and_stack" in event.stack[0]
    grouped = prof.key_averages(group_by_stack_n=1)
    assert len([e for e in grouped if e.key == "ember::sum"]) == 2      # two call sites


def test_autocast_inside_profile_still_casts():
    x = ember.randn(4, 4)
    with profile() as prof:
        with ember.autocast("cpu", dtype=ember.bfloat16):
            y = x @ x
        z = x @ x
    assert y.dtype == ember.bfloat16 and z.dtype == ember.float32
    assert _counts(prof)["ember::matmul"] == 2


# ---------------------------------------------------------------- record_function

def test_record_function_nesting_self_and_total():
    x = ember.randn(64, 64)
    with profile() as prof:
        with record_function("outer"):
            with record_function("inner_a"):
                for _ in range(3):
                    x = (x @ x).tanh()
            with record_function("inner_b"):
                x.sum()
    events = {e.name: e for e in prof.events() if e.is_user_annotation}
    outer = events["outer"]
    assert [c.name for c in outer.cpu_children] == ["inner_a", "inner_b"]
    for e in prof.events():
        assert 0 <= e.self_cpu_time_total <= e.cpu_time_total + 1e-9
        assert e.cpu_time_total + 1e-9 >= sum(c.cpu_time_total for c in e.cpu_children)
    assert _depth(next(e for e in prof.events() if e.name == "ember::tanh")) == 2
    avg = {e.key: e for e in prof.key_averages()}
    assert avg["ember::tanh"].count == 3 and avg["outer"].count == 1
    total = prof.key_averages().self_cpu_time_total
    assert total == pytest.approx(outer.cpu_time_total, rel=1e-6)


def test_record_function_decorator_and_recursion():
    @record_function("fact")
    def fact(n):
        return 1 if n == 0 else n * fact(n - 1)

    with profile() as prof:
        assert fact(3) == 6
    facts = [e for e in prof.events() if e.name == "fact"]
    assert len(facts) == 4
    assert [_depth(e) for e in facts] == [0, 1, 2, 3]
    assert fact(2) == 2          # no profiler: the decorator only calls


def test_record_function_and_ops_outside_a_profiler_record_nothing():
    x = ember.ones(3)
    with profile() as prof:
        x + 1
    with record_function("later"):
        x * 2
    assert [e.name for e in prof.events()] == ["ember::add"]


def test_legacy_api_is_the_same_recorder():
    assert autograd_profiler.record_function is record_function
    x = ember.ones(3, 3)
    with autograd_profiler.profile(record_shapes=True) as prof:
        with autograd_profiler.record_function("block"):
            x.mm(x)
    assert isinstance(prof.function_events, EventList)
    assert [(e.key, e.count) for e in prof.key_averages()] == [("block", 1), ("ember::mm", 1)]
    assert "ember::mm" in prof.table() and prof.self_cpu_time_total > 0
    with autograd_profiler.profile(enabled=False) as off:
        x.mm(x)
    assert off is None
    unfinished = autograd_profiler.profile()
    with pytest.raises(RuntimeError, match="didn't finish"):
        unfinished.key_averages()


# ---------------------------------------------------------------- schedule

@pytest.mark.parametrize("kw", [
    dict(wait=1, warmup=1, active=2),
    dict(wait=2, warmup=1, active=3, repeat=2),
    dict(wait=0, warmup=0, active=1, repeat=3),
    dict(wait=1, warmup=2, active=2, repeat=1, skip_first=3),
    dict(wait=3, warmup=1, active=1, skip_first=2, skip_first_wait=1),
])
def test_schedule_states_match_torch(kw):
    ours, theirs = schedule(**kw), torch.profiler.schedule(**kw)
    assert [ours(k).name for k in range(40)] == [theirs(k).name for k in range(40)]
    assert [a.name for a in ProfilerAction] == [a.name for a in torch.profiler.ProfilerAction]


def test_schedule_bad_arguments_raise_like_torch():
    for bad in (dict(wait=-1, warmup=1, active=1), dict(wait=0, warmup=0, active=0)):
        with pytest.raises(AssertionError):
            torch.profiler.schedule(**bad)
        with pytest.raises(AssertionError, match="Invalid profiler schedule"):
            schedule(**bad)


@pytest.mark.parametrize("kw", [dict(wait=1, warmup=1, active=2, repeat=2),
                                dict(wait=0, warmup=1, active=1, skip_first=2)])
def test_profiler_steps_recorded_as_torch(kw):
    def run(lib, prof_module):
        cycles = []

        def ready(p):
            cycles.append(sorted(e.trace_name for e in p.events()
                                 if e.name == "ProfilerStep*"))
        x = lib.ones(4)
        with prof_module.profile(schedule=prof_module.schedule(**kw),
                                 on_trace_ready=ready) as p:
            for _ in range(9):
                x + 1
                p.step()
        return cycles
    assert run(ember, ember.profiler) == run(torch, torch.profiler)


# ---------------------------------------------------------------- output

def test_chrome_trace_is_valid_json_of_complete_events(tmp_path):
    x = ember.randn(5, 5)
    with profile(record_shapes=True) as prof:
        with record_function("region"):
            (x @ x).relu()
    path = tmp_path / "trace.json"
    prof.export_chrome_trace(str(path))
    trace = json.loads(path.read_text())
    events = trace["traceEvents"]
    assert {e["name"] for e in events} == {"region", "ember::matmul", "ember::relu"}
    for e in events:
        assert e["ph"] == "X" and e["dur"] >= 0 and e["ts"] >= 0
        assert {"pid", "tid", "cat", "args"} <= set(e)
    region = next(e for e in events if e["name"] == "region")
    mm = next(e for e in events if e["name"] == "ember::matmul")
    assert region["cat"] == "user_annotation" and mm["cat"] == "cpu_op"
    assert region["ts"] <= mm["ts"] and mm["ts"] + mm["dur"] <= region["ts"] + region["dur"]
    assert mm["args"]["Input Dims"] == [[5, 5], [5, 5]]
    assert [p.name for p in tmp_path.iterdir()] == ["trace.json"]     # no temporary left


def test_tensorboard_trace_handler_writes_one_file_per_cycle(tmp_path):
    logdir = tmp_path / "log"
    x = ember.ones(3)
    with profile(schedule=schedule(wait=0, warmup=1, active=1, repeat=2),
                 on_trace_ready=tensorboard_trace_handler(str(logdir), "w0")) as p:
        for _ in range(6):
            x * 2
            p.step()
    files = sorted(logdir.iterdir())
    assert len(files) == 2 and all(f.name.startswith("w0.") for f in files)
    assert all(f.name.endswith(".pt.trace.json") for f in files)
    for f in files:
        names = {e["name"] for e in json.loads(f.read_text())["traceEvents"]}
        assert "ember::mul" in names and any(n.startswith("ProfilerStep#") for n in names)


@pytest.mark.parametrize("sort_by", [None, "cpu_time_total", "self_cpu_time_total",
                                     "cpu_time", "count", "cuda_time_total"])
def test_table_renders_like_torch(sort_by):
    x = ember.randn(16, 16)
    with profile(record_shapes=True) as prof:
        for _ in range(3):
            x = (x @ x).sigmoid()
    text = prof.key_averages().table(sort_by=sort_by, row_limit=10)
    tx = torch.randn(16, 16)
    with torch.profiler.profile(record_shapes=True) as tprof:
        (tx @ tx).sigmoid()
    theirs = tprof.key_averages().table(sort_by=sort_by, row_limit=10)
    header = [h.strip() for h in text.splitlines()[1].split("  ") if h.strip()]
    their_header = [h.strip() for h in theirs.splitlines()[1].split("  ") if h.strip()]
    assert header == their_header
    assert text.splitlines()[-1].startswith("Self CPU time total:")
    rows = text.splitlines()[3:-2]
    assert {r.split()[0] for r in rows} == {"ember::matmul", "ember::sigmoid"}
    if sort_by == "count":
        assert all(r.split()[-1] == "3" for r in rows)


def test_table_row_limit_and_unknown_key():
    x = ember.ones(3)
    with profile() as prof:
        x + 1
        x * 2
        x.exp()
    assert len(prof.key_averages().table(row_limit=2).splitlines()) == 3 + 2 + 2
    with pytest.raises(AttributeError, match="bogus"):
        prof.key_averages().table(sort_by="bogus")
    tx = torch.ones(3)
    with torch.profiler.profile() as tprof:
        tx + 1
    with pytest.raises(AttributeError, match="bogus"):
        tprof.key_averages().table(sort_by="bogus")


# ---------------------------------------------------------------- hooks come and go

def test_nothing_hooked_outside_a_profile():
    methods = dict(vars(ember.Tensor))
    functions = {n: getattr(ember, n) for n in ("add", "matmul", "sum", "relu")}
    linear, run_backward = F.linear, ember.autograd.engine.run_backward
    with pytest.raises(ValueError):
        with profile():
            assert F.linear is not linear and ember._core._tensor._autocast_mode()
            raise ValueError("leaves the block")
    assert dict(vars(ember.Tensor)) == methods
    assert {n: getattr(ember, n) for n in functions} == functions
    assert F.linear is linear and ember.autograd.engine.run_backward is run_backward
    assert not ember._core._tensor._autocast_mode() and _autocast._interposer is None


def test_one_profiler_at_a_time():
    with profile():
        with pytest.raises(RuntimeError, match="already enabled"):
            with profile():
                pass
    x = ember.ones(2)
    with profile() as again:
        x.exp()
    assert [e.name for e in again.events()] == ["ember::exp"]


def test_other_threads_are_not_recorded():
    x = ember.ones(3)
    with profile() as prof:
        worker = threading.Thread(target=lambda: x.exp())
        worker.start()
        worker.join()
        x.sin()
    assert [e.name for e in prof.events()] == ["ember::sin"]


def test_start_stop_and_activities():
    assert ProfilerActivity.CPU in supported_activities()
    assert {a.name for a in (ProfilerActivity.CPU, ProfilerActivity.CUDA)} <= {
        a.name for a in torch.profiler.ProfilerActivity.__members__.values()}
    x = ember.ones(2)
    prof = profile(activities=[ProfilerActivity.CPU])
    prof.start()
    x.cos()
    prof.stop()
    assert [e.name for e in prof.events()] == ["ember::cos"]
    with pytest.raises(AssertionError, match="No valid profiler activities"):
        profile(activities=[])
    with pytest.warns(UserWarning, match="does not record memory"):
        profile(profile_memory=True)


# ---------------------------------------------------------------- results unchanged

@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_profiled_step_computes_what_torch_does(dtype):
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(s) for s in ((7, 10), (10, 4), (4,))]
    ours = [ember.tensor(a, dtype=getattr(ember, dtype)) for a in arrays]
    theirs = [torch.tensor(a, dtype=getattr(torch, dtype)) for a in arrays]
    # a transposed weight (non-contiguous) and a batch of inputs
    x, w, b = ours[0], ours[1].t().requires_grad_(), ours[2].requires_grad_()
    tx, tw, tb = theirs[0], theirs[1].t().requires_grad_(), theirs[2].requires_grad_()
    with profile():
        loss = F.gelu(F.linear(x, w, b)).pow(2).mean()
        loss.backward()
    tloss = torch.nn.functional.gelu(torch.nn.functional.linear(tx, tw, tb)).pow(2).mean()
    tloss.backward()
    tol = 1e-12 if dtype == "float64" else 1e-5
    np.testing.assert_allclose(loss.item(), tloss.item(), rtol=tol)
    np.testing.assert_allclose(w.grad.numpy(), tw.grad.numpy(), rtol=tol, atol=tol)
    np.testing.assert_allclose(b.grad.numpy(), tb.grad.numpy(), rtol=tol, atol=tol)


def test_gradcheck_and_empty_tensors_under_profile():
    x = ember.randn(3, 4, dtype=ember.float64, requires_grad=True)
    empty = ember.ones(0, 4)
    with profile() as prof:
        assert ember.autograd.gradcheck(lambda t: (t.sin() * t).sum(1), (x,))
        assert (empty + 1).shape == (0, 4) and empty.sum().item() == 0
    counts = _counts(prof)
    assert counts["ember::sin"] >= 1 and counts["ember::add"] >= 1


def test_an_op_that_raises_closes_its_event():
    x = ember.ones(2, 3)
    with profile() as prof:
        with pytest.raises(RuntimeError):
            x @ x
        x.exp()
    events = prof.events()
    assert [e.name for e in events] == ["ember::matmul", "ember::exp"]
    assert all(e.cpu_parent is None for e in events)


def test_export_stacks_for_flame_graphs(tmp_path):
    x = ember.randn(128, 128)

    def layer(t):
        return (t @ t).tanh()
    with profile(with_stack=True) as prof:
        layer(x)
    path = tmp_path / "stacks.txt"
    prof.export_stacks(str(path), "self_cpu_time_total")
    lines = path.read_text().splitlines()
    assert lines
    for line in lines:
        frames, value = line.rsplit(" ", 1)
        assert int(value) > 0 and " " not in frames
        assert frames.split(";")[-1].endswith("layer")       # innermost frame last
    with pytest.raises(ValueError, match="metric should be one of"):
        prof.export_stacks(str(path), "cpu_time")
    with profile() as plain:
        layer(x)
    with pytest.raises(AssertionError, match="with_stack=True"):
        plain.export_stacks(str(path))
