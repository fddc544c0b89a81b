"""Whole-function derivatives: ``vjp``, ``jvp``, ``jacobian``, ``hessian``, ``vhp``, ``hvp``.

The same API and semantics as ``torch.autograd.functional``: ``func`` takes one
Tensor per input and returns a Tensor or a tuple of Tensors; each function runs
``func`` once on copies of the inputs that require grad and differentiates it
with the reverse-mode engine.  ``jvp`` and ``hvp`` use the double-backward trick
(the backward of a backward is linear in its output gradient, and differentiating
it with respect to that gradient gives the forward-mode product).

Results are detached unless ``create_graph=True``, in which case they are part of
a graph reaching back to the caller's inputs (which are then not detached).
"""
from ember._core._index import stack
from ember._core._tensor import Tensor, zeros, zeros_like
from ember.autograd.engine import grad as _grad
from ember.autograd.function import Function
from ember.autograd.grad_mode import enable_grad, set_grad_enabled, is_grad_enabled

__all__ = ["vjp", "jvp", "jacobian", "hessian", "hvp", "vhp"]


# ---------------------------------------------------------------- argument handling

def _as_tuple(inp, arg_name, fn_name):
    """``(was_a_tuple, tuple_of_tensors)``; only a tuple counts as several tensors."""
    is_tuple = isinstance(inp, tuple)
    items = inp if is_tuple else (inp,)
    for i, el in enumerate(items):
        if not isinstance(el, Tensor):
            where = f"the value at index {i}" if is_tuple else f"the given {arg_name}"
            raise TypeError(f"The {arg_name} given to {fn_name} must be either a Tensor or a "
                            f"tuple of Tensors but {where} has type {type(el)}.")
    return is_tuple, items


def _tuple_postprocess(res, to_unpack):
    """Unwrap the tuple levels the caller did not pass as tuples: ``to_unpack`` is one
    flag, or ``(outputs_were_tuple, inputs_were_tuple)`` for nested results."""
    if isinstance(to_unpack, tuple):
        if not to_unpack[1]:
            res = tuple(el[0] for el in res)
        if not to_unpack[0]:
            res = res[0]
    elif not to_unpack:
        res = res[0]
    return res


def _grad_preprocess(inputs, create_graph, need_graph):
    """Fresh tensors to differentiate with respect to: a view that stays linked to the
    caller's tensor when a graph of the result is wanted, else a detached copy."""
    res = []
    for inp in inputs:
        if create_graph and inp.requires_grad:
            res.append(inp.view_as(inp))
        else:
            res.append(inp.detach().requires_grad_(need_graph))
    return tuple(res)


def _grad_postprocess(inputs, create_graph):
    """Detach the results (recursively through nested tuples) unless ``create_graph``."""
    if inputs and isinstance(inputs[0], Tensor):
        return inputs if create_graph else tuple(inp.detach() for inp in inputs)
    return tuple(_grad_postprocess(inp, create_graph) for inp in inputs)


def _validate_v(v, other, is_other_tuple):
    if len(other) != len(v):
        if is_other_tuple:
            raise RuntimeError(f"v is a tuple of invalid length: should be {len(other)} but "
                               f"got {len(v)}.")
        raise RuntimeError("The given v should contain a single Tensor.")
    for idx, (el_v, el_other) in enumerate(zip(v, other)):
        if el_v.size() != el_other.size():
            prepend = f"Entry {idx} in " if is_other_tuple else ""
            raise RuntimeError(f"{prepend}v has invalid size: should be {el_other.size()} but "
                               f"got {el_v.size()}.")


def _preprocess_v(v, fn_name, create_graph, reference, is_reference_tuple, none_message):
    """``v`` as a tuple matching ``reference`` in length and shapes; None only when the
    reference is a single one-element tensor (``none_message`` otherwise)."""
    if v is not None:
        _, v = _as_tuple(v, "v", fn_name)
        v = _grad_preprocess(v, create_graph=create_graph, need_graph=False)
        _validate_v(v, reference, is_reference_tuple)
        return v
    if len(reference) != 1 or reference[0].nelement() != 1:
        raise RuntimeError(none_message)
    return None


