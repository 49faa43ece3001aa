"""Reading and writing points as tables: the first two numeric columns of a file.

Reading goes through :mod:`gmm_core.tables` (CSV and other delimited text with a sniffed
separator, Parquet, Arrow, ``.npy``), imported only when a file is read: nothing on the
way to the first frame imports gmm_core.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from .atomic import atomic_write


def read_points(
    path: str | Path,
    columns: list[str] | None = None,
    *,
    progress: Callable[[float], object] | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> np.ndarray:
    """Points from a table file: two of its columns, as an array of shape (n, 2).

    ``columns`` names them (or gives their 0-based positions); by default the first two
    numeric columns. Text files may have a header line, ``#`` comments, and commas,
    semicolons, tabs or spaces between values; the format is told by content. A header
    with no rows (what :func:`write_points` writes for no points) is zero points, shape
    (0, 2). ``progress`` and ``cancelled`` go to :func:`gmm_core.tables.read_table`.

    Raises
    ------
    ValueError
        With a message for a person naming the file, if it is not a table with two
        numeric columns of finite numbers.
    gmm_core.Cancelled
        When ``cancelled()`` became true.
    """
    from gmm_core.tables import NoRows, read_table

    try:
        chosen = _two_numeric(path) if columns is None else list(columns)
        table = read_table(path, chosen, progress=progress, cancelled=cancelled)
        return _first_two(table.data, path)
    except NoRows as error:
        if len(error.columns) >= 2:
            return np.zeros((0, 2))  # a header alone: no points
        raise


def points_from_text(text: str, name: str = "The text") -> np.ndarray:
    """Points from delimited text, as :func:`read_points` reads a file; ``name`` for messages.

    Raises
    ------
    ValueError
        With a message for a person, if the text is not two columns of finite numbers.
    """
    from gmm_core.tables import NoRows, table_from_text

    if not text.strip():
        raise ValueError(f"{name} is empty.")
    try:
        return _first_two(table_from_text(text, name).data, name)
    except NoRows as error:
        if len(error.columns) >= 2:
            return np.zeros((0, 2))
        raise


def _two_numeric(path) -> list[str]:
    """The first two numeric columns' names of a table file."""
    from gmm_core.tables import describe_table

    info = describe_table(path)
    if len(info.numeric) < 2:
        raise ValueError(
            f"{info.path} has {len(info.numeric)} numeric column(s); two (x and y) are needed."
        )
    return info.numeric[:2]


def _first_two(data: np.ndarray, name) -> np.ndarray:
    if data.shape[1] < 2:
        raise ValueError(f"{name} has {data.shape[1]} numeric column(s); two (x and y) are needed.")
    return np.ascontiguousarray(data[:, :2])


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
