"""Recurrent layers: ``RNN``, ``LSTM``, ``GRU`` and their one-step cells.

Names, arguments, parameter names and shapes, initialisation and input
conventions follow PyTorch's ``torch.nn.RNN``/``LSTM``/``GRU``.  The recurrence
runs on fused cell kernels (see ``ember.ops.rnn``).
"""
import math
import numbers
import warnings

import ember
from ember.nn import init
from ember.nn._functional.rnn import cell_step, stacked_rnn
from ember.nn.parameter import Parameter
from ember.nn.modules.module import Module
from ember.nn.utils.rnn import PackedSequence

__all__ = ["RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


def _check_sizes(input_size, hidden_size):
    if not isinstance(input_size, int):
        raise TypeError(f"input_size should be of type int, got: {type(input_size).__name__}")
    if input_size <= 0:
        raise ValueError("input_size must be greater than zero")
    if not isinstance(hidden_size, int):
        raise TypeError(f"hidden_size should be of type int, got: {type(hidden_size).__name__}")
    if hidden_size <= 0:
        raise ValueError("hidden_size must be greater than zero")


def _no_projection(kwargs):
    """Reject ``proj_size`` (LSTM only) and unknown keywords as PyTorch does."""
    if "proj_size" in kwargs:
        raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
    if kwargs:
        raise TypeError(f"__init__() got an unexpected keyword argument '{next(iter(kwargs))}'")


class RNNBase(Module):
    """Base class of the multi-layer recurrent layers (see :class:`RNN`, :class:`LSTM`,
    :class:`GRU` for the arguments).

    Parameters
    ----------
    mode : str
        ``'RNN_TANH'``, ``'RNN_RELU'``, ``'LSTM'`` or ``'GRU'``.
    input_size, hidden_size : int
        Features of the input and of the hidden state.
    num_layers : int, default 1
    bias : bool, default True
    batch_first : bool, default False
    dropout : float, default 0.0
    bidirectional : bool, default False
    proj_size : int, default 0
    device, dtype : optional
    """

    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True,
                 batch_first=False, dropout=0.0, bidirectional=False, proj_size=0,
                 device=None, dtype=None):
        super().__init__()
        if (not isinstance(dropout, numbers.Number) or isinstance(dropout, bool)
                or not 0 <= dropout <= 1):
            raise ValueError("dropout should be a number in range [0, 1] representing the "
                             "probability of an element being zeroed")
        if dropout > 0 and num_layers == 1:
            warnings.warn("dropout option adds dropout after all but last recurrent layer, so "
                          "non-zero dropout expects num_layers greater than 1, but got "
                          f"dropout={dropout} and num_layers={num_layers}", stacklevel=2)
        if not isinstance(bias, bool):
            raise TypeError(f"bias should be of type bool, got: {type(bias).__name__}")
        if not isinstance(batch_first, bool):
            raise TypeError(
                f"batch_first should be of type bool, got: {type(batch_first).__name__}")
        _check_sizes(input_size, hidden_size)
        if num_layers <= 0:
            raise ValueError("num_layers must be greater than zero")
        if proj_size < 0:
            raise ValueError("proj_size should be a positive integer or zero to disable "
                             "projections")
        if proj_size >= hidden_size:
            raise ValueError("proj_size has to be smaller than hidden_size")
        if mode not in _GATES:
            raise ValueError("Unrecognized RNN mode: " + mode)
        if proj_size and mode != "LSTM":
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.proj_size = proj_size
        directions = 2 if bidirectional else 1
        gate_size = _GATES[mode] * hidden_size
        real_hidden = proj_size if proj_size > 0 else hidden_size
        self._flat_weights_names = []
        self._all_weights = []
        for layer in range(num_layers):
            layer_input = input_size if layer == 0 else real_hidden * directions
            for direction in range(directions):
                suffix = "_reverse" if direction == 1 else ""
                shapes = [("weight_ih", (gate_size, layer_input)),
                          ("weight_hh", (gate_size, real_hidden))]
                if bias:
                    shapes += [("bias_ih", (gate_size,)), ("bias_hh", (gate_size,))]
                if proj_size > 0:
                    shapes.append(("weight_hr", (proj_size, hidden_size)))
                names = []
                for stem, shape in shapes:
                    name = f"{stem}_l{layer}{suffix}"
                    setattr(self, name, Parameter(ember.empty(shape, device=device,
                                                              dtype=dtype)))
                    names.append(name)
                self._flat_weights_names.extend(names)
                self._all_weights.append(names)
        self.reset_parameters()

    @property
    def _flat_weights(self):
        return [getattr(self, name) for name in self._flat_weights_names]

    @property
    def all_weights(self):
        """The parameters of each layer and direction, as lists."""
        return [[getattr(self, name) for name in names] for names in self._all_weights]

    def flatten_parameters(self):
        """Accepted for compatibility: ember's parameters need no flat buffer."""

    def reset_parameters(self):
        """Initialise every parameter from ``U(-1/sqrt(hidden_size), 1/sqrt(hidden_size))``."""
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    def extra_repr(self):
        s = "{input_size}, {hidden_size}"
        if self.proj_size != 0:
            s += ", proj_size={proj_size}"
        if self.num_layers != 1:
            s += ", num_layers={num_layers}"
        if self.bias is not True:
            s += ", bias={bias}"
        if self.batch_first is not False:
            s += ", batch_first={batch_first}"
        if self.dropout != 0:
            s += ", dropout={dropout}"
        if self.bidirectional is not False:
            s += ", bidirectional={bidirectional}"
        return s.format(**self.__dict__)

    def _layer_weights(self):
        per = []
        for names in self._all_weights:
            got = {name.split("_l")[0]: getattr(self, name) for name in names}
            per.append((got["weight_ih"], got["weight_hh"], got.get("bias_ih"),
                        got.get("bias_hh"), got.get("weight_hr")))
        return per

    def _run(self, input, hx, cx):
        """Shared forward of RNN/LSTM/GRU; returns (output, h_n, c_n)."""
        name = type(self).__name__
        packed = isinstance(input, PackedSequence)
        weight = self._flat_weights[0]
        directions = 2 if self.bidirectional else 1
        real_hidden = self.proj_size if self.proj_size > 0 else self.hidden_size
        if packed:
            data, batch_sizes = input.data, input.batch_sizes
            sorted_indices, unsorted_indices = input.sorted_indices, input.unsorted_indices
            batch, is_batched = int(batch_sizes[0]), True
            if data.dim() != 2:
                raise RuntimeError(f"input must have 2 dimensions, got {data.dim()}")
        else:
            if input.dim() not in (2, 3):
                raise ValueError(f"{name}: Expected input to be 2D or 3D, got {input.dim()}D "
                                 "tensor instead" if name != "LSTM" else
                                 f"LSTM: Expected input to be 2D or 3D, got {input.dim()}D "
                                 "instead")
            is_batched = input.dim() == 3
            if not is_batched:
                input = input.unsqueeze(0 if self.batch_first else 1)
            sorted_indices = unsorted_indices = None
            batch = input.shape[0] if self.batch_first else input.shape[1]
            data = input
        if data.dtype != weight.dtype:
            raise ValueError(f"RNN input dtype ({data.dtype}) does not match weight dtype "
                             f"({weight.dtype}). Convert input: input.to({weight.dtype}), or "
                             f"convert model: model.to({data.dtype})")
        if data.shape[-1] != self.input_size:
            raise RuntimeError(f"input.size(-1) must be equal to input_size. Expected "
                               f"{self.input_size}, got {data.shape[-1]}")
        states = [hx] if cx is None and self.mode != "LSTM" else [hx, cx]
        if hx is not None:
            want = 3 if is_batched else 2
            if any(s.dim() != want for s in states):
                dims = ", ".join(f"{s.dim()}-D" for s in states)
                what = "hx and cx" if self.mode == "LSTM" else "hx"
                kind = "batched 3-D" if is_batched else "unbatched 2-D"
                dims = f"({dims}) tensors" if self.mode == "LSTM" else f"{dims} tensor"
                raise RuntimeError(f"For {kind} input, {what} should also be {want}-D but got "
                                   f"{dims}")
            if not is_batched:
                states = [s.unsqueeze(1) for s in states]
            if sorted_indices is not None:
                states = [s.index_select(1, sorted_indices) for s in states]
        shape_h = (self.num_layers * directions, batch, real_hidden)
        shape_c = (self.num_layers * directions, batch, self.hidden_size)
        if hx is None:
            states = [ember.zeros(shape_h, dtype=data.dtype, device=data.device)]
            if self.mode == "LSTM":
                states.append(ember.zeros(shape_c, dtype=data.dtype, device=data.device))
        for k, (s, shape) in enumerate(zip(states, (shape_h, shape_c))):
            if tuple(s.shape) != shape:
                label = f"hidden[{k}] size" if self.mode == "LSTM" else "hidden size"
                raise RuntimeError(f"Expected {label} {shape}, got {list(s.shape)}")
        if packed:
            rows = data
        else:
            steps = data.shape[1] if self.batch_first else data.shape[0]
            if steps == 0:
                raise RuntimeError(f"{name}: expected a sequence of at least one step, got 0")
            time_major = data.transpose(0, 1) if self.batch_first else data
            rows = time_major.reshape(steps * batch, self.input_size)
            batch_sizes = ember.full((steps,), batch, dtype=ember.int64)
        out, h_n, c_n = stacked_rnn(
            self.mode, rows.contiguous(), batch_sizes, states[0].contiguous(),
            states[1].contiguous() if self.mode == "LSTM" else None, self._layer_weights(),
            self.num_layers, self.bidirectional, self.dropout, self.training)
        finals = [h_n] if c_n is None else [h_n, c_n]
        if packed:
            if unsorted_indices is not None:
                finals = [f.index_select(1, unsorted_indices) for f in finals]
            output = PackedSequence(out, batch_sizes, sorted_indices, unsorted_indices)
        else:
            output = out.reshape(steps, batch, out.shape[-1])
            if self.batch_first:
                output = output.transpose(0, 1)
            if not is_batched:
                output = output.squeeze(0 if self.batch_first else 1)
                finals = [f.squeeze(1) for f in finals]
        return output, finals


