"""Arrays and numbers of a session file's JSON: exact round trips and refused entries."""

from __future__ import annotations

import base64
import json
import math

import numpy as np
import pytest

from app.files.session.arrays import (
    CHUNK_BYTES,
    base64_array_chunks,
    decode_array,
    encode_array,
    finite_or_none,
    number_or_nan,
)


def _entry(array, dtype="<f8", shape=None):
    return {
        "dtype": dtype,
        "shape": list(array.shape if shape is None else shape),
        "base64": base64.b64encode(np.asarray(array, dtype).tobytes()).decode(),
    }


@pytest.mark.parametrize("width", [1, 2, 3, 7])
def test_arrays_encoded_chunk_by_chunk_decode_to_the_same_bits(width):
    # More bytes than one chunk holds, and a row count that is no multiple of it.
    rng = np.random.default_rng(width)
    n = 7 * CHUNK_BYTES // (8 * width) + 5
    points = rng.normal(size=(n, width)) * 10.0 ** rng.integers(-300, 300, size=(n, width))
    chunks = list(base64_array_chunks(points, "<f8"))
    assert len(chunks) > 1
    text = b"".join(chunks).decode("ascii")
    assert text == base64.b64encode(points.astype("<f8").tobytes()).decode("ascii")
    assert text == encode_array(points, "<f8")["base64"]
    assert max(len(chunk) for chunk in chunks) <= 4 * (CHUNK_BYTES + 3 * 8 * width) // 3
    entry = {"dtype": "<f8", "shape": [n, width], "base64": text}
    back = decode_array(json.loads(json.dumps(entry)), "points", "<f8", (None, width))
    assert back.tobytes() == points.astype("<f8").tobytes()
    assert not back.flags.writeable


def test_integers_round_trip_whatever_their_dtype_was():
    labels = np.random.default_rng(0).integers(0, 5, size=1001).astype(np.int16)
    entry = encode_array(labels, "<i8")
    back = decode_array(entry, "labels", "<i8", (None,))
    assert back.dtype == np.int64
    np.testing.assert_array_equal(back, labels)


def test_an_empty_array_round_trips():
    entry = encode_array(np.zeros((0, 3)), "<f8")
    assert decode_array(entry, "points", "<f8", (None, 3)).shape == (0, 3)
    assert list(base64_array_chunks(np.zeros((0, 3)), "<f8")) == []


@pytest.mark.parametrize(
    ("entry", "shape", "message"),
    [
        (None, (None, 2), "points are missing"),
        (_entry(np.ones((1, 2)), dtype="<i8"), (None, 2), "must have dtype '<f8'"),
        ({"dtype": "|O", "shape": [1, 2], "base64": "gAN9cQAu"}, (None, 2), "dtype"),
        (_entry(np.ones((2, 2)), shape=(3, 2)), (None, 2), "do not match shape"),
        (_entry(np.ones((2, 3))), (None, 2), "expected"),
        (_entry(np.ones((2, 2)), shape=(2, True)), (None, 2), "expected"),
        (_entry(np.ones(2), shape=(2,)), (None, 2), "expected"),
        ({"dtype": "<f8", "shape": [1, 2], "base64": "@@@@"}, (None, 2), "not valid base64"),
        ({"dtype": "<f8", "shape": [1, 2]}, (None, 2), "missing their data"),
        (_entry(np.array([[1.0, np.inf]])), (None, 2), "NaN or infinite"),
        (_entry(np.ones((11, 2))), (None, 2), "more than the limit of 10"),
    ],
)
def test_bad_entries_are_refused_with_a_message(entry, shape, message):
    with pytest.raises(ValueError, match=message):
        decode_array(entry, "points", "<f8", shape, limit=10)


def test_numbers_that_may_be_nan_are_written_as_null():
    assert finite_or_none(-1.25) == -1.25
    assert finite_or_none(float("nan")) is None
    assert finite_or_none(float("-inf")) is None
    assert number_or_nan(None) != number_or_nan(None)  # NaN
    assert math.isnan(number_or_nan(finite_or_none(float("nan"))))
    assert number_or_nan(3) == 3.0 and isinstance(number_or_nan(3), float)


@pytest.mark.parametrize("value", ["1.5", True, [1.0]])
def test_a_number_of_another_type_is_refused(value):
    with pytest.raises(ValueError, match="is not a number"):
        number_or_nan(value)
