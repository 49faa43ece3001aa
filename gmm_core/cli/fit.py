"""``gmm-core fit``: one model, or the best of a range by BIC, from a whole table or streamed."""

from __future__ import annotations

import json
import os
import warnings
from dataclasses import dataclass

from ..covariance_types import aic, bic
from .errors import USAGE, CommandError
from .files import SkippedRows, describe_table, iter_table, read_table, save_model
from .options import estimator_options
from .progress import Progress


@dataclass(frozen=True)
class FitResult:
    """One fitted number of components and its criteria on the data it was fitted to.

    ``converged`` and ``n_iter`` are None for a streamed fit (one pass of partial_fit), which
    may also end with fewer components than asked (``n_found``): partial_fit adds a
    component only for points far from the others.
    """

    n_components: int
    n_found: int
    model: object
    bic: float
    aic: float
    mean_log_likelihood: float
    converged: bool | None
    n_iter: int | None


def run(args) -> int:
    """Run ``fit`` in this one process; returns the exit status."""
    options = estimator_options(args)
    progress = Progress(args.quiet)
    skipped = SkippedRows()
    fit = _fit_streamed if args.stream else _fit_whole
    results, columns, n_rows = fit(args, options, progress, skipped)
    best = min(results, key=lambda result: result.bic)
    if args.out:
        save_model(args.out, best.model, columns)
    skipped.report(args.data)
    if args.json:
        print(json.dumps(_summary(args, results, best, columns, n_rows, skipped)))
    elif not args.quiet:
        print(_report(args, results, best, columns, n_rows))
    return 0


def columns_to_read(args) -> list[str | int] | None:
    """The columns to read: ``--columns`` (or every numeric one), then the ``--weights`` one.

    Without ``--weights``, ``--columns`` as given. With it, the weight column comes last
    and is not modelled; by default every other numeric column is. Status 1 for a weight
    column the file does not have (or that is also chosen to be modelled).
    """
    if args.weights is None:
        return args.columns
    try:
        info = describe_table(args.data)
    except ValueError as error:
        raise CommandError(str(error)) from None

    def name(chosen):
        if isinstance(chosen, int):
            if chosen >= len(info.columns):
                raise CommandError(
                    f"{args.data}: no column at position {chosen} (it has {len(info.columns)})"
                )
            return info.columns[chosen]
        if chosen not in info.columns:
            raise CommandError(f"{args.data}: no column named {chosen!r}")
        return chosen

    weights = name(args.weights)
    if args.columns is None:
        modelled = [column for column in info.numeric if column != weights]
    else:
        modelled = [name(column) for column in args.columns]
    if weights in modelled:
        raise CommandError(f"--weights {weights!r} is also among the --columns to model", USAGE)
    if not modelled:
        raise CommandError(f"{args.data}: no numeric column to model besides {weights!r}")
    return [*modelled, weights]


def split_weights(args, data, columns):
    """``(X, weights, columns)``: the weight column split off when ``--weights`` is given."""
    if args.weights is None:
        return data, None, list(columns)
    return data[:, :-1], data[:, -1], list(columns)[:-1]


def _fit_whole(args, options, progress, skipped):
    """Read the whole table, then fit each number of components by batch EM."""
    chosen = columns_to_read(args)
    with progress.fraction(f"reading {os.path.basename(args.data)}") as report:
        table = read_table(args.data, chosen, on_bad_rows=args.on_bad_rows, progress=report)
    skipped.add(table)
    from .. import ConvergenceWarning, GaussianMixture  # after the data: a bad file fails sooner

    X, weights, columns = split_weights(args, table.data, table.columns)
    n_rows = X.shape[0]
    results = []
    bar = progress.steps(args.components, "fitting")
    for n_components in bar:
        bar.set_description(f"fitting K={n_components}")
        model = GaussianMixture(n_components, **options)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)  # reported in the table
            try:
                model.fit(X, sample_weight=weights)
            except ValueError as error:
                raise CommandError(f"{args.data}, K={n_components}: {error}") from None
        if weights is None:
            results.append(_result(model, n_components, model.score(X) * n_rows, n_rows))
        else:
            total = float(weights @ model.score_samples(X))
            results.append(_result(model, n_components, total, float(weights.sum())))
    return results, columns, n_rows


