"""The command line's grammar: subcommands, options, and the checks on their values.

Nothing here imports torch, so that ``--help`` and a mistyped command answer at once. A
bad value is a :class:`~gmm_core.cli.errors.CommandError` with status 2, in one line.
"""

from __future__ import annotations

import argparse
import re

from ..covariance_types import COVARIANCE_TYPES
from .errors import USAGE, CommandError

PROG = "gmm-core"
BATCH_ROWS = 65536  # rows per batch when a file is read in batches
# The initialisations, spelled here so that checking them does not load torch;
# tests/core/test_cli.py holds them equal to _validation.INIT_PARAMS.
INIT_PARAMS = ("kmeans", "k-means++", "random", "random_from_data")
# Options that tune batch EM; --stream learns each batch once with partial_fit instead.
EM_OPTIONS = ("max_iter", "tol", "n_init", "init_params")


class Parser(argparse.ArgumentParser):
    """argparse, but a mistake raises one line instead of printing the usage and exiting."""

    def error(self, message: str):
        """Raise ``message`` as a :class:`CommandError` with status 2."""
        raise CommandError(f"{message} (see '{self.prog} --help')", USAGE)


def components(text: str) -> range:
    """``K`` or an inclusive range ``A:B`` of numbers of components (1 <= A <= B)."""
    match = re.fullmatch(r"\s*(\d+)\s*(?::\s*(\d+)\s*)?", text)
    if match is None:
        raise argparse.ArgumentTypeError(
            f"expected a number of components K or a range A:B such as 1:10, got {text!r}"
        )
    first = int(match[1])
    last = first if match[2] is None else int(match[2])
    if first < 1 or last < first:
        wanted = "K >= 1" if match[2] is None else "a range A:B with 1 <= A <= B"
        raise argparse.ArgumentTypeError(f"expected {wanted}, got {text!r}")
    return range(first, last + 1)


def columns(text: str) -> list[str | int]:
    """Comma-separated column names or 0-based positions (a whole number is a position)."""
    chosen: list[str | int] = []
    for field in text.split(","):
        field = field.strip()
        if not field:
            raise argparse.ArgumentTypeError(
                f"expected column names or 0-based positions separated by commas, got {text!r}"
            )
        chosen.append(int(field) if field.isdigit() else field)
    if len(set(chosen)) != len(chosen):
        raise argparse.ArgumentTypeError(f"a column is chosen twice in {text!r}")
    return chosen


def column(text: str) -> str | int:
    """One column: a name or a 0-based position (a whole number is a position)."""
    field = text.strip()
    if not field or "," in field:
        raise argparse.ArgumentTypeError(
            f"expected one column name or 0-based position, got {text!r}"
        )
    return int(field) if field.isdigit() else field


def _integer(text: str, low: int, high: int | None = None) -> int:
    try:
        value = int(text)
    except ValueError:
        value = None
    if value is None or value < low or (high is not None and value >= high):
        bounds = f">= {low}" if high is None else f"in [{low}, {high})"
        raise argparse.ArgumentTypeError(f"expected an integer {bounds}, got {text!r}")
    return value


def positive_int(text: str) -> int:
    """An integer >= 1."""
    return _integer(text, 1)


def count(text: str) -> int:
    """An integer >= 0."""
    return _integer(text, 0)


def seed(text: str) -> int:
    """A random seed as scikit-learn takes it: an integer in [0, 2**32)."""
    return _integer(text, 0, 2**32)


def non_negative_number(text: str) -> float:
    """A finite float >= 0."""
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0 <= value < float("inf"):
        raise argparse.ArgumentTypeError(f"expected a finite number >= 0, got {text!r}")
    return value


def device(text: str) -> str:
    """``cpu``, ``cuda`` or ``cuda:N``."""
    if re.fullmatch(r"cpu|cuda(:\d+)?", text) is None:
        raise argparse.ArgumentTypeError(f"expected cpu, cuda or cuda:N, got {text!r}")
    return text


def _add_reading(command: argparse.ArgumentParser, what: str) -> None:
    command.add_argument(
        "--columns",
        type=columns,
        metavar="A,B,...",
        help=f"columns {what}: names or 0-based positions, separated by commas",
    )
    command.add_argument(
        "--on-bad-rows",
        choices=("error", "skip"),
        default="error",
        help="a row with a missing or non-finite value stops the command (error, the "
        "default) or is left out and counted on stderr (skip)",
    )
    command.add_argument(
        "--quiet",
        action="store_true",
        help="no progress bar and no table (errors and skipped rows are still told)",
    )


