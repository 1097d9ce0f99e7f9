"""``auto`` in a sweep: the per-dataset search runs as a job like any registry model."""

from __future__ import annotations

import json

import pytest

from attractor.bench.spec import make_spec
from attractor.bench.store import Store
from attractor.bench.sweep import run_sweep

pytestmark = pytest.mark.usefixtures("one_thread")


def test_auto_is_a_model_of_the_sweep_and_records_its_choice(tmp_path):
    spec = make_spec(
        "Lorenz", models="auto,naive-mean", seeds="0", n_train=3000, lyapunov_steps=200,
        trace_points=200, budget_seconds=10,
    )  # fmt: skip
    assert spec.models == ("auto", "naive-mean")
    s = run_sweep(spec, tmp_path / "b.sqlite")
    assert s.done == 2, s
    with Store(tmp_path / "b.sqlite") as st:
        rows = {r["model"]: r for r in st.rows()}
    auto = rows["auto"]
    timings = auto["timings"] if isinstance(auto["timings"], dict) else json.loads(auto["timings"])
    assert timings["chosen"]["model"] == "esn"  # the only default candidate at this budget
    # the search beats the naive baseline on the same test data
    assert auto["metrics"]["D_stsp"] < rows["naive-mean"]["metrics"]["D_stsp"]