def _fit_streamed(args, options, progress, skipped):
    """Learn every number of components in one pass of batches, then score in a second."""
    info = describe_table(args.data)
    from .. import GaussianMixture  # after the data: a bad file fails sooner

    name = os.path.basename(args.data)
    models = {K: GaussianMixture(K, **options) for K in args.components}
    read = dict(batch_rows=args.batch_rows, on_bad_rows=args.on_bad_rows)
    chosen = columns_to_read(args)
    n_rows, mass, columns = 0, 0.0, None
    with progress.rows(f"learning {name}", info.n_rows) as bar:
        for batch in iter_table(args.data, chosen, **read):
            skipped.add(batch)
            X, weights, columns = split_weights(args, batch.data, batch.columns)
            if X.shape[0]:
                for K, model in models.items():
                    try:
                        model.partial_fit(X, sample_weight=weights)
                    except ValueError as error:
                        raise CommandError(f"{args.data}, K={K}: {error}") from None
                n_rows += X.shape[0]
                mass += X.shape[0] if weights is None else float(weights.sum())
                bar.update(X.shape[0])
    if n_rows == 0:
        raise CommandError(f"{args.data}: no rows of numbers to learn")
    totals = dict.fromkeys(models, 0.0)
    with progress.rows(f"scoring {name}", n_rows) as bar:
        for batch in iter_table(args.data, chosen, **read):
            X, weights, _ = split_weights(args, batch.data, batch.columns)
            if X.shape[0]:
                for K, model in models.items():
                    scores = model.score_samples(X)
                    totals[K] += float(scores.sum() if weights is None else weights @ scores)
                bar.update(X.shape[0])
    results = [_result(models[K], K, totals[K], mass, streamed=True) for K in models]
    return results, columns, n_rows


def _result(model, n_components, total, n_rows, streamed=False) -> FitResult:
    """Criteria as GaussianMixture.bic and .aic compute them, from the summed log-likelihood.

    With weights, ``total`` is the weighted sum and ``n_rows`` the total weight.
    """
    n_parameters = model._n_parameters()
    return FitResult(
        n_components,
        model.weights_.shape[0],
        model,
        bic=bic(total, n_rows, n_parameters),
        aic=aic(total, n_parameters),
        mean_log_likelihood=total / n_rows,
        converged=None if streamed else bool(model.converged_),
        n_iter=None if streamed else int(model.n_iter_),
    )


def _report(args, results, best, columns, n_rows) -> str:
    """The table of fits for a person, and what was kept."""
    lines = [
        f"{args.data}: {n_rows:,} rows, {len(columns)} columns ({', '.join(columns)})",
        f"{'K':>4} {'BIC':>16} {'AIC':>16} {'log-likelihood':>15}  converged",
    ]
    for result in results:
        converged = {None: "-", True: "yes", False: "no"}[result.converged]
        mark = "  <- lowest BIC" if result is best and len(results) > 1 else ""
        lines.append(
            f"{result.n_components:>4} {result.bic:>16.3f} {result.aic:>16.3f} "
            f"{result.mean_log_likelihood:>15.6f}  {converged:<9}{mark}".rstrip()
        )
    lines += [
        f"K={result.n_components} ended with {result.n_found} components (partial_fit adds "
        "one only for points far from the others)"
        for result in results
        if result.n_found < result.n_components
    ]
    kept = f"kept K={best.n_components}" + (" (lowest BIC)" if len(results) > 1 else "")
    lines.append(kept + (f"; wrote {args.out}" if args.out else "; not saved (no --out)"))
    return "\n".join(lines)


def _summary(args, results, best, columns, n_rows, skipped) -> dict:
    """The machine-readable summary printed by ``--json``."""
    return {
        "command": "fit",
        "data": args.data,
        "rows": n_rows,
        "columns": list(columns),
        "skipped_rows": skipped.count,
        "skipped_lines": skipped.lines,
        "covariance_type": args.covariance_type,
        "stream": args.stream,
        "weights": args.weights,
        "best_n_components": best.n_components,
        "out": args.out,
        "fits": [
            {
                "n_components": result.n_components,
                "n_components_found": result.n_found,
                "bic": result.bic,
                "aic": result.aic,
                "mean_log_likelihood": result.mean_log_likelihood,
                "converged": result.converged,
                "n_iter": result.n_iter,
            }
            for result in results
        ],
    }
