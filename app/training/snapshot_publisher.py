"""When a trainer's model goes out as a snapshot: throttled, labelled by chunks, sent.

:class:`SnapshotPublisher` sits between a :class:`app.training.trainer.Trainer` and whoever
receives its snapshots (the worker's signal, a test's list). Progress snapshots are
sent at most once per ``min_interval_s``; the first and the last of a request are
forced. Labelling the points is the costly part of a snapshot, so it is done in chunks
with the trainer's cancellation check between them.

No Qt and no thread here; gmm_core is only called through the model handed in.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable

import numpy as np

from ..state.messages import ModelSnapshot, TrainingRequest
from .snapshot_builder import SnapshotBuilder

#: Rows labelled per call to the model; the cancellation check runs between chunks.
LABEL_CHUNK_ROWS = 20_000


class SnapshotPublisher:
    """Builds snapshots of a trainer's models and sends them, throttling progress.

    Parameters
    ----------
    emit : callable
        Called with each :class:`app.state.messages.ModelSnapshot` to publish.
    builder : SnapshotBuilder
        Shapes models into snapshots (colours, outlines, grouped points).
    check : callable
        Raises :class:`gmm_core.Cancelled` when the request is abandoned; called between
        labelling chunks.
    min_interval_s : float
        Progress snapshots are sent at most this often.
    clock : callable
        Seconds, for throttling.
    """

    def __init__(
        self,
        emit: Callable[[ModelSnapshot], None],
        builder: SnapshotBuilder,
        check: Callable[[], None],
        min_interval_s: float = 1.0 / 30.0,
        clock: Callable[[], float] = time.perf_counter,
    ):
        self.builder = builder
        self._emit = emit
        self._check = check
        self._min_interval_s = min_interval_s
        self._clock = clock
        self._last_sent = -np.inf

    def due(self) -> bool:
        """Whether a progress snapshot may be sent now."""
        return self._clock() - self._last_sent >= self._min_interval_s

    def send(self, snapshot: ModelSnapshot) -> None:
        """Send ``snapshot`` now, whatever the throttle says."""
        self._last_sent = self._clock()
        self._emit(snapshot)

    def snapshot(
        self,
        request: TrainingRequest,
        model,
        n_fitted: int,
        state: str,
        n_iter: int,
        *,
        final: bool,
    ) -> ModelSnapshot:
        """``model`` as a frozen, ready-to-draw snapshot, with its dict if ``final``.

        Parameters
        ----------
        request : TrainingRequest
            The request being served.
        model : gmm_core.GaussianMixture or gmm_core.GradientGaussianMixture
            Fitted on ``request.points[:n_fitted]``.
        n_fitted : int
            How many of the request's points the model has learnt.
        state : str
            See :attr:`app.state.messages.ModelSnapshot.state`.
        n_iter : int
            Passes run for this request so far.
        final : bool
            The last snapshot of the request.
        """

        def label(X: np.ndarray) -> tuple[np.ndarray, float]:
            return self._labels_and_log_likelihood(model, X)

        snapshot = self.builder.build(
            request, model, n_fitted, state, n_iter, final=final, label=label
        )
        if final:
            snapshot = dataclasses.replace(snapshot, model=model.to_dict())
        return snapshot

    def _labels_and_log_likelihood(self, model, X: np.ndarray) -> tuple[np.ndarray, float]:
        """The model's component for each row of ``X`` (n, D) and the summed log-density."""
        labels = np.empty(X.shape[0], dtype=np.int16)  # K is far below 2**15
        total = 0.0
        for start in range(0, X.shape[0], LABEL_CHUNK_ROWS):
            self._check()
            chunk_labels, log_density = model.predict_with_log_density(
                X[start : start + LABEL_CHUNK_ROWS]
            )
            labels[start : start + LABEL_CHUNK_ROWS] = chunk_labels
            total += float(np.sum(log_density))
        return labels, total
