"""The command line, end to end: a tiny fit gives a complete, reloadable run directory, and every
bad input gives one readable line, exit status 2 and no run directory."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from typer.testing import CliRunner

from attractor import load_run
from attractor.cli import app
from attractor.runs.index import list_runs

runner = CliRunner()
TINY = ["--model", "shplrnn", "--epochs", "1", "--preset", "quick"]


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory, lorenz_csv):
    out = tmp_path_factory.mktemp("runs")
    res = invoke("fit", lorenz_csv, *TINY, "--hidden", "20", "--out", out, "--seed", "3")
    assert res.exit_code == 0, res.output
    (run_dir,) = [p for p in out.iterdir() if p.is_dir()]
    return out, run_dir, res.output


def test_fit_writes_a_complete_run_directory(tiny_run):
    out, run_dir, output = tiny_run
    for name in (
        "config.json",
        "versions.json",
        "model.safetensors",
        "history.csv",
        "metrics.json",
        "test.npy",
    ):
        assert (run_dir / name).is_file(), name
    figs = {p.name for p in (run_dir / "figures").iterdir()}
    assert {"attractor.png", "time_series.png", "spectra.png", "training.png"} <= figs
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no partial dirs left
    cfg = json.loads((run_dir / "config.json").read_text())
    assert cfg["data"]["dt"] == pytest.approx(0.01)
    assert cfg["seed"] == 3 and cfg["model"]["kind"] == "shplrnn"
    metrics = json.loads((run_dir / "metrics.json").read_text())
    for key in ("D_stsp", "D_H", "PE(20)", "lambda_max"):
        assert key in metrics
    assert "D_stsp" in output and str(run_dir) in output.replace("\n", "")
    rows = list_runs(out)
    assert len(rows) == 1 and rows[0]["status"] == "done"
    assert rows[0]["metrics"]["D_stsp"] == pytest.approx(metrics["D_stsp"])


def test_run_reloads_with_model_and_scaler(tiny_run):
    _, run_dir, _ = tiny_run
    run = load_run(run_dir)
    assert run.model.obs_dim == 3 and run.scaler is not None
    x = run.simulate(50)
    assert x.shape == (50, 3)
    np.testing.assert_allclose(
        x[0], run.test_data()[0]
    )  # starts at the first test point, data units


@pytest.mark.parametrize("suffix", [".npy", ".csv"])
def test_simulate_writes_data_units(tiny_run, tmp_path, suffix):
    _, run_dir, _ = tiny_run
    target = tmp_path / f"sim{suffix}"
    res = invoke("simulate", run_dir, "--steps", 120, "--out", target)
    assert res.exit_code == 0, res.output
    if suffix == ".npy":
        x = np.load(target)
    else:
        x = np.loadtxt(target, delimiter=",", skiprows=1)[:, -3:]
    assert x.shape == (120, 3)
    np.testing.assert_allclose(x[0], load_run(run_dir).test_data()[0], rtol=1e-6)


def test_eval_on_run_and_on_a_file(tiny_run, lorenz_csv):
    _, run_dir, _ = tiny_run
    res = invoke("eval", run_dir)
    assert res.exit_code == 0 and "D_stsp" in res.output
    res = invoke("eval", run_dir, "--data", lorenz_csv)
    assert res.exit_code == 0 and "D_stsp" in res.output


def test_eval_says_when_the_free_run_diverges(tiny_run, tmp_path):
    import shutil

    from safetensors.torch import load_file, save_file

    _, run_dir, _ = tiny_run
    bad = tmp_path / "bad_run"
    shutil.copytree(run_dir, bad)
    weights = load_file(bad / "model.safetensors")
    weights["A"] = weights["A"].abs() * 0 + 3.0  # every latent unit grows threefold per step
    save_file(weights, bad / "model.safetensors")
    res = invoke("eval", bad)
    assert res.exit_code == 0, res.output
    text = " ".join(res.output.split())  # rich wraps long lines
    assert "diverged" in text and "D_stsp and D_H are infinite" in text
    res = invoke("eval", run_dir)  # the healthy run says nothing of the kind
    assert "diverged" not in res.output


def test_same_seed_same_metrics(lorenz_csv, tmp_path):
    import attractor

    kw = dict(epochs=1, hidden=16, seed=5, out=None, figures=False)
    a = attractor.fit(str(lorenz_csv), **kw).metrics
    b = attractor.fit(str(lorenz_csv), **kw).metrics
    for key in ("D_stsp", "D_H", "PE(20)", "lambda_max"):
        assert a[key] == b[key]


def test_systems_list_and_show():
    res = invoke("systems", "list", "--filter", "lorenz")
    assert res.exit_code == 0 and "Lorenz84" in res.output
    res = invoke("systems", "show", "lorenz63")
    assert res.exit_code == 0 and "sigma" in res.output and "rho" in res.output


# ---------------------------------------------------------------------------- bad input
def _bad_files(tmp):
    x = np.random.default_rng(0).normal(size=(3000, 3))
    files = {}
    nan = x.copy()
    nan[100, 1] = np.nan
    np.savetxt(tmp / "nan.csv", nan, delimiter=",")
    files["nan"] = (tmp / "nan.csv", "NaN")
    const = x.copy()
    const[:, 2] = 1.0
    np.savetxt(tmp / "const.csv", const, delimiter=",")
    files["constant"] = (tmp / "const.csv", "constant")
    np.savetxt(tmp / "short.csv", x[:60], delimiter=",")
    files["short"] = (tmp / "short.csv", "training window")
    np.save(tmp / "fourd.npy", np.zeros((2, 2, 2, 2)))
    files["shape"] = (tmp / "fourd.npy", "4")
    (tmp / "empty.csv").write_text("")
    files["empty"] = (tmp / "empty.csv", "empty")
    (tmp / "bad.csv").write_text("1,2,3\n4,five,6\n7,8,9\n")
    files["malformed"] = (tmp / "bad.csv", "five")
    np.save(tmp / "strings.npy", np.array([["a", "b"], ["c", "d"]]))
    files["dtype"] = (tmp / "strings.npy", "")
    files["missing"] = (tmp / "nope.csv", "no such file")
    return files


CASES = [
    (["fit", "lorenz64"], "Did you mean"),
    (["fit", "lorenz63", "--model", "gru9"], "unknown model"),
    # slow: generates the 100,000-sample training trajectory before the model is built
    pytest.param(
        ["fit", "lorenz63", "--model", "shplrnn", "--latent", "2"],
        "smaller than the observed dimension",
        marks=pytest.mark.slow,
    ),
    (["fit", "lorenz63", "--model", "shplrnn", "--forcing", "magic"], "unknown forcing"),
    # the default is auto: a training flag without a model is refused, naming one to use
    (["fit", "lorenz63", "--epochs", "3"], "--model auto (the default) chooses what --epochs"),
    (["fit", "lorenz63", "--seed", "-1"], "seed"),
    (["fit", "lorenz63", "--noise", "-0.1"], "noise"),
    (["fit", "lorenz63", "--model", "shplrnn", "--preset", "huge"], "preset"),
    (["systems", "show", "NotASystem"], "unknown system"),
    (["eval", "/nonexistent/run"], "does not exist"),
    (["simulate", "/nonexistent/run", "--out", "x.npy"], "does not exist"),
]


@pytest.mark.parametrize(("args", "match"), CASES)
def test_bad_arguments_exit_2_with_one_line(args, match, tmp_path):
    res = invoke(*args, "--out", tmp_path / "runs") if args[0] == "fit" else invoke(*args)
    assert res.exit_code == 2, res.output
    assert match.lower() in res.output.lower()
    assert "Traceback" not in res.output
    assert not (tmp_path / "runs").exists() or not any(
        p.is_dir() for p in (tmp_path / "runs").iterdir()
    )


def test_bad_files_exit_2_and_leave_nothing(tmp_path):
    for label, (path, match) in _bad_files(tmp_path).items():
        out = tmp_path / f"runs-{label}"
        res = invoke("fit", path, "--model", "shplrnn", "--epochs", "1", "--out", out)
        assert res.exit_code == 2, (label, res.output)
        assert match.lower() in res.output.lower(), (label, res.output)
        assert "Traceback" not in res.output, label
        assert len(res.output.strip().splitlines()) <= 3, (
            label,
            res.output,
        )  # one sentence, wrapped
        assert not out.exists() or not any(p.is_dir() for p in out.iterdir()), label


def test_incomplete_run_directory(tmp_path):
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "config.json").write_text("{}")
    res = invoke("eval", tmp_path / "run")
    assert res.exit_code == 2 and "model.safetensors" in res.output


def test_simulate_bad_options(tiny_run, tmp_path):
    _, run_dir, _ = tiny_run
    res = invoke("simulate", run_dir, "--steps", 0, "--out", tmp_path / "a.npy")
    assert res.exit_code == 2 and "steps" in res.output
    res = invoke("simulate", run_dir, "--steps", 10, "--out", tmp_path / "a.xyz")
    assert res.exit_code == 2 and ".xyz" in res.output


def test_console_script_exit_status(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "attractor.cli", "fit", "lorenz64", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().startswith("error:") and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) <= 2


def test_runs_started_in_the_same_second_get_distinct_directories(tmp_path, monkeypatch):
    """Parallel jobs with one label in one second: each claims its own working directory."""
    from concurrent.futures import ThreadPoolExecutor

    from attractor.runs import directory as runs

    monkeypatch.setattr(runs, "new_run_name", lambda label: f"20260101-000000-{label}")
    with ThreadPoolExecutor(4) as pool:
        claimed = list(pool.map(lambda _: runs.claim_run_dir(tmp_path, "lorenz63-alrnn"), range(8)))
    names = [n for n, _ in claimed]
    assert len(set(names)) == 8 and names.count("20260101-000000-lorenz63-alrnn") == 1
    assert all(p.is_dir() and p.name == f".{n}.partial" for n, p in claimed)
    (tmp_path / "20260101-000000-lorenz63-alrnn-9").mkdir()  # a finished run keeps its name
    name, _ = runs.claim_run_dir(tmp_path, "lorenz63-alrnn")
    assert name == "20260101-000000-lorenz63-alrnn-10"
