"""The main window: canvas, side panel, menus and status bar, wired one way.

session (points, undo) -> training controller -> worker thread -> snapshot -> canvas
(:class:`app.model_flow.ModelFlow` runs that flow; the window builds and holds the parts).

Nothing imported here imports torch or gmm_core: the worker thread loads them once the
window shows (see :mod:`app.training.worker`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import QDockWidget, QMainWindow, QWidget

from .canvas.axes_picker import AxesPicker
from .canvas.model_density import DensityLayer
from .canvas.samples import SampleLayer
from .canvas.tools import CanvasTools
from .canvas.widget import Canvas
from .datasets import DataSets
from .files.animation import AnimationExport
from .files.documents import Documents, OpenedDocument
from .files.exports import Exports
from .files.resources import app_icon
from .model_flow import ModelFlow
from .panels import dialogs
from .panels.column_choice import choose_columns
from .panels.insight import Insight
from .panels.model_panel import ModelPanel
from .panels.model_selection import ModelSelection
from .panels.pairs_view import PairsView
from .panels.status_line import StatusLine
from .state.messages import ModelSnapshot
from .state.questions import Questions
from .state.session import Session
from .training.controller import TrainingController
from .window_actions import WindowActions
from .window_menus import WindowMenus
from .window_state import (
    apply_model_settings,
    apply_view_settings,
    collect_session_settings,
    restore_window_settings,
    store_window_settings,
)

#: Clearing more points than this asks first.
CONFIRM_CLEAR_ABOVE = 20


#: The pairs view's smallest width and height, in pixels.
PAIRS_MIN_SIZE = 420

#: A window that is never shown starts its worker thread after this many milliseconds.
WORKER_START_MS = 2000


class MainWindow(QMainWindow):
    """GMM Playground's window.

    The testing contract: ``canvas``, ``components_spin``, ``epochs_spin``,
    ``train_action``, ``clear_action``, ``tool_actions``, ``undo_stack``, ``x_combo``,
    ``y_combo``, :meth:`points`, :meth:`add_points`, :meth:`load_preset`,
    :meth:`open_file`, :meth:`save_session`, :meth:`export_points`,
    :meth:`export_model`, :meth:`export_image`, :attr:`model_updated`, :meth:`confirm`,
    :meth:`ask_save_changes` and :meth:`choose_columns`; the history's
    ``history_slider``, :attr:`snapshot` (the moment drawn while scrubbed),
    :meth:`export_animation` and ``animation_finished``; ``pairs_action`` and
    ``pairs_view``.

    Parameters
    ----------
    restore_autosave : bool or None
        When the last run did not close cleanly and left an autosave: None asks, True
        restores it without asking, False starts empty.
    """

    model_updated = Signal(object)  # ModelSnapshot, after it has been drawn
    k_scores_ready = Signal(object)  # app.state.messages.KScores: BIC and AIC against K

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
        self._closed = False
        self.undo_stack = self.session.undo_stack
        self.questions = Questions(
            parent=self,
            # through the window's methods, which tests and scripts may replace
            confirm=lambda text: self.confirm(text),
            ask_save_changes=lambda: self.ask_save_changes(),
            show_error=lambda text: self.show_error(text),
            choose_columns=lambda names, file_name: self.choose_columns(names, file_name),
            show_message=lambda text, ms: self.statusBar().showMessage(text, ms),
        )
        self.commands = WindowActions(
            self,
            self.undo_stack,
            train=self.train,
            clear=self._on_clear_triggered,
            fit_view=lambda: self.canvas.fit_bounds(*self.session.bounds),
        )
        self._expose(self.commands, "quit_action", "undo_action", "redo_action")
        self._expose(self.commands, "train_action", "clear_action", "fit_view_action")
        self._expose(self.commands, "about_action")
        self._build_panel()
        self._build_status_bar()
        self._build_insight()
        self._build_tools_and_files()
        self.menus = WindowMenus(
            self,
            commands=self.commands,
            tools=self.tools,
            documents=self.documents,
            data_sets=self.data_sets,
            exports=self.exports,
            animation=self.animation,
            insight=self.insight,
            samples=self.samples,
            density=self.density,
            model_selection=self.model_selection,
        )
        self.file_menu, self.edit_menu = self.menus.file_menu, self.menus.edit_menu
        self._build_pairs_view()
        self.undo_stack.cleanChanged.connect(self._on_clean_changed)
        restore_window_settings(self.documents.settings, self)

        self.flow.model_updated.connect(self.model_updated)
        self.flow.model_updated.connect(self.density.on_model)
        self.history.moved.connect(self.density.refresh)  # the map of the moment drawn
        self.training_failure = dialogs.FailureNotice(self, "Training failed")
        self.flow.training_failed.connect(self.training_failure.show)
        self.canvas.point_clicked.connect(self._on_point_clicked)
        self.canvas.pair_changed.connect(self.status.refresh_readout)
        self.components_spin.valueChanged.connect(self._on_components_changed)
        self.epochs_spin.valueChanged.connect(self.controller.set_epochs)
        self.controller.refit_wanted.connect(self.flow.refit_if_live)
        self.status.update()
        self.autosaver = self.documents.start_autosave(restore_autosave)
        self.components_spin.valueChanged.connect(self.autosaver.schedule)
        self.epochs_spin.valueChanged.connect(self.autosaver.schedule)
        # The worker thread starts loading torch once the first frame is on screen (see
        # paintEvent), or after WORKER_START_MS for a window that is never shown; a
        # click before it is done waits in the mailbox.
        self._first_frame_painted = False
        QTimer.singleShot(WORKER_START_MS, self.controller, self.controller.start)

    # -- construction --------------------------------------------------------------------

    def _build_panel(self) -> None:
        self.panel = ModelPanel(self.controller, (self.train_action, self.clear_action), self)
        self._expose(self.panel, "components_spin", "epochs_spin")
        dock = QDockWidget("Model", self)
        dock.setObjectName("model-panel")
        dock.setFeatures(QDockWidget.DockWidgetFeature.NoDockWidgetFeatures)
        dock.setWidget(self.panel)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)

    def _build_status_bar(self) -> None:
        self.status = StatusLine(self)
        self._expose(self.status, "hover_label", "points_label", "components_label")
        self._expose(self.status, "progress_bar", "cancel_button")
        self._expose(self.status, "loglik_label", "bic_label", "state_label", "collapse_label")

    def _build_pairs_view(self) -> None:
        """View > All Pairs: the grid of every pair of columns, in a dock of its own."""
        self.pairs_view = PairsView(self.session, self._drawn_model, self)
        dock = QDockWidget("All pairs of columns", self)
        dock.setObjectName("pairs-view")
        dock.setWidget(self.pairs_view)
        self.pairs_view.setMinimumSize(PAIRS_MIN_SIZE, PAIRS_MIN_SIZE)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, dock)
        dock.hide()
        self.pairs_dock = dock
        self.pairs_action = dock.toggleViewAction()
        self.pairs_action.setText("All &Pairs")
        self.pairs_action.setToolTip("A grid of every pair of columns (tables of 3 or more)")
        self.menus.view_menu.addAction(self.pairs_action)
        for signal in (self.flow.model_updated, self.history.moved, self.session.changed):
            signal.connect(self.pairs_view.schedule)
        self.pairs_view.pair_clicked.connect(self.axes.set_pair)
        self.session.columns_changed.connect(self._on_columns_for_pairs)
        self._on_columns_for_pairs()

    @Slot()
    def _on_columns_for_pairs(self) -> None:
        many = self.session.n_features > 2
        self.pairs_action.setEnabled(many)
        if not many:
            self.pairs_dock.hide()

    def _expose(self, owner, *names: str) -> None:
        """Make ``owner``'s widgets, actions and methods the window's too (the testing contract)."""
        for name in names:
            setattr(self, name, getattr(owner, name))

    def _build_insight(self) -> None:
        """Trainers, covariance types, step by step, repair, the likelihood panel."""
        self.insight = Insight(self)
        self.insight.add_to_panel(self.panel.form, self.panel.layout())
        self.flow = ModelFlow(
            self.session,
            self.controller,
            self.canvas,
            self.insight,
            self.status,
            self.statusBar(),
            self,
        )
        self.history = self.flow.history
        self.insight.add_under_likelihood(self.history.bar)
        self.history_slider = self.history.slider
        self.density = DensityLayer(self.canvas, self._drawn_model, self)
        self._expose(self.density, "density_action")
        self.samples = SampleLayer(
            self.canvas, self.session, self._drawn_model, self.questions.show_message, self
        )
        self._expose(self.samples, "sample_action", "keep_samples_action")
        self._expose(self.insight, "trainer_combo", "covariance_combo", "likelihood_plot")
        self._expose(self.insight, "live_action", "step_action", "play_action", "repair_action")
        self._expose(self.insight, "soft_colors_action", "equal_aspect_action", "prior_spin")
        self.model_selection = ModelSelection(self)
        self._expose(self.model_selection, "model_selection_action", "apply_best_k_action")

    def _build_tools_and_files(self) -> None:
        """Tools and their tool bar; files, data sets, exports and the axes (:class:`Documents`)."""
        self.tools = CanvasTools(self.canvas, self.session, self)
        self.tool_actions = self.tools.actions
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, self.tools.tool_bar)
        self.documents = Documents(
            self.session,
            self.status,
            self.questions,
            drawn_model=self._live_model,  # saved: the live model, even while scrubbed
            window_settings=lambda: collect_session_settings(self),
            show_document=self._show_document,
            parent=self,
        )
        self.documents.title_changed.connect(self._on_title_changed)
        self.documents.new_session_started.connect(self._on_new_session)
        self.exports = Exports(
            self.session,
            self._live_model,
            self.canvas,
            self.questions,
            self.documents.last_dir,
            self,
        )
        self.animation = AnimationExport(
            self.canvas,
            self.history,
            self.status,
            self.questions,
            self.documents.last_dir,
            frame_ms=lambda: round(1000 / self.history.speed_spin.value()),
            parent=self,
        )
        self.export_animation_action = self.animation.action
        self.animation_finished = self.animation.finished
        self.data_sets = DataSets(self)
        self.axes = AxesPicker(
            self.canvas, self.session, self.statusBar(), self.insight.view_for_bounds, self
        )
        self.axes.editable_changed.connect(self.tools.set_editable)
        self.axes.editable_changed.connect(self.data_sets.paste_action.setEnabled)
        self.tools.set_editable(self.session.n_features == 2)
        self.data_sets.paste_action.setEnabled(self.session.n_features == 2)
        self._expose(self.axes, "x_combo", "y_combo")
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, self.axes.tool_bar)
        documents = self.documents
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

    # -- the testing contract --------------------------------------------------------------

    def points(self) -> np.ndarray:
        """The current points, shape (n, D) (a copy); ``session.columns`` names them."""
        return np.array(self.session.points)

    def add_points(self, xy) -> None:
        """Add points, shape (n, D) with the session's D, as one undoable edit."""
        self.session.add_points(xy)

    def choose_columns(self, names: list[str], file_name: str = "") -> list[str] | None:
        """Ask which of a table's numeric columns to model (None: cancelled)."""
        return choose_columns(names, file_name, self)

    def confirm(self, text: str) -> bool:
        """Ask a yes/no question; every question the window asks goes through here."""
        return dialogs.ask_yes_no(self, text)

    def show_error(self, text: str) -> None:
        """Tell a person something went wrong (a dialog)."""
        dialogs.show_error(self, text)

    # -- commands --------------------------------------------------------------------------

    def train(self) -> None:
        """Refit from scratch with restarts (the Train button)."""
        self.flow.train()

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

    # -- documents: files, data sets and exports (app.files.documents) -------------------

    def open_file(self, path: str | Path, columns: list[str] | None = None) -> bool:
        """Start opening a file; ``file_opened`` or ``open_failed`` follows (:class:`Documents`)."""
        return self.documents.open_file(path, columns)

    def save_session(self, path: str | Path) -> bool:
        """Write the session to ``path`` (atomically); it becomes the window's file."""
        return self.documents.save_session(path)

    def ask_save_changes(self) -> str:
        """Ask whether to save unsaved changes: ``"save"``, ``"discard"`` or ``"cancel"``."""
        return dialogs.ask_save_changes(self)

    def export_points(self, path: str | Path) -> bool:
        """Write the points to a CSV file (the columns' names as header, exact), atomically."""
        return self.exports.export_points(path)

    def export_model(self, path: str | Path) -> bool:
        """Write the fitted model as gmm_core's JSON (``GaussianMixture.from_dict`` reads it)."""
        return self.exports.export_model(path)

    def export_image(self, path: str | Path) -> bool:
        """Write the canvas as PNG or SVG (by suffix)."""
        return self.exports.export_image(path)

    def export_animation(self, path: str | Path) -> bool:
        """Start writing the history as an animated GIF, one frame per recorded model.

        Returns whether it started; ``animation_finished(path, written)`` follows. The
        write is atomic: a failed or cancelled export leaves no file.
        """
        return self.animation.export(path)

    def load_preset(self, name: str, replace: bool = True, seed: int = 0) -> None:
        """Generate preset ``name`` from ``seed``; replace the points or add to them."""
        self.data_sets.load_preset(name, replace, seed)

    # -- the model ---------------------------------------------------------------------------

    def request_model(self, *, train: bool = False, step: str = "", repair: bool = False) -> None:
        """Ask for a model of the current points (see :meth:`TrainingController.update`)."""
        self.flow.request(train=train, step=step, repair=repair)

    @property
    def snapshot(self) -> ModelSnapshot | None:
        """The drawn model (the primary trainer's in "Compare all")."""
        return self.flow.snapshot

    def _drawn_model(self) -> ModelSnapshot | None:
        return self.flow.snapshot

    def _live_model(self) -> ModelSnapshot | None:
        return self.flow.live_snapshot

    def _show_document(self, document: OpenedDocument) -> None:
        """An opened file's settings, points, model and view, in that order."""
        apply_model_settings(self, document.settings)
        self.flow.show_document(document)
        apply_view_settings(self, document.settings, document.points.array.shape[1])

    # -- reactions -------------------------------------------------------------------------

    @Slot(float, float)
    def _on_point_clicked(self, x: float, y: float) -> None:
        if self.session.n_features == 2:  # a click gives two coordinates
            self.session.add_points(np.array([[x, y]]))

    @Slot(int)
    def _on_components_changed(self, value: int) -> None:
        self.controller.set_n_components(value)

    @Slot(bool)
    def _on_clean_changed(self, clean: bool) -> None:
        self.setWindowModified(not clean)

    @Slot(str)
    def _on_title_changed(self, title: str) -> None:
        self.setWindowTitle(title)
        self.setWindowModified(not self.undo_stack.isClean())

    @Slot()
    def _on_new_session(self) -> None:
        self.canvas.fit_view(self.session.points)

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
        store_window_settings(self.documents.settings, self)
        self.autosaver.mark_clean_exit()
        self._closed = True
        self.shutdown()
        super().closeEvent(event)

    def shutdown(self) -> None:
        """Stop the worker threads (also called on application quit)."""
        self.controller.shutdown()
        self.animation.shutdown()
        self.documents.shutdown()
        self.canvas.point_density.shutdown()
        self.model_selection.shutdown()
        self.density.shutdown()
