# The backward engine.  Included by _graph.pyx.

# ---------------------------------------------------------------- the engine

cdef object _run_hooks(list hooks, object g):
    for h in list(hooks):
        r = h(g)
        if r is not None:
            g = r
    return g


cdef object _check_nan(Node node, tuple outs):
    from ember.autograd.anomaly_mode import _report_nan
    for k in range(len(outs)):
        g = outs[k]
        if g is not None and bool((g != g).any()):
            _report_nan(node, k)


# The engine keeps its per-run bookkeeping (dependency count, gradient buffer) in the
# nodes themselves, claimed for the run: dictionaries cost more than the nodes' own work.
# A node that another run (another thread's backward through a shared leaf) has claimed
# keeps its state for this run in a dictionary instead.
cdef Py_ssize_t _run_counter = 0
cdef set _active_runs = set()


@cython.final
cdef class _Run:
    cdef Py_ssize_t id
    cdef list claimed
    cdef dict foreign        # node -> [dependency count, buffer]

    cdef bint visit(self, Node node):
        """Claim ``node`` for this run; False when it was already visited."""
        if node._run == self.id:
            return False
        if node._run != 0 and node._run in _active_runs:
            if self.foreign is None:
                self.foreign = {}
            if node in self.foreign:
                return False
            self.foreign[node] = [0, None]
            return True
        node._run = self.id
        node._deps = 0
        node._buffer = None
        self.claimed.append(node)
        return True

    cdef inline Py_ssize_t add_deps(self, Node node, Py_ssize_t delta):
        cdef list state
        if node._run == self.id:
            node._deps += delta
            return node._deps
        state = <list>self.foreign[node]
        state[0] = <Py_ssize_t>state[0] + delta
        return state[0]

    cdef inline list buffer(self, Node node, bint create):
        cdef list state
        if node._run == self.id:
            if node._buffer is None and create:
                node._buffer = [None] * node._num_outputs
            return node._buffer
        state = <list>self.foreign[node]
        if state[1] is None and create:
            state[1] = [None] * node._num_outputs
        return state[1]

    cdef inline list take_buffer(self, Node node):
        cdef list buf, state
        if node._run == self.id:
            buf = node._buffer
            node._buffer = None
            return buf
        state = <list>self.foreign[node]
        buf = state[1]
        state[1] = None
        return buf

    cdef void finish(self) noexcept:
        cdef Node node
        for obj in self.claimed:
            node = <Node>obj
            node._run = 0
            node._buffer = None
        _active_runs.discard(self.id)


# the backward runs in progress on each thread, innermost last: (run, needed nodes)
_runs_of_thread = threading.local()


cdef list _thread_runs():
    runs = getattr(_runs_of_thread, "runs", None)
    if runs is None:
        runs = _runs_of_thread.runs = []
    return runs


def _current_graph_task_id():
    """The id of the backward run in progress on this thread, or -1 (PyTorch's name)."""
    runs = _thread_runs()      # (the module has wraparound off: no [-1])
    return (<_Run>runs[len(runs) - 1][0]).id if runs else -1


def _will_engine_execute_node(node):
    """Whether the backward run in progress will run ``node`` (a node of the graph, or a
    leaf's AccumulateGrad): reached from the roots and, for ``autograd.grad``, on a
    path to the inputs (PyTorch's name)."""
    runs = _thread_runs()
    if not runs:
        raise RuntimeError("_will_engine_execute_node should only be called during the "
                           "backward pass")
    if not isinstance(node, Node):
        raise TypeError(f"_will_engine_execute_node(): expected a graph node, got "
                        f"{type(node).__name__}")
    innermost = runs[len(runs) - 1]
    cdef _Run run = <_Run>innermost[0]
    needed = innermost[1]
    cdef Node n = <Node>node
    reached = n._run == run.id or (run.foreign is not None and n in run.foreign)
    return reached and (needed is None or n in needed)


cdef inline void _add_to_buffer(list buf, int nr, object g):
    buf[nr] = g if buf[nr] is None else buf[nr] + g


