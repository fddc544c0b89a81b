"""``assert_close``: PyTorch's comparison of tensors, numbers and containers of them,
with its default tolerances and messages."""
import cmath
import collections.abc
import contextlib

import numpy as np

import ember
from ember._core._tensor import Tensor

__all__ = ["assert_close"]

# {dtype: (rtol, atol)}, PyTorch's table
_DTYPE_PRECISIONS = {
    ember.float16: (0.001, 1e-5),
    ember.bfloat16: (0.016, 1e-5),
    ember.float32: (1.3e-6, 1e-5),
    ember.float64: (1e-7, 1e-7),
    ember.complex64: (1.3e-6, 1e-5),
    ember.complex128: (1e-7, 1e-7),
}
# the dtype each Python number is compared as
_NUMBER_DTYPES = {int: ember.int64, float: ember.float64, complex: ember.complex128}


class _Mismatch(Exception):
    """A failed comparison: the exception type, the message and where in the inputs."""

    def __init__(self, type, msg, id=()):
        super().__init__(msg)
        self.type, self.msg, self.id = type, msg, id

    def to_error(self, msg=None):
        if not isinstance(msg, str):
            generated = self.msg
            if self.id:
                generated += ("\n\nThe failure occurred for item "
                              f"{''.join(str([item]) for item in self.id)}")
            msg = msg(generated) if callable(msg) else generated
        return self.type(msg)


class _Unsupported(Exception):
    """The inputs are not of the kind a comparison handles: try the next one."""


def _tolerances(dtypes, rtol, atol, id):
    if (rtol is None) ^ (atol is None):
        raise _Mismatch(ValueError, "Both 'rtol' and 'atol' must be either specified or omitted, "
                        f"but got no {'rtol' if rtol is None else 'atol'}.", id)
    if rtol is not None:
        return rtol, atol
    rtols, atols = zip(*[_DTYPE_PRECISIONS.get(d, (0.0, 0.0)) for d in dtypes])
    return max(rtols), max(atols)


def _mismatch_msg(identifier, extra, abs_diff, abs_idx, atol, rel_diff, rel_idx, rtol):
    equality = rtol == 0 and atol == 0

    def diff_msg(kind, diff, idx, tol):
        if idx is None:
            msg = f"{kind.title()} difference: {diff}"
        else:
            msg = f"Greatest {kind} difference: {diff} at index {idx}"
        if not equality:
            msg += f" (up to {tol} allowed)"
        return msg + "\n"

    msg = f"{identifier} are not {'equal' if equality else 'close'}!\n\n"
    if extra:
        msg += f"{extra.strip()}\n"
    msg += diff_msg("absolute", abs_diff, abs_idx, atol)
    msg += diff_msg("relative", rel_diff, rel_idx, rtol)
    return msg.strip()


def _scalar_msg(actual, expected, rtol, atol):
    abs_diff = abs(actual - expected)
    rel_diff = float("inf") if expected == 0 else abs_diff / abs(expected)
    return _mismatch_msg("Scalars", f"Expected {expected} but got {actual}.", abs_diff, None,
                         atol, rel_diff, None, rtol)


def _tensor_msg(actual, expected, matches, rtol, atol):
    m = matches.numpy()
    total = m.size
    mismatches = total - int(m.sum())
    extra = f"Mismatched elements: {mismatches} / {total} ({mismatches / total:.1%})"
    a, e = actual.numpy().ravel(), expected.numpy().ravel()
    if not (actual.is_floating_point() or actual.is_complex()):
        a, e = a.astype(np.int64), e.astype(np.int64)
    with np.errstate(all="ignore"):
        abs_diff = np.abs(a - e)
        abs_diff[m.ravel()] = 0
        rel_diff = abs_diff / np.abs(e)
    rel_diff[m.ravel()] = 0

    def where(values):
        # the first greatest, NaN counting as the greatest (as torch.max)
        nans = np.flatnonzero(np.isnan(values))
        flat = int(nans[0]) if nans.size else int(np.argmax(values))
        return values[flat].item(), tuple(int(i) for i in np.unravel_index(flat, m.shape))

    (abs_max, abs_idx), (rel_max, rel_idx) = where(abs_diff), where(rel_diff)
    return _mismatch_msg("Tensor-likes", extra, abs_max, abs_idx, atol, rel_max, rel_idx, rtol)


# ---------------------------------------------------------------- the kinds of pairs

