"""GMM Playground, the desktop program: click points, watch a Gaussian mixture learn them.

The data flows one way: an edit of the :mod:`app.session` (points and undo stack) makes
the window ask the :mod:`app.controller` for a model of the session's points; the
controller hands a request to the :mod:`app.worker` thread, where :mod:`app.training`
runs :mod:`gmm_core`; a frozen :class:`app.snapshot.ModelSnapshot` comes back and the
:mod:`app.canvas` draws it.
"""

__all__ = ["__version__"]

__version__ = "0.1.0"
