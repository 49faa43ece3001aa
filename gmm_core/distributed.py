"""One mixture learned by several processes, each holding a shard of the rows.

With ``GaussianMixture(distributed=True)`` (the default ``torch.distributed`` process
group) or ``distributed=group`` (a process group), every process calls ``fit`` on its own
shard and they train one model together:

- the shards are validated together: a shard that is refused (NaN, another number of
  features) makes *every* process raise the same ``ValueError``, so none waits forever;
  an empty shard takes part and contributes nothing;
- the start is the same everywhere: one seed (process 0's) drives the random starts, and
  ``init_params`` runs on a sample of at most :data:`INIT_SAMPLE` rows drawn from all
  shards (all the rows, in process order, when there are no more than that, so the start
  is then exactly a single-process fit's start on the concatenated rows);
- each EM pass sums the shards' E-step sums (centred at the current means) and
  log-likelihoods in one all-reduce, so every process takes the same M-step, the same
  convergence decision and the same best start.

This module holds the collective operations; the estimator calls them and keeps its own
state.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.distributed as dist
from sklearn.utils.validation import validate_data

from ._em import ExpectationSums

# At most this many rows, drawn from all shards, start k-means and the other random starts.
INIT_SAMPLE = 100_000


@dataclass(frozen=True)
class ShardGroup:
    """The processes that train one model together: a ``torch.distributed`` group.

    Attributes
    ----------
    group : ProcessGroup or None
        None is the default group.
    rank : int
        This process's position in the group.
    size : int
        Processes in the group.
    """

    group: object
    rank: int
    size: int

    def gather(self, value) -> list:
        """Every process's ``value`` (any picklable object), in rank order, on every process."""
        values = [None] * self.size
        dist.all_gather_object(values, value, group=self.group)
        return values

    def broadcast(self, value):
        """Process 0's ``value`` (picklable), on every process."""
        source = 0 if self.group is None else dist.get_global_rank(self.group, 0)
        box = [value]
        dist.broadcast_object_list(box, src=source, group=self.group)
        return box[0]

    def all_reduce_sums(self, sums: ExpectationSums) -> ExpectationSums:
        """The sums over all shards, in one all-reduce of ``K + K D + K D^2 + 1`` numbers."""
        K, D = sums.first.shape
        flat = torch.cat(
            [
                sums.counts,
                sums.first.reshape(-1),
                sums.second.reshape(-1),
                sums.log_likelihood.reshape(1).to(sums.counts.dtype),
            ]
        )  # [K + K D + K D D + 1]
        device = flat.device
        if dist.get_backend(self.group) == "gloo" and device.type != "cpu":
            flat = flat.cpu()
        dist.all_reduce(flat, op=dist.ReduceOp.SUM, group=self.group)
        flat = flat.to(device)
        counts, first, second, log_likelihood = torch.split(flat, [K, K * D, K * D * D, 1])
        return ExpectationSums(
            counts, first.reshape(K, D), second.reshape(K, D, D), log_likelihood[0]
        )

    def sum(self, values: list[float]) -> list[float]:
        """Element-wise sum of a few float64 numbers over all processes."""
        tensor = torch.tensor(values, dtype=torch.float64)
        dist.all_reduce(tensor, op=dist.ReduceOp.SUM, group=self.group)
        return tensor.tolist()


def shard_group(distributed) -> ShardGroup | None:
    """The group that ``distributed`` names, or None for a single-process estimator.

    Parameters
    ----------
    distributed : bool or ProcessGroup
        False: train alone. True: the default process group. A process group: that group.

    Raises
    ------
    ValueError
        If training is to be shared but ``torch.distributed`` has no process group yet.
    """
    if distributed is False or distributed is None:
        return None
    if not dist.is_available() or not dist.is_initialized():
        raise ValueError(
            "distributed training needs torch.distributed.init_process_group() to have run "
            "on every process first (torchrun sets up its environment); or pass "
            "distributed=False."
        )
    group = None if distributed is True else distributed
    return ShardGroup(group, dist.get_rank(group), dist.get_world_size(group))