_INDEPENDENT_IN_GRAPH = {
    "grad_inputs": "The gradient with respect to input {i} is independent of the inputs of the "
                   "user-provided function. This is not allowed in strict mode.",
    "jacobian": "While computing the hessian, found that the jacobian of the user-provided "
                "function with respect to input {i} is independent of the input. This is not "
                "allowed in strict mode. You should ensure that your function is twice "
                "differentiable and that the jacobian depends on the inputs (this would be "
                "violated by a linear function for example).",
    "hessian": "The hessian of the user-provided function with respect to input {i} is "
               "independent of the input. This is not allowed in strict mode. You should "
               "ensure that your function is thrice differentiable and that the hessian "
               "depends on the inputs.",
    "outputs": "Output {i} of the user-provided function does not require gradients. The "
               "outputs must be computed in a differentiable manner from the input when "
               "running in strict mode.",
}


def _check_requires_grad(tensors, kind, strict):
    """In strict mode, raise when one of ``tensors`` (outputs, or gradients of ``kind``)
    is missing or does not require grad, i.e. does not depend on the inputs."""
    if not strict:
        return
    for i, t in enumerate(tensors):
        if t is None:
            raise RuntimeError(f"The output of the user-provided function is independent of "
                               f"input {i}. This is not allowed in strict mode.")
        if not t.requires_grad:
            raise RuntimeError(_INDEPENDENT_IN_GRAPH[kind].format(i=i))


def _autograd_grad(outputs, inputs, grad_outputs=None, create_graph=False, retain_graph=None):
    """``ember.autograd.grad`` over the outputs that require grad (None for every input
    when none does), with None for the inputs they do not depend on."""
    if grad_outputs is None:
        grad_outputs = (None,) * len(outputs)
    pairs = [(out, g) for out, g in zip(outputs, grad_outputs)
             if out is not None and out.requires_grad]
    if not pairs:
        return (None,) * len(inputs)
    return _grad([out for out, _ in pairs], inputs, [g for _, g in pairs], allow_unused=True,
                 create_graph=create_graph, retain_graph=retain_graph)


_INDEPENDENT = {
    "back": "The output of the user-provided function is independent of input {i}. This is "
            "not allowed in strict mode.",
    "back_trick": "The gradient with respect to the input is independent of entry {i} in the "
                  "grad_outputs when using the double backward trick to compute forward mode "
                  "gradients. This is not allowed in strict mode.",
    "double_back": "The jacobian of the user-provided function is independent of input {i}. "
                   "This is not allowed in strict mode.",
    "double_back_trick": "The hessian of the user-provided function is independent of entry "
                         "{i} in the grad_jacobian. This is not allowed in strict mode as it "
                         "prevents from using the double backward trick to replace forward "
                         "mode AD.",
}


def _fill_in_zeros(grads, refs, strict, create_graph, stage):
    """Zeros shaped like ``refs[i]`` where ``grads[i]`` is None (strict mode raises
    instead, and with ``create_graph`` also for gradients that are constants)."""
    res = []
    for i, g in enumerate(grads):
        if g is None:
            if strict:
                raise RuntimeError(_INDEPENDENT[stage].format(i=i))
            g = zeros_like(refs[i])
        elif strict and create_graph and not g.requires_grad:
            what = "hessian" if "double" in stage else "jacobian"
            raise RuntimeError(f"The {what} of the user-provided function is independent of "
                               f"input {i}. This is not allowed in strict mode when "
                               "create_graph=True.")
        res.append(g)
    return tuple(res)


class _StackRows(Function):
    """``stack(rows)`` along a new first dimension, differentiable any number of times:
    its backward is ``unbind``, whose own backward is this stack again."""

    @staticmethod
    def forward(ctx, *rows):
        return stack(rows)

    @staticmethod
    def backward(ctx, grad):
        return grad.unbind(0)

    @staticmethod
    def jvp(ctx, *tangents):
        # forward mode (a Hessian's forward over reverse): the rows' tangents, stacked
        return stack(tangents)


# ---------------------------------------------------------------- products

