"""Data sets generated on the spot from a seed, and the real data sets the program ships.

Every generator takes a ``numpy.random.Generator`` and returns points of shape (n, 2):
the same seed gives the same points. Pure numpy: nothing here imports Qt or torch.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


def blobs(rng: np.random.Generator) -> np.ndarray:
    """Four well-separated round blobs of 100 points."""
    centres = np.array([[-5.0, -5.0], [5.0, -5.0], [-5.0, 5.0], [5.0, 5.0]])
    return np.concatenate([rng.normal(c, 1.0, size=(100, 2)) for c in centres])


def anisotropic(rng: np.random.Generator) -> np.ndarray:
    """Three stretched and rotated blobs of 150 points."""
    parts = []
    for centre, angle, (major, minor) in (
        ((-4.0, 3.0), 0.5, (3.0, 0.4)),
        ((4.0, 2.0), -0.9, (2.5, 0.5)),
        ((0.0, -4.5), 0.1, (4.0, 0.6)),
    ):
        rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
        scaled = rng.normal(size=(150, 2)) * (major, minor)
        parts.append(scaled @ rotation.T + centre)
    return np.concatenate(parts)


def unequal(rng: np.random.Generator) -> np.ndarray:
    """Clusters of very different sizes and weights: 400, 80 and 20 points."""
    return np.concatenate(
        [
            rng.normal((-2.0, 0.0), 3.0, size=(400, 2)),
            rng.normal((6.0, 5.0), 0.8, size=(80, 2)),
            rng.normal((6.0, -5.0), 0.3, size=(20, 2)),
        ]
    )


def moons(rng: np.random.Generator) -> np.ndarray:
    """Two interleaving half circles of 200 points each, with a little noise."""
    t = rng.uniform(0.0, np.pi, size=200)
    upper = np.column_stack([np.cos(t), np.sin(t)])
    t = rng.uniform(0.0, np.pi, size=200)
    lower = np.column_stack([1.0 - np.cos(t), 0.5 - np.sin(t)])
    points = np.concatenate([upper, lower]) + rng.normal(0.0, 0.08, size=(400, 2))
    return (points - (0.5, 0.25)) * 5.0


def ring(rng: np.random.Generator) -> np.ndarray:
    """A ring of radius 6 (400 points) around a small central blob (60 points)."""
    t = rng.uniform(0.0, 2.0 * np.pi, size=400)
    radius = 6.0 + rng.normal(0.0, 0.35, size=400)
    outer = np.column_stack([radius * np.cos(t), radius * np.sin(t)])
    return np.concatenate([outer, rng.normal(0.0, 0.8, size=(60, 2))])


def noise(rng: np.random.Generator) -> np.ndarray:
    """300 points uniform in the square [-8, 8]^2."""
    return rng.uniform(-8.0, 8.0, size=(300, 2))


@dataclass(frozen=True)
class Preset:
    """A generated data set: its menu title and its generator."""

    title: str
    generate: Callable[[np.random.Generator], np.ndarray]


#: The generated presets by name, in menu order.
PRESETS: dict[str, Preset] = {
    "blobs": Preset("Well-Separated Blobs", blobs),
    "anisotropic": Preset("Anisotropic Blobs", anisotropic),
    "unequal": Preset("Unequal Sizes and Weights", unequal),
    "moons": Preset("Two Moons", moons),
    "ring": Preset("Ring", ring),
    "noise": Preset("Uniform Noise", noise),
}

#: Old Faithful, shipped in ``resources``: its file and its menu title.
OLD_FAITHFUL_FILE = "old_faithful.csv"
OLD_FAITHFUL_TITLE = "Old Faithful (eruptions, waiting)"

#: Fisher's iris data, as scikit-learn ships it: its menu title.
IRIS_TITLE = "Iris (4 measurements of 150 flowers)"


def iris() -> tuple[np.ndarray, tuple[str, ...]]:
    """Fisher's iris data: points (150, 4) and the measurements' names.

    Read from the copy scikit-learn ships (no network); scikit-learn is imported here,
    on first use.
    """
    from sklearn.datasets import load_iris

    data = load_iris()
    points = np.ascontiguousarray(data.data, dtype=np.float64)
    return points, tuple(str(name) for name in data.feature_names)


def generate(name: str, seed: int = 0) -> np.ndarray:
    """The points of preset ``name`` from ``seed``, shape (n, 2), float64.

    Raises
    ------
    KeyError
        If ``name`` is not one of :data:`PRESETS`, with the names that are.
    """
    if name not in PRESETS:
        raise KeyError(f"Unknown preset {name!r}; choose one of {', '.join(PRESETS)}.")
    points = PRESETS[name].generate(np.random.default_rng(seed))
    return np.ascontiguousarray(points, dtype=np.float64)
