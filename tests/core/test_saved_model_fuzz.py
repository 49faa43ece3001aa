"""from_dict under a seeded mutation fuzzer (issue 8).

A saved dictionary with one entry changed, deleted or retyped must either load into a
model that answers as the saved one did and keeps learning without NaN, or be refused
with a ValueError. Bounded: a fixed seed and a fixed number of mutations per model.
"""

from __future__ import annotations

import copy
import json
import warnings

import numpy as np
import pytest

from gmm_core import GaussianMixture, GradientGaussianMixture

N_MUTATIONS = 60
REPLACEMENTS = (
    0,
    -1,
    -1.0,
    0.5,
    1e308,
    -1e308,
    10**30,
    "no",
    None,
    True,
    [],
    {},
    [[1.0]],
)


def data(seed=5):
    rng = np.random.default_rng(seed)
    return np.vstack([rng.normal(c, 0.7, (40, 2)) for c in ([0, 0], [5, 1], [1, 5])])


def saved_models():
    X = data()
    for kind in ("full", "diag", "tied", "spherical"):
        fitted = GaussianMixture(3, covariance_type=kind, random_state=0, max_iter=20).fit(X)
        yield f"em-{kind}", GaussianMixture, fitted.to_dict()
        streamed = GaussianMixture(3, covariance_type=kind, random_state=0)
        for x in X[:60]:
            streamed.partial_fit(x)
        yield f"incremental-{kind}", GaussianMixture, streamed.to_dict()
    gradient = GradientGaussianMixture(3, random_state=0, max_iter=5).fit(X)
    yield "gradient", GradientGaussianMixture, gradient.to_dict()


SAVED = list(saved_models())


def leaves(value, path=()):
    """Every path into nested dictionaries and lists (containers included)."""
    yield path
    if isinstance(value, dict):
        for key, item in value.items():
            yield from leaves(item, (*path, key))
    elif isinstance(value, list) and len(value) <= 8:
        for index, item in enumerate(value):
            yield from leaves(item, (*path, index))


def mutate(saved, rng):
    """A deep copy of ``saved`` with one entry changed, deleted or retyped."""
    mutated = copy.deepcopy(saved)
    paths = [path for path in leaves(mutated) if path and path[0] != "type"]
    path = paths[rng.integers(len(paths))]
    parent = mutated
    for key in path[:-1]:
        parent = parent[key]
    key, old = path[-1], parent[path[-1]]
    choice = rng.integers(4)
    if choice == 0 and isinstance(parent, dict):
        del parent[key]
        return mutated, f"deleted {path}"
    if choice == 1 and isinstance(old, float) and not isinstance(old, bool):
        new = old * float(rng.choice([-1.0, 0.0, 2.0, 1e200, -3.5])) + float(rng.normal())
    elif choice == 2 and isinstance(old, list) and old:
        new = old[:-1] if rng.integers(2) else [*old, old[-1]]
    else:
        new = REPLACEMENTS[rng.integers(len(REPLACEMENTS))]
    parent[key] = new
    return mutated, f"{path}: {old!r:.60} -> {new!r:.60}"


def behaves_as_saved(cls, saved, loaded, X):
    original = cls.from_dict(saved)
    for name in ("weights_", "means_", "covariances_", "precisions_cholesky_"):
        assert np.isfinite(getattr(loaded, name)).all(), name
    np.testing.assert_allclose(loaded.score_samples(X), original.score_samples(X), rtol=1e-6)
    np.testing.assert_array_equal(loaded.predict(X), original.predict(X))
    # It keeps learning: finite, and never more components than asked for.
    try:
        if cls is GaussianMixture:
            for x in X[:5]:
                loaded.partial_fit(x)
            loaded.partial_fit(X[5:40])
        next(loaded.iter_fit(X, max_iter=1))
    except ValueError:
        return  # a refusal (the model is kept) is an answer
    for name in ("weights_", "means_", "covariances_", "precisions_cholesky_"):
        assert np.isfinite(getattr(loaded, name)).all(), name
    assert loaded.means_.shape[0] <= loaded.n_components


@pytest.mark.parametrize("label, cls, saved", SAVED, ids=[label for label, _, _ in SAVED])
def test_mutated_dictionary_loads_faithfully_or_is_refused(label, cls, saved):
    saved = json.loads(json.dumps(saved))
    rng = np.random.default_rng(abs(hash(label)) % 2**32 if False else len(label) * 7919)
    X = data(6)
    for _ in range(N_MUTATIONS):
        mutated, change = mutate(saved, rng)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                loaded = cls.from_dict(mutated)
            except ValueError:
                continue
            except Exception as error:  # noqa: BLE001 - the point of the test
                pytest.fail(f"{change}: {type(error).__name__}: {error}")
            try:
                behaves_as_saved(cls, saved, loaded, X)
            except AssertionError as error:
                pytest.fail(f"{change}: loaded, but {error}")
            except Exception as error:  # noqa: BLE001
                pytest.fail(f"{change}: loaded, then {type(error).__name__}: {error}")
