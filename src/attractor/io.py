"""The one place files are written: atomic writes (temporary file, fsync, rename) and JSON.

Every file attractor writes — run directories, caches, data files, figures, reports — goes
through :func:`atomic_write_bytes` (or :func:`atomic_path` for writers that need a path, such as
``np.save`` or h5py), so a crash or Ctrl-C never leaves a half-written file behind and an
existing file is replaced only once the new one is complete. JSON keeps non-finite floats as the
strings ``"inf"``/``"nan"`` and reads them back as floats (:func:`to_json` / :func:`from_json`,
also used for the JSON columns of the SQLite files); tensors are written as safetensors
(:func:`write_safetensors`), which load without executing code.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import tempfile
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import IO, Any

import numpy as np

from attractor.errors import RunError


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; rename it into place only if the block succeeds.

    For writers that open a file by name (``h5py.File``, ``np.save``). The temporary file is
    hidden and keeps the suffix (``.<stem>.tmp-<random><suffix>``), so a writer that picks the
    format by suffix writes the right one. The file gets the usual permissions (``0o666`` less
    the umask) and is fsynced before the rename; on any exception (Ctrl-C included) the
    temporary file is removed and ``path`` is left as it was.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.tmp-", suffix=path.suffix)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        with open(tmp, "rb+") as fh:  # the writer may have closed it: flush to disk here
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


@contextlib.contextmanager
def atomic_open(path: str | Path, mode: str = "wb") -> Iterator[IO[Any]]:
    """Open a temporary file next to ``path`` for writing; rename it into place on success."""
    if mode not in ("wb", "w"):
        raise ValueError(f"atomic_open writes whole files; mode must be 'wb' or 'w', got {mode!r}.")
    with atomic_path(path) as tmp, open(tmp, mode) as fh:
        yield fh


def atomic_write_bytes(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` via a temporary file in the same directory and a rename."""
    with atomic_open(path) as fh:
        fh.write(data)
    return Path(path)


def _json_default(o: Any) -> Any:
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, (np.floating, np.integer)):
        return o.item()
    if isinstance(o, Path):
        return str(o)
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def _clean(o: Any) -> Any:
    """Replace non-finite floats by strings JSON can hold ("inf", "nan")."""
    if isinstance(o, float) and not math.isfinite(o):
        return str(o)
    if isinstance(o, dict):
        return {k: _clean(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [_clean(v) for v in o]
    return o


def to_json(
    obj: Any,
    *,
    indent: int | None = 2,
    sort_keys: bool = False,
    default: Callable[[Any], Any] = _json_default,
    ensure_ascii: bool = False,
) -> str:
    """JSON text of ``obj`` with non-finite floats as the strings ``"inf"``/``"-inf"``/``"nan"``.

    ``default`` converts what JSON cannot hold (numpy arrays and scalars, paths by default).
    """
    return json.dumps(
        _clean(obj), indent=indent, sort_keys=sort_keys, default=default, ensure_ascii=ensure_ascii
    )


def _unclean(o: Any) -> Any:
    if o in ("inf", "-inf", "nan"):
        return float(o)
    if isinstance(o, dict):
        return {k: _unclean(v) for k, v in o.items()}
    if isinstance(o, list):
        return [_unclean(v) for v in o]
    return o


def from_json(text: str) -> Any:
    """Parse JSON text written by :func:`to_json`: ``"inf"``/``"-inf"``/``"nan"`` become floats."""
    return _unclean(json.loads(text))


def write_json(path: str | Path, obj: Any) -> Path:
    """``obj`` as indented JSON (:func:`to_json`), written atomically."""
    return atomic_write_bytes(path, (to_json(obj) + "\n").encode())


def read_json(path: str | Path) -> Any:
    """A file written by :func:`write_json`; :class:`RunError` if it is missing or not JSON."""
    try:
        return from_json(Path(path).read_text())
    except FileNotFoundError:
        raise RunError(f"{path} is missing; the run directory is incomplete.") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise RunError(f"{path} is not valid JSON ({exc}); the run directory is damaged.") from None


def write_safetensors(
    path: str | Path, tensors: Mapping[str, Any], metadata: Mapping[str, str] | None = None
) -> Path:
    """Torch tensors (detached, on the CPU, contiguous) and string metadata as a safetensors
    file, written atomically."""
    from safetensors.torch import save

    state = {k: v.detach().cpu().contiguous() for k, v in tensors.items()}
    return atomic_write_bytes(path, save(state, metadata=dict(metadata or {})))


def read_safetensors(path: str | Path) -> tuple[dict[str, Any], dict[str, str]]:
    """The tensors and metadata of a safetensors file (no code is executed on load);
    :class:`RunError` if it cannot be read."""
    from safetensors import safe_open
    from safetensors.torch import load_file

    try:
        with safe_open(str(path), framework="pt") as fh:
            meta = fh.metadata() or {}
        state = load_file(str(path))
    except Exception as exc:  # safetensors raises its own error types
        raise RunError(f"{path} is not a readable safetensors checkpoint ({exc}).") from None
    return state, meta
