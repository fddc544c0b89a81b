"""PyTorch's deprecated ``torch.nn.utils.stateless``: :func:`functional_call`, now
:func:`ember.func.functional_call`."""
import warnings

__all__ = ["functional_call"]


def functional_call(module, parameters_and_buffers, args=None, kwargs=None, *,
                    tie_weights=True, strict=False):
    """Call ``module`` with ``parameters_and_buffers`` in place of its own tensors
    (deprecated, as in PyTorch: use :func:`ember.func.functional_call`, which this calls
    after a FutureWarning).

    Parameters
    ----------
    module : ember.nn.Module
    parameters_and_buffers : dict of str to Tensor
    args, kwargs : optional
        Positional and keyword arguments of the call.
    tie_weights, strict : bool, optional
        As for :func:`ember.func.functional_call`.

    Returns
    -------
    What ``module`` returns.
    """
    warnings.warn("`ember.nn.utils.stateless.functional_call` is deprecated (as in PyTorch "
                  "2.0); use `ember.func.functional_call`, a drop-in replacement.",
                  FutureWarning, stacklevel=2)
    from ember.func import functional_call as call
    return call(module, parameters_and_buffers, args, kwargs, tie_weights=tie_weights,
                strict=strict)