def check_shards(
    estimator, X, group: ShardGroup, *, reset: bool
) -> tuple[np.ndarray, tuple[int, ...]]:
    """Validate this process's shard together with every other process's.

    A collective call: every process of the group must make it.

    Parameters
    ----------
    estimator : BaseEstimator
    X : array-like of shape (n_rows, n_features)
        This process's rows; may have none.
    group : ShardGroup
    reset : bool
        As in :func:`~gmm_core._validation.check_data`.

    Returns
    -------
    array : ndarray of shape (n_rows, n_features)
        float32 when every non-empty shard is float32, else float64.
    rows : tuple of int
        Rows of every process's shard, in rank order.

    Raises
    ------
    ValueError
        On every process, with the same message, if any shard is refused, the shards have
        different numbers of features, or all are empty.
    """
    error = None
    array = None
    try:
        if isinstance(X, torch.Tensor):
            X = X.detach().cpu().numpy()
        array = validate_data(
            estimator, X, reset=reset, dtype=[np.float64, np.float32], ensure_min_samples=0
        )
    except (ValueError, TypeError) as exc:
        error = str(exc)
    report = (
        error,
        None if array is None else array.shape[1],
        None if array is None else array.shape[0],
        None if array is None else array.dtype.str,
    )
    reports = group.gather(report)
    raise_first_error(group, [report[0] for report in reports])
    features = [report[1] for report in reports]
    if len(set(features)) > 1:
        listed = ", ".join(f"{d} on process {rank}" for rank, d in enumerate(features))
        raise ValueError(
            f"The shards have different numbers of features ({listed}); every process must "
            "pass the same columns."
        )
    rows = tuple(int(report[2]) for report in reports)
    if sum(rows) == 0:
        raise ValueError("Every shard is empty; give at least one process some rows.")
    dtypes = {report[3] for report in reports if report[2] > 0}
    agreed = np.float32 if dtypes == {np.dtype(np.float32).str} else np.float64
    return array.astype(agreed, copy=False), rows


def raise_first_error(group: ShardGroup, errors: list) -> None:
    """Raise, on every process, the same ValueError for the first process that had one.

    Parameters
    ----------
    group : ShardGroup
    errors : list of (str or None)
        Every process's error message (None: none), in rank order, as gathered.
    """
    for rank, message in enumerate(errors):
        if message is not None:
            raise ValueError(f"Process {rank} of {group.size} refused its shard: {message}")


def agree_on_error(group: ShardGroup, error: str | None) -> None:
    """A collective call: raise the same ValueError everywhere if any process had ``error``."""
    raise_first_error(group, group.gather(error))


def shared_seed(group: ShardGroup, generator: torch.Generator) -> torch.Generator:
    """``generator`` reseeded with process 0's seed, so every process draws the same."""
    seed = group.broadcast(int(generator.initial_seed()))
    return generator.manual_seed(seed)


def shared_start_sample(
    X: torch.Tensor,
    rows: tuple[int, ...],
    group: ShardGroup,
    given: dict,
    generator: torch.Generator,
) -> torch.Tensor:
    """The rows every process starts the fit from: the same sample of all shards.

    A collective call. When the user gave every initial parameter nothing is sampled
    (this shard is returned); otherwise the rows of all shards (in rank order) when there
    are at most :data:`INIT_SAMPLE`, and a sample of about that many drawn with
    ``generator`` otherwise.

    Parameters
    ----------
    X : Tensor of shape (n_rows, n_features)
        This process's shard.
    rows : tuple of int
        Rows of every shard, in rank order.
    group : ShardGroup
    given : dict
        The checked ``*_init`` arrays (None where not given).
    generator : torch.Generator
        The same seed on every process (see :func:`shared_seed`).

    Returns
    -------
    Tensor of shape (m, n_features)
        In ``X``'s dtype and on its device.
    """
    needs_data = (
        given["weights"] is None
        or given["means"] is None
        or (given["covariances"] is None and given["precisions"] is None)
    )
    sample = X
    if needs_data:
        total, offset = sum(rows), sum(rows[: group.rank])
        local = X
        if total > INIT_SAMPLE:
            # Drawn with replacement (then made unique): never a permutation of all rows.
            chosen = torch.unique(torch.randint(total, (INIT_SAMPLE,), generator=generator))
            mine = chosen[(chosen >= offset) & (chosen < offset + X.shape[0])] - offset
            local = X[mine.to(X.device)]
        pieces = group.gather(local.cpu().numpy())
        sample = torch.as_tensor(np.concatenate(pieces), device=X.device).to(X.dtype)
    return sample
