"""Guards against the PySide6 release that leaks a reference to True on every emit.

PySide6 6.12.0 on CPython 3.11 loses one reference to ``True`` per ``Signal.emit``; the
interpreter aborts after a few thousand. pyproject.toml keeps that release out; this
test fails on any release that brings the leak back.
"""

import sys

from PySide6.QtCore import QCoreApplication, QObject, Signal


class Emitter(QObject):
    changed = Signal(object)  # value
    toggled = Signal(bool)  # state
    pinged = Signal()


def test_ten_thousand_emits_leave_true_false_and_none_reference_counts_alone(qapp):
    assert QCoreApplication.instance() is not None
    emitter = Emitter()
    received = []
    emitter.changed.connect(received.append)
    emitter.toggled.connect(received.append)
    emitter.pinged.connect(lambda: received.append(None))
    before = [sys.getrefcount(value) for value in (True, False, None)]
    for index in range(10_000):
        emitter.changed.emit(index % 2 == 0)
        emitter.toggled.emit(index % 3 == 0)
        emitter.pinged.emit()
        emitter.changed.emit(None)
    received.clear()
    after = [sys.getrefcount(value) for value in (True, False, None)]
    assert [a - b for a, b in zip(after, before, strict=True)] == [0, 0, 0]
