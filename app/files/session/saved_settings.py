"""The window's part of a session file: components, epochs, the shown columns and view.

:class:`SessionSettings` is what a session file saves of the window
(``SessionData.settings`` as JSON) and what it gives back, checked: a file may hold
anything, a value that does not fit is dropped (None), and settings a later version adds
are kept in the file but not used. The window gathers and applies them
(:mod:`app.window_state`); what it remembers between runs is another matter
(:mod:`app.files.window_settings`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def _is_count(value) -> bool:
    """Whether ``value`` read from JSON is a whole number (``true`` is not)."""
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass(frozen=True, slots=True)
class SessionSettings:
    """A session file's settings; None where the file has no usable value.

    Attributes
    ----------
    n_components : int or None
        At least 1.
    epochs : int or None
        At least 0.
    view : tuple of 4 floats or None
        ``(x0, x1, y0, y1)``, finite, ``x0 < x1`` and ``y0 < y1``.
    axes : tuple of 2 ints or None
        The shown pair of columns, two different columns of the points.
    """

    n_components: int | None = None
    epochs: int | None = None
    view: tuple[float, float, float, float] | None = None
    axes: tuple[int, int] | None = None

    @classmethod
    def read(cls, settings: dict, n_columns: int) -> SessionSettings:
        """The usable settings of a file's ``settings``, for points of ``n_columns``."""
        n_components, epochs = settings.get("n_components"), settings.get("epochs")
        axes, view = settings.get("axes"), settings.get("view")
        return cls(
            n_components=n_components if _is_count(n_components) and n_components >= 1 else None,
            epochs=epochs if _is_count(epochs) and epochs >= 0 else None,
            view=tuple(float(v) for v in view)
            if isinstance(view, list)
            and len(view) == 4
            and all(isinstance(v, int | float) and np.isfinite(v) for v in view)
            and view[1] > view[0]
            and view[3] > view[2]
            else None,
            axes=(axes[0], axes[1])
            if isinstance(axes, list)
            and len(axes) == 2
            and all(_is_count(a) and 0 <= a < n_columns for a in axes)
            and axes[0] != axes[1]
            else None,
        )

    def to_json(self) -> dict:
        """The settings as a session file saves them (JSON values; None left out)."""
        out = {}
        if self.n_components is not None:
            out["n_components"] = int(self.n_components)
        if self.epochs is not None:
            out["epochs"] = int(self.epochs)
        if self.view is not None:
            out["view"] = [float(v) for v in self.view]
        if self.axes is not None:
            out["axes"] = [int(a) for a in self.axes]
        return out
