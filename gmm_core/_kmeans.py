"""Initial responsibilities for EM: k-means, k-means++ seeding and random starts, in torch."""

from __future__ import annotations

import math

import torch


def _squared_distances(X: torch.Tensor, centers: torch.Tensor) -> torch.Tensor:
    """Squared Euclidean distances of shape (n, k) between rows of X and centers."""
    return torch.cdist(X, centers).square_()


def _nearest(X: torch.Tensor, centers: torch.Tensor, rows: int = 1 << 16) -> torch.Tensor:
    """Index of the nearest centre for every row of X, shape (n,), in chunks."""
    return torch.cat(
        [
            torch.argmin(_squared_distances(X[start : start + rows], centers), dim=1)
            for start in range(0, X.shape[0], rows)
        ]
    )


def kmeans_plusplus(X: torch.Tensor, n_clusters: int, generator: torch.Generator) -> torch.Tensor:
    """Greedy k-means++ seeding: indices of ``n_clusters`` well-spread rows of ``X``.

    Parameters
    ----------
    X : Tensor of shape (n, D)
    n_clusters : int
    generator : torch.Generator

    Returns
    -------
    indices : LongTensor of shape (n_clusters,)
    """
    n_samples = X.shape[0]
    n_trials = 2 + int(math.log(n_clusters))
    first = torch.randint(n_samples, (1,), generator=generator, device="cpu").to(X.device)
    indices = [first]
    closest = _squared_distances(X, X[first])[:, 0]  # [n]
    for _ in range(1, n_clusters):
        total = closest.sum()
        if total <= 0:  # every point coincides with a centre already chosen
            candidates = torch.randint(n_samples, (n_trials,), generator=generator).to(X.device)
        else:
            candidates = torch.multinomial(
                (closest / total).cpu(), n_trials, replacement=True, generator=generator
            ).to(X.device)
        candidate_distances = torch.minimum(
            closest[:, None], _squared_distances(X, X[candidates])
        )  # [n, trials]
        best = int(torch.argmin(candidate_distances.sum(0)))
        indices.append(candidates[best : best + 1])
        closest = candidate_distances[:, best]
    return torch.cat(indices)


def kmeans_labels(
    X: torch.Tensor,
    n_clusters: int,
    generator: torch.Generator,
    max_iter: int = 300,
    tol: float = 1e-4,
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

    Returns
    -------
    labels : LongTensor of shape (n,)
    """
    centred = X - X.mean(0)
    threshold = tol * centred.var(0, unbiased=False).mean()
    centers = centred[kmeans_plusplus(centred, n_clusters, generator)]  # [k, D]
    labels = torch.zeros(X.shape[0], dtype=torch.long, device=X.device)
    for _ in range(max_iter):
        labels = _nearest(centred, centers)  # [n]
        sums = torch.zeros_like(centers).index_add_(0, labels, centred)
        sizes = torch.bincount(labels, minlength=n_clusters).to(X.dtype)  # [k]
        moved = torch.where(sizes[:, None] > 0, sums / sizes.clamp(min=1)[:, None], centers)
        shift = (moved - centers).square().sum()
        centers = moved
        if shift <= threshold:
            break
    return _nearest(centred, centers)


def initial_responsibilities(
    X: torch.Tensor, n_components: int, method: str, generator: torch.Generator
) -> torch.Tensor:
    """Responsibilities of shape (n, K) that start EM, as scikit-learn builds them.

    Parameters
    ----------
    X : Tensor of shape (n, D)
    n_components : int
    method : {'kmeans', 'k-means++', 'random', 'random_from_data'}
    generator : torch.Generator

    Returns
    -------
    resp : Tensor of shape (n, n_components)
    """
    n_samples = X.shape[0]
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
