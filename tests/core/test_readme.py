"""README's "Using gmm_core" examples run as written, so that the README cannot lie."""

import re
import warnings
from pathlib import Path

import numpy as np
import sklearn.exceptions

ROOT = Path(__file__).resolve().parents[2]


def readme_examples() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Using gmm_core", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", section, flags=re.DOTALL)


def test_the_examples_run_as_written(monkeypatch):
    examples = readme_examples()
    assert len(examples) == 3
    assert 'GridSearchCV(GaussianMixture(), {"n_components": [1, 2, 3, 4]})' in examples[1]
    assert "make_pipeline(StandardScaler(), GaussianMixture(3))" in examples[1]
    monkeypatch.chdir(ROOT)  # the examples read resources/ from a checkout
    namespace: dict = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sklearn.exceptions.ConvergenceWarning)
        for example in examples:  # each continues the one before
            exec(compile(example, "README.md", "exec"), namespace)
    X, model = namespace["X"], namespace["model"]
    assert X.shape == (272, 2) and namespace["online"].n_samples_seen_ == 272
    unfitted = namespace["unfitted"]
    assert unfitted.get_params() == model.get_params() and not hasattr(unfitted, "means_")
    search = namespace["search"]
    assert search.best_params_["n_components"] in (1, 2, 3, 4)
    assert search.best_estimator_.means_.shape == (search.best_params_["n_components"], 2)
    pipeline = namespace["pipeline"]
    standardised = (X - X.mean(0)) / X.std(0)
    np.testing.assert_allclose(
        pipeline.score_samples(X), pipeline[-1].score_samples(standardised), rtol=1e-12
    )
    bayes, stream = namespace["bayes"], namespace["stream"]
    assert (bayes.weights_ > 0.01).sum() == 2  # as the README says
    assert (stream.weights_ > 0.01).sum() == 2 and stream.n_samples_seen_ == 272
    weighted, counts = namespace["weighted"], namespace["counts"]
    repeated = np.repeat(X, counts.astype(int), axis=0)
    assert weighted.n_samples_seen_ == 272 and repeated.shape == (292, 2)
