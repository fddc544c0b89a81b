"""``DistributedDataParallel``: data-parallel training across processes (MPI or NCCL).

How gradients are synchronised (PyTorch's reducer, in Python):

* at construction, parameters and buffers are broadcast from rank 0; trainable parameters
  are assigned to buckets in reverse order (gradients become ready in about that order),
  the first bucket capped at 1 MiB so communication starts early, the others at
  ``bucket_cap_mb``; each bucket owns one flat buffer;
* a hook on each parameter's gradient accumulation copies the parameter's new gradient
  (its accumulated ``.grad`` plus this backward's contribution) into the bucket; a bucket
  whose parameters are all ready is reduced asynchronously (average through the
  communication hook), always in bucket order, so every rank issues the same sequence;
* the hook of the last parameter to become ready waits for all buckets and writes the
  averaged gradients into ``.grad``: when ``backward()`` returns, the gradients are
  synchronised.

Ranks on one node, with the default reduction, skip the buckets: the hook of the last
parameter averages every ``.grad`` at once through the group's shared-memory window
(``ember.distributed._shm``), whose reduction the ranks compute themselves and so could
not overlap backward anyway.
"""
import contextlib

import numpy as np

import ember
from ember import distributed as dist
from ember.distributed import _shm
from ember.distributed._buffers import FAST_DTYPES
from ember.distributed._process_group import ProcessGroup, _resolve
from ember.distributed.algorithms.ddp_comm_hooks import default_hooks
from ember.distributed.algorithms.join import Join, Joinable, JoinHook
from ember.nn.modules.module import Module

__all__ = ["DistributedDataParallel"]

_FIRST_BUCKET_BYTES = 1024 * 1024
_DEFAULT_BUCKET_CAP_MB = 25


class GradBucket:
    """A bucket of flattened gradients handed to a communication hook."""

    def __init__(self, index, buffer, parameters, views, is_last):
        self._index, self._buffer = index, buffer
        self._parameters, self._views, self._is_last = parameters, views, is_last

    def index(self):
        """The bucket's position in the reduction order."""
        return self._index

    def buffer(self):
        """The flat 1-d tensor holding the bucket's gradients."""
        return self._buffer

    def gradients(self):
        """The gradients, as views of :meth:`buffer` shaped like the parameters."""
        return list(self._views)

    def parameters(self):
        """The parameters whose gradients the bucket holds."""
        return list(self._parameters)

    def is_last(self):
        """Whether this is the last bucket reduced in an iteration."""
        return self._is_last


class _Bucket:
    def __init__(self, index, params):
        self.index = index
        self.params = params
        self._buffer = self._views = None
        self.pending = len(params)
        self.future = None

    # made at first use: gradients averaged through the shared window never need them
    @property
    def buffer(self):
        if self._buffer is None:
            p0 = self.params[0]
            self._buffer = ember.zeros(sum(p.numel() for p in self.params), dtype=p0.dtype,
                                       device=p0.device)
        return self._buffer

    @property
    def views(self):
        if self._views is None:
            self._views, offset = [], 0
            for p in self.params:
                self._views.append(self.buffer[offset:offset + p.numel()].view(p.shape))
                offset += p.numel()
        return self._views


class _Iteration:
    """How far one iteration's reduction got.  A plain object: each assignment to a
    Module's attribute runs Module.__setattr__, and these change several times per
    parameter per step."""

    __slots__ = ("expect_reduction", "backward_started", "ready", "remaining", "next_launch",
                 "used", "used_work", "unused")


def _assign_buckets(params, cap_bytes):
    """Parameter indices in buckets: reverse order, one dtype and device per bucket, the
    first bucket capped at 1 MiB (or ``cap_bytes`` when smaller), the others at
    ``cap_bytes``."""
    buckets, open_by_kind = [], {}
    for i in reversed(range(len(params))):
        p = params[i]
        cap = min(_FIRST_BUCKET_BYTES, cap_bytes) if not buckets else cap_bytes
        kind = (p.dtype, str(p.device))
        current = open_by_kind.get(kind)
        if current is None or (current[1] and current[1] + p.nbytes > current[2]):
            current = [[], 0, cap]
            open_by_kind[kind] = current
            buckets.append(current)
        current[0].append(i)
        current[1] += p.nbytes
    return [b[0] for b in buckets]


