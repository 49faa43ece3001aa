"""Where the program keeps its own files: the autosave and its settings.

``GMM_PLAYGROUND_DATA_DIR``, when set, names the folder for both (tests set it, so they
never touch a person's files); otherwise the autosave goes to the platform's data folder
(``QStandardPaths.AppDataLocation``) and the settings to the platform's usual place.
"""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QSettings, QStandardPaths

DATA_DIR_VARIABLE = "GMM_PLAYGROUND_DATA_DIR"

ORGANIZATION = APPLICATION = "gmm-playground"


def data_dir() -> Path:
    """The program's data folder (created if needed)."""
    override = os.environ.get(DATA_DIR_VARIABLE)
    if override:
        folder = Path(override)
    else:
        location = QStandardPaths.writableLocation(
            QStandardPaths.StandardLocation.GenericDataLocation
        )
        folder = Path(location or Path.home()) / APPLICATION
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def settings() -> QSettings:
    """The program's settings: an INI file in :func:`data_dir` when the variable is set."""
    if os.environ.get(DATA_DIR_VARIABLE):
        return QSettings(str(data_dir() / "settings.ini"), QSettings.Format.IniFormat)
    return QSettings(ORGANIZATION, APPLICATION)
