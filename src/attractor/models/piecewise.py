"""The piecewise-linear normal form: one affine map plus one layer of ReLUs, as plain data.

Every :class:`~attractor.models.base.PiecewiseLinear` model can be written as::

    F(z) = B z + b + V (d ⊙ u),   u = G z + g,   d = 1[u > 0]
    z ∈ R^M,  B (M, M),  b (M,),  V (M, K),  G (K, M),  g (K,)

so inside the linear subregion with activation pattern ``d ∈ {0,1}^K`` it is affine::

    F_d(z) = J_d z + c_d,   J_d = B + V diag(d) G,   c_d = b + V (d ⊙ g)

and ``d`` (the signs of the K *boundary* variables ``u``) names the subregion. Each model builds
its own form (``piecewise_form()``) from its parameters in float64; exact analysis
(:mod:`attractor.analysis`) works on the form and never on a model class. External inputs are
not part of the form: it is the autonomous map (s = 0).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from attractor.errors import ConfigError

#: Largest number of boundary units whose patterns are encoded as one integer symbol.
MAX_CODE_BITS = 62


@dataclass(frozen=True)
class PiecewiseLinearForm:
    """``F(z) = B z + b + V (d ⊙ (G z + g))`` with ``d = 1[G z + g > 0]`` (float64 arrays).

    ``unit_labels`` name the K boundary variables (for codes and reports); ``kind`` is the
    model's registry name.
    """

    B: np.ndarray
    b: np.ndarray
    V: np.ndarray
    G: np.ndarray
    g: np.ndarray
    kind: str
    unit_labels: tuple[str, ...]

    @property
    def latent_dim(self) -> int:
        return int(self.B.shape[0])

    @property
    def n_bits(self) -> int:
        """K, the number of boundary variables (2^K patterns at most)."""
        return int(self.G.shape[0])

    def boundary(self, z: np.ndarray) -> np.ndarray:
        """``u = G z + g``: ``(..., M) → (..., K)``; the region's walls are ``u_k = 0``."""
        return np.asarray(z) @ self.G.T + self.g

    def pattern(self, z: np.ndarray) -> np.ndarray:
        """Activation pattern ``d = 1[u > 0]`` as bool: ``(..., M) → (..., K)``."""
        return self.boundary(z) > 0

    def pieces(self, d: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(J_d, c_d)`` of patterns ``d`` ``(..., K)``: ``(..., M, M)`` and ``(..., M)``."""
        d = np.asarray(d, dtype=np.float64)
        jac = self.B + np.einsum("mk,...k,kn->...mn", self.V, d, self.G)
        c = self.b + (d * self.g) @ self.V.T
        return jac, c

    def step(self, z: np.ndarray) -> np.ndarray:
        """``F(z)``: ``(..., M) → (..., M)``."""
        u = self.boundary(z)
        return np.asarray(z) @ self.B.T + self.b + np.maximum(u, 0.0) @ self.V.T

    def jacobian(self, z: np.ndarray) -> np.ndarray:
        """``J_d`` at ``z`` (the pattern's Jacobian): ``(..., M) → (..., M, M)``."""
        return self.pieces(self.pattern(z))[0]

    def codes(self, d: np.ndarray) -> np.ndarray:
        """Integer symbol ``Σ_k d_k 2^k`` of patterns ``(..., K)`` (same bit order as
        :meth:`ALRNN.symbols`); needs K ≤ :data:`MAX_CODE_BITS`."""
        if self.n_bits > MAX_CODE_BITS:
            raise ConfigError(
                f"a {self.kind} with {self.n_bits} boundary units has too many linear "
                f"subregions to number them; symbolic codes need at most {MAX_CODE_BITS}."
            )
        w = np.left_shift(np.int64(1), np.arange(self.n_bits, dtype=np.int64))
        return (np.asarray(d, dtype=np.int64) * w).sum(-1)

    def decode(self, code: int) -> np.ndarray:
        """Pattern ``(K,)`` bool of an integer symbol."""
        return (np.int64(code) >> np.arange(self.n_bits, dtype=np.int64)) & 1 == 1

    def pattern_string(self, d: np.ndarray) -> str:
        """A pattern as a string of 0/1, boundary unit 1 first."""
        return "".join("1" if v else "0" for v in np.asarray(d, dtype=bool))


def float64_array(t: torch.Tensor) -> np.ndarray:
    """A parameter as a float64 numpy copy (for building a form)."""
    return t.detach().to(device="cpu", dtype=torch.float64).numpy().copy()