class RNN(RNNBase):
    """Multi-layer Elman RNN: ``h_t = act(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)``.

    Parameters
    ----------
    input_size : int
        Features of the input ``x``.
    hidden_size : int
        Features of the hidden state ``h``.
    num_layers : int, default 1
        Stacked recurrent layers.
    nonlinearity : {'tanh', 'relu'}, default 'tanh'
    bias : bool, default True
        Whether the layers have ``b_ih`` and ``b_hh``.
    batch_first : bool, default False
        Inputs and outputs are ``(batch, seq, feature)`` instead of ``(seq, batch,
        feature)`` (the hidden states are not affected).
    dropout : float, default 0.0
        Dropout probability on the outputs of each layer but the last (training only).
    bidirectional : bool, default False
    device, dtype : optional

    Notes
    -----
    ``forward(input, hx=None)`` takes ``(L, N, H_in)`` (``(N, L, H_in)`` with
    ``batch_first``), an unbatched ``(L, H_in)`` or a :class:`PackedSequence`, and
    ``hx`` of shape ``(D * num_layers, N, H_out)``; it returns ``(output, h_n)``.

    Examples
    --------
    >>> import ember
    >>> from ember import nn
    >>> rnn = nn.RNN(10, 20, 2)
    >>> output, hn = rnn(ember.randn(5, 3, 10), ember.randn(2, 3, 20))
    >>> output.shape, hn.shape
    (ember.Size([5, 3, 20]), ember.Size([2, 3, 20]))
    """

    def __init__(self, input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True,
                 batch_first=False, dropout=0.0, bidirectional=False, device=None, dtype=None,
                 **kwargs):
        _no_projection(kwargs)
        if nonlinearity == "tanh":
            mode = "RNN_TANH"
        elif nonlinearity == "relu":
            mode = "RNN_RELU"
        else:
            raise ValueError(f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or "
                             "'relu'.")
        self.nonlinearity = nonlinearity
        super().__init__(mode, input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, 0, device, dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):
        """Run the layers; returns ``(output, h_n)``."""
        output, finals = self._run(input, hx, None)
        return output, finals[0]


