"""The variational maths of a Bayesian Gaussian mixture, as pure functions on numpy arrays.

The model is scikit-learn's (Bishop, *Pattern Recognition and Machine Learning*, 10.2,
and Blei and Jordan 2006 for the Dirichlet process): a Dirichlet (or stick-breaking Beta)
posterior on the weights and a Normal-Wishart posterior on each component's mean and
precision. Everything here works on per-component (K,) and (K, D[, D]) arrays in float64;
the E-step itself (responsibilities and their sufficient statistics, in chunks, on the
device) is :func:`gmm_core._em.expectation_sums`, fed with the per-component log-offsets
of :func:`log_offsets` in place of log-weights.

The update :func:`posterior` is the conjugate one: the prior's natural parameters plus the
data's sufficient statistics. The prior may be shared by all components (a batch fit) or
per component (streaming: the posterior so far is the prior of the next batch), so one
function serves both.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
from scipy.special import betaln, digamma, gammaln

from ..parts.covariance import COVARIANCE_TYPES, precision_cholesky_numpy

PRIOR_TYPES = ("dirichlet_process", "dirichlet_distribution")


@dataclass(frozen=True)
class NormalWishart:
    """A weight posterior (or prior) and K Normal-Wishart posteriors (or priors).

    Attributes
    ----------
    weight_concentration : ndarray of shape (K,), or a pair of them
        Dirichlet concentrations, or for the Dirichlet process the Beta parameters
        ``(a, b)`` of each stick.
    mean_precision : ndarray of shape (K,)
        ``beta_k``: how many points the mean's precision is worth.
    means : ndarray of shape (K, D)
    degrees_of_freedom : ndarray of shape (K,)
        ``nu_k`` (for 'tied' all equal).
    scatter : ndarray
        ``nu_k`` times the covariances: the Wishart's inverse scale matrices, in the
        covariance type's shape ((K, D, D), (D, D), (K, D) or (K,)).
    """

    weight_concentration: np.ndarray | tuple[np.ndarray, np.ndarray]
    mean_precision: np.ndarray
    means: np.ndarray
    degrees_of_freedom: np.ndarray
    scatter: np.ndarray

    def covariances(self, covariance_type: str) -> np.ndarray:
        """The covariances ``scatter / nu``, in the covariance type's shape."""
        return _per_component(self.scatter, self.degrees_of_freedom, covariance_type, np.divide)


def _per_component(typed, values, covariance_type: str, operation):
    """``operation(typed, values)`` with ``values`` (K,) broadcast along the components."""
    if covariance_type == "tied":
        return operation(typed, values[0])
    extra = (None,) * (np.ndim(typed) - 1)
    return operation(typed, values[(slice(None), *extra)])


def shared_prior(
    n_components: int,
    covariance_type: str,
    weight_concentration: float,
    prior_type: str,
    mean_precision: float,
    mean: np.ndarray,
    degrees_of_freedom: float,
    covariance,
) -> NormalWishart:
    """The prior every component shares, as scikit-learn's ``*_prior_`` give it.

    ``covariance`` is scikit-learn's ``covariance_prior_``: the Wishart's inverse scale in
    the covariance type's shape ((D, D) for 'full' and 'tied', (D,) for 'diag', a number
    for 'spherical').
    """
    K = n_components
    ones = np.ones(K)
    if prior_type == "dirichlet_process":
        concentration = (ones.copy(), np.full(K, float(weight_concentration)))
    else:
        concentration = np.full(K, float(weight_concentration))
    covariance = np.asarray(covariance, dtype=np.float64)
    scatter = covariance.copy() if covariance_type == "tied" else np.stack([covariance] * K)
    return NormalWishart(
        concentration,
        np.full(K, float(mean_precision)),
        np.broadcast_to(np.asarray(mean, dtype=np.float64), (K, len(mean))).copy(),
        np.full(K, float(degrees_of_freedom)),
        scatter,
    )


