""":class:`Compare`: measurements side by side in a table, as PyTorch prints them."""
import collections
import enum
import math

from ember.utils.benchmark._common import (Measurement, _log10, ordered_unique, select_unit,
                                           trim_sigfig, unit_to_english)

BEST = "\033[92m"
GOOD = "\033[34m"
BAD = "\033[2m\033[91m"
VERY_BAD = "\033[31m"
BOLD = "\033[1m"
TERMINATE = "\033[0m"


class Colorize(enum.Enum):
    """How :meth:`Compare.colorize` colours a table: not, by column or by row."""
    NONE = "none"
    COLUMNWISE = "columnwise"
    ROWWISE = "rowwise"


def _leading_digits(value):
    return int(math.ceil(_log10(value)))


class _Column:
    """The format of one column's numbers: enough integer digits for its largest value,
    and (when trimming) the decimals its least precise value supports."""

    def __init__(self, grouped_results, time_scale, trim_significant_figures,
                 highlight_warnings):
        self._grouped_results = grouped_results
        flat = [r for group in grouped_results for r in group]
        self._trim_significant_figures = trim_significant_figures
        self._highlight_warnings = highlight_warnings and any(r.has_warnings for r in flat if r)
        leading = [_leading_digits(r.median / time_scale) if r else None for r in flat]
        unit_digits = max(d for d in leading if d is not None)
        decimal_digits = min(max(m.significant_figures - d, 0)
                             for d, m in zip(leading, flat) if m is not None) \
            if trim_significant_figures else 1
        length = unit_digits + decimal_digits + (1 if decimal_digits else 0)
        self._template = (f"{{:>{length}.{decimal_digits}f}}"
                          f"{{:>{7 if self._highlight_warnings else 0}}}")

    def get_results_for(self, group):
        return self._grouped_results[group]

    def num_to_str(self, value, estimated_sigfigs, spread):
        if value is None:
            return " " * len(self.num_to_str(1, estimated_sigfigs, None))
        if self._trim_significant_figures:
            value = trim_sigfig(value, estimated_sigfigs)
        return self._template.format(
            value,
            f" (! {spread * 100:.0f}%)" if self._highlight_warnings and spread is not None
            else "")


class _Row:
    def __init__(self, results, row_group, render_env, env_str_len, time_scale, colorize,
                 num_threads=None):
        self._results = results
        self._row_group = row_group
        self._render_env = render_env
        self._env_str_len = env_str_len
        self._time_scale = time_scale
        self._colorize = colorize
        self._columns = ()
        self._num_threads = num_threads

    def register_columns(self, columns):
        self._columns = columns

    def as_column_strings(self):
        first = next(r for r in self._results if r is not None)
        env = (f"({first.env})" if self._render_env else "").ljust(self._env_str_len + 4)
        output = ["  " + env + first.as_row_name]
        for m, col in zip(self._results, self._columns):
            if m is None:
                output.append(col.num_to_str(None, 1, None))
            else:
                output.append(col.num_to_str(m.median / self._time_scale,
                                             m.significant_figures,
                                             m.iqr / m.median if m.has_warnings else None))
        return output

    @staticmethod
    def color_segment(segment, value, best_value):
        if value <= best_value * 1.01 or value <= best_value + 100e-9:
            return BEST + BOLD + segment + TERMINATE * 2
        if value <= best_value * 1.1:
            return GOOD + BOLD + segment + TERMINATE * 2
        if value >= best_value * 5:
            return VERY_BAD + BOLD + segment + TERMINATE * 2
        if value >= best_value * 2:
            return BAD + segment + TERMINATE * 2
        return segment

    def row_separator(self, overall_width):
        if self._num_threads is None:
            return []
        return [f"{self._num_threads} threads: ".ljust(overall_width, "-")]

    def finalize_column_strings(self, column_strings, col_widths):
        best_values = [-1] * len(column_strings)
        if self._colorize == Colorize.ROWWISE:
            row_min = min(r.median for r in self._results if r is not None)
            best_values = [row_min] * len(column_strings)
        elif self._colorize == Colorize.COLUMNWISE:
            best_values = [min((r.median for r in column.get_results_for(self._row_group)
                                if r is not None), default=None)
                           for column in self._columns]
        row = [column_strings[0].ljust(col_widths[0])]
        for text, width, result, best in zip(column_strings[1:], col_widths[1:],
                                             self._results, best_values):
            text = text.center(width)
            if self._colorize != Colorize.NONE and result is not None and best is not None:
                text = self.color_segment(text, result.median, best)
            row.append(text)
        return row


