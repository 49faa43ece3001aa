"""gmm_core: Gaussian mixture models in torch, batch and incremental.

``GaussianMixture`` gives scikit-learn's answers from the same start, faster, and also
learns one point or one chunk at a time with ``partial_fit``.
"""

from ._base import NotFittedError
from ._gaussian_mixture import ConvergenceWarning, GaussianMixture
from ._gradient import GaussianMixtureModule, GradientGaussianMixture
from ._kmeans import Cancelled, kmeans_start
from .streaming import partial_fit_csv

__all__ = [
    "Cancelled",
    "ConvergenceWarning",
    "GaussianMixture",
    "GaussianMixtureModule",
    "GradientGaussianMixture",
    "NotFittedError",
    "kmeans_start",
    "partial_fit_csv",
]
