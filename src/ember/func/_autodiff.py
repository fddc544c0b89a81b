"""The differentiation transforms of ``torch.func``: grad, vjp, jvp, jacrev, jacfwd, hessian.

Each transform runs the function once on its arguments made differentiable and
differentiates with the reverse-mode engine (the helpers are those of
``ember.autograd.functional``).  Transforms nest because of how arguments are
made differentiable: a tensor that already requires grad (an outer transform's
input, or a parameter) is passed as a view linked to it, any other tensor as a
fresh leaf owned by this call.  The gradients are recorded as a graph
(``create_graph``) exactly when the function's graph reaches a tensor that is not
one of this call's own leaves, so an outer transform, or ``backward()``, can
differentiate them again; otherwise results come back detached, as PyTorch's do.

Forward mode (:func:`jvp`, :func:`jacfwd`, :func:`linearize`) uses the
double-backward trick: the gradient ``J^T u`` of the outputs for a dummy output
gradient ``u`` that requires grad is linear in ``u``, and its gradient with
respect to ``u`` along ``v`` is ``J v``.  It costs a backward pass of the backward
pass, and needs every derivative formula on the path to be differentiable.
"""
from ember._core._index import stack
from ember._core._tensor import Tensor, zeros, zeros_like
from ember.autograd._graph import AccumulateGrad
from ember.autograd.functional import _autograd_grad, _jacobian_of_output
from ember.autograd.grad_mode import enable_grad, set_grad_enabled, is_grad_enabled
from ember.func._pytree import tree_flatten, tree_unflatten, tree_map
from ember.func._vmap import _RandomnessCheck, _check_randomness_arg, _wraps

__all__ = ["grad", "grad_and_value", "vjp", "jvp", "linearize", "jacrev", "jacfwd", "hessian"]


# ---------------------------------------------------------------- arguments and levels

class _Level:
    """One call of a transform: the fresh leaves it made differentiable."""

    def __init__(self):
        self.own = {}

    def make_differentiable(self, x):
        if not isinstance(x, Tensor):
            raise ValueError(f"Thing passed to transform API must be Tensor, got {type(x)}")
        if x.requires_grad:
            return x.view_as(x)
        leaf = x.detach().requires_grad_()
        self.own[id(leaf)] = leaf
        return leaf

    def reaches_outside(self, tensors):
        """Whether the graph of any of ``tensors`` reaches a leaf this call did not make."""
        seen, todo = set(), []
        for t in tensors:
            if isinstance(t, Tensor) and t.requires_grad:
                if t.grad_fn is None:
                    if id(t) not in self.own:
                        return True
                else:
                    todo.append(t.grad_fn)
        while todo:
            node = todo.pop()
            if node in seen:
                continue
            seen.add(node)
            if type(node) is AccumulateGrad:
                var = node.variable
                if var is not None and id(var) not in self.own:
                    return True
                continue
            todo.extend(nxt for nxt, _ in node.next_functions if nxt is not None)
        return False

    def release(self, tree):
        """``tree`` with each tensor whose graph stays within this call detached."""
        def rel(x):
            if isinstance(x, Tensor) and x.requires_grad and not self.reaches_outside([x]):
                return x.detach()
            return x
        return tree_map(rel, tree)

    def release_aux(self, aux):
        """:meth:`release` for ``aux`` outputs, which PyTorch requires to be tensors."""
        for x in tree_flatten(aux)[0]:
            if not isinstance(x, Tensor):
                raise RuntimeError(f"Expected tensors, got unsupported type {type(x)}")
        return self.release(aux)


