"""Chunks for incremental EM: one E-step per chunk and an exact merge of its statistics.

A mixin of ``IncrementalEM``: it reads and writes the running state (counts, means,
covariances, frozen summaries, buffer) that ``_online`` defines. Small chunks go through
the buffer like single points; large ones are summarised at once, single-threaded (a numpy
closed form in two dimensions, cache-sized numpy blocks otherwise). A large chunk that
arrives while components are missing initialises them by a short batch fit.
"""

from __future__ import annotations

import math

import numpy as np

from ._online_stats import (
    expectation_statistics_2d,
    expectation_statistics_blocks,
    log_gaussian,
    log_softmax_rows,
    merge,
    weighted_statistics,
)

# Chunks up to this size go through the buffer; larger ones are summarised at once.
BUFFER_CHUNK = 64
BATCH_INIT_ITERATIONS = 30
BATCH_INIT_TOL = 1e-4
BATCH_INIT_TRIES = 3


class ChunkUpdates:
    """Chunk updates of ``IncrementalEM`` (see that class for the state they use)."""

    def _observe_chunk(self, X: np.ndarray) -> None:
        n = float(X.shape[0])
        mean = X.mean(0)
        scatter = ((X - mean) ** 2).sum(0)
        total = self._overall_count + n
        delta = mean - self._overall_mean
        self._overall_scatter = (
            self._overall_scatter + scatter + delta**2 * self._overall_count * n / total
        )
        self._overall_mean = self._overall_mean + delta * n / total
        self._overall_count = total

    def _chunk_statistics(self, X: np.ndarray, log_weights, means, inverse, log_det):
        """E-step statistics of a chunk: counts, means, covs and the summed log-likelihood.

        Single-threaded numpy in cache-sized blocks (a closed form in two dimensions):
        on a small shared machine, torch's threads only contend.
        """
        if X.shape[1] == 2:
            return expectation_statistics_2d(X, log_weights, means, inverse, log_det)
        return expectation_statistics_blocks(X, log_weights, means, inverse, log_det)

    @staticmethod
    def _responsibilities(X, log_weights, means, inverse, log_det):
        log_prob = log_gaussian(X, means, inverse, log_det) + log_weights
        return np.exp(log_softmax_rows(log_prob)[0])

    def _cap_chunk(self, chunk_counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """With ``memory``: the chunk's counts and the decay of older weights under the cap."""
        cap = float(self.memory)
        scaled = np.minimum(chunk_counts, cap)
        capped = np.minimum(self._counts + scaled, cap)
        decay = np.divide(
            capped - scaled, self._counts, out=np.ones_like(capped), where=self._counts > 0
        )
        return scaled, np.minimum(decay, 1.0)

    def _update_chunk(self, X: np.ndarray) -> None:
        n = X.shape[0]
        self.n_seen += n
        self._observe_chunk(X)
        params = (self._log_weights, self._means, self._inverse, self._log_det)
        if n <= BUFFER_CHUNK:
            resp = self._responsibilities(X, *params)
            chunk = weighted_statistics(X, resp, self._means)
        else:
            resp = None
            chunk = self._chunk_statistics(X, *params)[:3]
        counts, means, covs = chunk
        if self.memory is not None:
            counts, decay = self._cap_chunk(counts)
            if resp is not None:
                resp = resp * np.divide(
                    counts, chunk[0], out=np.zeros_like(counts), where=chunk[0] > 0
                )
            self._decay(decay)
            self._counts = self._counts * decay
        self._counts, self._means, self._covs = merge(
            self._counts, self._means, self._covs, counts, means, covs
        )
        if resp is None:
            self._frozen_counts, self._frozen_means, self._frozen_covs = merge(
                self._frozen_counts, self._frozen_means, self._frozen_covs, counts, means, covs
            )
        else:
            for x, weights in zip(X, resp, strict=True):
                self._push(x, weights)
        self._publish()
        if resp is not None:
            self._maybe_sweep()
        else:
            self._next_sweep = max(self._next_sweep, self.n_seen + self._interval)

    def _initialise_from_chunk(self, X: np.ndarray) -> None:
        """Add the missing components by a short batch fit of a large chunk.

        The existing components' statistics stay fixed and take part in every M-step;
        the new components start at k-means++ seeds of the chunk.
        """
        n, D = X.shape
        self.n_seen += n
        self._observe_chunk(X)
        if self.n_active == 0:
            self._fallback_variance = self._default_fallback(X.mean(0))
        old = self.n_active
        best = None
        for _ in range(BATCH_INIT_TRIES):
            seeds = self._seeds(X, self.n_components - old)
            result = self._fit_chunk(X, seeds)
            if best is None or result[0] > best[0]:
                best = result
        _, chunk = best
        K = chunk[0].shape[0]
        base_counts = np.concatenate([self._counts, np.zeros(K - old)])
        base_means = np.concatenate([self._means, chunk[1][old:]])
        base_covs = np.concatenate([self._covs, np.zeros((K - old, D, D))])
        counts, means, covs = chunk
        if self.memory is not None:
            counts = np.minimum(counts, float(self.memory))
        alive = np.concatenate([np.ones(old, dtype=bool), counts[old:] > 0])
        pad = K - old
        frozen = merge(
            np.concatenate([self._frozen_counts, np.zeros(pad)]),
            np.concatenate([self._frozen_means, means[old:]]),
            np.concatenate([self._frozen_covs, np.zeros((pad, D, D))]),
            counts,
            means,
            covs,
        )
        running = merge(base_counts, base_means, base_covs, counts, means, covs)
        self._frozen_counts, self._frozen_means, self._frozen_covs = (a[alive] for a in frozen)
        self._counts, self._means, self._covs = (a[alive] for a in running)
        self._changed()
        self._publish()

    def _fit_chunk(self, X: np.ndarray, seeds: np.ndarray):
        """Short EM on a chunk with new components at ``seeds``; old statistics fixed.

        Returns
        -------
        log_likelihood : float
            Mean log-likelihood per point of the chunk at the last E-step.
        chunk : tuple of ndarrays
            The chunk's statistics (counts (K,), means (K, D), covs (K, D, D)).
        """
        n, D = X.shape
        old = self.n_active
        K = old + seeds.shape[0]
        base_counts = np.concatenate([self._counts, np.zeros(K - old)])
        base_means = np.concatenate([self._means, seeds])
        base_covs = np.concatenate([self._covs, np.zeros((K - old, D, D))])
        prior = self._prior()
        start_covs = base_covs.copy()
        start_covs[old:] = np.diag(prior)
        start_counts = base_counts.copy()
        start_counts[old:] = max(n / K, self._prior_count)
        params = self._parameters(start_counts, base_means, start_covs, prior)
        previous = -np.inf
        for _ in range(BATCH_INIT_ITERATIONS):
            *chunk, log_likelihood = self._chunk_statistics(X, *params)
            log_likelihood /= n
            total = merge(base_counts, base_means, base_covs, *chunk)
            params = self._parameters(*total, prior)
            if abs(log_likelihood - previous) < BATCH_INIT_TOL:
                break
            previous = log_likelihood
        return log_likelihood, tuple(chunk)

    def _seeds(self, X: np.ndarray, n_seeds: int) -> np.ndarray:
        """k-means++ seeds, in standardised coordinates, away from the existing means."""
        rng = self.random_state
        rows = X if X.shape[0] <= 4096 else X[rng.choice(X.shape[0], 4096, replace=False)]
        scale = np.sqrt(self._overall_scatter / max(self._overall_count, 1.0))
        scale = np.where(scale > 0, scale, 1.0)
        points = rows / scale
        chosen = []
        if self.n_active:
            centres = self._means / scale
            nearest = ((points[:, None, :] - centres[None]) ** 2).sum(-1).min(1)
        else:
            first = points[rng.integers(points.shape[0])]
            chosen.append(first)
            nearest = ((points - first) ** 2).sum(1)
        n_trials = 2 + int(math.log(max(n_seeds, 1)))
        while len(chosen) < n_seeds and nearest.sum() > 0:
            candidates = rng.choice(points.shape[0], n_trials, p=nearest / nearest.sum())
            distances = ((points[None, :, :] - points[candidates][:, None, :]) ** 2).sum(-1)
            after = np.minimum(nearest[None, :], distances)
            best = int(np.argmin(after.sum(1)))
            chosen.append(points[candidates[best]])
            nearest = after[best]
        return np.array(chosen).reshape(-1, X.shape[1]) * scale
