"""The parameter checks of the click path: once while the parameters stay the same objects."""

import gc
import weakref

import numpy as np
import pytest

from gmm_core import GaussianMixture
from gmm_core.parts.parameter_cache import check_parameters_cached


@pytest.fixture
def counted(monkeypatch):
    """The number of real checks made, by any GaussianMixture."""
    calls = []
    check = GaussianMixture._check_parameters

    def counting(model):
        calls.append(model)
        check(model)

    monkeypatch.setattr(GaussianMixture, "_check_parameters", counting)
    return calls


def test_unchanged_parameters_are_checked_once(counted):
    model = GaussianMixture(2, random_state=0)
    for _ in range(3):
        check_parameters_cached(model)
    assert counted == [model]
    other = GaussianMixture(2, random_state=0)
    check_parameters_cached(other)
    assert counted == [model, other]


def test_an_equal_value_set_anew_is_checked_again(counted):
    model = GaussianMixture(2, reg_covar=1e-6)
    check_parameters_cached(model)
    model.reg_covar = float("1e-6")  # equal, but another object
    check_parameters_cached(model)
    check_parameters_cached(model)
    assert len(counted) == 2


def test_a_refused_check_is_not_remembered():
    model = GaussianMixture(2, memory=0)
    for _ in range(2):
        with pytest.raises(ValueError, match="memory"):
            check_parameters_cached(model)


def test_the_cache_keeps_no_estimator_alive_and_adds_no_attribute():
    model = GaussianMixture(2)
    before = set(vars(model))
    check_parameters_cached(model)
    assert set(vars(model)) == before
    ref = weakref.ref(model)
    del model
    gc.collect()
    assert ref() is None


@pytest.mark.parametrize(
    ("name", "bad"), [("reg_covar", -1.0), ("covariance_type", "round"), ("memory", 0)]
)
def test_a_parameter_changed_between_partial_fits_is_checked_again(name, bad):
    model = GaussianMixture(2, random_state=0)
    for x in np.random.default_rng(0).normal(size=(5, 2)):
        model.partial_fit(x)
    means = model.means_.copy()
    model.set_params(**{name: bad})
    with pytest.raises(ValueError, match=name):
        model.partial_fit(np.zeros(2))
    np.testing.assert_array_equal(model.means_, means)
