"""The running state of incremental EM, as explicit objects that other modules are given.

:class:`Settings` holds the options and the constants derived from them; :class:`DataScale`
the data's own units; :class:`OnlineState` the statistics of every component (running,
and frozen for the points that have left the buffer), the buffer, the data scale and the
sweep schedule. The engine, the chunk updates and the loader all work on an
``OnlineState``; none of them reaches into another's private attributes.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
from scipy.special import gammaincinv

from ..covariance_types import n_parameters
from ..parts.covariance import COVARIANCE_TYPES
from .buffer import RecentPoints
from .gaussian import Gaussians, gaussians
from .schedule import SweepSchedule
from .statistics import Statistics, combined_statistics, merge, weighted_statistics
from .structure import Structure


def chi2_quantile(probability: float, n_features: int) -> float:
    """Quantile of the chi-square distribution with ``n_features`` degrees of freedom."""
    return 2.0 * float(gammaincinv(0.5 * n_features, probability))


@dataclass(frozen=True)
class Settings:
    """Options of incremental EM and the constants that follow from them.

    The options are the parameters of :class:`gmm_core.online.IncrementalEM` (less its
    random generator), checked here.
    """

    n_components: int
    n_features: int
    covariance_type: str
    reg_covar: float
    memory: int | None

    def __post_init__(self):
        if self.covariance_type not in COVARIANCE_TYPES:
            raise ValueError(
                f"covariance_type must be one of {tuple(COVARIANCE_TYPES)}, "
                f"got {self.covariance_type!r}."
            )
        if self.memory is not None and self.memory < 1:
            raise ValueError(f"memory must be a positive integer or None, got {self.memory!r}.")

    @cached_property
    def create_distance(self) -> float:
        """Squared Mahalanobis distance beyond which a point founds a new component."""
        return chi2_quantile(0.99, self.n_features)

    @cached_property
    def novel_distance(self) -> float:
        """Squared Mahalanobis distance beyond which a point counts as novel."""
        return chi2_quantile(0.999, self.n_features)

    @cached_property
    def prior_count(self) -> float:
        """Pseudo-points that complete a small component."""
        return self.n_features + 2.0

    @cached_property
    def prior_shrink(self) -> float:
        """``K^(2/D)``: the data's variance over this is a pseudo-point's variance."""
        return self.n_components ** (2.0 / self.n_features)

    @cached_property
    def min_support(self) -> float:
        """Least total weight of each half of a split."""
        return self.n_features + 2.0

    @cached_property
    def split_parameters(self) -> int:
        """Free parameters that one more component adds (mean, covariance, weight)."""
        kind, D = self.covariance_type, self.n_features
        return n_parameters(kind, 2, D) - n_parameters(kind, 1, D)


@dataclass
class DataScale:
    """Per-feature running mean and scatter of every point seen: the data's own units.

    Attributes
    ----------
    count : float
    mean : ndarray of shape (D,)
    scatter : ndarray of shape (D,)
        Sum of squared deviations from ``mean``.
    fallback_variance : float
        Variance to assume while the data have no spread yet (one point, or copies).
    """

    count: float
    mean: np.ndarray
    scatter: np.ndarray
    fallback_variance: float = 0.0

    @classmethod
    def empty(cls, n_features: int) -> DataScale:
        """The scale of no data."""
        return cls(0.0, np.zeros(n_features), np.zeros(n_features))

    @classmethod
    def of_statistics(cls, statistics: Statistics) -> DataScale:
        """The scale of all the points that per-component statistics summarise."""
        counts, means, covs = statistics
        total = counts.sum()
        if not total > 0:
            return cls.empty(means.shape[1])
        mean = counts @ means / total
        variances = np.diagonal(covs, axis1=1, axis2=2) + (means - mean) ** 2
        return cls(float(total), mean, counts @ variances)

    def observe_point(self, x) -> None:
        """Add one point (D,)."""
        self.count += 1.0
        delta = x - self.mean
        self.mean = self.mean + delta / self.count
        self.scatter = self.scatter + delta * (x - self.mean)

    def observe_chunk(self, X) -> None:
        """Add a chunk of points (n, D)."""
        n = float(X.shape[0])
        mean = X.mean(0)
        scatter = ((X - mean) ** 2).sum(0)
        total = self.count + n
        delta = mean - self.mean
        self.scatter = self.scatter + scatter + delta**2 * self.count * n / total
        self.mean = self.mean + delta * n / total
        self.count = total

    def set_fallback(self, x, reg_covar: float) -> None:
        """Choose the variance of spread-less data from a point (D,) of it."""
        if reg_covar > 0:
            self.fallback_variance = reg_covar
        else:
            magnitude = float(np.sqrt(np.mean(x * x)))
            self.fallback_variance = max((1e-6 * magnitude) ** 2, 1e-100)

    def variances(self) -> np.ndarray:
        """Per-feature variance (D,) of the points seen."""
        return self.scatter / max(self.count, 1.0)

    def prior(self, shrink: float) -> np.ndarray:
        """Variances (D,) of a pseudo-point: per-feature variance / ``shrink``, floored."""
        variances = self.variances()
        top = float(variances.max(initial=0.0))
        if not top > 0:
            variances = np.full(variances.shape[0], self.fallback_variance)
        else:
            variances = np.maximum(variances, 1e-6 * top)
        return variances / shrink


@dataclass
class OnlineState:
    """Everything incremental EM knows about the points it has seen.

    Attributes
    ----------
    settings : Settings
    running : Statistics
        Each component's statistics: the exact merge of ``frozen`` and its buffer share.
    frozen : Statistics
        Summaries of the points that have left the buffer.
    buffer : RecentPoints
    scale : DataScale
    schedule : SweepSchedule
    n_seen : int
        Every point ever learned.
    """

    settings: Settings
    running: Statistics
    frozen: Statistics
    buffer: RecentPoints
    scale: DataScale
    schedule: SweepSchedule
    n_seen: int = 0

    @classmethod
    def empty(cls, settings: Settings) -> OnlineState:
        """The state before any point."""
        D = settings.n_features
        buffer = RecentPoints(D, settings.n_components, settings.memory is not None)
        empty = Statistics.empty(D)
        return cls(settings, empty, empty.copy(), buffer, DataScale.empty(D), SweepSchedule())

    @classmethod
    def continuing(cls, settings: Settings, statistics: Statistics, n_seen: int) -> OnlineState:
        """A settled state whose summaries are ``statistics`` of ``n_seen`` points."""
        D = settings.n_features
        scale = DataScale.of_statistics(statistics)
        K = statistics.counts.shape[0]
        scale.set_fallback(statistics.means[0] if K else np.zeros(D), settings.reg_covar)
        buffer = RecentPoints(D, settings.n_components, settings.memory is not None)
        schedule = SweepSchedule.settled(n_seen)
        return cls(settings, statistics.copy(), statistics, buffer, scale, schedule, n_seen)

    @property
    def n_active(self) -> int:
        """Number of components that exist now."""
        return self.running.counts.shape[0]

    def create(self, x) -> None:
        """A new component founded by point ``x`` (D,)."""
        D = self.settings.n_features
        self.running = self.running.append(np.ones(1), x[None, :], np.zeros((1, D, D)))
        self.frozen = self.frozen.append(np.zeros(1), x[None, :], np.zeros((1, D, D)))
        weights = np.zeros(self.n_active)
        weights[-1] = 1.0
        self.push(x, weights)

    def push(self, x, weights) -> None:
        """Buffer a point; the block of points that leaves is merged into the summaries."""
        leaving = self.buffer.push(x, weights)
        if leaving is not None:
            stats = weighted_statistics(*leaving, self.frozen.means)
            self.frozen = merge(*self.frozen, *stats)

    def forget(self, decay) -> None:
        """Scale every older weight of each component by ``decay`` (K,)."""
        self.frozen.counts[:] *= decay
        self.buffer.forget(decay)

    def gaussians(self, statistics: Statistics, prior=None) -> Gaussians:
        """The Gaussians that ``statistics`` publish (``prior``: the current data scale's)."""
        s = self.settings
        prior = self.scale.prior(s.prior_shrink) if prior is None else prior
        return gaussians(*statistics, prior, s.prior_count, s.covariance_type, s.reg_covar)

    def publisher(self):
        """(counts, means, covs) -> (log-weights, inverse Cholesky, log-det), for sweeps."""
        prior = self.scale.prior(self.settings.prior_shrink)

        def publish(counts, means, covs):
            return self.gaussians(Statistics(counts, means, covs), prior).factors

        return publish

    def structure(self) -> Structure:
        """A copy of the summaries and the buffer, the material of a sweep."""
        K = self.n_active
        decay = self.buffer.decay(K)
        return Structure(
            self.frozen.copy(),
            self.buffer.points.copy(),
            self.buffer.weights(K).copy(),
            None if decay is None else decay.copy(),
        )

    def install(self, structure: Structure) -> None:
        """Take the summaries and buffer weights of a sweep's result, if it is sound."""
        running = combined_statistics(structure.frozen, structure.points, structure.weights)
        counts, means, covs = running
        if not (np.isfinite(covs).all() and np.isfinite(means).all() and (counts > 0).all()):
            return
        self.frozen = structure.frozen
        self.buffer.replace(structure.weights, structure.decay)
        self.running = running
