"""Progress bars on stderr (tqdm): shown on a terminal, silent when piped or with --quiet."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager

from tqdm import tqdm


class Progress:
    """Makes the command's bars; all of them disabled unless stderr is a terminal.

    Parameters
    ----------
    quiet : bool
        ``--quiet``: no bars even on a terminal.
    """

    def __init__(self, quiet: bool) -> None:
        self.shown = not quiet and sys.stderr.isatty()

    def _bar(self, **options) -> tqdm:
        return tqdm(file=sys.stderr, disable=not self.shown, leave=False, **options)

    @contextmanager
    def fraction(self, description: str) -> Iterator[Callable[[float], None]]:
        """A bar in percent; yields the callable that reports a fraction in [0, 1]."""
        layout = "{desc}: {percentage:3.0f}%|{bar}| {elapsed}<{remaining}"
        with self._bar(total=100, desc=description, bar_format=layout) as bar:

            def report(fraction: float) -> None:
                done = round(100 * min(max(fraction, 0.0), 1.0))
                if done > bar.n:
                    bar.update(done - bar.n)

            yield report

    def rows(self, description: str, total: int | None = None) -> tqdm:
        """A bar counting rows (with ``total`` when the number is known)."""
        return self._bar(total=total, desc=description, unit=" rows", unit_scale=True)

    def steps(self, items: Iterable, description: str, total: int | None = None) -> tqdm:
        """``items``, with a bar that moves at each one."""
        return self._bar(iterable=items, desc=description, total=total)
