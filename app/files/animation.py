"""The history as an animated GIF or an MP4 video: one frame per recorded model.

:class:`AnimationExport` draws each moment of the history on the real canvas and grabs
it (in the GUI thread, one frame per turn of the event loop, so that the window stays
responsive and Cancel can be pressed); the frames' pixels go through a queue to an
encoder in a :class:`app.state.threads.BackgroundThread`, which turns each into a
palette image as it arrives and writes the GIF atomically with Pillow
(:func:`app.files.atomic.atomic_write`), or pipes the frames to the ffmpeg that the
``imageio-ffmpeg`` wheel ships (H.264, for a ``.mp4`` path) into a temporary file that
replaces the target when done: a failed or cancelled export leaves no file.
Nothing here imports torch or gmm_core.
"""

from __future__ import annotations

import os
import queue
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal, Slot
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QFileDialog

from ..state.actions import make_action
from ..state.palette import COMPONENT_COLORS, UNASSIGNED_COLOR
from ..state.questions import Questions
from ..state.threads import BackgroundThread
from .atomic import atomic_write

#: Shades of each component colour (mixed with white) in the GIF's palette.
SHADES = (1.0, 0.8, 0.6, 0.4, 0.25, 0.12)


def gif_palette() -> list[int]:
    """One palette for every frame: greys, and each component colour mixed with white.

    A plot has few colours; one fixed palette (no dithering) keeps what did not change
    from one frame to the next the same bytes, so that the GIF stores only the change.
    """
    colors = [(g, g, g) for g in (*range(0, 256, 8), 255)]  # 33 greys, black to white
    for r, g, b in (*COMPONENT_COLORS, UNASSIGNED_COLOR, (0, 90, 170), (255, 200, 0), (200, 0, 0)):
        for t in SHADES:
            colors.append(tuple(round(255 - t * (255 - c)) for c in (r, g, b)))
    flat = [channel for color in colors[:256] for channel in color]
    return flat + [0] * (768 - len(flat))


#: The share of the progress bar that grabbing the frames fills (encoding the rest).
GRAB_SHARE = 0.8


class ExportCancelled(Exception):
    """The export was cancelled; its file was not written."""


@dataclass(frozen=True, slots=True, eq=False)
class Frame:
    """One frame's pixels: RGB rows of ``stride`` bytes."""

    width: int
    height: int
    stride: int
    data: bytes
    index: int = 0


@dataclass(frozen=True, slots=True, eq=False)
class EncodeRequest:
    """Encode the frames that arrive in ``frames`` (None ends them) as a GIF at ``path``."""

    request_id: int
    path: str
    frames: queue.Queue
    frame_ms: int
    count: int = 1


#: Height in pixels of the strip along each frame's bottom that shows how far it is.
STRIP_PX = 3


def _with_progress_strip(image, index: int, count: int):
    """``image`` with a strip along its bottom as long as frame ``index`` is far in ``count``.

    It shows where in the history a frame is, and keeps frames of equal drawings apart
    (Pillow merges equal consecutive frames), so that the GIF has one frame per moment.
    """
    from PIL import ImageDraw

    width, height = image.size
    end = max(1, round(width * (index + 1) / max(count, 1)))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, height - STRIP_PX, width - 1, height - 1), fill=(225, 225, 225))
    draw.rectangle((0, height - STRIP_PX, end - 1, height - 1), fill=(0, 90, 170))
    return image


def frame_of(image: QImage, width: int, height: int, index: int = 0) -> Frame:
    """The pixels of ``image`` (a grab) at ``width`` x ``height``, as RGB bytes."""
    if image.width() != width or image.height() != height:
        image = image.scaled(width, height)  # a high-DPI grab: the canvas's own size
    image = image.convertToFormat(QImage.Format.Format_RGB888)
    stride = image.bytesPerLine()
    return Frame(width, height, stride, bytes(image.constBits())[: stride * height], index)


def encode_animation(request: EncodeRequest, cancelled: threading.Event) -> str | None:
    """Write the frames of ``request`` as its path's suffix says: ``.mp4`` a video, else a GIF.

    Returns the path; None, and nothing written, when ``cancelled`` is set first.
    """
    if Path(request.path).suffix.lower() == ".mp4":
        return encode_mp4(request, cancelled)
    return encode_gif(request, cancelled)