def _shared_window(pg, params):
    """The group's shared-memory window (ember.distributed._shm) when every gradient can go
    through it: CPU parameters of one dtype it reduces.  Collective over the group."""
    dtypes = {p.dtype for p in params}
    if (len(dtypes) != 1 or dtypes.pop() not in FAST_DTYPES
            or any(p.device.type != "cpu" for p in params)):
        return None
    return _shm.window_of(pg)


def _dense(g):
    """``g`` as a contiguous dense tensor (a copy when it is sparse or strided)."""
    if not isinstance(g, ember.Tensor):
        g = g.to_dense()
    return g if g.is_contiguous() else g.contiguous()


def _tensors_in(obj):
    if isinstance(obj, ember.Tensor):
        yield obj
    elif isinstance(obj, (list, tuple)):
        for item in obj:
            yield from _tensors_in(item)
    elif isinstance(obj, dict):
        for item in obj.values():
            yield from _tensors_in(item)


class DistributedDataParallel(Module, Joinable):
    """Data parallelism across processes: each rank runs ``module`` on its share of the
    batch; backward averages the gradients over the ranks.

    Parameters
    ----------
    module : Module
        Replicated on every rank (parameters and buffers broadcast from rank 0).
    device_ids, output_device, dim
        Accepted for PyTorch compatibility (one device per process; inputs are not
        scattered).
    broadcast_buffers : bool, default True
        Broadcast rank 0's buffers (e.g. batch-norm statistics) at each training forward
        (the buffers the module had when it was wrapped, as in PyTorch).
    process_group : ProcessGroup, optional
        The ranks to average over (the world by default).
    bucket_cap_mb : float, optional
        Bucket size in MiB (25 by default; the first bucket holds 1 MiB).
    find_unused_parameters : bool, default False
        Traverse the autograd graph after each forward and count parameters that took no
        part as ready.  Without it, a parameter that gets no gradient makes the next
        forward raise RuntimeError.
    gradient_as_bucket_view, static_graph, check_reduction
        Accepted for PyTorch compatibility; gradients are copies of the buckets.

    Notes
    -----
    ``state_dict()`` keys carry the ``module.`` prefix, as in PyTorch; ``ddp.module.state_dict()``
    gives them without it, and ``load_state_dict`` accepts both forms.

    Examples
    --------
    >>> import ember, ember.distributed as dist
    >>> from ember.nn.parallel import DistributedDataParallel as DDP
    >>> dist.init_process_group("mpi")                      # doctest: +SKIP
    >>> model = DDP(ember.nn.Linear(4, 2))                  # doctest: +SKIP
    >>> model(ember.randn(8, 4)).sum().backward()           # doctest: +SKIP
    """

    def __init__(self, module, device_ids=None, output_device=None, dim=0,
                 broadcast_buffers=True, process_group=None, bucket_cap_mb=None,
                 find_unused_parameters=False, check_reduction=False,
                 gradient_as_bucket_view=False, static_graph=False):
        super().__init__()
        if not isinstance(module, Module):
            raise TypeError(f"DistributedDataParallel wraps an ember.nn.Module, got "
                            f"{type(module).__name__}")
        pg = _resolve(process_group)
        if pg is None:
            raise ValueError("DistributedDataParallel: this rank is not part of process_group")
        params = [p for p in module.parameters() if p.requires_grad]
        if not params:
            raise RuntimeError("DistributedDataParallel is not needed when a module doesn't "
                               "have any parameter that requires a gradient.")
        self.module = module
        # a private communicator: bucket reductions never interleave with other collectives
        self.process_group = ProcessGroup(pg.comm.Dup(), pg.backend, pg.global_ranks)
        self.broadcast_buffers = broadcast_buffers
        self.find_unused_parameters = find_unused_parameters
        self.require_backward_grad_sync = True
        self._params = params
        self._buffer_slots = [(m, name) for m in module.modules()
                              for name, b in m._buffers.items() if b is not None]
        self._sync_module_states()
        cap_mb = _DEFAULT_BUCKET_CAP_MB if bucket_cap_mb is None else bucket_cap_mb
        self._buckets = []
        self._location = [None] * len(params)
        for b, indices in enumerate(_assign_buckets(params, int(cap_mb * 1024 * 1024))):
            bucket = _Bucket(b, [params[i] for i in indices])
            for j, i in enumerate(indices):
                self._location[i] = (bucket, j)
            self._buckets.append(bucket)
        self._comm_hook, self._comm_state = default_hooks.allreduce_hook, self.process_group
        self._comm_hook_registered = False
        self._window = _shared_window(self.process_group, params)
        self._it = _Iteration()
        self._reset()
        self._hook_handles = [p.register_hook(self._make_hook(i)) for i, p in enumerate(params)]

    # ------------------------------------------------------------ construction
    def _sync_module_states(self):
        with ember.no_grad():
            for t in list(self.module.parameters()) + list(self.module.buffers()):
                dist.broadcast(t, src=self.process_group.global_ranks[0],
                               group=self.process_group)

    def _sync_buffers(self):
        # the buffer slots found at construction, as PyTorch's DDP lists its buffers then
        # (a walk of the modules at each forward costs several microseconds); read
        # through the slots, so that a buffer replaced by Module.to() is the one sent
        with ember.no_grad():
            for m, name in self._buffer_slots:
                b = m._buffers.get(name)
                if b is not None:
                    dist.broadcast(b, src=self.process_group.global_ranks[0],
                                   group=self.process_group)

    # ------------------------------------------------------------ forward
    def forward(self, *inputs, **kwargs):
        # as PyTorch: a forward without backward is fine; a backward that left some
        # parameter without gradient is not (its buckets were never reduced)
        if self._it.backward_started:
            missing = [i for i, r in enumerate(self._it.ready) if not r]
            self._reset()
            raise RuntimeError(
                "Expected to have finished reduction in the prior iteration before starting a "
                "new one. This error indicates that your module has parameters that were not "
                "used in producing loss. You can enable unused parameter detection by passing "
                "the keyword argument `find_unused_parameters=True` to "
                "`ember.nn.parallel.DistributedDataParallel`, and by making sure all `forward` "
                "function outputs participate in calculating loss. Parameter indices which did "
                f"not receive grad for rank {self.process_group.rank()}: {missing}")
        sync = ember.is_grad_enabled() and self.require_backward_grad_sync
        if sync:
            Join.notify_join_context(self)
            if self.broadcast_buffers and self._buffer_slots:
                self._sync_buffers()
        output = self.module(*inputs, **kwargs)
        if sync:
            self._prepare_for_backward(output)
        return output

    def _reset(self):
        it = self._it
        it.expect_reduction = it.backward_started = False
        it.ready = [False] * len(self._params)
        it.remaining = len(self._params)
        it.next_launch = 0
        it.used = it.used_work = it.unused = None
        for bucket in self._buckets:
            bucket.pending = len(bucket.params)
            bucket.future = None

    def _prepare_for_backward(self, output):
        self._reset()
        self._it.expect_reduction = True
        if not self.find_unused_parameters:
            return
        reached = set()
        stack = [t.grad_fn for t in _tensors_in(output) if t.grad_fn is not None]
        seen = set()
        while stack:
            node = stack.pop()
            if node is None or id(node) in seen:
                continue
            seen.add(id(node))
            variable = getattr(node, "variable", None)
            if variable is not None:
                reached.add(id(variable))
            stack.extend(edge[0] for edge in node.next_functions)
        for t in _tensors_in(output):
            if t.grad_fn is None and t.requires_grad:
                reached.add(id(t))
        self._it.used = ember.tensor([id(p) in reached for p in self._params], dtype=ember.int32)
        self._it.unused = [i for i, p in enumerate(self._params) if id(p) not in reached]

    # ------------------------------------------------------------ backward
    def _make_hook(self, i):
        def hook(grad):
            if not self._it.expect_reduction:
                return None
            if not self._it.backward_started:
                self._start_backward()
            return self._mark_ready(i, grad)
        return hook

    def _start_backward(self):
        """At the first gradient: with find_unused_parameters, find out which parameters
        some rank used (one no rank used keeps its .grad) and count the locally unused ones
        as ready.  Done here rather than in forward so that a forward without backward
        communicates nothing."""
        self._it.backward_started = True
        if self._it.unused is None:
            return
        self._it.used_work = dist.all_reduce(self._it.used, op=dist.ReduceOp.MAX,
                                             group=self.process_group, async_op=True)
        for i in self._it.unused:
            self._mark_ready(i, None)

    def _mark_ready(self, i, grad):
        it = self._it
        if it.ready[i]:
            raise RuntimeError(
                f"Expected to mark a variable ready only once. Parameter index {i} has been "
                "marked ready twice (a parameter used by several reentrant backward passes, or "
                "in a module shared across DDP instances, is not supported)")
        it.ready[i] = True
        it.remaining -= 1
        if self._reduces_at_once():
            return self._reduce_at_once(i, grad) if it.remaining == 0 else None
        bucket, j = self._location[i]
        p = self._params[i]
        with ember.no_grad():
            if grad is None:
                if p.grad is None:
                    bucket.views[j].zero_()
                else:
                    bucket.views[j].copy_(p.grad)
            elif p.grad is None:
                bucket.views[j].copy_(grad)
            else:
                bucket.views[j].copy_(p.grad + grad)
        bucket.pending -= 1
        buckets = self._buckets
        while it.next_launch < len(buckets):
            nxt = buckets[it.next_launch]
            if nxt.pending:
                break
            nxt.future = self._comm_hook(self._comm_state, self._grad_bucket(nxt))
            it.next_launch += 1
        for b in buckets[:it.next_launch]:
            b.future.done()   # drives MPI's progress on the reductions in flight
        if it.next_launch == len(buckets) and grad is not None:
            return self._finish_reduction(i)
        return None

    def _reduces_at_once(self):
        """Whether gradients are averaged through the shared window in one call: the
        default reduction of ranks on one node (a blocking reduction, so buckets started
        early would overlap nothing; one call copies each gradient in and out once, where
        buckets add a copy each way)."""
        return (self._window is not None and not self._comm_hook_registered
                and not self.find_unused_parameters)

    def _reduce_at_once(self, current, grad):
        """Average every gradient across the ranks in place in ``.grad`` (as the engine
        accumulated them), in parameter order; the gradient of parameter ``current``,
        whose accumulation is under way, goes into a new tensor returned for the engine to
        store (``grad`` may be shared with other consumers)."""
        with ember.no_grad():
            p = self._params[current]
            mine = _dense(grad if p.grad is None else p.grad + grad)
            result = ember.empty(mine.shape, dtype=mine.dtype)
            sources, outs = [], []
            for k, q in enumerate(self._params):
                if k == current:
                    sources.append(mine.numpy().reshape(-1))
                    outs.append(result.numpy().reshape(-1))
                    continue
                g = _dense(q.grad)
                if g is not q.grad:
                    q.grad = g
                sources.append(g.numpy().reshape(-1))
                outs.append(sources[-1])
            self._window.all_reduce(sources, np.add, divisor=self.process_group.size(),
                                    outs=outs)
        p.grad = None
        self._reset()
        return result

    def _grad_bucket(self, bucket):
        return GradBucket(bucket.index, bucket.buffer, bucket.params, bucket.views,
                          bucket.index == len(self._buckets) - 1)

    def _finish_reduction(self, current):
        """Wait for every bucket and write the averaged gradients; the gradient of parameter
        ``current``, whose accumulation is under way, is returned for the engine to store."""
        for bucket in self._buckets:
            result = bucket.future.wait()
            if result is not bucket.buffer:
                with ember.no_grad():
                    bucket.buffer.copy_(result)
        used = None
        if self._it.used_work is not None:
            self._it.used_work.wait()
            used = self._it.used.tolist()
        replacement = None
        with ember.no_grad():
            for i, p in enumerate(self._params):
                if used is not None and not used[i]:
                    continue
                bucket, j = self._location[i]
                if i == current:
                    p.grad = None
                    replacement = bucket.views[j].clone()
                elif p.grad is None:
                    p.grad = bucket.views[j].clone()
                else:
                    p.grad.copy_(bucket.views[j])
        self._reset()
        return replacement

    # ------------------------------------------------------------ public API
    @contextlib.contextmanager
    def no_sync(self):
        """Context manager skipping gradient synchronisation: gradients accumulate locally
        and are averaged by the first backward after the context exits.

        Examples
        --------
        >>> with ddp.no_sync():                             # doctest: +SKIP
        ...     ddp(x1).sum().backward()                    # local accumulation
        >>> ddp(x2).sum().backward()                        # doctest: +SKIP
        """
        previous = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = previous

    def register_comm_hook(self, state, hook):
        """Reduce buckets with ``hook(state, bucket)`` instead of the default average; the
        hook returns an :class:`ember.distributed.Future` of the bucket's averaged buffer.

        Examples
        --------
        >>> from ember.distributed.algorithms.ddp_comm_hooks import default_hooks
        >>> ddp.register_comm_hook(None, default_hooks.fp16_compress_hook)   # doctest: +SKIP
        """
        if not callable(hook):
            raise TypeError(f"hook must be callable, got {type(hook).__name__}")
        if self._comm_hook_registered:
            raise RuntimeError("register_comm_hook or register_builtin_comm_hook can only be "
                               "called once.")
        self._comm_hook, self._comm_state = hook, state
        self._comm_hook_registered = True

    def load_state_dict(self, state_dict, strict=True, assign=False):
        """Load a state dict with or without the ``module.`` prefix."""
        if state_dict and not all(k.startswith("module.") for k in state_dict):
            state_dict = {"module." + k: v for k, v in state_dict.items()}
        return super().load_state_dict(state_dict, strict, assign)

    # ------------------------------------------------------------ Join
    def join_hook(self, **kwargs):
        """The hook shadowing this model's per-iteration collectives on a joined rank."""
        return _DDPJoinHook(self)

    @property
    def join_device(self):
        return self._params[0].device

    @property
    def join_process_group(self):
        return self.process_group


