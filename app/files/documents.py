"""The window's documents: session files, tables, recent files, settings, autosave.

:class:`Documents` builds the actions New, Open, Open Recent, Save and Save As
for a :class:`app.main_window.MainWindow`, and owns what they need: the window's file,
the autosaver, and the hand-over of an opened session's saved model to the window
(drawn at once, before any training). Its collaborators each own one part: files are
read in the background with a progress bar and a Cancel button in the status bar
(:class:`app.files.opening.FileOpener`), and :attr:`Documents.file_opened` or
:attr:`Documents.open_failed` tells how it went; the recent files and the last folder
are :class:`app.files.recent_files.RecentFiles`; the window's part of a session file is
:mod:`app.files.session.saved_settings`, and what it remembers between runs
:mod:`app.files.window_settings`. The window keeps its public names (``window.open_file``,
``window.save_session``, ...) as thin delegates, and builds the menus. Every question
goes through ``window.confirm``, ``window.ask_save_changes`` and ``window.show_error``.
Nothing here imports torch or gmm_core.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QFileDialog

from ..state.actions import make_action
from ..state.column_names import default_column_names
from ..state.messages import ModelSnapshot, ModelStart
from ..state.presets import OLD_FAITHFUL_FILE
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
from .session.saved_settings import (
    apply_model_settings,
    apply_view_settings,
    collect_session_settings,
)
from .window_settings import restore_window_settings, store_window_settings

# MAX_RECENT lives in app.recent_files; importing it from here still works.
__all__ = ["MAX_RECENT", "SKIPPED_MESSAGE_MS", "Documents"]

_TABLES = "*.csv *.tsv *.txt *.dat *.parquet *.pq *.feather *.arrow *.ipc *.npy"
_TABLE_FILTER = f"Tables ({_TABLES})"
_OPEN_FILTER = f"Sessions and tables (*{SUFFIX} {_TABLES});;Sessions (*{SUFFIX});;"

#: How long the status bar tells how many rows an opened table skipped.
SKIPPED_MESSAGE_MS = 20_000


class Documents(QObject):
    """Session files, tables, recent files, settings and autosave of ``window``.

    Attributes
    ----------
    file : Path or None
        The session file that Save writes (None: Save asks for a name).
    saved_snapshot : ModelSnapshot or None
        While an opened session replaces the points: its saved model, which the window
        draws instead of asking the worker (see :meth:`take_saved_snapshot`).
    next_edit_trains : bool
        While an opened table (no saved model) replaces the points: that edit asks for
        Train, with restarts.
    ignore_up_to : int
        Snapshots of requests up to this id predate an opened model; the window drops them.
    opener : FileOpener
        Reads the file being opened in the background, with progress and Cancel.
    loader : FileLoader
        The opener's, which reads in its own thread.
    recent : RecentFiles
        The recently opened or saved files (:attr:`recent_menu` is their menu).
    """

    file_opened = Signal(str)  # path of a file whose points (and model) are now shown
    open_failed = Signal(str)  # path of a file not opened (unreadable, or cancelled)

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.settings = appdata.settings()
        self.file: Path | None = None
        self.saved_snapshot: ModelSnapshot | None = None
        self.next_edit_trains = False
        self.ignore_up_to = -1
        self.autosaver: Autosaver | None = None
        keys = QKeySequence.StandardKey
        self.open_action = make_action(
            window, "&Open…", self._open_dialog, keys.Open, "Open a session or a table of points"
        )
        self.save_action = make_action(window, "&Save", self.save, keys.Save)
        self.new_action = make_action(window, "&New", self.new_session, keys.New)
        self.save_as_action = make_action(window, "Save &As…", self.save_as, keys.SaveAs)
        self.recent = RecentFiles(self.settings, window)
        self.recent.chosen.connect(self._open_recent)
        self.recent_menu = self.recent.menu
        self.opener = FileOpener(window)
        self.opener.opened.connect(self._on_opened)
        self.opener.failed.connect(self.open_failed)
        self.loader = self.opener.loader

    # -- opening ---------------------------------------------------------------------------

    def open_file(self, path: str | Path, columns: list[str] | None = None) -> bool:
        """Start opening a session or a table of points (told apart by content).

        The file is read in the background, with a progress bar and a Cancel button in
        the status bar; another open replaces this one. Then a table replaces the points
        (undoable) and trains, in ``columns`` (names); with None, a table of more than two
        numeric columns asks which through ``window.choose_columns`` once its columns are
        known (None there cancels). Rows with a missing or non-finite value are skipped
        and the status bar says which. A session also restores the settings and view and
        shows its saved model at once, before any training. :attr:`file_opened` follows;
        a bad file shows a message, a Cancel does not, and either emits
        :attr:`open_failed` and changes nothing.

        Returns
        -------
        bool
            True: the read has started (the outcome comes later, as a signal).
        """
        self.opener.start(Path(path), columns)
        return True

    @property
    def opening(self) -> str:
        """The name of the file whose columns are being asked about ("" otherwise)."""
        return self.opener.opening

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
                self.window.open_file(files[0])

    @Slot(object, object)
    def _on_opened(self, path: Path, loaded: LoadedDocument) -> None:
        data = loaded.data
        self.apply_session(data, f"Open {path.name}", loaded.points)
        if loaded.table is not None and loaded.table.n_skipped:
            self.window.statusBar().showMessage(
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
            self.window, "Open", self.last_dir(), _OPEN_FILTER + _TABLE_FILTER + ";;All files (*)"
        )
        if path:
            self.open_file(path)

    # -- sessions --------------------------------------------------------------------------

    def session_data(self) -> SessionData:
        """What a session file of the window holds now (points, settings, model)."""
        window = self.window
        session = window.session
        model = None
        snapshot = window.snapshot
        if snapshot is not None and snapshot.n_components:
            model = SavedModel.from_snapshot(snapshot)
            if snapshot.generation != session.generation or (
                snapshot.labels.shape[0] > len(session)
            ):
                # a model of other points: keep it, not its labels
                model = dataclasses.replace(model, labels=np.zeros(0, np.int64))
        return SessionData(
            points=session.points,
            settings=collect_session_settings(window),
            model=model,
            columns=session.columns,
        )

    def apply_session(
        self, data: SessionData, text: str, points: CheckedPoints | None = None
    ) -> None:
        """Show ``data``: points (one undoable edit), settings, view and saved model.

        ``points`` are ``data.points`` checked already (by the reader's thread).
        """
        window = self.window
        points = CheckedPoints.take(as_points(data.points, None)) if points is None else points
        controller = window.controller
        apply_model_settings(window, data.settings)
        start = None
        if data.model is not None:
            generation = window.session.generation + 1  # replace_points starts a new one
            self.ignore_up_to = controller.latest_request_id
            self.saved_snapshot = data.model.snapshot(
                data.points, controller.latest_request_id, generation
            )
            if data.model.gmm_core is not None:
                # A model that labelled every point learnt them all; otherwise the worker
                # relearns the points from its parameters (another generation).
                learnt_all = data.model.labels.shape[0] == data.points.shape[0]
                start = ModelStart(
                    model=data.model.gmm_core,
                    generation=generation if learnt_all else -1,
                    n_points=data.points.shape[0] if learnt_all else 0,
                    means=data.model.means,
                    colors=data.model.colors,
                )
        else:
            self.next_edit_trains = True  # one request for the file: Train, with restarts
        controller.continue_from(start)
        try:
            window.session.replace_points(points, text, data.column_names())
        finally:
            self.next_edit_trains = False
            self.saved_snapshot = None
        apply_view_settings(window, data.settings, data.points.shape[1])

    def take_saved_snapshot(self) -> ModelSnapshot | None:
        """The opened session's saved model, handed over once (then None)."""
        snapshot, self.saved_snapshot = self.saved_snapshot, None
        return snapshot

    def save_session(self, path: str | Path) -> bool:
        """Write the session to ``path`` (atomically); it becomes the window's file."""
        path = Path(path)
        try:
            write_session(path, self.session_data())
        except (OSError, ValueError) as error:
            self.window.show_error(
                f"Could not save {path.name}:\n{error}\nThe old file is unchanged."
            )
            return False
        self.set_file(path)
        self.window.undo_stack.setClean()
        self.recent.add(path)
        self.window.statusBar().showMessage(f"Saved {path.name}", 3000)
        return True

    @Slot()
    def save(self) -> bool:
        """Save to the window's session file, or ask for one."""
        if self.file is not None:
            return self.save_session(self.file)
        return self.save_as()

    @Slot()
    def save_as(self) -> bool:
        """Ask for a session file name and save there."""
        start = Path(self.last_dir()) / ((self.file.stem if self.file else "untitled") + SUFFIX)
        path, _ = QFileDialog.getSaveFileName(
            self.window, "Save Session", str(start), f"Sessions (*{SUFFIX})"
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
        window = self.window
        if not self.may_discard():
            return False
        if len(window.session):
            window.session.replace_points(np.zeros((0, 2)), "New Session", default_column_names(2))
        window.canvas.fit_view(window.session.points)
        self.set_file(None)
        window.undo_stack.setClean()
        return True

    def set_file(self, path: Path | None, title: str | None = None) -> None:
        """Make ``path`` the file that Save writes (None: Save asks); ``title`` names the window."""
        self.file = path
        name = title or (path.name if path is not None else None)
        window = self.window
        window.setWindowTitle(f"{name}[*] – GMM Playground" if name else "GMM Playground[*]")
        window.setWindowModified(not window.undo_stack.isClean())

    def has_unsaved_changes(self) -> bool:
        """Whether the points changed since the last save (or start) and are not empty."""
        if self.window.undo_stack.isClean():
            return False
        return len(self.window.session) > 0 or self.file is not None

    def may_discard(self) -> bool:
        """Whether unsaved changes may go (saved or discarded); False: cancelled."""
        if not self.has_unsaved_changes():
            return True
        answer = self.window.ask_save_changes()
        if answer == "save":
            return self.save()
        return answer == "discard"

    # -- settings and recent files ---------------------------------------------------------

    def restore_settings(self) -> None:
        """Restore the window's geometry, spin boxes and tool options from the last run."""
        restore_window_settings(self.settings, self.window)

    def store_settings(self) -> None:
        """Remember what :meth:`restore_settings` restores."""
        store_window_settings(self.settings, self.window)

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

    def start_autosave(self, restore: bool | None) -> None:
        """Offer the last run's autosave if it crashed, then autosave after each change."""
        window = self.window
        self.autosaver = Autosaver(appdata.data_dir(), self.session_data, window)
        self.autosaver.failed.connect(self._on_autosave_failed)
        autosave = self.autosaver.path
        if autosave.exists() and self.autosaver.crashed_before():
            if restore is None:
                restore = window.confirm(
                    "GMM Playground did not close cleanly last time. Restore the points "
                    "and model it autosaved?"
                )
            if restore:
                try:
                    self.apply_session(read_session(autosave), "Restore Autosave")
                except (OSError, ValueError) as error:
                    window.show_error(f"Could not restore the autosave:\n{error}")
        self.autosaver.mark_running()
        window.session.changed.connect(self.autosaver.schedule)
        window.components_spin.valueChanged.connect(self.autosaver.schedule)
        window.epochs_spin.valueChanged.connect(self.autosaver.schedule)

    @Slot(str)
    def _on_autosave_failed(self, message: str) -> None:
        self.window.statusBar().showMessage(f"Autosave failed: {message}", 8000)