def vjp(func, inputs, v=None, create_graph=False, strict=False):
    """The vector-Jacobian product ``v^T J`` of ``func`` at ``inputs``.

    Parameters
    ----------
    func : callable
        Takes one Tensor per input and returns a Tensor or a tuple of Tensors.
    inputs : Tensor or tuple of Tensor
        The point at which to differentiate.
    v : Tensor or tuple of Tensor, optional
        One tensor per output of ``func``, shaped like it; may be omitted when
        ``func`` returns a single one-element tensor (``v`` is then 1).
    create_graph : bool, default False
        Make the outputs and the product differentiable (with respect to
        ``inputs`` and ``v``); the inputs are then not detached.
    strict : bool, default False
        Raise when an output does not require grad or an input has no effect on
        the outputs, instead of returning zeros for that input.

    Returns
    -------
    func_output : Tensor or tuple of Tensor
        ``func(*inputs)``.
    vjp : Tensor or tuple of Tensor
        One tensor per input, shaped like it (a tuple exactly when ``inputs`` is).

    Examples
    --------
    >>> import ember
    >>> from ember.autograd.functional import vjp
    >>> x = ember.tensor([[1.0, 2.0], [3.0, 4.0]])
    >>> out, grad = vjp(lambda t: (t * t).sum(dim=1), x, ember.tensor([1.0, 10.0]))
    >>> out
    tensor([ 5., 25.])
    >>> grad
    tensor([[ 2.,  4.],
            [60., 80.]])
    """
    with enable_grad():
        is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "vjp")
        inputs = _grad_preprocess(inputs, create_graph=create_graph, need_graph=True)
        outputs = func(*inputs)
        is_outputs_tuple, outputs = _as_tuple(outputs, "outputs of the user-provided function",
                                              "vjp")
        _check_requires_grad(outputs, "outputs", strict=strict)
        v = _preprocess_v(v, "vjp", create_graph, outputs, is_outputs_tuple,
                          "The vector v can only be None if the user-provided function returns "
                          "a single Tensor with a single element.")

    with set_grad_enabled(True if create_graph else is_grad_enabled()):
        grad_res = _autograd_grad(outputs, inputs, v, create_graph=create_graph)
        result = _fill_in_zeros(grad_res, inputs, strict, create_graph, "back")

    outputs = _grad_postprocess(outputs, create_graph)
    result = _grad_postprocess(result, create_graph)
    return (_tuple_postprocess(outputs, is_outputs_tuple),
            _tuple_postprocess(result, is_inputs_tuple))


def jvp(func, inputs, v=None, create_graph=False, strict=False):
    """The Jacobian-vector product ``J v`` of ``func`` at ``inputs``.

    Computed, as PyTorch does, with the double-backward trick: the gradient of
    the outputs with respect to the inputs, taken for an output gradient ``u``
    that requires grad, is ``J^T u``; differentiating it with respect to ``u`` in
    the direction ``v`` gives ``J v``.  Every backward formula on the path must
    therefore itself be differentiable.

    Parameters
    ----------
    func : callable
        Takes one Tensor per input and returns a Tensor or a tuple of Tensors.
    inputs : Tensor or tuple of Tensor
        The point at which to differentiate.
    v : Tensor or tuple of Tensor, optional
        One tensor per input, shaped like it; may be omitted when ``inputs`` is a
        single one-element tensor (``v`` is then 1).
    create_graph : bool, default False
        Make the outputs and the product differentiable.
    strict : bool, default False
        Raise when an output does not depend on the inputs instead of returning
        zeros for it.

    Returns
    -------
    func_output : Tensor or tuple of Tensor
        ``func(*inputs)``.
    jvp : Tensor or tuple of Tensor
        One tensor per output, shaped like it (a tuple exactly when ``func``
        returns one).

    Examples
    --------
    >>> import ember
    >>> from ember.autograd.functional import jvp
    >>> x, y = ember.tensor([1.0, 2.0]), ember.tensor([3.0, 4.0])
    >>> out, tangent = jvp(lambda a, b: a * b, (x, y), (ember.ones(2), ember.zeros(2)))
    >>> out
    tensor([3., 8.])
    >>> tangent
    tensor([3., 4.])
    """
    with enable_grad():
        is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "jvp")
        inputs = _grad_preprocess(inputs, create_graph=create_graph, need_graph=True)
        v = _preprocess_v(v, "jvp", create_graph, inputs, is_inputs_tuple,
                          "The vector v can only be None if the input to the user-provided "
                          "function is a single Tensor with a single element.")
        outputs = func(*inputs)
        is_outputs_tuple, outputs = _as_tuple(outputs, "outputs of the user-provided function",
                                              "jvp")
        _check_requires_grad(outputs, "outputs", strict=strict)
        # the backward, as a function of a dummy output gradient that requires grad
        grad_outputs = tuple(zeros_like(out, requires_grad=True) for out in outputs)
        grad_inputs = _autograd_grad(outputs, inputs, grad_outputs, create_graph=True)
        _check_requires_grad(grad_inputs, "grad_inputs", strict=strict)

    with set_grad_enabled(True if create_graph else is_grad_enabled()):
        grad_res = _autograd_grad(grad_inputs, grad_outputs, v, create_graph=create_graph)
        result = _fill_in_zeros(grad_res, outputs, strict, create_graph, "back_trick")

    outputs = _grad_postprocess(outputs, create_graph)
    result = _grad_postprocess(result, create_graph)
    return (_tuple_postprocess(outputs, is_outputs_tuple),
            _tuple_postprocess(result, is_outputs_tuple))


