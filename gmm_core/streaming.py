"""Learning from files larger than memory: read in batches, feed ``partial_fit``.

Both functions read through :mod:`gmm_core.tables`, so every format it reads (delimited
text, Parquet, Arrow, ``.npy``) can be learned batch by batch in bounded memory.

Example
-------
>>> from gmm_core import GaussianMixture
>>> from gmm_core.streaming import partial_fit_table
>>> model = partial_fit_table(GaussianMixture(8), "points.parquet", ["x", "y"])  # doctest: +SKIP
"""

from __future__ import annotations

import numbers
import os
from collections.abc import Iterator, Sequence

import numpy as np

from .tables import iter_table


def partial_fit_table(
    model,
    path: str | os.PathLike,
    columns: Sequence[str | int] | None = None,
    *,
    batch_rows: int = 65536,
    on_bad_rows: str = "error",
):
    """Learn a table file batch by batch with ``model.partial_fit``.

    Memory use is bounded by one batch, whatever the file's size. With
    ``on_bad_rows="error"``, the batches before a bad row stay learned and the error names
    the file and the row's line.

    Parameters
    ----------
    model : GaussianMixture
        Any estimator with ``partial_fit``; fitted or not.
    path : str or path-like
        Any file :func:`gmm_core.tables.read_table` reads.
    columns : sequence of str or int, optional
        Columns to learn, by name or 0-based position; every numeric column by default.
    batch_rows : int
        Rows per call of ``partial_fit`` (the last call may get fewer).
    on_bad_rows : {"error", "skip"}
        As for :func:`gmm_core.tables.read_table`.

    Returns
    -------
    model
        The same object, after every batch.

    Raises
    ------
    ValueError
        As :func:`gmm_core.tables.iter_table` does; also when no row is left to learn.
    """
    for batch in iter_table(path, columns, batch_rows=batch_rows, on_bad_rows=on_bad_rows):
        if batch.data.shape[0]:
            model.partial_fit(batch.data)
    return model


def iter_csv_chunks(
    path: str | os.PathLike,
    chunk_size: int = 10_000,
    usecols: Sequence[int | str] | None = None,
    delimiter: str | None = None,
) -> Iterator[np.ndarray]:
    """Read a delimited text file as float64 chunks, never holding more than one in memory.

    A first line that names the columns is a header; columns may then be chosen by name.
    Blank lines and lines starting with ``#`` are skipped.

    Parameters
    ----------
    path : str or path-like
    chunk_size : int
        Rows per chunk (the last chunk may be shorter).
    usecols : sequence of int or str, optional
        Columns to read, by 0-based position or by header name; every numeric column by
        default.
    delimiter : str, optional
        The separator; sniffed (comma, semicolon, tab or spaces) by default.

    Yields
    ------
    chunk : ndarray of shape (n_rows, n_columns)

    Raises
    ------
    ValueError
        If ``chunk_size`` is not a positive integer, the file is not text, a column is
        unknown, or a row is not finite numbers (the message names the file and the line).
    """
    chunk_size = _check_chunk_size(chunk_size)
    batches = iter_table(path, usecols, batch_rows=chunk_size, separator=delimiter)
    return (batch.data for batch in batches if batch.data.shape[0])


def partial_fit_csv(
    model,
    path: str | os.PathLike,
    chunk_size: int = 10_000,
    usecols: Sequence[int | str] | None = None,
    delimiter: str | None = None,
):
    """Learn a delimited text file chunk by chunk with ``model.partial_fit``.

    :func:`partial_fit_table` with a CSV file's arguments; memory use is bounded by one
    chunk. If a row is refused (a value that is missing or not a finite number), the
    chunks before it stay learned and the error names the file and its line.

    Parameters
    ----------
    model : GaussianMixture
        Any estimator with ``partial_fit``; fitted or not.
    path : str or path-like
    chunk_size : int
    usecols : sequence of int or str, optional
        Columns to learn, by 0-based position or by header name.
    delimiter : str, optional
        The separator; sniffed by default.

    Returns
    -------
    model
        The same object, after every chunk.
    """
    for chunk in iter_csv_chunks(path, chunk_size, usecols, delimiter):
        model.partial_fit(chunk)
    return model


def _check_chunk_size(chunk_size) -> int:
    if (
        isinstance(chunk_size, bool)
        or not isinstance(chunk_size, numbers.Integral)
        or chunk_size < 1
    ):
        raise ValueError(f"chunk_size must be a positive integer, got {chunk_size!r}.")
    return int(chunk_size)
