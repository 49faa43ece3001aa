"""A file being opened, as the window shows it: progress, Cancel, column question, errors.

:class:`FileOpener` puts a read of :class:`app.files.file_loader.FileLoader` in the window's
status bar (a progress bar and a Cancel button), asks which columns to model when a
table has more than two numeric ones (``questions.choose_columns``), and tells a failure
(``questions.show_error``) or a Cancel (a status bar message). What a file read whole then
does to the window is for whoever takes :attr:`FileOpener.opened`
(:class:`app.files.documents.Documents`).
"""

from __future__ import annotations

from contextlib import AbstractContextManager, ExitStack
from pathlib import Path

from PySide6.QtCore import QObject, Signal, Slot

from ..state.questions import Questions
from .file_loader import FileLoader, LoadedDocument


class FileOpener(QObject):
    """Opens files in the background, one at a time (the newest wins).

    Parameters
    ----------
    status : app.panels.status_line.StatusLine
        Shows the read as a task (``begin_task``, ``set_task_progress``, ``end_task``)
        whose Cancel button emits ``task_cancelled``.
    questions : app.state.questions.Questions
        Which columns; a failure told; a Cancel noted.
    parent : QObject

    Attributes
    ----------
    loader : FileLoader
        Reads the file being opened in its own thread.
    """

    opened = Signal(object, object)  # path (Path), the LoadedDocument read from it
    failed = Signal(str)  # path of a file not opened (unreadable, or cancelled)

    def __init__(self, status, questions: Questions, parent: QObject | None = None):
        super().__init__(parent)
        self._status = status
        self._questions = questions
        self.loader = FileLoader(self)
        self.loader.progressed.connect(status.set_task_progress)
        self.loader.loaded.connect(self._on_loaded)
        self.loader.failed.connect(self._on_failed)
        self.loader.cancelled.connect(self._on_cancelled)
        self.loader.columns_needed.connect(self._on_columns_needed)
        status.task_cancelled.connect(self.loader.cancel)
        self._resources = ExitStack()  # an example's file, kept until its read ends

    def start(self, path: Path, columns: list[str] | None = None) -> None:
        """Start reading ``path`` (in ``columns``: names; None: ask when needed).

        A read in flight is cancelled, and only this one's outcome follows: :attr:`opened`
        or :attr:`failed`.
        """
        self._status.begin_task(f"Opening {path.name}…")
        self.loader.start(path, columns)

    def keep_until_read(self, resource: AbstractContextManager[Path]) -> Path:
        """Enter ``resource`` (a file that exists while entered) until the next read ends.

        Returns
        -------
        Path
            The file, to :meth:`start` reading.
        """
        self._release_resource()
        return self._resources.enter_context(resource)

    def _release_resource(self) -> None:
        self._resources.close()

    @Slot(object, list, object)
    def _on_columns_needed(self, path: Path, numeric: list, read) -> None:
        """Ask which of a table's numeric columns to model, then read them."""
        chosen = self._questions.choose_columns(list(numeric), path.name)
        if chosen is None:
            self._finish_task()
            self.failed.emit(str(path))
        else:
            self.loader.start(path, list(chosen), read)

    @Slot(object, object)
    def _on_loaded(self, path: Path, loaded: LoadedDocument) -> None:
        self._finish_task()
        self.opened.emit(path, loaded)

    @Slot(object, str)
    def _on_failed(self, path: Path, message: str) -> None:
        self._finish_task()
        self._questions.show_error(f"Could not open {path.name}:\n{message}")
        self.failed.emit(str(path))

    @Slot(object)
    def _on_cancelled(self, path: Path) -> None:
        self._finish_task()
        self._questions.show_message(f"Opening {path.name} cancelled.", 5000)
        self.failed.emit(str(path))

    def _finish_task(self) -> None:
        self._status.end_task()
        self._release_resource()

    def shutdown(self) -> None:
        """Stop reading (the loader's thread ends)."""
        self.loader.shutdown()
        self._release_resource()
