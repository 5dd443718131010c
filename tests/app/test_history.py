"""The chart's history: bounded memory, exact summaries, reduction to a width."""

import numpy as np
import pytest

from tui_trainer.app.history import History, smooth


def feed(history, values, rng, max_batch=50):
    i = 0
    while i < len(values):
        k = int(rng.integers(1, max_batch))
        history.extend(np.arange(i + 1, i + 1 + len(values[i : i + k])), values[i : i + k])
        i += k


def test_buckets_summarise_every_point_exactly_whatever_the_batching():
    rng = np.random.default_rng(0)
    values = rng.random(10_000)
    history = History(capacity=16)
    feed(history, values, rng)
    used = slice(0, history.used)
    assert len(history) == 10_000 and history.used <= 16
    assert history.count[used].sum() == 10_000
    assert history.total[used].sum() == pytest.approx(values.sum())
    assert history.low[used].min() == values.min() and history.high[used].max() == values.max()
    # buckets are contiguous runs of points in order
    assert history.first[0] == 1 and history.last[history.used - 1] == 10_000
    assert np.all(history.first[1 : history.used] == history.last[: history.used - 1] + 1)


def test_reduce_gives_at_most_the_columns_asked_for_with_true_means():
    history = History(capacity=64)
    history.extend(np.arange(1, 1001), np.arange(1, 1001, dtype=float))
    reduced = history.reduce(10)
    assert len(reduced) == 10
    assert reduced.mean.mean() == pytest.approx(500.5, rel=0.01)
    assert reduced.low[0] == 1 and reduced.high[-1] == 1000
    assert np.all(np.diff(reduced.x) > 0)


def test_short_series_are_kept_point_for_point():
    history = History()
    history.extend([1, 2, 3], [3.0, 2.0, 1.0])
    reduced = history.reduce(100)
    assert reduced.x.tolist() == [1, 2, 3] and reduced.mean.tolist() == [3.0, 2.0, 1.0]


def test_non_finite_values_are_never_kept():
    history = History()
    history.extend([1, 2, 3, 4], [1.0, float("nan"), float("inf"), 2.0])
    assert len(history) == 2 and history.reduce(10).mean.tolist() == [1.0, 2.0]


def test_memory_stays_bounded_over_ten_million_points():
    history = History()
    history.extend([0], [1.0])
    size = sum(a.nbytes for a in (history.first, history.last, history.count, history.total, history.low, history.high))
    for chunk in range(1000):
        history.extend(np.arange(chunk * 10_000, (chunk + 1) * 10_000), np.ones(10_000))
    assert len(history) == 10_000_001 and history.used <= history.capacity
    assert sum(a.nbytes for a in (history.first, history.last, history.count, history.total, history.low, history.high)) == size


def test_smoothing_removes_start_up_bias_and_follows_a_constant():
    assert smooth(np.full(5, 2.0)).tolist() == pytest.approx([2.0] * 5)
    noisy = np.array([0.0, 10.0] * 50)
    assert smooth(noisy).std() < noisy.std() / 3
