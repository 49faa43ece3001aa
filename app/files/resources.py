"""Files the program ships in the ``resources`` package, found where it is installed."""

from __future__ import annotations

from importlib.resources import as_file, files

from PySide6.QtGui import QIcon, QPixmap


def resource_bytes(name: str) -> bytes:
    """The contents of ``resources/<name>``."""
    return files("resources").joinpath(name).read_bytes()


def app_icon() -> QIcon:
    """The window icon (empty if the file is missing)."""
    icon = QIcon()
    for name in ("icon.png", "icon-64.png", "icon-32.png"):
        try:
            data = resource_bytes(name)
        except (FileNotFoundError, OSError):
            continue
        pixmap = QPixmap()
        if pixmap.loadFromData(data):
            icon.addPixmap(pixmap)
    return icon


def resource_path(name: str):
    """A context manager giving a real file path for ``resources/<name>``."""
    return as_file(files("resources").joinpath(name))