def posterior(
    prior: NormalWishart, covariance_type: str, nk: np.ndarray, xk: np.ndarray, sk: np.ndarray
) -> NormalWishart:
    """The conjugate update of ``prior`` by responsibility statistics (Bishop 10.58-10.63).

    Parameters
    ----------
    prior : NormalWishart
    covariance_type : str
    nk : ndarray of shape (K,)
        Total responsibilities (with scikit-learn's 10 machine epsilons).
    xk : ndarray of shape (K, D)
        Responsibility-weighted means.
    sk : ndarray
        Responsibility-weighted covariances reduced to the covariance type, ``reg_covar``
        added, as scikit-learn's ``_estimate_gaussian_parameters`` gives them.

    Returns
    -------
    NormalWishart
    """
    K = nk.shape[0]
    if isinstance(prior.weight_concentration, tuple):
        a, b = prior.weight_concentration
        tail = np.hstack((np.cumsum(nk[::-1])[-2::-1], 0))  # [K] responsibility beyond k
        concentration = (a + nk, b + tail)
    else:
        concentration = prior.weight_concentration + nk
    beta0, m0 = prior.mean_precision, prior.means
    beta = beta0 + nk  # [K]
    means = (beta0[:, None] * m0 + nk[:, None] * xk) / beta[:, None]  # [K, D]
    diff = xk - m0  # [K, D]
    shrink = beta0 / beta  # [K]
    if covariance_type == "full":
        nu = prior.degrees_of_freedom + nk
        outer = diff[:, :, None] * diff[:, None, :]  # [K, D, D]
        scatter = prior.scatter + nk[:, None, None] * (sk + shrink[:, None, None] * outer)
    elif covariance_type == "tied":
        total = nk.sum()
        nu = prior.degrees_of_freedom + total / K
        spread = np.dot((nk * shrink) * diff.T, diff)  # [D, D]
        scatter = prior.scatter + (sk * total + spread) / K
    elif covariance_type == "diag":
        nu = prior.degrees_of_freedom + nk
        scatter = prior.scatter + nk[:, None] * (sk + shrink[:, None] * np.square(diff))
    else:
        nu = prior.degrees_of_freedom + nk
        scatter = prior.scatter + nk * (sk + shrink * np.mean(np.square(diff), 1))
    return NormalWishart(concentration, beta, means, nu, scatter)


def precisions_cholesky(
    covariances: np.ndarray, covariance_type: str, n_components: int, n_features: int
) -> np.ndarray:
    """Upper Cholesky factors of the precisions, in the covariance type's shape.

    Raises
    ------
    ValueError
        If a covariance is not positive definite.
    """
    kind = COVARIANCE_TYPES[covariance_type]
    full = kind.expand(covariances, n_components, n_features)  # [K, D, D]
    return kind.select_precision_cholesky(precision_cholesky_numpy(full), n_components)


def mixture_weights(weight_concentration, prior_type: str) -> np.ndarray:
    """The weights' posterior means: ``alpha / sum(alpha)``, or the expected sticks."""
    if prior_type == "dirichlet_process":
        a, b = weight_concentration
        total = a + b
        weights = a / total * np.hstack((1, np.cumprod(b / total)[:-1]))
        return weights / np.sum(weights)
    return weight_concentration / np.sum(weight_concentration)


def expected_log_weights(weight_concentration, prior_type: str) -> np.ndarray:
    """``E[log pi_k]`` under the weight posterior, shape (K,)."""
    if prior_type == "dirichlet_process":
        a, b = weight_concentration
        digamma_sum = digamma(a + b)
        return digamma(a) - digamma_sum + np.hstack((0, np.cumsum(digamma(b) - digamma_sum)[:-1]))
    return digamma(weight_concentration) - digamma(np.sum(weight_concentration))


def log_offsets(state: NormalWishart, prior_type: str, n_features: int) -> np.ndarray:
    """What the E-step adds to each component's Gaussian log-density, shape (K,).

    ``E[log pi_k] + 1/2 (E[log |Lambda_k|] - D log nu_k - D / beta_k)``: with it in place
    of ``log w_k``, :func:`gmm_core._em.expectation_sums` (whose Gaussian uses the
    normalised precision ``nu_k W_k``) computes the variational responsibilities.
    """
    nu = state.degrees_of_freedom
    log_lambda = n_features * math.log(2.0) + np.sum(
        digamma(0.5 * (nu - np.arange(n_features)[:, None])), 0
    )  # [K]
    return (
        expected_log_weights(state.weight_concentration, prior_type)
        - 0.5 * n_features * np.log(nu)
        + 0.5 * (log_lambda - n_features / state.mean_precision)
    )


def log_dirichlet_norm(dirichlet_concentration: np.ndarray) -> float:
    """Log of the Dirichlet distribution's normalisation constant."""
    return gammaln(np.sum(dirichlet_concentration)) - np.sum(gammaln(dirichlet_concentration))


