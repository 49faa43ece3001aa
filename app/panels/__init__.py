"""The window's docks, dialogs, status line and insight panels.

Above :mod:`app.canvas`, :mod:`app.training` and :mod:`app.files`, which they show and
steer.
"""
