"""From blocks to tables: bad rows stopped or skipped, rows gathered into arrays."""

from __future__ import annotations

import numpy as np

from ._types import KEPT_LINES, Block

_SHOWN = 5  # bad rows named in one message


class BadRows:
    """What a read does with rows whose chosen values are not all finite numbers.

    Parameters
    ----------
    name : str
        The file, for messages.
    policy : {"error", "skip"}
    lines : bool
        Whether rows are lines of text (else rows of a binary table).
    """

    def __init__(self, name: str, policy: str, lines: bool):
        self.name = name
        self.policy = policy
        self.unit = "line" if lines else "row"
        self.n_skipped = 0
        self.lines: list[int] = []
        self._batch_skipped = 0
        self._batch_lines: list[int] = []

    def screen(self, block: Block) -> tuple[np.ndarray, ValueError | None]:
        """The good rows of a block, and the error to raise after handing them out.

        With the "error" policy the good rows are those before the first bad one.
        """
        values = block.values
        finite = np.isfinite(values).all(axis=1)
        bad = np.flatnonzero(~finite)
        if not bad.size and not block.broken:
            return values, None
        events = sorted(
            [(position, 0, ref) for position, ref in block.broken]
            + [(int(row), 1, int(row)) for row in bad[: KEPT_LINES + _SHOWN]]
        )
        if self.policy == "error":
            return values[: events[0][0]], self._error(block, events)
        count = bad.size + len(block.broken)
        self.n_skipped += count
        self._batch_skipped += count
        wanted = max(KEPT_LINES - len(self.lines), KEPT_LINES - len(self._batch_lines))
        if wanted > 0:
            numbers = [line for line, _ in block.locate([ref for *_, ref in events[:wanted]])]
            self.lines += numbers[: KEPT_LINES - len(self.lines)]
            self._batch_lines += numbers[: KEPT_LINES - len(self._batch_lines)]
        return values[finite], None

    def _error(self, block: Block, events) -> ValueError:
        located = block.locate([ref for *_, ref in events[:_SHOWN]])
        line, text = located[0]
        reason = (
            "it has the wrong number of fields"
            if events[0][1] == 0
            else "a chosen value is missing, not a number, NaN or infinite"
        )
        message = f"{self.name}, {self.unit} {line}: {reason}"
        if text is not None:
            message += f": {text[:80]!r}"
        if len(located) > 1:
            message += f" (more bad {self.unit}s: {', '.join(str(n) for n, _ in located[1:])})"
        error = ValueError(message + ".")
        error.from_reader = True
        return error

    def since_last(self) -> tuple[int, tuple[int, ...]]:
        """Rows skipped since the previous call, and their first line numbers."""
        counted = self._batch_skipped, tuple(self._batch_lines)
        self._batch_skipped, self._batch_lines = 0, []
        return counted

    def check_some_rows(self, n_rows: int) -> None:
        """Refuse a read that kept no rows at all."""
        if n_rows:
            return
        where = f", {self.unit}s {', '.join(map(str, self.lines))}" if self.lines else ""
        raise ValueError(
            f"{self.name}: no rows of numbers ({self.n_skipped} bad rows skipped{where})."
        )


class Assembler:
    """Rows gathered into one array, sized ahead and grown only if the guess was short."""

    def __init__(self, capacity: int, width: int):
        self._data = np.empty((max(int(capacity), 16), width))
        self._n = 0

    def append(self, rows: np.ndarray) -> None:
        """Copy ``rows`` (shape (m, width)) after the rows already gathered."""
        end = self._n + rows.shape[0]
        if end > self._data.shape[0]:
            self._data.resize((max(end, int(self._data.shape[0] * 1.25)), rows.shape[1]),
                              refcheck=False)  # fmt: skip
        self._data[self._n : end] = rows
        self._n = end

    def finish(self) -> np.ndarray:
        """The gathered rows, shape (n, width), C-contiguous (the spare room given back)."""
        self._data.resize((self._n, self._data.shape[1]), refcheck=False)
        data, self._data = self._data, None
        return data


class Rebatcher:
    """Rows cut into batches of exactly ``batch_rows`` (the last one shorter)."""

    def __init__(self, batch_rows: int, width: int):
        self.batch_rows = batch_rows
        self.width = width
        self._pieces: list[np.ndarray] = []
        self._n = 0

    def add(self, rows: np.ndarray) -> list[np.ndarray]:
        """The batches completed by ``rows``."""
        if rows.shape[0]:
            self._pieces.append(rows)
            self._n += rows.shape[0]
        batches = []
        while self._n >= self.batch_rows:
            joined = np.concatenate(self._pieces) if len(self._pieces) > 1 else self._pieces[0]
            batches.append(np.ascontiguousarray(joined[: self.batch_rows]))
            rest = joined[self.batch_rows :]
            self._pieces = [rest] if rest.shape[0] else []
            self._n = rest.shape[0]
        return batches

    def rest(self) -> np.ndarray:
        """The rows of the last, short batch."""
        if not self._pieces:
            return np.empty((0, self.width))
        return np.ascontiguousarray(np.concatenate(self._pieces))
