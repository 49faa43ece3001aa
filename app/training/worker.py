"""What runs in the training thread: :class:`TrainingJob`, set up there and served there.

The job is handed to an :class:`app.state.threads.BackgroundThread` by the training
controller. Its :meth:`~TrainingJob.set_up` imports :mod:`app.training.trainers` (and with
it torch and gmm_core, about a second) in the thread once it has started, so the window
shows first; a request posted meanwhile waits in the mailbox. What to compute is decided
in :mod:`app.training.trainers`, not here.
"""

from __future__ import annotations

import dataclasses
import threading

from ..state.messages import TrainingRequest
from ..state.threads import JobContext


def merge_requests(waiting: TrainingRequest, new: TrainingRequest) -> TrainingRequest:
    """The request to serve when ``new`` replaces ``waiting`` before it was taken.

    Newest wins, but a waiting Train is not lost to a click, nor a waiting start (an
    opened session's model) to the next edit.
    """
    changes = {}
    if waiting.train and not new.train:
        changes["train"] = True
    if waiting.start is not None and new.start is None:
        changes["start"] = waiting.start
    if not changes:
        return new
    return dataclasses.replace(new, **changes)


class TrainingJob:
    """The training thread's job: :meth:`set_up` once, then :meth:`serve` each request."""

    def __init__(self):
        self.trainers = None  # an app.training.trainers.Trainers once set up

    def set_up(self, context: JobContext) -> None:
        """Import the training code (torch, gmm_core) in this thread and build the trainers.

        Snapshots go out through ``context.send`` as they are made.
        """
        from . import trainers  # deliberately late: torch loads in this thread only

        trainers.configure_thread()
        self.trainers = trainers.Trainers(context.send, context.cancelled)

    def serve(self, request: TrainingRequest, cancelled: threading.Event) -> None:
        """Train for ``request``; its snapshots are sent while it runs."""
        self.trainers.run(request)
