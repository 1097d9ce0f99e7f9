"""Runs: a run directory (:mod:`attractor.runs.directory`: layout, lifecycle, load) and the
SQLite run index beside it (:mod:`attractor.runs.index`)."""

from attractor.runs.directory import Run, load_run

__all__ = ["Run", "load_run"]
