"""ember.utils.benchmark against torch.utils.benchmark: the calls a Timer makes, the
statistics of a Measurement (against NumPy), its repr and Compare's tables (against
torch's for measurements built from the same raw times), threads and errors."""
import numpy as np
import pytest
import torch
import torch.utils.benchmark as tbench

import ember
import ember.utils.benchmark as ebench
from ember.utils.benchmark import Compare, Measurement, TaskSpec, Timer

CALLS = [0]


def _count():
    CALLS[0] += 1


def _pair(number, raw_times, **spec):
    spec.setdefault("stmt", "x + 1")
    spec.setdefault("setup", "pass")
    return (Measurement(number, list(raw_times), TaskSpec(**spec)),
            tbench.Measurement(number, list(raw_times), tbench.TaskSpec(**spec)))


def _body(measurement):
    """The repr without its first line (``<... object at 0x...>``, which names the library)."""
    return repr(measurement).split("\n", 1)[1]


# ----------------------------------------------------------------------------- Timer

def test_timeit_gives_times_in_a_sane_range():
    m = Timer("y = x + x", setup="x = ember.ones(4)").timeit(number=1000)
    assert m.number_per_run == 1000 and len(m.raw_times) == 1
    assert 1e-8 < m.median < 1e-2
    assert m.times == [m.raw_times[0] / 1000]


def test_timeit_calls():
    CALLS[0] = 0
    m = Timer("f()", globals={"f": _count}).timeit(number=500)
    # a warm-up of number // 100 (at least 2) runs, then the timed block
    assert CALLS[0] == 5 + m.number_per_run * len(m.raw_times)


def test_blocked_autorange_calls_and_run_time():
    blocks = []

    def callback(number, time_spent):
        blocks.append((number, CALLS[0], time_spent))

    CALLS[0] = 0
    m = Timer("f()", globals={"f": _count}).blocked_autorange(callback=callback,
                                                               min_run_time=0.05)
    number = m.number_per_run
    # the block-size search (runs of 1, 10, 100... up to number) is the warm-up
    warm_up = sum(10 ** k for k in range(len(str(number))))
    assert CALLS[0] == warm_up + number * len(m.raw_times)
    assert [b[0] for b in blocks] == [number] * len(m.raw_times)
    assert [b[1] for b in blocks] == [warm_up + number * (i + 1) for i in range(len(blocks))]
    assert [b[2] for b in blocks] == m.raw_times
    assert sum(m.raw_times) >= 0.05
    assert sum(m.raw_times[:-1]) < 0.05      # stops at the first block past min_run_time


def test_adaptive_autorange_calls_and_stop():
    CALLS[0] = 0
    m = Timer("f()", globals={"f": _count}).adaptive_autorange(threshold=0.5,
                                                                min_run_time=0.02)
    number = m.number_per_run
    warm_up = sum(10 ** k for k in range(len(str(number))))
    assert CALLS[0] == warm_up + number * len(m.raw_times)
    assert len(m.raw_times) > 3 and sum(m.raw_times) >= 0.02
    # it stopped at the first block where the spread was small enough (or max_run_time)
    prefix = Measurement(number, m.raw_times[:-1], m.task_spec)
    assert m.meets_confidence(0.5)
    assert len(m.raw_times) == 4 or sum(m.raw_times[:-1]) < 0.02 or \
        not prefix.meets_confidence(0.5)


def test_adaptive_autorange_stops_at_max_run_time():
    # a threshold of 0 is never met: only max_run_time ends the loop
    m = Timer("sum(range(50))").adaptive_autorange(threshold=0.0, min_run_time=0.01,
                                                    max_run_time=0.1)
    assert 0.1 < sum(m.raw_times) < 0.1 + 2 * max(m.raw_times)


