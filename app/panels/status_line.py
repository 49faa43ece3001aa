"""The window's status line and the cursor readout over the plot.

The status bar shows point and component counts, the fit, the training state and
collapse warnings, and while a long task runs (opening a file) its progress bar and a
Cancel button; the readout shows the cursor's position, the log density there and
the component most responsible for it.

:class:`StatusLine` reads the window's session, controller and drawn snapshot through
their public names (``window.session``, ``window.controller``, ``window.snapshot``);
nothing here imports torch or gmm_core.
"""

from __future__ import annotations

import html

import numpy as np
from PySide6.QtCore import QObject, Qt, Signal, Slot
from PySide6.QtWidgets import QLabel, QProgressBar, QPushButton

from gmm_core.covariance_types import component_log_densities, log_sum_exp

from ..state.messages import IN_USE_WEIGHT, TRAINERS
from ..state.palette import component_color

_STATE_TEXT = {
    "empty": "idle",
    "incremental": "incremental update",
    "refining": "refining",
    "training": "training",
    "converged": "converged",
    "stopped": "done",
}


#: Steps of the progress bar (a fraction is shown to a tenth of a percent).
PROGRESS_STEPS = 1000


class StatusLine(QObject):
    """The status bar's labels of ``window`` and the canvas's cursor readout."""

    task_cancelled = Signal()  # the Cancel button beside the progress bar was pressed

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.canvas = window.canvas
        self._hover: tuple[float, float] | None = None  # cursor in data coordinates
        bar = window.statusBar()
        # The cursor readout sits over the plot's top-left corner (it needs more room than
        # the bar has left), as wide as its text needs, so nothing is cut at any width.
        self.hover_label = QLabel(self.canvas)
        self.hover_label.setTextFormat(Qt.TextFormat.RichText)
        self.hover_label.setStyleSheet(
            "background: rgba(255, 255, 255, 210); color: rgb(40, 40, 40); padding: 2px 4px;"
        )
        self.hover_label.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.hover_label.hide()
        self.canvas.view_box.sigResized.connect(self._place_readout)
        self.points_label = QLabel(window)
        self.components_label = QLabel(window)
        self.loglik_label = QLabel(window)
        self.bic_label = QLabel(window)
        self.state_label = QLabel(window)
        self.collapse_label = QLabel(window)
        self.collapse_label.setStyleSheet("color: rgb(190, 0, 0);")
        bar.addPermanentWidget(self.collapse_label)
        self.history_label = QLabel(window)  # "history: pass 3 of 17 (not live)"; empty live
        self.history_label.setStyleSheet("color: rgb(0, 90, 170); font-weight: bold;")
        bar.addPermanentWidget(self.history_label)
        # Widths fixed for the longest text each shows, so the bar does not jitter or clip.
        metrics = window.fontMetrics()
        for label, longest in (
            (self.points_label, "200,000 points"),
            (self.components_label, "20 of 20 components in use"),
            (self.loglik_label, "log-lik/point -1234.56"),
            (self.bic_label, "BIC -1.23456e+06"),
            (self.state_label, "training… pass 1000"),
        ):
            label.setMinimumWidth(metrics.horizontalAdvance(longest) + 4)
            bar.addPermanentWidget(label)
        self.canvas.hovered.connect(self._on_hovered)
        self.canvas.left.connect(self._on_left)
        # A long task's progress, left of the labels (permanent: messages do not hide it).
        self.progress_bar = QProgressBar(window)
        self.progress_bar.setRange(0, PROGRESS_STEPS)
        self.progress_bar.setMaximumWidth(
            metrics.horizontalAdvance("Opening a_long_name.csv… 100%") + 40
        )
        self.cancel_button = QPushButton("Cancel", window)
        self.cancel_button.setToolTip("Stop; everything stays as it was")
        self.cancel_button.clicked.connect(self.task_cancelled)
        for index, widget in enumerate((self.progress_bar, self.cancel_button)):
            widget.hide()
            bar.insertPermanentWidget(index, widget)

    # -- a long task -----------------------------------------------------------------------

    def begin_task(self, text: str) -> None:
        """Show a progress bar saying ``text`` (and the percentage) and a Cancel button."""
        self.progress_bar.setFormat(f"{text} %p%")
        self.progress_bar.setValue(0)
        self.progress_bar.show()
        self.cancel_button.show()

    def set_task_progress(self, fraction: float) -> None:
        """The task is ``fraction`` (0 to 1) done."""
        self.progress_bar.setValue(round(PROGRESS_STEPS * min(max(fraction, 0.0), 1.0)))

    def end_task(self) -> None:
        """Hide the progress bar and the Cancel button."""
        self.progress_bar.hide()
        self.cancel_button.hide()

    def set_history(self, text: str) -> None:
        """Say which moment of the history is drawn (empty: the live model)."""
        self.history_label.setText(text)
        self.history_label.setVisible(bool(text))

    # -- the cursor readout ----------------------------------------------------------------

    def show_readout(self, text: str) -> None:
        """Show ``text`` (rich text) over the plot's top-left corner; empty hides it."""
        self.hover_label.setText(text)
        self.hover_label.setVisible(bool(text))
        self._place_readout()

    @Slot()
    def _place_readout(self) -> None:
        canvas = self.canvas
        self.hover_label.adjustSize()
        rect = canvas.mapFromScene(canvas.view_box.sceneBoundingRect()).boundingRect()
        self.hover_label.move(rect.left() + 4, rect.top() + 4)

    def refresh_readout(self) -> None:
        """Describe the model under a still cursor again (the model changed)."""
        if self._hover is not None:
            self._on_hovered(*self._hover)

    @Slot(float, float)
    def _on_hovered(self, x: float, y: float) -> None:
        self._hover = (x, y)
        full = self.window.snapshot
        snapshot = self.canvas.shown.marginal(full)  # the model in the shown columns
        # As many digits as one pixel resolves, at any scale.
        pixel = self.canvas.view_extent() / max(1, self.canvas.width())
        magnitude = max(abs(x), abs(y), pixel)
        digits = int(np.clip(np.ceil(np.log10(magnitude / pixel)) + 1, 3, 15))
        position = f"({x:.{digits}g}, {y:.{digits}g})"
        if snapshot is None or snapshot.n_components == 0:
            self.show_readout(position)
            return
        log_prob = component_log_densities(
            np.array([[x, y]]), snapshot.weights, snapshot.means, snapshot.covariances
        )[0]
        log_density = log_sum_exp(log_prob)
        responsibilities = np.exp(log_prob - log_density)
        k = int(np.argmax(responsibilities))
        r, g, b = component_color(snapshot.colors[k])
        density = "marginal log density" if full.n_features > 2 else "log density"
        self.show_readout(
            f"{html.escape(position)} &nbsp; {density} {log_density:.4g} &nbsp; "
            f"<span style='color: rgb({r},{g},{b})'>&#9632;</span> component {k + 1} "
            f"({100 * responsibilities[k]:.0f}%)"
        )

    @Slot()
    def _on_left(self) -> None:
        self._hover = None
        self.show_readout("")

    # -- the status bar --------------------------------------------------------------------

    def update(self) -> None:
        """Show the window's current points, drawn model and training state."""
        snapshot = self.window.snapshot
        controller = self.window.controller
        n = len(self.window.session)
        self.points_label.setText(f"{n:,} point{'s' if n != 1 else ''}")
        asked = controller.n_components
        have = snapshot.n_components if snapshot is not None else 0
        if snapshot is not None and have and snapshot.trainer == TRAINERS[3]:
            in_use = int(np.sum(snapshot.weights >= IN_USE_WEIGHT))
            self.components_label.setText(f"{in_use} of {have} components in use")
            self.components_label.setToolTip(
                f"Components with a weight of at least {IN_USE_WEIGHT:g} carry the data; "
                "the variational fit lets the others die out"
            )
        else:
            self.components_label.setText(
                f"{have} of {asked} components" if have != asked else f"{have} components"
            )
            self.components_label.setToolTip("")
        if snapshot is not None and snapshot.n_points and np.isfinite(snapshot.mean_log_likelihood):
            self.loglik_label.setText(f"log-lik/point {snapshot.mean_log_likelihood:.4g}")
            self.bic_label.setText(f"BIC {snapshot.bic:.6g}")
            self.bic_label.setToolTip("Bayesian information criterion (lower is better)")
        else:
            self.loglik_label.setText("log-lik/point –")
            self.bic_label.setText("BIC –")
        if controller.busy:
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
