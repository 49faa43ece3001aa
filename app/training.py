"""What the worker computes for each request: the training policy, without Qt or threads.

A request is answered in steps, each a valid model that is sent as a snapshot:

1. the instant answer: ``partial_fit`` on the points the model has not seen yet;
2. up to ``epochs`` warm-started EM passes (``iter_fit``) over all points, with progress
   snapshots at most ``1 / min_interval_s`` a second, ending early when converged or when
   the request's time budget is spent;
3. on small data, a fresh start compared by BIC (incremental EM on points clicked cluster
   after cluster tends to put two components on the first cluster).

Fresh fits (a new component count, Train, the first points) start from
:func:`gmm_core.kmeans_start`. Cancellation has one idiom: :meth:`Trainer.check` raises
:class:`gmm_core.Cancelled` once the cancel flag is set, between passes, chunks and
k-means steps; :meth:`Trainer.run` catches it, and the model kept is always valid.

This module imports torch: only the worker thread imports it, once it has started.
"""

from __future__ import annotations

import dataclasses
import os
import threading
import time
from collections.abc import Callable

import numpy as np
import torch

from gmm_core import Cancelled, GaussianMixture, kmeans_start

from .snapshot import ModelSnapshot, ModelStart, SnapshotBuilder, TrainingRequest

#: Rows per ``partial_fit`` call (and per labelling step) when many points arrive at
#: once; cancellation is checked between chunks.
CHUNK_ROWS = 20_000

#: Fresh fits start from k-means on a random sample of at most this many points; EM
#: passes then use all points.
INIT_SAMPLE = 20_000

#: Up to this many points, each update also tries a fresh k-means start (see
#: :meth:`Trainer._try_fresh_start`).
FRESH_START_LIMIT = 5_000

#: Passes of a Train restart at least, whatever the epochs spin box says.
TRAIN_MIN_PASSES = 100

#: torch threads of the worker thread: one core stays free for the GUI thread, and no
#: OpenMP barrier waits on a thread the OS has descheduled.
WORKER_TORCH_THREADS = max(1, (os.cpu_count() or 2) - 1)


def configure_thread() -> None:
    """Set the calling thread's torch thread count (a per-thread setting)."""
    torch.set_num_threads(WORKER_TORCH_THREADS)


