"""Exports of the window's contents: the model as gmm_core's JSON, the canvas as PNG or SVG.

Each function writes atomically (:func:`app.atomic.write_bytes`) and raises ``OSError``
or ``ValueError``; the caller tells the person. Nothing here imports torch or gmm_core.
"""

from __future__ import annotations

import json
from pathlib import Path

from PySide6.QtCore import QBuffer, QByteArray, QIODevice

from .atomic import write_bytes


def write_model(path: str | Path, model: dict) -> None:
    """Write a fitted model's dict as JSON (``GaussianMixture.from_dict`` reads it)."""
    write_bytes(path, json.dumps(model, indent=1, allow_nan=False).encode("utf-8"))


def write_image(path: str | Path, canvas) -> None:
    """Write ``canvas`` (an :class:`app.canvas.Canvas`) as PNG or SVG, by the suffix."""
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
