"""What the window remembers from one run to the next: geometry, spin boxes, tool options.

Kept in the program's settings (:func:`app.files.appdata.settings`); a session file saves
settings of its own (see :mod:`app.files.session.saved_settings`).
"""

from __future__ import annotations

from PySide6.QtCore import QSettings


def restore_window_settings(settings: QSettings, window) -> None:
    """Give ``window`` the geometry, spin boxes and tool options of the last run.

    Parameters
    ----------
    settings : QSettings
        Where :func:`store_window_settings` kept them.
    window : app.main_window.MainWindow
    """
    geometry = settings.value("window/geometry")
    if geometry is not None:
        window.restoreGeometry(geometry)
    window.components_spin.setValue(int(settings.value("model/components", 3)))
    window.epochs_spin.setValue(int(settings.value("model/epochs", 20)))
    window.tools.radius_spin.setValue(int(settings.value("tools/radius", 30)))
    window.tools.intensity_spin.setValue(int(settings.value("tools/intensity", 10)))


def store_window_settings(settings: QSettings, window) -> None:
    """Keep in ``settings`` what :func:`restore_window_settings` restores, and write them."""
    settings.setValue("window/geometry", window.saveGeometry())
    settings.setValue("model/components", window.components_spin.value())
    settings.setValue("model/epochs", window.epochs_spin.value())
    settings.setValue("tools/radius", window.tools.radius_spin.value())
    settings.setValue("tools/intensity", window.tools.intensity_spin.value())
    settings.sync()
