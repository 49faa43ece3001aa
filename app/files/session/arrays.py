"""Arrays and numbers in a session file's JSON: ``{"dtype", "shape", "base64"}`` entries.

An array is written as its raw little-endian bytes in base64, so float64 values come
back to the last bit and 1,000,000 points encode in milliseconds (nested JSON lists would
take seconds). Only ``"<f8"`` and ``"<i8"`` are known: nothing read is ever unpickled.
Encoding goes chunk by chunk, so a background writer (the autosave) holds the GIL briefly
and never copies a whole array; decoding checks every entry against what the caller
expects and raises :class:`ValueError` with a message for a person. A float that may be
NaN or infinite (a log-likelihood, a BIC) is written as a number or ``null``.
"""

from __future__ import annotations

import base64
import binascii
import math
from collections.abc import Iterator

import numpy as np

#: The dtypes an entry may have, and the numpy type each one becomes.
DTYPES = {"<f8": np.float64, "<i8": np.int64}

#: Bytes encoded at a time. base64 works in 3-byte groups, so chunks of whole groups
#: encode independently; small ones hold the GIL briefly (an autosave runs beside the GUI
#: thread).
CHUNK_BYTES = 3 * 2**16


def encode_array(array: np.ndarray, dtype: str) -> dict:
    """The ``{"dtype", "shape", "base64"}`` entry of ``array`` as ``dtype`` (a key of DTYPES).

    For small arrays (a model's parameters): the entry holds all of its text.
    """
    text = b"".join(base64_array_chunks(np.atleast_1d(array), dtype)).decode("ascii")
    return {"dtype": dtype, "shape": list(np.shape(array)), "base64": text}


def base64_array_chunks(array: np.ndarray, dtype: str) -> Iterator[bytes]:
    """``array`` as ``dtype``'s little-endian bytes in base64, converted chunk by chunk.

    The chunks joined are the base64 text of the whole array. No copy of the whole
    array is made (10,000,000 points are 160 MB), and the GIL is held for one chunk at a
    time.

    Parameters
    ----------
    array : ndarray of shape (n, ...)
        Split along its first axis.
    dtype : str
        A key of :data:`DTYPES`.
    """
    row_bytes = np.dtype(DTYPES[dtype]).itemsize * max(1, int(np.prod(array.shape[1:])))
    # A multiple of 3 rows is a whole number of 3-byte groups: the chunks' texts join.
    rows = max(1, CHUNK_BYTES // (3 * row_bytes)) * 3
    for start in range(0, array.shape[0], rows):
        part = np.ascontiguousarray(array[start : start + rows], dtype=DTYPES[dtype])
        yield base64.b64encode(memoryview(part).cast("B"))


def decode_array(
    entry, name: str, dtype: str, shape: tuple, limit: int | None = None
) -> np.ndarray:
    """An array from ``{"dtype", "shape", "base64"}``, checked against what is expected.

    Parameters
    ----------
    entry : object
        The entry as JSON loaded it (anything: it comes from a file).
    name : str
        What the array holds, plural, for messages ("model means").
    dtype : str
        The dtype it must have (a key of :data:`DTYPES`).
    shape : tuple of int or None
        The shape it must have; None: any length on that axis.
    limit : int, optional
        At most this many along the first axis.

    Returns
    -------
    ndarray of shape ``shape``
        Read-only; float64 ones are all finite.

    Raises
    ------
    ValueError
        If the entry is missing, of another dtype or shape, beyond ``limit``, not valid
        base64, of the wrong length, or holds NaN or infinite values.
    """
    if not isinstance(entry, dict):
        raise ValueError(f"{name} are missing.")
    if entry.get("dtype") != dtype:
        raise ValueError(f"{name} must have dtype {dtype!r}, not {entry.get('dtype')!r}.")
    stored = entry.get("shape")
    if (
        not isinstance(stored, list)
        or len(stored) != len(shape)
        or not all(isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in stored)
        or any(want is not None and want != got for want, got in zip(shape, stored, strict=False))
    ):
        raise ValueError(f"{name} have shape {stored!r}; expected {list(shape)}.")
    if limit is not None and stored[0] > limit:
        raise ValueError(f"{name}: {stored[0]:,} is more than the limit of {limit:,}.")
    text = entry.get("base64")
    if not isinstance(text, str):
        raise ValueError(f"{name} are missing their data.")
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(f"{name}: the data are not valid base64 (damaged file?).") from None
    item = np.dtype(DTYPES[dtype]).itemsize
    if len(raw) != item * math.prod(stored):
        raise ValueError(f"{name}: {len(raw)} bytes of data do not match shape {stored}.")
    array = np.frombuffer(raw, dtype=dtype).astype(DTYPES[dtype]).reshape(stored)
    if dtype == "<f8" and not np.isfinite(array).all():
        raise ValueError(f"{name} contain NaN or infinite values.")
    array.setflags(write=False)
    return array


def finite_or_none(value: float) -> float | None:
    """``value`` as JSON can hold it: the float, or None when it is NaN or infinite."""
    return float(value) if math.isfinite(value) else None


def number_or_nan(value) -> float:
    """The float of a JSON number, NaN for ``null``; ValueError for anything else."""
    if value is None:
        return float("nan")
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise ValueError(f"{value!r} is not a number.")
    return float(value)
