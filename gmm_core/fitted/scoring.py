"""What a fitted Gaussian mixture answers: scores, prediction, sampling, criteria.

:class:`FittedMixture` reads only the public fitted attributes (``weights_``, ``means_``,
``precisions_cholesky_``, ``covariances_``) and the hyper-parameters ``covariance_type``,
``device`` and ``random_state``; the fit loop that sets them is
:class:`~gmm_core._base.BaseMixture`'s.
"""

from __future__ import annotations

import numpy as np
import torch
from sklearn.base import BaseEstimator, DensityMixin
from sklearn.utils.validation import check_is_fitted

from .._em import (
    GaussianParameters,
    labels_and_log_density,
    log_responsibilities,
    score_samples,
)
from .._validation import (
    check_data,
    check_positive_int,
    check_random_state,
    data_tensor,
    torch_dtype,
)
from ..covariance_types import aic as _aic
from ..covariance_types import bic as _bic
from ..covariance_types import n_parameters
from ..parts import covariance as _covariance
from ..parts.covariance import COVARIANCE_TYPES


def torch_generator(random_state) -> torch.Generator:
    """A CPU torch generator from ``random_state``: None, an int, a Generator or RandomState."""
    generator = torch.Generator(device="cpu")
    check_random_state(random_state)
    if random_state is None:
        seed = int(np.random.SeedSequence().generate_state(1)[0])
    elif isinstance(random_state, np.random.Generator):
        seed = int(random_state.integers(2**63 - 1))
    elif isinstance(random_state, np.random.RandomState):
        seed = int(random_state.randint(2**31 - 1))
    else:
        seed = int(random_state)
    generator.manual_seed(seed)
    return generator


class FittedMixture(DensityMixin, BaseEstimator):
    """Scoring, prediction, sampling and model selection for a fitted Gaussian mixture."""

    def __sklearn_is_fitted__(self) -> bool:
        return getattr(self, "means_", None) is not None

    def _device(self) -> torch.device:
        return torch.device(self.device if self.device is not None else "cpu")

    def _to_tensor(self, array: np.ndarray, dtype: torch.dtype | None = None) -> torch.Tensor:
        """``array`` on the device, in ``dtype`` (default: the fitted parameters' dtype)."""
        if dtype is None:
            dtype = torch_dtype(None, self.means_.dtype)
        return data_tensor(array, self._device()).to(dtype)

    def _fitted_data(self, X) -> torch.Tensor:
        """Validate ``X`` against the fitted model and return it as a tensor (n, D)."""
        check_is_fitted(self)
        return self._to_tensor(check_data(self, X, reset=False))

    def _gaussian_parameters(self) -> GaussianParameters:
        n_components, n_features = self.means_.shape
        factor = _covariance.expand(
            self.covariance_type,
            self._to_tensor(self.precisions_cholesky_),
            n_components,
            n_features,
        )
        return GaussianParameters(
            torch.log(self._to_tensor(self.weights_)), self._to_tensor(self.means_), factor
        )

    @property
    def precisions_(self) -> np.ndarray:
        """Precision matrices in the shape of ``covariances_``."""
        check_is_fitted(self)
        K, D = self.means_.shape
        factor = _covariance.expand(
            self.covariance_type, torch.as_tensor(self.precisions_cholesky_), K, D
        )
        precisions = factor @ factor.transpose(-2, -1)  # [K, D, D]
        typed = COVARIANCE_TYPES[self.covariance_type].select_precision_cholesky(precisions, K)
        return typed.numpy()

    def score_samples(self, X) -> np.ndarray:
        """Log-density of the mixture at each sample.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        log_prob : ndarray of shape (n_samples,)
        """
        data = self._fitted_data(X)
        return score_samples(data, self._gaussian_parameters()).cpu().numpy()

    def score(self, X, y=None) -> float:
        """Mean log-likelihood per sample of ``X`` under the model."""
        return float(self.score_samples(X).mean())

    def predict_proba(self, X) -> np.ndarray:
        """Posterior probability of each component for each sample, shape (n_samples, K)."""
        data = self._fitted_data(X)
        return log_responsibilities(data, self._gaussian_parameters()).exp().cpu().numpy()

    def predict(self, X) -> np.ndarray:
        """The most probable component of each sample, shape (n_samples,)."""
        return self.predict_with_log_density(X)[0]

    def predict_with_log_density(self, X) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`predict` and :meth:`score_samples` together, in one pass over ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        labels : ndarray of shape (n_samples,)
        log_density : ndarray of shape (n_samples,)
        """
        data = self._fitted_data(X)
        labels, log_density = labels_and_log_density(data, self._gaussian_parameters())
        return labels.cpu().numpy(), log_density.cpu().numpy()

    def sample(self, n_samples: int = 1) -> tuple[np.ndarray, np.ndarray]:
        """Draw samples from the fitted mixture.

        Parameters
        ----------
        n_samples : int

        Returns
        -------
        X : ndarray of shape (n_samples, n_features)
        labels : ndarray of shape (n_samples,)
            The component each sample was drawn from; samples are grouped by component.
        """
        check_is_fitted(self)
        check_positive_int(n_samples, "n_samples")
        generator = torch_generator(self.random_state)
        n_components, n_features = self.means_.shape
        weights = torch.as_tensor(self.weights_, dtype=torch.float64)
        labels = torch.multinomial(weights, n_samples, replacement=True, generator=generator)
        labels = torch.sort(labels).values
        covariances = _covariance.expand(
            self.covariance_type,
            torch.as_tensor(self.covariances_, dtype=torch.float64),
            n_components,
            n_features,
        )
        lower = torch.linalg.cholesky(covariances)  # [K, D, D]
        noise = torch.randn(n_samples, n_features, generator=generator, dtype=torch.float64)
        means = torch.as_tensor(self.means_, dtype=torch.float64)
        X = means[labels] + (lower[labels] @ noise[:, :, None])[:, :, 0]  # [n, D]
        return X.numpy().astype(self.means_.dtype, copy=False), labels.numpy()

    def _n_parameters(self) -> int:
        n_components, n_features = self.means_.shape
        return n_parameters(self.covariance_type, n_components, n_features)

    def bic(self, X) -> float:
        """Bayesian information criterion of the model on ``X`` (lower is better)."""
        n_samples = check_data(self, X, reset=False).shape[0]
        total = self.score(X) * n_samples
        return _bic(total, n_samples, self._n_parameters())

    def aic(self, X) -> float:
        """Akaike information criterion of the model on ``X`` (lower is better)."""
        n_samples = check_data(self, X, reset=False).shape[0]
        return _aic(self.score(X) * n_samples, self._n_parameters())
