"""Collectives on ember tensors, with ``torch.distributed``'s signatures.

CPU tensors go to MPI through their own memory (no copy) when contiguous; others through a
contiguous copy written back afterwards.  ``async_op=True`` returns a :class:`Work` built on
MPI's non-blocking calls; otherwise the call blocks and returns None.  ``src``/``dst`` are
global ranks, as in PyTorch.  Ranks outside ``group`` return None without communicating.
CUDA tensors on an NCCL group go through NCCL (see ``ember.distributed._nccl``).
"""
import ember
from ember._core._dlpack import contiguous_cpu_nbytes as _contiguous_cpu_nbytes
from ember.distributed._buffers import (
    FAST_DTYPES, UFUNCS, Staged, check_same, check_tensor, check_tensor_list, divide,
    mpi_op, spec, spec_blocks,
)
from ember.distributed import _shm
from ember.distributed._process_group import (
    GroupMember, ProcessGroup, ReduceOp, Work, _mpi, _resolve, chain,
)

__all__ = [
    "all_gather", "all_gather_into_tensor", "all_gather_object", "all_reduce", "all_to_all",
    "all_to_all_single", "barrier", "broadcast", "broadcast_object_list", "gather",
    "gather_object", "irecv", "isend", "recv", "reduce", "reduce_scatter",
    "reduce_scatter_tensor", "scatter", "scatter_object_list", "send",
]


# module globals: all_reduce's fast path then costs no enum or package attribute lookup
_SUM = ReduceOp.SUM
_FAST_MASK = sum(1 << d.num for d in FAST_DTYPES)
_SHM_MIN_BYTES = _shm.MIN_BYTES
_IN_PLACE = None   # MPI.IN_PLACE, once all_reduce's general path imported MPI


def _issue(async_op, blocking, nonblocking, finish, outputs):
    """Run a collective: ``blocking()`` then ``finish()``, or a Work over ``nonblocking()``.

    The Work keeps ``nonblocking`` alive: its closure holds every buffer (staging copies
    included) that MPI reads or writes until the operation completes."""
    if async_op:
        return Work(nonblocking(), finish, outputs, keep_alive=nonblocking)
    blocking()
    finish()
    return None


def _nccl_or_none(pg, *tensors):
    """The group's NCCL communicator when the tensors live on a CUDA device (all of them:
    one collective does not mix devices)."""
    if tensors and tensors[0].device.type == "cuda":
        if pg.backend != "nccl":
            raise RuntimeError(f"CUDA tensors need a process group with backend='nccl', this "
                               f"one has backend='{pg.backend}'")
        other = next((t.device for t in tensors if t.device.type != "cuda"), None)
        if other is not None:
            raise RuntimeError(f"the tensors of one collective must all be on the CUDA device, "
                               f"got one on {other}")
        return pg.nccl()
    other = next((t.device for t in tensors if t.device.type == "cuda"), None)
    if other is not None:
        raise RuntimeError(f"the tensors of one collective must all be on one device, got "
                           f"{tensors[0].device} and {other}")
    return None


def _landing(tensors):
    """Contiguous tensors the NCCL backend writes for ``tensors`` (each itself when it is
    contiguous), and the step copying them back (None when none is needed)."""
    landing = [t if t.is_contiguous() else ember.empty(t.shape, dtype=t.dtype, device=t.device)
               for t in tensors]
    moved = [(t, x) for t, x in zip(tensors, landing) if x is not t]
    if not moved:
        return landing, None

    def back():
        with ember.no_grad():
            for t, x in moved:
                t.copy_(x)
    return landing, back


