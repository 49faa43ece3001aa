"""A process's own slice of a data file, for training on several processes.

Each of ``world`` processes reads only its part: a ``.npy`` file through a memory map
(rows ``[N r / world, N (r + 1) / world)``), a CSV file by byte range, aligned to line
starts (a line belongs to the process whose range holds its first byte). Parquet needs
pyarrow, which gmm_core does not depend on yet.
"""

from __future__ import annotations

import io
import os
import warnings
from pathlib import Path

import numpy as np

from .streaming import _header

FORMATS = (".npy", ".csv")


def read_shard(path: str | os.PathLike, rank: int = 0, world: int = 1) -> np.ndarray:
    """Rows of ``path`` that belong to process ``rank`` of ``world``.

    Parameters
    ----------
    path : str or path-like
        A ``.npy`` file of shape (n_samples, n_features), or a numeric CSV file (a first
        line that is not numbers is a header; ``#`` lines and blank lines are skipped).
    rank : int
    world : int

    Returns
    -------
    X : ndarray of shape (n_rows, n_features)
        Possibly no rows; together the shards of ranks ``0 .. world - 1`` are the whole
        file, in order.

    Raises
    ------
    ValueError
        For another format (Parquet included, for now), a ``.npy`` array that is not 2-D,
        or a CSV slice that is not a numeric table.
    """
    suffix = Path(path).suffix.lower()
    if suffix == ".npy":
        return read_npy_shard(path, rank, world)
    if suffix == ".csv":
        return read_csv_shard(path, rank, world)
    if suffix in (".parquet", ".pq"):
        raise ValueError(
            f"{os.fspath(path)}: Parquet is not supported yet (it needs pyarrow); convert the "
            "file to .npy or .csv."
        )
    raise ValueError(f"{os.fspath(path)}: unknown format {suffix!r}; give a .npy or .csv file.")


def _bounds(total: int, rank: int, world: int) -> tuple[int, int]:
    return total * rank // world, total * (rank + 1) // world


def read_npy_shard(path: str | os.PathLike, rank: int = 0, world: int = 1) -> np.ndarray:
    """Process ``rank``'s rows of a 2-D ``.npy`` file, read through a memory map."""
    array = np.load(path, mmap_mode="r")
    if array.ndim != 2:
        raise ValueError(
            f"{os.fspath(path)}: expected an array of shape (n_samples, n_features), got "
            f"shape {array.shape}."
        )
    start, stop = _bounds(array.shape[0], rank, world)
    return np.array(array[start:stop])


def read_csv_shard(
    path: str | os.PathLike, rank: int = 0, world: int = 1, delimiter: str = ","
) -> np.ndarray:
    """Process ``rank``'s lines of a numeric CSV file: a byte range aligned to line starts."""
    size = os.path.getsize(path)
    with open(path, "rb") as handle:
        first = handle.readline()
        n_columns = len(first.split(delimiter.encode())) if first.strip() else 0
        header = _header(first.decode(errors="replace"), delimiter) if first.strip() else None
        body = handle.tell() if header is not None else 0

        def line_start(offset: int) -> int:
            """The first line start at or after ``offset``."""
            if offset <= body:
                return body
            handle.seek(offset - 1)
            handle.readline()
            return handle.tell()

        start, stop = (line_start(offset) for offset in _bounds(size, rank, world))
        handle.seek(start)
        block = handle.read(max(0, stop - start))
    if not block.strip():
        return np.empty((0, n_columns))
    try:
        with warnings.catch_warnings():  # a slice of only comments is an empty shard
            warnings.simplefilter("ignore", UserWarning)
            array = np.loadtxt(
                io.BytesIO(block), delimiter=delimiter, ndmin=2, dtype=np.float64, comments="#"
            )
    except ValueError as error:
        raise ValueError(
            f"{os.fspath(path)}, bytes {start}-{stop}: not a numeric table ({error})."
        ) from None
    return array if array.size else np.empty((0, n_columns))
