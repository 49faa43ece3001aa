"""Computations for the insight panels, run in a background thread: imports gmm_core.

Only a background thread imports this module (torch loads with it), never the GUI thread
before the first frame.
"""

from __future__ import annotations

import threading

import numpy as np
import pyqtgraph.functions as fn

from gmm_core import Cancelled, GaussianMixture, kmeans_start

from .density import DYNAMIC_RANGE, N_CONTOURS, DensityGrid, DensityRequest
from .geometry import log_prob_components, typed_covariances
from .snapshot import KScores, KScoresRequest

#: EM passes at most per candidate K.
MAX_PASSES = 200


def k_scores(request: KScoresRequest, cancelled: threading.Event) -> KScores | None:
    """BIC and AIC of a mixture fitted for each K of ``request.ks`` (None if cancelled).

    Each K starts from :func:`gmm_core.kmeans_start` and runs EM to convergence; a K
    with more components than points scores nan. ``best_k`` has the lowest BIC.
    """
    X = np.array(request.points, dtype=np.float64)  # writable: torch reads it in place
    bic, aic = [], []
    try:
        for k in request.ks:
            if k > X.shape[0]:
                bic.append(float("nan"))
                aic.append(float("nan"))
                continue
            weights, means, covariances = kmeans_start(
                X, k, reg_covar=request.reg_covar, random_state=request.seed, cancelled=cancelled
            )
            model = GaussianMixture(
                k,
                covariance_type=request.covariance_type,
                reg_covar=request.reg_covar,
                weights_init=weights,
                means_init=means,
                covariances_init=typed_covariances(covariances, request.covariance_type, weights),
                random_state=request.seed,
            )
            for fitted in model.iter_fit(X, max_iter=MAX_PASSES):
                if cancelled.is_set():
                    raise Cancelled
                if fitted.converged_:
                    break
            bic.append(float(model.bic(X)))
            aic.append(float(model.aic(X)))
    except Cancelled:
        return None
    finite = np.where(np.isfinite(bic), bic, np.inf)
    best = int(request.ks[int(np.argmin(finite))])
    return KScores(
        request_id=request.request_id,
        ks=tuple(int(k) for k in request.ks),
        bic=tuple(bic),
        aic=tuple(aic),
        best_k=best,
    )


def log_density_grid(request: DensityRequest, cancelled: threading.Event) -> DensityGrid | None:
    """The mixture's log-density on a grid over the request's range, with contours."""
    size = request.size
    (x0, x1), (y0, y1) = request.x_range, request.y_range
    dx, dy = (x1 - x0) / size, (y1 - y0) / size
    xs = x0 + dx * (np.arange(size) + 0.5)  # cell centres
    ys = y0 + dy * (np.arange(size) + 0.5)
    gx, gy = np.meshgrid(xs, ys, indexing="ij")  # [size, size], [i_x, i_y]
    X = np.column_stack([gx.ravel(), gy.ravel()])
    log_prob = log_prob_components(X, request.weights, request.means, request.covariances)
    top = np.max(log_prob, axis=1, keepdims=True)
    log_density = (top[:, 0] + np.log(np.sum(np.exp(log_prob - top), axis=1))).reshape(size, size)
    log_density = np.where(np.isfinite(log_density), log_density, -1e300)
    peak = float(np.max(log_density))
    levels = tuple(peak - (DYNAMIC_RANGE * (i + 0.5) / N_CONTOURS) for i in range(N_CONTOURS))
    xs_out, ys_out, connect = [], [], []
    for level in levels:
        if cancelled.is_set():
            return None
        for line in fn.isocurve(log_density, level, connected=True):
            line = np.asarray(line, dtype=np.float64)  # [m, 2] in cell units
            if line.shape[0] < 2:
                continue
            xs_out.append(x0 + dx * (line[:, 0] + 0.5))  # sample i sits at cell centre i
            ys_out.append(y0 + dy * (line[:, 1] + 0.5))
            c = np.ones(line.shape[0], dtype=bool)
            c[-1] = False
            connect.append(c)
    empty = np.zeros(0)
    return DensityGrid(
        request_id=request.request_id,
        rect=(x0, y0, x1 - x0, y1 - y0),
        log_density=log_density,
        levels=levels,
        contour_x=np.concatenate(xs_out) if xs_out else empty,
        contour_y=np.concatenate(ys_out) if ys_out else empty,
        contour_connect=np.concatenate(connect) if connect else np.zeros(0, dtype=bool),
    )
