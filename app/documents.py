"""The window's documents: session files, tables, recent files, settings, autosave.

:class:`Documents` builds the actions New, Open, Open Recent, Save and Save As
for a :class:`app.main_window.MainWindow`, and owns what they need: the window's file,
the settings (recent files, the last folder, the window's geometry and spin boxes), the
autosaver, and the hand-over of an opened session's saved model to the window (drawn at
once, before any training). Files are read in the background
(:class:`app.file_loader.FileLoader`), with a progress bar and a Cancel button in the
status bar; :attr:`Documents.file_opened` or :attr:`Documents.open_failed` tells how it
went. The window keeps its public names (``window.open_file``, ``window.save_session``,
...) as thin delegates, and builds the menus. Every question goes through
``window.confirm``, ``window.ask_save_changes`` and ``window.show_error``. Nothing here
imports torch or gmm_core.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QFileDialog, QMenu

from . import appdata
from .autosave import Autosaver
from .column_names import default_column_names
from .file_loader import FileLoader, LoadedDocument
from .presets import OLD_FAITHFUL_FILE
from .resources import resource_path
from .session import CheckedPoints, as_points
from .session_file import (
    SUFFIX,
    SavedModel,
    SessionData,
    read_session,
    write_session,
)
from .snapshot import ModelSnapshot, ModelStart
from .widgets import make_action

#: Open Recent lists at most this many files.
MAX_RECENT = 8

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
    loader : FileLoader
        Reads the file being opened in its own thread.
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
        self.opening = ""  # the name of the file being opened (for the column question)
        self.save_action = make_action(window, "&Save", self.save, keys.Save)
        self.new_action = make_action(window, "&New", self.new_session, keys.New)
        self.save_as_action = make_action(window, "Save &As…", self.save_as, keys.SaveAs)
        self.recent_menu = QMenu("Open &Recent", window)
        self.recent_menu.aboutToShow.connect(self._fill_recent_menu)
        self.loader = FileLoader(self)
        self.loader.progressed.connect(window.status.set_task_progress)
        self.loader.loaded.connect(self._on_loaded)
        self.loader.failed.connect(self._on_failed)
        self.loader.cancelled.connect(self._on_cancelled)
        self.loader.columns_needed.connect(self._on_columns_needed)
        window.status.task_cancelled.connect(self.loader.cancel)
        self._resource = None  # an example's file, kept until it is read

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
        path = Path(path)
        self.window.status.begin_task(f"Opening {path.name}…")
        self.loader.start(path, columns)
        return True

    @Slot()
    def open_example(self) -> bool:
        """Open the Old Faithful data shipped in ``resources`` (works from a wheel too)."""
        self._release_resource()
        self._resource = resource_path(OLD_FAITHFUL_FILE)  # a real file until it is read
        return self.open_file(self._resource.__enter__())

    def _release_resource(self) -> None:
        resource, self._resource = self._resource, None
        if resource is not None:
            resource.__exit__(None, None, None)

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

    @Slot(object, list)
    def _on_columns_needed(self, path: Path, numeric: list) -> None:
        """Ask which of a table's numeric columns to model, then read them."""
        self.opening = path.name
        try:
            chosen = self.window.choose_columns(list(numeric))
        finally:
            self.opening = ""
        if chosen is None:
            self._finish_task()
            self.open_failed.emit(str(path))
        else:
            self.loader.start(path, list(chosen))

    @Slot(object, object)
    def _on_loaded(self, path: Path, loaded: LoadedDocument) -> None:
        self._finish_task()
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
        self._add_recent(path)
        self.file_opened.emit(str(path))

    @Slot(object, str)
    def _on_failed(self, path: Path, message: str) -> None:
        self._finish_task()
        self.window.show_error(f"Could not open {path.name}:\n{message}")
        self.open_failed.emit(str(path))

    @Slot(object)
    def _on_cancelled(self, path: Path) -> None:
        self._finish_task()
        self.window.statusBar().showMessage(f"Opening {path.name} cancelled.", 5000)
        self.open_failed.emit(str(path))

    def _finish_task(self) -> None:
        self.window.status.end_task()
        self._release_resource()

    def shutdown(self) -> None:
        """Stop reading (the loader's thread ends)."""
        self.loader.shutdown()
        self._release_resource()

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
        (x0, x1), (y0, y1) = window.canvas.view_box.viewRange()
        settings = {
            "n_components": window.controller.n_components,
            "epochs": window.controller.epochs,
            "view": [float(x0), float(x1), float(y0), float(y1)],
            "axes": list(window.canvas.pair),
        }
        model = None
        snapshot = window.snapshot
        if snapshot is not None and snapshot.n_components:
            model = SavedModel.from_snapshot(snapshot)
            if snapshot.generation != session.generation or (
                snapshot.labels.shape[0] > len(session)
            ):
                # a model of other points: keep it, not its labels
                model = SavedModel(**{**model.__dict__, "labels": np.zeros(0, np.int64)})
        return SessionData(
            points=session.points, settings=settings, model=model, columns=session.columns
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
        settings = data.settings
        n_components = settings.get("n_components")
        spin = window.components_spin
        if isinstance(n_components, int) and 1 <= n_components <= spin.maximum():
            spin.blockSignals(True)
            spin.setValue(n_components)
            spin.blockSignals(False)
            controller.n_components = n_components
        epochs = settings.get("epochs")
        if isinstance(epochs, int) and 0 <= epochs <= window.epochs_spin.maximum():
            window.epochs_spin.setValue(epochs)
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
        self._apply_view(data)

    def _apply_view(self, data: SessionData) -> None:
        """The shown columns and the view a session saved, or a view fitted to the points."""
        window = self.window
        axes, view = data.settings.get("axes"), data.settings.get("view")
        d = data.points.shape[1]
        if (
            isinstance(axes, list)
            and len(axes) == 2
            and all(isinstance(a, int) and not isinstance(a, bool) and 0 <= a < d for a in axes)
            and axes[0] != axes[1]
        ):
            window.axes.set_pair(axes[0], axes[1])
        if (
            isinstance(view, list)
            and len(view) == 4
            and all(isinstance(v, int | float) and np.isfinite(v) for v in view)
            and view[1] > view[0]
            and view[3] > view[2]
        ):
            window.canvas.view_box.setRange(xRange=view[:2], yRange=view[2:], padding=0)
        else:
            window.axes.fit_view()  # independent scales for unlike spans

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
        self._add_recent(path)
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

    # -- settings and recent files -----------------------------------------------------------

    def restore_settings(self) -> None:
        """Restore the window's geometry, spin boxes and tool options from the last run."""
        settings, window = self.settings, self.window
        geometry = settings.value("window/geometry")
        if geometry is not None:
            window.restoreGeometry(geometry)
        window.components_spin.setValue(int(settings.value("model/components", 3)))
        window.epochs_spin.setValue(int(settings.value("model/epochs", 20)))
        window.tools.radius_spin.setValue(int(settings.value("tools/radius", 30)))
        window.tools.intensity_spin.setValue(int(settings.value("tools/intensity", 10)))

    def store_settings(self) -> None:
        """Remember what :meth:`restore_settings` restores."""
        settings, window = self.settings, self.window
        settings.setValue("window/geometry", window.saveGeometry())
        settings.setValue("model/components", window.components_spin.value())
        settings.setValue("model/epochs", window.epochs_spin.value())
        settings.setValue("tools/radius", window.tools.radius_spin.value())
        settings.setValue("tools/intensity", window.tools.intensity_spin.value())
        settings.sync()

    def recent_files(self) -> list[str]:
        """The recently opened or saved files, newest first."""
        value = self.settings.value("files/recent", [])
        if isinstance(value, str):
            value = [value]
        return [str(v) for v in (value or [])]

    def _add_recent(self, path: Path) -> None:
        try:
            name = str(Path(path).resolve())
        except OSError:
            return
        recent = [name] + [p for p in self.recent_files() if p != name]
        self.settings.setValue("files/recent", recent[:MAX_RECENT])
        self.settings.setValue("files/last_dir", str(Path(name).parent))

    @Slot()
    def _fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        for name in self.recent_files():
            action = self.recent_menu.addAction(name)
            action.setData(name)
            action.triggered.connect(self._on_recent_triggered)
        if self.recent_menu.isEmpty():
            self.recent_menu.addAction("(none)").setEnabled(False)

    @Slot()
    def _on_recent_triggered(self) -> None:
        if self.may_discard():
            self.open_file(self.sender().data())

    def last_dir(self) -> str:
        """The folder that file dialogs open in (the last file's)."""
        return str(self.settings.value("files/last_dir", str(Path.home())))

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
