"""A classifier's decision regions over two features: which class a linear model picks at each
point of a grid, the other features held at a fixed point (their training mean).

For logits z = Wx + b the class picked is argmax z. Over features i and j, with every other
feature at its value in `base`, that is argmax of (W[:, i]·u + W[:, j]·v + c) with c = W·base + b:
the regions are convex polygons whose edges are the lines where two classes' logits tie. With one
feature the picture is a line cut into intervals; the grid then has a single row per cell height.

numpy only: the app draws this in its own process, which never imports torch.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MAX_POINTS = 400  # points drawn at most: a sample of a bigger training set, every class kept


@dataclass(frozen=True)
class RegionGrid:
    """The class picked at each grid point: `classes[r, c]` at (xs[c], ys[r])."""

    xs: np.ndarray
    ys: np.ndarray
    classes: np.ndarray  # int, rows × columns

    def boundary(self) -> np.ndarray:
        """Grid points whose class differs from a neighbour's (right or below): the boundaries."""
        edge = np.zeros(self.classes.shape, dtype=bool)
        edge[:, :-1] |= self.classes[:, :-1] != self.classes[:, 1:]
        edge[:-1, :] |= self.classes[:-1, :] != self.classes[1:, :]
        return edge


def predicted(weights: np.ndarray, bias: np.ndarray, points: np.ndarray) -> np.ndarray:
    """The class of each row of `points` (full feature vectors): the highest logit."""
    return np.asarray(np.argmax(points @ weights.T + bias, axis=1))


def region_grid(
    weights: np.ndarray,
    bias: np.ndarray,
    base: np.ndarray,
    i: int,
    j: int | None,
    box: tuple[tuple[float, float], tuple[float, float]],
    columns: int,
    rows: int,
) -> RegionGrid:
    """The classes over a `columns` × `rows` grid spanning `box` ((x low, x high), (y low, y high)):
    feature i along x, feature j along y (None: one feature, the same class down each column)."""
    weights = np.asarray(weights, dtype=np.float64).reshape(len(bias), -1)
    bias = np.asarray(bias, dtype=np.float64)
    base = np.asarray(base, dtype=np.float64)
    (x_low, x_high), (y_low, y_high) = box
    xs = np.linspace(x_low, x_high, max(2, columns))
    ys = np.linspace(y_low, y_high, max(2, rows))
    constant = weights @ base + bias - weights[:, i] * base[i]  # every logit's part from the fixed features
    if j is not None:
        constant = constant - weights[:, j] * base[j]
    logits = constant[None, None, :] + xs[None, :, None] * weights[None, None, :, i]
    if j is not None:
        logits = logits + ys[:, None, None] * weights[None, None, :, j]
    else:
        logits = np.broadcast_to(logits, (len(ys), len(xs), len(bias)))
    return RegionGrid(xs, ys, np.asarray(np.argmax(logits, axis=2)))


def sample(labels: np.ndarray, limit: int = MAX_POINTS) -> np.ndarray:
    """Indices of at most `limit` rows, evenly spaced, so every class keeps its share (a fixed
    choice: the same points every redraw)."""
    n = len(labels)
    if n <= limit:
        return np.arange(n)
    return np.unique(np.linspace(0, n - 1, limit).round().astype(np.int64))


def padded_box(xs: np.ndarray, ys: np.ndarray | None, pad: float = 0.1) -> tuple[tuple[float, float], tuple[float, float]]:
    """The points' extent with a margin (a unit box around a single value); with no y, the class
    axis from -0.5 to classes - 0.5 is the caller's."""

    def extent(values: np.ndarray) -> tuple[float, float]:
        if not len(values):
            return -1.0, 1.0
        low, high = float(values.min()), float(values.max())
        margin = (high - low) * pad if high > low else 1.0
        return low - margin, high + margin

    return extent(xs), extent(ys) if ys is not None else (0.0, 1.0)
