"""Synthetic data drawn a block at a time into its final float32 arrays: the same numbers as one
whole draw, split and standardized the plain way, in a fraction of the memory."""

import math
import tracemalloc

import numpy as np
import pytest

from tui_trainer.core import synthetic
from tui_trainer.core.config import DataConfig
from tui_trainer.core.data import load_dataset
from tui_trainer.core.synthetic import synthetic_true_weights

ROWS = synthetic.BLOCK_VALUES + 123  # blocks of rows, the last one short, for every width


def whole_draw(config: DataConfig, classify: bool):
    """The data as one draw of every row, split by the seeded order, standardized in float64:
    written independently of the module, as the plain way to make it."""
    n, d = config.samples, config.dims
    if classify:
        k = config.class_count
        centres = np.zeros((k, d))
        if d == 1:
            centres[:, 0] = config.class_separation * (np.arange(k) - (k - 1) / 2)
        else:
            radius = config.class_separation / (2 * math.sin(math.pi / k))
            angles = 2 * math.pi * np.arange(k) / k
            centres[:, 0], centres[:, 1] = radius * np.cos(angles), radius * np.sin(angles)
        rng = np.random.default_rng([config.seed, 3])
        labels = np.arange(n) % k
        rng.shuffle(labels)
        x = centres[labels] + rng.standard_normal((n, d)) * config.noise
        y = labels.astype(np.float64).reshape(-1, 1)
    else:
        rng = np.random.default_rng([config.seed, 0])
        x = rng.standard_normal((n, d))
        noise = rng.standard_normal((n, 1)) * config.noise
        y = x @ np.asarray(synthetic_true_weights(config)).reshape(-1, 1) + config.true_bias + noise
    order = np.random.default_rng([config.seed, 2]).permutation(n)
    n_val = math.floor(n * config.val_fraction)
    val, train = order[:n_val], order[n_val:]
    x_train, x_val, means = x[train], x[val], None
    if config.standardized:
        means, stds = x_train.mean(axis=0), x_train.std(axis=0)
        x_train, x_val = (x_train - means) / stds, (x_val - means) / stds
    return [a.astype(np.float32) for a in (x_train, y[train], x_val, y[val])], means


@pytest.mark.parametrize(
    "settings, classify",
    [
        ({"dims": 1}, False),  # x drawn twice (x·w would outweigh x)
        ({"dims": 4, "noise": 0.3, "true_bias": -2.0}, False),  # x·w kept in float64
        ({"dims": 3, "standardize": True}, False),  # drawn twice: once for the means and stds
        ({"dims": 2, "classes": 4}, True),
        ({"dims": 1, "classes": 3, "standardize": True, "val_fraction": 0.5}, True),
    ],
)
def test_blocks_give_the_numbers_of_one_whole_draw(settings, classify):
    config = DataConfig(samples=ROWS, **settings)
    data = load_dataset(config, classify=classify)
    expected, means = whole_draw(config, classify)
    got = [data.x_train, data.y_train.reshape(-1, 1).astype(np.float32), data.x_val, data.y_val.reshape(-1, 1).astype(np.float32)]
    for mine, theirs in zip(got, expected, strict=True):
        assert mine.shape == theirs.shape
        if config.standardized:  # means summed a block at a time: a rare value rounds the other way
            np.testing.assert_array_max_ulp(mine, theirs, maxulp=1)
            assert np.count_nonzero(mine != theirs) <= mine.size // 10_000
        else:
            assert np.array_equal(mine, theirs)  # bit for bit: runs and their tests stay reproducible
    if config.standardized:  # summed another way (a block at a time): equal to float64 rounding
        assert np.allclose(data.feature_means, means, rtol=1e-12, atol=1e-15)


def generating(samples: int, dims: int) -> tuple[int, int]:
    """(peak bytes allocated while generating, bytes of the final arrays): Python's allocation
    tracer sees numpy's buffers."""
    tracemalloc.start()
    try:
        data = load_dataset(DataConfig(samples=samples, dims=dims, val_fraction=0.2))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak, sum(a.nbytes for a in (data.x_train, data.y_train, data.x_val, data.y_val))


@pytest.mark.parametrize("dims, rows", [(1, 300_000), (20, 100_000)])
def test_generating_needs_little_more_than_the_final_arrays(dims, rows):
    """What 5x the rows add to the peak ÷ what they add to the arrays (the blocks' fixed overhead
    cancels out: both sizes fill whole blocks). Drawing the whole float64 matrix, then splitting
    and converting copies, was ~5."""
    assert rows * dims >= synthetic.BLOCK_VALUES
    small, big = generating(rows, dims), generating(5 * rows, dims)
    assert (big[0] - small[0]) / (big[1] - small[1]) < 1.75


def test_training_and_validation_rows_share_one_array():
    data = load_dataset(DataConfig(samples=1000, dims=2, val_fraction=0.3))
    assert data.x_train.base is not None and data.x_train.base is data.x_val.base
    assert data.x_train.flags.c_contiguous and data.x_val.flags.c_contiguous
