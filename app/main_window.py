"""The main window: canvas, side panel, menus and status bar, wired one way.

session (points, undo) -> training controller -> worker thread -> snapshot -> canvas.

Nothing imported here imports torch or gmm_core: the worker thread loads them once the
window shows (see :mod:`app.worker`).
"""

from __future__ import annotations

import html
import json
from pathlib import Path

import numpy as np
from PySide6.QtCore import QBuffer, QByteArray, QIODevice, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QAction, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QDockWidget,
    QFileDialog,
    QFormLayout,
    QLabel,
    QMainWindow,
    QMenu,
    QMessageBox,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from . import appdata, presets
from .atomic import write_bytes
from .autosave import Autosaver
from .canvas import Canvas
from .controller import TrainingController
from .density import DensityLayer
from .geometry import log_prob_components
from .insight import Insight
from .io import points_from_text, read_points, write_points
from .model_selection import ModelSelection
from .palette import component_color
from .resources import app_icon, resource_path
from .samples import SampleLayer
from .session import Session
from .session_file import (
    SUFFIX,
    SavedModel,
    SessionData,
    is_session_file,
    read_session,
    write_session,
)
from .snapshot import ModelSnapshot, ModelStart
from .tools import CanvasTools

#: Open Recent lists at most this many files.
MAX_RECENT = 8

_TABLE_FILTER = "Tables (*.csv *.tsv *.txt *.dat)"
_OPEN_FILTER = f"Sessions and tables (*{SUFFIX} *.csv *.tsv *.txt *.dat);;Sessions (*{SUFFIX});;"

#: Clearing more points than this asks first.
CONFIRM_CLEAR_ABOVE = 20

_STATE_TEXT = {
    "empty": "idle",
    "incremental": "incremental update",
    "refining": "refining",
    "training": "training",
    "converged": "converged",
    "stopped": "done",
}


#: A window that is never shown starts its worker thread after this many milliseconds.
WORKER_START_MS = 2000


