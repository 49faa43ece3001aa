"""Thread plumbing: the newest request crosses to the worker thread, snapshots come back.

:class:`Mailbox` holds the newest request and the cancel flag; :class:`TrainingWorker`
is the ``QObject`` that lives in the one long-lived worker ``QThread`` and hands each
request to :class:`app.trainers.Trainers`. What to compute is decided there, not here.

This module does not import torch: the worker imports :mod:`app.trainers` (and with it
torch and gmm_core, about a second) in its own thread once the thread has started, so
the window shows first. A request posted meanwhile waits in the mailbox.
"""

from __future__ import annotations

import dataclasses
import logging
import threading

from PySide6.QtCore import QObject, Signal, Slot

from .snapshot import TrainingRequest

_log = logging.getLogger(__name__)


class Mailbox:
    """Holds the newest request for the worker; posting a new one cancels the running one.

    A queued signal would wait behind a busy worker's loop, so cancellation is a
    ``threading.Event`` the worker checks between steps.
    """

    def __init__(self):
        self._lock = threading.Lock()
        self._pending: TrainingRequest | None = None
        self._closed = False
        self.cancelled = threading.Event()

    def post(self, request: TrainingRequest) -> None:
        """Leave ``request`` for the worker, replacing any request not yet taken."""
        with self._lock:
            if self._closed:
                return
            if self._pending is not None and self._pending.train and not request.train:
                request = dataclasses.replace(request, train=True)  # Train is not lost
            if self._pending is not None and self._pending.start and not request.start:
                request = dataclasses.replace(request, start=self._pending.start)  # nor this
            self._pending = request
            self.cancelled.set()

    def take(self) -> TrainingRequest | None:
        """The newest request (clearing the cancel flag), or None."""
        with self._lock:
            request, self._pending = self._pending, None
            if request is not None and not self._closed:
                self.cancelled.clear()
                return request
            return None

    def close(self) -> None:
        """Refuse further requests and cancel the running one."""
        with self._lock:
            self._closed = True
            self._pending = None
            self.cancelled.set()

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._closed


class TrainingWorker(QObject):
    """Lives in the worker thread; never touches a widget.

    Connect :meth:`load` to ``QThread.started`` and a wake-up signal to :meth:`process`.
    """

    snapshot_ready = Signal(object)  # ModelSnapshot, emitted in the worker thread
    failed = Signal(int, str)  # request id, message of the training error
    loaded = Signal()  # the training code is imported: requests are served from now on

    def __init__(self, mailbox: Mailbox):
        super().__init__()
        self._mailbox = mailbox
        self.trainer = None  # an app.trainers.Trainers once loaded

    @Slot()
    def load(self) -> None:
        """Import the training code (torch, gmm_core) and serve any request that waits.

        Runs in the worker thread when it starts: the import takes about a second, and
        here the window does not wait for it.
        """
        from . import trainers  # deliberately late: see the module docstring

        trainers.configure_thread()
        self.trainer = trainers.Trainers(self.snapshot_ready.emit, self._mailbox.cancelled)
        self.loaded.emit()
        self.process()

    @Slot()
    def process(self) -> None:
        """Serve the newest waiting request, if any (several wake-ups may find none)."""
        if self.trainer is None:
            return  # still loading: load() serves the mailbox when done
        request = self._mailbox.take()
        if request is None:
            return
        try:
            self.trainer.run(request)
        except Exception as error:  # a bad model must not kill the thread
            _log.exception("training failed")
            self.failed.emit(request.request_id, f"{type(error).__name__}: {error}")
