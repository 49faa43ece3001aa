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

import threading
import time
from collections.abc import Callable, Generator, Iterator

import numpy as np

from gmm_core import (
    BayesianGaussianMixture,
    Cancelled,
    GaussianMixture,
    GradientGaussianMixture,
)

from ..state.messages import TRAINERS, ModelSnapshot, ModelStart, TrainingRequest
from .estimators import (
    Estimator,
    at_most_one_component_per_point,
    fresh_model,
    gradient_epochs,
    repaired_model,
)
from .snapshot_builder import PaletteSlots, SnapshotBuilder
from .snapshot_publisher import SnapshotPublisher
from .step_by_step import StepByStep

#: Rows per ``partial_fit`` call when many points arrive at once; cancellation is
#: checked between chunks.
CHUNK_ROWS = 20_000

#: Up to this many points, each update also tries a fresh k-means start (see
#: :meth:`Trainer._try_fresh_start`).
FRESH_START_LIMIT = 5_000

#: Passes of a Train restart at least, whatever the epochs spin box says.
TRAIN_MIN_PASSES = 100

ONLINE, BATCH, GRADIENT, VARIATIONAL = TRAINERS

#: Passes at least of a variational fit: unneeded components die out slowly (a few
#: dozen passes), and a converged fit stops early.
VARIATIONAL_MIN_PASSES = 200