def all_reduce(tensor, op=ReduceOp.SUM, group=None, async_op=False):
    """Reduce ``tensor`` across the group with ``op``; every rank gets the result in place.

    Parameters
    ----------
    tensor : Tensor
        Input and output, same shape and dtype on every rank.  Bool tensors reduce as
        logical or (SUM, MAX) / and (MIN, PRODUCT); 16-bit floats reduce in their own dtype.
    op : ReduceOp
        ``SUM`` (default), ``AVG``, ``MAX``, ``MIN`` or ``PRODUCT``.
    group : ProcessGroup, optional
    async_op : bool
        Return a :class:`Work` instead of blocking.

    Examples
    --------
    >>> import ember, ember.distributed as dist
    >>> t = ember.full((2,), float(dist.get_rank() + 1))   # doctest: +SKIP
    >>> dist.all_reduce(t)                                  # doctest: +SKIP
    >>> t                                                   # 2 ranks: 1 + 2  # doctest: +SKIP
    tensor([3., 3.])
    """
    pg = GroupMember.WORLD if group is None else group
    if (op is _SUM and not async_op and type(pg) is ProcessGroup
            and 0 <= _contiguous_cpu_nbytes(tensor, _FAST_MASK) < _SHM_MIN_BYTES
            and _IN_PLACE is not None):
        # the common case, kept short (each attribute lookup is ~1% of a 1e3-element
        # reduction): MPI reads the tensor's memory and type through the buffer
        # protocol, as it reads a NumPy array's, and sums by default
        pg.comm.Allreduce(_IN_PLACE, tensor)
        return None
    return _all_reduce(tensor, op, group, async_op)


def _all_reduce(tensor, op, group, async_op):
    """all_reduce's general path: a function of its own, as its closures would make the
    fast path's frame set up cells on every call (~100 ns)."""
    global _IN_PLACE
    pg = _resolve(group)
    check_tensor(tensor)
    if pg is None:
        return None
    nccl = _nccl_or_none(pg, tensor)
    if nccl is not None:
        return nccl.all_reduce(tensor, op, async_op)
    staged = Staged(tensor)
    buf = staged.buffer
    if not async_op and _shm.usable(pg, buf, op):
        window = _shm.window_of(pg)
        if window is not None:
            window.all_reduce([buf.detach().numpy().reshape(-1)], UFUNCS[op])
            if op is ReduceOp.AVG:
                divide(buf, pg.size())
            staged.finish()
            return None
    mop = mpi_op(op, buf.dtype)
    comm = pg.comm
    IN_PLACE = _IN_PLACE = _mpi().IN_PLACE
    steps = [staged.finish]
    if op is ReduceOp.AVG:
        steps.insert(0, lambda: divide(buf, pg.size()))
    return _issue(async_op, lambda: comm.Allreduce(IN_PLACE, spec(buf), mop),
                  lambda: [comm.Iallreduce(IN_PLACE, spec(buf), mop)],
                  chain(*steps), [tensor])


def broadcast(tensor, src, group=None, async_op=False):
    """Copy ``tensor`` of global rank ``src`` into ``tensor`` on every rank of the group.

    Examples
    --------
    >>> import ember, ember.distributed as dist
    >>> t = ember.arange(3) * (dist.get_rank() == 0)      # doctest: +SKIP
    >>> dist.broadcast(t, src=0)                            # doctest: +SKIP
    >>> t                                                   # doctest: +SKIP
    tensor([0, 1, 2])
    """
    check_tensor(tensor)
    pg = _resolve(group)
    if pg is None:
        return None
    root = pg.group_rank(src, "src")
    nccl = _nccl_or_none(pg, tensor)
    if nccl is not None:
        return nccl.broadcast(tensor, root, async_op)
    staged = Staged(tensor, copy_in=pg.rank() == root)
    buf, comm = staged.buffer, pg.comm
    return _issue(async_op, lambda: comm.Bcast(spec(buf), root),
                  lambda: [comm.Ibcast(spec(buf), root)], staged.finish, [tensor])