# ---------------------------------------------------------------- full matrices

def _check_strategy(strategy, create_graph, strict, vectorize):
    if strategy not in ("forward-mode", "reverse-mode"):
        raise AssertionError(
            'Expected strategy to be either "forward-mode" or "reverse-mode". Hint: If your '
            'function has more outputs than inputs, "forward-mode" tends to be more '
            'performant. Otherwise, prefer to use "reverse-mode".')
    if strategy == "forward-mode":
        if create_graph:
            raise NotImplementedError(
                "ember.autograd.functional.jacobian: `create_graph=True` and "
                '`strategy="forward-mode"` are not supported together (yet). Please either '
                'set `create_graph=False` or `strategy="reverse-mode"`.')
        if strict:
            raise RuntimeError(
                "ember.autograd.functional.jacobian: `strict=True` and "
                '`strategy="forward-mode"` are not supported together (yet). Please either '
                'set `strict=False` or `strategy="reverse-mode"`.')
        if not vectorize:
            raise NotImplementedError("Computing Jacobian using forward-AD or forward-over-"
                                      "reverse Hessian isonly implemented for "
                                      "`vectorize=True`.")


def jacobian(func, inputs, create_graph=False, strict=False, vectorize=False,
             strategy="reverse-mode"):
    """The Jacobian of ``func`` at ``inputs``.

    The Jacobian of output ``i`` with respect to input ``j`` has shape
    ``outputs[i].shape + inputs[j].shape``; it is computed one output element at a
    time (one backward pass per row).

    Parameters
    ----------
    func : callable
        Takes one Tensor per input and returns a Tensor or a tuple of Tensors.
    inputs : Tensor or tuple of Tensor
        The point at which to differentiate.
    create_graph : bool, default False
        Make the Jacobian differentiable (for higher derivatives).
    strict : bool, default False
        Raise when an output is independent of an input instead of returning
        zeros for that block.
    vectorize : bool, default False
        Accepted for compatibility: ember computes the rows one backward pass at a
        time either way (the results are the same).  As in PyTorch it cannot be
        combined with ``strict=True``, and ``"forward-mode"`` requires it.
    strategy : {"reverse-mode", "forward-mode"}
        Reverse mode: one backward pass per output element.  Forward mode: one
        forward pass per input element (cheaper when the outputs outnumber the
        inputs); it takes neither ``create_graph`` nor ``strict``.

    Returns
    -------
    Tensor, tuple of Tensor, or tuple of tuple of Tensor
        A Tensor for one input and one output; a tuple over the inputs (or the
        outputs) when only that one is a tuple; when both are, ``result[i][j]`` is
        the Jacobian of output ``i`` with respect to input ``j``.

    Examples
    --------
    >>> import ember
    >>> from ember.autograd.functional import jacobian
    >>> jacobian(lambda t: t * t, ember.tensor([1.0, 2.0]))
    tensor([[2., 0.],
            [0., 4.]])
    >>> jac_x, jac_y = jacobian(lambda a, b: a * b, (ember.tensor([1.0, 2.0]), ember.tensor([3.0, 4.0])))
    >>> jac_y
    tensor([[1., 0.],
            [0., 2.]])
    """
    _check_strategy(strategy, create_graph, strict, vectorize)
    if strategy == "forward-mode":
        return _jacobian_forward(func, inputs)
    with enable_grad():
        is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "jacobian")
        inputs = _grad_preprocess(inputs, create_graph=create_graph, need_graph=True)
        outputs = func(*inputs)
        is_outputs_tuple, outputs = _as_tuple(outputs, "outputs of the user-provided function",
                                              "jacobian")
        _check_requires_grad(outputs, "outputs", strict=strict)
        if vectorize and strict:
            raise RuntimeError("ember.autograd.functional.jacobian: `strict=True` and "
                               "`vectorized=True` are not supported together. Please either "
                               "set `strict=False` or `vectorize=False`.")
        jac = tuple(_jacobian_of_output(i, out, inputs, create_graph, strict)
                    for i, out in enumerate(outputs))
        jac = _grad_postprocess(jac, create_graph)
        return _tuple_postprocess(jac, (is_outputs_tuple, is_inputs_tuple))


