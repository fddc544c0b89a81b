"""The stacked, optionally bidirectional recurrence behind ``nn.RNN``, ``nn.LSTM`` and
``nn.GRU``, the one step behind their cells, and PyTorch's low-level ``torch.*`` forms
of both (``ember.lstm``, ``ember.lstm_cell``, ...).

Every layer and direction makes one GEMM for the input projection of all time steps
and hands the recurrence to the fused op ``ember.ops.rnn.rnn_layer``.
"""
import inspect

import ember
from ember.ops.rnn import MODES, rnn_layer

__all__ = ["lstm_cell", "gru_cell", "rnn_tanh_cell", "rnn_relu_cell", "lstm", "gru",
           "rnn_tanh", "rnn_relu"]

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


def _dense(t):
    """``t`` as the row-major tensor the fused kernels read.  Not ``contiguous()``: on a
    tensor that requires grad it records a clone, which keeps a transposed layout."""
    if t is None or t.is_contiguous():
        return t
    return t.clone(memory_format=ember.contiguous_format)


def cell_step(mode, input, hx, cx, w_ih, w_hh, b_ih, b_hh):
    """One step of a cell over a batch ``input`` of shape ``(batch, input_size)``.

    Parameters
    ----------
    mode : str
        ``'RNN_TANH'``, ``'RNN_RELU'``, ``'LSTM'`` or ``'GRU'``.
    input : Tensor
    hx : Tensor
        ``(batch, hidden_size)``.
    cx : Tensor or None
        ``(batch, hidden_size)``: the cell state of an LSTM.
    w_ih, w_hh : Tensor
    b_ih, b_hh : Tensor or None

    Returns
    -------
    tuple
        ``(h', c')``, ``c'`` None but for an LSTM.
    """
    gx = ember.addmm(b_ih, input, w_ih.t()) if b_ih is not None else input.mm(w_ih.t())
    sizes = ember.full((1,), input.shape[0], dtype=ember.int64)
    _, h, c = rnn_layer(MODES[mode], gx, _dense(hx), _dense(cx), _dense(w_hh), _dense(b_hh),
                        None, sizes, False)
    return h, c


def stacked_rnn(mode, data, batch_sizes, hx, cx, weights, num_layers, bidirectional, dropout,
                training):
    """Run ``num_layers`` layers over a packed, time-major input.

    Parameters
    ----------
    mode : str
        ``'RNN_TANH'``, ``'RNN_RELU'``, ``'LSTM'`` or ``'GRU'``.
    data : Tensor
        ``(total, input_size)``: the rows of the packed input.
    batch_sizes : Tensor
        int64, rows per time step.
    hx : Tensor
        ``(num_layers * num_directions, batch, P)``: initial hidden states.
    cx : Tensor or None
        ``(num_layers * num_directions, batch, hidden_size)``: initial cell states (LSTM).
    weights : list of tuple
        Per layer and direction: ``(w_ih, w_hh, b_ih, b_hh, w_hr)``, absent ones None.
    num_layers : int
    bidirectional : bool
    dropout : float
        Dropout probability on the outputs of every layer but the last (in training).
    training : bool

    Returns
    -------
    tuple
        ``(output, h_n, c_n)``: ``(total, num_directions * P)`` and the final states.
    """
    code = MODES[mode]
    directions = 2 if bidirectional else 1
    x, hx, cx = _dense(data), _dense(hx), _dense(cx)
    if hx.shape[1] == 0:
        # an empty batch: nothing to run (the fused kernels want at least one row)
        w_hh, w_hr = weights[0][1], weights[0][4]
        width = directions * (w_hh.shape[1] if w_hr is None else w_hr.shape[0])
        return (ember.zeros((0, width), dtype=data.dtype, device=data.device), hx.clone(),
                None if cx is None else cx.clone())
    h_last, c_last = [], []
    for layer in range(num_layers):
        outs = []
        for direction in range(directions):
            k = layer * directions + direction
            w_ih, w_hh, b_ih, b_hh, w_hr = weights[k]
            gx = ember.addmm(b_ih, x, w_ih.t()) if b_ih is not None else x.mm(w_ih.t())
            out, h_n, c_n = rnn_layer(code, gx, hx[k], None if cx is None else cx[k],
                                      _dense(w_hh), _dense(b_hh), _dense(w_hr), batch_sizes,
                                      direction == 1)
            outs.append(out)
            h_last.append(h_n)
            c_last.append(c_n)
        x = outs[0] if directions == 1 else ember.cat(outs, 1)
        if dropout > 0 and training and layer < num_layers - 1:
            x = ember.nn.functional.dropout(x, dropout, training=True)
    return x, ember.stack(h_last), None if cx is None else ember.stack(c_last)


