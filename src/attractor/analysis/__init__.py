"""analysis: what a trained model learned — Lyapunov spectra, fixed points and cycles, symbolic
dynamics of piecewise-linear models, and the ``attractor analyze`` report; for memory tasks,
timescales (τ vs τ_net) and robustness (``attractor.tasks.timescales`` / ``.robustness``)."""

from attractor.analysis.fixedpoints import Orbit, OrbitSearch, find_fixed_points, find_orbits
from attractor.analysis.lyapunov import SpectrumReport, compare_spectra, model_spectrum
from attractor.analysis.piecewise import PiecewiseLinearForm, piecewise_linear_form
from attractor.analysis.report import analyze_run
from attractor.analysis.stability import Stability, classify_flow, classify_map
from attractor.analysis.symbolic import SymbolicDynamics, symbolic_dynamics, transition_graph

__all__ = [
    "Orbit",
    "OrbitSearch",
    "PiecewiseLinearForm",
    "SpectrumReport",
    "Stability",
    "SymbolicDynamics",
    "analyze_run",
    "classify_flow",
    "classify_map",
    "compare_spectra",
    "find_fixed_points",
    "find_orbits",
    "model_spectrum",
    "piecewise_linear_form",
    "symbolic_dynamics",
    "transition_graph",
]
