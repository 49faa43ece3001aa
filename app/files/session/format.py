"""Session files (``.gmmsession``): points, settings and the fitted model, in JSON.

The layout (format ``"gmm-playground-session"``, version 1 for points in two columns,
2 for more, which older programs refuse with a request to update)::

    {"format": "gmm-playground-session", "version": 1,
     "points": {"dtype": "<f8", "shape": [n, D], "base64": "..."},
     "columns": ["x", "y"],
     "settings": {"n_components": 3, "epochs": 20, "view": [x0, x1, y0, y1], ...},
     "model": null | {"weights": <array>, "means": <array>, "covariances": <array>,
                      "colors": <array>, "labels": <array>, "n_points": m,
                      "mean_log_likelihood": x, "bic": x, "n_iter": i, "state": "...",
                      "gmm_core": null | GaussianMixture.to_dict()}}

``"columns"`` names the D columns (absent in files of older programs: ``x`` and
``y``). Arrays are ``{"dtype", "shape", "base64"}`` (:mod:`app.files.session.arrays`): the raw
little-endian bytes, so float64 values come back to the last bit. Nothing in a file is
ever executed or unpickled; every entry is checked, and a bad file raises
:class:`ValueError` with a message for a person.
Nothing here imports torch or gmm_core.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ...state import messages
from ...state.column_names import checked_column_names
from ...state.geometry import column_ranges, ellipse_outlines, group_by_label
from ...state.messages import ModelSnapshot, frozen
from ..atomic import atomic_write
from .arrays import (
    base64_array_chunks,
    decode_array,
    encode_array,
    finite_or_none,
    number_or_nan,
)

FORMAT_NAME = "gmm-playground-session"
FORMAT_VERSION = 2
SUFFIX = ".gmmsession"

#: Session files larger than this are refused (about 9 million points).
MAX_SESSION_BYTES = 200 * 1024 * 1024

#: At most this many points in a session file.
MAX_POINTS = 10_000_000

#: At most this many components in a saved model.
MAX_COMPONENTS = 100

#: At most this many columns.
MAX_COLUMNS = 1000

_MARKER = "__gmm_playground_points__"
_LABELS_MARKER = "__gmm_playground_labels__"


@dataclass(frozen=True)
class SavedModel:
    """The model a session shows: a drawn snapshot's parameters, exactly.

    Attributes
    ----------
    weights : ndarray of shape (K,)
    means : ndarray of shape (K, D)
    covariances : ndarray of shape (K, D, D)
    colors : ndarray of shape (K,)
        Palette slot of each component.
    labels : ndarray of shape (m,)
        Component of each of the first ``m`` points.
    mean_log_likelihood, bic : float
    n_iter : int
    state : str
    gmm_core : dict or None
        ``GaussianMixture.to_dict()`` of the worker's model, when it sent one.
    """

    weights: np.ndarray
    means: np.ndarray
    covariances: np.ndarray
    colors: np.ndarray
    labels: np.ndarray
    mean_log_likelihood: float = float("nan")
    bic: float = float("nan")
    n_iter: int = 0
    state: str = "stopped"
    gmm_core: dict | None = None

    @classmethod
    def from_snapshot(cls, snapshot: ModelSnapshot) -> SavedModel | None:
        """The model of ``snapshot`` (None for a snapshot without components)."""
        if snapshot.n_components == 0:
            return None
        return cls(
            weights=snapshot.weights,
            means=snapshot.means,
            covariances=snapshot.covariances,
            colors=snapshot.colors,
            labels=snapshot.labels,
            mean_log_likelihood=snapshot.mean_log_likelihood,
            bic=snapshot.bic,
            n_iter=snapshot.n_iter,
            state=snapshot.state,
            gmm_core=getattr(snapshot, "model", None),
        )

    def snapshot(self, points: np.ndarray, request_id: int, generation: int) -> ModelSnapshot:
        """A ready-to-draw snapshot of this model over ``points`` (numpy only, no torch)."""
        m = self.labels.shape[0]
        X = points[:m]
        n_components = self.weights.shape[0]
        labels = np.asarray(self.labels, dtype=np.int64)
        grouped, starts = np.zeros((0, 2)), np.zeros(n_components + 1, dtype=np.int64)
        bounds = None
        if m and m <= messages.DENSITY_ABOVE:  # more are drawn as an image of labels
            grouped, starts = group_by_label(X, labels, n_components)
            low, high = column_ranges(X)
            bounds = (float(low[0]), float(low[1]), float(high[0]), float(high[1]))
        x, y, connect, ring_component = ellipse_outlines(
            self.means[:, :2], self.covariances[:, :2, :2]
        )
        return ModelSnapshot(
            request_id=request_id,
            n_points=m,
            generation=generation,
            weights=frozen(self.weights),
            means=frozen(self.means),
            covariances=frozen(self.covariances),
            colors=frozen(self.colors),
            outline_x=frozen(x),
            outline_y=frozen(y),
            outline_connect=frozen(connect),
            ring_component=frozen(ring_component),
            labels=frozen(labels, dtype=np.int16),
            grouped_points=frozen(grouped),
            group_starts=frozen(starts),
            group_colors=frozen(self.colors),
            grouped_bounds=bounds,
            mean_log_likelihood=float(self.mean_log_likelihood),
            bic=float(self.bic),
            n_iter=int(self.n_iter),
            state=self.state,
            final=True,
            model=self.gmm_core,
        )


@dataclass(frozen=True)
class SessionData:
    """What a session file holds.

    Attributes
    ----------
    points : ndarray of shape (n, D), float64, D >= 2
    settings : dict
        JSON values: ``n_components``, ``epochs``, ``view`` ([x0, x1, y0, y1]) and any
        setting a later version of the window adds (unknown ones are kept, not used).
    model : SavedModel or None
    columns : tuple of str or None
        The D columns' names; None: :func:`app.state.column_names.default_column_names`.
    """

    points: np.ndarray
    settings: dict = field(default_factory=dict)
    model: SavedModel | None = None
    columns: tuple[str, ...] | None = None

    def column_names(self) -> tuple[str, ...]:
        """The D columns' names (the defaults when none are given)."""
        return checked_column_names(self.columns, self.points.shape[1])


