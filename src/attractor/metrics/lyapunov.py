"""Lyapunov spectra by the QR (Benettin) method: of a model, of a map and of a flow.

Along an orbit ``x_{t+1} = F(x_t)`` with Jacobians ``J_t = ∂F/∂x(x_t)`` ``(M, M)``, ``k ≤ M``
orthonormal tangent vectors ``Q₀`` ``(M, k)`` (random, seeded) are propagated and
re-orthonormalised::

    Q_{t+1} R_{t+1} = J_t Q_t          (QR decomposition, every ``renorm_every`` steps)
    λ_i = 1/(n Δt) Σ_t log |R_t,ii|    i = 1 … k

after ``n_transient`` steps that move the orbit onto the attractor and align ``Q`` (their logs
are discarded). ``λ`` per step is the sum divided by ``n``; per unit time it is divided by the
time step ``dt`` as well. Exponents are returned sorted in descending order. Between QRs the
columns of ``Q`` drift towards the leading direction by ``exp((λ_1 − λ_k) · renorm_every)``;
keep ``renorm_every`` small enough that this stays far below 1e16 (1 is always safe).

For a flow ``ẋ = f(x)`` with Jacobian ``Df`` the tangent vectors follow the variational
equation ``Q̇ = Df(x) Q``, integrated together with ``x`` by fixed-step RK4 at ``dt``.

The Kaplan–Yorke dimension of a sorted spectrum ``λ_1 ≥ … ≥ λ_k`` is
``D_KY = j + (Σ_{i≤j} λ_i) / |λ_{j+1}|`` with ``j`` the largest index whose partial sum is
≥ 0 (0 if ``λ_1 < 0``; ``k`` if the whole sum is ≥ 0).

For a :class:`~attractor.models.base.DynamicalModel` the free run is computed first with
``model.step`` on a float64 copy, then all Jacobians come from batched ``model.jacobian`` calls
(``(B, M, M)``) and the QR recursion runs in numpy; the model itself is not modified. When only a
few exponents of a large model are wanted (``k ≤ M / TANGENT_RATIO`` and ``M ≥ TANGENT_MIN_DIM``,
e.g. λ_max of a 300-unit reservoir) and the model declares an analytic Jacobian-vector product
(:class:`~attractor.models.base.MatrixFreeJVP`, ``model.jvp(z, v)``), the full ``(M, M)``
Jacobians are never formed: the products ``J_t Q_t`` come
from one ``jvp`` per step with the ``k`` tangent vectors as a batch — ``O(M k)`` work instead of
``O(M²)`` (measured for the 303-d reservoir: 3.6 ms per Jacobian vs well under 1 ms per step).
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from scipy.linalg import lapack

from attractor.errors import AttractorError, ConfigError, DataError
from attractor.models.base import DynamicalModel, MatrixFreeJVP

#: Steps of the orbit over which the exponents are averaged.
N_STEPS = 10_000
#: Steps discarded first (orbit settles onto the attractor, tangent vectors align).
N_TRANSIENT = 1_000
#: A running estimate is recorded every ``HISTORY_EVERY`` steps (for convergence plots).
HISTORY_EVERY = 100
#: Jacobians of a model evaluated per batched ``model.jacobian`` call.
JACOBIAN_BATCH = 1024
#: Tangent propagation by Jacobian-vector products when ``M ≥ TANGENT_MIN_DIM`` and
#: ``k · TANGENT_RATIO ≤ M`` (forming ``(M, M)`` Jacobians would dominate the cost).
TANGENT_MIN_DIM = 64
TANGENT_RATIO = 4


@dataclass(frozen=True)
class LyapunovResult:
    """A Lyapunov spectrum and how it converged.

    ``exponents``: ``(k,)`` per unit time, descending; ``per_step``: ``(k,)`` per map step
    (``exponents · dt``); ``history``: ``(R, k)`` running estimates per unit time after
    ``history_steps`` ``(R,)`` steps; ``dt``: time per step; ``n_steps``, ``n_transient``.
    """

    exponents: np.ndarray
    per_step: np.ndarray
    history: np.ndarray
    history_steps: np.ndarray
    dt: float
    n_steps: int
    n_transient: int

    @property
    def lambda_max(self) -> float:
        """The largest exponent, per unit time."""
        return float(self.exponents[0])

    @property
    def kaplan_yorke_dimension(self) -> float:
        """``D_KY`` of the computed exponents (see :func:`kaplan_yorke_dimension`)."""
        return kaplan_yorke_dimension(self.exponents)


def kaplan_yorke_dimension(exponents: Any) -> float:
    """Kaplan–Yorke dimension ``j + Σ_{i≤j} λ_i / |λ_{j+1}|`` of a spectrum (any order, any unit).

    ``j`` is the largest number of leading (descending) exponents with a sum ≥ 0; returns 0 when
    even ``λ_1 < 0`` and the number of exponents when their total is ≥ 0.
    """
    lam = np.sort(np.asarray(exponents, dtype=np.float64).ravel())[::-1]
    if lam.size == 0 or np.isnan(lam).any() or np.isposinf(lam).any():
        raise DataError(
            "the Lyapunov spectrum must be a non-empty array of numbers (no NaN or +inf)."
        )
    partial = np.cumsum(lam)
    nonneg = np.flatnonzero(partial >= 0)
    if nonneg.size == 0:
        return 0.0
    j = int(nonneg[-1]) + 1  # number of exponents in the non-negative partial sum
    if j == lam.size:
        return float(j)
    return float(j + partial[j - 1] / abs(lam[j]))


# ---------------------------------------------------------------------- the QR core
def _qr(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Thin QR of ``a`` ``(M, k)``: ``(Q (M, k), diag(R) (k,))`` via LAPACK geqrf/orgqr.

    Called once per step, so it skips numpy's wrapper overhead (~8× faster for small M).
    """
    qr, tau, _, info = lapack.dgeqrf(a)
    if info != 0:
        raise AttractorError(f"the QR decomposition failed (LAPACK info={info}).")
    diag = np.diagonal(qr).copy()
    q, _, info = lapack.dorgqr(qr, tau)
    if info != 0:
        raise AttractorError(f"the QR decomposition failed (LAPACK info={info}).")
    return q, diag


