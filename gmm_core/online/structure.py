"""Structural moves of incremental EM: EM on the buffer, split, and split-then-merge.

The running state of every component is the exact merge of a frozen summary (count, mean,
scatter of the points that have left the buffer) and the buffer of recent points, whose
responsibilities can still change. A sweep refines those responsibilities with a few EM
iterations and then tries to improve the structure: a split while fewer components than
allowed exist, a split paired with a merge once all exist. Every decision compares values
of the EM objective (a lower bound on the log-likelihood of all points seen, in nats), in
which a frozen summary counts exactly through its mean and scatter; nothing depends on the
data's units.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from ..covariance_types import log_sum_exp
from .gaussian import expected_log_gaussian, log_gaussian_rows, log_softmax_rows
from .statistics import Statistics, combined_statistics, merge

# (counts (J,), means (J, D), covs (J, D, D)) -> (log_weights (J,), inverse Cholesky
# factors (J, D, D), log-determinants (J,)) of the Gaussians those statistics publish.
Publisher = Callable[[np.ndarray, np.ndarray, np.ndarray], tuple]

SPLIT_ITERATIONS = 10
REFINE_ITERATIONS = 3
# A split-then-merge must raise the objective by this many nats to be kept.
MOVE_MARGIN = 4.0
# An extra margin, in nats, on top of the BIC penalty of one more component.
SPLIT_MARGIN = 2.0
# Weight below which a buffer point is ignored by a component's split test.
NEGLIGIBLE = 1e-8


@dataclass
class Structure:
    """Frozen summaries and buffer of a mixture, the material of structural moves.

    Attributes
    ----------
    frozen : Statistics
        Counts (K,), means (K, D) and biased covariances (K, D, D) of the points that have
        left the buffer.
    points : ndarray of shape (n, D)
        The buffer.
    weights : ndarray of shape (n, K)
        Weight of each buffer point in each component: responsibility times ``decay``.
    decay : ndarray of shape (n, K) or None
        Forgetting applied to each buffer point's weight in each component (None: none).
    """

    frozen: Statistics
    points: np.ndarray
    weights: np.ndarray
    decay: np.ndarray | None = None

    @property
    def n_components(self) -> int:
        """Number of components."""
        return self.frozen.counts.shape[0]


def statistics(structure: Structure) -> Statistics:
    """Running statistics of every component of a structure: counts, means, covariances."""
    return combined_statistics(structure.frozen, structure.points, structure.weights)


def em_step(structure: Structure, publish: Publisher) -> tuple[Structure, float]:
    """One EM iteration on the buffer: parameters from statistics, then new weights.

    Returns
    -------
    structure : Structure
        With the buffer's new weights.
    objective : float
        The EM objective (nats) of the parameters with their optimal responsibilities.
    """
    counts, means, covs = statistics(structure)
    log_weights, inverse, log_det = publish(counts, means, covs)
    frozen = frozen_log_likelihood(structure, means, inverse, log_det, log_weights)
    if structure.points.shape[0] == 0:
        return structure, frozen
    log_prob = log_gaussian_rows(structure.points, means, inverse, log_det) + log_weights
    log_resp, log_norm = log_softmax_rows(log_prob)
    resp = np.exp(log_resp)
    if structure.decay is None:
        return replace(structure, weights=resp), frozen + float(log_norm.sum())
    weights = resp * structure.decay
    buffer = float((weights * (log_prob - log_resp)).sum())
    return replace(structure, weights=weights), frozen + buffer


def frozen_log_likelihood(structure, means, inverse, log_det, log_weights) -> float:
    """Sum over components of the frozen points' weighted log-density in their component."""
    s = structure
    total = 0.0
    for k in np.flatnonzero(s.frozen.counts > 0):
        block = expected_log_gaussian(
            s.frozen.counts[k : k + 1],
            s.frozen.means[k : k + 1],
            s.frozen.covs[k : k + 1],
            means[k : k + 1],
            inverse[k : k + 1],
            log_det[k : k + 1],
        )
        total += float(block[0, 0]) + float(s.frozen.counts[k] * log_weights[k])
    return total


def refine(structure: Structure, publish: Publisher, n_iter: int = REFINE_ITERATIONS):
    """``n_iter`` EM iterations on the buffer; returns the structure and its objective."""
    objective = -np.inf
    for _ in range(n_iter):
        structure, objective = em_step(structure, publish)
    return structure, objective


@dataclass
class Split:
    """The best two-Gaussian description found for one component's points.

    Attributes
    ----------
    component : int
    gain : float
        Objective gained over one Gaussian, in nats.
    frozen_shares : ndarray of shape (2,)
        How the component's frozen summary is shared between the halves.
    point_shares : ndarray of shape (n, 2)
        How each buffer point's weight in the component is shared between the halves.
    counts : ndarray of shape (2,)
        Total weight of each half.
    """

    component: int
    gain: float
    frozen_shares: np.ndarray
    point_shares: np.ndarray
    counts: np.ndarray


