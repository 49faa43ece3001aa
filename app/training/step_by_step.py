"""Learning one pass at a time, in two halves a person can look at.

The step buttons send two requests per pass: ``step == "e"`` shows the current
parameters with the points labelled by their responsibilities under them (the E-step),
``step == "m"`` runs the pass itself (one EM pass, or one Adam step for the gradient
trainer). :class:`StepByStep` counts the passes since the model was started and says
when a pass no longer changes the fit.

No Qt and no thread here; the model is created and owned by :class:`app.training.trainer.Trainer`.
"""

from __future__ import annotations

import dataclasses

from ..state.messages import TrainingRequest
from .estimators import Estimator, e_step_view
from .snapshot_publisher import SnapshotPublisher

#: A pass that changes the mean log-likelihood by less than this counts as converged
#: (Play stops there).
STEP_TOL = 1e-4


class StepByStep:
    """The two halves of a pass, each answered by one final snapshot.

    Parameters
    ----------
    publisher : SnapshotPublisher
        Builds and sends the snapshots (shared with the trainer).
    """

    def __init__(self, publisher: SnapshotPublisher):
        self._publisher = publisher
        self.reset()

    def reset(self) -> None:
        """A new model: count passes from zero."""
        self.passes = 0
        self._last_log_likelihood = float("nan")

    def e_step(self, request: TrainingRequest, model: Estimator) -> None:
        """Send the parameters of ``model`` (or of its start) with the points labelled."""
        view, label = e_step_view(model, request.covariance_type)
        self._publisher.builder.forget_points()
        n = request.points.shape[0]
        snapshot = self._publisher.builder.build(
            request, view, n, "e-step", self.passes, final=True, label=label
        )
        self._publisher.send(snapshot)

    def m_step(self, request: TrainingRequest, model: Estimator) -> None:
        """Run one pass of ``model`` over all the request's points and send the result.

        The snapshot's ``n_iter`` counts the passes since the model was started; its
        state is ``"converged"`` once a pass changes the mean log-likelihood by less
        than :data:`STEP_TOL`.
        """
        X = request.points
        for _ in model.iter_fit(X, max_iter=1):
            pass
        self.passes += 1
        self._publisher.builder.forget_points()
        snapshot = self._publisher.snapshot(
            request, model, X.shape[0], "m-step", self.passes, final=True
        )
        change = abs(snapshot.log_likelihood - self._last_log_likelihood)
        self._last_log_likelihood = snapshot.log_likelihood
        if change < STEP_TOL:
            snapshot = dataclasses.replace(snapshot, state="converged")
        self._publisher.send(snapshot)
