"""Batch EM: gmm_core against scikit-learn, from the same start, in the same process.

Both run a fixed number of EM iterations (tol=0) from the same weights, means and
precisions; the script prints their times, the ratio, the largest parameter difference
and the resident memory each fit adds above the loaded data.

    python benchmarks/bench_em.py            # N=1e6, K=8, D=2 and N=2e5, K=8, D=10
    python benchmarks/bench_em.py --quick    # smaller sizes, for a smoke run
"""

from __future__ import annotations

import argparse
import os
import threading
import time
import warnings

import numpy as np
import torch
from sklearn.mixture import GaussianMixture as SklearnGaussianMixture

from gmm_core import GaussianMixture


def resident_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


class PeakMemory:
    """Peak resident set size above the level at entry, sampled every millisecond."""

    def __enter__(self):
        self.baseline = resident_bytes()
        self.peak = self.baseline
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self):
        while not self._stop.wait(0.001):
            self.peak = max(self.peak, resident_bytes())

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, resident_bytes())
        self.added_mb = (self.peak - self.baseline) / 2**20


def make_data(n_samples, n_components, n_features, rng):
    centres = rng.normal(scale=8.0, size=(n_components, n_features))
    labels = rng.integers(n_components, size=n_samples)
    return centres[labels] + rng.normal(size=(n_samples, n_features)), centres


def run(n_samples, n_components, n_features, n_iter, rng):
    X, centres = make_data(n_samples, n_components, n_features, rng)
    start = dict(
        weights_init=np.full(n_components, 1.0 / n_components),
        means_init=centres + rng.normal(scale=1.0, size=centres.shape),
        precisions_init=np.stack([np.eye(n_features)] * n_components),
    )
    options = dict(tol=0.0, max_iter=n_iter, reg_covar=1e-6, **start)
    spread = np.sqrt(np.trace(np.cov(X.T)))

    ours = GaussianMixture(n_components, **options)
    ours.fit(X[:1000])  # warm-up: first-call overheads are not what is measured
    with PeakMemory() as memory:
        began = time.perf_counter()
        ours.fit(X)
        ours_seconds = time.perf_counter() - began
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference = SklearnGaussianMixture(n_components, **options)
        began = time.perf_counter()
        reference.fit(X)
        sklearn_seconds = time.perf_counter() - began
    mean_error = np.abs(ours.means_ - reference.means_).max() / spread
    covariance_error = np.abs(ours.covariances_ - reference.covariances_).max() / spread**2
    print(
        f"N={n_samples:>9,} K={n_components} D={n_features:<2} {n_iter} iterations: "
        f"scikit-learn {sklearn_seconds:6.2f} s, gmm_core {ours_seconds:6.2f} s, "
        f"ratio {sklearn_seconds / ours_seconds:5.1f}x; "
        f"max |means diff|/spread {mean_error:.1e}, |cov diff|/spread^2 {covariance_error:.1e}; "
        f"gmm_core fit adds {memory.added_mb:.0f} MB RSS above the data ({X.nbytes / 2**20:.0f} MB)"
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes for a smoke run")
    parser.add_argument("--iterations", type=int, default=10)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {os.cpu_count()} CPUs")
    scale = 20 if args.quick else 1
    run(1_000_000 // scale, 8, 2, args.iterations, rng)
    run(200_000 // scale, 8, 10, args.iterations, rng)


if __name__ == "__main__":
    main()