class _DDPJoinHook(JoinHook):
    """On a rank out of inputs: the collectives of one training iteration, contributing
    zero gradients (the average still divides by the full world size, as PyTorch's
    default ``divide_by_initial_world_size``); at the end, every rank takes the model of
    the last rank to join (the one that trained longest)."""

    def __init__(self, ddp):
        self.ddp = ddp

    def main_hook(self):
        ddp = self.ddp
        if ddp.broadcast_buffers:
            ddp._sync_buffers()
        if ddp.find_unused_parameters:
            dist.all_reduce(ember.zeros(len(ddp._params), dtype=ember.int32),
                            op=dist.ReduceOp.MAX, group=ddp.process_group)
        if ddp._reduces_at_once():
            zeros = ember.zeros(sum(p.numel() for p in ddp._params), dtype=ddp._params[0].dtype)
            ddp._window.all_reduce([zeros.numpy()], np.add, divisor=ddp.process_group.size())
            return
        futures = []
        for bucket in ddp._buckets:
            with ember.no_grad():
                bucket.buffer.zero_()
            futures.append(ddp._comm_hook(ddp._comm_state, ddp._grad_bucket(bucket)))
        for fut in futures:
            fut.wait()

    def post_hook(self, is_last_joiner):
        ddp = self.ddp
        pg = ddp.process_group
        last = ember.tensor([pg.rank() if is_last_joiner else -1], dtype=ember.int64)
        dist.all_reduce(last, op=dist.ReduceOp.MAX, group=pg)
        with ember.no_grad():
            for t in list(ddp.module.parameters()) + list(ddp.module.buffers()):
                dist.broadcast(t, src=pg.global_ranks[int(last.item())], group=pg)
