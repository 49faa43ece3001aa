"""View > All Pairs: a grid of every pair of columns, and each column's marginal.

For points of D > 2 columns, :class:`PairsView` draws, under the diagonal, one plot per
pair of columns (``plots``, x the earlier column), each with the points coloured by
their most responsible component in all D columns and each component's marginal
ellipses there (:func:`app.canvas.projection.marginal_snapshot`); on the diagonal
(``diagonals``), each column's one-dimensional marginal densities, one curve per
component and their sum. Above :data:`app.state.messages.DENSITY_ABOVE` points a cell
draws an image of its points binned and coloured by component (as the canvas does,
:func:`app.canvas.point_histogram.bin_points`), built once per model: panning then moves
an image. It follows the drawn model (live or from the history) through
:meth:`schedule`, coalesced and only while shown; clicking a cell emits
:attr:`pair_clicked`.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, QTimer, Signal, Slot

from ..canvas.plot_items import EllipsesItem, PointCloudItem
from ..canvas.point_histogram import bin_points, colorize
from ..canvas.projection import marginal_snapshot
from ..state.geometry import column_ranges, group_by_label
from ..state.messages import DENSITY_ABOVE, ModelSnapshot
from ..state.palette import UNASSIGNED_COLOR, component_color

#: Pixels along each side of a cell's binned image (many points).
CELL_PIXELS = 160

#: Points along each diagonal density curve.
CURVE_POINTS = 200

#: Redraws follow changes after this many milliseconds (bursts coalesced: a grid of
#: 100,000 points x 6 columns takes about 50 ms of the GUI thread to redraw).
REDRAW_MS = 150


class PairsView(pg.GraphicsLayoutWidget):
    """The grid of every pair of columns of ``session``'s points, and the drawn model.

    Parameters
    ----------
    session : app.state.session.Session
        The points and their columns' names.
    drawn_model : callable
        ``drawn_model()``: the model drawn on the canvas (or None).
    """

    pair_clicked = Signal(int, int)  # the columns of the cell clicked: x, y

    def __init__(self, session, drawn_model, parent=None):
        super().__init__(parent)
        self.setBackground("w")
        self._session = session
        self._drawn_model = drawn_model
        self.plots: list[pg.PlotItem] = []  # one per pair, under the diagonal
        self.pairs: list[tuple[int, int]] = []  # (x column, y column) of each plot
        self.diagonals: list[pg.PlotItem] = []  # one per column
        self._cells: list[dict] = []  # the items of each plot
        self._curves: list[list[pg.PlotDataItem]] = []  # per column: per component, then the sum
        self._shape: tuple[int, tuple[str, ...]] | None = None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(REDRAW_MS)
        self._timer.timeout.connect(self.refresh)
        self.scene().sigMouseClicked.connect(self._on_clicked)

    # -- following the model --------------------------------------------------------------

    @Slot()
    def schedule(self, *_) -> None:
        """Redraw soon, if shown (a new model, another moment of the history, an edit)."""
        if self.isVisible():
            self._timer.start()

    def showEvent(self, event) -> None:  # noqa: D102
        super().showEvent(event)
        self._timer.start()

    @Slot()
    def refresh(self) -> None:
        """Draw the session's points and the drawn model in every cell now."""
        points = self._session.points
        columns = self._session.columns
        self._build(points.shape[1], columns)
        snapshot = self._drawn_model()
        if (
            snapshot is not None
            and snapshot.n_components
            and snapshot.n_features != points.shape[1]
        ):
            snapshot = None  # a model of other columns
        low, high = column_ranges(points)
        groups = self._groups(points, snapshot)
        for cell, (x, y) in zip(self._cells, self.pairs, strict=True):
            self._draw_cell(cell, (x, y), points, snapshot, groups, low, high)
        for column, curves in enumerate(self._curves):
            self._draw_marginals(column, curves, snapshot, low, high)

    def _build(self, n_columns: int, columns: tuple[str, ...]) -> None:
        """Make the grid's plots for ``n_columns`` columns (once per set of columns)."""
        if self._shape == (n_columns, columns):
            return
        self._shape = (n_columns, columns)
        self.clear()
        self.plots, self.pairs, self.diagonals, self._cells, self._curves = [], [], [], [], []
        for y in range(n_columns):
            for x in range(y + 1):
                plot = self.addPlot(row=y, col=x)
                plot.hideButtons()
                plot.setMenuEnabled(False)
                plot.getAxis("left").setStyle(tickLength=-4, showValues=x == 0)
                plot.getAxis("bottom").setStyle(tickLength=-4, showValues=y == n_columns - 1)
                if x == 0:
                    plot.setLabel("left", columns[y] if y < len(columns) else "")
                if y == n_columns - 1:
                    plot.setLabel("bottom", columns[x] if x < len(columns) else "")
                if x == y:
                    self.diagonals.append(plot)
                    self._curves.append([])
                    continue
                cell = dict(
                    points=PointCloudItem(),
                    image=pg.ImageItem(),
                    ellipses=EllipsesItem(),
                    plot=plot,
                    range=None,
                )
                for z, item in enumerate((cell["image"], cell["points"], cell["ellipses"])):
                    item.setZValue(z)
                    plot.addItem(item, ignoreBounds=True)
                self.plots.append(plot)
                self.pairs.append((x, y))
                self._cells.append(cell)

    def _groups(self, points: np.ndarray, snapshot: ModelSnapshot | None):
        """The learnt points grouped by label (few points), or the labels (many)."""
        if snapshot is None or snapshot.n_components == 0:
            return None
        labels = snapshot.labels
        m = min(labels.shape[0], points.shape[0])
        if points.shape[0] > DENSITY_ABOVE:
            return labels[:m]
        grouped, starts = group_by_label(
            points[:m], labels[:m].astype(np.int64), snapshot.n_components
        )
        return grouped, starts, m

    def _draw_cell(self, cell, pair, points, snapshot, groups, low, high) -> None:
        x, y = pair
        plot = cell["plot"]
        if snapshot is not None and snapshot.n_components:
            marginal = marginal_snapshot(snapshot, pair, (points[:0, [x, y]], None))
            cell["ellipses"].set_snapshot(marginal)
            cell["ellipses"].setVisible(True)
        else:
            cell["ellipses"].setVisible(False)
        view = (float(low[x]), float(high[x])), (float(low[y]), float(high[y]))
        if not np.isfinite(view).all():
            view = ((-10.0, 10.0), (-10.0, 10.0))
        (x0, x1), (y0, y1) = view
        pad_x, pad_y = max((x1 - x0) * 0.05, 1e-9), max((y1 - y0) * 0.05, 1e-9)
        x0, x1, y0, y1 = x0 - pad_x, x1 + pad_x, y0 - pad_y, y1 + pad_y
        if cell["range"] != (x0, x1, y0, y1):
            cell["range"] = (x0, x1, y0, y1)
            plot.setRange(xRange=(x0, x1), yRange=(y0, y1), padding=0)
        if points.shape[0] > DENSITY_ABOVE:
            cell["points"].set_groups([])
            labels = groups if groups is not None else np.zeros(0, np.int16)
            palette = (
                np.array([component_color(c) for c in snapshot.colors])
                if groups is not None
                else np.zeros((1, 3))
            )
            counts, labelled, sums = bin_points(
                points[:, [x, y]], labels, palette, (x0, x1), (y0, y1), (CELL_PIXELS, CELL_PIXELS)
            )
            sums /= np.maximum(labelled, 1.0)[..., None]
            cell["image"].setImage(
                colorize(counts, labelled, sums), autoLevels=False, levels=(0, 255)
            )
            cell["image"].setRect(QRectF(x0, y0, x1 - x0, y1 - y0))
            cell["image"].setVisible(True)
            return
        cell["image"].setVisible(False)
        shown = []
        drawn = 0
        if groups is not None:
            grouped, starts, drawn = groups
            for k, color in enumerate(snapshot.colors):
                part = grouped[starts[k] : starts[k + 1]][:, [x, y]]
                shown.append((part, component_color(color)))
        rest = points[drawn:, [x, y]]
        if rest.shape[0]:
            shown.append((rest, UNASSIGNED_COLOR))
        cell["points"].set_groups(shown)

    def _draw_marginals(self, column, curves, snapshot, low, high) -> None:
        plot = self.diagonals[column]
        k = 0 if snapshot is None else snapshot.n_components
        while len(curves) < k + 1:
            curves.append(plot.plot())
        lo, hi = float(low[column]), float(high[column])
        if not (np.isfinite(lo) and np.isfinite(hi)) or k == 0:
            for curve in curves:
                curve.setData([], [])
            return
        span = max(hi - lo, 1e-9)
        grid = np.linspace(lo - 0.05 * span, hi + 0.05 * span, CURVE_POINTS)  # [G]
        mu = snapshot.means[:, column]  # [K]
        sd = np.sqrt(np.maximum(snapshot.covariances[:, column, column], 1e-300))  # [K]
        z = (grid[None, :] - mu[:, None]) / sd[:, None]  # [K, G]
        density = (
            snapshot.weights[:, None] * np.exp(-0.5 * z * z) / (sd[:, None] * np.sqrt(2 * np.pi))
        )
        for index, curve in enumerate(curves):
            if index < k:
                curve.setData(
                    grid,
                    density[index],
                    pen=pg.mkPen(component_color(snapshot.colors[index]), width=1.5),
                )
            elif index == k:
                curve.setData(grid, density.sum(axis=0), pen=pg.mkPen(60, 60, 60, width=1))
            else:
                curve.setData([], [])
        plot.setXRange(grid[0], grid[-1], padding=0)
        plot.setYRange(0, float(density.sum(axis=0).max()) * 1.05, padding=0)

    # -- clicks ---------------------------------------------------------------------------

    def _on_clicked(self, event) -> None:
        position = event.scenePos()
        for plot, (x, y) in zip(self.plots, self.pairs, strict=True):
            if plot.sceneBoundingRect().contains(position):
                self.pair_clicked.emit(x, y)
                return