def fit_split(structure: Structure, k: int, publish: Publisher) -> Split | None:
    """Fit one and two Gaussians to component ``k``'s frozen summary and buffer points.

    The frozen summary is one block whose points share one assignment; buffer points are
    assigned softly. Two starts are tried: halves across the principal axis, and the
    frozen summary against the buffer points.

    Returns
    -------
    Split or None
        None when the component has no buffer points to split off.
    """
    s = structure
    weights = s.weights[:, k]
    keep = weights > NEGLIGIBLE * max(1.0, float(weights.max(initial=0.0)))
    if int(keep.sum()) < 2:
        return None
    points, weights = s.points[keep], weights[keep]
    block = (s.frozen.counts[k : k + 1], s.frozen.means[k : k + 1], s.frozen.covs[k : k + 1])
    has_block = bool(block[0][0] > 0)

    counts, means, covs = combined_statistics(Statistics(*block), points, weights[:, None])
    single = publish(counts, means, covs)
    one = _two_part_objective(block, points, weights, means, single, has_block)

    starts = [_principal_axis_start(points, weights, block, means[0], covs[0], has_block)]
    if has_block:
        starts.append((np.array([1.0, 0.0]), np.tile([0.0, 1.0], (points.shape[0], 1))))
    best = None
    for frozen_shares, point_shares in starts:
        result = _split_em(block, points, weights, frozen_shares, point_shares, publish, has_block)
        if best is None or result[0] > best[0]:
            best = result
    two, frozen_shares, point_shares, half_counts = best
    full_shares = np.zeros((s.points.shape[0], 2))
    full_shares[keep] = point_shares
    return Split(k, two - one, frozen_shares, full_shares, half_counts)


def _principal_axis_start(points, weights, block, mean, cov, has_block):
    _, vectors = np.linalg.eigh(cov)
    axis = vectors[:, -1]
    side = (points - mean) @ axis > 0
    point_shares = np.stack([side, ~side], axis=1).astype(float)
    if has_block:
        block_side = float((block[1][0] - mean) @ axis > 0)
        frozen_shares = np.array([block_side, 1.0 - block_side])
    else:
        frozen_shares = np.array([0.5, 0.5])
    return frozen_shares, point_shares


def _two_part_objective(block, points, weights, means, params, has_block):
    """Objective of one component's material under Gaussians ``params`` with log-weights."""
    log_weights, inverse, log_det = params
    log_prob = log_gaussian_rows(points, means, inverse, log_det) + log_weights  # [n, J]
    _, log_norm = log_softmax_rows(log_prob)
    total = float(weights @ log_norm)
    if has_block:
        per_unit = expected_log_gaussian(np.ones(1), block[1], block[2], means, inverse, log_det)
        per_unit = per_unit[0] + log_weights  # [J]
        total += float(block[0][0] * log_sum_exp(per_unit))
    return total


def _split_em(block, points, weights, frozen_shares, point_shares, publish, has_block):
    """EM for two Gaussians on a frozen block and weighted points; returns the best fit."""
    frozen_count, frozen_mean, frozen_cov = block
    n_features = points.shape[1]
    two = -np.inf
    for _ in range(SPLIT_ITERATIONS):
        halves = Statistics(
            frozen_count[0] * frozen_shares,
            np.repeat(frozen_mean, 2, axis=0),
            np.repeat(frozen_cov, 2, axis=0),
        )
        counts, means, covs = combined_statistics(
            halves,
            points,
            weights[:, None] * point_shares,
        )
        if bool((counts <= 0).any()):
            return -np.inf, frozen_shares, point_shares, counts
        log_weights, inverse, log_det = publish(counts, means, covs)
        log_prob = log_gaussian_rows(points, means, inverse, log_det) + log_weights  # [n, 2]
        log_resp, log_norm = log_softmax_rows(log_prob)
        point_shares = np.exp(log_resp)
        previous, two = two, float(weights @ log_norm)
        if has_block:
            per_unit = expected_log_gaussian(
                np.ones(1), frozen_mean, frozen_cov, means, inverse, log_det
            )[0]
            per_unit = per_unit + log_weights
            log_shares, block_norm = log_softmax_rows(per_unit[None, :])
            frozen_shares = np.exp(log_shares[0])
            two += float(frozen_count[0] * block_norm[0])
        if two - previous < 1e-6 * n_features:
            break
    counts = frozen_count[0] * frozen_shares + weights @ point_shares
    return two, frozen_shares, point_shares, counts


