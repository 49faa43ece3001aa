"""Opening files in the background: one reader thread, progress, and a Cancel flag.

:class:`FileLoader` is the GUI-side owner: :meth:`~FileLoader.start` hands a path to a
reader ``QObject`` living in its own ``QThread``, which calls :func:`read_document` there
(a table through :mod:`gmm_core.tables`, imported in that thread, never in the GUI
thread); the outcome comes back as :attr:`~FileLoader.loaded`,
:attr:`~FileLoader.failed` or :attr:`~FileLoader.cancelled`. Cancelling is cooperative:
each request carries a ``threading.Event`` that the table reader polls between blocks
(a queued signal would wait behind the busy reader). The newest open wins: starting
another cancels the one in flight, and only the newest request's signals are passed on.
"""

from __future__ import annotations

import itertools
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import QObject, QThread, Signal, Slot

from .background import lower_thread_priority
from .session import CheckedPoints
from .session_file import SessionData, is_session_file, read_session
from .table_loading import LoadedTable, load_table, numeric_columns

_log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, eq=False)
class LoadedDocument:
    """A file's contents, ready for the window.

    Attributes
    ----------
    data : SessionData
        A session's points, settings and model, or a table's points.
    points : CheckedPoints
        ``data.points`` checked, with their bounding box, in the reader's thread: the
        GUI thread takes millions of points without a pass over them.
    """

    data: SessionData
    points: CheckedPoints
    table: LoadedTable | None = None


class ColumnsNeeded(Exception):
    """A table of more than two numeric columns, opened without saying which to model.

    Attributes
    ----------
    numeric : list of str
        The table's numeric columns, in file order.
    """

    def __init__(self, numeric: list[str]):
        super().__init__(f"Which of {len(numeric)} columns?")
        self.numeric = numeric