def _normalize_argnums(argnums, num_args):
    """``argnums`` as a tuple of non-negative indices, checked as PyTorch does."""
    if isinstance(argnums, bool) or not isinstance(argnums, (int, tuple)):
        raise RuntimeError(f"argnums must be int or Tuple[int, ...], got: {type(argnums)}")
    items = (argnums,) if isinstance(argnums, int) else argnums
    if isinstance(argnums, tuple):
        if not argnums:
            raise RuntimeError("argnums must be non-empty")
        if len(set(argnums)) != len(argnums):
            raise RuntimeError(f"argnums elements must be unique, got {argnums}")
    out = []
    for a in items:
        if not isinstance(a, int):
            raise RuntimeError(f"argnum must be int, got: {type(a)}")
        if not -num_args <= a < num_args:
            raise RuntimeError(f"Got argnum={a}, but only {num_args} positional inputs")
        out.append(a % num_args)
    return tuple(out)


def _differentiable_args(level, args, argnums):
    """``(args, diff_args)``: the arguments with those at ``argnums`` made
    differentiable, and those arguments alone (bare for an int ``argnums``)."""
    idx = _normalize_argnums(argnums, len(args))
    args = list(args)
    for i in idx:
        args[i] = tree_map(level.make_differentiable, args[i])
    diff = args[idx[0]] if isinstance(argnums, int) else tuple(args[i] for i in idx)
    return tuple(args), diff


def _split_aux(output, has_aux, api):
    if not has_aux:
        return output, None
    if not (isinstance(output, tuple) and len(output) == 2):
        raise RuntimeError(f"{api}: output of function f should be a tuple: (output, aux) if "
                           "has_aux is True")
    return output


def _check_tensor_outputs(flat, api):
    if not flat or (len(flat) == 1 and flat[0] is None):
        raise RuntimeError(f"{api}: Expected f to be a function that has non-empty output "
                           f"(got output = {flat})")
    for o in flat:
        if not isinstance(o, Tensor):
            raise RuntimeError(f"{api}: expected f(*primals) to return only tensors, got "
                               f"unsupported type {type(o)}")


def _check_float_outputs(flat, api):
    for o in flat:
        if not (o.is_floating_point() or o.is_complex()):
            raise RuntimeError(f"{api}: All outputs of f must be floating-point or complex "
                               f"Tensors, got Tensor with dtype {o.dtype}")


def _error_if_complex(name, tree, is_input):
    for idx, x in enumerate(tree_flatten(tree)[0]):
        if isinstance(x, Tensor) and x.is_complex():
            what = "inputs" if is_input else "outputs"
            raise RuntimeError(f"{name}: Expected all {what} to be real but received complex "
                               f"tensor at flattened input idx: {idx}")


def _grads(outputs, inputs, grad_outputs, create_graph, retain_graph=None):
    """Gradients of ``outputs`` with respect to ``inputs``: zeros for an input they do not
    depend on (and for every input when no output requires grad)."""
    with set_grad_enabled(create_graph or is_grad_enabled()):
        res = _autograd_grad(tuple(outputs), tuple(inputs), grad_outputs,
                             create_graph=create_graph, retain_graph=retain_graph)
    return [zeros_like(x) if g is None else g for g, x in zip(res, inputs)]


# ---------------------------------------------------------------- grad

def grad_and_value(func, argnums=0, has_aux=False):
    """Transform ``func`` into a function returning its gradient and its value.

    Parameters
    ----------
    func : callable
        Returns a scalar (0-dimensional) Tensor, or ``(scalar, aux)`` with
        ``has_aux``.
    argnums : int or tuple of int, default 0
        The positional arguments to differentiate with respect to; each is a
        Tensor or a pytree (tuples, lists, dicts) of Tensors.
    has_aux : bool, default False
        ``func`` returns ``(output, aux)``; ``aux`` is passed through, not
        differentiated.

    Returns
    -------
    callable
        Takes ``func``'s arguments and returns ``(grad, value)``, or
        ``(grad, (value, aux))`` with ``has_aux``.  ``grad`` has the structure
        of the argument (a tuple over the arguments when ``argnums`` is a tuple).

    Examples
    --------
    >>> import ember
    >>> from ember.func import grad_and_value
    >>> g, value = grad_and_value(lambda x: (x ** 2).sum())(ember.tensor([1.0, 2.0]))
    >>> g, value
    (tensor([2., 4.]), tensor(5.))
    """
    @_wraps(func)
    def wrapper(*args, **kwargs):
        level = _Level()
        with enable_grad():
            args, diff = _differentiable_args(level, args, argnums)
            output = func(*args, **kwargs)
            output, aux = _split_aux(output, has_aux, "grad_and_value(f)(*args)")
            if not isinstance(output, Tensor):
                raise RuntimeError("grad_and_value(f)(*args): Expected f(*args) to return a "
                                   f"Tensor, got {type(output)}")
            if output.dim() != 0:
                raise RuntimeError("grad_and_value(f)(*args): Expected f(*args) to return a "
                                   f"scalar Tensor, got tensor with {output.dim()} dims. Maybe "
                                   "you wanted to use the vjp or jacrev APIs instead?")
            flat_diff, spec = tree_flatten(diff)
            outside = level.reaches_outside([output])
            grads = _grads([output], flat_diff, None, create_graph=outside)
        result = tree_unflatten(grads, spec)
        value = level.release(output)
        if has_aux:
            return result, (value, level.release_aux(aux))
        return result, value

    return wrapper


