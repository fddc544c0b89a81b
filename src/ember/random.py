"""``ember.random``: the default generator's seed and state, as ``torch.random``.

The functions are the top-level ones (``ember.manual_seed`` is
``ember.random.manual_seed``); :func:`fork_rng` adds a context manager that puts
the CPU generator (and the CUDA ones, when a GPU is used) back as they were.

Examples
--------
>>> import ember
>>> _ = ember.random.manual_seed(0)
>>> with ember.random.fork_rng():
...     a = ember.rand(2)
>>> bool((ember.rand(2) == a).all())
True
"""
import contextlib
import warnings

from ember._core._random import (default_generator, manual_seed, seed, initial_seed,
                                 get_rng_state, set_rng_state)

__all__ = ["set_rng_state", "get_rng_state", "manual_seed", "seed", "initial_seed", "fork_rng",
           "default_generator"]

_fork_rng_warned_already = False


def _cuda_device_count():
    from ember import cuda
    return cuda.device_count() if cuda.is_available() else 0


@contextlib.contextmanager
def fork_rng(devices=None, enabled=True, _caller="fork_rng", _devices_kw="devices",
             device_type=None):
    """Fork the random number generators: on exit they are back in the state they had
    on entry.

    Parameters
    ----------
    devices : iterable of int, optional
        CUDA devices whose generators to fork as well (the CPU one is always forked).
        By default every visible GPU (none without CuPy or a GPU), with a warning when
        there are several.
    enabled : bool, default True
        False makes the context manager do nothing.
    device_type : str, optional
        ``'cuda'`` (the default: ember's only accelerator) or ``'meta'`` (nothing
        to fork).

    Examples
    --------
    >>> import ember
    >>> _ = ember.manual_seed(1)
    >>> with ember.random.fork_rng():
    ...     _ = ember.randn(3)          # draws that do not advance the outer stream
    >>> a = ember.randn(3)
    >>> _ = ember.manual_seed(1)
    >>> bool((ember.randn(3) == a).all())
    True
    """
    global _fork_rng_warned_already
    if device_type == "meta":
        yield
        return
    device_type = device_type or "cuda"
    if device_type != "cuda":
        raise RuntimeError(f"ember has no module of `{device_type}`: fork_rng forks the CPU "
                           "and 'cuda' generators")
    if not enabled:
        yield
        return
    if devices is None:
        num_devices = _cuda_device_count()
        if num_devices > 1 and not _fork_rng_warned_already:
            warnings.warn(
                f"CUDA reports that you have {num_devices} available devices, and you have used "
                f"{_caller} without explicitly specifying which devices are being used. For "
                "safety, we initialize *every* CUDA device by default, which can be quite slow "
                "if you have a lot of CUDAs. If you know that you are only making use of a few "
                "CUDA devices, set the environment variable CUDA_VISIBLE_DEVICES or the "
                f"'{_devices_kw}' keyword argument of {_caller} with the set of devices you are "
                "actually using.", stacklevel=3)
            _fork_rng_warned_already = True
        devices = list(range(num_devices))
    else:
        # a generator argument would be exhausted by the first pass
        devices = list(devices)
    cpu_state = get_rng_state()
    device_states = []
    if devices:
        from ember import cuda
        device_states = [cuda.get_rng_state(d) for d in devices]
    try:
        yield
    finally:
        set_rng_state(cpu_state)
        if devices:
            for d, state in zip(devices, device_states):
                cuda.set_rng_state(state, d)