def read_document(
    path: Path,
    columns: list[str] | None = None,
    *,
    progress: Callable[[float], object] | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> LoadedDocument:
    """A session file, or the points of a table in ``columns`` (names).

    With ``columns`` None, a table of two numeric columns is read whole, and one of more
    raises :class:`ColumnsNeeded` (the window asks which, then reads again). Rows with a
    missing or non-finite chosen value are skipped and counted (``table.n_skipped``).

    Raises
    ------
    ColumnsNeeded
        See above.
    ValueError, OSError
        The file cannot be read; the message is for a person.
    gmm_core.Cancelled
        When ``cancelled()`` became true while a table was read.
    """
    if is_session_file(path):
        data = read_session(path)
    else:
        if columns is None:
            numeric = numeric_columns(path)
            if len(numeric) > 2:
                raise ColumnsNeeded(numeric)
        table = load_table(path, columns, progress=progress, cancelled=cancelled)
        data = SessionData(points=table.points, columns=table.columns)
        return LoadedDocument(data, CheckedPoints.take(table.points), table)
    return LoadedDocument(data, CheckedPoints.take(data.points))


@dataclass(frozen=True, slots=True, eq=False)
class OpenRequest:
    """A file to read; ``cancel`` is set to stop the read."""

    request_id: int
    path: Path
    columns: list[str] | None = None
    cancel: threading.Event = field(default_factory=threading.Event)


class _Reader(QObject):
    """Lives in the loader's thread; reads one request at a time."""

    progressed = Signal(int, float)  # request id, fraction of the file read
    loaded = Signal(int, object)  # request id, LoadedDocument
    failed = Signal(int, str)  # request id, the reason, for a person
    cancelled = Signal(int)  # request id
    columns_needed = Signal(int, list)  # request id, the numeric columns to choose from

    @Slot(object)
    def read(self, request: OpenRequest) -> None:
        """Read ``request``'s file and report how it went."""
        from gmm_core import Cancelled  # in this thread: torch loads with it

        lower_thread_priority()  # idempotent: the same niceness on every read
        request_id = request.request_id
        if request.cancel.is_set():
            self.cancelled.emit(request_id)
            return
        try:
            data = read_document(
                request.path,
                request.columns,
                progress=lambda fraction: self.progressed.emit(request_id, float(fraction)),
                cancelled=request.cancel.is_set,
            )
        except Cancelled:
            self.cancelled.emit(request_id)
        except ColumnsNeeded as question:
            self.columns_needed.emit(request_id, question.numeric)
        except (OSError, ValueError) as error:
            self.failed.emit(request_id, str(error))
        except Exception as error:  # a reader's bug must not end the thread
            _log.exception("reading %s failed", request.path)
            self.failed.emit(request_id, f"{type(error).__name__}: {error}")
        else:
            self.loaded.emit(request_id, data)


class FileLoader(QObject):
    """Reads one file at a time in a background thread; the newest :meth:`start` wins."""

    progressed = Signal(float)  # fraction of the file being opened read, in [0, 1]
    loaded = Signal(object, object)  # path (Path), LoadedDocument
    failed = Signal(object, str)  # path (Path), the reason, for a person
    cancelled = Signal(object)  # path (Path)
    columns_needed = Signal(object, list)  # path (Path), its numeric columns: which ones?
    _read = Signal(object)  # OpenRequest, to the reader's thread

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._ids = itertools.count()
        self._request: OpenRequest | None = None
        self._thread: QThread | None = None
        self._reader: _Reader | None = None
        self._closed = False

    @property
    def busy(self) -> bool:
        """Whether a file is being read."""
        return self._request is not None

    @property
    def path(self) -> Path | None:
        """The file being read, if any."""
        return self._request.path if self._request is not None else None

    def start(self, path: str | Path, columns: list[str] | None = None) -> None:
        """Read ``path`` in the background (cancelling any read in flight)."""
        if self._closed:
            return
        if self._request is not None:
            self._request.cancel.set()  # replaced: its answer is dropped, unannounced
        self._ensure_thread()
        self._request = OpenRequest(next(self._ids), Path(path), columns)
        self._read.emit(self._request)

    def cancel(self) -> None:
        """Stop the read in flight and emit :attr:`cancelled` now (nothing if none).

        Whatever the reader still answers for that file is dropped, so a read that
        happens to finish meanwhile changes nothing either.
        """
        request, self._request = self._request, None
        if request is not None:
            request.cancel.set()
            self.cancelled.emit(request.path)

    def shutdown(self) -> None:
        """Stop the read in flight, stop the thread and wait for it."""
        self._closed = True
        if self._request is not None:
            self._request.cancel.set()
            self._request = None
        if self._thread is not None:
            self._thread.quit()
            self._thread.wait()
            self._thread = None

    def _ensure_thread(self) -> None:
        if self._thread is not None:
            return
        self._thread = QThread()
        self._thread.setObjectName("gmm-file-loader")
        self._reader = _Reader()
        self._reader.moveToThread(self._thread)
        self._read.connect(self._reader.read)
        self._reader.progressed.connect(self._on_progressed)
        self._reader.loaded.connect(self._on_loaded)
        self._reader.failed.connect(self._on_failed)
        self._reader.cancelled.connect(self._on_cancelled)
        self._reader.columns_needed.connect(self._on_columns_needed)
        self._thread.finished.connect(self._reader.deleteLater)
        self._thread.start()

    def _take(self, request_id: int) -> OpenRequest | None:
        """The current request if ``request_id`` is it (then no longer current)."""
        request = self._request
        if request is None or request.request_id != request_id:
            return None  # an older read's late answer
        self._request = None
        return request

    @Slot(int, float)
    def _on_progressed(self, request_id: int, fraction: float) -> None:
        request = self._request
        if request is not None and request.request_id == request_id:
            self.progressed.emit(fraction)

    @Slot(int, object)
    def _on_loaded(self, request_id: int, data: LoadedDocument) -> None:
        request = self._take(request_id)
        if request is not None:
            self.loaded.emit(request.path, data)

    @Slot(int, str)
    def _on_failed(self, request_id: int, message: str) -> None:
        request = self._take(request_id)
        if request is not None:
            self.failed.emit(request.path, message)

    @Slot(int)
    def _on_cancelled(self, request_id: int) -> None:
        request = self._take(request_id)
        if request is not None:  # cancelled by someone else than cancel(): shutdown's flag
            self.cancelled.emit(request.path)

    @Slot(int, list)
    def _on_columns_needed(self, request_id: int, numeric: list) -> None:
        request = self._take(request_id)
        if request is not None:
            self.columns_needed.emit(request.path, numeric)
