"""Joining, splitting, repetition, rotation, products and creation helpers, against
PyTorch (values, dtypes, errors) with ember's inputs in several layouts, and their
gradients against torch's."""
import numpy as np
import pytest
import torch

import ember
from core_oracle import check_out_like_torch
from grad_oracle import LAYOUTS as GRAD_LAYOUTS, assert_grads_match_torch, check_gradients
from shape_oracle import LAYOUTS, check, expandable, raises_like_torch, same

RNG = np.random.default_rng(5)
A23 = RNG.standard_normal((2, 3))
B23 = RNG.standard_normal((2, 3))
V3 = RNG.standard_normal(3)
I34 = RNG.integers(-5, 5, (3, 4))
ALL_LAYOUTS = list(LAYOUTS) + ["expanded"]


def _cases():
    return {
        "hstack": (lambda L, a, b: L.hstack([a, b]), (A23, B23)),
        "hstack1d": (lambda L, a, b: L.hstack((a, b)), (V3, V3)),
        "vstack": (lambda L, a, b: L.vstack([a, b]), (A23, V3)),
        "row_stack": (lambda L, a, b: L.row_stack([a, b]), (A23, B23)),
        "dstack": (lambda L, a, b: L.dstack([a, b]), (A23, B23)),
        "dstack1d": (lambda L, a, b: L.dstack([a, b]), (V3, V3)),
        "column_stack": (lambda L, a, b: L.column_stack([a, b]), (V3, A23.T.copy())),
        "atleast_1d": (lambda L, a: L.atleast_1d(a), (np.array(2.0),)),
        "atleast_2d": (lambda L, a, b: L.atleast_2d(a, b), (V3, A23)),
        "atleast_3d": (lambda L, a, b: L.atleast_3d([a, b]), (V3, A23)),
        "tensor_split_int": (lambda L, a: L.tensor_split(a, 3, dim=1), (I34,)),
        "tensor_split_idx": (lambda L, a: L.tensor_split(a, [1, -1, 10], dim=1), (I34,)),
        "tensor_split_idx_down": (lambda L, a: L.tensor_split(a, [3, 1, -3, -4, 9, 2], dim=1),
                                  (I34,)),
        "vsplit_idx_down": (lambda L, a: L.vsplit(a, [2, 0]), (I34,)),
        # the keyword names of PyTorch's overloads
        "tensor_split_sections_kw": (lambda L, a: L.tensor_split(a, sections=3, dim=1), (I34,)),
        "tensor_split_indices_kw": (lambda L, a: L.tensor_split(input=a, indices=[1, -1], dim=1),
                                    (I34,)),
        "tensor_split_tensor_kw": (lambda L, a: a.tensor_split(
            tensor_indices_or_sections=L.tensor([1, 3]), dim=1), (I34,)),
        "tensor_split_method_sections_kw": (lambda L, a: a.tensor_split(sections=2), (I34,)),
        "hsplit_sections_kw": (lambda L, a: L.hsplit(a, sections=2), (I34,)),
        "hsplit_indices_kw": (lambda L, a: a.hsplit(indices=[3]), (I34,)),
        "vsplit_indices_kw": (lambda L, a: L.vsplit(a, indices=(1, 2)), (I34,)),
        "dsplit_sections_kw": (lambda L, a: L.dsplit(a.reshape(3, 2, 2), sections=2), (I34,)),
        "hsplit": (lambda L, a: L.hsplit(a, 2), (I34,)),
        "vsplit": (lambda L, a: L.vsplit(a, [1]), (I34,)),
        "dsplit": (lambda L, a: L.dsplit(a.reshape(3, 2, 2), 2), (I34,)),
        "rot90": (lambda L, a: L.rot90(a), (I34,)),
        "rot90_k2": (lambda L, a: L.rot90(a, 2, [1, 0]), (I34,)),
        "rot90_k3": (lambda L, a: L.rot90(a, -1), (I34,)),
        "rot90_k0": (lambda L, a: L.rot90(a, 4), (I34,)),
        "repeat": (lambda L, a: a.repeat(2, 1, 3), (A23,)),
        "tile": (lambda L, a: L.tile(a, (2,)), (A23,)),
        "tile_more": (lambda L, a: a.tile((2, 1, 2)), (A23,)),
        "tile_varargs": (lambda L, a: a.tile(2, 1, 2), (A23,)),
        "tile_one_int": (lambda L, a: a.tile(2), (A23,)),
        "tile_kw": (lambda L, a: a.tile(dims=[3, 1]), (A23,)),
        "repeat_kw": (lambda L, a: a.repeat(repeats=(2, 1, 3)), (A23,)),
        "repeat_kw_list": (lambda L, a: a.repeat(repeats=[1, 2]), (A23,)),
        "repeat_interleave": (lambda L, a: L.repeat_interleave(a, 2), (A23,)),
        "repeat_interleave_dim": (lambda L, a: a.repeat_interleave(3, dim=1), (A23,)),
        "repeat_interleave_t": (lambda L, a: a.repeat_interleave(
            L.tensor([2, 0, 1]), dim=1, output_size=3), (A23,)),
        "unflatten": (lambda L, a: a.unflatten(1, (2, -1)), (I34,)),
        "kron": (lambda L, a, b: L.kron(a, b), (A23, V3)),
        "cross": (lambda L, a, b: L.cross(a, b, dim=1), (A23, B23)),
        "cross_nodim": (lambda L, a, b: L.cross(a, b), (A23, B23)),
        "trace": (lambda L, a: L.trace(a), (I34,)),
        "trace_f": (lambda L, a: a.trace(), (A23,)),
        "diag_embed": (lambda L, a: L.diag_embed(a), (A23,)),
        "diag_embed_off": (lambda L, a: L.diag_embed(a, -1, 0, 2), (A23,)),
        "diagflat": (lambda L, a: L.diagflat(a, 1), (A23,)),
        "block_diag": (lambda L, a, b: L.block_diag(a, b, L.tensor(5)), (A23, I34)),
        "cartesian_prod": (lambda L, a, b: L.cartesian_prod(a, b), (V3, V3)),
        "combinations": (lambda L, a: L.combinations(a), (V3,)),
        "combinations_r3": (lambda L, a: L.combinations(a, 3, True), (V3,)),
    }


