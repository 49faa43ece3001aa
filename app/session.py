"""The session: the points a person has placed, and the undo stack of edits to them."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoCommand, QUndoStack

from .snapshot import frozen


class Session(QObject):
    """Points plus undo stack; every edit is a ``QUndoCommand``.

    The points array is replaced, never mutated, on every edit, so an array handed out
    (to the worker thread, for example) stays valid. Appends keep the generation; any
    other edit (undo of an add, clear, open) starts a new one, which tells the worker that
    its model has not seen a prefix of the new points.
    """

    changed = Signal()  # the points changed (an edit, its undo or its redo)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._points = frozen(np.zeros((0, 2)))
        self._low = np.full(2, np.inf)  # bounding box, kept up to date edit by edit
        self._high = np.full(2, -np.inf)
        self._generation = 0
        self.undo_stack = QUndoStack(self)

    @property
    def points(self) -> np.ndarray:
        """The current points, read-only, shape (n, 2)."""
        return self._points

    @property
    def generation(self) -> int:
        """Changes whenever an edit is not a pure append."""
        return self._generation

    @property
    def extent(self) -> float:
        """The larger side of the points' bounding box (0 for fewer than two points)."""
        if self._points.shape[0] < 2:
            return 0.0
        return float(np.max(self._high - self._low))

    def __len__(self) -> int:
        return int(self._points.shape[0])

    # -- edits (undoable) ----------------------------------------------------------------

    def add_points(self, xy, text: str | None = None) -> None:
        """Append points as one undoable edit.

        Parameters
        ----------
        xy : array-like of shape (n, 2) or (2,)
        text : str, optional
            The edit's name in the undo history.

        Raises
        ------
        ValueError
            If ``xy`` is not finite numbers of shape (n, 2).
        """
        array = as_points(xy)
        if array.shape[0] == 0:
            return
        if text is None:
            text = "Add point" if array.shape[0] == 1 else f"Add {array.shape[0]} points"
        self.undo_stack.push(_AppendCommand(self, array, text))

    def replace_points(self, xy, text: str = "Replace points") -> None:
        """Replace all points as one undoable edit (open a file, clear)."""
        self.undo_stack.push(_ReplaceCommand(self, as_points(xy), text))

    def clear(self) -> None:
        """Remove all points as one undoable edit."""
        self.replace_points(np.zeros((0, 2)), "Clear")

    # -- primitive changes, used by the commands -----------------------------------------

    def _append(self, array: np.ndarray) -> None:
        points = np.concatenate([self._points, array])  # a new array: safe to freeze
        points.setflags(write=False)
        self._points = points
        self._low = np.minimum(self._low, array.min(axis=0))
        self._high = np.maximum(self._high, array.max(axis=0))
        self.changed.emit()

    def _set(self, array: np.ndarray) -> None:
        self._points = array if not array.flags.writeable else frozen(array)
        if array.shape[0]:
            self._low, self._high = array.min(axis=0), array.max(axis=0)
        else:
            self._low, self._high = np.full(2, np.inf), np.full(2, -np.inf)
        self._generation += 1
        self.changed.emit()


def as_points(xy) -> np.ndarray:
    """``xy`` as a read-only float64 array of shape (n, 2), or ValueError."""
    try:
        array = np.array(xy, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError("Points must be numbers, in pairs (x, y).") from None
    if array.ndim == 1 and array.shape[0] == 2:
        array = array[None, :]
    if array.ndim != 2 or array.shape[1] != 2:
        raise ValueError(f"Points must have shape (n, 2), got {array.shape}.")
    if not np.isfinite(array).all():
        raise ValueError("Points must be finite numbers (no NaN or infinity).")
    array.setflags(write=False)
    return array


class _AppendCommand(QUndoCommand):
    def __init__(self, session: Session, array: np.ndarray, text: str):
        super().__init__(text)
        self._session = session
        self._array = array
        self._before = 0

    def redo(self) -> None:
        self._before = len(self._session)
        self._session._append(self._array)

    def undo(self) -> None:
        self._session._set(self._session.points[: self._before])


class _ReplaceCommand(QUndoCommand):
    def __init__(self, session: Session, array: np.ndarray, text: str):
        super().__init__(text)
        self._session = session
        self._array = array
        self._previous = session.points

    def redo(self) -> None:
        self._previous = self._session.points
        self._session._set(self._array)

    def undo(self) -> None:
        self._session._set(self._previous)