def reduce(tensor, dst, op=ReduceOp.SUM, group=None, async_op=False):
    """Reduce ``tensor`` across the group with ``op`` into ``tensor`` on global rank ``dst``
    (the others keep theirs).

    Examples
    --------
    >>> import ember, ember.distributed as dist
    >>> t = ember.ones(2)                                   # doctest: +SKIP
    >>> dist.reduce(t, dst=0)                               # doctest: +SKIP
    """
    check_tensor(tensor)
    pg = _resolve(group)
    if pg is None:
        return None
    root = pg.group_rank(dst, "dst")
    nccl = _nccl_or_none(pg, tensor)
    if nccl is not None:
        return nccl.reduce(tensor, root, op, async_op)
    is_root = pg.rank() == root
    staged = Staged(tensor)
    buf, comm = staged.buffer, pg.comm
    mop = mpi_op(op, buf.dtype)
    send = _mpi().IN_PLACE if is_root else spec(buf)
    recv = spec(buf) if is_root else None
    steps = []
    if is_root:
        if op is ReduceOp.AVG:
            steps.append(lambda: divide(buf, pg.size()))
        steps.append(staged.finish)
    return _issue(async_op, lambda: comm.Reduce(send, recv, mop, root),
                  lambda: [comm.Ireduce(send, recv, mop, root)], chain(*steps), [tensor])


def all_gather_into_tensor(output_tensor, input_tensor, group=None, async_op=False):
    """Gather ``input_tensor`` of every rank, concatenated in rank order, into
    ``output_tensor`` (``world_size`` times as many elements, e.g. stacked or concatenated
    along dimension 0).

    Examples
    --------
    >>> import ember, ember.distributed as dist
    >>> out = ember.empty(2 * dist.get_world_size())        # doctest: +SKIP
    >>> dist.all_gather_into_tensor(out, ember.ones(2))     # doctest: +SKIP
    """
    check_tensor(output_tensor, "output_tensor")
    check_tensor(input_tensor, "input_tensor")
    pg = _resolve(group)
    if pg is None:
        return None
    _check_sized(output_tensor, input_tensor, pg.size(), "all_gather_into_tensor")
    nccl = _nccl_or_none(pg, input_tensor)
    if nccl is not None:
        return nccl.all_gather(output_tensor, input_tensor, async_op)
    src = Staged(input_tensor).buffer
    out = Staged(output_tensor, copy_in=False)
    comm = pg.comm
    return _issue(async_op, lambda: comm.Allgather(spec(src), spec_blocks(out.buffer)),
                  lambda: [comm.Iallgather(spec(src), spec_blocks(out.buffer))], out.finish,
                  [output_tensor])


def _check_sized(big, small, n, name):
    if big.dtype != small.dtype:
        raise RuntimeError(f"{name}: output and input must have the same dtype, got "
                           f"{big.dtype} and {small.dtype}")
    if big.numel() != n * small.numel():
        raise RuntimeError(f"{name}: the output must have world_size ({n}) times the input's "
                           f"{small.numel()} elements, got shape {tuple(big.shape)}")


def _split_into(flat, tensors):
    """Copy consecutive equal-sized chunks of the 1-d ``flat`` into ``tensors``."""
    def finish():
        with ember.no_grad():
            n = tensors[0].numel() if tensors else 0
            for i, t in enumerate(tensors):
                t.copy_(flat[i * n:(i + 1) * n].view(t.shape))
    return finish


def _concat(tensors):
    with ember.no_grad():
        return ember.cat([t.reshape(-1) for t in tensors])


