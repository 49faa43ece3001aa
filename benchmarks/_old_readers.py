"""The two hand-written CSV readers that gmm_core.tables replaced, kept as benchmark references.

Copied unchanged (but for imports) from commit daec6fc: ``app/io.py`` (``read_points``,
``points_from_text``, ``_read_simple``) and ``gmm_core/streaming.py`` (``iter_csv_chunks``
and its helpers). ``benchmarks/bench_tables.py`` times them against the new reader.
"""

# ruff: noqa
from __future__ import annotations

import csv
import io
import itertools
import numbers
import os
import re
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

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


def iter_csv_chunks(
    path: str | os.PathLike,
    chunk_size: int = 10_000,
    usecols: Sequence[int | str] | None = None,
    delimiter: str = ",",
) -> Iterator[np.ndarray]:
    """Read a numeric CSV file as float64 chunks, never holding more than one in memory.

    A first line that does not parse as numbers is a header; columns may then be chosen
    by name. Blank lines and lines starting with ``#`` are skipped.

    Parameters
    ----------
    path : str or path-like
    chunk_size : int
        Rows per chunk (the last chunk may be shorter).
    usecols : sequence of int or str, optional
        Columns to read, by position or by header name; all columns by default.
    delimiter : str

    Yields
    ------
    chunk : ndarray of shape (n_rows, n_columns)

    Raises
    ------
    ValueError
        If ``chunk_size`` is not a positive integer, the file is not text, a column name
        is not in the header, or a row is not numeric or holds NaN or an infinity (the
        message names the file and the line).
    """
    chunk_size = _check_chunk_size(chunk_size)
    try:
        with open(path, newline="") as handle:
            yield from _chunks(handle, path, chunk_size, usecols, delimiter)
    except UnicodeDecodeError as error:
        raise ValueError(
            f"{os.fspath(path)}: not a text file of numbers ({error.reason} at byte {error.start})."
        ) from None


def _check_chunk_size(chunk_size) -> int:
    if (
        isinstance(chunk_size, bool)
        or not isinstance(chunk_size, numbers.Integral)
        or chunk_size < 1
    ):
        raise ValueError(f"chunk_size must be a positive integer, got {chunk_size!r}.")
    return int(chunk_size)


def _chunks(handle, path, chunk_size: int, usecols, delimiter) -> Iterator[np.ndarray]:
    lines = (
        (number, line)
        for number, line in enumerate(handle, start=1)
        if line.strip() and not line.lstrip().startswith("#")
    )
    first = next(lines, None)
    if first is None:
        return
    header = _header(first[1], delimiter)
    columns = _column_indices(usecols, header, path)
    if header is None:
        lines = itertools.chain([first], lines)
    while True:
        block = list(itertools.islice(lines, chunk_size))
        if not block:
            return
        yield _parse(block, delimiter, columns, path)


def _header(line: str, delimiter: str) -> list[str] | None:
    fields = next(csv.reader([line], delimiter=delimiter))
    try:
        [float(field) for field in fields]
    except ValueError:
        return [field.strip() for field in fields]
    return None


def _column_indices(usecols, header, path) -> list[int] | None:
    if usecols is None:
        return None
    indices = []
    for column in usecols:
        if isinstance(column, str):
            if header is None or column not in header:
                raise ValueError(
                    f"{os.fspath(path)}: no column named {column!r} "
                    f"(header: {header if header is not None else 'none'})."
                )
            indices.append(header.index(column))
        else:
            indices.append(int(column))
    return indices


def _parse(block, delimiter, columns, path) -> np.ndarray:
    text = io.StringIO("".join(line if line.endswith("\n") else line + "\n" for _, line in block))
    try:
        array = np.loadtxt(text, delimiter=delimiter, usecols=columns, ndmin=2, dtype=np.float64)
    except ValueError as error:
        raise ValueError(
            f"{os.fspath(path)}, lines {block[0][0]}-{block[-1][0]}: not a numeric table ({error})."
        ) from None
    finite = np.isfinite(array).all(axis=1)
    if not finite.all():
        number, line = block[int(np.argmin(finite))]
        raise ValueError(
            f"{os.fspath(path)}, line {number}: NaN or infinite value ({line.strip()!r})."
        )
    return array
