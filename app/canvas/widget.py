"""The canvas: a pyqtgraph plot where clicks add points and snapshots are drawn.

Drawing is cheap by construction (see :mod:`app.canvas.plot_items`): points are grouped by
component in the worker and drawn with one sprite (or one pen) per component; all
ellipses are one curve item updated with ``setData``. Above
:data:`app.state.messages.DENSITY_ABOVE` points, one density image binned in a background
thread stands for them (:mod:`app.canvas.point_histogram_layer`).
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor, QMouseEvent
from PySide6.QtWidgets import QLabel

from ..state import messages
from ..state.geometry import column_ranges
from ..state.messages import ModelSnapshot
from ..state.palette import TRAINER_STYLES, UNASSIGNED_COLOR, component_color
from .gestures import PlotGestures
from .plot_items import EllipsesItem, GridItem, PointCloudItem, soft_groups, weight_fade
from .point_histogram_layer import PointDensityLayer
from .projection import ShownPair

#: Opacity of the points added after a moment of the history that is shown.
LATER_OPACITY = 0.22

#: The view a new canvas shows, in data units.
DEFAULT_RANGE = (-10.0, 10.0)


class Canvas(pg.PlotWidget):
    """Equal-scale plot with a grid; a left click adds a point where it was clicked.

    A left press and release that moves less than the platform's drag distance is one
    click, emitted as :attr:`point_clicked` at the press position, however fast the
    clicks come; moving further pans (see :class:`app.canvas.gestures.PlotGestures`, which tells
    them apart). The wheel and the right button (drag to zoom, click for the menu) are
    pyqtgraph's; clicks on the axes add nothing.

    Points of D > 2 columns are shown in two of them (:attr:`pair`, see
    :meth:`set_pair`), with the model's marginal there (:func:`app.canvas.projection
    .marginal_snapshot`); with :attr:`clicks_enabled` off, a click adds nothing.
    """

    point_clicked = Signal(float, float)  # x, y in data coordinates
    # With ``drag_tool`` set (every tool but Add), the left button is the tool's: a press
    # in the plot area starts a stroke, moves continue it, the release ends it; the left
    # button then does not pan (the middle button and the wheel still do).
    stroke_started = Signal(float, float)  # x, y in data coordinates
    stroke_moved = Signal(float, float)  # x, y in data coordinates
    stroke_ended = Signal(float, float)  # x, y in data coordinates
    hovered = Signal(float, float)  # x, y in data coordinates, cursor over the plot area
    left = Signal()  # the cursor left the plot area
    pair_changed = Signal()  # another pair of columns is shown (see set_pair)

    def __init__(self, parent=None):
        super().__init__(parent, background="w")
        self.plot_item = self.getPlotItem()
        self.view_box = self.plot_item.getViewBox()
        self.view_box.setAspectLocked(True, ratio=1.0)
        for name in ("left", "bottom"):
            axis = self.plot_item.getAxis(name)
            axis.setPen(pg.mkPen(110, 110, 110))
            axis.setTextPen(pg.mkPen(60, 60, 60))
        # The grid under the data, not the axes' translucent one over it (see GridItem).
        self.grid_item = GridItem(self.plot_item.getAxis("bottom"), self.plot_item.getAxis("left"))
        self.grid_item.setZValue(-1.5)  # over the density map's heat map, under its contours
        self.view_box.addItem(self.grid_item, ignoreBounds=True)
        self.plot_item.hideButtons()
        self.disableAutoRange()
        self.view_box.setRange(xRange=DEFAULT_RANGE, yRange=DEFAULT_RANGE, padding=0)

        self.points_item = PointCloudItem()
        self.pending_item = PointCloudItem()  # points added, not yet answered for
        self.later_item = PointCloudItem()  # scrubbed back in history: points added since
        self.later_item.setOpacity(LATER_OPACITY)
        self.later_item.setZValue(-0.5)
        self.view_box.addItem(self.later_item, ignoreBounds=True)
        self.ellipses_item = EllipsesItem()
        self.means_item = pg.ScatterPlotItem(size=14, symbol="d", pen=pg.mkPen("k", width=1.5))
        # Ellipses above the points, so that they stay visible over dense data.
        for z, item in enumerate(
            (self.points_item, self.pending_item, self.ellipses_item, self.means_item)
        ):
            item.setZValue(z)
            self.view_box.addItem(item, ignoreBounds=True)
        self.point_density = PointDensityLayer(self)  # in place of the dots of many points
        self.point_density.image_item.setZValue(self.points_item.zValue())
        self._weight_labels: list[pg.TextItem] = []
        self._mean_brushes: dict[int, QBrush] = {}
        # Collapsed components: a warning marker at the mean.
        self.collapsed_item = pg.ScatterPlotItem(
            size=22, symbol="t1", pen=pg.mkPen(200, 0, 0, width=2), brush=pg.mkBrush(255, 230, 0)
        )
        self.collapsed_item.setZValue(5)
        self.view_box.addItem(self.collapsed_item, ignoreBounds=True)
        # "Compare all": the other trainers' ellipses, in their line styles.
        self.primary_trainer = next(iter(TRAINER_STYLES))
        self.trainer_ellipses: dict[str, EllipsesItem] = {}
        self.trainer_snapshots: dict[str, ModelSnapshot] = {}

        self.hint = QLabel("Click to add points", self)
        self.hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.hint.setStyleSheet("color: rgb(130, 130, 130); font-size: 18px;")
        self.hint.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)

        self.gestures = PlotGestures(self, self.view_box, self)
        self.gestures.clicked.connect(self.point_clicked)
        self.gestures.stroke_started.connect(self.stroke_started)
        self.gestures.stroke_moved.connect(self.stroke_moved)
        self.gestures.stroke_ended.connect(self.stroke_ended)
        self.gestures.hovered.connect(self.hovered)
        self.gestures.left.connect(self.left)
        self.drag_tool = False  # the left button strokes a tool instead of clicking
        self.snapshot: ModelSnapshot | None = None
        self._drawn_grouped: np.ndarray | None = None  # the grouping points_item shows
        self.soft_colors = False  # points mix their components' colours
        self.shown = ShownPair()  # the columns shown along x and y, and the model there
        self.clicks_enabled = True  # a click adds a point (off: points of D > 2 columns)

    # -- input ---------------------------------------------------------------------------

    # Qt calls these for events on the viewport (QAbstractScrollArea.viewportEvent); the
    # gestures pass each on to pyqtgraph, which pans, zooms and opens its menu, unless it
    # belongs to a tool's stroke.

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: D102
        self.gestures.press(event, self.drag_tool, super().mousePressEvent)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:  # noqa: D102
        # Qt delivers the second press of a quick pair as this event instead of a press.
        self.gestures.press(event, self.drag_tool, super().mouseDoubleClickEvent)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: D102
        self.gestures.move(event, super().mouseMoveEvent)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: D102
        self.gestures.release(event, self.clicks_enabled, super().mouseReleaseEvent)

    def pixel_size(self) -> float:
        """One screen pixel in data units (the scales are equal)."""
        size = self.view_box.viewPixelSize()[0]
        return float(size) if size > 0 else self.view_extent() / max(1, self.width())

    def leaveEvent(self, event) -> None:  # noqa: D102
        self.left.emit()
        super().leaveEvent(event)

    def resizeEvent(self, event) -> None:  # noqa: D102
        super().resizeEvent(event)
        hint = self.__dict__.get("hint")  # resizeEvent runs inside PlotWidget.__init__
        if hint is not None:
            hint.setGeometry(0, 0, self.width(), self.height() // 2)

    # -- view ----------------------------------------------------------------------------

    def set_equal_aspect(self, on: bool, points: np.ndarray | None = None) -> None:
        """Equal scales on both axes (on) or independent scales (off), then fit ``points``.

        Ellipses are drawn in data coordinates, so they stay correct either way.
        """
        self.view_box.setAspectLocked(on, ratio=1.0)
        if points is not None and points.shape[0]:
            self.fit_view(points)

    @property
    def equal_aspect(self) -> bool:
        """Whether both axes have the same scale."""
        return bool(self.view_box.state["aspectLocked"])

    def set_soft_colors(self, on: bool, points: np.ndarray) -> None:
        """Colour points by responsibility (on) or by their most responsible component."""
        if on != self.soft_colors:
            self.soft_colors = on
            self._drawn_grouped = None
            self.show_points(self.snapshot, points)

    def view_extent(self) -> float:
        """The larger side of the visible data rectangle."""
        (x0, x1), (y0, y1) = self.view_box.viewRange()
        return float(max(x1 - x0, y1 - y0))

    def fit_view(self, points: np.ndarray) -> None:
        """Show all ``points`` (n, D) with a margin (or the default view when there are none)."""
        self.fit_bounds(*column_ranges(self.shown.points(points)))

    def fit_bounds(self, low: np.ndarray, high: np.ndarray) -> None:
        """Show the box from ``low`` to ``high`` (2,) with a margin (default view: none)."""
        if not (np.isfinite(low).all() and np.isfinite(high).all()):
            self.view_box.setRange(xRange=DEFAULT_RANGE, yRange=DEFAULT_RANGE, padding=0)
            return
        centre, half = (low + high) / 2, (high - low) / 2
        size = float(max(half.max(), 1e-12 * max(1.0, float(np.abs(centre).max())), 1e-300))
        if self.equal_aspect:
            half = np.maximum(half, size * 0.2)
        else:  # each axis fitted to its own span
            half = np.where(half > 0, half, size)
        self.view_box.setRange(
            xRange=(centre[0] - half[0], centre[0] + half[0]),
            yRange=(centre[1] - half[1], centre[1] + half[1]),
            padding=0.12,
        )

    # -- the columns shown ---------------------------------------------------------------

    @property
    def pair(self) -> tuple[int, int]:
        """The indices of the columns shown along x and y."""
        return self.shown.pair

    def set_pair(self, pair: tuple[int, int], points: np.ndarray) -> None:
        """Show columns ``pair`` of ``points`` (n, D) and the model's marginal there.

        Redraws the drawn snapshots; nothing is refitted.
        """
        self.shown.pair = (int(pair[0]), int(pair[1]))
        self._drawn_grouped = None
        if self.snapshot is not None:
            self.show_model(self.snapshot, points)
        else:
            self.show_points(None, points)
        for trainer, snapshot in self.trainer_snapshots.items():
            self.trainer_ellipses[trainer].set_snapshot(self.shown.marginal(snapshot))
        self.pair_changed.emit()

    def set_axis_names(self, x_name: str, y_name: str) -> None:
        """Label the axes with the shown columns' names."""
        self.plot_item.setLabel("bottom", x_name)
        self.plot_item.setLabel("left", y_name)

    # -- drawing -------------------------------------------------------------------------

    def show_points(self, snapshot: ModelSnapshot | None, points: np.ndarray) -> None:
        """Draw points (n, D): learnt ones in their components' colours, the rest in grey.

        The rest are points just added that the model has not answered for yet. Soft
        colours mix the components' colours by the points' responsibilities in all D
        columns. Above :data:`app.state.messages.DENSITY_ABOVE` points, a density image
        stands for them.
        """
        self.hint.setVisible(points.shape[0] == 0)
        if points.shape[0] > messages.DENSITY_ABOVE:
            for item in (self.points_item, self.pending_item):
                if item.n_points:
                    item.set_groups([])
            self._drawn_grouped = None
            self.point_density.show(points, snapshot, self.soft_colors)
            return
        self.point_density.hide()
        drawn = 0
        if snapshot is not None and snapshot.grouped_points.shape[0]:
            full = snapshot.grouped_points  # [m, D]
            if full is not self._drawn_grouped:
                self._drawn_grouped = full
                shown = self.shown.marginal(snapshot)
                grouped, starts = shown.grouped_points, shown.group_starts  # [m, 2]
                if self.soft_colors:
                    pair = self.shown.pair_for(snapshot.n_features)
                    groups = soft_groups(full, snapshot, pair)
                else:
                    groups = [
                        (grouped[starts[g] : starts[g + 1]], component_color(color))
                        for g, color in enumerate(shown.group_colors)
                    ]
                self.points_item.set_groups(groups, bounds=shown.grouped_bounds)
            drawn = full.shape[0]
        elif self.points_item.n_points:
            self._drawn_grouped = None
            self.points_item.set_groups([])
        pending = points[drawn:] if drawn <= points.shape[0] else points[:0]
        pending = self.shown.points(pending)
        if pending.shape[0] or self.pending_item.n_points:
            self.pending_item.set_groups([(pending, UNASSIGNED_COLOR)])

    def set_trainers(self, primary: str, others: tuple[str, ...] = ()) -> None:
        """Draw ``primary``'s model in full and the ellipses of ``others`` beside it."""
        self.primary_trainer = primary
        style = TRAINER_STYLES.get(primary, (None, Qt.PenStyle.SolidLine))[1]
        self.ellipses_item.line_style = style if others else Qt.PenStyle.SolidLine
        for trainer, item in self.trainer_ellipses.items():
            item.setVisible(trainer in others)
        for trainer in list(self.trainer_snapshots):
            if trainer not in others:
                del self.trainer_snapshots[trainer]

    def _trainer_item(self, trainer: str) -> EllipsesItem:
        item = self.trainer_ellipses.get(trainer)
        if item is None:
            style = TRAINER_STYLES.get(trainer, (None, Qt.PenStyle.SolidLine))[1]
            item = self.trainer_ellipses[trainer] = EllipsesItem(style, fill=False)
            item.setZValue(self.ellipses_item.zValue())
            self.view_box.addItem(item, ignoreBounds=True)
        return item

    def show_model(self, snapshot: ModelSnapshot, points: np.ndarray) -> None:
        """Draw ``snapshot`` (model and points); ``points`` are the session's current ones.

        A snapshot of another trainer than the primary one (in "Compare all") adds only
        its ellipses, in that trainer's line style.
        """
        if snapshot.trainer != self.primary_trainer:
            item = self._trainer_item(snapshot.trainer)
            item.set_snapshot(self.shown.marginal(snapshot))
            item.setVisible(True)
            self.trainer_snapshots[snapshot.trainer] = snapshot
            return
        full, snapshot = snapshot, self.shown.marginal(snapshot)
        self.ellipses_item.set_snapshot(snapshot)
        collapsed = list(snapshot.collapsed)
        self.collapsed_item.setData(pos=snapshot.means[collapsed].reshape(-1, 2))
        # Brushes reused and sizes in whole pixels: the scatter item's symbol atlas then
        # renders each marker once instead of once per snapshot.
        fade = weight_fade(snapshot)
        colors = [
            self._mean_brush(slot) if f == 1.0 else pg.mkBrush(*component_color(slot), int(255 * f))
            for slot, f in zip(snapshot.colors, fade, strict=True)
        ]
        sizes = np.rint(10 + 14 * np.sqrt(np.clip(snapshot.weights, 0, 1)))
        if snapshot.n_components:
            self.means_item.setData(pos=snapshot.means, brush=colors, size=sizes)
        else:
            self.means_item.setData(pos=np.zeros((0, 2)))
        self._show_weights(snapshot)
        self.show_points(full, points)
        self.snapshot = full

    def show_moment(self, models, points: np.ndarray, later: np.ndarray) -> None:
        """Draw a moment of the history: ``models`` (primary first) over ``points`` (n, D).

        The other trainers' models add their ellipses (``trainer_snapshots``, the live
        ones, are kept for :meth:`show_live_trainers`); ``later`` (m, D), the points added
        since, are drawn faded (not above :data:`app.state.messages.DENSITY_ABOVE`).
        """
        primary, others = models[0], models[1:]
        kept, self.primary_trainer = self.primary_trainer, primary.trainer
        try:
            self.show_model(primary, points)
        finally:
            self.primary_trainer = kept
        shown = {o.trainer for o in others}
        for trainer, item in self.trainer_ellipses.items():
            item.setVisible(trainer in shown)
        for other in others:
            self._trainer_item(other.trainer).set_snapshot(self.shown.marginal(other))
        self.show_later(later)

    def show_later(self, later: np.ndarray) -> None:
        """Draw ``later`` (m, D) faded: points added after the moment shown (empty: none)."""
        if later.shape[0] > messages.DENSITY_ABOVE:
            later = later[:0]
        if later.shape[0] or self.later_item.n_points:
            self.later_item.set_groups([(self.shown.points(later), UNASSIGNED_COLOR)])

    def show_live_trainers(self) -> None:
        """Draw the other trainers' live models again (after a moment of the history)."""
        for trainer, item in self.trainer_ellipses.items():
            snapshot = self.trainer_snapshots.get(trainer)
            item.setVisible(snapshot is not None)
            if snapshot is not None:
                item.set_snapshot(self.shown.marginal(snapshot))

    def forget_model(self) -> None:
        """Draw no model (the points now have other columns); points go grey."""
        for trainer in list(self.trainer_snapshots):
            self.trainer_ellipses[trainer].setVisible(False)
        self.trainer_snapshots.clear()
        self.snapshot = None
        self.show_model(ModelSnapshot(-1, 0, trainer=self.primary_trainer), np.zeros((0, 2)))
        self.snapshot = None

    def _mean_brush(self, slot: int) -> QBrush:
        brush = self._mean_brushes.get(int(slot))
        if brush is None:
            brush = self._mean_brushes[int(slot)] = pg.mkBrush(*component_color(slot))
        return brush

    def _show_weights(self, snapshot: ModelSnapshot) -> None:
        while len(self._weight_labels) < snapshot.n_components:
            label = pg.TextItem(anchor=(-0.2, 1.15), fill=pg.mkBrush(255, 255, 255, 140))
            label.setZValue(10)
            self.view_box.addItem(label, ignoreBounds=True)
            self._weight_labels.append(label)
        for k, label in enumerate(self._weight_labels):
            if k < snapshot.n_components:
                color = QColor(*component_color(snapshot.colors[k])).darker(140)
                label.setText(f"{100 * snapshot.weights[k]:.0f}%", color=color)
                label.setPos(*snapshot.means[k])
                label.setVisible(True)
            else:
                label.setVisible(False)
