"""Level curves of the loss match the loss computed directly on the data."""

import numpy as np
import pytest

from tui_trainer.core.config import DataConfig
from tui_trainer.core.data import load_dataset
from tui_trainer.core.landscape import LossSlice
from tui_trainer.core.reference import least_squares, mse


@pytest.mark.parametrize("dims, i, j", [(1, 0, 1), (3, 0, 3), (3, 1, 2), (3, 2, 0)])
def test_level_curves_lie_where_the_loss_computed_directly_equals_the_level(dims, i, j):
    data = load_dataset(DataConfig(dims=dims, samples=500, val_fraction=0))
    optimum = least_squares(data.x_train, data.y_train)
    theta_star = optimum.theta
    plane = LossSlice.of(optimum.gram, theta_star, optimum.loss, i, j)
    for excess in (0.01, 0.5, 4.0):
        us, vs = plane.level_curve(optimum.loss + excess, points=24)
        assert len(us) == 24
        for u, v in zip(us, vs, strict=True):
            theta = theta_star.copy()
            theta[i], theta[j] = u, v
            direct = mse(data.x_train, data.y_train, theta[:-1], theta[-1])  # the MSE, row by row
            assert direct == pytest.approx(optimum.loss + excess, rel=1e-9)


def test_the_slice_loss_is_the_direct_loss_anywhere_and_lowest_at_the_optimum():
    data = load_dataset(DataConfig(dims=2, samples=300, val_fraction=0))
    optimum = least_squares(data.x_train, data.y_train)
    plane = LossSlice.of(optimum.gram, optimum.theta, optimum.loss, 0, 2)
    rng = np.random.default_rng(0)
    for u, v in rng.normal(size=(10, 2)) * 3:
        theta = optimum.theta.copy()
        theta[0], theta[2] = u, v
        assert plane.loss(u, v) == pytest.approx(mse(data.x_train, data.y_train, theta[:-1], theta[-1]), rel=1e-9)
    assert plane.loss(*plane.center) == pytest.approx(optimum.loss)


def test_levels_span_the_box_and_nothing_is_drawn_below_the_floor_or_along_a_flat_direction():
    data = load_dataset(DataConfig(dims=1, samples=300, val_fraction=0))
    optimum = least_squares(data.x_train, data.y_train)
    plane = LossSlice.of(optimum.gram, optimum.theta, optimum.loss, 0, 1)
    levels = plane.levels([-1, 4], [-2, 2])
    assert len(levels) == 7 and levels == sorted(levels, reverse=True) and levels[-1] > optimum.loss
    assert len(plane.level_curve(optimum.loss - 0.1)[0]) == 0
    flat = LossSlice(0, 1, (0.0, 0.0), np.array([[1.0, 1.0], [1.0, 1.0]]), 0.0)  # a repeated column
    assert len(flat.level_curve(1.0)[0]) == 0


def test_optimum_losses_of_points_equal_the_direct_mse():
    data = load_dataset(DataConfig(dims=3, samples=400, val_fraction=0))
    optimum = least_squares(data.x_train, data.y_train)
    points = np.random.default_rng(1).normal(size=(5, 4))
    expected = [mse(data.x_train, data.y_train, p[:-1], p[-1]) for p in points]
    assert optimum.losses(points) == pytest.approx(expected, rel=1e-9)
