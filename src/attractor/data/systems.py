"""The dysts catalogue of chaotic systems: equations, parameters, invariants, fast trajectories.

`dysts <https://github.com/williamgilpin/dysts>`_ (Gilpin 2021) collects 135 continuous chaotic
systems — 129 ordinary differential equations ``ẋ = f(x, t; θ)`` and 6 delay differential
equations ``ẋ(t) = f(x(t), x(t − τ), t; θ)`` — each with literature parameters θ, an initial
condition on the attractor, a dominant period and estimated invariants (λ_max, the Lyapunov
spectrum, correlation and Kaplan–Yorke dimensions). This module uses dysts as a *catalogue*:
its JSON metadata, its right-hand sides ``system.rhs(X, t)`` and ``_postprocessing``; it does not
use ``make_trajectory`` to integrate, for two reasons:

* speed — ``make_trajectory`` defaults to an implicit Radau solver at ``rtol = atol = 1e-12``,
  about 90 s for 10,000 Lorenz points on this machine. An explicit 8th-order Dormand–Prince
  solver (``scipy.integrate.solve_ivp(method="DOP853")``) at ``rtol = atol = 1e-10`` on the
  same right-hand side takes ~1.7 s for the same request (see ``benchmarks/data_generation.py``);
  the attractor statistics are the same (D_stsp between the two is at the level of two dysts
  trajectories from different initial conditions).
* control — we need a transient, seeded initial conditions and a disk cache, which
  ``make_trajectory`` does not offer.

Conventions (those of dysts unless stated):

* Sampling interval ``h = period / pts_per_period`` in the system's own time units, where
  ``period`` is dysts' dominant (Fourier) period. Sample ``k`` is the state at
  ``t_k = t_off + (transient + k)·h``, integrated from the initial condition at ``t = 0``
  (``t_off = 0`` for ``seed = 0``, see below). dysts samples
  ``linspace(0, period·n/pts_per_period, n)``, whose step is larger by a factor ``n/(n−1)``;
  we use the exact ``h`` so that ``dt`` does not depend on ``n``.
* Systems with unbounded coordinates (phases, driving times) are returned after dysts'
  ``_postprocessing`` (e.g. a phase ``θ`` becomes ``sin θ``), exactly as ``make_trajectory``
  does by default.
* Delay systems are scalar DDEs with constant history ``x(t) = x₀`` for ``t ≤ 0`` and delay τ
  (the parameter ``tau``). dysts observes them through a delay embedding of ``E`` =
  ``embedding_dimension`` (10) lags spread evenly over one delay, channel ``j`` being
  ``x(t − j·τ/(E − 1))``, ``j = 0 … E−1``; we return the same ``E`` channels.
* The initial condition is dysts' stored one (a point on the attractor; for delay systems its
  first entry is the constant history). ``seed = 0`` starts there exactly; ``seed = k > 0``
  starts from ``ic + IC_PERTURBATION · std · ξ`` with ``ξ ~ N(0, I)`` drawn from ``k`` and
  ``std`` dysts' per-channel attractor standard deviation (for phase-like coordinates that
  dysts post-processes, the std of the post-processed value, ~0.7), and samples a seeded
  ``U(0, SEED_OFFSET_PERIODS)`` periods later. The perturbation is small (1 %) because larger
  ones push some systems off their attractor (SprottJerk diverges, Arneodo changes wing); the
  time offset makes the trajectories differ even where chaos is too weak to amplify the
  perturbation within the transient (SprottA, Torus, CircadianRhythm, MackeyGlass). The
  default transient (``TRANSIENT_PERIODS`` periods; for delay systems also at least
  ``TRANSIENT_DELAYS`` delays, as their constant history is off the attractor) lets every start
  settle. Train and test trajectories from different initial conditions are
  ``load_system(name, seed=0)`` and ``load_system(name, seed=1)``.

Delay systems are integrated by the method of steps: on each interval ``[kτ, (k+1)τ]`` the
delayed term is known — the constant history for ``k = 0``, the previous interval's
7th-order dense output otherwise — so the DDE is an ODE there, solved with DOP853 at the same
tolerances. The intervals end exactly at the breakpoints ``kτ`` where the solution's
derivatives jump, so the solver never steps across a discontinuity; against a fine fixed-step
RK4 reference the two agree to ~1e-10 before chaos amplifies the difference. dysts' own path
(``ddeint``: an ``scipy.integrate.ode`` stepper that only steps between sampling points and
reads the delayed state from a linear interpolant of those samples, rebuilt every step) takes
~2 s per 10,000 MackeyGlass points, ours ~0.6 s; more importantly its delayed value carries an
O(h²) interpolation error in the sampling step h, so its dynamics change with
``pts_per_period``, while ours do not.

A few systems turn stiff in places (e.g. CellCycle or BlinkingVortex from some initial
conditions), where an explicit solver crawls. DOP853 therefore gives up once it needs more than
``STIFF_EVALS_PER_SAMPLE`` right-hand-side evaluations per sampling interval (Lorenz needs ~11)
and the trajectory is recomputed with LSODA (stiff/non-stiff switching, same tolerances);
``meta["method"]`` says which one produced the values.

Integrated trajectories are cached on disk (``$ATTRACTOR_CACHE/systems``, default
``~/.cache/attractor/systems``) as ``.npz`` files named by a hash of everything that determines
them (system, parameters, initial condition, n, pts_per_period, transient, solver, tolerances,
dysts version, cache format); files are written to a temporary name and renamed, and an
unreadable or inconsistent file is regenerated. Observation noise is added after the cache, so
noisy variants of one trajectory share a cache file.
"""

