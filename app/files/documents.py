"""The documents: session files, tables, recent files, autosave.

:class:`Documents` builds the actions New, Open, Open Recent, Save and Save As and owns
what they need: the current file, the autosaver and the recent files. Its collaborators
are handed to it: the session (points and undo stack), the drawn model and the window's
settings (as callables, for what a session file saves), the status line (a file being
read shows there, with progress and Cancel: :class:`app.files.opening.FileOpener`), the
questions (:class:`app.state.questions.Questions`) and the one call that shows an opened
document (``show_document``, the model flow's: these points, these columns, this saved
model, these settings). :attr:`Documents.file_opened` or :attr:`Documents.open_failed`
tells how an open went. Nothing here imports torch or gmm_core.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QFileDialog

from ..state.actions import make_action
from ..state.column_names import default_column_names
from ..state.messages import ModelSnapshot
from ..state.presets import OLD_FAITHFUL_FILE
from ..state.questions import Questions
from ..state.session import CheckedPoints, as_points
from . import appdata
from .file_loader import LoadedDocument
from .opening import FileOpener
from .recent_files import MAX_RECENT, RecentFiles
from .resources import resource_path
from .session.autosave import Autosaver
from .session.format import (
    SUFFIX,
    SavedModel,
    SessionData,
    read_session,
    write_session,
)

# MAX_RECENT lives in app.recent_files; importing it from here still works.
__all__ = ["MAX_RECENT", "SKIPPED_MESSAGE_MS", "Documents", "OpenedDocument"]

_TABLES = "*.csv *.tsv *.txt *.dat *.parquet *.pq *.feather *.arrow *.ipc *.npy"
_TABLE_FILTER = f"Tables ({_TABLES})"
_OPEN_FILTER = f"Sessions and tables (*{SUFFIX} {_TABLES});;Sessions (*{SUFFIX});;"

#: How long the status bar tells how many rows an opened table skipped.
SKIPPED_MESSAGE_MS = 20_000


@dataclass(frozen=True, slots=True, eq=False)
class OpenedDocument:
    """A file's contents, handed to the model flow to show (``show_document``).

    Attributes
    ----------
    points : CheckedPoints
        The points, checked already (by the reader's thread), shape (n, D).
    columns : tuple of str
        Their columns' names (D).
    text : str
        The undo command's text ("Open data.csv").
    model : SavedModel or None
        A session's saved model: drawn as saved at once, then learnt on from.
    settings : dict
        A session's settings (:class:`app.files.session.saved_settings.SessionSettings`
        reads them); empty for a table.
    """

    points: CheckedPoints
    columns: tuple[str, ...]
    text: str
    model: SavedModel | None = None
    settings: dict = field(default_factory=dict)


class Documents(QObject):
    """Session files, tables, recent files and autosave.

    Parameters
    ----------
    session : app.state.session.Session
        The points and the undo stack.
    status : app.panels.status_line.StatusLine
        Where a file being read shows, with progress and Cancel.
    questions : app.state.questions.Questions
        Every question asked and every failure told.
    drawn_model : callable
        ``drawn_model()``: the drawn ``ModelSnapshot`` or None (saved with the points).
    window_settings : callable
        ``window_settings()``: the settings a session file saves (a JSON dict).
    show_document : callable
        ``show_document(OpenedDocument)``: replace the points and show the model (the
        model flow's open path).
    parent : QObject

    Attributes
    ----------
    file : Path or None
        The session file that Save writes (None: Save asks for a name).
    opener : FileOpener
        Reads the file being opened in the background, with progress and Cancel.
    loader : FileLoader
        The opener's, which reads in its own thread.
    recent : RecentFiles
        The recently opened or saved files (:attr:`recent_menu` is their menu).
    settings : QSettings
        The program's settings (recent files; the window keeps its own state there too).
    """

    file_opened = Signal(str)  # path of a file whose points (and model) are now shown
    open_failed = Signal(str)  # path of a file not opened (unreadable, or cancelled)
    title_changed = Signal(str)  # the window's title for the current file
    new_session_started = Signal()  # New: no points, the view to fit

    def __init__(
        self,
        session,
        status,
        questions: Questions,
        drawn_model: Callable[[], ModelSnapshot | None],
        window_settings: Callable[[], dict],
        show_document: Callable[[OpenedDocument], None],
        parent: QObject | None = None,
    ):
        super().__init__(parent)
        self._session = session
        self._questions = questions
        self._drawn_model = drawn_model
        self._window_settings = window_settings
        self._show_document = show_document
        self.settings = appdata.settings()
        self.file: Path | None = None
        self.autosaver: Autosaver | None = None
        keys = QKeySequence.StandardKey
        owner = questions.parent
        self.open_action = make_action(
            owner, "&Open…", self._open_dialog, keys.Open, "Open a session or a table of points"
        )
        self.save_action = make_action(owner, "&Save", self.save, keys.Save)
        self.new_action = make_action(owner, "&New", self.new_session, keys.New)
        self.save_as_action = make_action(owner, "Save &As…", self.save_as, keys.SaveAs)
        self.recent = RecentFiles(self.settings, owner)
        self.recent.chosen.connect(self._open_recent)
        self.recent_menu = self.recent.menu
        self.opener = FileOpener(status, questions, self)
        self.opener.opened.connect(self._on_opened)
        self.opener.failed.connect(self.open_failed)
        self.loader = self.opener.loader

    # -- opening ---------------------------------------------------------------------------

    def open_file(self, path: str | Path, columns: list[str] | None = None) -> bool:
        """Start opening a session or a table of points (told apart by content).

        The file is read in the background, with a progress bar and a Cancel button in
        the status bar; another open replaces this one. Then a table replaces the points
        (undoable) and trains, in ``columns`` (names); with None, a table of more than two
        numeric columns asks which through ``questions.choose_columns`` once its columns
        are known (None there cancels). Rows with a missing or non-finite value are
        skipped and the status bar says which. A session also restores the settings and
        view and shows its saved model at once, before any training. :attr:`file_opened`
        follows; a bad file shows a message, a Cancel does not, and either emits
        :attr:`open_failed` and changes nothing.

        Returns
        -------
        bool
            True: the read has started (the outcome comes later, as a signal).
        """
        self.opener.start(Path(path), columns)
        return True

    @Slot()
    def open_example(self) -> bool:
        """Open the Old Faithful data shipped in ``resources`` (works from a wheel too)."""
        return self.open_file(self.opener.keep_until_read(resource_path(OLD_FAITHFUL_FILE)))

    def drag_entered(self, event) -> None:
        """Accept a drag that brings local files (the window's ``dragEnterEvent``)."""
        if any(url.isLocalFile() for url in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropped(self, event) -> None:
        """Open the first local file dropped, asking about unsaved changes first."""
        files = [url.toLocalFile() for url in event.mimeData().urls() if url.isLocalFile()]
        if files:
            event.acceptProposedAction()
            if self.may_discard():
                self.open_file(files[0])

    @Slot(object, object)
    def _on_opened(self, path: Path, loaded: LoadedDocument) -> None:
        data = loaded.data
        self.apply_session(data, f"Open {path.name}", loaded.points)
        if loaded.table is not None and loaded.table.n_skipped:
            self._questions.show_message(
                f"{path.name}: {loaded.table.skipped_message()}", SKIPPED_MESSAGE_MS
            )
        if path.suffix == SUFFIX or data.model is not None or data.settings:
            self.set_file(path)  # a session: Save writes it back
        else:
            self.set_file(None, title=path.name)  # a table: Save asks for a session name
        self.recent.add(path)
        self.file_opened.emit(str(path))

    def shutdown(self) -> None:
        """Stop reading (the loader's thread ends)."""
        self.opener.shutdown()

    @Slot()
    def _open_dialog(self) -> None:
        if not self.may_discard():
            return
        path, _ = QFileDialog.getOpenFileName(
            self._questions.parent,
            "Open",
            self.last_dir(),
            _OPEN_FILTER + _TABLE_FILTER + ";;All files (*)",
        )
        if path:
            self.open_file(path)

    # -- sessions --------------------------------------------------------------------------

    def session_data(self) -> SessionData:
        """What a session file holds now (points, settings, model)."""
        session = self._session
        model = None
        snapshot = self._drawn_model()
        if snapshot is not None and snapshot.n_components:
            model = SavedModel.from_snapshot(snapshot)
            if snapshot.generation != session.generation or (
                snapshot.labels.shape[0] > len(session)
            ):
                # a model of other points: keep it, not its labels
                model = dataclasses.replace(model, labels=np.zeros(0, np.int64))
        return SessionData(
            points=session.points,
            settings=self._window_settings(),
            model=model,
            columns=session.columns,
        )

    def apply_session(
        self, data: SessionData, text: str, points: CheckedPoints | None = None
    ) -> None:
        """Show ``data``: points (one undoable edit), settings, view and saved model.

        ``points`` are ``data.points`` checked already (by the reader's thread).
        """
        points = CheckedPoints.take(as_points(data.points, None)) if points is None else points
        self._show_document(
            OpenedDocument(
                points=points,
                columns=tuple(data.column_names()),
                text=text,
                model=data.model,
                settings=dict(data.settings),
            )
        )

    def save_session(self, path: str | Path) -> bool:
        """Write the session to ``path`` (atomically); it becomes the current file."""
        path = Path(path)
        try:
            write_session(path, self.session_data())
        except (OSError, ValueError) as error:
            self._questions.show_error(
                f"Could not save {path.name}:\n{error}\nThe old file is unchanged."
            )
            return False
        self.set_file(path)
        self._session.undo_stack.setClean()
        self.recent.add(path)
        self._questions.show_message(f"Saved {path.name}", 3000)
        return True

    @Slot()
    def save(self) -> bool:
        """Save to the current session file, or ask for one."""
        if self.file is not None:
            return self.save_session(self.file)
        return self.save_as()

    @Slot()
    def save_as(self) -> bool:
        """Ask for a session file name and save there."""
        start = Path(self.last_dir()) / ((self.file.stem if self.file else "untitled") + SUFFIX)
        path, _ = QFileDialog.getSaveFileName(
            self._questions.parent, "Save Session", str(start), f"Sessions (*{SUFFIX})"
        )
        if not path:
            return False
        path = Path(path)
        if path.suffix != SUFFIX:
            path = path.with_name(path.name + SUFFIX)
        return self.save_session(path)

    @Slot()
    def new_session(self) -> bool:
        """Start over with no points (asks about unsaved changes; undoable)."""
        session = self._session
        if not self.may_discard():
            return False
        if len(session):
            session.replace_points(np.zeros((0, 2)), "New Session", default_column_names(2))
        self.new_session_started.emit()
        self.set_file(None)
        session.undo_stack.setClean()
        return True

    def set_file(self, path: Path | None, title: str | None = None) -> None:
        """Make ``path`` the file that Save writes (None: Save asks); ``title`` names it."""
        self.file = path
        name = title or (path.name if path is not None else None)
        self.title_changed.emit(f"{name}[*] – GMM Playground" if name else "GMM Playground[*]")

    def has_unsaved_changes(self) -> bool:
        """Whether the points changed since the last save (or start) and are not empty."""
        if self._session.undo_stack.isClean():
            return False
        return len(self._session) > 0 or self.file is not None

    def may_discard(self) -> bool:
        """Whether unsaved changes may go (saved or discarded); False: cancelled."""
        if not self.has_unsaved_changes():
            return True
        answer = self._questions.ask_save_changes()
        if answer == "save":
            return self.save()
        return answer == "discard"

    # -- recent files ----------------------------------------------------------------------

    def recent_files(self) -> list[str]:
        """The recently opened or saved files, newest first."""
        return self.recent.files()

    def last_dir(self) -> str:
        """The folder that file dialogs open in (the last file's)."""
        return self.recent.last_dir()

    @Slot(str)
    def _open_recent(self, path: str) -> None:
        if self.may_discard():
            self.open_file(path)

    # -- autosave --------------------------------------------------------------------------

    def start_autosave(self, restore: bool | None) -> Autosaver:
        """Offer the last run's autosave if it crashed, then autosave after each change.

        Returns the autosaver; connect whatever else a session file saves (the spin
        boxes) to its ``schedule``.
        """
        self.autosaver = Autosaver(appdata.data_dir(), self.session_data, self)
        self.autosaver.failed.connect(self._on_autosave_failed)
        autosave = self.autosaver.path
        if autosave.exists() and self.autosaver.crashed_before():
            if restore is None:
                restore = self._questions.confirm(
                    "GMM Playground did not close cleanly last time. Restore the points "
                    "and model it autosaved?"
                )
            if restore:
                try:
                    self.apply_session(read_session(autosave), "Restore Autosave")
                except (OSError, ValueError) as error:
                    self._questions.show_error(f"Could not restore the autosave:\n{error}")
        self.autosaver.mark_running()
        self._session.changed.connect(self.autosaver.schedule)
        return self.autosaver

    @Slot(str)
    def _on_autosave_failed(self, message: str) -> None:
        self._questions.show_message(f"Autosave failed: {message}", 8000)
