"""Starting the program: ``main()`` with a file argument."""

from __future__ import annotations

from importlib.resources import as_file, files

from PySide6.QtWidgets import QApplication

from .conftest import WAIT_MS


def test_main_opens_the_file_given(qtbot, monkeypatch):
    from app import __main__ as entry
    from app.main_window import MainWindow

    seen = {}

    def fake_exec(self=None):
        # The shown one: closed windows of earlier tests may wait for garbage collection.
        windows = [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow)]
        (window,) = [w for w in windows if w.isVisible()]
        with qtbot.waitSignal(window.file_opened, timeout=WAIT_MS):
            pass  # the file is read in the background once the event loop runs
        seen["points"] = window.points().shape
        seen["title"] = window.windowTitle()
        windows = [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow)]
        for w in windows:
            w.close()
        return 0

    monkeypatch.setattr(QApplication, "exec", fake_exec)
    with as_file(files("resources").joinpath("old_faithful.csv")) as path:
        assert entry.main([str(path)]) == 0
    assert seen["points"] == (272, 2)
    assert "old_faithful.csv" in seen["title"]
