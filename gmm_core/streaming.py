"""Learning from CSV files larger than memory: read in chunks, feed ``partial_fit``.

Example
-------
>>> from gmm_core import GaussianMixture
>>> from gmm_core.streaming import partial_fit_csv
>>> model = partial_fit_csv(GaussianMixture(8), "points.csv", usecols=["x", "y"])  # doctest: +SKIP
"""

from __future__ import annotations

import csv
import io
import itertools
import numbers
import os
from collections.abc import Iterator, Sequence

import numpy as np


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


def partial_fit_csv(
    model,
    path: str | os.PathLike,
    chunk_size: int = 10_000,
    usecols: Sequence[int | str] | None = None,
    delimiter: str = ",",
):
    """Learn a CSV file chunk by chunk with ``model.partial_fit``.

    Memory use is bounded by one chunk, whatever the file's size. If a chunk is refused
    (a non-numeric or non-finite value), the chunks before it stay learned and the error
    names the file and its lines.

    Parameters
    ----------
    model : GaussianMixture
        Any estimator with ``partial_fit``; fitted or not.
    path : str or path-like
    chunk_size : int
    usecols : sequence of int or str, optional
        Columns to learn, by position or by header name.
    delimiter : str

    Returns
    -------
    model
        The same object, after every chunk.
    """
    n_rows = 0
    for chunk in iter_csv_chunks(path, chunk_size, usecols, delimiter):
        model.partial_fit(chunk)
        n_rows += chunk.shape[0]
    if n_rows == 0:
        raise ValueError(f"{os.fspath(path)}: no rows of numbers (the file is empty or a header).")
    return model


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