class _Table:
    """One table: the measurements of one label, rows by (threads, env, sub-label or
    statement), columns by description."""

    def __init__(self, results, colorize, trim_significant_figures, highlight_warnings):
        if len({r.label for r in results}) != 1:
            raise AssertionError("All results must share the same label")
        self.results = results
        self._colorize = colorize
        self._trim_significant_figures = trim_significant_figures
        self._highlight_warnings = highlight_warnings
        self.label = results[0].label
        self.time_unit, self.time_scale = select_unit(min(r.median for r in results))
        self.row_keys = ordered_unique(self.row_fn(r) for r in results)
        self.row_keys.sort(key=lambda key: key[:2])     # stable: statements keep their order
        self.column_keys = ordered_unique(self.col_fn(r) for r in results)
        self.rows, self.columns = self._populate_rows_and_columns()

    @staticmethod
    def row_fn(m):
        return m.num_threads, m.env, m.as_row_name

    @staticmethod
    def col_fn(m):
        return m.description

    def _populate_rows_and_columns(self):
        ordered = [[None] * len(self.column_keys) for _ in self.row_keys]
        row_position = {key: i for i, key in enumerate(self.row_keys)}
        col_position = {key: i for i, key in enumerate(self.column_keys)}
        for r in self.results:
            ordered[row_position[self.row_fn(r)]][col_position[self.col_fn(r)]] = r

        unique_envs = {r.env for r in self.results}
        render_env = len(unique_envs) > 1
        env_str_len = max(len(e) for e in unique_envs) if render_env else 0

        rows, rows_by_group = [], []
        prior_num_threads, prior_env, row_group = -1, "", -1
        for (num_threads, env, _), row in zip(self.row_keys, ordered):
            thread_transition = num_threads != prior_num_threads
            if thread_transition:
                prior_num_threads, prior_env = num_threads, ""
                row_group += 1
                rows_by_group.append([])
            rows.append(_Row(row, row_group, render_env and env != prior_env, env_str_len,
                             self.time_scale, self._colorize,
                             num_threads if thread_transition else None))
            rows_by_group[-1].append(row)
            prior_env = env

        columns = tuple(
            _Column([tuple(row[i] for row in group) for group in rows_by_group],
                    self.time_scale, self._trim_significant_figures, self._highlight_warnings)
            for i in range(len(self.column_keys)))
        for row in rows:
            row.register_columns(columns)
        return tuple(rows), columns

    def render(self):
        # a column of measurements without description has an empty heading (PyTorch's
        # Compare fails with a TypeError on them)
        string_rows = [[""] + ["" if key is None else key for key in self.column_keys]]
        string_rows.extend(r.as_column_strings() for r in self.rows)
        num_cols = max(len(r) for r in string_rows)
        for r in string_rows:
            r.extend([""] * (num_cols - len(r)))
        col_widths = [max(len(s) for s in column) for column in zip(*string_rows)]
        lines = ["  |  ".join(s.center(w) for s, w in zip(string_rows[0], col_widths))]
        overall_width = len(lines[0])
        for strings, row in zip(string_rows[1:], self.rows):
            lines.extend(row.row_separator(overall_width))
            lines.append("  |  ".join(row.finalize_column_strings(strings, col_widths)))
        has_warnings = self._highlight_warnings and any(r.has_warnings for r in self.results)
        note = ("(! XX%) Measurement has high variance, where XX is the IQR / median * 100.\n"
                if has_warnings else "")
        title = f" {self.label or ''} ".center(overall_width - 2, "-")
        return (f"[{title}]\n" + "\n".join(lines) + "\n\n"
                f"Times are in {unit_to_english(self.time_unit)}s ({self.time_unit}).\n{note}")


class Compare:
    """Measurements side by side in tables, as ``torch.utils.benchmark.Compare`` prints them.

    One table per ``label``; in it a row per sub-label (or statement), grouped by thread
    count and then by ``env``, and a column per ``description``.  Replicates of a task
    are merged (:meth:`Measurement.merge`) and each cell is their median, in the unit of
    the table's smallest median.  ``str(compare)`` is the text that :meth:`print` prints.

    Parameters
    ----------
    results : list of Measurement

    Raises
    ------
    ValueError
        If a result is not a :class:`Measurement`.

    Examples
    --------
    >>> from ember.utils.benchmark import Compare, Measurement, TaskSpec
    >>> results = [Measurement(100, [t * 1e-4], TaskSpec("f(x)", "pass", label="f",
    ...                                                    sub_label=s, description=d))
    ...            for s, d, t in [("a", "n=1", 1.0), ("a", "n=8", 2.5),
    ...                            ("b", "n=1", 1.5), ("b", "n=8", 4.0)]]
    >>> Compare(results).print()
    [--------- f ---------]
             |  n=1  |  n=8
    1 threads: ------------
          a  |  1.0  |  2.5
          b  |  1.5  |  4.0
    <BLANKLINE>
    Times are in microseconds (us).
    <BLANKLINE>
    """

    def __init__(self, results):
        self._results = []
        self.extend_results(results)
        self._trim_significant_figures = False
        self._colorize = Colorize.NONE
        self._highlight_warnings = False

    def __str__(self):
        return "\n".join(self._render())

    def extend_results(self, results):
        """Add measurements to the table.

        Parameters
        ----------
        results : list of Measurement

        Raises
        ------
        ValueError
            If a result is not a :class:`Measurement`.
        """
        for r in results:
            if not isinstance(r, Measurement):
                raise ValueError(f"Expected an instance of `Measurement`, got {type(r)} instead.")
        self._results.extend(results)

    def trim_significant_figures(self):
        """Print each number with the significant figures its spread supports only."""
        self._trim_significant_figures = True

    def colorize(self, rowwise=False):
        """Colour the numbers (ANSI codes) by how they compare with the best of their
        column, or of their row when ``rowwise``."""
        self._colorize = Colorize.ROWWISE if rowwise else Colorize.COLUMNWISE

    def highlight_warnings(self):
        """Mark the numbers of a high spread with ``(! XX%)``, XX the IQR over the median."""
        self._highlight_warnings = True

    def print(self):
        """Print the tables."""
        print(str(self))

    def _render(self):
        grouped = collections.defaultdict(list)
        for r in Measurement.merge(self._results):
            grouped[r.label].append(r)
        return [_Table(group, self._colorize, self._trim_significant_figures,
                       self._highlight_warnings).render() for group in grouped.values()]
