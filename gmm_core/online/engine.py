"""Incremental EM: the running state behind ``GaussianMixture.partial_fit``.

One point is an E-step with the current parameters followed by the exact weighted Welford
step of every component (:func:`.statistics.welford`); a chunk is an E-step on the chunk
followed by the exact merge of its weighted statistics (:mod:`.chunks`). From nothing,
components appear at points far from all existing ones (a chi-square test on the
Mahalanobis distance), and the most recent points stay in a bounded buffer whose
responsibilities can still be revised: on an adaptive schedule (:mod:`.schedule`) a sweep
runs EM on the buffer and tries split and split-then-merge moves judged in nats
(:mod:`.structure`). Points leaving the buffer are merged into a frozen summary per
component, so a component's statistics are always the exact merge of its summary and its
share of the buffer.
"""

from __future__ import annotations

import math

import numpy as np

from . import chunks, serialization
from . import structure as structure_moves
from .gaussian import Gaussians, Held, log_gaussian
from .state import OnlineState, Settings
from .statistics import Statistics, welford


class IncrementalEM:
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
        settings = Settings(
            int(n_components),
            int(n_features),
            covariance_type,
            float(reg_covar),
            None if memory is None else int(memory),
        )
        self._start(OnlineState.empty(settings), random_state)

    def _start(self, state: OnlineState, random_state: np.random.Generator) -> None:
        self._state = state
        self.random_state = random_state
        self._held = None
        self._publish()

    @classmethod
    def _of_state(cls, state: OnlineState, random_state) -> IncrementalEM:
        engine = cls.__new__(cls)
        engine._start(state, random_state)
        return engine

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
        settings = Settings(int(n_components), D, covariance_type, float(reg_covar), memory)
        counts = np.maximum(counts, 0.0)
        if memory is not None:
            counts = np.minimum(counts, float(memory))
        statistics = Statistics(counts, means, 0.5 * (covs + covs.transpose(0, 2, 1)))
        state = OnlineState.continuing(settings, statistics, int(n_seen))
        return cls._of_state(state, random_state)

    # -- public state -----------------------------------------------------------------------

    @property
    def n_components(self) -> int:
        """Most components the mixture may have."""
        return self._state.settings.n_components

    @property
    def n_features(self) -> int:
        """Number of features."""
        return self._state.settings.n_features

    @property
    def covariance_type(self) -> str:
        """One of 'full', 'tied', 'diag', 'spherical'."""
        return self._state.settings.covariance_type

    @property
    def reg_covar(self) -> float:
        """Added to the variances of every published covariance."""
        return self._state.settings.reg_covar

    @property
    def memory(self) -> int | None:
        """Cap on each component's running count, or None."""
        return self._state.settings.memory

    @property
    def weights(self) -> np.ndarray:
        """Mixture weights (K',)."""
        return self._gaussians.weights

    @property
    def means(self) -> np.ndarray:
        """Component means (K', D)."""
        return self._gaussians.means

    @property
    def covariances(self) -> np.ndarray:
        """Published covariances (K', D, D)."""
        return self._gaussians.covariances

    @property
    def precisions_cholesky(self) -> np.ndarray:
        """Upper precision factors (K', D, D)."""
        return self._gaussians.inverse_cholesky.transpose(0, 2, 1)

    @property
    def counts(self) -> np.ndarray:
        """Running counts (K',), a copy."""
        return self._state.running.counts.copy()

    @property
    def n_seen(self) -> int:
        """Every point ever passed to :meth:`update`."""
        return self._state.n_seen

    @property
    def n_active(self) -> int:
        """Number of components that exist now."""
        return self._state.n_active

    def hold(self, held: Held | None) -> None:
        """Hold some components' means and covariances at given values (None: hold none).

        The held components keep learning their statistics (so their weights adapt), but
        publish ``held``'s means, covariances and precision factors exactly, and the
        E-steps use those. Structural sweeps (buffer EM, splits and merges) stop while
        components are held. The engine must have all its components; ``held`` is not
        saved by :meth:`to_dict` (the model holds it again after loading).

        Parameters
        ----------
        held : Held or None
        """
        if held is self._held:
            return
        if held is not None and self.n_active < self.n_components:
            raise ValueError(
                "frozen_components needs every one of n_components components: fit the "
                "model first (or give means_init and a covariance start to an unfitted one)."
            )
        self._held = held
        self._publish()

    def update_weighted(self, X: np.ndarray, weights: np.ndarray) -> None:
        """Learn a chunk (n, D) whose rows count ``weights`` (n,) times (all positive).

        Every component must be present (the weighted chunk is one E-step and an exact
        merge of its weighted statistics, as a large chunk is).
        """
        if self.n_active < self.n_components:
            raise ValueError(
                "Fractional sample_weight needs a model with all its components (fit it "
                "first, or give integer weights, which are learned as repeated rows)."
            )
        chunks.update_chunk(self._state, np.asarray(X, dtype=np.float64), self._gaussians, weights)
        self._publish()

    def update(self, X: np.ndarray) -> None:
        """Learn one point or a chunk of points.

        A chunk is one E-step with the current parameters and an exact merge of its
        statistics. While components are still missing, a chunk smaller than
        ``chunks.BATCH_INIT_ROWS`` points per component is learned point by point (so
        that far points can found components), and a larger one adds the missing
        components by a short batch fit of the chunk.

        Parameters
        ----------
        X : ndarray of shape (n, D) or (D,)
            Finite float64 data with ``D == n_features`` (already validated).
        """
        X = np.asarray(X, dtype=np.float64)
        if X.ndim == 1:
            X = X[None, :]
        n = X.shape[0]
        if n == 1:
            self._update_point(X[0])
            return
        missing = self.n_active < self.n_components
        if n == 0:
            return
        if missing and n < chunks.BATCH_INIT_ROWS * self.n_components:
            for x in X:
                self._update_point(x)
        elif missing:
            chunks.initialise_from_chunk(self._state, X, self._gaussians, self.random_state)
            self._publish()
        else:
            buffered = chunks.update_chunk(self._state, X, self._gaussians)
            self._publish()
            if buffered:
                self._maybe_sweep()

    # -- one point --------------------------------------------------------------------------

    def _update_point(self, x: np.ndarray) -> None:
        state = self._state
        settings, n_active = state.settings, state.n_active
        state.n_seen += 1
        state.scale.observe_point(x)
        if n_active == 0:
            state.scale.set_fallback(x, settings.reg_covar)
            state.create(x)
            self._publish()
            return
        g = self._gaussians
        diff = (x - g.means)[:, :, None]  # [K', D, 1]
        log_density, distance = log_gaussian(
            diff, g.inverse_cholesky, g.log_normalizers(), return_distance=True
        )
        nearest = distance.min()
        if n_active < settings.n_components and nearest > settings.create_distance:
            state.create(x)
            state.schedule.restart(state.n_seen)
        else:
            log_prob = log_density[:, 0]  # [K']
            resp = np.exp(log_prob - log_prob.max())
            resp /= resp.sum()
            if nearest > settings.novel_distance:
                state.schedule.note_novel(state.n_seen)
            decay = welford(state.running, resp, x, cap=settings.memory)
            if decay is not None:
                state.forget(decay)
            state.push(x, resp)
        self._publish()
        self._maybe_sweep()

    # -- parameters -------------------------------------------------------------------------

    def _publish(self) -> None:
        """Recompute the published parameters from the running statistics."""
        state = self._state
        if state.n_active == 0:
            g = Gaussians.empty(state.settings.n_features)
        else:
            counts, means, covs = state.running
            g = state.gaussians(Statistics(counts, means.copy(), covs))  # means change in place
            if self._held is not None:
                g = self._held.hold(g)
        self._gaussians = g

    # -- structural sweeps ------------------------------------------------------------------

    def _maybe_sweep(self) -> None:
        if self._held is not None:  # a sweep's moves would not know the held components
            return
        run, novel = self._state.schedule.due(self._state.n_seen)
        if run:
            self._sweep(novel)

    def _sweep(self, novel: bool) -> None:
        """Refine the buffer and try a structural move; reschedule.

        The interval doubles while nothing changes; a sweep called by novel points
        restarts it, so that a new cluster gets looked at again soon.
        """
        state, settings = self._state, self._state.settings
        penalty = (
            0.5 * settings.split_parameters * math.log(max(state.scale.count, 2.0))
            + structure_moves.SPLIT_MARGIN
        )
        try:
            with np.errstate(invalid="raise"):
                result, changed = structure_moves.sweep(
                    state.structure(),
                    state.publisher(),
                    settings.n_components,
                    penalty,
                    settings.min_support,
                )
        except (FloatingPointError, np.linalg.LinAlgError, ValueError):  # a singular move
            result, changed = None, False
        state.schedule.swept(state.n_seen, changed, novel)
        if result is not None:
            state.install(result)
        self._publish()

    # -- saving -----------------------------------------------------------------------------

    def to_dict(self) -> dict:
        """Every running statistic as a JSON-safe dictionary (lists, floats, ints).

        Returns
        -------
        dict
            :meth:`from_dict` rebuilds exactly this state from it.
        """
        return serialization.dump(self._state, self.random_state)

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
        return cls._of_state(*serialization.load(d))
