"""Recurrent layers, joining and the CTC loss on the GPU against the CPU: LSTM (with a
projection), GRU and Elman RNNs run the recurrence with device ops (the fused cell
kernels are host-only), packed sequences included; cat/stack copy through the backend;
ctc_loss runs its device kernels (test_gpu_ctc.py checks them further).  Marked gpu:
skipped, with the reason, where CuPy or a GPU is missing."""
import numpy as np
import pytest

import ember
import ember.nn.functional as F
from ember import nn

pytestmark = pytest.mark.gpu


def close(got, want, tol=1e-10):
    assert got.device.type == "cuda"
    np.testing.assert_allclose(got.detach().cpu().numpy(), want.detach().numpy(), rtol=tol,
                               atol=tol)


@pytest.mark.parametrize("make", [
    lambda: nn.LSTM(3, 4, num_layers=2, bidirectional=True),
    lambda: nn.LSTM(3, 5, proj_size=2, batch_first=True),
    lambda: nn.GRU(3, 4, num_layers=2),
    lambda: nn.RNN(3, 4, nonlinearity="relu"),
], ids=["lstm-bidirectional", "lstm-proj", "gru", "rnn-relu"])
def test_recurrent_layers_match_the_cpu(make):
    ember.manual_seed(0)
    cpu = make().double()
    gpu = make().double()
    gpu.load_state_dict(cpu.state_dict())
    gpu.cuda()
    x = ember.randn(5, 2, 3, dtype=ember.float64, requires_grad=True)
    xg = x.detach().cuda().requires_grad_()
    out, _ = cpu(x)
    outg, _ = gpu(xg)
    close(outg, out.detach())
    out.square().sum().backward()
    outg.square().sum().backward()
    close(xg.grad, x.grad)
    for (name, p), pg in zip(cpu.named_parameters(), gpu.parameters()):
        close(pg.grad, p.grad)


def test_packed_sequence_on_the_gpu():
    ember.manual_seed(1)
    lstm = nn.LSTM(3, 4).double()
    x = ember.randn(6, 3, 3, dtype=ember.float64)
    lengths = [6, 4, 2]
    out, (h, c) = lstm(nn.utils.rnn.pack_padded_sequence(x, lengths))
    lstm.cuda()
    outg, (hg, cg) = lstm(nn.utils.rnn.pack_padded_sequence(x.cuda(), lengths))
    close(outg.data, out.data.detach())
    close(hg, h.detach())
    close(cg, c.detach())


def test_cat_and_stack_on_the_gpu():
    a, b = ember.randn(2, 3), ember.randn(4, 3).double()
    close(ember.cat([a.cuda(), b.cuda()]), ember.cat([a, b]), 1e-6)
    close(ember.stack([a.cuda(), a.cuda() * 2], 1), ember.stack([a, a * 2], 1), 1e-6)
    with pytest.raises(RuntimeError, match="same device"):
        ember.cat([a.cuda(), a])


def test_ctc_loss_on_the_gpu():
    ember.manual_seed(2)
    logits = ember.randn(12, 2, 5, dtype=ember.float64, requires_grad=True)
    targets = ember.tensor([[1, 2, 2], [3, 1, 0]])
    args = (ember.tensor([12, 10]), ember.tensor([3, 2]))
    loss = F.ctc_loss(logits.log_softmax(2), targets, *args)
    lg = logits.detach().cuda().requires_grad_()
    loss_g = F.ctc_loss(lg.log_softmax(2), targets.cuda(), *[a.cuda() for a in args])
    close(loss_g, loss.detach())
    loss.backward()
    loss_g.backward()
    close(lg.grad, logits.grad)
