"""Extreme but finite data (issue 8): the rescaled answer mapped back, or a ValueError.

Data of any size from about 1e-300 to 1e300, offset by up to 1e12 times its spread, gives
the model of the same data at unit size mapped back (means ``a * m + b``, covariances
``a**2 * C``), or, where float64 cannot hold that model (variances beyond 1.8e308 or
below 2.2e-308), a ValueError that says so. Never NaN in a fitted attribute, never an
OverflowError or a torch error. The scale factors are powers of two, so that the scaled
data are exactly the unit data scaled: any difference is the fit's own.
"""

import math
import warnings

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from gmm_core import GaussianMixture, GradientGaussianMixture, kmeans_start

KINDS = ("full", "tied", "diag", "spherical")
FITTED = ("weights_", "means_", "covariances_", "precisions_cholesky_")
UNREPRESENTABLE = "can represent"
REG = 2.0**-20  # about 1e-6; a power of two, so that REG * a**2 is exact
# The least variance float64 holds to seven digits (a subnormal number): gmm_core's limit.
SMALLEST = float(np.finfo(np.float64).smallest_subnormal) * 2.0**24


def blobs(seed=0, n=60, n_features=2):
    """Two well-separated clusters of ``n`` and ``n // 2`` points, centred, spread about 1.

    Unequal, so that no gradient is zero by symmetry (Adam's first steps go by its sign).
    """
    rng = np.random.default_rng(seed)
    centre = np.zeros(n_features)
    centre[0] = 6.0
    second = rng.normal(centre, 0.5, (n // 2, n_features))
    X = np.vstack([rng.normal(0, 1, (n, n_features)), second])
    return X - X.mean(0)


def assert_valid(model):
    for name in FITTED:
        assert np.isfinite(getattr(model, name)).all(), name
    assert np.isclose(model.weights_.sum(), 1.0)
    assert np.isfinite(model.lower_bound_) or model.lower_bound_ == -np.inf


def snapshot(model):
    return {name: np.copy(getattr(model, name)) for name in FITTED}


def train(how, X, kind, reg_covar):
    """A model trained on ``X`` one of five ways."""
    if how == "gradient":
        model = GradientGaussianMixture(
            2, covariance_type=kind, max_iter=20, random_state=0, reg_covar=reg_covar
        )
    else:
        model = GaussianMixture(
            2, covariance_type=kind, tol=1e-10, max_iter=50, random_state=0, reg_covar=reg_covar
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning of a short fit
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
    return model


def variances(covariances, kind):
    """The variances among a model's covariances (every entry for 'diag' and 'spherical')."""
    if kind in ("full", "tied"):
        return np.diagonal(covariances, axis1=-2, axis2=-1)
    return covariances


def expected_outcome(reference, kind, exponent):
    """Whether float64 holds the reference model's parameters times ``2**exponent``.

    "fits" when every variance is at least ``SMALLEST`` (a variance held to seven digits)
    and every entry finite, by a margin of 2**20 (training passes through models whose
    variances differ from the last one's by less); "refused" when beyond by that margin;
    "either" between.
    """
    with np.errstate(over="ignore", under="ignore"):
        covariances = np.ldexp(reference.covariances_, 2 * exponent)
        largest = float(np.abs(covariances).max())
        smallest = float(variances(covariances, kind).min())
    margin = 2.0**20
    if largest <= np.finfo(np.float64).max / margin and smallest >= SMALLEST * margin:
        return "fits"
    if largest == np.inf or smallest < SMALLEST / margin:
        return "refused"
    return "either"


def assert_mapped_back(model, reference, exponent, offset, kind):
    """``model`` (fitted on ``(Z + offset) * 2**exponent``) is ``reference`` (on ``Z``) mapped back.

    Means to 1e-6 of the spread (plus the rounding of the offset, which float64 cannot
    avoid), covariances to 1e-6 of their largest entry, weights to 1e-6.
    """
    assert_valid(model)
    a = 2.0**exponent
    np.testing.assert_allclose(model.weights_, reference.weights_, rtol=1e-6, atol=1e-9)
    means = np.ldexp(reference.means_ + offset, exponent)
    rounding = 16 * np.spacing(np.abs(means).max())
    np.testing.assert_allclose(model.means_, means, rtol=0, atol=1e-6 * a + rounding)
    covariances = np.ldexp(reference.covariances_, 2 * exponent)
    scale = np.abs(covariances).max()
    np.testing.assert_allclose(model.covariances_, covariances, rtol=0, atol=1e-6 * scale)


HOWS = ("fit", "iter_fit", "points", "chunks", "gradient")


@settings(max_examples=40, deadline=None)
@given(
    decimal_exponent=st.integers(-300, 300),
    offset=st.sampled_from([0.0, 1.0, 1e6, 1e12]),
    kind=st.sampled_from(KINDS),
    how=st.sampled_from(HOWS),
    n_features=st.integers(1, 3),
)
def test_data_of_any_size_give_the_unit_answer_mapped_back(
    decimal_exponent, offset, kind, how, n_features
):
    """``(Z + offset) * a`` with ``a`` about ``10**decimal_exponent``: the fit of ``Z``
    mapped back (reg_covar scaled with ``a**2``), or a ValueError where float64 cannot hold
    that model."""
    exponent = round(decimal_exponent * math.log2(10))
    # Z as the offset data hold it (Z + offset rounds Z; taking the offset off is exact).
    Z = (blobs(n=30, n_features=n_features) + offset) - offset
    reference = train(how, Z, kind, REG)
    # The data exactly scaled; reg_covar too (0 or subnormal where REG * a**2 underflows,
    # the largest float where it overflows: then no model is representable).
    with np.errstate(over="ignore"):
        X = np.ldexp(Z + offset, exponent)
    assume(np.isfinite(X).all())  # finite data only (a * offset may pass 1.8e308)
    with np.errstate(over="ignore"):
        reg = min(float(np.ldexp(REG, 2 * exponent)), float(np.finfo(np.float64).max))
    expected = expected_outcome(reference, kind, exponent)
    if expected == "refused":
        with pytest.raises(ValueError, match=UNREPRESENTABLE):
            train(how, X, kind, reg)
        return
    try:
        model = train(how, X, kind, reg)
    except ValueError as error:
        assert expected == "either" and UNREPRESENTABLE in str(error)
        return
    assert_mapped_back(model, reference, exponent, offset, kind)
    # Scores are the reference's, less the log of the scale (the density's Jacobian).
    assert model.score(X) == pytest.approx(
        reference.score(Z) - n_features * exponent * math.log(2),
        rel=1e-6,
        abs=1e-6 + 4e-17 * offset,
    )


@settings(max_examples=12, deadline=None)
@given(
    decimal_exponent=st.integers(-300, 300),
    offset=st.sampled_from([0.0, 1e6, 1e12]),
    how=st.sampled_from(HOWS),
)
def test_the_default_reg_covar_stays_in_data_units(decimal_exponent, offset, how):
    """With reg_covar=1e-6 (squared data units, as scikit-learn means it), data of any
    size give a finite model whose covariances are at least reg_covar; tiny data give
    reg_covar itself, about the data's mean."""
    a = 10.0**decimal_exponent
    with np.errstate(over="ignore"):
        X = (blobs(n=30) + offset) * a
    assume(np.isfinite(X).all())
    try:
        model = train(how, X, "full", 1e-6)
    except ValueError as error:
        assert UNREPRESENTABLE in str(error)
        assert a > 1e150  # only variances beyond float64 (1e308) are refused
        return
    assert_valid(model)
    smallest = np.linalg.eigvalsh(model.covariances_).min()
    assert smallest >= 1e-6 * (1 - 1e-9)
    if a < 1e-120:  # the data are far inside one regulariser: one blob of variance 1e-6
        if how == "gradient":  # Adam's steps of lr leave some variance beyond the data's
            assert np.linalg.eigvalsh(model.covariances_).max() <= 2e-6
        else:
            expected = np.broadcast_to(1e-6 * np.eye(2), model.covariances_.shape)
            np.testing.assert_allclose(model.covariances_, expected, rtol=1e-9, atol=1e-15)
        # within a millionth of the blob's width (1e-3) of the data's mean
        np.testing.assert_allclose(
            model.means_, np.broadcast_to(X.mean(0), model.means_.shape), rtol=0, atol=1e-9
        )


def test_the_issues_point_pair_at_1e200_is_refused_and_the_model_kept():
    """``partial_fit([1e200, 0])`` then ``([-1e200, 0])``: one component would need a
    variance of 1e400."""
    model = GaussianMixture(1).partial_fit([1e200, 0.0])
    assert_valid(model)
    np.testing.assert_array_equal(model.means_, [[1e200, 0.0]])
    at_unit_size = GaussianMixture(1).partial_fit([0.0, 0.0])  # reg_covar and the prior
    np.testing.assert_allclose(model.covariances_, at_unit_size.covariances_, rtol=1e-12)
    before = snapshot(model)
    with pytest.raises(ValueError, match=UNREPRESENTABLE):
        model.partial_fit([-1e200, 0.0])
    for name, value in before.items():
        np.testing.assert_array_equal(getattr(model, name), value)
    assert model.n_samples_seen_ == 1
    model.partial_fit([1e200, 1.0])  # the model goes on learning
    assert_valid(model)
    assert model.n_samples_seen_ == 2
    np.testing.assert_allclose(model.means_, [[1e200, 0.5]])


@pytest.mark.parametrize("kind", KINDS)
def test_clusters_far_apart_get_components_of_their_own_size(kind):
    """Clusters 2e160 apart, each of spread 1e150: each component has its cluster's
    variance (1e300), though the variance of all the data (1e320) would overflow."""
    rng = np.random.default_rng(1)
    Z = np.vstack([rng.normal(1e10, 1, (40, 2)), rng.normal(-1e10, 1, (40, 2))])
    exponent = 498  # 2**498 is about 1e150
    reference = GaussianMixture(2, covariance_type=kind, random_state=0, reg_covar=REG).fit(Z)
    reg = float(np.ldexp(REG, 2 * exponent))
    model = GaussianMixture(2, covariance_type=kind, random_state=0, reg_covar=reg)
    model.fit(np.ldexp(Z, exponent))
    assert_mapped_back(model, reference, exponent, 0.0, kind)
    with pytest.raises(ValueError, match=UNREPRESENTABLE):
        GaussianMixture(1, covariance_type=kind, random_state=0).fit(np.ldexp(Z, exponent))


def test_chunk_that_overflows_a_fitted_model_is_refused_without_warnings():
    model = GaussianMixture(2, random_state=0).fit(blobs())
    before = snapshot(model)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the refusal is the whole answer: no numpy noise
        with pytest.raises(ValueError, match="non-finite|" + UNREPRESENTABLE):
            model.partial_fit(blobs(1) * 1e200)
    for name, value in before.items():
        np.testing.assert_array_equal(getattr(model, name), value)


@pytest.mark.parametrize("estimator", [GaussianMixture, GradientGaussianMixture])
def test_the_issues_file_at_1e200_is_a_value_error_that_says_why(estimator):
    X = np.array([[1e200, 2e200], [-1e200, 3e200], [5e199, 1e199], [1e200, 1e200]])
    with pytest.raises(ValueError, match=UNREPRESENTABLE):
        estimator(2, random_state=0).fit(X)
    with pytest.raises(ValueError, match=UNREPRESENTABLE):
        estimator(1, random_state=0).fit(X)


@pytest.mark.parametrize("estimator", [GaussianMixture, GradientGaussianMixture])
def test_points_near_1e200_in_size_and_1e_minus_200_in_spread(estimator):
    """The issue's 1e-200 points: with the default reg_covar, one blob of variance 1e-6;
    with reg_covar=0, variances of 1e-400 cannot be held."""
    X = blobs(n=20) * 1e-200
    model = estimator(2, random_state=0).fit(X)
    assert_valid(model)
    expected = np.broadcast_to(1e-6 * np.eye(2), model.covariances_.shape)
    if estimator is GaussianMixture:
        np.testing.assert_allclose(model.covariances_, expected, rtol=1e-6)
    else:  # Adam's steps of lr leave some variance beyond the data's (as at any size)
        assert (np.linalg.eigvalsh(model.covariances_) >= 1e-6 * (1 - 1e-9)).all()
        assert (np.linalg.eigvalsh(model.covariances_) <= 2e-6).all()
    with pytest.raises(ValueError, match=UNREPRESENTABLE):
        estimator(2, random_state=0, reg_covar=0.0).fit(X)


def test_float32_limits_are_float32s():
    """float32 data of spread 1e30 would need variances of 1e60; float64 holds them."""
    X = (blobs() * 1e30).astype(np.float32)
    with pytest.raises(ValueError, match="float32 can represent"):
        GaussianMixture(2, random_state=0).fit(X)
    assert_valid(GaussianMixture(2, random_state=0).fit(X.astype(np.float64)))
    # Within float32's range but beyond its ordinary sizes: scaled and mapped back.
    Z = blobs().astype(np.float32)
    reference = GaussianMixture(2, random_state=0, reg_covar=REG).fit(Z)
    scaled = GaussianMixture(2, random_state=0, reg_covar=REG * 4.0**50).fit(np.ldexp(Z, 50))
    assert scaled.means_.dtype == np.float32
    np.testing.assert_allclose(
        scaled.means_, np.ldexp(reference.means_, 50), rtol=1e-3, atol=1e-3 * 2.0**50
    )
    np.testing.assert_allclose(
        scaled.covariances_, np.ldexp(reference.covariances_, 100), rtol=1e-3, atol=1e-3 * 4.0**50
    )


@pytest.mark.parametrize("estimator", [GaussianMixture, GradientGaussianMixture])
def test_a_scaled_model_saves_loads_and_trains_on_as_it_was(estimator):
    X = np.ldexp(blobs() + 1e6, 450)
    model = estimator(2, random_state=0, max_iter=20, tol=0.0).fit(X)
    loaded = estimator.from_dict(model.to_dict())
    for name in FITTED:
        np.testing.assert_array_equal(getattr(loaded, name), getattr(model, name))
    np.testing.assert_array_equal(loaded.score_samples(X), model.score_samples(X))
    for each in (model, loaded):
        each.set_params(warm_start=True, max_iter=5)
        each.fit(X)
    for name in FITTED:
        np.testing.assert_allclose(getattr(loaded, name), getattr(model, name), rtol=1e-12)
    if estimator is GaussianMixture:
        for each in (model, loaded):
            for x in np.ldexp(blobs(3)[:10] + 1e6, 450):
                each.partial_fit(x)
        for name in FITTED:
            np.testing.assert_allclose(getattr(loaded, name), getattr(model, name), rtol=1e-12)


def test_a_changed_scaled_model_dictionary_is_refused():
    model = GaussianMixture(2, random_state=0).fit(np.ldexp(blobs(), 450))
    saved = model.to_dict()
    saved["scaling"]["exponent"] += 1
    with pytest.raises(ValueError, match="does not match|another reg_covar"):
        GaussianMixture.from_dict(saved)
    saved = model.to_dict()
    saved["scaling"]["shift"][0] += 2.0**450
    with pytest.raises(ValueError, match="does not match"):
        GaussianMixture.from_dict(saved)
    saved = model.to_dict()
    del saved["internal"]
    with pytest.raises(ValueError):
        GaussianMixture.from_dict(saved)


def test_a_refused_chunk_inside_the_scaling_is_forgotten():
    """A chunk the scaling covers, whose variance in data units would overflow: the
    model of the scaled data learns it, the published model refuses it, and training
    goes on exactly as if it had never come (a copy that never saw it agrees bit for bit)."""
    exponent = 498  # spread about 1e150: trained through a scaling of about 2**500
    model = GaussianMixture(2, random_state=0).fit(np.ldexp(blobs(), exponent))
    untouched = GaussianMixture.from_dict(model.to_dict())
    far = np.ldexp(blobs(1)[:5] + 2.0**60, exponent)  # 2**60 inside: covered, not widened
    with pytest.raises(ValueError, match=UNREPRESENTABLE):
        model.partial_fit(far)
    for each in (model, untouched):
        for x in np.ldexp(blobs(2)[:10], exponent):
            each.partial_fit(x)
    assert model.n_samples_seen_ == untouched.n_samples_seen_
    for name in FITTED:
        np.testing.assert_array_equal(getattr(model, name), getattr(untouched, name))


@pytest.mark.parametrize("n_features", [1, 2, 3])
@pytest.mark.parametrize("how", ["fit", "partial_fit", "rows", "kmeans_start"])
def test_points_at_1e200_are_refused_before_any_numpy_warning(n_features, how):
    """The issue's points: every way in says "Divide the data by a constant", quietly."""
    X = np.array([[1e200, 0.0, 2.0], [2e200, 1.0, 3.0], [3e200, 5.0, 1.0]])[:, :n_features]
    model = GaussianMixture(2 if how == "kmeans_start" else 1, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a RuntimeWarning from numpy fails the test
        with pytest.raises(ValueError, match="Divide the data by a constant"):
            if how == "fit":
                model.fit(X)
            elif how == "partial_fit":
                model.partial_fit(X)
            elif how == "rows":  # the model of the first point is widened by the next
                for x in X:
                    model.partial_fit(x)
            else:
                kmeans_start(X, 2, random_state=0)
