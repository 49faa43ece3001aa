"""The command line through its entry points, in real subprocesses on real files.

``python -m gmm_core`` everywhere, the installed ``gmm-core`` script once. Each answer is
checked against the library called directly on the same data. Processes that do not
depend on each other run a few at a time (starting Python with torch is the slow part);
every wait is bounded.
"""

import fcntl
import json
import math
import os
import pty
import re
import select
import shlex
import shutil
import struct
import subprocess
import sys
import termios
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from gmm_core import GaussianMixture
from gmm_core.cli import main

ROOT = Path(__file__).resolve().parents[2]
ENV = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1")
TIMEOUT = 120  # seconds for any one command
CENTRES = np.array([[0.0, 0.0, 0.0], [8.0, 0.0, 1.0], [0.0, 9.0, -2.0]])
FITTED = ("weights_", "means_", "covariances_", "precisions_cholesky_")


def _points(n_per_component: int = 300, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    X = np.concatenate([rng.normal(centre, 1.0, (n_per_component, 3)) for centre in CENTRES])
    return X[rng.permutation(X.shape[0])]


def _write_csv(path: Path, X: np.ndarray) -> Path:
    """A header, a text column (not numeric, so not modelled by default), then x, y, z."""
    lines = ["name,x,y,z"] + [
        f"p{i}," + ",".join(map(repr, row)) for i, row in enumerate(X.tolist())
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


def _command(*args) -> list[str]:
    return [sys.executable, "-m", "gmm_core", *map(str, args)]


def _installed_script() -> list[str]:
    """The console script next to this Python, or the same entry point when it is absent."""
    script = Path(sys.executable).parent / "gmm-core"
    if script.exists():
        return [str(script)]
    entry = "import sys; from gmm_core.cli import main; sys.exit(main())"
    return [sys.executable, "-c", entry]


def _run(command: list[str]) -> subprocess.CompletedProcess:
    result = subprocess.run(
        command, env=ENV, capture_output=True, text=True, timeout=TIMEOUT, stdin=subprocess.DEVNULL
    )
    assert "Traceback" not in result.stderr, result.stderr
    return result


def _run_all(commands: list[list[str]]) -> list[subprocess.CompletedProcess]:
    with ThreadPoolExecutor(max_workers=4) as pool:
        return list(pool.map(_run, commands))


def _assert_one_error_line(result: subprocess.CompletedProcess, status: int, *words: str):
    assert result.returncode == status, (result.args, result.stderr)
    assert result.stderr.startswith("gmm-core: error: "), result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    for word in words:
        assert word in result.stderr, (word, result.stderr)


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    """``fit points.csv --components 3 --out model.json``, and the library's own fit."""
    folder = tmp_path_factory.mktemp("cli")
    X = _points()
    data, out = _write_csv(folder / "points.csv", X), folder / "model.json"
    result = _run(_command("fit", data, "--components", 3, "--out", out))
    reference = GaussianMixture(3, random_state=0).fit(X)
    return dict(folder=folder, X=X, data=data, out=out, result=result, reference=reference)


def test_fit_writes_the_model_the_library_fits_with_the_column_names(fitted):
    result, X = fitted["result"], fitted["X"]
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""  # piped: no progress bar
    saved = json.loads(fitted["out"].read_text())
    assert saved["columns"] == ["x", "y", "z"]  # the text column is not modelled
    model = GaussianMixture.from_dict(saved)
    for name in FITTED:
        np.testing.assert_allclose(
            getattr(model, name), getattr(fitted["reference"], name), rtol=0, atol=1e-9
        )
    assert model.n_samples_seen_ == X.shape[0]
    assert f"{X.shape[0]:,} rows, 3 columns (x, y, z)" in result.stdout
    assert f"wrote {fitted['out']}" in result.stdout


@pytest.fixture(scope="module")
def applied(fitted):
    """predict, predict --proba --out, score --json and sample, from the fitted model."""
    folder, data, out = fitted["folder"], fitted["data"], fitted["out"]
    np.save(folder / "points.npy", fitted["X"])  # no column names: chosen by position
    commands = {
        "labels": _command("predict", out, data),
        "proba": _command("predict", out, folder / "points.npy", "--columns", "0,1,2", "--proba",
                          "--out", folder / "proba.csv"),
        "score": _command("score", out, data, "--json"),
        "sample": _command("sample", out, 250, "--random-state", 7, "--out", folder / "drawn.csv"),
    }  # fmt: skip
    results = dict(zip(commands, _run_all(list(commands.values())), strict=True))
    model = GaussianMixture.from_dict(json.loads(out.read_text()))
    return dict(fitted, results=results, model=model)


def test_predict_writes_the_labels_of_model_predict(applied):
    result = applied["results"]["labels"]
    assert result.returncode == 0 and result.stderr == "", result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "label"
    labels = np.array(lines[1:], dtype=int)
    np.testing.assert_array_equal(labels, applied["model"].predict(applied["X"]))


def test_predict_proba_writes_the_probabilities_to_a_file(applied):
    result, folder = applied["results"]["proba"], applied["folder"]
    assert result.returncode == 0 and result.stdout == "", result.stderr
    text = (folder / "proba.csv").read_text()
    assert text.splitlines()[0] == "probability_0,probability_1,probability_2"
    proba = np.loadtxt(folder / "proba.csv", delimiter=",", skiprows=1)
    np.testing.assert_allclose(
        proba, applied["model"].predict_proba(applied["X"]), rtol=1e-12, atol=1e-300
    )


def test_score_prints_model_score_as_json(applied):
    result, model, X = applied["results"]["score"], applied["model"], applied["X"]
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["rows"] == X.shape[0] and summary["skipped_rows"] == 0
    assert summary["mean_log_likelihood"] == pytest.approx(model.score(X), rel=1e-12)
    assert summary["bic"] == pytest.approx(model.bic(X), rel=1e-12)
    assert summary["aic"] == pytest.approx(model.aic(X), rel=1e-12)


def test_sample_writes_n_rows_with_the_model_column_names(applied):
    result, folder = applied["results"]["sample"], applied["folder"]
    assert result.returncode == 0 and result.stdout == "", result.stderr
    assert (folder / "drawn.csv").read_text().splitlines()[0] == "x,y,z"
    drawn = np.loadtxt(folder / "drawn.csv", delimiter=",", skiprows=1)
    assert drawn.shape == (250, 3)
    model = applied["model"]
    model.random_state = 7
    np.testing.assert_allclose(drawn, model.sample(250)[0], rtol=1e-15)


def _run_with_terminal_stderr(command: list[str]) -> tuple[int, str, str]:
    """Run ``command`` with stderr on a pseudo-terminal; returns (status, stdout, stderr)."""
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))  # 100 columns
    process = subprocess.Popen(
        command, env=ENV, stdout=subprocess.PIPE, stderr=follower, stdin=subprocess.DEVNULL
    )
    os.close(follower)
    terminal = b""
    deadline = time.monotonic() + TIMEOUT
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([leader], [], [], deadline - time.monotonic())
            try:
                chunk = os.read(leader, 65536) if ready else b""
            except OSError:  # the process closed the terminal
                break
            if not chunk:
                break
            terminal += chunk
        stdout, _ = process.communicate(timeout=max(1.0, deadline - time.monotonic()))
    finally:
        os.close(leader)
        if process.poll() is None:
            process.kill()
            process.wait()
    return process.returncode, stdout.decode(), terminal.decode(errors="replace")


