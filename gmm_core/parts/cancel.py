"""Cancellation shared by gmm_core's long computations (no torch, so cheap to import)."""


class Cancelled(Exception):
    """Raised by a cancellable computation once its cancel flag is set."""
