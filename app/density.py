"""The density map: a heat map of the model's log-density under the points, with contours.

With more than two columns, the density is the model's marginal in the shown pair.

:class:`DensityLayer` owns the canvas items (an ``ImageItem`` under the points and all
contour lines as one ``PlotCurveItem``) and a :class:`app.background.BackgroundRunner`
that computes the grid off the GUI thread (:func:`app.analysis.log_density_grid`) for the
drawn model on a grid covering the visible range, again whenever the model or the view
changes (view changes are gathered for :data:`VIEW_DELAY_MS`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject, QRectF, QTimer, Slot
from PySide6.QtGui import QAction

from .background import BackgroundRunner
from .snapshot import ModelSnapshot

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
    train: bool = False  # a mailbox's Train flag: never


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


def _colormap() -> pg.ColorMap:
    # White for low density through pale blue to a saturated blue at the peak: under the
    # component colours, never competing with them.
    return pg.ColorMap([0.0, 0.5, 1.0], [(255, 255, 255), (200, 220, 240), (90, 140, 200)])


class DensityLayer(QObject):
    """``window.density_action`` and what it draws on ``window.canvas``."""

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.density_action = QAction("&Density Map", window)
        self.density_action.setCheckable(True)
        self.density_action.setToolTip("Heat map and contours of the model's log-density")
        self.density_action.toggled.connect(self._on_toggled)
        self.grid: DensityGrid | None = None
        view_box = window.canvas.view_box
        self.image_item = pg.ImageItem()
        self.image_item.setLookupTable(_colormap().getLookupTable(nPts=256))
        self.image_item.setZValue(-2)
        self.contour_item = pg.PlotCurveItem(pen=pg.mkPen(60, 90, 140, 90, width=1))
        self.contour_item.setZValue(-1)
        for item in (self.image_item, self.contour_item):
            item.setVisible(False)
            view_box.addItem(item, ignoreBounds=True)
        self.runner = BackgroundRunner("log_density_grid", "gmm-density", self)
        self.runner.done.connect(self._on_grid)
        self._view_timer = QTimer(self)
        self._view_timer.setSingleShot(True)
        self._view_timer.setInterval(VIEW_DELAY_MS)
        self._view_timer.timeout.connect(self.refresh)
        view_box.sigRangeChanged.connect(self._on_view_changed)
        window.canvas.pair_changed.connect(self._on_view_changed)
        window.model_updated.connect(self._on_model)

    @property
    def on(self) -> bool:
        """Whether the density map is shown."""
        return self.density_action.isChecked()

    def refresh(self) -> None:
        """Ask for the grid of the drawn model over the visible range."""
        snapshot = self.window.snapshot
        if not self.on or snapshot is None or snapshot.n_components == 0:
            self.image_item.setVisible(False)
            self.contour_item.setVisible(False)
            return
        snapshot = self.window.canvas.shown.marginal(snapshot)  # in the shown columns
        (x0, x1), (y0, y1) = self.window.canvas.view_box.viewRange()
        self.runner.post(
            DensityRequest(
                request_id=self.runner.next_id(),
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
    def _on_model(self, snapshot: ModelSnapshot) -> None:
        if self.on and snapshot is self.window.snapshot:
            self.refresh()

    @Slot()
    def _on_view_changed(self) -> None:
        if self.on:
            self._view_timer.start()

    @Slot(object)
    def _on_grid(self, grid: DensityGrid) -> None:
        if not self.on:
            return
        self.grid = grid
        top = float(np.max(grid.log_density))
        self.image_item.setImage(grid.log_density, levels=(top - DYNAMIC_RANGE, top))
        self.image_item.setRect(QRectF(*grid.rect))
        self.contour_item.setData(x=grid.contour_x, y=grid.contour_y, connect=grid.contour_connect)
        self.image_item.setVisible(True)
        self.contour_item.setVisible(True)