def test_a_range_keeps_the_lowest_bic_prints_the_table_and_shows_progress_on_a_terminal(fitted):
    out = fitted["folder"] / "best.json"
    status, stdout, terminal = _run_with_terminal_stderr(
        _command("fit", fitted["data"], "--components", "1:5", "--out", out)
    )
    assert status == 0, terminal
    assert "reading points.csv" in terminal and "fitting K=5" in terminal  # tqdm's bars
    assert "Traceback" not in terminal
    X = fitted["X"]
    rows = [line.split() for line in stdout.splitlines() if line.split()[0].isdigit()]
    assert [int(row[0]) for row in rows] == [1, 2, 3, 4, 5]
    for row in rows:
        library = GaussianMixture(int(row[0]), random_state=0).fit(X)
        assert float(row[1]) == pytest.approx(library.bic(X), abs=1e-3)
        assert float(row[2]) == pytest.approx(library.aic(X), abs=1e-3)
        assert float(row[3]) == pytest.approx(library.score(X), abs=1e-6)
        assert row[4] == ("yes" if library.converged_ else "no")
    (best,) = [row for row in rows if "lowest" in row]
    assert best[0] == "3"  # three well-separated clusters
    assert GaussianMixture.from_dict(json.loads(out.read_text())).n_components == 3


