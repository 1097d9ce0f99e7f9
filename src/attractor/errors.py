"""One exception family for the whole library.

Every error a user can cause (bad data, unknown names, impossible settings) is raised as a
subclass of :class:`AttractorError` whose message is one readable sentence saying what is wrong
and what to do about it, in Python terms: a parameter is named as ``latent=`` (``latent=3`` with
a value), never as a command-line flag. The CLI prints that sentence with those names rewritten as
its flags (``--latent 3``, :func:`attractor.cli._common.to_flags`) and exits with status 2;
library users can catch ``AttractorError`` to handle all of them at once.
"""

from __future__ import annotations


class AttractorError(Exception):
    """Base class: one readable sentence saying what is wrong and how to fix it."""

    exit_code = 2


class DataError(AttractorError, ValueError):
    """The data are unusable: NaN/inf, wrong shape or dtype, constant channel, too short."""


class FileFormatError(DataError):
    """A file could not be read: missing, empty, malformed or of an unsupported kind."""


class UnknownNameError(AttractorError, KeyError):
    """A system, model, forcing or estimator name that does not exist."""

    def __str__(self) -> str:  # KeyError would otherwise quote the message
        return str(self.args[0]) if self.args else ""


class ConfigError(AttractorError, ValueError):
    """Settings that cannot work together (e.g. latent size smaller than the data dimension)."""


class RunError(AttractorError):
    """A run directory is missing, incomplete or unreadable."""


class TrainingError(AttractorError, RuntimeError):
    """Training could not continue (e.g. the loss stayed non-finite after every recovery)."""


def did_you_mean(name: str, options: list[str] | tuple[str, ...], n: int = 3) -> str:
    """A short ' Did you mean …?' suffix listing the closest known names (empty if none)."""
    import difflib

    close = difflib.get_close_matches(name, list(options), n=n, cutoff=0.5)
    lower = {o.lower(): o for o in options}
    if not close and name.lower() in lower:
        close = [lower[name.lower()]]
    return f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
