"""The window's settings read from its widgets and given back to them.

Two kinds (both checked by the files room, applied here): a session file's part
(:class:`app.files.session.saved_settings.SessionSettings`: components, epochs, shown
columns, view) and what the window remembers between runs
(:class:`app.files.window_settings.RememberedSettings`: geometry, spin boxes, tool
options).
"""

from __future__ import annotations

from PySide6.QtCore import QSettings

from .files.session.saved_settings import SessionSettings
from .files.window_settings import RememberedSettings


def collect_session_settings(window) -> dict:
    """The settings a session file saves of ``window`` (JSON values).

    Returns
    -------
    dict
        ``n_components``, ``epochs``, ``view`` ([x0, x1, y0, y1]) and ``axes`` (the
        shown pair of columns).
    """
    (x0, x1), (y0, y1) = window.canvas.view_box.viewRange()
    return SessionSettings(
        n_components=window.controller.n_components,
        epochs=window.controller.epochs,
        view=(x0, x1, y0, y1),
        axes=window.canvas.pair,
    ).to_json()


def apply_model_settings(window, settings: dict) -> None:
    """Set the window's number of components (asking no refit) and epochs from ``settings``."""
    checked = SessionSettings.read(settings, window.session.n_features)
    spin = window.components_spin
    if checked.n_components is not None and checked.n_components <= spin.maximum():
        spin.blockSignals(True)
        spin.setValue(checked.n_components)
        spin.blockSignals(False)
        window.controller.n_components = checked.n_components
    if checked.epochs is not None and checked.epochs <= window.epochs_spin.maximum():
        window.epochs_spin.setValue(checked.epochs)


def apply_view_settings(window, settings: dict, n_columns: int) -> None:
    """Show the columns and the view ``settings`` saved, or fit the view to the points.

    Parameters
    ----------
    window : app.main_window.MainWindow
        Its points are the session's already.
    settings : dict
        ``SessionData.settings`` of the session.
    n_columns : int
        How many columns the session's points have.
    """
    checked = SessionSettings.read(settings, n_columns)
    if checked.axes is not None:
        window.axes.set_pair(*checked.axes)
    if checked.view is not None:
        x0, x1, y0, y1 = checked.view
        window.canvas.view_box.setRange(xRange=(x0, x1), yRange=(y0, y1), padding=0)
    else:
        window.axes.fit_view()  # independent scales for unlike spans


def restore_window_settings(settings: QSettings, window) -> None:
    """Give ``window`` the geometry, spin boxes and tool options of the last run."""
    remembered = RememberedSettings.load(settings)
    if remembered.geometry is not None:
        window.restoreGeometry(remembered.geometry)
    window.components_spin.setValue(remembered.components)
    window.epochs_spin.setValue(remembered.epochs)
    window.tools.radius_spin.setValue(remembered.radius)
    window.tools.intensity_spin.setValue(remembered.intensity)


def store_window_settings(settings: QSettings, window) -> None:
    """Keep in ``settings`` what :func:`restore_window_settings` restores, and write them."""
    RememberedSettings(
        geometry=window.saveGeometry(),
        components=window.components_spin.value(),
        epochs=window.epochs_spin.value(),
        radius=window.tools.radius_spin.value(),
        intensity=window.tools.intensity_spin.value(),
    ).store(settings)
