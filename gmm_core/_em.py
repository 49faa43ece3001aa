"""The numerical core of EM: log-densities and sufficient statistics, computed in chunks.

Nothing here ever builds an (n_samples, n_components, n_features) tensor for all the data:
the data is walked through in chunks small enough to stay in cache, and each chunk adds its
sufficient statistics (responsibility totals, first and second moments centred at the
current means) to running sums. Two-dimensional data, the program's case, takes a closed
form that avoids batched linear algebra altogether.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from .parts.covariance import LOG_2PI, log_det_precision_cholesky

# Elements of one (chunk, K, D) working tensor: ~2 MiB of float64 stays in a core's cache.
_CHUNK_ELEMENTS = 1 << 18


@dataclass
class GaussianParameters:
    """The parameters an E-step needs, as tensors on one device."""

    log_weights: torch.Tensor  # [K]
    means: torch.Tensor  # [K, D]
    precisions_cholesky: torch.Tensor  # [K, D, D], upper U with U @ U.T the precision

    def log_normalizers(self) -> torch.Tensor:
        """``log w_k + log|U_k| - D/2 log(2 pi)`` for each component, shape (K,)."""
        n_features = self.means.shape[1]
        return (
            self.log_weights
            + log_det_precision_cholesky(self.precisions_cholesky)
            - 0.5 * n_features * LOG_2PI
        )


@dataclass
class SufficientStatistics:
    """Responsibility-weighted statistics of a set of points, per component.

    Attributes
    ----------
    counts : Tensor of shape (K,)
        Total responsibility of each component.
    means : Tensor of shape (K, D)
        Responsibility-weighted means.
    covariances : Tensor of shape (K, D, D)
        Responsibility-weighted biased covariances about ``means``.
    log_likelihood : float
        Sum over the points of the mixture log-density under the parameters that produced
        the responsibilities.
    """

    counts: torch.Tensor
    means: torch.Tensor
    covariances: torch.Tensor
    log_likelihood: float = 0.0

    def merge(self, other: SufficientStatistics) -> SufficientStatistics:
        """The exact statistics of the union of both sets of points.

        ``n = n_a + n_b``, ``m = m_a + (n_b / n) delta`` and
        ``C = (n_a C_a + n_b C_b) / n + (n_a n_b / n^2) delta delta^T`` with
        ``delta = m_b - m_a``; components with no weight on either side keep the other's.
        """
        total = self.counts + other.counts  # [K]
        safe_total = torch.where(total > 0, total, torch.ones_like(total))
        share_a = torch.where(total > 0, self.counts / safe_total, torch.ones_like(total))
        share_b = 1.0 - share_a
        delta = other.means - self.means  # [K, D]
        means = self.means + share_b[:, None] * delta
        outer = delta[:, :, None] * delta[:, None, :]  # [K, D, D]
        covariances = (
            share_a[:, None, None] * self.covariances
            + share_b[:, None, None] * other.covariances
            + (share_a * share_b)[:, None, None] * outer
        )
        return SufficientStatistics(
            total, means, covariances, self.log_likelihood + other.log_likelihood
        )


def chunk_rows(n_components: int, n_features: int) -> int:
    """Rows per chunk so that one (rows, K, D) working tensor stays in cache."""
    return max(1024, _CHUNK_ELEMENTS // max(1, n_components * n_features))


def weighted_log_prob(X: torch.Tensor, params: GaussianParameters) -> torch.Tensor:
    """``log w_k + log N(x | mu_k, Sigma_k)`` for every point and component.

    Parameters
    ----------
    X : Tensor of shape (n, D)
    params : GaussianParameters

    Returns
    -------
    log_prob : Tensor of shape (n, K)
    """
    return params.log_normalizers() - 0.5 * _mahalanobis_sq(X, params)[0]


def _mahalanobis_sq(X: torch.Tensor, params: GaussianParameters):
    """Squared Mahalanobis distances (n, K) and the differences ``x - mu_k`` they came from.

    The one place the Gaussian log-density's quadratic form is computed: EM, scoring and
    the gradient module (through :func:`weighted_log_prob`, differentiably) all use it.

    For D = 2 the differences are returned as a pair of (n, K) tensors, otherwise as one
    tensor of shape (K, n, D).
    """
    means, factor = params.means, params.precisions_cholesky
    if means.shape[1] == 2:
        dx = X[:, 0:1] - means[:, 0]  # [n, K]
        dy = X[:, 1:2] - means[:, 1]  # [n, K]
        # y = (x - mu) @ U with U upper triangular: y0 = U00 dx, y1 = U01 dx + U11 dy
        y0 = dx * factor[:, 0, 0]
        if torch.is_grad_enabled() and (factor.requires_grad or means.requires_grad):
            y1 = dx * factor[:, 0, 1] + dy * factor[:, 1, 1]
            return y0 * y0 + y1 * y1, (dx, dy)  # autograd needs y0 and y1 kept
        y1 = (dx * factor[:, 0, 1]).add_(dy * factor[:, 1, 1])
        distance = y0.mul_(y0).add_(y1.mul_(y1))  # [n, K]
        return distance, (dx, dy)
    diff = X[None, :, :] - means[:, None, :]  # [K, n, D]
    y = torch.bmm(diff, factor)  # [K, n, D]
    distance = (y * y).sum(-1).T  # [n, K]
    return distance, diff


def score_samples(X: torch.Tensor, params: GaussianParameters) -> torch.Tensor:
    """Mixture log-density of every point, shape (n,), computed chunk by chunk."""
    rows = chunk_rows(*params.precisions_cholesky.shape[:2])
    parts = [
        torch.logsumexp(weighted_log_prob(X[start : start + rows], params), dim=1)
        for start in range(0, X.shape[0], rows)
    ]
    return torch.cat(parts)


def labels_and_log_density(
    X: torch.Tensor, params: GaussianParameters
) -> tuple[torch.Tensor, torch.Tensor]:
    """The most probable component (n,) and the mixture log-density (n,) of every point.

    One pass over the points for what :meth:`predict` and :meth:`score_samples` each
    compute alone: the argmax of the weighted log-probabilities is the argmax of the
    responsibilities.
    """
    rows = chunk_rows(*params.precisions_cholesky.shape[:2])
    labels, log_density = [], []
    for start in range(0, X.shape[0], rows):
        log_prob = weighted_log_prob(X[start : start + rows], params)  # [n, K]
        labels.append(log_prob.argmax(1))
        log_density.append(torch.logsumexp(log_prob, dim=1))
    return torch.cat(labels), torch.cat(log_density)


def log_responsibilities(X: torch.Tensor, params: GaussianParameters) -> torch.Tensor:
    """Log posterior probability of each component for every point, shape (n, K)."""
    rows = chunk_rows(*params.precisions_cholesky.shape[:2])
    parts = []
    for start in range(0, X.shape[0], rows):
        log_prob = weighted_log_prob(X[start : start + rows], params)
        parts.append(log_prob - torch.logsumexp(log_prob, dim=1, keepdim=True))
    return torch.cat(parts)


def expectation_statistics(
    X: torch.Tensor, params: GaussianParameters, sample_weight: torch.Tensor | None = None
) -> SufficientStatistics:
    """E-step: the sufficient statistics of ``X`` under responsibilities from ``params``.

    Second moments are accumulated about the current means, never as raw ``x x^T``, so that
    data far from the origin keeps its digits.

    Parameters
    ----------
    X : Tensor of shape (n, D)
    params : GaussianParameters
    sample_weight : Tensor of shape (n,), optional
        A weight multiplying each point's responsibilities.

    Returns
    -------
    SufficientStatistics
        Counts (K,), means (K, D), covariances (K, D, D) and the summed log-likelihood.
    """
    return statistics_from_sums(expectation_sums(X, params, sample_weight), params)


@dataclass
class ExpectationSums:
    """The additive E-step sums of a set of points, centred at the current means.

    Sums over disjoint sets of points add up exactly (up to rounding), which is what a
    sum across processes (an all-reduce) needs; :func:`statistics_from_sums` turns them
    into :class:`SufficientStatistics`.
    """

    counts: torch.Tensor  # [K] total responsibility
    first: torch.Tensor  # [K, D] sum of r_nk (x_n - mu_k)
    second: torch.Tensor  # [K, D, D] sum of r_nk (x_n - mu_k)(x_n - mu_k)^T
    log_likelihood: torch.Tensor  # [] sum of log p(x_n)
    # [] sum of w_n sum_k r_nk log r_nk (the responsibilities' negative entropy), when asked
    entropy: torch.Tensor | None = None


def expectation_sums(
    X: torch.Tensor,
    params: GaussianParameters,
    sample_weight: torch.Tensor | None = None,
    *,
    entropy: bool = False,
) -> ExpectationSums:
    """The E-step's additive sums over the rows of ``X`` (which may have no rows).

    With ``entropy``, also the (weighted) sum of ``r log r`` over points and components,
    which a variational lower bound needs.
    """
    n_components, n_features = params.means.shape
    rows = chunk_rows(n_components, n_features)
    log_normalizers = params.log_normalizers()  # [K]
    counts = torch.zeros(n_components, dtype=X.dtype, device=X.device)
    first = torch.zeros(n_components, n_features, dtype=X.dtype, device=X.device)
    second = torch.zeros(n_components, n_features, n_features, dtype=X.dtype, device=X.device)
    log_likelihood = torch.zeros((), dtype=X.dtype, device=X.device)
    negative_entropy = torch.zeros((), dtype=X.dtype, device=X.device) if entropy else None
    for start in range(0, X.shape[0], rows):
        chunk = X[start : start + rows]
        distance, diff = _mahalanobis_sq(chunk, params)
        log_prob = distance.mul_(-0.5).add_(log_normalizers)  # [n, K]
        log_norm = torch.logsumexp(log_prob, dim=1, keepdim=True)  # [n, 1]
        if entropy:
            log_resp = log_prob.sub_(log_norm)  # [n, K]
            resp = log_resp.exp()  # [n, K]
            plogp = (resp * log_resp).sum(1)  # [n]
            if sample_weight is not None:
                plogp = plogp * sample_weight[start : start + rows]
            negative_entropy += plogp.sum()
        else:
            resp = log_prob.sub_(log_norm).exp_()  # [n, K]
        if sample_weight is not None:
            weight = sample_weight[start : start + rows, None]
            resp.mul_(weight)
            log_likelihood += (log_norm[:, 0] * weight[:, 0]).sum()
        else:
            log_likelihood += log_norm.sum()
        counts += resp.sum(0)
        if n_features == 2:
            dx, dy = diff
            rdx = resp * dx  # [n, K]
            rdy = resp * dy
            first[:, 0] += rdx.sum(0)
            first[:, 1] += rdy.sum(0)
            xy = (rdx * dy).sum(0)
            second[:, 0, 0] += rdx.mul_(dx).sum(0)
            second[:, 0, 1] += xy
            second[:, 1, 0] += xy
            second[:, 1, 1] += rdy.mul_(dy).sum(0)
        else:
            weighted = diff * resp.T[:, :, None]  # [K, n, D]
            first += weighted.sum(1)
            second += weighted.transpose(1, 2) @ diff  # [K, D, D]
    return ExpectationSums(counts, first, second, log_likelihood, negative_entropy)


def statistics_from_sums(sums: ExpectationSums, params: GaussianParameters) -> SufficientStatistics:
    """Sufficient statistics from E-step sums centred at ``params.means``."""
    counts = sums.counts
    # Divide as scikit-learn does, with 10 machine epsilons guarding empty components.
    safe = counts + 10 * torch.finfo(counts.dtype).eps  # [K]
    shift = sums.first / safe[:, None]  # [K, D]
    means = params.means + shift
    covariances = sums.second / safe[:, None, None] - shift[:, :, None] * shift[:, None, :]
    return SufficientStatistics(counts, means, covariances, float(sums.log_likelihood))


def responsibility_statistics(X: torch.Tensor, resp: torch.Tensor) -> SufficientStatistics:
    """Sufficient statistics of ``X`` under given responsibilities, in chunks.

    Parameters
    ----------
    X : Tensor of shape (n, D)
    resp : Tensor of shape (n, K)

    Returns
    -------
    SufficientStatistics
        Counts (K,) including scikit-learn's 10 machine epsilons, means (K, D) and
        covariances (K, D, D) about those means.
    """
    n_components, n_features = resp.shape[1], X.shape[1]
    counts = resp.sum(0) + 10 * torch.finfo(X.dtype).eps  # [K]
    means = resp.T @ X / counts[:, None]  # [K, D]
    second = torch.zeros(n_components, n_features, n_features, dtype=X.dtype, device=X.device)
    rows = chunk_rows(n_components, n_features)
    for start in range(0, X.shape[0], rows):
        diff = X[None, start : start + rows, :] - means[:, None, :]  # [K, n, D]
        weighted = diff * resp[start : start + rows].T[:, :, None]  # [K, n, D]
        second += weighted.transpose(1, 2) @ diff
    return SufficientStatistics(counts, means, second / counts[:, None, None])
