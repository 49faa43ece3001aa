"""Small helpers for actions and their buttons, shared by every room."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QSizePolicy, QToolButton, QWidget


def action_button(action: QAction, parent: QWidget) -> QToolButton:
    """A text-only button for ``action`` that fills the panel's width."""
    button = QToolButton(parent)
    button.setDefaultAction(action)
    button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
    button.setSizePolicy(QSizePolicy.Policy.Expanding, button.sizePolicy().verticalPolicy())
    return button


def make_action(parent, text: str, slot, shortcut=None, tip: str | None = None) -> QAction:
    """An action of ``parent`` that calls ``slot``, with an optional shortcut and tool tip."""
    action = QAction(text, parent)
    if shortcut is not None:
        action.setShortcut(shortcut)
    if tip is not None:
        action.setToolTip(tip)
    action.triggered.connect(slot)
    return action
