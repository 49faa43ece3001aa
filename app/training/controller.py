"""The training controller: lives in the GUI thread, owns the one worker thread."""

from __future__ import annotations

import gc

import numpy as np
from PySide6.QtCore import QObject, QThread, QTimer, Signal, Slot

from ..state.geometry import reg_covar_for
from ..state.messages import (
    COMPARE_ALL,
    DEFAULT_WEIGHT_PRIOR,
    TRAINERS,
    ModelSnapshot,
    ModelStart,
    TrainingRequest,
)
from ..state.threads import BackgroundThread
from .worker import TrainingJob, merge_requests

#: How long spin-box changes are gathered before one refit is asked for.
SETTINGS_DELAY_MS = 150


class TrainingController(QObject):
    """Turns edits into requests and worker snapshots into drawable models.

    The caller owns the points: every request carries the points, their generation and
    their scale, passed in by the caller. One long-lived
    :class:`app.training.worker.TrainingJob` runs in one
    :class:`app.state.threads.BackgroundThread`, started by :meth:`start` or by the first
    request. Every request gets an id; the newest request wins: posting
    one cancels the running one at its next check, and a snapshot older than the one
    already delivered is dropped.
    """

    snapshot_ready = Signal(object)  # ModelSnapshot, newest only, in the GUI thread
    busy_changed = Signal(bool)  # whether a request is being served
    failed = Signal(str)  # message of a training error
    refit_wanted = Signal()  # settings changed (coalesced): call update() with the points

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.n_components = 3
        self.epochs = 20
        self.n_init = 4
        self.time_budget_s = 5.0
        self.seed = 0
        self.trainer = TRAINERS[0]  # or COMPARE_ALL
        self.covariance_type = "full"
        self.weight_prior = DEFAULT_WEIGHT_PRIOR  # the variational trainer's
        self._job = TrainingJob()
        self._background = BackgroundThread(
            "gmm-training",
            self._job.serve,
            set_up=self._job.set_up,
            merge=merge_requests,
            newest_only=False,  # stale snapshots are dropped here, after coalescing
            parent=self,
        )
        self._background.result_ready.connect(self._on_snapshot)
        self._background.failed.connect(self._on_failed)
        self._background.ready.connect(self._on_worker_loaded)
        self._delivered_id = -1
        self._busy = False
        # received, not yet delivered: the newest of each trainer
        self._pending: dict[str, ModelSnapshot] = {}
        self._start: ModelStart | None = None  # for the next request
        self._delivery_scheduled = False
        self._expected: tuple[str, ...] = ()  # trainers that serve the newest request
        self._finished: set[str] = set()  # those whose final snapshot has been delivered
        self._settings_timer = QTimer(self)
        self._settings_timer.setSingleShot(True)
        self._settings_timer.setInterval(SETTINGS_DELAY_MS)
        self._settings_timer.timeout.connect(self.refit_wanted)

    # -- requests ------------------------------------------------------------------------

    @property
    def busy(self) -> bool:
        """Whether the newest request has not finished yet."""
        return self._busy

    @property
    def latest_request_id(self) -> int:
        """Id of the newest request posted (-1 before the first)."""
        return self._background.latest_id

    def update(
        self,
        points: np.ndarray,
        generation: int,
        scale: float,
        *,
        train: bool = False,
        step: str = "",
        repair: bool = False,
    ) -> int:
        """Ask for a model of ``points``; returns the request id.

        Parameters
        ----------
        points : ndarray of shape (n, 2)
            All current points, read-only (never mutated once handed over).
        generation : int
            Changes on every edit that is not an append (see :class:`app.state.session.Session`).
        scale : float
            A length typical of the data (their extent, or the view's for a single
            point): the regulariser follows it.
        train : bool
            Refit from scratch with restarts (the Train button).
        step : str
            ``"e"`` or ``"m"``: one half of a step-by-step pass (see
            :meth:`app.training.trainer.Trainer.run`); ``""``: live training.
        repair : bool
            Re-seed collapsed components first.
        """
        self._settings_timer.stop()  # this request carries the settings already
        start, self._start = self._start, None
        request = TrainingRequest(
            start=start,
            request_id=-1,  # given by the thread's post
            points=points,
            generation=generation,
            n_components=self.n_components,
            epochs=self.epochs,
            reg_covar=reg_covar_for(scale),
            train=train,
            n_init=self.n_init,
            time_budget_s=self.time_budget_s,
            seed=self.seed,
            trainer=self.trainer,
            covariance_type=self.covariance_type,
            step=step,
            repair=repair,
            weight_prior=self.weight_prior,
        )
        self._expected = TRAINERS if self.trainer == COMPARE_ALL else (self.trainer,)
        self._finished = set()
        request_id = self._background.post(request)
        self._set_busy(True)
        return request_id

    def continue_from(self, start: ModelStart | None) -> None:
        """The next request continues from ``start``'s model (an opened session's).

        An opened file's settings replace any change still waiting to refit the old points.
        """
        self._settings_timer.stop()
        self._start = start

    def set_n_components(self, value: int) -> None:
        """Change the number of components; :attr:`refit_wanted` follows (coalesced)."""
        if value != self.n_components:
            self.n_components = int(value)
            self._settings_timer.start()

    def set_trainer(self, name: str) -> None:
        """Change how the model learns; :attr:`refit_wanted` follows (coalesced)."""
        if name != self.trainer:
            self.trainer = name
            self._settings_timer.start()

    def set_covariance_type(self, name: str) -> None:
        """Change the covariance type; :attr:`refit_wanted` follows (coalesced)."""
        if name != self.covariance_type:
            self.covariance_type = name
            self._settings_timer.start()

    def set_weight_prior(self, value: float) -> None:
        """Change the variational trainer's weight prior; :attr:`refit_wanted` follows."""
        if value != self.weight_prior:
            self.weight_prior = float(value)
            self._settings_timer.start()

    def set_epochs(self, value: int) -> None:
        """Change the cap on EM passes; applies to the next update."""
        self.epochs = int(value)

    # -- the thread ----------------------------------------------------------------------

    @Slot()
    def start(self) -> None:
        """Start the worker thread, which then loads the training code (once)."""
        self._background.start()

    @Slot()
    def _on_worker_loaded(self) -> None:
        _freeze_loaded_objects()

    def shutdown(self, timeout_ms: int = 1000) -> bool:
        """Stop the worker: set the cancel flag, quit the thread's loop, wait for it.

        Returns whether the thread stopped within ``timeout_ms``; if not, waits on (a
        running ``QThread`` must never be destroyed).
        """
        self._settings_timer.stop()
        stopped = self._background.shutdown(timeout_ms)
        self._set_busy(False)
        return stopped

    @property
    def thread(self) -> QThread | None:
        """The worker thread (None until started)."""
        return self._background.thread

    @property
    def job(self) -> TrainingJob:
        """What runs in :attr:`thread` (its ``trainers`` once loaded)."""
        return self._job

    # -- results -------------------------------------------------------------------------

    @Slot(int, object)
    def _on_snapshot(self, request_id: int, snapshot: ModelSnapshot) -> None:
        # Snapshots that queued up while the GUI thread was busy are coalesced: only the
        # newest is delivered, once the queue has been read.
        if self._background.closed or snapshot.request_id < self._delivered_id:
            return  # stale: a newer model is already drawn
        self._pending[snapshot.trainer] = snapshot
        if not self._delivery_scheduled:
            self._delivery_scheduled = True
            QTimer.singleShot(0, self._deliver)

    @Slot()
    def _deliver(self) -> None:
        self._delivery_scheduled = False
        pending, self._pending = self._pending, {}
        for snapshot in sorted(pending.values(), key=lambda s: s.request_id):
            if self._background.closed or snapshot.request_id < self._delivered_id:
                continue
            self._delivered_id = snapshot.request_id
            self.snapshot_ready.emit(snapshot)
            if snapshot.final and snapshot.request_id == self.latest_request_id:
                self._finished.add(snapshot.trainer)
                if self._finished >= set(self._expected):
                    self._set_busy(False)

    @Slot(int, str)
    def _on_failed(self, request_id: int, message: str) -> None:
        if request_id == self.latest_request_id:
            self._set_busy(False)
        self.failed.emit(message)

    def _set_busy(self, busy: bool) -> None:
        if busy != self._busy:
            self._busy = busy
            self.busy_changed.emit(busy)


_frozen = False


def _freeze_loaded_objects() -> None:
    """Once per process, when torch and gmm_core have loaded: keep the collector off them.

    A full collection scans every tracked object: with torch loaded, some 280,000, for
    140 ms here, a stall of the GUI thread (or, anywhere, of every thread). Objects alive
    now (modules, classes, the window) are frozen out of collections, which then scan
    only what came since: about 1 ms.
    """
    global _frozen
    if not _frozen:
        _frozen = True
        gc.freeze()
