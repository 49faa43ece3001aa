"""The window's insight controls: trainers, covariance types, step by step, repair.

Also the log-likelihood panel's dock.

:class:`Insight` builds these widgets and actions for a :class:`app.main_window.MainWindow`
and owns their state (the step-by-step sequence, the Play timer); the window exposes them
under its testing contract (``window.trainer_combo``, ``window.step_action``, ...).
Nothing here imports torch or gmm_core.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QObject, Qt, QTimer, Slot
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QComboBox,
    QDockWidget,
    QDoubleSpinBox,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from gmm_core.covariance_types import COVARIANCE_TYPES

from ..state.actions import action_button
from ..state.geometry import column_ranges
from ..state.messages import COMPARE_ALL, TRAINERS, ModelSnapshot
from .likelihood_panel import LikelihoodPlot

#: Pause between the two halves of one Step (E, then M), so that both are seen.
STEP_HALF_MS = 350

#: An opened file keeps equal scales when its axes' spans differ by at most this factor.
EQUAL_SPAN_RATIO = 4.0

#: Passes per second that Play runs by default.
DEFAULT_PLAY_SPEED = 4


class Insight(QObject):
    """Builds and runs the insight controls of ``window``.

    Step by step (live training off): Step posts the E half of a pass, then, once it is
    drawn and after :data:`STEP_HALF_MS`, the M half; Play repeats steps at the speed set
    (passes per second) until the model converges or Play is switched off. Any edit,
    setting or Train posts a newer request, which cancels the half in flight.
    """

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        controller = window.controller
        self.trainer_combo = QComboBox(window)
        self.trainer_combo.addItems([*TRAINERS, COMPARE_ALL])
        self.trainer_combo.setToolTip(
            "How the model learns: Online EM (an instant incremental update, then EM "
            "passes), Batch EM (a fresh EM fit after each change), Gradient (Adam on the "
            "likelihood), Variational (Bayesian: Components is the most it may use, and "
            "the ones it does not need die out), or all of them at once"
        )
        self.prior_spin = QDoubleSpinBox(window)
        self.prior_spin.setDecimals(4)
        self.prior_spin.setRange(1e-4, 1e3)
        self.prior_spin.setStepType(QAbstractSpinBox.StepType.AdaptiveDecimalStepType)
        self.prior_spin.setValue(controller.weight_prior)
        self.prior_spin.setToolTip(
            "The variational trainer's prior on the weights (weight_concentration_prior): "
            "smaller keeps fewer components in use, larger lets more share the data"
        )
        self.prior_spin.setEnabled(False)  # the variational trainer's only
        self.prior_spin.valueChanged.connect(controller.set_weight_prior)
        self.covariance_combo = QComboBox(window)
        self.covariance_combo.addItems(list(COVARIANCE_TYPES))
        self.covariance_combo.setToolTip(
            "full: any ellipse; tied: one shape for all; diag: axis-aligned; spherical: circles"
        )
        self.trainer_combo.currentTextChanged.connect(self._on_trainer_changed)
        self.covariance_combo.currentTextChanged.connect(controller.set_covariance_type)

        self.live_action = QAction("&Live Training", window)
        self.live_action.setCheckable(True)
        self.live_action.setChecked(True)
        self.live_action.setToolTip("Learn after every edit; off: edits change only the points")
        self.live_action.toggled.connect(self._on_live_toggled)
        self.step_action = QAction("&Step", window)
        self.step_action.setShortcut(QKeySequence("Ctrl+E"))
        self.step_action.setToolTip("One pass, in two halves: E-step (colours), M-step (ellipses)")
        self.step_action.triggered.connect(self.step)
        self.play_action = QAction("&Play", window)
        self.play_action.setCheckable(True)
        self.play_action.setShortcut(QKeySequence("Ctrl+P"))
        self.play_action.setToolTip("Run passes one after another until converged")
        self.play_action.toggled.connect(self._on_play_toggled)
        self.speed_spin = QSpinBox(window)
        self.speed_spin.setRange(1, 30)
        self.speed_spin.setValue(DEFAULT_PLAY_SPEED)
        self.speed_spin.setSuffix(" passes/s")
        self.speed_spin.setToolTip("Speed of Play")
        self.repair_action = QAction("&Repair Collapsed", window)
        self.repair_action.setShortcut(QKeySequence("Ctrl+R"))
        self.repair_action.setToolTip(
            "Re-seed collapsed components at the worst-explained points and continue"
        )
        self.repair_action.triggered.connect(self.repair)
        self.soft_colors_action = QAction("&Soft Colours", window)
        self.soft_colors_action.setCheckable(True)
        self.soft_colors_action.setToolTip(
            "Mix each point's colour from its components' by responsibility"
        )
        self.soft_colors_action.toggled.connect(self._on_soft_colors)
        self.equal_aspect_action = QAction("&Equal Scales", window)
        self.equal_aspect_action.setCheckable(True)
        self.equal_aspect_action.setChecked(True)
        self.equal_aspect_action.setToolTip(
            "Equal scales on both axes (right when both columns share a unit); off: each "
            "axis fitted to the data"
        )
        self.equal_aspect_action.toggled.connect(self._on_equal_aspect)
        for action in (self.live_action, self.step_action, self.play_action, self.repair_action):
            window.addAction(action)

        self.likelihood_plot = LikelihoodPlot(window)
        self.likelihood_plot.setMinimumHeight(150)
        dock = QDockWidget("Log-likelihood per point", window)
        dock.setObjectName("likelihood-panel")
        dock.setFeatures(QDockWidget.DockWidgetFeature.NoDockWidgetFeatures)
        holder = QWidget(dock)
        self._likelihood_layout = QVBoxLayout(holder)
        self._likelihood_layout.setContentsMargins(0, 0, 0, 0)
        self._likelihood_layout.setSpacing(0)
        self._likelihood_layout.addWidget(self.likelihood_plot, 1)
        dock.setWidget(holder)
        window.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, dock)
        self.likelihood_dock = dock

        self._half = ""  # the half of a step in flight: "e", "m" or ""
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._next_half)
        controller.busy_changed.connect(self._on_busy_changed)

    # -- building into the window ----------------------------------------------------------

    def add_to_panel(self, form, layout) -> None:
        """Put the combos into the panel's form and the step buttons under it."""
        form.addRow("Trainer", self.trainer_combo)
        form.addRow("Covariance", self.covariance_combo)
        form.addRow("Weight prior", self.prior_spin)
        form.addRow("Play speed", self.speed_spin)
        for action in (self.live_action, self.step_action, self.play_action, self.repair_action):
            layout.addWidget(action_button(action, self.window))

    def add_under_likelihood(self, widget: QWidget) -> None:
        """Put ``widget`` (the history bar) under the log-likelihood curves."""
        self._likelihood_layout.addWidget(widget)

    def add_to_menu(self, menu, view_menu) -> None:
        """Add the learning actions to the Model menu, the view options to the View menu."""
        menu.addSeparator()
        menu.addActions([self.live_action, self.step_action, self.play_action])
        menu.addSeparator()
        menu.addAction(self.repair_action)
        view_menu.addSeparator()
        view_menu.addActions([self.equal_aspect_action, self.soft_colors_action])

    def view_for(self, points) -> None:
        """Equal scales for data whose axes have similar spans, else independent scales.

        Old Faithful (1.6-5.1 against 43-96) would be a thin streak at equal scales.
        """
        if points.shape[0] >= 2:
            self.view_for_bounds(*column_ranges(points))

    def view_for_bounds(self, low: np.ndarray, high: np.ndarray) -> None:
        """:meth:`view_for` two points or more whose bounding box is ``low`` to ``high``."""
        span = high - low
        if np.isfinite(span).all():
            low, high = float(np.min(span)), float(np.max(span))
            self.equal_aspect_action.setChecked(bool(low > 0 and high / low <= EQUAL_SPAN_RATIO))

    # -- state -----------------------------------------------------------------------------

    @property
    def live(self) -> bool:
        """Whether every edit asks for a model (live training)."""
        return self.live_action.isChecked()

    def on_snapshot(self, snapshot: ModelSnapshot) -> None:
        """A drawn snapshot: extend the likelihood curves."""
        if snapshot.n_points == 0:
            self.likelihood_plot.clear_curves()
            return
        self.likelihood_plot.add_snapshot(snapshot)

    # -- commands --------------------------------------------------------------------------

    @Slot()
    def step(self) -> None:
        """One pass in two visible halves (switches live training off)."""
        if len(self.window.session) == 0:
            self.window.statusBar().showMessage("Add points first.", 3000)
            self.play_action.setChecked(False)
            return
        self.live_action.setChecked(False)
        self._timer.stop()
        self._half = "e"
        self.window.request_model(step="e")

    @Slot()
    def repair(self) -> None:
        """Re-seed collapsed components at the worst-explained points; training goes on."""
        if len(self.window.session) == 0:
            return
        self.window.request_model(repair=True)

    @Slot(bool)
    def _on_soft_colors(self, on: bool) -> None:
        self.window.canvas.set_soft_colors(on, self.window.session.points)

    @Slot(bool)
    def _on_equal_aspect(self, on: bool) -> None:
        self.window.canvas.set_equal_aspect(on, self.window.session.points)

    @Slot(str)
    def _on_trainer_changed(self, name: str) -> None:
        others = tuple(t for t in TRAINERS[1:]) if name == COMPARE_ALL else ()
        self.window.canvas.set_trainers(TRAINERS[0] if name == COMPARE_ALL else name, others)
        self.prior_spin.setEnabled(name in (TRAINERS[3], COMPARE_ALL))
        self.window.controller.set_trainer(name)

    @Slot(bool)
    def _on_live_toggled(self, live: bool) -> None:
        if live:
            self.play_action.setChecked(False)
            self._timer.stop()
            self._half = ""
            if len(self.window.session):
                self.window.request_model()

    @Slot(bool)
    def _on_play_toggled(self, playing: bool) -> None:
        if playing and not self._half:
            self.step()
        elif not playing:
            self._timer.stop()

    @Slot(bool)
    def _on_busy_changed(self, busy: bool) -> None:
        if busy or not self._half or self.live:
            return
        if self._half == "e":
            self._timer.start(self._half_interval_ms())
        else:  # the M half is drawn: the pass is done
            self._half = ""
            snapshot = self.window.snapshot
            converged = snapshot is not None and snapshot.state == "converged"
            if self.play_action.isChecked():
                if converged:
                    self.play_action.setChecked(False)
                else:
                    self._half = "wait"
                    self._timer.start(self._half_interval_ms())

    def _half_interval_ms(self) -> int:
        if self.play_action.isChecked():
            return int(500 / self.speed_spin.value())
        return STEP_HALF_MS

    @Slot()
    def _next_half(self) -> None:
        if self.live or len(self.window.session) == 0:
            self._half = ""
            return
        if self._half == "e":
            self._half = "m"
            self.window.request_model(step="m")
        elif self._half == "wait":
            self.step()
