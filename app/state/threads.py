"""Every background thread of the program: one owner, newest request wins.

:class:`BackgroundThread` is the one place in the program that makes a ``QThread``. Each
background job (training, the density map, choosing K, the point histogram, reading a
file) is one :class:`BackgroundThread` with a function that serves a request in that
thread. Posting a request leaves it in a :class:`Mailbox`, replacing any request not yet
taken and setting the cancel flag, which the running job checks between its steps: a
queued "cancel" signal would wait behind a busy job (Qt's "Threads and QObjects";
superqt's ``_qthreading`` does the same). Requests get their ids here; results come back
through a queued signal, and those of a request that is no longer the newest are dropped
(unless the owner asks to see them all, as the training controller does).

Nothing here imports torch: a job's function is a plain reference, imported with its
module, and a job that needs torch loads it in its own thread (``set_up``).
"""

from __future__ import annotations

import dataclasses
import logging
import os
import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal, Slot

_log = logging.getLogger(__name__)

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


class Mailbox:
    """Holds the newest request for a job; posting a new one cancels the running one.

    Parameters
    ----------
    merge : callable, optional
        ``merge(waiting, new) -> request``: what to keep when ``new`` arrives while
        ``waiting`` has not been taken yet (the training controller keeps a waiting
        Train). Without it, the new request replaces the waiting one.
    """

    def __init__(self, merge: Callable[[Any, Any], Any] | None = None):
        self._lock = threading.Lock()
        self._merge = merge
        self._pending = None
        self._closed = False
        self.cancelled = threading.Event()

    def post(self, request) -> None:
        """Leave ``request`` for the job, replacing (or merging with) one not yet taken."""
        with self._lock:
            if self._closed:
                return
            if self._pending is not None and self._merge is not None:
                request = self._merge(self._pending, request)
            self._pending = request
            self.cancelled.set()

    def take(self):
        """The newest request (clearing the cancel flag), or None."""
        with self._lock:
            request, self._pending = self._pending, None
            if request is not None and not self._closed:
                self.cancelled.clear()
                return request
            return None

    def discard(self) -> None:
        """Drop the request not yet taken and cancel the running one."""
        with self._lock:
            self._pending = None
            self.cancelled.set()

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


class JobContext:
    """What a job's functions see in its thread.

    Attributes
    ----------
    cancelled : threading.Event
        Set when a newer request arrives or the thread shuts down: check it between
        steps and stop.
    request_id : int
        The id of the request being served (-1 before the first).
    """

    def __init__(self, cancelled: threading.Event, send: Callable[[int, object], None]):
        self.cancelled = cancelled
        self.request_id = -1
        self._send = send

    def send(self, result) -> None:
        """Deliver ``result`` (one of several for the request being served) at once."""
        self._send(self.request_id, result)


class _Servant(QObject):
    """Lives in the job's thread: sets the job up once, then serves the mailbox."""

    result = Signal(int, object)  # request id, a result of the job
    failed = Signal(int, str)  # request id, what went wrong
    ready = Signal()  # the job is set up: requests are served from now on

    def __init__(self, name: str, mailbox: Mailbox, serve, set_up, lower_priority: bool):
        super().__init__()
        self._name = name
        self._mailbox = mailbox
        self._serve = serve
        self._set_up = set_up
        self._lower_priority = lower_priority
        self.context = JobContext(mailbox.cancelled, self.result.emit)
        self.is_set_up = False

    @Slot()
    def set_up(self) -> None:
        """Prepare the job in its thread (its imports, its priority), then serve."""
        if self.is_set_up:
            return
        if self._lower_priority:
            lower_thread_priority()
        if self._set_up is not None:
            self._set_up(self.context)
        self.is_set_up = True
        self.ready.emit()
        self.process()

    @Slot()
    def process(self) -> None:
        """Serve the newest waiting request, if any (several wake-ups may find none)."""
        if not self.is_set_up:
            return  # set_up serves the mailbox when done
        request = self._mailbox.take()
        if request is None:
            return
        request_id = getattr(request, "request_id", -1)
        self.context.request_id = request_id
        try:
            result = self._serve(request, self._mailbox.cancelled)
        except Exception as error:  # a failing job must not end the thread
            # A refusal (ValueError, OSError) is told to the person and is no bug: it is
            # logged quietly; anything else is a bug, logged with its traceback.
            expected = isinstance(error, ValueError | OSError)
            _log.log(
                logging.INFO if expected else logging.ERROR,
                "%s failed",
                self._name,
                exc_info=not expected,
            )
            self.failed.emit(request_id, f"{type(error).__name__}: {error}")
        else:
            if result is not None:
                self.result.emit(request_id, result)