def test_stream_learns_a_parquet_file_in_batches_skipping_bad_rows_with_json(tmp_path):
    X = _points(seed=1)
    X[[10, 500]] = np.nan  # two bad rows, skipped and reported
    pq.write_table(pa.table({"a": X[:, 0], "b": X[:, 1], "c": X[:, 2]}), tmp_path / "p.parquet")
    out = tmp_path / "streamed.json"
    result = _run(
        _installed_script()
        + ["fit", str(tmp_path / "p.parquet"), "--components", "3", "--stream"]
        + ["--batch-rows", "128", "--on-bad-rows", "skip", "--json", "--out", str(out)]
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines() == [
        f"gmm-core: {tmp_path / 'p.parquet'}: skipped 2 rows with a missing or non-finite "
        "value (row 11, 501)"
    ]
    summary = json.loads(result.stdout)
    assert summary["stream"] is True and summary["rows"] == X.shape[0] - 2
    assert summary["skipped_rows"] == 2 and summary["columns"] == ["a", "b", "c"]
    model = GaussianMixture.from_dict(json.loads(out.read_text()))
    assert model.n_samples_seen_ == X.shape[0] - 2
    distances = np.linalg.norm(CENTRES[:, None] - model.means_[None], axis=-1).min(axis=1)
    assert distances.max() < 0.3
    kept = X[np.isfinite(X).all(axis=1)]
    (fit,) = summary["fits"]
    assert fit["mean_log_likelihood"] == pytest.approx(model.score(kept), rel=1e-12)
    assert fit["bic"] == pytest.approx(model.bic(kept), rel=1e-12)


def test_the_command_line_offers_the_estimator_choices():
    from gmm_core._validation import INIT_PARAMS
    from gmm_core.cli import arguments
    from gmm_core.covariance_types import COVARIANCE_TYPES

    assert arguments.COVARIANCE_TYPES is COVARIANCE_TYPES
    assert arguments.INIT_PARAMS == INIT_PARAMS


def test_a_bad_command_line_is_one_line_and_status_2(fitted, tmp_path):
    data, model = fitted["data"], fitted["out"]
    bad = {
        (): "required: command",
        ("fit", data): "--components",
        ("fit", data, "--components", "0"): "K >= 1",
        ("fit", data, "--components", "1:x"): "'1:x'",
        ("fit", data, "--components", "5:2"): "1 <= A <= B",
        ("fit", data, "--components", "2", "--max-iter", "-1"): "--max-iter",
        ("fit", data, "--components", "2", "--columns", "x,,y"): "--columns",
        ("fit", data, "--components", "2", "--on-bad-rows", "ignore"): "--on-bad-rows",
        ("fit", data, "--components", "2", "--covariance-type", "round"): "round",
        ("fit", data, "--components", "2", "--stream", "--n-init", "3"): "--n-init",
        ("fit", data, "--components", "2", "--device", "cuda:64"): "cuda:64 is not available",
        ("predict", model): "data",
        ("sample", model, "0"): "integer >= 1",
        ("sample", model, "ten"): "'ten'",
        ("frobnicate",): "frobnicate",
    }
    results = _run_all([_command(*args) for args in bad])
    for words, result in zip(bad.values(), results, strict=True):
        _assert_one_error_line(result, 2, words)
        assert result.stdout == ""
    assert not (tmp_path / "model.json").exists()


def test_bad_data_and_files_are_one_line_and_status_1_and_change_nothing(fitted, tmp_path):
    model = fitted["out"]
    (tmp_path / "empty.csv").write_bytes(b"")
    (tmp_path / "binary.csv").write_bytes(np.random.default_rng(0).bytes(4000))
    (tmp_path / "header.csv").write_text("x,y,z\n")
    broken = _write_csv(tmp_path / "broken.csv", _points(10))
    broken.write_text(broken.read_text() + "p30,1.0,2.0\n")  # a last line one field short
    (tmp_path / "two.csv").write_text("a,b\n1,2\n3,4\n")  # the model has x, y, z
    (tmp_path / "other.json").write_text('{"name": "not a model"}')
    existing = tmp_path / "existing.json"
    existing.write_text("keep me")
    bad = [
        (("fit", tmp_path / "missing.csv", "--components", 2), "missing.csv"),
        (("fit", tmp_path, "--components", 2), str(tmp_path)),
        (("fit", tmp_path / "empty.csv", "--components", 2), "empty"),
        (("fit", tmp_path / "binary.csv", "--components", 2), "binary"),
        (("fit", tmp_path / "header.csv", "--components", 2), "header"),
        (("fit", broken, "--components", 2, "--out", existing), "line 32"),
        (("predict", model, tmp_path / "two.csv", "--columns", "a,b"), "fitted on 3"),
        (("predict", tmp_path / "other.json", fitted["data"]), "not a fitted gmm_core model"),
    ]
    results = _run_all([_command(*args) for args, _ in bad])
    for (_, words), result in zip(bad, results, strict=True):
        _assert_one_error_line(result, 1, words)
        assert result.stdout == ""
    assert existing.read_text() == "keep me"
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(
        ["empty.csv", "binary.csv", "header.csv", "broken.csv", "two.csv", "other.json",
         "existing.json"]
    )  # fmt: skip


def _readme_session() -> list[tuple[list[str], list[str]]]:
    """README's ``console`` session: each ``$ gmm-core`` command and the lines it prints."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    (block,) = re.findall(r"```console\n(.*?)```", text, flags=re.DOTALL)
    session = []
    for line in block.splitlines():
        if line.startswith("$ "):
            command = shlex.split(line[2:])
            assert command[0] == "gmm-core"
            session.append((command[1:], []))
        else:
            session[-1][1].append(line)
    return session


def _same_line(got: str, shown: str) -> bool:
    """Equal, but for numbers, which may differ in the last digits on another machine."""
    got_words, shown_words = got.replace(",", " ").split(), shown.replace(",", " ").split()
    if len(got_words) != len(shown_words):
        return False
    for a, b in zip(got_words, shown_words, strict=True):
        try:
            decimals = len(b.partition(".")[2])
            if not math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=0.5 * 10.0**-decimals):
                return False
        except ValueError:
            if a != b:
                return False
    return True


def test_the_readme_session_prints_what_readme_shows(tmp_path, monkeypatch, capsys):
    (tmp_path / "resources").mkdir()
    shutil.copy(ROOT / "resources" / "old_faithful.csv", tmp_path / "resources")
    monkeypatch.chdir(tmp_path)
    session = _readme_session()
    assert [command[0] for command, _ in session] == ["fit", "predict", "score", "sample"]
    for command, shown in session:
        assert main(command) == 0, command
        printed = capsys.readouterr().out.splitlines()
        assert len(printed) == len(shown), (command, printed)
        for got, line in zip(printed, shown, strict=True):
            assert _same_line(got, line), (got, line)
    assert len((tmp_path / "labels.csv").read_text().splitlines()) == 1 + 272


def test_fit_takes_a_weights_column_and_refuses_bad_ones(tmp_path):
    rng = np.random.default_rng(5)
    X = _points(n_per_component=60, seed=3)
    weights = rng.integers(0, 4, size=X.shape[0])
    lines = ["x,w,y,z"] + [
        f"{row[0]!r},{int(w)},{row[1]!r},{row[2]!r}"
        for row, w in zip(X.tolist(), weights, strict=True)
    ]
    data = tmp_path / "weighted.csv"
    data.write_text("\n".join(lines) + "\n")
    negative = tmp_path / "negative.csv"
    negative.write_text("\n".join(lines[:5] + ["1.0,-2,1.0,1.0"] + lines[5:]) + "\n")
    out = tmp_path / "model.json"
    whole, streamed, missing, twice, refused = _run_all(
        [
            _command("fit", data, "--components", 3, "--weights", "w", "--out", out),
            _command("fit", data, "--components", 3, "--weights", 1, "--stream", "--json"),
            _command("fit", data, "--components", 3, "--weights", "v"),
            _command("fit", data, "--components", 3, "--weights", "w", "--columns", "x,w"),
            _command("fit", negative, "--components", 3, "--weights", "w"),
        ]
    )
    assert whole.returncode == 0, whole.stderr
    saved = json.loads(out.read_text())
    assert saved["columns"] == ["x", "y", "z"]  # the weights are not modelled
    reference = GaussianMixture(3, random_state=0).fit(X, sample_weight=weights)
    model = GaussianMixture.from_dict(saved)
    for name in FITTED:
        np.testing.assert_allclose(getattr(model, name), getattr(reference, name), atol=1e-9)
    assert streamed.returncode == 0, streamed.stderr
    summary = json.loads(streamed.stdout)
    assert summary["weights"] == 1 and summary["columns"] == ["x", "y", "z"]
    _assert_one_error_line(missing, 1, "no column named 'v'")
    _assert_one_error_line(twice, 2, "also among the --columns")
    _assert_one_error_line(refused, 1, "sample_weight must be non-negative; row 4")


def test_score_and_predict_take_a_saved_bayesian_model(tmp_path, capsys):
    from gmm_core import BayesianGaussianMixture
    from gmm_core.cli.files import save_model

    X = _points(n_per_component=50)
    model = BayesianGaussianMixture(n_components=5, random_state=0).fit(X)
    save_model(str(tmp_path / "bayes.json"), model, ["x", "y", "z"])
    data = _write_csv(tmp_path / "points.csv", X)
    assert main(["score", str(tmp_path / "bayes.json"), str(data)]) == 0
    assert float(capsys.readouterr().out) == pytest.approx(model.score(X), rel=1e-12)
    assert main(["predict", str(tmp_path / "bayes.json"), str(data)]) == 0
    labels = np.array(capsys.readouterr().out.split()[1:], dtype=int)  # after the header
    np.testing.assert_array_equal(labels, model.predict(X))
