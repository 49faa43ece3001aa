"""Delimited text read with pyarrow's streaming CSV reader, in blocks of float64 rows.

Two passes of one reader. The fast one parses on pyarrow's threads straight to float64
and stops at the first row it cannot take (a wrong number of fields, or a value that is
not a number); the exact one then carries on from there, single-threaded, reading the
chosen columns as text, so that every bad row is kept apart with its line number.
Comment lines (``#`` first) and blank lines are no rows at all. Line numbers are found
only for the rows reported, by counting lines in the file (:class:`LineCounter`).
"""

from __future__ import annotations

import re
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterator

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

from ._csv_sniff import NUMBER_PATTERN, WHITESPACE, TextLayout, is_ignored
from ._text_lines import LineCounter, Rewritten, Window, collapse_spaces, repair_utf8
from ._types import Block

#: Bytes pyarrow parses at a time (it reads about 40 blocks ahead: 5 MB).
BLOCK_BYTES = 1 << 17
_EMPTY = re.compile(rb"^\r?$", re.M)  # what pyarrow skips as an empty line
_IGNORED = re.compile(rb"^[ \t\r]*(?:#.*)?$", re.M)  # blank, spaces only, or a comment


class _Restart(Exception):
    """The fast pass met a row it cannot take."""


class CsvSource:
    """A delimited text file read in blocks of float64 rows.

    Parameters
    ----------
    opener : callable
        Returns a new pyarrow ``NativeFile`` (or binary file object) for the file.
    size : int
        The file's size in bytes.
    layout : TextLayout
        What :func:`gmm_core.tables._csv_sniff.sniff_text` found.
    span : (int, int), optional
        Read only the lines that start in this byte range (see :meth:`part`).
    span_line : int, optional
        The number of lines before the span, where known.
    """

    def __init__(self, opener: Callable, size: int, layout: TextLayout, span=None, span_line=None):
        self.opener = opener
        self.size = size
        self.layout = layout
        self.span = (layout.data_offset, size) if span is None else span
        self.progress_span = self.span
        n_columns = len(layout.columns)
        self._names = [f"c{j}" for j in range(n_columns)]
        counted = _IGNORED if layout.separator == WHITESPACE and layout.collapse else _EMPTY
        where = (opener, layout.data_offset, layout.data_line)
        self._rows = LineCounter(*where, counted, self.span[0], span_line)
        self._data_rows = LineCounter(*where, _IGNORED, self.span[0], span_line)

    def part(self, index: int, count: int) -> CsvSource:
        """The ``index``-th of ``count`` parts: the lines that start in its byte range.

        Byte ranges split the file evenly; a line belongs to the part whose range holds its
        first byte, so that the parts together are the whole file, in order.
        """
        begin = self.layout.data_offset
        with self.opener() as handle:

            def line_start(offset: int) -> int:
                if offset <= begin:
                    return begin
                if offset >= self.size:
                    return self.size
                handle.seek(offset - 1)
                while True:
                    chunk = handle.read(1 << 16)
                    newline = chunk.find(b"\n")
                    if newline >= 0 or not chunk:
                        return handle.tell() - len(chunk) + newline + 1 if chunk else self.size

            start = line_start(self.size * index // count)
            stop = line_start(self.size * (index + 1) // count)
        return CsvSource(self.opener, self.size, self.layout, (start, max(start, stop)))

    def estimate_rows(self) -> int:
        """Rows this source will hand out, guessed from the sample (a little high)."""
        return int((self.span[1] - self.span[0]) / max(self.layout.bytes_per_row, 1) * 1.05) + 64

    def blocks(self, chosen: list[int]) -> Iterator[Block]:
        """Blocks of the chosen columns (0-based positions), in file order."""
        if self.span[1] <= self.span[0]:
            return
        done = [0]  # rows handed out by the fast pass
        try:
            yield from self._fast_blocks(chosen, done)
            return
        except _Restart:
            pass
        lines, resume = self._data_rows.start_of(done[0] + 1)
        span = (min(resume, self.span[1]), self.span[1])
        rest = CsvSource(self.opener, self.size, self.layout, span, lines)
        rest.progress_span = self.progress_span
        yield from rest._exact_blocks(chosen)

    # -- the two passes ----------------------------------------------------------------------

    def _reader(self, chosen: list[int], exact: bool, handler):
        source = self.opener()
        start, stop = self.span
        source.seek(start)
        stream = source if stop >= self.size else Window(source, stop - start)
        if exact:
            stream = Rewritten(stream, repair_utf8)
        if self.layout.collapse:
            stream = Rewritten(stream, collapse_spaces)
        include = sorted(set(chosen) | ({0} if exact else set()))
        names = [self._names[j] for j in include]
        separator = " " if self.layout.separator == WHITESPACE else self.layout.separator
        reader = pa_csv.open_csv(
            stream,
            read_options=pa_csv.ReadOptions(
                use_threads=not exact,
                block_size=max(BLOCK_BYTES, int(self.layout.bytes_per_row * 64)),
                column_names=self._names,
            ),
            parse_options=pa_csv.ParseOptions(
                delimiter=separator, invalid_row_handler=handler, ignore_empty_lines=True
            ),
            convert_options=pa_csv.ConvertOptions(
                include_columns=names,
                column_types={name: pa.string() if exact else pa.float64() for name in names},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
                check_utf8=False,
                decimal_point=self.layout.decimal,
            ),
        )
        return reader, source

    def _fraction(self, rows: int) -> float:
        """The fraction of the span read, from rows parsed (pyarrow's reads run ahead)."""
        start, stop = self.progress_span
        done = self.span[0] - start + rows * self.layout.bytes_per_row
        return min(1.0, done / max(stop - start, 1))

    def _fast_blocks(self, chosen, done) -> Iterator[Block]:
        def handler(row):
            return "skip" if is_ignored(row.text) else "error"

        source = None
        try:
            reader, source = self._reader(chosen, exact=False, handler=handler)
            for batch in reader:
                values = _float_columns(batch, [self._names[j] for j in chosen])
                first = done[0]
                done[0] += batch.num_rows
                yield Block(values, self._fraction(done[0]), self._fast_locate(first))
        except pa.ArrowInvalid:
            raise _Restart from None
        finally:
            if source is not None:
                source.close()

    def _fast_locate(self, first: int):
        def locate(refs):
            return [self._data_rows.find(first + int(ref) + 1) for ref in refs]

        return locate

    def _exact_blocks(self, chosen) -> Iterator[Block]:
        skipped_rows = array("q")  # pyarrow's row numbers of every row it skipped
        broken: list[tuple[int, str]] = []  # those that are not comments: (row number, text)

        def handler(row):
            skipped_rows.append(row.number)
            if not is_ignored(row.text):
                broken.append((row.number, row.text))
            return "skip"

        def row_number(parsed: int) -> int:
            """The row number pyarrow gives the ``parsed``-th (0-based) row it handed out."""
            number = parsed + 1
            while True:
                after = parsed + 1 + bisect_right(skipped_rows, number)
                if after == number:
                    return number
                number = after

        def locate(refs, first):
            numbers = [
                ref[0] if isinstance(ref, tuple) else row_number(first + ref) for ref in refs
            ]
            return [self._rows.find(number) for number in numbers]

        parsed = 0
        reported = 0  # broken rows handed out
        source = None
        try:
            reader, source = self._reader(chosen, exact=True, handler=handler)
            for batch in reader:
                first, parsed = parsed, parsed + batch.num_rows
                kept = ~_comments(batch.column(self._names[0]))
                names = [self._names[j] for j in chosen]
                values = _text_to_float(batch, names, self.layout.decimal)[kept]
                rows = np.flatnonzero(kept) + first  # the parsed-row index of each values row
                last = row_number(parsed - 1) if parsed else 0
                news = [entry for entry in broken[reported:] if entry[0] <= last]
                reported += len(news)
                places = [
                    int(np.searchsorted(rows, number - 1 - bisect_left(skipped_rows, number)))
                    for number, _ in news
                ]
                yield Block(
                    values,
                    self._fraction(parsed),
                    _exact_locate(locate, rows),
                    list(zip(places, news, strict=True)),
                )
        except pa.ArrowInvalid as error:
            raise ValueError(str(error).splitlines()[0]) from None
        finally:
            if source is not None:
                source.close()
        news = broken[reported:]
        if news:
            yield Block(
                np.empty((0, len(chosen))),
                1.0,
                _exact_locate(locate, np.empty(0, np.int64)),
                [(0, entry) for entry in news],
            )


def _exact_locate(locate, rows: np.ndarray):
    def located(refs):
        return locate([ref if isinstance(ref, tuple) else int(rows[ref]) for ref in refs], 0)

    return located


def _float_columns(batch: pa.RecordBatch, names: list[str]) -> np.ndarray:
    values = np.empty((batch.num_rows, len(names)))
    for j, name in enumerate(names):
        values[:, j] = batch.column(name).to_numpy(zero_copy_only=False)
    return values


def _comments(column: pa.Array) -> np.ndarray:
    """Rows whose first field starts with ``#``: comment lines that split into fields."""
    starts = pc.starts_with(pc.utf8_ltrim_whitespace(column), "#")
    return starts.to_numpy(zero_copy_only=False).astype(bool)


def _text_to_float(batch: pa.RecordBatch, names: list[str], decimal: str) -> np.ndarray:
    """The named text columns as float64, NaN where a field is not a number."""
    values = np.empty((batch.num_rows, len(names)))
    for j, name in enumerate(names):
        text = pc.utf8_trim_whitespace(batch.column(name))
        if decimal != ".":
            text = pc.replace_substring(text, decimal, ".")
        number = pc.match_substring_regex(text, NUMBER_PATTERN)
        text = pc.if_else(number, text, pa.scalar(None, pa.string()))
        values[:, j] = pc.cast(text, pa.float64()).to_numpy(zero_copy_only=False)
    return values
