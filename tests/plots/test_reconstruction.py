"""Run-directory figures: each function writes one readable image, atomically, whatever the data."""

from __future__ import annotations

import math
import os
from pathlib import Path

import matplotlib
import numpy as np
import pytest
import torch
from matplotlib.figure import Figure
from matplotlib.image import imread
from matplotlib.text import Text
from scipy.integrate import solve_ivp

from attractor import plots
from attractor.errors import ConfigError, DataError
from attractor.metrics.spectrum import power_spectrum

DT = 0.02


def _lorenz(t: float, u: np.ndarray, rho: float = 28.0) -> list[float]:
    x, y, z = u
    return [10.0 * (y - x), x * (rho - z) - y, x * y - 8.0 / 3.0 * z]


def _trajectory(rho: float, u0: list[float], n: int) -> np.ndarray:
    t = np.arange(n + 200) * DT
    sol = solve_ivp(_lorenz, (0.0, t[-1]), u0, t_eval=t, args=(rho,), rtol=1e-6, atol=1e-6)
    return sol.y.T[200:]


@pytest.fixture(scope="module")
def lorenz() -> tuple[np.ndarray, np.ndarray]:
    """A true Lorenz-63 trajectory (1500, 3) and a slightly perturbed, shorter 'generated' one."""
    return _trajectory(28.0, [1.0, 1.0, 1.0], 1500), _trajectory(28.5, [1.01, 1.0, 1.0], 1200)


def _channels(x: np.ndarray, n: int) -> np.ndarray:
    """``n`` channels from a Lorenz trajectory: a subset, or extra mixtures of x and y."""
    if n <= 3:
        return x[:, :n]
    mix = np.random.default_rng(0).standard_normal((2, n - 3))
    return np.c_[x, x[:, :2] @ mix]


def _diverged(y: np.ndarray, at: int) -> np.ndarray:
    out = y.copy()
    out[at - 20 : at] *= np.linspace(1.0, 1e6, 20)[:, None]
    out[at] = np.inf
    out[at + 1 :] = np.nan
    return out


def _check_image(path: Path, size: tuple[float, float] | None = None) -> np.ndarray:
    """``path`` is a readable image of plausible (or exactly ``size``-inch) size; no temporaries."""
    assert path.is_file() and path.stat().st_size > 1000
    img = imread(path)
    h, w = img.shape[:2]
    if size is None:
        assert 300 <= h <= 4000 and 300 <= w <= 4000
    else:
        assert (h, w) == (round(size[1] * plots.STYLE.dpi), round(size[0] * plots.STYLE.dpi))
    assert img[..., :3].std() > 0.01  # something was drawn
    assert [p.name for p in path.parent.iterdir() if p.name.startswith(".")] == []
    return img


def _texts(fig: Figure) -> str:
    return "\n".join(t.get_text() for t in fig.findobj(Text))


def _history(n: int = 30) -> list[dict]:
    rows = []
    for e in range(1, n + 1):
        row = {"epoch": e, "loss": math.exp(-e / 10) + 0.01, "alpha": 0.2, "lr": 1e-3 * 0.95**e}
        if e % 5 == 0:
            row.update(D_stsp=3.0 / e, D_H=0.5 / math.sqrt(e))
        rows.append(row)
    return rows


# ---------------------------------------------------------------------------- each figure
@pytest.mark.parametrize("n", [1, 2, 3, 5])
def test_attractor_for_any_number_of_channels(lorenz, tmp_path, n):
    x, y = lorenz
    path = plots.plot_attractor(_channels(x, n), _channels(y, n), tmp_path / "a.png")
    assert path == tmp_path / "a.png"
    size = plots.STYLE.attractor_3d_size if n >= 3 else plots.STYLE.attractor_2d_size
    _check_image(path, size)


