"""The closed-form optimum matches numpy's least squares and the loss computed directly."""

import numpy as np
import pytest

from tui_trainer.core.reference import least_squares, mse


def test_optimum_matches_numpy_lstsq_and_is_a_minimum():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((500, 4)).astype(np.float32) * [1, 10, 0.1, 3]
    y = (x @ [1.0, -2.0, 0.5, 3.0] + 4 + rng.standard_normal(500)).reshape(-1, 1).astype(np.float32)
    optimum = least_squares(x, y)
    a = np.hstack([x, np.ones((500, 1))]).astype(np.float64)
    theta = np.linalg.lstsq(a, y.astype(np.float64).ravel(), rcond=None)[0]
    assert optimum.weights == pytest.approx(theta[:-1].tolist(), rel=1e-6)
    assert optimum.bias == pytest.approx(theta[-1], rel=1e-6)
    assert optimum.loss == pytest.approx(np.mean((a @ theta - y.ravel()) ** 2), rel=1e-9)
    for delta in (1e-3, -1e-3):  # moving away only raises the loss
        assert mse(x, y, np.array(optimum.weights) + delta, optimum.bias) > optimum.loss
        assert mse(x, y, optimum.weights, optimum.bias + delta) > optimum.loss


def test_perfect_fit_has_zero_loss_and_a_repeated_column_gets_the_minimum_norm_answer():
    x = np.arange(10, dtype=np.float32).reshape(-1, 1)
    exact = least_squares(x, 2 * x + 1)
    assert exact.weights == pytest.approx((2.0,)) and exact.bias == pytest.approx(1.0)
    assert exact.loss == pytest.approx(0.0, abs=1e-12)
    doubled = least_squares(np.hstack([x, x]), 2 * x + 1)
    assert doubled.weights == pytest.approx((1.0, 1.0)) and doubled.loss == pytest.approx(0.0, abs=1e-10)


def test_blocks_give_the_same_answer_as_one_pass(monkeypatch):
    import tui_trainer.core.reference as reference

    rng = np.random.default_rng(1)
    x = rng.standard_normal((1000, 2))
    y = (x @ [1.0, 2.0] + rng.standard_normal(1000)).reshape(-1, 1)
    whole = least_squares(x, y)
    monkeypatch.setattr(reference, "_ROWS_PER_BLOCK", 7)
    blocked = least_squares(x, y)
    assert blocked.weights == pytest.approx(whole.weights, rel=1e-10)
    assert blocked.loss == pytest.approx(whole.loss, rel=1e-10)