class _Benettin:
    """Accumulates ``log |diag R|`` of repeated QR decompositions of propagated tangent vectors."""

    def __init__(self, m: int, k: int, seed: int, history_every: int) -> None:
        rng = np.random.default_rng(seed)
        # the first k columns of one (M, M) draw: the leading vectors do not depend on k
        self.q = _qr(rng.standard_normal((m, m))[:, :k])[0]
        self.sums = np.zeros(k)
        self.steps = 0
        self.history_every = history_every
        self.history: list[np.ndarray] = []
        self.history_steps: list[int] = []

    def renormalise(self, q: np.ndarray, steps: int) -> None:
        """Take the propagated vectors ``q`` after ``steps`` more steps; QR and accumulate."""
        qn, r_diag = _qr(q)
        with np.errstate(divide="ignore"):
            self.sums += np.log(np.abs(r_diag))
        self.q = qn
        before, self.steps = self.steps, self.steps + steps
        if self.steps // self.history_every > before // self.history_every:
            self.history.append(self.sums / self.steps)
            self.history_steps.append(self.steps)

    def reset(self) -> None:
        """Forget the sums (end of the transient) but keep the aligned tangent vectors."""
        self.sums = np.zeros_like(self.sums)
        self.steps = 0
        self.history, self.history_steps = [], []

    def result(self, dt: float, n_transient: int) -> LyapunovResult:
        per_step = np.sort(self.sums / self.steps)[::-1]
        hist = np.sort(np.array(self.history).reshape(-1, len(self.sums)), axis=1)[:, ::-1]
        return LyapunovResult(
            exponents=per_step / dt,
            per_step=per_step,
            history=hist / dt,
            history_steps=np.array(self.history_steps, dtype=np.int64),
            dt=float(dt),
            n_steps=self.steps,
            n_transient=int(n_transient),
        )


def _run_jacobians(
    jacobians: Iterator[np.ndarray],
    m: int,
    k: int,
    n_steps: int,
    n_transient: int,
    dt: float,
    renorm_every: int,
    seed: int,
) -> LyapunovResult:
    """QR recursion over ``n_transient + n_steps`` Jacobians ``(M, M)`` taken from an iterator."""
    acc = _Benettin(m, k, seed, HISTORY_EVERY)
    for phase, n in (("transient", n_transient), ("run", n_steps)):
        q, pending = acc.q, 0
        for _ in range(n):
            q = next(jacobians) @ q
            pending += 1
            if pending == renorm_every:
                acc.renormalise(q, pending)
                q, pending = acc.q, 0
        if pending:
            acc.renormalise(q, pending)
        if phase == "transient":
            acc.reset()
    return acc.result(dt, n_transient)


def _check_common(
    n_steps: int, n_transient: int, dt: float, renorm_every: int, m: int, k: int | None
) -> int:
    for v, name, low in (
        (n_steps, "n_steps", 1),
        (n_transient, "n_transient", 0),
        (renorm_every, "renorm_every", 1),
    ):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < low:
            raise ConfigError(f"{name} must be an integer ≥ {low}, got {v!r}.")
    if not (math.isfinite(dt) and dt > 0):
        raise ConfigError(f"dt must be a positive finite number, got {dt}.")
    k = m if k is None else k
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k <= m:
        raise ConfigError(f"k (number of exponents) must be an integer in 1 … {m}, got {k!r}.")
    return int(k)


