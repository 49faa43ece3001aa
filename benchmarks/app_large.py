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


def write_large_csv(path, n_rows, rng) -> int:
    """A two-column CSV of ``n_rows`` points of three clusters; its size in bytes."""
    import pyarrow as pa
    import pyarrow.csv as pa_csv

    centres = np.array([(-5.0, -4.0), (5.0, -4.0), (0.0, 5.0)])
    with pa_csv.CSVWriter(str(path), pa.schema([("x", pa.float64()), ("y", pa.float64())])) as out:
        for start in range(0, n_rows, 1_000_000):
            n = min(1_000_000, n_rows - start)
            points = centres[rng.integers(3, size=n)] + rng.normal(0.0, 1.5, size=(n, 2))
            out.write_table(pa.table({"x": points[:, 0], "y": points[:, 1]}))
    return path.stat().st_size


def _status_kib(field: str) -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise KeyError(field)


def reset_peak_rss() -> int:
    """Reset the process's peak resident memory (Linux); the resident memory now, bytes."""
    with open("/proc/self/clear_refs", "w") as clear:
        clear.write("5")
    return _status_kib("VmRSS") * 1024


def peak_rss() -> int:
    """The process's peak resident memory since :func:`reset_peak_rss`, in bytes."""
    return _status_kib("VmHWM") * 1024


def open_and_fit(app, window, path, n_rows, meter, process_until, timeout_s=1200.0):
    """Open ``path`` in the window and wait until it is fitted and drawn.

    Returns the seconds to the points shown (``file_opened``), to the final model drawn,
    the longest GUI stall (ms) over all of it, and the peak resident memory added (bytes).
    """
    updates = []
    opened = []
    window.model_updated.connect(updates.append)
    window.file_opened.connect(opened.append)
    window.open_failed.connect(opened.append)
    baseline = reset_peak_rss()
    meter.start()
    started = time.perf_counter()
    window.open_file(path)
    process_until(app, lambda: bool(opened), timeout_s)
    shown = time.perf_counter() - started
    process_until(
        app,
        lambda: (
            updates
            and updates[-1].final
            and updates[-1].n_points == n_rows
            and not window.controller.busy
            and not window.canvas.point_density.busy
        ),
        timeout_s,
    )
    fitted = time.perf_counter() - started
    stall, _ = meter.stop()
    added = peak_rss() - baseline
    window.model_updated.disconnect(updates.append)
    window.file_opened.disconnect(opened.append)
    window.open_failed.disconnect(opened.append)
    assert opened == [str(path)], f"{path} did not open"
    return shown, fitted, stall, added