def log_wishart_norm(degrees_of_freedom, log_det_precisions_chol, n_features: int):
    """Log of the Wishart distribution's normalisation constant, per component.

    Without the ``log(pi)`` term, as scikit-learn's ``_log_wishart_norm``.
    """
    return -(
        degrees_of_freedom * log_det_precisions_chol
        + degrees_of_freedom * n_features * 0.5 * math.log(2.0)
        + np.sum(gammaln(0.5 * (degrees_of_freedom - np.arange(n_features)[:, None])), 0)
    )


def log_det_cholesky(factor: np.ndarray, covariance_type: str, n_features: int):
    """Log-determinant of each precision factor: (K,), or a number for 'tied'."""
    if covariance_type == "full":
        return np.sum(np.log(np.diagonal(factor, axis1=1, axis2=2)), 1)
    if covariance_type == "tied":
        return np.sum(np.log(np.diag(factor)))
    if covariance_type == "diag":
        return np.sum(np.log(factor), axis=1)
    return n_features * np.log(factor)


def lower_bound(
    state: NormalWishart,
    factor: np.ndarray,
    covariance_type: str,
    prior_type: str,
    negative_entropy: float,
) -> float:
    """scikit-learn's variational lower bound (its constant terms left out).

    Parameters
    ----------
    state : NormalWishart
        The posterior after the M-step.
    factor : ndarray
        Its precisions' Cholesky factors, in the covariance type's shape.
    covariance_type, prior_type : str
    negative_entropy : float
        ``sum_n w_n sum_k r_nk log r_nk`` under the E-step's responsibilities.
    """
    n_components, n_features = state.means.shape
    nu = state.degrees_of_freedom
    if covariance_type == "tied":
        nu = nu[0]
    log_det = log_det_cholesky(factor, covariance_type, n_features) - 0.5 * n_features * np.log(nu)
    if covariance_type == "tied":
        log_wishart = n_components * float(log_wishart_norm(nu, log_det, n_features)[0])
    else:
        log_wishart = np.sum(log_wishart_norm(nu, log_det, n_features))
    if prior_type == "dirichlet_process":
        log_norm_weight = -np.sum(betaln(*state.weight_concentration))
    else:
        log_norm_weight = log_dirichlet_norm(state.weight_concentration)
    return float(
        -negative_entropy
        - log_wishart
        - log_norm_weight
        - 0.5 * n_features * np.sum(np.log(state.mean_precision))
    )


def with_scatter_of(state: NormalWishart, covariances: np.ndarray, covariance_type: str):
    """``state`` with its scatter rebuilt from published covariances (``nu`` times them)."""
    scatter = _per_component(covariances, state.degrees_of_freedom, covariance_type, np.multiply)
    return replace(state, scatter=np.asarray(scatter, dtype=np.float64))


def _mean_outer(state: NormalWishart, covariance_type: str) -> np.ndarray:
    """``beta_k m_k m_k^T`` in the covariance type's shape (the scatter's natural partner)."""
    beta, means = state.mean_precision, state.means
    if covariance_type == "full":
        return beta[:, None, None] * means[:, :, None] * means[:, None, :]
    if covariance_type == "tied":
        return np.dot(beta * means.T, means) / means.shape[0]
    if covariance_type == "diag":
        return beta[:, None] * np.square(means)
    return beta * np.mean(np.square(means), 1)


def faded(state: NormalWishart, prior: NormalWishart, keep: float, covariance_type: str):
    """``state`` with what the data added to ``prior`` scaled by ``keep`` (0 < keep <= 1).

    In natural parameters (``beta``, ``beta m``, ``nu``, ``Psi + beta m m^T`` and the weight
    concentrations) a posterior is the prior plus the data's statistics; scaling the data's
    part is forgetting a share ``1 - keep`` of every point seen, old and new alike.
    """

    def blend(posterior_part, prior_part):
        return prior_part + keep * (posterior_part - prior_part)

    if isinstance(state.weight_concentration, tuple):
        concentration = tuple(
            blend(a, b)
            for a, b in zip(state.weight_concentration, prior.weight_concentration, strict=True)
        )
    else:
        concentration = blend(state.weight_concentration, prior.weight_concentration)
    beta = blend(state.mean_precision, prior.mean_precision)
    weighted = blend(
        state.mean_precision[:, None] * state.means, prior.mean_precision[:, None] * prior.means
    )
    natural = blend(
        state.scatter + _mean_outer(state, covariance_type),
        prior.scatter + _mean_outer(prior, covariance_type),
    )
    nu = blend(state.degrees_of_freedom, prior.degrees_of_freedom)
    moved = NormalWishart(concentration, beta, weighted / beta[:, None], nu, prior.scatter)
    return replace(moved, scatter=natural - _mean_outer(moved, covariance_type))
