"""Exports: points as CSV, the model as gmm_core's JSON, the canvas as PNG or SVG.

:class:`Exports` holds the File menu's export actions and their dialogs and tells the
person when a write fails; the module's functions write atomically
(:func:`app.files.atomic.write_bytes`) and raise ``OSError`` or ``ValueError``. Nothing here
imports torch or gmm_core.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QObject, Slot
from PySide6.QtWidgets import QFileDialog

from ..state.actions import make_action
from ..state.messages import ModelSnapshot
from ..state.questions import Questions
from .atomic import write_bytes
from .point_files import write_points


class Exports(QObject):
    """The File menu's export actions and what they write.

    Parameters
    ----------
    session : app.state.session.Session
        The points (and their columns' names) to export.
    drawn_model : callable
        ``drawn_model()``: the drawn ``ModelSnapshot`` (or None).
    canvas : QWidget
        The canvas whose picture is exported (a pyqtgraph ``PlotWidget``).
    questions : app.state.questions.Questions
        Where a failed write is told, and what the dialogs are modal to.
    last_dir : callable
        ``last_dir()``: the folder the file dialogs open in.
    parent : QObject
    """

    def __init__(
        self,
        session,
        drawn_model: Callable[[], ModelSnapshot | None],
        canvas,
        questions: Questions,
        last_dir: Callable[[], str],
        parent: QObject | None = None,
    ):
        super().__init__(parent)
        self._session = session
        self._drawn_model = drawn_model
        self._canvas = canvas
        self._questions = questions
        self._last_dir = last_dir
        owner = questions.parent
        self.export_points_action = make_action(
            owner, "Export &Points (CSV)…", self._export_points_dialog
        )
        self.export_model_action = make_action(
            owner, "Export &Model (JSON)…", self._export_model_dialog
        )
        self.export_image_action = make_action(
            owner, "Export &Image (PNG, SVG)…", self._export_image_dialog
        )
        self.actions = [
            self.export_points_action,
            self.export_model_action,
            self.export_image_action,
        ]

    def export_points(self, path: str | Path) -> bool:
        """Write the points to a CSV file (all columns, their names as header), exactly.

        With no points there is nothing to export: the person is told, and no file is
        written (a file of a header alone would not open again as points).
        """
        session = self._session
        if len(session) == 0:
            self._questions.show_error("There are no points to export yet: add points first.")
            return False
        try:
            write_points(path, session.points, session.columns)
        except OSError as error:
            self._questions.show_error(f"Could not save {Path(path).name}:\n{error}")
            return False
        return True

    def export_model(self, path: str | Path) -> bool:
        """Write the fitted model as gmm_core's JSON (``GaussianMixture.from_dict`` reads it)."""
        snapshot = self._drawn_model()
        model = None if snapshot is None else snapshot.model
        if model is None:
            self._questions.show_error(
                "There is no fitted model to export yet: add points and wait."
            )
            return False
        try:
            write_model(path, model)
        except (OSError, ValueError) as error:
            self._questions.show_error(f"Could not save {Path(path).name}:\n{error}")
            return False
        return True

    def export_image(self, path: str | Path) -> bool:
        """Write the canvas as PNG or SVG (by suffix), through pyqtgraph's exporters."""
        try:
            write_image(path, self._canvas)
        except (OSError, ValueError) as error:
            self._questions.show_error(f"Could not save {Path(path).name}:\n{error}")
            return False
        return True

    def _save_name(self, title: str, default: str, filters: str) -> str:
        path, _ = QFileDialog.getSaveFileName(
            self._questions.parent, title, str(Path(self._last_dir()) / default), filters
        )
        return path

    @Slot()
    def _export_points_dialog(self) -> None:
        path = self._save_name("Export Points", "points.csv", "CSV (*.csv)")
        if path:
            self.export_points(path)

    @Slot()
    def _export_model_dialog(self) -> None:
        path = self._save_name("Export Model", "model.json", "JSON (*.json)")
        if path:
            self.export_model(path)

    @Slot()
    def _export_image_dialog(self) -> None:
        path = self._save_name("Export Image", "canvas.png", "PNG (*.png);;SVG (*.svg)")
        if path:
            self.export_image(path)


def write_model(path: str | Path, model: dict) -> None:
    """Write a fitted model's dict as JSON (``GaussianMixture.from_dict`` reads it)."""
    write_bytes(path, json.dumps(model, indent=1, allow_nan=False).encode("utf-8"))


def write_image(path: str | Path, canvas) -> None:
    """Write ``canvas`` (an :class:`app.canvas.widget.Canvas`) as PNG or SVG, by the suffix."""
    import pyqtgraph.exporters as exporters

    suffix = Path(path).suffix.lower()
    if suffix == ".svg":
        try:
            data = exporters.SVGExporter(canvas.plot_item).export(toBytes=True)
        except ValueError:
            # pyqtgraph 0.14 cannot parse the "Z" (close path) that Qt 6.11's
            # SVG writer emits; Qt's own generator draws the same canvas.
            data = _canvas_svg(canvas)
        if isinstance(data, str):
            data = data.encode("utf-8")
    elif suffix == ".png":
        image = exporters.ImageExporter(canvas.plot_item).export(toBytes=True)
        array = QByteArray()
        buffer = QBuffer(array)
        buffer.open(QIODevice.OpenModeFlag.WriteOnly)
        image.save(buffer, "PNG")
        buffer.close()
        data = bytes(array.data())
    else:
        raise ValueError("the name must end in .png or .svg")
    write_bytes(path, bytes(data))


def _canvas_svg(canvas) -> bytes:
    """The canvas as SVG through ``QSvgGenerator``."""
    from PySide6.QtGui import QPainter
    from PySide6.QtSvg import QSvgGenerator

    array = QByteArray()
    buffer = QBuffer(array)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    generator = QSvgGenerator()
    generator.setOutputDevice(buffer)
    generator.setSize(canvas.size())
    generator.setViewBox(canvas.rect())
    generator.setTitle("GMM Playground")
    painter = QPainter(generator)
    canvas.render(painter)
    painter.end()
    buffer.close()
    return bytes(array.data())