# ---------------------------------------------------------------- torch.* forms

def _cell_form(mode, input, states, w_ih, w_hh, b_ih, b_hh):
    name = mode.lower() + "_cell"
    hidden = w_hh.shape[1] if w_hh.dim() == 2 else -1
    if input.dim() != 2:
        raise RuntimeError(f"{name}: expected a 2-D input (batch, input_size), got "
                           f"{input.dim()}-D")
    if w_ih.dim() != 2 or w_hh.dim() != 2:
        raise RuntimeError(f"{name}: expected 2-D weights, got w_ih {w_ih.dim()}-D and w_hh "
                           f"{w_hh.dim()}-D")
    gates = _GATES[mode]
    for what, w in (("weight_ih", w_ih), ("weight_hh", w_hh)):
        if w.shape[0] != gates * hidden:
            raise RuntimeError(f"{what} first dim must be {gates} * hidden_size = "
                               f"{gates * hidden}, but got {w.shape[0]}")
    if input.shape[1] != w_ih.shape[1]:
        raise RuntimeError(f"input has inconsistent input_size: got {input.shape[1]} expected "
                           f"{w_ih.shape[1]}")
    for k, s in enumerate(states):
        if not isinstance(s, ember.Tensor):
            raise TypeError(f"{name}(): argument 'hx' must be Tensor, not {type(s).__name__}")
        if s.dim() != 2 or s.shape[0] != input.shape[0]:
            raise RuntimeError(f"Input batch size {input.shape[0]} doesn't match hidden{k} "
                               f"batch size {s.shape[0] if s.dim() else 1}")
        if s.shape[1] != hidden:
            raise RuntimeError(f"hidden{k} has inconsistent hidden_size: got {s.shape[1]}, "
                               f"expected {hidden}")
    return cell_step(mode, input, states[0], states[1] if len(states) > 1 else None, w_ih, w_hh,
                     b_ih, b_hh)


def lstm_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """One LSTM step with explicit weights (PyTorch's ``torch.lstm_cell``).

    ``i, f, g, o`` are the four blocks of ``input @ w_ih.T + b_ih + h @ w_hh.T + b_hh``;
    ``c' = sigmoid(f) * c + sigmoid(i) * tanh(g)`` and ``h' = sigmoid(o) * tanh(c')``.

    Parameters
    ----------
    input : Tensor
        ``(batch, input_size)``.
    hx : sequence of 2 Tensor
        ``(h, c)``, each ``(batch, hidden_size)``.
    w_ih : Tensor
        ``(4 * hidden_size, input_size)``.
    w_hh : Tensor
        ``(4 * hidden_size, hidden_size)``.
    b_ih, b_hh : Tensor, optional
        ``(4 * hidden_size,)``.

    Returns
    -------
    tuple of Tensor
        ``(h', c')``.

    Examples
    --------
    >>> import ember
    >>> w_ih, w_hh = ember.randn(8, 3), ember.randn(8, 2)
    >>> h, c = ember.lstm_cell(ember.randn(5, 3), (ember.zeros(5, 2), ember.zeros(5, 2)),
    ...                        w_ih, w_hh)
    >>> h.shape, c.shape
    (ember.Size([5, 2]), ember.Size([5, 2]))
    """
    states = tuple(hx)
    if len(states) != 2:
        raise RuntimeError("lstm_cell expects two hidden states")
    return _cell_form("LSTM", input, states, w_ih, w_hh, b_ih, b_hh)


def gru_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """One GRU step with explicit weights (PyTorch's ``torch.gru_cell``).

    With ``r, z, n`` the blocks of ``input @ w_ih.T + b_ih`` (``x_*``) and of
    ``hx @ w_hh.T + b_hh`` (``h_*``): ``r = sigmoid(x_r + h_r)``,
    ``z = sigmoid(x_z + h_z)``, ``n = tanh(x_n + r * h_n)``, ``h' = (1 - z) * n + z * hx``.

    Parameters
    ----------
    input : Tensor
        ``(batch, input_size)``.
    hx : Tensor
        ``(batch, hidden_size)``.
    w_ih : Tensor
        ``(3 * hidden_size, input_size)``.
    w_hh : Tensor
        ``(3 * hidden_size, hidden_size)``.
    b_ih, b_hh : Tensor, optional
        ``(3 * hidden_size,)``.

    Returns
    -------
    Tensor
        ``h'``.
    """
    return _cell_form("GRU", input, (hx,), w_ih, w_hh, b_ih, b_hh)[0]


