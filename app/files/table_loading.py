"""Reading a table of points for the window: the chosen columns, bad rows skipped and told.

Plain functions on plain values (no Qt, no window), so that the reading can move to a
background thread as it is. :mod:`gmm_core.tables` reads every format (CSV and other
text, Parquet, Feather/Arrow, ``.npy``); gmm_core, and torch with it, is imported on
the first call, never before the window's first frame.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

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


def numeric_columns(path: str | Path) -> list[str]:
    """The names of the numeric columns of the table at ``path``, in file order.

    Raises
    ------
    ValueError
        With a message for a person naming the file, if it is not a table.
    """
    from gmm_core.tables import describe_table

    return list(describe_table(path).numeric)


def load_table(
    path: str | Path,
    columns: Sequence[str] | None = None,
    *,
    progress: Callable[[float], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> LoadedTable:
    """The points in ``columns`` of the table at ``path`` (all numeric columns if None).

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
    from gmm_core.tables import describe_table, read_table

    name = Path(path).name
    if columns is not None and len(columns) < 2:
        raise ValueError(f"Choose at least two columns of {name} (x and y).")
    info = describe_table(path)
    table = read_table(path, columns, on_bad_rows="skip", progress=progress, cancelled=cancelled)
    data = table.data
    if data.ndim != 2 or data.shape[1] < 2:
        found = len(info.numeric)
        raise ValueError(
            f"{name} has {found} numeric column{'s' if found != 1 else ''}; "
            "at least two are needed (x and y)."
        )
    loaded = LoadedTable(
        points=data,
        columns=tuple(table.columns),
        n_skipped=int(table.n_skipped),
        skipped_lines=tuple(int(line) for line in table.skipped_lines),
        text=info.format == "csv",
    )
    if data.shape[0] == 0:
        reason = f" ({loaded.skipped_message()})" if loaded.n_skipped else ""
        raise ValueError(f"{name} has no row of numbers in the chosen columns{reason}.")
    return loaded
