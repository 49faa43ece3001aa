"""Both estimators pass scikit-learn's own estimator checks, partial_fit checks included."""

import pytest
from sklearn.utils.estimator_checks import (
    check_estimators_partial_fit_n_features,
    check_n_features_in_after_fitting,
    parametrize_with_checks,
)

from gmm_core import GaussianMixture, GradientGaussianMixture

# A check that cannot apply is listed here with its reason; none is skipped silently.
# (scikit-learn itself skips the array-API check unless SCIPY_ARRAY_API is set, and its
# pandas checks when pandas is not installed.)
EXPECTED_FAILED_CHECKS: dict[str, dict[str, str]] = {
    "GaussianMixture": {},
    "GradientGaussianMixture": {},
}


@parametrize_with_checks(
    [
        GaussianMixture(random_state=0),
        GradientGaussianMixture(random_state=0, max_iter=20),
    ],
    expected_failed_checks=lambda estimator: EXPECTED_FAILED_CHECKS[type(estimator).__name__],
)
def test_scikit_learn_estimator_checks(estimator, check):
    check(estimator)


# scikit-learn yields its partial_fit checks only for classifiers, regressors and
# clusterers; a density estimator with partial_fit runs them here.
@pytest.mark.parametrize(
    "check", [check_estimators_partial_fit_n_features, check_n_features_in_after_fitting]
)
def test_partial_fit_checks(check):
    check("GaussianMixture", GaussianMixture(random_state=0))
