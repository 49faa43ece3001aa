"""The command line: ``python -m gmm_core fit DATA --components K --out model.json``.

Under ``torchrun`` (which sets ``RANK``, ``WORLD_SIZE``, ``MASTER_ADDR`` and
``MASTER_PORT``) every process reads only its own slice of the file
(:func:`gmm_core.shards.read_shard`) and the processes fit one model together
(``GaussianMixture(distributed=True)``); the first process alone shows progress and writes
the model. Alone (no ``WORLD_SIZE``, or 1), it fits the whole file in this process::

    torchrun --nproc-per-node 2 -m gmm_core fit points.parquet --components 8 --out model.json
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from datetime import timedelta
from time import perf_counter

from . import distributed as _distributed
from ._gaussian_mixture import GaussianMixture
from .shards import read_shard


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m gmm_core", description="Fit Gaussian mixtures from files."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    fit = commands.add_parser(
        "fit",
        help="fit a GaussianMixture to a table file (on every process of torchrun)",
    )
    fit.add_argument(
        "data",
        help="a table file: CSV (or other delimited text), Parquet, Arrow/Feather or .npy; "
        "every numeric column is a feature",
    )
    fit.add_argument("--components", type=int, required=True, help="number of components")
    fit.add_argument(
        "--covariance-type", default="full", choices=("full", "tied", "diag", "spherical")
    )
    fit.add_argument("--max-iter", type=int, default=100)
    fit.add_argument("--tol", type=float, default=1e-3)
    fit.add_argument("--n-init", type=int, default=1)
    fit.add_argument("--reg-covar", type=float, default=1e-6)
    fit.add_argument("--init-params", default="kmeans", choices=("kmeans", "k-means++", "random"))
    fit.add_argument("--random-state", type=int, default=0)
    fit.add_argument("--out", help="write the model here as JSON (to_dict)")
    fit.add_argument("--backend", default="gloo", help="torch.distributed backend (gloo, nccl)")
    fit.add_argument("--timeout", type=float, default=600, help="seconds any process may wait")
    fit.add_argument("--quiet", action="store_true", help="no progress on the first process")
    return parser


def _write_json(path: str, data: dict) -> None:
    """Write atomically: a failed write leaves an existing file as it was."""
    folder = os.path.dirname(os.path.abspath(path))
    handle, temporary = tempfile.mkstemp(dir=folder, suffix=".json.tmp")
    try:
        with os.fdopen(handle, "w") as stream:
            json.dump(data, stream)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


def fit_command(args) -> int:
    """Run ``fit``; returns the exit status."""
    import torch.distributed as dist

    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world > 1:
        dist.init_process_group(args.backend, timeout=timedelta(seconds=args.timeout))
    rank = dist.get_rank() if world > 1 else 0
    try:
        group = _distributed.shard_group(world > 1)
        error = None
        try:
            X = read_shard(args.data, rank, world)
        except (OSError, ValueError) as exc:
            error, X = str(exc), None
        if group is not None:
            _distributed.agree_on_error(group, error)
        elif error is not None:
            raise ValueError(error)
        show = rank == 0 and not args.quiet
        model = GaussianMixture(
            args.components,
            covariance_type=args.covariance_type,
            max_iter=args.max_iter,
            tol=args.tol,
            n_init=args.n_init,
            reg_covar=args.reg_covar,
            init_params=args.init_params,
            random_state=args.random_state,
            verbose=2 if show else 0,
            verbose_interval=1,
            distributed=group is not None,
        )
        began = perf_counter()
        model.fit(X)
        if rank == 0:
            if args.out:
                _write_json(args.out, model.to_dict())
            if show:
                print(
                    f"Fitted {args.components} components to {model.n_samples_seen_} rows on "
                    f"{world} process(es) in {perf_counter() - began:.2f} s: "
                    f"{'converged' if model.converged_ else 'not converged'} after "
                    f"{model.n_iter_} passes, lower bound {model.lower_bound_:.6f}"
                    + (f"; wrote {args.out}" if args.out else "")
                )
    except ValueError as exc:
        if rank == 0:
            print(f"python -m gmm_core: error: {exc}", file=sys.stderr)
        return 1
    finally:
        if world > 1:
            dist.destroy_process_group()
    return 0


def main(argv=None) -> int:
    """Entry point of ``python -m gmm_core``."""
    args = _parser().parse_args(argv)
    return fit_command(args)
