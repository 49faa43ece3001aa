"""Benchmark start-up: process start to a painted window, GMM Playground against bare Qt.

Each run is a fresh ``python -c`` subprocess that builds one window, shows it and waits
for its first frame:

- ``bare``: a ``QMainWindow`` holding one empty pyqtgraph ``PlotWidget``;
- ``app``: GMM Playground's ``app.main_window.MainWindow``.

Both set pyqtgraph's ``antialias=True`` as the program's ``python -m app`` does, and are
sized 1000 x 720. Runs alternate (bare, app, then app, bare, ...) after one uncounted
warm-up of each, so that the disk cache and a busy machine favour neither.

What is timed. The parent reads ``time.monotonic()`` just before it spawns the child;
the child reads the same clock (``CLOCK_MONOTONIC`` on Linux: one clock for every
process) at these moments, and the script prints each as time since that spawn:

- ``python``: the child's first line runs (interpreter start-up);
- ``imports``: Qt, pyqtgraph and (for ``app``) the program's modules imported;
- ``built``: ``QApplication`` and the window constructed, just before ``show()``;
- ``paint``: a widget of the window receives the window's first ``Paint`` event (an
  event filter on every widget in it; Qt paints nothing before the window is exposed,
  so this is also the first moment anything of it can be on screen);
- ``frame``: that first frame is finished. A high-priority event posted from the paint
  filter is delivered as soon as the event that does the painting (the window's
  update or expose, which paints every widget and flushes the result to the window)
  returns, ahead of ordinary queued work, so work the program defers until after
  ``show()`` with ``QTimer.singleShot(0, ...)`` is not counted here, while work done
  before the first frame (or holding the GIL from another thread meanwhile) is.

``frame`` is the headline number. Memory is the child's resident set
(``VmRSS`` from ``/proc/self/status``, Linux only) read at ``frame``.

Run from the repository root: ``python benchmarks/bench_startup.py [--runs 5]``.
Headless by default (``QT_QPA_PLATFORM=offscreen``); with ``DISPLAY`` (or
``WAYLAND_DISPLAY``) set and ``QT_QPA_PLATFORM`` unset, the windows open on that display.
``--platform`` picks a Qt platform plugin explicitly.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

KINDS = ("bare", "app")
STAGES = ("python", "imports", "built", "paint", "frame")

# The child: argv[1] is the kind. It prints one JSON line and exits at once (os._exit:
# tearing down a worker thread or the interpreter is not start-up).
CHILD = r"""
import time
t = {"python": time.monotonic()}
import json, os, sys
kind = sys.argv[1]
from PySide6.QtCore import QCoreApplication, QEvent, QObject, Qt
from PySide6.QtWidgets import QApplication, QMainWindow, QWidget
import pyqtgraph as pg
if kind == "app":
    from app.main_window import MainWindow
t["imports"] = time.monotonic()


def rss_kib():
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        return None


FRAME_DONE = QEvent.Type(QEvent.registerEventType())


class FirstFrame(QObject):
    def eventFilter(self, obj, event):
        if event.type() == QEvent.Type.Paint and "paint" not in t:
            t["paint"] = time.monotonic()
            try:
                high = Qt.EventPriority.HighEventPriority.value
                QCoreApplication.postEvent(self, QEvent(FRAME_DONE), high)
            except BaseException:
                import traceback
                traceback.print_exc()
                os._exit(1)
        return False

    def event(self, event):
        if event.type() != FRAME_DONE:
            return super().event(event)
        t["frame"] = time.monotonic()
        result = {
            "times": t,
            "rss_kib": rss_kib(),
            "platform": QApplication.platformName(),
            "size": [window.width(), window.height()],
        }
        sys.stdout.write(json.dumps(result) + "\n")
        sys.stdout.flush()
        os._exit(0)


pg.setConfigOptions(antialias=True)
qapp = QApplication([sys.argv[0]])
if kind == "app":
    window = MainWindow(restore_autosave=False)