def grad(func, argnums=0, has_aux=False):
    """Transform ``func`` into a function returning its gradient.

    ``grad(f)(x)`` is the gradient of the scalar ``f(x)`` with respect to ``x``.
    Transforms compose: ``grad(grad(f))`` is the second derivative of a scalar
    function of a scalar, ``vmap(grad(f))`` gives per-sample gradients.

    Parameters
    ----------
    func : callable
        Returns a scalar (0-dimensional) Tensor, or ``(scalar, aux)`` with
        ``has_aux``.
    argnums : int or tuple of int, default 0
        The positional arguments to differentiate with respect to; each is a
        Tensor or a pytree (tuples, lists, dicts) of Tensors.
    has_aux : bool, default False
        ``func`` returns ``(output, aux)``; the transformed function then
        returns ``(grad, aux)``.

    Returns
    -------
    callable
        Takes ``func``'s arguments and returns the gradient, with the structure
        of the argument (a tuple over the arguments when ``argnums`` is a tuple).

    Examples
    --------
    >>> import ember
    >>> from ember.func import grad
    >>> x = ember.tensor(0.5)
    >>> grad(ember.sin)(x)
    tensor(0.8776)
    >>> grad(grad(ember.sin))(x)      # -sin(x)
    tensor(-0.4794)
    """
    gv = grad_and_value(func, argnums, has_aux)

    @_wraps(func)
    def wrapper(*args, **kwargs):
        g, value = gv(*args, **kwargs)
        return (g, value[1]) if has_aux else g

    return wrapper


# ---------------------------------------------------------------- vjp

