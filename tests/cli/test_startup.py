"""The command line starts light and speaks in flags: ``import attractor``, ``attractor --help``
and ``attractor systems list`` never import torch; every public name of the package resolves
lazily; library errors name Python parameters and the CLI rewrites them as its flags."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

import attractor
from attractor.cli import app
from attractor.cli._common import to_flags
from attractor.errors import ConfigError


def _modules_after(code: str) -> dict:
    """Run ``code`` in a fresh interpreter; return which heavy modules it imported."""
    probe = (
        f"{code}\nimport json, sys\n"
        "print(json.dumps({m: m in sys.modules for m in ('torch', 'matplotlib', 'attractor.cli')}))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _run_cli(*args: str) -> str:
    return (
        "import sys\nfrom attractor.cli import app\n"
        f"try:\n    app({list(args)!r})\nexcept SystemExit as e:\n    assert e.code == 0, e.code"
    )


def test_import_attractor_does_not_import_torch():
    seen = _modules_after("import attractor")
    assert not seen["torch"] and not seen["matplotlib"] and not seen["attractor.cli"]


@pytest.mark.parametrize("args", [("--help",), ("systems", "list"), ("fit", "--help")])
def test_help_and_systems_list_do_not_import_torch(args):
    assert not _modules_after(_run_cli(*args))["torch"]


def test_a_command_still_reaches_the_library():
    """The guard above is not vacuous: a command that needs a model does import torch."""
    assert _modules_after(_run_cli("models"))["torch"]


def test_every_public_name_resolves_lazily():
    for name in attractor.__all__:
        assert getattr(attractor, name) is not None, name
    assert set(attractor.__all__) <= set(dir(attractor))
    from attractor.api.fit import fit
    from attractor.runs.directory import load_run

    assert attractor.fit is fit and attractor.load_run is load_run
    assert attractor.models.MODELS  # subpackages stay reachable as attributes
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        attractor.nope  # noqa: B018


def test_python_m_attractor_cli_loads_the_app_once():
    proc = subprocess.run(
        [sys.executable, "-W", "error::RuntimeWarning", "-m", "attractor.cli", "--help"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Usage:" in proc.stdout and "analyze-timescales" in proc.stdout


def test_the_latent_error_names_the_parameter_in_python():
    from attractor.models import ShallowPLRNN

    with pytest.raises(ConfigError) as info:
        ShallowPLRNN(obs_dim=3, latent_dim=2)
    assert "latent=3" in str(info.value) and "--" not in str(info.value)


def test_the_latent_error_names_the_flag_on_the_command_line(tmp_path, lorenz_csv):
    args = ["fit", str(lorenz_csv), "--model", "shplrnn", "--latent", "2", "--out", str(tmp_path)]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 2
    assert "--latent 3 or more" in res.output and "latent=" not in res.output


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("pass latent=3 or more.", "pass --latent 3 or more."),
        ("raise latent= or lower n_relu=.", "raise --latent or lower --n-relu."),
        ("device='cuda' was asked for", "--device cuda was asked for"),
        ("pass resume=True to continue", "pass --resume to continue"),
        ("max_n must be ≥ 2; shorten seq_len.", "--max-n must be ≥ 2; shorten --seq-len."),
        ("list_systems() gives the 135 names", "`attractor systems list` gives the 135 names"),
        # not parameters: unknown names, paths and attributes stay as they are
        ("parameters a=10, b=28", "parameters a=10, b=28"),
        ("/tmp/seq_len.npy and x.seq_len", "/tmp/seq_len.npy and x.seq_len"),
    ],
)
def test_to_flags_rewrites_only_known_parameters(message, expected):
    assert to_flags(message) == expected