else:
    window = QMainWindow()
    window.setCentralWidget(pg.PlotWidget())
window.resize(1000, 720)
first_frame = FirstFrame()
for widget in window.findChildren(QWidget):  # the top-level gets no Paint events itself
    widget.installEventFilter(first_frame)
t["built"] = time.monotonic()
window.show()
qapp.exec()
sys.exit("the event loop ended before the window painted")
"""


def run_once(kind: str, env: dict, timeout: float) -> dict:
    """Spawn one child; its stage times in seconds since the spawn, and its RSS."""
    spawned = time.monotonic()
    try:
        proc = subprocess.run(
            [sys.executable, "-c", CHILD, kind],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired as error:
        message = f"{kind} child painted nothing in {timeout} s:\n{error.stderr}"
        raise RuntimeError(message) from None
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(
            f"{kind} child failed (exit {proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
        )
    result = json.loads(lines[-1])
    result["times"] = {k: v - spawned for k, v in result["times"].items()}
    return result


def child_env(platform: str | None) -> dict:
    """The environment of a child: this one, the repository importable, the platform."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    # A child ends with os._exit, which a real program would call a crash: its autosave
    # and settings go to a folder of their own, not the person's.
    env["GMM_PLAYGROUND_DATA_DIR"] = tempfile.mkdtemp(prefix="gmm-bench-startup-")
    if platform:
        env["QT_QPA_PLATFORM"] = platform
    elif not (env.get("DISPLAY") or env.get("WAYLAND_DISPLAY")):
        env.setdefault("QT_QPA_PLATFORM", "offscreen")
    return env


def main(argv: list[str] | None = None) -> int:
    """Measure, print a table of medians and the app/bare ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="counted runs of each (default 5)")
    parser.add_argument("--warmup", type=int, default=1, help="uncounted runs of each first")
    parser.add_argument("--platform", help="Qt platform plugin (default: see module docstring)")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds per child")
    args = parser.parse_args(argv)

    env = child_env(args.platform)
    results: dict[str, list[dict]] = {kind: [] for kind in KINDS}
    for _ in range(args.warmup):
        for kind in KINDS:
            run_once(kind, env, args.timeout)
    for i in range(args.runs):
        for kind in KINDS if i % 2 == 0 else KINDS[::-1]:
            results[kind].append(run_once(kind, env, args.timeout))

    platform = results["app"][0]["platform"]
    print(
        f"start-up to first painted frame, median of {args.runs} fresh processes each "
        f"(Qt platform {platform!r}, Python {sys.version.split()[0]})"
    )
    print(f"{'seconds since spawn':<22}" + "".join(f"{s:>9}" for s in STAGES) + f"{'RSS MiB':>10}")
    medians = {}
    for kind in KINDS:
        times = {s: statistics.median(r["times"][s] for r in results[kind]) for s in STAGES}
        rss = [r["rss_kib"] for r in results[kind] if r["rss_kib"] is not None]
        rss_mib = statistics.median(rss) / 1024 if rss else float("nan")
        medians[kind] = (times, rss_mib)
        row = "".join(f"{times[s]:9.3f}" for s in STAGES)
        print(f"{kind:<22}{row}{rss_mib:10.1f}")
    (bare, bare_rss), (app, app_rss) = medians["bare"], medians["app"]
    print(f"{'ratio app/bare':<22}" + "".join(f"{app[s] / bare[s]:9.2f}" for s in STAGES), end="")
    print(f"{app_rss / bare_rss:10.2f}")
    frames = {kind: [round(r["times"]["frame"], 3) for r in results[kind]] for kind in KINDS}
    print(f"frame times, s: bare {frames['bare']}  app {frames['app']}")
    print(
        f"app/bare, time to first frame: {app['frame'] / bare['frame']:.2f}x "
        f"({app['frame']:.3f} s vs {bare['frame']:.3f} s); "
        f"resident memory: {app_rss / bare_rss:.2f}x ({app_rss:.0f} MiB vs {bare_rss:.0f} MiB)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