def vjp(func, *primals, has_aux=False):
    """The output of ``func`` at ``primals`` and a function computing vector-Jacobian products.

    Parameters
    ----------
    func : callable
        Takes the primals and returns a Tensor or a pytree of Tensors (floating
        point or complex), or ``(output, aux)`` with ``has_aux``.
    *primals : Tensor or pytree of Tensor
        The point at which to differentiate.
    has_aux : bool, default False
        ``func`` returns ``(output, aux)``; ``aux`` is returned as the third
        element, not differentiated.

    Returns
    -------
    output : Tensor or pytree of Tensor
        ``func(*primals)``.
    vjp_fn : callable
        ``vjp_fn(cotangents)`` takes one tensor per output, in the output's
        structure, and returns a tuple with one vector-Jacobian product per
        primal.  It can be called any number of times; ``create_graph``
        (default: whether grad mode is on) makes its results differentiable
        with respect to the cotangents and to tensors outside the call.
    aux : Any
        Only with ``has_aux``.

    Examples
    --------
    >>> import ember
    >>> from ember.func import vjp
    >>> out, vjp_fn = vjp(lambda x: x ** 2, ember.tensor([1.0, 2.0]))
    >>> vjp_fn(ember.tensor([1.0, 10.0]))
    (tensor([ 2., 40.]),)
    """
    level = _Level()
    with enable_grad():
        diff = tree_map(level.make_differentiable, primals)
        output = func(*diff)
        output, aux = _split_aux(output, has_aux, "vjp(f, *primals)")
        flat_out, out_spec = tree_flatten(output)
        _check_tensor_outputs(flat_out, "vjp(f, *primals)")
        _check_float_outputs(flat_out, "vjp(f, ...)")
        flat_diff, primals_spec = tree_flatten(diff)
        outside = level.reaches_outside(flat_out)

    def vjp_fn(cotangents, retain_graph=True, create_graph=None):
        if create_graph is None:
            create_graph = is_grad_enabled()
        flat_cot, cot_spec = tree_flatten(cotangents)
        if cot_spec != out_spec:
            raise RuntimeError("Expected pytree structure of cotangents to be the same as "
                               "pytree structure of outputs to the function. cotangents: "
                               f"{cot_spec.pprint()}, primal output: {out_spec.pprint()}")
        # a graph of the result is needed only if it can lead outside this call
        create_graph = create_graph and (outside or any(
            isinstance(c, Tensor) and c.requires_grad for c in flat_cot))
        res = _grads(flat_out, flat_diff, flat_cot, create_graph, retain_graph)
        return tree_unflatten(res, primals_spec)

    result = level.release(output)
    if has_aux:
        return result, vjp_fn, level.release_aux(aux)
    return result, vjp_fn


# ---------------------------------------------------------------- forward mode

_JVP = "jvp(f, primals, tangents)"


class _Linearization:
    """``func`` run once at the primals, with ``J^T u`` recorded for dummy output
    gradients ``u``; :meth:`push` gives ``J v`` for any tangents ``v``."""

    def __init__(self, func, args, argnums, has_aux, api):
        self.level = level = _Level()
        with enable_grad():
            if argnums is None:
                args = diff = tree_map(level.make_differentiable, args)
            else:
                args, diff = _differentiable_args(level, args, argnums)
            output = func(*args)
            output, self.aux = _split_aux(output, has_aux, api)
            self.flat_out, self.out_spec = tree_flatten(output)
            _check_tensor_outputs(self.flat_out, api)
            self.flat_diff, self.primals_spec = tree_flatten(diff)
            self.outside = level.reaches_outside(self.flat_out)
            self.dummies = [zeros_like(o).requires_grad_() if o.requires_grad else None
                            for o in self.flat_out]
            used = [(o, u) for o, u in zip(self.flat_out, self.dummies) if u is not None]
            self.back = (_autograd_grad(tuple(o for o, _ in used), tuple(self.flat_diff),
                                        tuple(u for _, u in used), create_graph=True)
                         if used else (None,) * len(self.flat_diff))
        self.output = output

    def push(self, flat_tangents, strict=False):
        """``J v`` for the flat tangents ``v``, one tensor per flat output."""
        pairs = [(b, v) for b, v in zip(self.back, flat_tangents) if b is not None]
        dummies = [u for u in self.dummies if u is not None]
        create_graph = self.outside or any(v.requires_grad for v in flat_tangents)
        if pairs and dummies:
            with set_grad_enabled(create_graph or is_grad_enabled()):
                res = iter(_autograd_grad(tuple(b for b, _ in pairs), tuple(dummies),
                                          tuple(v for _, v in pairs), retain_graph=True,
                                          create_graph=create_graph))
        else:
            res = iter([None] * len(dummies))
        out = []
        for o, u in zip(self.flat_out, self.dummies):
            t = next(res) if u is not None else None
            if t is None:
                if strict:
                    raise RuntimeError("jvp(f, primals, tangents, strict=True): The output of "
                                       "f is independent of the inputs. This is not allowed "
                                       "with strict=True.")
                t = zeros_like(o)
            out.append(t)
        return out


def _check_tangents(flat_primals, flat_tangents):
    for p, t in zip(flat_primals, flat_tangents):
        if tuple(p.shape) != tuple(t.shape):
            raise RuntimeError("Trying to set a forward gradient that has a different size "
                               "than that of the original Tensor, this is not supported. Tensor "
                               f"is of size {list(p.shape)} while the given forward gradient "
                               f"is of size {list(t.shape)}.")


