"""Exact fixed points and k-cycles of piecewise-linear maps: enumeration and the SCYFI iteration.

On a :class:`~attractor.analysis.piecewise.PiecewiseLinearForm` the map is affine inside each
subregion, ``F_d(z) = J_d z + c_d``. A k-cycle visiting the pattern sequence ``d_1 … d_k``
solves the linear system of one period::

    z_1 = F_{d_k} ∘ ⋯ ∘ F_{d_1}(z_1)   ⇔   (I − J_{d_k} ⋯ J_{d_1}) z_1 = q,
    q = c_{d_k} + J_{d_k}(c_{d_{k−1}} + J_{d_{k−1}}( ⋯ c_{d_1}))

and ``z_{j+1} = J_{d_j} z_j + c_{d_j}``. The candidate is a true cycle iff every point's own
pattern equals the one assumed, ``1[G z_j + g > 0] = d_j`` (boundary values within ``tol`` of
0 count as either side, since F is continuous there). k = 1 gives fixed points.

* :func:`enumerate_orbits` — **exhaustive**: every sequence of the ``2^K`` patterns (feasible
  while ``2^{K·k}`` stays small). Complete: it finds every isolated k-cycle; a region
  sequence whose ``I − J`` is singular (a continuum of cycles or none) is counted and skipped.
* :func:`scyfi` — **heuristic** (the SCYFI idea of Eisenmann et al., NeurIPS 2023): start from
  a pattern sequence, solve, and when the solution's own patterns differ replace the sequence
  by those patterns and solve again; restart after ``max_iter`` unsuccessful iterations.
  Initial sequences are the patterns of ``k`` consecutive states of a given trajectory (where
  the dynamics live) and of random states. It never reports a false cycle, but it can miss
  cycles whose regions it never reaches.

Cycles are returned once each (rotations and repeats merged) and only with minimal period k.
Written by hand: the algorithm is a few batched linear solves (numpy) and no library offers it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from attractor.analysis.piecewise import PiecewiseLinearForm
from attractor.errors import ConfigError

#: ``I − J`` with a condition number above this is treated as singular.
SINGULAR_COND = 1e12
#: Boundary values within ``BOUNDARY_TOL · (1 + max|z|)`` of 0 match either side.
BOUNDARY_TOL = 1e-9
#: Two cycles are the same if their points agree within ``DEDUP_TOL · (1 + max|z|)``.
DEDUP_TOL = 1e-6
#: Default cap on the number of pattern sequences an exhaustive search may solve.
MAX_SEQUENCES = 2**16
#: Default SCYFI budget: initial sequences and iterations per initialisation.
N_INITS = 2000
MAX_ITER = 30
#: Candidates solved per batch.
BATCH = 1024


@dataclass
class RawOrbit:
    """One cycle: ``points`` ``(k, M)`` in orbit order and their ``patterns`` ``(k, K)``."""

    points: np.ndarray
    patterns: np.ndarray

    @property
    def period(self) -> int:
        return int(self.points.shape[0])


@dataclass
class ExactSearch:
    """What a search found and how: ``exhaustive`` is True only for complete enumeration."""

    orbits: list[RawOrbit]
    period: int
    exhaustive: bool
    n_solved: int
    n_singular: int
    n_inits: int = 0
    n_iterations: int = 0
    notes: list[str] = field(default_factory=list)


# ---------------------------------------------------------------------------- core solve
def _solve(form: PiecewiseLinearForm, d: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cycle candidates of pattern sequences ``d`` ``(B, k, K)``.

    Returns points ``(B, k, M)`` (NaN where singular), the one-period Jacobian products
    ``(B, M, M)`` and a ``(B,)`` mask of non-singular systems.
    """
    n, k, _ = d.shape
    m = form.latent_dim
    jac, c = form.pieces(d)  # (B, k, M, M), (B, k, M)
    prod = np.broadcast_to(np.eye(m), (n, m, m)).copy()
    q = np.zeros((n, m))
    for j in range(k):
        prod = jac[:, j] @ prod
        q = np.einsum("bmn,bn->bm", jac[:, j], q) + c[:, j]
    lhs = np.eye(m) - prod
    with np.errstate(all="ignore"):
        ok = np.isfinite(lhs).all(axis=(1, 2)) & (np.linalg.cond(lhs) < SINGULAR_COND)
    z = np.full((n, k, m), np.nan)
    if ok.any():
        z1 = np.linalg.solve(lhs[ok], q[ok][..., None])[..., 0]
        zs = [z1]
        for j in range(k - 1):
            zs.append(np.einsum("bmn,bn->bm", jac[ok, j], zs[-1]) + c[ok, j])
        z[ok] = np.stack(zs, axis=1)
    return z, prod, ok


