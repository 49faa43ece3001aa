"""Samples from the drawn model: a ghost layer, and "Keep samples as data".

Sampling is numpy on the snapshot's parameters (the GUI thread draws a few thousand
points in well under a millisecond); the random generator is seeded, so the same model
gives the same samples.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject, Slot
from PySide6.QtGui import QAction

from ..state.messages import ModelSnapshot

#: Samples drawn when there are no points to match.
DEFAULT_SAMPLES = 200


def sample_mixture(snapshot: ModelSnapshot, n: int, seed: int = 0) -> np.ndarray:
    """``n`` points drawn from the snapshot's mixture, shape (n, D)."""
    rng = np.random.default_rng(seed)
    weights = np.clip(snapshot.weights, 0, None)
    counts = rng.multinomial(n, weights / weights.sum())
    parts = [
        rng.multivariate_normal(mean, cov, size=int(c), method="eigh")
        for mean, cov, c in zip(snapshot.means, snapshot.covariances, counts, strict=True)
        if c
    ]
    return np.concatenate(parts) if parts else np.zeros((0, snapshot.n_features))


class SampleLayer(QObject):
    """:attr:`sample_action` and :attr:`keep_samples_action` and the ghost layer.

    Parameters
    ----------
    canvas : app.canvas.widget.Canvas
        Where the samples are drawn, in its shown pair of columns.
    session : app.state.session.Session
        How many points there are; kept samples are added to it.
    drawn_model : callable
        ``drawn_model()``: the ``ModelSnapshot`` to sample from (or None).
    show_message : callable
        ``show_message(text, milliseconds)``: a note in the status bar.
    parent : QObject
        Owns the layer and its actions (the window).
    """

    def __init__(
        self,
        canvas,
        session,
        drawn_model: Callable[[], ModelSnapshot | None],
        show_message: Callable[[str, int], None],
        parent: QObject,
    ):
        super().__init__(parent)
        self._canvas = canvas
        self._session = session
        self._drawn_model = drawn_model
        self._show_message = show_message
        self.samples = np.zeros((0, 2))
        self._seed = 0
        self.sample_action = QAction("Draw &Samples", parent)
        self.sample_action.setToolTip(
            "Draw as many points as there are from the model, as ghosts (again: new ones)"
        )
        self.sample_action.triggered.connect(self.draw)
        self.keep_samples_action = QAction("&Keep Samples as Data", parent)
        self.keep_samples_action.setToolTip("Add the ghost points as data (one undoable edit)")
        self.keep_samples_action.setEnabled(False)
        self.keep_samples_action.triggered.connect(self.keep)
        self.item = pg.ScatterPlotItem(
            size=7, symbol="o", pen=pg.mkPen(60, 60, 60, 160, width=1), brush=None
        )
        self.item.setZValue(1.5)  # over the points, under the ellipses
        canvas.view_box.addItem(self.item, ignoreBounds=True)
        session.changed.connect(self.clear)
        canvas.pair_changed.connect(self._show)

    @Slot()
    def draw(self, n: int | None = None) -> np.ndarray:
        """Draw ``n`` samples (as many as there are points by default) into the ghost layer."""
        snapshot = self._drawn_model()
        if snapshot is None or snapshot.n_components == 0:
            self._show_message("No model to sample from yet.", 3000)
            return self.samples
        n = n or max(len(self._session), DEFAULT_SAMPLES)
        self.samples = sample_mixture(snapshot, n, self._seed)
        self._seed += 1
        self._show()
        self.keep_samples_action.setEnabled(True)
        return self.samples

    @Slot()
    def _show(self) -> None:
        """Draw the samples in the shown columns."""
        self.item.setData(pos=self._canvas.shown.points(self.samples))

    @Slot()
    def keep(self) -> None:
        """Add the samples to the points as one undoable edit."""
        samples = self.samples
        if samples.shape[0]:
            self.clear()
            self._session.add_points(samples)

    @Slot()
    def clear(self) -> None:
        """Remove the ghost layer."""
        self.samples = np.zeros((0, 2))
        self.item.setData(pos=self.samples)
        self.keep_samples_action.setEnabled(False)
