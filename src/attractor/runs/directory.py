"""Run directories: everything one fit produced, saved atomically and loadable again.

Layout of ``<out>/<timestamp>-<name>/``::

    config.json        model kind + constructor arguments, training config, forcing, data
                       provenance (source, dt, channel names, scaler, embedding, noise, split)
    versions.json      Python, attractor, torch, numpy, scipy, dysts versions and the platform
    model.safetensors  the selected (best-validation) parameters; loads without executing code
    history.csv        one row per epoch: loss, α, lr, time, validation D_stsp / D_H
    metrics.json       held-out test metrics (D_stsp, D_H, PE(20), λ_max, …) and training summary
    test.npy           the held-out test trajectory in data units (what ``attractor eval`` uses)
    figures/*.png      attractor, time series, spectra, training curves

A run is built in a hidden ``.<name>.partial`` directory and renamed into place when complete,
and every file is written to a temporary name first and then renamed, so an interrupted or
failed fit never leaves a half-written run behind.
"""

from __future__ import annotations

import csv
import io
import json
import os
import platform
import shutil
import sys
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import torch

from attractor.data.series import Scaler
from attractor.errors import RunError
from attractor.io import (
    atomic_write_bytes,
    read_json,
    read_safetensors,
    write_json,
    write_safetensors,
)
from attractor.models.base import DynamicalModel
from attractor.models.registry import from_config

CONFIG = "config.json"
VERSIONS = "versions.json"
CHECKPOINT = "model.safetensors"
HISTORY = "history.csv"
METRICS = "metrics.json"
TEST_DATA = "test.npy"
FIGURES = "figures"
REQUIRED = (CONFIG, CHECKPOINT)


def write_history(path: str | Path, history: list[dict[str, Any]]) -> Path:
    keys: list[str] = []
    for row in history:
        keys += [k for k in row if k not in keys]
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=keys or ["epoch"], lineterminator="\n")
    w.writeheader()
    for row in history:
        w.writerow(row)
    return atomic_write_bytes(path, buf.getvalue().encode())


def read_history(path: str | Path) -> list[dict[str, Any]]:
    path = Path(path)
    if not path.exists():
        return []
    rows = []
    with path.open(newline="") as fh:
        for row in csv.DictReader(fh):
            rows.append({k: _num(v) for k, v in row.items()})
    return rows


def _num(v: str) -> Any:
    if v == "":
        return None
    try:
        f = float(v)
    except ValueError:
        return v
    return int(f) if f.is_integer() and "." not in v and "e" not in v.lower() else f


def save_checkpoint(path: str | Path, model: DynamicalModel) -> Path:
    """Parameters and buffers as safetensors, with the model kind and config as metadata."""
    meta = {"kind": model.kind, "config": json.dumps(model.config())}
    return write_safetensors(path, model.state_dict(), meta)


def load_checkpoint(path: str | Path, kind: str | None = None, config: dict | None = None):
    """Rebuild a model from a safetensors checkpoint (no code is executed on load)."""
    path = Path(path)
    if not path.exists():
        raise RunError(f"{path} is missing; the run directory has no checkpoint.")
    state, meta = read_safetensors(path)
    kind = kind or meta.get("kind")
    config = config if config is not None else json.loads(meta.get("config", "{}"))
    if not kind:
        raise RunError(f"{path} does not say which model it holds.")
    model = from_config(kind, config)
    try:
        model.load_state_dict(state)
    except RuntimeError as exc:
        raise RunError(
            f"{path} does not match a {kind!r} model with this config ({exc})."
        ) from None
    return model


