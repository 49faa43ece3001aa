"""The density map: a heat map of the model's log-density under the points, with contours.

With more than two columns, the density is the model's marginal in the shown pair.

:class:`DensityLayer` owns the canvas items (an ``ImageItem`` under the points and all
contour lines as one ``PlotCurveItem``) and a :class:`app.state.threads.BackgroundRunner`
that computes the grid off the GUI thread (:func:`log_density_grid`, numpy only) for the
drawn model on a grid covering the visible range, again whenever the model or the view
changes (view changes are gathered for :data:`VIEW_DELAY_MS`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
import pyqtgraph.functions as fn
from PySide6.QtCore import QObject, QRectF, QTimer, Slot
from PySide6.QtGui import QAction

from gmm_core.covariance_types import component_log_densities, log_sum_exp

from ..state.messages import ModelSnapshot
from ..state.threads import BackgroundThread

#: Grid cells along each axis.
GRID_SIZE = 120

#: Contour lines drawn, evenly spaced in log-density below the peak.
N_CONTOURS = 6

#: Log-density shown: from the peak down this many nats (lower is clipped).
DYNAMIC_RANGE = 12.0

#: Pan and zoom are gathered this long before one new grid is asked for.
VIEW_DELAY_MS = 60


@dataclass(frozen=True, slots=True, eq=False)
class DensityRequest:
    """A grid of log-density asked of the background thread."""

    request_id: int
    weights: np.ndarray  # [K]
    means: np.ndarray  # [K, 2]
    covariances: np.ndarray  # [K, 2, 2]
    x_range: tuple[float, float]
    y_range: tuple[float, float]
    size: int = GRID_SIZE


@dataclass(frozen=True, slots=True, eq=False)
class DensityGrid:
    """The log-density on a grid and its contour lines.

    Attributes
    ----------
    request_id : int
    rect : tuple of 4 floats
        x, y, width, height of the grid in data units.
    log_density : ndarray of shape (size, size)
        Indexed ``[i_x, i_y]`` (pyqtgraph's image order).
    levels : tuple of float
        Log-density of each contour.
    contour_x, contour_y, contour_connect : ndarray of shape (M,)
        All contour lines end to end, as ``PlotCurveItem`` takes them.
    """

    request_id: int
    rect: tuple[float, float, float, float]
    log_density: np.ndarray
    levels: tuple[float, ...]
    contour_x: np.ndarray
    contour_y: np.ndarray
    contour_connect: np.ndarray


def log_density_grid(request: DensityRequest, cancelled: threading.Event) -> DensityGrid | None:
    """The mixture's log-density on a grid over the request's range, with contours."""
    size = request.size
    (x0, x1), (y0, y1) = request.x_range, request.y_range
    dx, dy = (x1 - x0) / size, (y1 - y0) / size
    xs = x0 + dx * (np.arange(size) + 0.5)  # cell centres
    ys = y0 + dy * (np.arange(size) + 0.5)
    gx, gy = np.meshgrid(xs, ys, indexing="ij")  # [size, size], [i_x, i_y]
    X = np.column_stack([gx.ravel(), gy.ravel()])
    log_prob = component_log_densities(X, request.weights, request.means, request.covariances)
    log_density = log_sum_exp(log_prob, axis=1).reshape(size, size)
    log_density = np.where(np.isfinite(log_density), log_density, -1e300)
    peak = float(np.max(log_density))
    levels = tuple(peak - (DYNAMIC_RANGE * (i + 0.5) / N_CONTOURS) for i in range(N_CONTOURS))
    xs_out, ys_out, connect = [], [], []
    for level in levels:
        if cancelled.is_set():
            return None
        for line in fn.isocurve(log_density, level, connected=True):
            line = np.asarray(line, dtype=np.float64)  # [m, 2] in cell units
            if line.shape[0] < 2:
                continue
            xs_out.append(x0 + dx * (line[:, 0] + 0.5))  # sample i sits at cell centre i
            ys_out.append(y0 + dy * (line[:, 1] + 0.5))
            c = np.ones(line.shape[0], dtype=bool)
            c[-1] = False
            connect.append(c)
    empty = np.zeros(0)
    return DensityGrid(
        request_id=request.request_id,
        rect=(x0, y0, x1 - x0, y1 - y0),
        log_density=log_density,
        levels=levels,
        contour_x=np.concatenate(xs_out) if xs_out else empty,
        contour_y=np.concatenate(ys_out) if ys_out else empty,
        contour_connect=np.concatenate(connect) if connect else np.zeros(0, dtype=bool),
    )


def _colormap() -> pg.ColorMap:
    # White for low density through pale blue to a saturated blue at the peak: under the
    # component colours, never competing with them.
    return pg.ColorMap([0.0, 0.5, 1.0], [(255, 255, 255), (200, 220, 240), (90, 140, 200)])


class DensityLayer(QObject):
    """:attr:`density_action` and what it draws on the canvas.

    Parameters
    ----------
    canvas : app.canvas.widget.Canvas
        Where the map is drawn; its view and shown pair of columns.
    drawn_model : callable
        ``drawn_model()`` is the model drawn now (a ``ModelSnapshot``, or None).
    parent : QObject
        Owns the layer and its action (the window).

    Connect the flow's "model drawn" signal to :meth:`on_model`.
    """

    def __init__(self, canvas, drawn_model: Callable[[], ModelSnapshot | None], parent: QObject):
        super().__init__(parent)
        self._canvas = canvas
        self._drawn_model = drawn_model
        self.density_action = QAction("&Density Map", parent)
        self.density_action.setCheckable(True)
        self.density_action.setToolTip("Heat map and contours of the model's log-density")
        self.density_action.toggled.connect(self._on_toggled)
        self.grid: DensityGrid | None = None
        view_box = canvas.view_box
        self.image_item = pg.ImageItem()
        self.image_item.setLookupTable(_colormap().getLookupTable(nPts=256))
        self.image_item.setZValue(-2)
        self.contour_item = pg.PlotCurveItem(pen=pg.mkPen(60, 90, 140, 90, width=1))
        self.contour_item.setZValue(-1)
        for item in (self.image_item, self.contour_item):
            item.setVisible(False)
            view_box.addItem(item, ignoreBounds=True)
        self.runner = BackgroundThread("gmm-density", log_density_grid, parent=self)
        self.runner.result_ready.connect(self._on_grid)
        self._view_timer = QTimer(self)
        self._view_timer.setSingleShot(True)
        self._view_timer.setInterval(VIEW_DELAY_MS)
        self._view_timer.timeout.connect(self.refresh)
        view_box.sigRangeChanged.connect(self._on_view_changed)
        canvas.pair_changed.connect(self._on_view_changed)

    @property
    def on(self) -> bool:
        """Whether the density map is shown."""
        return self.density_action.isChecked()

    def refresh(self) -> None:
        """Ask for the grid of the drawn model over the visible range."""
        snapshot = self._drawn_model()
        if not self.on or snapshot is None or snapshot.n_components == 0:
            self.image_item.setVisible(False)
            self.contour_item.setVisible(False)
            return
        snapshot = self._canvas.shown.marginal(snapshot)  # in the shown columns
        (x0, x1), (y0, y1) = self._canvas.view_box.viewRange()
        self.runner.post(
            DensityRequest(
                request_id=-1,  # given by post
                weights=snapshot.weights,
                means=snapshot.means,
                covariances=snapshot.covariances,
                x_range=(float(x0), float(x1)),
                y_range=(float(y0), float(y1)),
            )
        )

    def shutdown(self) -> None:
        """Stop the background thread."""
        self._view_timer.stop()
        self.runner.shutdown()

    @Slot(bool)
    def _on_toggled(self, on: bool) -> None:
        self.refresh()

    @Slot(object)
    def on_model(self, snapshot: ModelSnapshot) -> None:
        """Draw the map of a model just drawn, if it is the canvas's main one."""
        if self.on and snapshot is self._drawn_model():
            self.refresh()

    @Slot()
    def _on_view_changed(self) -> None:
        if self.on:
            self._view_timer.start()

    @Slot(int, object)
    def _on_grid(self, request_id: int, grid: DensityGrid) -> None:
        if not self.on:
            return
        self.grid = grid
        top = float(np.max(grid.log_density))
        self.image_item.setImage(grid.log_density, levels=(top - DYNAMIC_RANGE, top))
        self.image_item.setRect(QRectF(*grid.rect))
        self.contour_item.setData(x=grid.contour_x, y=grid.contour_y, connect=grid.contour_connect)
        self.image_item.setVisible(True)
        self.contour_item.setVisible(True)
