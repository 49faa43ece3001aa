"""Open the real window, add points, wait for the fitted model and save a screenshot.

Run from the repository root: ``python scripts/screenshot.py [docs/screenshot.png]``;
``python scripts/screenshot.py --compare [docs/screenshot-compare.png]`` then switches to
"Compare all" with the density map on and saves the comparison and its curves;
``python scripts/screenshot.py --variational [docs/screenshot-variational.png]`` lets the
variational trainer fit ten components to the four clusters, six of which die out.
Headless by default (``QT_QPA_PLATFORM=offscreen``); the picture is the window's own
rendering, as ``QWidget.grab`` produces it.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# Autosave and settings of this run stay out of the person's own data folder.
os.environ.setdefault("GMM_PLAYGROUND_DATA_DIR", tempfile.mkdtemp(prefix="gmm-screenshot-"))
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
from PySide6.QtCore import QEvent, QPointF, Qt  # noqa: E402
from PySide6.QtGui import QMouseEvent  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

# Four clusters with different shapes: (centre, covariance, points).
CLUSTERS = [
    ((-5.0, 3.5), [[2.2, 1.1], [1.1, 1.3]], 140),
    ((4.5, 4.5), [[1.0, -0.6], [-0.6, 1.4]], 110),
    ((-1.0, -4.5), [[4.0, 0.3], [0.3, 0.5]], 120),
    ((6.0, -3.0), [[0.35, 0.0], [0.0, 0.35]], 50),
]


def wait(app, predicate, timeout_s=60.0):
    """Run the event loop until ``predicate()`` holds."""
    deadline = time.perf_counter() + timeout_s
    while not predicate():
        if time.perf_counter() > deadline:
            raise TimeoutError("the model did not settle")
        app.processEvents()
        time.sleep(0.002)


def mouse(window, kind, x, y, button=Qt.MouseButton.NoButton, buttons=Qt.MouseButton.NoButton):
    """A real mouse event on the canvas at data coordinates (x, y)."""
    vb = window.canvas.view_box
    pos = QPointF(window.canvas.mapFromScene(vb.mapViewToScene(QPointF(x, y))))
    viewport = window.canvas.viewport()
    glob = QPointF(viewport.mapToGlobal(pos.toPoint()))
    event = QMouseEvent(kind, pos, glob, button, buttons, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(viewport, event)


def click(window, x, y):
    """A left click at data coordinates (x, y)."""
    left = Qt.MouseButton.LeftButton
    mouse(window, QEvent.Type.MouseButtonPress, x, y, left, left)
    mouse(window, QEvent.Type.MouseButtonRelease, x, y, left)


def main() -> int:
    """Write the screenshot; returns the exit status."""
    args = [a for a in sys.argv[1:] if a not in ("--compare", "--variational")]
    compare = "--compare" in sys.argv[1:]
    variational = "--variational" in sys.argv[1:]
    default = (
        "screenshot-compare.png"
        if compare
        else "screenshot-variational.png"
        if variational
        else "screenshot.png"
    )
    target = Path(args[0]) if args else ROOT / "docs" / default
    target.parent.mkdir(parents=True, exist_ok=True)
    from app.files.resources import app_icon
    from app.main_window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv)
    app.setWindowIcon(app_icon())
    window = MainWindow(restore_autosave=False)
    window.resize(1100, 760)
    window.show()
    app.processEvents()
    window.canvas.view_box.setRange(xRange=(-11, 11), yRange=(-9, 9), padding=0)
    app.processEvents()
    updates = []
    window.model_updated.connect(updates.append)
    try:
        window.components_spin.setValue(10 if variational else len(CLUSTERS))
        if variational:
            window.trainer_combo.setCurrentText("Variational (auto K)")
        rng = np.random.default_rng(2026)
        points = np.concatenate([rng.multivariate_normal(c, cov, size=n) for c, cov, n in CLUSTERS])
        points = points[rng.permutation(len(points))]
        window.add_points(points[:-12])
        for x, y in points[-12:]:  # the last points by real clicks
            click(window, x, y)
        n = len(points)
        wait(
            app,
            lambda: (
                updates
                and updates[-1].n_points == n
                and updates[-1].final
                and not window.controller.busy
            ),
        )
        if not variational:
            window.train_action.trigger()
            count = len(updates)
            wait(
                app,
                lambda: len(updates) > count and updates[-1].final and not window.controller.busy,
            )
        if compare:
            # the three trainers learn the same points at once, drawn together
            count = len(updates)
            window.density_action.setChecked(True)
            window.trainer_combo.setCurrentText("Compare all")
            # caught while Adam is still on its way: EM is ahead
            wait(
                app,
                lambda: any(
                    s.trainer == "Gradient (Adam)" and s.n_iter >= 12 for s in updates[count:]
                ),
            )
        # hover over a point between two components: the readout explains it
        mouse(window, QEvent.Type.MouseMove, -2.6, 0.2)
        app.processEvents()
        if not window.grab().save(str(target)):
            print(f"could not write {target}", file=sys.stderr)
            return 1
        snapshot = updates[-1]
        print(
            f"{target}: {snapshot.n_points} points, {snapshot.n_components} components, "
            f"mean log-likelihood {snapshot.mean_log_likelihood:.3f}"
        )
    finally:
        window.ask_save_changes = lambda: "discard"  # the picture's points are not kept
        window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
