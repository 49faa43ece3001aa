"""``gmm-core predict``, ``score`` and ``sample``: a saved model applied to a table.

``predict`` and ``score`` read the table in batches, so memory stays bounded by one batch
whatever the file's size. The columns are the ones the model was fitted on (saved in the
model file by ``gmm-core fit --out``), unless ``--columns`` says otherwise.
"""

from __future__ import annotations

import itertools
import json
import os
from collections.abc import Iterator

from ..covariance_types import aic, bic
from .arguments import BATCH_ROWS
from .errors import CommandError
from .files import (
    SkippedRows,
    csv_header,
    describe_table,
    iter_table,
    load_model,
    output,
    write_rows,
)
from .progress import Progress


def _batches(args, model, saved_columns, progress: Progress, skipped: SkippedRows) -> Iterator:
    """The table's rows in batches, with the model's columns checked before anything is read.

    Yields
    ------
    batch : ndarray of shape (n_rows, n_features)
        Never empty.
    """
    n_features = model.n_features_in_
    chosen = args.columns if args.columns is not None else saved_columns
    info = describe_table(args.data)
    if args.columns is None and saved_columns is not None:
        missing = [name for name in saved_columns if name not in info.columns]
        if missing:
            raise CommandError(
                f"{args.data}: no column {', '.join(map(repr, missing))}; the model was fitted "
                f"on {', '.join(saved_columns)} (choose {n_features} columns of this file with "
                "--columns)"
            )
    n_rows = 0
    batches = iter_table(args.data, chosen, batch_rows=BATCH_ROWS, on_bad_rows=args.on_bad_rows)
    with progress.rows(f"reading {os.path.basename(args.data)}", info.n_rows) as bar:
        for batch in batches:
            skipped.add(batch)
            if batch.data.shape[1] != n_features:
                raise CommandError(
                    f"{args.data}: {batch.data.shape[1]} columns ({', '.join(batch.columns)}), "
                    f"but the model was fitted on {n_features}; choose {n_features} with "
                    "--columns"
                )
            if batch.data.shape[0]:
                n_rows += batch.data.shape[0]
                bar.update(batch.data.shape[0])
                yield batch.data
    if n_rows == 0:
        raise CommandError(f"{args.data}: no rows of numbers")


def predict(args) -> int:
    """Run ``predict``: labels (or probabilities) as CSV, one line per row of DATA."""
    model, columns = load_model(args.model)
    progress, skipped = Progress(args.quiet), SkippedRows()
    batches = _batches(args, model, columns, progress, skipped)
    first = next(batches)  # a bad table fails here, before any output
    K = model.weights_.shape[0]
    with output(args.out) as stream:
        if args.proba:
            stream.write(csv_header([f"probability_{k}" for k in range(K)]))
        else:
            stream.write("label\n")
        for rows in itertools.chain([first], batches):
            if args.proba:
                write_rows(stream, model.predict_proba(rows))
            else:
                write_rows(stream, model.predict(rows), str)
    skipped.report(args.data)
    return 0


def score(args) -> int:
    """Run ``score``: the mean log-likelihood per row of DATA (and BIC, AIC with --json)."""
    model, columns = load_model(args.model)
    progress, skipped = Progress(args.quiet), SkippedRows()
    total, n_rows = 0.0, 0
    for rows in _batches(args, model, columns, progress, skipped):
        total += float(model.score_samples(rows).sum())
        n_rows += rows.shape[0]
    skipped.report(args.data)
    mean = total / n_rows
    if args.json:
        n_parameters = model._n_parameters()
        summary = {
            "command": "score",
            "model": args.model,
            "data": args.data,
            "rows": n_rows,
            "skipped_rows": skipped.count,
            "mean_log_likelihood": mean,
            "log_likelihood": total,
            "bic": bic(total, n_rows, n_parameters),
            "aic": aic(total, n_parameters),
        }
        print(json.dumps(summary))
    else:
        print(repr(mean))
    return 0


def sample(args) -> int:
    """Run ``sample``: N rows drawn from the model, as CSV with its column names."""
    model, columns = load_model(args.model)
    model.random_state = args.random_state
    X, _ = model.sample(args.n)
    names = columns or [f"column {i + 1}" for i in range(X.shape[1])]
    with output(args.out) as stream:
        stream.write(csv_header(names))
        write_rows(stream, X.astype(float, copy=False))
    return 0
