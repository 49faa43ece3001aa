"""The gmm_core estimators the trainers run, built from a request: no Qt, no policy.

Fresh starts (a cancellable k-means on a sample), models that start at given
parameters, the gradient trainer's step count, re-seeding collapsed components, and the
parameters an E-step half shows. :mod:`app.training.trainer` decides when each is used.

This module imports torch (through gmm_core): only the worker thread imports it.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable

import numpy as np

from gmm_core import (
    BayesianGaussianMixture,
    GaussianMixture,
    GradientGaussianMixture,
    kmeans_start,
)
from gmm_core.covariance_types import (
    component_log_densities,
    full_covariances,
    log_sum_exp,
    typed_covariances,
)

from ..state.messages import TrainingRequest
from .collapse import collapsed_components, worst_explained

#: Fresh fits start from k-means on a random sample of at most this many points; EM
#: passes then use all points.
INIT_SAMPLE = 20_000

#: Adam steps of the gradient trainer per change: about this many point evaluations,
#: within [GRADIENT_MIN_EPOCHS, GRADIENT_MAX_EPOCHS] (few points: many cheap steps;
#: many points: fewer), and never fewer than the Epochs spin box asks for.
GRADIENT_POINT_BUDGET = 100_000
GRADIENT_MIN_EPOCHS = 10
GRADIENT_MAX_EPOCHS = 200

Estimator = GaussianMixture | GradientGaussianMixture | BayesianGaussianMixture


def gradient_epochs(n_points: int, epochs: int) -> int:
    """Adam steps after a change to ``n_points`` points (see :data:`GRADIENT_POINT_BUDGET`)."""
    if epochs == 0:
        return 1
    adjusted = GRADIENT_POINT_BUDGET // max(1, n_points)
    return int(max(epochs, np.clip(adjusted, GRADIENT_MIN_EPOCHS, GRADIENT_MAX_EPOCHS)))


def at_most_one_component_per_point(request: TrainingRequest) -> TrainingRequest:
    """The request with no more components than points (a batch fit needs as many)."""
    n = request.points.shape[0]
    if request.n_components <= n:
        return request
    return dataclasses.replace(request, n_components=max(1, n))


def fresh_model(
    request: TrainingRequest,
    seed: int,
    *,
    gradient: bool,
    cancelled: threading.Event,
    variational: bool = False,
) -> Estimator:
    """An unfitted model started by a (cancellable) k-means on the request's points.

    A :class:`gmm_core.GradientGaussianMixture` if ``gradient``, a
    :class:`gmm_core.BayesianGaussianMixture` if ``variational``, else a
    :class:`gmm_core.GaussianMixture`.
    """
    weights, means, covariances = kmeans_start(
        request.points,
        request.n_components,
        reg_covar=request.reg_covar,
        random_state=seed,
        sample=INIT_SAMPLE,
        cancelled=cancelled,
    )
    return model_from(
        request, seed, weights, means, covariances, gradient=gradient, variational=variational
    )


def model_from(
    request: TrainingRequest,
    seed: int,
    weights,
    means,
    covariances,
    *,
    gradient: bool,
    variational: bool = False,
) -> Estimator:
    """An unfitted model that starts at the given parameters (full covariances)."""
    start = dict(
        covariance_type=request.covariance_type,
        reg_covar=request.reg_covar,
        max_iter=max(1, request.epochs),
        weights_init=weights,
        means_init=means,
        covariances_init=typed_covariances(covariances, request.covariance_type, weights),
        random_state=seed,
    )
    if variational:
        return BayesianGaussianMixture(
            request.n_components, weight_concentration_prior=request.weight_prior, **start
        )
    estimator = GradientGaussianMixture if gradient else GaussianMixture
    return estimator(request.n_components, **start)


def reseeded_parameters(
    model: Estimator, X: np.ndarray, reg_covar: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """``model``'s parameters with its collapsed components re-seeded; None if none is.

    Each collapsed component moves to one of the points the model explains worst
    (lowest log-density), with the data's covariance divided by the number of
    components and an equal share of weight; the others keep their parameters.
    Returns (weights (K,), means (K, D), full covariances (K, D, D)).
    """
    K = int(model.weights_.shape[0])
    weights = np.array(model.weights_, dtype=np.float64)
    means = np.array(model.means_, dtype=np.float64)
    covariances = full_covariances(model.covariances_, model.covariance_type, K, X.shape[1])
    collapsed = list(collapsed_components(weights, covariances, X, reg_covar))
    if not collapsed:
        return None
    log_density = model.score_samples(X)  # [n]
    seeds = worst_explained(log_density, len(collapsed))
    spread = np.cov(X, rowvar=False, bias=True) / K + reg_covar * np.eye(X.shape[1])
    for k, i in zip(collapsed, seeds, strict=False):
        means[k] = X[i]
        covariances[k] = spread
        weights[k] = 1.0 / K
    weights /= weights.sum()
    return weights, means, covariances


@dataclasses.dataclass(frozen=True)
class Parameters:
    """Mixture parameters with the fitted-attribute names a snapshot reads."""

    weights_: np.ndarray
    means_: np.ndarray
    covariances_: np.ndarray
    covariance_type: str
    lower_bound_: float = float("nan")


def repaired_model(
    model: Estimator | None, request: TrainingRequest, *, gradient: bool
) -> Estimator | None:
    """A model that starts where ``model`` is, its collapsed components re-seeded.

    See :func:`reseeded_parameters`. None when there is no fitted model, fewer than two
    points, or nothing is collapsed.
    """
    X = request.points
    if model is None or getattr(model, "means_", None) is None or X.shape[0] < 2:
        return None
    reseeded = reseeded_parameters(model, X, request.reg_covar)
    if reseeded is None:
        return None
    weights, means, covariances = reseeded
    request = dataclasses.replace(request, n_components=weights.shape[0])
    return model_from(request, request.seed, weights, means, covariances, gradient=gradient)


def e_step_view(
    model: Estimator, covariance_type: str
) -> tuple[Parameters, Callable[[np.ndarray], tuple[np.ndarray, float]]]:
    """The parameters an E-step shows, and a function labelling points under them.

    The parameters are the fitted ones, or an unfitted model's start. The function
    returns each point's most responsible component and the summed log-density (an
    :data:`app.training.snapshot_builder.LabelFunction`).
    """
    if getattr(model, "means_", None) is not None:
        params = (model.weights_, model.means_, model.covariances_)
    else:
        params = (model.weights_init, model.means_init, model.covariances_init)
    weights = np.asarray(params[0], dtype=np.float64)
    means = np.asarray(params[1], dtype=np.float64)  # [K, D]
    covariances = full_covariances(params[2], covariance_type, weights.shape[0], means.shape[1])
    view = Parameters(weights, means, params[2], covariance_type)

    def label(points):
        log_prob = component_log_densities(points, weights, means, covariances)  # [n, K]
        log_density = log_sum_exp(log_prob, axis=1)
        return log_prob.argmax(axis=1), float(np.sum(log_density))

    return view, label
