"""The worker thread's entry into training: :class:`Trainers` routes each request.

The worker imports this module once its thread has started (it imports torch through
:mod:`app.training.trainer`); :func:`configure_thread` sets that thread's torch threads.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable

import torch

from ..state.messages import COMPARE_ALL, TRAINERS, ModelSnapshot, TrainingRequest
from .snapshot_builder import PaletteSlots
from .trainer import Trainer

#: torch threads of the worker thread: one core stays free for the GUI thread, and no
#: OpenMP barrier waits on a thread the OS has descheduled.
WORKER_TORCH_THREADS = max(1, (os.cpu_count() or 2) - 1)


def configure_thread() -> None:
    """Set the calling thread's torch thread count (a per-thread setting)."""
    torch.set_num_threads(WORKER_TORCH_THREADS)


class Trainers:
    """One :class:`Trainer` per way of learning, sharing colours and the cancel flag.

    The worker hands every request here: it goes to the trainer the request names, or
    to all three for ``"Compare all"``, interleaved pass by pass (each emitting its own
    snapshots), so that they learn at once.
    """

    def __init__(self, emit: Callable[[ModelSnapshot], None], cancelled: threading.Event):
        self.cancelled = cancelled
        palette = PaletteSlots()
        self.trainers = {
            kind: Trainer(emit, cancelled, kind=kind, palette=palette) for kind in TRAINERS
        }

    def run(self, request: TrainingRequest) -> None:
        """Serve ``request`` with the trainer(s) it names."""
        if request.trainer != COMPARE_ALL:
            self.trainers[request.trainer].run(request)
            return
        running = [self.trainers[kind].steps(request) for kind in TRAINERS]
        while running:
            for steps in list(running):
                if next(steps, StopIteration) is StopIteration:
                    running.remove(steps)
