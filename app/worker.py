"""The training worker: runs gmm_core away from the GUI thread and sends snapshots back.

:class:`Trainer` holds all the logic and knows nothing about Qt, so tests can drive it
directly; :class:`TrainingWorker` is the thin ``QObject`` that lives in the worker thread
and takes the newest request from a :class:`Mailbox`.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import threading
import time
from collections.abc import Callable

import numpy as np
import torch
from PySide6.QtCore import QObject, Signal, Slot

from gmm_core import GaussianMixture

from .geometry import (
    Cancelled,
    data_extent,
    ellipse_outlines,
    group_by_label,
    kmeans_start,
    labels_and_log_likelihood,
    match_slots,
)
from .snapshot import ModelSnapshot, TrainingRequest, frozen

_log = logging.getLogger(__name__)

#: Above this many points, progress snapshots reuse the last labels (one E-step costs as
#: much as an EM pass there); the first and the last snapshot of a request recompute them.
LARGE_N = 50_000

#: Rows per ``partial_fit`` call when many points arrive at once; cancellation is checked
#: between chunks.
CHUNK_ROWS = 20_000

#: Fresh fits start from k-means on a random sample of at most this many points, run
#: here step by step so that it can be cancelled (gmm_core's k-means, run to convergence
#: in one call, can take seconds on 200,000 points); EM passes then use all points.
INIT_SAMPLE = 20_000

#: Up to this many points, each update also tries a fresh k-means start (see
#: ``Trainer._try_fresh_start``).
FRESH_START_LIMIT = 5_000

#: torch threads of the worker thread (a thread-local setting): one core stays free for
#: the GUI thread, and no OpenMP barrier waits on a thread the OS has descheduled.
WORKER_TORCH_THREADS = max(1, (os.cpu_count() or 2) - 1)

#: Passes of a Train restart at least, whatever the epochs spin box says.
TRAIN_MIN_PASSES = 100


def _n_parameters(n_components: int) -> int:
    """Free parameters of a two-dimensional full-covariance mixture."""
    return n_components * (1 + 2 + 3) - 1


def _bic(model: GaussianMixture, X: np.ndarray) -> float:
    """BIC of a fitted model on ``X``, counting the components it has (maybe < K)."""
    n = X.shape[0]
    return -2.0 * model.score(X) * n + _n_parameters(model.means_.shape[0]) * np.log(n)


class Trainer:
    """The worker's logic: turns requests into snapshots, with no Qt and no thread.

    Parameters
    ----------
    emit : callable
        Called with each :class:`ModelSnapshot` to publish.
    cancelled : threading.Event, optional
        Checked between EM passes and chunks: once set, the current request stops at the
        next check and keeps the (valid) model it has.
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
        self._slots = np.zeros(0, dtype=np.int64)  # palette slot per drawn component
        self._slot_means = np.zeros((0, 2))
        self.reset()

    # -- state -------------------------------------------------------------------------

    def reset(self) -> None:
        """Forget the model and everything learnt (the Clear button)."""
        self.model: GaussianMixture | None = None
        self._generation: int | None = None
        self._n_fitted = 0  # the model has learnt points[:_n_fitted] of this generation
        self._layer: dict | None = None  # labels and grouping last sent (see _points_layer)
        self._mean_log_likelihood = float("nan")

    @property
    def n_fitted(self) -> int:
        """How many of the current points the model has learnt."""
        return self._n_fitted

    # -- entry point ---------------------------------------------------------------------

    def run(self, request: TrainingRequest) -> None:
        """Serve one request: an incremental answer first, then EM refinement.

        Raises whatever gmm_core raises; the model is then forgotten, so that the next
        request starts clean.
        """
        if not request.points.flags.writeable:
            # torch warns about read-only arrays; one private copy per request (~1 ms for
            # 200,000 points) keeps the session's arrays frozen and torch quiet.
            request = dataclasses.replace(request, points=request.points.copy())
        try:
            self._run(request)
        except Cancelled:
            pass  # a newer request waits; the model is valid or was forgotten
        except Exception:
            self.reset()
            raise

    def _run(self, request: TrainingRequest) -> None:
        X = request.points
        n = X.shape[0]
        if n == 0:
            self.reset()
            self._slots = np.zeros(0, dtype=np.int64)
            self._slot_means = np.zeros((0, 2))
            self._emit(ModelSnapshot(request.request_id, 0, generation=request.generation))
            return
        if request.train:
            self._train(request)
            return
        started = self._clock()
        min_passes = 0
        model = self.model
        same_shape = model is not None and model.n_components == request.n_components
        fitted = same_shape and getattr(model, "means_", None) is not None
        if same_shape and self._generation == request.generation and self._n_fitted <= n:
            pass  # the model has seen a prefix of the points: learn the rest incrementally
        elif fitted and model.means_.shape[0] <= n:
            # Points were removed or replaced (undo, open): keep the parameters, relearn
            # them from all points with at least one EM pass.
            self._generation, self._n_fitted, min_passes = request.generation, n, 1
            self._layer = None
        else:
            self.reset()
            self._start_model(request)
            if n >= request.n_components:
                try:
                    self.model = self._fresh_model(request, request.seed)
                except Cancelled:
                    self.reset()  # the next request starts afresh
                    raise
                result = self._refine(request, started, min_passes=1, budget=False, fresh=True)
                if result is not None:
                    self._emit_snapshot(request, *result, final=True, force=True)
                return
        # The instant answer: incremental EM on the new points only.
        first = self._n_fitted
        for start in range(first, n, CHUNK_ROWS):
            if start > first and self.cancelled.is_set():
                return  # the next request learns the rest
            self.model.partial_fit(X[start : start + CHUNK_ROWS])
            self._n_fitted = min(n, start + CHUNK_ROWS)
        if min_passes == 0:
            self._emit_snapshot(request, "incremental", 0, final=request.epochs == 0, force=True)
            if request.epochs == 0:
                return
        result = self._refine(request, started, min_passes=min_passes, budget=True)
        if result is None or not self._try_fresh_start(request):
            return
        self._emit_snapshot(request, *result, final=True, force=True)

    def _start_model(self, request: TrainingRequest) -> None:
        """A model that starts from nothing and learns incrementally."""
        self.model = GaussianMixture(
            request.n_components,
            reg_covar=request.reg_covar,
            max_iter=max(1, request.epochs),
            random_state=request.seed,
        )
        self._generation = request.generation
        self._n_fitted = 0
        self._layer = None

    def _fresh_model(self, request: TrainingRequest, seed: int) -> GaussianMixture:
        """An unfitted model started by (cancellable) k-means on the request's points."""
        weights, means, covariances = kmeans_start(
            request.points,
            request.n_components,
            np.random.default_rng(seed),
            request.reg_covar,
            cancelled=self.cancelled,
            sample=INIT_SAMPLE,
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
    ) -> tuple[str, int] | None:
        """Up to ``epochs`` warm-started EM passes over all points, with progress snapshots.

        Returns the final state and the passes run, or None when cancelled.
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
            if self.cancelled.is_set():
                return  # a newer request waits; it will draw soon
            if budget and self._clock() - started > request.time_budget_s:
                break
            if n_iter < passes and self._due():
                self._emit_snapshot(request, "refining", n_iter, final=False)
        return state, n_iter

    def _try_fresh_start(self, request: TrainingRequest) -> bool:
        """Compare the incremental model with a fresh k-means start; keep the better.

        Incremental EM sees points in the order they were clicked and can settle in a
        poor local optimum (several components on the first cluster clicked, none left
        for the later ones); on small data a fresh start costs milliseconds. The models
        are compared by BIC, so that a start which only adds near-empty components does
        not win. Returns False when cancelled.
        """
        X = request.points
        n, n_components = X.shape[0], request.n_components
        if n > FRESH_START_LIMIT or n < max(2, n_components):
            return True
        candidate = self._fresh_model(request, request.seed)
        for _ in candidate.iter_fit(X, max_iter=max(request.epochs, 20)):
            if self.cancelled.is_set():
                return False
        if _bic(self.model, X) - _bic(candidate, X) > 2.0 * max(1.0, 1e-3 * n):
            self.model = candidate
            self._layer = None
        return True

    def _train(self, request: TrainingRequest) -> None:
        """Refit from scratch: ``n_init`` k-means starts, each EM to convergence; keep the best."""
        X = request.points
        n = X.shape[0]
        n_components = min(request.n_components, n)
        request = dataclasses.replace(request, n_components=n_components)
        passes = max(request.epochs, TRAIN_MIN_PASSES)
        best, best_bound, n_iter = None, -np.inf, 0
        for restart in range(max(1, request.n_init)):
            self._start_model(request)
            try:
                self.model = self._fresh_model(request, request.seed + restart)
            except Cancelled:
                self._keep_best(best, request)
                raise
            for n_iter, model in enumerate(self.model.iter_fit(X, max_iter=passes), start=1):
                self._n_fitted = n
                if self.cancelled.is_set():
                    self._keep_best(best if best is not None else self.model, request)
                    return
                if not model.converged_ and self._due():
                    self._emit_snapshot(request, "training", n_iter, final=False)
            if self.model.lower_bound_ > best_bound:
                best, best_bound = self.model, self.model.lower_bound_
        self.model = best
        self._n_fitted = n
        state = "converged" if best.converged_ else "stopped"
        self._emit_snapshot(request, state, best.n_iter_, final=True, force=True)

    def _keep_best(self, model: GaussianMixture | None, request: TrainingRequest) -> None:
        """After a cancelled Train: keep a model fitted on all points, or start afresh."""
        if model is None:
            self.reset()
            return
        self.model, self._generation = model, request.generation
        self._n_fitted = request.points.shape[0]
        self._layer = None

    # -- snapshots -----------------------------------------------------------------------

    def _due(self) -> bool:
        return self._clock() - self._last_emit >= self._min_interval_s

    def _emit(self, snapshot: ModelSnapshot) -> None:
        self._last_emit = self._clock()
        self._emit_callback(snapshot)

    def _emit_snapshot(
        self, request: TrainingRequest, state: str, n_iter: int, *, final: bool, force=False
    ) -> None:
        if not force and not self._due():
            return
        self._emit(self.snapshot(request, state, n_iter, final=final))

    def snapshot(
        self, request: TrainingRequest, state: str, n_iter: int, *, final: bool
    ) -> ModelSnapshot:
        """The current model as a frozen, ready-to-draw snapshot."""
        model = self.model
        X = request.points[: self._n_fitted] if self._n_fitted else request.points[:0]
        n = X.shape[0]
        weights = np.array(model.weights_, dtype=np.float64)
        means = np.array(model.means_, dtype=np.float64).reshape(-1, 2)
        covariances = np.array(model.covariances_, dtype=np.float64).reshape(-1, 2, 2)
        # Stable colours: each component keeps the slot of the nearest old component.
        scale = max(data_extent(X), np.sqrt(request.reg_covar) * 1e3)
        slots = match_slots(self._slot_means, self._slots, means, scale)
        order = np.argsort(slots)
        weights, means, covariances, slots = (
            weights[order],
            means[order],
            covariances[order],
            slots[order],
        )
        self._slot_means, self._slots = means, slots
        labels, grouped, starts, group_colors, mean_ll = self._points_layer(
            X, weights, means, covariances, slots, exact=final
        )
        bounds = self._layer["bounds"] if self._layer is not None else None
        if not np.isfinite(mean_ll) and state in ("refining", "training"):
            mean_ll = float(getattr(model, "lower_bound_", np.nan))
        x, y, connect, ring_component = ellipse_outlines(means, covariances)
        bic = float("nan")
        if n and np.isfinite(mean_ll):
            bic = -2.0 * mean_ll * n + _n_parameters(len(weights)) * np.log(n)
        return ModelSnapshot(
            request_id=request.request_id,
            generation=request.generation,
            n_points=n,
            weights=frozen(weights),
            means=frozen(means),
            covariances=frozen(covariances),
            colors=frozen(slots),
            outline_x=frozen(x),
            outline_y=frozen(y),
            outline_connect=frozen(connect),
            ring_component=frozen(ring_component),
            labels=labels,
            grouped_points=grouped,
            group_starts=starts,
            group_colors=group_colors,
            grouped_bounds=bounds,
            mean_log_likelihood=float(mean_ll),
            bic=float(bic),
            n_iter=n_iter,
            state=state,
            final=final,
        )

    def _points_layer(self, X, weights, means, covariances, slots, *, exact: bool):
        """Labels, points grouped by component, and the mean log-likelihood.

        Small data is labelled and grouped in every snapshot. Large data only in the last
        snapshot of a request: in between, the previous grouping is sent again (the same
        arrays, so the canvas skips redrawing them) and points added since are drawn as
        pending.

        Returns
        -------
        labels : ndarray of shape (m,)
            Component (snapshot order) of each of the first ``m`` points.
        grouped : ndarray of shape (m, 2)
        starts : ndarray of shape (G + 1,)
        group_colors : ndarray of shape (G,)
            Palette slot of each group.
        mean_log_likelihood : float
        """
        n = X.shape[0]
        index_of_slot = np.full(int(slots.max(initial=0)) + 1, -1, dtype=np.int64)
        index_of_slot[slots] = np.arange(len(slots))
        layer = self._layer
        if (
            not exact
            and n > LARGE_N
            and layer is not None
            and layer["grouped"].shape[0] <= n
            and set(layer["group_colors"].tolist()) <= set(slots.tolist())
        ):
            if not np.array_equal(layer["slots"], slots):
                layer["labels"] = frozen(index_of_slot[layer["slot_labels"]], dtype=np.int16)
                layer["slots"] = slots
            return (
                layer["labels"],
                layer["grouped"],
                layer["starts"],
                layer["group_colors"],
                self._mean_log_likelihood if layer["grouped"].shape[0] == n else np.nan,
            )
        labels, total = labels_and_log_likelihood(
            X, weights, means, covariances, cancelled=self.cancelled
        )
        grouped, starts = group_by_label(X, labels, len(slots))
        bounds = None
        if n:
            low, high = X.min(axis=0), X.max(axis=0)
            bounds = (float(low[0]), float(low[1]), float(high[0]), float(high[1]))
        self._layer = {
            "bounds": bounds,
            "slot_labels": slots[labels] if n else np.zeros(0, dtype=np.int64),
            "labels": frozen(labels),
            "grouped": frozen(grouped),
            "starts": frozen(starts),
            "group_colors": frozen(slots),
            "slots": slots,
        }
        self._mean_log_likelihood = total / n if n else float("nan")
        layer = self._layer
        return (
            layer["labels"],
            layer["grouped"],
            layer["starts"],
            layer["group_colors"],
            self._mean_log_likelihood,
        )


class Mailbox:
    """Holds the newest request for the worker; posting a new one cancels the running one.

    A queued signal would wait behind a busy worker's loop, so cancellation is a
    ``threading.Event`` the worker checks between passes.
    """

    def __init__(self):
        self._lock = threading.Lock()
        self._pending: TrainingRequest | None = None
        self._closed = False
        self.cancelled = threading.Event()

    def post(self, request: TrainingRequest) -> None:
        """Leave ``request`` for the worker, replacing any request not yet taken."""
        with self._lock:
            if self._closed:
                return
            if self._pending is not None and self._pending.train and not request.train:
                request = dataclasses.replace(request, train=True)  # Train is not lost
            self._pending = request
            self.cancelled.set()

    def take(self) -> TrainingRequest | None:
        """The newest request (clearing the cancel flag), or None."""
        with self._lock:
            request, self._pending = self._pending, None
            if request is not None and not self._closed:
                self.cancelled.clear()
                return request
            return None

    def close(self) -> None:
        """Refuse further requests and cancel the running one."""
        with self._lock:
            self._closed = True
            self._pending = None
            self.cancelled.set()

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._closed


class TrainingWorker(QObject):
    """Lives in the worker thread; never touches a widget."""

    snapshot_ready = Signal(object)  # ModelSnapshot
    failed = Signal(int, str)  # request id, message

    def __init__(self, mailbox: Mailbox):
        super().__init__()
        self._mailbox = mailbox
        self.trainer = Trainer(self.snapshot_ready.emit, mailbox.cancelled)

    @Slot()
    def configure_thread(self) -> None:
        """Run once in the worker thread when it starts: its own torch thread count."""
        torch.set_num_threads(WORKER_TORCH_THREADS)  # thread-local

    @Slot()
    def process(self) -> None:
        """Serve the newest waiting request, if any (several wake-ups may find none)."""
        request = self._mailbox.take()
        if request is None:
            return

        try:
            self.trainer.run(request)
        except Exception as error:  # a bad model must not kill the thread
            _log.exception("training failed")
            self.failed.emit(request.request_id, f"{type(error).__name__}: {error}")
