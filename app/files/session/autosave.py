"""Autosave: the session is written at most :data:`AUTOSAVE_DELAY_MS` after each change.

The GUI thread only gathers references (the session's points are a read-only array that
is replaced, never mutated); encoding and writing run in one background Python thread,
with the file replaced atomically, so autosave never stalls the window, also with
1,000,000 points. A marker file says the program is running: found at start-up without a
clean exit before, it means the last run did not close cleanly, and the autosave is
offered for restoring.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from .format import SessionData, write_session

#: The autosave is written at most this long after a change (plus the write itself).
AUTOSAVE_DELAY_MS = 1000

AUTOSAVE_NAME = "autosave.gmmsession"
RUNNING_NAME = "running.pid"


#: Markers of the autosavers running in this process (several windows, or tests).
_LIVE: set[str] = set()


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid() or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # exists, owned by someone else
    return True


class Autosaver(QObject):
    """Writes the session gathered by ``collect`` to ``folder`` after changes.

    Parameters
    ----------
    folder : Path
        Where the autosave and the running marker live.
    collect : callable
        Returns the :class:`SessionData` to save (called in the GUI thread; cheap).
    """

    saved = Signal(str)  # path of the autosave just written (in the GUI thread)
    failed = Signal(str)  # message of a failed autosave
    _done = Signal(object)  # to the GUI thread: None, or the error's message

    def __init__(self, folder: Path, collect: Callable[[], SessionData], parent=None):
        super().__init__(parent)
        self.folder = Path(folder)
        self.path = self.folder / AUTOSAVE_NAME
        self._collect = collect
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(AUTOSAVE_DELAY_MS)
        self._timer.timeout.connect(self._write)
        self._thread: threading.Thread | None = None
        self._again = False  # a change arrived while a write was running
        self._done.connect(self._on_done)

    # -- the last run ----------------------------------------------------------------------

    def crashed_before(self) -> bool:
        """Whether the last run left its marker (no clean exit) and an autosave."""
        marker = self.folder / RUNNING_NAME
        if not marker.exists() or not self.path.exists():
            return False
        try:
            text = marker.read_text().strip()
            pid = int(text.split()[0]) if text else 0
        except (OSError, ValueError):
            text, pid = "", 0
        if text in _LIVE:
            return False  # another window of this process is running
        return not _pid_alive(pid)  # another copy still running has not crashed

    def mark_running(self) -> None:
        """Leave the marker that :meth:`mark_clean_exit` removes."""
        self._token = f"{os.getpid()} {id(self)}"
        _LIVE.add(self._token)
        with contextlib.suppress(OSError):
            (self.folder / RUNNING_NAME).write_text(self._token)

    def stop(self) -> None:
        """Stop autosaving (waiting for a write in progress); the files stay."""
        self._timer.stop()
        self._again = False
        self.wait()
        _LIVE.discard(getattr(self, "_token", None))

    def mark_clean_exit(self) -> None:
        """Stop, then remove the marker and the autosave."""
        self.stop()
        for name in (RUNNING_NAME, AUTOSAVE_NAME):
            with contextlib.suppress(OSError):
                (self.folder / name).unlink()

    # -- saving ---------------------------------------------------------------------------

    @property
    def pending(self) -> bool:
        """Whether a change waits to be written or a write is running."""
        return self._timer.isActive() or self._thread is not None

    @Slot()
    def schedule(self) -> None:
        """A change happened: write within :data:`AUTOSAVE_DELAY_MS` (not restarted)."""
        if self._thread is not None:
            self._again = True
        elif not self._timer.isActive():
            self._timer.start()

    def wait(self) -> None:
        """Wait for a write in progress to finish."""
        if self._thread is not None:
            self._thread.join()

    @Slot()
    def _write(self) -> None:
        data = self._collect()
        self._thread = threading.Thread(
            target=self._run, args=(data,), name="gmm-autosave", daemon=True
        )
        self._thread.start()

    def _run(self, data: SessionData) -> None:
        try:
            write_session(self.path, data)
        except Exception as error:  # reported, never fatal
            self._done.emit(f"{type(error).__name__}: {error}")
        else:
            self._done.emit(None)

    @Slot(object)
    def _on_done(self, error) -> None:
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        if error is None:
            self.saved.emit(str(self.path))
        else:
            self.failed.emit(error)
        if self._again:
            self._again = False
            self._timer.start()
