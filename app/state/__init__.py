"""What every part of the program shares and no part owns.

The session and its undo commands, column names, the messages between threads, the one
owner of background threads, presets, colours and geometry. Imports nothing else of app.
"""