def all_gather(tensor_list, tensor, group=None, async_op=False):
    """Gather ``tensor`` of every rank into ``tensor_list`` (one tensor per rank, in rank
    order).

    Examples
    --------
    >>> import ember, ember.distributed as dist
    >>> out = [ember.empty(2) for _ in range(dist.get_world_size())]  # doctest: +SKIP
    >>> dist.all_gather(out, ember.full((2,), float(dist.get_rank())))  # doctest: +SKIP
    """
    check_tensor_list(tensor_list, "tensor_list")
    check_tensor(tensor)
    pg = _resolve(group)
    if pg is None:
        return None
    _check_count(tensor_list, pg.size(), "tensor_list")
    check_same(tensor_list, tensor, "all_gather")
    flat = ember.empty(pg.size() * tensor.numel(), dtype=tensor.dtype, device=tensor.device)
    nccl = _nccl_or_none(pg, tensor, *tensor_list)
    if nccl is not None:
        return nccl.all_gather(flat, tensor.contiguous(), async_op,
                               _split_into(flat, tensor_list), list(tensor_list))
    src, comm = Staged(tensor).buffer, pg.comm
    return _issue(async_op, lambda: comm.Allgather(spec(src), spec_blocks(flat)),
                  lambda: [comm.Iallgather(spec(src), spec_blocks(flat))],
                  _split_into(flat, tensor_list), tensor_list)


def _check_count(ts, n, name):
    if len(ts) != n:
        raise ValueError(f"{name} must hold world_size ({n}) tensors, got {len(ts)}")


def reduce_scatter_tensor(output, input, op=ReduceOp.SUM, group=None, async_op=False):
    """Reduce ``input`` (``world_size`` chunks) across ranks with ``op``; rank ``i`` gets
    the reduced chunk ``i`` in ``output``.

    Examples
    --------
    >>> import ember, ember.distributed as dist
    >>> out = ember.empty(2)                                # doctest: +SKIP
    >>> dist.reduce_scatter_tensor(out, ember.ones(2 * dist.get_world_size()))  # doctest: +SKIP
    """
    check_tensor(output, "output")
    check_tensor(input, "input")
    pg = _resolve(group)
    if pg is None:
        return None
    _check_sized(input, output, pg.size(), "reduce_scatter_tensor")
    nccl = _nccl_or_none(pg, input)
    if nccl is not None:
        return nccl.reduce_scatter(output, input, op, async_op)
    return _reduce_scatter(pg, output, Staged(input).buffer, op, async_op)


def _reduce_scatter(pg, output, src, op, async_op):
    out = Staged(output, copy_in=False)
    mop, comm = mpi_op(op, src.dtype), pg.comm
    steps = [out.finish]
    if op is ReduceOp.AVG:
        steps.insert(0, lambda: divide(out.buffer, pg.size()))
    return _issue(async_op,
                  lambda: comm.Reduce_scatter_block(spec_blocks(src), spec(out.buffer), mop),
                  lambda: [comm.Ireduce_scatter_block(spec_blocks(src), spec(out.buffer), mop)],
                  chain(*steps), [output])


def reduce_scatter(output, input_list, op=ReduceOp.SUM, group=None, async_op=False):
    """Reduce ``input_list`` (one tensor per rank) across ranks with ``op``; rank ``i``
    gets the reduced ``input_list[i]`` in ``output``.

    Examples
    --------
    >>> import ember, ember.distributed as dist
    >>> out = ember.empty(2)                                # doctest: +SKIP
    >>> dist.reduce_scatter(out, [ember.ones(2)] * dist.get_world_size())  # doctest: +SKIP
    """
    check_tensor(output, "output")
    check_tensor_list(input_list, "input_list")
    pg = _resolve(group)
    if pg is None:
        return None
    _check_count(input_list, pg.size(), "input_list")
    check_same(input_list, output, "reduce_scatter")
    nccl = _nccl_or_none(pg, output, *input_list)
    src = _concat(input_list)
    if nccl is not None:
        (out,), back = _landing([output])
        return nccl.reduce_scatter(out, src, op, async_op, back, [output])
    return _reduce_scatter(pg, output, Staged(src).buffer, op, async_op)


