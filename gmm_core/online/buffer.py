"""The bounded buffer of recent points whose responsibilities can still change."""

from __future__ import annotations

import numpy as np

BUFFER_SIZE = 128
# Points leave a full buffer in blocks of this many, merged into the summaries at once.
EVICT_BLOCK = 32
CAPACITY = BUFFER_SIZE + EVICT_BLOCK


class RecentPoints:
    """The most recent points with their weight in each component.

    Parameters
    ----------
    n_features : int
    n_components : int
        Most components; weight columns beyond the existing components are zero.
    forgetting : bool
        Whether to keep each weight's forgetting factor (``memory`` is set).

    Attributes
    ----------
    size : int
        Points held now, at most ``CAPACITY``.
    """

    def __init__(self, n_features: int, n_components: int, forgetting: bool):
        self._points = np.zeros((CAPACITY, n_features))
        self._weights = np.zeros((CAPACITY, n_components))
        self._decay = np.ones((CAPACITY, n_components)) if forgetting else None
        self.size = 0

    @classmethod
    def from_arrays(cls, points, weights, decay, n_components: int) -> RecentPoints:
        """A buffer holding ``points`` (n, D) with ``weights`` and ``decay`` (n, K) or None.

        Raises
        ------
        ValueError
            If there are more points than the buffer holds.
        """
        rows, K = weights.shape
        if rows > CAPACITY:
            raise ValueError(f"Incremental state buffer holds {rows} points, at most {CAPACITY}.")
        buffer = cls(points.shape[1], n_components, decay is not None)
        buffer._points[:rows] = points
        buffer._weights[:rows, :K] = weights
        if decay is not None:
            buffer._decay[:rows, :K] = decay
        buffer.size = rows
        return buffer

    @property
    def points(self) -> np.ndarray:
        """The points held, (size, D); a view."""
        return self._points[: self.size]

    def weights(self, n_active: int) -> np.ndarray:
        """Weights (size, n_active) of the points held in the existing components; a view."""
        return self._weights[: self.size, :n_active]

    def decay(self, n_active: int) -> np.ndarray | None:
        """Forgetting factors (size, n_active) of the weights, or None without forgetting."""
        return None if self._decay is None else self._decay[: self.size, :n_active]

    def push(self, x, weights) -> tuple[np.ndarray, np.ndarray] | None:
        """Append a point, first emptying the oldest block of a full buffer.

        Parameters
        ----------
        x : ndarray of shape (D,)
        weights : ndarray of shape (K,)
            The point's weight in each existing component.

        Returns
        -------
        leaving : tuple of ndarrays or None
            Points (EVICT_BLOCK, D) and weights (EVICT_BLOCK, K) that left the buffer, to
            be merged into the summaries; None when nothing left.
        """
        K = weights.shape[0]
        leaving = None
        if self.size == CAPACITY:
            leaving = self._points[:EVICT_BLOCK].copy(), self._weights[:EVICT_BLOCK, :K].copy()
            for array in (self._points, self._weights, self._decay):
                if array is not None:
                    array[:-EVICT_BLOCK] = array[EVICT_BLOCK:].copy()
            self.size -= EVICT_BLOCK
        row = self.size
        self.size += 1
        self._points[row] = x
        self._weights[row, :K] = weights
        self._weights[row, K:] = 0.0
        if self._decay is not None:
            self._decay[row] = 1.0
        return leaving

    def forget(self, decay) -> None:
        """Scale every weight of each existing component by ``decay`` (K,)."""
        K = decay.shape[0]
        self._weights[: self.size, :K] *= decay
        self._decay[: self.size, :K] *= decay

    def replace(self, weights, decay) -> None:
        """New weights (size, K) and forgetting factors (size, K) or None, for K components."""
        rows, K = weights.shape
        self._weights[:rows] = 0.0
        self._weights[:rows, :K] = weights
        if decay is not None:
            self._decay[:rows] = 1.0
            self._decay[:rows, :K] = decay
