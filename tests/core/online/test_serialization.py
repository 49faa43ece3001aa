"""Saved states: today's files still load and continue, round trips are exact."""

import json
from pathlib import Path

import numpy as np
import pytest

from gmm_core import GaussianMixture
from gmm_core.online import IncrementalEM
from gmm_core.online.serialization import FORMAT, dump, load

# Written by the engine of the five ``gmm_core/_online*.py`` modules, before this package:
# states saved mid-stream, the points that followed, and what that engine then published.
SAVED = json.loads((Path(__file__).parent / "data" / "saved_v1.json").read_text())


@pytest.mark.parametrize("case", SAVED["engines"], ids=lambda c: c["saved"]["covariance_type"])
def test_states_saved_before_the_package_load_and_continue_identically(case):
    later = np.array(SAVED["later"])
    engine = IncrementalEM.from_dict(case["saved"])
    assert engine.to_dict() == case["saved"]
    for x in later[:40]:
        engine.update(x)
    engine.update(later[40:])
    assert engine.n_seen == case["n_seen"]
    np.testing.assert_allclose(engine.weights, case["weights"], rtol=0, atol=1e-12)
    np.testing.assert_allclose(engine.means, case["means"], rtol=0, atol=1e-10)
    np.testing.assert_allclose(engine.covariances, case["covariances"], rtol=0, atol=1e-10)


def test_a_model_saved_before_the_package_continues_partial_fit():
    model = GaussianMixture.from_dict(SAVED["model"]["saved"])
    for x in np.array(SAVED["later"]):
        model.partial_fit(x)
    np.testing.assert_allclose(model.means_, SAVED["model"]["means"], rtol=0, atol=1e-10)
    np.testing.assert_allclose(model.covariances_, SAVED["model"]["covariances"], atol=1e-10)


def test_dump_and_load_round_trip_the_state_and_the_generator():
    engine = IncrementalEM(
        2, 3, covariance_type="diag", reg_covar=0.0, memory=7, random_state=np.random.default_rng(3)
    )
    for x in np.random.default_rng(4).normal(size=(30, 3)):
        engine.update(x)
    d = json.loads(json.dumps(dump(engine._state, engine.random_state)))
    assert d["format"] == FORMAT
    state, generator = load(d)
    assert dump(state, generator) == d
    assert generator.integers(1 << 30) == engine.random_state.integers(1 << 30)
