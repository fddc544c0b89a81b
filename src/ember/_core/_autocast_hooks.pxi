# Where autocast (ember.ops.autocast, ember.amp) plugs into the core.  The entry of an op
# that one of autocast's tables names checks this thread's flag first: one C read, so the
# entries pay nothing while autocast is off.  When it is on, the call goes to the caster
# that ember.ops.autocast installed, which casts the arguments as the op's policy says
# and runs the op with the flag off (as PyTorch's autocast excludes its dispatch key
# below the op it wrapped).

cdef extern from *:
    """
    /* on while an autocast region of any device type is enabled on this thread */
    static __thread int em_autocast_mode = 0;
    """
    int em_autocast_mode

# caster(name, fn, args, kwargs) -> fn's result, computed from the cast arguments
cdef object _autocaster = None
# op numbers of the elementwise ops a table names (their entry is dispatch_ew)
cdef frozenset _autocast_ew_ops = frozenset()


cdef bint autocast_mode() noexcept:
    return em_autocast_mode


cdef object autocast_op(str name, object fn, tuple args, dict kwargs):
    if _autocaster is None:
        raise RuntimeError("ember.ops.autocast is not loaded")
    return _autocaster(name, fn, args, kwargs)


def autocast_wrapper(str name, fn):
    """``fn`` (an op entry written in Python) wrapped so that, when autocast is on, it runs
    through the caster as op ``name``: a compiled closure, so the wrapped entry costs no
    extra Python frame when autocast is off."""
    def entry(*args, **kwargs):
        if em_autocast_mode:
            return autocast_op(name, fn, args, kwargs)
        return fn(*args, **kwargs)
    return entry


def _autocast_mode():
    """Whether an autocast region is enabled on this thread (the core's flag)."""
    return bool(em_autocast_mode)


def _set_autocast_mode(bint mode):
    """Set this thread's autocast flag; return the previous one."""
    global em_autocast_mode
    cdef bint previous = em_autocast_mode
    em_autocast_mode = mode
    return previous


def _set_autocaster(caster, ew_ops):
    """Install the caster and the numbers of the elementwise ops it handles."""
    global _autocaster, _autocast_ew_ops
    _autocaster = caster
    _autocast_ew_ops = frozenset(ew_ops)
