"""Incremental EM for Gaussian mixtures: the engine behind ``GaussianMixture.partial_fit``.

Modules, each owning its own state:

- :mod:`.engine`: :class:`IncrementalEM`, the per-point path, publishing and sweeps.
- :mod:`.state`: :class:`~.state.Settings`, :class:`~.state.DataScale` and
  :class:`~.state.OnlineState`, the explicit state the other modules are given.
- :mod:`.statistics`: sufficient statistics, the exact Welford step and merge.
- :mod:`.gaussian`: published covariances (through ``gmm_core.covariance_types``),
  Cholesky factors and the one log-density.
- :mod:`.expectation`: the E-step of a chunk in numpy blocks.
- :mod:`.chunks`: chunk updates and the batch initialisation of missing components.
- :mod:`.buffer`: the bounded buffer of recent points.
- :mod:`.schedule`: when sweeps run.
- :mod:`.structure`: EM on the buffer, split and split-then-merge.
- :mod:`.serialization`: ``to_dict`` / ``from_dict``.
"""

from .engine import IncrementalEM

__all__ = ["IncrementalEM"]