def test_attractor_title_says_which_channels_are_shown(lorenz):
    x, y = lorenz
    fig = plots.attractor_figure(_channels(x, 5), _channels(y, 5), title="run 7")
    assert "run 7 (first 3 of 5 channels shown)" in _texts(fig)
    assert "x1(t+4)" in _texts(plots.attractor_figure(x[:, 0], y[:, 0], names=["x1"], lag=4))


def test_attractor_is_thinned_to_max_points(lorenz):
    x, y = lorenz
    fig = plots.attractor_figure(x[:, :2], y[:, :2], max_points=100)
    lines = fig.axes[0].get_lines()
    assert [len(line.get_xdata()) for line in lines] == [100, 100]


@pytest.mark.parametrize("n", [1, 2, 3, 5, 8])
def test_time_series_for_any_number_of_channels(lorenz, tmp_path, n):
    x, y = lorenz
    path = plots.plot_time_series(
        _channels(x, n), _channels(y, n), tmp_path / "ts.png", dt=DT, n_points=500
    )
    _check_image(path)
    fig = plots.time_series_figure(_channels(x, n), _channels(y, n), dt=DT, n_points=500)
    assert len(fig.axes) == min(n, plots.MAX_PANELS)
    assert ("first 6 of 8 channels shown" in _texts(fig)) == (n == 8)


def test_time_series_axis_is_in_physical_time(lorenz):
    x, y = lorenz
    fig = plots.time_series_figure(x, y, dt=DT, n_points=300)
    t = fig.axes[0].get_lines()[0].get_xdata()
    np.testing.assert_allclose(t, np.arange(300) * DT)
    assert fig.axes[0].get_xlim() == pytest.approx((0.0, 299 * DT))


@pytest.mark.parametrize("n", [1, 2, 3, 5])
def test_spectra_for_any_number_of_channels(lorenz, tmp_path, n):
    x, y = lorenz
    path = plots.plot_spectra(_channels(x, n), _channels(y, n), tmp_path / "s.png", dt=DT)
    _check_image(path)


def test_spectra_are_densities_on_physical_frequencies(lorenz):
    x, y = lorenz
    fig = plots.spectra_figure(x[:, :1], y[:, :1], dt=DT, smoothing=5.0)
    ax = fig.axes[0]
    (f, p), (g, q) = [(ln.get_xdata(), ln.get_ydata()) for ln in ax.get_lines()[:2]]
    for freq, dens, series in [(f, p, x), (g, q, y)]:  # of different lengths
        width = len(series) * DT
        np.testing.assert_allclose(freq, np.arange(len(freq)) / width)
        ps = power_spectrum(series[:, :1], smoothing=5.0)[:, 0]
        np.testing.assert_allclose(dens, ps[: len(dens)] * width)
    f_max = ax.get_xlim()[1]
    assert f[-2] <= f_max <= f[-1]  # only the visible part is drawn
    mass = power_spectrum(x[:, :1], smoothing=5.0)[: len(f) - 1, 0].sum()
    assert plots.SPECTRUM_MASS <= mass < 0.999
    assert f_max < 0.5 / DT / 2  # the empty high-frequency tail is cut off


def test_spectra_survive_a_constant_channel(lorenz, tmp_path):
    x, y = lorenz
    x, y = np.c_[x[:, :2], np.ones(len(x))], np.c_[y[:, 0], np.zeros(len(y)), y[:, 2]]
    _check_image(plots.plot_spectra(x, y, tmp_path / "s.png"))
    assert "no spectrum" in _texts(plots.spectra_figure(x, y))


def test_training_curves(tmp_path):
    _check_image(plots.plot_training(_history(), tmp_path / "t.png"), plots.STYLE.training_size)
    fig = plots.training_figure(_history())
    assert "best: epoch 30" in _texts(fig)