def test_num_threads_set_while_timing_and_restored():
    prior = ember.get_num_threads()
    seen = []
    try:
        ember.set_num_threads(2)
        t = Timer("seen.append(ember.get_num_threads())", globals={"seen": seen},
                  num_threads=1)
        t.timeit(3)
        t.blocked_autorange(min_run_time=0.01)
        assert set(seen) == {1}
        assert ember.get_num_threads() == 2
        seen.clear()
        Timer("seen.append(ember.get_num_threads())", globals={"seen": seen},
              num_threads=3).timeit(3)
        assert set(seen) == {3} and ember.get_num_threads() == 2
        with pytest.raises(ZeroDivisionError):
            Timer("1 / 0", num_threads=1).timeit(3)
        assert ember.get_num_threads() == 2
    finally:
        ember.set_num_threads(prior)


def test_globals_are_copied_and_ember_is_added():
    g = {"x": ember.ones(3)}
    m = Timer("y = ember.add(x, 1)", globals=g).timeit(10)
    assert set(g) == {"x"}
    assert m.stmt == "y = ember.add(x, 1)"


def test_code_is_dedented_and_task_spec_filled():
    t = Timer("""
        a = 1
        b = a + 1
    """, setup="""
        c = 2
    """, label="L", sub_label="S", description="D", env="E", num_threads=2)
    spec = t.timeit(2).task_spec
    assert spec == TaskSpec(stmt="a = 1\nb = a + 1", setup="c = 2", label="L", sub_label="S",
                            description="D", env="E", num_threads=2)
    tt = tbench.Timer("""
        a = 1
        b = a + 1
    """, setup="""
        c = 2
    """)
    assert tt._task_spec.stmt == spec.stmt and tt._task_spec.setup == spec.setup


def test_custom_timer_is_used():
    ticks = iter(range(0, 10 ** 6, 3))
    m = Timer("pass", timer=lambda: float(next(ticks))).timeit(10)
    assert m.raw_times == [3.0]


def test_timer_synchronizes_cuda_once_in_use(monkeypatch):
    synced = []
    monkeypatch.setattr(ember.cuda, "synchronize", lambda device=None: synced.append(1))
    monkeypatch.setattr(ember.cuda, "is_initialized", lambda: False)
    ebench.timer()
    assert synced == []
    monkeypatch.setattr(ember.cuda, "is_initialized", lambda: True)
    ebench.timer()
    Timer("pass").timeit(5)        # warm-up and timed block: a clock call before and after each
    assert len(synced) == 1 + 4


@pytest.mark.parametrize("call, error", [
    (lambda: Timer(lambda: None), ValueError),
    (lambda: Timer("pass", global_setup="#include <x>"), ValueError),
    (lambda: Timer("pass", language="rust"), ValueError),
    (lambda: Timer("pass").repeat(), NotImplementedError),
    (lambda: Timer("pass").autorange(), NotImplementedError),
    (lambda: Compare([1.0]), ValueError),
    (lambda: ebench.trim_sigfig(1.5, 1.5), AssertionError),
])
def test_errors_as_torch(call, error):
    with pytest.raises(error) as info:
        call()
    assert str(info.value)


def test_error_messages_match_torch():
    for kwargs in [dict(stmt="pass", global_setup="#include <x>"), dict(language="rust")]:
        with pytest.raises(ValueError) as ours:
            Timer(**kwargs)
        with pytest.raises(ValueError) as theirs:
            tbench.Timer(**kwargs)
        assert str(ours.value) == str(theirs.value)
    with pytest.raises(NotImplementedError) as ours:
        Timer().repeat()
    with pytest.raises(NotImplementedError) as theirs:
        tbench.Timer().repeat()
    assert str(ours.value) == str(theirs.value)


def test_cpp_and_callgrind_are_not_available():
    with pytest.raises(NotImplementedError, match="C\\+\\+"):
        Timer("int x = 1;", language="cpp")
    with pytest.raises(NotImplementedError, match="[Vv]algrind"):
        Timer("pass").collect_callgrind()


# ----------------------------------------------------------------------------- Measurement

