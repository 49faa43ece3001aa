"""Variational Bayes: gmm_core's BayesianGaussianMixture against scikit-learn's, same start.

Both run a fixed number of variational passes (tol=0) from scikit-learn's own
``random_from_data`` start (the same ``random_state``); the script prints their times,
the ratio and the largest relative difference of the means and the lower bound, then the
throughput of ``partial_fit`` (streaming variational Bayes) on batches of the same data.

    python benchmarks/bench_bayesian.py            # N=1e6, K=8, D=2 and N=2e5, K=8, D=10
    python benchmarks/bench_bayesian.py --quick    # smaller sizes, for a smoke run
"""

from __future__ import annotations

import argparse
import os
import time
import warnings

import numpy as np
import torch
from sklearn.mixture import BayesianGaussianMixture as SklearnBayesianGaussianMixture

from gmm_core import BayesianGaussianMixture


def make_data(n_samples, n_components, n_features, rng):
    centres = rng.normal(scale=8.0, size=(n_components, n_features))
    labels = rng.integers(n_components, size=n_samples)
    return centres[labels] + rng.normal(size=(n_samples, n_features))


def run(n_samples, n_components, n_features, n_iter, rng, batch_rows):
    X = make_data(n_samples, n_components, n_features, rng)
    options = dict(
        n_components=n_components,
        tol=0.0,
        max_iter=n_iter,
        init_params="random_from_data",
        random_state=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        BayesianGaussianMixture(**options).fit(X[:1000])  # warm-up: first-call overheads
        began = time.perf_counter()
        ours = BayesianGaussianMixture(**options).fit(X)
        ours_seconds = time.perf_counter() - began
        began = time.perf_counter()
        reference = SklearnBayesianGaussianMixture(**options).fit(X)
        sklearn_seconds = time.perf_counter() - began
    mean_error = np.abs(ours.means_ - reference.means_).max() / np.abs(reference.means_).max()
    bound_error = abs(ours.lower_bound_ - reference.lower_bound_) / abs(reference.lower_bound_)
    print(
        f"N={n_samples:>9,} K={n_components} D={n_features:<2} {n_iter} passes: "
        f"scikit-learn {sklearn_seconds:6.2f} s, gmm_core {ours_seconds:6.2f} s, "
        f"ratio {sklearn_seconds / ours_seconds:5.1f}x; "
        f"max relative difference: means {mean_error:.1e}, lower bound {bound_error:.1e}"
    )
    stream = BayesianGaussianMixture(n_components=n_components, random_state=0, max_iter=20)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        stream.partial_fit(X[:batch_rows])  # the first batch is a batch fit
        began = time.perf_counter()
        for start in range(batch_rows, n_samples, batch_rows):
            stream.partial_fit(X[start : start + batch_rows])
        seconds = time.perf_counter() - began
    rows = n_samples - batch_rows
    if rows <= 0:
        return
    print(
        f"  partial_fit, batches of {batch_rows:,}: {rows / seconds:,.0f} rows/s "
        f"({seconds * 1e3 / max(1, rows // batch_rows):.2f} ms a batch); "
        f"{int(np.sum(stream.weights_ > 0.01))} components above weight 0.01"
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes for a smoke run")
    parser.add_argument("--iterations", type=int, default=10)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {os.cpu_count()} CPUs")
    scale = 20 if args.quick else 1
    run(1_000_000 // scale, 8, 2, args.iterations, rng, batch_rows=10_000)
    run(200_000 // scale, 8, 10, args.iterations, rng, batch_rows=10_000)


if __name__ == "__main__":
    main()
