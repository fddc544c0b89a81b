# Custom Functions' nodes, and the tensor-side hooks API.
# Included by _graph.pyx.

# ---------------------------------------------------------------- custom Functions

@cython.final
cdef class PyFunctionNode(Node):
    """The node of an ``ember.autograd.Function``: its ``backward`` is the formula."""
    cdef public object ctx
    cdef public object fn_class
    cdef public tuple needs

    def name(self):
        return self.fn_class.__name__ + "Backward"

    cdef tuple apply(self, tuple grads):
        self.check_alive()
        out = self.fn_class._run_backward(self.ctx, grads)
        cdef list picked = []
        cdef int k
        for k in range(len(self.needs)):
            if self.needs[k]:
                picked.append(out[k] if k < len(out) else None)
        return tuple(picked)

    cdef int release(self) except -1:
        if self.ctx is not None and self.ctx._release():
            self._released = True
        return 0


def _make_function_node(fn_class, ctx, list inputs, list outputs, set non_differentiable,
                        set dirty):
    """Link the outputs of a custom Function's forward into the graph."""
    cdef PyFunctionNode node = PyFunctionNode.__new__(PyFunctionNode)
    cdef list edges = [], needs = [], conforms = []
    cdef Tensor t
    cdef int k
    for x in inputs:
        if isinstance(x, Tensor):
            t = <Tensor>x
            needs.append(bool(t._requires_grad & REQUIRES_GRAD))
            if t._requires_grad & REQUIRES_GRAD:
                edges.append(gradient_edge(t))
                conforms.append(meta_record(t))
    node.ctx = ctx
    node.fn_class = fn_class
    node.needs = tuple(needs)
    node.next_functions = tuple(edges)
    node._conform = tuple(conforms)
    node._num_outputs = len(outputs)
    for k in range(len(outputs)):
        o = outputs[k]
        if not isinstance(o, Tensor):
            continue
        t = <Tensor>o
        if id(t) in dirty:
            check_inplace(t)
        if id(t) in non_differentiable or em_category[t._dtype] < 2:
            continue
        set_history(t, node, k, id(t) in dirty)
    return node


def _needs_any_grad(list inputs):
    cdef object x
    if not grad_enabled() & GRAD_MODE:
        return False
    for x in inputs:
        if isinstance(x, Tensor) and ((<Tensor>x)._requires_grad & REQUIRES_GRAD):
            return True
    return False


# ---------------------------------------------------------------- tensor-side API

def tensor_output_nr(Tensor t):
    return output_nr_of(t)


def tensor_register_hook(Tensor t, fn):
    """``Tensor.register_hook``: ``fn(grad)`` runs when the gradient of ``t`` is computed
    and may return a replacement."""
    cdef AutogradMeta m
    if not (t._requires_grad & REQUIRES_GRAD):
        raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
    if t._grad_fn is not None:
        return (<Node>t._grad_fn)._register_tensor_hook(output_nr_of(t), fn)
    m = meta_of(t, True)
    if m.hooks is None:
        m.hooks = []
    m.hooks.append(fn)
    return RemovableHandle(m.hooks, fn)


def tensor_register_post_accumulate_grad_hook(Tensor t, fn):
    """``Tensor.register_post_accumulate_grad_hook``: ``fn(t)`` runs after a backward
    pass has accumulated a gradient into the leaf ``t``'s ``.grad``."""
    if not (t._requires_grad & REQUIRES_GRAD):
        raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
    if t._grad_fn is not None:
        raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf tensors")
    cdef AccumulateGrad acc = accumulator_of(t)
    if acc._post_hooks is None:
        acc._post_hooks = []
    acc._post_hooks.append(fn)
    return RemovableHandle(acc._post_hooks, fn)


def tensor_retain_grad(Tensor t):
    """``Tensor.retain_grad``: keep the gradient of a non-leaf in ``.grad``."""
    if not (t._requires_grad & REQUIRES_GRAD):
        raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
    if t._grad_fn is None:
        return
    meta_of(t, True).retains_grad = True
    (<Node>t._grad_fn)._retain_grad(output_nr_of(t), t)


def tensor_retains_grad(Tensor t):
    cdef AutogradMeta m = meta_of(t, False)
    return t._grad_fn is not None and m is not None and m.retains_grad


def tensor_gradient_edge(Tensor t):
    return gradient_edge(t)
