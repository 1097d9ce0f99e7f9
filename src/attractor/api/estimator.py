"""``attractor.Reconstructor``: the scikit-learn contract around :func:`attractor.fit`.

>>> from attractor import Reconstructor
>>> rec = Reconstructor("shplrnn", epochs=50, seed=0).fit(x, dt=0.01)   # x: (T, N)
>>> y = rec.simulate(5_000)                   # the series continued, in x's own units
>>> rec.score(x_new)["D_stsp"], rec.metrics_["D_H"]
>>> rec.save("runs/lorenz"); rec2 = Reconstructor.load("runs/lorenz")

Constructor arguments are the configuration (the options of :func:`attractor.fit`, stored as
given; ``get_params`` / ``set_params``); ``fit`` learns and sets the attributes ending in ``_``.
The estimator is a composition: ``fit`` calls :func:`attractor.api.fit.fit`, which writes a run
directory (under ``out``, or a temporary one the estimator owns), and keeps the loaded
:class:`~attractor.runs.directory.Run`; ``save`` copies that directory, ``load`` reads one with
:func:`attractor.runs.directory.load_run` — the run format is the only file format.

Delay-embedded data (a scalar series, or ``embed=True``/``lag``/``dim``): the model observes
delay vectors ``(x(t), x(t−τ), …)``; ``simulate`` returns their first block, the data's own
channels, and ``score`` embeds its data the way the run did.
"""

from __future__ import annotations

import inspect
import shutil
import tempfile
import weakref
from pathlib import Path
from typing import Any

import numpy as np

from attractor.data.series import TimeSeries
from attractor.errors import AttractorError, ConfigError, DataError, RunError, did_you_mean


class NotFittedError(AttractorError, ValueError, AttributeError):
    """The estimator is used before ``fit`` (or ``load``)."""


