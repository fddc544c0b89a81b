"""``torch.autograd.profiler``: the older profiler API (:class:`profile`,
:class:`record_function`), the same recorder and events as :mod:`ember.profiler`.

The implementation lives in ``ember.profiler``, which times the ops of every layer
(``nn.functional``, the optimizers) and so sits above ``ember.autograd``; this module
only names it where PyTorch's scripts look for it.
"""
from ember.profiler._events import EventList, FunctionEvent, FunctionEventAvg
from ember.profiler._legacy import profile
from ember.profiler._recorder import record_function

__all__ = ["EventList", "FunctionEvent", "FunctionEventAvg", "profile", "record_function"]