def test_training_with_broken_values(tmp_path):
    rows = _history()
    rows[3]["loss"] = float("nan")
    rows[9]["D_stsp"] = float("inf")
    rows[14]["D_H"] = None  # read_history gives None for an empty cell
    rows[19]["D_stsp"] = "nan"
    del rows[7]["lr"], rows[8]["epoch"]
    _check_image(plots.plot_training(rows, tmp_path / "t.png"))
    text = _texts(plots.training_figure(rows))
    assert "loss not finite in 1 epoch(s)" in text
    assert "not finite in 2 epoch(s)" in text  # D_stsp
    assert "best: epoch 30" in text


@pytest.mark.parametrize(
    "history",
    [
        [],
        [{"epoch": 1, "loss": float("nan"), "alpha": float("nan"), "lr": float("nan")}],
        [{"epoch": e, "loss": 1.0, "D_stsp": float("nan"), "D_H": float("inf")} for e in (1, 2)],
        [{"epoch": 1}],
    ],
    ids=["empty", "all-nan", "nan-metrics", "epoch-only"],
)
def test_training_never_crashes(tmp_path, history):
    _check_image(plots.plot_training(history, tmp_path / "t.png"))


def test_training_rejects_rows_that_are_not_dicts(tmp_path):
    with pytest.raises(DataError, match="list of dicts"):
        plots.plot_training([1.0, 2.0], tmp_path / "t.png")


def test_lyapunov_convergence(tmp_path):
    steps = np.arange(1, 51) * 100
    ref = np.array([0.9, 0.0, -14.5])
    est = ref + np.random.default_rng(1).standard_normal((50, 3)) * (10 / np.sqrt(steps))[:, None]
    path = plots.plot_lyapunov_convergence(steps, est, tmp_path / "l.png", reference=ref)
    _check_image(path, plots.STYLE.lyapunov_size)
    # one exponent as a 1-D history, reference of another length, a diverged estimate
    est1 = est[:, 0].copy()
    est1[-3:] = np.nan
    path = plots.plot_lyapunov_convergence(steps, est1, tmp_path / "l.png", reference=[0.9, 0.0])
    _check_image(path)
    assert "diverged" in _texts(plots.lyapunov_figure(steps, est1))
    _check_image(plots.plot_lyapunov_convergence([], [], tmp_path / "l.png"))
    with pytest.raises(DataError, match="one step count per row"):
        plots.plot_lyapunov_convergence(steps[:-1], est, tmp_path / "l.png")


# ---------------------------------------------------------------------------- robustness
@pytest.mark.parametrize("at", [700, 0], ids=["diverged-later", "never-finite"])
def test_diverged_generated_data_still_gives_every_figure(lorenz, tmp_path, at):
    x, y = lorenz
    bad = _diverged(y, at) if at else np.full_like(y, np.nan)
    _check_image(plots.plot_attractor(x, bad, tmp_path / "a.png"))
    _check_image(plots.plot_time_series(x, bad, tmp_path / "t.png", dt=DT))
    _check_image(plots.plot_spectra(x, bad, tmp_path / "s.png", dt=DT))
    for build in (plots.attractor_figure, plots.time_series_figure, plots.spectra_figure):
        assert "generated diverged" in _texts(build(x, bad))
    if at:
        assert f"non-finite from step {at} (t = {at * DT:.4g})" in _texts(
            plots.time_series_figure(x, bad, dt=DT, n_points=100)  # also past the window
        )


def test_runaway_values_are_cut_off_not_followed(lorenz):
    x, y = lorenz
    fig = plots.attractor_figure(x[:, :2], _diverged(y, 700)[:, :2])
    lo, hi = fig.axes[0].get_xlim()
    span = np.ptp(x[:, 0])
    assert lo > x[:, 0].min() - span and hi < x[:, 0].max() + span
    assert "leaves the plotted range" in _texts(fig)


