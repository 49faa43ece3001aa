"""gmm_core: Gaussian mixture models in torch, batch and incremental.

``GaussianMixture`` is a scikit-learn estimator that gives scikit-learn's answers from the
same start, faster, and also learns one point or one chunk at a time with
``partial_fit``; ``BayesianGaussianMixture`` is scikit-learn's variational one, which
also learns a stream batch by batch. ``NotFittedError`` and ``ConvergenceWarning`` are
scikit-learn's own.

The names below load on first use (PEP 562), so that ``import gmm_core`` and the command
line's quick answers (``gmm-core --help``, a mistyped option) do not wait for torch.
"""

from __future__ import annotations

from importlib import import_module
from types import ModuleType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sklearn.exceptions import ConvergenceWarning, NotFittedError

    from ._gaussian_mixture import GaussianMixture
    from .bayesian import BayesianGaussianMixture
    from .gradient.estimator import GradientGaussianMixture
    from .gradient.module import GaussianMixtureModule
    from .parts.cancel import Cancelled
    from .parts.kmeans import kmeans_start
    from .streaming import partial_fit_csv, partial_fit_table

# Each public name and the module that defines it.
_HOMES = {
    "BayesianGaussianMixture": ".bayesian",
    "Cancelled": ".parts.cancel",
    "ConvergenceWarning": "sklearn.exceptions",
    "GaussianMixture": "._gaussian_mixture",
    "GaussianMixtureModule": ".gradient.module",
    "GradientGaussianMixture": ".gradient.estimator",
    "NotFittedError": "sklearn.exceptions",
    "kmeans_start": ".parts.kmeans",
    "partial_fit_csv": ".streaming",
    "partial_fit_table": ".streaming",
}

__all__ = [
    "BayesianGaussianMixture",
    "Cancelled",
    "ConvergenceWarning",
    "GaussianMixture",
    "GaussianMixtureModule",
    "GradientGaussianMixture",
    "NotFittedError",
    "kmeans_start",
    "partial_fit_csv",
    "partial_fit_table",
]


def __getattr__(name: str):
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(home, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """The public names, and the public subpackages and modules already imported."""
    loaded = {
        name
        for name, value in globals().items()
        if isinstance(value, ModuleType) and not name.startswith("_")
    }
    return sorted(set(__all__) | loaded)