class Reconstructor:
    """Reconstruct the dynamics behind a time series; scikit-learn style.

    Parameters are those of :func:`attractor.fit` (same names, same defaults, same meaning):
    ``model`` (a registry name), ``forcing``, ``alpha``, ``interval``, ``estimator``,
    ``anneal``, ``latent``, ``hidden``, ``n_relu``, ``epochs``, ``preset``, ``seed``, ``noise``,
    ``embed``, ``lag``, ``dim``, ``highpass``, ``downsample``, ``d_stsp``, ``device``,
    ``train_config``, ``parallel``; and ``out``, the folder of the run directory ``fit``
    writes (``None``: a temporary one, removed with the estimator; :meth:`save` keeps it), and
    ``figures`` (draw the run's figures; off by default here, on in ``attractor.fit``).

    Learned attributes: ``model_`` (the selected model), ``scaler_`` (data units → model
    units), ``metrics_`` (held-out test metrics, as in ``metrics.json``), ``history_`` (one
    row per epoch), ``run_`` (the :class:`~attractor.runs.directory.Run`), ``dt_`` and
    ``n_channels_`` (the data's own channels, before any delay embedding).
    """

    def __init__(
        self,
        model: str = "shplrnn",
        *,
        forcing: str | None = None,
        alpha: float | None = None,
        interval: int | None = None,
        estimator: str = "geometric",
        anneal: float | None = None,
        latent: int | None = None,
        hidden: int | None = None,
        n_relu: int | None = None,
        epochs: int | None = None,
        preset: str = "quick",
        seed: int = 0,
        noise: float | None = None,
        embed: str | bool = "auto",
        lag: int | None = None,
        dim: int | None = None,
        highpass: float | None = None,
        downsample: int | None = None,
        d_stsp: str | None = None,
        device: str = "auto",
        train_config: dict[str, Any] | None = None,
        parallel: bool = False,
        out: str | Path | None = None,
        figures: bool = False,
    ) -> None:
        self.model = model
        self.forcing = forcing
        self.alpha = alpha
        self.interval = interval
        self.estimator = estimator
        self.anneal = anneal
        self.latent = latent
        self.hidden = hidden
        self.n_relu = n_relu
        self.epochs = epochs
        self.preset = preset
        self.seed = seed
        self.noise = noise
        self.embed = embed
        self.lag = lag
        self.dim = dim
        self.highpass = highpass
        self.downsample = downsample
        self.d_stsp = d_stsp
        self.device = device
        self.train_config = train_config
        self.parallel = parallel
        self.out = out
        self.figures = figures

    # ------------------------------------------------------------------------ parameters
    @classmethod
    def _param_names(cls) -> list[str]:
        sig = inspect.signature(cls.__init__)
        return [p for p in sig.parameters if p != "self"]

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The constructor arguments, as given (``deep`` is accepted for scikit-learn)."""
        return {name: getattr(self, name) for name in self._param_names()}

    def set_params(self, **params: Any) -> Reconstructor:
        """Change constructor arguments (takes effect at the next ``fit``); returns ``self``."""
        names = self._param_names()
        for key in params:
            if key not in names:
                raise ConfigError(
                    f"Reconstructor has no parameter {key!r}; its parameters are "
                    f"{', '.join(names)}." + did_you_mean(key, names)
                )
        for key, value in params.items():
            setattr(self, key, value)
        return self

    def __repr__(self) -> str:
        defaults = {
            p.name: p.default for p in inspect.signature(type(self).__init__).parameters.values()
        }
        shown = [
            f"{k}={v!r}" for k, v in self.get_params().items() if k == "model" or v != defaults[k]
        ]
        return f"Reconstructor({', '.join(shown)})"

    # ------------------------------------------------------------------------ learning
    def fit(self, x: Any, dt: float | None = None, *, progress: Any = None) -> Reconstructor:
        """Train on ``x`` — an array ``(T, N)``, a list of arrays (trials) or a TimeSeries —
        sampled every ``dt`` time units (required unless ``x`` is a TimeSeries); returns
        ``self``. ``progress``: an :class:`attractor.train.progress.Progress` reporter."""
        from attractor.api.fit import fit as fit_run

        series = _as_series(x, dt)
        kw = {k: v for k, v in self.get_params().items() if k not in ("model", "out")}
        tmp = None if self.out is not None else Path(tempfile.mkdtemp(prefix="attractor-"))
        out = tmp if tmp is not None else Path(self.out)  # type: ignore[arg-type]
        try:
            run = fit_run(series, model=self.model, out=out, progress=progress, **kw)
        except BaseException:
            if tmp is not None:
                shutil.rmtree(tmp, ignore_errors=True)
            raise
        self._adopt(run, tmp)
        return self

    def _adopt(self, run: Any, tmp: Path | None = None) -> None:
        """Take the learned state from a :class:`~attractor.runs.directory.Run`; ``tmp``: the
        temporary folder holding it, removed with the estimator or at the next ``fit``."""
        old = getattr(self, "_workdir", None)
        if old is not None:
            old()  # the previous fit's temporary run directory
        self._workdir = (
            None if tmp is None else weakref.finalize(self, shutil.rmtree, tmp, ignore_errors=True)
        )
        self.run_ = run
        self.model_ = run.model
        self.scaler_ = run.scaler
        self.metrics_ = run.metrics
        self.history_ = run.history
        self.dt_ = run.dt
        emb = run.config.get("data", {}).get("embedding")
        self.n_channels_ = run.model.obs_dim // emb["dim"] if emb else run.model.obs_dim
        test = run.test_data()
        self._start = None if test is None else np.asarray(test[-1], dtype=float)

    def _check_fitted(self, what: str) -> None:
        if not hasattr(self, "run_"):
            raise NotFittedError(
                f"this Reconstructor is not fitted yet; call fit(x, dt=...) or "
                f"Reconstructor.load(path) before {what}."
            )

    @property
    def _embedding(self) -> dict[str, Any] | None:
        return self.run_.config.get("data", {}).get("embedding")

    # ------------------------------------------------------------------------ using the model
    def simulate(self, n: int, x0: Any = None) -> np.ndarray:
        """Free run of ``n`` steps ``(n, n_channels_)`` in the data's own units.

        It starts from the end of the data given to ``fit`` (the last held-out test point of
        the run) or from ``x0``: a state in data units (``(N,)``, for delay-embedded data the
        delay vector) or a stretch of data ``(L, n_channels_)`` whose last sample is the start
        (for delay-embedded data ``L ≥ (dim − 1)·lag + 1``). The start is not repeated: row 0
        is one step after it.
        """
        self._check_fitted("simulate")
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
            raise ConfigError(f"n must be a positive number of steps, got {n!r}.")
        start = self._start if x0 is None else self._start_state(x0)
        if start is None:
            raise RunError(f"{self.run_.path} holds no test data to start from; pass x0.")
        y = self.run_.simulate(int(n) + 1, start)
        return y[1:, : self.n_channels_]

    def _start_state(self, x0: Any) -> np.ndarray:
        """``x0`` as a state of the model's observation space, in data units."""
        x = np.asarray(x0, dtype=float)
        n_obs = self.model_.obs_dim
        if x.ndim == 1 and x.shape[0] == n_obs:
            return x
        if x.ndim == 1 and self.n_channels_ == 1:
            x = x[:, None]
        if x.ndim == 2 and x.shape[1] == self.n_channels_:
            emb = self._embedding
            if not emb:
                return x[-1]
            need = (emb["dim"] - 1) * emb["lag"] + 1
            if x.shape[0] < need:
                raise DataError(
                    f"x0 has {x.shape[0]} samples; the delay embedding (lag {emb['lag']}, "
                    f"dim {emb['dim']}) needs at least {need} to build a start state."
                )
            # the last delay vector (x(t), x(t−τ), …, x(t−(m−1)τ)), delay-major as in
            # attractor.data.embedding.delay_embed
            return x[::-1][:: emb["lag"]][: emb["dim"]].reshape(-1)
        raise DataError(
            f"x0 has shape {x.shape}; pass a state ({n_obs},) or a stretch of data "
            f"(L, {self.n_channels_})."
        )

    def score(self, x: Any) -> dict[str, float]:
        """The field's metrics of the model's free run against ``x`` (data units: an array
        ``(T, n_channels_)``, a list of arrays or a TimeSeries sampled like the training data),
        by the evaluation protocol of :func:`attractor.metrics.protocol.evaluate`: a dict keyed
        by the metric registry's keys (``D_stsp``, ``D_H``, ``PE(20)``, ``lambda_max``, …).

        Unlike scikit-learn's ``score`` this returns every metric, not one number.
        """
        from attractor.metrics.protocol import evaluate
        from attractor.metrics.registry import METRICS

        self._check_fitted("score")
        data = self._to_model_space(x)
        method = self.run_.config.get("train", {}).get("d_stsp_method", "auto")
        m = evaluate(self.model_, data, dt=self.dt_, d_stsp_method=method)
        return {k: v for k, v in m.items() if k in METRICS}

    def _to_model_space(self, x: Any) -> np.ndarray:
        """The run's data pipeline (filters, delay embedding, scaler) applied to ``x`` (data
        units) → ``(T', N)`` in model units, trials concatenated — as ``attractor eval --data``."""
        from attractor.data.pipeline import DataPipeline

        pipeline = DataPipeline.from_config(self.run_.config.get("data", {}))
        ts = _as_series(x, None if isinstance(x, TimeSeries) else pipeline.dt or self.dt_)
        return np.concatenate(pipeline.apply(ts, label="x").trials)

    # ------------------------------------------------------------------------ persistence
    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.pop("_workdir", None)  # a copy does not own (or remove) the temporary run
        return state

    def save(self, path: str | Path) -> Path:
        """Write the fitted run to the run directory ``path`` (must not exist yet): the files
        ``attractor.fit`` wrote, which :func:`attractor.load_run`, ``attractor eval`` and
        :meth:`load` read."""
        from attractor.runs import directory as runs

        self._check_fitted("save")
        src, dest = Path(self.run_.path), Path(path)
        if not (src / runs.CONFIG).exists():
            raise RunError(f"the fitted run directory {src} is gone; fit again to save.")
        if dest.exists():
            raise RunError(f"{dest} already exists; choose another path.")
        dest.parent.mkdir(parents=True, exist_ok=True)
        partial = runs.partial_dir(dest.parent, dest.name)
        runs.discard(partial)
        shutil.copytree(src, partial)  # built under a hidden name, renamed when complete
        return runs.finalise(partial, dest)

    @classmethod
    def load(cls, path: str | Path) -> Reconstructor:
        """A fitted estimator from a run directory (written by :meth:`save` or
        ``attractor fit``); its parameters are those config.json records (``model``,
        ``seed``, ``preset``, ``epochs``, ``parallel``), the others keep their defaults."""
        from attractor.runs.directory import load_run

        run = load_run(path)
        cfg = run.config
        est = cls(
            cfg.get("model", {}).get("kind", "shplrnn"),
            seed=cfg.get("seed", 0),
            preset=cfg.get("preset", "quick"),
            epochs=cfg.get("train", {}).get("epochs"),
            parallel=bool(cfg.get("parallel", False)),
        )
        est._adopt(run)
        return est


def _as_series(x: Any, dt: float | None) -> TimeSeries:
    """``x`` as a TimeSeries: arrays and lists of arrays need ``dt``; a TimeSeries keeps its."""
    if isinstance(x, TimeSeries):
        if dt is not None and abs(float(dt) - x.dt) > 1e-12 * x.dt:
            raise ConfigError(
                f"x is a TimeSeries sampled every {x.dt:g} but dt={dt:g} was passed; "
                "leave dt out or pass the same value."
            )
        return x
    if isinstance(x, (str, Path)):
        raise DataError(
            f"Reconstructor takes arrays or a TimeSeries, not {x!r}; read the data first "
            "(attractor.read_series, attractor.load_system) or call attractor.fit with it."
        )
    if dt is None:
        raise ConfigError(
            "dt is required for arrays: pass dt=... (the sampling interval in time units), "
            "or pass a TimeSeries."
        )
    return TimeSeries(x if isinstance(x, list) else np.asarray(x), dt=dt)
