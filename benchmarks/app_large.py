"""The large-data parts of ``bench_app.py``: pan/zoom frames, opening a 10M-row CSV.

Imported by ``benchmarks/bench_app.py`` (run that); the helpers it shares live there.
"""

from __future__ import annotations

import time

import numpy as np
from PySide6.QtCore import QElapsedTimer, QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QMouseEvent, QWheelEvent
from PySide6.QtWidgets import QApplication

#: Frames of one pan/zoom gesture set: a circular middle-button drag, then wheel steps.
PAN_FRAMES = 90
ZOOM_FRAMES = 40

#: Spacing of a hand's input events (60 Hz).
FRAME_INTERVAL_S = 1 / 60


class FrameClock:
    """Times frames: an input event, the events it posts, and the repaint it causes."""

    def __init__(self, app, canvas):
        self.app = app
        self.canvas = canvas
        self.paints = 0
        canvas.scene().sigPrepareForPaint.connect(self._on_paint)
        self.clock = QElapsedTimer()
        self.cpu_ms: list[float] = []  # the GUI thread's CPU time of each frame

    def _on_paint(self):
        self.paints += 1

    def frame(self, send) -> float:
        """Milliseconds from sending an event to the end of the repaint it causes."""
        painted = self.paints
        cpu = time.thread_time()
        self.clock.start()
        send()
        self.app.processEvents()
        if self.paints == painted:  # the update is still pending: paint now
            self.canvas.viewport().repaint()
        elapsed = self.clock.nsecsElapsed() / 1e6
        self.cpu_ms.append((time.thread_time() - cpu) * 1e3)
        return elapsed

    def close(self):
        self.canvas.scene().sigPrepareForPaint.disconnect(self._on_paint)


def _mouse(widget, kind, pos: QPointF, button, buttons):
    glob = QPointF(widget.mapToGlobal(pos.toPoint()))
    event = QMouseEvent(kind, pos, glob, button, buttons, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, event)


def _wheel(widget, pos: QPointF, steps: int):
    glob = QPointF(widget.mapToGlobal(pos.toPoint()))
    event = QWheelEvent(
        pos,
        glob,
        QPoint(0, 0),
        QPoint(0, 120 * steps),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(widget, event)


def pan_zoom_frames(app, window, process_until) -> tuple[np.ndarray, np.ndarray]:
    """Frame times (ms) of a middle-button pan around a circle, then zooming in and out.

    Returns the wall-clock time of each frame and the GUI thread's CPU time in it (which
    other processes on a busy machine do not inflate).

    Events come at 60 Hz as a hand's do; between them the event loop runs, as it does
    for a person (so the density image is binned again only when the gesture pauses).
    """
    canvas = window.canvas
    viewport = canvas.viewport()
    centre = QPointF(viewport.width() / 2, viewport.height() / 2)
    radius = 0.15 * min(viewport.width(), viewport.height())
    clock = FrameClock(app, canvas)
    middle = Qt.MouseButton.MiddleButton
    times = []

    def pace(started):
        process_until(app, lambda: time.perf_counter() >= started + FRAME_INTERVAL_S)

    started = time.perf_counter()
    _mouse(viewport, QEvent.Type.MouseButtonPress, centre, middle, middle)
    for i in range(1, PAN_FRAMES + 1):
        pace(started)
        started = time.perf_counter()
        angle = 2 * np.pi * i / PAN_FRAMES
        pos = QPointF(
            centre.x() + radius * np.sin(angle), centre.y() + radius * (1 - np.cos(angle))
        )
        times.append(
            clock.frame(
                lambda p=pos: _mouse(
                    viewport, QEvent.Type.MouseMove, p, Qt.MouseButton.NoButton, middle
                )
            )
        )
    _mouse(viewport, QEvent.Type.MouseButtonRelease, centre, middle, Qt.MouseButton.NoButton)
    for i in range(ZOOM_FRAMES):
        pace(started)
        started = time.perf_counter()
        steps = 1 if (i // 5) % 2 == 0 else -1  # five steps in, five out
        times.append(clock.frame(lambda s=steps: _wheel(viewport, centre, s)))
    clock.close()
    return np.asarray(times), np.asarray(clock.cpu_ms)


def show_points(app, window, points, process_until, timeout_s=600.0):
    """Replace the window's points by ``points``, fit them, wait for the final drawing."""
    updates = []
    window.model_updated.connect(updates.append)
    window.session.clear()
    process_until(app, lambda: not window.controller.busy)
    n = points.shape[0]
    window.add_points(points)
    window.canvas.fit_view(points)
    process_until(
        app,
        lambda: (
            updates
            and updates[-1].final
            and updates[-1].n_points == n
            and not window.controller.busy
            and not window.canvas.point_density.busy
        ),
        timeout_s,
    )
    window.model_updated.disconnect(updates.append)
