"""``gmm-core fit`` under ``torchrun``: one model from the slices of many processes.

Under ``torchrun`` (which sets ``RANK``, ``WORLD_SIZE``, ``MASTER_ADDR`` and
``MASTER_PORT``) every process reads only its own slice of the file
(:func:`gmm_core.shards.read_shard`) and the processes fit one model together
(``GaussianMixture(distributed=True)``); the first process alone shows progress and writes
the model. Alone (no ``WORLD_SIZE``, or 1), :mod:`gmm_core.cli.fit` fits in this process
(:func:`gmm_core.cli.main` chooses)::

    torchrun --nproc-per-node 2 -m gmm_core fit points.parquet --components 8 --out model.json
"""

from __future__ import annotations

import os
import sys
from datetime import timedelta
from time import perf_counter

from .. import distributed as _distributed
from .._gaussian_mixture import GaussianMixture
from ..shards import read_shard
from .errors import USAGE, CommandError, one_line
from .files import describe_table, save_model
from .options import estimator_options


def _check_options(args) -> None:
    """Refuse what the processes cannot do together (status 2)."""
    refused = [
        (len(args.components) > 1, "a range of --components (give one K)"),
        (args.stream, "--stream"),
        (args.on_bad_rows != "error", "--on-bad-rows skip"),
        (args.json, "--json"),
        (args.weights is not None, "--weights"),
    ]
    names = [name for wanted, name in refused if wanted]
    if names:
        raise CommandError(f"{', '.join(names)}: not available under torchrun", USAGE)


def run(args) -> int:
    """Run ``fit`` on this process of a torchrun group; returns the exit status."""
    import torch.distributed as dist

    world = int(os.environ["WORLD_SIZE"])
    try:
        _check_options(args)
        options = estimator_options(args)
    except CommandError as error:
        if int(os.environ.get("RANK", "0")) == 0:
            print(f"gmm-core: error: {error}", file=sys.stderr)
        return error.status
    dist.init_process_group(args.backend, timeout=timedelta(seconds=args.timeout))
    rank = dist.get_rank()
    try:
        group = _distributed.shard_group(True)
        error = None
        try:
            X = read_shard(args.data, rank, world, args.columns)
        except (OSError, ValueError) as exc:
            error, X = str(exc), None
        _distributed.agree_on_error(group, error)
        show = rank == 0 and not args.quiet
        model = GaussianMixture(
            args.components[0],
            **options,
            verbose=2 if show else 0,
            verbose_interval=1,
            distributed=True,
        )
        began = perf_counter()
        model.fit(X)
        if rank == 0:
            if args.out:
                save_model(args.out, model, _column_names(args.data, args.columns))
            if show:
                print(
                    f"Fitted {args.components[0]} components to {model.n_samples_seen_} rows on "
                    f"{world} process(es) in {perf_counter() - began:.2f} s: "
                    f"{'converged' if model.converged_ else 'not converged'} after "
                    f"{model.n_iter_} passes, lower bound {model.lower_bound_:.6f}"
                    + (f"; wrote {args.out}" if args.out else "")
                )
    except (ValueError, CommandError) as error:
        if rank == 0:
            print(f"gmm-core: error: {one_line(error)}", file=sys.stderr)
        return 1
    finally:
        dist.destroy_process_group()
    return 0


def _column_names(path: str, columns) -> list[str]:
    """The names of the columns fitted: those chosen, or every numeric column."""
    info = describe_table(path)
    if columns is None:
        return list(info.numeric)
    return [info.columns[column] if isinstance(column, int) else column for column in columns]