def rnn_tanh_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """One Elman RNN step (PyTorch's ``torch.rnn_tanh_cell``):
    ``h' = tanh(input @ w_ih.T + b_ih + hx @ w_hh.T + b_hh)``.

    Parameters
    ----------
    input : Tensor
        ``(batch, input_size)``.
    hx : Tensor
        ``(batch, hidden_size)``.
    w_ih : Tensor
        ``(hidden_size, input_size)``.
    w_hh : Tensor
        ``(hidden_size, hidden_size)``.
    b_ih, b_hh : Tensor, optional
        ``(hidden_size,)``.

    Returns
    -------
    Tensor
        ``h'``.
    """
    return _cell_form("RNN_TANH", input, (hx,), w_ih, w_hh, b_ih, b_hh)[0]


def rnn_relu_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """One Elman RNN step with ReLU (PyTorch's ``torch.rnn_relu_cell``):
    ``h' = relu(input @ w_ih.T + b_ih + hx @ w_hh.T + b_hh)``.

    Parameters
    ----------
    input : Tensor
        ``(batch, input_size)``.
    hx : Tensor
        ``(batch, hidden_size)``.
    w_ih : Tensor
        ``(hidden_size, input_size)``.
    w_hh : Tensor
        ``(hidden_size, hidden_size)``.
    b_ih, b_hh : Tensor, optional
        ``(hidden_size,)``.

    Returns
    -------
    Tensor
        ``h'``.
    """
    return _cell_form("RNN_RELU", input, (hx,), w_ih, w_hh, b_ih, b_hh)[0]


def _padded_form(input, hx, params, has_biases, num_layers, dropout, train, bidirectional,
           batch_first):
    """The signature of the padded form (the packed one has ``data, batch_sizes``)."""


def _packed_form(data, batch_sizes, hx, params, has_biases, num_layers, dropout, train,
            bidirectional):
    """The signature of the packed-sequence form."""


_PADDED, _PACKED = inspect.signature(_padded_form), inspect.signature(_packed_form)


def _layers(mode, name, args, kwargs):
    """Bind either overload, check the arguments and run :func:`stacked_rnn`."""
    # the packed form has a Tensor where the padded one has hx (LSTM: a pair) or params
    probe = 1 if mode == "LSTM" else 2
    packed = "batch_sizes" in kwargs or "data" in kwargs or (
        len(args) > probe and isinstance(args[probe], ember.Tensor))
    bound = (_PACKED if packed else _PADDED).bind(*args, **kwargs).arguments
    x = bound["data"] if packed else bound["input"]
    hx, params = bound["hx"], list(bound["params"])
    num_layers, bidirectional = int(bound["num_layers"]), bool(bound["bidirectional"])
    if mode == "LSTM":
        hx = tuple(hx)
        if len(hx) != 2:
            raise RuntimeError("lstm expects two hidden states")
        h0, c0 = hx
    else:
        h0, c0 = hx, None
    directions = 2 if bidirectional else 1
    # an LSTM's projection shows as a hidden state narrower than the cell state
    projected = c0 is not None and h0.dim() == 3 and c0.dim() == 3 and h0.shape[2] != c0.shape[2]
    per = 2 + 2 * bool(bound["has_biases"]) + projected
    if num_layers < 1 or len(params) != num_layers * directions * per:
        raise RuntimeError(f"{name}: expected {per} parameters per layer and direction for "
                           f"{num_layers} layer(s) and {directions} direction(s), got "
                           f"{len(params)}")
    weights = []
    for k in range(num_layers * directions):
        group = params[k * per:(k + 1) * per]
        biases = group[2:4] if bound["has_biases"] else (None, None)
        weights.append((group[0], group[1], biases[0], biases[1],
                        group[-1] if projected else None))
    if packed:
        batch_sizes = bound["batch_sizes"]
        if x.dim() != 2:
            raise RuntimeError(f"{name}: packed data must have 2 dimensions, got {x.dim()}")
        batch, rows = int(batch_sizes[0]), x
    else:
        if x.dim() != 3:
            raise RuntimeError(f"{name}: expected a 3-D input, got {x.dim()}-D")
        time_major = x.transpose(0, 1) if bound["batch_first"] else x
        steps, batch = time_major.shape[0], time_major.shape[1]
        if steps == 0:
            raise RuntimeError("Expected sequence length to be larger than 0 in RNN")
        rows = time_major.reshape(steps * batch, x.shape[2])
        batch_sizes = ember.full((steps,), batch, dtype=ember.int64)
    hidden = weights[0][1].shape[1] if weights[0][1].dim() == 2 else -1
    for what, state, size in (("hx", h0, hidden), ("cx", c0, None)):
        if state is None:
            continue
        want = (num_layers * directions, batch, size or state.shape[-1])
        if tuple(state.shape) != want:
            raise RuntimeError(f"{name}: expected {what} of shape {want}, got "
                               f"{tuple(state.shape)}")
    out, h_n, c_n = stacked_rnn(mode, rows, batch_sizes, h0, c0, weights, num_layers,
                                bidirectional, float(bound["dropout"]), bool(bound["train"]))
    if not packed:
        out = out.reshape(steps, batch, out.shape[-1])
        if bound["batch_first"]:
            out = out.transpose(0, 1)
    return (out, h_n, c_n) if mode == "LSTM" else (out, h_n)


