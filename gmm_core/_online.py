"""Incremental EM: the running state behind ``GaussianMixture.partial_fit``.

One point is an E-step with the current parameters followed by the exact weighted Welford
step of every component (see ``_online_stats.welford``); a chunk is an E-step on the chunk
followed by the exact merge of its weighted statistics. From nothing, components appear at
points far from all existing ones (a chi-square test on the Mahalanobis distance), and the
most recent points stay in a bounded buffer whose responsibilities can still be revised:
on an adaptive schedule a sweep runs EM on the buffer and tries split and split-then-merge
moves judged in nats (``_online_structure``). Points leaving the buffer are merged into a
frozen summary per component, so a component's statistics are always the exact merge of
its summary and its share of the buffer.
"""

from __future__ import annotations

import copy
import math

import numpy as np
from scipy.special import gammaincinv

from . import _online_structure as structure_moves
from ._online_chunks import ChunkUpdates
from ._online_stats import (
    LOG_2PI,
    gaussian_factors,
    merge,
    published_covariances,
    weighted_statistics,
    welford,
)

BUFFER_SIZE = 128
# Points leave a full buffer in blocks of this many, merged into the summaries at once.
EVICT_BLOCK = 32
# Points between sweeps right after a change; the interval doubles while nothing changes.
FIRST_INTERVAL = 5
# Interval of a state built from a finished fit, which is settled.
SETTLED_INTERVAL = 64
# Novel points (beyond the 99.9 % chi-square quantile of every component) that call a sweep
# when they arrive within a window of this many points: the start of a new cluster, not
# the tail of an old one.
NOVEL_POINTS = 3
NOVEL_WINDOW = 20
# A chunk this large (per component) initialises missing components by a short batch fit.
BATCH_INIT_ROWS = 32
COVARIANCE_TYPES = ("full", "tied", "diag", "spherical")
_COVARIANCE_PARAMETERS = {
    "full": lambda D: D * (D + 1) // 2,
    "tied": lambda D: 0,
    "diag": lambda D: D,
    "spherical": lambda D: 1,
}


def chi2_quantile(probability: float, n_features: int) -> float:
    """Quantile of the chi-square distribution with ``n_features`` degrees of freedom."""
    return 2.0 * float(gammaincinv(0.5 * n_features, probability))


