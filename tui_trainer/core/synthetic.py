"""Seeded synthetic data, drawn straight into the float32 arrays a run trains on.

Rows are drawn a block at a time and each is written to its shuffled place in one float32 array:
validation rows first, then training rows, so both are views of it. Peak memory stays near the
final arrays (drawing the whole float64 matrix, then splitting, standardizing and converting
copies of it, took five to six times as much). The numbers are those of one whole draw: numpy's
Generator fills a block exactly as it fills those rows of a bigger array. Standardized data is
drawn twice, the first time only for the training rows' means and stds, so that every value is
standardized in float64 and rounded to float32 once, as before.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..names import SYNTHETIC
from .config import DataConfig
from .errors import DataError

FLOAT32_MAX = float(np.finfo(np.float32).max)  # training runs in float32
BLOCK_VALUES = 1 << 18  # values drawn at a time (2 MB of float64): their temporaries are the fixed overhead
TWICE_DRAWN_DIMS = 2  # up to this many features a second draw of x costs less than holding x·w


@dataclass(frozen=True)
class SyntheticArrays:
    x_train: np.ndarray  # float32 (n_train, d)
    y_train: np.ndarray  # float32 (n_train, 1): the target, or the class index of a classifier
    x_val: np.ndarray
    y_val: np.ndarray
    true_weights: list[float] | None  # regression only
    classes: tuple[str, ...] | None  # classification only
    stats: tuple[np.ndarray, np.ndarray] | None  # (means, stds) of the training rows when standardized


def synthetic_true_weights(config: DataConfig) -> list[float]:
    """The weights synthetic data is drawn with: given ones, or 3.0 then seeded draws in [-3, 3]."""
    if config.true_weights is not None:
        return list(config.true_weights)
    rng = np.random.default_rng([config.seed, 1])
    rest = np.round(rng.uniform(-3, 3, size=config.dims - 1), 1)
    return [3.0, *rest.tolist()]


def synthetic_arrays(config: DataConfig, classify: bool = False) -> SyntheticArrays:
    """Regression rows (y = x·w + b + noise) or, with `classify`, Gaussian clusters, split into
    training and validation rows in the seeded order, standardized if the config says so."""
    n, d = config.samples, config.dims
    n_val = math.floor(n * config.val_fraction)
    if n - n_val < 2:
        raise DataError(
            f"{SYNTHETIC}: a validation fraction of {config.val_fraction:g} leaves {n - n_val} training row(s) "
            f"of {n}; at least 2 are needed"
        )
    places = shuffled_places(n, config.seed)
    x, y = np.empty((n, d), dtype=np.float32), np.empty((n, 1), dtype=np.float32)
    draw = _draw_clusters if classify else _draw_regression

    def store(block: np.ndarray, rows: np.ndarray) -> None:
        x[rows] = block

    means_stds = None
    if config.standardized:
        stats = _TrainingStats(d, n_val)
        draw(config, places, stats.add, y)
        means, stds = means_stds = stats.result()

        def store(block: np.ndarray, rows: np.ndarray) -> None:
            x[rows] = (block - means) / stds

    weights, classes = draw(config, places, store, y)
    return SyntheticArrays(x[n_val:], y[n_val:], x[:n_val], y[:n_val], weights, classes, means_stds)


def shuffled_places(n: int, seed: int) -> np.ndarray:
    """Where each row goes, synthetic or read from a file: row `order[p]` lands at place p, the
    first validation-fraction of places being the validation rows (the split's seeded order)."""
    order, step = np.random.default_rng([seed, 2]).permutation(n), BLOCK_VALUES
    places = np.empty(n, dtype=np.int32 if n < 2**31 else np.int64)
    for start in range(0, n, step):  # no arange of n beside the order
        places[order[start : start + step]] = np.arange(start, min(n, start + step), dtype=places.dtype)
    return places


def _block_rows(dims: int) -> int:
    return max(1, BLOCK_VALUES // dims)


Store = Callable[[np.ndarray, np.ndarray], None]  # (float64 block of x, the places of its rows)


def _draw_regression(config: DataConfig, places: np.ndarray, store: Store, y: np.ndarray) -> tuple[list[float], None]:
    """y = x·w + b + noise, every x drawn before any noise from one seeded stream."""
    n, d, weights = len(places), config.dims, synthetic_true_weights(config)
    step = _block_rows(d)
    w = np.asarray(weights).reshape(-1, 1)
    features = noise = np.random.default_rng([config.seed, 0])
    signal = None  # x·w in float64 until the noise is added
    if d <= TWICE_DRAWN_DIMS:  # a float64 x·w would outweigh x: draw x twice instead
        noise = np.random.default_rng([config.seed, 0])
        for start in range(0, n, step):  # this stream skips to where the noise begins
            noise.standard_normal((min(step, n - start), d))
    else:
        signal = np.empty((n, 1))
        for start in range(0, n, step):
            block = features.standard_normal((min(step, n - start), d))
            signal[start : start + len(block)] = block @ w
            store(block, places[start : start + len(block)])
    for start in range(0, n, step):
        rows = places[start : start + step]
        if signal is None:
            block = features.standard_normal((len(rows), d))
            store(block, rows)
            part = block @ w
        else:
            part = signal[start : start + len(rows)]
        values = part + config.true_bias + noise.standard_normal((len(rows), 1)) * config.noise
        if not np.all(np.abs(values) <= FLOAT32_MAX):
            raise DataError("the synthetic targets are too large to train on (float32 holds up to about 3.4e38): "
                            "choose a smaller noise, true bias or true weights")
        y[rows] = values
    return weights, None


def _draw_clusters(config: DataConfig, places: np.ndarray, store: Store, y: np.ndarray) -> tuple[None, tuple[str, ...]]:
    """Gaussian clusters, one per class, of spread `noise`, their centres `separation` apart: on a
    line for one feature, else at the corners of a regular polygon in the first two features."""
    n, k, d, gap = len(places), config.class_count, config.dims, config.class_separation
    step = _block_rows(d)
    centres = np.zeros((k, d))
    if d == 1:
        centres[:, 0] = gap * (np.arange(k) - (k - 1) / 2)
    else:
        radius = gap / (2 * math.sin(math.pi / k))  # neighbouring corners `gap` apart
        angles = 2 * math.pi * np.arange(k) / k
        centres[:, 0], centres[:, 1] = radius * np.cos(angles), radius * np.sin(angles)
    rng = np.random.default_rng([config.seed, 3])
    labels = np.arange(n) % k  # as balanced as the row count allows, in a seeded order
    rng.shuffle(labels)
    for start in range(0, n, step):
        chosen = labels[start : start + step]
        block = centres[chosen] + rng.standard_normal((len(chosen), d)) * config.noise
        rows = places[start : start + len(chosen)]
        store(block, rows)
        y[rows, 0] = chosen
    return None, tuple(str(i) for i in range(k))


class FeatureMoments:
    """Each feature's mean and population std over rows seen a part at a time, each part given as
    its own row count, mean and sum of squared deviations from that mean, merged by Chan, Golub and
    LeVeque's pairwise update: no precision lost to a large common offset or to many parts."""

    def __init__(self, dims: int) -> None:
        self.count = 0
        self.mean = np.zeros(dims)
        self.squares = np.zeros(dims)  # Σ (x − mean)²

    def merge(self, count: int, mean: np.ndarray, squares: np.ndarray) -> None:
        if not count:
            return
        total = self.count + count
        delta = mean - self.mean
        self.squares += squares + np.square(delta) * (self.count * count / total)
        self.mean += delta * (count / total)
        self.count = total

    def result(self) -> tuple[np.ndarray, np.ndarray]:
        """Zero mean, population std; a constant column keeps its scale (std 1), as scikit-learn does."""
        stds = np.sqrt(self.squares / self.count)
        stds[stds == 0] = 1.0
        return self.mean.copy(), stds


class _TrainingStats(FeatureMoments):
    """The moments of the training rows of drawn float64 blocks (the validation rows come first)."""

    def __init__(self, dims: int, n_val: int) -> None:
        super().__init__(dims)
        self.n_val = n_val

    def add(self, block: np.ndarray, places: np.ndarray) -> None:
        rows = block[places >= self.n_val]
        if len(rows):
            mean = rows.mean(axis=0)
            self.merge(len(rows), mean, np.square(rows - mean).sum(axis=0))

