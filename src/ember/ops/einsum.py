"""``einsum``: Einstein summation as a composite of views, sums and ``bmm``.

The equation is parsed into one list of labels per operand (letters, and for
``...`` the broadcast dims, aligned from the right).  Each operand first takes
the diagonal of repeated labels and sums out labels no one else needs; then the
operands are contracted left to right, each pair as one batched matrix product
(batch labels, labels of one side, summed labels), or a broadcast product when
no label is summed.  Every step is a differentiable ember op, so gradients and
double gradients come for free.

Working the steps out costs more than running them on small operands, so they are
worked out once per equation and operand shapes: the contraction runs on
shape-only stand-ins (:class:`_Planned`) that record each tensor method called,
and later calls with the same equation and shapes replay the recorded steps.
"""
from ember.ops.autocast import autocasts
import functools

from ember._core._tensor import Tensor

__all__ = ["einsum"]


def _letter_label(char, position):
    if not char.isascii() or not char.isalpha():
        raise RuntimeError(f"einsum(): invalid subscript given at index {position} in the "
                           f"equation string, subscripts must be in [a-zA-Z]")
    return char


def _parse_term(term, start):
    """Labels of one term: letters, with ``None`` where the ellipsis stands."""
    labels, k = [], 0
    while k < len(term):
        if term.startswith("...", k):
            if None in labels:
                raise RuntimeError("einsum(): found '.' for operand that is not part of any "
                                   "ellipsis")
            labels.append(None)
            k += 3
        elif term[k] == ".":
            raise RuntimeError("einsum(): found '.' for operand that is not part of any ellipsis")
        else:
            labels.append(_letter_label(term[k], start + k))
            k += 1
    return labels


def _parse(equation, operands):
    """Per operand the list of labels (ellipsis dims as ``("...", j)``) and the output's."""
    equation = equation.replace(" ", "")
    lhs, arrow, rhs = equation.partition("->")
    terms, starts, pos = lhs.split(","), [], 0
    for term in terms:
        starts.append(pos)
        pos += len(term) + 1
    if len(terms) < len(operands):
        raise RuntimeError("einsum(): more operands were provided than specified in the equation")
    if len(terms) > len(operands):
        raise RuntimeError("einsum(): fewer operands were provided than specified in the "
                           "equation")
    parsed = [_parse_term(term, start) for term, start in zip(terms, starts)]
    ellipsis_dims = 0
    inputs = []
    for k, (labels, x) in enumerate(zip(parsed, operands)):
        explicit = len(labels) - (None in labels)
        if None in labels:
            count = x.dim() - explicit
            if count < 0:
                raise RuntimeError(f"einsum(): the number of subscripts in the equation "
                                   f"({explicit}) is more than the number of dimensions "
                                   f"({x.dim()}) for operand {k}")
        else:
            count = 0
            if explicit != x.dim():
                raise RuntimeError(f"einsum(): the number of subscripts in the equation "
                                   f"({explicit}) does not match the number of dimensions "
                                   f"({x.dim()}) for operand {k} and no ellipsis was given")
        ellipsis_dims = max(ellipsis_dims, count)
        inputs.append((labels, count))
    expanded = []
    for labels, count in inputs:
        out = []
        for label in labels:
            if label is None:
                # right-aligned broadcast dims: ("...", 0) is the leftmost of all of them
                out.extend(("...", j) for j in range(-count, 0))
            else:
                out.append(label)
        expanded.append(out)
    ellipsis_labels = [("...", j) for j in range(-ellipsis_dims, 0)]
    if arrow:
        output = []
        for k, label in enumerate(_parse_term(rhs, len(lhs) + 2)):
            if label is None:
                output.extend(ellipsis_labels)
            elif label in output:
                raise RuntimeError(f"einsum(): output subscript {label} appears more than once "
                                   f"in the output")
            elif not any(label in labels for labels in expanded):
                raise RuntimeError(f"einsum(): output subscript {label} does not appear in the "
                                   f"equation for any input operand")
            else:
                output.append(label)
    else:
        counts = {}
        for labels in expanded:
            for label in labels:
                if isinstance(label, str):
                    counts[label] = counts.get(label, 0) + 1
        # implicit output: the ellipsis dims, then the letters used once, upper case first
        output = ellipsis_labels + sorted(label for label, n in counts.items() if n == 1)
    return expanded, output


def _take_diagonals(x, labels):
    """Collapse repeated labels of one operand onto their diagonal."""
    labels = list(labels)
    while True:
        repeated = next((lab for k, lab in enumerate(labels) if lab in labels[k + 1:]), None)
        if repeated is None:
            return x, labels
        first = labels.index(repeated)
        second = labels.index(repeated, first + 1)
        if x.shape[first] != x.shape[second]:
            raise RuntimeError(f"einsum(): subscript {repeated} is repeated for operand but the "
                               f"sizes don't match, {x.shape[first]} != {x.shape[second]}")
        x = x.diagonal(0, first, second)
        labels = [lab for k, lab in enumerate(labels) if k not in (first, second)] + [repeated]


