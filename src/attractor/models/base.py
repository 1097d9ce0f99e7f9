"""DynamicalModel: the one interface every recurrent model implements.

A model is a discrete-time map on a latent state ``z ∈ R^M`` with an identity readout of the
first ``N`` units (``x̂_t = z_{t,1:N}``, so teacher forcing can overwrite them), optionally
driven by an external input ``s ∈ R^K`` entering as ``+ C s``::

    z_t = F_θ(z_{t−1}, s_t),     x̂_t = z_{t,1:N}

The latent start state inferred from an observation is ``z = [x ; L x]`` with a learned
``L ∈ R^{(M−N)×N}`` (Glorot-uniform init). Training, metrics, analysis and the parallel
solvers only talk to this interface; a new model is one subclass plus one registry line.

Optional abilities are *declared* by inheriting a capability class, never probed by name:

* :class:`DirectFit` — fitted in closed form (``fit_direct``) instead of by BPTT, with optional
  candidates (ridge strengths, restarts) the trainer validates and picks from;
* :class:`PiecewiseLinear` — an exact region-wise affine form
  (:class:`~attractor.models.piecewise.PiecewiseLinearForm`) that exact analysis works on;
* :class:`StructuredJacobian` — a diagonal or 2×2-block Jacobian in compact form, which the
  parallel-in-time solver scans elementwise;
* :class:`MatrixFreeJVP` — ``J(z) v`` without forming ``J`` (large Lyapunov spectra).

They are mix-in base classes rather than ``typing.Protocol`` s: inheriting one is an explicit
declaration (a model that merely has a method of the same name does not claim the ability),
missing parts fail when the class is instantiated (abstract methods), and the classes carry the
defaults (``validation_factor = 1``, no candidates, …) that callers would otherwise supply with
``getattr(model, name, default)``. Abilities every model has in some form — the compact Jacobian
(dense by default), ``step_and_jacobian``, the parameter VJP of one step, a driven ``run``, the
post-step ``constrain`` — are base-class methods with generic defaults that models may override.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import torch
from torch import Tensor, nn

from attractor.errors import ConfigError

if TYPE_CHECKING:
    from attractor.models.piecewise import PiecewiseLinearForm

#: Compact Jacobian layouts: dense ``(B, M, M)``, diagonal ``(B, M)``, 2×2 diagonal blocks
#: ``(B, 2, 2, M/2)`` (:func:`attractor.parallel.scan.to_dense` expands them).
JACOBIAN_STRUCTURES = ("dense", "diagonal", "block")


class DynamicalModel(nn.Module, ABC):
    """Base class. Subclasses implement :meth:`step` and, where they can, :meth:`jacobian`.

    Shapes: ``z`` is ``(B, M)``, ``x`` is ``(B, N)``, ``s`` is ``(B, K)`` or ``None``.
    """

    #: registry name ("shplrnn", "alrnn", …); set by subclasses.
    kind: ClassVar[str] = ""
    #: Layout of :meth:`jacobian_compact` (``"dense"`` unless a :class:`StructuredJacobian`).
    jacobian_structure: ClassVar[str] = "dense"

    def __init__(self, obs_dim: int, latent_dim: int, n_inputs: int = 0) -> None:
        super().__init__()
        if obs_dim < 1:
            raise ConfigError(f"the observed dimension must be at least 1, got {obs_dim}.")
        if latent_dim < obs_dim:
            raise ConfigError(
                f"latent size {latent_dim} is smaller than the observed dimension {obs_dim}; "
                f"the identity readout needs latent ≥ {obs_dim} (pass latent={obs_dim} or more)."
            )
        if n_inputs < 0:
            raise ConfigError(f"n_inputs must be ≥ 0, got {n_inputs}.")
        self.obs_dim = int(obs_dim)
        self.latent_dim = int(latent_dim)
        self.n_inputs = int(n_inputs)
        extra = latent_dim - obs_dim
        bound = math.sqrt(6.0 / (extra + obs_dim)) if extra else 0.0
        self.L = nn.Parameter(torch.empty(extra, obs_dim).uniform_(-bound, bound))
        self.C = nn.Parameter(torch.zeros(latent_dim, n_inputs)) if n_inputs else None

    # ------------------------------------------------------------------ the contract
    @abstractmethod
    def step(self, z: Tensor, s: Tensor | None = None) -> Tensor:
        """One step of the map: ``(B, M) → (B, M)``."""

    def jacobian(self, z: Tensor, s: Tensor | None = None) -> Tensor:
        """``∂F/∂z`` at each state, ``(B, M, M)``; autograd unless the subclass has it analytic."""
        z = z.detach()

        def f(zz: Tensor, ss: Tensor | None) -> Tensor:
            return self.step(zz[None], None if ss is None else ss[None])[0]

        if s is None:
            return torch.func.vmap(lambda zz: torch.func.jacrev(f)(zz, None))(z)
        return torch.func.vmap(lambda zz, ss: torch.func.jacrev(f)(zz, ss))(z, s)

    def jacobian_compact(self, z: Tensor, s: Tensor | None = None) -> Tensor:
        """``∂F/∂z`` in :attr:`jacobian_structure`'s layout; dense: :meth:`jacobian` itself."""
        return self.jacobian(z, s)

    def step_and_jacobian(
        self, z: Tensor, s: Tensor | None = None, *, out: Tensor | None = None
    ) -> tuple[Tensor, Tensor]:
        """``(F(z, s), jacobian_compact(z, s))``; models override it to share work between the
        two. ``out`` is used only by a :class:`StructuredJacobian` with ``jacobian_out``."""
        return self.step(z, s), self.jacobian_compact(z, s)

    def param_vjp(self, z: Tensor, s: Tensor | None, g: Tensor) -> dict[str, Tensor]:
        """``Σ_rows (∂F(z_row, s_row)/∂θ)ᵀ g_row`` by parameter name (trainable ones that F
        uses); autograd through one step unless a model writes the backward pass by hand."""
        named = [(n, p) for n, p in self.named_parameters() if p.requires_grad]
        with torch.enable_grad():
            out = self.step(z, s)
            if not (named and out.requires_grad):  # F uses no trainable parameter
                return {}
            grads = torch.autograd.grad(out, [p for _, p in named], g, allow_unused=True)
        return {n: gp for (n, _), gp in zip(named, grads, strict=True) if gp is not None}

    def run(self, s: Tensor, z0: Tensor | None = None) -> Tensor:
        """States driven by inputs ``s`` ``(B, T, K)`` from ``z0`` (default zeros):
        ``(B, T, M)`` holding ``z_1 … z_T``; models with a faster loop override it."""
        z = s.new_zeros(s.shape[0], self.latent_dim) if z0 is None else z0
        out = []
        for t in range(s.shape[1]):
            z = self.step(z, s[:, t])
            out.append(z)
        return torch.stack(out, dim=1)

    def final_state(self, s: Tensor, z0: Tensor | None = None) -> Tensor:
        """The last state ``z_T`` ``(B, M)`` of :meth:`run` (what a readout at the final step
        needs); models with a cheaper way override it."""
        return self.run(s, z0)[:, -1]

    def constrain(self) -> None:
        """Project the parameters onto their constraints after an optimiser step (none here)."""

    def timescales(self) -> Tensor | None:
        """Learnt single-unit timescales ``(M,)`` where the model has them, else ``None``."""
        return None

    def observe(self, z: Tensor) -> Tensor:
        """Readout ``x̂ = z_{1:N}``: ``(..., M) → (..., N)``."""
        return z[..., : self.obs_dim]

    def encode(self, x: Tensor) -> Tensor:
        """Latent state inferred from an observation, ``z = [x ; L x]``: ``(..., N) → (..., M)``."""
        if self.latent_dim == self.obs_dim:
            return x
        return torch.cat([x, x @ self.L.T], dim=-1)

    def norm_bound(self) -> float | None:
        """A cheap upper bound on ``‖J‖₂`` over state space, if the model has one."""
        return None

    @classmethod
    def min_latent_dim(cls, obs_dim: int, **kwargs: Any) -> int:
        """Smallest latent size this model accepts for ``obs_dim`` channels (identity readout)."""
        return obs_dim

    def config(self) -> dict[str, Any]:
        """Constructor arguments that rebuild this model (JSON-able)."""
        return {"obs_dim": self.obs_dim, "latent_dim": self.latent_dim, "n_inputs": self.n_inputs}

    def regularization(self) -> Tensor:
        """Model-specific penalty added to the loss (scaled by the trainer's λ); 0 by default."""
        return torch.zeros((), device=self.L.device, dtype=self.L.dtype)

    # ------------------------------------------------------------------ helpers
    def input_term(self, s: Tensor | None) -> Tensor | float:
        """``C s`` when the model has external inputs, else 0."""
        if s is None or self.C is None:
            return 0.0
        return s @ self.C.T

    @torch.no_grad()
    def simulate(
        self,
        x0: Tensor | None = None,
        steps: int = 1000,
        s: Tensor | None = None,
        z0: Tensor | None = None,
        return_latent: bool = False,
    ) -> Tensor:
        """Free run from an observation ``x0`` (``(B, N)`` or ``(N,)``) or a latent ``z0``.

        Returns ``(B, steps, N)`` (or ``(B, steps, M)`` with ``return_latent``); the first point
        is the start state itself, so ``steps`` points cover ``steps − 1`` applications of F.
        ``s`` (``(B, steps, K)``), if given, drives the model.
        """
        if (x0 is None) == (z0 is None):
            raise ConfigError("pass exactly one of x0 (an observation) or z0 (a latent state).")
        z = self.encode(x0) if x0 is not None else z0
        squeeze = z.ndim == 1
        if squeeze:
            z = z[None]
        out = torch.empty(z.shape[0], steps, self.latent_dim, dtype=z.dtype, device=z.device)
        for t in range(steps):
            if t:
                z = self.step(z, None if s is None else s[:, t])
            out[:, t] = z
        out = out if return_latent else self.observe(out)
        return out[0] if squeeze else out

    def n_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters() if p.requires_grad)

    def extra_repr(self) -> str:
        return f"N={self.obs_dim}, M={self.latent_dim}, params={self.n_parameters()}"


