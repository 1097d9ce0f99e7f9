"""Figures: true vs generated attractors, spectra and training curves
(:mod:`attractor.plots.reconstruction`), orbits and symbolic dynamics of a trained model
(:mod:`attractor.plots.analysis`), memory-task runs (:mod:`attractor.plots.tasks`)."""
