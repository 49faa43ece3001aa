"""The large-data parts of ``bench_app.py``: pan/zoom frames, opening a 10M-row CSV.

Imported by ``benchmarks/bench_app.py`` (run that); the helpers it shares live there.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np
from PySide6.QtCore import QElapsedTimer, QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QMouseEvent, QWheelEvent
from PySide6.QtWidgets import QApplication
from window_tools import StallMeter, clusters, process_until

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


def pan_zoom_frames(app, window) -> tuple[np.ndarray, np.ndarray]:
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


def show_points(app, window, points, timeout_s=600.0):
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


def open_and_fit(app, window, path, n_rows, timeout_s=1200.0):
    """Open ``path`` in the window and wait until it is fitted and drawn.

    Returns the seconds to the points shown (``file_opened``), to the final model drawn,
    the longest GUI stall (ms) over all of it, and the peak resident memory added (bytes).
    """
    updates = []
    opened = []
    window.model_updated.connect(updates.append)
    window.file_opened.connect(opened.append)
    window.open_failed.connect(opened.append)
    meter = StallMeter()
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


def frame_summary(times: np.ndarray, cpu_ms: np.ndarray) -> str:
    """Median and p95 of frame times, and the GUI thread's CPU time per frame."""
    return (
        f"median {np.median(times):.1f} ms, p95 {np.percentile(times, 95):.1f} ms "
        f"(GUI-thread CPU: median {np.median(cpu_ms):.1f} ms, p95 "
        f"{np.percentile(cpu_ms, 95):.1f} ms)"
    )


def bench_pan_zoom(app, window, rng, n_points, dots) -> str:
    """Pan and zoom over ``n_points`` fitted points of three clusters: the frames, summed up.

    With ``dots``, every point is drawn as a dot, as the canvas did before the density
    image (the reference).
    """
    from app.state import messages as point_density

    threshold = point_density.DENSITY_ABOVE
    if dots:
        point_density.DENSITY_ABOVE = n_points
    try:
        window.components_spin.setValue(3)
        window.epochs_spin.setValue(20)
        centres = [(-5.0, -4.0), (5.0, -4.0), (0.0, 5.0)]
        show_points(app, window, clusters(rng, n_points, centres, 1.5))
        meter = StallMeter()
        meter.start()
        times, cpu_ms = pan_zoom_frames(app, window)
        process_until(app, lambda: not window.canvas.point_density.busy)
        stall, _ = meter.stop()
    finally:
        point_density.DENSITY_ABOVE = threshold
    return f"{frame_summary(times, cpu_ms)}; longest stall incl. rebinning {stall:.1f} ms"


PAN_GOAL = " (goal: median < 16 ms, p95 < 33 ms)"


def run_pan_zoom(app, window, rng, args) -> None:
    """Print pan/zoom frame times at each of ``args.pan_sizes`` and ``args.dots_sizes``."""
    sizes = [("density image", int(n), False) for n in args.pan_sizes.split(",") if n]
    sizes += [("dots", int(n), True) for n in args.dots_sizes.split(",") if n]
    for drawing, n, dots in sorted(sizes, key=lambda s: (s[1], s[2])):
        summary = bench_pan_zoom(app, window, rng, n, dots)
        goal = PAN_GOAL if n >= 1_000_000 and not dots else ""
        print(f"pan/zoom frames, {n:,} points as {drawing}: {summary}{goal}", flush=True)
    window.session.clear()
    process_until(app, lambda: not window.controller.busy)


def run_open(app, window, rng, n_rows) -> None:
    """Open an ``n_rows``-row two-column CSV in the window, fit it, then pan and zoom.

    Prints the seconds to the points shown and to the final model drawn, the longest GUI
    event-loop stall over all of it, the peak resident memory added against the points'
    array, and pan/zoom frame times over the opened points.
    """
    with tempfile.TemporaryDirectory(prefix="gmm-bench-") as folder:
        path = Path(folder) / "points.csv"
        size = write_large_csv(path, n_rows, rng)
        window.session.clear()
        process_until(app, lambda: not window.controller.busy)
        window.components_spin.setValue(3)
        window.epochs_spin.setValue(20)
        shown, fitted, stall, added = open_and_fit(app, window, path, n_rows)
    array = n_rows * 2 * 8
    print(
        f"open a {n_rows:,}-row CSV ({size / 1e6:.0f} MB) and fit it (Train, 4 restarts): "
        f"points shown after {shown:.1f} s, model drawn after {fitted:.1f} s; longest "
        f"GUI stall {stall:.1f} ms (goal: < 50 ms); peak memory added {added / 1e6:.0f} MB "
        f"= {added / array:.2f}x the points' array of {array / 1e6:.0f} MB (goal: <= 3x)",
        flush=True,
    )
    times, cpu_ms = pan_zoom_frames(app, window)
    print(
        f"pan/zoom frames, {n_rows:,} opened points as density image: "
        f"{frame_summary(times, cpu_ms)}{PAN_GOAL}",
        flush=True,
    )
    window.session.clear()
    process_until(app, lambda: not window.controller.busy)
