"""SyncBatchNorm in one process (no process group): batch norm, as torch's; conversion.
The synchronised statistics are tested on 2 ranks in tests/distributed/ranks."""
import numpy as np
import pytest
import torch

import ember
from ember import nn


def test_without_a_process_group_it_matches_torch():
    data = np.random.default_rng(0).standard_normal((4, 3, 5))
    e, t = nn.SyncBatchNorm(3, dtype=ember.float64), torch.nn.SyncBatchNorm(3).double()
    xe, xt = ember.tensor(data, requires_grad=True), torch.tensor(data, requires_grad=True)
    for mode in ("train", "eval"):
        getattr(e, mode)(), getattr(t, mode)()
        ye, yt = e(xe), t(xt)
        np.testing.assert_allclose(ye.detach().numpy(), yt.detach().numpy(), rtol=1e-10)
    (ye * ye).sum().backward()
    (yt * yt).sum().backward()
    np.testing.assert_allclose(xe.grad.numpy(), xt.grad.numpy(), rtol=1e-8, atol=1e-10)
    for name in ("running_mean", "running_var"):
        np.testing.assert_allclose(getattr(e, name).numpy(), getattr(t, name).numpy())
    with pytest.raises(ValueError, match="expected at least 2D input"):
        e(ember.zeros(3))


def test_convert_keeps_parameters_buffers_and_mode_like_torch():
    def build(lib):
        lib.manual_seed(0)
        return lib.nn.Sequential(lib.nn.Conv2d(1, 2, 3), lib.nn.BatchNorm2d(2),
                                 lib.nn.Sequential(lib.nn.BatchNorm1d(4, affine=False)))
    e = build(ember)
    e[1].eval()
    bn_weight = e[1].weight
    converted = nn.SyncBatchNorm.convert_sync_batchnorm(e)
    t = torch.nn.SyncBatchNorm.convert_sync_batchnorm(build(torch))
    assert [type(m).__name__ for m in converted.modules()] == \
        [type(m).__name__ for m in t.modules()]
    assert converted[1].weight is bn_weight and not converted[1].training
    assert converted[2][0].weight is None and converted[2][0].track_running_stats
    assert list(converted.state_dict()) == list(t.state_dict())
    assert nn.SyncBatchNorm.convert_sync_batchnorm(converted[1]) is converted[1]
