"""Start-up: the window shows before torch (or scipy.optimize, or pyarrow) loads; a click
made meanwhile is learnt. Only gmm_core's lazy package and its torch-free facts may load."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from .conftest import WAIT_MS

ROOT = Path(__file__).resolve().parents[2]

_SHOW_WINDOW = """
import sys
from PySide6.QtWidgets import QApplication
import app.main_window
HEAVY = ("torch", "scipy.optimize", "pyarrow")
LIGHT_CORE = {"gmm_core", "gmm_core.covariance_types", "gmm_core.tables"}
def heavy_loaded():
    core = {m for m in sys.modules if m.split(".")[0] == "gmm_core"} - LIGHT_CORE
    return sorted(core | {m for m in HEAVY if m in sys.modules})
loaded_on_import = heavy_loaded()
application = QApplication([])
window = app.main_window.MainWindow()
window.show()
loaded_on_show = heavy_loaded()
assert window.controller.thread is None  # starts once the event loop runs
application.processEvents()
window.close()
print(loaded_on_import, loaded_on_show)
"""


def test_showing_the_window_does_not_import_torch():
    env = dict(os.environ, PYTHONPATH=str(ROOT), QT_QPA_PLATFORM="offscreen")
    result = subprocess.run(
        [sys.executable, "-c", _SHOW_WINDOW],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[-2] == "[] []", result.stdout + result.stderr


def test_a_click_before_the_worker_has_loaded_is_drawn_and_then_learnt(qtbot):
    from app.main_window import MainWindow

    window = MainWindow()
    qtbot.addWidget(window)
    updates = []
    window.model_updated.connect(updates.append)
    # No event has run yet: the worker thread is not even started.
    assert window.controller.thread is None
    window.canvas.point_clicked.emit(2.0, -1.0)  # what a click on the canvas emits
    assert window.points().shape == (1, 2)
    assert window.canvas.pending_item.n_points == 1  # drawn at once, grey
    # the worker thread now loads the training code, and then serves the request

    def learnt():
        assert updates and updates[-1].n_points == 1 and not window.controller.busy

    qtbot.waitUntil(learnt, timeout=WAIT_MS)
    np.testing.assert_allclose(updates[-1].means, [[2.0, -1.0]])
    window.close()
