"""Initial parameters of a mixture, from ``init_params`` and whatever the user gave.

Shared by every estimator: EM and the gradient trainer start from the same parameters.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from . import _covariance
from ._covariance import COVARIANCE_TYPES
from ._em import responsibility_statistics
from ._kmeans import initial_responsibilities


@dataclass
class MixtureParameters:
    """Typed parameters of a mixture as tensors on one device, covariances regularised."""

    weights: torch.Tensor  # [K]
    means: torch.Tensor  # [K, D]
    covariances: torch.Tensor  # the covariance type's shape
    precisions_cholesky: torch.Tensor  # upper factors, the covariance type's shape


def parameters_from_covariances(
    kind: str, weights: torch.Tensor, means: torch.Tensor, covariances: torch.Tensor
) -> MixtureParameters:
    """Parameters with precision factors computed from typed, regularised covariances."""
    K, D = means.shape
    full = _covariance.expand(kind, covariances, K, D)  # [K, D, D]
    factor = _covariance.precision_cholesky_from_covariance(full)  # raises if singular
    typed = COVARIANCE_TYPES[kind].select_precision_cholesky(factor, K)
    return MixtureParameters(weights, means, covariances, typed)


def initial_parameters(
    X: torch.Tensor,
    n_components: int,
    covariance_type: str,
    init_params: str,
    reg_covar: float,
    given: dict,
    generator: torch.Generator,
) -> MixtureParameters:
    """The starting point of a fit.

    Parameters
    ----------
    X : Tensor of shape (n_samples, n_features)
    n_components : int
    covariance_type : str
    init_params : {'kmeans', 'k-means++', 'random', 'random_from_data'}
        How responsibilities are drawn for what the user did not give.
    reg_covar : float
    given : dict
        From :func:`~gmm_core._validation.check_initial_parameters`: numpy arrays
        ``weights``, ``means``, ``covariances``, ``precisions`` or None.
    generator : torch.Generator

    Returns
    -------
    MixtureParameters
        In ``X``'s dtype and on its device.
    """
    K, D = n_components, X.shape[1]
    kind = COVARIANCE_TYPES[covariance_type]

    def tensor(array):
        return torch.as_tensor(array, device=X.device).to(X.dtype)

    statistics = None
    if (
        given["weights"] is None
        or given["means"] is None
        or (given["covariances"] is None and given["precisions"] is None)
    ):
        resp = initial_responsibilities(X, K, init_params, generator)  # [n, K]
        statistics = responsibility_statistics(X, resp)
    weights = (
        tensor(given["weights"]) if given["weights"] is not None else statistics.counts / X.shape[0]
    )
    means = tensor(given["means"]) if given["means"] is not None else statistics.means
    if given["precisions"] is not None:
        precisions = _covariance.expand(covariance_type, tensor(given["precisions"]), K, D)
        factor = _covariance.precision_cholesky_from_precision(precisions)  # [K, D, D]
        full = _covariance.covariance_from_precision_cholesky(factor)
        return MixtureParameters(
            weights,
            means,
            kind.select_precision_cholesky(full, K),
            kind.select_precision_cholesky(factor, K),
        )
    if given["covariances"] is not None:
        covariances = tensor(given["covariances"])
    else:
        covariances = kind.regularize(
            kind.reduce(statistics.covariances, statistics.counts), reg_covar
        )
    return parameters_from_covariances(covariance_type, weights, means, covariances)