def jvp(func, primals, tangents, *, strict=False, has_aux=False):
    """The output of ``func`` at ``primals`` and its Jacobian-vector product with ``tangents``.

    Forward-mode derivatives are computed with the double-backward trick
    (ember has no forward-mode engine): ``J v`` is the gradient, with respect
    to a dummy output gradient ``u``, of ``J^T u`` taken along ``v``.  The
    values are those of forward mode; the cost is one forward and two backward
    passes, and every derivative formula on the path must be differentiable.

    Parameters
    ----------
    func : callable
        Takes the primals and returns a Tensor or a pytree of Tensors, or
        ``(output, aux)`` with ``has_aux``.
    primals : tuple
        The arguments of ``func`` (Tensors or pytrees of Tensors).
    tangents : tuple
        One tensor per primal tensor, with the same structure and shapes.
    strict : bool, default False
        Raise when an output does not depend on the primals, instead of
        returning zeros for it.
    has_aux : bool, default False
        ``func`` returns ``(output, aux)``; ``aux`` is returned third.

    Returns
    -------
    output : Tensor or pytree of Tensor
        ``func(*primals)``.
    jvp_out : Tensor or pytree of Tensor
        The Jacobian-vector product, shaped like ``output``.
    aux : Any
        Only with ``has_aux``.

    Examples
    --------
    >>> import ember
    >>> from ember.func import jvp
    >>> out, tangent = jvp(lambda x: x ** 3, (ember.tensor([1.0, 2.0]),), (ember.ones(2),))
    >>> tangent
    tensor([ 3., 12.])
    """
    if not isinstance(primals, tuple):
        raise RuntimeError(f"{_JVP}: Expected primals to be a tuple. E.g. it should be valid "
                           "to call f(*primals).")
    flat_primals, primals_spec = tree_flatten(primals)
    flat_tangents, tangents_spec = tree_flatten(tangents)
    if primals_spec != tangents_spec:
        raise RuntimeError(f"{_JVP}: Expected primals and tangents to have the same python "
                           "structure. For example, if primals is a tuple of 3 tensors, "
                           f"tangents also must be. Got primals with structure {primals_spec} "
                           f"and tangents with structure {tangents_spec}")
    for what, flat in (("primals", flat_primals), ("tangents", flat_tangents)):
        if not flat:
            raise RuntimeError(f"{_JVP}: Expected {what} to contain at least one Tensor.")
        for x in flat:
            if not isinstance(x, Tensor):
                raise RuntimeError(f"{_JVP}: Expected {what} to only contain Tensors, got "
                                   f"{type(x)}")
    _check_tangents(flat_primals, flat_tangents)
    lin = _Linearization(func, primals, None, has_aux, _JVP)
    tangents_out = tree_unflatten(lin.push(flat_tangents, strict), lin.out_spec)
    output = lin.level.release(lin.output)
    if has_aux:
        return output, tangents_out, lin.level.release_aux(lin.aux)
    return output, tangents_out