_LAYER_DOC = """{title} (PyTorch's ``torch.{name}``), with the weights given as a list.

    Two forms, as in PyTorch: ``{name}(input, hx, params, has_biases, num_layers, dropout,
    train, bidirectional, batch_first)`` over a padded ``(L, N, H_in)`` input
    (``(N, L, H_in)`` with ``batch_first``), and ``{name}(data, batch_sizes, hx, params,
    has_biases, num_layers, dropout, train, bidirectional)`` over the rows and batch sizes
    of a packed sequence (see :func:`ember.nn.utils.rnn.pack_padded_sequence`).

    Parameters
    ----------
    input : Tensor
        The padded input (first form).
    data, batch_sizes : Tensor
        The packed input: ``(sum(batch_sizes), H_in)`` rows, and the int64 number of rows
        of each time step (second form).
    hx : {hx_type}
        {hx_doc}
    params : sequence of Tensor
        Per layer, then per direction (forward, reverse): ``w_ih, w_hh``, then
        ``b_ih, b_hh`` if ``has_biases``{proj}, in the gate order of :class:`ember.nn.{cls}`.
    has_biases : bool
    num_layers : int
    dropout : float
        Dropout probability on the outputs of every layer but the last.
    train : bool
        Whether dropout applies.
    bidirectional : bool
    batch_first : bool
        First form only.

    Returns
    -------
    tuple of Tensor
        {returns}
    """


def _layer_form(mode, cls, title, hx_type, hx_doc, proj, returns, example=""):
    name = mode.lower()

    def fn(*args, **kwargs):
        return _layers(mode, name, args, kwargs)
    fn.__name__ = fn.__qualname__ = name
    fn.__module__ = __name__
    fn.__signature__ = _PADDED
    fn.__doc__ = _LAYER_DOC.format(title=title, name=name, hx_type=hx_type, hx_doc=hx_doc,
                                   proj=proj, cls=cls, returns=returns) + example
    return fn


_HX = "``(num_layers * num_directions, N, hidden_size)``: the initial hidden states."
lstm = _layer_form(
    "LSTM", "LSTM", "A multi-layer LSTM", "sequence of 2 Tensor",
    "``(h_0, c_0)``, each ``(num_layers * num_directions, N, hidden_size)`` (``h_0``\n"
    "        ``(..., proj_size)`` with projections).",
    ", then ``w_hr`` when ``h_0`` is narrower than ``c_0`` (projections)",
    "``(output, h_n, c_n)``.", """
    Examples
    --------
    >>> import ember
    >>> lstm = ember.nn.LSTM(3, 4, num_layers=2)
    >>> x, h0, c0 = ember.randn(6, 2, 3), ember.zeros(2, 2, 4), ember.zeros(2, 2, 4)
    >>> out, h, c = ember.lstm(x, (h0, c0), list(lstm.parameters()), True, 2, 0.0, False,
    ...                        False, False)
    >>> bool((out == lstm(x, (h0, c0))[0]).all())
    True
    """)
gru = _layer_form("GRU", "GRU", "A multi-layer GRU", "Tensor", _HX, "",
                  "``(output, h_n)``.")
rnn_tanh = _layer_form("RNN_TANH", "RNN", "A multi-layer Elman RNN with tanh", "Tensor", _HX,
                       "", "``(output, h_n)``.")
rnn_relu = _layer_form("RNN_RELU", "RNN", "A multi-layer Elman RNN with ReLU", "Tensor", _HX,
                       "", "``(output, h_n)``.")