def _diverged(t: int) -> AttractorError:
    return AttractorError(
        f"the orbit became non-finite after {t} steps, so it has no bounded attractor from this "
        "start and its Lyapunov spectrum is undefined; start elsewhere or check the system."
    )


def _start_state(x0: Any, name: str = "x0") -> np.ndarray:
    x = np.asarray(x0, dtype=np.float64).ravel()
    if x.size == 0 or not np.all(np.isfinite(x)):
        raise DataError(f"{name} must be a non-empty vector of finite numbers.")
    return x


# ---------------------------------------------------------------------- maps
def lyapunov_spectrum_map(
    step_fn: Callable[[np.ndarray], np.ndarray],
    jac_fn: Callable[[np.ndarray], np.ndarray],
    x0: Any,
    n_steps: int = N_STEPS,
    n_transient: int = N_TRANSIENT,
    k: int | None = None,
    dt: float = 1.0,
    renorm_every: int = 1,
    seed: int = 0,
) -> LyapunovResult:
    """Lyapunov spectrum of a map ``x' = step_fn(x)`` with Jacobian ``jac_fn(x)`` ``(M, M)``.

    ``x0`` ``(M,)`` is the start state; ``k`` exponents (default all ``M``); ``dt`` the time one
    map step stands for (exponents per unit time = per step / dt).
    """
    x = _start_state(x0)
    m = x.size
    k = _check_common(n_steps, n_transient, dt, renorm_every, m, k)

    def jacobians() -> Iterator[np.ndarray]:
        nonlocal x
        for t in range(n_transient + n_steps):
            j = np.asarray(jac_fn(x), dtype=np.float64).reshape(m, m)
            x = np.asarray(step_fn(x), dtype=np.float64).reshape(m)
            if not (np.all(np.isfinite(x)) and np.all(np.isfinite(j))):
                raise _diverged(t + 1)
            yield j

    return _run_jacobians(jacobians(), m, k, n_steps, n_transient, dt, renorm_every, seed)


# ---------------------------------------------------------------------- models
def _model_jacobians(model: DynamicalModel, z: torch.Tensor, n: int) -> Iterator[np.ndarray]:
    """Run the model ``n`` steps from ``z`` ``(1, M)`` and yield the Jacobian at each state."""
    m = z.shape[1]
    states = torch.empty(n, m, dtype=z.dtype, device=z.device)
    with torch.no_grad():
        for t in range(n):
            states[t] = z[0]
            z = model.step(z)
    bad = ~torch.isfinite(states).all(dim=1)
    if bool(bad.any()):
        raise _diverged(int(torch.nonzero(bad)[0, 0]))
    for a in range(0, n, JACOBIAN_BATCH):
        jac = model.jacobian(states[a : a + JACOBIAN_BATCH]).detach()
        jac = jac.to(device="cpu", dtype=torch.float64).numpy()
        if not np.all(np.isfinite(jac)):
            raise _diverged(a)
        yield from jac


def _float64_copy(model: DynamicalModel) -> DynamicalModel:
    twin = copy.deepcopy(model)
    try:
        return twin.double()
    except (RuntimeError, TypeError):  # a model that cannot be cast: stay in its own precision
        return twin


def lyapunov_spectrum(
    model: DynamicalModel,
    z0: Any = None,
    x0: Any = None,
    n_steps: int = N_STEPS,
    n_transient: int = N_TRANSIENT,
    k: int | None = None,
    dt: float = 1.0,
    renorm_every: int = 1,
    seed: int = 0,
) -> LyapunovResult:
    """Lyapunov spectrum of a :class:`DynamicalModel`'s latent map along a free run.

    Start from latent ``z0`` ``(M,)``, or from ``encode(x0)`` for an observation ``x0``
    ``(N,)``, or (neither given) from a standard-normal latent state drawn with ``seed``.
    ``dt`` is the data's sampling step, so ``exponents`` are per unit time and ``per_step`` per
    map step. Works on a float64 copy of the model; the model is left untouched.
    """
    if z0 is not None and x0 is not None:
        raise ConfigError("pass at most one of z0 (a latent state) or x0 (an observation).")
    m = int(model.latent_dim)
    k = _check_common(n_steps, n_transient, dt, renorm_every, m, k)
    twin = _float64_copy(model)
    ref = next(iter(twin.parameters()), None)
    dtype = ref.dtype if ref is not None and ref.is_floating_point() else torch.float64
    device = ref.device if ref is not None else torch.device("cpu")
    with torch.no_grad():
        if z0 is not None:
            z = torch.as_tensor(_start_state(z0, "z0"), dtype=dtype, device=device)
        elif x0 is not None:
            x = torch.as_tensor(_start_state(x0), dtype=dtype, device=device)
            z = twin.encode(x[None])[0]
        else:
            g = torch.Generator().manual_seed(seed)
            z = torch.randn(m, generator=g, dtype=torch.float64).to(dtype=dtype, device=device)
    if z.numel() != m:
        raise DataError(f"the start state has {z.numel()} entries; the model's latent size is {m}.")
    if m >= TANGENT_MIN_DIM and k * TANGENT_RATIO <= m and isinstance(twin, MatrixFreeJVP):
        return _run_tangents(twin, z.reshape(1, m), k, n_steps, n_transient, dt, seed)
    jacs = _model_jacobians(twin, z.reshape(1, m), n_transient + n_steps)
    return _run_jacobians(jacs, m, k, n_steps, n_transient, dt, renorm_every, seed)


