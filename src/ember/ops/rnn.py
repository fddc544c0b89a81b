"""The recurrence of one recurrent layer and direction, as a differentiable op.

``rnn_layer`` runs the time loop of an Elman RNN, LSTM or GRU layer over a
packed sequence with the fused kernels of ``ember._core._rnn``: per step one
GEMM for ``h @ W_hh^T`` and one fused cell kernel; the input projection
``x @ W_ih^T + b_ih`` of all steps (one GEMM) is made by the caller with
ordinary ops, so its gradient comes from them.

Backward is the fused backward loop, plus one GEMM for the gradient of
``W_hh`` (and of ``W_hr``) over all steps.  When the graph of the gradient is
being built (``create_graph=True``), the formula instead differentiates the
same recurrence written with ember ops (:func:`rnn_layer_composite`), so that
higher derivatives exist.
"""
from ember._core import _rnn
from ember._core._tensor import _recorded, is_grad_enabled, record
from ember.ops.derivatives import derivative

# the cell of each nonlinearity / mode name
MODES = {"RNN_TANH": 0, "RNN_RELU": 1, "LSTM": 2, "GRU": 3}


class _Saved:
    """What the fused forward keeps for the fused backward besides its output (which the
    node saves itself: holding it here would make a reference cycle output -> node ->
    output, freed only by the garbage collector)."""
    __slots__ = ("buffers",)


def _requires_grad(*tensors):
    return any(t is not None and _recorded(t) for t in tensors)



def rnn_layer(mode, gx, h0, c0, w_hh, b_hh, w_hr, batch_sizes, reverse):
    """Run one recurrent layer and direction over a packed sequence.

    Parameters
    ----------
    mode : int
        A value of :data:`MODES`: 0 Elman tanh, 1 Elman relu, 2 LSTM, 3 GRU.
    gx : Tensor
        ``(total, gates * hidden_size)``: the input projection ``x @ W_ih^T + b_ih`` of
        every row of the packed input.
    h0 : Tensor
        ``(batch, proj_size or hidden_size)``: the initial hidden state.
    c0 : Tensor or None
        ``(batch, hidden_size)``: the initial cell state of an LSTM, else None.
    w_hh : Tensor
        ``(gates * hidden_size, proj_size or hidden_size)``.
    b_hh : Tensor or None
        ``(gates * hidden_size,)``.
    w_hr : Tensor or None
        ``(proj_size, hidden_size)``: an LSTM's projection.
    batch_sizes : Tensor
        int64, the number of rows of each time step (non-increasing).
    reverse : bool
        Run from the last step to the first.

    Returns
    -------
    tuple of Tensor
        ``(output, h_n, c_n)``: every step's hidden state ``(total, P)``, the final
        hidden and cell states (``c_n`` None but for an LSTM).
    """
    if gx.device.type != "cpu":
        # the fused kernels read host memory: on a device, the same recurrence in ops
        return rnn_layer_composite(mode, gx, h0, c0, w_hh, b_hh, w_hr, batch_sizes, reverse)
    if gx.is_floating_point() and gx.element_size() == 2:
        # the kernel has float32/float64 loops only: compute half types in float32, as
        # PyTorch's CPU kernels do, and round the results back (the casts are differentiable)
        def up(t):
            return None if t is None else t.float()
        out, h_n, c_n = rnn_layer(mode, gx.float(), up(h0), up(c0), up(w_hh), up(b_hh),
                                  up(w_hr), batch_sizes, reverse)
        return out.to(gx.dtype), h_n.to(gx.dtype), None if c_n is None else c_n.to(gx.dtype)
    if _requires_grad(gx, h0, c0, w_hh, b_hh, w_hr):
        return record("rnn_layer", _forward_saving,
                      (mode, gx, h0, c0, w_hh, b_hh, w_hr, batch_sizes, reverse, _Saved()))
    out, h_n, c_n, _ = _rnn.rnn_forward(mode, gx, h0, c0, w_hh, b_hh, w_hr, batch_sizes,
                                        reverse, False)
    return out, h_n, c_n


