"""Draw the program's icon with QPainter and save it as resources/icon.png.

Run from the repository root: ``python scripts/make_icon.py``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QPointF, QRectF, Qt  # noqa: E402
from PySide6.QtGui import QColor, QGuiApplication, QImage, QPainter, QPen  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def draw_icon(size: int = 256) -> QImage:
    """The icon: three coloured Gaussian ellipses with their points, on a light tile."""
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    p = QPainter(image)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    s = size / 256.0
    p.scale(s, s)
    p.setPen(QPen(QColor(70, 80, 95), 6))
    p.setBrush(QColor(250, 250, 247))
    p.drawRoundedRect(QRectF(8, 8, 240, 240), 44, 44)
    rng = np.random.default_rng(7)
    blobs = [
        ((0, 114, 178), (88, 150), 52, 30, -35),
        ((230, 159, 0), (170, 92), 44, 26, 30),
        ((0, 158, 115), (172, 182), 30, 20, 80),
    ]
    for color, (cx, cy), a, b, angle in blobs:
        c = QColor(*color)
        p.save()
        p.translate(cx, cy)
        p.rotate(angle)
        fill = QColor(c)
        fill.setAlpha(60)
        p.setBrush(fill)
        p.setPen(QPen(c.darker(115), 7))
        p.drawEllipse(QPointF(0, 0), a, b)
        p.setBrush(Qt.BrushStyle.NoBrush)
        ring = QColor(c)
        ring.setAlpha(140)
        p.setPen(QPen(ring, 3.5))
        p.drawEllipse(QPointF(0, 0), a * 1.45, b * 1.45)
        p.setPen(QPen(c.darker(170), 1.5))
        p.setBrush(c)
        for dx, dy in rng.normal(size=(7, 2)) * (a * 0.45, b * 0.45):
            p.drawEllipse(QPointF(dx, dy), 5.5, 5.5)
        p.restore()
    p.end()
    return image


def main() -> int:
    """Write resources/icon.png."""
    app = QGuiApplication.instance() or QGuiApplication(sys.argv)  # noqa: F841
    target = ROOT / "resources" / "icon.png"
    if not draw_icon(256).save(str(target)):
        print(f"could not write {target}", file=sys.stderr)
        return 1
    print(target)
    return 0


if __name__ == "__main__":
    sys.exit(main())
