"""Starting the program: ``main()`` with a file argument."""

from __future__ import annotations

from importlib.resources import as_file, files

from PySide6.QtWidgets import QApplication


def test_main_opens_the_file_given(qtbot, monkeypatch):
    from app import __main__ as entry
    from app.main_window import MainWindow

    seen = {}

    def fake_exec(self=None):
        # The shown one: closed windows of earlier tests may wait for garbage collection.
        windows = [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow)]
        (window,) = [w for w in windows if w.isVisible()]
        seen["points"] = window.points().shape
        seen["title"] = window.windowTitle()
        for w in windows:
            w.close()
        return 0

    monkeypatch.setattr(QApplication, "exec", fake_exec)
    with as_file(files("resources").joinpath("old_faithful.csv")) as path:
        assert entry.main([str(path)]) == 0
    assert seen["points"] == (272, 2)
    assert "old_faithful.csv" in seen["title"]
