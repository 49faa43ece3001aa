"""One background computation with its own thread: newest request wins.

:class:`BackgroundRunner` is the GUI-side owner (like :class:`app.controller
.TrainingController`, on a smaller scale): :meth:`~BackgroundRunner.post` leaves a
request in a :class:`app.worker.Mailbox` (cancelling the one in flight) and wakes the
worker, which calls one function of :mod:`app.analysis` (or of another module named) in
its thread; that module (and torch with it) is imported there, never in the GUI thread.
Results come back through :attr:`~BackgroundRunner.done`; a result whose request is no
longer the newest is dropped.
"""

from __future__ import annotations

import importlib
import os
import threading

from PySide6.QtCore import QObject, QThread, Signal, Slot

from .worker import Mailbox

#: Niceness of the threads that compute in the background (0 is the GUI thread's).
BACKGROUND_NICE = 10


def lower_thread_priority() -> None:
    """Make the calling thread yield the CPU to the GUI thread (Linux; elsewhere nothing).

    On two cores, training, binning and reading keep both busy, and a GUI thread of
    equal priority waits for a time slice before it paints; Qt's thread priorities do
    not apply to Linux's normal scheduling, a thread's niceness does.
    """
    if hasattr(os, "setpriority") and hasattr(threading, "get_native_id"):
        try:
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), BACKGROUND_NICE)
        except OSError:
            pass  # not allowed here: the thread keeps its priority


class _Worker(QObject):
    """Lives in the runner's thread; calls ``app.<module>.<function>(request, cancelled)``."""

    done = Signal(object)  # the function's result (None when cancelled: not emitted)

    def __init__(self, mailbox: Mailbox, module: str, function: str):
        super().__init__()
        self._mailbox = mailbox
        self._module = module
        self._function = function
        self._lowered = False  # the thread's priority, lowered on its first request

    @Slot()
    def process(self) -> None:
        """Serve the newest waiting request, if any."""
        # In this thread: app.analysis brings torch, which never loads in the GUI thread.
        if not self._lowered:
            self._lowered = True
            lower_thread_priority()
        module = importlib.import_module(f"{__package__}.{self._module}")
        request = self._mailbox.take()
        if request is None:
            return
        result = getattr(module, self._function)(request, self._mailbox.cancelled)
        if result is not None:
            self.done.emit(result)


class BackgroundRunner(QObject):
    """Runs ``app.<module>.<function>`` on the newest request in a background thread.

    Requests and results carry a ``request_id``; :attr:`done` delivers only the result
    of the newest request posted. ``module`` is ``"analysis"`` unless given.
    """

    done = Signal(object)  # result of the newest request, in the GUI thread
    _wake = Signal()

    def __init__(
        self, function: str, name: str, parent: QObject | None = None, module: str = "analysis"
    ):
        super().__init__(parent)
        self._module = module
        self._function = function
        self._name = name
        self._mailbox = Mailbox()
        self._thread: QThread | None = None
        self._worker: _Worker | None = None
        self._next_id = 0

    def next_id(self) -> int:
        """The id to give the next request."""
        return self._next_id

    def post(self, request) -> None:
        """Compute ``request`` (its ``request_id`` from :meth:`next_id`); cancels the last."""
        self._next_id = request.request_id + 1
        if self._thread is None and not self._mailbox.closed:
            self._thread = QThread()
            self._thread.setObjectName(self._name)
            self._worker = _Worker(self._mailbox, self._module, self._function)
            self._worker.moveToThread(self._thread)
            self._wake.connect(self._worker.process)
            self._worker.done.connect(self._on_done)
            self._thread.finished.connect(self._worker.deleteLater)
            self._thread.start()
        self._mailbox.post(request)
        self._wake.emit()

    def cancel(self) -> None:
        """Stop the request in flight; no result of a request posted so far is delivered."""
        self._next_id += 1
        self._mailbox.cancelled.set()

    def shutdown(self) -> None:
        """Stop the thread: set the cancel flag, quit its loop, wait for it."""
        self._mailbox.close()
        if self._thread is not None:
            self._thread.quit()
            self._thread.wait()

    @Slot(object)
    def _on_done(self, result) -> None:
        if not self._mailbox.closed and result.request_id == self._next_id - 1:
            self.done.emit(result)