class MainWindow(QMainWindow):
    """GMM Playground's window.

    The testing contract: ``canvas``, ``components_spin``, ``epochs_spin``,
    ``train_action``, ``clear_action``, ``tool_actions``, ``undo_stack``, :meth:`points`,
    :meth:`add_points`, :meth:`load_preset`, :meth:`open_file`, :meth:`save_session`,
    :meth:`export_points`, :meth:`export_model`, :meth:`export_image`,
    :attr:`model_updated`, :meth:`confirm` and :meth:`ask_save_changes`.

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
        self._file: Path | None = None
        self._hover: tuple[float, float] | None = None  # cursor in data coordinates
        self._next_edit_trains = False  # set by open_file: its edit asks for Train
        self._saved_snapshot: ModelSnapshot | None = None  # set by open_file for a session
        self._closed = False
        self._ignore_up_to = -1  # snapshots of requests up to this id predate an opened model
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
        self.canvas.hovered.connect(self._on_hovered)
        self.canvas.left.connect(self._on_left)
        self.components_spin.valueChanged.connect(self._on_components_changed)
        self.epochs_spin.valueChanged.connect(self.controller.set_epochs)
        self.controller.refit_wanted.connect(self._on_refit_wanted)
        self._update_status()
        self._start_autosave(restore_autosave)
        # The worker thread starts loading torch once the first frame is on screen (see
        # paintEvent), or after WORKER_START_MS for a window that is never shown; a
        # click before it is done waits in the mailbox.
        self._first_frame_painted = False
        QTimer.singleShot(WORKER_START_MS, self.controller, self.controller.start)

    # -- construction --------------------------------------------------------------------

    def _build_actions(self) -> None:
        self.open_action = QAction("&Open…", self)
        self.open_action.setShortcut(QKeySequence.StandardKey.Open)
        self.open_action.setToolTip("Open a session or a table of points")
        self.open_action.triggered.connect(self._open_dialog)
        self.example_action = QAction("Open &Example: Old Faithful", self)
        self.example_action.setToolTip("Eruption length and waiting time of 272 eruptions")
        self.example_action.triggered.connect(self.open_example)
        self.save_action = QAction("&Save", self)
        self.save_action.setShortcut(QKeySequence.StandardKey.Save)
        self.save_action.triggered.connect(self.save)
        self.quit_action = QAction("&Quit", self)
        self.quit_action.setShortcut(QKeySequence("Ctrl+Q"))
        self.quit_action.triggered.connect(self.close)

        self.undo_action = self.session.undo_stack.createUndoAction(self, "&Undo")
        self.undo_action.setShortcut(QKeySequence.StandardKey.Undo)
        self.redo_action = self.session.undo_stack.createRedoAction(self, "&Redo")
        self.redo_action.setShortcut(QKeySequence.StandardKey.Redo)

        self.train_action = QAction("&Train", self)
        self.train_action.setToolTip("Refit from scratch on all points, with restarts")
        self.train_action.setShortcut(QKeySequence("Ctrl+T"))
        self.train_action.triggered.connect(self.train)
        self.clear_action = QAction("&Clear", self)
        self.clear_action.setToolTip("Forget all points and the model")
        self.clear_action.setShortcuts([QKeySequence(Qt.Key.Key_Delete), QKeySequence("Ctrl+L")])
        self.clear_action.triggered.connect(self._on_clear_triggered)
        self.fit_view_action = QAction("&Fit View to Points", self)
        self.fit_view_action.setShortcut(QKeySequence("Ctrl+0"))
        self.fit_view_action.triggered.connect(lambda: self.canvas.fit_view(self.points()))
        self.about_action = QAction("&About GMM Playground", self)
        self.about_action.triggered.connect(self._about)
        for action in (
            self.open_action,
            self.save_action,
            self.quit_action,
            self.train_action,
            self.clear_action,
            self.fit_view_action,
            self.undo_action,
            self.redo_action,
        ):
            self.addAction(action)  # shortcuts work without the menus too

    def _build_panel(self) -> None:
        panel = QWidget(self)
        layout = QVBoxLayout(panel)
        form = QFormLayout()
        self.components_spin = QSpinBox(panel)
        self.components_spin.setRange(1, 20)
        self.components_spin.setValue(self.controller.n_components)
        self.components_spin.setToolTip("Number of mixture components (refits from scratch)")
        self.epochs_spin = QSpinBox(panel)
        self.epochs_spin.setRange(0, 1000)
        self.epochs_spin.setValue(self.controller.epochs)
        self.epochs_spin.setToolTip(
            "Full EM passes over all points after each change (stops early when converged);"
            " 0: incremental update only"
        )
        form.addRow("Components", self.components_spin)
        form.addRow("Epochs", self.epochs_spin)
        layout.addLayout(form)
        self._panel_form, self._panel_layout = form, layout
        for action in (self.train_action, self.clear_action):
            button = QToolButton(panel)
            button.setDefaultAction(action)
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
            button.setSizePolicy(
                button.sizePolicy().horizontalPolicy().Expanding,
                button.sizePolicy().verticalPolicy(),
            )
            layout.addWidget(button)
        help_text = QLabel(
            "<p><b>Tools</b> (tool bar): <b>A</b>dd, <b>B</b>rush, <b>M</b>ove, "
            "<b>E</b>rase, <b>J</b>itter<br><b>Middle drag</b> (or left drag with Add): "
            "pan<br><b>Wheel</b>: zoom<br><b>Ctrl+Z</b>: undo<br><b>Delete</b>: clear<br>"
            "<b>Data</b> menu: presets</p>"
            "<p>Ellipses: 1, 2 and 3 standard deviations; the percentage is each "
            "component's weight.</p>",
            panel,
        )
        help_text.setWordWrap(True)
        help_text.setStyleSheet("color: rgb(90, 90, 90);")
        layout.addWidget(help_text)
        layout.addStretch(1)
        panel.setFixedWidth(200)
        dock = QDockWidget("Model", self)
        dock.setObjectName("model-panel")
        dock.setFeatures(QDockWidget.DockWidgetFeature.NoDockWidgetFeatures)
        dock.setWidget(panel)
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
        bar = self.statusBar()
        # The cursor readout sits over the plot (it needs more room than the bar has left).
        self.hover_label = self.canvas.readout
        self.points_label = QLabel(self)
        self.components_label = QLabel(self)
        self.loglik_label = QLabel(self)
        self.bic_label = QLabel(self)
        self.state_label = QLabel(self)
        self.collapse_label = QLabel(self)
        self.collapse_label.setStyleSheet("color: rgb(190, 0, 0);")
        bar.addPermanentWidget(self.collapse_label)
        # Widths fixed for the longest text each shows, so the bar does not jitter or clip.
        metrics = self.fontMetrics()
        for label, longest in (
            (self.points_label, "200,000 points"),
            (self.components_label, "20 of 20 components"),
            (self.loglik_label, "log-lik/point -1234.56"),
            (self.bic_label, "BIC -1.23456e+06"),
            (self.state_label, "training… pass 1000"),
        ):
            label.setMinimumWidth(metrics.horizontalAdvance(longest) + 4)
            bar.addPermanentWidget(label)

    def _build_insight(self) -> None:
        """Trainers, covariance types, step by step, repair, the likelihood panel."""
        self.insight = Insight(self)
        self.insight.add_to_panel(self._panel_form, self._panel_layout)
        self.insight.add_to_menu(self._model_menu, self._view_menu)
        self.density = DensityLayer(self)
        self.density_action = self.density.density_action
        self.samples = SampleLayer(self)
        self.sample_action = self.samples.sample_action
        self.keep_samples_action = self.samples.keep_samples_action
        self._view_menu.addAction(self.density_action)
        self._model_menu.addSeparator()
        self._model_menu.addActions([self.sample_action, self.keep_samples_action])
        for name in (
            "trainer_combo",
            "covariance_combo",
            "live_action",
            "step_action",
            "play_action",
            "repair_action",
            "likelihood_plot",
            "soft_colors_action",
            "equal_aspect_action",
        ):
            setattr(self, name, getattr(self.insight, name))
        self.model_selection = ModelSelection(self)
        self.model_selection_action = self.model_selection.model_selection_action
        self.apply_best_k_action = self.model_selection.apply_best_k_action
        self._model_menu.addSeparator()
        self._model_menu.addActions([self.model_selection_action, self.apply_best_k_action])

    # -- the testing contract --------------------------------------------------------------

    def points(self) -> np.ndarray:
        """The current points, shape (n, 2) (a copy)."""
        return np.array(self.session.points)

    def add_points(self, xy) -> None:
        """Add points, shape (n, 2), as one undoable edit."""
        self.session.add_points(xy)

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

    def open_file(self, path: str | Path) -> bool:
        """Open a session or a table of points (told apart by content), without asking.

        A table replaces the points (undoable) and trains; a session also restores the
        settings and view and shows its saved model at once, before any training. A bad
        file shows a message and changes nothing.
        """
        path = Path(path)
        try:
            if is_session_file(path):
                data = read_session(path)
            else:
                data = SessionData(points=read_points(path))
        except (OSError, ValueError) as error:
            self.show_error(f"Could not open {path.name}:\n{error}")
            return False
        self._apply_session(data, f"Open {path.name}")
        if path.suffix == SUFFIX or data.model is not None or data.settings:
            self._set_file(path)  # a session: Save writes it back
        else:
            self._set_file(None, title=path.name)  # a table: Save asks for a session name
        self._add_recent(path)
        return True

    @Slot()
    def open_example(self) -> bool:
        """Open the Old Faithful data shipped in ``resources`` (works from a wheel too)."""
        with resource_path("old_faithful.csv") as path:
            return self.open_file(path)

    def save_file(self, path: str | Path) -> bool:
        """Write the points to a CSV file (kept for scripts: :meth:`export_points`)."""
        return self.export_points(path)

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
        self.session.add_points(np.array([[x, y]]))

    @Slot()
    def _on_session_changed(self) -> None:
        if self._saved_snapshot is not None:  # an opened session: its model, no training
            self._show_saved_snapshot()
            return
        if self.insight.live or len(self.session) == 0:
            self._request_model(train=self._next_edit_trains)
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
        if snapshot.request_id <= self._ignore_up_to:
            return  # a model of the points before a session was opened
        # A snapshot of points that changed since (an undo in flight) is still the newest
        # model there is; the points drawn are always the session's.
        self.canvas.show_model(snapshot, self.session.points)
        self.insight.on_snapshot(snapshot)
        if snapshot.trainer != self.canvas.primary_trainer:
            self.model_updated.emit(snapshot)  # "Compare all": drawn beside the primary
            return
        self._snapshot = snapshot
        self._update_status()
        if self._hover is not None:
            self._on_hovered(*self._hover)  # the model under a still cursor changed
        self.model_updated.emit(snapshot)

    @Slot(bool)
    def _on_busy_changed(self, busy: bool) -> None:
        self._update_status()

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        self.statusBar().showMessage(f"Training failed: {message}", 8000)
        self._update_status()

    @Slot(float, float)
    def _on_hovered(self, x: float, y: float) -> None:
        self._hover = (x, y)
        snapshot = self._snapshot
        # As many digits as one pixel resolves, at any scale.
        pixel = self.canvas.view_extent() / max(1, self.canvas.width())
        magnitude = max(abs(x), abs(y), pixel)
        digits = int(np.clip(np.ceil(np.log10(magnitude / pixel)) + 1, 3, 15))
        position = f"({x:.{digits}g}, {y:.{digits}g})"
        if snapshot is None or snapshot.n_components == 0:
            self.canvas.show_readout(position)
            return
        log_prob = log_prob_components(
            np.array([[x, y]]), snapshot.weights, snapshot.means, snapshot.covariances
        )[0]
        top = np.max(log_prob)
        log_density = top + np.log(np.sum(np.exp(log_prob - top)))
        responsibilities = np.exp(log_prob - log_density)
        k = int(np.argmax(responsibilities))
        r, g, b = component_color(snapshot.colors[k])
        self.canvas.show_readout(
            f"{html.escape(position)} &nbsp; log density {log_density:.4g} &nbsp; "
            f"<span style='color: rgb({r},{g},{b})'>&#9632;</span> component {k + 1} "
            f"({100 * responsibilities[k]:.0f}%)"
        )

    @Slot()
    def _on_left(self) -> None:
        self._hover = None
        self.canvas.show_readout("")

    def _update_status(self) -> None:
        snapshot = self._snapshot
        n = len(self.session)
        self.points_label.setText(f"{n:,} point{'s' if n != 1 else ''}")
        asked = self.controller.n_components
        have = snapshot.n_components if snapshot is not None else 0
        self.components_label.setText(
            f"{have} of {asked} components" if have != asked else f"{have} components"
        )
        if snapshot is not None and snapshot.n_points and np.isfinite(snapshot.mean_log_likelihood):
            self.loglik_label.setText(f"log-lik/point {snapshot.mean_log_likelihood:.4g}")
            self.bic_label.setText(f"BIC {snapshot.bic:.6g}")
            self.bic_label.setToolTip("Bayesian information criterion (lower is better)")
        else:
            self.loglik_label.setText("log-lik/point –")
            self.bic_label.setText("BIC –")
        if self.controller.busy:
            state = "training…"
            if snapshot is not None and snapshot.n_iter:
                state = f"training… pass {snapshot.n_iter}"
        elif snapshot is None or snapshot.n_points == 0:
            state = "idle"
        else:
            state = _STATE_TEXT.get(snapshot.state, snapshot.state)
            if snapshot.state == "converged":
                state = f"converged, {snapshot.n_iter} passes"
        self.state_label.setText(state)
        collapsed = snapshot.collapsed if snapshot is not None else ()
        self.collapse_label.setText(
            "collapsed: " + ", ".join(f"component {k + 1}" for k in collapsed) if collapsed else ""
        )
        self.collapse_label.setToolTip(
            "Tiny weight, too few points or no width: Model > Repair Collapsed re-seeds them"
        )

    # -- tools, data sets and files (issue 10) ----------------------------------------------

    def _build_tools_and_files(self) -> None:
        """Tool bar and Tools menu, Data menu, the File menu, autosave and settings."""
        self._settings = appdata.settings()
        self.tools = CanvasTools(self.canvas, self.session, self)
        self.tool_actions = self.tools.actions
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, self.tools.tool_bar)
        bar = self.menuBar()
        tools_menu = QMenu("&Tools", self)
        tools_menu.addActions(list(self.tool_actions.values()))
        bar.insertMenu(bar.actions()[2], tools_menu)  # after Edit
        for action in self.tool_actions.values():
            self.addAction(action)

        self.paste_action = QAction("&Paste Points", self)
        self.paste_action.setShortcut(QKeySequence.StandardKey.Paste)
        self.paste_action.setToolTip("Add the points in the clipboard (two columns of text)")
        self.paste_action.triggered.connect(self.paste_points)
        self.edit_menu.insertAction(self.edit_menu.actions()[2], self.paste_action)
        self.addAction(self.paste_action)

        data_menu = QMenu("&Data", self)
        bar.insertMenu(bar.actions()[3], data_menu)  # after Tools
        self.preset_adds_action = QAction("&Add to Current Points", self)
        self.preset_adds_action.setCheckable(True)
        self.preset_adds_action.setToolTip("Presets add their points instead of replacing")
        self._preset_seed = 0
        for name, preset in presets.PRESETS.items():
            action = data_menu.addAction(preset.title)
            action.setData(name)
            action.triggered.connect(self._on_preset_triggered)
        data_menu.addSeparator()
        data_menu.addAction(self.preset_adds_action)
        data_menu.addSeparator()
        for title, file_name in presets.REAL_DATA.items():
            action = data_menu.addAction(title)
            action.setData(file_name)
            action.triggered.connect(self._on_real_data_triggered)

        self.new_action = QAction("&New", self)
        self.new_action.setShortcut(QKeySequence.StandardKey.New)
        self.new_action.triggered.connect(self.new_session)
        self.save_as_action = QAction("Save &As…", self)
        self.save_as_action.setShortcut(QKeySequence.StandardKey.SaveAs)
        self.save_as_action.triggered.connect(self.save_as)
        self.export_points_action = QAction("Export &Points (CSV)…", self)
        self.export_points_action.triggered.connect(self._export_points_dialog)
        self.export_model_action = QAction("Export &Model (JSON)…", self)
        self.export_model_action.triggered.connect(self._export_model_dialog)
        self.export_image_action = QAction("Export &Image (PNG, SVG)…", self)
        self.export_image_action.triggered.connect(self._export_image_dialog)
        self.recent_menu = QMenu("Open &Recent", self)
        self.recent_menu.aboutToShow.connect(self._fill_recent_menu)
        menu = self.file_menu
        menu.addActions([self.new_action, self.open_action])
        menu.addMenu(self.recent_menu)
        menu.addAction(self.example_action)
        menu.addSeparator()
        menu.addActions([self.save_action, self.save_as_action])
        menu.addSeparator()
        menu.addActions(
            [self.export_points_action, self.export_model_action, self.export_image_action]
        )
        menu.addSeparator()
        menu.addAction(self.quit_action)
        for action in (self.new_action, self.save_as_action):
            self.addAction(action)
        self.undo_stack.cleanChanged.connect(self._on_clean_changed)
        self._restore_settings()

    # -- settings ------------------------------------------------------------------------

    def _restore_settings(self) -> None:
        settings = self._settings
        geometry = settings.value("window/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        self.components_spin.setValue(int(settings.value("model/components", 3)))
        self.epochs_spin.setValue(int(settings.value("model/epochs", 20)))
        self.tools.radius_spin.setValue(int(settings.value("tools/radius", 30)))
        self.tools.intensity_spin.setValue(int(settings.value("tools/intensity", 10)))

    def _store_settings(self) -> None:
        settings = self._settings
        settings.setValue("window/geometry", self.saveGeometry())
        settings.setValue("model/components", self.components_spin.value())
        settings.setValue("model/epochs", self.epochs_spin.value())
        settings.setValue("tools/radius", self.tools.radius_spin.value())
        settings.setValue("tools/intensity", self.tools.intensity_spin.value())
        settings.sync()

    def recent_files(self) -> list[str]:
        """The recently opened or saved files, newest first."""
        value = self._settings.value("files/recent", [])
        if isinstance(value, str):
            value = [value]
        return [str(v) for v in (value or [])]

    def _add_recent(self, path: Path) -> None:
        try:
            name = str(Path(path).resolve())
        except OSError:
            return
        recent = [name] + [p for p in self.recent_files() if p != name]
        self._settings.setValue("files/recent", recent[:MAX_RECENT])
        self._settings.setValue("files/last_dir", str(Path(name).parent))

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
        if self._may_discard():
            self.open_file(self.sender().data())

    def _last_dir(self) -> str:
        return str(self._settings.value("files/last_dir", str(Path.home())))

    # -- data sets -----------------------------------------------------------------------

    def load_preset(self, name: str, replace: bool = True, seed: int = 0) -> None:
        """Generate preset ``name`` from ``seed``; replace the points or add to them.

        One undoable edit; the view then fits all points. Names: "blobs",
        "anisotropic", "unequal", "moons", "ring", "noise".
        """
        points = presets.generate(name, seed)
        title = presets.PRESETS[name].title
        if replace:
            self.session.replace_points(points, f"Load Preset: {title}")
        else:
            self.session.add_points(points, f"Add Preset: {title}")
        self.canvas.fit_view(self.session.points)
        self.statusBar().showMessage(f"{title}, seed {seed}", 4000)

    @Slot()
    def _on_preset_triggered(self) -> None:
        self.load_preset(
            self.sender().data(), not self.preset_adds_action.isChecked(), self._preset_seed
        )
        self._preset_seed += 1  # the next pick draws new points

    @Slot()
    def _on_real_data_triggered(self) -> None:
        with resource_path(self.sender().data()) as path:
            points = read_points(path)
        self._apply_session(SessionData(points), f"Open {path.name}")  # and Train

    @Slot()
    def paste_points(self) -> bool:
        """Add the points in the clipboard's text (two columns) as one undoable edit."""
        text = QGuiApplication.clipboard().text()
        try:
            points = points_from_text(text, "The clipboard")
            if points.shape[0] == 0:
                raise ValueError("The clipboard holds no points (two columns: x and y).")
        except ValueError as error:
            self.show_error(f"Could not paste points:\n{error}")
            return False
        self.session.add_points(points, f"Paste {points.shape[0]:,} Points")
        return True

    # -- sessions ------------------------------------------------------------------------

    def session_data(self) -> SessionData:
        """What a session file of the window holds now (points, settings, model)."""
        (x0, x1), (y0, y1) = self.canvas.view_box.viewRange()
        settings = {
            "n_components": self.controller.n_components,
            "epochs": self.controller.epochs,
            "view": [float(x0), float(x1), float(y0), float(y1)],
        }
        model = None
        snapshot = self._snapshot
        if snapshot is not None and snapshot.n_components:
            model = SavedModel.from_snapshot(snapshot)
            if snapshot.generation != self.session.generation or (
                snapshot.labels.shape[0] > len(self.session)
            ):
                # a model of other points: keep it, not its labels
                model = SavedModel(**{**model.__dict__, "labels": np.zeros(0, np.int64)})
        return SessionData(points=self.session.points, settings=settings, model=model)

    def _apply_session(self, data: SessionData, text: str) -> None:
        """Show ``data``: points (one undoable edit), settings, view and saved model."""
        settings = data.settings
        n_components = settings.get("n_components")
        if isinstance(n_components, int) and 1 <= n_components <= self.components_spin.maximum():
            self.components_spin.blockSignals(True)
            self.components_spin.setValue(n_components)
            self.components_spin.blockSignals(False)
            self.controller.n_components = n_components
        epochs = settings.get("epochs")
        if isinstance(epochs, int) and 0 <= epochs <= self.epochs_spin.maximum():
            self.epochs_spin.setValue(epochs)
        view = settings.get("view")
        if (
            isinstance(view, list)
            and len(view) == 4
            and all(isinstance(v, int | float) and np.isfinite(v) for v in view)
            and view[1] > view[0]
            and view[3] > view[2]
        ):
            self.canvas.view_box.setRange(xRange=view[:2], yRange=view[2:], padding=0)
        else:
            self.insight.view_for(data.points)  # independent scales for unlike spans
            self.canvas.fit_view(data.points)
        start = None
        if data.model is not None:
            generation = self.session.generation + 1  # replace_points starts a new one
            self._ignore_up_to = self.controller.latest_request_id
            self._saved_snapshot = data.model.snapshot(
                data.points, self.controller.latest_request_id, generation
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
            self._next_edit_trains = True  # one request for the file: Train, with restarts
        self.controller.continue_from(start)
        try:
            self.session.replace_points(data.points, text)
        finally:
            self._next_edit_trains = False
            self._saved_snapshot = None

    def _show_saved_snapshot(self) -> None:
        """Draw the opened session's model as saved; the worker is not asked."""
        snapshot = self._saved_snapshot
        self._saved_snapshot = None
        points = self.session.points
        self.canvas.show_model(snapshot, points)
        self._snapshot = snapshot
        self._update_status()
        self.model_updated.emit(snapshot)

    def save_session(self, path: str | Path) -> bool:
        """Write the session to ``path`` (atomically); it becomes the window's file."""
        path = Path(path)
        try:
            write_session(path, self.session_data())
        except (OSError, ValueError) as error:
            self.show_error(f"Could not save {path.name}:\n{error}\nThe old file is unchanged.")
            return False
        self._set_file(path)
        self.undo_stack.setClean()
        self._add_recent(path)
        self.statusBar().showMessage(f"Saved {path.name}", 3000)
        return True

    @Slot()
    def save(self) -> bool:
        """Save to the window's session file, or ask for one."""
        if self._file is not None:
            return self.save_session(self._file)
        return self.save_as()

    @Slot()
    def save_as(self) -> bool:
        """Ask for a session file name and save there."""
        start = Path(self._last_dir()) / ((self._file.stem if self._file else "untitled") + SUFFIX)
        path, _ = QFileDialog.getSaveFileName(
            self, "Save Session", str(start), f"Sessions (*{SUFFIX})"
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
        if not self._may_discard():
            return False
        if len(self.session):
            self.session.replace_points(np.zeros((0, 2)), "New Session")
        self.canvas.fit_view(self.session.points)
        self._set_file(None)
        self.undo_stack.setClean()
        return True

    def _set_file(self, path: Path | None, title: str | None = None) -> None:
        self._file = path
        name = title or (path.name if path is not None else None)
        self.setWindowTitle(f"{name}[*] – GMM Playground" if name else "GMM Playground[*]")
        self.setWindowModified(not self.undo_stack.isClean())

    @Slot(bool)
    def _on_clean_changed(self, clean: bool) -> None:
        self.setWindowModified(not clean)

    def has_unsaved_changes(self) -> bool:
        """Whether the points changed since the last save (or start) and are not empty."""
        if self.undo_stack.isClean():
            return False
        return len(self.session) > 0 or self._file is not None

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

    def _may_discard(self) -> bool:
        """Whether unsaved changes may go (saved or discarded); False: cancelled."""
        if not self.has_unsaved_changes():
            return True
        answer = self.ask_save_changes()
        if answer == "save":
            return self.save()
        return answer == "discard"

    @Slot()
    def _open_dialog(self) -> None:
        if not self._may_discard():
            return
        path, _ = QFileDialog.getOpenFileName(
            self, "Open", self._last_dir(), _OPEN_FILTER + _TABLE_FILTER + ";;All files (*)"
        )
        if path:
            self.open_file(path)

    # -- exports -------------------------------------------------------------------------

    def export_points(self, path: str | Path) -> bool:
        """Write the points to a CSV file (``x,y`` header, exact), atomically."""
        try:
            write_points(path, self.session.points)
        except OSError as error:
            self.show_error(f"Could not save {Path(path).name}:\n{error}")
            return False
        return True

    def export_model(self, path: str | Path) -> bool:
        """Write the fitted model as gmm_core's JSON (``GaussianMixture.from_dict`` reads it)."""
        snapshot = self._snapshot
        model = None if snapshot is None else snapshot.model
        if model is None:
            self.show_error("There is no fitted model to export yet: add points and wait.")
            return False
        try:
            write_bytes(path, json.dumps(model, indent=1, allow_nan=False).encode("utf-8"))
        except (OSError, ValueError) as error:
            self.show_error(f"Could not save {Path(path).name}:\n{error}")
            return False
        return True

    def export_image(self, path: str | Path) -> bool:
        """Write the canvas as PNG or SVG (by suffix), through pyqtgraph's exporters."""
        import pyqtgraph.exporters as exporters

        path = Path(path)
        suffix = path.suffix.lower()
        try:
            if suffix == ".svg":
                try:
                    data = exporters.SVGExporter(self.canvas.plot_item).export(toBytes=True)
                except ValueError:
                    # pyqtgraph 0.14 cannot parse the "Z" (close path) that Qt 6.11's
                    # SVG writer emits; Qt's own generator draws the same canvas.
                    data = self._canvas_svg()
                if isinstance(data, str):
                    data = data.encode("utf-8")
            elif suffix == ".png":
                image = exporters.ImageExporter(self.canvas.plot_item).export(toBytes=True)
                array = QByteArray()
                buffer = QBuffer(array)
                buffer.open(QIODevice.OpenModeFlag.WriteOnly)
                image.save(buffer, "PNG")
                buffer.close()
                data = bytes(array.data())
            else:
                raise ValueError("the name must end in .png or .svg")
            write_bytes(path, bytes(data))
        except (OSError, ValueError) as error:
            self.show_error(f"Could not save {path.name}:\n{error}")
            return False
        return True

    def _canvas_svg(self) -> bytes:
        """The canvas as SVG through ``QSvgGenerator``."""
        from PySide6.QtGui import QPainter
        from PySide6.QtSvg import QSvgGenerator

        array = QByteArray()
        buffer = QBuffer(array)
        buffer.open(QIODevice.OpenModeFlag.WriteOnly)
        generator = QSvgGenerator()
        generator.setOutputDevice(buffer)
        generator.setSize(self.canvas.size())
        generator.setViewBox(self.canvas.rect())
        generator.setTitle("GMM Playground")
        painter = QPainter(generator)
        self.canvas.render(painter)
        painter.end()
        buffer.close()
        return bytes(array.data())

    def _save_name(self, title: str, default: str, filters: str) -> str:
        path, _ = QFileDialog.getSaveFileName(
            self, title, str(Path(self._last_dir()) / default), filters
        )
        return path

    @Slot()
    def _export_points_dialog(self) -> None:
        path = self._save_name("Export Points", "points.csv", "CSV (*.csv)")
        if path:
            self.export_points(path)

    @Slot()
    def _export_model_dialog(self) -> None:
        path = self._save_name("Export Model", "model.json", "JSON (*.json)")
        if path:
            self.export_model(path)

    @Slot()
    def _export_image_dialog(self) -> None:
        path = self._save_name("Export Image", "canvas.png", "PNG (*.png);;SVG (*.svg)")
        if path:
            self.export_image(path)

    # -- autosave ------------------------------------------------------------------------

    def _start_autosave(self, restore: bool | None) -> None:
        self.autosaver = Autosaver(appdata.data_dir(), self.session_data, self)
        self.autosaver.failed.connect(self._on_autosave_failed)
        autosave = self.autosaver.path
        if autosave.exists() and self.autosaver.crashed_before():
            if restore is None:
                restore = self.confirm(
                    "GMM Playground did not close cleanly last time. Restore the points "
                    "and model it autosaved?"
                )
            if restore:
                try:
                    self._apply_session(read_session(autosave), "Restore Autosave")
                except (OSError, ValueError) as error:
                    self.show_error(f"Could not restore the autosave:\n{error}")
        self.autosaver.mark_running()
        self.session.changed.connect(self.autosaver.schedule)
        self.components_spin.valueChanged.connect(self.autosaver.schedule)
        self.epochs_spin.valueChanged.connect(self.autosaver.schedule)

    @Slot(str)
    def _on_autosave_failed(self, message: str) -> None:
        self.statusBar().showMessage(f"Autosave failed: {message}", 8000)

    # -- drag and drop ---------------------------------------------------------------------

    def paintEvent(self, event) -> None:  # noqa: D102
        super().paintEvent(event)
        if not self._first_frame_painted:
            self._first_frame_painted = True
            # Importing torch holds the GIL for about a second: let this frame finish first.
            QTimer.singleShot(0, self.controller, self.controller.start)

    def dragEnterEvent(self, event) -> None:  # noqa: D102
        if any(url.isLocalFile() for url in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:  # noqa: D102
        files = [url.toLocalFile() for url in event.mimeData().urls() if url.isLocalFile()]
        if files:
            event.acceptProposedAction()
            if self._may_discard():
                self.open_file(files[0])

    # -- closing ---------------------------------------------------------------------------

    def closeEvent(self, event) -> None:  # noqa: D102
        if not self._closed and not self._may_discard():
            event.ignore()  # "cancel": everything stays as it was
            return
        self.tools.finish_stroke()
        self._store_settings()
        self.autosaver.mark_clean_exit()
        self._closed = True
        self.shutdown()
        super().closeEvent(event)

    def shutdown(self) -> None:
        """Stop the worker threads (also called on application quit)."""
        self.controller.shutdown()
        self.model_selection.shutdown()
        self.density.shutdown()
