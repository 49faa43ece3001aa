"""The canvas's density image of many points (see :mod:`app.canvas.point_histogram`).

:class:`PointDensityLayer` owns one image item placed by its rectangle in data
coordinates (:class:`app.canvas.plot_items.DensityImageItem`) and a
:class:`app.state.threads.BackgroundThread` that bins the points in its own thread. While
the view pans or zooms, the image already drawn is only transformed with it (a scaled
blit per frame); once the view has been still for :data:`VIEW_DELAY_MS`, the visible
range (and a margin) is binned again at screen resolution. New points, labels or colours
are binned again at once.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QObject, QRectF, QTimer, Signal, Slot

from ..state.messages import ModelSnapshot
from ..state.palette import component_color
from ..state.threads import BackgroundThread
from .plot_items import DensityImageItem
from .point_histogram import DensityImage, DensityImageRequest, density_image

#: Pan and zoom are gathered this long before the image is binned again.
VIEW_DELAY_MS = 120

#: The binned rectangle extends this fraction of the visible range beyond each side, so
#: that a short pan shows points at once.
MARGIN = 0.25


class PointDensityLayer(QObject):
    """A density image of the points on ``canvas``, in place of one dot per point.

    Parameters
    ----------
    canvas : app.canvas.widget.Canvas
    """

    image_ready = Signal(object)  # DensityImage, after it has been drawn

    def __init__(self, canvas):
        super().__init__(canvas)
        self.canvas = canvas
        self.view_box = canvas.view_box
        self.image_item = DensityImageItem()
        self.image_item.setVisible(False)
        self.view_box.addItem(self.image_item, ignoreBounds=True)
        self.image: DensityImage | None = None
        self.runner = BackgroundThread("gmm-point-density", density_image, parent=self)
        self.runner.result_ready.connect(self._on_image)
        self._view_timer = QTimer(self)
        self._view_timer.setSingleShot(True)
        self._view_timer.setInterval(VIEW_DELAY_MS)
        self._view_timer.timeout.connect(self.refresh)
        self.view_box.sigRangeChanged.connect(self._on_view_changed)
        self._points: np.ndarray | None = None
        self._snapshot: ModelSnapshot | None = None
        self._soft = False
        self._key: tuple | None = None  # what the image shows; a new one is binned again
        self._waiting = False  # an image was asked for and has not come yet

    @property
    def active(self) -> bool:
        """Whether points are drawn as an image."""
        return self._points is not None

    @property
    def busy(self) -> bool:
        """Whether an image of newer points, labels or view is still to come."""
        return self._points is not None and (self._waiting or self._view_timer.isActive())

    def show(self, points: np.ndarray, snapshot: ModelSnapshot | None, soft: bool) -> None:
        """Draw ``points`` (n, 2) as an image, coloured by ``snapshot``'s labels.

        The first ``snapshot.labels.shape[0]`` points take their component's colour (or,
        with ``soft``, the components' colours by responsibility); the rest are pending.
        """
        labels = snapshot.labels if snapshot is not None else None
        colors = tuple(snapshot.colors.tolist()) if snapshot is not None else ()
        key = (id(points), points.shape[0], id(labels), colors, soft)
        self._points, self._snapshot, self._soft = points, snapshot, soft
        if key != self._key:
            self._key = key
            self.refresh()

    def hide(self) -> None:
        """Draw no image (the canvas draws dots)."""
        if self._points is None:
            return
        self._points = self._snapshot = self._key = self.image = None
        self._waiting = False
        self._view_timer.stop()
        self.runner.cancel()
        self.image_item.clear()
        self.image_item.setVisible(False)

    def refresh(self) -> None:
        """Bin the points over the visible range (and a margin) at screen resolution."""
        if self._points is None:
            return
        (x0, x1), (y0, y1) = self.view_box.viewRange()
        dx, dy = (x1 - x0) * MARGIN, (y1 - y0) * MARGIN
        ratio = self.canvas.devicePixelRatioF()
        scale = (1 + 2 * MARGIN) * ratio
        width = max(1, int(round(self.view_box.width() * scale)))
        height = max(1, int(round(self.view_box.height() * scale)))
        snapshot = self._snapshot
        n = self._points.shape[0]
        if snapshot is not None and snapshot.n_components:
            labels = snapshot.labels[:n]
            palette = np.array([component_color(s) for s in snapshot.colors], dtype=np.float64)
            soft = (snapshot.weights, snapshot.means, snapshot.covariances) if self._soft else None
        else:
            labels, palette, soft = np.zeros(0, np.int16), np.zeros((0, 3)), None
        self._waiting = True
        self.runner.post(
            DensityImageRequest(
                request_id=-1,  # given by post
                points=self._points,
                labels=labels,
                palette=palette,
                x_range=(float(x0 - dx), float(x1 + dx)),
                y_range=(float(y0 - dy), float(y1 + dy)),
                shape=(width, height),
                soft=soft,
            )
        )

    def shutdown(self) -> None:
        """Stop the background thread."""
        self._view_timer.stop()
        self.runner.shutdown()

    @Slot()
    def _on_view_changed(self) -> None:
        if self._points is not None:
            self._view_timer.start()

    @Slot(int, object)
    def _on_image(self, request_id: int, image: DensityImage) -> None:
        if self._points is None:
            return  # dots again since it was asked for
        self.image = image
        self._waiting = False
        self.image_item.set_image(image.argb32, QRectF(*image.rect))
        self.image_item.setVisible(True)
        self.image_ready.emit(image)