class LSTM(RNNBase):
    """Multi-layer long short-term memory RNN.

    Per step: ``i, f, g, o = split(x W_ih^T + b_ih + h W_hh^T + b_hh)`` (gates in that
    order), ``c = sigmoid(f) * c + sigmoid(i) * tanh(g)``, ``h = sigmoid(o) * tanh(c)``,
    and with ``proj_size > 0``, ``h = h W_hr^T``.

    Parameters
    ----------
    input_size, hidden_size : int
        Features of the input and of the hidden (cell) state.
    num_layers : int, default 1
    bias : bool, default True
    batch_first : bool, default False
    dropout : float, default 0.0
        Dropout probability on the outputs of each layer but the last (training only).
    bidirectional : bool, default False
    proj_size : int, default 0
        When positive, ``h`` is projected to this size by ``weight_hr_l{k}``.
    device, dtype : optional

    Notes
    -----
    ``forward(input, hx=None)`` takes ``hx = (h_0, c_0)`` and returns
    ``(output, (h_n, c_n))``.

    Examples
    --------
    >>> import ember
    >>> from ember import nn
    >>> lstm = nn.LSTM(10, 20, 2)
    >>> output, (hn, cn) = lstm(ember.randn(5, 3, 10))
    >>> output.shape, hn.shape, cn.shape
    (ember.Size([5, 3, 20]), ember.Size([2, 3, 20]), ember.Size([2, 3, 20]))
    """

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, proj_size=0, device=None, dtype=None):
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first,
                         dropout, bidirectional, proj_size, device, dtype)

    def forward(self, input, hx=None):
        """Run the layers; returns ``(output, (h_n, c_n))``."""
        h0, c0 = (None, None) if hx is None else hx
        output, finals = self._run(input, h0, c0)
        return output, (finals[0], finals[1])


