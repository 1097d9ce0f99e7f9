"""``model="auto"``: the Optuna search — candidates and budgets checked up front, the same seed
choosing the same recipe, the store inside the run directory (resumable, refused when foreign),
Ctrl-C keeping the best trial, and the run directory recording every trial and the choice."""

from __future__ import annotations

import json
import sqlite3

import numpy as np
import pytest
from typer.testing import CliRunner

from attractor.api import search as S
from attractor.cli import app
from attractor.errors import ConfigError, RunError, UnknownNameError
from attractor.runs.directory import load_run
from attractor.runs.index import list_runs
from conftest import lorenz

pytestmark = pytest.mark.usefixtures("one_thread")

#: A 3,000-sample Lorenz-63 array; ESN trials take about a second each here (planned ≈ 2.5 s).
BUDGET = 8.0


@pytest.fixture(scope="module")
def x() -> np.ndarray:
    return lorenz(3000, dt=0.01)


def run_search(x, out, **kw):
    kw = {"budget": BUDGET, "candidates": "esn", "seed": 3, "figures": False, **kw}
    with pytest.MonkeyPatch.context() as mp:  # the plan decides, not the clock of a busy machine
        mp.setattr(S, "WALL_GUARD", 1e6)
        return S.search_fit(x, out=out, **kw)


@pytest.fixture(scope="module")
def first(x, tmp_path_factory):
    return run_search(x, tmp_path_factory.mktemp("auto"))


def test_candidates_and_budgets_are_checked_before_any_work():
    assert S.check_candidates("ESN, shplrnn") == ("esn", "shplrnn")
    assert S.check_candidates(None) == S.DEFAULT_CANDIDATES
    # the default list grows with the budget; a named candidate is searched at any budget
    assert S.check_candidates(None, 150) == ("esn",)
    assert S.check_candidates(None, 300) == ("esn", "alrnn-lsq")
    assert S.check_candidates(None, 600) == S.DEFAULT_CANDIDATES
    assert S.check_candidates("shplrnn", 10) == ("shplrnn",)
    with pytest.raises(UnknownNameError, match="Did you mean 'esn'"):
        S.check_candidates("esm")
    with pytest.raises(ConfigError, match="at least one"):
        S.check_candidates(" , ")
    for bad in (0, -5, float("nan"), True):
        with pytest.raises(ConfigError, match="positive"):
            S.check_budget(bad, ("esn",))
    with pytest.raises(ConfigError, match="too small for one candidate"):
        S.check_budget(3, ("esn", "shplrnn"))
    assert S.check_budget(60, ("esn",)) == 60.0


def test_plan_stays_within_the_budget_and_epochs_scale_with_it():
    assert S.plan_epochs(100, 200) == S.MIN_EPOCHS
    assert S.plan_epochs(10_000, 50) == S.MAX_EPOCHS
    assert S.plan_epochs(270, 100) < S.plan_epochs(600, 100)
    # the long-run check is planned in from budgets that afford it
    assert S.check_reserve(S.DEFAULT_BUDGET) == S.LONG_CHECK_SECONDS and S.check_reserve(8) == 0
    # an ESN's cost grows with the square of its reservoir
    cost = [S.estimated_cost("esn", {"reservoir": r}) - S.COST["esn"][0] for r in (300, 600)]
    assert cost[1] == pytest.approx(4 * cost[0])


