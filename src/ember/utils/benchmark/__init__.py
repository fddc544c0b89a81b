"""``ember.utils.benchmark``: time statements and compare the results, with
``torch.utils.benchmark``'s API.

:class:`Timer` runs a statement in warmed-up, timed blocks and returns a
:class:`Measurement` (median, IQR, warnings about a high spread); :class:`Compare` prints
many measurements side by side.  Not provided: instruction counts under Valgrind
(:meth:`Timer.collect_callgrind` raises), C++ statements, and PyTorch's input fuzzers
(``Fuzzer``, ``FuzzedParameter``, ``FuzzedTensor``).

Examples
--------
>>> import ember
>>> from ember.utils.benchmark import Timer
>>> m = Timer("a @ b", setup="a = ember.ones(16, 16); b = ember.ones(16, 16)").timeit(50)
>>> m.number_per_run
50
"""
from ember.utils.benchmark._common import (Measurement, TaskSpec, ordered_unique, select_unit,
                                           trim_sigfig, unit_to_english)
from ember.utils.benchmark._compare import Colorize, Compare
from ember.utils.benchmark._timer import Language, Timer, timer

__all__ = ["Colorize", "Compare", "Language", "Measurement", "TaskSpec", "Timer",
           "ordered_unique", "select_unit", "timer", "trim_sigfig", "unit_to_english"]