# ---------------------------------------------------------------------------- capabilities
class DirectFit(DynamicalModel):
    """Capability: fitted in closed form from the training trajectories, not by BPTT.

    The trainer calls :meth:`fit_direct`; if :meth:`direct_candidates` is non-empty and held-out
    data exist, it loads each candidate with :meth:`use_candidate`, validates it on free runs
    ``validation_factor`` times the usual length, keeps the best (its history column is
    :attr:`candidate_name`) and finally calls :meth:`release_design`.
    """

    #: History column of the validated choice ("ridge", "restart", …).
    candidate_name: ClassVar[str] = "candidate"
    #: Validation free runs are this many times the trainer's ``val_length``.
    validation_factor: ClassVar[int] = 1

    @abstractmethod
    def fit_direct(self, trials: Sequence[np.ndarray]) -> None:
        """Fit the parameters to training trajectories, each ``(T_k, N)``."""

    def direct_candidates(self) -> tuple[Any, ...]:
        """Choices worth validating after :meth:`fit_direct`; empty: nothing to choose."""
        return ()

    def use_candidate(self, candidate: Any) -> None:
        """Load the parameters of one of :meth:`direct_candidates`."""
        raise ConfigError(f"model {self.kind!r} has no fitted candidates to choose from.")

    def release_design(self) -> None:
        """Drop what the fit kept only for choosing candidates (nothing by default)."""


