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

The package, one concept per module:

* :mod:`.catalogue` — names, aliases, dysts' metadata and :func:`system_info`;
* :mod:`.integrate` — DOP853 (LSODA where stiff), delay equations by the method of steps, a
  wall-clock limit;
* :mod:`.cache` — the disk cache of integrated trajectories (``$ATTRACTOR_CACHE/systems``),
  keyed by everything that determines them; observation noise is added after it;
* :mod:`.trajectory` — :func:`load_system`, which puts the three together.
"""

from attractor.data.systems.catalogue import (
    ALIASES,
    PTS_PER_PERIOD,
    SystemInfo,
    dysts_metadata,
    list_systems,
    system_info,
)
from attractor.data.systems.trajectory import load_system

__all__ = [
    "ALIASES",
    "PTS_PER_PERIOD",
    "SystemInfo",
    "dysts_metadata",
    "list_systems",
    "load_system",
    "system_info",
]
