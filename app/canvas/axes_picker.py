"""Which two columns the canvas shows, and what more than two columns mean for editing.

:class:`AxesPicker` owns the x and y combos (``window.x_combo``, ``window.y_combo``,
in the Axes tool bar) and follows the session's columns: points of two columns are shown as they are
and can be edited; with more, the combos pick the pair shown (the model is fitted in
all of them, and switching redraws its marginal without refitting), and clicking and
the editing tools are off, because a click gives only two of the coordinates. Nothing
here imports torch or gmm_core.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtWidgets import QComboBox, QLabel, QStatusBar, QToolBar

from .projection import FIRST_PAIR


class AxesPicker(QObject):
    """The x and y column combos, and the editing state they imply.

    Parameters
    ----------
    canvas : app.canvas.widget.Canvas
        Shows the pair picked.
    session : app.state.session.Session
        The points and their columns' names.
    status_bar : QStatusBar
        Where "Clicking is off" is noted while more than two columns are modelled.
    choose_aspect : callable
        ``choose_aspect(low, high)``: before the view fits points whose shown bounding
        box is ``low`` to ``high`` (arrays of 2), equal or independent axis scales.
    parent : QObject
    """

    editable_changed = Signal(bool)  # whether clicking and the editing tools may edit

    def __init__(
        self,
        canvas,
        session,
        status_bar: QStatusBar,
        choose_aspect: Callable[[np.ndarray, np.ndarray], None],
        parent: QObject | None = None,
    ):
        super().__init__(parent)
        self._canvas = canvas
        self._session = session
        self._choose_aspect = choose_aspect
        self.x_combo = QComboBox(canvas)
        self.x_combo.setToolTip("The column shown along the horizontal axis")
        self.y_combo = QComboBox(canvas)
        self.y_combo.setToolTip("The column shown along the vertical axis")
        for combo in (self.x_combo, self.y_combo):
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.tool_bar = QToolBar("Axes")
        self.tool_bar.setObjectName("axes")
        self.tool_bar.addWidget(QLabel(" Show  x "))
        self.tool_bar.addWidget(self.x_combo)
        self.tool_bar.addWidget(QLabel("  y "))
        self.tool_bar.addWidget(self.y_combo)
        # A normal status-bar widget: hidden under a passing message, back after it.
        self.note = QLabel(status_bar)
        self.note.setStyleSheet("color: rgb(120, 70, 0);")
        status_bar.addWidget(self.note)
        self.x_combo.currentIndexChanged.connect(self._on_x_changed)
        self.y_combo.currentIndexChanged.connect(self._on_y_changed)
        session.columns_changed.connect(self._on_columns_changed)
        self._on_columns_changed()

    @property
    def pair(self) -> tuple[int, int]:
        """The indices of the columns shown along x and y."""
        return self._canvas.pair

    def set_pair(self, x: int, y: int) -> None:
        """Show columns ``x`` and ``y`` (indices, distinct); the model is not refitted.

        Raises
        ------
        ValueError
            If either is not a column index or they are the same.
        """
        d = self._session.n_features
        if not (0 <= x < d and 0 <= y < d) or x == y:
            raise ValueError(f"Two different columns of 0 to {d - 1} are needed, got {x}, {y}.")
        self._set_combos(x, y)
        self._show(x, y)

    def fit_view(self) -> None:
        """Fit the view to the shown columns (independent scales for unlike spans)."""
        pair = list(self._canvas.pair)
        low, high = self._session.bounds  # kept edit by edit: no pass over the points
        low, high = low[pair], high[pair]
        if len(self._session) >= 2:
            self._choose_aspect(low, high)
        self._canvas.fit_bounds(low, high)

    def _set_combos(self, x: int, y: int) -> None:
        for combo, index in ((self.x_combo, x), (self.y_combo, y)):
            combo.blockSignals(True)
            combo.setCurrentIndex(index)
            combo.blockSignals(False)

    def _show(self, x: int, y: int) -> None:
        columns = self._session.columns
        self._canvas.set_axis_names(columns[x], columns[y])
        if (x, y) != self._canvas.pair:
            self._canvas.set_pair((x, y), self._session.points)

    @Slot(int)
    def _on_x_changed(self, x: int) -> None:
        y = self.y_combo.currentIndex()
        if x == y:  # the same column twice: the axes swap
            y = self.pair[0]
            self._set_combos(x, y)
        self._show(x, y)
        self.fit_view()

    @Slot(int)
    def _on_y_changed(self, y: int) -> None:
        x = self.x_combo.currentIndex()
        if x == y:
            x = self.pair[1]
            self._set_combos(x, y)
        self._show(x, y)
        self.fit_view()

    @Slot()
    def _on_columns_changed(self) -> None:
        columns = self._session.columns
        d = len(columns)
        for combo in (self.x_combo, self.y_combo):
            combo.blockSignals(True)
            combo.clear()
            combo.addItems(list(columns))
            combo.blockSignals(False)
        self._set_combos(*FIRST_PAIR)
        self._show(*FIRST_PAIR)
        many = d > 2
        self.tool_bar.setVisible(many)
        self.editable_changed.emit(not many)
        self.note.setText(f"Clicking is off: {d} columns" if many else "")
        self.note.setToolTip(
            f"A click gives 2 of the {d} coordinates a point needs, so clicking and the "
            "editing tools are off; Clear, Undo and File > Open still work"
            if many
            else ""
        )
        self.note.setVisible(many)
