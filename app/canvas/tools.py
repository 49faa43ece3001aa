"""Canvas tools: add, brush, move, erase and jitter, as in Orange's Paint Data widget.

:class:`CanvasTools` owns the tools' actions (checkable, one checked at a time), their
options (radius in screen pixels, intensity) and what each stroke does to the session.
A stroke (press, drags, release) edits the session live, so the model follows while the
mouse moves, and becomes one command on the undo stack when the button is released
(:meth:`app.state.session.Session.begin_stroke`). The Add tool is the canvas's own click
(every click counts, double-clicks included); the others take the left button from
pyqtgraph, which keeps the wheel, the middle button (pan) and the right button (its
view menu).
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject, QRectF, Qt, QTimer, Slot
from PySide6.QtGui import QAction, QActionGroup, QKeySequence, QPen
from PySide6.QtWidgets import QGraphicsEllipseItem, QGraphicsRectItem, QLabel, QSpinBox, QToolBar

from ..state.session import Session
from .widget import Canvas

#: Tool names, in tool-bar order, with their titles, shortcut keys and tips.
TOOLS = {
    "add": ("Add", "A", "Click to add a point"),
    "brush": ("Brush", "B", "Press and drag to spray points around the cursor"),
    "move": ("Move", "M", "Drag a point, or drag a box to select points and then drag them"),
    "erase": ("Erase", "E", "Click or drag over points to delete them"),
    "jitter": ("Jitter", "J", "Press and drag to nudge the points under the cursor"),
}

#: A press this close to a point (in screen pixels) picks it for the Move tool.
PICK_PIXELS = 8.0

#: While the button is held still, Brush and Jitter act again this often.
REPEAT_MS = 100

_SELECTION_PEN = pg.mkPen(0, 0, 0, width=1.5)


def plural(n: int, word: str) -> str:
    """``"1 Point"``, ``"3 Points"``."""
    return f"{n:,} {word}{'s' if n != 1 else ''}"


class CanvasTools(QObject):
    """The tools of one canvas and session.

    Attributes
    ----------
    actions : dict of str to QAction
        Checkable, exclusive, keyed by :data:`TOOLS`'s names; ``"add"`` at first.
    radius_spin, intensity_spin : QSpinBox
        The brush radius in screen pixels, and the intensity (points per dab for Brush,
        nudge strength for Jitter).
    tool_bar : QToolBar
    """

    def __init__(self, canvas: Canvas, session: Session, parent=None, seed: int = 0):
        super().__init__(parent)
        self.canvas = canvas
        self.session = session
        self.rng = np.random.default_rng(seed)
        self.tool = "add"
        self.selection = np.zeros(0, dtype=np.int64)  # indices, for the Move tool
        self._stroke: dict | None = None  # state of the stroke under way
        self._repeat = QTimer(self)
        self._repeat.setInterval(REPEAT_MS)
        self._repeat.timeout.connect(self._on_repeat)

        group = QActionGroup(self)
        group.setExclusive(True)
        self.actions: dict[str, QAction] = {}
        for name, (title, key, tip) in TOOLS.items():
            action = QAction(title, self)
            action.setCheckable(True)
            action.setShortcut(QKeySequence(key))
            action.setToolTip(f"{title} ({key}): {tip}")
            action.setStatusTip(tip)
            action.setData(name)
            group.addAction(action)
            self.actions[name] = action
        self.actions["add"].setChecked(True)
        group.triggered.connect(self._on_tool_triggered)

        self.radius_spin = QSpinBox()
        self.radius_spin.setRange(2, 300)
        self.radius_spin.setValue(30)
        self.radius_spin.setSuffix(" px")
        self.radius_spin.setToolTip("Radius of Brush, Erase and Jitter, in screen pixels")
        self.intensity_spin = QSpinBox()
        self.intensity_spin.setRange(1, 100)
        self.intensity_spin.setValue(10)
        self.intensity_spin.setToolTip(
            "Brush: points per dab (a dab on press, per radius dragged, and ten a second "
            "while held); Jitter: how far points are nudged"
        )
        self.tool_bar = QToolBar("Tools")
        self.tool_bar.setObjectName("tools")
        self.tool_bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.tool_bar.addActions(list(self.actions.values()))
        self.tool_bar.addSeparator()
        self.tool_bar.addWidget(QLabel(" Radius "))
        self.tool_bar.addWidget(self.radius_spin)
        self.tool_bar.addWidget(QLabel(" Intensity "))
        self.tool_bar.addWidget(self.intensity_spin)

        # Overlays: the brush outline under the cursor, the rubber band, the selection.
        self._outline = QGraphicsEllipseItem()
        pen = QPen(Qt.GlobalColor.darkGray, 1.0, Qt.PenStyle.DashLine)
        pen.setCosmetic(True)
        self._outline.setPen(pen)
        self._outline.setVisible(False)
        self._band = QGraphicsRectItem()
        band_pen = QPen(Qt.GlobalColor.darkBlue, 1.0, Qt.PenStyle.DashLine)
        band_pen.setCosmetic(True)
        self._band.setPen(band_pen)
        self._band.setBrush(pg.mkBrush(0, 0, 160, 30))
        self._band.setVisible(False)
        self._selected = pg.ScatterPlotItem(
            size=12, pen=_SELECTION_PEN, brush=pg.mkBrush(None), pxMode=True
        )
        for z, item in ((20, self._outline), (21, self._band), (19, self._selected)):
            item.setZValue(z)
            canvas.view_box.addItem(item, ignoreBounds=True)

        canvas.stroke_started.connect(self._on_started)
        canvas.stroke_moved.connect(self._on_moved)
        canvas.stroke_ended.connect(self._on_ended)
        canvas.hovered.connect(self._on_hovered)
        canvas.left.connect(self._on_left)
        session.changed.connect(self._on_session_changed)

    # -- choosing a tool ---------------------------------------------------------------

    def set_tool(self, name: str) -> None:
        """Make ``name`` (one of :data:`TOOLS`) the current tool."""
        if name not in TOOLS:
            raise KeyError(f"Unknown tool {name!r}; choose one of {', '.join(TOOLS)}.")
        self.finish_stroke()
        self.tool = name
        self.actions[name].setChecked(True)
        self.canvas.drag_tool = name != "add"
        cursor = {
            "add": Qt.CursorShape.CrossCursor,
            "move": Qt.CursorShape.OpenHandCursor,
        }.get(name, Qt.CursorShape.CrossCursor)
        self.canvas.viewport().setCursor(cursor)
        self._outline.setVisible(False)
        if name != "move":
            self._set_selection(np.zeros(0, dtype=np.int64))

    def set_editable(self, editable: bool) -> None:
        """Enable the tools and the canvas's clicks, or disable them (plain arrow cursor).

        Off for points of more than two columns, whose other coordinates a click
        cannot give; Add is then the current tool again.
        """
        self.finish_stroke()
        if not editable:
            self.set_tool("add")
        for widget in (*self.actions.values(), self.radius_spin, self.intensity_spin):
            widget.setEnabled(editable)
        self.canvas.clicks_enabled = editable
        if editable:
            self.set_tool(self.tool)
        else:
            self.canvas.viewport().setCursor(Qt.CursorShape.ArrowCursor)

    @property
    def editable(self) -> bool:
        """Whether the tools and the canvas's clicks are on."""
        return self.canvas.clicks_enabled

    @Slot(QAction)
    def _on_tool_triggered(self, action: QAction) -> None:
        self.set_tool(action.data())

    def finish_stroke(self) -> None:
        """End a stroke under way (the tool changed, the window closes)."""
        if self._stroke is not None:
            self._end(*self._stroke["last"])

    # -- strokes -------------------------------------------------------------------------

    def _radius(self) -> float:
        """The tool radius in data units."""
        return self.radius_spin.value() * self.canvas.pixel_size()

    @Slot(float, float)
    def _on_started(self, x: float, y: float) -> None:
        if self._stroke is not None:
            return
        self.session.begin_stroke()
        self._stroke = {
            "start": (x, y),
            "last": (x, y),
            "touched": set(),
            "band": False,
            "n_before": len(self.session),
        }
        if self.tool == "brush":
            self._spray(x, y, self.intensity_spin.value())
            self._repeat.start()
        elif self.tool == "erase":
            self._erase(x, y)
        elif self.tool == "jitter":
            self._jitter(x, y)
            self._repeat.start()
        elif self.tool == "move":
            self._start_move(x, y)

    @Slot(float, float)
    def _on_moved(self, x: float, y: float) -> None:
        stroke = self._stroke
        if stroke is None:
            return
        last = stroke["last"]
        stroke["last"] = (x, y)
        self._show_outline(x, y)
        if self.tool == "brush":
            radius = self._radius()
            travelled = float(np.hypot(x - last[0], y - last[1]))
            stroke["travel"] = stroke.get("travel", 0.0) + travelled
            dabs = int(stroke["travel"] // max(radius, 1e-300))
            if dabs:
                stroke["travel"] -= dabs * radius
                self._spray(x, y, dabs * self.intensity_spin.value())
        elif self.tool == "erase":
            self._erase(x, y)
        elif self.tool == "jitter":
            self._jitter(x, y)
        elif self.tool == "move":
            self._drag_move(x, y)

    @Slot(float, float)
    def _on_ended(self, x: float, y: float) -> None:
        if self._stroke is not None:
            self._on_moved(x, y)
            self._end(x, y)

    def _end(self, x: float, y: float) -> None:
        stroke, self._stroke = self._stroke, None
        self._repeat.stop()
        n_before = stroke["n_before"]
        n_after = len(self.session)
        if self.tool == "brush":
            text = f"Brush Stroke ({plural(n_after - n_before, 'Point')})"
        elif self.tool == "erase":
            text = f"Erase {plural(n_before - n_after, 'Point')}"
        elif self.tool == "jitter":
            text = f"Jitter {plural(len(stroke['touched']), 'Point')}"
        else:
            text = f"Move {plural(len(stroke.get('indices', ())), 'Point')}"
        self.session.end_stroke(text)
        if self.tool == "move" and stroke["band"]:
            self._finish_band(stroke["start"], (x, y))

    @Slot()
    def _on_repeat(self) -> None:
        if self._stroke is None:
            self._repeat.stop()
            return
        x, y = self._stroke["last"]
        if self.tool == "brush":
            self._spray(x, y, self.intensity_spin.value())
        elif self.tool == "jitter":
            self._jitter(x, y)

    # -- what each tool does ---------------------------------------------------------------

    def _spray(self, x: float, y: float, n: int) -> None:
        """``n`` points uniform in the disc of the tool radius around (x, y)."""
        radius = self._radius()
        r = radius * np.sqrt(self.rng.uniform(size=n))
        angle = self.rng.uniform(0.0, 2.0 * np.pi, size=n)
        points = np.column_stack([x + r * np.cos(angle), y + r * np.sin(angle)])
        self.session.stroke_append(points)

    def _under(self, x: float, y: float, radius: float) -> np.ndarray:
        """Indices of the points within ``radius`` of (x, y)."""
        points = self.session.points
        d2 = (points[:, 0] - x) ** 2 + (points[:, 1] - y) ** 2
        return np.flatnonzero(d2 <= radius * radius)

    def _erase(self, x: float, y: float) -> None:
        # A click erases at least the nearest point within the pick distance.
        radius = max(self._radius(), PICK_PIXELS * self.canvas.pixel_size())
        hit = self._under(x, y, radius)
        if hit.shape[0]:
            self.session.stroke_set(np.delete(self.session.points, hit, axis=0))

    def _jitter(self, x: float, y: float) -> None:
        radius = self._radius()
        hit = self._under(x, y, radius)
        if hit.shape[0] == 0:
            return
        self._stroke["touched"].update(hit.tolist())
        points = np.array(self.session.points)
        scale = radius * self.intensity_spin.value() / 200.0
        points[hit] += self.rng.normal(0.0, scale, size=(hit.shape[0], 2))
        self.session.stroke_set(points)

    def _start_move(self, x: float, y: float) -> None:
        points = self.session.points
        stroke = self._stroke
        if points.shape[0]:
            d2 = (points[:, 0] - x) ** 2 + (points[:, 1] - y) ** 2
            nearest = int(np.argmin(d2))
            pick = PICK_PIXELS * self.canvas.pixel_size()
            if d2[nearest] <= pick * pick:
                if nearest in set(self.selection.tolist()):
                    stroke["indices"] = self.selection
                else:
                    stroke["indices"] = np.array([nearest])
                    self._set_selection(np.zeros(0, dtype=np.int64))
                stroke["before"] = points
                self.canvas.viewport().setCursor(Qt.CursorShape.ClosedHandCursor)
                return
        stroke["band"] = True  # a rubber band: select the points inside on release
        self._band.setRect(QRectF(x, y, 0, 0))
        self._band.setVisible(True)

    def _drag_move(self, x: float, y: float) -> None:
        stroke = self._stroke
        if stroke["band"]:
            x0, y0 = stroke["start"]
            self._band.setRect(QRectF(min(x0, x), min(y0, y), abs(x - x0), abs(y - y0)))
            return
        indices = stroke.get("indices")
        if indices is None:
            return
        before = stroke["before"]
        delta = np.array([x - stroke["start"][0], y - stroke["start"][1]])
        points = np.array(before)
        points[indices] = before[indices] + delta
        self.session.stroke_set(points)
        if self.selection.shape[0]:
            self._selected.setData(pos=points[self.selection])

    def _finish_band(self, start, end) -> None:
        self._band.setVisible(False)
        self.canvas.viewport().setCursor(Qt.CursorShape.OpenHandCursor)
        (x0, y0), (x1, y1) = start, end
        points = self.session.points
        inside = (
            (points[:, 0] >= min(x0, x1))
            & (points[:, 0] <= max(x0, x1))
            & (points[:, 1] >= min(y0, y1))
            & (points[:, 1] <= max(y0, y1))
        )
        self._set_selection(np.flatnonzero(inside))

    def _set_selection(self, indices: np.ndarray) -> None:
        self.selection = indices
        points = self.session.points
        self._selected.setData(pos=points[indices] if indices.shape[0] else np.zeros((0, 2)))

    @Slot()
    def _on_session_changed(self) -> None:
        # An edit from elsewhere (undo, clear, open) makes the selected indices stale.
        if self._stroke is None and self.selection.shape[0]:
            self._set_selection(np.zeros(0, dtype=np.int64))

    # -- the outline under the cursor ------------------------------------------------------

    def _show_outline(self, x: float, y: float) -> None:
        if self.tool in ("brush", "erase", "jitter"):
            r = self._radius()
            self._outline.setRect(QRectF(x - r, y - r, 2 * r, 2 * r))
            self._outline.setVisible(True)

    @Slot(float, float)
    def _on_hovered(self, x: float, y: float) -> None:
        self._show_outline(x, y)

    @Slot()
    def _on_left(self) -> None:
        self._outline.setVisible(False)