def consistent(form: PiecewiseLinearForm, z: np.ndarray, d: np.ndarray) -> np.ndarray:
    """``(B,)``: every point's boundary values agree with its assumed pattern (within tol)."""
    u = form.boundary(z)
    scale = 1.0 + np.nan_to_num(np.abs(z), nan=np.inf).max(axis=(1, 2))
    tol = (BOUNDARY_TOL * scale)[:, None, None]
    agree = np.where(d, u > -tol, u < tol)
    return agree.all(axis=(1, 2)) & np.isfinite(z).all(axis=(1, 2))


def _same_cycle(a: np.ndarray, b: np.ndarray, tol: float) -> bool:
    return any(np.abs(np.roll(a, r, axis=0) - b).max() <= tol for r in range(len(a)))


def _minimal(z: np.ndarray, tol: float) -> bool:
    return all(np.abs(z[j] - z[0]).max() > tol for j in range(1, len(z)))


class _Collector:
    """De-duplicates cycles (up to rotation) and drops those of lower minimal period."""

    def __init__(self) -> None:
        self.orbits: list[RawOrbit] = []

    def add(self, z: np.ndarray, d: np.ndarray) -> None:
        tol = DEDUP_TOL * (1.0 + float(np.abs(z).max()))
        if not _minimal(z, tol):
            return
        for o in self.orbits:
            if _same_cycle(o.points, z, tol):
                return
        first = int(np.lexsort(z.T[::-1])[0])  # start at the lexicographically smallest point
        self.orbits.append(RawOrbit(np.roll(z, -first, axis=0), np.roll(d, -first, axis=0)))


def _check_period(period: int) -> int:
    if isinstance(period, bool) or not isinstance(period, (int, np.integer)) or period < 1:
        raise ConfigError(f"the period of a cycle must be an integer ≥ 1, got {period!r}.")
    return int(period)


# ---------------------------------------------------------------------------- exhaustive
def n_sequences(form: PiecewiseLinearForm, period: int) -> float:
    """Number of pattern sequences an exhaustive search of ``period``-cycles solves."""
    return float(2.0 ** (form.n_bits * period))


