"""What a delimited text file looks like, read from its first bytes.

:func:`sniff_text` decides the separator (comma, semicolon, tab, or runs of spaces), whether
the first line is a header, how many columns there are, which of them hold numbers, and
where the data begin, from a sample at the start of the file. Nothing here reads the whole
file; :mod:`gmm_core.tables._csv_table` does that with pyarrow.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass

#: Bytes read to decide the layout (more if the first lines are very long).
SAMPLE_BYTES = 1 << 16
#: Text lines of the sample used to decide it.
SAMPLE_LINES = 200

#: What pyarrow's float conversion accepts (surrounding spaces included), as a regex.
NUMBER_PATTERN = (
    r"^\s*[+-]?(?:\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?"
    r"|(?i:inf|infinity|nan))\s*$"
)
_NUMBER = re.compile(NUMBER_PATTERN, re.ASCII)  # as pyarrow: ASCII digits only
#: Values pyarrow reads as missing (its default ``null_values``).
MISSING = frozenset(
    ("", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN")
    + ("N/A", "NA", "NULL", "NaN", "n/a", "nan", "null")
)

BOM = b"\xef\xbb\xbf"
WHITESPACE = "whitespace"  # the separator "runs of spaces or tabs"
_SEPARATORS = (",", ";", "\t", WHITESPACE)
_SINGLE_SPACED = re.compile(r"^[^ \t#]+(?: [^ \t#]+)*$")
_DECIMAL_COMMA = re.compile(r"^\s*[+-]?\d*,\d+(?:[eE][+-]?\d+)?\s*$", re.ASCII)
_DECIMAL_POINT = re.compile(r"\d\.\d|^\s*[+-]?\.\d", re.ASCII)


def is_number(field: str, decimal: str = ".") -> bool:
    """Whether pyarrow reads ``field`` as a float (NaN and infinities included)."""
    if decimal == ",":
        field = field.replace(",", ".")
    return _NUMBER.match(field) is not None


def _decimal_mark(rows: list[list[str]]) -> str:
    """``","`` where numbers are written ``3,14`` (and never ``3.14``), else ``"."``."""
    fields = [field for row in rows for field in row]
    commas = any(_DECIMAL_COMMA.match(field) for field in fields)
    return "," if commas and not any(_DECIMAL_POINT.search(field) for field in fields) else "."


def is_ignored(line: str) -> bool:
    """A blank line, or a comment (``#`` first): never data, never a header."""
    stripped = line.strip()
    return not stripped or stripped.startswith("#")


@dataclass(frozen=True)
class TextLayout:
    """How to read a delimited text file.

    ``separator`` is one character, or :data:`WHITESPACE` for runs of spaces and tabs,
    which pyarrow reads after :func:`gmm_core.tables._text_lines.collapse_spaces` collapses them
    (``collapse`` True), or directly when every line holds single spaces.
    """

    separator: str
    collapse: bool
    columns: list[str]
    numeric: list[int]
    has_header: bool
    decimal: str  # the decimal mark: "." or ","
    data_offset: int  # byte offset of the first line after the header (or of the first row)
    data_line: int  # its 1-based line number
    bytes_per_row: float  # in the sample, for sizing arrays
    n_sample_rows: int


class NotText(ValueError):
    """The file is not a text table (binary data, or not UTF-8)."""


def read_sample(handle, size: int) -> bytes:
    """The first bytes of an open binary file, cut at a line end, at least one line long."""
    want = SAMPLE_BYTES
    while True:
        handle.seek(0)
        sample = handle.read(want)
        if len(sample) >= size or sample.count(b"\n") > SAMPLE_LINES or want >= 1 << 24:
            break
        want *= 4
    if len(sample) < size and b"\n" in sample:
        sample = sample[: sample.rindex(b"\n") + 1]
    return sample


def decode_sample(sample: bytes) -> str:
    """The sample as text, without a BOM; :class:`NotText` for binary or non-UTF-8 data."""
    if b"\0" in sample:
        raise NotText("not a text file (it contains binary data)")
    try:
        return sample.removeprefix(BOM).decode("utf-8")
    except UnicodeDecodeError as error:
        if error.start >= len(sample) - 4 and error.reason == "unexpected end of data":
            return sample.removeprefix(BOM)[: error.start].decode("utf-8")
        raise NotText(f"not a text file (not UTF-8: byte {error.start})") from None


def split_fields(line: str, separator: str) -> list[str]:
    """The fields of one line: quoted fields as :mod:`csv` reads them."""
    if separator == WHITESPACE:
        return line.split("#", 1)[0].split()
    try:
        return next(csv.reader([line], delimiter=separator))
    except csv.Error:  # a stray carriage return or NUL inside the line
        return line.split(separator)


def sniff_text(sample: bytes, separator: str | None = None) -> TextLayout | None:
    """The layout of a text table from its first bytes, or None when it holds no lines.

    Parameters
    ----------
    sample : bytes
        The start of the file, cut at a line end (:func:`read_sample`).
    separator : str, optional
        Force this separator instead of sniffing one.

    Raises
    ------
    NotText
        For binary data or text that is not UTF-8.
    """
    text = decode_sample(sample)
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    content = [i for i, line in enumerate(lines) if not is_ignored(line)]
    if not content:
        return None
    first = content[0]
    sample_lines = [lines[i].rstrip("\r") for i in content[:SAMPLE_LINES]]
    if separator in (" ", "\t") and any("#" in line for line in sample_lines):
        separator = WHITESPACE  # "1.5 2  # note": a trailing comment
    separator = WHITESPACE if separator == " " else separator or _choose_separator(sample_lines)
    rows = [split_fields(line, separator) for line in sample_lines]
    decimal = "." if separator == "," else _decimal_mark(rows)
    has_header = _is_header(rows, decimal)
    data_rows = rows[1:] if has_header else rows
    counts = [len(row) for row in data_rows]
    n_columns = (
        max(set(counts), key=lambda n: (counts.count(n), n == len(rows[0]), n == counts[0]))
        if counts
        else len(rows[0])
    )
    names = [field.strip() for field in rows[0]] if has_header else []
    names = [
        names[j] if j < len(names) and names[j] else f"column {j + 1}" for j in range(n_columns)
    ]
    full_rows = [row for row in data_rows if len(row) == n_columns]
    numeric = [
        j for j in range(n_columns) if _mostly_numbers((row[j] for row in full_rows), decimal)
    ]
    start = first + 1 if has_header else first
    offset = len(BOM) if sample.startswith(BOM) else 0
    offset += sum(len(line.encode()) + 1 for line in lines[:start])
    last = content[: len(sample_lines)][-1]  # the last line of the sample's rows
    data_bytes = sum(len(line.encode()) + 1 for line in lines[start : last + 1])
    collapse = separator == WHITESPACE and not all(
        _SINGLE_SPACED.match(line) for line in sample_lines
    )
    return TextLayout(
        separator=separator,
        collapse=collapse,
        columns=names,
        numeric=numeric,
        has_header=has_header,
        decimal=decimal,
        data_offset=min(offset, len(sample)),
        data_line=start + 1,
        bytes_per_row=data_bytes / max(len(data_rows), 1),
        n_sample_rows=len(data_rows),
    )


def _choose_separator(lines: list[str]) -> str:
    """The separator that splits the lines into the most consistent, most numeric columns."""
    best, best_score = ",", None
    for separator in _SEPARATORS:
        rows = [split_fields(line, separator) for line in lines]
        counts = [len(row) for row in rows]
        mode = max(set(counts), key=counts.count)
        consistency = counts.count(mode) / len(counts)
        if mode < 2 or consistency < 0.8:
            continue
        decimal = "." if separator == "," else _decimal_mark(rows)
        fields = [field for row in rows for field in row]
        numbers = sum(is_number(field, decimal) for field in fields) / len(fields)
        score = consistency + numbers
        if best_score is None or score > best_score:
            best, best_score = separator, score
    if best == "\t" and any("#" in line for line in lines):
        return WHITESPACE  # "1.5<TAB>2  # note": a trailing comment
    return best


def _is_header(rows: list[list[str]], decimal: str) -> bool:
    """Whether the first row names the columns rather than holding values.

    It does when a field of it is not a number while the rows below hold numbers in that
    column, or when none of its fields is a number.
    """
    first, below = rows[0], rows[1:]
    texts = [
        j for j, field in enumerate(first) if not _missing(field) and not is_number(field, decimal)
    ]
    if not texts:
        return False
    if len(texts) == len(first) or not below:
        return True
    return any(_mostly_numbers((row[j] for row in below if len(row) > j), decimal) for j in texts)


def _mostly_numbers(fields, decimal: str) -> bool:
    numbers = others = 0
    for field in fields:
        if _missing(field):
            continue
        if is_number(field, decimal):
            numbers += 1
        else:
            others += 1
    return numbers > 0 and numbers >= others


def _missing(field: str) -> bool:
    return field.strip() in MISSING