def linearize(func, *primals):
    """The output of ``func`` at ``primals`` and a function computing its Jacobian-vector products.

    ``func`` runs once; each call of the returned ``jvp_fn`` costs a double
    backward pass over the recorded graph (see :func:`jvp`), which is kept
    alive as long as ``jvp_fn`` is.

    Parameters
    ----------
    func : callable
        Takes the primals and returns a Tensor or a pytree of Tensors.
    *primals : Tensor or pytree of Tensor
        The point at which to linearize.

    Returns
    -------
    output : Tensor or pytree of Tensor
        ``func(*primals)``.
    jvp_fn : callable
        ``jvp_fn(*tangents)``, with tangents shaped like ``primals``, returns
        the Jacobian-vector product, shaped like ``output``.

    Examples
    --------
    >>> import ember
    >>> from ember.func import linearize
    >>> out, jvp_fn = linearize(ember.sin, ember.tensor([0.0, 1.0]))
    >>> jvp_fn(ember.tensor([1.0, 1.0]))
    tensor([1.0000, 0.5403])
    """
    flat_primals, primals_spec = tree_flatten(primals)
    lin = _Linearization(func, primals, None, False, "linearize")

    def jvp_fn(*tangents):
        flat_tangents, spec = tree_flatten(tangents)
        if spec != primals_spec:
            raise RuntimeError(f"Expected the tangents {spec} to have the same argspec as the "
                               f"primals {primals_spec}")
        for idx, (p, t) in enumerate(zip(flat_primals, flat_tangents)):
            for what in ("shape", "device", "dtype"):
                if getattr(t, what) != getattr(p, what):
                    raise RuntimeError(f"tangent:{idx} with {what} {getattr(t, what)} in "
                                       f"flattened pytree doesn't match the {what} "
                                       f"{getattr(p, what)} of the corresponding primal.")
        return tree_unflatten(lin.push(flat_tangents), lin.out_spec)

    return lin.level.release(lin.output), jvp_fn


# ---------------------------------------------------------------- Jacobians

def _assemble(blocks, out_spec, primals_spec):
    """The Jacobian pytree from ``blocks[i][j]``, the block of flat output ``i`` and
    flat primal ``j``: the output's structure, each output leaf holding the primals'."""
    return tree_unflatten([tree_unflatten(row, primals_spec) for row in blocks], out_spec)


def _basis_blocks(columns, flat_out, flat_primals):
    """Jacobian blocks from forward-mode columns: ``columns[c][i]`` is the derivative of
    flat output ``i`` along the ``c``-th unit tangent (primals in order, elements in
    row-major order)."""
    blocks = [[] for _ in flat_out]
    start = 0
    for p in flat_primals:
        n = p.numel()
        for i, o in enumerate(flat_out):
            cols = [columns[c][i] for c in range(start, start + n)]
            shape = tuple(o.shape) + tuple(p.shape)
            blocks[i].append(stack(cols, dim=-1).reshape(shape) if cols else
                             zeros(shape, dtype=o.dtype, device=o.device))
        start += n
    return blocks


def jacrev(func, argnums=0, *, has_aux=False, chunk_size=None):
    """Transform ``func`` into a function returning its Jacobian, by reverse mode.

    One backward pass per output element (a row of the Jacobian).

    Parameters
    ----------
    func : callable
        Returns a Tensor or a pytree of Tensors, or ``(output, aux)`` with
        ``has_aux``.
    argnums : int or tuple of int, default 0
        The positional arguments to differentiate with respect to (Tensors or
        pytrees of Tensors).
    has_aux : bool, default False
        ``func`` returns ``(output, aux)``; the transformed function returns
        ``(jacobian, aux)``.
    chunk_size : int, optional
        Accepted for compatibility (must be positive): PyTorch computes that many
        rows at a time with :func:`vmap`; ember computes them one at a time
        whatever its value.

    Returns
    -------
    callable
        Takes ``func``'s arguments and returns the Jacobian: for an output of
        shape ``o`` and an argument of shape ``i``, a Tensor of shape ``o + i``;
        pytrees of outputs and arguments give the output's structure, each leaf
        holding the argument's (a tuple over the arguments when ``argnums`` is a
        tuple).

    Examples
    --------
    >>> import ember
    >>> from ember.func import jacrev
    >>> jacrev(lambda x: x ** 2)(ember.tensor([1.0, 2.0]))
    tensor([[2., 0.],
            [0., 4.]])
    """
    if not (chunk_size is None or chunk_size > 0):
        raise ValueError("jacrev: `chunk_size` should be greater than 0.")

    @_wraps(func)
    def wrapper(*args):
        _error_if_complex("jacrev", args, is_input=True)
        level = _Level()
        with enable_grad():
            args, diff = _differentiable_args(level, args, argnums)
            output = func(*args)
            output, aux = _split_aux(output, has_aux, "vjp(f, *primals)")
            flat_out, out_spec = tree_flatten(output)
            _check_tensor_outputs(flat_out, "vjp(f, *primals)")
            _check_float_outputs(flat_out, "vjp(f, ...)")
            _error_if_complex("jacrev", flat_out, is_input=False)
            flat_diff, primals_spec = tree_flatten(diff)
            outside = level.reaches_outside(flat_out)
            blocks = [list(_jacobian_of_output(i, o, tuple(flat_diff), outside, False))
                      for i, o in enumerate(flat_out)]
        jac = _assemble(blocks, out_spec, primals_spec)
        return (jac, level.release_aux(aux)) if has_aux else jac

    return wrapper


