"""The history bar: scrub the session's timeline of drawn models, and replay it.

:class:`History` owns the :class:`app.state.history.Timeline` and which moment is drawn
(None: the live model). It is handed the session (the points now), the canvas (where a
moment is drawn, the points added since faded), the likelihood panel (its marker at the
moment's pass) and the status line ("history: pass 3 of 17 (not live)"). Its bar (a
slider with step buttons, Play and a speed) sits under the likelihood panel. Scrubbing
only draws: it never trains, never edits the points, never touches the undo stack. The
shell's :class:`app.model_flow.ModelFlow` records each drawn model and returns to live
on every edit; :attr:`History.live_wanted` asks it to draw the live model again.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QObject, Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSlider, QSpinBox, QToolButton, QWidget

from ..state.history import Moment, Timeline, restored
from ..state.messages import DENSITY_ABOVE, ModelSnapshot

#: Moments per second that Play replays by default.
DEFAULT_REPLAY_SPEED = 8


class History(QObject):
    """The timeline of drawn models and the bar that scrubs it.

    Parameters
    ----------
    session : app.state.session.Session
    canvas : app.canvas.widget.Canvas
    likelihood_plot : app.panels.likelihood_panel.LikelihoodPlot
    status : app.panels.status_line.StatusLine
    parent : QObject
    """

    live_wanted = Signal()  # back to live: draw the live models again
    moved = Signal()  # another moment (or the live model) is drawn

    def __init__(self, session, canvas, likelihood_plot, status, parent: QObject | None = None):
        super().__init__(parent)
        self._session = session
        self._canvas = canvas
        self._likelihood = likelihood_plot
        self._status = status
        self.timeline = Timeline()
        self.index: int | None = None  # the moment drawn; None: live
        self._drawn: ModelSnapshot | None = None  # the restored primary model drawn
        self._frames: list[Moment] = []  # the moments an export draws
        self._index_before: int | None = None  # the moment drawn before the export
        self._build_bar()
        self._replay = QTimer(self)
        self._replay.timeout.connect(self._on_replay_tick)

    # -- the bar --------------------------------------------------------------------------

    def _build_bar(self) -> None:
        self.bar = QWidget()
        layout = QHBoxLayout(self.bar)
        layout.setContentsMargins(4, 0, 4, 2)
        self.back_button = QToolButton(self.bar)
        self.back_button.setArrowType(Qt.ArrowType.LeftArrow)
        self.back_button.setToolTip("One moment back in the history")
        self.forward_button = QToolButton(self.bar)
        self.forward_button.setArrowType(Qt.ArrowType.RightArrow)
        self.forward_button.setToolTip("One moment forward (the end is the live model)")
        self.slider = QSlider(Qt.Orientation.Horizontal, self.bar)
        self.slider.setRange(0, 0)
        self.slider.setPageStep(10)
        self.slider.setFocusPolicy(Qt.FocusPolicy.StrongFocus)  # left and right keys step
        self.slider.setToolTip(
            "The history of the drawn models: drag back to see an earlier model with the "
            "points of then (points added since are faded); the end is live"
        )
        self.play_button = QToolButton(self.bar)
        self.play_button.setText("Replay")
        self.play_button.setCheckable(True)
        self.play_button.setToolTip("Replay the history from its start at the speed set")
        self.speed_spin = QSpinBox(self.bar)
        self.speed_spin.setRange(1, 60)
        self.speed_spin.setValue(DEFAULT_REPLAY_SPEED)
        self.speed_spin.setSuffix(" /s")
        self.speed_spin.setToolTip("Moments per second that Replay shows")
        self.position_label = QLabel("live", self.bar)
        metrics = self.bar.fontMetrics()
        self.position_label.setMinimumWidth(metrics.horizontalAdvance("999 / 999") + 8)
        layout.addWidget(QLabel("History", self.bar))
        for widget in (self.back_button, self.slider, self.forward_button):
            layout.addWidget(widget)
        layout.setStretchFactor(self.slider, 1)
        for widget in (self.position_label, self.play_button, self.speed_spin):
            layout.addWidget(widget)
        self.back_button.clicked.connect(lambda: self.step(-1))
        self.forward_button.clicked.connect(lambda: self.step(1))
        self.slider.valueChanged.connect(self._on_slider)
        self.play_button.toggled.connect(self._on_play_toggled)
        self.speed_spin.valueChanged.connect(self._on_speed)
        self._set_slider(0)

    def _set_slider(self, value: int) -> None:
        """Move the slider without drawing (its range follows the timeline)."""
        self.slider.blockSignals(True)
        self.slider.setRange(0, max(0, len(self.timeline) - 1))
        self.slider.setValue(value)
        self.slider.blockSignals(False)
        enabled = len(self.timeline) > 1
        for widget in (self.slider, self.back_button, self.forward_button, self.play_button):
            widget.setEnabled(enabled)
        n = len(self.timeline)
        self.position_label.setText("live" if self.index is None else f"{self.index + 1} / {n}")

    # -- state ----------------------------------------------------------------------------

    @property
    def scrubbed(self) -> bool:
        """Whether an earlier moment is drawn (not the live model)."""
        return self.index is not None

    @property
    def snapshot(self) -> ModelSnapshot | None:
        """The primary model of the moment drawn (None while live)."""
        return self._drawn if self.scrubbed else None

    def record(self, models, points: np.ndarray, generation: int) -> None:
        """Keep the models just drawn (primary first) over ``points`` of ``generation``."""
        before = len(self.timeline)
        self.timeline.record(models, points, generation)
        if self.index is not None and len(self.timeline) <= before:
            # thinned: the moment drawn may have moved; keep the slider on a moment
            self.index = min(self.index, len(self.timeline) - 1)
        self._set_slider(len(self.timeline) - 1 if self.index is None else self.index)

    def clear(self) -> None:
        """Forget the timeline (another session); the live model is drawn."""
        self.go_live(redraw=False)
        self.timeline.clear()
        self._set_slider(0)

    # -- scrubbing -----------------------------------------------------------------------

    def show(self, index: int) -> None:
        """Draw moment ``index`` of the timeline; the last one is the live model."""
        n = len(self.timeline)
        if n == 0:
            return
        index = int(min(max(index, 0), n - 1))
        if index == n - 1:
            self.go_live()
            return
        self.index = index
        moment = self.timeline[index]
        self._draw(moment)
        self._set_slider(index)
        self._status.set_history(f"history: pass {index + 1} of {n} (not live)")
        self._status.update()
        self.moved.emit()

    def step(self, delta: int) -> None:
        """Move ``delta`` moments (from the live end when live)."""
        here = len(self.timeline) - 1 if self.index is None else self.index
        self.show(here + delta)

    def go_live(self, redraw: bool = True) -> None:
        """Draw the live model again (the end of the slider, or an edit)."""
        if self._replay.isActive() and self.index is not None and redraw:
            self.play_button.setChecked(False)
        if self.index is None:
            return
        self.index = None
        self._drawn = None
        self._canvas.show_later(self._session.points[:0])
        self._likelihood.clear_marker()
        self._status.set_history("")
        self._set_slider(max(0, len(self.timeline) - 1))
        if redraw:
            self.live_wanted.emit()
        self.moved.emit()

    def _draw(self, moment: Moment) -> None:
        points = self.timeline.points(moment)
        models = [restored(moment.model, points, DENSITY_ABOVE)]
        models += [restored(m, points[:0], DENSITY_ABOVE) for m in moment.models[1:]]
        now = self._session.points
        if moment.generation == self._session.generation:
            later = now[moment.n_shown :]
        else:
            later = now
        self._canvas.show_moment(models, points, later)
        self._drawn = models[0]
        self._likelihood.set_marker(moment.model.n_iter, moment.model.log_likelihood)

    # -- frames of an export ----------------------------------------------------------------

    def begin_frames(self) -> int:
        """Keep the moments to draw one by one (an export); returns how many there are."""
        self.play_button.setChecked(False)
        self._frames = list(self.timeline)
        self._index_before = self.index
        return len(self._frames)

    def draw_frame(self, index: int) -> None:
        """Draw frame ``index`` of those kept (live models wait meanwhile)."""
        self.index = index  # not live: the live models wait
        self._draw(self._frames[index])

    def end_frames(self) -> None:
        """Draw again what was drawn before the export."""
        self._frames = []
        before, self._index_before = self._index_before, None
        if before is None:
            self.index = -1  # drawn: go_live draws the live model
            self.go_live()
        else:
            self.show(before)

    # -- replay ---------------------------------------------------------------------------

    @Slot(int)
    def _on_slider(self, value: int) -> None:
        self.show(value)

    @Slot(bool)
    def _on_play_toggled(self, playing: bool) -> None:
        if playing:
            if len(self.timeline) < 2:
                self.play_button.setChecked(False)
                return
            if self.index is None:
                self.show(0)
            self._replay.start(int(1000 / self.speed_spin.value()))
        else:
            self._replay.stop()

    @Slot(int)
    def _on_speed(self, value: int) -> None:
        if self._replay.isActive():
            self._replay.start(int(1000 / value))

    @Slot()
    def _on_replay_tick(self) -> None:
        self.step(1)
        if self.index is None:  # the end: live again
            self.play_button.setChecked(False)
