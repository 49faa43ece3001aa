"""Points pasted as text, and points written as CSV (every column, named).

Pasted text is read by :mod:`gmm_core.tables` (its separator sniffed), imported only when
text is pasted: nothing on the way to the first frame loads the table reader. Files are
opened by :mod:`app.files.file_loader`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .atomic import atomic_write


def points_from_text(text: str, name: str = "The text") -> np.ndarray:
    """Points from delimited text (pasted), read as a file is; ``name`` for messages.

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