def _frames_of(request: EncodeRequest, cancelled: threading.Event):
    """The frames as they arrive, until the end marker (None); cancelled, it raises."""
    while True:
        try:
            frame = request.frames.get(timeout=0.05)
        except queue.Empty:
            if cancelled.is_set():
                raise ExportCancelled() from None
            continue
        if cancelled.is_set():
            raise ExportCancelled()
        if frame is None:
            return
        yield frame


def encode_mp4(request: EncodeRequest, cancelled: threading.Event) -> str | None:
    """Write the frames of ``request`` as an H.264 MP4 video (atomically); returns the path.

    Frames are cropped to even sizes (the video's colour format needs them); each lasts
    ``request.frame_ms``. Returns None, and writes nothing, when ``cancelled`` is set.
    """
    import imageio_ffmpeg

    target = Path(request.path)
    descriptor, temporary = tempfile.mkstemp(
        dir=target.parent, prefix=f".{target.name}.", suffix=".mp4"
    )
    os.close(descriptor)
    writer = None
    try:
        for frame in _frames_of(request, cancelled):
            width, height = frame.width - frame.width % 2, frame.height - frame.height % 2
            if writer is None:
                writer = imageio_ffmpeg.write_frames(
                    temporary,
                    (width, height),
                    fps=1000.0 / max(1, request.frame_ms),
                    codec="libx264",
                    macro_block_size=2,
                    ffmpeg_log_level="error",
                )
                writer.send(None)  # start ffmpeg
            rows = np.frombuffer(frame.data, np.uint8).reshape(frame.height, frame.stride)
            pixels = rows[:height, : width * 3]
            writer.send(np.ascontiguousarray(pixels).tobytes())
        if writer is None:
            raise ValueError("there are no frames to write")
        writer.close()
        writer = None
        if cancelled.is_set():
            raise ExportCancelled()
        os.replace(temporary, target)
    except ExportCancelled:
        return None
    finally:
        if writer is not None:
            writer.close()
        if os.path.exists(temporary):
            os.remove(temporary)
    return request.path


def encode_gif(request: EncodeRequest, cancelled: threading.Event) -> str | None:
    """Write the frames of ``request`` as an animated GIF (atomically); returns the path.

    Returns None, and writes nothing, when ``cancelled`` is set before the file is in
    place.
    """
    try:
        return _encode_gif(request, cancelled)
    except ExportCancelled:
        return None  # atomic_write has removed its temporary file


def _encode_gif(request: EncodeRequest, cancelled: threading.Event) -> str:
    from PIL import Image

    palette = Image.new("P", (1, 1))
    palette.putpalette(gif_palette())
    images = []
    for frame in _frames_of(request, cancelled):
        rgb = Image.frombuffer(
            "RGB", (frame.width, frame.height), frame.data, "raw", "RGB", frame.stride, 1
        )
        rgb = _with_progress_strip(rgb, frame.index, request.count)
        images.append(rgb.quantize(palette=palette, dither=Image.Dither.NONE))
    if not images:
        raise ValueError("there are no frames to write")
    with atomic_write(request.path, "wb") as file:
        images[0].save(
            file,
            format="GIF",
            save_all=True,
            append_images=images[1:],
            duration=request.frame_ms,
            loop=0,
            optimize=False,
            disposal=1,
        )
        if cancelled.is_set():
            raise ExportCancelled()  # the temporary file goes
    return request.path


