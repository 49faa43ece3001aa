"""Stream benchmarks of incremental EM: points per second through ``partial_fit``.

1. Chunks: 10,000,000 two-dimensional points from an 8-component mixture, in chunks of
   10,000 (target: at least 2 million points per second), from a fitted model and from
   nothing (the first chunk then initialises all components by a short batch fit).
2. One point at a time, the path a click takes (target: at least 5,000 per second), from
   a fitted model and from nothing.

scikit-learn has no partial_fit for mixtures; for scale, the chunk rate is compared with
its E-step alone (``predict_proba``) on the same kind of data, measured in the same run.

Usage: python benchmarks/bench_stream.py [--points 10000000] [--clicks 20000]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from gmm_core import GaussianMixture

K, D = 8, 2
CHUNK_TARGET, CLICK_TARGET = 2_000_000, 5_000


def mixture(seed: int = 0):
    rng = np.random.default_rng(seed)
    means = rng.uniform(-30.0, 30.0, (K, D))
    factors = rng.normal(0.0, 1.0, (K, D, D)) * 0.7 + np.eye(D)
    return means, factors


def draw(rng, n, means, factors):
    labels = rng.integers(0, K, n)
    return means[labels] + np.einsum("nij,nj->ni", factors[labels], rng.normal(size=(n, D)))


def stream_chunks(model, n_points, chunk, rng, means, factors):
    """Seconds spent inside partial_fit for ``n_points`` points (data drawn outside)."""
    spent = 0.0
    for _ in range(n_points // chunk):
        X = draw(rng, chunk, means, factors)
        start = time.perf_counter()
        model.partial_fit(X)
        spent += time.perf_counter() - start
    return spent


def stream_clicks(model, points):
    start = time.perf_counter()
    for x in points:
        model.partial_fit(x)
    return time.perf_counter() - start


def sklearn_estep_rate(rng, means, factors, n=1_000_000) -> float | None:
    """Points per second of scikit-learn's E-step (predict_proba) on the same mixture."""
    try:
        from sklearn.mixture import GaussianMixture as SklearnMixture
    except ImportError:
        return None
    reference = SklearnMixture(K, random_state=0).fit(draw(rng, 50_000, means, factors))
    X = draw(rng, n, means, factors)
    start = time.perf_counter()
    reference.predict_proba(X)
    return n / (time.perf_counter() - start)


def report(label, n, seconds, target):
    rate = n / seconds
    verdict = "ok" if rate >= target else "BELOW TARGET"
    print(f"{label:<44} {rate:>14,.0f} points/s  ({rate / target:5.2f}x target, {verdict})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=10_000_000)
    parser.add_argument("--chunk", type=int, default=10_000)
    parser.add_argument("--clicks", type=int, default=20_000)
    args = parser.parse_args()
    means, factors = mixture()
    rng = np.random.default_rng(1)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; K={K}, D={D}")

    fitted = GaussianMixture(K, random_state=0).fit(draw(rng, 50_000, means, factors))
    seconds = stream_chunks(fitted, args.points, args.chunk, rng, means, factors)
    report(f"chunks of {args.chunk:,}, from a fitted model", args.points, seconds, CHUNK_TARGET)
    sklearn_rate = sklearn_estep_rate(rng, means, factors)
    if sklearn_rate is not None:
        ratio = args.points / seconds / sklearn_rate
        print(
            f"{'':<44} (scikit-learn's E-step alone: {sklearn_rate:,.0f} points/s; "
            f"E-step + exact merge here: {ratio:.2f}x that)"
        )
    fresh = GaussianMixture(K, random_state=0)
    seconds = stream_chunks(fresh, args.points, args.chunk, rng, means, factors)
    report(f"chunks of {args.chunk:,}, from nothing", args.points, seconds, CHUNK_TARGET)
    found = np.sqrt(((means[:, None] - fresh.means_[None]) ** 2).sum(-1)).min(1).max()
    print(f"{'':<44} (from nothing: every true mean within {found:.3f} of a component)")

    clicks = draw(rng, args.clicks, means, factors)
    fitted = GaussianMixture(K, random_state=0).fit(draw(rng, 5_000, means, factors))
    report(
        "one point at a time, from a fitted model",
        args.clicks,
        stream_clicks(fitted, clicks),
        CLICK_TARGET,
    )
    fresh = GaussianMixture(K, random_state=0)
    report(
        "one point at a time, from nothing", args.clicks, stream_clicks(fresh, clicks), CLICK_TARGET
    )


if __name__ == "__main__":
    main()