def _run_tangents(
    model: MatrixFreeJVP,
    z: torch.Tensor,
    k: int,
    n_steps: int,
    n_transient: int,
    dt: float,
    seed: int,
) -> LyapunovResult:
    """QR recursion with ``J_t Q_t`` from the model's ``jvp`` (QR every step).

    The ``k`` tangent columns ride as a batch of ``k`` copies of the state: ``jvp`` acts row by
    row, so it returns ``J_t`` applied to each column.
    """
    m = z.shape[1]
    acc = _Benettin(m, k, seed, HISTORY_EVERY)
    for phase, n in (("transient", n_transient), ("run", n_steps)):
        for t in range(n):
            q = torch.as_tensor(acc.q.T.copy(), dtype=z.dtype, device=z.device)  # (k, M)
            with torch.no_grad():
                jq = model.jvp(z.expand(k, m), q)
                z_next = model.step(z)
            jq_np = jq.detach().to(device="cpu", dtype=torch.float64).numpy().T
            if not (bool(torch.isfinite(z_next).all()) and np.all(np.isfinite(jq_np))):
                raise _diverged(t + 1)
            acc.renormalise(np.ascontiguousarray(jq_np), 1)
            z = z_next
        if phase == "transient":
            acc.reset()
    return acc.result(dt, n_transient)


# ---------------------------------------------------------------------- flows
def lyapunov_spectrum_flow(
    rhs: Callable[[np.ndarray], np.ndarray],
    jac: Callable[[np.ndarray], np.ndarray],
    x0: Any,
    dt: float,
    n_steps: int = N_STEPS,
    n_transient: int = N_TRANSIENT,
    k: int | None = None,
    renorm_every: int = 1,
    seed: int = 0,
) -> LyapunovResult:
    """Lyapunov spectrum of the ODE ``ẋ = rhs(x)`` with Jacobian ``jac(x)`` ``(M, M)``.

    State and tangent vectors (``Q̇ = jac(x) Q``) are integrated together by classical RK4 with
    the fixed step ``dt`` for ``n_transient + n_steps`` steps; QR every ``renorm_every`` steps.
    Exponents are per unit time. The RK4 error in the exponents is ``O(dt⁴)``.
    """
    x = _start_state(x0)
    m = x.size
    k = _check_common(n_steps, n_transient, dt, renorm_every, m, k)

    def g(y: np.ndarray) -> np.ndarray:
        """Augmented vector field on ``y = [x | Q]`` ``(M, 1 + k)``: ``[f(x) | Df(x) Q]``."""
        xx = y[:, 0]
        out = np.empty_like(y)
        out[:, 0] = np.asarray(rhs(xx), dtype=np.float64).reshape(m)
        out[:, 1:] = np.asarray(jac(xx), dtype=np.float64).reshape(m, m) @ y[:, 1:]
        return out

    acc = _Benettin(m, k, seed, HISTORY_EVERY)
    h, h2, h6 = float(dt), float(dt) / 2.0, float(dt) / 6.0
    y = np.empty((m, 1 + k))
    y[:, 0] = x
    t = 0
    for phase, n in (("transient", n_transient), ("run", n_steps)):
        y[:, 1:], pending = acc.q, 0
        for i in range(n):
            k1 = g(y)
            k2 = g(y + h2 * k1)
            k3 = g(y + h2 * k2)
            k4 = g(y + h * k3)
            y = y + h6 * (k1 + 2.0 * (k2 + k3) + k4)
            t += 1
            pending += 1
            if pending == renorm_every or i == n - 1:
                if not np.all(np.isfinite(y)):
                    raise _diverged(t)
                acc.renormalise(y[:, 1:], pending)
                y[:, 1:], pending = acc.q, 0
        if phase == "transient":
            acc.reset()
    return acc.result(dt, n_transient)
