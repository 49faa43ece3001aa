"""partial_fit_csv: a file bigger than one chunk, learned chunk by chunk."""

import numpy as np
import pytest

from gmm_core import GaussianMixture
from gmm_core.streaming import iter_csv_chunks, partial_fit_csv

CENTERS = np.array([[0.0, 0.0], [10.0, 0.0], [5.0, 8.0]])


@pytest.fixture
def points():
    rng = np.random.default_rng(0)
    X = np.concatenate([rng.normal(c, 1.0, (8000, 2)) for c in CENTERS])
    return X[rng.permutation(X.shape[0])]


def write_csv(path, X, header=True):
    with open(path, "w") as handle:
        if header:
            handle.write("id,x,y\n")
        for i, (x, y) in enumerate(X):
            handle.write(f"{i},{float(x)!r},{float(y)!r}\n")
    return path


class Recorder:
    """Stands in for a model and records what partial_fit receives."""

    def __init__(self):
        self.shapes = []

    def partial_fit(self, X):
        self.shapes.append(X.shape)
        return self


def test_csv_file_is_learned_in_chunks_like_the_same_chunks_in_memory(tmp_path, points):
    path = write_csv(tmp_path / "points.csv", points)
    model = partial_fit_csv(
        GaussianMixture(3, random_state=0), path, chunk_size=5000, usecols=["x", "y"]
    )
    assert model.n_samples_seen_ == points.shape[0]
    distance = np.sqrt(((CENTERS[:, None] - model.means_[None]) ** 2).sum(-1)).min(1)
    assert distance.max() < 0.1
    direct = GaussianMixture(3, random_state=0)
    for start in range(0, points.shape[0], 5000):
        direct.partial_fit(points[start : start + 5000])
    np.testing.assert_array_equal(model.means_, direct.means_)
    np.testing.assert_array_equal(model.covariances_, direct.covariances_)


def test_never_more_than_one_chunk_at_a_time(tmp_path, points):
    path = write_csv(tmp_path / "points.csv", points)
    recorder = partial_fit_csv(Recorder(), path, chunk_size=7000, usecols=[1, 2])
    assert recorder.shapes == [(7000, 2)] * 3 + [(3000, 2)]


def test_headerless_file_with_blank_and_comment_lines(tmp_path, points):
    path = tmp_path / "plain.csv"
    with open(path, "w") as handle:
        handle.write("# exported points\n")
        for x, y in points[:2500]:
            handle.write(f"{float(x)!r};{float(y)!r}\n\n")
    chunks = list(iter_csv_chunks(path, chunk_size=1000, delimiter=";"))
    assert [c.shape for c in chunks] == [(1000, 2), (1000, 2), (500, 2)]
    np.testing.assert_array_equal(np.concatenate(chunks), points[:2500])


def test_a_bad_row_names_its_lines_and_keeps_earlier_chunks(tmp_path, points):
    path = write_csv(tmp_path / "bad.csv", points[:3000])
    lines = path.read_text().splitlines()
    lines[2500] = "2499,oops,1.0"
    path.write_text("\n".join(lines) + "\n")
    model = GaussianMixture(3, random_state=0)
    with pytest.raises(ValueError, match=r"bad\.csv, line 2501: .*'2499,oops,1\.0'"):
        partial_fit_csv(model, path, chunk_size=1000, usecols=["x", "y"])
    assert model.n_samples_seen_ == 2000


def test_a_non_finite_value_is_refused(tmp_path, points):
    path = write_csv(tmp_path / "nan.csv", points[:100])
    path.write_text(path.read_text() + "100,nan,1.0\n")
    model = GaussianMixture(2, random_state=0)
    with pytest.raises(ValueError):
        partial_fit_csv(model, path, chunk_size=1000, usecols=["x", "y"])


def test_unknown_column_name(tmp_path, points):
    path = write_csv(tmp_path / "points.csv", points[:10])
    with pytest.raises(ValueError, match="no column named 'z'"):
        partial_fit_csv(GaussianMixture(1), path, usecols=["x", "z"])


# -- every refusal is a ValueError naming the file, and the line where there is one ----


@pytest.mark.parametrize("bad", ["nan", "inf", "-inf"])
def test_non_finite_row_names_file_and_line(tmp_path, bad):
    path = tmp_path / "points.csv"
    path.write_text(f"x,y\n1,2\n# note\n3,4\n{bad},5\n6,7\n")
    with pytest.raises(ValueError, match=rf"points\.csv, line 5: .*NaN or infinite: '{bad},5'"):
        partial_fit_csv(GaussianMixture(1), path, chunk_size=2)


@pytest.mark.parametrize("text", ["", "\n\n# only a comment\n", "x,y\n", "x,y\n\n"])
def test_empty_or_header_only_file_refused(tmp_path, text):
    path = tmp_path / "empty.csv"
    path.write_text(text)
    model = GaussianMixture(1)
    with pytest.raises(ValueError, match=r"empty\.csv: no rows of numbers"):
        partial_fit_csv(model, path)
    assert not hasattr(model, "means_")


def test_binary_file_refused_with_its_name(tmp_path):
    path = tmp_path / "image.png"
    path.write_bytes(b"1,2\n" + bytes(range(256)) * 8)
    with pytest.raises(ValueError, match=r"image\.png: not a text file"):
        partial_fit_csv(GaussianMixture(1), path)


@pytest.mark.parametrize("chunk_size", [None, 0, -3, 1.5, "10", True])
def test_bad_chunk_size_refused(tmp_path, chunk_size):
    path = tmp_path / "ok.csv"
    path.write_text("1,2\n3,4\n")
    with pytest.raises(ValueError, match="chunk_size must be a positive integer"):
        partial_fit_csv(GaussianMixture(1), path, chunk_size=chunk_size)
