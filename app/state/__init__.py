"""What every part of the program shares and no part owns: the session and its undo
commands, column names, the messages between threads, the one background-thread owner,
presets, colours and geometry."""