def run_backward(tuple outputs, tuple grad_outputs, bint keep_graph, bint create_graph,
                 tuple inputs, bint accumulate, bint allow_unused):
    """Run the graph behind ``outputs`` backward from ``grad_outputs``.

    ``accumulate``: add into the ``.grad`` of leaves (``Tensor.backward``), restricted to
    ``inputs`` when given; else return the gradients of ``inputs`` (``autograd.grad``).
    """
    global _run_counter
    cdef dict capture = None
    cdef set needed = None, root_storages = None
    cdef list stack = [], ready = [], captured, roots = [], buf
    cdef Node node, nxt
    cdef Tensor t
    cdef tuple edge, grads, outs, conforms, nexts
    cdef Py_ssize_t k, nr, n_next
    cdef object g, nxt_obj
    cdef bint check_nan = _anomaly_check_nan, all_none
    cdef list runs_here = None
    cdef _Run run = _Run.__new__(_Run)
    _run_counter += 1
    run.id = _run_counter
    run.claimed = []
    _active_runs.add(run.id)
    previous = set_grad_mode(create_graph)
    try:
        # roots: each output's edge gets its gradient
        for k in range(len(outputs)):
            t = <Tensor>outputs[k]
            edge = gradient_edge(t)
            if edge[0] is None:
                raise RuntimeError(f"element {k} of tensors does not require grad and does not "
                                   "have a grad_fn")
            roots.append(edge)
            if grad_outputs[k] is not None:
                if root_storages is None:
                    root_storages = set()
                root_storages.add((<Tensor>grad_outputs[k])._storage)
        # what to capture: gradients reaching the inputs' edges
        captured = [None] * len(inputs)
        if inputs:
            capture = {}
        for k in range(len(inputs)):
            t = <Tensor>inputs[k]
            if not (t._requires_grad & REQUIRES_GRAD):
                raise RuntimeError("One of the differentiated Tensors does not require grad")
            edge = gradient_edge(t)
            capture.setdefault(edge[0], []).append((edge[1], k, t))
        # count each node's dependents (edges from nodes reachable from the roots)
        for edge in roots:
            if run.visit(<Node>edge[0]):
                stack.append(edge[0])
        while stack:
            node = <Node>stack.pop()
            for edge in node.next_functions:
                nxt_obj = edge[0]
                if nxt_obj is None:
                    continue
                nxt = <Node>nxt_obj
                if run.visit(nxt):
                    stack.append(nxt)
                run.add_deps(nxt, 1)
        if inputs:
            needed = _needed_nodes(roots, capture)
        runs_here = _thread_runs()
        runs_here.append((run, needed))
        # seed the buffers with the root gradients
        for k in range(len(roots)):
            node = <Node>roots[k][0]
            _add_to_buffer(run.buffer(node, True), roots[k][1], grad_outputs[k])
        for edge in roots:
            if run.add_deps(<Node>edge[0], 0) == 0 and edge[0] not in ready:
                ready.append(edge[0])
        while ready:
            node = <Node>_pop_latest(ready)
            grads = tuple(run.take_buffer(node))
            if (type(node) is AccumulateGrad or node._tensor_pre_hooks is not None
                    or node._retained is not None or node._pre_hooks is not None):
                grads = _pre_hooks(node, grads)
            if capture is not None and node in capture:
                for nr, k, t in capture[node]:
                    g = grads[nr]
                    captured[k] = g
                    if accumulate and t._grad_fn is not None and g is not None:
                        # backward(inputs=[non-leaf]) accumulates into its .grad
                        accumulate_grad(t, <Tensor>g, create_graph, root_storages)
                if not accumulate and type(node) is AccumulateGrad:
                    continue
            if needed is not None and node not in needed:
                continue
            if type(node) is AccumulateGrad:
                t = (<AccumulateGrad>node).leaf()
                if (grads[0] is not None and t is not None and accumulate
                        and (not inputs or node in capture)):
                    accumulate_grad(t, <Tensor>grads[0], create_graph, root_storages)
                    (<AccumulateGrad>node).run_post_hooks(t)
                continue
            nexts = node.next_functions
            n_next = len(nexts)
            all_none = True
            for g in grads:
                if g is not None:
                    all_none = False
                    break
            if all_none:
                outs = (None,) * n_next
            else:
                node.check_alive()
                outs = node.apply(grads)
                if len(outs) != n_next:
                    raise RuntimeError(f"function {node.name()} returned an incorrect number of "
                                       f"gradients (expected {n_next}, got {len(outs)})")
                if check_nan:
                    _check_nan(node, outs)
                if node._hooks is not None:
                    for h in list(node._hooks):
                        r = h(outs, grads)
                        if r is not None:
                            outs = tuple(r)
            if not keep_graph:
                node.release()
            conforms = node._conform
            for k in range(n_next):
                edge = <tuple>nexts[k]
                nxt_obj = edge[0]
                if nxt_obj is None:
                    continue
                nxt = <Node>nxt_obj
                g = outs[k]
                if g is not None and (needed is None or nxt in needed):
                    if conforms is not None and conforms[k] is not None:
                        g = conform(g, conforms[k])
                    _add_to_buffer(run.buffer(nxt, True), edge[1], g)
                if run.add_deps(nxt, -1) == 0:
                    if run.buffer(nxt, False) is not None:
                        ready.append(nxt)
                    else:
                        _skip_subgraph(nxt, run, ready)
            # drop this node's references to the gradients it passed on: a leaf may then
            # take its gradient without a copy (see accumulate_grad)
            outs = None
            g = None
            grads = None
        if not accumulate:
            for k in range(len(inputs)):
                if captured[k] is None and not allow_unused:
                    raise RuntimeError("One of the differentiated Tensors appears to not have "
                                       "been used in the graph. Set allow_unused=True if this "
                                       "is the desired behavior.")
        return captured
    finally:
        if runs_here is not None and runs_here and runs_here[len(runs_here) - 1][0] is run:
            runs_here.pop()
        set_grad_mode(previous)
        run.finish()


