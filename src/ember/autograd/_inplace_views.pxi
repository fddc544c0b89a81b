# In-place ops on views: the base gets CopySlices, the view a view of the new base.
# Included by _graph.pyx.

# ---------------------------------------------------------------- in-place ops on views

@cython.final
cdef class CopySlices(Node):
    """The base of a view that an in-place op changed: the gradient of the base is the
    incoming one, with the view's region replaced by what the op's node makes of it."""
    cdef tuple base_geometry    # (shape, strides, offset) of the base
    cdef tuple view_geometry    # (shape, strides, offset) of the view, in the base's storage
    # a real view of a complex base (real, imag, view_as_real) or a complex view of a real
    # one (view_as_complex): the geometries count the storage in reals, and the complex
    # side's gradients are moved as their view_as_real
    cdef bint complex_base, complex_view
    cdef Node fn

    def name(self):
        return "CopySlices"

    cdef tuple apply(self, tuple grads):
        # the base's gradient, with the view's region replaced by the gradient the op's
        # node gives the view's old value (written with differentiable ops)
        from ember.ops.views import restride
        g = _reals_if(grads[0], self.complex_base)
        region = restride(g, self.base_geometry, self.view_geometry)
        res = self.fn.apply((_complex_if(region, self.complex_view),))
        result = g - restride(region, self.view_geometry, self.base_geometry)
        if not self.fn._target_edge:
            # the view's old value had no history: its region's gradient stops here
            return (_complex_if(result, self.complex_base),) + tuple(res)
        if res[0] is not None:
            result = result + restride(
                _reals_if(conform_if(res[0], self.fn._conform, 0), self.complex_view),
                self.view_geometry, self.base_geometry)
        return (_complex_if(result, self.complex_base),) + tuple(res[1:])

    cdef int release(self) except -1:
        self.fn.release()
        self._released = self.fn._released
        return 0


cdef object _reals_if(object g, bint complex_side):
    """A complex side's gradient as the reals that the geometries count."""
    if not complex_side:
        return g
    from ember.ops.complex import view_as_real
    return view_as_real(g)


cdef object _complex_if(object g, bint complex_side):
    """A complex side's gradient, back from the reals that the geometries count."""
    if not complex_side:
        return g
    from ember.ops.complex import view_as_complex
    return view_as_complex(g)


cdef object conform_if(object g, tuple conforms, int k):
    if conforms is not None and conforms[k] is not None:
        return conform(g, conforms[k])
    return g


@cython.final
cdef class AsStridedViewBackward(Node):
    """The grad_fn a view gets after an in-place op on it: its gradient lands in its
    region of the base."""
    cdef tuple base_geometry
    cdef tuple view_geometry
    cdef bint complex_base, complex_view      # as in CopySlices

    def name(self):
        return "AsStridedBackward0"

    cdef tuple apply(self, tuple grads):
        from ember.ops.views import restride
        g = _reals_if(grads[0], self.complex_view)
        return (_complex_if(restride(g, self.view_geometry, self.base_geometry),
                            self.complex_base),)


cdef tuple geometry(Tensor t):
    return (shape_of(t), _int_tuple(t._strides, t._ndim), t._offset)


cdef AsStridedViewBackward view_of_base(Tensor base, Tensor view):
    """The grad_fn of ``view`` as a view of ``base``'s current history (its edge is set by
    the caller), with the geometries and complex sides CopySlices uses too."""
    cdef AsStridedViewBackward vb = AsStridedViewBackward.__new__(AsStridedViewBackward)
    vb.complex_base = em_category[base._dtype] == 3 and em_category[view._dtype] != 3
    vb.complex_view = em_category[view._dtype] == 3 and em_category[base._dtype] != 3
    vb.base_geometry = real_geometry(base) if vb.complex_base else geometry(base)
    vb.view_geometry = real_geometry(view) if vb.complex_view else geometry(view)
    return vb


cdef tuple real_geometry(Tensor t):
    """The geometry of ``view_as_real(t)`` for complex ``t``: in the reals of its storage,
    where its real views (``t.real``, ``t.imag``) and the real tensor it may view as
    complex have theirs."""
    return (shape_of(t) + (2,), tuple([2 * s for s in _int_tuple(t._strides, t._ndim)]) + (1,),
            2 * t._offset)


cdef int rebase_view(Tensor view, AutogradMeta m, Node node) except -1:
    """An in-place op on a view changes its base: the base's history becomes CopySlices
    of the op's node, and the view's history a view of the new base."""
    cdef Tensor base = m.base
    cdef CopySlices cs = CopySlices.__new__(CopySlices)
    cdef AsStridedViewBackward vb = view_of_base(base, view)
    cs.complex_base, cs.complex_view = vb.complex_base, vb.complex_view
    cs.base_geometry, cs.view_geometry = vb.base_geometry, vb.view_geometry
    cs.fn = node
    # the node's first edge is the view's old history, itself leading to the base's: the
    # base's own edge replaces it
    cdef int skip = 1 if node._target_edge else 0
    cs.next_functions = (gradient_edge(base),) + node.next_functions[skip:]
    cs._conform = (None,) + (node._conform[skip:] if node._conform is not None
                             else (None,) * (len(node.next_functions) - skip))
    base._grad_fn = cs
    base._requires_grad |= REQUIRES_GRAD
    bm = meta_of(base, False)
    if bm is not None:
        bm.output_nr = 0
    vb.next_functions = ((cs, 0),)
    view._grad_fn = vb
    view._requires_grad |= REQUIRES_GRAD
    m.output_nr = 0
    m.version = version_of(view)
    return 0
