"""The one number formatter and the one rich progress bar (attractor.train.display)."""

from __future__ import annotations

import html
import io
import math
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from rich.console import Console

from attractor.train.display import MATH_INF, MISSING, fmt, rich_bar

values = st.one_of(
    st.none(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-(10**9), 10**9),
    st.text(max_size=5),
)
no_minus_inf = values.filter(lambda v: not (isinstance(v, float) and v == -math.inf))


# The six formatters the one replaced, verbatim: each call site must print what it printed.
def _cli(v: Any) -> str:
    if v is None:
        return "–"
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf"
        return f"{v:.4g}"
    if isinstance(v, (list, tuple)):
        return ", ".join(_cli(x) for x in v)
    return str(v)


def _cli_tasks(v: Any, spec: str = ".3f") -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "–"
    if isinstance(v, (list, tuple)):
        return ", ".join(_cli_tasks(x, spec) for x in v)
    return format(v, spec) if isinstance(v, float) else str(v)


def _cli_bench(v: Any) -> str:
    if v is None:
        return "–"
    if isinstance(v, float):
        if math.isinf(v):
            return "∞"
        return "nan" if math.isnan(v) else f"{v:.3g}"
    return str(v)


def _train(x: Any, spec: str = ".3f") -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    return format(x, spec)


def _sweep(v: Any) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "–"
    return f"{v:.3g}" if isinstance(v, float) else str(v)


def _html(v: Any) -> str:
    if v is None:
        return "–"
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "∞" if v > 0 else "−∞"
        return f"{v:.3g}"
    return html.escape(str(v))


@given(no_minus_inf)
def test_cli_and_bench_tables_print_what_they_printed(v):
    assert fmt(v, ".4g") == _cli(v)
    assert fmt([v, v], ".4g") == _cli([v, v])
    assert fmt(v, inf=MATH_INF) == _cli_bench(v)


def test_minus_infinity_keeps_its_sign_where_it_was_dropped():
    assert fmt(-math.inf, ".4g") == "-inf" and _cli(-math.inf) == "inf"
    assert fmt(-math.inf, inf=MATH_INF) == "−∞" and _cli_bench(-math.inf) == "∞"


@given(values, st.sampled_from([".3f", ".4g", ".2e"]))
def test_task_tables_sweep_lines_and_the_report_print_what_they_printed(v, spec):
    assert fmt(v, spec, nan=MISSING) == _cli_tasks(v, spec)
    assert fmt((v, None), spec, nan=MISSING) == _cli_tasks((v, None), spec)
    assert fmt(v, nan=MISSING) == _sweep(v)
    assert html.escape(fmt(v, inf=MATH_INF)) == _html(v)


@given(st.one_of(st.none(), st.floats()), st.sampled_from([".3f", ".4g"]))
def test_the_training_bar_prints_what_it_printed(v, spec):
    assert fmt(v, spec, nan=MISSING) == _train(v, spec)


@given(st.floats(allow_nan=False, allow_infinity=False), st.sampled_from([".3g", ".3f", ".1e"]))
def test_finite_floats_follow_the_format_spec(v, spec):
    assert fmt(v, spec) == format(v, spec)


def test_special_values():
    assert fmt(None) == MISSING == "–"
    assert fmt(math.nan) == "nan" and fmt(math.nan, nan="n/a") == "n/a"
    assert fmt(math.inf) == "inf" and fmt(math.inf, inf=MATH_INF) == "∞"
    assert fmt(7) == "7" and fmt(True) == "True" and fmt("x") == "x"
    assert fmt([0.5, None, [1.25]], ".2f") == "0.50, –, 1.25"


def test_one_bar_with_elapsed_time_and_eta():
    out = io.StringIO()
    console = Console(file=out, width=120, force_terminal=False)
    for spinner in (False, True):
        bar = rich_bar(console, spinner=spinner)
        task = bar.add_task("[bold]fit", total=4, stats="loss 0.5")
        bar.update(task, completed=2)
        bar.refresh()
        assert len(bar.columns) == 7 + spinner
        console.print(bar.make_tasks_table(bar.tasks))
    printed = out.getvalue()
    assert "fit" in printed and "2/4" in printed and "loss 0.5" in printed and "ETA" in printed
