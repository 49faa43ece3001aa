"""Hyper-parameter checks skipped while every hyper-parameter is the object last checked.

For calls made thousands of times a second (a click's ``partial_fit``): comparing
identities costs a microsecond, the checks tens. Setting a parameter, even to an equal
value, makes a new object and so a new check.
"""

from __future__ import annotations

import functools
import operator
import weakref

# Kept outside the estimators, so that a cache never shows among their attributes.
_CHECKED_PARAMETERS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


@functools.cache
def _parameter_names(cls) -> tuple[str, ...]:
    """``cls._get_param_names()``, which reads the signature anew (40 us) on every call."""
    return tuple(cls._get_param_names())


def check_parameters_cached(estimator) -> None:
    """``estimator._check_parameters()``, unless its parameters are the objects last checked.

    Parameters
    ----------
    estimator : BaseMixture
        Any gmm_core estimator; a refused check raises its ``ValueError`` and is not
        remembered, so the next call checks again.
    """
    names = _parameter_names(type(estimator))
    current = tuple(map(estimator.__dict__.get, names))
    checked = _CHECKED_PARAMETERS.get(estimator)
    if checked is not None and all(map(operator.is_, current, checked)):
        return
    estimator._check_parameters()
    _CHECKED_PARAMETERS[estimator] = current
