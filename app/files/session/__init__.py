"""The session file: its format, its arrays' encoding, the window's saved settings, autosave."""