class PiecewiseLinear(DynamicalModel):
    """Capability: ``F`` is continuous piecewise affine in ``z`` with a known exact form
    ``F(z) = B z + b + V (d ⊙ (G z + g))``, ``d = 1[G z + g > 0]`` (for ``s = 0``), so fixed
    points, cycles and symbolic codes can be computed exactly region by region."""

    @abstractmethod
    def piecewise_form(self) -> PiecewiseLinearForm:
        """The model's :class:`~attractor.models.piecewise.PiecewiseLinearForm` (float64)."""


class StructuredJacobian(DynamicalModel):
    """Capability: ``∂F/∂z`` is diagonal (``jacobian_structure = "diagonal"``, compact
    ``(B, M)``) or 2×2 blocks of diagonals (``"block"``, ``(B, 2, 2, M/2)``), so the parallel
    solver runs elementwise scans; :meth:`jacobian` is always the dense ``(B, M, M)``."""

    jacobian_structure: ClassVar[str] = "diagonal"
    #: ``step_and_jacobian(z, s, out=buf)`` writes the compact Jacobian into ``buf`` (when
    #: gradients are off), saving a copy in the Newton solver.
    jacobian_out: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.jacobian_structure not in JACOBIAN_STRUCTURES[1:]:
            raise TypeError(
                f"{cls.__name__} declares StructuredJacobian but its jacobian_structure is "
                f"{cls.jacobian_structure!r}; use 'diagonal' or 'block'."
            )

    @abstractmethod
    def jacobian_compact(self, z: Tensor, s: Tensor | None = None) -> Tensor:
        """``∂F/∂z`` in the compact layout of :attr:`jacobian_structure`."""

    def jacobian(self, z: Tensor, s: Tensor | None = None) -> Tensor:
        from attractor.parallel.scan import to_dense

        return to_dense(self.jacobian_compact(z, s), self.jacobian_structure)


class MatrixFreeJVP(DynamicalModel):
    """Capability: ``J(z) v`` row by row without forming ``J`` (cheaper than ``O(M²)`` rows), so
    a few Lyapunov exponents of a large model cost ``O(k · cost(jvp))`` per step."""

    @abstractmethod
    def jvp(self, z: Tensor, v: Tensor) -> Tensor:
        """``J(z_b) v_b`` for rows ``b`` of ``z`` and ``v`` (both ``(B, M)``): ``(B, M)``."""


def init_diagonal_A(m: int, generator: torch.Generator | None = None) -> Tensor:
    """Diagonal init of the GTF/AL-RNN papers: ``A = diag(K)/λ_max(K)``, ``K = RᵀR/M + I``.

    ``R ~ N(0,1)^{M×M}``; the result lies in (0, 1] with its maximum equal to 1/… ≤ 1.
    """
    r = torch.randn(m, m, generator=generator, dtype=torch.float64)
    k = r.T @ r / m + torch.eye(m, dtype=torch.float64)
    lam = torch.linalg.eigvalsh(k).max()
    return (torch.diagonal(k) / lam).float()
