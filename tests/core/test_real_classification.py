"""The cross-entropy reference on real tables no one here made up (scikit-learn's iris and wine),
against an independent fit: scikit-learn's multinomial logistic regression without penalty."""

import warnings

import numpy as np
import pytest

from tui_trainer.core.config import DataConfig, RunConfig
from tui_trainer.core.data import load_dataset
from tui_trainer.core.trainer import Trainer

datasets = pytest.importorskip("sklearn.datasets", reason="scikit-learn comes with the test extras")


def table(tmp_path, name, columns):
    """A scikit-learn table as a CSV file with text class labels, some of its feature columns."""
    bunch = getattr(datasets, f"load_{name}")()
    path = tmp_path / f"{name}.csv"
    names = [f"f{i}" for i in columns]
    lines = [",".join([*names, "label"])]
    for row, target in zip(bunch.data[:, columns], bunch.target, strict=True):
        lines.append(",".join([*(repr(float(v)) for v in row), str(bunch.target_names[target])]))
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def sklearn_loss(x, y):
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import log_loss

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # lbfgs may say it stopped on max_iter at this tolerance
        fitted = LogisticRegression(penalty=None, tol=1e-12, max_iter=100_000).fit(x, y)
    return log_loss(y, fitted.predict_proba(x), labels=sorted(set(y.tolist())))


@pytest.mark.parametrize(("name", "columns"), [("iris", [0, 1, 2, 3]), ("wine", [0, 9]), ("iris", [0, 1])])
def test_the_optimal_loss_matches_an_independent_fit_to_six_digits(tmp_path, name, columns):
    config = RunConfig.model_validate({"loss": "cross-entropy", "data": {"source": table(tmp_path, name, columns)}})
    trainer = Trainer(config)
    x, y = trainer.dataset.x_train.astype(np.float64), trainer.dataset.y_train
    summary = trainer.summary()
    assert summary.separable is False
    assert summary.optimal_loss == pytest.approx(sklearn_loss(x, y), rel=1e-6)
    assert trainer.optimum.gradient_norm < 1e-8


def test_a_default_adam_run_gets_within_one_percent(tmp_path):
    source = table(tmp_path, "wine", [0, 9])  # alcohol and colour intensity
    config = RunConfig.model_validate({"loss": "cross-entropy", "optimizer": {"algorithm": "adam"}, "data": {"source": source}})
    summary = Trainer(config).run()
    assert summary.final_loss <= 1.01 * summary.optimal_loss
    assert summary.classes == ["class_0", "class_1", "class_2"]


def test_separable_real_data_is_called_separable(tmp_path):
    # all thirteen wine measurements split the three cultivars by planes: the loss only tends to 0
    source = table(tmp_path, "wine", list(range(13)))
    data = load_dataset(DataConfig(source=source), classify=True)
    config = RunConfig.model_validate({"loss": "cross-entropy", "data": {"source": source}})
    summary = Trainer(config, dataset=data).summary()
    assert summary.separable is True and summary.optimal_loss == 0 and summary.optimal_weights is None
    assert sklearn_loss(data.x_train.astype(np.float64), data.y_train) < 1e-6
