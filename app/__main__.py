"""Start GMM Playground: ``gmm-playground [points.csv]`` or ``python -m app [points.csv]``."""

from __future__ import annotations

import argparse
import gc
import signal
import sys


def main(argv: list[str] | None = None) -> int:
    """Open the main window (and the file given, if any); returns the exit status."""
    parser = argparse.ArgumentParser(
        prog="gmm-playground",
        description="Click points onto a canvas and watch a Gaussian mixture learn them.",
    )
    parser.add_argument(
        "file", nargs="?", help="a session (.gmmsession) or a CSV file of points (x, y)"
    )
    args, qt_args = parser.parse_known_args(sys.argv[1:] if argv is None else argv)

    import pyqtgraph as pg
    from pyqtgraph.util.garbage_collector import GarbageCollector
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from .files.resources import app_icon
    from .main_window import MainWindow

    pg.setConfigOptions(antialias=True)
    app = QApplication.instance() or QApplication([sys.argv[0], *qt_args])
    app.setApplicationName("GMM Playground")
    app.setOrganizationName("gmm-playground")
    app.setDesktopFileName("gmm-playground")
    app.setWindowIcon(app_icon())
    # Python's collector would otherwise run in whichever thread allocates, the worker
    # included, and a Qt object freed there deadlocks against the GUI thread.
    collector = GarbageCollector(interval=1.0)
    window = MainWindow()
    app.aboutToQuit.connect(window.shutdown)
    # Ctrl+C in the terminal quits cleanly: Python runs signal handlers only between
    # bytecodes, so a timer lets the interpreter look now and then.
    previous_handler = signal.signal(signal.SIGINT, lambda *_: app.quit())
    heartbeat = QTimer()
    heartbeat.timeout.connect(lambda: None)
    heartbeat.start(250)
    window.show()
    if args.file:
        window.open_file(args.file)
    try:
        return app.exec()
    finally:
        heartbeat.stop()
        window.shutdown()
        collector.timer.stop()
        gc.enable()
        signal.signal(signal.SIGINT, previous_handler)


if __name__ == "__main__":
    sys.exit(main())
