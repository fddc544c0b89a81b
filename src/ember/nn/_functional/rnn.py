"""The stacked, optionally bidirectional recurrence behind ``nn.RNN``, ``nn.LSTM`` and
``nn.GRU`` (PyTorch has no public functional form of these layers).

Every layer and direction makes one GEMM for the input projection of all time steps
and hands the recurrence to the fused op ``ember.ops.rnn.rnn_layer``.
"""
import ember
from ember.ops.rnn import MODES, rnn_layer

__all__ = []


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
    x = data
    h_last, c_last = [], []
    for layer in range(num_layers):
        outs = []
        for direction in range(directions):
            k = layer * directions + direction
            w_ih, w_hh, b_ih, b_hh, w_hr = weights[k]
            gx = ember.addmm(b_ih, x, w_ih.t()) if b_ih is not None else x.mm(w_ih.t())
            out, h_n, c_n = rnn_layer(code, gx, hx[k], None if cx is None else cx[k],
                                      w_hh.contiguous(), b_hh, w_hr, batch_sizes,
                                      direction == 1)
            outs.append(out)
            h_last.append(h_n)
            c_last.append(c_n)
        x = outs[0] if directions == 1 else ember.cat(outs, 1)
        if dropout > 0 and training and layer < num_layers - 1:
            x = ember.nn.functional.dropout(x, dropout, training=True)
    return x, ember.stack(h_last), None if cx is None else ember.stack(c_last)
