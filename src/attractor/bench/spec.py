"""A benchmark specification: systems × models × seeds × protocol, from flags or a TOML file.

A spec has two parts:

* *what* to run — ``systems`` (names or a suite), ``models`` (registry names), ``seeds``;
* *how* each job runs — :class:`Settings`: the protocol (``reconstruction``, ``forecast`` or
  ``both``), the per-job training budget (``epochs`` and/or ``budget_seconds``), the data size,
  noise and evaluation lengths.

The results store keys every job by ``(spec_hash, system, model, seed)`` where ``spec_hash``
hashes only the settings, so growing a sweep (more systems, models or seeds) reuses the jobs
already done, while changing a setting starts a new set. A TOML file holds the same keys as the
flags::

    suite = "quick"                    # or: systems = ["Lorenz", "Rossler"]
    models = ["shplrnn", "esn"]
    seeds = [0, 1]
    protocol = "both"
    budget_seconds = 60
    n_train = 20000

With ``budget_seconds`` the epochs a model gets depend on the machine's speed, so results are
only reproducible across executors and machines with ``epochs`` alone.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import tomllib

from attractor.errors import ConfigError, UnknownNameError, did_you_mean

PROTOCOLS = ("reconstruction", "forecast", "both")
#: Version of what a job computes; bump it when the meaning of a job's numbers changes.
JOB_FORMAT = 1


@dataclass(frozen=True)
class Settings:
    """How every job of a sweep runs (hashed into the spec hash).

    ``epochs`` caps the epochs of gradient-trained models (default: the preset's), and
    ``budget_seconds`` caps their training time in CPU seconds of the job's process (equal for
    every model, and unaffected by other jobs sharing the cores; ignored by models fitted in
    closed form). ``n_train`` samples of training data per system (validation
    ``n_train/5``, test ``n_train/2``), ``noise`` observation noise (× channel std).
    ``lyapunov_steps``: steps of the model's λ_max estimate. ``forecast_starts``: forecasts per
    system in the forecast protocol. ``threads``: torch threads per job (1 keeps results
    identical across executors). ``trace_points``: points of the true and generated trajectories
    kept for the report's thumbnails.
    """

    protocol: str = "reconstruction"
    epochs: int | None = None
    budget_seconds: float | None = None
    n_train: int = 20_000
    noise: float = 0.0
    preset: str = "quick"
    lyapunov_steps: int = 5_000
    forecast_starts: int = 3
    threads: int = 1
    trace_points: int = 2_000

    def check(self) -> None:
        if self.protocol not in PROTOCOLS:
            raise ConfigError(
                f"unknown protocol {self.protocol!r}; choose one of {', '.join(PROTOCOLS)}."
                + did_you_mean(self.protocol, PROTOCOLS)
            )
        if self.epochs is not None and self.epochs < 1:
            raise ConfigError(f"epochs must be at least 1, got {self.epochs}.")
        if self.budget_seconds is not None and not (
            math.isfinite(self.budget_seconds) and self.budget_seconds > 0
        ):
            raise ConfigError(f"budget_seconds must be positive, got {self.budget_seconds}.")
        for name, low in (
            ("n_train", 1_000),
            ("lyapunov_steps", 100),
            ("forecast_starts", 1),
            ("threads", 1),
            ("trace_points", 100),
        ):
            if getattr(self, name) < low:
                raise ConfigError(f"{name} must be at least {low}, got {getattr(self, name)}.")
        if not (math.isfinite(self.noise) and self.noise >= 0):
            raise ConfigError(f"noise must be a non-negative number, got {self.noise}.")
        from attractor.train.recipes import PRESETS

        if self.preset not in PRESETS:
            raise ConfigError(
                f"unknown preset {self.preset!r}; choose one of {', '.join(PRESETS)}."
            )

    def spec_hash(self) -> str:
        """16 hex digits of SHA-256 over the canonical JSON of the settings."""
        blob = json.dumps({**asdict(self), "format": JOB_FORMAT}, sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Job:
    """One unit of work: train ``model`` on ``system`` with ``seed`` under ``settings``."""

    system: str
    model: str
    seed: int
    settings: Settings

    @property
    def key(self) -> tuple[str, str, str, int]:
        return (self.settings.spec_hash(), self.system, self.model, self.seed)

    @property
    def label(self) -> str:
        return f"{self.system} · {self.model} · seed {self.seed}"


@dataclass(frozen=True)
class BenchSpec:
    """Systems × models × seeds under one :class:`Settings`."""

    systems: tuple[str, ...]
    models: tuple[str, ...]
    seeds: tuple[int, ...] = (0,)
    settings: Settings = field(default_factory=Settings)

    @property
    def spec_hash(self) -> str:
        return self.settings.spec_hash()

    def jobs(self) -> list[Job]:
        """All jobs, system-major (so a partial sweep covers whole systems first)."""
        return [
            Job(s, m, seed, self.settings)
            for s in self.systems
            for m in self.models
            for seed in self.seeds
        ]

    def to_dict(self) -> dict[str, Any]:
        return {
            "systems": list(self.systems),
            "models": list(self.models),
            "seeds": list(self.seeds),
            "settings": asdict(self.settings),
        }


# ---------------------------------------------------------------------------- resolution
def resolve_systems(names: list[str]) -> tuple[str, ...]:
    """Catalogue spellings of ``names`` (case-insensitive, aliases allowed), duplicates dropped."""
    from attractor.data.systems import ALIASES, list_systems

    known = list_systems()
    lower = {k.lower(): k for k in known}
    out: list[str] = []
    for n in names:
        key = lower.get(n.strip().lower()) or ALIASES.get(
            n.strip().lower().replace("-", "").replace("_", "")
        )
        if key is None:
            raise UnknownNameError(
                f"unknown system {n!r}; `attractor systems list` shows the {len(known)} known "
                "names." + did_you_mean(n, known)
            )
        if key not in out:
            out.append(key)
    return tuple(out)


def resolve_models(names: list[str]) -> tuple[str, ...]:
    """Registry names of ``names`` (looked up when the sweep starts, so late-registered models
    work), duplicates dropped."""
    from attractor.models.registry import get_entry

    out: list[str] = []
    for n in names:
        if n.strip().lower() != "auto":  # the per-dataset search (attractor.api.search)
            get_entry(n.strip())
        if n.strip().lower() not in out:
            out.append(n.strip().lower())
    return tuple(out)


def _split(value: str | list[str] | tuple[str, ...] | None) -> list[str]:
    if value is None:
        return []
    items = value.split(",") if isinstance(value, str) else list(value)
    return [str(v).strip() for v in items if str(v).strip()]


def _seeds(value: Any) -> tuple[int, ...]:
    if isinstance(value, int) and not isinstance(value, bool):
        value = [value]
    seeds = []
    for v in _split(value) if isinstance(value, str) else list(value or []):
        try:
            s = int(v)
        except (TypeError, ValueError):
            raise ConfigError(f"seeds must be non-negative integers, got {v!r}.") from None
        if s < 0 or (isinstance(v, float) and v != s):
            raise ConfigError(f"seeds must be non-negative integers, got {v!r}.")
        if s not in seeds:
            seeds.append(s)
    return tuple(seeds)


def make_spec(
    systems: str | list[str] | None = None,
    suite: str | None = None,
    models: str | list[str] | None = None,
    seeds: Any = (0,),
    **settings: Any,
) -> BenchSpec:
    """Build and validate a spec. ``systems`` and ``suite`` are combined; ``seeds`` may be a
    count-free list (``[0, 1]``) or a comma string; ``settings`` are :class:`Settings` fields
    (``None`` values keep the defaults)."""
    from attractor.bench.suites import suite as suite_systems

    names = _split(systems)
    if suite:
        names = suite_systems(suite) + names
    if not names:
        raise ConfigError(
            "the benchmark has no systems; pass systems= or a suite= ('quick' or 'all')."
        )
    model_names = _split(models)
    if not model_names:
        raise ConfigError("the benchmark has no models; pass models=, e.g. models='shplrnn,esn'.")
    seed_tuple = _seeds(seeds)
    if not seed_tuple:
        raise ConfigError("the benchmark has no seeds; pass seeds=, e.g. seeds='0,1,2'.")
    known = {f.name for f in fields(Settings)}
    unknown = sorted(set(settings) - known)
    if unknown:
        raise ConfigError(
            f"unknown benchmark setting(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}."
        )
    try:
        st = replace(Settings(), **{k: v for k, v in settings.items() if v is not None})
    except TypeError as exc:
        raise ConfigError(f"bad benchmark settings ({exc}).") from None
    st.check()
    return BenchSpec(resolve_systems(names), resolve_models(model_names), seed_tuple, st)


def load_spec(path: str | Path, **overrides: Any) -> BenchSpec:
    """Read a TOML spec (module docstring); non-``None`` ``overrides`` replace its keys."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"the spec file {path} does not exist.") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read the spec file {path} ({exc}).") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML ({exc}).") from None
    data.update({k: v for k, v in overrides.items() if v is not None})
    try:
        return make_spec(**data)
    except TypeError as exc:
        raise ConfigError(f"{path}: unexpected content ({exc}).") from None
