"""The window's one-way flow: session edits ask for models, and the answers are drawn.

session (points, undo) -> training controller -> worker thread -> snapshot -> canvas.

:class:`ModelFlow` owns the drawn model (the window's ``snapshot``): it asks the
controller for a model of the session's points when they change (live training on, or
no points left), draws each snapshot the controller delivers on the canvas, and drops
snapshots of points that an opened file has replaced. An opened file comes in through
one call, :meth:`ModelFlow.show_document` (these points, these columns, this saved
model). Nothing here imports torch or gmm_core.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtWidgets import QStatusBar

from .files.documents import OpenedDocument
from .panels.history_panel import History
from .state.messages import ModelSnapshot, ModelStart


class ModelFlow(QObject):
    """Asks ``controller`` for models of ``session``'s points and draws them on ``canvas``.

    Parameters
    ----------
    session : Session
        The points; each change asks for a model while ``insight.live``.
    controller : TrainingController
        Takes the requests, delivers the snapshots.
    canvas : Canvas
        Draws the points and each snapshot.
    insight : Insight
        Live training on or off; the likelihood curves of each snapshot.
    status : StatusLine
        Updated with each drawn model and each change of the controller's state.
    status_bar : QStatusBar
        Short messages: "Add points first.", a training failure.
    """

    model_updated = Signal(object)  # ModelSnapshot, after it has been drawn
    training_failed = Signal(str)  # the whole message of a training error

    def __init__(
        self,
        session,
        controller,
        canvas,
        insight,
        status,
        status_bar: QStatusBar,
        parent: QObject | None = None,
    ):
        super().__init__(parent)
        self._session = session
        self._controller = controller
        self._canvas = canvas
        self._ignore_up_to = -1  # snapshots of requests up to this id predate an opened file
        self._replacing = False  # show_document is replacing the points itself
        self._insight = insight
        self._status = status
        self._status_bar = status_bar
        self.live_snapshot: ModelSnapshot | None = None  # the primary trainer's newest model
        # The timeline of drawn models; scrubbing it draws an earlier one (never trains).
        self.history = History(session, canvas, insight.likelihood_plot, status, self)
        self.history.live_wanted.connect(self._redraw_live)
        session.changed.connect(self._on_session_changed)
        controller.snapshot_ready.connect(self._on_snapshot)
        controller.busy_changed.connect(self._on_busy_changed)
        controller.failed.connect(self._on_failed)

    @property
    def snapshot(self) -> ModelSnapshot | None:
        """The drawn model: the live one, or while the history is scrubbed, that moment's."""
        if self.history.scrubbed:
            return self.history.snapshot
        return self.live_snapshot

    def train(self) -> None:
        """Refit from scratch with restarts (the Train button)."""
        if len(self._session) == 0:
            self._status_bar.showMessage("Add points first.", 3000)
            return
        self.request(train=True)

    def request(self, *, train: bool = False, step: str = "", repair: bool = False) -> None:
        """Ask for a model of the session's points (see :meth:`TrainingController.update`)."""
        # The regulariser follows the data's extent; a single point (or several at one
        # place) has none, and takes the view's.
        scale = self._session.extent
        if not scale > 0:
            scale = self._canvas.view_extent()
        self._controller.update(
            self._session.points,
            self._session.generation,
            scale,
            train=train,
            step=step,
            repair=repair,
        )

    @Slot()
    def refit_if_live(self) -> None:
        """Ask for a model of the points, if there are any and live training is on."""
        if len(self._session) and self._insight.live:
            self.request()

    def _fits_columns(self, snapshot: ModelSnapshot) -> bool:
        """Whether ``snapshot`` is a model of as many columns as the session has."""
        return snapshot.n_components == 0 or snapshot.n_features == self._session.n_features

    def _snapshot_for(self, points: np.ndarray) -> ModelSnapshot | None:
        """The drawn snapshot if its points are a prefix of ``points``, else None."""
        snapshot = self.live_snapshot
        if snapshot is None or snapshot.generation != self._session.generation:
            return None if len(points) == 0 else snapshot
        return snapshot

    def show_document(self, document: OpenedDocument) -> None:
        """Replace the points by an opened file's and show its model.

        The points replace the session's as one undoable edit. A saved model is drawn as
        saved at once (no training), and the next request learns on from it; a table's
        points are trained with restarts (when live training is on). Snapshots of
        requests made before the file was opened are dropped.
        """
        controller = self._controller
        self._ignore_up_to = controller.latest_request_id
        saved, start = None, None
        if document.model is not None:
            generation = self._session.generation + 1  # replace_points starts a new one
            points = document.points.array
            saved = document.model.snapshot(points, controller.latest_request_id, generation)
            if document.model.gmm_core is not None:
                # A model that labelled every point learnt them all; otherwise the worker
                # relearns the points from its parameters (another generation).
                learnt_all = document.model.labels.shape[0] == points.shape[0]
                start = ModelStart(
                    model=document.model.gmm_core,
                    generation=generation if learnt_all else -1,
                    n_points=points.shape[0] if learnt_all else 0,
                    means=document.model.means,
                    colors=document.model.colors,
                )
        controller.continue_from(start)
        self.history.clear()  # another session: its own history
        self._replacing = True
        try:
            self._session.replace_points(document.points, document.text, document.columns)
        finally:
            self._replacing = False
        if saved is not None:
            self._show_saved(saved)
        else:
            self._follow_edit(train=True)

    @Slot()
    def _on_session_changed(self) -> None:
        if not self._replacing:
            self._follow_edit(train=False)

    def _follow_edit(self, train: bool) -> None:
        """Ask for a model of the edited points (live) and draw them."""
        if self.history.scrubbed:
            self.history.go_live()  # an edit returns to live (draws the live model)
        if self.live_snapshot is not None and not self._fits_columns(self.live_snapshot):
            self.live_snapshot = None  # a model of other columns: not drawn, saved or exported
            self._canvas.forget_model()
        if self._insight.live or len(self._session) == 0:
            self.request(train=train)
        points = self._session.points
        self._canvas.show_points(self._snapshot_for(points), points)
        self._status.update()

    @Slot(object)
    def _on_snapshot(self, snapshot: ModelSnapshot) -> None:
        if snapshot.request_id <= self._ignore_up_to or not self._fits_columns(snapshot):
            return  # a model of the points before a session or table was opened
        # A snapshot of points that changed since (an undo in flight) is still the newest
        # model there is; the points drawn are always the session's. While the history
        # is scrubbed, it is kept, and drawn on the return to live.
        canvas = self._canvas
        if self.history.scrubbed:
            if snapshot.trainer != canvas.primary_trainer:
                canvas.trainer_snapshots[snapshot.trainer] = snapshot
        else:
            canvas.show_model(snapshot, self._session.points)
        self._insight.on_snapshot(snapshot)
        if snapshot.trainer == canvas.primary_trainer:
            self.live_snapshot = snapshot
        self._record()
        if snapshot.trainer != canvas.primary_trainer:
            self.model_updated.emit(snapshot)  # "Compare all": drawn beside the primary
            return
        self._status.update()
        self._status.refresh_readout()  # the model under a still cursor changed
        self.model_updated.emit(snapshot)

    def _show_saved(self, snapshot: ModelSnapshot) -> None:
        """Draw an opened session's model as saved; the worker is not asked."""
        self._canvas.show_model(snapshot, self._session.points)
        self.live_snapshot = snapshot
        self._record()
        self._status.update()
        self.model_updated.emit(snapshot)

    def _record(self) -> None:
        """Keep the live models (the primary's, the others' beside it) in the history."""
        if self.live_snapshot is None:
            return
        others = tuple(self._canvas.trainer_snapshots.values())
        session = self._session
        self.history.record((self.live_snapshot, *others), session.points, session.generation)

    @Slot()
    def _redraw_live(self) -> None:
        """Draw the live models and the session's points again (leaving the history)."""
        canvas, points = self._canvas, self._session.points
        live = self.live_snapshot
        if live is not None and self._fits_columns(live):
            canvas.show_model(live, points)
        else:
            canvas.forget_model()
            canvas.show_points(None, points)
        canvas.show_live_trainers()
        self._status.update()

    @Slot(bool)
    def _on_busy_changed(self, busy: bool) -> None:
        self._status.update()

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        self._status_bar.showMessage(f"Training failed: {message}", 8000)
        self.training_failed.emit(message)
        self._status.update()
