"""The canvas's drawing items: the point cloud and the covariance ellipses.

Drawing is cheap by construction: points are grouped by component in the worker and drawn
with one sprite (or one pen) per component, cached as a device-coordinate pixmap; all
ellipses are one curve item updated with ``setData`` (pyqtgraph's
``examples/multiplePlotSpeedTest.py``). :class:`app.canvas.widget.Canvas` places and feeds them.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
import pyqtgraph.functions as fn
from pyqtgraph.Qt import internals as pg_internals
from PySide6.QtCore import QLineF, QPointF, QRectF, Qt
from PySide6.QtGui import (
    QBrush,
    QColor,
    QImage,
    QPainter,
    QPainterPath,
    QPen,
    QPixmap,
    QTransform,
)
from PySide6.QtWidgets import QGraphicsItem

from ..state.geometry import SIGMA_LEVELS, responsibilities
from ..state.messages import TRAINERS, ModelSnapshot
from ..state.palette import component_color
from .projection import FIRST_PAIR, project_points


class GridItem(pg.GraphicsObject):
    """Grid lines at the axes' ticks, under the data, in opaque greys.

    pyqtgraph's axes draw the grid as translucent lines over the whole plot, which Qt's
    raster engine strokes about ten times slower than opaque ones (15 ms against 1.5 ms
    for a plot's grid, measured here), and panning redraws the grid every frame. These
    are the same lines (the axes' tick levels, fainter for finer levels as pyqtgraph
    fades them), pre-blended with the white background, drawn beneath the points.

    Parameters
    ----------
    x_axis, y_axis : pyqtgraph.AxisItem
        Their tick values place the lines.
    color : tuple of 3 int
        The lines' colour at full strength.
    alpha : float
        Strength of the major lines over white, as pyqtgraph's ``showGrid(alpha=...)``.
    """

    def __init__(self, x_axis, y_axis, color=(110, 110, 110), alpha=0.2):
        super().__init__()
        self._axes = (x_axis, y_axis)
        self._color = np.asarray(color, dtype=np.float64)
        self._alpha = alpha

    def viewRangeChanged(self) -> None:  # noqa: D102, N802
        self.prepareGeometryChange()

    def boundingRect(self) -> QRectF:  # noqa: D102
        rect = self.viewRect()
        return QRectF() if rect is None else rect

    def paint(self, painter: QPainter, option, widget=None) -> None:  # noqa: D102
        view = self.viewRect()
        if view is None or view.width() <= 0 or view.height() <= 0:
            return
        transform = painter.transform()
        device = transform.mapRect(view)
        painter.resetTransform()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        levels = []  # (strength, lines) per tick level, finest last
        for axis, low, high, pixels in (
            (self._axes[0], view.left(), view.right(), device.width()),
            (self._axes[1], view.top(), view.bottom(), device.height()),
        ):
            for i, (_, values) in enumerate(axis.tickValues(low, high, pixels)):
                strength = self._alpha / (i + 1) * min(1.0, 0.05 * pixels / (len(values) + 1))
                values = np.asarray(values, dtype=np.float64)
                if axis is self._axes[0]:
                    ends = np.column_stack([values, np.full_like(values, view.top())])
                    starts = np.column_stack([values, np.full_like(values, view.bottom())])
                else:
                    ends = np.column_stack([np.full_like(values, view.left()), values])
                    starts = np.column_stack([np.full_like(values, view.right()), values])
                levels.append((strength, _map(transform, starts), _map(transform, ends)))
        for strength, starts, ends in sorted(levels, key=lambda level: level[0]):
            rgb = np.rint(255.0 - (255.0 - self._color) * strength).astype(int)
            pen = QPen(QColor(*rgb), 1.0)
            pen.setCosmetic(True)
            painter.setPen(pen)
            painter.drawLines(
                [QLineF(*a, *b) for a, b in zip(starts.tolist(), ends.tolist(), strict=True)]
            )
        painter.setTransform(transform)


class DensityImageItem(pg.GraphicsObject):
    """A premultiplied ARGB32 image stretched over a rectangle in data coordinates.

    pyqtgraph's ``ImageItem`` draws through the view's transform, whose y axis points
    down the screen; Qt's raster engine has no fast path for a flipped scaled image (5
    ms a frame here). This item keeps its rows top first and draws into the device
    rectangle its data rectangle maps to, which Qt scales on its fast path.
    """

    def __init__(self):
        super().__init__()
        self._image: QImage | None = None
        self._pixels: np.ndarray | None = None  # the buffer the QImage reads
        self._rect = QRectF()

    def set_image(self, argb32: np.ndarray, rect: QRectF) -> None:
        """Show ``argb32`` (height, width, 4), laid out as premultiplied ARGB32, over ``rect``."""
        self.prepareGeometryChange()
        height, width = argb32.shape[:2]
        self._pixels = np.ascontiguousarray(argb32)
        self._image = QImage(
            self._pixels.data, width, height, 4 * width, QImage.Format.Format_ARGB32_Premultiplied
        )
        self._rect = QRectF(rect)
        self.update()

    def clear(self) -> None:
        """Show nothing."""
        self.prepareGeometryChange()
        self._image = self._pixels = None
        self._rect = QRectF()
        self.update()

    def boundingRect(self) -> QRectF:  # noqa: D102
        return QRectF(self._rect)

    def paint(self, painter: QPainter, option, widget=None) -> None:  # noqa: D102
        if self._image is None:
            return
        transform = painter.transform()
        target = transform.mapRect(self._rect)  # normalised: top-left on the screen
        painter.resetTransform()
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
        painter.drawImage(target, self._image)
        painter.setTransform(transform)


#: Up to this many points, each is a round anti-aliased sprite; above, a square dot.
SPRITE_LIMIT = 20_000

#: Up to this many points, dots are two pixels wide; above, one.
DOT_LIMIT = 100_000

# Pen of each sigma level: (width in pixels, opacity 0-255).
_RING_STYLE = {1: (2.2, 255), 2: (1.5, 175), 3: (1.0, 110)}

#: The faintest a dying component of a variational fit is drawn (a share of full opacity).
MIN_FADE = 0.06


def weight_fade(snapshot: ModelSnapshot) -> np.ndarray:
    """How opaque each component is drawn, shape (K,), in [MIN_FADE, 1].

    A variational fit's components fade as they die out: one with its fair share of the
    weight (1/K) or more is opaque, one with less fades with the square root of its share.
    Every other trainer's components are opaque.
    """
    k = snapshot.n_components
    if snapshot.trainer != TRAINERS[3] or k == 0:
        return np.ones(k)
    share = np.clip(np.asarray(snapshot.weights, dtype=np.float64) * k, 0.0, 1.0)
    return np.clip(np.sqrt(share), MIN_FADE, 1.0)


def _sprite(color: tuple[int, int, int], radius: float = 3.5) -> QPixmap:
    size = int(2 * radius + 3)
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setBrush(QColor(*color))
    edge = QColor(*color).darker(170)
    painter.setPen(QPen(edge, 1.0))
    painter.drawEllipse(QPointF(size / 2, size / 2), radius, radius)
    painter.end()
    return pixmap


class PointCloudItem(pg.GraphicsObject):
    """Points in groups, one colour per group: no per-point brushes, no per-point objects.

    Small clouds are drawn as pixmap fragments of one round sprite per colour; large ones
    as one-pixel dots (two by two up to ``DOT_LIMIT``) from one ``QPolygonF`` per group,
    built once per change and drawn by Qt through the view transform. Either way the
    result is cached in device coordinates, so redrawing ellipses over a large cloud
    costs nothing.
    """

    def __init__(self):
        super().__init__()
        self._groups: list[tuple[np.ndarray, tuple[int, int, int]]] = []
        self._polygons: list = []
        self._n = 0
        self._bounds: QRectF | None = None
        self._pad: tuple[float, float] | None = None
        self._sprites: dict[tuple[int, int, int], QPixmap] = {}
        self._fragments = pg_internals.PrimitiveArray(QPainter.PixmapFragment, 10)
        self.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)

    def set_groups(self, groups: list[tuple[np.ndarray, tuple[int, int, int]]], bounds=None):
        """Show ``groups``: a list of (points (m, 2), colour (r, g, b)).

        ``bounds`` (x_min, y_min, x_max, y_max) of all the points, if known, saves a pass
        over them.
        """
        self.prepareGeometryChange()
        self._groups = [(g, c) for g, c in groups if g.shape[0]]
        self._n = sum(g.shape[0] for g, _ in self._groups)
        self._polygons = []
        if self._n > SPRITE_LIMIT:
            for points, _ in self._groups:
                polygon = fn.create_qpolygonf(points.shape[0])
                fn.ndarray_from_qpolygonf(polygon)[:] = points
                self._polygons.append(polygon)
        if self._n:
            if bounds is None:
                lows = np.min([g.min(axis=0) for g, _ in self._groups], axis=0)
                highs = np.max([g.max(axis=0) for g, _ in self._groups], axis=0)
                bounds = (lows[0], lows[1], highs[0], highs[1])
            x0, y0, x1, y1 = (float(b) for b in bounds)
            self._bounds = QRectF(x0, y0, x1 - x0, y1 - y0)
        else:
            self._bounds = None
        self.update()

    @property
    def n_points(self) -> int:
        """Points shown."""
        return self._n

    def boundingRect(self) -> QRectF:  # noqa: D102
        if self._bounds is None:
            return QRectF()
        if self._pad is None:
            pad = 8  # pixels
            px = self.pixelLength(pg.Point(1, 0)) or 0.0
            py = self.pixelLength(pg.Point(0, 1)) or 0.0
            self._pad = (pad * px, pad * py)
        px, py = self._pad
        return self._bounds.adjusted(-px, -py, px, py)

    def viewTransformChanged(self) -> None:  # noqa: D102
        self._pad = None
        self.prepareGeometryChange()

    def paint(self, painter: QPainter, option, widget=None) -> None:  # noqa: D102
        if not self._n:
            return
        transform = painter.transform()
        if self._n <= SPRITE_LIMIT:
            painter.resetTransform()
            for points, color in self._groups:
                sprite = self._sprites.get(color)
                if sprite is None:
                    sprite = self._sprites[color] = _sprite(color)
                device = _map(transform, points)
                self._fragments.resize(device.shape[0])
                frags = self._fragments.ndarray()
                frags[:, 0:2] = device
                frags[:, 2:6] = (0, 0, sprite.width(), sprite.height())
                frags[:, 6:10] = (1.0, 1.0, 0.0, 1.0)
                painter.drawPixmapFragments(*self._fragments.drawargs(), sprite)
            return
        # One-pixel dots are Qt's fast path (wider pens are several times slower), so
        # bigger dots are drawn as shifted copies.
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        shifts = ((0, 0),) if self._n > DOT_LIMIT else ((0, 0), (1, 0), (0, 1), (1, 1))
        for polygon, (_, color) in zip(self._polygons, self._groups, strict=True):
            pen = QPen(QColor(*color), 1.0)
            pen.setCosmetic(True)
            painter.setPen(pen)
            for dx, dy in shifts:
                painter.setTransform(transform * QTransform.fromTranslate(dx, dy))
                painter.drawPoints(polygon)
        painter.setTransform(transform)


#: Soft colours are rounded to this many levels per channel, so that points share sprites.
SOFT_COLOR_LEVELS = 32


def soft_groups(
    points: np.ndarray, snapshot: ModelSnapshot, pair: tuple[int, int] = FIRST_PAIR
) -> list:
    """Points grouped by their mixed colour: each component's colour by responsibility.

    Responsibilities are those in all D columns of ``points`` (n, D) under ``snapshot``;
    each group's points are returned in columns ``pair``, shape (m, 2).
    """
    resp = responsibilities(points, snapshot.weights, snapshot.means, snapshot.covariances)
    points = project_points(points, pair)
    palette = np.array([component_color(slot) for slot in snapshot.colors], dtype=np.float64)
    step = 255.0 / (SOFT_COLOR_LEVELS - 1)
    mixed = np.rint(resp @ palette / step).astype(np.int64)  # [n, 3] quantised
    keys = (mixed[:, 0] * SOFT_COLOR_LEVELS + mixed[:, 1]) * SOFT_COLOR_LEVELS + mixed[:, 2]
    unique, inverse = np.unique(keys, return_inverse=True)
    order = np.argsort(inverse, kind="stable")
    bounds = np.searchsorted(inverse[order], np.arange(unique.shape[0] + 1))
    groups = []
    for g in range(unique.shape[0]):
        members = order[bounds[g] : bounds[g + 1]]
        rgb = tuple(int(min(255, round(v * step))) for v in mixed[members[0]])
        groups.append((points[members], rgb))
    return groups


def _map(transform, points: np.ndarray) -> np.ndarray:
    """Data to device coordinates with an affine ``QTransform``, shape (n, 2)."""
    out = np.empty_like(points)
    x, y = points[:, 0], points[:, 1]
    out[:, 0] = transform.m11() * x + transform.m21() * y + transform.dx()
    out[:, 1] = transform.m12() * x + transform.m22() * y + transform.dy()
    np.clip(out, -(2**30), 2**30, out=out)
    return out


class EllipsesItem(pg.PlotCurveItem):
    """All covariance ellipses as one curve item with a ``connect`` array.

    ``setData`` receives every ring end to end; painting strokes each component's rings
    in its colour (thicker and more opaque at 1 sd) and fills the 1-sd ellipse with an
    opacity that follows the component's weight. ``line_style`` strokes every ring (the
    trainer's style in "Compare all"); collapsed components are drawn dashed (dash-dot
    when the line style is dashed already) and not filled.
    """

    def __init__(self, line_style: Qt.PenStyle = Qt.PenStyle.SolidLine, fill: bool = True):
        # The pen only sizes the bounding rectangle (painting uses per-component pens):
        # as wide as the widest of those, so antialiased edges are never clipped.
        super().__init__(antialias=True, pen=pg.mkPen(width=3))
        self.line_style = line_style
        self.fill = fill
        self._strokes: list[tuple[QPainterPath, QPen]] = []
        self._fills: list[tuple[QPainterPath, QBrush]] = []
        # Antialiased rings cost several milliseconds: a pan only moves the cached pixmap.
        self.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)

    def set_snapshot(self, snapshot: ModelSnapshot) -> None:
        """Draw the outlines of ``snapshot``."""
        scene = self.scene()
        if scene is not None:
            # The old rings' area, to erase: Qt does not always repaint an item's former
            # bounding rectangle when its geometry changes (stale rings stayed on screen).
            scene.update(self.sceneBoundingRect())
        x, y = snapshot.outline_x, snapshot.outline_y
        if x.shape[0] == 0:
            self._strokes, self._fills = [], []
            self.setData(x=np.zeros(0), y=np.zeros(0))
            return
        self.setData(x=x, y=y, connect=snapshot.outline_connect)
        n_rings = snapshot.ring_component.shape[0]
        n_vertices = x.shape[0] // n_rings
        n_levels = len(SIGMA_LEVELS)
        strokes, fills = [], []
        collapsed = set(snapshot.collapsed)
        fade = weight_fade(snapshot)
        collapsed_style = (
            Qt.PenStyle.DashLine
            if self.line_style == Qt.PenStyle.SolidLine
            else Qt.PenStyle.DashDotLine
        )
        for ring in range(n_rings):
            component = int(snapshot.ring_component[ring])
            level = SIGMA_LEVELS[ring % n_levels]
            part = slice(ring * n_vertices, (ring + 1) * n_vertices)
            path = fn.arrayToQPath(x[part], y[part], connect="all")
            color = QColor(*component_color(snapshot.colors[component]))
            width, alpha = _RING_STYLE.get(level, (1.0, 100))
            color.setAlpha(int(alpha * fade[component]))
            pen = QPen(color.darker(150), width)  # darker than the points it crosses
            pen.setCosmetic(True)
            pen.setStyle(collapsed_style if component in collapsed else self.line_style)
            strokes.append((path, pen))
            if level == SIGMA_LEVELS[0] and self.fill and component not in collapsed:
                fill = QColor(*component_color(snapshot.colors[component]))
                fill.setAlpha(int((20 + 90 * float(snapshot.weights[component])) * fade[component]))
                fills.append((path, QBrush(fill)))
        self._strokes, self._fills = strokes, fills
        self.update()

    def paint(self, painter: QPainter, option, widget=None) -> None:  # noqa: D102
        if not self._strokes:
            return
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setPen(Qt.PenStyle.NoPen)
        for path, brush in self._fills:
            painter.fillPath(path, brush)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        for path, pen in self._strokes:
            painter.setPen(pen)
            painter.drawPath(path)