from __future__ import annotations

import bisect
import copy
import hashlib
import inspect
import json
import math
import os
import tempfile
import textwrap
import time
import warnings
from dataclasses import asdict, dataclass
from functools import lru_cache
from importlib import metadata as importlib_metadata
from importlib import resources
from numbers import Integral, Real
from pathlib import Path
from typing import Any

import numpy as np

from attractor.data.series import TimeSeries
from attractor.errors import ConfigError, DataError, UnknownNameError, did_you_mean

#: Explicit Runge–Kutta method of ``scipy.integrate.solve_ivp`` used for every system.
METHOD = "DOP853"
#: Relative and absolute tolerances of the integration.
RTOL = 1e-10
ATOL = 1e-10
#: Implicit-capable fallback used where DOP853 turns out stiff (scipy's LSODA, same tolerances).
FALLBACK_METHOD = "LSODA"
#: DOP853 counts as stiff when it needs more right-hand-side evaluations than this per sampling
#: interval (after a grace of STIFF_GRACE evaluations); Lorenz needs ~11.
STIFF_EVALS_PER_SAMPLE = 500
STIFF_GRACE = 50_000
#: Wall-clock limit (seconds) for integrating one trajectory, both methods together; a system
#: whose right-hand side is non-smooth or extremely stiff (e.g. StickSlipOscillator, where LSODA
#: at 1e-10 crawls) fails with a clear error instead of blocking a sweep for hours. Override with
#: the environment variable ``ATTRACTOR_MAX_INTEGRATION_SECONDS``.
MAX_INTEGRATION_SECONDS = 300.0
MAX_SECONDS_ENV = "ATTRACTOR_MAX_INTEGRATION_SECONDS"
#: The clock is read every this many right-hand-side evaluations.
DEADLINE_CHECK_EVERY = 2_000
#: Default number of points per dominant period (dysts' default).
PTS_PER_PERIOD = 100
#: Default transient, in dominant periods, integrated and dropped before the returned samples.
TRANSIENT_PERIODS = 10
#: Delay systems also drop at least this many delays τ (their constant history is off-attractor).
TRANSIENT_DELAYS = 10
#: Size of the seeded initial-condition perturbation, in units of the attractor's per-channel std.
IC_PERTURBATION = 0.01
#: Version of the cache file layout and of the generation procedure; bump it to invalidate caches.
CACHE_FORMAT = 1
#: Seeds k > 0 also start sampling a seeded U(0, SEED_OFFSET_PERIODS) periods later, so that weakly
#: chaotic and quasi-periodic systems, where a small perturbation barely grows, still give
#: trajectories at another phase of the attractor.
SEED_OFFSET_PERIODS = 10
#: Environment variable naming the cache root (trajectories go to its ``systems`` folder).
CACHE_ENV = "ATTRACTOR_CACHE"

_IC_STREAM = 0x1C  # separates the initial-condition random stream from the noise stream


