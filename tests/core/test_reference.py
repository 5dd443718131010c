"""The closed-form optimum matches numpy's least squares and the loss computed directly."""

from pathlib import Path

import numpy as np
import pytest

from tui_trainer.core.reference import least_squares, mse
from tui_trainer.core.stability import stability_from_singular_values


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


# NIST StRD's certified results for Longley (Longley 1967; tests/data/longley.csv holds the
# public-domain table): residual sum of squares over 16 rows, and the coefficients
LONGLEY = Path(__file__).parent.parent / "data" / "longley.csv"
LONGLEY_RSS = 836424.055505915
LONGLEY_WEIGHTS = [15.0618722713733, -0.358191792925910e-1, -2.02022980381683, -1.03322686717359, -0.511041056535807e-1, 1829.15146461355]
LONGLEY_BIAS = -3482258.63459582


def longley() -> tuple[np.ndarray, np.ndarray]:
    table = np.loadtxt(LONGLEY, delimiter=",", skiprows=1)
    return table[:, :6].astype(np.float32), table[:, 6:].astype(np.float32)  # float32, as the trainer holds data


def test_longley_unscaled_matches_nists_certified_minimum():
    """κ(A) ≈ 5e9: the normal equations lost every digit (the loss came out 2.7x the minimum)."""
    x, y = longley()
    optimum = least_squares(x, y)
    # float32 storage moves a few inputs (88.2 is not a float32) by ~1e-8: the minimum barely moves
    assert optimum.loss == pytest.approx(LONGLEY_RSS / 16, rel=1e-6)
    assert optimum.weights == pytest.approx(LONGLEY_WEIGHTS, rel=1e-4)
    assert optimum.bias == pytest.approx(LONGLEY_BIAS, rel=1e-6)


def test_longley_curvature_is_ill_conditioned_not_flat():
    x, y = longley()
    found = stability_from_singular_values(least_squares(x, y).singular_values, len(x))
    kappa_a = np.linalg.cond(np.hstack([x.astype(np.float64), np.ones((16, 1))]))
    assert found.condition_number == pytest.approx(kappa_a**2, rel=1e-3)
    assert found.ill_conditioned and "ill-conditioned" in found.conditioning()
    assert found.largest == pytest.approx(2 * np.linalg.eigvalsh(least_squares(x, y).gram)[-1], rel=1e-9)


def test_a_repeated_column_is_flat_by_the_singular_values_too():
    x = np.arange(10, dtype=np.float32).reshape(-1, 1)
    found = stability_from_singular_values(least_squares(np.hstack([x, x]), 2 * x + 1).singular_values, 10)
    assert found.condition_number is None and found.smallest == 0.0 and "flat" in found.conditioning()