CASES = _cases()


@pytest.mark.parametrize("layout", ALL_LAYOUTS)
@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_torch(name, layout):
    fn, arrays = CASES[name]
    if layout == "expanded":
        arrays = tuple(expandable(a) for a in arrays)
    check(fn, *arrays, layout=layout)


@pytest.mark.parametrize("dtype", [np.bool_, np.uint8, np.int32, np.float32, np.complex64])
def test_dtypes(dtype):
    a = (I34 % 3).astype(dtype)
    check(lambda L, a: (L.hstack([a, a]), L.rot90(a), a.repeat(2, 1), L.tile(a, (2,)),
                        a.repeat_interleave(2, dim=0), L.kron(a, a[:1]), L.block_diag(a, a),
                        L.diag_embed(a), L.tensor_split(a, 2)), a)


def test_empty_and_zero_dim():
    e = np.zeros((0, 3))
    check(lambda L, a: (L.vstack([a, a]), a.repeat(2, 1), L.tile(a, (2, 2)), L.tensor_split(a, 2),
                        a.repeat_interleave(2, dim=1), L.kron(a, a), L.diag_embed(a)), e)
    z = np.array(2.5)
    check(lambda L, a: (L.atleast_1d(a), L.atleast_2d(a), L.atleast_3d(a), L.hstack([a, a]),
                        L.vstack([a, a]), L.column_stack([a, a]), a.repeat(3),
                        L.repeat_interleave(a, 2), L.block_diag(a, a), L.diagflat(a)), z)
    check(lambda L, a: L.repeat_interleave(L.tensor([2, 0, 3])), z)
    check(lambda L, a: (L.combinations(a, 0), L.combinations(a, 4)), V3)