RAW_TIMES = {
    "one": [2.5e-4],
    "three": [1e-3, 1.2e-3, 0.9e-3],
    "tight": [1.00e-5, 1.01e-5, 1.02e-5, 0.99e-5, 1.005e-5, 1.015e-5],
    "fluctuating": [1e-5, 1.2e-5, 1.1e-5, 1.32e-5, 1.05e-5],
    "noisy": list(np.random.default_rng(0).lognormal(-9, 0.6, 40)),
    "seconds": [2.0, 2.2, 2.1, 2.05],
    "nanoseconds": [3e-6, 3.1e-6, 3.05e-6, 2.9e-6],
}


@pytest.mark.parametrize("name", list(RAW_TIMES))
@pytest.mark.parametrize("number", [1, 10, 1000])
def test_statistics_match_numpy(name, number):
    raw = RAW_TIMES[name]
    m, tm = _pair(number, raw)
    times = np.asarray(raw) / number
    np.testing.assert_allclose(m.times, times, rtol=1e-15)
    np.testing.assert_allclose(m.median, np.median(times), rtol=1e-14)
    np.testing.assert_allclose(m.mean, np.mean(times), rtol=1e-14)
    p25, p75 = np.percentile(times, [25, 75])
    np.testing.assert_allclose(m.iqr, p75 - p25, rtol=1e-10, atol=1e-20)
    assert m.median == tm.median and m.iqr == tm.iqr
    assert m.has_warnings == tm.has_warnings
    assert m.meets_confidence() == tm.meets_confidence()
    assert m.meets_confidence(0.3) == tm.meets_confidence(0.3)
    assert m.significant_figures == tm.significant_figures


@pytest.mark.parametrize("name", list(RAW_TIMES))
@pytest.mark.parametrize("spec", [
    {},
    dict(label="add", sub_label="float32", description="n=4"),
    dict(stmt="y = x + 1\nz = y * 2", setup="x = 1"),
    dict(stmt="y = x + 1\nz = y * 2", sub_label="int", setup="x = 1\nw = 2", num_threads=4),
    dict(sub_label="s", description="d", setup="a = 1"),
])
def test_repr_matches_torch(name, spec):
    m, tm = _pair(100, RAW_TIMES[name], **spec)
    assert repr(m).startswith("<ember.utils.benchmark")
    assert _body(m) == _body(tm)


def test_fields_read_through_and_env():
    m, tm = _pair(10, [1e-5], label="L", sub_label="S", env="E", num_threads=3)
    for field in ["stmt", "setup", "label", "sub_label", "description", "env", "num_threads"]:
        assert getattr(m, field) == getattr(tm, field)
    assert m.title == tm.title == "L: S"
    assert m.as_row_name == tm.as_row_name == "S"
    # torch means 'Unspecified env' but returns None (misspelt attribute); ember the former
    assert _pair(10, [1e-5])[0].env == "Unspecified env"
    with pytest.raises(AttributeError):
        m.nonexistent


def test_merge_matches_torch():
    pairs = [_pair(10, [1e-5, 2e-5]), _pair(100, [3e-4]), _pair(10, [5e-5], label="other"),
             _pair(1, [1e-6, 2e-6], label="other")]
    ours = Measurement.merge(p[0] for p in pairs)
    theirs = tbench.Measurement.merge(p[1] for p in pairs)
    assert [m.raw_times for m in ours] == [m.raw_times for m in theirs]
    assert all(m.number_per_run == 1 and m.metadata is None for m in ours)
    assert [m.label for m in ours] == [None, "other"]


@pytest.mark.parametrize("t", [3e-10, 1e-9, 2.5e-8, 7e-7, 4.2e-5, 1e-3, 0.5, 3.0, 1234.0])
def test_select_unit_and_trim_sigfig_match_torch(t):
    assert ebench.select_unit(t) == tbench.select_unit(t)
    unit = ebench.select_unit(t)[0]
    assert ebench.unit_to_english(unit) == tbench.unit_to_english(unit)
    for n in [1, 2, 3, 4]:
        x = t / ebench.select_unit(t)[1] * 1.23456
        np.testing.assert_allclose(ebench.trim_sigfig(x, n), tbench.trim_sigfig(x, n),
                                   rtol=1e-6)


