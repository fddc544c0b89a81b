"""The operand layouts _blas.py hands to cuBLAS (op, leading dimension, batch stride,
copies, the folded batch, aliasing outputs) against the CPU's products.  Marked gpu:
without a GPU they run on the emulated one, whose cuBLAS is NumPy over the same
buffers (cuda_emulation.py)."""
import numpy as np
import pytest

import ember

pytestmark = pytest.mark.gpu

TOL = {ember.float16: 2e-2, ember.float32: 1e-5, ember.float64: 1e-12}


def values(shape, dtype, seed):
    return ember.tensor(np.random.default_rng(seed).uniform(-2, 2, shape)).to(dtype)


def check(fn, *args, **kwargs):
    expected = fn(*args, **kwargs)
    got = fn(*[a.cuda() if isinstance(a, ember.Tensor) else a for a in args], **kwargs)
    assert got.device.type == "cuda" and got.shape == expected.shape
    tol = TOL[expected.dtype]
    np.testing.assert_allclose(got.cpu().to(ember.float64).numpy(),
                               expected.to(ember.float64).numpy(), rtol=tol, atol=tol)


@pytest.mark.parametrize("dtype", [ember.float16, ember.float32, ember.float64])
@pytest.mark.parametrize("ta,tb", [(False, False), (True, False), (False, True), (True, True)])
def test_mm_in_every_orientation(dtype, ta, tb):
    a, b = values((7, 5), dtype, 0), values((5, 6), dtype, 1)
    a = a.t().contiguous().t() if ta else a
    b = b.t().contiguous().t() if tb else b
    check(ember.mm, a, b)
    check(lambda x, y, o: ember.mm(x, y, out=o), a, b, values((6, 7), dtype, 2).t())


@pytest.mark.parametrize("shapes", [((5, 7), (7,)), ((7,), (7, 4)), ((7,), (7,)),
                                    ((3, 5, 7), (7, 4)), ((5, 7), (3, 7, 4)),
                                    ((2, 1, 5, 7), (3, 7, 4)), ((4, 3, 5, 7), (7,)),
                                    ((2, 3, 1, 7), (3, 7, 2))])
def test_matmul_broadcasting(shapes):
    check(ember.matmul, values(shapes[0], ember.float32, 0), values(shapes[1], ember.float32, 1))


def test_sliced_and_gapped_operands():
    x = values((6, 10), ember.float64, 0)
    y = values((4, 5), ember.float64, 1)
    check(lambda a, b: ember.mm(a[:, 2:6], b), x, y)            # rows of stride 10
    check(lambda a, b: ember.mm(a[:, ::3][:, :4], b), x, y)     # gapped columns: copied
    check(lambda a, b: ember.mm(a[1:5, 1:5].t(), b), x, y)      # transposed slice
    # a shared right operand: the batch folds into rows only where they lie evenly
    z, w = values((3, 6, 7), ember.float32, 2), values((7, 4), ember.float32, 3)
    check(lambda a, b: a @ b, z, w)
    check(lambda a, b: a[:, :5] @ b, z, w)
    check(lambda a, b, o: ember.matmul(a, b, out=o[:, :6]), z, w,
          values((3, 8, 4), ember.float32, 4))


def test_add_products_and_their_scalars():
    f = ember.float32
    t, m1, m2 = values((6, 5), f, 0), values((6, 4), f, 1), values((4, 5), f, 2)
    check(ember.addmm, t, m1, m2, beta=0.5, alpha=-2)
    check(ember.addmm, values((5,), f, 3), m1, m2, beta=1, alpha=3)
    check(ember.addmm, ember.full((6, 5), float("nan")), m1, m2, beta=0)
    check(ember.addmv, values((6,), f, 4), m1, values((4,), f, 5), beta=2)
    b1, b2 = values((3, 6, 4), f, 6), values((3, 4, 5), f, 7)
    check(ember.baddbmm, values((3, 6, 5), f, 8), b1, b2, alpha=0.5)
    check(ember.addbmm, t, b1, b2, beta=0.25, alpha=2)
    check(ember.addbmm, t.half(), b1.half(), b2.half())
    check(ember.bmm, b1.transpose(1, 2).contiguous().transpose(1, 2), b2)
    check(lambda x, y: x.clone().addmm_(y, y.t()), values((6, 6), f, 9), m1)


def test_output_aliasing_an_operand():
    a, b = values((4, 4), ember.float32, 0), values((4, 4), ember.float32, 1)
    expected = a @ b
    ga = a.cuda()
    ember.mm(ga, b.cuda(), out=ga)
    np.testing.assert_allclose(ga.cpu().numpy(), expected.numpy(), rtol=1e-5, atol=1e-5)
