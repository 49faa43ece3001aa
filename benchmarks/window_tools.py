"""What the window benchmarks share: running the event loop, clicks, a stall meter, data.

Imported by ``bench_app.py`` and ``app_large.py``; not a benchmark itself.
"""

from __future__ import annotations

import time

import numpy as np
from PySide6.QtCore import QElapsedTimer, QEvent, QEventLoop, QPointF, Qt, QTimer
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication


def clusters(rng, n, centres, sd):
    """``n`` points around the centres, in random order."""
    centres = np.asarray(centres, dtype=np.float64)
    return centres[rng.integers(len(centres), size=n)] + rng.normal(0.0, sd, size=(n, 2))


def process_until(app, predicate, timeout_s=120.0):
    """Run the Qt event loop (as ``app.exec`` does) until ``predicate()`` holds."""
    if predicate():
        return
    loop = QEventLoop()
    deadline = time.perf_counter() + timeout_s
    failed = []

    def check():
        if predicate():
            loop.quit()
        elif time.perf_counter() > deadline:
            failed.append(True)
            loop.quit()

    poll = QTimer()
    poll.setTimerType(Qt.TimerType.PreciseTimer)
    poll.setInterval(1)
    poll.timeout.connect(check)
    poll.start()
    loop.exec()
    poll.stop()
    if failed:
        raise TimeoutError("benchmark step timed out")


def click(window, x, y):
    vb = window.canvas.view_box
    pos = QPointF(window.canvas.mapFromScene(vb.mapViewToScene(QPointF(x, y))))
    viewport = window.canvas.viewport()
    glob = QPointF(viewport.mapToGlobal(pos.toPoint()))
    left = Qt.MouseButton.LeftButton
    for kind, buttons in (
        (QEvent.Type.MouseButtonPress, left),
        (QEvent.Type.MouseButtonRelease, Qt.MouseButton.NoButton),
    ):
        event = QMouseEvent(kind, pos, glob, left, buttons, Qt.KeyboardModifier.NoModifier)
        QApplication.sendEvent(viewport, event)


class StallMeter:
    """A 5 ms timer that records how late it fires: the event loop's longest stall."""

    def __init__(self, interval_ms=5):
        self.interval_ms = interval_ms
        self.timer = QTimer()
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self._tick)
        self.clock = QElapsedTimer()
        self.gaps: list[float] = []

    def start(self):
        self.gaps.clear()
        self.clock.start()
        self.timer.start()

    def _tick(self):
        self.gaps.append(self.clock.nsecsElapsed() / 1e6)
        self.clock.restart()

    def stop(self):
        self.timer.stop()
        lateness = np.asarray(self.gaps) - self.interval_ms
        return float(lateness.max(initial=0.0)), len(self.gaps)
