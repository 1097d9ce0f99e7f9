"""``python -m attractor.cli``: the same app as the ``attractor`` command."""

from . import app

app()
