"""The commands that belong to the window itself, as actions with their shortcuts.

Quit, Undo, Redo, Train, Clear, Fit View to Points and About: the other actions belong
to the window's collaborators (tools, documents, data sets, insight, ...), and
:class:`app.window_menus.WindowMenus` puts them all in the menus.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Qt, Slot
from PySide6.QtGui import QKeySequence, QUndoStack
from PySide6.QtWidgets import QMainWindow

from .panels.dialogs import show_about
from .state.actions import make_action


class WindowActions(QObject):
    """The window's own actions, each also on ``window`` so its shortcut works without menus.

    Parameters
    ----------
    window : QMainWindow
        Parent of the actions; Quit closes it, About is shown over it.
    undo_stack : QUndoStack
        The session's edits, for Undo and Redo.
    train, clear, fit_view : callable
        What Train, Clear and Fit View to Points do (no arguments).
    """

    def __init__(
        self,
        window: QMainWindow,
        undo_stack: QUndoStack,
        *,
        train: Callable[[], object],
        clear: Callable[[], object],
        fit_view: Callable[[], object],
    ):
        super().__init__(window)
        self._window = window
        self.quit_action = make_action(window, "&Quit", window.close, QKeySequence("Ctrl+Q"))

        self.undo_action = undo_stack.createUndoAction(window, "&Undo")
        self.undo_action.setShortcut(QKeySequence.StandardKey.Undo)
        self.redo_action = undo_stack.createRedoAction(window, "&Redo")
        self.redo_action.setShortcut(QKeySequence.StandardKey.Redo)

        self.train_action = make_action(
            window,
            "&Train",
            train,
            QKeySequence("Ctrl+T"),
            "Refit from scratch on all points, with restarts",
        )
        self.clear_action = make_action(
            window, "&Clear", clear, tip="Forget all points and the model"
        )
        self.clear_action.setShortcuts([QKeySequence(Qt.Key.Key_Delete), QKeySequence("Ctrl+L")])
        self.fit_view_action = make_action(
            window, "&Fit View to Points", fit_view, QKeySequence("Ctrl+0")
        )
        self.about_action = make_action(window, "&About GMM Playground", self._about)
        for action in (
            self.quit_action,
            self.train_action,
            self.clear_action,
            self.fit_view_action,
            self.undo_action,
            self.redo_action,
        ):
            window.addAction(action)

    @Slot()
    def _about(self) -> None:
        show_about(self._window)