class GRU(RNNBase):
    """Multi-layer gated recurrent unit RNN.

    Per step: ``r = sigmoid(x_r + h_r)``, ``z = sigmoid(x_z + h_z)``,
    ``n = tanh(x_n + r * h_n)``, ``h = (1 - z) * n + z * h`` where ``x_*`` are blocks
    of ``x W_ih^T + b_ih`` and ``h_*`` of ``h W_hh^T + b_hh``.

    Parameters
    ----------
    input_size, hidden_size : int
    num_layers : int, default 1
    bias : bool, default True
    batch_first : bool, default False
    dropout : float, default 0.0
    bidirectional : bool, default False
    device, dtype : optional

    Examples
    --------
    >>> import ember
    >>> from ember import nn
    >>> gru = nn.GRU(10, 20, 2, batch_first=True)
    >>> output, hn = gru(ember.randn(3, 5, 10))
    >>> output.shape, hn.shape
    (ember.Size([3, 5, 20]), ember.Size([2, 3, 20]))
    """

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, device=None, dtype=None, **kwargs):
        _no_projection(kwargs)
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first,
                         dropout, bidirectional, 0, device, dtype)

    def forward(self, input, hx=None):
        """Run the layers; returns ``(output, h_n)``."""
        output, finals = self._run(input, hx, None)
        return output, finals[0]


# ---------------------------------------------------------------- cells