def test_search_writes_every_trial_and_why_it_chose(first):
    summary = json.loads((first.path / S.SUMMARY).read_text())
    trials = summary["trials"]
    assert len(trials) >= 2 and trials[0]["params"]["esn_reservoir"] == 300  # known recipe first
    planned = sum(t["planned_seconds"] for t in trials)
    assert planned >= BUDGET and planned - trials[-1]["planned_seconds"] < BUDGET
    done = [t for t in trials if t["state"] == "complete"]
    for t in done:
        assert t["score"] == pytest.approx(t["D_stsp"] + t["D_H"])
    best = next(t for t in done if t["trial"] == summary["best_trial"])
    assert {t["params"]["restart"] for t in trials} <= set(range(S.RESTARTS))
    # the best trials by validation went through the long-run check; the winner is its best
    fin = summary["finalists"]
    assert 2 <= len(fin) <= S.FINALISTS
    assert sorted(f["score"] for f in fin) == sorted(t["score"] for t in done)[: len(fin)]
    winner = min(fin, key=lambda f: (f["long_score"], f["score"]))
    assert summary["best_trial"] == winner["trial"]
    assert f"{S.LONG_STEPS:,}-step free runs" in summary["chosen"]["why"]
    assert len(summary["noise_estimate"]) == 3 and max(summary["noise_estimate"]) < 0.01  # clean
    cfg = json.loads((first.path / "config.json").read_text())
    assert cfg["model"]["kind"] == "esn" and cfg["model"]["chosen_by"] == "auto"
    assert cfg["search"]["chosen"]["trial"] == best["trial"]
    assert first.metrics["search"]["best_trial"] == best["trial"]
    assert np.isfinite(first.metrics["D_stsp"])
    # the store is Optuna's, inside the run directory
    with sqlite3.connect(first.path / S.STORE) as con:
        (n,) = con.execute("select count(*) from trials").fetchone()
    assert n == len(trials)
    # the run reloads like any other and is indexed
    again = load_run(first.path)
    assert again.model.kind == "esn"
    (row,) = list_runs(first.path.parent)
    assert row["status"] == "done"


def test_the_same_seed_chooses_the_same_recipe_and_metrics(x, first, tmp_path):
    second = run_search(x, tmp_path)
    a = json.loads((first.path / S.SUMMARY).read_text())
    b = json.loads((second.path / S.SUMMARY).read_text())
    assert a["chosen"]["params"] == b["chosen"]["params"]
    assert [t["params"] for t in a["trials"]] == [t["params"] for t in b["trials"]]
    assert first.metrics["D_stsp"] == second.metrics["D_stsp"]
    assert first.metrics["D_H"] == second.metrics["D_H"]


def test_resume_continues_the_same_study(x, first, tmp_path):
    summary = json.loads((first.path / S.SUMMARY).read_text())
    before = summary["trials"]
    resumed = run_search(x, tmp_path, resume=first.path, budget=2 * BUDGET)
    after = json.loads((resumed.path / S.SUMMARY).read_text())
    assert [t["trial"] for t in after["trials"]][: len(before)] == [t["trial"] for t in before]
    assert len(after["trials"]) > len(before)
    # the previous choice is kept unless a new trial validates better
    assert after["best_score"] <= summary["best_score"]


def test_a_store_that_is_not_ours_is_refused_and_nothing_is_written(x, tmp_path):
    fake = tmp_path / "fake"
    fake.mkdir()
    (fake / S.STORE).write_bytes(b"not a database at all")
    out = tmp_path / "runs"
    with pytest.raises(RunError, match="not an attractor search store"):
        run_search(x, out, resume=fake)
    assert not out.exists() or not [p for p in out.iterdir() if p.is_dir()]
    with sqlite3.connect(fake / "other.sqlite") as con:
        con.execute("create table t (a int)")
    (fake / S.STORE).unlink()
    (fake / "other.sqlite").rename(fake / S.STORE)
    with pytest.raises(RunError, match="not an attractor search store"):
        run_search(x, out, resume=fake)


def test_ctrl_c_keeps_the_best_trial(x, tmp_path, monkeypatch):
    import attractor.train.loop as loop

    real, calls = loop.train, {"n": 0}

    def flaky(*args, **kw):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return real(*args, **kw)

    monkeypatch.setattr(loop, "train", flaky)
    run = run_search(x, tmp_path)
    summary = json.loads((run.path / S.SUMMARY).read_text())
    assert summary["stopped"] == "interrupted"
    assert [t["state"] for t in summary["trials"][:2]] == ["complete", "complete"]
    assert run.metrics["stopped"] == "interrupted" and run.model.kind == "esn"
    (row,) = list_runs(tmp_path)
    assert row["status"] == "interrupted"


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (["--budget", "0"], "positive"),
        (["--budget", "2s"], "too small"),
        (["--candidates", "esn,transformer"], "unknown search candidate"),
        (["--hidden", "50"], "--model auto chooses what --hidden would set"),
    ],
)
def test_cli_bad_search_input_exits_2(args, match, tmp_path):
    res = CliRunner().invoke(
        app, ["fit", "lorenz63", "--model", "auto", *args, "--out", str(tmp_path / "r")]
    )
    assert res.exit_code == 2, res.output
    assert match in res.output and "Traceback" not in res.output
    assert not (tmp_path / "r").exists() or not [
        p for p in (tmp_path / "r").iterdir() if p.is_dir()
    ]


