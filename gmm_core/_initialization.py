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
from ._validation import (
    check_enough_samples,
    check_frozen_components,
    check_initial_parameters,
)
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
    K = n_components
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
    if given["precisions"] is not None or given["covariances"] is not None:
        return _given_covariances(covariance_type, given, tensor, weights, means)
    covariances = kind.regularize(kind.reduce(statistics.covariances, statistics.counts), reg_covar)
    return parameters_from_covariances(covariance_type, weights, means, covariances)


def _given_covariances(kind: str, given: dict, tensor, weights, means) -> MixtureParameters:
    """Parameters with the covariances from the given precisions or covariances."""
    K, D = means.shape
    if given["precisions"] is None:
        return parameters_from_covariances(kind, weights, means, tensor(given["covariances"]))
    precisions = _covariance.expand(kind, tensor(given["precisions"]), K, D)
    factor = _covariance.precision_cholesky_from_precision(precisions)  # [K, D, D]
    full = _covariance.covariance_from_precision_cholesky(factor)
    select = COVARIANCE_TYPES[kind].select_precision_cholesky
    return MixtureParameters(weights, means, select(full, K), select(factor, K))


@dataclass
class HeldComponents:
    """The frozen components of a fit and the start they are held at (``frozen_components``).

    Their means, covariances and precision factors are the start's, computed exactly as
    :func:`initial_parameters` computes them, so that holding them keeps them bit for bit.
    With ``'tied'`` covariances the one shared covariance is held too (``shared``).
    """

    indices: torch.Tensor  # [F] component indices, sorted
    start: MixtureParameters  # every component's start; weights unused
    shared: bool  # 'tied': the shared covariance is held
    kind: str  # the covariance type

    def hold(self, means: torch.Tensor, covariances: torch.Tensor):
        """``(means, covariances)`` of an M-step with the held components' put back."""
        means = means.clone()
        means[self.indices] = self.start.means[self.indices]
        if self.shared:
            return means, self.start.covariances
        covariances = covariances.clone()
        covariances[self.indices] = self.start.covariances[self.indices]
        return means, covariances

    def hold_factors(self, parameters: MixtureParameters) -> MixtureParameters:
        """``parameters`` with the held components' precision factors the start's."""
        if self.shared:
            factor = self.start.precisions_cholesky
        else:
            factor = parameters.precisions_cholesky.clone()
            factor[self.indices] = self.start.precisions_cholesky[self.indices]
        p = parameters
        return MixtureParameters(p.weights, p.means, p.covariances, factor)

    def full_arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The start in float64: ``(indices (F,), means (K, D), covariances, factors)``.

        Covariances and upper factors as full (K, D, D) matrices, for the incremental
        engine (:meth:`~gmm_core.online.IncrementalEM.hold`).
        """
        start = self.start
        K, D = start.means.shape
        full = _covariance.expand(self.kind, start.covariances, K, D)  # [K, D, D]
        factor = _covariance.expand(self.kind, start.precisions_cholesky, K, D)  # [K, D, D]
        arrays = (t.detach().cpu().numpy().astype(np.float64) for t in (start.means, full, factor))
        return (self.indices.cpu().numpy(), *arrays)


def held_components(estimator, n_features: int, like: torch.Tensor) -> HeldComponents | None:
    """``estimator``'s frozen components and their start, in ``like``'s dtype and device.

    None when ``frozen_components`` freezes nothing. ``frozen_components`` must have
    been checked (:func:`~gmm_core._validation.check_frozen_components`); the starting
    arrays are checked here.
    """
    indices = check_frozen_components(estimator)
    if not indices:
        return None
    given = check_initial_parameters(estimator, n_features)

    def tensor(array):
        return torch.as_tensor(array, device=like.device).to(like.dtype)

    kind = estimator.covariance_type
    K = estimator.n_components
    weights = torch.full((K,), 1.0 / K, dtype=like.dtype, device=like.device)
    start = _given_covariances(kind, given, tensor, weights, tensor(given["means"]))
    return HeldComponents(torch.as_tensor(indices, device=like.device), start, kind == "tied", kind)


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