# Each pair function checks that it handles the inputs (raising _Unsupported when not)
# and returns the comparison to run: every pair is made before any is compared, so
# that a type error anywhere wins over a value mismatch, as in PyTorch.

def _pair_none(actual, expected, id, **options):
    if not (actual is None or expected is None):
        raise _Unsupported

    def compare():
        if not (actual is None and expected is None):
            raise _Mismatch(AssertionError, f"None mismatch: {actual} is not {expected}", id)
    return compare


def _pair_bool(actual, expected, id, **options):
    if not all(isinstance(x, (bool, np.bool_)) for x in (actual, expected)):
        raise _Unsupported
    actual, expected = bool(actual), bool(expected)

    def compare():
        if actual is not expected:
            raise _Mismatch(AssertionError, f"Booleans mismatch: {actual} is not {expected}", id)
    return compare


def _pair_number(actual, expected, id, rtol=None, atol=None, equal_nan=False, **options):
    types = (int, float, complex, np.number)
    if not all(isinstance(x, types) for x in (actual, expected)):
        raise _Unsupported
    actual, expected = (x.item() if isinstance(x, np.number) else x for x in (actual, expected))
    rtol, atol = _tolerances([_NUMBER_DTYPES[type(x)] for x in (actual, expected)],
                             rtol, atol, id)

    def compare():
        if actual == expected:
            return
        if equal_nan and cmath.isnan(actual) and cmath.isnan(expected):
            return
        abs_diff = abs(actual - expected)
        if cmath.isfinite(abs_diff) and abs_diff <= atol + rtol * abs(expected):
            return
        raise _Mismatch(AssertionError, _scalar_msg(actual, expected, rtol, atol), id)
    return compare


def _to_tensor(x):
    if isinstance(x, Tensor):
        return x
    try:
        return ember.as_tensor(x)
    except Exception:
        raise _Unsupported from None


def _pair_tensor(actual, expected, id, allow_subclasses=True, rtol=None, atol=None,
                    equal_nan=False, check_device=True, check_dtype=True, check_layout=True,
                    check_stride=False):
    if not (isinstance(actual, type(expected)) or isinstance(expected, type(actual))):
        raise _Unsupported
    if not allow_subclasses and type(actual) is not type(expected):
        raise _Unsupported
    actual, expected = _to_tensor(actual), _to_tensor(expected)
    rtol, atol = _tolerances([actual.dtype, expected.dtype], rtol, atol, id)
    return lambda: _compare_tensors(actual, expected, id, rtol, atol, equal_nan, check_device,
                                    check_dtype, check_stride)


def _compare_tensors(actual, expected, id, rtol, atol, equal_nan, check_device, check_dtype,
                     check_stride):
    def differ(attribute, a, e):
        raise _Mismatch(AssertionError,
                        f"The values for attribute '{attribute}' do not match: {a} != {e}.", id)

    if actual.shape != expected.shape:
        differ("shape", actual.shape, expected.shape)
    # every ember tensor is strided: check_layout has nothing to compare
    if check_stride and actual.stride() != expected.stride():
        differ("stride()", actual.stride(), expected.stride())
    if check_device and actual.device != expected.device:
        differ("device", actual.device, expected.device)
    if check_dtype and actual.dtype != expected.dtype:
        differ("dtype", actual.dtype, expected.dtype)
    actual, expected = actual.detach(), expected.detach()
    if actual.device != expected.device or actual.device.type != "cpu":
        actual, expected = actual.cpu(), expected.cpu()
    if actual.dtype != expected.dtype:
        dtype = ember.promote_types(actual.dtype, expected.dtype)
        actual, expected = actual.to(dtype), expected.to(dtype)
    matches = ember.isclose(actual, expected, rtol=rtol, atol=atol, equal_nan=equal_nan)
    if bool(matches.all()):
        return
    if actual.dim() == 0:
        msg = _scalar_msg(actual.item(), expected.item(), rtol, atol)
    else:
        msg = _tensor_msg(actual, expected, matches, rtol, atol)
    raise _Mismatch(AssertionError, msg, id)


_PAIRS = (_pair_none, _pair_bool, _pair_number, _pair_tensor)


