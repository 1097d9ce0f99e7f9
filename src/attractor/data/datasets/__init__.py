"""Real data shipped with attractor (package data); load them with :mod:`attractor.data.real`.

Each file here has its origin, licence and checksum in ``SOURCE.md`` beside it.
"""