cdef object _pop_latest(list ready):
    """The ready node created last (PyTorch's order on the CPU)."""
    cdef Py_ssize_t i, best = 0, n = len(ready)
    if n > 1:
        for i in range(1, n):
            if (<Node>ready[i])._seq > (<Node>ready[best])._seq:
                best = i
    return ready.pop(best)


cdef void _skip_subgraph(Node start, _Run run, list ready):
    """A node that received no gradient at all: its inputs get none from it either."""
    cdef list stack = [start]
    cdef Node node, nxt
    while stack:
        node = <Node>stack.pop()
        for edge in node.next_functions:
            if edge[0] is None:
                continue
            nxt = <Node>edge[0]
            if run.add_deps(nxt, -1) == 0:
                if run.buffer(nxt, False) is not None:
                    ready.append(nxt)
                else:
                    stack.append(nxt)


cdef tuple _pre_hooks(Node node, tuple grads):
    cdef list gl
    cdef Tensor var
    if type(node) is AccumulateGrad:
        var = (<AccumulateGrad>node).leaf()
        m = meta_of(var, False) if var is not None else None
        if m is not None and m.hooks and grads[0] is not None:
            grads = (_run_hooks(m.hooks, grads[0]),)
    elif node._tensor_pre_hooks is not None or node._retained is not None:
        gl = list(grads)
        if node._tensor_pre_hooks is not None:
            for nr, hooks in node._tensor_pre_hooks.items():
                if gl[nr] is not None and hooks:
                    gl[nr] = _run_hooks(hooks, gl[nr])
        if node._retained is not None:
            for nr, ref in node._retained.items():
                t = ref()
                if t is not None and gl[nr] is not None:
                    _retain(<Tensor>t, gl[nr])
        grads = tuple(gl)
    if node._pre_hooks is not None:
        for h in list(node._pre_hooks):
            r = h(grads)
            if r is not None:
                grads = tuple(r)
    return grads


cdef void _retain(Tensor t, object g):
    if t._grad is None:
        t._grad = g.detach().clone() if not grad_enabled() & GRAD_MODE else g.clone()
    else:
        t._grad = t._grad + g


cdef set _needed_nodes(list roots, dict capture):
    """Nodes from which a captured edge can be reached: the only ones grad() must run."""
    cdef dict memo = {}
    cdef list stack
    cdef Node node
    cdef set needed = set()
    for edge in roots:
        stack = [(edge[0], False)]
        while stack:
            obj, expanded = stack.pop()
            if obj is None or (obj in memo and not expanded):
                continue
            node = <Node>obj
            if not expanded:
                memo[obj] = False
                stack.append((obj, True))
                for e in node.next_functions:
                    if e[0] is not None and e[0] not in memo:
                        stack.append((e[0], False))
            else:
                hit = obj in capture or any([memo.get(e[0], False) for e in node.next_functions
                                             if e[0] is not None])
                memo[obj] = hit
                if hit:
                    needed.add(obj)
    return needed
