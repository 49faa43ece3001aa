"""The window's message boxes: a yes/no question, save-or-discard, an error, About.

Each is a modal :class:`QMessageBox` over ``parent``; the window's testing contract
(:meth:`app.main_window.MainWindow.confirm`, ``ask_save_changes``, ``show_error``) calls
these, so a test replaces the window's method, never a dialog.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QWidget

#: The title of every message box.
TITLE = "GMM Playground"

_ABOUT = (
    "<b>GMM Playground</b><p>Click points onto the canvas and watch a Gaussian "
    "mixture learn them live: incremental EM for each new point, then full EM "
    "passes in the background.</p>"
)


def ask_yes_no(parent: QWidget, text: str) -> bool:
    """Ask a yes/no question (No is the default); True for Yes."""
    answer = QMessageBox.question(
        parent,
        TITLE,
        text,
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
        QMessageBox.StandardButton.No,
    )
    return answer == QMessageBox.StandardButton.Yes


def ask_save_changes(parent: QWidget) -> str:
    """Ask whether to save unsaved changes: ``"save"``, ``"discard"`` or ``"cancel"``."""
    buttons = QMessageBox.StandardButton
    answer = QMessageBox.question(
        parent,
        TITLE,
        "The points have unsaved changes. Save them first?",
        buttons.Save | buttons.Discard | buttons.Cancel,
        buttons.Save,
    )
    return {buttons.Save: "save", buttons.Discard: "discard"}.get(answer, "cancel")


def show_error(parent: QWidget, text: str) -> None:
    """Tell a person something went wrong (a warning box)."""
    QMessageBox.warning(parent, TITLE, text)


def show_about(parent: QWidget) -> None:
    """The About box: what the program does."""
    QMessageBox.about(parent, "About GMM Playground", _ABOUT)


class FailureNotice:
    """One non-modal warning box that tells a failure in full, reused while it is open.

    Live training may fail on every click: the box is shown once and its text updated,
    never stacked and never in the way of the next click. The status bar's short note
    stays beside it.
    """

    def __init__(self, parent: QWidget, title: str):
        self.box = QMessageBox(QMessageBox.Icon.Warning, title, "", QMessageBox.StandardButton.Ok)
        self.box.setParent(parent, self.box.windowFlags())
        self.box.setWindowModality(Qt.WindowModality.NonModal)
        self.box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

    def show(self, text: str) -> None:
        """Show ``text`` (all of it), in the open box if there is one."""
        self.box.setText(text)
        if not self.box.isVisible():
            self.box.show()

    @property
    def text(self) -> str:
        """What the box says ("" before the first failure)."""
        return self.box.text()
