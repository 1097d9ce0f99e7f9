"""`attractor task …` and `attractor analyze-timescales` end to end: a tiny run gives a complete
run directory and registry row; bad input gives one line and exit status 2, and no run."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from attractor.cli import app
from attractor.runs.index import list_runs
from attractor.tasks.heads import TaskNetwork, build_core, load_task_network, save_task_network

runner = CliRunner()
TINY = [
    "--hidden",
    16,
    "--batch-size",
    32,
    "--steps-per-epoch",
    30,
    "--lr",
    0.2,
    "--max-epochs",
    15,
    "--tau-steps",
    2000,
]


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture(scope="module")
def parity_run(tmp_path_factory, one_thread):
    out = tmp_path_factory.mktemp("task-runs")
    res = invoke("task", "parity", "--curriculum", "multi", "--max-n", 3, *TINY, "--out", out)
    assert res.exit_code == 0, res.output
    (run,) = [p for p in out.iterdir() if p.is_dir()]
    return out, run, res.output


def test_task_writes_a_complete_run_directory(parity_run):
    out, run, output = parity_run
    for f in (
        "config.json",
        "versions.json",
        "model.safetensors",
        "history.csv",
        "metrics.json",
        "timescales.json",
    ):
        assert (run / f).is_file(), f
    metrics = json.loads((run / "metrics.json").read_text())
    n = metrics["n_reached"]
    assert n is not None and n >= 2
    ckpts = sorted(p.name for p in (run / "checkpoints").iterdir())
    assert ckpts == [f"N{k:03d}.safetensors" for k in range(2, n + 1)]
    # the checkpoint at N has heads for 2 … N (multi-head)
    assert load_task_network(run / "checkpoints" / "N002.safetensors").n_heads == 1
    figs = {p.name for p in (run / "figures").iterdir()}
    assert {"n_reached.png", "timescales.png", "robustness.png"} <= figs
    ts = json.loads((run / "timescales.json").read_text())
    assert [r["N"] for r in ts["per_n"]] == list(range(2, n + 1))
    assert ts["per_n"][0]["tau_mean"] >= 1.0
    cfg = json.loads((run / "config.json").read_text())
    assert cfg["task"]["curriculum"] == "multi" and cfg["model"]["kind"] == "leaky"
    rows = list_runs(out)
    assert len(rows) == 1 and rows[0]["status"] == "done" and rows[0]["metrics"]["n_reached"] == n
    assert "N reached" in output and not [p for p in out.iterdir() if p.name.startswith(".")]


def test_analyze_timescales_command(parity_run):
    _, run, _ = parity_run
    res = invoke("analyze-timescales", run, "--steps", 1500, "--trials", 2, "--no-robustness")
    assert res.exit_code == 0, res.output
    assert "τ_net" in res.output
    ts = json.loads((run / "timescales.json").read_text())
    assert "robustness" not in ts


def test_hmm_command(tmp_path):
    res = invoke(
        "task",
        "hmm",
        "--steps",
        4,
        "--hidden",
        8,
        "--batch-size",
        32,
        "--seq-len",
        8,
        "--out",
        tmp_path,
    )
    assert res.exit_code == 0, res.output
    (run,) = [p for p in tmp_path.iterdir() if p.is_dir()]
    m = json.loads((run / "metrics.json").read_text())
    assert len(m["frequencies_rnn"]) == 3 and "noise_free" in m
    assert (run / "figures" / "hmm_statistics.png").is_file()
    assert (run / "model.safetensors").is_file()


@pytest.fixture(scope="module")
def three_head_ckpt(tmp_path_factory):
    path = tmp_path_factory.mktemp("ckpt") / "three.safetensors"
    save_task_network(path, TaskNetwork(build_core("leaky", 8), 3))
    return path


CASES = [
    (["task", "parity", "--max-n", 1], "max-n"),
    (["task", "dms", "--max-n", 4, "--start-n", 1], "start-n"),
    (["task", "parity", "--curriculum", "spiral"], "curriculum"),
    (["task", "parity", "--model", "transformer"], "model"),
    (["task", "dms", "--hidden", 0], "hidden size"),
    (["task", "hmm", "--states", 7], "states"),
    (["task", "hmm", "--kind", "ring"], "HMM kind"),
    (["task", "parity", "--preset", "papr"], "preset"),
    (["task", "hmm", "--preset", "full"], "preset"),
    (["task", "parity", "--time-budget", "0"], "positive"),
    (["task", "dms", "--time-budget", "-3m"], "positive"),
    (["task", "hmm", "--time-budget", "soon"], "duration"),
    (["task", "parity", "--precision", "fp8"], "precision"),
]


@pytest.mark.parametrize(("args", "match"), CASES)
def test_bad_input_exits_2_with_one_line(args, match, tmp_path):
    res = invoke(*args, "--out", tmp_path / "runs")
    assert res.exit_code == 2, res.output
    assert match.lower() in res.output.lower()
    assert "Traceback" not in res.output and len(res.output.strip().splitlines()) <= 3
    assert not (tmp_path / "runs").exists() or not any(
        p.is_dir() for p in (tmp_path / "runs").iterdir()
    )


def test_head_count_mismatch_with_checkpoint(three_head_ckpt, tmp_path):
    res = invoke(
        "task",
        "parity",
        "--init",
        three_head_ckpt,
        "--curriculum",
        "multi",
        "--start-n",
        3,
        "--out",
        tmp_path,
    )
    assert res.exit_code == 2 and "3 head" in res.output and "2 were asked" in res.output


def test_analyze_refuses_a_directory_that_is_not_a_task_run(tmp_path):
    (tmp_path / "config.json").write_text("{}")
    res = invoke("analyze-timescales", tmp_path)
    assert res.exit_code == 2 and "memory-task" in res.output
    res = invoke("analyze-timescales", tmp_path / "nope")
    assert res.exit_code == 2 and "does not exist" in res.output


def test_the_quick_preset_is_the_default_and_recorded(tmp_path, one_thread):
    """Without size flags a run takes the quick preset's 128 units; explicit flags win, and a
    time budget stops training cleanly with status time_budget."""
    res = invoke(
        "task", "parity", "--max-n", 30, "--steps-per-epoch", 5, "--time-budget", "2s",
        "--no-analyze", "--out", tmp_path,
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    (run,) = [p for p in tmp_path.iterdir() if p.is_dir()]
    cfg = json.loads((run / "config.json").read_text())
    assert cfg["preset"] == "quick" and cfg["model"]["config"]["latent_dim"] == 128
    assert cfg["task"]["batch_size"] == 128 and cfg["task"]["steps_per_epoch"] == 5
    assert cfg["task"]["time_budget"] == 2.0 and cfg["analysis"]["steps"] == 2000
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["stopped"] == "time_budget" and metrics["n_reached"] < 30