def _pairs(actual, expected, id, options, out):
    """Append the comparisons of ``actual`` and ``expected`` to ``out``, recursing through
    sequences and mappings."""
    sequence = collections.abc.Sequence
    if (isinstance(actual, sequence) and not isinstance(actual, str)
            and isinstance(expected, sequence) and not isinstance(expected, str)):
        if len(actual) != len(expected):
            raise _Mismatch(AssertionError, "The length of the sequences mismatch: "
                            f"{len(actual)} != {len(expected)}", id)
        for k in range(len(actual)):
            _pairs(actual[k], expected[k], (*id, k), options, out)
        return out
    mapping = collections.abc.Mapping
    if isinstance(actual, mapping) and isinstance(expected, mapping):
        actual_keys, expected_keys = set(actual.keys()), set(expected.keys())
        if actual_keys != expected_keys:
            raise _Mismatch(AssertionError,
                            "The keys of the mappings do not match:\n"
                            f"Missing keys in the actual mapping: "
                            f"{sorted(expected_keys - actual_keys)}\n"
                            f"Additional keys in the actual mapping: "
                            f"{sorted(actual_keys - expected_keys)}", id)
        keys = actual_keys
        with contextlib.suppress(Exception):
            keys = sorted(keys)
        for key in keys:
            _pairs(actual[key], expected[key], (*id, key), options, out)
        return out
    for pair in _PAIRS:
        try:
            out.append(pair(actual, expected, id, **options))
            return out
        except _Unsupported:
            continue
    raise _Mismatch(TypeError, "No comparison pair was able to handle inputs of type "
                    f"{type(actual)} and {type(expected)}.", id)


def assert_close(actual, expected, *, allow_subclasses=True, rtol=None, atol=None,
                 equal_nan=False, check_device=True, check_dtype=True, check_layout=True,
                 check_stride=False, msg=None):
    """Assert that ``actual`` and ``expected`` are close, as ``torch.testing.assert_close``.

    Tensors (and NumPy arrays or anything else :func:`ember.as_tensor` takes, when
    both inputs are of that kind) must have the same shape, and by default the same
    device and dtype; their values must satisfy
    ``|actual - expected| <= atol + rtol * |expected|`` elementwise (NaN equal to NaN
    only with ``equal_nan``).  Python numbers are compared as numbers, booleans and
    None for identity, and sequences and mappings elementwise (with the same lengths
    or keys).  Without ``rtol``/``atol`` the tolerances are those of the dtypes:

    ==========================  ===========  =========
    dtype                       ``rtol``     ``atol``
    ==========================  ===========  =========
    float16                     1e-3         1e-5
    bfloat16                    1.6e-2       1e-5
    float32, complex64          1.3e-6       1e-5
    float64, complex128         1e-7         1e-7
    other (integers, bool)      0            0
    ==========================  ===========  =========

    Parameters
    ----------
    actual, expected : object
    allow_subclasses : bool, default True
        Accept direct subclasses of each other's type (``Parameter`` and ``Tensor``).
    rtol, atol : float, optional
        Both or neither.
    equal_nan : bool, default False
    check_device, check_dtype : bool, default True
        When off, tensors are compared on the CPU / in their promoted dtype.
    check_layout : bool, default True
        Accepted for PyTorch compatibility: every ember tensor is strided.
    check_stride : bool, default False
    msg : str or callable, optional
        Replaces the message; a callable receives the generated one.

    Raises
    ------
    AssertionError
        The inputs differ; the message says how (``Tensor-likes are not close!``, the
        number of mismatched elements and the greatest absolute and relative
        differences with their indices).
    TypeError
        No comparison handles the inputs' types (a tensor and a NumPy array, say).
    ValueError
        Only one of ``rtol`` and ``atol`` was given.

    Examples
    --------
    >>> import ember
    >>> ember.testing.assert_close(ember.tensor([1.0, 2.0]), ember.tensor([1.0, 2.0000001]))
    >>> ember.testing.assert_close(ember.tensor([1.0, 3.0]), ember.tensor([1.0, 2.0]))
    Traceback (most recent call last):
    ...
    AssertionError: Tensor-likes are not close!
    <BLANKLINE>
    Mismatched elements: 1 / 2 (50.0%)
    Greatest absolute difference: 1.0 at index (1,) (up to 1e-05 allowed)
    Greatest relative difference: 0.5 at index (1,) (up to 1.3e-06 allowed)
    """
    __tracebackhide__ = True
    options = dict(allow_subclasses=allow_subclasses, rtol=rtol, atol=atol, equal_nan=equal_nan,
                   check_device=check_device, check_dtype=check_dtype,
                   check_layout=check_layout, check_stride=check_stride)
    try:
        for compare in _pairs(actual, expected, (), options, []):
            compare()
    except _Mismatch as mismatch:
        raise mismatch.to_error(msg) from None
