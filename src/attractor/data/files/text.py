"""Text files (.csv comma or semicolon/tab, .tsv tab, .txt whitespace) into a :class:`Raw` table.

See :mod:`attractor.data.files` for the conventions (``#`` comments, headers, units in headers).
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from attractor.data.files.validate import Raw, fail, split_unit
from attractor.errors import DataError


def _delimiter(kind: str, first: str) -> str | None:
    """None means runs of whitespace."""
    if kind == "tsv":
        return "\t"
    for d in ("," if kind == "csv" else "", ";" if kind == "csv" else "", "\t", ","):
        if d and d in first:
            return d
    return "," if kind == "csv" else None


def _split_rows(lines: list[str], delim: str | None) -> list[list[str]]:
    if delim is None:
        return [ln.split() for ln in lines]
    return [[c.strip() for c in row] for row in csv.reader(lines, delimiter=delim)]


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def read_text(path: Path, kind: str) -> Raw:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise fail(
            path,
            f"is not a UTF-8 text file, so it cannot be read as .{path.suffix[1:]}; "
            "save it as plain text or as .npy.",
        ) from None
    content: list[tuple[int, str]] = []
    comment: str | None = None
    for i, ln in enumerate(text.splitlines(), start=1):
        s = ln.strip()
        if not s:
            continue
        if s.startswith("#"):
            if not content:
                comment = s.lstrip("#").strip()
            continue
        content.append((i, ln))
    if not content:
        raise fail(
            path, "has no data (only blank or # comment lines); check that it is the right file."
        )
    delim = _delimiter(kind, content[0][1])
    rows = _split_rows([ln for _, ln in content], delim)
    if rows and all(r and r[-1] == "" for r in rows):  # trailing delimiter on every line
        rows = [r[:-1] for r in rows]
    line_no = [i for i, _ in content]
    header: list[str] | None = None
    if not all(_is_number(c) for c in rows[0]):
        header, rows, line_no = rows[0], rows[1:], line_no[1:]
        if not rows:
            raise fail(path, "has a header but no data rows; add the data below the header.")
    elif comment:
        cand = _split_rows([comment], delim)[0]
        if len(cand) == len(rows[0]) and not any(_is_number(c) for c in cand):
            header = cand
    width = len(header) if header is not None else len(rows[0])
    for r, ln in zip(rows, line_no, strict=True):
        if len(r) != width:
            raise fail(
                path,
                f"line {ln} has {len(r)} value(s) but the "
                f"{'header' if header else 'first row'} has {width}; every row needs the same "
                "number of columns.",
            )
    if header is not None:
        names, units = zip(*(split_unit(h) for h in header), strict=True)
        names = [n or f"x{j}" for j, n in enumerate(names)]
    else:
        names, units = [f"x{j}" for j in range(width)], [""] * width
    try:
        values = np.array(rows, dtype=np.float64).reshape(len(rows), width)
    except ValueError:
        for r, ln in zip(rows, line_no, strict=True):
            for j, c in enumerate(r):
                if not _is_number(c):
                    what = "is empty" if c == "" else f"holds {c!r}, which is not a number"
                    raise fail(
                        path,
                        f"line {ln}, column {j + 1} ({names[j]!r}) {what}; fill in or "
                        "remove missing and non-numeric values.",
                    ) from None
        raise  # pragma: no cover - float() and numpy agree on what a number is
    bad = ~np.isfinite(values)
    if bad.any():
        r, j = np.argwhere(bad)[0]
        raise DataError(
            f"{path}: line {line_no[r]}, column {j + 1} ({names[j]!r}) is {rows[r][j]!r}, not a "
            f"finite number ({int(bad.sum())} such value(s) in all); remove or interpolate them."
        )
    return Raw(
        kind=kind,
        trials=[values],
        columns=list(names),
        units=list(units),
        named=header is not None,
        lines=[np.asarray(line_no)],
    )