def enumerate_orbits(
    form: PiecewiseLinearForm, period: int = 1, max_sequences: int = MAX_SEQUENCES
) -> ExactSearch:
    """Every ``period``-cycle, by solving all ``2^{K·period}`` pattern sequences."""
    period = _check_period(period)
    total = n_sequences(form, period)
    if total > max_sequences:
        raise ConfigError(
            f"exhaustive search of {period}-cycles of this {form.kind} means solving "
            f"{total:.3g} pattern sequences (K = {form.n_bits} boundary units), more than "
            f"{max_sequences}; use the heuristic search (method='scyfi')."
        )
    k_bits = form.n_bits
    n_pat = 2**k_bits
    patterns = ((np.arange(n_pat)[:, None] >> np.arange(k_bits)) & 1).astype(bool)
    found = _Collector()
    n_singular = 0
    for start in range(0, int(total), BATCH):
        idx = np.arange(start, min(int(total), start + BATCH))
        digits = (idx[:, None] // n_pat ** np.arange(period)) % n_pat  # (B, k)
        d = patterns[digits]
        z, _, ok = _solve(form, d)
        n_singular += int((~ok).sum())
        good = np.flatnonzero(consistent(form, z, d))
        for i in good:
            found.add(z[i], d[i])
    notes = []
    if n_singular:
        notes.append(
            f"{n_singular} pattern sequences have a singular I − J (no isolated cycle there)."
        )
    return ExactSearch(found.orbits, period, True, int(total), n_singular, notes=notes)


# ---------------------------------------------------------------------------- SCYFI
def _initial_patterns(
    form: PiecewiseLinearForm,
    period: int,
    n: int,
    rng: np.random.Generator,
    states: np.ndarray | None,
) -> np.ndarray:
    """``(n, period, K)`` start sequences: a third from ``period`` consecutive trajectory states
    (where the dynamics live; none without ``states``), a third from Gaussian random states
    around them (std at least 1), the rest uniformly random bit patterns (SCYFI's own choice)."""
    m, k_bits = form.latent_dim, form.n_bits
    if states is not None and len(states) >= period:
        n_traj = n // 3
        starts = rng.integers(0, len(states) - period + 1, size=n_traj)
        windows = states[starts[:, None] + np.arange(period)]
        mean, std = states.mean(0), np.maximum(states.std(0), 1.0)
    else:
        n_traj, windows = 0, np.empty((0, period, m))
        mean, std = np.zeros(m), np.ones(m)
    n_rand = (n - n_traj) // 2
    rand = mean + 2.0 * std * rng.standard_normal((n_rand, period, m))
    bits = rng.random((n - n_traj - n_rand, period, k_bits)) < 0.5
    return np.concatenate([form.pattern(np.concatenate([windows, rand], axis=0)), bits], axis=0)


def scyfi(
    form: PiecewiseLinearForm,
    period: int = 1,
    n_inits: int = N_INITS,
    max_iter: int = MAX_ITER,
    states: np.ndarray | None = None,
    seed: int = 0,
) -> ExactSearch:
    """Heuristic search for ``period``-cycles by the SCYFI iteration (see module docstring).

    ``states`` ``(T, M)``: latent states of a trajectory whose patterns seed half of the
    ``n_inits`` initial sequences.
    """
    period = _check_period(period)
    for v, name in ((n_inits, "n_inits"), (max_iter, "max_iter")):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
            raise ConfigError(f"{name} must be an integer ≥ 1, got {v!r}.")
    rng = np.random.default_rng(seed)
    states = None if states is None else np.asarray(states, dtype=np.float64)
    pending = _initial_patterns(form, period, n_inits, rng, states)
    d, pending = pending[:BATCH], pending[BATCH:]
    age = np.zeros(len(d), dtype=np.int64)
    found = _Collector()
    n_solved = n_singular = 0
    while len(d):
        z, _, ok = _solve(form, d)
        n_solved += len(d)
        n_singular += int((~ok).sum())
        good = consistent(form, z, d)
        for i in np.flatnonzero(good):
            found.add(z[i], d[i])
        new = form.pattern(np.nan_to_num(z))
        age += 1
        stuck = (new == d).all(axis=(1, 2))
        restart = good | ~ok | stuck | (age >= max_iter)
        d = np.where(restart[:, None, None], d, new)
        # refill restarted slots from the pending initialisations, drop them when none are left
        slots = np.flatnonzero(restart)
        take = min(len(slots), len(pending))
        d[slots[:take]], pending = pending[:take], pending[take:]
        age[slots[:take]] = 0
        keep = np.ones(len(d), dtype=bool)
        keep[slots[take:]] = False
        d, age = d[keep], age[keep]
    notes = [
        "heuristic: SCYFI never reports a false cycle but may miss cycles in subregions its "
        f"{n_inits} initialisations never reach."
    ]
    return ExactSearch(
        found.orbits, period, False, n_solved, n_singular, n_inits, n_solved, notes=notes
    )