def test_ordered_unique():
    items = ["b", "a", "b", "c", "a"]
    assert ebench.ordered_unique(items) == tbench.ordered_unique(items) == ["b", "a", "c"]


# ----------------------------------------------------------------------------- Compare

def _results(lib_index):
    rng = np.random.default_rng(1)
    out = []
    for label in ["add", "matmul"]:
        for threads in [1, 4]:
            for sub_label in ["float32", "float64"]:
                for k, description in enumerate(["n=1", "n=64", "n=4096"]):
                    if (label, sub_label, description) == ("matmul", "float64", "n=4096"):
                        continue        # a missing cell
                    base = 1e-6 * (1 + k * 37) * (2 if sub_label == "float64" else 1) / threads
                    spread = 0.3 if description == "n=64" else 0.02
                    raw = list(base * 100 * (1 + spread * rng.standard_normal(12)))
                    out.append(_pair(100, raw, stmt=f"{label}(x)", label=label,
                                     sub_label=sub_label, description=description,
                                     num_threads=threads)[lib_index])
    return out


def _render(lib, results, *options):
    compare = lib.Compare(results)
    for option in options:
        if option == "rowwise":
            compare.colorize(rowwise=True)
        else:
            getattr(compare, option)()
    return str(compare)


@pytest.mark.parametrize("options", [
    (), ("trim_significant_figures",), ("highlight_warnings",), ("colorize",), ("rowwise",),
    ("trim_significant_figures", "highlight_warnings", "colorize"),
])
def test_compare_matches_torch(options):
    ours = _render(ebench, _results(0), *options)
    theirs = _render(tbench, _results(1), *options)
    assert ours == theirs
    assert ours.count("Times are in nanoseconds (ns).") == 2
    tables = ours.split("\n\n[")
    assert tables[0].startswith("[---") and " add " in tables[0].splitlines()[0]
    assert " matmul " in tables[1].splitlines()[0]
    assert "1 threads: ---" in ours and "4 threads: ---" in ours


def test_compare_envs_replicates_and_print(capsys):
    pairs = []
    for env in ["main", "branch"]:
        for sub_label, t in [("a", 2e-3), ("b", 5e-3)]:
            for replicate in range(2):       # replicates of one task are merged
                pairs.append(_pair(10, [t * (1 + 0.01 * replicate), t], env=env,
                                   sub_label=sub_label, description="x", label="envs"))
    pairs.append(_pair(1, [4e-7, 4.1e-7], stmt="no_label()", description="y"))
    ours = Compare([p[0] for p in pairs])
    theirs = tbench.Compare([p[1] for p in pairs])
    assert str(ours) == str(theirs)
    assert "(branch)" in str(ours) and "(main)" in str(ours)
    ours.print()
    assert capsys.readouterr().out == str(theirs) + "\n"


def test_compare_without_description():
    # torch's Compare raises TypeError (len(None)); ember leaves the heading empty
    m = Measurement(1, [4e-7, 4.1e-7], TaskSpec("f()", "pass"))
    lines = str(Compare([m])).splitlines()
    assert lines[1].strip() == "|" and lines[3].split("|")[0].strip() == "f()"
    assert float(lines[3].split("|")[1]) == pytest.approx(405.0)


def test_compare_extend_results():
    m, tm = _pair(10, [1e-5, 1.1e-5], description="a")
    m2, tm2 = _pair(10, [2e-5, 2.1e-5], description="b")
    ours, theirs = Compare([m]), tbench.Compare([tm])
    ours.extend_results([m2])
    theirs.extend_results([tm2])
    assert str(ours) == str(theirs)
    with pytest.raises(ValueError, match="Measurement"):
        ours.extend_results([object()])


def test_compare_of_real_timings():
    results = [Timer("x + x", setup=f"x = ember.ones({n})", sub_label="add",
                     description=f"n={n}").timeit(200) for n in [1, 1000]]
    text = str(Compare(results))
    assert "n=1" in text and "n=1000" in text and "add" in text
    assert "Times are in" in text
