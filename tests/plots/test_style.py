"""The one figure save and the ``*_figure`` functions of every family."""

from __future__ import annotations

import math

import networkx as nx
import numpy as np
import pytest
from matplotlib.figure import Figure
from matplotlib.image import imread

from attractor import plots
from attractor.errors import ConfigError
from attractor.plots.style import figure_path, new_figure, save


def _drawn(size=(2.0, 1.5)) -> Figure:
    fig = new_figure(size)
    fig.add_subplot().plot([0, 1, 2], [0, 1, 0])
    return fig


def test_save_writes_the_suffixs_format_at_the_styles_resolution(tmp_path):
    path = save(_drawn(), tmp_path / "new" / "f.png")
    assert path == tmp_path / "new" / "f.png"
    assert imread(path).shape[:2] == (round(1.5 * plots.STYLE.dpi), round(2.0 * plots.STYLE.dpi))
    assert save(_drawn(), tmp_path / "plain") == tmp_path / "plain.png"
    assert save(_drawn(), tmp_path / "v.svg").read_text().lstrip().startswith("<?xml")
    assert imread(save(_drawn(), tmp_path / "d.png", dpi=50)).shape[:2] == (75, 100)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d.png", "new", "plain.png", "v.svg"]


def test_save_clears_the_figure_and_needs_no_agg_canvas(tmp_path):
    fig = Figure(figsize=(2, 2))  # as the task figures are made: no canvas attached
    fig.add_subplot().plot([0, 1])
    save(fig, tmp_path / "t.png", bbox_inches="tight")
    assert imread(tmp_path / "t.png").std() > 0 and fig.axes == []


def test_a_failing_savefig_leaves_no_file_and_no_temporary(tmp_path, monkeypatch):
    def broken(self, fname, **kwargs):
        fname.write(b"\x89PNG half")
        raise OSError("disk full")

    monkeypatch.setattr(Figure, "savefig", broken)
    fig = _drawn()
    with pytest.raises(OSError, match="disk full"):
        save(fig, tmp_path / "f.png")
    assert list(tmp_path.iterdir()) == []
    assert fig.axes == []  # released also on failure


def test_an_unknown_suffix_is_refused_before_anything_is_written(tmp_path):
    with pytest.raises(ConfigError, match=r"cannot save a figure as '\.docx'"):
        figure_path(tmp_path / "a.docx")
    with pytest.raises(ConfigError):
        save(_drawn(), tmp_path / "a.docx")
    assert list(tmp_path.iterdir()) == []


def _lorenz_like(n: int = 600) -> np.ndarray:
    t = np.arange(n) * 0.05
    return np.c_[np.sin(t), np.cos(1.3 * t), np.sin(0.7 * t) * np.cos(t)]


def _history() -> list[dict]:
    return [
        {
            "epoch": e,
            "loss": math.exp(-e / 5),
            "alpha": 0.2,
            "lr": 1e-3,
            "D_stsp": 1 / e,
            "D_H": 0.1,
        }
        for e in range(1, 11)
    ]


FIGURES = {
    "attractor_figure": lambda x: plots.attractor_figure(x, x[:400]),
    "time_series_figure": lambda x: plots.time_series_figure(x, x[:400], dt=0.05),
    "spectra_figure": lambda x: plots.spectra_figure(x, x[:400], dt=0.05),
    "training_figure": lambda x: plots.training_figure(_history()),
    "lyapunov_figure": lambda x: plots.lyapunov_figure(np.arange(1, 11), np.ones((10, 2))),
    "orbits_figure": lambda x: plots.orbits_figure(
        x, [{"data": x[:1], "type": "saddle", "stable": False}]
    ),
    "region_coverage_figure": lambda x: plots.region_coverage_figure(
        [{"pattern": "01", "coverage": 0.7, "fixed_point_real": True}]
    ),
    "transition_graph_figure": lambda x: plots.transition_graph_figure(nx.DiGraph()),
    "n_reached_figure": lambda x: plots.n_reached_figure(
        [{"epoch": 1, "n": 2, "n_reached": None}, {"epoch": 2, "n": 3, "n_reached": 2}]
    ),
    "timescales_vs_n_figure": lambda x: plots.timescales_vs_n_figure(
        [{"N": 2, "tau_mean": 1.0, "tau_net_mean": 2.0}]
    ),
    "robustness_figure": lambda x: plots.robustness_figure(
        {
            "N": 3,
            "epsilons": [0.1, 1.0],
            "perturb_W": [1.0, 0.5],
            "perturb_tau": [1.0, 0.8],
            "ablation_fastest": [0.9],
            "ablation_slowest": [0.7],
        }
    ),
    "hmm_statistics_figure": lambda x: plots.hmm_statistics_figure(
        {
            "frequencies_hmm": [0.5, 0.5],
            "frequencies_rnn": [0.4, 0.6],
            "frequency_error": 0.1,
            "transitions_hmm": np.eye(2),
            "transitions_rnn": np.eye(2),
            "transition_error": 0.0,
        }
    ),
}


@pytest.mark.parametrize("name", sorted(FIGURES))
def test_every_figure_function_returns_a_figure_and_writes_nothing(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    fig = FIGURES[name](_lorenz_like())
    assert isinstance(fig, Figure) and fig.axes
    assert list(tmp_path.iterdir()) == []


def test_every_family_pairs_a_figure_function_with_a_plot_function():
    figures = {n for n in plots.__all__ if n.endswith("_figure")}
    assert figures == set(FIGURES)
    for name in figures:
        plot = "plot_" + name.removesuffix("_figure")
        plot = {"plot_lyapunov": "plot_lyapunov_convergence"}.get(plot, plot)
        assert callable(getattr(plots, plot))
