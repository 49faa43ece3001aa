"""What every mixture estimator in gmm_core shares once it has parameters.

A subclass only learns ``weights_``, ``means_`` and ``precisions_cholesky_`` (and
``covariances_``); scoring, prediction, sampling and information criteria live here.
"""

from __future__ import annotations

import numpy as np
import torch

from . import _covariance
from ._em import GaussianParameters, log_responsibilities, score_samples
from ._validation import as_numpy_2d, check_n_features


class NotFittedError(ValueError, AttributeError):
    """Raised when a method needs a fitted model and the model has not been fitted."""


def torch_generator(random_state, device: torch.device | str = "cpu") -> torch.Generator:
    """A torch random generator from ``random_state`` (None, an int or a numpy Generator)."""
    generator = torch.Generator(device="cpu")
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


class MixtureBase:
    """Scoring, prediction, sampling and model selection for a fitted Gaussian mixture."""

    # -- plumbing ---------------------------------------------------------------------

    def _device(self) -> torch.device:
        return torch.device(self.device if self.device is not None else "cpu")

    def _is_fitted(self) -> bool:
        return getattr(self, "means_", None) is not None

    def _check_is_fitted(self) -> None:
        if not self._is_fitted():
            raise NotFittedError(
                f"This {type(self).__name__} instance is not fitted yet; call fit (or "
                "partial_fit) with some data first."
            )

    def _to_tensor(self, array: np.ndarray) -> torch.Tensor:
        if isinstance(array, np.ndarray) and not array.flags.writeable:
            array = array.copy()  # torch only shares memory it may write to
        return torch.as_tensor(array, dtype=self.dtype, device=self._device())

    def _fitted_data(self, X) -> torch.Tensor:
        """Validate ``X`` against the fitted model and return it as a tensor (n, D)."""
        self._check_is_fitted()
        array = as_numpy_2d(X)
        check_n_features(array, self.means_.shape[1])
        return self._to_tensor(array)

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

    # -- public API -------------------------------------------------------------------

    @property
    def precisions_(self) -> np.ndarray:
        """Precision matrices in the shape of ``covariances_``."""
        self._check_is_fitted()
        factor = self.precisions_cholesky_
        if self.covariance_type == "full":
            return factor @ np.swapaxes(factor, -1, -2)
        if self.covariance_type == "tied":
            return factor @ factor.T
        return factor**2

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
        data = self._fitted_data(X)
        return log_responsibilities(data, self._gaussian_parameters()).argmax(1).cpu().numpy()

    def fit_predict(self, X, y=None) -> np.ndarray:
        """Fit the model to ``X`` and return the component of each sample, (n_samples,)."""
        return self.fit(X).predict(X)

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
        self._check_is_fitted()
        if isinstance(n_samples, bool) or not isinstance(n_samples, int | np.integer):
            raise ValueError(f"n_samples must be an integer >= 1, got {n_samples!r}.")
        if n_samples < 1:
            raise ValueError(f"n_samples must be >= 1, got {n_samples}.")
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
        X = means[labels] + (lower[labels] @ noise[:, :, None])[:, :, 0]
        return X.numpy(), labels.numpy()

    def _n_parameters(self) -> int:
        n_components, n_features = self.means_.shape
        return _covariance.n_parameters(self.covariance_type, n_components, n_features)

    def bic(self, X) -> float:
        """Bayesian information criterion of the model on ``X`` (lower is better)."""
        n_samples = as_numpy_2d(X).shape[0]
        return -2 * self.score(X) * n_samples + self._n_parameters() * np.log(n_samples)

    def aic(self, X) -> float:
        """Akaike information criterion of the model on ``X`` (lower is better)."""
        n_samples = as_numpy_2d(X).shape[0]
        return -2 * self.score(X) * n_samples + 2 * self._n_parameters()
