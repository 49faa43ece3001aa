"""Choosing K: BIC and AIC of a fitted mixture for each candidate number of components.

:func:`k_scores` runs in the model-selection panel's background thread. This module
imports only the lazy ``gmm_core`` package: torch loads on the first use of
``gmm_core.GaussianMixture``, in that thread, never in the GUI thread.
"""

from __future__ import annotations

import threading

import numpy as np

import gmm_core
from gmm_core.covariance_types import typed_covariances

from ..state.messages import IN_USE_WEIGHT, KScores, KScoresRequest

#: EM passes at most per candidate K.
MAX_PASSES = 200

#: Passes at most of the variational fit.
VARIATIONAL_PASSES = 500


def k_scores(request: KScoresRequest, cancelled: threading.Event) -> KScores | None:
    """BIC and AIC of a mixture fitted for each K of ``request.ks`` (None if cancelled).

    Each K starts from :func:`gmm_core.kmeans_start` and runs EM to convergence; a K
    with more components than points scores nan. ``best_k`` has the lowest BIC;
    ``variational_k`` is what a variational fit of the largest K keeps in use.
    """
    X = np.array(request.points, dtype=np.float64)  # writable: torch reads it in place
    bic, aic = [], []
    try:
        for k in request.ks:
            if k > X.shape[0]:
                bic.append(float("nan"))
                aic.append(float("nan"))
                continue
            model = _fitted(gmm_core.GaussianMixture, X, k, request, cancelled, MAX_PASSES)
            bic.append(float(model.bic(X)))
            aic.append(float(model.aic(X)))
        variational_k = _variational_k(X, request, cancelled)
    except gmm_core.Cancelled:
        return None
    finite = np.where(np.isfinite(bic), bic, np.inf)
    best = int(request.ks[int(np.argmin(finite))])
    return KScores(
        request_id=request.request_id,
        ks=tuple(int(k) for k in request.ks),
        bic=tuple(bic),
        aic=tuple(aic),
        best_k=best,
        variational_k=variational_k,
    )


def _variational_k(X: np.ndarray, request: KScoresRequest, cancelled: threading.Event) -> int:
    """The components a variational fit of the largest K keeps in use (0: not fitted)."""
    k = min(max(request.ks), X.shape[0])
    if k < 1:
        return 0
    model = _fitted(
        gmm_core.BayesianGaussianMixture,
        X,
        k,
        request,
        cancelled,
        VARIATIONAL_PASSES,
        weight_concentration_prior=request.weight_prior,
    )
    return int(np.sum(model.weights_ >= IN_USE_WEIGHT))


def _fitted(estimator, X, k, request, cancelled, max_passes, **options):
    """``estimator`` of ``k`` components from a k-means start, fitted until converged.

    Raises :class:`gmm_core.Cancelled` once ``cancelled`` is set.
    """
    weights, means, covariances = gmm_core.kmeans_start(
        X, k, reg_covar=request.reg_covar, random_state=request.seed, cancelled=cancelled
    )
    model = estimator(
        k,
        covariance_type=request.covariance_type,
        reg_covar=request.reg_covar,
        weights_init=weights,
        means_init=means,
        covariances_init=typed_covariances(covariances, request.covariance_type, weights),
        random_state=request.seed,
        **options,
    )
    for fitted in model.iter_fit(X, max_iter=max_passes):
        if cancelled.is_set():
            raise gmm_core.Cancelled
        if fitted.converged_:
            break
    return model