class Trainer:
    """Turns requests into snapshots, with no Qt and no thread.

    Parameters
    ----------
    emit : callable
        Called with each :class:`ModelSnapshot` to publish.
    cancelled : threading.Event, optional
        Once set, the current request stops at the next :meth:`check` and keeps a valid
        model (or none).
    min_interval_s : float
        Progress snapshots are sent at most this often (the first and the last snapshot of
        a request always are).
    clock : callable
        Seconds, for throttling and time budgets.
    """

    def __init__(
        self,
        emit: Callable[[ModelSnapshot], None],
        cancelled: threading.Event | None = None,
        min_interval_s: float = 1.0 / 30.0,
        clock: Callable[[], float] = time.perf_counter,
    ):
        self._emit_callback = emit
        self.cancelled = cancelled if cancelled is not None else threading.Event()
        self._min_interval_s = min_interval_s
        self._clock = clock
        self._last_emit = -np.inf
        self._snapshots = SnapshotBuilder()
        self.reset()

    # -- state -------------------------------------------------------------------------

    def reset(self) -> None:
        """Forget the model and everything learnt."""
        self.model: GaussianMixture | None = None
        self._generation: int | None = None
        self._n_fitted = 0  # the model has learnt points[:_n_fitted] of this generation
        self._snapshots.forget_points()

    @property
    def n_fitted(self) -> int:
        """How many of the current points the model has learnt."""
        return self._n_fitted

    def check(self) -> None:
        """Raise :class:`gmm_core.Cancelled` if a newer request has set the cancel flag."""
        if self.cancelled.is_set():
            raise Cancelled

    # -- entry point ---------------------------------------------------------------------

    def run(self, request: TrainingRequest) -> None:
        """Serve one request: an instant answer first, then EM refinement.

        Returns quietly when cancelled. Raises whatever gmm_core raises; the model is
        then forgotten, so that the next request starts clean.
        """
        if not request.points.flags.writeable:
            # gmm_core copies a read-only array on every call; one private copy per
            # request (~1 ms for 200,000 points) serves them all.
            request = dataclasses.replace(request, points=request.points.copy())
        if request.start is not None:
            self._adopt(request.start)
        try:
            if request.points.shape[0] == 0:
                self.reset()
                self._emit(self._snapshots.empty(request))
            elif request.train:
                self._train(request)
            else:
                self._update(request)
        except Cancelled:
            pass  # a newer request waits in the mailbox; the model kept is valid
        except Exception:
            self.reset()
            raise

    def _adopt(self, start: ModelStart) -> None:
        """Continue from ``start``'s model (an opened session's); a bad one is ignored."""
        self.reset()
        try:
            model = GaussianMixture.from_dict(start.model)
        except Exception:  # a damaged model in a file: the worker fits its own
            return
        self.model = model
        self._generation = start.generation
        self._n_fitted = start.n_points
        self._snapshots.keep_colors(start.means, start.colors)

    def _update(self, request: TrainingRequest) -> None:
        X = request.points
        n = X.shape[0]
        started = self._clock()
        model = self.model
        same_shape = model is not None and model.n_components == request.n_components
        fitted = same_shape and getattr(model, "means_", None) is not None
        if same_shape and self._generation == request.generation and self._n_fitted <= n:
            min_passes = 0  # the model has seen a prefix of the points: learn the rest
        elif fitted and model.means_.shape[0] <= n:
            # Points were removed or replaced (undo, open): keep the parameters, relearn
            # them from all points with at least one EM pass.
            self._generation, self._n_fitted, min_passes = request.generation, n, 1
            self._snapshots.forget_points()
        elif n >= request.n_components:
            self._fresh_fit(request, started)
            return
        else:
            # Fewer points than components: components appear as points arrive.
            self._start_incremental(request)
            min_passes = 0
        self._learn_new_points(X)
        if min_passes == 0:
            self._emit_snapshot(request, "incremental", 0, final=request.epochs == 0, force=True)
            if request.epochs == 0:
                return
        state, n_iter = self._refine(request, started, min_passes=min_passes, budget=True)
        self._try_fresh_start(request)
        self._emit_snapshot(request, state, n_iter, final=True, force=True)

    def _learn_new_points(self, X: np.ndarray) -> None:
        """The instant answer: incremental EM on the points the model has not seen."""
        first = self._n_fitted
        for start in range(first, X.shape[0], CHUNK_ROWS):
            if start > first:
                self.check()  # the next request learns the rest
            self.model.partial_fit(X[start : start + CHUNK_ROWS])
            self._n_fitted = min(X.shape[0], start + CHUNK_ROWS)

    def _start_incremental(self, request: TrainingRequest) -> None:
        """A model that starts from nothing and learns incrementally."""
        self.reset()
        self.model = GaussianMixture(
            request.n_components,
            reg_covar=request.reg_covar,
            max_iter=max(1, request.epochs),
            random_state=request.seed,
        )
        self._generation = request.generation

    def _fresh_fit(self, request: TrainingRequest, started: float) -> None:
        """A k-means start on all points, then EM passes (no time budget)."""
        self.reset()
        self.model = self._fresh_model(request, request.seed)  # reset stays on Cancelled
        self._generation = request.generation
        state, n_iter = self._refine(request, started, min_passes=1, budget=False, fresh=True)
        self._emit_snapshot(request, state, n_iter, final=True, force=True)

    def _fresh_model(self, request: TrainingRequest, seed: int) -> GaussianMixture:
        """An unfitted model started by a (cancellable) k-means on the request's points."""
        weights, means, covariances = kmeans_start(
            request.points,
            request.n_components,
            reg_covar=request.reg_covar,
            random_state=seed,
            sample=INIT_SAMPLE,
            cancelled=self.cancelled,
        )
        return GaussianMixture(
            request.n_components,
            reg_covar=request.reg_covar,
            max_iter=max(1, request.epochs),
            weights_init=weights,
            means_init=means,
            covariances_init=covariances,
            random_state=seed,
        )

    def _refine(
        self,
        request: TrainingRequest,
        started: float,
        *,
        min_passes: int,
        budget: bool,
        fresh: bool = False,
    ) -> tuple[str, int]:
        """Up to ``epochs`` warm-started EM passes over all points, with progress snapshots.

        Returns the final state (``"converged"`` or ``"stopped"``) and the passes run.
        """
        X = request.points
        passes = max(request.epochs, min_passes)
        state, n_iter = "stopped", 0
        for n_iter, model in enumerate(self.model.iter_fit(X, max_iter=passes), start=1):
            self._n_fitted = X.shape[0]
            if fresh and n_iter == 1:
                self._emit_snapshot(request, "refining", n_iter, final=False, force=True)
            if model.converged_:
                state = "converged"
                break
            self.check()
            if budget and self._clock() - started > request.time_budget_s:
                break
            if n_iter < passes and self._due():
                self._emit_snapshot(request, "refining", n_iter, final=False)
        return state, n_iter

    def _try_fresh_start(self, request: TrainingRequest) -> None:
        """Compare the incremental model with a fresh k-means start; keep the better.

        Incremental EM sees points in the order they were clicked and can settle in a
        poor local optimum (several components on the first cluster clicked, none left
        for the later ones); on small data a fresh start costs milliseconds. The models
        are compared by BIC, so that a start which only adds near-empty components does
        not win.
        """
        X = request.points
        n = X.shape[0]
        if n > FRESH_START_LIMIT or n < max(2, request.n_components):
            return
        candidate = self._fresh_model(request, request.seed)
        for _ in candidate.iter_fit(X, max_iter=max(request.epochs, 20)):
            self.check()
        if self.model.bic(X) - candidate.bic(X) > 2.0 * max(1.0, 1e-3 * n):
            self.model = candidate
            self._snapshots.forget_points()

    def _train(self, request: TrainingRequest) -> None:
        """Refit from scratch: ``n_init`` k-means starts, each EM to convergence; keep the best.

        Cancelled, it keeps the best model fitted so far (or the one being fitted, or
        none before the first pass).
        """
        X = request.points
        n = X.shape[0]
        request = dataclasses.replace(request, n_components=min(request.n_components, n))
        passes = max(request.epochs, TRAIN_MIN_PASSES)
        self.reset()
        self._generation = request.generation
        best: GaussianMixture | None = None
        try:
            for restart in range(max(1, request.n_init)):
                candidate = self._fresh_model(request, request.seed + restart)
                for n_iter, _ in enumerate(candidate.iter_fit(X, max_iter=passes), start=1):
                    self.model, self._n_fitted = candidate, n
                    self.check()
                    if not candidate.converged_ and self._due():
                        self._emit_snapshot(request, "training", n_iter, final=False)
                if best is None or candidate.lower_bound_ > best.lower_bound_:
                    best = candidate
        except Cancelled:
            if best is not None:
                self.model = best
                self._snapshots.forget_points()
            raise
        self.model = best
        self._snapshots.forget_points()
        state = "converged" if best.converged_ else "stopped"
        self._emit_snapshot(request, state, best.n_iter_, final=True, force=True)

    # -- snapshots -----------------------------------------------------------------------

    def _due(self) -> bool:
        return self._clock() - self._last_emit >= self._min_interval_s

    def _emit(self, snapshot: ModelSnapshot) -> None:
        self._last_emit = self._clock()
        self._emit_callback(snapshot)

    def _emit_snapshot(
        self, request: TrainingRequest, state: str, n_iter: int, *, final: bool, force=False
    ) -> None:
        if force or self._due():
            self._emit(self.snapshot(request, state, n_iter, final=final))

    def snapshot(
        self, request: TrainingRequest, state: str, n_iter: int, *, final: bool
    ) -> ModelSnapshot:
        """The current model as a frozen, ready-to-draw snapshot (with its dict if final)."""
        snapshot = self._snapshots.build(
            request,
            self.model,
            self._n_fitted,
            state,
            n_iter,
            final=final,
            label=self._labels_and_log_likelihood,
        )
        if final:
            snapshot = dataclasses.replace(snapshot, model=self.model.to_dict())
        return snapshot

    def _labels_and_log_likelihood(self, X: np.ndarray) -> tuple[np.ndarray, float]:
        """The model's component for each point and the summed log-density, by chunks."""
        labels = np.empty(X.shape[0], dtype=np.int64)
        total = 0.0
        for start in range(0, X.shape[0], CHUNK_ROWS):
            self.check()
            chunk = X[start : start + CHUNK_ROWS]
            labels[start : start + CHUNK_ROWS] = self.model.predict(chunk)
            total += float(np.sum(self.model.score_samples(chunk)))
        return labels, total
