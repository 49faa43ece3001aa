"""Text files as byte streams and lines: collapsing spaces, windows, counting lines.

:class:`Rewritten` and :class:`Window` are the streams pyarrow reads for files separated
by runs of spaces (or holding bytes that are not UTF-8) and for one process's part of a
file; :class:`LineCounter` finds the line number and text of a row only when a bad row is
reported.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np

#: Bytes read from the file at a time.
BLOCK_BYTES = 1 << 18
_COMMENT = re.compile(rb"#[^\n]*")


class Rewritten:
    """A binary stream rewritten line by line (each line keeps its place).

    Parameters
    ----------
    raw : binary stream
    rewrite : callable
        Whole lines (bytes ending with a line end, or the last line) -> their new bytes:
        :func:`collapse_spaces` for files separated by runs of spaces (pyarrow takes one
        character), :func:`repair_utf8` for the exact pass (pyarrow's row handler cannot
        take bytes that are not UTF-8).
    """

    def __init__(self, raw, rewrite):
        self.raw = raw
        self.rewrite = rewrite
        self.closed = False
        self._ready = b""
        self._carry = b""

    def read(self, size: int = -1) -> bytes:
        """Up to ``size`` bytes of the rewritten text (all of it for a negative size)."""
        while size < 0 or len(self._ready) < size:
            chunk = self.raw.read(BLOCK_BYTES)
            if not chunk:
                self._ready += self.rewrite(self._carry)
                self._carry = b""
                break
            text = self._carry + chunk
            cut = text.rfind(b"\n") + 1
            self._ready += self.rewrite(text[:cut])
            self._carry = text[cut:]
        size = len(self._ready) if size < 0 else size
        out, self._ready = self._ready[:size], self._ready[size:]
        return out

    def tell(self) -> int:
        """The position in the raw file (for progress)."""
        return self.raw.tell()


def repair_utf8(text: bytes) -> bytes:
    """Lines with bytes that are not UTF-8 replaced by U+FFFD."""
    try:
        text.decode("utf-8")
        return text
    except UnicodeDecodeError:
        return text.decode("utf-8", "replace").encode("utf-8")


class Window:
    """The first ``length`` bytes of a binary stream from where it stands."""

    def __init__(self, raw, length: int):
        self.raw = raw
        self.closed = False
        self._left = length

    def read(self, size: int = -1) -> bytes:
        """Up to ``size`` bytes, never past the window's end."""
        size = self._left if size < 0 else min(size, self._left)
        data = self.raw.read(size) if size else b""
        self._left -= len(data)
        return data

    def tell(self) -> int:
        """The position in the raw file."""
        return self.raw.tell()


def collapse_spaces(text: bytes) -> bytes:
    """Whole lines with comments cut, runs of spaces and tabs as one space, edges trimmed."""
    if b"#" in text:
        text = _COMMENT.sub(b"", text)
    chars = np.frombuffer(text, np.uint8)
    if not chars.size:
        return text
    space = (chars == 32) | (chars == 9)
    follows = np.empty_like(space)  # after a space, a line end, or at the start
    follows[0], follows[1:] = True, space[:-1] | (chars[:-1] == 10)
    chars = chars[~(space & follows)]
    space = (chars == 32) | (chars == 9)
    ends = np.empty_like(space)  # before a line end, or at the end
    ends[-1], ends[:-1] = True, (chars[1:] == 10) | (chars[1:] == 13)
    chars = chars[~(space & ends)]
    chars[chars == 9] = 32
    return chars.tobytes()


class LineCounter:
    """Finds the line number and text of the n-th row of a text file, by counting lines.

    Parameters
    ----------
    opener : callable
        Returns a new binary file object for the file.
    offset, first_line : int
        Where the data begin: a byte offset and its 1-based line number.
    skipped : re.Pattern
        Lines that do not count (matched with ``re.M`` over a block of lines).
    start : int, optional
        Count from this byte offset, a line start after ``offset`` (a part of the file).
    start_line : int, optional
        The number of lines before ``start``, where known.
    """

    def __init__(
        self,
        opener: Callable,
        offset: int,
        first_line: int,
        skipped: re.Pattern,
        start: int | None = None,
        start_line: int | None = None,
    ):
        self._opener = opener
        self._offset, self._first_line = offset, first_line
        self._begin = offset if start is None else start
        # the line number before ``start``: known, or counted on first use
        self._base_line = first_line - 1 if self._begin == offset else start_line
        self._resume = (self._begin, 0, 0)  # (byte offset, lines, counted lines) from start
        self._skipped = skipped

    def _lines_before(self, position: int) -> int:
        """Lines before byte ``position`` (a line start)."""
        lines = self._first_line - 1
        with self._opener() as handle:
            handle.seek(self._offset)
            left = position - self._offset
            while left > 0:
                chunk = handle.read(min(left, 1 << 22))
                if not chunk:
                    break
                lines += chunk.count(b"\n")
                left -= len(chunk)
        return lines

    def find(self, n: int) -> tuple[int, str]:
        """The n-th (1-based) counted line: (its line number, its text)."""
        if self._base_line is None:
            self._base_line = self._lines_before(self._begin)
        lines, _, text = self._walk(n)
        return self._base_line + lines, (text or b"").decode("utf-8", "replace").rstrip("\r")

    def start_of(self, n: int) -> tuple[int, int]:
        """Where the n-th (1-based) counted line starts: (lines before it, byte offset).

        Past the last line: (the number of lines, the end of the file).
        """
        if self._base_line is None:
            self._base_line = self._lines_before(self._begin)
        lines, offset, text = self._walk(n)
        return self._base_line + lines - (text is not None), offset

    def _walk(self, n: int) -> tuple[int, int, bytes | None]:
        """(lines up to and with the n-th counted line, its byte offset, its text or None)."""
        if self._resume[2] >= n:
            self._resume = (self._begin, 0, 0)
        position, line, count = self._resume
        with self._opener() as handle:
            handle.seek(position)
            carry = b""
            while True:
                chunk = handle.read(1 << 20)
                text = carry + chunk
                cut = text.rfind(b"\n") if chunk else len(text)
                if cut < 0:
                    carry = text
                    continue
                block = text[:cut]
                n_lines = block.count(b"\n") + 1
                counted = n_lines - (len(self._skipped.findall(block)) if _may_skip(block) else 0)
                if count + counted < n and chunk:
                    position, line, count = position + cut + 1, line + n_lines, count + counted
                    self._resume = (position, line, count)
                    carry = text[cut + 1 :]
                    continue
                start = position
                for text_line in block.split(b"\n"):
                    line += 1
                    if not self._skipped.fullmatch(text_line):
                        count += 1
                        if count == n:
                            self._resume = (start + len(text_line) + 1, line, count)
                            return line, start, text_line
                    start += len(text_line) + 1
                return line, start, None  # past the end


def _may_skip(block: bytes) -> bool:
    """Whether a block of lines may hold a blank, spaces-only or comment line (cheap).

    True when a line starts with a line end, a space, a tab, or there is a ``#`` anywhere.
    """
    if b"#" in block:
        return True
    chars = np.frombuffer(block, np.uint8)
    if not chars.size:
        return True
    firsts = np.concatenate([chars[:1], chars[np.flatnonzero(chars[:-1] == 10) + 1]])
    return bool(((firsts == 10) | (firsts == 13) | (firsts == 32) | (firsts == 9)).any())