def versions() -> dict[str, str]:
    """Versions of everything that can change a result."""
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": sys.version.split()[0], "platform": platform.platform()}
    for pkg in ("attractor", "torch", "numpy", "scipy", "dysts", "safetensors"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = "not installed"
    out["torch_threads"] = str(torch.get_num_threads())
    return out


# ---------------------------------------------------------------------------- the Run object
@dataclass
class Run:
    """A finished fit: its directory, config, model, scaler, metrics and history."""

    path: Path
    config: dict[str, Any]
    model: DynamicalModel
    scaler: Scaler | None
    metrics: dict[str, Any] = field(default_factory=dict)
    history: list[dict[str, Any]] = field(default_factory=list)

    @property
    def dt(self) -> float:
        return float(self.config.get("data", {}).get("dt", 1.0))

    @property
    def name(self) -> str:
        return self.path.name

    def to_model_units(self, x: np.ndarray) -> np.ndarray:
        return self.scaler.transform(x) if self.scaler is not None else np.asarray(x)

    def to_data_units(self, x: np.ndarray) -> np.ndarray:
        return self.scaler.inverse(x) if self.scaler is not None else np.asarray(x)

    def test_data(self) -> np.ndarray | None:
        """The held-out test trajectory saved with the run, in data units (None if absent)."""
        f = self.path / TEST_DATA
        return np.load(f, allow_pickle=False) if f.exists() else None

    def simulate(self, steps: int, x0: np.ndarray | None = None) -> np.ndarray:
        """Free run of ``steps`` points in the data's own units, from ``x0`` (data units) or the
        first held-out test point."""
        if x0 is None:
            test = self.test_data()
            if test is None:
                raise RunError(f"{self.path} has no test data to start from; pass x0.")
            x0 = test[0]
        from attractor.metrics.protocol import free_run

        z = free_run(self.model, self.to_model_units(np.asarray(x0, dtype=float)), steps)
        return self.to_data_units(z)

    def __repr__(self) -> str:
        show = {
            k: self.metrics.get(k) for k in ("D_stsp", "D_H", "lambda_max") if k in self.metrics
        }
        return f"Run({str(self.path)!r}, model={self.model.kind!r}, metrics={show})"


def new_run_name(label: str) -> str:
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
    safe = "".join(c if c.isalnum() or c in "-_." else "-" for c in label)[:60]
    return f"{stamp}-{safe}"


def partial_dir(out: Path, name: str) -> Path:
    return out / f".{name}.partial"


def claim_run_dir(out: Path, label: str) -> tuple[str, Path]:
    """A fresh run name under ``out`` and its hidden working directory, created atomically.

    Two runs started in the same second with the same label (parallel jobs, scripts) get
    ``…-2``, ``…-3``: ``mkdir`` without ``exist_ok`` is the lock, so no run ever writes into
    another's directory.
    """
    base = new_run_name(label)
    out.mkdir(parents=True, exist_ok=True)
    for k in range(1, 10_000):
        name = base if k == 1 else f"{base}-{k}"
        if (out / name).exists():
            continue
        partial = partial_dir(out, name)
        try:
            partial.mkdir()
        except FileExistsError:
            continue
        return name, partial
    raise RunError(f"could not find a free run name for {base!r} under {out}.")


def start_run(out: Path, label: str, config: dict[str, Any]) -> tuple[str, Path, int]:
    """Claim a run directory, record the start in the run index and write config and versions;
    returns ``(name, working directory, run id)``. Nothing is left behind if any step fails."""
    from attractor.runs import index as runindex

    name, partial = claim_run_dir(out, label)
    try:
        run_id = runindex.record_start(out, name, config)
        write_json(partial / CONFIG, config)
        write_json(partial / VERSIONS, versions())
    except BaseException:
        discard(partial)
        raise
    return name, partial, run_id


def finalise(partial: Path, final: Path) -> Path:
    """Move a complete run from its hidden working name into place (fails if taken)."""
    if final.exists():
        raise RunError(f"{final} already exists; choose another out= or name=.")
    os.replace(partial, final)
    return final


def discard(partial: Path) -> None:
    shutil.rmtree(partial, ignore_errors=True)


def load_run(path: str | Path) -> Run:
    """Bring back a run directory with its model (safetensors) and scaler."""
    path = Path(path)
    if not path.exists():
        raise RunError(f"run directory {path} does not exist.")
    if not path.is_dir():
        raise RunError(f"{path} is a file, not a run directory.")
    missing = [f for f in REQUIRED if not (path / f).exists()]
    if missing:
        raise RunError(f"{path} is not a complete run directory (missing {', '.join(missing)}).")
    config = read_json(path / CONFIG)
    mcfg = config.get("model", {})
    model = load_checkpoint(path / CHECKPOINT, mcfg.get("kind"), mcfg.get("config"))
    model.eval()
    sc = config.get("data", {}).get("scaler")
    scaler = Scaler.from_dict(sc) if sc else None
    metrics = read_json(path / METRICS) if (path / METRICS).exists() else {}
    return Run(path, config, model, scaler, metrics, read_history(path / HISTORY))