def test_creation():
    for args in [(3, 3), (3, 4, 1), (4, 3, -1), (0, 3), (2, 5, 10), (5, 2, -9)]:
        same(ember.tril_indices(*args), torch.tril_indices(*args))
        same(ember.triu_indices(*args), torch.triu_indices(*args))
    same(ember.tril_indices(3, 3, dtype=ember.int32), torch.tril_indices(3, 3, dtype=torch.int32))
    for args, kw in [((0, 3, 4), {}), ((-1, 2, 5), {"base": 2.0}), ((0, 1, 1), {}),
                     ((0, 3, 4), {"dtype": "int64"}), ((1, 2, 3), {"dtype": "float64"}),
                     ((0, 2, 0), {}), ((0, 1.2, 4), {"dtype": "int64"}),
                     ((-1.5, 2.7, 5, 5.0), {"dtype": "int64"})]:      # integer bounds
        tkw = {k: getattr(torch, v) if k == "dtype" else v for k, v in kw.items()}
        same(ember.logspace(*args, **kw), torch.logspace(*args, **tkw))


def test_complex_views_share_memory():
    z = ember.tensor([[1 + 2j, 3 - 4j], [5j, -1 + 0j]])
    r = ember.view_as_real(z)
    same(r, torch.view_as_real(torch.tensor(z.numpy())))
    r[0, 0, 1] = 9.0                       # a view: writes reach z
    assert z[0, 0].item() == 1 + 9j
    zt = z.T                               # any strides work for view_as_real
    same(ember.view_as_real(zt), torch.view_as_real(torch.tensor(zt.numpy()).T.contiguous().T))
    c = ember.view_as_complex(r)
    assert c.dtype == z.dtype and np.array_equal(c.numpy(), z.numpy())
    c[1, 1] = 7j
    assert z[1, 1].item() == 7j
    f32 = ember.tensor(np.arange(6, dtype=np.float32).reshape(3, 2))
    same(ember.view_as_complex(f32), torch.view_as_complex(torch.arange(6.).reshape(3, 2)))
    same(ember.view_as_real(ember.tensor(1 + 2j)), torch.view_as_real(torch.tensor(1 + 2j)))


def test_assigning_real_and_imag_copies_into_the_parts():
    z = np.array([[1 + 2j, 3 - 4j], [5j, -1 + 0j]])
    for value in (lambda L: L.tensor([7.0, -8.0], dtype=L.float64),   # broadcast
                  lambda L: 2.5,
                  lambda L: L.tensor(3),                                 # cast to the part
                  lambda L: L.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=L.float32)):
        for part in ("real", "imag"):
            ours, theirs = ember.tensor(z), torch.tensor(z)
            view = getattr(ours, part)
            setattr(ours, part, value(ember))
            setattr(theirs, part, value(torch))
            same(ours, theirs)
            same(view, getattr(theirs, part))                  # the view sees the write
    # a real tensor: real is itself, and it has no imaginary part to assign
    for lib in (ember, torch):
        x = lib.zeros(2)
        x.real = lib.tensor([1.0, 2.0])
        assert x.tolist() == [1.0, 2.0]
        with pytest.raises(RuntimeError, match="imag is not implemented"):
            x.imag = lib.ones(2)
        with pytest.raises(TypeError):
            lib.tensor([1j]).real = "a"


def test_assigning_real_and_imag_is_differentiable():
    z = np.array([1 + 2j, 3 - 4j])

    def run(lib):
        leaf = lib.tensor(z, requires_grad=True)
        value = lib.tensor([0.5, -1.5], dtype=lib.float64, requires_grad=True)
        c = leaf * (1 - 1j)
        c.real = value * 2
        c.imag = value.exp()
        c.abs().sum().backward()
        return leaf.grad, value.grad

    for got, want in zip(run(ember), run(torch)):
        same(got, want)
    for lib in (ember, torch):        # a leaf's view is not written in place
        with pytest.raises(RuntimeError, match="leaf"):
            lib.tensor(z, requires_grad=True).real = lib.zeros(2, dtype=lib.float64)


@pytest.mark.parametrize("name,call,arrays", [
    ("kron", lambda L, a, b, **kw: L.kron(a, b, **kw), (A23, V3)),
    ("kron_mixed_dtypes", lambda L, a, b, **kw: L.kron(a, b, **kw), (A23, I34)),
    ("kron_int", lambda L, a, **kw: L.kron(a, a[:2], **kw), (I34,)),
])
def test_out(name, call, arrays):
    check_out_like_torch(call, *arrays)


