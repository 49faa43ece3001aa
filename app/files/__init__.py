"""Everything on disk.

Documents (open, save, new), reading tables in the background, session files, autosave,
atomic writes, exports, recent files, settings, shipped data. Imports only
:mod:`app.state`.
"""
