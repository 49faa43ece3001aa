"""The mouse over a plot, as gestures: hovering, a left click, a tool's stroke.

:class:`PlotGestures` tells a click from a drag by the platform's drag distance, and,
with a drag tool on, turns the left button's press, moves and release into a stroke.
The plot widget hands it each mouse event together with pyqtgraph's own handler, which
it calls for every event that is not a stroke's: pyqtgraph still pans, zooms and opens
its menu.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject, QPointF, Qt, Signal
from PySide6.QtGui import QGuiApplication, QMouseEvent

#: pyqtgraph's handler of a mouse event, called for the events a gesture passes on.
PassOn = Callable[[QMouseEvent], None]


class PlotGestures(QObject):
    """Clicks, strokes and hovering of the left button on ``view``'s plot area.

    Every left press and release in the plot area that moves less than the platform's
    drag distance is one click, emitted as :attr:`clicked` at the press position,
    however fast the clicks come: the second press of a double-click is a press like any
    other. (pyqtgraph's ``sigMouseClicked`` cannot serve: it reports that second press as
    a "double" event in place of a click, so counting its clicks loses every other one.)
    Moving further pans, as in any pyqtgraph plot, and pyqtgraph's drag threshold is set
    to the same distance, so a gesture is a click or a drag, never both. Presses with
    other buttons, and presses on the axes, are no clicks.

    With strokes on (every tool but Add), a left press in the plot area starts a stroke,
    moves continue it, the release ends it; the left button then does not pan (the
    middle button and the wheel still do).

    Parameters
    ----------
    view : pg.PlotWidget
        The widget whose viewport receives the mouse events; its scene's drag threshold
        is set to the click distance.
    view_box : pg.ViewBox
        The plot area: its rectangle bounds the gestures, its coordinates are the data's.
    parent : QObject, optional
    """

    clicked = Signal(float, float)  # x, y in data coordinates, where the click was pressed
    stroke_started = Signal(float, float)  # x, y in data coordinates
    stroke_moved = Signal(float, float)  # x, y in data coordinates
    stroke_ended = Signal(float, float)  # x, y in data coordinates
    hovered = Signal(float, float)  # x, y in data coordinates, cursor over the plot area
    left = Signal()  # the cursor left the plot area

    def __init__(self, view: pg.PlotWidget, view_box: pg.ViewBox, parent: QObject | None = None):
        super().__init__(parent)
        self._view = view
        self._view_box = view_box
        # One threshold for both sides: below it a gesture is our click, above it
        # pyqtgraph's drag; pyqtgraph's other trigger (any movement once the button has
        # been held half a second) would pan by a pixel of jitter under a click.
        self._click_slop = float(QGuiApplication.styleHints().startDragDistance())
        scene = view.scene()
        scene.setMoveDistance(self._click_slop)
        scene.minDragTime = float("inf")
        self._press: tuple[QPointF, float, float] | None = None  # viewport pos, data x, y
        self._stroking = False
        scene.sigMouseMoved.connect(self._on_move)

    # -- the events, as the plot widget receives them --------------------------------------

    def press(self, event: QMouseEvent, strokes: bool, pass_on: PassOn) -> None:
        """A press, or Qt's double-click (the second press of a quick pair).

        Parameters
        ----------
        event : QMouseEvent
            The press, in viewport coordinates.
        strokes : bool
            Whether the left button strokes a tool instead of clicking.
        pass_on : callable
            pyqtgraph's handler of ``event``; a stroke's press does not reach it.
        """
        if self._begin_stroke(event, strokes):
            return
        self._begin_click(event)
        pass_on(event)
        if self._press is not None:
            event.accept()  # ours, whatever pyqtgraph's items made of it

    def move(self, event: QMouseEvent, pass_on: PassOn) -> None:
        """A move: a stroke's next point, or pyqtgraph's (a click moved too far is a drag)."""
        if self._stroking:
            x, y = self._data_at(event.position())
            event.accept()
            self.stroke_moved.emit(x, y)
            self.hovered.emit(x, y)
            return
        if self._press is not None and not self._near_press(event.position()):
            self._press = None  # a drag, not a click
        pass_on(event)

    def release(self, event: QMouseEvent, clicks: bool, pass_on: PassOn) -> None:
        """A release: the end of a stroke, or of a click when ``clicks`` are on."""
        if self._stroking:
            if event.button() == Qt.MouseButton.LeftButton:
                self._stroking = False
                event.accept()
                self.stroke_ended.emit(*self._data_at(event.position()))
            return
        press, self._press = self._press, None
        pass_on(event)
        if (
            press is not None
            and clicks
            and event.button() == Qt.MouseButton.LeftButton
            and self._near_press(event.position(), press)
        ):
            event.accept()
            self.clicked.emit(press[1], press[2])

    # -- telling them apart -----------------------------------------------------------------

    def _begin_click(self, event: QMouseEvent) -> None:
        """Start a click at a left press (or double-click) alone in the plot area."""
        left = Qt.MouseButton.LeftButton
        if event.button() != left or event.buttons() != left:
            self._press = None  # another button is involved: not a click
            return
        if event.type() == event.Type.MouseButtonDblClick and self._press is not None:
            return  # a platform that sends both a press and a double-click for one press
        pos = event.position()
        scene_pos = self._scene_at(pos)
        if not self._in_plot_area(scene_pos):
            self._press = None
            return
        data = self._view_box.mapSceneToView(scene_pos)
        self._press = (QPointF(pos), float(data.x()), float(data.y()))

    def _begin_stroke(self, event: QMouseEvent, strokes: bool) -> bool:
        """Start a tool stroke at a left press in the plot area, if ``strokes`` are on."""
        if not strokes:
            return False
        if self._stroking:  # a second press of the left button while stroking
            event.accept()
            return True
        left = Qt.MouseButton.LeftButton
        if event.button() != left or event.buttons() != left:
            return False  # middle drag pans, right opens the menu or zooms
        pos = event.position()
        if not self._in_plot_area(self._scene_at(pos)):
            return False
        self._press = None
        self._stroking = True
        event.accept()
        self.stroke_started.emit(*self._data_at(pos))
        return True

    def _near_press(self, pos: QPointF, press=None) -> bool:
        """Whether ``pos`` is within the click distance of the press (pyqtgraph's measure)."""
        delta = pos - (press or self._press)[0]
        return float(np.hypot(delta.x(), delta.y())) < self._click_slop

    def _on_move(self, scene_pos) -> None:
        if self._in_plot_area(scene_pos):
            data = self._view_box.mapSceneToView(scene_pos)
            self.hovered.emit(float(data.x()), float(data.y()))
        else:
            self.left.emit()

    # -- coordinates ----------------------------------------------------------------------

    def _scene_at(self, pos: QPointF) -> QPointF:
        """Scene coordinates of a viewport position."""
        return self._view.viewportTransform().inverted()[0].map(pos)

    def _in_plot_area(self, scene_pos) -> bool:
        return self._view_box.sceneBoundingRect().contains(scene_pos)

    def _data_at(self, pos: QPointF) -> tuple[float, float]:
        """Data coordinates of a viewport position."""
        data = self._view_box.mapSceneToView(self._scene_at(pos))
        return float(data.x()), float(data.y())
