"""gmm_core: Gaussian mixture models in torch, batch and incremental.

``GaussianMixture`` is a scikit-learn estimator that gives scikit-learn's answers from the
same start, faster, and also learns one point or one chunk at a time with
``partial_fit``. ``NotFittedError`` and ``ConvergenceWarning`` are scikit-learn's own.
"""

from sklearn.exceptions import ConvergenceWarning, NotFittedError

from ._gaussian_mixture import GaussianMixture
from ._gradient import GradientGaussianMixture
from ._gradient_module import GaussianMixtureModule
from ._kmeans import Cancelled, kmeans_start
from .streaming import partial_fit_csv, partial_fit_table

__all__ = [
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
