"""Reading a table of points for the window: the chosen columns, bad rows skipped and told.

Plain functions on plain values (no Qt, no window), so that the reading can move to a
background thread as it is. :mod:`gmm_core.tables` reads every format (CSV and other
text, Parquet, Feather/Arrow, ``.npy``) in one open of the file: the numeric columns and
their numbers together. Its package is cheap to import; pyarrow loads on the first read,
in the reader's thread, never before the window's first frame.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from gmm_core import tables

#: At most this many skipped rows are named in a message.
SKIPPED_LISTED = 10


@dataclass(frozen=True)
class LoadedTable:
    """The points of a table, ready for the session.

    Attributes
    ----------
    points : ndarray of shape (n, D), float64, D >= 2
    columns : tuple of str
        The D columns' names, in the order chosen.
    n_skipped : int
        Rows left out because a chosen value was missing or not a finite number.
    skipped_lines : tuple of int
        The first of those rows' 1-based line numbers in a text file (data row numbers
        in a binary one).
    text : bool
        Whether the file is text (its skipped rows are numbered by line).
    """

    points: np.ndarray
    columns: tuple[str, ...]
    n_skipped: int = 0
    skipped_lines: tuple[int, ...] = ()
    text: bool = True

    def select(self, columns: Sequence[str]) -> LoadedTable | None:
        """These points in ``columns`` (names, at least two), without reading again.

        None when the read skipped rows: a row skipped for a bad value in a column not
        chosen belongs to the chosen ones, and only a new read of them finds it.
        """
        if self.n_skipped:
            return None
        index = {name: i for i, name in enumerate(self.columns)}
        if len(columns) < 2 or any(name not in index for name in columns):
            return None
        chosen = [index[name] for name in columns]
        points = np.ascontiguousarray(self.points[:, chosen])
        return LoadedTable(points, tuple(columns), 0, (), self.text)

    def skipped_message(self) -> str:
        """``"3 rows skipped: lines 4, 17, 230"`` ("" when none was)."""
        n = self.n_skipped
        if n == 0:
            return ""
        listed = self.skipped_lines[:SKIPPED_LISTED]
        where = ", ".join(str(line) for line in listed)
        if n > len(listed):
            where += ", …"
        plural = "s" if n != 1 else ""
        kind = "line" if self.text else "row"
        return f"{n:,} row{plural} skipped: {kind}{plural} {where}"


def load_table(
    path: str | Path,
    columns: Sequence[str] | None = None,
    *,
    progress: Callable[[float], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> LoadedTable:
    """The points in ``columns`` of the table at ``path`` (all numeric columns if None).

    One open of the file: with ``columns`` None, its numeric columns are found and read
    together.

    Rows with a missing or non-finite value in a chosen column are skipped and counted
    (see :meth:`LoadedTable.skipped_message`). ``progress`` and ``cancelled`` are passed
    to :func:`gmm_core.tables.read_table` (cancelled, it raises
    :class:`gmm_core.Cancelled`).

    Raises
    ------
    ValueError
        With a message for a person naming the file: not a table, fewer than two
        columns, no row of numbers left, or an unknown column.
    """
    name = Path(path).name
    if columns is not None and len(columns) < 2:
        raise ValueError(f"Choose at least two columns of {name} (x and y).")
    table = tables.read_table(
        path, columns, on_bad_rows="skip", progress=progress, cancelled=cancelled
    )
    data = table.data
    if data.ndim != 2 or data.shape[1] < 2:
        found = len(table.numeric)
        raise ValueError(
            f"{name} has {found} numeric column{'s' if found != 1 else ''}; "
            "at least two are needed (x and y)."
        )
    loaded = LoadedTable(
        points=data,
        columns=tuple(table.columns),
        n_skipped=int(table.n_skipped),
        skipped_lines=tuple(int(line) for line in table.skipped_lines),
        text=table.format == "csv",
    )
    if data.shape[0] == 0:
        reason = f" ({loaded.skipped_message()})" if loaded.n_skipped else ""
        raise ValueError(f"{name} has no row of numbers in the chosen columns{reason}.")
    return loaded
