"""How a part of the program asks the person something, or tells them.

:class:`Questions` is handed to the parts that need it (documents, opening, exports)
instead of the window: each answer comes from the window's own dialogs, through
callables, so that every question the program asks goes through one place.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtWidgets import QWidget


@dataclass(frozen=True, slots=True, eq=False)
class Questions:
    """The window's questions and messages, as callables.

    Attributes
    ----------
    parent : QWidget
        What file dialogs are modal to.
    confirm : callable
        ``confirm(text) -> bool``: a yes/no question.
    ask_save_changes : callable
        ``ask_save_changes() -> "save" | "discard" | "cancel"``.
    show_error : callable
        ``show_error(text)``: something went wrong (a dialog).
    choose_columns : callable
        ``choose_columns(names, file_name) -> list of names, or None (cancelled)``: which
        of a table's numeric columns to model.
    show_message : callable
        ``show_message(text, milliseconds)``: a passing note in the status bar.
    """

    parent: QWidget
    confirm: Callable[[str], bool]
    ask_save_changes: Callable[[], str]
    show_error: Callable[[str], None]
    choose_columns: Callable[[list[str], str], list[str] | None]
    show_message: Callable[[str, int], None]