# ---------------------------------------------------------------------------- catalogue
@lru_cache(maxsize=1)
def _catalogue() -> dict[str, dict[str, Any]]:
    """dysts' metadata of the continuous systems (read once; callers must not mutate it)."""
    path = resources.files("dysts").joinpath("data/chaotic_attractors.json")
    return json.loads(path.read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def _dysts_version() -> str:
    return importlib_metadata.version("dysts")


def _dysts_flows() -> Any:
    """Import ``dysts.flows`` (slow, ~2 s) without its "Numba not installed" warning."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Numba not installed")
        import dysts.flows

    return dysts.flows


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


def _canonical_name(name: str) -> str:
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
    key = _canonical_name(name)
    m = copy.deepcopy(_catalogue()[key])
    cls = getattr(_dysts_flows(), key)
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


def _channel_names(cls: type, dimension: int, delay: bool) -> tuple[str, ...]:
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


# ---------------------------------------------------------------------------- integration
class _Stiff(Exception):
    """DOP853 needed more right-hand-side evaluations than the stiffness budget allows."""


def _guarded(fun: Any, h: float, t_start: float = 0.0) -> Any:
    """``fun`` that raises _Stiff once it is called more than ``STIFF_EVALS_PER_SAMPLE`` times per
    sampling interval ``h`` of progress (after ``STIFF_GRACE`` calls)."""
    count = 0

    def guarded(t: float, y: np.ndarray) -> Any:
        nonlocal count
        count += 1
        if count > STIFF_GRACE and count > STIFF_EVALS_PER_SAMPLE * (t - t_start) / h:
            raise _Stiff
        return fun(t, y)

    return guarded


class _TooSlow(Exception):
    """The integration ran past its wall-clock limit."""


def _max_seconds() -> float:
    raw = os.environ.get(MAX_SECONDS_ENV)
    if raw is None:
        return MAX_INTEGRATION_SECONDS
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{MAX_SECONDS_ENV} must be a number of seconds, got {raw!r}.") from None
    if not value > 0:
        raise ConfigError(f"{MAX_SECONDS_ENV} must be positive, got {raw!r}.")
    return value


def _with_deadline(fun: Any, deadline: float) -> Any:
    """``fun`` that raises _TooSlow once ``time.perf_counter()`` passes ``deadline``."""
    count = 0

    def timed(t: float, y: np.ndarray) -> Any:
        nonlocal count
        count += 1
        if count % DEADLINE_CHECK_EVERY == 0 and time.perf_counter() > deadline:
            raise _TooSlow
        return fun(t, y)

    return timed


def _fail(name: str, t_end: float, message: str) -> DataError:
    return DataError(
        f"integrating {name} up to t = {t_end:.6g} failed ({message.rstrip('.')}); "
        "try another seed or initial condition."
    )


def _integrate_ode(
    system: Any, y0: np.ndarray, t_eval: np.ndarray, h: float
) -> tuple[np.ndarray, str]:
    """Integrate ``ẋ = system.rhs(x, t)`` from ``y0`` at ``t = 0``; the states at ``t_eval``.

    Returns ``(T, D)`` values and the method that produced them. DOP853 first; if it turns
    out stiff (see ``STIFF_EVALS_PER_SAMPLE``) the whole trajectory is recomputed with
    ``FALLBACK_METHOD``. Applies dysts' ``_postprocessing`` where the system has one.
    """
    from scipy.integrate import solve_ivp

    def fun(t: float, y: np.ndarray) -> Any:
        return system.rhs(y, t)

    name = type(system).__name__
    t_end = float(t_eval[-1])
    limit = _max_seconds()
    deadline = time.perf_counter() + limit
    for method in (METHOD, FALLBACK_METHOD):
        f = _with_deadline(_guarded(fun, h) if method == METHOD else fun, deadline)
        try:
            with np.errstate(all="ignore"):
                sol = solve_ivp(
                    f, (0.0, t_end), y0, method=method, t_eval=t_eval, rtol=RTOL, atol=ATOL
                )
        except _Stiff:
            continue
        except _TooSlow:
            raise _fail(
                name,
                t_end,
                f"{method} did not finish within {limit:g} s; the right-hand side is probably "
                f"non-smooth or very stiff. Ask for fewer samples, or raise {MAX_SECONDS_ENV}",
            ) from None
        if sol.status != 0 or np.shape(sol.y)[-1] != len(t_eval):
            raise _fail(name, t_end, sol.message)
        break
    y = sol.y
    if hasattr(system, "_postprocessing"):
        with np.errstate(all="ignore"):
            parts = system._postprocessing(*y)
            y = np.stack([np.broadcast_to(np.asarray(c, dtype=float), y.shape[1:]) for c in parts])
    return np.ascontiguousarray(y.T, dtype=np.float64), method


class _History:
    """A scalar solution ``x(t)`` on one delay interval, from ``solve_ivp``'s dense output.

    For DOP853 the 7th-order interpolating polynomial of each step is evaluated in plain Python
    (the same formula as scipy's ``Dop853DenseOutput``), ~10× faster per scalar call than
    ``OdeSolution.__call__``; that call is the bottleneck of the method of steps, since every
    right-hand-side evaluation needs one delayed value. Other dense outputs use the scipy call.
    """

    def __init__(self, sol: Any) -> None:
        self.sol = sol
        ips = sol.interpolants
        self.fast = all(hasattr(ip, "F") and hasattr(ip, "y_old") for ip in ips)
        if self.fast:
            self.t_old = [float(ip.t_old) for ip in ips]
            self.h = [float(ip.h) for ip in ips]
            self.y_old = [float(ip.y_old[0]) for ip in ips]
            self.coef = [np.asarray(ip.F)[::-1, 0].tolist() for ip in ips]

    def __call__(self, t: float) -> float:
        if not self.fast:
            return float(self.sol(t)[0])
        i = max(bisect.bisect_right(self.t_old, t) - 1, 0)
        x = (t - self.t_old[i]) / self.h[i]
        xs = (x, 1.0 - x)
        y = 0.0
        for j, f in enumerate(self.coef[i]):
            y = (y + f) * xs[j & 1]
        return y + self.y_old[i]


def _integrate_dde(
    system: Any, x0: float, t_eval: np.ndarray, lags: np.ndarray, h: float
) -> tuple[np.ndarray, str]:
    """Method of steps for the scalar DDE ``ẋ = f(x(t), x(t − τ), t)``, ``x = x0`` for ``t ≤ 0``.

    Returns ``x(t_eval[k] − lags[j])`` as an array ``(T, len(lags))`` and the method used. Each
    interval ``[kτ, (k+1)τ]`` is an ODE solved by DOP853 with dense output; its delayed term
    comes from the previous interval's dense output (the constant history on the first). If
    DOP853 turns out stiff, everything is recomputed with ``FALLBACK_METHOD``.
    """
    try:
        return _method_of_steps(system, x0, t_eval, lags, h, METHOD), METHOD
    except _Stiff:
        return _method_of_steps(system, x0, t_eval, lags, h, FALLBACK_METHOD), FALLBACK_METHOD


def _method_of_steps(
    system: Any, x0: float, t_eval: np.ndarray, lags: np.ndarray, h: float, method: str
) -> np.ndarray:
    from scipy.integrate import solve_ivp

    tau = float(system.tau)
    params = system.param_list
    rhs = system._rhs
    t_end = float(t_eval[-1])
    name = type(system).__name__
    bounds = [0.0]
    dense: list[Any] = []
    y = np.array([x0], dtype=float)
    while bounds[-1] < t_end:
        a = bounds[-1]
        b = min(a + tau, t_end)
        if not dense:

            def fun(t: float, y: np.ndarray) -> list[float]:
                return [rhs(y[0], x0, t, *params)]

        else:
            past = _History(dense[-1])

            def fun(t: float, y: np.ndarray, past: _History = past) -> list[float]:
                return [rhs(y[0], past(t - tau), t, *params)]

        f = _guarded(fun, h, a) if method == METHOD else fun
        with np.errstate(all="ignore"):
            sol = solve_ivp(f, (a, b), y, method=method, dense_output=True, rtol=RTOL, atol=ATOL)
        if sol.status != 0 or not np.all(np.isfinite(sol.y[:, -1])):
            raise _fail(f"the delay system {name}", t_end, sol.message)
        dense.append(sol.sol)
        bounds.append(b)
        y = sol.y[:, -1]
    times = (t_eval[:, None] - lags[None, :]).ravel()
    out = np.full(times.shape, float(x0))
    seg = np.clip(np.searchsorted(bounds, times, side="left") - 1, 0, len(dense) - 1)
    for k in np.unique(seg[times > 0]):
        sel = (seg == k) & (times > 0)
        out[sel] = dense[k](times[sel])[0]
    return out.reshape(len(t_eval), len(lags))


def _generate(
    system: Any, start: np.ndarray, t_eval: np.ndarray, h: float, lags: np.ndarray | None
) -> tuple[np.ndarray, str]:
    """Integrate from ``start``; the finite states at ``t_eval`` ``(T, D)`` and the method used."""
    if lags is not None:
        values, method = _integrate_dde(system, float(start[0]), t_eval, lags, h)
    else:
        values, method = _integrate_ode(system, start, t_eval, h)
    bad = ~np.isfinite(values)
    if bad.any():
        t = int(np.argwhere(bad)[0][0])
        raise DataError(
            f"the trajectory of {type(system).__name__} left the finite numbers at sample {t} "
            "(it blew up); try another seed or initial condition."
        )
    return values, method


# ---------------------------------------------------------------------------- load_system
def _check_int(value: Any, what: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, Integral) or value < minimum:
        raise DataError(f"{what} must be an integer ≥ {minimum}, got {value!r}.")
    return int(value)


def _start_state(
    key: str, m: dict[str, Any], ic: np.ndarray | None, seed: int
) -> tuple[np.ndarray, str, float]:
    """The integration's initial state (ODE: ``(D,)``; delay: ``(1,)`` constant history), where
    it came from, and the seeded extra integration time before the transient."""
    delay = bool(m.get("delay"))
    dim = int(m["embedding_dimension"])
    if ic is None:
        start = np.asarray(m["initial_conditions"], dtype=float)
        origin = "dysts"
    else:
        try:
            start = np.asarray(ic, dtype=float).reshape(-1)
        except (TypeError, ValueError):
            raise DataError(f"ic must be an array of numbers, got {ic!r}.") from None
        origin = "user"
        sizes = (1, dim) if delay else (dim,)
        if start.size not in sizes or not np.all(np.isfinite(start)):
            want = f"1 or {dim} finite values" if delay else f"{dim} finite values"
            raise DataError(f"ic for {key} must have {want}, got shape {np.shape(ic)}.")
    if delay:
        start = start[:1]  # dysts: constant history equal to the first entry
    offset = 0.0
    if seed > 0:
        std = np.asarray(m.get("std") or np.ones(dim), dtype=float)[: start.size]
        std = np.where(np.isfinite(std), np.abs(std), 0.0)
        rng = np.random.default_rng([_IC_STREAM, seed])
        start = start + IC_PERTURBATION * std * rng.standard_normal(start.size)
        offset = float(rng.uniform(0.0, SEED_OFFSET_PERIODS)) * float(m["period"])
    return start, origin, offset


def _default_cache_dir() -> Path:
    root = os.environ.get(CACHE_ENV)
    base = Path(root).expanduser() if root else Path.home() / ".cache" / "attractor"
    return base / "systems"


def _cache_key(spec: dict[str, Any]) -> str:
    blob = json.dumps(spec, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()[:24]


def _read_cache(
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


def _write_cache(path: Path, spec_json: str, values: np.ndarray, extra: dict[str, Any]) -> None:
    """Write atomically (temporary file, then rename); a failure only costs the cache."""
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.stem + ".", suffix=".tmp")
        with os.fdopen(fd, "wb") as fh:
            np.savez(fh, values=values, spec=np.array(spec_json), extra=np.array(json.dumps(extra)))
        os.replace(tmp, path)
    except OSError as exc:
        if tmp is not None and os.path.exists(tmp):
            os.unlink(tmp)
        warnings.warn(f"could not write the trajectory cache {path} ({exc}).", stacklevel=3)


def load_system(
    name: str,
    n: int = 10_000,
    pts_per_period: int = PTS_PER_PERIOD,
    transient: int | None = None,
    noise: float = 0.0,
    seed: int = 0,
    ic: np.ndarray | None = None,
    cache: bool = True,
    cache_dir: str | Path | None = None,
) -> TimeSeries:
    """A trajectory of dysts system ``name`` as a TimeSeries ``(n, D)`` in the system's units.

    Parameters
    ----------
    name: a name from :func:`list_systems` (case-insensitive).
    n: number of returned samples.
    pts_per_period: samples per dominant period; ``dt = period / pts_per_period``.
    transient: samples integrated and dropped first; default ``TRANSIENT_PERIODS`` periods
        (``10 · pts_per_period``), for delay systems at least ``TRANSIENT_DELAYS`` delays.
    noise: Gaussian observation noise with std ``noise × (per-channel std)``, drawn from ``seed``.
    seed: 0 starts from ``ic`` (default: dysts' stored initial condition); ``k > 0`` from
        ``ic + IC_PERTURBATION · std · ξ``, ``ξ ~ N(0, I)`` drawn from ``k``, and samples
        ``U(0, SEED_OFFSET_PERIODS)`` periods later (also drawn from ``k``).
    ic: initial state (``(D,)``; delay systems: the constant history, one value or dysts'
        ``(D,)`` vector whose first entry is used).
    cache: read and write the clean trajectory from/to the disk cache.
    cache_dir: cache folder (default ``$ATTRACTOR_CACHE/systems`` or
        ``~/.cache/attractor/systems``).

    Returns
    -------
    TimeSeries with ``dt`` the sampling interval, ``source = "dysts:<Name>"`` and ``meta``
    recording everything that determined the values.

    Raises UnknownNameError for an unknown system and DataError for bad settings or an
    integration that fails or leaves the finite numbers.
    """
    key = _canonical_name(name)
    n = _check_int(n, "n", 2)
    pts_per_period = _check_int(pts_per_period, "pts_per_period", 2)
    seed = _check_int(seed, "seed", 0)
    if (
        isinstance(noise, bool)
        or not isinstance(noise, Real)
        or not (math.isfinite(noise) and noise >= 0)
    ):
        raise DataError(f"noise must be a finite number ≥ 0, got {noise!r}.")
    m = _catalogue()[key]
    delay = bool(m.get("delay"))
    period = float(m["period"])
    h = period / pts_per_period
    tau = float(m["parameters"]["tau"]) if delay else None
    if transient is None:
        transient = TRANSIENT_PERIODS * pts_per_period
        if delay:
            transient = max(transient, math.ceil(TRANSIENT_DELAYS * tau / h))
    transient = _check_int(transient, "transient", 0)
    start, origin, offset = _start_state(key, m, ic, seed)
    dim = int(m["embedding_dimension"])
    lags = np.linspace(0.0, tau, dim) if delay else None

    spec = {
        "format": CACHE_FORMAT,
        "system": key,
        "params": m["parameters"],
        "ic": start.tolist(),
        "n": n,
        "pts_per_period": pts_per_period,
        "period": period,
        "transient": transient,
        "time_offset": offset,
        "integrator": (
            f"method of steps + {METHOD} ({FALLBACK_METHOD} if stiff)"
            if delay
            else f"{METHOD} ({FALLBACK_METHOD} if stiff)"
        ),
        "rtol": RTOL,
        "atol": ATOL,
        "delay_lags": lags.tolist() if lags is not None else None,
        "dysts_version": _dysts_version(),
    }
    spec_json = json.dumps(spec, sort_keys=True, separators=(",", ":"))
    path = None
    if cache:
        folder = Path(cache_dir).expanduser() if cache_dir is not None else _default_cache_dir()
        path = folder / f"{key}-{_cache_key(spec)}.npz"

    hit = _read_cache(path, spec_json, (n, dim)) if path is not None else None
    if hit is not None:
        values, extra = hit  # served without importing dysts
    else:
        cls = getattr(_dysts_flows(), key)
        extra = {
            "names": list(_channel_names(cls, dim, delay)),
            "postprocessed": hasattr(cls, "_postprocessing"),
        }
        t_eval = offset + (transient + np.arange(n)) * h
        values, extra["method"] = _generate(cls(), start, t_eval, h, lags)
        if path is not None:
            _write_cache(path, spec_json, values, extra)

    meta = {
        **{k: v for k, v in json.loads(spec_json).items() if k != "format"},  # fresh copies
        "postprocessed": bool(extra.get("postprocessed", False)),
        "method": extra.get("method", METHOD),
        "ic_origin": origin,
        "seed": seed,
        "ic_perturbation": IC_PERTURBATION if seed > 0 else 0.0,
        "t0": offset + transient * h,
        "noise": float(noise),
        "cache_format": CACHE_FORMAT,
        "cache_file": str(path) if path is not None else None,
    }
    series = TimeSeries(
        values,
        dt=h,
        names=extra["names"],
        source=f"dysts:{key}",
        meta=meta,
    )
    return series.add_noise(float(noise), seed=seed) if noise > 0 else series
