"""The window's docks, dialogs, status line and insight panels (above canvas, training
and files, which they show and steer)."""
