"""The recently opened or saved files, their Open Recent menu, and the last folder used.

Both are kept in the program's settings (:func:`app.files.appdata.settings`), so the next run
finds them. Picking a file in the menu only emits :attr:`RecentFiles.chosen`: whoever
opens files decides what happens then (ask about unsaved changes, open it).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, QSettings, Signal, Slot
from PySide6.QtWidgets import QMenu, QWidget

#: Open Recent lists at most this many files.
MAX_RECENT = 8

_RECENT_KEY = "files/recent"
_LAST_DIR_KEY = "files/last_dir"


class RecentFiles(QObject):
    """The recent files kept in ``settings``, shown in :attr:`menu`.

    Parameters
    ----------
    settings : QSettings
        Where the list and the last folder are kept.
    parent : QWidget
        Owns the menu.

    Attributes
    ----------
    menu : QMenu
        Open Recent: one entry per file, newest first, filled each time it opens.
    """

    chosen = Signal(str)  # path of a file picked in the menu

    def __init__(self, settings: QSettings, parent: QWidget):
        super().__init__(parent)
        self.settings = settings
        self.menu = QMenu("Open &Recent", parent)
        self.menu.aboutToShow.connect(self._fill_menu)

    def files(self) -> list[str]:
        """The recently opened or saved files, newest first."""
        value = self.settings.value(_RECENT_KEY, [])
        if isinstance(value, str):
            value = [value]
        return [str(v) for v in (value or [])]

    def add(self, path: str | Path) -> None:
        """Put ``path`` first (at most :data:`MAX_RECENT` are kept); its folder is the last."""
        try:
            name = str(Path(path).resolve())
        except OSError:
            return
        recent = [name] + [p for p in self.files() if p != name]
        self.settings.setValue(_RECENT_KEY, recent[:MAX_RECENT])
        self.settings.setValue(_LAST_DIR_KEY, str(Path(name).parent))

    def last_dir(self) -> str:
        """The folder that file dialogs open in (the last file's; at first the home)."""
        return str(self.settings.value(_LAST_DIR_KEY, str(Path.home())))

    @Slot()
    def _fill_menu(self) -> None:
        self.menu.clear()
        for name in self.files():
            action = self.menu.addAction(name)
            action.setData(name)
            action.triggered.connect(self._on_triggered)
        if self.menu.isEmpty():
            self.menu.addAction("(none)").setEnabled(False)

    @Slot()
    def _on_triggered(self) -> None:
        self.chosen.emit(self.sender().data())