def _jacobian_forward(func, inputs):
    """:func:`jacobian` by forward-mode AD: one forward pass per input element, its
    one-hot tangent giving a column of every output's Jacobian."""
    from ember.autograd import forward_ad
    is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "jacobian")
    # primals that require grad: a reverse-mode gradient inside func (a Hessian's
    # forward over reverse) then keeps the tangents its inputs carry
    inputs = tuple(x.detach().requires_grad_(x.is_floating_point() or x.is_complex())
                   for x in inputs)
    columns, outputs = None, None
    for j, inp in enumerate(inputs):
        for e in range(inp.nelement()):
            with forward_ad.dual_level():
                duals = []
                for k, x in enumerate(inputs):
                    tangent = zeros(tuple(x.shape), dtype=x.dtype, device=x.device)
                    if k == j:
                        tangent.view(-1)[e] = 1
                    duals.append(forward_ad.make_dual(x, tangent))
                is_outputs_tuple, outs = _as_tuple(func(*duals),
                                                   "outputs of the user-provided function",
                                                   "jacobian")
                if columns is None:
                    outputs = [forward_ad.unpack_dual(o).primal.detach() for o in outs]
                    columns = [[[] for _ in inputs] for _ in outs]
                for i, o in enumerate(outs):
                    t = forward_ad.unpack_dual(o).tangent
                    columns[i][j].append(zeros_like(outputs[i]) if t is None else t.detach())
    jac = tuple(tuple(stack(cols, -1).view(tuple(outputs[i].shape) + tuple(inp.shape)) if cols
                      else zeros(tuple(outputs[i].shape) + tuple(inp.shape), dtype=inp.dtype,
                                 device=inp.device)
                      for cols, inp in zip(columns[i], inputs))
                for i in range(len(outputs))) if columns is not None else ()
    return _tuple_postprocess(jac, (is_outputs_tuple, is_inputs_tuple))


def _jacobian_of_output(i, out, inputs, create_graph, strict):
    """The Jacobians of output ``out`` (number ``i``) with respect to each input."""
    rows = tuple([] for _ in inputs)
    flat = out.reshape(-1)
    for k in range(out.nelement()):
        vj = _autograd_grad((flat[k],), inputs, retain_graph=True, create_graph=create_graph)
        for j, (row, inp) in enumerate(zip(vj, inputs)):
            if row is None:
                if strict:
                    raise RuntimeError(f"Output {i} of the user-provided function is "
                                       f"independent of input {j}. This is not allowed in "
                                       "strict mode.")
                row = zeros_like(inp)
            elif strict and create_graph and not row.requires_grad:
                raise RuntimeError(f"The jacobian of the user-provided function is independent "
                                   f"of input {j}. This is not allowed in strict mode when "
                                   "create_graph=True.")
            rows[j].append(row)
    shape = tuple(out.shape)
    # an empty output has an empty Jacobian (there is no row to stack)
    return tuple(_StackRows.apply(*r).view(shape + tuple(inp.shape)) if r else
                 zeros(shape + tuple(inp.shape), dtype=inp.dtype, device=inp.device)
                 for r, inp in zip(rows, inputs))