class RNNCellBase(Module):
    """Base class of the one-step cells: ``weight_ih``, ``weight_hh``, ``bias_ih``,
    ``bias_hh`` for ``num_chunks`` gate blocks.

    Parameters
    ----------
    input_size, hidden_size : int
    bias : bool
    num_chunks : int
        Gate blocks: 1 (Elman), 4 (LSTM), 3 (GRU).
    device, dtype : optional
    """

    def __init__(self, input_size, hidden_size, bias, num_chunks, device=None, dtype=None):
        super().__init__()
        _check_sizes(input_size, hidden_size)
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        self.weight_ih = Parameter(ember.empty((num_chunks * hidden_size, input_size),
                                               device=device, dtype=dtype))
        self.weight_hh = Parameter(ember.empty((num_chunks * hidden_size, hidden_size),
                                               device=device, dtype=dtype))
        if bias:
            self.bias_ih = Parameter(ember.empty(num_chunks * hidden_size, device=device,
                                                 dtype=dtype))
            self.bias_hh = Parameter(ember.empty(num_chunks * hidden_size, device=device,
                                                 dtype=dtype))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def extra_repr(self):
        s = "{input_size}, {hidden_size}"
        if "bias" in self.__dict__ and self.bias is not True:
            s += ", bias={bias}"
        if "nonlinearity" in self.__dict__ and self.nonlinearity != "tanh":
            s += ", nonlinearity={nonlinearity}"
        return s.format(**self.__dict__)

    def reset_parameters(self):
        """Initialise every parameter from ``U(-1/sqrt(hidden_size), 1/sqrt(hidden_size))``."""
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    def _step(self, mode, input, states):
        name = type(self).__name__
        if input.dim() not in (1, 2):
            raise ValueError(f"{name}: Expected input to be 1D or 2D, got {input.dim()}D "
                             "instead")
        for s in states:
            if s is not None and s.dim() not in (1, 2):
                raise ValueError(f"{name}: Expected hidden to be 1D or 2D, got {s.dim()}D "
                                 "instead")
        batched = input.dim() == 2
        if not batched:
            input = input.unsqueeze(0)
        if input.shape[1] != self.input_size:
            raise RuntimeError(f"input has inconsistent input_size: got {input.shape[1]} "
                               f"expected {self.input_size}")
        batch = input.shape[0]
        full = []
        for s in states:
            if s is None:
                s = ember.zeros((batch, self.hidden_size), dtype=input.dtype,
                                device=input.device)
            elif not batched:
                s = s.unsqueeze(0)
            if tuple(s.shape) != (batch, self.hidden_size):
                raise RuntimeError(f"Expected hidden size {(batch, self.hidden_size)}, got "
                                   f"{list(s.shape)}")
            full.append(s.contiguous())
        h, c = cell_step(mode, input, full[0], full[1] if len(full) > 1 else None,
                         self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)
        if not batched:
            h = h.squeeze(0)
            c = None if c is None else c.squeeze(0)
        return h, c


class RNNCell(RNNCellBase):
    """One step of an Elman RNN: ``h' = act(x W_ih^T + b_ih + h W_hh^T + b_hh)``.

    Parameters
    ----------
    input_size, hidden_size : int
    bias : bool, default True
    nonlinearity : {'tanh', 'relu'}, default 'tanh'
    device, dtype : optional

    Examples
    --------
    >>> import ember
    >>> from ember import nn
    >>> cell = nn.RNNCell(10, 20)
    >>> cell(ember.randn(3, 10)).shape
    ember.Size([3, 20])
    """

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", device=None,
                 dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=1, device=device,
                         dtype=dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):
        """One step; returns ``h'``."""
        if self.nonlinearity not in ("tanh", "relu"):
            raise RuntimeError(f"Unknown nonlinearity: {self.nonlinearity}")
        mode = "RNN_TANH" if self.nonlinearity == "tanh" else "RNN_RELU"
        return self._step(mode, input, [hx])[0]


class LSTMCell(RNNCellBase):
    """One step of an LSTM; ``forward(input, (h, c))`` returns ``(h', c')``.

    Parameters
    ----------
    input_size, hidden_size : int
    bias : bool, default True
    device, dtype : optional

    Examples
    --------
    >>> import ember
    >>> from ember import nn
    >>> cell = nn.LSTMCell(10, 20)
    >>> h, c = cell(ember.randn(3, 10))
    >>> h.shape, c.shape
    (ember.Size([3, 20]), ember.Size([3, 20]))
    """

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=4, device=device,
                         dtype=dtype)

    def forward(self, input, hx=None):
        """One step; returns ``(h', c')``."""
        h0, c0 = (None, None) if hx is None else hx
        return self._step("LSTM", input, [h0, c0])


class GRUCell(RNNCellBase):
    """One step of a GRU; ``forward(input, h)`` returns ``h'``.

    Parameters
    ----------
    input_size, hidden_size : int
    bias : bool, default True
    device, dtype : optional

    Examples
    --------
    >>> import ember
    >>> from ember import nn
    >>> nn.GRUCell(10, 20)(ember.randn(3, 10)).shape
    ember.Size([3, 20])
    """

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=3, device=device,
                         dtype=dtype)

    def forward(self, input, hx=None):
        """One step; returns ``h'``."""
        return self._step("GRU", input, [hx])[0]
