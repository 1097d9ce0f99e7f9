"""Context parroting: forecast by copying what followed the nearest match of the recent context.

Zhang & Gilpin (2025), "Context parroting: a simple but tough-to-beat baseline for foundation
models in scientific machine learning": a time-series foundation model that forecasts a chaotic
system well is often doing little more than finding the stretch of its context that best matches
the last ``D`` points and repeating what came after it. Written as a map on delay vectors it is
Lorenz's method of analogues with a delay context (Sugihara & May's simplex projection with one
neighbour)::

    z_t = [x_t; x_{t−1}; …; x_{t−D+1}]                      (M = N·D)
    j*  = argmin_j ‖z_t − w_j‖₂                             (w_j: the library's windows)
    z_{t+1} = [y_{j*}; x_t; …; x_{t−D+2}],  x̂_{t+1} = y_{j*}  (y_j: what followed w_j)

The library is every window of ``D`` consecutive training samples that has a successor, with
that successor. In the paper the library is the forecaster's own context window; here the
training trajectories play that part, so the model is a fitted baseline like ``naive-mean``:
a free run started inside the training data replays it exactly until it reaches the end of a
trajectory, then jumps to the nearest other window, so every free run is a concatenation of
stretches of the training data. ``encode(x)`` takes the window whose newest sample is nearest to
``x`` as the context and puts ``x`` in its newest slot.

The copied successor is piecewise constant in ``z`` (constant on each Voronoi cell of the
windows), so ``∂x_{t+1}/∂z = 0`` almost everywhere and the Jacobian is the pure shift of the
delay vector: nilpotent (``J^D = 0``), so every Lyapunov exponent is ``−∞`` in theory. What the
model is scored on is its free runs (D_stsp, D_H, PE), not its λ_max.

Why it is written here: scipy's ``cKDTree`` does the nearest-neighbour search, the only
algorithmic part. pyEDM's ``Simplex`` (``knn=1``) computes the same forecast for one target
column of a DataFrame, and no package on PyPI offers context parroting as a map; neither gives a
batched torch :class:`DynamicalModel` (a latent state that steps many free runs in lock step,
an exact Jacobian, a safetensors checkpoint) that the metrics and run directories need, and the
map itself is a dozen lines.

The library lives in two buffers, ``windows`` ``(P, M)`` and ``successors`` ``(P, N)``, so a
checkpoint holds it (``P·(M+N)`` numbers: 100 000 samples of 3 channels at ``D = 8`` are
10.8 MB in float32). Their size depends on the data, so a freshly built model has empty
buffers and :meth:`ContextParroting._load_from_state_dict` resizes them to the checkpoint's;
the KD-trees are rebuilt lazily whenever the buffers change (fit, load, ``.double()``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch import Tensor

from attractor.errors import ConfigError, DataError
from attractor.models.base import DirectFit, MatrixFreeJVP

if TYPE_CHECKING:
    from scipy.spatial import cKDTree

#: Default context length ``D`` (delay-vector length in samples).
CONTEXT = 8


class ContextParroting(DirectFit, MatrixFreeJVP):
    """Nearest-window forecaster on delay vectors of length ``context`` (module docstring).

    ``latent_dim`` is derived, ``M = N · context``; a given ``latent_dim`` sets the context to
    ``latent_dim / N`` when ``context`` is not given, and must equal ``N · context`` when it is.
    The model has no trainable parameters and takes no external inputs."""

    kind = "parroting"

    def __init__(
        self,
        obs_dim: int,
        latent_dim: int | None = None,
        n_inputs: int = 0,
        context: int | None = None,
    ) -> None:
        if obs_dim < 1:
            raise ConfigError(f"the observed dimension must be at least 1, got {obs_dim}.")
        if context is None:
            if latent_dim is None:
                context = CONTEXT
            elif latent_dim < obs_dim or latent_dim % obs_dim:
                raise ConfigError(
                    f"parroting's latent state is the last `context` observations, so its "
                    f"latent size must be a multiple of the {obs_dim} observed channel(s); got "
                    f"latent={latent_dim} (pass context=… instead)."
                )
            else:
                context = latent_dim // obs_dim
        if (
            isinstance(context, bool)
            or not isinstance(context, (int, float, np.integer, np.floating))
            or not float(context).is_integer()
            or context < 1
        ):
            raise ConfigError(f"context must be a whole number of steps ≥ 1, got {context!r}.")
        context = int(context)
        if latent_dim is not None and latent_dim != obs_dim * context:
            raise ConfigError(
                f"parroting's latent size is obs_dim × context = {obs_dim} × {context} = "
                f"{obs_dim * context}; got latent={latent_dim}. Pass context=… alone."
            )
        if n_inputs:
            raise ConfigError(
                f"parroting copies stretches of the training data and takes no external "
                f"inputs; got n_inputs={n_inputs}."
            )
        super().__init__(obs_dim, obs_dim * context, 0)
        self.context = context
        with torch.no_grad():
            self.L.zero_()  # unused: encode looks the context up in the library
        self.L.requires_grad_(False)
        self.register_buffer("windows", torch.zeros(0, self.latent_dim))
        self.register_buffer("successors", torch.zeros(0, obs_dim))
        self._trees: dict[str, tuple[Tensor, int, cKDTree]] = {}

    # ------------------------------------------------------------------ the library
    @property
    def library_size(self) -> int:
        """Number of windows ``P`` in the library (0 before :meth:`fit_direct`)."""
        return int(self.windows.shape[0])

    def _tree(self, which: str) -> cKDTree:
        """KD-tree over the windows (``"windows"``) or over their newest samples
        (``"newest"``), rebuilt whenever the ``windows`` buffer is replaced or changed."""
        if self.library_size == 0:
            raise ConfigError(
                "the parroting model has an empty library; fit it first (fit_direct, or "
                "attractor fit), or load a fitted checkpoint."
            )
        w = self.windows
        cached = self._trees.get(which)
        if cached is not None and cached[0] is w and cached[1] == w._version:
            return cached[2]
        from scipy.spatial import cKDTree  # on first use: importing the registry stays light

        pts = w.detach().to(device="cpu", dtype=torch.float64).numpy()
        if which == "newest":
            pts = pts[:, : self.obs_dim]
        tree = cKDTree(pts)
        self._trees[which] = (w, w._version, tree)
        return tree

    def _nearest(self, which: str, q: Tensor) -> tuple[Tensor, Tensor]:
        """Library index of the nearest point to each row of ``q`` ``(B, D_q)``, and a mask of
        the rows that are finite (the others get index 0): two ``(B,)`` tensors on the CPU."""
        tree = self._tree(which)
        pts = q.detach().to(device="cpu", dtype=torch.float64).numpy()
        finite = np.isfinite(pts).all(axis=1)
        idx = np.zeros(pts.shape[0], dtype=np.int64)
        if finite.any():
            idx[finite] = tree.query(pts[finite] if not finite.all() else pts, k=1)[1]
        return torch.from_numpy(idx), torch.from_numpy(finite)

    def _check_last(self, t: Tensor, size: int, what: str) -> None:
        if t.ndim == 0 or t.shape[-1] != size:
            raise DataError(
                f"{what} has shape {tuple(t.shape)}; the parroting model needs {size} entries in "
                f"its last dimension (N = {self.obs_dim} channels, context {self.context})."
            )

    # ------------------------------------------------------------------ the map
    def step(self, z: Tensor, s: Tensor | None = None) -> Tensor:
        """``z' = [y_{j*}; z_{1:M−N}]`` with ``j*`` the library window nearest to ``z``
        (Euclidean, all rows in one KD-tree query); non-finite rows give NaN."""
        m, n = self.latent_dim, self.obs_dim
        self._check_last(z, m, "the latent state")
        flat = z.reshape(-1, m)
        idx, finite = self._nearest("windows", flat)
        nxt = self.successors[idx.to(self.successors.device)].to(device=z.device, dtype=z.dtype)
        if not bool(finite.all()):
            nxt = torch.where(finite.to(z.device)[:, None], nxt, torch.full_like(nxt, np.nan))
        nxt = nxt.reshape(*z.shape[:-1], n)
        return torch.cat([nxt, z[..., : m - n]], dim=-1)

    def jacobian(self, z: Tensor, s: Tensor | None = None) -> Tensor:
        """Exact ``∂F/∂z`` ``(B, M, M)``: the copied successor is piecewise constant in ``z``, so
        its rows are zero, and the rest shifts the delay vector down by one sample
        (``J[N + i, i] = 1``). ``J`` is nilpotent (``J^D = 0``), so the model's Lyapunov
        exponents are all ``−∞`` in theory; the QR estimate returns ``−inf`` or, where rounding
        leaves a tiny diagonal, very negative numbers."""
        m, n = self.latent_dim, self.obs_dim
        jac = z.new_zeros(*z.shape[:-1], m, m)
        if m > n:
            jac[..., n:, : m - n] = torch.eye(m - n, dtype=z.dtype, device=z.device)
        return jac

    def jvp(self, z: Tensor, v: Tensor) -> Tensor:
        """``J(z) v = [0; v_{1:M−N}]`` row by row, without forming ``J``."""
        n = self.obs_dim
        return torch.cat([torch.zeros_like(v[..., :n]), v[..., : self.latent_dim - n]], dim=-1)

    def encode(self, x: Tensor) -> Tensor:
        """``z = [x; older samples of the window whose newest sample is nearest to x]``:
        ``(..., N) → (..., M)``."""
        m, n = self.latent_dim, self.obs_dim
        self._check_last(x, n, "the observation")
        flat = x.reshape(-1, n)
        idx, _ = self._nearest("newest", flat)
        older = self.windows[idx.to(self.windows.device), n:].to(device=x.device, dtype=x.dtype)
        return torch.cat([x, older.reshape(*x.shape[:-1], m - n)], dim=-1)

    def norm_bound(self) -> float:
        """``‖J‖₂`` is exactly 1 everywhere (a shift), 0 for ``context = 1``."""
        return 1.0 if self.context > 1 else 0.0

    @classmethod
    def min_latent_dim(cls, obs_dim: int, **kwargs: Any) -> int:
        """``N · context`` (the latent state is the delay vector)."""
        context = kwargs.get("context")
        return obs_dim * (CONTEXT if context is None else int(context))

    # ------------------------------------------------------------------ the fit
    @torch.no_grad()
    def fit_direct(self, trials: Sequence[np.ndarray]) -> None:
        """Store every window ``[x_t; …; x_{t−D+1}]`` of each training trajectory (each
        ``(T_k, N)``) that has a successor, with the successor ``x_{t+1}``."""
        d, n = self.context, self.obs_dim
        wins, succ = [], []
        for k, v in enumerate(trials):
            x = np.asarray(v, dtype=np.float64)
            if x.ndim != 2 or x.shape[1] != n:
                raise DataError(
                    f"training trajectory {k} has shape {x.shape}; the parroting model observes "
                    f"{n} channel(s), so each trajectory must be (T, {n})."
                )
            if not np.isfinite(x).all():
                raise DataError(
                    f"training trajectory {k} contains NaN or infinite values; the library "
                    "must hold finite data (interpolate or drop the gaps first)."
                )
            if x.shape[0] < d + 1:
                continue
            # (T−D+1, N, D) windows x[i : i+D]; newest first, flattened sample by sample
            view = np.lib.stride_tricks.sliding_window_view(x, d, axis=0)[:-1]
            wins.append(view[:, :, ::-1].transpose(0, 2, 1).reshape(-1, d * n))
            succ.append(x[d:])
        if not wins:
            lengths = [int(np.asarray(v).shape[0]) for v in trials]
            raise DataError(
                f"every training trajectory is shorter than context + 1 = {d + 1} samples "
                f"(lengths {lengths}); provide longer data or a shorter context."
            )
        dtype, device = self.windows.dtype, self.windows.device
        self.windows = torch.as_tensor(np.concatenate(wins), dtype=dtype, device=device)
        self.successors = torch.as_tensor(np.concatenate(succ), dtype=dtype, device=device)
        self._trees = {}

    def _load_from_state_dict(
        self,
        state_dict: dict[str, Any],
        prefix: str,
        local_metadata: dict[str, Any],
        strict: bool,
        missing_keys: list[str],
        unexpected_keys: list[str],
        error_msgs: list[str],
    ) -> None:
        """Resize the library buffers to the checkpoint's (their row count is the data's),
        then load as usual; a checkpoint of another width still fails with a size mismatch."""
        rows = {}
        for name, width in (("windows", self.latent_dim), ("successors", self.obs_dim)):
            t = state_dict.get(prefix + name)
            if isinstance(t, Tensor) and t.ndim == 2 and t.shape[1] == width:
                rows[name] = t.shape[0]
        if len(rows) == 2 and rows["windows"] != rows["successors"]:
            error_msgs.append(
                f"the checkpoint holds {rows['windows']} windows but {rows['successors']} "
                "successors; a parroting library needs one successor per window."
            )
            return
        for name, p in rows.items():
            buf = self._buffers[name]
            assert buf is not None
            if buf.shape[0] != p:
                self._buffers[name] = buf.new_empty(p, buf.shape[1])
        self._trees = {}
        super()._load_from_state_dict(
            state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys, error_msgs
        )

    def __getstate__(self) -> dict[str, Any]:
        """Copies (``copy.deepcopy``, pickling) leave the KD-trees behind; they are rebuilt."""
        state = self.__dict__.copy()
        state["_trees"] = {}
        return state

    def config(self) -> dict[str, Any]:
        return {"obs_dim": self.obs_dim, "context": self.context, "n_inputs": 0}

    def extra_repr(self) -> str:
        n, d, p = self.obs_dim, self.context, self.library_size
        return f"N={n}, context={d}, M={self.latent_dim}, library={p} windows"
