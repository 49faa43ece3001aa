"""The main window: canvas, side panel, menus and status bar, wired one way.

session (points, undo) -> training controller -> worker thread -> snapshot -> canvas.

Nothing imported here imports torch or gmm_core: the worker thread loads them once the
window shows (see :mod:`app.worker`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (
    QDockWidget,
    QMainWindow,
    QMenu,
    QMessageBox,
    QWidget,
)

from .axes_picker import AxesPicker
from .canvas import Canvas
from .column_choice import choose_columns
from .controller import TrainingController
from .datasets import DataSets
from .density import DensityLayer
from .documents import Documents
from .exports import Exports
from .insight import Insight
from .model_panel import ModelPanel
from .model_selection import ModelSelection
from .resources import app_icon
from .samples import SampleLayer
from .session import Session
from .snapshot import ModelSnapshot
from .status import StatusLine
from .tools import CanvasTools
from .widgets import make_action

#: Clearing more points than this asks first.
CONFIRM_CLEAR_ABOVE = 20


#: A window that is never shown starts its worker thread after this many milliseconds.
WORKER_START_MS = 2000


class MainWindow(QMainWindow):
    """GMM Playground's window.

    The testing contract: ``canvas``, ``components_spin``, ``epochs_spin``,
    ``train_action``, ``clear_action``, ``tool_actions``, ``undo_stack``, ``x_combo``,
    ``y_combo``, :meth:`points`, :meth:`add_points`, :meth:`load_preset`,
    :meth:`open_file`, :meth:`save_session`, :meth:`export_points`,
    :meth:`export_model`, :meth:`export_image`, :attr:`model_updated`, :meth:`confirm`,
    :meth:`ask_save_changes` and :meth:`choose_columns`.

    Parameters
    ----------
    restore_autosave : bool or None
        When the last run did not close cleanly and left an autosave: None asks, True
        restores it without asking, False starts empty.
    """

    model_updated = Signal(object)  # ModelSnapshot, after it has been drawn
    k_scores_ready = Signal(object)  # app.snapshot.KScores: BIC and AIC against K

    def __init__(self, parent: QWidget | None = None, restore_autosave: bool | None = None):
        super().__init__(parent)
        self.setWindowTitle("GMM Playground[*]")
        self.setWindowIcon(app_icon())
        self.setAcceptDrops(True)  # drop a CSV file to open it
        self.resize(1000, 720)
        self.session = Session(self)
        self.controller = TrainingController(self)
        self.canvas = Canvas(self)
        self.setCentralWidget(self.canvas)
        self._snapshot: ModelSnapshot | None = None
        self._closed = False
        self.undo_stack = self.session.undo_stack
        self._build_actions()
        self._build_panel()
        self._build_menus()
        self._build_status_bar()
        self._build_insight()
        self._build_tools_and_files()

        self.session.changed.connect(self._on_session_changed)
        self.controller.snapshot_ready.connect(self._on_snapshot)
        self.controller.busy_changed.connect(self._on_busy_changed)
        self.controller.failed.connect(self._on_failed)
        self.canvas.point_clicked.connect(self._on_point_clicked)
        self.components_spin.valueChanged.connect(self._on_components_changed)
        self.epochs_spin.valueChanged.connect(self.controller.set_epochs)
        self.controller.refit_wanted.connect(self._on_refit_wanted)
        self._update_status()
        self.documents.start_autosave(restore_autosave)
        self.autosaver = self.documents.autosaver
        # The worker thread starts loading torch once the first frame is on screen (see
        # paintEvent), or after WORKER_START_MS for a window that is never shown; a
        # click before it is done waits in the mailbox.
        self._first_frame_painted = False
        QTimer.singleShot(WORKER_START_MS, self.controller, self.controller.start)

    # -- construction --------------------------------------------------------------------

    def _build_actions(self) -> None:
        self.quit_action = make_action(self, "&Quit", self.close, QKeySequence("Ctrl+Q"))

        self.undo_action = self.session.undo_stack.createUndoAction(self, "&Undo")
        self.undo_action.setShortcut(QKeySequence.StandardKey.Undo)
        self.redo_action = self.session.undo_stack.createRedoAction(self, "&Redo")
        self.redo_action.setShortcut(QKeySequence.StandardKey.Redo)

        self.train_action = make_action(
            self,
            "&Train",
            self.train,
            QKeySequence("Ctrl+T"),
            "Refit from scratch on all points, with restarts",
        )
        self.clear_action = make_action(
            self, "&Clear", self._on_clear_triggered, tip="Forget all points and the model"
        )
        self.clear_action.setShortcuts([QKeySequence(Qt.Key.Key_Delete), QKeySequence("Ctrl+L")])
        self.fit_view_action = make_action(
            self,
            "&Fit View to Points",
            lambda: self.canvas.fit_bounds(*self.session.bounds),
            QKeySequence("Ctrl+0"),
        )
        self.about_action = make_action(self, "&About GMM Playground", self._about)
        for action in (
            self.quit_action,
            self.train_action,
            self.clear_action,
            self.fit_view_action,
            self.undo_action,
            self.redo_action,
        ):
            self.addAction(action)  # shortcuts work without the menus too

    def _build_panel(self) -> None:
        self.panel = ModelPanel(self.controller, (self.train_action, self.clear_action), self)
        self._expose(self.panel, "components_spin", "epochs_spin")
        dock = QDockWidget("Model", self)
        dock.setObjectName("model-panel")
        dock.setFeatures(QDockWidget.DockWidgetFeature.NoDockWidgetFeatures)
        dock.setWidget(self.panel)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)

    def _build_menus(self) -> None:
        bar = self.menuBar()
        self.file_menu = bar.addMenu("&File")  # filled in _build_tools_and_files
        edit_menu = self.edit_menu = bar.addMenu("&Edit")
        edit_menu.addActions([self.undo_action, self.redo_action])
        edit_menu.addSeparator()
        edit_menu.addAction(self.clear_action)
        model_menu = bar.addMenu("&Model")
        model_menu.addAction(self.train_action)
        self._model_menu = model_menu
        view_menu = bar.addMenu("&View")
        view_menu.addAction(self.fit_view_action)
        self._view_menu = view_menu
        help_menu = bar.addMenu("&Help")
        help_menu.addAction(self.about_action)

    def _build_status_bar(self) -> None:
        self.status = StatusLine(self)
        self._expose(self.status, "hover_label", "points_label", "components_label")
        self._expose(self.status, "progress_bar", "cancel_button")
        self._expose(self.status, "loglik_label", "bic_label", "state_label", "collapse_label")

    def _expose(self, owner, *names: str) -> None:
        """Make ``owner``'s widgets, actions and methods the window's too (the testing contract)."""
        for name in names:
            setattr(self, name, getattr(owner, name))

    def _update_status(self) -> None:
        self.status.update()

    def _build_insight(self) -> None:
        """Trainers, covariance types, step by step, repair, the likelihood panel."""
        self.insight = Insight(self)
        self.insight.add_to_panel(self.panel.form, self.panel.layout())
        self.insight.add_to_menu(self._model_menu, self._view_menu)
        self.density = DensityLayer(self)
        self._expose(self.density, "density_action")
        self.samples = SampleLayer(self)
        self._expose(self.samples, "sample_action", "keep_samples_action")
        self._view_menu.addAction(self.density_action)
        self._model_menu.addSeparator()
        self._model_menu.addActions([self.sample_action, self.keep_samples_action])
        self._expose(self.insight, "trainer_combo", "covariance_combo", "likelihood_plot")
        self._expose(self.insight, "live_action", "step_action", "play_action", "repair_action")
        self._expose(self.insight, "soft_colors_action", "equal_aspect_action")
        self.model_selection = ModelSelection(self)
        self._expose(self.model_selection, "model_selection_action", "apply_best_k_action")
        self._model_menu.addSeparator()
        self._model_menu.addActions([self.model_selection_action, self.apply_best_k_action])

    # -- the testing contract --------------------------------------------------------------

    def points(self) -> np.ndarray:
        """The current points, shape (n, D) (a copy); ``session.columns`` names them."""
        return np.array(self.session.points)

    def add_points(self, xy) -> None:
        """Add points, shape (n, D) with the session's D, as one undoable edit."""
        self.session.add_points(xy)

    def choose_columns(self, names: list[str]) -> list[str] | None:
        """Ask which of a table's numeric columns to model (None: cancelled)."""
        return choose_columns(names, self.documents.opening, self)

    def confirm(self, text: str) -> bool:
        """Ask a yes/no question; every question the window asks goes through here."""
        answer = QMessageBox.question(
            self,
            "GMM Playground",
            text,
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No,
        )
        return answer == QMessageBox.StandardButton.Yes

    def show_error(self, text: str) -> None:
        """Tell a person something went wrong (a dialog)."""
        QMessageBox.warning(self, "GMM Playground", text)

    # -- commands --------------------------------------------------------------------------

    def train(self) -> None:
        """Refit from scratch with restarts (the Train button)."""
        if len(self.session) == 0:
            self.statusBar().showMessage("Add points first.", 3000)
            return
        self._request_model(train=True)

    def clear(self) -> bool:
        """Clear points and model, asking first when there are many points."""
        n = len(self.session)
        if n == 0:
            return False  # nothing to clear (and no empty edit in the undo history)
        if n > CONFIRM_CLEAR_ABOVE and not self.confirm(
            f"Clear all {n} points and the model? (Undo brings the points back.)"
        ):
            return False
        self.session.clear()
        return True

    @Slot()
    def _on_clear_triggered(self) -> None:
        self.clear()

    # -- documents: files, data sets and exports (app.documents) ------------------------------

    def open_file(self, path: str | Path, columns: list[str] | None = None) -> bool:
        """Start opening a file; ``file_opened`` or ``open_failed`` follows (:class:`Documents`)."""
        return self.documents.open_file(path, columns)

    def save_session(self, path: str | Path) -> bool:
        """Write the session to ``path`` (atomically); it becomes the window's file."""
        return self.documents.save_session(path)

    def ask_save_changes(self) -> str:
        """Ask whether to save unsaved changes: ``"save"``, ``"discard"`` or ``"cancel"``."""
        buttons = QMessageBox.StandardButton
        answer = QMessageBox.question(
            self,
            "GMM Playground",
            "The points have unsaved changes. Save them first?",
            buttons.Save | buttons.Discard | buttons.Cancel,
            buttons.Save,
        )
        return {buttons.Save: "save", buttons.Discard: "discard"}.get(answer, "cancel")

    def export_points(self, path: str | Path) -> bool:
        """Write the points to a CSV file (the columns' names as header, exact), atomically."""
        return self.exports.export_points(path)

    def export_model(self, path: str | Path) -> bool:
        """Write the fitted model as gmm_core's JSON (``GaussianMixture.from_dict`` reads it)."""
        return self.exports.export_model(path)

    def export_image(self, path: str | Path) -> bool:
        """Write the canvas as PNG or SVG (by suffix)."""
        return self.exports.export_image(path)

    def load_preset(self, name: str, replace: bool = True, seed: int = 0) -> None:
        """Generate preset ``name`` from ``seed``; replace the points or add to them."""
        self.data_sets.load_preset(name, replace, seed)

    @Slot()
    def _about(self) -> None:
        QMessageBox.about(
            self,
            "About GMM Playground",
            "<b>GMM Playground</b><p>Click points onto the canvas and watch a Gaussian "
            "mixture learn them live: incremental EM for each new point, then full EM "
            "passes in the background.</p>",
        )

    # -- reactions -------------------------------------------------------------------------

    @Slot(float, float)
    def _on_point_clicked(self, x: float, y: float) -> None:
        if self.session.n_features == 2:  # a click gives two coordinates
            self.session.add_points(np.array([[x, y]]))

    @Slot()
    def _on_session_changed(self) -> None:
        saved = self.documents.take_saved_snapshot()
        if saved is not None:  # an opened session: its model as saved, no training
            self._show_snapshot(saved)
            return
        if self._snapshot is not None and not self._fits_columns(self._snapshot):
            self._snapshot = None  # a model of other columns: not drawn, saved or exported
            self.canvas.forget_model()
        if self.insight.live or len(self.session) == 0:
            self._request_model(train=self.documents.next_edit_trains)
        points = self.session.points
        self.canvas.show_points(self._snapshot_for(points), points)
        self._update_status()

    @Slot()
    def _on_refit_wanted(self) -> None:
        if len(self.session) and self.insight.live:
            self._request_model()

    def request_model(self, *, train: bool = False, step: str = "", repair: bool = False) -> None:
        """Ask for a model of the current points (see :meth:`TrainingController.update`)."""
        self._request_model(train=train, step=step, repair=repair)

    @property
    def snapshot(self) -> ModelSnapshot | None:
        """The drawn model (the primary trainer's in "Compare all")."""
        return self._snapshot

    def _request_model(self, *, train: bool = False, step: str = "", repair: bool = False) -> None:
        """Ask the controller for a model of the session's points."""
        # The regulariser follows the data's extent; a single point (or several at one
        # place) has none, and takes the view's.
        scale = self.session.extent
        if not scale > 0:
            scale = self.canvas.view_extent()
        self.controller.update(
            self.session.points,
            self.session.generation,
            scale,
            train=train,
            step=step,
            repair=repair,
        )

    def _fits_columns(self, snapshot: ModelSnapshot) -> bool:
        """Whether ``snapshot`` is a model of as many columns as the session has."""
        return snapshot.n_components == 0 or snapshot.n_features == self.session.n_features

    def _snapshot_for(self, points: np.ndarray) -> ModelSnapshot | None:
        """The drawn snapshot if its points are a prefix of ``points``, else None."""
        snapshot = self._snapshot
        if snapshot is None or snapshot.generation != self.session.generation:
            return None if len(points) == 0 else snapshot
        return snapshot

    @Slot(int)
    def _on_components_changed(self, value: int) -> None:
        self.controller.set_n_components(value)

    @Slot(object)
    def _on_snapshot(self, snapshot: ModelSnapshot) -> None:
        if snapshot.request_id <= self.documents.ignore_up_to or not self._fits_columns(snapshot):
            return  # a model of the points before a session or table was opened
        # A snapshot of points that changed since (an undo in flight) is still the newest
        # model there is; the points drawn are always the session's.
        self.canvas.show_model(snapshot, self.session.points)
        self.insight.on_snapshot(snapshot)
        if snapshot.trainer != self.canvas.primary_trainer:
            self.model_updated.emit(snapshot)  # "Compare all": drawn beside the primary
            return
        self._snapshot = snapshot
        self._update_status()
        self.status.refresh_readout()  # the model under a still cursor changed
        self.model_updated.emit(snapshot)

    @Slot(bool)
    def _on_busy_changed(self, busy: bool) -> None:
        self._update_status()

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        self.statusBar().showMessage(f"Training failed: {message}", 8000)
        self._update_status()

    # -- tools and documents (issue 10) --------------------------------------------------

    def _build_tools_and_files(self) -> None:
        """Tool bar and Tools menu; files, data sets and settings (:class:`Documents`)."""
        self.tools = CanvasTools(self.canvas, self.session, self)
        self.tool_actions = self.tools.actions
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, self.tools.tool_bar)
        bar = self.menuBar()
        tools_menu = QMenu("&Tools", self)
        tools_menu.addActions(list(self.tool_actions.values()))
        bar.insertMenu(bar.actions()[2], tools_menu)  # after Edit
        for action in self.tool_actions.values():
            self.addAction(action)
        self.documents = Documents(self)
        self.exports = Exports(self)
        self.data_sets = DataSets(self)
        self.axes = AxesPicker(self)
        self._expose(self.axes, "x_combo", "y_combo")
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, self.axes.tool_bar)
        self.edit_menu.insertAction(self.edit_menu.actions()[2], self.data_sets.paste_action)
        bar.insertMenu(bar.actions()[3], self.data_sets.data_menu)  # after Tools
        documents = self.documents
        menu = self.file_menu
        menu.addActions([documents.new_action, documents.open_action])
        menu.addMenu(documents.recent_menu)
        menu.addMenu(self.data_sets.example_menu)
        menu.addSeparator()
        menu.addActions([documents.save_action, documents.save_as_action])
        menu.addSeparator()
        menu.addActions(self.exports.actions)
        menu.addSeparator()
        menu.addAction(self.quit_action)
        self._expose(documents, "open_action", "save_action", "new_action")
        self._expose(documents, "save_as_action", "recent_menu", "file_opened", "open_failed")
        self._expose(self.data_sets, "example_action", "iris_action")
        # Delegates of the documents and data sets (each documented there).
        self._expose(documents, "save", "save_as", "new_session", "session_data")
        self._expose(documents, "has_unsaved_changes", "recent_files")
        self._expose(self.data_sets, "open_example", "paste_points")
        self.save_file = self.exports.export_points  # the old name, kept for scripts
        self._expose(self.exports, "export_points_action", "export_model_action")
        self._expose(self.exports, "export_image_action")
        self._expose(self.data_sets, "paste_action", "preset_adds_action")
        for action in (
            self.open_action,
            self.save_action,
            self.paste_action,
            self.new_action,
            self.save_as_action,
        ):
            self.addAction(action)  # shortcuts work without the menus too
        self.undo_stack.cleanChanged.connect(self._on_clean_changed)
        self.documents.restore_settings()

    @Slot(bool)
    def _on_clean_changed(self, clean: bool) -> None:
        self.setWindowModified(not clean)

    def _show_snapshot(self, snapshot: ModelSnapshot) -> None:
        """Draw an opened session's model as saved; the worker is not asked."""
        self.canvas.show_model(snapshot, self.session.points)
        self._snapshot = snapshot
        self._update_status()
        self.model_updated.emit(snapshot)

    # -- drag and drop ---------------------------------------------------------------------

    def paintEvent(self, event) -> None:  # noqa: D102
        super().paintEvent(event)
        if not self._first_frame_painted:
            self._first_frame_painted = True
            # Importing torch holds the GIL for about a second: let this frame finish first.
            QTimer.singleShot(0, self.controller, self.controller.start)

    def dragEnterEvent(self, event) -> None:  # noqa: D102
        self.documents.drag_entered(event)

    def dropEvent(self, event) -> None:  # noqa: D102
        self.documents.dropped(event)

    # -- closing ---------------------------------------------------------------------------

    def closeEvent(self, event) -> None:  # noqa: D102
        if not self._closed and not self.documents.may_discard():
            event.ignore()  # "cancel": everything stays as it was
            return
        self.tools.finish_stroke()
        self.documents.store_settings()
        self.autosaver.mark_clean_exit()
        self._closed = True
        self.shutdown()
        super().closeEvent(event)

    def shutdown(self) -> None:
        """Stop the worker threads (also called on application quit)."""
        self.controller.shutdown()
        self.documents.shutdown()
        self.canvas.point_density.shutdown()
        self.model_selection.shutdown()
        self.density.shutdown()
