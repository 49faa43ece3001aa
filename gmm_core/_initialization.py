"""Initial parameters of a mixture, from ``init_params`` and whatever the user gave.

Shared by every estimator: EM and the gradient trainer start from the same parameters.
:func:`starting_parameters` reads an estimator's hyper-parameters and checks what the
user gave; :func:`initial_parameters` computes the start from plain arguments.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ._em import responsibility_statistics
from ._validation import check_enough_samples, check_initial_parameters
from .parts import covariance as _covariance
from .parts.covariance import COVARIANCE_TYPES
from .parts.kmeans import initial_responsibilities


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
    sample_weight: torch.Tensor | None = None,
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
    generator : torch.Generator or numpy.random.RandomState
    sample_weight : Tensor of shape (n_samples,), optional
        Row weights: the start is drawn from the weighted rows (see
        :func:`~gmm_core.parts.kmeans.initial_responsibilities`) and its statistics weighted.

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
        resp = initial_responsibilities(X, K, init_params, generator, sample_weight)  # [n, K]
        if sample_weight is not None:
            resp = resp * sample_weight[:, None]
        statistics = responsibility_statistics(X, resp)
    total = X.shape[0] if sample_weight is None else sample_weight.sum()
    weights = (
        tensor(given["weights"]) if given["weights"] is not None else statistics.counts / total
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


def starting_parameters(
    estimator,
    array: np.ndarray,
    X: torch.Tensor,
    generator: torch.Generator,
    sample_weight: torch.Tensor | None = None,
) -> MixtureParameters:
    """The start of a fit of ``estimator``: its ``init_params`` and the ``*_init`` it was given.

    Parameters
    ----------
    estimator : BaseMixture
        Read for ``n_components``, ``covariance_type``, ``init_params``, ``reg_covar`` and
        the user's ``weights_init``, ``means_init``, ``precisions_init`` and
        ``covariances_init``, which are checked here.
    array : ndarray of shape (n_samples, n_features)
        The validated data.
    X : Tensor of shape (n_samples, n_features)
        The same data in the dtype and on the device to train in.
    generator : torch.Generator or numpy.random.RandomState
    sample_weight : Tensor of shape (n_samples,), optional
        Checked row weights; only rows of positive weight count as samples.

    Returns
    -------
    MixtureParameters
        In ``X``'s dtype and on its device.

    Raises
    ------
    ValueError
        If there are fewer samples (of positive weight) than components, or a given
        initial parameter is not valid.
    """
    if sample_weight is None:
        check_enough_samples(array, estimator.n_components)
    else:
        check_enough_samples(array[(sample_weight > 0).cpu().numpy()], estimator.n_components)
    given = check_initial_parameters(estimator, array.shape[1])
    return estimator_initial_parameters(estimator, X, given, generator, sample_weight)


def estimator_initial_parameters(
    estimator,
    X: torch.Tensor,
    given: dict,
    generator: torch.Generator,
    sample_weight: torch.Tensor | None = None,
) -> MixtureParameters:
    """:func:`initial_parameters` with ``estimator``'s hyper-parameters.

    ``given`` holds the checked ``*_init`` arrays (see
    :func:`~gmm_core._validation.check_initial_parameters`); ``X`` (n, D) is the data, or
    the sample of all shards a distributed fit starts from.
    """
    return initial_parameters(
        X,
        estimator.n_components,
        estimator.covariance_type,
        estimator.init_params,
        estimator.reg_covar,
        given,
        generator,
        sample_weight,
    )
