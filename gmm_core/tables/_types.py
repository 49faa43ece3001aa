"""The records that :mod:`gmm_core.tables` hands out, and the block its readers share.

numpy only: importing these does not load pyarrow.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class TableInfo:
    """What is in a table file, read cheaply (header, schema or first block).

    Attributes
    ----------
    path : str
    format : str
        ``"csv"`` (any delimited text), ``"parquet"``, ``"arrow"`` (Feather / Arrow IPC) or
        ``"npy"``.
    columns : list of str
        Every column's name; a text file without a header and a ``.npy`` array have
        ``"column 1"``, ``"column 2"``, ...
    numeric : list of str
        The numeric columns, in file order.
    n_rows : int or None
        The number of rows where it is cheaply known (Parquet, Arrow, ``.npy``; not text).
    n_bytes : int
        The file's size.
    """

    path: str
    format: str
    columns: list[str]
    numeric: list[str]
    n_rows: int | None
    n_bytes: int


@dataclass(frozen=True)
class Table:
    """Rows of numbers read from a table file.

    Attributes
    ----------
    data : ndarray of shape (n_rows, n_columns)
        float64, C-contiguous, every value finite.
    columns : list of str
        The chosen columns' names, in the order chosen.
    n_skipped : int
        Rows skipped because a chosen value was missing or not a finite number
        (``on_bad_rows="skip"``); 0 otherwise.
    skipped_lines : tuple of int
        The first (up to 10) skipped rows' 1-based line numbers in the file (row numbers for
        Parquet, Arrow and ``.npy``).
    path : str
    format : str
        What the file turned out to be: ``"csv"`` (any delimited text, or text in memory),
        ``"parquet"``, ``"arrow"`` or ``"npy"`` (as :attr:`TableInfo.format`).
    numeric : list of str
        Every numeric column of the file, in file order (as :attr:`TableInfo.numeric`),
        whichever were chosen: a read of every numeric column (``columns=None``, the
        default) tells in the same open of the file which columns there are to choose from.
    """

    data: np.ndarray
    columns: list[str]
    n_skipped: int
    skipped_lines: tuple[int, ...]
    path: str
    format: str
    numeric: list[str]


#: How many skipped rows' line numbers a :class:`Table` keeps.
KEPT_LINES = 10

#: Locates rows of a block: the refs of bad rows -> their (line number, text or None).
Locate = Callable[[Sequence[object]], list[tuple[int, str | None]]]


@dataclass
class Block:
    """One piece of a file as a format's reader delivers it, before bad rows are handled.

    Attributes
    ----------
    values : ndarray of shape (n, n_chosen)
        float64; NaN where a value is missing or not a number.
    fraction : float
        How much of the file has been read, in [0, 1].
    locate : callable
        Refs -> ``[(line number, line text or None), ...]``; a ref is a row of ``values``
        (an int) or one of ``broken``'s refs.
    broken : list of (int, object)
        Rows that have no values (a wrong number of fields), each as (its position among
        the rows of ``values``, a ref), in file order.
    """

    values: np.ndarray
    fraction: float
    locate: Locate
    broken: list[tuple[int, object]] = field(default_factory=list)


class NoRows(ValueError):
    """A table file that holds no rows (empty, comments only, or a header only).

    ``columns`` holds the header's names where there is one.
    """

    def __init__(self, message: str, columns: Sequence[str] = ()):
        super().__init__(message)
        self.columns = list(columns)
