"""Reading and writing points as CSV: two numeric columns, an optional header line."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from .atomic import atomic_write

#: Files larger than this are refused rather than read into memory.
MAX_FILE_BYTES = 200 * 1024 * 1024

_SPLIT = re.compile(r"[,;\t ]+")


def read_points(path: str | Path) -> np.ndarray:
    """Points from a CSV file: the first two columns, as an array of shape (n, 2).

    Lines starting with ``#`` are comments; a first line that is not numbers is a header.
    Commas, semicolons, tabs or spaces separate values. A header with no rows (what
    :func:`write_points` writes for no points) is zero points, shape (0, 2).

    Raises
    ------
    ValueError
        With a message for a person, if the file is not two columns of finite numbers.
    OSError
        If the file cannot be read.
    """
    path = Path(path)
    if path.stat().st_size > MAX_FILE_BYTES:
        raise ValueError(f"{path.name} is larger than {MAX_FILE_BYTES // 2**20} MiB.")
    data = path.read_bytes()
    if b"\0" in data[:65536]:
        raise ValueError(f"{path.name} is not a text file (it contains binary data).")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValueError(f"{path.name} is not a text file (not UTF-8).") from None
    return points_from_text(text, path.name)


def points_from_text(text: str, name: str = "The text") -> np.ndarray:
    """Points from CSV text, as :func:`read_points` reads a file; ``name`` is for messages.

    Raises
    ------
    ValueError
        With a message for a person, if the text is not two columns of finite numbers.
    """
    if "\0" in text:
        raise ValueError(f"{name} is not text (it contains binary data).")
    if not text.strip():
        raise ValueError(f"{name} is empty.")
    fast = _read_simple(text)
    if fast is not None:
        return fast
    rows = []
    header_allowed = True
    header_columns = 0
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        fields = [f.strip().strip('"') for f in _SPLIT.split(line) if f.strip()]
        try:
            values = [float(f) for f in fields[:2]]
        except ValueError:
            if header_allowed:
                header_allowed = False
                header_columns = len(fields)
                continue
            raise ValueError(
                f"Line {number} of {name} is not two numbers: {line[:60]!r}."
            ) from None
        header_allowed = False
        if len(values) < 2:
            raise ValueError(
                f"Line {number} of {name} has {len(values)} column(s); two (x and y) are needed."
            )
        rows.append(values)
    if not rows and header_columns >= 2:
        return np.zeros((0, 2))  # a header alone: no points
    if not rows:
        raise ValueError(f"{name} contains no points (two numeric columns, x and y).")
    points = np.asarray(rows, dtype=np.float64)
    if not np.isfinite(points).all():
        raise ValueError(f"{name} contains NaN or infinite values.")
    return points


def _read_simple(text: str) -> np.ndarray | None:
    """The common case (one separator, an optional header) with numpy's C parser.

    Returns None when the text is not that simple, or not valid: the line-by-line reader
    then decides, and says what is wrong.
    """
    lines = text.splitlines()
    first = next(
        (i for i, line in enumerate(lines) if line.strip() and not line.lstrip().startswith("#")),
        None,
    )
    if first is None:
        return None
    line = lines[first]
    delimiter = next((d for d in (",", ";", "\t") if d in line), None)
    fields = line.split(delimiter)
    try:
        [float(f.strip().strip('"')) for f in fields[:2]]
        skip = first
    except ValueError:
        skip = first + 1  # a header
    if not any(line.strip() and not line.lstrip().startswith("#") for line in lines[skip:]):
        return None  # no data: the line-by-line reader says so
    try:
        points = np.loadtxt(
            lines[skip:],
            delimiter=delimiter,
            comments="#",
            usecols=(0, 1),
            ndmin=2,
            quotechar='"',
        )
    except (ValueError, IndexError):
        return None
    if points.shape[0] == 0 or not np.isfinite(points).all():
        return None
    return np.ascontiguousarray(points, dtype=np.float64)


def write_points(path: str | Path, points: np.ndarray, columns=("x", "y")) -> None:
    """Write points (n, D) as CSV with a header of the ``columns``' names, atomically.

    ``%.17g`` round-trips every float64 exactly; a failure leaves the old file intact.
    """
    columns = tuple(columns)
    points = np.asarray(points, dtype=np.float64).reshape(-1, len(columns))
    with atomic_write(path, "w", newline="\n") as file:
        np.savetxt(
            file,
            points,
            delimiter=",",
            header=",".join(_csv_field(name) for name in columns),
            comments="",
            fmt="%.17g",
        )


def _csv_field(name: str) -> str:
    """``name`` as one CSV field: quoted when it holds a comma, a quote or a line break."""
    if any(c in name for c in ',"\r\n') or name != name.strip():
        return '"' + name.replace('"', '""') + '"'
    return name
