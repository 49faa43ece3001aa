"""The covariance table: numpy and torch answers agree, and match an independent reduction."""

import numpy as np
import pytest
import torch

from gmm_core.parts.covariance import COVARIANCE_TYPES

K, D = 3, 4


@pytest.fixture
def full():
    rng = np.random.default_rng(0)
    A = rng.normal(size=(K, D, D))
    return A @ A.transpose(0, 2, 1) + np.eye(D), rng.uniform(1.0, 5.0, K)


def independent_reduction(kind, covs, nk):
    if kind == "full":
        return covs
    if kind == "tied":
        return np.average(covs, axis=0, weights=nk)
    if kind == "diag":
        return np.array([np.diag(c) for c in covs])
    return np.array([np.trace(c) / D for c in covs])


@pytest.mark.parametrize("kind", list(COVARIANCE_TYPES))
def test_reduce_expand_regularize_on_numpy_match_torch_and_a_reference(full, kind):
    covs, nk = full
    table = COVARIANCE_TYPES[kind]
    typed = table.reduce(covs, nk)
    typed_torch = table.reduce(torch.as_tensor(covs), torch.as_tensor(nk))
    assert isinstance(typed, np.ndarray) and isinstance(typed_torch, torch.Tensor)
    assert typed.shape == table.shape(K, D)
    np.testing.assert_allclose(typed, independent_reduction(kind, covs, nk), rtol=1e-13)
    np.testing.assert_array_equal(typed, typed_torch.numpy())
    regularized = table.regularize(typed, 0.5)
    np.testing.assert_array_equal(regularized, table.regularize(typed_torch, 0.5).numpy())
    expanded = table.expand(regularized, K, D)
    assert isinstance(expanded, np.ndarray) and expanded.shape == (K, D, D)
    np.testing.assert_array_equal(
        expanded, table.expand(torch.as_tensor(regularized), K, D).numpy()
    )
    # Expanded matrices hold the reduced values plus 0.5 on the diagonal, nothing else.
    reference = independent_reduction(kind, covs, nk)
    for k in range(K):
        if kind in ("full", "tied"):
            expected = (reference if kind == "tied" else reference[k]) + 0.5 * np.eye(D)
        elif kind == "diag":
            expected = np.diag(reference[k] + 0.5)
        else:
            expected = (reference[k] + 0.5) * np.eye(D)
        np.testing.assert_allclose(expanded[k], expected, rtol=1e-13)
    selected = table.select_precision_cholesky(expanded, K)
    np.testing.assert_allclose(selected, regularized, rtol=1e-13)


def test_expanding_a_numpy_array_gives_a_writable_copy(full):
    covs, nk = full
    for table in COVARIANCE_TYPES.values():
        if table.name == "full":
            continue  # full matrices are their own expansion
        typed = table.reduce(covs, nk)
        before = typed.copy()
        expanded = table.expand(typed, K, D)
        expanded[:, 0, 0] = -1.0
        np.testing.assert_array_equal(typed, before)
