"""Echo-state network built and fitted by ``reservoirpy``, run as our :class:`EchoStateNetwork`.

``fit_direct`` creates a reservoirpy ``Reservoir`` (``units`` R, leak rate ``lr``, spectral
radius ``sr``, input scaling, recurrent connectivity, bias uniform in ±``bias_scaling``, seeded
from torch's generator so model seeds work as for every other model) and a ``Ridge`` readout,
drives the reservoir with each training trajectory, and fits the readout with reservoirpy,
dropping ``washout`` states per trajectory. reservoirpy's update is the same equation as ours,

    r_{t+1} = (1 − a) r_t + a tanh(W r_t + W_in x_t + b),   x_{t+1} = W_out r_{t+1} + b_out,

so its matrices are copied into the torch model, which then steps batches, gives Jacobians and
Lyapunov spectra like every other model. The readout sees the reservoir state only
(reservoirpy's usual ESN), i.e. ``readout_input=False`` in our class.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from attractor.errors import DataError
from attractor.models.reservoir import (
    BIAS_SCALING,
    CONNECTIVITY,
    INPUT_SCALING,
    LEAK,
    RESERVOIR,
    RIDGE,
    SPECTRAL_RADIUS,
    WASHOUT,
    EchoStateNetwork,
    ridge_solve,
)


class ReservoirPyESN(EchoStateNetwork):
    """ESN whose reservoir and readout come from reservoirpy (module docstring)."""

    kind = "esn-rpy"

    def __init__(
        self,
        obs_dim: int,
        latent_dim: int | None = None,
        reservoir: int = RESERVOIR,
        spectral_radius: float = SPECTRAL_RADIUS,
        leak: float = LEAK,
        input_scaling: float = INPUT_SCALING,
        bias_scaling: float = BIAS_SCALING,
        connectivity: float = CONNECTIVITY,
        ridge: float = RIDGE,
        washout: int = WASHOUT,
        rpy_seed: int | None = None,
        n_inputs: int = 0,
    ) -> None:
        super().__init__(
            obs_dim,
            latent_dim,
            reservoir,
            spectral_radius,
            leak,
            input_scaling,
            bias_scaling,
            connectivity,
            ridge,
            washout,
            readout_input=False,
            n_inputs=n_inputs,
        )
        self.rpy_seed = int(torch.randint(2**31 - 1, ())) if rpy_seed is None else int(rpy_seed)

    def rpy_nodes(self) -> tuple[Any, Any]:
        """Fresh reservoirpy ``(Reservoir, Ridge)`` with this model's settings and seed."""
        from reservoirpy import mat_gen
        from reservoirpy.nodes import Reservoir, Ridge

        res = Reservoir(
            self.reservoir,
            lr=self.leak,
            sr=self.spectral_radius,
            input_scaling=self.input_scaling,
            rc_connectivity=self.connectivity,
            bias=mat_gen.uniform(low=-self.bias_scaling, high=self.bias_scaling),
            seed=self.rpy_seed,
        )
        return res, Ridge(ridge=self.ridge)

    @torch.no_grad()
    def fit_direct(self, trials: Sequence[np.ndarray]) -> None:
        xs = [np.asarray(v, dtype=np.float64) for v in trials if len(v) > self.washout + 2]
        if not xs or any(v.ndim != 2 or v.shape[1] != self.obs_dim for v in xs):
            raise DataError(
                f"the reservoirpy ESN needs trajectories of shape (T > {self.washout + 2}, "
                f"{self.obs_dim})."
            )
        res, readout = self.rpy_nodes()
        states = []
        for i, x in enumerate(xs):
            if i:
                res.reset()  # each trajectory starts from r = 0
            states.append(res.run(x[:-1]))  # r_{t+1} driven by x_t
        readout.fit(states, [x[1:] for x in xs], warmup=self.washout)
        w = res.W.toarray() if hasattr(res.W, "toarray") else np.asarray(res.W)
        win = res.Win.toarray() if hasattr(res.Win, "toarray") else np.asarray(res.Win)
        dtype = self.W.dtype
        self.W.copy_(torch.as_tensor(w, dtype=dtype))
        self.W_in.copy_(torch.as_tensor(win, dtype=dtype))
        self.b.copy_(
            torch.as_tensor(np.array(np.broadcast_to(res.bias, (self.reservoir,))), dtype=dtype)
        )
        w_out = np.concatenate([np.asarray(readout.bias)[:, None], np.asarray(readout.Wout).T], 1)
        self.W_out.copy_(torch.as_tensor(w_out, dtype=dtype))
        # the encoder r ≈ L x + c, as in our ESN
        r = np.concatenate([s[self.washout :] for s in states])
        xx = np.concatenate([x[1:][self.washout :] for x in xs])
        phi = torch.as_tensor(np.concatenate([np.ones((len(xx), 1)), xx], 1))
        enc = ridge_solve(phi, torch.as_tensor(r), 1e-8)
        self.c.copy_(enc[:, 0].to(dtype))
        self.L.data = enc[:, 1:].to(dtype).contiguous()

    def config(self) -> dict[str, Any]:
        cfg = super().config()
        cfg.pop("readout_input")
        return {**cfg, "rpy_seed": self.rpy_seed}