def _add_fit(commands) -> None:
    fit = commands.add_parser(
        "fit",
        help="fit a Gaussian mixture to a table (CSV, Parquet, Feather/Arrow, .npy)",
        description="Fit a Gaussian mixture to a table; with a range of numbers of "
        "components, fit each and keep the one with the lowest BIC. Under torchrun, every "
        "process reads its own slice of a .npy or CSV file and they fit one model together.",
    )
    fit.add_argument("data", help="the table: CSV/TSV/TXT, Parquet, Feather/Arrow or .npy")
    fit.add_argument(
        "--components",
        type=components,
        required=True,
        metavar="K|A:B",
        help="number of components, or a range such as 1:10 (each fitted, lowest BIC kept)",
    )
    fit.add_argument(
        "--covariance-type", default="full", choices=COVARIANCE_TYPES, help="default: full"
    )
    _add_reading(fit, "to model (default: every numeric column)")
    fit.add_argument(
        "--weights",
        type=column,
        metavar="COLUMN",
        help="a column of non-negative row weights (name or 0-based position), not modelled: "
        "a row of weight 3 counts three times, of weight 0 not at all",
    )
    fit.add_argument("--max-iter", type=count, metavar="N", help="EM passes per start")
    fit.add_argument("--tol", type=non_negative_number, metavar="X", help="convergence threshold")
    fit.add_argument("--n-init", type=positive_int, metavar="N", help="starts per K; best kept")
    fit.add_argument(
        "--reg-covar", type=non_negative_number, metavar="X", help="added to variances"
    )
    fit.add_argument("--init-params", choices=INIT_PARAMS, help="default: kmeans")
    fit.add_argument("--random-state", type=seed, default=0, metavar="SEED", help="default: 0")
    fit.add_argument("--device", type=device, default="cpu", metavar="{cpu,cuda,cuda:N}")
    fit.add_argument(
        "--stream",
        action="store_true",
        help="learn the file batch by batch with partial_fit, in memory bounded by a batch",
    )
    fit.add_argument(
        "--batch-rows",
        type=positive_int,
        default=BATCH_ROWS,
        metavar="N",
        help=f"rows per batch with --stream (default: {BATCH_ROWS})",
    )
    fit.add_argument("--out", metavar="MODEL.json", help="write the chosen model here as JSON")
    fit.add_argument("--json", action="store_true", help="print a JSON summary on stdout")
    fit.add_argument("--backend", default="gloo", help="torch.distributed backend under torchrun")
    fit.add_argument(
        "--timeout",
        type=non_negative_number,
        default=600,
        metavar="SECONDS",
        help="how long a process waits for the others under torchrun",
    )
    fit.set_defaults(command="fit")


def _add_predict(commands) -> None:
    predict = commands.add_parser(
        "predict",
        help="each row's component (or probabilities) as CSV",
        description="Write each row's most probable component (or, with --proba, every "
        "component's probability) as CSV, one line per row of DATA.",
    )
    predict.add_argument("model", help="a model JSON file written by 'gmm-core fit --out'")
    predict.add_argument("data", help="the table to label")
    _add_reading(predict, "of DATA (default: the columns the model was fitted on)")
    predict.add_argument("--proba", action="store_true", help="probabilities, not labels")
    predict.add_argument("--out", metavar="FILE.csv", help="write here instead of stdout")
    predict.set_defaults(command="predict")


def _add_score(commands) -> None:
    score = commands.add_parser(
        "score",
        help="mean log-likelihood per row of a table",
        description="Print the model's mean log-likelihood per row of DATA.",
    )
    score.add_argument("model", help="a model JSON file written by 'gmm-core fit --out'")
    score.add_argument("data", help="the table to score")
    _add_reading(score, "of DATA (default: the columns the model was fitted on)")
    score.add_argument("--json", action="store_true", help="print a JSON summary on stdout")
    score.set_defaults(command="score")


def _add_sample(commands) -> None:
    sample = commands.add_parser(
        "sample",
        help="draw rows from a model, as CSV",
        description="Draw N rows from the model, grouped by component as "
        "GaussianMixture.sample returns them, as CSV with the model's column names.",
    )
    sample.add_argument("model", help="a model JSON file written by 'gmm-core fit --out'")
    sample.add_argument("n", type=positive_int, metavar="N", help="number of rows")
    sample.add_argument(
        "--random-state", type=seed, metavar="SEED", help="default: fresh randomness each run"
    )
    sample.add_argument("--out", metavar="FILE.csv", help="write here instead of stdout")
    sample.set_defaults(command="sample")


def check_together(args) -> None:
    """Refuse options that make no sense together (status 2), before anything is read."""
    if getattr(args, "stream", False):
        given = [name for name in EM_OPTIONS if getattr(args, name) is not None]
        if given:
            names = ", ".join("--" + name.replace("_", "-") for name in given)
            raise CommandError(
                f"{names}: not used with --stream, which learns each batch once with partial_fit",
                USAGE,
            )


def parser() -> Parser:
    """The whole command line: ``fit``, ``predict``, ``score`` and ``sample``."""
    main = Parser(
        prog=PROG,
        description="Gaussian mixtures from tables: fit, predict, score, sample. Exit "
        "status 0 on success, 1 for bad data or files, 2 for a bad command line.",
    )
    commands = main.add_subparsers(title="commands", dest="command", required=True)
    for add in (_add_fit, _add_predict, _add_score, _add_sample):
        add(commands)
    return main
