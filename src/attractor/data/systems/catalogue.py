"""The dysts catalogue: names, aliases, metadata and what dysts knows about each system.

dysts' JSON metadata is read once (without importing ``dysts.flows``, which takes ~2 s);
:func:`system_info` imports the flows only to read a system's equations.
"""

from __future__ import annotations

import copy
import inspect
import json
import textwrap
import warnings
from dataclasses import asdict, dataclass
from functools import lru_cache
from importlib import metadata as importlib_metadata
from importlib import resources
from typing import Any

from attractor.errors import UnknownNameError, did_you_mean

#: Default number of points per dominant period (dysts' default).
PTS_PER_PERIOD = 100


@lru_cache(maxsize=1)
def _catalogue() -> dict[str, dict[str, Any]]:
    """dysts' metadata of the continuous systems (read once; callers must not mutate it)."""
    path = resources.files("dysts").joinpath("data/chaotic_attractors.json")
    return json.loads(path.read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def dysts_version() -> str:
    return importlib_metadata.version("dysts")


def dysts_flows() -> Any:
    """Import ``dysts.flows`` (slow, ~2 s) without its "Numba not installed" warning."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Numba not installed")
        import dysts.flows

    return dysts.flows


def entry(key: str) -> dict[str, Any]:
    """The catalogue entry of the canonical name ``key`` (shared: callers must not mutate it)."""
    return _catalogue()[key]


def dysts_metadata() -> dict[str, dict[str, Any]]:
    """dysts' metadata of every continuous system, name → entry (a copy the caller may keep).

    Each entry holds dysts' JSON fields, e.g. ``maximum_lyapunov_estimated``,
    ``kaplan_yorke_dimension``, ``period``, ``delay``, ``parameters``.
    """
    return copy.deepcopy(_catalogue())


#: Names users of the field say for some catalogue systems (lower case, no dashes).
ALIASES = {
    "lorenz63": "Lorenz",
    "lorenz1963": "Lorenz",
    "rössler": "Rossler",
    "roessler": "Rossler",
    "chua": "Chua",
    "mackeyglass": "MackeyGlass",
}


def list_systems() -> list[str]:
    """Names of all 135 continuous dysts systems (129 ODEs and 6 delay equations), sorted."""
    return sorted(_catalogue())


def canonical_name(name: str) -> str:
    """The catalogue's spelling of ``name`` (case-insensitive), or UnknownNameError."""
    if not isinstance(name, str):
        raise UnknownNameError(f"a system name must be a string, got {type(name).__name__}.")
    cat = _catalogue()
    if name in cat:
        return name
    lower = {k.lower(): k for k in cat}
    if name.lower() in lower:
        return lower[name.lower()]
    alias = ALIASES.get(name.lower().replace("-", "").replace("_", ""))
    if alias is not None:
        return alias
    raise UnknownNameError(
        f"unknown system {name!r}; list_systems() gives the {len(cat)} known names."
        + did_you_mean(name, list(cat))
    )


@dataclass(frozen=True)
class SystemInfo:
    """What dysts knows about one system (parameters, initial condition, invariants, equations).

    ``dimension`` is the number of channels a trajectory has (for delay systems: the number of
    delay-embedding lags). ``dt`` is dysts' integration step and ``period`` its dominant
    period, both in the system's time units; ``lyapunov_max`` (per unit time),
    ``lyapunov_spectrum``, ``correlation_dimension`` and ``kaplan_yorke_dimension`` are dysts'
    numerical estimates, and ``mean``/``std`` the per-channel moments of dysts' reference
    trajectory. ``equations`` is the Python source of the right-hand side (``_rhs``, or the
    whole class where dysts overrides ``rhs``).
    """

    name: str
    dimension: int
    parameters: dict[str, Any]
    initial_conditions: list[float]
    dt: float
    period: float
    pts_per_period: int
    lyapunov_max: float | None
    lyapunov_spectrum: list[float] | None
    correlation_dimension: float | None
    kaplan_yorke_dimension: float | None
    description: str
    citation: str
    delay: bool
    nonautonomous: bool
    equations: str
    tau: float | None
    hamiltonian: bool
    unbounded_indices: list[int]
    mean: list[float]
    std: list[float]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able copy of every field."""
        return asdict(self)


def _overrides_rhs(cls: type) -> bool:
    """Whether the dysts class defines ``rhs`` itself instead of only ``_rhs``."""
    return any("rhs" in vars(c) for c in cls.__mro__ if c.__module__ == cls.__module__)


def _equations(cls: type) -> str:
    """Dedented source of the system's right-hand side."""
    try:
        if _overrides_rhs(cls):
            src = inspect.getsource(cls)
        else:
            fn = cls._rhs
            src = inspect.getsource(getattr(fn, "py_func", fn))
    except (OSError, TypeError):  # source not available (e.g. a frozen install)
        return ""
    return textwrap.dedent(src)


def system_info(name: str) -> SystemInfo:
    """Everything dysts records about system ``name`` (case-insensitive).

    Raises UnknownNameError (with close matches) for a name that is not in :func:`list_systems`.
    """
    key = canonical_name(name)
    m = copy.deepcopy(_catalogue()[key])
    cls = getattr(dysts_flows(), key)
    params = m["parameters"]
    return SystemInfo(
        name=key,
        dimension=int(m["embedding_dimension"]),
        parameters=params,
        initial_conditions=[float(v) for v in m["initial_conditions"]],
        dt=float(m["dt"]),
        period=float(m["period"]),
        pts_per_period=PTS_PER_PERIOD,
        lyapunov_max=m.get("maximum_lyapunov_estimated"),
        lyapunov_spectrum=m.get("lyapunov_spectrum_estimated"),
        correlation_dimension=m.get("correlation_dimension"),
        kaplan_yorke_dimension=m.get("kaplan_yorke_dimension"),
        description=m.get("description", ""),
        citation=m.get("citation", ""),
        delay=bool(m.get("delay", False)),
        nonautonomous=bool(m.get("nonautonomous", False)),
        equations=_equations(cls),
        tau=float(params["tau"]) if m.get("delay") else None,
        hamiltonian=bool(m.get("hamiltonian", False)),
        unbounded_indices=list(m.get("unbounded_indices") or []),
        mean=list(m.get("mean") or []),
        std=list(m.get("std") or []),
    )


def channel_names(cls: type, dimension: int, delay: bool) -> tuple[str, ...]:
    """dysts' variable names (the arguments of ``_rhs`` before ``t``) where they name the
    returned channels one to one; ``x0 … x{D−1}`` otherwise (delay embeddings, overridden
    ``rhs``, post-processed coordinates)."""
    default = tuple(f"x{i}" for i in range(dimension))
    if delay or _overrides_rhs(cls) or hasattr(cls, "_postprocessing"):
        return default
    try:
        fn = cls._rhs
        args = list(inspect.signature(getattr(fn, "py_func", fn)).parameters)
    except (TypeError, ValueError):
        return default
    names = args[: args.index("t")] if "t" in args else []
    ok = len(names) == dimension and len(set(names)) == dimension
    return tuple(names) if ok else default
