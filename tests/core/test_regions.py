"""Decision regions: the class a linear model picks over a grid of two features."""

import numpy as np

from tui_trainer.core.regions import padded_box, predicted, region_grid, sample


def test_the_grid_agrees_with_the_model_at_every_point_and_holds_the_other_features_fixed():
    rng = np.random.default_rng(0)
    weights, bias = rng.normal(size=(3, 4)), rng.normal(size=3)
    base = rng.normal(size=4)
    grid = region_grid(weights, bias, base, 1, 3, ((-2, 2), (-1, 3)), columns=7, rows=5)
    assert grid.classes.shape == (5, 7)
    for r, v in enumerate(grid.ys):
        for c, u in enumerate(grid.xs):
            point = base.copy()
            point[1], point[3] = u, v
            assert grid.classes[r, c] == predicted(weights, bias, point[None, :])[0]


def test_one_feature_gives_the_same_class_down_each_column():
    weights, bias = np.array([[1.0], [-1.0]]), np.array([0.0, 0.0])
    grid = region_grid(weights, bias, np.zeros(1), 0, None, ((-1, 1), (-0.5, 1.5)), columns=4, rows=3)
    assert (grid.classes == grid.classes[0]).all()
    assert grid.classes[0].tolist() == [1, 1, 0, 0]  # class 0 wins where x > 0


def test_the_boundary_lies_where_neighbours_differ():
    weights, bias = np.array([[1.0, 0.0], [-1.0, 0.0]]), np.zeros(2)
    grid = region_grid(weights, bias, np.zeros(2), 0, 1, ((-1, 1), (-1, 1)), columns=4, rows=2)
    assert grid.boundary().tolist() == [[False, True, False, False]] * 2


def test_a_sample_keeps_every_class_and_the_box_pads_the_points():
    labels = np.repeat([0, 1, 2], 1000)
    kept = sample(labels, limit=300)
    assert len(kept) <= 300 and set(labels[kept]) == {0, 1, 2}
    assert len(sample(labels[:10])) == 10
    (x_low, x_high), (y_low, y_high) = padded_box(np.array([0.0, 10.0]), np.array([5.0, 5.0]))
    assert (x_low, x_high) == (-1.0, 11.0) and (y_low, y_high) == (4.0, 6.0)
