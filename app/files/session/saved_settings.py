"""The window's part of a session file: components, epochs, the shown columns and view.

:func:`collect_session_settings` gathers them for a file (``SessionData.settings``);
:func:`apply_model_settings` and :func:`apply_view_settings` give an opened session's
back to the window. A file may hold anything: a value that does not fit the window is
ignored, and settings a later version adds are kept in the file but not used. What the
window remembers between runs is another matter (:mod:`app.files.window_settings`).
"""

from __future__ import annotations

import numpy as np


def collect_session_settings(window) -> dict:
    """The settings a session file saves of ``window`` (JSON values).

    Returns
    -------
    dict
        ``n_components``, ``epochs``, ``view`` ([x0, x1, y0, y1]) and ``axes`` (the
        shown pair of columns).
    """
    (x0, x1), (y0, y1) = window.canvas.view_box.viewRange()
    return {
        "n_components": window.controller.n_components,
        "epochs": window.controller.epochs,
        "view": [float(x0), float(x1), float(y0), float(y1)],
        "axes": list(window.canvas.pair),
    }


def _is_count(value) -> bool:
    """Whether ``value`` read from JSON is a whole number (``true`` is not)."""
    return isinstance(value, int) and not isinstance(value, bool)


def apply_model_settings(window, settings: dict) -> None:
    """Set the window's number of components (asking no refit) and epochs from ``settings``."""
    n_components = settings.get("n_components")
    spin = window.components_spin
    if _is_count(n_components) and 1 <= n_components <= spin.maximum():
        spin.blockSignals(True)
        spin.setValue(n_components)
        spin.blockSignals(False)
        window.controller.n_components = n_components
    epochs = settings.get("epochs")
    if _is_count(epochs) and 0 <= epochs <= window.epochs_spin.maximum():
        window.epochs_spin.setValue(epochs)


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
    axes, view = settings.get("axes"), settings.get("view")
    if (
        isinstance(axes, list)
        and len(axes) == 2
        and all(_is_count(a) and 0 <= a < n_columns for a in axes)
        and axes[0] != axes[1]
    ):
        window.axes.set_pair(axes[0], axes[1])
    if (
        isinstance(view, list)
        and len(view) == 4
        and all(isinstance(v, int | float) and np.isfinite(v) for v in view)
        and view[1] > view[0]
        and view[3] > view[2]
    ):
        window.canvas.view_box.setRange(xRange=view[:2], yRange=view[2:], padding=0)
    else:
        window.axes.fit_view()  # independent scales for unlike spans