def apply_split(structure: Structure, split: Split) -> Structure:
    """The structure with component ``split.component`` replaced by two (the second last)."""
    s, k = structure, split.component
    frozen_counts = np.append(s.frozen.counts, s.frozen.counts[k] * split.frozen_shares[1])
    frozen_counts[k] = s.frozen.counts[k] * split.frozen_shares[0]
    column = s.weights[:, k]
    weights = np.column_stack([s.weights, column * split.point_shares[:, 1]])
    weights[:, k] = column * split.point_shares[:, 0]
    decay = None if s.decay is None else np.column_stack([s.decay, s.decay[:, k]])
    frozen = Statistics(
        frozen_counts,
        np.concatenate([s.frozen.means, s.frozen.means[k : k + 1]]),
        np.concatenate([s.frozen.covs, s.frozen.covs[k : k + 1]]),
    )
    return Structure(
        frozen,
        s.points,
        weights,
        decay,
    )


def apply_merge(structure: Structure, a: int, b: int) -> Structure:
    """The structure with components ``a`` and ``b`` merged into ``a`` (``b`` removed)."""
    s = structure
    merged = merge(*s.frozen.select([a]), *s.frozen.select([b]))
    keep = np.arange(s.n_components) != b
    frozen = s.frozen.copy()
    frozen.counts[a], frozen.means[a], frozen.covs[a] = (value[0] for value in merged)
    weights = s.weights.copy()
    weights[:, a] += weights[:, b]
    decay = None
    if s.decay is not None:
        decay = s.decay.copy()
        decay[:, a] = np.maximum(decay[:, a], decay[:, b])
        decay = decay[:, keep]
    return Structure(frozen.select(keep), s.points, weights[:, keep], decay)


def merge_costs(structure: Structure, publish: Publisher, protected: tuple[int, int]):
    """Estimated objective lost by merging each pair of components, cheapest first.

    The estimate treats each component's points as its own (no overlap): the log-likelihood
    of both under their own Gaussians and weights, minus that under one Gaussian.

    Returns
    -------
    list of (cost, a, b)
    """
    counts, means, covs = statistics(structure)
    own = np.array(
        [
            _own_log_likelihood(counts[[k]], means[[k]], covs[[k]], publish)
            for k in range(counts.shape[0])
        ]
    )
    costs = []
    n_components = counts.shape[0]
    for a in range(n_components):
        for b in range(a + 1, n_components):
            if {a, b} == set(protected):
                continue
            merged = merge(counts[[a]], means[[a]], covs[[a]], counts[[b]], means[[b]], covs[[b]])
            total = counts[a] + counts[b]
            mixing = sum(c * np.log(c / total) for c in (counts[a], counts[b]) if c > 0)
            cost = own[a] + own[b] + mixing - _own_log_likelihood(*merged, publish)
            costs.append((float(cost), a, b))
    return sorted(costs)


def _own_log_likelihood(counts, means, covs, publish) -> float:
    _, inverse, log_det = publish(counts, means, covs)
    return float(expected_log_gaussian(counts, means, covs, means, inverse, log_det)[0, 0])


def sweep(
    structure: Structure,
    publish: Publisher,
    max_components: int,
    split_penalty: float,
    min_support: float,
) -> tuple[Structure, bool]:
    """Refine the buffer, then try one structural move.

    Parameters
    ----------
    structure : Structure
    publish : Publisher
    max_components : int
    split_penalty : float
        Nats a split must gain while fewer than ``max_components`` components exist.
    min_support : float
        Least total weight of each half of a split.

    Returns
    -------
    structure : Structure
    changed : bool
        Whether the number or the identity of the components changed.
    """
    structure, current = refine(structure, publish)
    n_components = structure.n_components
    if max_components == 1 or structure.points.shape[0] < 2 * min_support:
        return structure, False
    splits = [fit_split(structure, k, publish) for k in range(n_components)]
    splits = [split for split in splits if split is not None and split.counts.max() >= min_support]
    splits.sort(key=lambda split: -split.gain)
    if n_components < max_components:
        splits = [split for split in splits if split.counts.min() >= min_support]
        if splits and splits[0].gain > split_penalty:
            split_structure = apply_split(structure, splits[0])
            return refine(split_structure, publish)[0], True
        return structure, False
    best, best_objective = None, current + MOVE_MARGIN
    # Once all components exist, the halves' support is judged by the objective after the
    # merge; only a half of less than one point is ruled out.
    splits = [split for split in splits if split.counts.min() >= 1.0]
    for split in splits[:2]:
        if split.gain <= MOVE_MARGIN:
            break
        split_structure = apply_split(structure, split)
        protected = (split.component, n_components)
        for _, a, b in merge_costs(split_structure, publish, protected)[:2]:
            candidate, objective = refine(apply_merge(split_structure, a, b), publish)
            if objective > best_objective:
                best, best_objective = candidate, objective
    if best is None:
        return structure, False
    return best, True
