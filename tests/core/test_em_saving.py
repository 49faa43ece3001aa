"""What GaussianMixture saves beyond its parameters: EM's statistics and the incremental state."""

import json

import numpy as np
import pytest

from gmm_core import GaussianMixture
from gmm_core.fitted.em_saving import read_incremental, read_statistics, saved_extras


@pytest.fixture
def data():
    rng = np.random.default_rng(5)
    return np.vstack([rng.normal(c, 0.7, (120, 2)) for c in ([0, 0], [5, 1], [1, 5])])


def round_trip(model) -> dict:
    return json.loads(json.dumps(model.to_dict()))


def test_a_model_without_statistics_or_engine_saves_none_and_loads_none(data):
    assert saved_extras(None, None) == {"statistics": None, "incremental": None}
    model = GaussianMixture(3, random_state=0).fit(data)
    assert read_statistics({}, model) is None and read_incremental({}, model) is None


def test_batch_statistics_load_as_saved(data):
    model = GaussianMixture(3, random_state=0).fit(data)
    saved = round_trip(model)
    assert saved["incremental"] is None
    statistics = read_statistics(saved, model)
    assert saved_extras(statistics, None) == {
        "statistics": saved["statistics"],
        "incremental": None,
    }


def test_loaded_model_continues_partial_fit_identically(data):
    model = GaussianMixture(3, random_state=0).fit(data[:200])
    loaded = GaussianMixture.from_dict(round_trip(model))
    for point in data[200:260]:
        model.partial_fit(point)
        loaded.partial_fit(point)
    np.testing.assert_array_equal(loaded.means_, model.means_)
    np.testing.assert_array_equal(loaded.covariances_, model.covariances_)
    # And again after a round trip of the incremental state itself.
    again = GaussianMixture.from_dict(round_trip(model))
    for point in data[260:]:
        model.partial_fit(point)
        again.partial_fit(point)
    np.testing.assert_array_equal(again.means_, model.means_)
    np.testing.assert_array_equal(again.score_samples(data), model.score_samples(data))


def test_incremental_model_from_nothing_round_trips(data):
    rng = np.random.default_rng(0)
    model = GaussianMixture(3, random_state=0)
    for point in data[rng.permutation(len(data))][:80]:
        model.partial_fit(point)
    loaded = GaussianMixture.from_dict(round_trip(model))
    np.testing.assert_array_equal(loaded.score_samples(data), model.score_samples(data))
    for point in data[:40]:
        model.partial_fit(point)
        loaded.partial_fit(point)
    np.testing.assert_array_equal(loaded.means_, model.means_)


def streamed(data, n_components=3, kind="full"):
    model = GaussianMixture(n_components, covariance_type=kind, random_state=0)
    for point in data[:80]:
        model.partial_fit(point)
    return round_trip(model)


@pytest.mark.parametrize(
    "key, change",
    [
        ("counts", lambda v: [0.0, *v[1:]]),
        ("counts", lambda v: [-1.0, *v[1:]]),
        ("means", lambda v: [[1e308, 1e308], *v[1:]]),
        ("covariances", lambda v: [[[1.0, 0.5], [0.0, 1.0]], *v[1:]]),
        ("covariances", lambda v: [[[1.0, 2.0], [2.0, 1.0]], *v[1:]]),
    ],
)
def test_incremental_statistics_must_give_the_saved_parameters(data, key, change):
    saved = streamed(data)
    saved["incremental"][key] = change(saved["incremental"][key])
    with pytest.raises(ValueError, match="incremental|Incremental state"):
        GaussianMixture.from_dict(saved)


def test_incremental_state_with_other_component_count_refused(data):
    saved = streamed(data)
    saved["incremental"]["n_components"] = 7
    with pytest.raises(ValueError, match="other settings"):
        GaussianMixture.from_dict(saved)


def test_em_statistics_must_give_the_saved_parameters(data):
    saved = round_trip(GaussianMixture(3, random_state=0).fit(data))
    saved["statistics"]["means"][0] = [1e308, 0.0]
    with pytest.raises(ValueError, match="statistics"):
        GaussianMixture.from_dict(saved)


def test_statistics_with_negative_counts_refused(data):
    saved = round_trip(GaussianMixture(3, random_state=0).fit(data))
    saved["statistics"]["counts"][0] = -1.0
    with pytest.raises(ValueError, match="non-negative"):
        GaussianMixture.from_dict(saved)


def test_incremental_state_with_another_count_of_points_refused(data):
    saved = streamed(data)
    saved["incremental"]["n_seen"] += 1
    with pytest.raises(ValueError, match="n_seen"):
        GaussianMixture.from_dict(saved)
