"""A process's own slice of a data file, for training on several processes.

Each of ``world`` processes reads only its part of the file, through
:func:`gmm_core.tables.read_table` with ``part=(rank, world)``: Parquet row groups, Arrow
record batches, a ``.npy`` file's rows ``[N r / world, N (r + 1) / world)`` through a
memory map, or a text file's byte range aligned to line starts (a line belongs to the
process whose range holds its first byte). Together the shards are the whole file, in
order; a shard may hold no rows.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np

from .tables import read_table


def read_shard(
    path: str | os.PathLike,
    rank: int = 0,
    world: int = 1,
    columns: Sequence[str | int] | None = None,
) -> np.ndarray:
    """Rows of ``path`` that belong to process ``rank`` of ``world``.

    Parameters
    ----------
    path : str or path-like
        Any table file :func:`gmm_core.tables.read_table` reads (CSV and other delimited
        text, Parquet, Arrow, ``.npy``).
    rank : int
    world : int
    columns : sequence of str or int, optional
        Columns by name or 0-based position; every numeric column by default.

    Returns
    -------
    X : ndarray of shape (n_rows, n_features)
        Possibly no rows.

    Raises
    ------
    ValueError
        Naming the file: one that cannot be read, an unknown column, or a row of this shard
        that is not finite numbers (with its line).
    """
    return read_table(path, columns, part=(rank, world)).data