class Trainer:
    """Turns requests into snapshots, with no Qt and no thread: one way of learning.

    ``"Online EM"`` answers each change incrementally, then refines with warm-started EM
    passes; ``"Batch EM"`` refits from a fresh k-means start after each change;
    ``"Gradient (Adam)"`` trains a :class:`gmm_core.GradientGaussianMixture`, warm
    across changes, for :func:`gradient_epochs` steps; ``"Variational (auto K)"`` refits
    a :class:`gmm_core.BayesianGaussianMixture` from a fresh k-means start of
    ``n_components`` after each change, for up to :data:`VARIATIONAL_MIN_PASSES` passes,
    and the components it does not need die out. Requests with ``step`` set run
    one pass in two halves instead (:class:`app.training.step_by_step.StepByStep`); ``repair``
    re-seeds collapsed components first (see :meth:`_repair`).

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
    kind : str
        One of :data:`app.state.messages.TRAINERS`.
    palette : PaletteSlots, optional
        Shared between trainers, so that they colour the same clusters alike.
    """

    def __init__(
        self,
        emit: Callable[[ModelSnapshot], None],
        cancelled: threading.Event | None = None,
        min_interval_s: float = 1.0 / 30.0,
        clock: Callable[[], float] = time.perf_counter,
        kind: str = ONLINE,
        palette: PaletteSlots | None = None,
    ):
        if kind not in TRAINERS:
            raise ValueError(f"kind must be one of {TRAINERS}, got {kind!r}")
        self.kind = kind
        self.cancelled = cancelled if cancelled is not None else threading.Event()
        self._clock = clock
        self._snapshots = SnapshotBuilder(palette=palette, trainer=kind)
        self._publisher = SnapshotPublisher(
            emit, self._snapshots, self.check, min_interval_s=min_interval_s, clock=clock
        )
        self._stepper = StepByStep(self._publisher)
        self.reset()

    # -- state -------------------------------------------------------------------------

    def reset(self) -> None:
        """Forget the model and everything learnt."""
        self.model: Estimator | None = None
        self._generation: int | None = None
        self._n_fitted = 0  # the model has learnt points[:_n_fitted] of this generation
        self._snapshots.forget_points()
        self._stepper.reset()

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
        for _ in self.steps(request):
            pass

    def steps(self, request: TrainingRequest) -> Iterator[None]:
        """:meth:`run` one pass at a time: yields after each pass (or Adam step).

        :class:`app.training.trainers.Trainers` interleaves the trainers of "Compare all" with it,
        so that the three learn at once.
        """
        model = self.model
        if model is not None and (
            model.covariance_type != request.covariance_type
            or getattr(model, "n_features_in_", request.points.shape[1]) != request.points.shape[1]
        ):
            self.reset()  # another covariance type, or other columns: start afresh
        if request.start is not None:
            self._adopt(request.start)
        try:
            if request.points.shape[0] == 0:
                self.reset()
                self._publisher.send(self._snapshots.empty(request))
            elif request.step:
                self._step(request)
            elif request.repair and self._repair(request):
                yield from self._refine_and_finish(request)
            elif request.train:
                yield from self._train(request)
            elif self.kind in (BATCH, VARIATIONAL):
                yield from self._fresh_fit(request, self._clock(), budget=True)
            elif self.kind == GRADIENT:
                yield from self._gradient(request)
            else:
                yield from self._update(request)
        except Cancelled:
            pass  # a newer request waits in the mailbox; the model kept is valid
        except Exception:
            self.reset()
            # No model of these points: the one drawn is of others. Then the error.
            self._publisher.send(self._snapshots.empty(request))
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

    def _update(self, request: TrainingRequest) -> Iterator[None]:
        X = request.points
        n = X.shape[0]
        started = self._clock()
        model = self.model
        same_shape = model is not None and model.n_components == request.n_components
        same_shape = same_shape and isinstance(model, GaussianMixture)
        fitted = same_shape and getattr(model, "means_", None) is not None
        if same_shape and self._generation == request.generation and self._n_fitted <= n:
            min_passes = 0  # the model has seen a prefix of the points: learn the rest
        elif fitted and model.means_.shape[0] <= n:
            # Points were removed or replaced (undo, open): keep the parameters, relearn
            # them from all points with at least one EM pass.
            self._generation, self._n_fitted, min_passes = request.generation, n, 1
            self._snapshots.forget_points()
        elif n >= request.n_components:
            yield from self._fresh_fit(request, started)
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
        state, n_iter = yield from self._refine(
            request, started, min_passes=min_passes, budget=True
        )
        yield from self._try_fresh_start(request)
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
            covariance_type=request.covariance_type,
            reg_covar=request.reg_covar,
            max_iter=max(1, request.epochs),
            random_state=request.seed,
        )
        self._generation = request.generation

    def _fresh_fit(
        self, request: TrainingRequest, started: float, *, budget=False
    ) -> Iterator[None]:
        """A k-means start on all points, then EM passes (a time budget if ``budget``)."""
        self.reset()
        request = at_most_one_component_per_point(request)
        self.model = self._fresh_model(request, request.seed)  # reset stays on Cancelled
        self._generation = request.generation
        state, n_iter = yield from self._refine(
            request, started, min_passes=1, budget=budget, fresh=True
        )
        self._emit_snapshot(request, state, n_iter, final=True, force=True)

    def _fresh_model(
        self, request: TrainingRequest, seed: int, *, gradient: bool | None = None
    ) -> Estimator:
        """A k-means start (:func:`app.training.estimators.fresh_model`), gradient for this kind."""
        gradient = self.kind == GRADIENT if gradient is None else gradient
        # A variational fit takes its priors from the data: one point is an EM fit's.
        variational = self.kind == VARIATIONAL and not gradient and request.points.shape[0] > 1
        return fresh_model(
            request, seed, gradient=gradient, cancelled=self.cancelled, variational=variational
        )

    def _refine(
        self,
        request: TrainingRequest,
        started: float,
        *,
        min_passes: int,
        budget: bool,
        fresh: bool = False,
    ) -> Generator[None, None, tuple[str, int]]:
        """Up to ``epochs`` warm-started EM passes over all points, with progress snapshots.

        Yields after each pass; returns the final state (``"converged"`` or
        ``"stopped"``) and the passes run.
        """
        X = request.points
        passes = max(request.epochs, min_passes)
        if isinstance(self.model, GradientGaussianMixture):
            passes = max(gradient_epochs(X.shape[0], request.epochs), min_passes)
        elif isinstance(self.model, BayesianGaussianMixture):
            passes = max(passes, VARIATIONAL_MIN_PASSES)
        state, n_iter = "stopped", 0
        for n_iter, model in enumerate(self.model.iter_fit(X, max_iter=passes), start=1):
            self._n_fitted = X.shape[0]
            if fresh and n_iter == 1:
                self._emit_snapshot(request, "refining", n_iter, final=False, force=True)
            # Adam runs all its epochs, as the original design did; EM stops converged.
            if model.converged_ and not isinstance(model, GradientGaussianMixture):
                state = "converged"
                break
            self.check()
            if budget and self._clock() - started > request.time_budget_s:
                break
            if n_iter < passes and self._publisher.due():
                self._emit_snapshot(request, "refining", n_iter, final=False)
            yield
        return state, n_iter

    def _try_fresh_start(self, request: TrainingRequest) -> Iterator[None]:
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
        candidate = self._fresh_model(request, request.seed, gradient=False)
        for _ in candidate.iter_fit(X, max_iter=max(request.epochs, 20)):
            self.check()
            yield
        if self.model.bic(X) - candidate.bic(X) > 2.0 * max(1.0, 1e-3 * n):
            self.model = candidate
            self._snapshots.forget_points()

    def _train(self, request: TrainingRequest) -> Iterator[None]:
        """Refit from scratch: ``n_init`` k-means starts, each EM to convergence; keep the best.

        Cancelled, it keeps the best model fitted so far (or the one being fitted, or
        none before the first pass).
        """
        X = request.points
        n = X.shape[0]
        request = at_most_one_component_per_point(request)
        passes = max(request.epochs, TRAIN_MIN_PASSES)
        if self.kind == GRADIENT:
            passes = max(passes, gradient_epochs(n, request.epochs))
        elif self.kind == VARIATIONAL:
            passes = max(passes, VARIATIONAL_MIN_PASSES)
        self.reset()
        self._generation = request.generation
        best: GaussianMixture | None = None
        try:
            for restart in range(max(1, request.n_init)):
                candidate = self._fresh_model(request, request.seed + restart)
                for n_iter, _ in enumerate(candidate.iter_fit(X, max_iter=passes), start=1):
                    self.model, self._n_fitted = candidate, n
                    self.check()
                    if not candidate.converged_ and self._publisher.due():
                        self._emit_snapshot(request, "training", n_iter, final=False)
                    yield
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

    def _gradient(self, request: TrainingRequest) -> Iterator[None]:
        """Adam steps on all points, warm from the last model when its shape still fits."""
        model = self.model
        if (
            isinstance(model, GradientGaussianMixture)
            and model.n_components == request.n_components
            and self._generation is not None
            and getattr(model, "means_", None) is not None
        ):
            self._generation, self._n_fitted = request.generation, request.points.shape[0]
            yield from self._refine_and_finish(request)
        else:
            yield from self._fresh_fit(request, self._clock(), budget=True)

    def _refine_and_finish(self, request: TrainingRequest) -> Iterator[None]:
        """Passes from the current model (warm, or after a repair), then the final snapshot."""
        self._snapshots.forget_points()
        state, n_iter = yield from self._refine(request, self._clock(), min_passes=1, budget=True)
        self._emit_snapshot(request, state, n_iter, final=True, force=True)

    def _repair(self, request: TrainingRequest) -> bool:
        """Re-seed the collapsed components (:func:`app.training.estimators.repaired_model`).

        Returns False (nothing done) when there is no model or nothing is collapsed.
        """
        if self.kind == VARIATIONAL:
            return False  # its unused components are no collapse: they are let die
        model = repaired_model(self.model, request, gradient=self.kind == GRADIENT)
        if model is None:
            return False
        self.model = model
        self._generation, self._n_fitted = request.generation, request.points.shape[0]
        return True

    def _step(self, request: TrainingRequest) -> None:
        """One half of a pass, step by step (see :class:`app.training.step_by_step.StepByStep`).

        A new model first, from k-means, when there is none of the request's shape.
        """
        request = at_most_one_component_per_point(request)
        kind = {GRADIENT: GradientGaussianMixture, VARIATIONAL: BayesianGaussianMixture}.get(
            self.kind, GaussianMixture
        )
        model = self.model
        if not (isinstance(model, kind) and model.n_components == request.n_components):
            self.reset()
            self.model = self._fresh_model(request, request.seed)
            self._generation = request.generation
        if request.step == "e":
            self._stepper.e_step(request, self.model)
        else:
            self._stepper.m_step(request, self.model)
            self._n_fitted = request.points.shape[0]

    # -- snapshots -----------------------------------------------------------------------

    def _emit_snapshot(
        self, request: TrainingRequest, state: str, n_iter: int, *, final: bool, force=False
    ) -> None:
        if force or self._publisher.due():
            snapshot = self._publisher.snapshot(
                request, self.model, self._n_fitted, state, n_iter, final=final
            )
            self._publisher.send(snapshot)
