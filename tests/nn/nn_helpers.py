"""Shared helpers of the nn tests: copy torch weights into ember modules and compare."""
import numpy as np

import ember


def to_ember(t, requires_grad=False):
    """An ember tensor with the values of the torch tensor ``t``."""
    out = ember.from_numpy(t.detach().cpu().numpy().copy())
    return out.requires_grad_(requires_grad) if requires_grad else out


def copy_weights(torch_module, ember_module):
    """Copy every parameter and buffer of ``torch_module`` into ``ember_module``."""
    state = {k: to_ember(v) for k, v in torch_module.state_dict().items()}
    ember_module.load_state_dict(state)


def assert_close(ember_tensor, torch_tensor, rtol=1e-5, atol=1e-6):
    np.testing.assert_allclose(np.asarray(ember_tensor.detach()),
                               torch_tensor.detach().numpy(), rtol=rtol, atol=atol)


def ember_repr(text):
    """A torch repr with torch's names replaced by ember's."""
    return text.replace("torch.", "ember.")


def same(a, b):
    """Whether two ember tensors have equal shapes and values."""
    return tuple(a.shape) == tuple(b.shape) and np.array_equal(np.asarray(a.detach()),
                                                              np.asarray(b.detach()))
