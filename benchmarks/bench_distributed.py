"""Distributed EM: the same fit on 1 process and on 2 processes (gloo on 127.0.0.1).

Two problems: N = 4,000,000 rows, K = 8, D = 2; and N = 1,000,000 rows, K = 8, D = 10.
Every run starts from the same given parameters (so no k-means) and runs exactly
``--passes`` EM passes (``tol=0``). Each of the two processes uses one thread, as
``torchrun`` sets it; the one process is measured with one thread (the baseline of the
speed-up) and with all of torch's threads. Reported: seconds per pass, the
speed-up, the time per pass spent in the all-reduce, and the bytes all-reduced per pass
(``K + K D + K D^2 + 1`` float64 numbers; median over passes, after one warm-up fit),
then a paper estimate for 10^9 rows on 100 machines built from these measurements.

Usage: python benchmarks/bench_distributed.py [--quick] [--passes 10]
"""

from __future__ import annotations

import argparse
import math
import os
import pickle
import socket
import sys
import tempfile
import time
from datetime import timedelta

import numpy as np
import torch
import torch.multiprocessing as mp

from gmm_core import GaussianMixture
from gmm_core import distributed as gmm_distributed

K = 8
PROBLEMS = ((4_000_000, 2), (1_000_000, 10))


def make_data(n: int, d: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    means = rng.uniform(-30.0, 30.0, (K, d))
    labels = rng.integers(0, K, n)
    return means[labels] + rng.normal(size=(n, d))


def start_of(X: np.ndarray) -> dict:
    """A fixed start: K rows as means, unit precisions, equal weights."""
    d = X.shape[1]
    return dict(
        weights_init=np.full(K, 1.0 / K),
        means_init=X[:: X.shape[0] // K][:K].copy(),
        precisions_init=np.broadcast_to(np.eye(d), (K, d, d)).copy(),
    )


def timed_fit(X: np.ndarray, passes: int, distributed: bool) -> dict:
    """Fit and time it; the all-reduce is timed by wrapping ShardGroup.all_reduce_sums."""
    reduce_times = []
    original = gmm_distributed.ShardGroup.all_reduce_sums

    def timed(self, sums):
        began = time.perf_counter()
        result = original(self, sums)
        reduce_times.append(time.perf_counter() - began)
        return result

    gmm_distributed.ShardGroup.all_reduce_sums = timed
    try:
        # One warm-up pass (first torch calls, gloo's first connection), not timed.
        GaussianMixture(K, tol=0.0, max_iter=1, distributed=distributed, **start_of_global).fit(X)
        reduce_times.clear()
        model = GaussianMixture(
            K, tol=0.0, max_iter=passes, distributed=distributed, **start_of_global
        )
        began = time.perf_counter()
        model.fit(X)
        elapsed = time.perf_counter() - began
    finally:
        gmm_distributed.ShardGroup.all_reduce_sums = original
    return dict(
        seconds=elapsed,
        per_pass=elapsed / passes,
        reduce=float(np.median(reduce_times)) if reduce_times else 0.0,
        means=model.means_,
    )


start_of_global: dict = {}


def _worker(rank: int, world: int, port: int, n: int, d: int, passes: int, out: str) -> None:
    torch.set_num_threads(1)
    import torch.distributed as dist

    dist.init_process_group(
        "gloo",
        init_method=f"tcp://127.0.0.1:{port}",
        rank=rank,
        world_size=world,
        timeout=timedelta(seconds=600),
    )
    X = make_data(n, d)
    start_of_global.update(start_of(X))
    shard = X[n * rank // world : n * (rank + 1) // world].copy()
    del X
    result = timed_fit(shard, passes, True)
    dist.barrier()
    if rank == 0:
        with open(out, "wb") as handle:
            pickle.dump(result, handle)
    dist.destroy_process_group()


def run_two(n: int, d: int, passes: int) -> dict:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    out = os.path.join(tempfile.mkdtemp(), "result.pkl")
    context = mp.get_context("spawn")
    processes = [
        context.Process(target=_worker, args=(rank, 2, port, n, d, passes, out))
        for rank in range(2)
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join(1200)
    for process in processes:
        if process.is_alive():
            process.kill()
            sys.exit("a benchmark process hung; killed")
    with open(out, "rb") as handle:
        return pickle.load(handle)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passes", type=int, default=10)
    parser.add_argument("--quick", action="store_true", help="1/40 of the rows, to try it")
    args = parser.parse_args()
    scale = 40 if args.quick else 1
    print(f"torch {torch.__version__}, {os.cpu_count()} cores, {torch.get_num_threads()} threads")
    rows = []
    for n, d in PROBLEMS:
        n //= scale
        X = make_data(n, d)
        start_of_global.update(start_of(X))
        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        one = timed_fit(X, args.passes, False)
        torch.set_num_threads(threads)
        threaded = timed_fit(X, args.passes, False)
        del X
        two = run_two(n, d, args.passes)
        gap = np.abs(one["means"] - two["means"]).max() / 30.0
        bytes_per_pass = (K + K * d + K * d * d + 1) * 8
        rows.append((n, d, one, two, bytes_per_pass))
        print(
            f"N={n:>9,} K={K} D={d:>2}: 1 process {one['per_pass'] * 1e3:8.1f} ms/pass "
            f"({threaded['per_pass'] * 1e3:.1f} with {threads} threads), "
            f"2 processes {two['per_pass'] * 1e3:8.1f} ms/pass, speed-up "
            f"{one['per_pass'] / two['per_pass']:.2f}x; all-reduce "
            f"{two['reduce'] * 1e3:.3f} ms/pass ({two['reduce'] / two['per_pass']:.2%} of a "
            f"pass), {bytes_per_pass:,} bytes/pass; max |means gap| / spread {gap:.1e}"
        )
    # Paper estimate: 10^9 rows on 100 machines of this machine's kind (two cores each),
    # 10^7 rows each; compute per row as measured with 2 processes here; the all-reduce
    # of a few kB is latency-bound: 2 log2(P) network hops (tree or halving-doubling)
    # of an assumed 50 us each, plus the measured local cost.
    machines, total = 100, 10**9
    hops = 2 * math.ceil(math.log2(machines))
    for n, d, _, two, bytes_per_pass in rows:
        compute = (two["per_pass"] - two["reduce"]) / n * (total / machines)
        reduce = two["reduce"] + hops * 50e-6
        print(
            f"Estimate, 10^9 rows, D={d:>2}, on {machines} machines: "
            f"{compute:.2f} s compute + {reduce * 1e3:.1f} ms all-reduce "
            f"({bytes_per_pass:,} bytes) = {compute + reduce:.2f} s per pass"
        )


if __name__ == "__main__":
    main()
