"""Pan frame time of View > All Pairs at 100,000 points x 6 columns, beside the canvas.

Opens a table of 100,000 points in 6 columns (three clusters) in the real window, waits
for the fitted model, shows the pairs view (15 pairs and 6 diagonals), then pans one of
its cells and then the single canvas, 60 steps each: each step moves the view and
repaints the widget at once (``repaint``), timed from the move to the end of the paint.
Prints the median and 95th percentile of each and their ratio.

Run from the repository root: ``python benchmarks/bench_pairs.py`` (about a minute).
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("GMM_PLAYGROUND_DATA_DIR", tempfile.mkdtemp(prefix="gmm-bench-pairs-"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

N, D, STEPS = 100_000, 6, 60


def wait(app, predicate, timeout_s=300.0):
    """Run the event loop until ``predicate()`` holds."""
    deadline = time.perf_counter() + timeout_s
    while not predicate():
        if time.perf_counter() > deadline:
            raise TimeoutError("waited too long")
        app.processEvents()
        time.sleep(0.005)


def pan_times(app, view_box, widget) -> np.ndarray:
    """Milliseconds of each of STEPS pans of ``view_box``, each repainted at once."""
    (x0, x1), _ = view_box.viewRange()
    step = (x1 - x0) / 200
    times = []
    for i in range(STEPS):
        start = time.perf_counter()
        view_box.translateBy(x=step if i % 40 < 20 else -step)
        widget.viewport().repaint()
        times.append((time.perf_counter() - start) * 1e3)
        app.processEvents()
    return np.asarray(times)


def main() -> None:
    app = QApplication.instance() or QApplication([])
    from app.files.session.format import SessionData
    from app.main_window import MainWindow

    rng = np.random.default_rng(0)
    centres = rng.normal(0, 4, size=(3, D))
    points = np.concatenate([rng.normal(c, 1.0, size=(N // 3 + 1, D)) for c in centres])[:N]
    window = MainWindow(restore_autosave=False)
    window.resize(1400, 900)
    window.show()
    window.components_spin.setValue(3)
    names = tuple(f"c{i}" for i in range(D))
    window.documents.apply_session(SessionData(points, columns=names), "bench")

    def fitted():
        s = window.snapshot
        return s is not None and s.n_points == N and s.final and not window.controller.busy

    wait(app, fitted)
    window.pairs_action.trigger()
    view = window.pairs_view
    wait(app, lambda: len(view.plots) == D * (D - 1) // 2)
    start = time.perf_counter()
    view.refresh()
    refresh_ms = (time.perf_counter() - start) * 1e3
    app.processEvents()
    pairs = pan_times(app, view.plots[0].getViewBox(), view)
    canvas = pan_times(app, window.canvas.view_box, window.canvas)
    for name, t in (("pairs view (15 + 6 plots)", pairs), ("single canvas", canvas)):
        print(f"{name}: median {np.median(t):.1f} ms, p95 {np.percentile(t, 95):.1f} ms per pan")
    print(f"ratio of medians (pairs / canvas): {np.median(pairs) / np.median(canvas):.2f}")
    print(f"one redraw of the grid for a new model: {refresh_ms:.0f} ms (GUI thread)")
    window.close()


if __name__ == "__main__":
    main()