def jacfwd(func, argnums=0, has_aux=False, *, randomness="error"):
    """Transform ``func`` into a function returning its Jacobian, by forward mode.

    ``func`` runs once; each column of the Jacobian (one per input element) is
    a Jacobian-vector product computed with the double-backward trick (see
    :func:`jvp`).  The values are those of :func:`jacrev`.

    Parameters
    ----------
    func : callable
        Returns a Tensor or a pytree of Tensors, or ``(output, aux)`` with
        ``has_aux``.
    argnums : int or tuple of int, default 0
        The positional arguments to differentiate with respect to.
    has_aux : bool, default False
        ``func`` returns ``(output, aux)``; the transformed function returns
        ``(jacobian, aux)``.
    randomness : {"error", "same", "different"}, default "error"
        As for :func:`vmap`: with ``"error"``, ``func`` may not draw random
        numbers.  Since ``func`` runs once, every column sees the same draw
        under ``"same"`` and ``"different"`` alike.

    Returns
    -------
    callable
        Takes ``func``'s arguments and returns the Jacobian, structured as for
        :func:`jacrev`.

    Examples
    --------
    >>> import ember
    >>> from ember.func import jacfwd
    >>> jacfwd(lambda x: x.cumsum(0))(ember.tensor([1.0, 2.0]))
    tensor([[1., 0.],
            [1., 1.]])
    """
    _check_randomness_arg(randomness)

    @_wraps(func)
    def wrapper(*args):
        _error_if_complex("jacfwd", args, is_input=True)
        with _RandomnessCheck(randomness, args):
            lin = _Linearization(func, args, argnums, has_aux, _JVP)
        _error_if_complex("jacfwd", lin.flat_out, is_input=False)
        flat_primals = lin.flat_diff
        columns = []
        for j, p in enumerate(flat_primals):
            for k in range(p.numel()):
                tangents = [zeros_like(q) for q in flat_primals]
                tangents[j].view(-1)[k] = 1
                columns.append(lin.push(tangents))
        blocks = _basis_blocks(columns, lin.flat_out, flat_primals)
        jac = _assemble(blocks, lin.out_spec, lin.primals_spec)
        return (jac, lin.level.release_aux(lin.aux)) if has_aux else jac

    return wrapper


def hessian(func, argnums=0):
    """Transform ``func`` into a function returning its Hessian.

    PyTorch computes ``jacfwd(jacrev(func, argnums), argnums)``; ember computes
    ``jacrev(jacrev(func, argnums), argnums)``, which has the same value and
    needs only second derivatives of the ops (forward mode over reverse would
    need third ones with the double-backward trick).

    Parameters
    ----------
    func : callable
        Returns a Tensor (usually a scalar) or a pytree of Tensors.
    argnums : int or tuple of int, default 0
        The positional arguments to differentiate with respect to.

    Returns
    -------
    callable
        Takes ``func``'s arguments and returns the Hessian: for a scalar output
        and an argument of shape ``s``, a Tensor of shape ``s + s``.

    Examples
    --------
    >>> import ember
    >>> from ember.func import hessian
    >>> hessian(lambda x: (x ** 3).sum())(ember.tensor([1.0, 2.0]))
    tensor([[ 6.,  0.],
            [ 0., 12.]])
    """
    return jacrev(jacrev(func, argnums), argnums)
