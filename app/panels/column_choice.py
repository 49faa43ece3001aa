"""The dialog that asks which columns of a table to model.

:func:`choose_columns` is what ``window.choose_columns`` shows when an opened table has
more than two numeric columns: a checkable list, every column checked at first, and OK
only while at least two are checked.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

#: The fewest columns a model can be fitted in (the canvas shows two).
MIN_COLUMNS = 2


class ColumnChoiceDialog(QDialog):
    """A checkable list of ``names``; :meth:`chosen` lists the checked ones in order.

    Parameters
    ----------
    names : sequence of str
        The table's numeric columns, in file order.
    file_name : str
        Named in the question.
    """

    def __init__(self, names: Sequence[str], file_name: str = "", parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("column-choice")
        self.setWindowTitle("Choose Columns")
        which = f"{file_name} has" if file_name else "The table has"
        question = QLabel(
            f"{which} {len(names)} numeric columns. Which should the mixture model? "
            "It is fitted in all of them; the canvas shows two at a time.",
            self,
        )
        question.setWordWrap(True)
        self.list_widget = QListWidget(self)
        for name in names:
            item = QListWidgetItem(name, self.list_widget)
            item.setFlags(
                Qt.ItemFlag.ItemIsEnabled
                | Qt.ItemFlag.ItemIsUserCheckable
                | Qt.ItemFlag.ItemIsSelectable
            )
            item.setCheckState(Qt.CheckState.Checked)
        self.list_widget.setCurrentRow(0)
        self.all_button = QPushButton("Check &All", self)
        self.all_button.clicked.connect(self._check_all)
        self.note = QLabel(self)
        self.note.setStyleSheet("color: rgb(150, 0, 0);")
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        self.buttons.addButton(self.all_button, QDialogButtonBox.ButtonRole.ResetRole)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(question)
        layout.addWidget(self.list_widget)
        layout.addWidget(self.note)
        layout.addWidget(self.buttons)
        self.list_widget.itemChanged.connect(self._on_item_changed)
        self._on_item_changed()
        self.resize(380, 320)

    @property
    def ok_button(self) -> QPushButton:
        """The OK button (enabled while at least two columns are checked)."""
        return self.buttons.button(QDialogButtonBox.StandardButton.Ok)

    def chosen(self) -> list[str]:
        """The checked columns' names, in the list's order."""
        items = (self.list_widget.item(i) for i in range(self.list_widget.count()))
        return [item.text() for item in items if item.checkState() == Qt.CheckState.Checked]

    @Slot()
    def _check_all(self) -> None:
        for i in range(self.list_widget.count()):
            self.list_widget.item(i).setCheckState(Qt.CheckState.Checked)

    @Slot()
    def _on_item_changed(self, item=None) -> None:
        enough = len(self.chosen()) >= MIN_COLUMNS
        self.ok_button.setEnabled(enough)
        self.note.setText("" if enough else f"Check at least {MIN_COLUMNS} columns.")


def choose_columns(
    names: Sequence[str], file_name: str = "", parent: QWidget | None = None
) -> list[str] | None:
    """Ask which of ``names`` to model: the checked names, or None when cancelled."""
    dialog = ColumnChoiceDialog(names, file_name, parent)
    try:
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return None
        return dialog.chosen()
    finally:
        dialog.deleteLater()
