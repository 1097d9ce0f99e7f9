"""The disk cache of integrated trajectories.

Integrated trajectories are cached on disk (``$ATTRACTOR_CACHE/systems``, default
``~/.cache/attractor/systems``) as ``.npz`` files named by a hash of everything that determines
them (system, parameters, initial condition, n, pts_per_period, transient, solver, tolerances,
dysts version, cache format); files are written to a temporary name and renamed, and an
unreadable or inconsistent file is regenerated. Observation noise is added after the cache, so
noisy variants of one trajectory share a cache file.

A failed cache write only warns: the trajectory is still returned, it is just not kept.
"""

from __future__ import annotations

import hashlib
import json
import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from attractor.io import atomic_open

#: Version of the cache file layout and of the generation procedure; bump it to invalidate caches.
CACHE_FORMAT = 1
#: Environment variable naming the cache root (trajectories go to its ``systems`` folder).
CACHE_ENV = "ATTRACTOR_CACHE"


def default_cache_dir() -> Path:
    root = os.environ.get(CACHE_ENV)
    base = Path(root).expanduser() if root else Path.home() / ".cache" / "attractor"
    return base / "systems"


def cache_key(spec: dict[str, Any]) -> str:
    blob = json.dumps(spec, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()[:24]


def read_cache(
    path: Path, spec_json: str, shape: tuple[int, int]
) -> tuple[np.ndarray, dict[str, Any]] | None:
    """The cached values and extras if ``path`` holds a complete, matching trajectory."""
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as f:
            values = np.array(f["values"], dtype=np.float64)
            stored = str(f["spec"])
            extra = json.loads(str(f["extra"]))
    except Exception:  # any unreadable file is regenerated, never fatal
        return None
    if stored != spec_json or values.shape != shape or not np.all(np.isfinite(values)):
        return None
    if not isinstance(extra, dict) or len(extra.get("names", ())) != shape[1]:
        return None
    return values, extra


def write_cache(path: Path, spec_json: str, values: np.ndarray, extra: dict[str, Any]) -> None:
    """Write atomically (:func:`attractor.io.atomic_open`); a failure only costs the cache."""
    try:
        with atomic_open(path) as fh:
            np.savez(fh, values=values, spec=np.array(spec_json), extra=np.array(json.dumps(extra)))
    except OSError as exc:
        warnings.warn(f"could not write the trajectory cache {path} ({exc}).", stacklevel=3)
