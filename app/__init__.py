"""GMM Playground, the desktop program: click points, watch a Gaussian mixture learn them.

The data flows one way: the :mod:`app.session` (points and undo stack) asks the
:mod:`app.controller` for a model, the controller hands a request to the
:mod:`app.worker` thread, the worker runs :mod:`gmm_core` and sends back a frozen
:class:`app.snapshot.ModelSnapshot`, and the :mod:`app.canvas` draws it.
"""

__all__ = ["__version__"]

__version__ = "0.1.0"
