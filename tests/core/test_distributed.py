"""Distributed fitting with two real processes (gloo on 127.0.0.1), against one process.

One module-scoped session starts two processes that run every scenario in turn (starting
processes is the slow part) and write what they found; the tests below read it. Every wait
is bounded: a process still running after the timeout is killed and the test fails.
"""

import json
import os
import pickle
import socket
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import torch.multiprocessing as mp
from sklearn.base import clone

from gmm_core import GaussianMixture
from gmm_core.cli import main
from gmm_core.shards import read_shard

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 90  # seconds for a whole two-process session
WORLD = 2
FITTED = ("weights_", "means_", "covariances_", "precisions_cholesky_")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _data(n_features: int = 2, n: int = 1500, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.normal(scale=6.0, size=(3, n_features))
    X = np.concatenate([rng.normal(size=(n // 3, n_features)) + c for c in centres])
    return rng.permutation(X) + 800.0  # far from the origin: centring matters


def _shards(X: np.ndarray) -> list[np.ndarray]:
    return [X[:600], X[600:]]  # uneven on purpose


def _state(model) -> dict:
    state = {name: getattr(model, name) for name in FITTED}
    state.update(
        n_iter_=model.n_iter_,
        lower_bound_=model.lower_bound_,
        converged_=model.converged_,
        n_samples_seen_=model.n_samples_seen_,
    )
    return state


def _session(rank: int, world: int, port: int, out: str) -> None:
    """Every scenario, on one process of the group; results pickled to ``out/rank.pkl``."""
    import torch.distributed as dist

    from gmm_core import distributed as gmm_distributed

    dist.init_process_group(
        "gloo",
        init_method=f"tcp://127.0.0.1:{port}",
        rank=rank,
        world_size=world,
        timeout=timedelta(seconds=30),
    )
    results = {}
    try:
        X2, X3 = _data(2), _data(3, seed=1)
        # k-means start from all rows, two starts, full covariances, D = 2 (closed form).
        model = GaussianMixture(3, n_init=2, tol=1e-6, random_state=0, distributed=True)
        results["kmeans"] = _state(model.fit(_shards(X2)[rank]))
        results["score"] = (model.score(_shards(X2)[rank]),)
        results["score"] += (model.bic(_shards(X2)[rank]), model.aic(_shards(X2)[rank]))
        results["local_score_samples"] = model.score_samples(_shards(X2)[rank])
        # A given start, diag covariances, D = 3, no random_state (process 0's seed).
        start = dict(
            weights_init=np.full(3, 1 / 3),
            means_init=X3[:3],
            precisions_init=np.ones((3, 3)),
        )
        model = GaussianMixture(3, covariance_type="diag", tol=1e-4, distributed=True, **start)
        results["given"] = _state(model.fit(_shards(X3)[rank]))
        # An empty shard on process 1.
        shard = X3 if rank == 0 else np.empty((0, 3))
        model = GaussianMixture(3, tol=1e-6, random_state=1, distributed=True)
        results["empty"] = _state(model.fit(shard))
        # Sampled start (more rows than the sample): its start, then the fit from it.
        gmm_distributed.INIT_SAMPLE = 500
        options = dict(n_components=3, covariance_type="tied", tol=1e-6, random_state=2)
        start = GaussianMixture(max_iter=0, distributed=True, **options)
        results["sampled_start"] = _state(start.fit(_shards(X3)[rank]))
        model = GaussianMixture(distributed=True, **options)
        results["sampled"] = _state(model.fit(_shards(X3)[rank]))
        gmm_distributed.INIT_SAMPLE = 100_000
        # Bad shards: NaN on process 1, another dimension on process 0.
        for name, bad_rank, bad in (
            ("nan", 1, np.where(np.arange(X2.size).reshape(X2.shape) == 7, np.nan, X2)),
            ("dimension", 0, X3),
        ):
            shard = bad[:700] if rank == bad_rank else X2[700:]
            try:
                GaussianMixture(2, random_state=0, distributed=True).fit(shard)
                results[name] = None
            except ValueError as error:
                results[name] = str(error)
        # Weights on one process only: every process refuses the fit alike.
        shard = _shards(X2)[rank]
        weights = np.ones(len(shard)) if rank == 1 else None
        try:
            GaussianMixture(2, random_state=0, distributed=True).fit(shard, sample_weight=weights)
            results["weights"] = None
        except ValueError as error:
            results["weights"] = str(error)
        # The group is still usable after a refusal.
        model = GaussianMixture(2, random_state=0, distributed=True).fit(_shards(X2)[rank])
        results["after"] = _state(model)
        # An explicit process group, float32 data, and a warm start continuing it.
        group = dist.new_group([0, 1])
        shard = _shards(X2)[rank].astype(np.float32)
        model = GaussianMixture(3, random_state=3, max_iter=5, warm_start=True, distributed=group)
        results["group"] = _state(model.fit(shard))
        results["warm"] = _state(model.fit(shard))
    finally:
        with open(os.path.join(out, f"{rank}.pkl"), "wb") as handle:
            pickle.dump(results, handle)
        dist.destroy_process_group()


def run_processes(target, world: int, out: Path, timeout: float = TIMEOUT) -> list:
    """Start ``world`` processes on ``target(rank, world, port, out)``; bounded wait."""
    context = mp.get_context("spawn")
    port = _free_port()
    processes = [
        context.Process(target=target, args=(rank, world, port, str(out))) for rank in range(world)
    ]
    for process in processes:
        process.start()
    try:
        for process in processes:
            process.join(timeout)
        hung = [process.pid for process in processes if process.is_alive()]
        assert not hung, f"processes {hung} still running after {timeout} s"
        assert [process.exitcode for process in processes] == [0] * world
    finally:
        for process in processes:
            if process.is_alive():
                process.kill()
                process.join(5)
    results = []
    for rank in range(world):
        with open(out / f"{rank}.pkl", "rb") as handle:
            results.append(pickle.load(handle))
    return results


@pytest.fixture(scope="module")
def session(tmp_path_factory):
    return run_processes(_session, WORLD, tmp_path_factory.mktemp("distributed"))


def _assert_bitwise_equal(first: dict, second: dict) -> None:
    for name, value in first.items():
        assert np.array_equal(value, second[name]), name


def _assert_close(state: dict, model, spread: float) -> None:
    for name in ("weights_", "means_", "covariances_"):
        scale = 1.0 if name == "weights_" else spread ** (1 if name == "means_" else 2)
        np.testing.assert_allclose(state[name], getattr(model, name), rtol=0, atol=1e-9 * scale)
    assert state["n_iter_"] == model.n_iter_
    assert state["lower_bound_"] == pytest.approx(model.lower_bound_, rel=1e-12)


@pytest.mark.parametrize(
    "scenario", ["kmeans", "given", "empty", "sampled_start", "sampled", "group", "warm"]
)
def test_every_process_holds_bitwise_identical_parameters(session, scenario):
    _assert_bitwise_equal(session[0][scenario], session[1][scenario])


def test_kmeans_start_equals_a_single_process_fit_of_all_rows(session):
    X = _data(2)
    single = GaussianMixture(3, n_init=2, tol=1e-6, random_state=0).fit(X)
    _assert_close(session[0]["kmeans"], single, X.std())
    assert session[0]["kmeans"]["n_samples_seen_"] == X.shape[0]


def test_given_start_equals_a_single_process_fit(session):
    X = _data(3, seed=1)
    start = dict(weights_init=np.full(3, 1 / 3), means_init=X[:3], precisions_init=np.ones((3, 3)))
    single = GaussianMixture(3, covariance_type="diag", tol=1e-4, **start).fit(X)
    _assert_close(session[1]["given"], single, X.std())


def test_an_empty_shard_takes_part_and_contributes_nothing(session):
    X = _data(3, seed=1)
    single = GaussianMixture(3, tol=1e-6, random_state=1).fit(X)
    _assert_close(session[1]["empty"], single, X.std())


def test_a_sampled_start_trains_as_a_single_process_fit_from_that_start(session):
    X = _data(3, seed=1)
    start = session[0]["sampled_start"]
    assert start["n_iter_"] == 0
    single = GaussianMixture(
        3,
        covariance_type="tied",
        tol=1e-6,
        weights_init=start["weights_"],
        means_init=start["means_"],
        covariances_init=start["covariances_"],
    ).fit(X)
    _assert_close(session[0]["sampled"], single, X.std())


def test_score_bic_aic_are_global_and_score_samples_local(session):
    X = _data(2)
    single = GaussianMixture(3, n_init=2, tol=1e-6, random_state=0).fit(X)
    expected = (single.score(X), single.bic(X), single.aic(X))
    for rank in range(WORLD):
        np.testing.assert_allclose(session[rank]["score"], expected, rtol=1e-10)
    assert session[0]["local_score_samples"].shape == (600,)
    assert session[1]["local_score_samples"].shape == (900,)


@pytest.mark.parametrize(
    ("scenario", "words"),
    [("nan", "Process 1 of 2 refused its shard"), ("dimension", "different numbers of features")],
)
def test_a_bad_shard_raises_the_same_error_on_every_process(session, scenario, words):
    messages = [session[rank][scenario] for rank in range(WORLD)]
    assert messages[0] is not None and words in messages[0]
    assert messages[0] == messages[1]


def test_sample_weight_on_any_process_is_refused_on_every_process(session):
    assert session[0]["weights"] == session[1]["weights"]
    assert "sample_weight is not supported by a distributed fit" in session[0]["weights"]


def test_the_group_still_trains_after_a_refused_shard(session):
    _assert_bitwise_equal(session[0]["after"], session[1]["after"])
    assert session[0]["after"]["n_samples_seen_"] == 1500


def test_a_process_group_float32_data_and_a_warm_start(session):
    X = _data(2).astype(np.float32)
    single = GaussianMixture(3, random_state=3, max_iter=5, warm_start=True).fit(X)
    assert session[0]["group"]["means_"].dtype == np.float32
    np.testing.assert_allclose(session[0]["group"]["means_"], single.means_, rtol=1e-5)
    single.fit(X)
    np.testing.assert_allclose(session[0]["warm"]["means_"], single.means_, rtol=1e-5)
    assert session[0]["warm"]["n_iter_"] == single.n_iter_


def test_distributed_is_a_hyper_parameter_that_is_not_saved():
    model = GaussianMixture(2, distributed=True)
    assert model.get_params()["distributed"] is True
    assert clone(model).distributed is True
    group = object()  # stands for a ProcessGroup, which cannot be deep-copied
    assert clone(GaussianMixture(2, distributed=group)).distributed is group
    fitted = GaussianMixture(2, random_state=0).fit(_data(2))
    saved = fitted.to_dict()
    assert "distributed" not in saved["hyper_parameters"]
    assert GaussianMixture.from_dict(json.loads(json.dumps(saved))).distributed is False


def test_distributed_without_a_process_group_says_what_to_do():
    with pytest.raises(ValueError, match="init_process_group"):
        GaussianMixture(2, distributed=True).fit(_data(2))


# -- reading one process's slice of a file, and the command line ---------------------------


def _write_csv(path: Path, X: np.ndarray) -> None:
    with open(path, "w") as handle:
        handle.write("x,y\n")
        for i, row in enumerate(X):
            if i == 5:
                handle.write("# a comment\n\n")
            handle.write(",".join(repr(float(v)) for v in row) + "\n")


def _write_table(path: Path, X: np.ndarray) -> None:
    """X as a file of the format its suffix names; Parquet and Arrow in pieces of 10 rows."""
    table = pa.table({name: X[:, j] for j, name in enumerate("xyzw"[: X.shape[1]])})
    if path.suffix == ".csv":
        _write_csv(path, X)
    elif path.suffix == ".npy":
        np.save(path, X)
    elif path.suffix == ".parquet":
        pq.write_table(table, path, row_group_size=10)
    else:
        with pa.ipc.new_file(path, table.schema) as writer:
            writer.write_table(table, max_chunksize=10)


@pytest.mark.parametrize("suffix", [".csv", ".npy", ".parquet", ".arrow"])
def test_the_shards_of_a_file_are_the_whole_file_in_order(tmp_path, suffix):
    X = _data(2, n=99)
    path = tmp_path / f"points{suffix}"
    _write_table(path, X)
    for world in (1, 2, 3, 7, 64, 500):  # 500 processes: most slices hold no row
        shards = [read_shard(path, rank, world) for rank in range(world)]
        assert all(shard.shape[1] == 2 for shard in shards)
        assert np.array_equal(np.concatenate(shards), X), world


@pytest.mark.parametrize("suffix", [".parquet", ".arrow"])
def test_parquet_and_arrow_shards_are_whole_row_groups(tmp_path, suffix):
    X = _data(2, n=99)
    path = tmp_path / f"points{suffix}"
    _write_table(path, X)
    sizes = [read_shard(path, rank, 3).shape[0] for rank in range(3)]
    assert sizes == [40, 30, 29]  # groups of 10 rows, each to the share holding its first row


def test_a_bad_row_in_a_shard_names_its_line(tmp_path):
    X = _data(2, n=99)
    path = tmp_path / "points.csv"
    _write_csv(path, X)
    lines = path.read_text().splitlines()
    lines[90] = "1.0,oops"
    path.write_text("\n".join(lines) + "\n")
    read_shard(path, 0, 2)  # the first half is fine
    with pytest.raises(ValueError, match=r"points\.csv, line 91: .*'1\.0,oops'"):
        read_shard(path, 1, 2)


def _torchrun(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    """``torchrun --standalone --nproc-per-node 2 -m gmm_core ARGS``; killed at ``timeout``."""
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone"]
    command += ["--nproc-per-node", str(WORLD), "-m", "gmm_core", *args]
    env = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1")
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True,
    )  # fmt: skip
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, 9)  # torchrun and the processes it started
        process.communicate()
        raise AssertionError(f"torchrun still running after {timeout} s") from None
    return subprocess.CompletedProcess(command, process.returncode, stdout, stderr)


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_command_line_on_two_processes_writes_the_single_process_model(tmp_path, suffix):
    X = _data(2)
    data, out = tmp_path / f"points{suffix}", tmp_path / "model.json"
    _write_table(data, X)
    result = _torchrun("fit", str(data), "--components", "3", "--tol", "1e-6", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("Initialization 0") == 1  # progress from the first process only
    assert "on 2 process(es)" in result.stdout
    model = GaussianMixture.from_dict(json.loads(out.read_text()))
    single = GaussianMixture(3, tol=1e-6, random_state=0).fit(X)
    _assert_close(_state(model), single, X.std())


def test_command_line_refuses_a_bad_slice_on_every_process(tmp_path):
    X = _data(2)
    X[1400, 1] = np.nan  # in the second process's slice
    data = tmp_path / "points.npy"
    np.save(data, X)
    result = _torchrun("fit", str(data), "--components", "3", "--out", str(tmp_path / "m.json"))
    assert result.returncode != 0
    assert result.stderr.count("Process 1 of 2 refused its shard") == 1
    assert not (tmp_path / "m.json").exists()


def test_command_line_alone_fits_the_whole_file(tmp_path, capsys):
    X = _data(3, seed=1)
    data, out = tmp_path / "points.npy", tmp_path / "model.json"
    np.save(data, X)
    assert main(["fit", str(data), "--components", "3", "--out", str(out), "--quiet"]) == 0
    model = GaussianMixture.from_dict(json.loads(out.read_text()))
    single = GaussianMixture(3, random_state=0).fit(X)
    np.testing.assert_array_equal(model.means_, single.means_)
    assert capsys.readouterr().out == ""
    _write_table(tmp_path / "points.parquet", X)
    out_parquet = tmp_path / "from_parquet.json"
    assert main(["fit", str(tmp_path / "points.parquet"), "--quiet", "--out", str(out_parquet),
                 "--components", "3"]) == 0  # fmt: skip
    from_parquet, from_npy = json.loads(out_parquet.read_text()), json.loads(out.read_text())
    assert from_parquet.pop("columns") == ["x", "y", "z"]
    assert from_npy.pop("columns") == ["column 1", "column 2", "column 3"]
    assert from_parquet == from_npy
    assert main(["fit", str(tmp_path / "missing.parquet"), "--components", "3"]) == 1
    error = capsys.readouterr().err
    assert "missing.parquet: no such file" in error and error.count("\n") == 1