def _sum_out(x, labels, keep):
    """Sum the dims whose labels are not in ``keep``."""
    dims = [k for k, lab in enumerate(labels) if lab not in keep]
    if not dims:
        return x, labels
    return x.sum(dims), [lab for lab in labels if lab in keep]


def _size(x, labels, label):
    return x.shape[labels.index(label)]


def _contract(a, la, b, lb, keep):
    """Contract two operands over their shared labels not in ``keep``, as one bmm (or
    one broadcast product when no label is summed)."""
    batch = [lab for lab in la if lab in lb and lab in keep]
    summed = [lab for lab in la if lab in lb and lab not in keep]
    a_only = [lab for lab in la if lab not in lb]
    b_only = [lab for lab in lb if lab not in la]
    for lab in list(summed):
        sa, sb = _size(a, la, lab), _size(b, lb, lab)
        if sa != sb and 1 not in (sa, sb):
            raise RuntimeError(f"einsum(): operands do not broadcast: subscript {lab} has sizes "
                               f"{sa} and {sb}")
        if sa != sb:
            # a size-1 side broadcasts: sum the other side first, both become size 1
            a = a.sum(la.index(lab), keepdim=True)
            b = b.sum(lb.index(lab), keepdim=True)
    batch_sizes = []
    for lab in batch:
        sa, sb = _size(a, la, lab), _size(b, lb, lab)
        if sa != sb and 1 not in (sa, sb):
            raise RuntimeError(f"einsum(): operands do not broadcast: subscript {lab} has sizes "
                               f"{sa} and {sb}")
        batch_sizes.append(max(sa, sb))
    a = a.permute([la.index(lab) for lab in batch + a_only + summed])
    b = b.permute([lb.index(lab) for lab in batch + summed + b_only])
    nb = len(batch)
    a = a.expand(tuple(batch_sizes) + tuple(a.shape[nb:]))
    b = b.expand(tuple(batch_sizes) + tuple(b.shape[nb:]))
    a_sizes = tuple(a.shape[nb:nb + len(a_only)])
    b_sizes = tuple(b.shape[nb + len(summed):])
    k = 1
    for s in a.shape[nb + len(a_only):]:
        k *= s
    m, n, bsz = 1, 1, 1
    for s in a_sizes:
        m *= s
    for s in b_sizes:
        n *= s
    for s in batch_sizes:
        bsz *= s
    if summed:
        product = a.reshape(bsz, m, k).bmm(b.reshape(bsz, k, n))
    else:
        # nothing summed: a broadcast product, as PyTorch's einsum (so that autocast,
        # which lowers bmm and not mul, leaves an outer product in float32 there too)
        product = a.reshape(bsz, m, 1).mul(b.reshape(bsz, 1, n))
    return product.reshape(tuple(batch_sizes) + a_sizes + b_sizes), batch + a_only + b_only


class _Plan:
    """The steps of one equation on operands of given shapes: per step the tensor
    method, the value it is called on, the value passed as its operand (or None) and
    its arguments; values are the operands, then each step's result."""

    def __init__(self, n_inputs):
        self.n_inputs = n_inputs
        self.steps = []
        self.result = None

    def run(self, operands):
        values = list(operands)
        for method, source, other, args in self.steps:
            x = values[source]
            values.append(getattr(x, method)(*args) if other is None
                          else getattr(x, method)(values[other], *args))
        return values[self.result]


class _Planned:
    """A shape-only stand-in for a value while a plan is worked out: the tensor
    methods the contraction calls record themselves and return the result's
    stand-in.  Steps that would not change the layout are not recorded."""
    __slots__ = ("shape", "index", "plan")

    def __init__(self, shape, index, plan):
        self.shape = tuple(shape)
        self.index = index
        self.plan = plan

    def dim(self):
        return len(self.shape)

    def _record(self, method, shape, args, other=None):
        plan = self.plan
        plan.steps.append((method, self.index, None if other is None else other.index, args))
        return _Planned(shape, plan.n_inputs + len(plan.steps) - 1, plan)

    def diagonal(self, offset, dim1, dim2):
        shape = [s for k, s in enumerate(self.shape) if k not in (dim1, dim2)]
        return self._record("diagonal", shape + [min(self.shape[dim1], self.shape[dim2])],
                            (offset, dim1, dim2))

    def sum(self, dims, keepdim=False):
        if keepdim:
            shape = [1 if k == dims else s for k, s in enumerate(self.shape)]
            return self._record("sum", shape, (dims, True))
        return self._record("sum", [s for k, s in enumerate(self.shape) if k not in dims],
                            (dims,))

    def permute(self, dims):
        if list(dims) == list(range(len(self.shape))):
            return self
        return self._record("permute", [self.shape[d] for d in dims], (dims,))

    def expand(self, sizes):
        return self if tuple(sizes) == self.shape else self._record("expand", sizes, (sizes,))

    def reshape(self, *sizes):
        if len(sizes) == 1 and isinstance(sizes[0], tuple):
            sizes = sizes[0]
        return self if sizes == self.shape else self._record("reshape", sizes, sizes)

    def bmm(self, other):
        return self._record("bmm", (self.shape[0], self.shape[1], other.shape[2]), (),
                            other)

    def mul(self, other):
        return self._record("mul", (self.shape[0], self.shape[1], other.shape[2]), (),
                            other)


