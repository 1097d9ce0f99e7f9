"""The piecewise-linear normal form shared by PLRNN, AL-RNN and shPLRNN (plain and clipped).

Every piecewise-linear model of the library is one affine map plus one layer of ReLUs::

    F(z) = B z + b + V (d ⊙ u),   u = G z + g,   d = 1[u > 0]
    z ∈ R^M,  B (M, M),  b (M,),  V (M, K),  G (K, M),  g (K,)

so inside the linear subregion with activation pattern ``d ∈ {0,1}^K`` it is affine::

    F_d(z) = J_d z + c_d,   J_d = B + V diag(d) G,   c_d = b + V (d ⊙ g)

and ``d`` (the signs of the K *boundary* variables ``u``) names the subregion.

==================  ==============================  =============  ==============
model               u = G z + g                     V              B
==================  ==============================  =============  ==============
PLRNN               z                               W (diag 0)     diag(A)
AL-RNN (P ReLUs)    z_{M−P+1 … M}                   W[:, M−P:]     diag(A) + W[:, :M−P] E
shPLRNN, plain      W₂ z + h₂                       W₁             diag(A)
shPLRNN, clipped    [W₂ z + h₂ ; W₂ z]  (K = 2L)    [W₁, −W₁]      diag(A)
==================  ==============================  =============  ==============

(``E`` selects the M−P linear units; b = h, or h₁ for the shPLRNN.) The form is built from the
model's parameters in float64; analysis code (exact fixed points, symbolic codes) works on it
and never on a model class. Models are mapped to their form by :data:`FORMS`; a new
piecewise-linear model adds one entry with :func:`register_form`. External inputs are not part
of the form: the analysis is of the autonomous map (s = 0).

Written by hand because no library exposes the linear pieces of a ReLU recurrence.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from attractor.errors import ConfigError
from attractor.models.alrnn import ALRNN
from attractor.models.base import DynamicalModel
from attractor.models.plrnn import PLRNN, ShallowPLRNN

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


def _np(t: torch.Tensor) -> np.ndarray:
    return t.detach().to(device="cpu", dtype=torch.float64).numpy().copy()


def _plrnn_form(model: PLRNN) -> PiecewiseLinearForm:
    m = model.latent_dim
    return PiecewiseLinearForm(
        B=np.diag(_np(model.A)),
        b=_np(model.h),
        V=_np(model.weight()),
        G=np.eye(m),
        g=np.zeros(m),
        kind=model.kind,
        unit_labels=tuple(f"z{i + 1}" for i in range(m)),
    )


def _alrnn_form(model: ALRNN) -> PiecewiseLinearForm:
    m, p = model.latent_dim, model.n_relu
    k = m - p
    w = _np(model.W)
    b_mat = np.diag(_np(model.A))
    b_mat[:, :k] += w[:, :k]
    return PiecewiseLinearForm(
        B=b_mat,
        b=_np(model.h),
        V=w[:, k:],
        G=np.eye(m)[k:],
        g=np.zeros(p),
        kind=model.kind,
        unit_labels=tuple(f"z{i + 1}" for i in range(k, m)),
    )


def _shplrnn_form(model: ShallowPLRNN) -> PiecewiseLinearForm:
    w1, w2, h2 = _np(model.W1), _np(model.W2), _np(model.h2)
    n_hidden = model.hidden_dim
    labels = tuple(f"h{i + 1}" for i in range(n_hidden))
    if model.clipped:
        v, g_mat, g = np.hstack([w1, -w1]), np.vstack([w2, w2]), np.concatenate([h2, 0 * h2])
        labels = labels + tuple(f"h{i + 1}−h₂" for i in range(n_hidden))
    else:
        v, g_mat, g = w1, w2, h2
    return PiecewiseLinearForm(
        B=np.diag(_np(model.A)),
        b=_np(model.h1),
        V=v,
        G=g_mat,
        g=g,
        kind="shplrnn" if model.clipped else "shplrnn-plain",
        unit_labels=labels,
    )


#: Model class → builder of its piecewise-linear form (subclasses are matched too).
FORMS: dict[type[DynamicalModel], Callable[[DynamicalModel], PiecewiseLinearForm]] = {
    ALRNN: _alrnn_form,
    PLRNN: _plrnn_form,
    ShallowPLRNN: _shplrnn_form,
}


def register_form(
    cls: type[DynamicalModel], builder: Callable[[DynamicalModel], PiecewiseLinearForm]
) -> None:
    """Teach the analysis the piecewise-linear form of a new model class."""
    FORMS[cls] = builder


def has_form(model: DynamicalModel) -> bool:
    """Whether ``model`` has a known piecewise-linear form (exact analysis applies)."""
    return any(isinstance(model, cls) for cls in FORMS)


def piecewise_linear_form(model: DynamicalModel) -> PiecewiseLinearForm:
    """The :class:`PiecewiseLinearForm` of ``model``; ConfigError for a smooth model."""
    for cls, builder in FORMS.items():
        if isinstance(model, cls):
            return builder(model)
    kind = getattr(model, "kind", "") or type(model).__name__
    raise ConfigError(
        f"model {kind!r} is not piecewise linear (or its linear pieces are unknown), so it has "
        "no linear subregions; this analysis needs a plrnn, shplrnn or alrnn run."
    )
