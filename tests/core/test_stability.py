"""The stability limit of plain gradient descent, and momentum's best settings, from the data."""

import math

import numpy as np
import pytest

from tui_trainer.core.config import DataConfig, RunConfig
from tui_trainer.core.data import Dataset, load_dataset
from tui_trainer.core.events import RunState
from tui_trainer.core.reference import least_squares
from tui_trainer.core.stability import stability
from tui_trainer.core.trainer import Trainer

DATA = {"samples": 400, "dims": 2, "val_fraction": 0, "seed": 3}


def limits():
    data = load_dataset(DataConfig(**DATA))
    return stability(least_squares(data.x_train, data.y_train).gram)


def run(lr, epochs=5000, algorithm="bgd", **optimizer):
    config = RunConfig.model_validate({"optimizer": {"algorithm": algorithm, "lr": lr, "epochs": epochs, **optimizer}, "data": DATA})
    return Trainer(config).run()


def test_eigenvalues_are_the_hessians_and_the_limit_is_two_over_the_largest():
    data = load_dataset(DataConfig(**DATA))
    x = np.hstack([data.x_train, np.ones((data.n_train, 1))]).astype(np.float64)
    hessian = 2 * x.T @ x / data.n_train
    eigenvalues = np.linalg.eigvalsh(hessian)
    found = limits()
    assert (found.largest, found.smallest) == pytest.approx((eigenvalues[-1], eigenvalues[0]), rel=1e-9)
    assert found.condition_number == pytest.approx(eigenvalues[-1] / eigenvalues[0])
    assert found.max_stable_lr == pytest.approx(2 / eigenvalues[-1])


@pytest.mark.parametrize("factor, diverges", [(1.05, True), (0.95, False)])
def test_the_limit_predicts_divergence_of_plain_full_batch_gradient_descent(factor, diverges):
    summary = run(limits().max_stable_lr * factor)
    assert (summary.state is RunState.DIVERGED) == diverges
    if not diverges:
        assert summary.final_loss == pytest.approx(summary.optimal_loss, rel=1e-5)


def elongated() -> Dataset:
    """Two nearly repeated features: a long, thin bowl (condition number in the hundreds)."""
    rng = np.random.default_rng(0)
    x1 = rng.standard_normal(500)
    x = np.stack([x1, x1 + 0.1 * rng.standard_normal(500)], axis=1).astype(np.float32)
    y = (x @ [1.0, 2.0] + 0.5 + 0.1 * rng.standard_normal(500)).reshape(-1, 1).astype(np.float32)
    empty = np.zeros((0, 2), np.float32)
    return Dataset(x, y, empty, np.zeros((0, 1), np.float32), ("x1", "x2"), "y", "elongated")


def test_goh_momentum_settings_beat_the_best_plain_step_on_an_elongated_bowl():
    data = elongated()
    found = stability(least_squares(data.x_train, data.y_train).gram)
    assert found.condition_number > 100

    def excess(algorithm, **optimizer):
        optimizer = {"algorithm": algorithm, "epochs": 150, "batch_size": "full", **optimizer}  # Goh: full-batch gradients
        config = RunConfig.model_validate({"optimizer": optimizer, "init": "zeros"})
        summary = Trainer(config, dataset=data).run()
        return summary.final_loss - summary.optimal_loss

    plain = excess("bgd", lr=found.best_gd_lr)
    heavy = excess("momentum", lr=found.momentum_lr, momentum=found.momentum)
    assert heavy < plain / 100
    kappa = found.condition_number
    assert found.momentum == pytest.approx(((math.sqrt(kappa) - 1) / (math.sqrt(kappa) + 1)) ** 2)


def test_the_summary_reports_the_curvature():
    summary = run(0.1, epochs=3).to_dict()
    found = limits()
    assert summary["hessian_eigenvalues"] == pytest.approx([found.largest, found.smallest])
    assert summary["condition_number"] == pytest.approx(found.condition_number)
    assert summary["max_stable_lr"] == pytest.approx(found.max_stable_lr)


def test_a_repeated_feature_has_no_finite_condition_number():
    gram = np.array([[1.0, 1.0, 0.0], [1.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    found = stability(gram)
    assert found.smallest == 0 and found.condition_number is None and found.momentum is None
    assert found.max_stable_lr == pytest.approx(2 / 4.0)