# -- writing ---------------------------------------------------------------------------


def session_text(session: SessionData) -> str:
    """The JSON text of ``session``."""
    return b"".join(session_chunks(session)).decode("ascii")


def session_chunks(session: SessionData):
    """The JSON text of ``session`` as ASCII byte strings, piece by piece."""
    points = np.ascontiguousarray(session.points, dtype="<f8")
    columns = session.column_names()
    document = {
        "format": FORMAT_NAME,
        # Two columns stay version 1, which every older program reads.
        "version": 1 if points.shape[1] == 2 else FORMAT_VERSION,
        "points": {"dtype": "<f8", "shape": list(points.shape), "base64": _MARKER},
        "columns": list(columns),
        "settings": session.settings,
        "model": None,
    }
    model = session.model
    if model is not None:
        document["model"] = {
            "weights": encode_array(model.weights, "<f8"),
            "means": encode_array(model.means, "<f8"),
            "covariances": encode_array(model.covariances, "<f8"),
            "colors": encode_array(model.colors, "<i8"),
            "labels": {
                "dtype": "<i8",
                "shape": list(model.labels.shape),
                "base64": _LABELS_MARKER,
            },
            "mean_log_likelihood": finite_or_none(model.mean_log_likelihood),
            "bic": finite_or_none(model.bic),
            "n_iter": int(model.n_iter),
            "state": str(model.state),
            "gmm_core": model.gmm_core,
        }
    # The points' (and labels') base64 text goes in after json.dumps: it needs no
    # escaping, and json.dumps would scan all of it again.
    text = json.dumps(document, allow_nan=False)
    head, rest = text.split(f'"{_MARKER}"')
    yield f'{head}"'.encode("ascii")
    yield from base64_array_chunks(points, "<f8")
    if model is None:
        yield f'"{rest}'.encode("ascii")
        return
    middle, tail = rest.split(f'"{_LABELS_MARKER}"')
    yield f'"{middle}"'.encode("ascii")
    yield from base64_array_chunks(np.asarray(model.labels), "<i8")
    yield f'"{tail}'.encode("ascii")


def write_session(path: str | Path, session: SessionData) -> None:
    """Write ``session`` to ``path`` atomically (the old file survives any failure)."""
    with atomic_write(path, "wb") as file:
        for chunk in session_chunks(session):
            file.write(chunk)


# -- reading ---------------------------------------------------------------------------


def _reject_constant(name: str):
    raise ValueError(f"it contains {name}, which is not a finite number")


def is_session_file(path: str | Path) -> bool:
    """Whether ``path`` looks like a session (by content: a JSON object), not a table."""
    try:
        with open(path, "rb") as file:
            start = file.read(64).lstrip(b"\xef\xbb\xbf \t\r\n")
    except OSError:
        return Path(path).suffix == SUFFIX
    return start.startswith(b"{") or (not start and Path(path).suffix == SUFFIX)


