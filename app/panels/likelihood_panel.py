"""The log-likelihood panel: mean log-likelihood per point against passes, live.

One curve per trainer in its own colour and line style
(:data:`app.state.palette.TRAINER_STYLES`, which the canvas uses for the ellipses of
"Compare all" too); a new fit (passes counting from the start again) starts a new curve,
and the last few earlier curves stay, faded.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPen

from ..canvas.plot_items import GridItem
from ..state.messages import ModelSnapshot
from ..state.palette import TRAINER_STYLES

#: Earlier curves kept (faded) per trainer.
KEPT_CURVES = 4


#: The y axis spans at least this much log-likelihood per point.
MIN_Y_SPAN = 1e-3


def trainer_pen(trainer: str, width: float = 2.0, alpha: int = 255) -> QPen:
    """The cosmetic pen of ``trainer``'s curves."""
    color, style = TRAINER_STYLES.get(trainer, ((0, 0, 0), Qt.PenStyle.SolidLine))
    pen = QPen(QColor(*color, alpha), width)
    pen.setStyle(style)
    pen.setCosmetic(True)
    return pen


class PassAxis(pg.AxisItem):
    """An axis of pass counts: ticks at whole passes only."""

    def tickSpacing(self, minVal, maxVal, size):  # noqa: N803 (pyqtgraph's signature)
        """Pyqtgraph's tick levels, without those finer than one pass."""
        levels = super().tickSpacing(minVal, maxVal, size)
        return [level for level in levels if level[0] >= 1] or [(1.0, 0.0)]


class LikelihoodPlot(pg.PlotWidget):
    """Mean log-likelihood per point (y) against passes (x), one live curve per trainer."""

    def __init__(self, parent=None):
        super().__init__(parent, background="w", axisItems={"bottom": PassAxis("bottom")})
        self.setLabel("left", "log-lik / point")
        self.setLabel("bottom", "pass")
        plot_item = self.getPlotItem()
        # The grid under the curves in opaque greys: the axes' translucent grid cost
        # milliseconds of the GUI thread on every snapshot (see GridItem).
        grid = GridItem(plot_item.getAxis("bottom"), plot_item.getAxis("left"))
        grid.setZValue(-2)
        plot_item.getViewBox().addItem(grid, ignoreBounds=True)
        self.getPlotItem().hideButtons()
        # A converged curve changes by 1e-15: auto-range would blow that rounding up into
        # a slope across the whole panel and leave the axis without labels.
        self.getPlotItem().getViewBox().setLimits(minYRange=MIN_Y_SPAN)
        self.addLegend(offset=(-10, 10))
        self._current: dict[str, tuple[list[float], list[float], pg.PlotDataItem]] = {}
        self._old: dict[str, list[pg.PlotDataItem]] = {}
        # The pass shown from the history (hidden while live).
        dashed = pg.mkPen(120, 120, 120, style=Qt.PenStyle.DashLine)
        self.marker_line = pg.InfiniteLine(angle=90, pen=dashed)
        yellow = pg.mkBrush(255, 200, 0)
        self.marker_dot = pg.ScatterPlotItem(size=10, pen=pg.mkPen("k"), brush=yellow)
        for item in (self.marker_line, self.marker_dot):
            item.setZValue(3)
            item.hide()
            plot_item.getViewBox().addItem(item, ignoreBounds=True)

    def set_marker(self, n_iter: int, value: float) -> None:
        """Mark pass ``n_iter`` (and its log-likelihood ``value``, where finite)."""
        self.marker_line.setPos(float(n_iter))
        self.marker_line.show()
        finite = bool(np.isfinite(value))
        self.marker_dot.setData([float(n_iter)], [float(value) if finite else 0.0])
        self.marker_dot.setVisible(finite)

    def clear_marker(self) -> None:
        """No pass marked (live)."""
        self.marker_line.hide()
        self.marker_dot.hide()

    @property
    def marker(self) -> float | None:
        """The pass marked, or None."""
        return float(self.marker_line.value()) if self.marker_line.isVisible() else None

    def curve(self, trainer: str) -> tuple[np.ndarray, np.ndarray]:
        """The current curve of ``trainer``: passes and log-likelihoods."""
        entry = self._current.get(trainer)
        if entry is None:
            return np.zeros(0), np.zeros(0)
        return np.asarray(entry[0]), np.asarray(entry[1])

    def n_curves(self, trainer: str) -> int:
        """Curves drawn for ``trainer`` (the current one and the faded ones)."""
        return len(self._old.get(trainer, ())) + (trainer in self._current)

    def clear_curves(self) -> None:
        """Forget every curve (the points were cleared)."""
        for _, _, item in self._current.values():
            self.removeItem(item)
        for items in self._old.values():
            for item in items:
                self.removeItem(item)
        self._current, self._old = {}, {}

    def add_snapshot(self, snapshot: ModelSnapshot) -> None:
        """Extend ``snapshot.trainer``'s curve, or start a new one for a new fit."""
        value = snapshot.log_likelihood
        if snapshot.n_points == 0 or not np.isfinite(value):
            return
        trainer, x = snapshot.trainer, float(snapshot.n_iter)
        entry = self._current.get(trainer)
        if entry is None:
            item = self.plot(pen=trainer_pen(trainer), name=trainer)
            entry = self._current[trainer] = ([], [], item)
        xs, ys, item = entry
        if xs and (x < xs[-1] or (x == xs[-1] == 0)):
            self._fade(trainer, xs, ys)  # passes count from the start again: a new fit
            xs.clear()
            ys.clear()
        if xs and xs[-1] == x:
            ys[-1] = value  # the same pass again (the final snapshot): replace
        else:
            xs.append(x)
            ys.append(value)
        item.setData(xs, ys)

    def _fade(self, trainer: str, xs: list[float], ys: list[float]) -> None:
        """Keep a finished curve, faded; the oldest of :data:`KEPT_CURVES` is reused.

        The current curve's item (and its legend entry) stays: a click starts a new fit,
        and creating items per click would cost the GUI thread milliseconds each time.
        """
        old = self._old.setdefault(trainer, [])
        if len(old) >= KEPT_CURVES:
            item = old.pop(0)
        else:
            item = self.plot(pen=trainer_pen(trainer, width=1.0, alpha=70))
            item.setZValue(-1)  # under the current curve
        item.setData(list(xs), list(ys))
        old.append(item)
