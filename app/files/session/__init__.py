"""The session file: its format, its arrays, the window's saved settings, autosave."""
