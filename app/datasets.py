"""The window's data sets: presets, the real data examples, pasted points.

:class:`DataSets` builds the Data menu, File > Open Example and Paste Points for a
:class:`app.main_window.MainWindow` and turns each into one undoable edit of the session
(an example opens like a file, through :meth:`app.files.documents.Documents.open_file` or
:meth:`app.files.documents.Documents.apply_session`, and trains): Old Faithful (shipped in
``resources``) and Iris (as scikit-learn ships it). Nothing here imports torch or
gmm_core.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Slot
from PySide6.QtGui import QAction, QGuiApplication, QKeySequence
from PySide6.QtWidgets import QMenu

from .files.point_files import points_from_text
from .files.session.format import SessionData
from .state import presets
from .state.actions import make_action
from .state.column_names import default_column_names


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
        self.example_action = make_action(
            window,
            presets.OLD_FAITHFUL_TITLE,
            self.open_example,
            tip="Eruption length and waiting time of 272 eruptions (2 columns)",
        )
        self.iris_action = make_action(
            window,
            presets.IRIS_TITLE,
            self.open_iris,
            tip="Sepal and petal length and width of 150 iris flowers (4 columns)",
        )
        self.example_menu = QMenu("Open &Example", window)
        self.example_menu.addActions([self.example_action, self.iris_action])
        self.data_menu.addSeparator()
        self.data_menu.addActions([self.example_action, self.iris_action])

    def load_preset(self, name: str, replace: bool = True, seed: int = 0) -> None:
        """Generate preset ``name`` from ``seed``; replace the points or add to them.

        One undoable edit; the view then fits all points. Names: "blobs",
        "anisotropic", "unequal", "moons", "ring", "noise".
        """
        session = self.window.session
        points = presets.generate(name, seed)
        title = presets.PRESETS[name].title
        if replace or session.n_features != 2:  # points of other columns are replaced
            session.replace_points(points, f"Load Preset: {title}", default_column_names(2))
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
    def open_example(self) -> bool:
        """Open the Old Faithful data shipped in ``resources``, in the background."""
        return self.window.documents.open_example()

    @Slot()
    def open_iris(self) -> bool:
        """Open Fisher's iris data (150 flowers, 4 measurements), and train."""
        points, columns = presets.iris()
        documents = self.window.documents
        documents.apply_session(SessionData(points, columns=columns), "Open Iris")
        documents.set_file(None, title="Iris")
        return True

    @Slot()
    def paste_points(self) -> bool:
        """Add the points in the clipboard's text (two columns) as one undoable edit."""
        text = QGuiApplication.clipboard().text()
        try:
            if self.window.session.n_features != 2:
                raise ValueError("Pasted points have two columns (x and y): clear first.")
            points = points_from_text(text, "The clipboard")
            if points.shape[0] == 0:
                raise ValueError("The clipboard holds no points (two columns: x and y).")
        except ValueError as error:
            self.window.show_error(f"Could not paste points:\n{error}")
            return False
        self.window.session.add_points(points, f"Paste {points.shape[0]:,} Points")
        return True
