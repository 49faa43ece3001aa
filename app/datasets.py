"""The window's data sets: presets, the real data shipped in ``resources``, pasted points.

:class:`DataSets` builds the Data menu and Paste Points for a
:class:`app.main_window.MainWindow` and turns each into one undoable edit of the session
(real data opens like a file, through :meth:`app.documents.Documents.apply_session`, and
trains). Nothing here imports torch or gmm_core.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Slot
from PySide6.QtGui import QAction, QGuiApplication, QKeySequence
from PySide6.QtWidgets import QMenu

from . import presets
from .io import points_from_text, read_points
from .resources import resource_path
from .session_file import SessionData
from .widgets import make_action


class DataSets(QObject):
    """The Data menu and Paste Points of ``window``."""

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self._preset_seed = 0
        self.paste_action = make_action(
            window,
            "&Paste Points",
            self.paste_points,
            QKeySequence.StandardKey.Paste,
            "Add the points in the clipboard (two columns of text)",
        )
        self.preset_adds_action = QAction("&Add to Current Points", window)
        self.preset_adds_action.setCheckable(True)
        self.preset_adds_action.setToolTip("Presets add their points instead of replacing")
        self.data_menu = QMenu("&Data", window)
        for name, preset in presets.PRESETS.items():
            action = self.data_menu.addAction(preset.title)
            action.setData(name)
            action.triggered.connect(self._on_preset_triggered)
        self.data_menu.addSeparator()
        self.data_menu.addAction(self.preset_adds_action)
        self.data_menu.addSeparator()
        for title, file_name in presets.REAL_DATA.items():
            action = self.data_menu.addAction(title)
            action.setData(file_name)
            action.triggered.connect(self._on_real_data_triggered)

    def load_preset(self, name: str, replace: bool = True, seed: int = 0) -> None:
        """Generate preset ``name`` from ``seed``; replace the points or add to them.

        One undoable edit; the view then fits all points. Names: "blobs",
        "anisotropic", "unequal", "moons", "ring", "noise".
        """
        session = self.window.session
        points = presets.generate(name, seed)
        title = presets.PRESETS[name].title
        if replace:
            session.replace_points(points, f"Load Preset: {title}")
        else:
            session.add_points(points, f"Add Preset: {title}")
        self.window.canvas.fit_view(session.points)
        self.window.statusBar().showMessage(f"{title}, seed {seed}", 4000)

    @Slot()
    def _on_preset_triggered(self) -> None:
        self.load_preset(
            self.sender().data(), not self.preset_adds_action.isChecked(), self._preset_seed
        )
        self._preset_seed += 1  # the next pick draws new points

    @Slot()
    def _on_real_data_triggered(self) -> None:
        with resource_path(self.sender().data()) as path:
            points = read_points(path)
        self.window.documents.apply_session(SessionData(points), f"Open {path.name}")  # and Train

    @Slot()
    def paste_points(self) -> bool:
        """Add the points in the clipboard's text (two columns) as one undoable edit."""
        text = QGuiApplication.clipboard().text()
        try:
            points = points_from_text(text, "The clipboard")
            if points.shape[0] == 0:
                raise ValueError("The clipboard holds no points (two columns: x and y).")
        except ValueError as error:
            self.window.show_error(f"Could not paste points:\n{error}")
            return False
        self.window.session.add_points(points, f"Paste {points.shape[0]:,} Points")
        return True
