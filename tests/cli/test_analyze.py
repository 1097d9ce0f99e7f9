"""``attractor analyze RUN`` end to end: a run directory gets an analysis/ folder with JSON and
PNGs; bad input gives one readable sentence and exit status 2.

The run directories are written with the library's own writers (config, safetensors checkpoint,
held-out test data) instead of by ``attractor fit``, whose evaluation alone takes longer than
these tests may.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from attractor.analysis import truesystem
from attractor.analysis.fixedpoints import find_orbits
from attractor.analysis.report import analyze_run
from attractor.cli import app
from attractor.data.series import Scaler
from attractor.io import write_json
from attractor.models import ALRNN, ShallowPLRNN
from attractor.models.registry import MODELS, ModelEntry
from attractor.runs.directory import save_checkpoint

sys.path.insert(0, str(Path(__file__).parent))
from toymodels import GRUModel, bistable_gru

runner = CliRunner()
FAST = ["--steps", "400", "--lyapunov-steps", "400"]
PNG = b"\x89PNG\r\n\x1a\n"


pytestmark = pytest.mark.usefixtures("one_thread")


def make_run(path: Path, model, kind: str, data: dict | None = None) -> Path:
    """A complete run directory for ``model`` with a 3-channel scaler and test data."""
    path.mkdir(parents=True)
    n = model.obs_dim
    scaler = Scaler(np.arange(n, dtype=float), np.full(n, 2.0))
    info = {"kind": "file", "dt": 0.01, "names": [f"x{i}" for i in range(n)], **(data or {})}
    write_json(
        path / "config.json",
        {
            "model": {"kind": kind, "config": model.config()},
            "data": {**info, "scaler": scaler.to_dict()},
        },
    )
    save_checkpoint(path / "model.safetensors", model)
    rng = np.random.default_rng(0)
    np.save(path / "test.npy", scaler.inverse(rng.normal(size=(200, n))))
    return path


def alrnn_run(tmp_path: Path) -> Path:
    torch.manual_seed(0)
    model = ALRNN(3, 5, n_relu=2)
    with torch.no_grad():  # contracting: every orbit stays bounded
        model.A.fill_(0.6)
        model.W.normal_(0, 0.1)
        model.h.normal_(0, 1.0)
    return make_run(tmp_path / "alrnn-run", model, "alrnn")


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


def test_analyze_writes_json_and_figures(tmp_path):
    run = alrnn_run(tmp_path)
    res = invoke("analyze", run, *FAST, "--max-period", "2")
    assert res.exit_code == 0, res.output
    out = run / "analysis"
    rep = json.loads((out / "analysis.json").read_text())
    assert rep["sections"] == ["lyapunov", "fixed_points", "cycles", "symbolic"]
    for name in ("orbits.png", "lyapunov.png", "coverage.png", "transitions.png"):
        assert (out / name).read_bytes()[:8] == PNG
    assert set(rep["figures"]) == {"orbits.png", "lyapunov.png", "coverage.png", "transitions.png"}
    # the JSON holds the same fixed points as a direct exhaustive search, in data units
    fp = rep["fixed_points"]
    assert fp["method"] == "exhaustive" and fp["exhaustive"]
    from attractor.runs.directory import load_run

    r = load_run(run)
    expect = find_orbits(r.model, 1)
    assert fp["count"] == len(expect.orbits)
    for o, e in zip(fp["orbits"], expect.orbits, strict=True):
        np.testing.assert_allclose(o["data"], r.to_data_units(e.points[:, :3]), atol=1e-8)
    sym = rep["symbolic"]
    assert sum(reg["count"] for reg in sym["regions"]) == sym["n_steps"] == 400
    assert rep["lyapunov"]["model"]["n_steps"] == 400
    assert "fixed points" in res.output and "visited subregions" in res.output


def test_analyze_a_smooth_model_and_refuse_symbolic_codes_for_it(tmp_path, monkeypatch):
    monkeypatch.setitem(MODELS, "gru-test", ModelEntry(GRUModel, {}, summary="test-only GRU"))
    model = bistable_gru(obs_dim=2)
    run = make_run(tmp_path / "gru-run", model, "gru-test")
    res = invoke("analyze", run, *FAST, "--max-period", "1")
    assert res.exit_code == 0, res.output
    rep = json.loads((run / "analysis" / "analysis.json").read_text())
    assert "symbolic" not in rep["sections"]
    assert rep["fixed_points"]["method"] == "optimisation"
    assert rep["fixed_points"]["count"] >= 1  # the free run sits at a stable fixed point
    res = invoke("analyze", run, "--only", "symbolic")
    assert res.exit_code == 2
    assert "not piecewise linear" in res.output and "Traceback" not in res.output


def test_true_system_comparison_for_a_dysts_run(tmp_path, monkeypatch):
    monkeypatch.setattr(truesystem, "SPECTRUM_PERIODS", 10)  # a short true spectrum suffices
    torch.manual_seed(1)
    model = ALRNN(3, 4, n_relu=1)
    run = make_run(tmp_path / "lorenz-run", model, "alrnn", {"kind": "system", "system": "Lorenz"})
    rep = analyze_run(run, steps=300, lyapunov_steps=300, max_period=1)
    eq = rep["true_equilibria"]
    assert len(eq["equilibria"]) == 3
    assert len(eq["nearest_model_fixed_point"]) == 3
    rows = rep["lyapunov"]["comparison"]["rows"]
    # dysts stores two different estimates of λ_max: 0.892 alone and 1.091 in its spectrum
    assert len(rows) == 3 and rows[0]["dysts"] == pytest.approx(1.0911, abs=1e-3)
    assert rep["lyapunov"]["comparison"]["lambda_max_dysts"] == pytest.approx(0.8917, abs=1e-3)
    assert rows[2]["true"] == pytest.approx(-14.5, abs=1.0)


@pytest.mark.parametrize(
    ("setup", "args", "match"),
    [
        ("missing", [], "does not exist"),
        ("incomplete", [], "not a complete run directory"),
        ("shplrnn", ["--only", "symbolic"], "boundary units"),
        ("alrnn", ["--only", "bifurcations"], "unknown analysis section"),
        ("alrnn", ["--steps", "5"], "steps must be"),
    ],
)
def test_bad_input_exits_2_with_one_sentence(tmp_path, setup, args, match):
    run = tmp_path / "run"
    if setup == "incomplete":
        run.mkdir()
        (run / "config.json").write_text("{}")
    elif setup == "shplrnn":
        make_run(run, ShallowPLRNN(3, 3, hidden_dim=50), "shplrnn")
    elif setup == "alrnn":
        run = alrnn_run(tmp_path)
    res = invoke("analyze", run, *args)
    assert res.exit_code == 2, res.output
    assert match in res.output
    text = res.output.strip()
    assert text.startswith("error:") and "Traceback" not in text
    assert not (run / "analysis").exists()


def test_an_escaping_model_is_analysed_as_far_as_it_stays_finite(tmp_path):
    model = ALRNN(3, 4, n_relu=1)
    with torch.no_grad():  # z' = 1.5 z: every orbit but the origin escapes to infinity
        model.A.fill_(1.5)
        model.W.zero_()
        model.h.zero_()
    run = make_run(tmp_path / "escaping", model, "alrnn")
    rep = analyze_run(run, steps=3000, transient=0, lyapunov_steps=400, max_period=1)
    assert "non-finite" in rep["free_run"]["note"]
    assert 10 < rep["free_run"]["steps"] < 3000
    assert "non-finite" in rep["lyapunov"]["error"]
    (origin,) = rep["fixed_points"]["orbits"]  # the exact search still finds the origin
    assert origin["type"] == "unstable node" and np.allclose(origin["latent"], 0)
