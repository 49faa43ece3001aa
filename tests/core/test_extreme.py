"""Extreme but finite data (issue 8): a finite model, the same up to scale, or a ValueError.

Never NaN in a fitted attribute, never an OverflowError or a torch error reaching the user.
"""

import warnings

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from gmm_core import GaussianMixture, GradientGaussianMixture

KINDS = ("full", "tied", "diag", "spherical")
FITTED = ("weights_", "means_", "covariances_", "precisions_cholesky_")


def blobs(seed=0, n=60):
    rng = np.random.default_rng(seed)
    return np.vstack([rng.normal(0, 1, (n, 2)), rng.normal((5, 1), 0.5, (n, 2))])


def assert_valid(model):
    for name in FITTED:
        assert np.isfinite(getattr(model, name)).all(), name
    assert np.isclose(model.weights_.sum(), 1.0)


def snapshot(model):
    return {name: np.copy(getattr(model, name)) for name in FITTED}


@settings(max_examples=12, deadline=None)
@given(
    exponent=st.integers(-150, 150),
    mantissa=st.floats(1.0, 9.9),
    offset=st.floats(-1e4, 1e4),
    kind=st.sampled_from(KINDS),
)
def test_fit_is_equivariant_under_scale_and_offset(exponent, mantissa, offset, kind):
    """Fitting a*X+b gives a*means+b and a**2*covariances (reg_covar scaled with a**2)."""
    a = mantissa * 10.0**exponent
    b = offset * a
    X = blobs()
    means_init = np.array([[0.0, 0.0], [5.0, 1.0]])
    options = dict(covariance_type=kind, tol=1e-10, max_iter=30)
    unit = GaussianMixture(2, means_init=means_init, reg_covar=1e-6, **options).fit(X)
    scaled = GaussianMixture(
        2, means_init=a * means_init + b, reg_covar=1e-6 * a * a, **options
    ).fit(a * X + b)
    assert_valid(scaled)
    np.testing.assert_allclose(scaled.weights_, unit.weights_, rtol=1e-6)
    np.testing.assert_allclose((scaled.means_ - b) / a, unit.means_, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(scaled.covariances_ / a / a, unit.covariances_, rtol=1e-5)
    np.testing.assert_array_equal(scaled.predict(a * X + b), unit.predict(X))


@settings(max_examples=12, deadline=None)
@given(
    exponent=st.integers(-300, 300),
    offset=st.sampled_from([0.0, 1.0, 1e6, 1e12]),
    kind=st.sampled_from(KINDS),
    how=st.sampled_from(["fit", "iter_fit", "points", "chunks", "gradient"]),
)
def test_any_finite_scale_gives_a_finite_model_or_a_value_error(exponent, offset, kind, how):
    a = 10.0**exponent
    with np.errstate(over="ignore"):
        X = a * (blobs(n=15) + offset)
    assume(np.isfinite(X).all())  # finite data only: 1e300 * 1e12 is infinity
    if how == "gradient":
        model = GradientGaussianMixture(2, covariance_type=kind, max_iter=3, random_state=0)
    else:
        model = GaussianMixture(2, covariance_type=kind, max_iter=20, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            if how in ("fit", "gradient"):
                model.fit(X)
            elif how == "iter_fit":
                for _ in model.iter_fit(X):
                    pass
            elif how == "points":
                for x in X:
                    model.partial_fit(x)
            else:
                for chunk in np.array_split(X, 3):
                    model.partial_fit(chunk)
        except ValueError as error:
            assert "scale" in str(error)
    if hasattr(model, "means_"):
        assert_valid(model)
        assert np.isfinite(model.score(X)) or model.score(X) == -np.inf


def test_one_point_updates_that_overflow_are_refused_and_leave_the_model():
    model = GaussianMixture(1).partial_fit([1e200, 0.0])
    before = snapshot(model)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        with pytest.raises(ValueError, match="non-finite covariances_.*scale"):
            model.partial_fit([-1e200, 0.0])
    for name, value in before.items():
        np.testing.assert_array_equal(getattr(model, name), value)
    assert model.n_samples_seen_ == 1
    model.partial_fit([1e200, 1.0])  # the model goes on learning
    assert_valid(model)


def test_chunk_that_overflows_a_fitted_model_is_refused():
    model = GaussianMixture(2, random_state=0).fit(blobs())
    before = snapshot(model)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        with pytest.raises(ValueError, match="scale"):
            model.partial_fit(blobs(1) * 1e200)
    for name, value in before.items():
        np.testing.assert_array_equal(getattr(model, name), value)


@pytest.mark.parametrize("estimator", [GaussianMixture, GradientGaussianMixture])
def test_fit_on_data_too_wide_for_float64_is_a_value_error(estimator):
    X = np.array([[1e200, 2e200], [-1e200, 3e200], [5e199, 1e199], [1e200, 1e200]])
    with pytest.raises(ValueError, match="too wide for torch.float64"):
        estimator(2, random_state=0).fit(X)


def test_float32_limit_is_float32s():
    X = (blobs() * 1e30).astype(np.float32)
    with pytest.raises(ValueError, match="too wide for torch.float32"):
        GaussianMixture(2, random_state=0).fit(X)
    GaussianMixture(2, random_state=0).fit(X.astype(np.float64))