def _split_counts(t, splits, name, n):
    """Elements and displacements of ``t``'s chunks along dimension 0 for ``n`` ranks (equal
    chunks when ``splits`` is None)."""
    rows = t.shape[0] if t.dim() else 1
    row = t.numel() // rows if rows else 0
    if splits is None:
        if rows % n:
            raise RuntimeError(f"all_to_all_single: {name} dimension 0 ({rows}) is not "
                               f"divisible by world_size ({n})")
        splits = [rows // n] * n
    if len(splits) != n or sum(splits) != rows:
        raise RuntimeError(f"all_to_all_single: {name}_split_sizes {list(splits)} must have "
                           f"{n} entries summing to {rows}")
    sizes = [s * row for s in splits]
    return sizes, [sum(sizes[:i]) for i in range(n)]


def all_to_all_single(output, input, output_split_sizes=None, input_split_sizes=None,
                      group=None, async_op=False):
    """Split ``input`` along dimension 0 and send chunk ``i`` to rank ``i``; ``output``
    receives the chunks from every rank in rank order (equal splits when the split sizes
    are None).

    Examples
    --------
    >>> import ember, ember.distributed as dist
    >>> out = ember.empty(dist.get_world_size())            # doctest: +SKIP
    >>> dist.all_to_all_single(out, ember.arange(float(dist.get_world_size())))  # doctest: +SKIP
    """
    check_tensor(output, "output")
    check_tensor(input, "input")
    pg = _resolve(group)
    if pg is None:
        return None
    n = pg.size()
    if output.dtype != input.dtype:
        raise RuntimeError(f"all_to_all_single: output and input must have the same dtype, got "
                           f"{output.dtype} and {input.dtype}")
    scounts, sdispl = _split_counts(input, input_split_sizes, "input", n)
    rcounts, rdispl = _split_counts(output, output_split_sizes, "output", n)
    nccl = _nccl_or_none(pg, output, input)
    if nccl is not None:
        src = input.contiguous().reshape(-1)
        (out,), back = _landing([output])
        flat = out.reshape(-1)
        return nccl.exchange([(src[d:d + c], q) for q, (c, d) in enumerate(zip(scounts, sdispl))],
                             [(flat[d:d + c], q) for q, (c, d) in enumerate(zip(rcounts, rdispl))],
                             async_op, [output], back)
    src = Staged(input).buffer
    out = Staged(output, copy_in=False)

    def vspec(t, c, d):
        s = spec(t)
        return [s[0], (c, d), s[2]]

    comm = pg.comm
    return _issue(async_op,
                  lambda: comm.Alltoallv(vspec(src, scounts, sdispl),
                                         vspec(out.buffer, rcounts, rdispl)),
                  lambda: [comm.Ialltoallv(vspec(src, scounts, sdispl),
                                           vspec(out.buffer, rcounts, rdispl))],
                  out.finish, [output])


def all_to_all(output_tensor_list, input_tensor_list, group=None, async_op=False):
    """Send ``input_tensor_list[i]`` to rank ``i``; ``output_tensor_list[j]`` receives rank
    ``j``'s tensor.  All tensors must have the same number of elements and dtype.

    Examples
    --------
    >>> import ember, ember.distributed as dist
    >>> n = dist.get_world_size()                           # doctest: +SKIP
    >>> out = [ember.empty(1) for _ in range(n)]            # doctest: +SKIP
    >>> dist.all_to_all(out, [ember.ones(1)] * n)           # doctest: +SKIP
    """
    check_tensor_list(output_tensor_list, "output_tensor_list")
    check_tensor_list(input_tensor_list, "input_tensor_list")
    pg = _resolve(group)
    if pg is None:
        return None
    n = pg.size()
    _check_count(output_tensor_list, n, "output_tensor_list")
    _check_count(input_tensor_list, n, "input_tensor_list")
    check_same(output_tensor_list + input_tensor_list, input_tensor_list[0], "all_to_all")
    nccl = _nccl_or_none(pg, *input_tensor_list, *output_tensor_list)
    if nccl is not None:
        outs, back = _landing(output_tensor_list)
        return nccl.exchange([(t.contiguous(), q) for q, t in enumerate(input_tensor_list)],
                             [(t, q) for q, t in enumerate(outs)], async_op,
                             list(output_tensor_list), back)
    src = _concat(input_tensor_list)
    flat = ember.empty(src.numel(), dtype=src.dtype)
    comm = pg.comm
    return _issue(async_op, lambda: comm.Alltoall(spec_blocks(src), spec_blocks(flat)),
                  lambda: [comm.Ialltoall(spec_blocks(src), spec_blocks(flat))],
                  _split_into(flat, output_tensor_list), output_tensor_list)


def gather(tensor, gather_list=None, dst=0, group=None, async_op=False):
    """Gather ``tensor`` of every rank into ``gather_list`` on global rank ``dst`` (which
    alone passes a list, one tensor per rank).

    Examples
    --------
    >>> import ember, ember.distributed as dist
    >>> n, rank = dist.get_world_size(), dist.get_rank()     # doctest: +SKIP
    >>> out = [ember.empty(2) for _ in range(n)] if rank == 0 else None  # doctest: +SKIP
    >>> dist.gather(ember.ones(2), out, dst=0)              # doctest: +SKIP
    """
    check_tensor(tensor)
    pg = _resolve(group)
    if pg is None:
        return None
    root = pg.group_rank(dst, "dst")
    is_root = pg.rank() == root
    if is_root:
        if gather_list is None:
            raise ValueError("Argument ``gather_list`` must be specified on destination rank.")
        check_tensor_list(gather_list, "gather_list")
        _check_count(gather_list, pg.size(), "gather_list")
        check_same(gather_list, tensor, "gather")
    elif gather_list:
        raise ValueError("Argument ``gather_list`` must NOT be specified on non-destination "
                         "ranks.")
    nccl = _nccl_or_none(pg, tensor, *(gather_list or ()))
    if nccl is not None:
        if not is_root:
            return nccl.exchange([(tensor.contiguous(), root)], [], async_op, [])
        outs, back = _landing(gather_list)
        with ember.no_grad():
            outs[root].copy_(tensor.reshape(outs[root].shape))
        return nccl.exchange([], [(t, q) for q, t in enumerate(outs) if q != root], async_op,
                             list(gather_list), back)
    src, comm = Staged(tensor).buffer, pg.comm
    flat = ember.empty(pg.size() * tensor.numel(), dtype=tensor.dtype) if is_root else None
    recv = spec_blocks(flat) if is_root else None
    finish = _split_into(flat, gather_list) if is_root else (lambda: None)
    return _issue(async_op, lambda: comm.Gather(spec(src), recv, root),
                  lambda: [comm.Igather(spec(src), recv, root)], finish,
                  list(gather_list or []))


def scatter(tensor, scatter_list=None, src=0, group=None, async_op=False):
    """Send ``scatter_list[i]`` of global rank ``src`` to rank ``i``'s ``tensor``.

    Examples
    --------
    >>> import ember, ember.distributed as dist
    >>> n, rank = dist.get_world_size(), dist.get_rank()     # doctest: +SKIP
    >>> parts = [ember.full((2,), float(i)) for i in range(n)] if rank == 0 else None  # doctest: +SKIP
    >>> out = ember.empty(2)                                # doctest: +SKIP
    >>> dist.scatter(out, parts, src=0)                     # doctest: +SKIP
    """
    check_tensor(tensor)
    pg = _resolve(group)
    if pg is None:
        return None
    root = pg.group_rank(src, "src")
    is_root = pg.rank() == root
    if is_root:
        if scatter_list is None:
            raise ValueError("Argument ``scatter_list`` must be specified on source rank.")
        check_tensor_list(scatter_list, "scatter_list")
        _check_count(scatter_list, pg.size(), "scatter_list")
        check_same(scatter_list, tensor, "scatter")
    elif scatter_list:
        raise ValueError("Argument ``scatter_list`` must NOT be specified on non-source ranks.")
    nccl = _nccl_or_none(pg, tensor, *(scatter_list or ()))
    if nccl is not None:
        if is_root:
            with ember.no_grad():
                tensor.copy_(scatter_list[root].reshape(tensor.shape))
            return nccl.exchange([(t.contiguous(), q) for q, t in enumerate(scatter_list)
                                  if q != root], [], async_op, [tensor])
        (out,), back = _landing([tensor])
        return nccl.exchange([], [(out, root)], async_op, [tensor], back)
    flat = _concat(scatter_list) if is_root else None
    send = spec_blocks(flat) if is_root else None
    out, comm = Staged(tensor, copy_in=False), pg.comm
    return _issue(async_op, lambda: comm.Scatter(send, spec(out.buffer), root),
                  lambda: [comm.Iscatter(send, spec(out.buffer), root)], out.finish, [tensor])


def barrier(group=None, async_op=False, device_ids=None):
    """Block until every rank of the group has reached it.

    Examples
    --------
    >>> import ember.distributed as dist
    >>> dist.barrier()                                      # doctest: +SKIP
    """
    pg = _resolve(group)
    if pg is None:
        return None
    comm = pg.comm
    return _issue(async_op, comm.Barrier, lambda: [comm.Ibarrier()], lambda: None, [])


def isend(tensor, dst, group=None, tag=0):
    """Send ``tensor`` to global rank ``dst`` without blocking; returns a :class:`Work`.

    Examples
    --------
    >>> import ember, ember.distributed as dist
    >>> work = dist.isend(ember.ones(2), dst=1)             # doctest: +SKIP
    >>> work.wait()                                         # doctest: +SKIP
    True
    """
    check_tensor(tensor)
    pg = _resolve(group)
    if pg is None:
        return None
    peer = pg.group_rank(dst, "dst")
    nccl = _nccl_or_none(pg, tensor)
    if nccl is not None:
        return nccl.send(tensor, peer, True)
    buf = Staged(tensor).buffer
    return Work([pg.comm.Isend(spec(buf), peer, tag)], None, [tensor], keep_alive=buf)


def irecv(tensor, src=None, group=None, tag=0):
    """Receive into ``tensor`` from global rank ``src`` (any rank when None) without
    blocking; returns a :class:`Work`.

    Examples
    --------
    >>> import ember, ember.distributed as dist
    >>> t = ember.empty(2)                                  # doctest: +SKIP
    >>> dist.irecv(t, src=0).wait()                         # doctest: +SKIP
    True
    """
    check_tensor(tensor)
    pg = _resolve(group)
    if pg is None:
        return None
    MPI = _mpi()
    peer = MPI.ANY_SOURCE if src is None else pg.group_rank(src, "src")
    nccl = _nccl_or_none(pg, tensor)
    if nccl is not None:
        if src is None:
            raise RuntimeError("the NCCL backend needs an explicit src for recv")
        return nccl.recv(tensor, peer, True)
    out = Staged(tensor, copy_in=False)
    return Work([pg.comm.Irecv(spec(out.buffer), peer, tag)], out.finish, [tensor])


def send(tensor, dst, group=None, tag=0):
    """Send ``tensor`` to global rank ``dst``; blocks until it may be reused.

    Examples
    --------
    >>> import ember, ember.distributed as dist
    >>> dist.send(ember.ones(2), dst=1)                     # doctest: +SKIP
    """
    work = isend(tensor, dst, group, tag)
    if work is not None:
        work.wait()


def recv(tensor, src=None, group=None, tag=0):
    """Receive into ``tensor`` from global rank ``src`` (any rank when None); returns the
    sender's global rank.

    Examples
    --------
    >>> import ember, ember.distributed as dist
    >>> t = ember.empty(2)                                  # doctest: +SKIP
    >>> dist.recv(t, src=0)                                 # doctest: +SKIP
    0
    """
    check_tensor(tensor)
    pg = _resolve(group)
    if pg is None:
        return -1
    if src is not None or tensor.device.type == "cuda":
        irecv(tensor, src, group, tag).wait()
        return src
    MPI = _mpi()
    out = Staged(tensor, copy_in=False)
    status = MPI.Status()
    pg.comm.Recv(spec(out.buffer), MPI.ANY_SOURCE, tag, status)
    out.finish()
    return pg.global_ranks[status.Get_source()]


# ------------------------------------------------------------------ objects (pickle)
# Objects travel pickled (mpi4py's lowercase API), as in PyTorch: unpickling runs code
# chosen by the sender, so only exchange objects between ranks you trust.

def broadcast_object_list(object_list, src=0, group=None, device=None):
    """Replace ``object_list``'s items on every rank by those of global rank ``src``
    (pickled: only use it between ranks you trust).

    Examples
    --------
    >>> import ember.distributed as dist
    >>> objs = [{"lr": 0.1}, "x"] if dist.get_rank() == 0 else [None, None]  # doctest: +SKIP
    >>> dist.broadcast_object_list(objs, src=0)             # doctest: +SKIP
    """
    pg = _resolve(group)
    if pg is None:
        return
    root = pg.group_rank(src, "src")
    received = pg.comm.bcast(list(object_list) if pg.rank() == root else None, root)
    object_list[:] = received


def all_gather_object(object_list, obj, group=None):
    """Gather the picklable ``obj`` of every rank into ``object_list`` (``world_size``
    items, in rank order; pickled: only use it between ranks you trust).

    Examples
    --------
    >>> import ember.distributed as dist
    >>> out = [None] * dist.get_world_size()                # doctest: +SKIP
    >>> dist.all_gather_object(out, {"rank": dist.get_rank()})  # doctest: +SKIP
    """
    pg = _resolve(group)
    if pg is None:
        return
    _check_count(object_list, pg.size(), "object_list")
    object_list[:] = pg.comm.allgather(obj)


def gather_object(obj, object_gather_list=None, dst=0, group=None):
    """Gather the picklable ``obj`` of every rank into ``object_gather_list`` on global
    rank ``dst`` (pickled: only use it between ranks you trust).

    Examples
    --------
    >>> import ember.distributed as dist
    >>> out = [None] * dist.get_world_size() if dist.get_rank() == 0 else None  # doctest: +SKIP
    >>> dist.gather_object(dist.get_rank(), out, dst=0)     # doctest: +SKIP
    """
    pg = _resolve(group)
    if pg is None:
        return
    root = pg.group_rank(dst, "dst")
    if pg.rank() == root:
        if object_gather_list is None:
            raise ValueError("Argument ``object_gather_list`` must be specified on destination "
                             "rank.")
        _check_count(object_gather_list, pg.size(), "object_gather_list")
    gathered = pg.comm.gather(obj, root)
    if pg.rank() == root:
        object_gather_list[:] = gathered


def scatter_object_list(scatter_object_output_list, scatter_object_input_list=None, src=0,
                        group=None):
    """Send ``scatter_object_input_list[i]`` of global rank ``src`` to rank ``i``, which
    finds it in ``scatter_object_output_list[0]`` (pickled: only use it between ranks you
    trust).

    Examples
    --------
    >>> import ember.distributed as dist
    >>> out = [None]                                        # doctest: +SKIP
    >>> items = ["a", "b"] if dist.get_rank() == 0 else None  # doctest: +SKIP
    >>> dist.scatter_object_list(out, items, src=0)         # doctest: +SKIP
    """
    pg = _resolve(group)
    if pg is None:
        return
    if not isinstance(scatter_object_output_list, list) or len(scatter_object_output_list) < 1:
        raise ValueError("Expected argument scatter_object_output_list to be a list of size at "
                         "least 1.")
    root = pg.group_rank(src, "src")
    items = None
    if pg.rank() == root:
        if scatter_object_input_list is None:
            raise ValueError("Argument ``scatter_object_input_list`` must be specified on "
                             "source rank.")
        _check_count(scatter_object_input_list, pg.size(), "scatter_object_input_list")
        items = list(scatter_object_input_list)
    scatter_object_output_list[0] = pg.comm.scatter(items, root)
