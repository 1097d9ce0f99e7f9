"""The piecewise-linear normal form shared by PLRNN, AL-RNN and shPLRNN (plain and clipped).

Every :class:`~attractor.models.base.PiecewiseLinear` model is one affine map plus one layer of
ReLUs, ``F(z) = B z + b + V (d ⊙ (G z + g))`` with ``d = 1[G z + g > 0]``
(:class:`~attractor.models.piecewise.PiecewiseLinearForm`); each model builds its own form:

==================  ==============================  =============  ==============
model               u = G z + g                     V              B
==================  ==============================  =============  ==============
PLRNN               z                               W (diag 0)     diag(A)
AL-RNN (P ReLUs)    z_{M−P+1 … M}                   W[:, M−P:]     diag(A) + W[:, :M−P] E
shPLRNN, plain      W₂ z + h₂                       W₁             diag(A)
shPLRNN, clipped    [W₂ z + h₂ ; W₂ z]  (K = 2L)    [W₁, −W₁]      diag(A)
==================  ==============================  =============  ==============

(``E`` selects the M−P linear units; b = h, or h₁ for the shPLRNN.) Analysis code (exact fixed
points, symbolic codes) works on the form and never on a model class; a new piecewise-linear
model declares :class:`~attractor.models.base.PiecewiseLinear` and implements
``piecewise_form()``. Written by hand because no library exposes the linear pieces of a ReLU
recurrence.
"""

from __future__ import annotations

from attractor.errors import ConfigError
from attractor.models.base import DynamicalModel, PiecewiseLinear
from attractor.models.piecewise import MAX_CODE_BITS, PiecewiseLinearForm

__all__ = ["MAX_CODE_BITS", "PiecewiseLinearForm", "has_form", "piecewise_linear_form"]


def has_form(model: DynamicalModel) -> bool:
    """Whether ``model`` has an exact piecewise-linear form (exact analysis applies)."""
    return isinstance(model, PiecewiseLinear)


def piecewise_linear_form(model: DynamicalModel) -> PiecewiseLinearForm:
    """The :class:`PiecewiseLinearForm` of ``model``; ConfigError for a smooth model."""
    if isinstance(model, PiecewiseLinear):
        return model.piecewise_form()
    raise ConfigError(
        f"model {model.kind or type(model).__name__!r} is not piecewise linear (or its linear "
        "pieces are unknown), so it has no linear subregions; this analysis needs a plrnn, "
        "shplrnn or alrnn run."
    )
