"""autograd.graph.register_multi_grad_hook against torch: "all" mode with tensors a pass
does not reach, non-leaf tensors, removal; "any" mode; bad modes; and the engine queries
it rests on (_current_graph_task_id, _will_engine_execute_node)."""
import pytest
import torch

import ember


def _record(lib):
    out = []
    G = lib.autograd.graph
    a, b, c = (lib.ones(2, requires_grad=True) for _ in range(3))

    def grads_of(tag):
        return lambda grads: out.append((tag, [None if g is None else g.tolist()
                                               for g in grads]))

    handle = G.register_multi_grad_hook((a, b, c), grads_of("all"))
    (a * 2 + b * 3).sum().backward()                 # c is not reached: None
    (a * b * c).sum().backward()
    handle.remove()
    (a + b + c).sum().backward()                     # removed: no call
    handle = G.register_multi_grad_hook((a, b), lambda g: out.append(("any", g.tolist())),
                                        mode="any")
    (a * 7 + b).sum().backward()
    (b * 4).sum().backward()
    handle.remove()
    x = a * 2
    G.register_multi_grad_hook((x, b), grads_of("non-leaf"))
    (x * b).sum().backward()
    return out


def test_multi_grad_hook_as_torch():
    assert _record(ember) == _record(torch)


def test_bad_mode_and_queries_outside_backward():
    for lib in (ember, torch):
        with pytest.raises(ValueError, match="Expects mode to be one of"):
            lib.autograd.graph.register_multi_grad_hook((lib.ones(1, requires_grad=True),),
                                                        print, mode="some")
    from ember.autograd._graph import _current_graph_task_id, _will_engine_execute_node
    assert _current_graph_task_id() == -1
    a = ember.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="only be called during the backward pass"):
        _will_engine_execute_node((a * 2).grad_fn)


def test_will_engine_execute_node_inside_autograd_grad():
    # autograd.grad runs only the nodes on a path to its inputs, as in torch
    def seen(lib, will):
        a, b = lib.ones(2, requires_grad=True), lib.ones(2, requires_grad=True)
        pa, pb = a * 2, b * 3
        found = {}

        def hook(grad):
            found["pa"], found["pb"] = will(pa.grad_fn), will(pb.grad_fn)

        pa.register_hook(hook)
        lib.autograd.grad((pa + pb).sum(), (pa,))
        def later(grad):
            found["pa after"] = will(pa.grad_fn)

        pb.register_hook(later)
        lib.autograd.grad((pa * pb).sum(), (pb,))
        return found

    assert (seen(ember, ember.autograd._graph._will_engine_execute_node)
            == seen(torch, torch._C._will_engine_execute_node))


def test_allow_mutation_on_saved_tensors_as_torch():
    def run(lib):
        G = lib.autograd.graph
        with G.allow_mutation_on_saved_tensors():
            a = lib.ones(2, 3, requires_grad=True)
            b = a.clone()
            out = (b ** 2).sum()
            b.sin_()                                   # saved by pow, changed after
            out.backward()
            x, w = lib.arange(3.0), lib.ones(3, requires_grad=True)
            y = (w * x).sum()
            x.mul_(5)                                  # saved by mul, no grad of its own
            y.backward()
            with pytest.raises(RuntimeError, match="cannot be nested"):
                with G.allow_mutation_on_saved_tensors():
                    pass
        x2, w2 = lib.arange(3.0), lib.ones(3, requires_grad=True)
        y2 = (w2 * x2).sum()
        x2.mul_(5)                                     # outside: the usual error
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            y2.backward()
        return a.grad.tolist(), w.grad.tolist()

    assert run(ember) == run(torch)
