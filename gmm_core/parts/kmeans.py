"""Initial responsibilities for EM: k-means, k-means++ seeding and random starts, in torch."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import torch

from .._validation import data_tensor
from ..scaling.data_scaling import check_representable
from .cancel import Cancelled


def _squared_distances(X: torch.Tensor, centers: torch.Tensor) -> torch.Tensor:
    """Squared Euclidean distances of shape (n, k) between rows of X and centers."""
    return torch.cdist(X, centers).square_()


def _size_exponent(X: torch.Tensor) -> int:
    """``e`` such that ``X / 2**e`` has a largest size near 1, or 0 when ``X`` is ordinary.

    k-means does not depend on the data's scale, but squared distances of values beyond
    about 1e-100..1e100 (1e-12..1e12 in float32) would under- or overflow.
    """
    limit = 1e100 if X.dtype == torch.float64 else 1e12
    top = float(X.abs().max()) if X.numel() else 0.0
    if top == 0.0 or 1.0 / limit <= top <= limit:
        return 0
    return int(np.frexp(top)[1])


def _times_power_of_two(X: torch.Tensor, exponent: int) -> torch.Tensor:
    """``X * 2**exponent``, in two steps: ``2**exponent`` itself may not exist in the dtype."""
    if exponent == 0:
        return X
    half = exponent // 2
    return X * 2.0**half * 2.0 ** (exponent - half)


def _unit_sized(X: torch.Tensor) -> torch.Tensor:
    """``X`` scaled by a power of two to a largest size near 1 when it is far from it."""
    return _times_power_of_two(X, -_size_exponent(X))


def _nearest(X: torch.Tensor, centers: torch.Tensor, rows: int = 1 << 16) -> torch.Tensor:
    """Index of the nearest centre for every row of X, shape (n,), in chunks."""
    return torch.cat(
        [
            torch.argmin(_squared_distances(X[start : start + rows], centers), dim=1)
            for start in range(0, X.shape[0], rows)
        ]
    )


def kmeans_plusplus(
    X: torch.Tensor,
    n_clusters: int,
    generator: torch.Generator,
    weights: torch.Tensor | None = None,
) -> torch.Tensor:
    """Greedy k-means++ seeding: indices of ``n_clusters`` well-spread rows of ``X``.

    Parameters
    ----------
    X : Tensor of shape (n, D)
    n_clusters : int
    generator : torch.Generator
    weights : Tensor of shape (n,), optional
        Positive row weights: a row is drawn with probability proportional to its weight
        times its squared distance, as if it were repeated.

    Returns
    -------
    indices : LongTensor of shape (n_clusters,)
    """
    X = _unit_sized(X)
    n_samples = X.shape[0]
    n_trials = 2 + int(math.log(n_clusters))
    if weights is None:
        first = torch.randint(n_samples, (1,), generator=generator, device="cpu").to(X.device)
    else:
        first = torch.multinomial(weights.cpu(), 1, generator=generator).to(X.device)
    indices = [first]
    closest = _squared_distances(X, X[first])[:, 0]  # [n]
    for _ in range(1, n_clusters):
        mass = closest if weights is None else closest * weights  # [n]
        total = mass.sum()
        if total <= 0:  # every point coincides with a centre already chosen
            candidates = torch.randint(n_samples, (n_trials,), generator=generator).to(X.device)
        else:
            candidates = torch.multinomial(
                (mass / total).cpu(), n_trials, replacement=True, generator=generator
            ).to(X.device)
        candidate_distances = torch.minimum(
            closest[:, None], _squared_distances(X, X[candidates])
        )  # [n, trials]
        spread = candidate_distances if weights is None else candidate_distances * weights[:, None]
        best = int(torch.argmin(spread.sum(0)))
        indices.append(candidates[best : best + 1])
        closest = candidate_distances[:, best]
    return torch.cat(indices)


def kmeans_labels(
    X: torch.Tensor,
    n_clusters: int,
    generator: torch.Generator,
    max_iter: int = 300,
    tol: float = 1e-4,
    weights: torch.Tensor | None = None,
) -> torch.Tensor:
    """Lloyd's k-means from k-means++ seeds; the cluster label of every row.

    Parameters
    ----------
    X : Tensor of shape (n, D)
    n_clusters : int
    generator : torch.Generator
    max_iter : int
    tol : float
        Stop when the centres move less than ``tol`` times the mean variance of the data.
    weights : Tensor of shape (n,), optional
        Positive row weights: weighted seeding, weighted centres and variance.

    Returns
    -------
    labels : LongTensor of shape (n,)
    """
    if weights is None:
        centred = _unit_sized(X - X.mean(0))
        threshold = tol * centred.var(0, unbiased=False).mean()
    else:
        share = weights / weights.sum()  # [n]
        centred = _unit_sized(X - share @ X)
        threshold = tol * (share @ centred.square()).mean()
    centers = centred[kmeans_plusplus(centred, n_clusters, generator, weights)]  # [k, D]
    labels = torch.zeros(X.shape[0], dtype=torch.long, device=X.device)
    for _ in range(max_iter):
        labels = _nearest(centred, centers)  # [n]
        if weights is None:
            sums = torch.zeros_like(centers).index_add_(0, labels, centred)
            sizes = torch.bincount(labels, minlength=n_clusters).to(X.dtype)  # [k]
        else:
            sums = torch.zeros_like(centers).index_add_(0, labels, centred * weights[:, None])
            sizes = torch.zeros(n_clusters, dtype=X.dtype, device=X.device).index_add_(
                0, labels, weights
            )  # [k]
        moved = torch.where(sizes[:, None] > 0, sums / sizes.clamp(min=1)[:, None], centers)
        shift = (moved - centers).square().sum()
        centers = moved
        if shift <= threshold:
            break
    return _nearest(centred, centers)


def initial_responsibilities(
    X: torch.Tensor,
    n_components: int,
    method: str,
    generator: torch.Generator | np.random.RandomState,
    sample_weight: torch.Tensor | None = None,
) -> torch.Tensor:
    """Responsibilities of shape (n, K) that start EM, as scikit-learn builds them.

    Parameters
    ----------
    X : Tensor of shape (n, D)
    n_components : int
    method : {'kmeans', 'k-means++', 'random', 'random_from_data'}
    generator : torch.Generator or numpy.random.RandomState
        A ``RandomState`` draws 'random' and 'random_from_data' exactly as scikit-learn
        does (``uniform`` and ``choice`` without replacement), so that the start is
        scikit-learn's own; the k-means starts then seed a torch generator from it.
    sample_weight : Tensor of shape (n,), optional
        Non-negative row weights, at least ``n_components`` of them positive. Rows of
        weight zero take no part in the draw; when the other rows' weights are all
        equal, the start is the unweighted start of those rows (so zero weights start as
        dropped rows do, and equal weights as no weights). Otherwise 'random_from_data'
        draws ``n_components`` distinct rows with probabilities proportional to their
        weights, the k-means starts run weighted k-means++ seeding and weighted Lloyd
        steps, and 'random' draws as without weights (the statistics are weighted).

    Returns
    -------
    resp : Tensor of shape (n, n_components)
    """
    n_samples = X.shape[0]
    if sample_weight is not None:
        return _weighted_responsibilities(X, n_components, method, generator, sample_weight)
    if isinstance(generator, np.random.RandomState):
        if method == "random":
            draw = generator.uniform(size=(n_samples, n_components))  # [n, K]
            resp = torch.as_tensor(draw, device=X.device).to(X.dtype)
            return resp / resp.sum(1, keepdim=True)
        if method == "random_from_data":
            chosen = generator.choice(n_samples, size=n_components, replace=False)
            resp = torch.zeros(n_samples, n_components, dtype=X.dtype, device=X.device)
            rows = torch.as_tensor(chosen, device=X.device)
            resp[rows, torch.arange(n_components, device=X.device)] = 1
            return resp
        generator = torch.Generator().manual_seed(int(generator.randint(2**31 - 1)))
    resp = torch.zeros(n_samples, n_components, dtype=X.dtype, device=X.device)
    columns = torch.arange(n_components, device=X.device)
    if method == "kmeans":
        labels = kmeans_labels(X, n_components, generator)
        resp[torch.arange(n_samples, device=X.device), labels] = 1
    elif method == "k-means++":
        resp[kmeans_plusplus(X - X.mean(0), n_components, generator), columns] = 1
    elif method == "random":
        resp = torch.rand(n_samples, n_components, generator=generator, dtype=X.dtype).to(X.device)
        resp /= resp.sum(1, keepdim=True)
    elif method == "random_from_data":
        chosen = torch.randperm(n_samples, generator=generator)[:n_components].to(X.device)
        resp[chosen, columns] = 1
    else:  # pragma: no cover - checked before
        raise ValueError(f"Unknown init_params {method!r}.")
    return resp


def _weighted_responsibilities(
    X: torch.Tensor, n_components: int, method: str, generator, sample_weight: torch.Tensor
) -> torch.Tensor:
    """:func:`initial_responsibilities` of weighted rows, drawn among those of positive weight."""
    kept = torch.nonzero(sample_weight > 0)[:, 0]  # [m]
    weights = sample_weight[kept]  # [m]
    resp = torch.zeros(X.shape[0], n_components, dtype=X.dtype, device=X.device)
    if bool((weights == weights[0]).all()) or method == "random":
        resp[kept] = initial_responsibilities(X[kept], n_components, method, generator)
        return resp
    if isinstance(generator, np.random.RandomState):
        generator = torch.Generator().manual_seed(int(generator.randint(2**31 - 1)))
    columns = torch.arange(n_components, device=X.device)
    if method == "random_from_data":
        chosen = torch.multinomial(weights.cpu(), n_components, generator=generator)
        resp[kept[chosen.to(X.device)], columns] = 1
    elif method == "k-means++":
        points = X[kept]
        share = weights / weights.sum()
        chosen = kmeans_plusplus(points - share @ points, n_components, generator, weights)
        resp[kept[chosen], columns] = 1
    else:  # kmeans
        labels = kmeans_labels(X[kept], n_components, generator, weights=weights)
        resp[kept, labels] = 1
    return resp


def _cancel_check(cancelled) -> Callable[[], None]:
    """A function that raises :class:`Cancelled` once ``cancelled`` says so."""
    if cancelled is None:
        return lambda: None
    is_set = getattr(cancelled, "is_set", cancelled)  # threading.Event or a callable

    def check() -> None:
        if is_set():
            raise Cancelled

    return check


def kmeans_start(
    X,
    n_components: int,
    *,
    reg_covar: float = 1e-6,
    random_state: int | None = None,
    sample: int = 20_000,
    max_iter: int = 25,
    cancelled=None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Initial mixture parameters from k-means++ seeds and Lloyd steps on a sample.

    Meant to start :class:`GaussianMixture` (``weights_init``, ``means_init``,
    ``covariances_init``) from a program that must stay responsive: the clustering runs
    on a random sample of at most ``sample`` rows, for at most ``max_iter`` Lloyd steps,
    and ``cancelled`` is checked between steps, so a start on 200,000 points can be
    abandoned within milliseconds.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Needs at least ``n_components`` rows.
    n_components : int
    reg_covar : float, default=1e-6
        Added to the diagonal of every covariance, in squared data units.
    random_state : int, optional
        Seeds the sample and the k-means++ seeds.
    sample : int, default=20_000
        At most this many rows, drawn at random, are clustered.
    max_iter : int, default=25
        Lloyd steps at most (fewer when the centres stop moving).
    cancelled : threading.Event or callable returning bool, optional
        Checked between steps.

    Returns
    -------
    weights : ndarray of shape (n_components,)
        Cluster sizes plus one, normalised (no component starts empty).
    means : ndarray of shape (n_components, n_features)
        Mean of each cluster.
    covariances : ndarray of shape (n_components, n_features, n_features)
        Biased covariance of each cluster plus ``reg_covar`` on the diagonal; a cluster
        of fewer than two rows takes the covariance of all rows divided by
        ``n_components``.

    Raises
    ------
    Cancelled
        When ``cancelled`` is set (or returns True) at a check.
    ValueError
        When ``X`` has fewer rows than ``n_components``, or when float64 cannot hold the
        clusters' covariances (points spanning 1e200 have variances of 1e400).
    """
    check = _cancel_check(cancelled)
    data = np.asarray(X, dtype=np.float64)
    if data.ndim != 2 or data.shape[0] < n_components or n_components < 1:
        raise ValueError(
            f"kmeans_start needs an array of shape (n_samples, n_features) with n_samples "
            f">= n_components >= 1, got shape {data.shape} and n_components={n_components}; "
            "add points or lower n_components."
        )
    generator = torch.Generator()
    if random_state is None:
        generator.seed()  # non-deterministic, leaves torch's global generator alone
    else:
        generator.manual_seed(int(random_state))
    if data.shape[0] > sample:
        chosen = torch.randperm(data.shape[0], generator=generator)[:sample]
        data = data[np.sort(chosen.numpy())]
    X_t = data_tensor(data)  # [n, D]
    centre = X_t.mean(0)
    exponent = _size_exponent(X_t - centre)  # 0 unless far from unit size
    centred = _times_power_of_two(X_t - centre, -exponent)
    spread = float(centred.std(0, unbiased=False).max())
    Z = centred / (spread if spread > 0 else 1.0)  # [n, D] unit scale
    check()
    centers = Z[kmeans_plusplus(Z, n_components, generator)]  # [K, D]
    labels = _nearest(Z, centers)  # [n]
    for _ in range(max_iter):
        check()
        sums = torch.zeros_like(centers).index_add_(0, labels, Z)  # [K, D]
        sizes = torch.bincount(labels, minlength=n_components).to(Z.dtype)  # [K]
        moved = torch.where(sizes[:, None] > 0, sums / sizes.clamp(min=1)[:, None], centers)
        shift = float((moved - centers).abs().max())
        centers = moved
        labels = _nearest(Z, centers)
        if shift < 1e-6:
            break
    check()
    labels_np = labels.numpy()
    n_samples, n_features = data.shape
    counts = np.bincount(labels_np, minlength=n_components).astype(np.float64)  # [K]
    unit = _times_power_of_two(centers * (spread if spread > 0 else 1.0), exponent)
    means = unit.numpy() + centre.numpy()  # [K, D]
    covariances = np.empty((n_components, n_features, n_features))
    # Variances float64 cannot hold overflow to inf here: check_representable says so.
    with np.errstate(over="ignore", invalid="ignore"):
        overall = np.zeros((n_features, n_features))
        if n_samples > 1:
            overall = np.atleast_2d(np.cov(data.T, bias=True))  # [D, D]
        for k in range(n_components):
            members = data[labels_np == k]
            if members.shape[0] >= 2:
                means[k] = members.mean(axis=0)
                centred = members - means[k]
                covariances[k] = centred.T @ centred / members.shape[0]
            else:
                covariances[k] = overall / n_components
            covariances[k].flat[:: n_features + 1] += reg_covar
    weights = (counts + 1.0) / (counts.sum() + n_components)
    check_representable(np.float64, "full", means, covariances, covariances)
    return weights, means, covariances
