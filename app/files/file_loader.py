"""Opening files in the background: one reader thread, progress, and a Cancel flag.

:class:`FileLoader` is the GUI-side owner: :meth:`~FileLoader.start` hands a path to a
reader ``QObject`` living in its own ``QThread``, which calls :func:`read_document` there
(a table through :mod:`gmm_core.tables`, imported in that thread, never in the GUI
thread); the outcome comes back as :attr:`~FileLoader.loaded`,
:attr:`~FileLoader.failed` or :attr:`~FileLoader.cancelled`. The thread is an
:class:`app.state.threads.BackgroundThread`: cancelling is cooperative, through its flag,
which the table reader polls between blocks. The newest open wins: starting
another cancels the one in flight, and only the newest request's signals are passed on.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, Signal, Slot

from ..state.session import CheckedPoints
from ..state.threads import BackgroundThread, JobContext
from .session.format import SessionData, is_session_file, read_session
from .table_loading import LoadedTable, load_table

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
    table : LoadedTable or None
        All of them, read already: the chosen ones are taken from it without reading the
        file again (:meth:`LoadedTable.select`).
    """

    def __init__(self, numeric: list[str], table: LoadedTable | None = None):
        super().__init__(f"Which of {len(numeric)} columns?")
        self.numeric = numeric
        self.table = table


def read_document(
    path: Path,
    columns: list[str] | None = None,
    *,
    progress: Callable[[float], object] | None = None,
    cancelled: Callable[[], bool] | None = None,
    read: LoadedTable | None = None,
) -> LoadedDocument:
    """A session file, or the points of a table in ``columns`` (names).

    The file is opened once: with ``columns`` None, a table's numeric columns are found
    and read together; a table of two is read whole, and one of more raises
    :class:`ColumnsNeeded` with what was read (the window asks which, then takes them
    from it: ``read``). Rows with a missing or non-finite chosen value are skipped and
    counted (``table.n_skipped``).

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
        table = read.select(columns) if read is not None and columns is not None else None
        if table is None:
            table = load_table(path, columns, progress=progress, cancelled=cancelled)
        if columns is None and len(table.columns) > 2:
            raise ColumnsNeeded(list(table.columns), table)
        data = SessionData(points=table.points, columns=table.columns)
        return LoadedDocument(data, CheckedPoints.take(table.points), table)
    return LoadedDocument(data, CheckedPoints.take(data.points))


@dataclass(frozen=True, slots=True)
class OpenRequest:
    """A file to read, and which of its columns (None: ask if more than two)."""

    request_id: int
    path: Path
    columns: list[str] | None = None
    read: LoadedTable | None = None  # the table read already, when it asked which columns


@dataclass(frozen=True, slots=True)
class ReadProgress:
    """How much of the file has been read, in [0, 1]."""

    fraction: float


@dataclass(frozen=True, slots=True)
class ReadOutcome:
    """How a read ended: exactly one of the fields says.

    Attributes
    ----------
    document : LoadedDocument or None
        The file's contents.
    failure : str
        Why it could not be read, for a person ("" when it could).
    numeric : list of str or None
        A table's numeric columns, when the reader must be told which to model.
    read : LoadedTable or None
        With ``numeric``: all of them, read already.
    cancelled : bool
        The read was stopped.
    """

    document: LoadedDocument | None = None
    failure: str = ""
    numeric: list[str] | None = None
    read: LoadedTable | None = None
    cancelled: bool = False


class ReadJob:
    """What the reader thread runs: :meth:`serve` reads one :class:`OpenRequest`."""

    def __init__(self):
        self._context: JobContext | None = None

    def set_up(self, context: JobContext) -> None:
        """Keep the thread's context: progress is sent through it."""
        self._context = context

    def serve(self, request: OpenRequest, cancelled: threading.Event) -> ReadOutcome:
        """Read ``request``'s file; progress is sent while it is read."""
        from gmm_core import Cancelled  # in this thread: torch loads with it

        if cancelled.is_set():
            return ReadOutcome(cancelled=True)
        send = self._context.send
        try:
            document = read_document(
                request.path,
                request.columns,
                progress=lambda fraction: send(ReadProgress(float(fraction))),
                cancelled=cancelled.is_set,
                read=request.read,
            )
        except Cancelled:
            return ReadOutcome(cancelled=True)
        except ColumnsNeeded as question:
            return ReadOutcome(numeric=question.numeric, read=question.table)
        except (OSError, ValueError) as error:
            return ReadOutcome(failure=str(error))
        except Exception as error:  # a reader's bug must not end the thread
            _log.exception("reading %s failed", request.path)
            return ReadOutcome(failure=f"{type(error).__name__}: {error}")
        return ReadOutcome(document=document)


class FileLoader(QObject):
    """Reads one file at a time in a background thread; the newest :meth:`start` wins."""

    progressed = Signal(float)  # fraction of the file being opened read, in [0, 1]
    loaded = Signal(object, object)  # path (Path), LoadedDocument
    failed = Signal(object, str)  # path (Path), the reason, for a person
    cancelled = Signal(object)  # path (Path)
    columns_needed = Signal(object, list, object)  # path, numeric columns, LoadedTable read

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._job = ReadJob()
        self._reader = BackgroundThread(
            "gmm-file-loader", self._job.serve, set_up=self._job.set_up, parent=self
        )
        self._reader.result_ready.connect(self._on_result)
        self._path: Path | None = None  # the file being read

    @property
    def busy(self) -> bool:
        """Whether a file is being read."""
        return self._path is not None

    @property
    def path(self) -> Path | None:
        """The file being read, if any."""
        return self._path

    def start(
        self,
        path: str | Path,
        columns: list[str] | None = None,
        read: LoadedTable | None = None,
    ) -> None:
        """Read ``path`` in the background (cancelling any read in flight).

        ``read``: the table as :attr:`columns_needed` gave it, to take ``columns`` from
        without opening the file again.
        """
        if self._reader.closed:
            return
        self._path = Path(path)  # a read replaced: its answer is dropped, unannounced
        self._reader.post(OpenRequest(-1, self._path, columns, read))

    def cancel(self) -> None:
        """Stop the read in flight and emit :attr:`cancelled` now (nothing if none).

        Whatever the reader still answers for that file is dropped, so a read that
        happens to finish meanwhile changes nothing either.
        """
        path, self._path = self._path, None
        if path is not None:
            self._reader.cancel()
            self.cancelled.emit(path)

    def shutdown(self) -> None:
        """Stop the read in flight, stop the thread and wait for it."""
        self._path = None
        self._reader.shutdown()

    @Slot(int, object)
    def _on_result(self, request_id: int, result) -> None:
        path = self._path
        if path is None:
            return  # cancelled since
        if isinstance(result, ReadProgress):
            self.progressed.emit(result.fraction)
            return
        self._path = None
        if result.document is not None:
            self.loaded.emit(path, result.document)
        elif result.numeric is not None:
            self.columns_needed.emit(path, result.numeric, result.read)
        elif result.cancelled:
            self.cancelled.emit(path)
        else:
            self.failed.emit(path, result.failure)
