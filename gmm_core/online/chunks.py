"""Chunks for incremental EM: one E-step per chunk and an exact merge of its statistics.

Every function here works on an :class:`~.state.OnlineState` it is given. Small chunks go
through the buffer like single points; large ones are summarised at once (see
:mod:`.expectation`). A large chunk that arrives while components are missing initialises
them by a short batch fit from k-means++ seeds (``gmm_core.parts.kmeans.kmeans_plusplus``).
"""

from __future__ import annotations

import numpy as np
import torch

from ..parts.kmeans import kmeans_plusplus
from .expectation import expectation_statistics, responsibilities
from .gaussian import Gaussians, differences, log_gaussian
from .state import OnlineState
from .statistics import Statistics, merge, weighted_statistics

# Chunks up to this size go through the buffer; larger ones are summarised at once.
BUFFER_CHUNK = 64
# A chunk this large (per component) initialises missing components by a short batch fit.
BATCH_INIT_ROWS = 32
BATCH_INIT_ITERATIONS = 30
BATCH_INIT_TOL = 1e-4
BATCH_INIT_TRIES = 3
# Rows of a chunk that k-means++ seeds are drawn from.
SEED_ROWS = 4096


def cap_chunk(counts, chunk_counts, memory: int):
    """With ``memory``: the chunk's counts and the decay of older weights under the cap.

    Parameters
    ----------
    counts : ndarray of shape (K,)
        Running counts before the chunk.
    chunk_counts : ndarray of shape (K,)
    memory : int

    Returns
    -------
    scaled : ndarray of shape (K,)
        The chunk's counts, each at most ``memory``.
    decay : ndarray of shape (K,)
        Factor on each component's older weight, so that no count exceeds ``memory``.
    """
    cap = float(memory)
    scaled = np.minimum(chunk_counts, cap)
    capped = np.minimum(counts + scaled, cap)
    decay = np.divide(capped - scaled, counts, out=np.ones_like(capped), where=counts > 0)
    return scaled, np.minimum(decay, 1.0)


def update_chunk(state: OnlineState, X, gaussians: Gaussians, weights=None) -> bool:
    """Learn a chunk (n, D) with every component present: E-step, then exact merge.

    Parameters
    ----------
    state : OnlineState
        Changed in place.
    X : ndarray of shape (n, D)
    gaussians : Gaussians
        The parameters published from ``state``.
    weights : ndarray of shape (n,), optional
        Positive row weights; a weighted chunk is always summarised at once (the buffer
        holds unweighted points).

    Returns
    -------
    buffered : bool
        Whether the chunk went through the buffer (so a sweep may be due).
    """
    n = X.shape[0]
    state.n_seen += n
    state.scale.observe_chunk(X)
    if n <= BUFFER_CHUNK and weights is None:
        resp = responsibilities(X, gaussians)  # [n, K]
        chunk = weighted_statistics(X, resp, state.running.means)
    else:
        resp = None
        chunk, _ = expectation_statistics(X, gaussians, weights)
    counts, means, covs = chunk
    memory = state.settings.memory
    if memory is not None:
        counts, decay = cap_chunk(state.running.counts, counts, memory)
        if resp is not None:
            resp = resp * np.divide(
                counts, chunk.counts, out=np.zeros_like(counts), where=chunk.counts > 0
            )
        state.forget(decay)
        state.running = state.running._replace(counts=state.running.counts * decay)
    state.running = merge(*state.running, counts, means, covs)
    if resp is None:
        state.frozen = merge(*state.frozen, counts, means, covs)
        state.schedule.postpone(state.n_seen)
        return False
    for x, weights in zip(X, resp, strict=True):
        state.push(x, weights)
    return True


