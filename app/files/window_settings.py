"""What the window remembers from one run to the next: geometry, spin boxes, tool options.

Kept in the program's settings (:func:`app.files.appdata.settings`) as
:class:`RememberedSettings`; the window reads them from its widgets and gives them back
(:mod:`app.window_state`). A session file saves settings of its own
(:mod:`app.files.session.saved_settings`).
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QByteArray, QSettings


@dataclass(frozen=True, slots=True)
class RememberedSettings:
    """The window's remembered state (the defaults: a first run)."""

    geometry: QByteArray | None = None
    components: int = 3
    epochs: int = 20
    radius: int = 30
    intensity: int = 10

    @classmethod
    def load(cls, settings: QSettings) -> RememberedSettings:
        """What :meth:`store` kept in ``settings`` (the defaults where nothing is)."""
        default = cls()
        return cls(
            geometry=settings.value("window/geometry"),
            components=int(settings.value("model/components", default.components)),
            epochs=int(settings.value("model/epochs", default.epochs)),
            radius=int(settings.value("tools/radius", default.radius)),
            intensity=int(settings.value("tools/intensity", default.intensity)),
        )

    def store(self, settings: QSettings) -> None:
        """Keep these in ``settings`` and write them."""
        if self.geometry is not None:
            settings.setValue("window/geometry", self.geometry)
        settings.setValue("model/components", self.components)
        settings.setValue("model/epochs", self.epochs)
        settings.setValue("tools/radius", self.radius)
        settings.setValue("tools/intensity", self.intensity)
        settings.sync()