def hessian(func, inputs, create_graph=False, strict=False, vectorize=False,
            outer_jacobian_strategy="reverse-mode"):
    """The Hessian of the scalar function ``func`` at ``inputs``.

    Parameters
    ----------
    func : callable
        Takes one Tensor per input and returns a Tensor with a single element.
    inputs : Tensor or tuple of Tensor
        The point at which to differentiate.
    create_graph : bool, default False
        Make the Hessian differentiable.
    strict : bool, default False
        Raise when the output, or its gradient, is independent of an input
        instead of returning zeros.
    vectorize : bool, default False
        As for :func:`jacobian` (accepted; the rows are computed one at a time).
    outer_jacobian_strategy : {"reverse-mode", "forward-mode"}
        How the outer Jacobian (of the gradient) is computed: ``"forward-mode"``
        (forward over reverse) requires ``vectorize=True``.

    Returns
    -------
    Tensor or tuple of tuple of Tensor
        For one input of shape ``s`` a Tensor of shape ``s + s``; for a tuple of
        inputs, ``result[i][j]`` is the block of second derivatives with respect
        to inputs ``i`` and ``j``, of shape ``inputs[i].shape + inputs[j].shape``.

    Examples
    --------
    >>> import ember
    >>> from ember.autograd.functional import hessian
    >>> hessian(lambda t: t.pow(3).sum(), ember.tensor([1.0, 2.0]))
    tensor([[ 6.,  0.],
            [ 0., 12.]])
    """
    is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "hessian")
    if outer_jacobian_strategy not in ("forward-mode", "reverse-mode"):
        raise AssertionError('Expected strategy to be either "forward-mode" or "reverse-mode".')

    def ensure_single_output_function(*inp):
        out = func(*inp)
        is_out_tuple, t_out = _as_tuple(out, "outputs of the user-provided function", "hessian")
        _check_requires_grad(t_out, "outputs", strict=strict)
        if is_out_tuple or not isinstance(out, Tensor):
            raise RuntimeError("The function given to hessian should return a single Tensor")
        if out.nelement() != 1:
            raise RuntimeError("The Tensor returned by the function given to hessian should "
                               "contain a single element")
        return out.squeeze()

    def jac_func(*inp):
        jac = jacobian(ensure_single_output_function, inp, create_graph=True)
        _check_requires_grad(jac, "jacobian", strict=strict)
        return jac

    res = jacobian(jac_func, inputs, create_graph=create_graph, strict=strict,
                   vectorize=vectorize, strategy=outer_jacobian_strategy)
    return _tuple_postprocess(res, (is_inputs_tuple, is_inputs_tuple))


def _scalar_function_gradient(func, inputs, v, create_graph, strict, fn_name):
    """Shared start of :func:`vhp` and :func:`hvp`: the preprocessed inputs and ``v``,
    the output and its gradient (a graph, for differentiating again)."""
    is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", fn_name)
    inputs = _grad_preprocess(inputs, create_graph=create_graph, need_graph=True)
    v = _preprocess_v(v, fn_name, create_graph, inputs, is_inputs_tuple,
                      "The vector v can only be None if the input to the user-provided "
                      "function is a single Tensor with a single element.")
    outputs = func(*inputs)
    is_outputs_tuple, outputs = _as_tuple(outputs, "outputs of the user-provided function",
                                          fn_name)
    _check_requires_grad(outputs, "outputs", strict=strict)
    if is_outputs_tuple or not isinstance(outputs[0], Tensor):
        raise RuntimeError(f"The function given to {fn_name} should return a single Tensor")
    if outputs[0].nelement() != 1:
        raise RuntimeError(f"The Tensor returned by the function given to {fn_name} should "
                           "contain a single element")
    jac = _autograd_grad(outputs, inputs, create_graph=True)
    _check_requires_grad(jac, "jacobian", strict=strict)
    return is_inputs_tuple, inputs, v, is_outputs_tuple, outputs, jac


