"""The session: the points a person has placed, and the undo stack of edits to them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoCommand, QUndoStack

from .column_names import checked_column_names, default_column_names
from .geometry import column_ranges
from .messages import frozen


@dataclass(frozen=True, slots=True, eq=False)
class CheckedPoints:
    """Points checked once, with their bounding box: ready to become the session's.

    A background reader makes these (:meth:`take`), so that replacing the session's
    points by millions of them costs the GUI thread no copy and no pass over them.

    Attributes
    ----------
    array : ndarray of shape (n, D), D >= 2
        Read-only float64, C-ordered, finite.
    low, high : ndarray of shape (D,)
        The smallest and largest value of each column (inf and -inf for no points).
    """

    array: np.ndarray
    low: np.ndarray
    high: np.ndarray

    @classmethod
    def take(cls, xy) -> CheckedPoints:
        """Check ``xy`` and take it over: an array is made read-only in place, not copied.

        Raises
        ------
        ValueError
            If ``xy`` is not finite numbers of shape (n, D) with D >= 2.
        """
        try:
            array = np.ascontiguousarray(xy, dtype=np.float64)
        except (TypeError, ValueError):
            raise ValueError("Points must be numbers, in rows of equal length.") from None
        if array.ndim == 1 and array.shape[0] == 2:
            array = array[None, :]
        if array.ndim != 2 or array.shape[1] < 2:
            raise ValueError(f"Points must have shape (n, D) with D >= 2, got {array.shape}.")
        low, high = column_ranges(array)
        if array.shape[0] and not (np.isfinite(low).all() and np.isfinite(high).all()):
            raise ValueError("Points must be finite numbers (no NaN or infinity).")
        array.setflags(write=False)
        return cls(array, low, high)


class Session(QObject):
    """Points plus undo stack; every edit is a ``QUndoCommand``.

    The points have D >= 2 named columns: two (``x``, ``y``) for points clicked onto
    the canvas, as many as were chosen for an opened table. Only replacing the points
    (open, clear, undo of either) changes the columns; appends and strokes keep them.
    The points array is replaced, never mutated, on every edit, so an array handed out
    (to the worker thread, for example) stays valid. Appends keep the generation; any
    other edit (undo of an add, clear, open) starts a new one, which tells the worker that
    its model has not seen a prefix of the new points.
    """

    changed = Signal()  # the points changed (an edit, its undo or its redo)
    columns_changed = Signal()  # the columns changed (emitted just before ``changed``)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._points = frozen(np.zeros((0, 2)))
        self._columns = default_column_names(2)
        self._low = np.full(2, np.inf)  # bounding box, kept up to date edit by edit
        self._high = np.full(2, -np.inf)
        self._generation = 0
        self._stroke_before: np.ndarray | None = None  # points when a stroke began
        self._stroke_appends = True  # the stroke so far only appended points
        self.undo_stack = QUndoStack(self)

    @property
    def points(self) -> np.ndarray:
        """The current points, read-only, shape (n, D)."""
        return self._points

    @property
    def columns(self) -> tuple[str, ...]:
        """The name of each of the D columns."""
        return self._columns

    @property
    def n_features(self) -> int:
        """D, the number of columns (2 for points clicked onto the canvas)."""
        return len(self._columns)

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
        xy : array-like of shape (n, D) or (D,)
            As many columns as the points have.
        text : str, optional
            The edit's name in the undo history.

        Raises
        ------
        ValueError
            If ``xy`` is not finite numbers of shape (n, D).
        """
        array = as_points(xy, self.n_features)
        if array.shape[0] == 0:
            return
        if text is None:
            text = "Add Point" if array.shape[0] == 1 else f"Add {array.shape[0]:,} Points"
        self.undo_stack.push(_AppendCommand(self, array, text))

    @property
    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """The smallest and largest value of each column, shape (D,) each (inf and -inf: none)."""
        return self._low.copy(), self._high.copy()

    def replace_points(
        self, xy, text: str = "Replace Points", columns: Sequence[str] | None = None
    ) -> None:
        """Replace all points as one undoable edit (open a file, clear).

        Parameters
        ----------
        xy : array-like of shape (n, D), D >= 2, or CheckedPoints
            :class:`CheckedPoints` are taken as they are: no copy, no check, no pass over
            them.
        text : str
            The edit's name in the undo history.
        columns : sequence of str, optional
            The D columns' names; by default the current ones when D is unchanged, else
            :func:`app.state.column_names.default_column_names`.

        Raises
        ------
        ValueError
            If ``xy`` is not finite numbers in at least two columns, or ``columns`` does
            not name each column.
        """
        checked = xy if isinstance(xy, CheckedPoints) else CheckedPoints.take(as_points(xy, None))
        d = checked.array.shape[1]
        if columns is None and d == self.n_features:
            columns = self._columns
        columns = checked_column_names(columns, d)
        self.undo_stack.push(_ReplaceCommand(self, checked, columns, text))

    def clear(self) -> None:
        """Remove all points as one undoable edit (back to two columns, x and y)."""
        self.replace_points(np.zeros((0, 2)), "Clear", default_column_names(2))

    # -- strokes: live edits that become one undoable command -----------------------------

    @property
    def in_stroke(self) -> bool:
        """Whether a stroke is under way (between :meth:`begin_stroke` and its end)."""
        return self._stroke_before is not None

    def begin_stroke(self) -> None:
        """Start a stroke: live edits that become one undoable command.

        The edits until :meth:`end_stroke` show (and train) at once; the undo stack gets
        them as one command when the stroke ends.
        """
        if self._stroke_before is None:
            self._stroke_before = self._points
            self._stroke_appends = True

    def stroke_append(self, xy) -> None:
        """Append points within the stroke (the model learns them incrementally)."""
        array = as_points(xy, self.n_features)
        if array.shape[0]:
            self._append(array)

    def stroke_set(self, xy) -> None:
        """Replace all points within the stroke (move, erase, jitter)."""
        self._stroke_appends = False
        self._set(as_points(xy, self.n_features))

    def end_stroke(self, text: str) -> bool:
        """End the stroke; push it as one command named ``text`` if it changed anything."""
        before, self._stroke_before = self._stroke_before, None
        if before is None or self._points is before:
            return False
        if (
            self._points.shape == before.shape
            and not self._stroke_appends
            and np.array_equal(self._points, before)
        ):
            self._set(before)  # nothing changed in the end: no command
            return False
        self.undo_stack.push(_StrokeCommand(self, before, self._points, self._stroke_appends, text))
        return True

    def cancel_stroke(self) -> None:
        """Abandon the stroke and put the points back as they were."""
        before, self._stroke_before = self._stroke_before, None
        if before is not None and self._points is not before:
            self._set(before)

    # -- primitive changes, used by the commands -----------------------------------------

    def _append(self, array: np.ndarray) -> None:
        points = np.concatenate([self._points, array])  # a new array: safe to freeze
        points.setflags(write=False)
        self._points = points
        low, high = column_ranges(array)
        self._low, self._high = np.minimum(self._low, low), np.maximum(self._high, high)
        self.changed.emit()

    def _set(
        self,
        array: np.ndarray,
        columns: tuple[str, ...] | None = None,
        bounds: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> None:
        self._points = array if not array.flags.writeable else frozen(array)
        self._low, self._high = column_ranges(array) if bounds is None else bounds
        self._generation += 1
        if columns is not None and columns != self._columns:
            self._columns = columns
            self.columns_changed.emit()
        self.changed.emit()


def as_points(xy, n_features: int | None = 2) -> np.ndarray:
    """``xy`` as a read-only float64 array of shape (n, D), or ValueError.

    ``n_features`` is D; None takes any D >= 2 (a single point then needs shape (1, D)).
    """
    try:
        array = np.array(xy, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError("Points must be numbers, in rows of equal length.") from None
    if array.ndim == 1 and array.shape[0] == (n_features or 2):
        array = array[None, :]
    if n_features is None:
        if array.ndim != 2 or array.shape[1] < 2:
            raise ValueError(f"Points must have shape (n, D) with D >= 2, got {array.shape}.")
    elif array.ndim != 2 or array.shape[1] != n_features:
        raise ValueError(f"Points must have shape (n, {n_features}), got {array.shape}.")
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
    def __init__(
        self, session: Session, points: CheckedPoints, columns: tuple[str, ...], text: str
    ):
        super().__init__(text)
        self._session = session
        self._points = points
        self._columns = columns
        self._previous = (session.points, session.columns, session.bounds)

    def redo(self) -> None:
        self._previous = (self._session.points, self._session.columns, self._session.bounds)
        points = self._points
        self._session._set(points.array, self._columns, (points.low, points.high))

    def undo(self) -> None:
        self._session._set(*self._previous)


class _StrokeCommand(QUndoCommand):
    """A stroke already shown live: the first redo (on push) does nothing."""

    def __init__(self, session, before: np.ndarray, after: np.ndarray, appends: bool, text):
        super().__init__(text)
        self._session = session
        self._before = before
        self._after = after
        self._appends = appends  # after == before + new rows
        self._applied = True

    def redo(self) -> None:
        if self._applied:
            self._applied = False
            return
        if self._appends and self._session.points is self._before:
            self._session._append(self._after[self._before.shape[0] :])
        else:
            self._session._set(self._after)

    def undo(self) -> None:
        self._session._set(self._before)