class IncrementalEM(ChunkUpdates):
    """Running state of incremental EM (numpy float64, CPU).

    Parameters
    ----------
    n_components : int
        Most components the mixture may have.
    n_features : int
    covariance_type : {'full', 'tied', 'diag', 'spherical'}
    reg_covar : float
        Added to the variances of every published covariance, in squared data units.
    memory : int or None
        Cap on each component's running count; older points fade with a time constant of
        about ``memory`` points.
    random_state : numpy.random.Generator

    Attributes
    ----------
    weights : ndarray of shape (K',)
        Positive, summing to one; ``K' <= n_components`` components exist.
    means : ndarray of shape (K', D)
    covariances : ndarray of shape (K', D, D)
        Full matrices, regularised and reduced for ``covariance_type``, positive definite.
    precisions_cholesky : ndarray of shape (K', D, D)
        Upper-triangular ``U`` with ``U @ U.T`` the inverse of each covariance.
    counts : ndarray of shape (K',)
        Running counts (total responsibilities).
    n_seen : int
        Every point ever passed to :meth:`update`.
    """

    def __init__(
        self,
        n_components: int,
        n_features: int,
        *,
        covariance_type: str,
        reg_covar: float,
        memory: int | None,
        random_state: np.random.Generator,
    ):
        if covariance_type not in COVARIANCE_TYPES:
            raise ValueError(
                f"covariance_type must be one of {COVARIANCE_TYPES}, got {covariance_type!r}."
            )
        if memory is not None and memory < 1:
            raise ValueError(f"memory must be a positive integer or None, got {memory!r}.")
        self.n_components = int(n_components)
        self.n_features = int(n_features)
        self.covariance_type = covariance_type
        self.reg_covar = float(reg_covar)
        self.memory = None if memory is None else int(memory)
        self.random_state = random_state
        D = self.n_features
        self._counts = np.zeros(0)
        self._means = np.zeros((0, D))
        self._covs = np.zeros((0, D, D))
        self._frozen_counts = np.zeros(0)
        self._frozen_means = np.zeros((0, D))
        self._frozen_covs = np.zeros((0, D, D))
        capacity = BUFFER_SIZE + EVICT_BLOCK
        self._buffer_points = np.zeros((capacity, D))
        self._buffer_weights = np.zeros((capacity, self.n_components))
        self._buffer_decay = None if memory is None else np.ones((capacity, self.n_components))
        self._buffer_size = 0
        self.n_seen = 0
        # Per-feature running mean and scatter of every point: the data's scale.
        self._overall_count = 0.0
        self._overall_mean = np.zeros(D)
        self._overall_scatter = np.zeros(D)
        self._fallback_variance = 0.0
        self._interval = FIRST_INTERVAL
        self._next_sweep = FIRST_INTERVAL
        self._novel: list[int] = []  # arrival numbers of the latest novel points
        self._last_sweep = 0
        self._set_constants()
        self._publish()

    def _set_constants(self) -> None:
        D, K = self.n_features, self.n_components
        self._log_2pi_term = 0.5 * D * LOG_2PI
        self._create_distance = chi2_quantile(0.99, D)
        self._novel_distance = chi2_quantile(0.999, D)
        self._prior_count = D + 2.0
        self._prior_shrink = K ** (2.0 / D)
        self._min_support = D + 2.0
        parameters = D + _COVARIANCE_PARAMETERS[self.covariance_type](D) + 1
        self._split_parameters = parameters

    @classmethod
    def from_statistics(
        cls,
        counts,
        means,
        covariances,
        n_seen,
        *,
        n_components,
        covariance_type,
        reg_covar,
        memory,
        random_state,
    ) -> IncrementalEM:
        """A settled state continuing from the statistics of a finished batch fit.

        Parameters
        ----------
        counts : array-like of shape (K,)
        means : array-like of shape (K, D)
        covariances : array-like of shape (K, D, D)
            Full, biased, unregularised covariances about the means (batch EM's last
            E-step).
        n_seen : int
            Points the fit saw.
        n_components, covariance_type, reg_covar, memory, random_state
            As for the constructor.

        Returns
        -------
        IncrementalEM
        """
        counts = np.array(counts, dtype=np.float64).reshape(-1)
        means = np.array(means, dtype=np.float64)
        covs = np.array(covariances, dtype=np.float64)
        K, D = means.shape
        if counts.shape != (K,) or covs.shape != (K, D, D) or K > n_components:
            raise ValueError(
                f"Statistics of inconsistent shapes: counts {counts.shape}, means "
                f"{means.shape}, covariances {covs.shape} for n_components={n_components}."
            )
        if not (np.isfinite(counts).all() and np.isfinite(means).all() and np.isfinite(covs).all()):
            raise ValueError("Statistics contain NaN or infinite values.")
        state = cls(
            n_components,
            D,
            covariance_type=covariance_type,
            reg_covar=reg_covar,
            memory=memory,
            random_state=random_state,
        )
        counts = np.maximum(counts, 0.0)
        if memory is not None:
            counts = np.minimum(counts, float(memory))
        covs = 0.5 * (covs + covs.transpose(0, 2, 1))
        state._counts, state._means, state._covs = counts.copy(), means.copy(), covs.copy()
        state._frozen_counts, state._frozen_means, state._frozen_covs = counts, means, covs
        state.n_seen = int(n_seen)
        total = counts.sum()
        if total > 0:
            mean = counts @ means / total
            variances = np.diagonal(covs, axis1=1, axis2=2) + (means - mean) ** 2
            state._overall_count = float(total)
            state._overall_mean = mean
            state._overall_scatter = counts @ variances
        state._interval = SETTLED_INTERVAL
        state._next_sweep = state.n_seen + SETTLED_INTERVAL
        state._last_sweep = state.n_seen
        state._fallback_variance = state._default_fallback(means[0] if K else np.zeros(D))
        state._publish()
        return state

    # -- public state -----------------------------------------------------------------------

    @property
    def n_active(self) -> int:
        """Number of components that exist now."""
        return self._counts.shape[0]

    def update(self, X: np.ndarray) -> None:
        """Learn one point or a chunk of points.

        A chunk is one E-step with the current parameters and an exact merge of its
        statistics. While components are still missing, a chunk smaller than
        ``BATCH_INIT_ROWS`` points per component is learned point by point (so that far
        points can found components), and a larger one adds the missing components by a
        short batch fit of the chunk.

        Parameters
        ----------
        X : ndarray of shape (n, D) or (D,)
            Finite float64 data with ``D == n_features`` (already validated).
        """
        X = np.asarray(X, dtype=np.float64)
        if X.ndim == 1:
            X = X[None, :]
        n = X.shape[0]
        if n == 0:
            return
        if n == 1:
            self._update_point(X[0])
        elif self.n_active < self.n_components and n < BATCH_INIT_ROWS * self.n_components:
            for x in X:
                self._update_point(x)
        elif self.n_active < self.n_components:
            self._initialise_from_chunk(X)
        else:
            self._update_chunk(X)

    # -- one point --------------------------------------------------------------------------

    def _update_point(self, x: np.ndarray) -> None:
        self.n_seen += 1
        self._observe_point(x)
        if self.n_active == 0:
            self._fallback_variance = self._default_fallback(x)
            self._create(x)
            self._publish()
            return
        y = np.einsum("kij,kj->ki", self._inverse, x - self._means)
        distance = np.einsum("ki,ki->k", y, y)  # [K']
        nearest = distance.min()
        if self.n_active < self.n_components and nearest > self._create_distance:
            self._create(x)
            self._changed()
        else:
            log_prob = self._log_normalizers - 0.5 * distance
            resp = np.exp(log_prob - log_prob.max())
            resp /= resp.sum()
            if nearest > self._novel_distance:
                self._novel = [*self._novel[1 - NOVEL_POINTS :], self.n_seen]
            decay = welford(self._counts, self._means, self._covs, resp, x, cap=self.memory)
            if decay is not None:
                self._decay(decay)
            self._push(x, resp)
        self._publish()
        self._maybe_sweep()

    def _observe_point(self, x: np.ndarray) -> None:
        self._overall_count += 1.0
        delta = x - self._overall_mean
        self._overall_mean = self._overall_mean + delta / self._overall_count
        self._overall_scatter = self._overall_scatter + delta * (x - self._overall_mean)

    def _default_fallback(self, x: np.ndarray) -> float:
        """Variance to assume while the data have no spread yet (one point, or copies)."""
        if self.reg_covar > 0:
            return self.reg_covar
        magnitude = float(np.sqrt(np.mean(x * x)))
        return max((1e-6 * magnitude) ** 2, 1e-100)

    def _create(self, x: np.ndarray) -> None:
        D = self.n_features
        self._counts = np.append(self._counts, 1.0)
        self._means = np.concatenate([self._means, x[None, :]])
        self._covs = np.concatenate([self._covs, np.zeros((1, D, D))])
        self._frozen_counts = np.append(self._frozen_counts, 0.0)
        self._frozen_means = np.concatenate([self._frozen_means, x[None, :]])
        self._frozen_covs = np.concatenate([self._frozen_covs, np.zeros((1, D, D))])
        weights = np.zeros(self.n_active)
        weights[-1] = 1.0
        self._push(x, weights)

    def _push(self, x: np.ndarray, weights: np.ndarray) -> None:
        """Append a point to the buffer, first emptying the oldest block of a full one.

        The points leaving are merged into the frozen summaries: totals do not change.
        """
        K = weights.shape[0]
        if self._buffer_size == self._buffer_points.shape[0]:
            self._evict()
        row = self._buffer_size
        self._buffer_size += 1
        self._buffer_points[row] = x
        self._buffer_weights[row, :K] = weights
        self._buffer_weights[row, K:] = 0.0
        if self._buffer_decay is not None:
            self._buffer_decay[row] = 1.0

    def _evict(self) -> None:
        K, old = self.n_active, slice(0, EVICT_BLOCK)
        leaving = weighted_statistics(
            self._buffer_points[old], self._buffer_weights[old, :K], self._frozen_means
        )
        self._frozen_counts, self._frozen_means, self._frozen_covs = merge(
            self._frozen_counts, self._frozen_means, self._frozen_covs, *leaving
        )
        for array in (self._buffer_points, self._buffer_weights, self._buffer_decay):
            if array is not None:
                array[:-EVICT_BLOCK] = array[EVICT_BLOCK:].copy()
        self._buffer_size -= EVICT_BLOCK

    def _decay(self, decay: np.ndarray) -> None:
        """Scale every older weight of each component by ``decay`` (K',): forgetting."""
        K, rows = decay.shape[0], self._buffer_size
        self._frozen_counts *= decay
        self._buffer_weights[:rows, :K] *= decay
        self._buffer_decay[:rows, :K] *= decay

    # -- parameters -------------------------------------------------------------------------

    def _prior(self) -> np.ndarray:
        """Variances (D,) of a pseudo-point: the data's per-feature variance / K^(2/D)."""
        variances = self._overall_scatter / max(self._overall_count, 1.0)
        top = float(variances.max(initial=0.0))
        if not top > 0:
            variances = np.full(self.n_features, self._fallback_variance)
        else:
            variances = np.maximum(variances, 1e-6 * top)
        return variances / self._prior_shrink

    def _parameters(self, counts, means, covs, prior):
        """(log-weights, means, inverse Cholesky factors, log-determinants) from statistics."""
        published = published_covariances(
            counts, covs, prior, self._prior_count, self.covariance_type, self.reg_covar
        )
        inverse, log_det = gaussian_factors(published)
        total = counts.sum()
        weights = np.maximum(counts, 1e-12 * total) if total > 0 else np.ones_like(counts)
        return np.log(weights / weights.sum()), means, inverse, log_det

    def _publisher(self):
        prior = self._prior()

        def publish(counts, means, covs):
            log_weights, _, inverse, log_det = self._parameters(counts, means, covs, prior)
            return log_weights, inverse, log_det

        return publish

    def _publish(self) -> None:
        """Recompute the published parameters from the running statistics."""
        if self.n_active == 0:
            D = self.n_features
            self.weights, self.means, self.counts = np.zeros(0), np.zeros((0, D)), np.zeros(0)
            self.covariances = self.precisions_cholesky = np.zeros((0, D, D))
            self._inverse, self._log_det = np.zeros((0, D, D)), np.zeros(0)
            self._log_weights = self._log_normalizers = np.zeros(0)
            return
        prior = self._prior()
        published = published_covariances(
            self._counts,
            self._covs,
            prior,
            self._prior_count,
            self.covariance_type,
            self.reg_covar,
        )
        self._inverse, self._log_det = gaussian_factors(published)
        total = self._counts.sum()
        weights = np.maximum(self._counts, 1e-12 * total)
        weights = weights / weights.sum()
        self._log_weights = np.log(weights)
        self._log_normalizers = self._log_weights - self._log_2pi_term - 0.5 * self._log_det
        self.weights = weights
        self.means = self._means.copy()
        self.covariances = published
        self.precisions_cholesky = self._inverse.transpose(0, 2, 1)
        self.counts = self._counts.copy()

    # -- structural sweeps ------------------------------------------------------------------

    def _changed(self) -> None:
        self._interval = FIRST_INTERVAL
        self._next_sweep = self.n_seen + FIRST_INTERVAL

    def _maybe_sweep(self) -> None:
        due = self.n_seen >= self._next_sweep
        novel = (
            len(self._novel) == NOVEL_POINTS
            and self._novel[-1] - self._novel[0] < NOVEL_WINDOW
            and self.n_seen - self._last_sweep >= FIRST_INTERVAL
        )
        if due or novel:
            self._sweep(novel=novel and not due)

    def _structure(self) -> structure_moves.Structure:
        rows, K = self._buffer_size, self.n_active
        decay = None if self._buffer_decay is None else self._buffer_decay[:rows, :K].copy()
        return structure_moves.Structure(
            self._frozen_counts.copy(),
            self._frozen_means.copy(),
            self._frozen_covs.copy(),
            self._buffer_points[:rows].copy(),
            self._buffer_weights[:rows, :K].copy(),
            decay,
        )

    def _sweep(self, novel: bool = False) -> None:
        """Refine the buffer and try a structural move; reschedule.

        The interval doubles while nothing changes; a sweep called by novel points
        restarts it, so that a new cluster gets looked at again soon.
        """
        penalty = (
            0.5 * self._split_parameters * math.log(max(self._overall_count, 2.0))
            + structure_moves.SPLIT_MARGIN
        )
        try:
            with np.errstate(invalid="raise"):
                result, changed = structure_moves.sweep(
                    self._structure(),
                    self._publisher(),
                    self.n_components,
                    penalty,
                    self._min_support,
                )
        except (FloatingPointError, np.linalg.LinAlgError):
            result, changed = None, False
        self._novel = []
        self._last_sweep = self.n_seen
        if changed:
            self._interval = FIRST_INTERVAL
        elif novel:
            self._interval = FIRST_INTERVAL
        else:
            self._interval = 2 * self._interval
        self._next_sweep = self.n_seen + self._interval
        if result is not None:
            self._install(result)
        self._publish()

    def _install(self, structure: structure_moves.Structure) -> None:
        rows, K = self._buffer_size, structure.n_components
        counts, means, covs = structure_moves.statistics(structure)
        if not (np.isfinite(covs).all() and np.isfinite(means).all() and (counts > 0).all()):
            return
        self._frozen_counts = structure.frozen_counts
        self._frozen_means = structure.frozen_means
        self._frozen_covs = structure.frozen_covs
        self._buffer_weights[:rows] = 0.0
        self._buffer_weights[:rows, :K] = structure.weights
        if structure.decay is not None:
            self._buffer_decay[:rows] = 1.0
            self._buffer_decay[:rows, :K] = structure.decay
        self._counts, self._means, self._covs = counts, means, covs

    # -- copying and saving -----------------------------------------------------------------

    def __deepcopy__(self, memo) -> IncrementalEM:
        state = object.__new__(type(self))
        for name, value in self.__dict__.items():
            if isinstance(value, np.ndarray):
                value = value.copy()
            elif isinstance(value, np.random.Generator):
                value = copy.deepcopy(value, memo)
            state.__dict__[name] = value
        return state

    def to_dict(self) -> dict:
        """Every running statistic as a JSON-safe dictionary (lists, floats, ints).

        Returns
        -------
        dict
            :meth:`from_dict` rebuilds exactly this state from it.
        """
        from ._online_serialization import dump_state

        return dump_state(self)

    @classmethod
    def from_dict(cls, d: dict) -> IncrementalEM:
        """Rebuild a state saved by :meth:`to_dict`.

        Parameters
        ----------
        d : dict

        Returns
        -------
        IncrementalEM

        Raises
        ------
        ValueError
            If a key is missing, an array has the wrong shape, or a number is not finite.
        """
        from ._online_serialization import load_state

        return load_state(cls, d)
