"""GMM Playground, the desktop program: click points, watch a Gaussian mixture learn them.

The shell (this folder: start, main window, menus, actions, the model flow) wires five
rooms, whose imports run one way (``pyproject.toml``'s import-linter contract):

- :mod:`app.state`: what every part shares and no part owns;
- :mod:`app.training`, :mod:`app.canvas`, :mod:`app.files`: on top of ``state``, never
  importing each other;
- :mod:`app.panels`: docks, dialogs and the status line, above them.

The data flows one way: an edit of the session (:mod:`app.state.session`) asks the training
controller (:mod:`app.training.controller`) for a model; its job runs gmm_core in a
background thread (:mod:`app.state.threads`); a frozen
:class:`app.state.messages.ModelSnapshot` comes back and the canvas draws it.
"""

__all__ = ["__version__"]

__version__ = "0.1.0"
