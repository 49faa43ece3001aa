"""Reading tables: gmm_core.tables against the two readers it replaced, on the same files.

Files (written once, in a temporary folder): a CSV of N rows x 2 columns as the program
exports points (an ``x,y`` header, ``%.17g``), the same with a broken last line (one field),
and the same numbers as Parquet (pyarrow's defaults).

Readers: the program's old ``read_points`` and gmm_core's old ``iter_csv_chunks`` (their
code is kept in ``benchmarks/_old_readers.py``), the new ``read_table`` and
``iter_table``, and, for Parquet, ``pyarrow.parquet.read_table`` plus a copy to numpy.

Every measurement runs in a fresh process per reader (the files already in the page
cache). Time: the best of 3 reads after a first one, in each of ``--repeat`` processes
(the first read, which also pays for first use of the libraries and fresh memory pages,
is shown apart). Memory: one more process per reader, one read, measured as the peak of
numpy's allocations (tracemalloc) plus the peak of pyarrow's memory pool, and as the
growth of the process's peak RSS, each against the size of the resulting array. Goals:
at least 2x faster than the old readers on the CSV, and peak memory added at most twice
the resulting array.

Usage: python benchmarks/bench_tables.py [--rows 1000000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
REPEAT_IN_PROCESS = 3  # timed reads after the first, in the same process
ROOT = HERE.parent

READERS = {
    # name: (file, what it does)
    "old program reader": ("points.csv", "app/io.read_points before gmm_core.tables"),
    "old gmm_core reader": ("points.csv", "streaming.iter_csv_chunks, 10,000 rows, joined"),
    "new read_table": ("points.csv", "gmm_core.tables.read_table"),
    "old gmm_core, streamed": ("points.csv", "iter_csv_chunks, 10,000 rows, each dropped"),
    "new iter_table, streamed": ("points.csv", "iter_table, 65,536 rows, each dropped"),
    "old program reader, broken": ("broken.csv", "read_points until its error"),
    "new read_table, broken": ("broken.csv", "read_table until its error"),
    "new read_table, broken, skip": ("broken.csv", "read_table(on_bad_rows='skip')"),
    "pyarrow.parquet + numpy": ("points.parquet", "pq.read_table, columns to one array"),
    "new read_table, Parquet": ("points.parquet", "gmm_core.tables.read_table"),
}


def read_with(name: str, path: str):
    """Run reader ``name`` on ``path``; returns the resulting array (or None when streamed)."""
    sys.path.insert(0, str(HERE))
    import _old_readers as old

    from gmm_core.tables import iter_table, read_table

    if name == "old program reader" or name == "old program reader, broken":
        return old.read_points(path)
    if name == "old gmm_core reader":
        return np.concatenate(list(old.iter_csv_chunks(path)))
    if name == "old gmm_core, streamed":
        for _ in old.iter_csv_chunks(path):
            pass
        return None
    if name == "new iter_table, streamed":
        for _ in iter_table(path):
            pass
        return None
    if name == "new read_table, broken, skip":
        return read_table(path, on_bad_rows="skip").data
    if name == "pyarrow.parquet + numpy":
        import pyarrow.parquet as pq

        table = pq.read_table(path)
        return np.column_stack([column.to_numpy() for column in table.columns])
    return read_table(path).data


def child(name: str, path: str, mode: str) -> None:
    """Measure one reader once, in this fresh process; print a JSON line."""
    import pyarrow as pa

    from gmm_core.tables import read_table  # noqa: F401  (its imports are not part of the read)

    sys.path.insert(0, str(HERE))
    import _old_readers  # noqa: F401

    if mode == "memory":
        tracemalloc.start()
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    pool_before = pa.default_memory_pool().max_memory()
    times = []
    for _ in range(1 if mode == "memory" else 1 + REPEAT_IN_PROCESS):
        began = time.perf_counter()
        error = None
        try:
            result = read_with(name, path)
        except ValueError as exc:
            result, error = None, str(exc)
        times.append(time.perf_counter() - began)
        if mode == "memory":
            break
        result = None  # freed before the next read
    traced = tracemalloc.get_traced_memory()[1] if mode == "memory" else 0
    report = {
        "first": times[0],
        "seconds": min(times[1:] or times),
        "traced": traced,
        "pool": pa.default_memory_pool().max_memory() - pool_before,
        "rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - rss_before,
        "array": 0 if result is None else result.nbytes,
        "rows": 0 if result is None else result.shape[0],
        "error": error,
    }
    print(json.dumps(report))


def measure(name: str, path: Path, mode: str) -> dict:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    command = [sys.executable, __file__, "--child", name, str(path), mode]
    output = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    return json.loads(output.stdout.strip().splitlines()[-1])


def write_files(folder: Path, rows: int) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    X = np.random.default_rng(0).normal(size=(rows, 2)) * [3.0, 40.0] + [3.5, 70.0]
    with open(folder / "points.csv", "w", newline="\n") as handle:
        np.savetxt(handle, X, delimiter=",", header="x,y", comments="", fmt="%.17g")
    text = (folder / "points.csv").read_bytes()
    (folder / "broken.csv").write_bytes(text + b"3.5\n")
    pq.write_table(pa.table({"x": X[:, 0], "y": X[:, 1]}), folder / "points.parquet")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--child", nargs=3, metavar=("READER", "PATH", "MODE"))
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        write_files(folder, args.rows)
        sizes = {name: (folder / name).stat().st_size for name in {f for f, _ in READERS.values()}}
        print(
            f"{args.rows:,} rows x 2 columns; files: "
            + ", ".join(f"{name} {size / 1e6:.1f} MB" for name, size in sorted(sizes.items()))
        )
        results = {}
        for name, (file, _) in READERS.items():
            path = folder / file
            timed = [measure(name, path, "time") for _ in range(args.repeat)]
            memory = measure(name, path, "memory")
            first = min(t["first"] for t in timed)
            results[name] = (min(t["seconds"] for t in timed), first, memory)
    array = 16 * args.rows
    print()
    print(
        "| reader | file | time | speed-up | first read in a fresh process "
        "| peak added: numpy + pyarrow | peak RSS added | result |"
    )
    print("|---|---|---|---|---|---|---|---|")
    reference = {"points.csv": "old program reader", "broken.csv": "old program reader, broken",
                 "points.parquet": "pyarrow.parquet + numpy"}  # fmt: skip
    for name, (seconds, first, memory) in results.items():
        file = READERS[name][0]
        base = results[reference[file]][0]
        added = memory["traced"] + memory["pool"]
        outcome = (
            f"error: {memory['error'][-60:]}" if memory["error"] else
            f"{memory['rows']:,} rows" if memory["rows"] else "streamed"
        )  # fmt: skip
        print(
            f"| {name} | {file} | {seconds:.3f} s | {base / seconds:.2f}x | {first:.3f} s | "
            f"{added / 1e6:.1f} MB ({added / array:.2f}x array) | "
            f"{memory['rss'] / 1e6:.1f} MB ({memory['rss'] / array:.2f}x) | {outcome} |"
        )
    old = min(results["old program reader"][0], results["old gmm_core reader"][0])
    new = results["new read_table"][0]
    print(f"\nCSV: new read_table {old / new:.2f}x faster than the faster old reader (goal >= 2x)")


if __name__ == "__main__":
    main()
