"""AL-RNN fitted directly, without backpropagation through time: hinging-hyperplane regression.

A continuous piecewise-affine (PWA) map of the observations with P hinges (Breiman's hinging
hyperplanes) is fitted to one-step transitions of the training data::

    x_{t+1} = x_t + Θ x_t + Σ_i w_i ReLU(a_i·x_t + b_i) + c,      i = 1 … P

and then written *exactly* as an AL-RNN (M ≥ N + P units, the last P ReLU): the first N units
carry x_t, the last P carry the hinge pre-activations g_i = a_i·x_t + b_i, the units in between
stay zero::

    A = 0,   W[:N] = [I + Θ | 0 | w],   h[:N] = c,
    W[M−P+i] = a_iᵀ W[:N],   h[M−P+i] = a_i·c + b_i      (so g_{t+1} = a_i·x_{t+1} + b_i)

Each of the 2^P activation patterns is one affine region of x-space, so the symbolic code is
the set of hinges x lies above. The fit (Adam on the one-step squared error, mini-batches, in
float64) takes seconds. Noisy data are first smoothed with a Savitzky–Golay filter
(``smooth`` points, cubic; scipy) to reduce the errors-in-variables bias of a regression on
noisy inputs. Several random hinge initialisations (``restarts``)
are fitted; :func:`attractor.train.loop.train` validates each on held-out data by free-run
D_stsp and keeps the best, as it does for the ridge strengths of the echo-state network. The
validation runs are five times the usual length: a one-step fit can leave a weakly *stable*
spiral where the true system has a weakly unstable one (Lorenz-63's C±: growth 0.094 per unit
time), and such a fit stays chaotic for ~10⁴ steps before it falls onto the fixed point, or
keeps the chaotic set but lets some starts fall into the stable point's basin (not caught by
validation; dropping every fit with a stable fixed point inside the data's range was tried and
removed good fits too, whose stable points have tiny basins).

Why by hand: no maintained Python library fits multivariate continuous PWA maps with shared
hinges (scikit-learn has no hinge regression; ``pwlf`` fits one-dimensional piecewise-linear
functions); the regression itself is twenty lines of PyTorch. The start state is
``[x ; L x + l0]`` (a bias ``l0`` added to the AL-RNN's ``[x ; L x]``), so the hinge units start
at ``a_i·x + b_i`` and the embedding is exact from the first step.

Measured on noisy Lorenz-63 with ``benchmarks/lorenz63.py --models alrnn-lsq``: figures in the
README.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from scipy.signal import savgol_filter

from attractor.errors import ConfigError, DataError
from attractor.models.alrnn import ALRNN
from attractor.models.base import DirectFit
from attractor.seeds import Seeds

#: Adam schedule of the hinge fit: iterations, batch size, learning rate (÷10 halfway).
FIT_ITERS = 3000
FIT_BATCH = 4096
FIT_LR = 1e-2


def smooth_series(x: np.ndarray, window: int) -> np.ndarray:
    """Savitzky–Golay smoothing along time (cubic; ``window`` odd, ≥ 5); 0 or 1: unchanged."""
    if window <= 1 or x.shape[0] <= window:
        return x
    return savgol_filter(x, window if window % 2 else window + 1, 3, axis=0)


class HingeMap(torch.nn.Module):
    """``x ↦ x + Θ x + Σ_i w_i ReLU(a_i·x + b_i) + c``, the PWA map being fitted."""

    def __init__(self, n: int, p: int, generator: torch.Generator) -> None:
        super().__init__()
        f64 = torch.float64
        self.theta = torch.nn.Parameter(torch.zeros(n, n, dtype=f64))
        self.a = torch.nn.Parameter(0.5 * torch.randn(p, n, dtype=f64, generator=generator))
        self.b = torch.nn.Parameter(torch.zeros(p, dtype=f64))
        self.w = torch.nn.Parameter(torch.zeros(n, p, dtype=f64))
        self.c = torch.nn.Parameter(torch.zeros(n, dtype=f64))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + x @ self.theta.T + torch.relu(x @ self.a.T + self.b) @ self.w.T + self.c


def fit_hinge_map(
    pairs: tuple[torch.Tensor, torch.Tensor], n_hinges: int, seed: int, iters: int = FIT_ITERS
) -> tuple[HingeMap, float]:
    """Fit a :class:`HingeMap` to transitions ``(x_t, x_{t+1})``; returns it and its final MSE."""
    x, y = pairs
    gen = torch.Generator().manual_seed(seed)
    hm = HingeMap(x.shape[1], n_hinges, gen)
    opt = torch.optim.Adam(hm.parameters(), lr=FIT_LR)
    batch = min(FIT_BATCH, x.shape[0])
    loss = torch.tensor(float("nan"))
    for it in range(iters):
        if it == iters // 2:
            for group in opt.param_groups:
                group["lr"] = FIT_LR / 10
        idx = torch.randint(0, x.shape[0], (batch,), generator=gen)
        loss = ((hm(x[idx]) - y[idx]) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        mse = float(((hm(x) - y) ** 2).mean())
    return hm, mse


class HingeALRNN(ALRNN, DirectFit):
    """AL-RNN whose parameters come from a hinging-hyperplane fit (``fit_direct``), not BPTT."""

    kind = "alrnn-lsq"
    #: the choice :func:`attractor.train.loop.train` validates after ``fit_direct``: a restart.
    candidate_name = "restart"
    #: validation free runs 5× the trainer's length (50,000 steps by default): some fits stay
    #: chaotic for 10,000 steps and then fall onto a stable fixed point.
    validation_factor = 5

    def __init__(
        self,
        obs_dim: int,
        latent_dim: int = 20,
        n_relu: int = 16,
        n_inputs: int = 0,
        smooth: int = 11,
        restarts: int = 8,
        seed: int | None = None,
        iters: int = FIT_ITERS,
    ) -> None:
        if n_inputs:
            raise ConfigError("alrnn-lsq does not take external inputs; use alrnn.")
        if n_relu < 1:
            raise ConfigError(f"alrnn-lsq needs at least one hinge (n_relu ≥ 1), got {n_relu}.")
        if latent_dim < obs_dim + n_relu:
            raise ConfigError(
                f"alrnn-lsq needs latent_dim ≥ obs_dim + n_relu = {obs_dim + n_relu}, "
                f"got {latent_dim}; raise latent= or lower n_relu=."
            )
        if restarts < 1 or iters < 1:
            raise ConfigError(f"restarts and iters must be at least 1, got {restarts}, {iters}.")
        super().__init__(obs_dim, latent_dim, n_relu)
        if seed is None:  # drawn from torch's generator, which fit() seeds with the run's seed
            seed = int(torch.randint(0, 2**31 - 1, ()).item())
        self.smooth, self.restarts, self.seed = int(smooth), int(restarts), int(seed)
        self.iters = int(iters)
        self.register_buffer("l0", torch.zeros(latent_dim - obs_dim))
        self._fits: list[dict[str, torch.Tensor]] = []
        self.fit_mse: list[float] = []

    @classmethod
    def min_latent_dim(cls, obs_dim: int, **kwargs: Any) -> int:
        """x and the P hinge units: ``N + P``."""
        n_relu = kwargs.get("n_relu", inspect.signature(cls).parameters["n_relu"].default)
        return obs_dim + int(n_relu)

    def _pairs(self, trials: Sequence[np.ndarray]) -> tuple[torch.Tensor, torch.Tensor]:
        xs, ys = [], []
        for v in trials:
            a = np.asarray(v, dtype=float)
            if a.ndim != 2 or a.shape[1] != self.obs_dim:
                raise DataError(
                    f"a training trajectory has shape {a.shape}; the model observes "
                    f"{self.obs_dim} channel(s)."
                )
            if a.shape[0] < 3:
                continue
            a = smooth_series(a, self.smooth)
            xs.append(torch.as_tensor(a[:-1]))
            ys.append(torch.as_tensor(a[1:]))
        if not xs:
            raise DataError("every training trajectory is shorter than 3 samples.")
        return torch.cat(xs), torch.cat(ys)

    @torch.no_grad()
    def _embed(self, hm: HingeMap) -> dict[str, torch.Tensor]:
        """The AL-RNN parameters that reproduce ``hm`` exactly (see the module docstring)."""
        n, m, p = self.obs_dim, self.latent_dim, self.n_relu
        f64 = torch.float64
        w = torch.zeros(m, m, dtype=f64)
        h = torch.zeros(m, dtype=f64)
        w[:n, :n] = torch.eye(n, dtype=f64) + hm.theta
        w[:n, m - p :] = hm.w
        h[:n] = hm.c
        w[m - p :] = hm.a @ w[:n]
        h[m - p :] = hm.a @ hm.c + hm.b
        lmat = torch.zeros(m - n, n, dtype=f64)
        lmat[m - n - p :] = hm.a
        l0 = torch.zeros(m - n, dtype=f64)
        l0[m - n - p :] = hm.b
        dtype = self.W.dtype
        return {
            "A": torch.zeros(m, dtype=dtype),
            "W": w.to(dtype),
            "h": h.to(dtype),
            "L": lmat.to(dtype),
            "l0": l0.to(dtype),
        }

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Start state ``[x ; L x + l0]``: the hinge units start at ``a_i·x + b_i`` exactly."""
        return torch.cat([x, x @ self.L.T + self.l0], dim=-1)

    def fit_direct(self, trials: Sequence[np.ndarray]) -> None:
        """Fit ``restarts`` hinge maps to the (smoothed) training transitions; load the first."""
        pairs = self._pairs(trials)
        self._fits, self.fit_mse = [], []
        with torch.enable_grad():
            for r in range(self.restarts):
                hm, mse = fit_hinge_map(
                    pairs, self.n_relu, Seeds(self.seed).integer(f"restart/{r}"), self.iters
                )
                self._fits.append(self._embed(hm))
                self.fit_mse.append(mse)
        self.use_candidate(0)

    def direct_candidates(self) -> tuple[int, ...]:
        """Restart indices worth validating after :meth:`fit_direct` (one: nothing to choose)."""
        return tuple(range(len(self._fits))) if len(self._fits) > 1 else ()

    @torch.no_grad()
    def use_candidate(self, k: int) -> None:
        """Load the parameters of restart ``k``."""
        if not 0 <= k < len(self._fits):
            raise ConfigError(f"no fitted restart {k}; call fit_direct first.")
        for name, value in self._fits[int(k)].items():
            getattr(self, name).copy_(value)

    def config(self) -> dict[str, Any]:
        return {
            **super().config(),
            "smooth": self.smooth,
            "restarts": self.restarts,
            "seed": self.seed,
            "iters": self.iters,
        }
