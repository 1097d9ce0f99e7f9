"""Figures, one module per family, all saved by :func:`attractor.plots.style.save` (atomic).

Reconstruction (true vs generated): :mod:`~attractor.plots.attractor`,
:mod:`~attractor.plots.time_series`, :mod:`~attractor.plots.spectra`; training curves
:mod:`~attractor.plots.training`; Lyapunov convergence :mod:`~attractor.plots.lyapunov`; orbits
and symbolic dynamics of a trained model :mod:`~attractor.plots.analysis`; memory-task runs
:mod:`~attractor.plots.tasks`. Each family has ``*_figure(...) -> Figure`` (no file I/O) and
``plot_*(..., path) -> Path`` (draws with it and saves). The names below are re-exported lazily,
so importing one family does not import matplotlib's 3-D toolkit or networkx for the others.
"""

from __future__ import annotations

from attractor import lazy_exports

_EXPORTS = {
    "style": ("PlotStyle", "STYLE", "MAX_PANELS", "save"),
    "attractor": ("attractor_figure", "plot_attractor"),
    "time_series": ("time_series_figure", "plot_time_series"),
    "spectra": ("spectra_figure", "plot_spectra", "SPECTRUM_MASS"),
    "training": ("training_figure", "plot_training"),
    "lyapunov": ("lyapunov_figure", "plot_lyapunov_convergence"),
    "analysis": (
        "orbits_figure",
        "plot_orbits",
        "region_coverage_figure",
        "plot_region_coverage",
        "transition_graph_figure",
        "plot_transition_graph",
    ),
    "tasks": (
        "n_reached_figure",
        "plot_n_reached",
        "timescales_vs_n_figure",
        "plot_timescales_vs_n",
        "robustness_figure",
        "plot_robustness",
        "hmm_statistics_figure",
        "plot_hmm_statistics",
    ),
}
_MODULE_OF = {name: module for module, names in _EXPORTS.items() for name in names}
__all__ = sorted(_MODULE_OF)


__getattr__, __dir__ = lazy_exports(
    __name__, {name: f"{__name__}.{module}" for name, module in _MODULE_OF.items()}
)