def test_a_candidate_that_fails_on_the_data_is_a_failed_trial_not_a_failed_search(
    x, tmp_path, monkeypatch
):
    real, calls = S.build_candidate, {"n": 0}

    def sometimes(kind, obs_dim, settings, seed):
        calls["n"] += 1
        if calls["n"] == 2:
            raise ConfigError("this candidate cannot be built for these data.")
        return real(kind, obs_dim, settings, seed)

    monkeypatch.setattr(S, "build_candidate", sometimes)
    run = run_search(x, tmp_path)
    states = [t["state"] for t in json.loads((run.path / S.SUMMARY).read_text())["trials"]]
    assert states[1] == "fail" and states.count("complete") >= 2


def test_the_validator_judges_against_denoised_data_pooled_for_the_histogram(x):
    from attractor.data.denoise import denoise
    from attractor.metrics.protocol import validate

    rng = np.random.default_rng(0)
    x = (x - x.mean(0)) / x.std(0)  # standardised, as the search sees data
    noisy = x + 0.05 * rng.standard_normal(x.shape)
    train, val = [noisy[:2400]], [noisy[2400:]]
    val_clean, validator = S.denoised_validator(train, val)
    # the validation reference is the denoised data: closer to the clean signal than measured
    err = lambda a: float(np.abs(a - x[2400:]).mean())  # noqa: E731
    assert err(val_clean[0]) < 0.7 * err(val[0])
    esn = S.build_candidate("esn", 3, {"reservoir": 100}, seed=0)
    esn.fit_direct(train)
    got = validator(esn, val_clean, 5, 400, None)
    assert got["D_H"] == validate(esn, val_clean, 5, 400)["D_H"]
    # D_stsp: long free runs against the pooled denoised data, both thinned to fixed sizes
    pooled = S.thin(np.concatenate([*denoise(train), *val_clean]), S.REF_POINTS)
    assert len(pooled) == min(S.REF_POINTS, 3000)
    assert np.isfinite(got["D_stsp"]) and got["D_stsp"] >= 0
    assert got["D_stsp"] != validate(esn, val_clean, 5, 400)["D_stsp"]
    assert S.thin(np.arange(10)[:, None], 4)[:, 0].tolist() == [0, 3, 6, 9]


def test_embedding_settings_reach_every_trial(x, tmp_path):
    """A scalar recording with the user's lag and dimension: each decimated trial keeps the lag
    in time (samples ÷ factor) and the dimension."""
    run = run_search(x[:, :1], tmp_path, lag=8, dim=3)
    k = json.loads((run.path / S.SUMMARY).read_text())["chosen"]["params"]["downsample"]
    emb = run.config["data"]["embedding"]
    assert emb["dim"] == 3 and emb["lag"] == max(1, round(8 / k))
    assert run.model.obs_dim == 3


def test_cli_default_is_the_search_and_says_what_it_found(lorenz_csv, tmp_path):
    out = tmp_path / "r"
    res = CliRunner().invoke(app, ["fit", str(lorenz_csv), "--budget", "8s", "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "chosen: trial" in res.output and "(esn)" in res.output
    assert "dominant period" in res.output and "observation noise ≈" in res.output
    (run,) = [p for p in out.iterdir() if p.is_dir()]
    assert json.loads((run / "config.json").read_text())["model"]["chosen_by"] == "auto"