def test_complex_and_polar():
    check(lambda L, a, b: (L.complex(a, b), L.polar(L.abs(a), b)), A23, B23)
    check(lambda L, a, b: L.complex(a, b), A23.astype(np.float32), V3.astype(np.float32))
    check(lambda L, a, b: L.complex(a, b), A23, B23, layout="flipped")


BAD = {
    "hstack_empty": lambda L: L.hstack([]),
    "vstack_mismatch": lambda L: L.vstack([L.zeros(2, 3), L.zeros(2, 2)]),
    "tensor_split_0d": lambda L: L.tensor_split(L.tensor(1.0), 2),
    "tensor_split_0": lambda L: L.tensor_split(L.zeros(3), 0),
    "hsplit_uneven": lambda L: L.hsplit(L.zeros(2, 3), 2),
    "vsplit_1d": lambda L: L.vsplit(L.zeros(4), 2),
    "dsplit_2d": lambda L: L.dsplit(L.zeros(4, 4), 2),
    "rot90_dims": lambda L: L.rot90(L.zeros(2, 2), 1, [0, 0]),
    "rot90_1d": lambda L: L.rot90(L.zeros(2)),
    "rot90_3dims": lambda L: L.rot90(L.zeros(2, 2, 2), 1, [0, 1, 2]),
    "repeat_few": lambda L: L.zeros(2, 2).repeat(2),
    "repeat_interleave_neg": lambda L: L.repeat_interleave(L.zeros(2), L.tensor([1, -1])),
    "repeat_interleave_len": lambda L: L.repeat_interleave(L.zeros(3), L.tensor([1, 1])),
    "unflatten_bad": lambda L: L.zeros(2, 5).unflatten(1, (2, 2)),
    "unflatten_dim": lambda L: L.zeros(2, 5).unflatten(2, (5,)),
    "cross_size": lambda L: L.cross(L.zeros(2, 2), L.zeros(2, 2), dim=1),
    "cross_ndim": lambda L: L.cross(L.zeros(2, 3), L.zeros(3), dim=1),
    "cross_no3": lambda L: L.cross(L.zeros(2, 2), L.zeros(2, 2)),
    "trace_1d": lambda L: L.trace(L.zeros(3)),
    "diag_embed_same": lambda L: L.diag_embed(L.zeros(3), 0, 0, 0),
    "block_diag_3d": lambda L: L.block_diag(L.zeros(1, 1, 1)),
    "cartesian_2d": lambda L: L.cartesian_prod(L.zeros(2, 2), L.zeros(2)),
    "combinations_2d": lambda L: L.combinations(L.zeros(2, 2)),
    "view_as_complex_int": lambda L: L.view_as_complex(L.zeros(2, 2, dtype=L.int64)),
    "view_as_complex_last": lambda L: L.view_as_complex(L.zeros(2, 3)),
    "view_as_complex_stride": lambda L: L.view_as_complex(L.zeros(2, 2).T),
    "view_as_complex_offset": lambda L: L.view_as_complex(L.zeros(5)[1:].reshape(2, 2)),
    "view_as_real_float": lambda L: L.view_as_real(L.zeros(2)),
    "complex_int": lambda L: L.complex(L.zeros(2, dtype=L.int64), L.zeros(2, dtype=L.int64)),
    "complex_out_dtype": lambda L: L.complex(L.zeros(2, dtype=L.float64),
                                             L.zeros(2, dtype=L.float64),
                                             out=L.zeros(2, dtype=L.complex64)),
    "complex_mixed": lambda L: L.complex(L.zeros(2), L.zeros(2, dtype=L.float64)),
    "tril_indices_neg": lambda L: L.tril_indices(-1, 2),
    "logspace_neg": lambda L: L.logspace(0, 1, -2),
    "logspace_1d_start": lambda L: L.logspace(L.ones(2), 1, 3),
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_errors_match_torch(name):
    raises_like_torch(BAD[name])


def test_error_messages_name_the_problem():
    with pytest.raises(RuntimeError, match="not divisible by the split_size 2"):
        ember.hsplit(ember.zeros(2, 3), 2)
    with pytest.raises(RuntimeError, match=r"repeats.size\(0\) = 2 and input.size\(0\) = 3"):
        ember.repeat_interleave(ember.zeros(3), ember.tensor([1, 1]), dim=0)
    with pytest.raises(RuntimeError, match="dim 1 \\(5\\)"):
        ember.zeros(2, 5).unflatten(1, (2, 2))
    with pytest.raises(RuntimeError, match="Got 2 and 2"):
        ember.cross(ember.zeros(2, 2), ember.zeros(2, 2), dim=1)


# ---------------------------------------------------------------- gradients

GRAD_CASES = {
    "hstack": (lambda L, a, b: L.hstack([a, b]), (A23, B23)),
    "vstack": (lambda L, a, b: L.vstack([a, b[0]]), (A23, B23)),
    "dstack": (lambda L, a, b: L.dstack([a, b]), (A23, B23)),
    "column_stack": (lambda L, a, b: L.column_stack([a[:, 0], b]), (A23, B23)),
    "tensor_split": (lambda L, a: [p * (k + 1) for k, p in enumerate(L.tensor_split(a, 2, 1))],
                     (A23,)),
    "rot90": (lambda L, a: L.rot90(a, 3), (A23,)),
    "repeat": (lambda L, a: a.repeat(2, 2, 1), (A23,)),
    "tile": (lambda L, a: L.tile(a, (3,)), (A23,)),
    "repeat_interleave": (lambda L, a: a.repeat_interleave(2, dim=0), (A23,)),
    "repeat_interleave_t": (lambda L, a: a.repeat_interleave(L.tensor([3, 0, 2]), dim=1),
                            (A23,)),
    "unflatten": (lambda L, a: a.unflatten(1, (3, 1)), (A23,)),
    "kron": (lambda L, a, b: L.kron(a, b), (A23, B23[:, :2])),
    "cross": (lambda L, a, b: L.cross(a, b, dim=1), (A23, B23)),
    "trace": (lambda L, a: L.trace(a), (A23,)),
    "diag_embed": (lambda L, a: L.diag_embed(a, 1, 0, 2), (A23,)),
    "diagflat": (lambda L, a: L.diagflat(a, -1), (A23,)),
    "block_diag": (lambda L, a, b: L.block_diag(a, b[0]), (A23, B23)),
    "cartesian_prod": (lambda L, a, b: L.cartesian_prod(a[0], b[1]), (A23, B23)),
    "combinations": (lambda L, a: L.combinations(a[0], 2, True), (A23,)),
    "polar": (lambda L, a, b: L.polar(a, b), (np.abs(A23) + 0.5, B23)),
    "complex": (lambda L, a, b: L.complex(a, b), (A23, B23)),
    "view_as_real": (lambda L, a, b: L.view_as_real(L.complex(a, b).T) * 2, (A23, B23)),
    "view_as_complex": (lambda L, a: L.view_as_complex(a.reshape(3, 2)).abs(), (A23,)),
}


@pytest.mark.parametrize("layout", ["contiguous", "transposed", "strided"])
@pytest.mark.parametrize("name", sorted(GRAD_CASES))
def test_gradients_match_torch(name, layout):
    fn, arrays = GRAD_CASES[name]
    if layout == "strided" and name == "view_as_complex":
        # a strided last dim cannot be viewed as complex: both libraries refuse
        for lib in (ember, torch):
            strided = lib.zeros(3, 4, dtype=lib.float64)[:, ::2]
            with pytest.raises(RuntimeError, match="stride"):
                lib.view_as_complex(strided)
        return
    assert_grads_match_torch(fn, *arrays, layout=GRAD_LAYOUTS[layout])


@pytest.mark.parametrize("name", ["repeat", "repeat_interleave_t", "kron", "cross", "diag_embed",
                                  "block_diag", "polar", "view_as_real", "rot90"])
def test_gradcheck(name):
    fn, arrays = GRAD_CASES[name]
    check_gradients(fn, *arrays)


def test_gradcheck_negative_strides():
    check_gradients(lambda L, a, b: L.hstack([a.flip(0)[::-1], b[::-1]]), A23, B23)
    check_gradients(lambda L, a: a[::-1].repeat_interleave(2, dim=1), A23)
