"""A loss curve of any length in bounded memory, reducible to a chart's width in constant time.

Points are kept in at most `capacity` buckets. Each bucket summarises `stride` consecutive points
(their first step, count, sum, min and max); when the buckets are full, neighbours merge in pairs
and the stride doubles. A million steps and a thousand cost the same to draw.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np


@dataclass(frozen=True)
class Reduced:
    """A series cut into at most `columns` groups: one x, mean, min and max per group."""

    x: np.ndarray
    mean: np.ndarray
    low: np.ndarray
    high: np.ndarray

    def __len__(self) -> int:
        return len(self.x)


class History:
    def __init__(self, capacity: int = 4096) -> None:
        if capacity < 2 or capacity % 2:
            raise ValueError("capacity must be an even number >= 2")
        self.capacity = capacity
        self.stride = 1  # points per full bucket
        self.used = 0  # buckets in use
        self.points = 0
        self.latest: float | None = None
        self._allocated = False

    def _allocate(self) -> None:
        # numpy is imported on the first point, not with the app: the first frame must not wait
        import numpy as np

        capacity = self.capacity
        self.first = np.zeros(capacity, dtype=np.float64)  # x of each bucket's first point
        self.last = np.zeros(capacity, dtype=np.float64)  # x of its last point
        self.count = np.zeros(capacity, dtype=np.int64)
        self.total = np.zeros(capacity, dtype=np.float64)
        self.low = np.zeros(capacity, dtype=np.float64)
        self.high = np.zeros(capacity, dtype=np.float64)
        self._allocated = True

    def __len__(self) -> int:
        return self.points

    def clear(self) -> None:
        self.stride, self.used, self.points, self.latest = 1, 0, 0, None

    def extend(self, xs, values) -> None:
        """Add points in order of x. Non-finite values are dropped: they are never drawn."""
        import numpy as np

        if not self._allocated:
            self._allocate()
        xs = np.asarray(xs, dtype=np.float64)
        values = np.asarray(values, dtype=np.float64)
        keep = np.isfinite(values)
        if not keep.all():
            xs, values = xs[keep], values[keep]
        if not len(values):
            return
        self.points += len(values)
        self.latest = float(values[-1])
        start = self._top_up(xs, values)
        while start < len(values):
            if self.used == self.capacity:
                self._halve()
                start += self._top_up(xs[start:], values[start:])
                continue
            room = (self.capacity - self.used) * self.stride
            end = min(len(values), start + room)
            self._add_buckets(xs[start:end], values[start:end])
            start = end

    def _top_up(self, xs: np.ndarray, values: np.ndarray) -> int:
        """Fill the last bucket up to `stride` points; how many points were used."""
        if not self.used:
            return 0
        i = self.used - 1
        take = min(int(self.stride - self.count[i]), len(values))
        if take <= 0:
            return 0
        part = values[:take]
        self.count[i] += take
        self.total[i] += part.sum()
        self.low[i] = min(self.low[i], part.min())
        self.high[i] = max(self.high[i], part.max())
        self.last[i] = xs[take - 1]
        return take

    def _add_buckets(self, xs: np.ndarray, values: np.ndarray) -> None:
        stride, n = self.stride, len(values)
        full = n // stride
        rows = [(xs[: full * stride].reshape(full, stride), values[: full * stride].reshape(full, stride))]
        if n % stride:
            rows.append((xs[full * stride :].reshape(1, -1), values[full * stride :].reshape(1, -1)))
        for x_rows, v_rows in rows:
            k = len(v_rows)
            s = slice(self.used, self.used + k)
            self.first[s], self.last[s] = x_rows[:, 0], x_rows[:, -1]
            self.count[s] = v_rows.shape[1]
            self.total[s] = v_rows.sum(axis=1)
            self.low[s], self.high[s] = v_rows.min(axis=1), v_rows.max(axis=1)
            self.used += k

    def _halve(self) -> None:
        """Merge neighbouring buckets pairwise; the stride doubles."""
        import numpy as np

        n = self.used // 2 * 2
        half = n // 2
        odd = self.used % 2  # a lone partial bucket at the end stays as it is
        tail = [array[n] for array in (self.first, self.last, self.count, self.total, self.low, self.high)] if odd else None
        self.first[:half] = self.first[:n:2]
        self.last[:half] = self.last[1:n:2]
        self.count[:half] = self.count[:n:2] + self.count[1:n:2]
        self.total[:half] = self.total[:n:2] + self.total[1:n:2]
        self.low[:half] = np.minimum(self.low[:n:2], self.low[1:n:2])
        self.high[:half] = np.maximum(self.high[:n:2], self.high[1:n:2])
        self.used = half
        if tail is not None:
            for array, value in zip((self.first, self.last, self.count, self.total, self.low, self.high), tail, strict=True):
                array[half] = value
            self.used += 1
        self.stride *= 2

    def reduce(self, columns: int) -> Reduced:
        """At most `columns` groups of consecutive buckets, each with its mean, min and max."""
        import numpy as np

        used = self.used
        if not used:
            empty = np.zeros(0)
            return Reduced(empty, empty, empty, empty)
        groups = max(1, min(columns, used))
        edges = np.linspace(0, used, groups + 1).astype(np.int64)
        starts = edges[:-1]
        count = np.add.reduceat(self.count[:used], starts)
        total = np.add.reduceat(self.total[:used], starts)
        low = np.minimum.reduceat(self.low[:used], starts)
        high = np.maximum.reduceat(self.high[:used], starts)
        x = (self.first[:used][starts] + self.last[:used][edges[1:] - 1]) / 2
        return Reduced(x, total / count, low, high)


def smooth(values: np.ndarray, weight: float = 0.9) -> np.ndarray:
    """Exponential moving average with the start-up bias removed (as TensorBoard smooths)."""
    import numpy as np

    if not len(values):
        return values
    out = np.empty_like(values, dtype=np.float64)
    average, scale = 0.0, 0.0
    for i, value in enumerate(values):
        average = weight * average + (1 - weight) * value
        scale = weight * scale + (1 - weight)
        out[i] = average / scale
    return out


class PathPoints:
    """Points of a parameter path ([w..., b] each), thinned to at most `capacity`: every k-th
    point is kept, k doubling whenever the list fills up; the latest point is always known."""

    def __init__(self, capacity: int = 2048) -> None:
        self.capacity = capacity
        self.clear()

    def clear(self) -> None:
        self.points: list[list[float]] = []
        self.steps: list[int] = []
        self.stride = 1
        self._seen = 0
        self.latest: list[float] | None = None

    def __len__(self) -> int:
        return len(self.points)

    def extend(self, steps: list[int], points: list[list[float]]) -> None:
        if not points:
            return
        start = (-self._seen) % self.stride  # keep the global every-k-th rhythm across calls
        self.points += points[start :: self.stride]
        self.steps += steps[start :: self.stride]
        self._seen += len(points)
        self.latest = points[-1]
        while len(self.points) > self.capacity:
            self.points, self.steps = self.points[::2], self.steps[::2]
            self.stride *= 2

    def columns(self, i: int, j: int) -> tuple[list[float], list[float]]:
        """The path's values of parameters i and j, ending at the latest point."""
        points = self.points if not self.latest or (self.points and self.points[-1] is self.latest) else [*self.points, self.latest]
        return [p[i] for p in points], [p[j] for p in points]