class AnimationExport(QObject):
    """File > Export > Animation: the history's moments drawn, grabbed and encoded.

    Parameters
    ----------
    canvas : QWidget
        The canvas drawn and grabbed (its size is the frames' size).
    frames : object
        The history: ``begin_frames() -> count`` (keeps the moments to draw),
        ``draw_frame(index)`` and ``end_frames()`` (draws what was drawn before).
    status : app.panels.status_line.StatusLine
        ``begin_task``, ``set_task_progress``, ``end_task`` and ``task_cancelled``.
    questions : Questions
        Where a failure is told; the dialogs' parent.
    last_dir : callable
        ``last_dir()``: the folder the file dialog opens in.
    frame_ms : callable
        ``frame_ms()``: each frame's duration in the GIF, in milliseconds.
    """

    finished = Signal(str, bool)  # the path, whether the file was written

    def __init__(
        self,
        canvas,
        frames,
        status,
        questions: Questions,
        last_dir: Callable[[], str],
        frame_ms: Callable[[], int],
        parent: QObject | None = None,
    ):
        super().__init__(parent)
        self._canvas = canvas
        self._frames = frames
        self._status = status
        self._questions = questions
        self._last_dir = last_dir
        self._frame_ms = frame_ms
        self.action = make_action(questions.parent, "Export &Animation (GIF, MP4)…", self._dialog)
        self._encoder = BackgroundThread("gmm-animation", encode_animation, parent=self)
        self._encoder.result_ready.connect(self._on_written)
        self._encoder.failed.connect(self._on_failed)
        self._timer = QTimer(self)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self._grab_next)
        self._job: dict | None = None  # path, queue, count, next index, size
        status.task_cancelled.connect(self.cancel)

    @property
    def busy(self) -> bool:
        """Whether an export runs."""
        return self._job is not None

    def export(self, path: str | Path) -> bool:
        """Start writing the history as an animated GIF at ``path`` (an MP4 video for ``.mp4``).

        Returns whether it started; :attr:`finished` follows. A folder that does not
        exist, or a history without a model, is told at once and nothing is written.
        """
        path = Path(path)
        if self._job is not None:
            self._questions.show_error("An animation is being exported already.")
            return False
        if not path.parent.is_dir():
            self._questions.show_error(
                f"Could not save {path.name}:\nthe folder {path.parent} does not exist."
            )
            return False
        count = self._frames.begin_frames()
        if count == 0:
            self._frames.end_frames()
            self._questions.show_error("There is no history to export yet: add points first.")
            return False
        size = self._canvas.size()
        frames: queue.Queue = queue.Queue()
        self._job = dict(path=str(path), queue=frames, count=count, next=0, size=size)
        self._encoder.post(
            EncodeRequest(
                request_id=-1,
                path=str(path),
                frames=frames,
                frame_ms=self._frame_ms(),
                count=count,
            )
        )
        self._status.begin_task(f"Exporting {path.name}…")
        self._timer.start()
        return True

    @Slot()
    def cancel(self) -> None:
        """Stop the export in progress; no file is written."""
        if self._job is None:
            return
        path = self._job["path"]
        self._encoder.cancel()
        self._stop()
        self.finished.emit(path, False)

    def shutdown(self) -> None:
        """Stop the encoder's thread."""
        if self._job is not None:
            self.cancel()
        self._encoder.shutdown()

    def _stop(self) -> None:
        self._timer.stop()
        job, self._job = self._job, None
        if job is not None and not job.get("grabbed"):
            self._frames.end_frames()
        self._status.end_task()

    @Slot()
    def _grab_next(self) -> None:
        job = self._job
        if job is None:
            self._timer.stop()
            return
        index = job["next"]
        self._frames.draw_frame(index)
        size = job["size"]
        image = self._canvas.grab().toImage()
        job["queue"].put(frame_of(image, size.width(), size.height(), index))
        job["next"] = index + 1
        self._status.set_task_progress(GRAB_SHARE * job["next"] / job["count"])
        if job["next"] >= job["count"]:
            self._timer.stop()
            job["queue"].put(None)  # the last frame: encode and write
            self._frames.end_frames()
            job["grabbed"] = True

    @Slot(int, object)
    def _on_written(self, request_id: int, path: str) -> None:
        if self._job is None:
            return
        self._job = None
        self._status.end_task()
        self.finished.emit(path, True)

    @Slot(int, str)
    def _on_failed(self, request_id: int, message: str) -> None:
        job = self._job
        if job is None:
            return
        path = job["path"]
        if not job.get("grabbed"):
            self._frames.end_frames()
        self._job = None
        self._status.end_task()
        self._questions.show_error(f"Could not save {Path(path).name}:\n{message}")
        self.finished.emit(path, False)

    @Slot()
    def _dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self._questions.parent,
            "Export Animation",
            str(Path(self._last_dir()) / "history.gif"),
            "GIF (*.gif);;MP4 video (*.mp4)",
        )
        if path:
            self.export(path)