def test_different_lengths_and_empty_generated(lorenz, tmp_path):
    x, y = lorenz
    for name, fn in [("a", plots.plot_attractor), ("t", plots.plot_time_series)]:
        _check_image(fn(x[:300], y, tmp_path / name / "long.png"))
        _check_image(fn(x, y[:0], tmp_path / name / "empty.png"))
    _check_image(plots.plot_spectra(x, y[:0], tmp_path / "s" / "empty.png"))
    assert "no generated data" in _texts(plots.time_series_figure(x, y[:0]))


def test_torch_tensors_are_accepted(lorenz, tmp_path):
    x, y = lorenz
    _check_image(plots.plot_time_series(torch.tensor(x), torch.tensor(y), tmp_path / "t.png"))


def test_bad_arguments_raise_readable_errors(lorenz, tmp_path):
    x, y = lorenz
    with pytest.raises(DataError, match="same channels"):
        plots.plot_attractor(x, y[:, :2], tmp_path / "a.png")
    with pytest.raises(DataError, match=r"expected \(T, N\)"):
        plots.plot_spectra(np.zeros((2, 3, 4)), y, tmp_path / "s.png")
    with pytest.raises(ConfigError, match="channel name"):
        plots.plot_time_series(x, y, tmp_path / "t.png", names=["x", "y"])
    with pytest.raises(ConfigError, match="dt"):
        plots.plot_time_series(x, y, tmp_path / "t.png", dt=0.0)
    with pytest.raises(ConfigError, match="max_points"):
        plots.plot_attractor(x, y, tmp_path / "a.png", max_points=0)
    with pytest.raises(ConfigError, match="cannot save"):
        plots.plot_attractor(x, y, tmp_path / "a.docx")
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------------------- files
def test_suffix_chooses_the_format(lorenz, tmp_path):
    x, y = lorenz
    assert plots.plot_time_series(x, y, tmp_path / "plain") == tmp_path / "plain.png"
    _check_image(tmp_path / "plain.png")
    svg = plots.plot_time_series(x, y, tmp_path / "svg" / "ts.svg")
    assert svg.read_text().lstrip().startswith("<?xml")


def test_an_existing_file_is_replaced(lorenz, tmp_path):
    x, y = lorenz
    target = tmp_path / "a.png"
    target.write_bytes(b"old figure")
    plots.plot_attractor(x[:, :2], y[:, :2], target)
    _check_image(target)


def test_a_failed_save_keeps_the_old_file_and_leaves_no_temporary(lorenz, tmp_path, monkeypatch):
    x, y = lorenz
    target = tmp_path / "a.png"
    target.write_bytes(b"old figure")

    def broken_savefig(self, fname, **kwargs):
        fname.write(b"\x89PNG half an image")  # the temporary file is partly written
        raise OSError("disk full")

    monkeypatch.setattr(Figure, "savefig", broken_savefig)
    with pytest.raises(OSError, match="disk full"):
        plots.plot_attractor(x, y, target)
    assert target.read_bytes() == b"old figure"
    assert [p.name for p in tmp_path.iterdir()] == ["a.png"]


def test_the_temporary_file_sits_beside_the_target_with_the_suffix(lorenz, tmp_path, monkeypatch):
    x, y = lorenz
    seen = []
    replace = os.replace
    monkeypatch.setattr(os, "replace", lambda a, b: (seen.append(Path(a)), replace(a, b)))
    plots.plot_spectra(x, y, tmp_path / "s.png")
    (tmp,) = seen
    assert tmp.parent == tmp_path and tmp.name.startswith(".s.tmp-") and tmp.suffix == ".png"


def test_plotting_leaves_the_users_matplotlib_alone(lorenz, tmp_path):
    x, y = lorenz
    backend = matplotlib.get_backend()
    plots.plot_time_series(x, y, tmp_path / "t.png")
    assert matplotlib.get_backend() == backend
    import sys

    if "matplotlib.pyplot" in sys.modules:  # no figure registered with pyplot
        assert sys.modules["matplotlib.pyplot"].get_fignums() == []
