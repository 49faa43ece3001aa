"""Colours: one per component, colour-blind safe for the first seven.

Okabe & Ito (2008) first, then Paul Tol's "muted" and "light" schemes, so that twenty
components each get their own colour and the first seven stay distinguishable for the
common forms of colour blindness.
"""

from __future__ import annotations

from PySide6.QtCore import Qt

from .messages import TRAINERS

# (red, green, blue) per palette slot; the worker gives each component a stable slot.
COMPONENT_COLORS: tuple[tuple[int, int, int], ...] = (
    (0, 114, 178),  # Okabe-Ito blue
    (230, 159, 0),  # orange
    (0, 158, 115),  # bluish green
    (204, 121, 167),  # reddish purple
    (86, 180, 233),  # sky blue
    (213, 94, 0),  # vermillion
    (240, 228, 66),  # yellow
    (51, 34, 136),  # Tol muted: indigo
    (136, 204, 238),  # cyan
    (68, 170, 153),  # teal
    (17, 119, 51),  # green
    (153, 153, 51),  # olive
    (221, 204, 119),  # sand
    (204, 102, 119),  # rose
    (136, 34, 85),  # wine
    (170, 68, 153),  # purple
    (119, 170, 221),  # Tol light: light blue
    (238, 136, 102),  # orange
    (255, 170, 187),  # pink
    (187, 204, 51),  # pear
)

#: Colour of points while no model exists.
UNASSIGNED_COLOR: tuple[int, int, int] = (90, 90, 90)


def component_color(slot: int) -> tuple[int, int, int]:
    """The colour of palette ``slot`` (slots beyond the palette wrap around)."""
    return COMPONENT_COLORS[int(slot) % len(COMPONENT_COLORS)]


#: (colour, line style) of each trainer, in the canvas and in the likelihood panel.
TRAINER_STYLES: dict[str, tuple[tuple[int, int, int], Qt.PenStyle]] = {
    TRAINERS[0]: ((40, 40, 40), Qt.PenStyle.SolidLine),
    TRAINERS[1]: ((0, 90, 160), Qt.PenStyle.DashLine),
    TRAINERS[2]: ((190, 60, 0), Qt.PenStyle.DotLine),
    TRAINERS[3]: ((110, 40, 150), Qt.PenStyle.DashDotLine),
}
