"""Column names: what the axes, files and dialogs call each dimension of the points.

Points clicked onto the canvas have two columns, ``x`` and ``y``; an opened table keeps
its columns' names. Pure Python: nothing here imports Qt, numpy or gmm_core.
"""

from __future__ import annotations

from collections.abc import Sequence


def default_column_names(n_features: int) -> tuple[str, ...]:
    """``("x", "y")`` for two columns, else ``("column 1", "column 2", ...)``."""
    if n_features == 2:
        return ("x", "y")
    return tuple(f"column {i + 1}" for i in range(n_features))


def checked_column_names(names: Sequence[str] | None, n_features: int) -> tuple[str, ...]:
    """``names`` as a tuple of one name per column, or the defaults when None.

    Raises
    ------
    ValueError
        If ``names`` is not ``n_features`` strings.
    """
    if names is None:
        return default_column_names(n_features)
    if isinstance(names, str):
        raise ValueError("Column names must be a list of names, not one string.")
    names = tuple(names)
    if len(names) != n_features or not all(isinstance(name, str) for name in names):
        raise ValueError(f"{n_features} column names are needed, got {list(names)!r}.")
    return names