class BackgroundThread(QObject):
    """One background job in its own ``QThread``: the newest request wins.

    Parameters
    ----------
    name : str
        The thread's name (seen in debuggers and ``ps -L``).
    serve : callable
        ``serve(request, cancelled) -> result or None``, called in the thread for each
        request taken; ``cancelled`` is the ``threading.Event`` to check between steps.
        A result that is not None is delivered (:attr:`result_ready`). An exception is
        logged and reported (:attr:`failed`); the thread goes on.
    set_up : callable, optional
        ``set_up(context)``, called once in the thread before the first request, with
        the :class:`JobContext` through which a job sends several results per request
        (``context.send``); a job that needs torch imports it here, never in the GUI
        thread.
    merge : callable, optional
        The mailbox's merge rule (:class:`Mailbox`).
    newest_only : bool
        Deliver only the results of the newest request posted (the default); False
        delivers every result, for an owner that filters them itself.
    lower_priority : bool
        Lower the thread's priority below the GUI thread's (the default).
    """

    result_ready = Signal(int, object)  # request id, result, in the GUI thread
    failed = Signal(int, str)  # request id, what went wrong, in the GUI thread
    ready = Signal()  # the job is set up in its thread

    _wake = Signal()  # to the servant: a request waits in the mailbox

    def __init__(
        self,
        name: str,
        serve: Callable[[Any, threading.Event], object],
        *,
        set_up: Callable[[JobContext], None] | None = None,
        merge: Callable[[Any, Any], Any] | None = None,
        newest_only: bool = True,
        lower_priority: bool = True,
        parent: QObject | None = None,
    ):
        super().__init__(parent)
        self._name = name
        self._serve = serve
        self._set_up = set_up
        self._newest_only = newest_only
        self._lower_priority = lower_priority
        self.mailbox = Mailbox(merge)
        self._thread: QThread | None = None
        self._servant: _Servant | None = None
        self._next_id = 0

    # -- the GUI side ----------------------------------------------------------------------

    @property
    def thread(self) -> QThread | None:
        """The thread (None until the first request or :meth:`start`)."""
        return self._thread

    @property
    def latest_id(self) -> int:
        """The id of the newest request posted (-1 before the first)."""
        return self._next_id - 1

    @property
    def closed(self) -> bool:
        """Whether :meth:`shutdown` was called."""
        return self.mailbox.closed

    @Slot()
    def start(self) -> None:
        """Start the thread (and the job's set-up) without a request; once."""
        if self._thread is not None or self.mailbox.closed:
            return
        self._thread = QThread()
        self._thread.setObjectName(self._name)
        self._servant = _Servant(
            self._name, self.mailbox, self._serve, self._set_up, self._lower_priority
        )
        self._servant.moveToThread(self._thread)
        self._thread.started.connect(self._servant.set_up)
        self._wake.connect(self._servant.process)
        self._servant.result.connect(self._on_result)
        self._servant.failed.connect(self._on_failed)
        self._servant.ready.connect(self.ready)
        self._thread.finished.connect(self._servant.deleteLater)
        self._thread.start()

    def post(self, request) -> int:
        """Serve ``request`` next, cancelling the one in flight; returns its id.

        A request that is a dataclass with a ``request_id`` field gets its id here.
        """
        request_id = self._next_id
        self._next_id += 1
        if dataclasses.is_dataclass(request) and hasattr(request, "request_id"):
            request = dataclasses.replace(request, request_id=request_id)
        self.start()
        self.mailbox.post(request)
        self._wake.emit()
        return request_id

    def cancel(self) -> None:
        """Drop what waits and stop the request in flight; none of their results arrive."""
        self._next_id += 1
        self.mailbox.discard()

    def shutdown(self, timeout_ms: int | None = None) -> bool:
        """Stop the thread: set the cancel flag, quit its loop, wait for it.

        Returns whether it stopped within ``timeout_ms`` (None: however long it takes);
        if not, waits on, since a running ``QThread`` must never be destroyed.
        """
        self.mailbox.close()
        if self._thread is None:
            return True
        self._thread.quit()
        stopped = self._thread.wait() if timeout_ms is None else self._thread.wait(timeout_ms)
        if not stopped:
            self._thread.wait()
        return bool(stopped)

    @Slot(int, object)
    def _on_result(self, request_id: int, result) -> None:
        if self.mailbox.closed or (self._newest_only and request_id != self.latest_id):
            return  # an older request's late answer
        self.result_ready.emit(request_id, result)

    @Slot(int, str)
    def _on_failed(self, request_id: int, message: str) -> None:
        if self.mailbox.closed or (self._newest_only and request_id != self.latest_id):
            return
        self.failed.emit(request_id, message)