def read_session(path: str | Path) -> SessionData:
    """Read a session file, checking every entry.

    Raises
    ------
    ValueError
        With a message for a person: empty, binary, truncated or malformed JSON, another
        format, a newer version, wrong shapes, non-finite numbers, or beyond the limits
        (:data:`MAX_SESSION_BYTES`, :data:`MAX_POINTS`, :data:`MAX_COMPONENTS`).
    OSError
        If the file cannot be read.
    """
    path = Path(path)
    size = path.stat().st_size
    if size > MAX_SESSION_BYTES:
        raise ValueError(
            f"{path.name} is larger than {MAX_SESSION_BYTES // 2**20} MiB, "
            "the limit for session files."
        )
    data = path.read_bytes()
    if not data.strip():
        raise ValueError(f"{path.name} is empty.")
    if b"\0" in data:
        raise ValueError(f"{path.name} is not a session file (it contains binary data).")
    try:
        document = json.loads(data.decode("utf-8-sig"), parse_constant=_reject_constant)
    except UnicodeDecodeError:
        raise ValueError(f"{path.name} is not a session file (not UTF-8 text).") from None
    except json.JSONDecodeError as error:
        raise ValueError(
            f"{path.name} is not valid JSON (truncated or damaged?): {error.msg} "
            f"at line {error.lineno}, column {error.colno}."
        ) from None
    except ValueError as error:
        raise ValueError(f"{path.name} is not a valid session: {error}.") from None
    try:
        return parse_session(document)
    except ValueError as error:
        raise ValueError(f"{path.name}: {error}") from None


def parse_session(document) -> SessionData:
    """A :class:`SessionData` from a loaded JSON document; ValueError if it is not one."""
    if not isinstance(document, dict) or document.get("format") != FORMAT_NAME:
        raise ValueError(f'not a GMM Playground session (no "format": "{FORMAT_NAME}").')
    version = document.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise ValueError(f"the session version {version!r} is not a positive integer.")
    if version > FORMAT_VERSION:
        raise ValueError(
            f"the session was written by a newer GMM Playground (format version "
            f"{version}; this program reads up to {FORMAT_VERSION}): update the program."
        )
    shape = (None, 2) if version == 1 else (None, None)
    points = decode_array(document.get("points"), "points", "<f8", shape, MAX_POINTS)
    d = points.shape[1]
    if not 2 <= d <= MAX_COLUMNS:
        raise ValueError(f"the points have {d} columns; 2 to {MAX_COLUMNS} are possible.")
    columns = document.get("columns")
    if columns is not None:
        if not isinstance(columns, list):
            raise ValueError('"columns" must be a list of names.')
        columns = checked_column_names(columns, d)
    settings = document.get("settings", {})
    if not isinstance(settings, dict):
        raise ValueError('"settings" must be an object.')
    model = _parse_model(document.get("model"), points.shape[0], d)
    return SessionData(points=points, settings=settings, model=model, columns=columns)


def _parse_model(entry, n_points: int, d: int) -> SavedModel | None:
    if entry is None:
        return None
    if not isinstance(entry, dict):
        raise ValueError('"model" must be an object or null.')
    weights = decode_array(entry.get("weights"), "model weights", "<f8", (None,), MAX_COMPONENTS)
    k = weights.shape[0]
    if k == 0:
        raise ValueError("the model has no components.")
    means = decode_array(entry.get("means"), "model means", "<f8", (k, d))
    covariances = decode_array(entry.get("covariances"), "model covariances", "<f8", (k, d, d))
    colors = decode_array(entry.get("colors"), "model colors", "<i8", (k,))
    labels = decode_array(entry.get("labels"), "model labels", "<i8", (None,), n_points)
    if (weights < 0).any() or not np.isclose(weights.sum(), 1.0, atol=1e-6):
        raise ValueError("the model's weights must be non-negative and sum to 1.")
    if (colors < 0).any() or (colors > 10_000).any() or np.unique(colors).shape[0] != k:
        raise ValueError("the model's colours must be distinct small integers.")
    if labels.shape[0] and (labels.min() < 0 or labels.max() >= k):
        raise ValueError("the model's labels must be component numbers.")
    if not _positive_definite(covariances):
        raise ValueError("the model's covariances must be positive definite.")
    state = entry.get("state", "stopped")
    n_iter = entry.get("n_iter", 0)
    if not isinstance(state, str) or not isinstance(n_iter, int):
        raise ValueError('the model\'s "state" must be text and "n_iter" an integer.')
    gmm_core = entry.get("gmm_core")
    if gmm_core is not None and not isinstance(gmm_core, dict):
        raise ValueError('the model\'s "gmm_core" entry must be an object or null.')
    return SavedModel(
        weights=weights,
        means=means,
        covariances=covariances,
        colors=colors,
        labels=labels,
        mean_log_likelihood=number_or_nan(entry.get("mean_log_likelihood")),
        bic=number_or_nan(entry.get("bic")),
        n_iter=n_iter,
        state=state,
        gmm_core=gmm_core,
    )


def _positive_definite(covariances: np.ndarray) -> bool:
    """Whether every (D, D) matrix is positive definite (its lower triangle read)."""
    try:
        np.linalg.cholesky(covariances)
    except np.linalg.LinAlgError:
        return False
    return True