def _forward_saving(mode, gx, h0, c0, w_hh, b_hh, w_hr, batch_sizes, reverse, saved):
    out, h_n, c_n, saved.buffers = _rnn.rnn_forward(mode, gx, h0, c0, w_hh, b_hh, w_hr,
                                                    batch_sizes, reverse, True)
    return out, h_n, c_n


@derivative("rnn_layer", save_result=True)
def _rnn_layer_backward(ctx, grads, mode, gx, h0, c0, w_hh, b_hh, w_hr, batch_sizes, reverse,
                        saved):
    if is_grad_enabled():
        return _composite_backward(grads, mode, gx, h0, c0, w_hh, b_hh, w_hr, batch_sizes,
                                   reverse)
    dout, dh_n, dc_n = (None if g is None else g.contiguous() for g in grads)
    dgx, dgh, dh0, dc0, dh_all = _rnn.rnn_backward(mode, dout, dh_n, dc_n, ctx.result[0], w_hh,
                                                   w_hr, batch_sizes, reverse, saved.buffers)
    hprev, hraw = saved.buffers[3], saved.buffers[4]
    dw_hh = dgh.t().mm(hprev) if w_hh.requires_grad else None
    db_hh = dgh.sum(0) if b_hh is not None and b_hh.requires_grad else None
    dw_hr = dh_all.t().mm(hraw) if w_hr is not None and w_hr.requires_grad else None
    return None, dgx, dh0, dc0, dw_hh, db_hh, dw_hr, None, None, None


def _composite_backward(grads, mode, gx, h0, c0, w_hh, b_hh, w_hr, batch_sizes, reverse):
    """The gradients as a graph: the recurrence redone with ember ops and differentiated."""
    from ember.autograd import grad as autograd_grad
    inputs = (gx, h0, c0, w_hh, b_hh, w_hr)
    wanted = [t for t in inputs if t is not None and t.requires_grad]
    outputs = rnn_layer_composite(mode, gx, h0, c0, w_hh, b_hh, w_hr, batch_sizes, reverse)
    pairs = [(o, g) for o, g in zip(outputs, grads) if o is not None and g is not None]
    found = autograd_grad([o for o, _ in pairs], wanted, [g for _, g in pairs],
                          create_graph=True, allow_unused=True)
    by_id = {id(t): g for t, g in zip(wanted, found)}
    return (None,) + tuple(None if t is None else by_id.get(id(t)) for t in inputs) \
        + (None, None, None)


def rnn_layer_composite(mode, gx, h0, c0, w_hh, b_hh, w_hr, batch_sizes, reverse):
    """:func:`rnn_layer` written with differentiable ember ops, one step at a time."""
    import ember
    sizes = [int(n) for n in batch_sizes.tolist()]
    offsets = [0]
    for n in sizes[:-1]:
        offsets.append(offsets[-1] + n)
    h, c = h0, c0
    outs = [None] * len(sizes)
    order = range(len(sizes) - 1, -1, -1) if reverse else range(len(sizes))
    for t in order:
        n, row = sizes[t], offsets[t]
        x = gx[row:row + n]
        gh = h[:n].mm(w_hh.t())
        if b_hh is not None:
            gh = gh + b_hh
        if mode == MODES["LSTM"]:
            i, f, g, o = (x + gh).chunk(4, 1)
            c_new = ember.sigmoid(f) * c[:n] + ember.sigmoid(i) * ember.tanh(g)
            h_new = ember.sigmoid(o) * ember.tanh(c_new)
            if w_hr is not None:
                h_new = h_new.mm(w_hr.t())
            c = c_new if n == c.shape[0] else ember.cat([c_new, c[n:]])
        elif mode == MODES["GRU"]:
            xr, xz, xn = x.chunk(3, 1)
            hr, hz, hn = gh.chunk(3, 1)
            r = ember.sigmoid(xr + hr)
            z = ember.sigmoid(xz + hz)
            cand = ember.tanh(xn + r * hn)
            h_new = (1 - z) * cand + z * h[:n]
        else:
            pre = x + gh
            h_new = ember.relu(pre) if mode == MODES["RNN_RELU"] else ember.tanh(pre)
        h = h_new if n == h.shape[0] else ember.cat([h_new, h[n:]])
        outs[t] = h_new
    return ember.cat(outs), h, c
