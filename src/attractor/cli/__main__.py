"""``python -m attractor.cli``: the same app as the ``attractor`` command."""

from attractor.cli import app

app()
