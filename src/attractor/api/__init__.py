"""The one-call functions: thin compositions of the layers below (data → model → training →
metrics → run directory): :mod:`attractor.api.fit` and :mod:`attractor.api.task`."""