def initialise_from_chunk(state: OnlineState, X, gaussians: Gaussians, rng) -> None:
    """Add the missing components by a short batch fit of a large chunk (n, D).

    The existing components' statistics stay fixed and take part in every M-step; the
    new components start at k-means++ seeds of the chunk, drawn among the points that no
    existing component explains when there are enough of them. The best of
    ``BATCH_INIT_TRIES`` fits is kept.
    """
    n, D = X.shape
    settings = state.settings
    state.n_seen += n
    state.scale.observe_chunk(X)
    if state.n_active == 0:
        state.scale.set_fallback(X.mean(0), settings.reg_covar)
    old = state.n_active
    best = None
    for _ in range(BATCH_INIT_TRIES):
        seeds = kmeans_seeds(state, X, settings.n_components - old, gaussians, rng)
        result = fit_chunk(state, X, seeds)
        if best is None or result[0] > best[0]:
            best = result
    _, chunk = best
    new = chunk.counts.shape[0] - old
    counts, means, covs = chunk
    if settings.memory is not None:
        counts = np.minimum(counts, float(settings.memory))
    alive = np.concatenate([np.ones(old, dtype=bool), counts[old:] > 0])
    no_points = (np.zeros(new), means[old:], np.zeros((new, D, D)))
    frozen = merge(*state.frozen.append(*no_points), counts, means, covs)
    running = merge(*state.running.append(*no_points), counts, means, covs)
    state.frozen, state.running = frozen.select(alive), running.select(alive)
    state.schedule.restart(state.n_seen)


def fit_chunk(state: OnlineState, X, seeds) -> tuple[float, Statistics]:
    """Short EM on a chunk with new components at ``seeds``; old statistics fixed.

    Parameters
    ----------
    state : OnlineState
        Read only.
    X : ndarray of shape (n, D)
    seeds : ndarray of shape (S, D)

    Returns
    -------
    log_likelihood : float
        Mean log-likelihood per point of the chunk at the last E-step.
    chunk : Statistics
        The chunk's statistics for the K' + S components.
    """
    n, D = X.shape
    old, new = state.n_active, seeds.shape[0]
    K = old + new
    base = state.running.append(np.zeros(new), seeds, np.zeros((new, D, D)))
    prior = state.scale.prior(state.settings.prior_shrink)
    start = base.copy()
    start.covs[old:] = np.diag(prior)
    start.counts[old:] = max(n / K, state.settings.prior_count)
    gaussians = state.gaussians(start, prior)
    previous = -np.inf
    for _ in range(BATCH_INIT_ITERATIONS):
        chunk, log_likelihood = expectation_statistics(X, gaussians)
        log_likelihood /= n
        gaussians = state.gaussians(merge(*base, *chunk), prior)
        if abs(log_likelihood - previous) < BATCH_INIT_TOL:
            break
        previous = log_likelihood
    return log_likelihood, chunk


def kmeans_seeds(state: OnlineState, X, n_seeds: int, gaussians: Gaussians, rng) -> np.ndarray:
    """Distinct k-means++ seeds (at most ``n_seeds``, (S, D)) among the rows of a chunk.

    Seeds are chosen in standardised coordinates by ``gmm_core.parts.kmeans.kmeans_plusplus``.
    While components exist, they are drawn among the rows beyond the creation distance
    of every component (the test that founds a component from one point), when at least
    ``n_seeds`` such rows exist.
    """
    rows = X if X.shape[0] <= SEED_ROWS else X[rng.choice(X.shape[0], SEED_ROWS, replace=False)]
    if state.n_active:
        g = gaussians
        _, distance = log_gaussian(
            differences(rows, g.means),
            g.inverse_cholesky,
            g.log_normalizers(),
            return_distance=True,
        )
        far = distance.min(0) > state.settings.create_distance  # [n]
        if far.sum() >= n_seeds:
            rows = rows[far]
    deviation = np.sqrt(state.scale.variances())
    points = torch.as_tensor(rows / np.where(deviation > 0, deviation, 1.0))
    generator = torch.Generator().manual_seed(int(rng.integers(2**62)))
    seeds = rows[kmeans_plusplus(points, n_seeds, generator).numpy()]
    _, first = np.unique(seeds, axis=0, return_index=True)
    return seeds[np.sort(first)]