def vhp(func, inputs, v=None, create_graph=False, strict=False):
    """The vector-Hessian product ``v^T H`` of the scalar function ``func``.

    Parameters
    ----------
    func : callable
        Takes one Tensor per input and returns a Tensor with a single element.
    inputs : Tensor or tuple of Tensor
        The point at which to differentiate.
    v : Tensor or tuple of Tensor, optional
        One tensor per input, shaped like it; may be omitted when ``inputs`` is a
        single one-element tensor.
    create_graph : bool, default False
        Make the output and the product differentiable.
    strict : bool, default False
        Raise when the output, or its gradient, is independent of an input
        instead of returning zeros.

    Returns
    -------
    func_output : Tensor
        ``func(*inputs)``.
    vhp : Tensor or tuple of Tensor
        One tensor per input, shaped like it.

    Examples
    --------
    >>> import ember
    >>> from ember.autograd.functional import vhp
    >>> out, prod = vhp(lambda t: t.pow(3).sum(), ember.tensor([1.0, 2.0]), ember.ones(2))
    >>> out
    tensor(9.)
    >>> prod
    tensor([ 6., 12.])
    """
    with enable_grad():
        is_inputs_tuple, inputs, v, is_outputs_tuple, outputs, jac = \
            _scalar_function_gradient(func, inputs, v, create_graph, strict, "vhp")

    with set_grad_enabled(True if create_graph else is_grad_enabled()):
        grad_res = _autograd_grad(jac, inputs, v, create_graph=create_graph)
        result = _fill_in_zeros(grad_res, inputs, strict, create_graph, "double_back")

    outputs = _grad_postprocess(outputs, create_graph)
    result = _grad_postprocess(result, create_graph)
    return (_tuple_postprocess(outputs, is_outputs_tuple),
            _tuple_postprocess(result, is_inputs_tuple))


def hvp(func, inputs, v=None, create_graph=False, strict=False):
    """The Hessian-vector product ``H v`` of the scalar function ``func``.

    Computed with the double-backward trick, as PyTorch does (for twice
    differentiable functions ``H`` is symmetric and :func:`vhp` gives the same
    values faster).

    Parameters
    ----------
    func : callable
        Takes one Tensor per input and returns a Tensor with a single element.
    inputs : Tensor or tuple of Tensor
        The point at which to differentiate.
    v : Tensor or tuple of Tensor, optional
        One tensor per input, shaped like it; may be omitted when ``inputs`` is a
        single one-element tensor.
    create_graph : bool, default False
        Make the output and the product differentiable.
    strict : bool, default False
        Raise when the output, or its gradient, is independent of an input
        instead of returning zeros.

    Returns
    -------
    func_output : Tensor
        ``func(*inputs)``.
    hvp : Tensor or tuple of Tensor
        One tensor per input, shaped like it.

    Examples
    --------
    >>> import ember
    >>> from ember.autograd.functional import hvp
    >>> x, y = ember.tensor([1.0, 2.0]), ember.tensor([3.0, 4.0])
    >>> out, (hx, hy) = hvp(lambda a, b: (a * a * b).sum(), (x, y), (ember.ones(2), ember.zeros(2)))
    >>> hx
    tensor([6., 8.])
    >>> hy
    tensor([2., 4.])
    """
    with enable_grad():
        is_inputs_tuple, inputs, v, is_outputs_tuple, outputs, jac = \
            _scalar_function_gradient(func, inputs, v, create_graph, strict, "hvp")
        grad_jac = tuple(zeros_like(inp, requires_grad=True) for inp in inputs)
        double_back = _autograd_grad(jac, inputs, grad_jac, create_graph=True)
        _check_requires_grad(jac, "hessian", strict=strict)

    with set_grad_enabled(True if create_graph else is_grad_enabled()):
        grad_res = _autograd_grad(double_back, grad_jac, v, create_graph=create_graph)
        result = _fill_in_zeros(grad_res, inputs, strict, create_graph, "double_back_trick")

    outputs = _grad_postprocess(outputs, create_graph)
    result = _grad_postprocess(result, create_graph)
    return (_tuple_postprocess(outputs, is_outputs_tuple),
            _tuple_postprocess(result, is_inputs_tuple))
