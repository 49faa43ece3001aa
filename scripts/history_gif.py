"""Make the README's GIF with the real window: clicks, a Train, the history exported.

Clicks three clusters into the real window a few points at a time (each click answered
by the model), trains with restarts, and writes the history with
``window.export_animation`` (File > Export Animation), as a person would.

Run from the repository root: ``python scripts/history_gif.py [docs/history.gif]``.
Headless by default (``QT_QPA_PLATFORM=offscreen``).
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("GMM_PLAYGROUND_DATA_DIR", tempfile.mkdtemp(prefix="gmm-history-gif-"))
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

sys.path.insert(0, str(ROOT / "scripts"))
from screenshot import click, wait  # noqa: E402

CENTRES = [(-5.0, 3.0), (4.0, 4.0), (0.0, -4.5)]


def main() -> None:
    """Click, train, export the history (the path from the command line, or docs/)."""
    out = Path(sys.argv[1] if len(sys.argv) > 1 else ROOT / "docs" / "history.gif")
    app = QApplication.instance() or QApplication([])
    from app.main_window import MainWindow

    window = MainWindow(restore_autosave=False)
    window.resize(760, 420)
    window.show()
    window.components_spin.setValue(3)
    window.canvas.view_box.setRange(xRange=(-10, 10), yRange=(-9, 9), padding=0)
    rng = np.random.default_rng(7)
    points = np.concatenate([rng.normal(c, (1.4, 0.9), size=(5, 2)) for c in CENTRES])
    points = points[rng.permutation(points.shape[0])]

    def answered():
        s = window.snapshot
        return s is not None and s.n_points == len(window.session) and not window.controller.busy

    for x, y in points:
        click(window, float(x), float(y))
        wait(app, answered)
    window.train()
    wait(app, lambda: answered() and window.snapshot.state == "converged")
    done = {}
    window.animation_finished.connect(lambda path, ok: done.update(ok=ok))
    window.history.speed_spin.setValue(6)
    assert window.export_animation(out)
    wait(app, lambda: "ok" in done, timeout_s=120)
    print(f"{out}: {len(window.history.timeline)} frames, {out.stat().st_size / 1024:.0f} KB")
    window.close()


if __name__ == "__main__":
    main()