@functools.lru_cache(maxsize=512)
def _plan(equation, shapes):
    plan = _Plan(len(shapes))
    operands = [_Planned(shape, k, plan) for k, shape in enumerate(shapes)]
    result = _contract_all(equation, operands)
    if result.index < plan.n_inputs:
        # the equation leaves an operand as it is: return a view of it, as PyTorch does
        plan.steps.append(("permute", result.index, None, (list(range(result.dim())),)))
        result = _Planned(result.shape, plan.n_inputs + len(plan.steps) - 1, plan)
    plan.result = result.index
    return plan


@autocasts("einsum")
def einsum(equation, *operands):
    """Sum products of the elements of ``operands`` as the Einstein ``equation`` says.

    Parameters
    ----------
    equation : str or Tensor
        Subscripts of each operand separated by commas, optionally ``->`` and the
        output's subscripts (letters; ``...`` for broadcast dims).  Without ``->``
        the output holds the letters used once, in alphabetical order.  In the
        sublist format, ``einsum(op0, sublist0, op1, sublist1, ..., [sublist_out])``,
        the first operand comes here and each operand is followed by its subscripts
        as a list of ints in ``[0, 52)`` (and ``Ellipsis``).
    *operands : Tensor
        The tensors (or one list of them).

    Returns
    -------
    Tensor

    Examples
    --------
    >>> import ember
    >>> a = ember.arange(6.0).reshape(2, 3)
    >>> ember.einsum("ij,jk->ik", a, a.t())
    tensor([[ 5., 14.],
            [14., 50.]])
    >>> ember.einsum("ii", ember.eye(3))
    tensor(3.)
    >>> ember.einsum("...j,j", a, ember.ones(3))
    tensor([ 3., 12.])
    >>> ember.einsum(a, [0, 1], a, [2, 1], [0, 2])
    tensor([[ 5., 14.],
            [14., 50.]])
    """
    if isinstance(equation, Tensor):
        equation, operands = _from_sublists((equation,) + operands)
    if not isinstance(equation, str):
        raise TypeError(f"einsum(): argument 'equation' (position 1) must be str, not "
                        f"{type(equation).__name__}")
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    for k, x in enumerate(operands):
        if not isinstance(x, Tensor):
            raise TypeError(f"einsum(): operand {k} must be Tensor, not {type(x).__name__}")
    if not operands:
        raise RuntimeError("einsum(): must provide at least one operand")
    return _plan(equation, tuple([x.shape for x in operands])).run(operands)


def _sublist_term(sublist):
    letters = []
    for n in sublist:
        if n is Ellipsis:
            letters.append("...")
        elif not isinstance(n, int) or isinstance(n, bool):
            raise TypeError(f"einsum(): subscripts in a subscript list must be ints or "
                            f"Ellipsis, got {type(n).__name__}")
        elif 0 <= n < 26:
            letters.append(chr(ord("A") + n))
        elif 26 <= n < 52:
            letters.append(chr(ord("a") + n - 26))
        else:
            raise ValueError("einsum(): subscript in subscript list is not within the valid "
                             "range [0, 52)")
    return "".join(letters)


def _from_sublists(args):
    """The equation and operands of ``einsum(op0, sublist0, op1, sublist1, ..., [out])``,
    with subscript ``n`` spelled as PyTorch does (0-25: ``A``-``Z``, 26-51: ``a``-``z``)."""
    if len(args) < 2:
        raise ValueError("einsum(): must specify the equation string and at least one "
                         "operand, or at least one operand and its subscripts list")
    equation = ",".join(_sublist_term(sublist) for sublist in args[1::2])
    if len(args) % 2:
        equation += "->" + _sublist_term(args[-1])
        return equation, args[:-1:2]
    return equation, args[::2]


def _contract_all(equation, operands):
    """The whole contraction of ``equation`` on ``operands`` (stand-ins, see _plan)."""
    label_lists, output = _parse(equation, operands)
    xs = []
    for x, labels in zip(operands, label_lists):
        xs.append(_take_diagonals(x, labels))
    # sum out, per operand, labels that no other operand and not the output need
    reduced = []
    for k, (x, labels) in enumerate(xs):
        keep = set(output)
        for j, (_, other) in enumerate(xs):
            if j != k:
                keep.update(other)
        reduced.append(_sum_out(x, labels, keep))
    x, labels = reduced[0]
    for k in range(1, len(reduced)):
        keep = set(output)
        for _, later in reduced[k + 1:]:
            keep.update(later)
        x, labels = _contract(x, labels, reduced[k][0], reduced[k][1], keep)
    x, labels = _sum_out(x, labels, set(output))
    return x.permute([labels.index(lab) for lab in output])
