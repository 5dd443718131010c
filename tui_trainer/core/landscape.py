"""The loss over two parameters, exactly: for MSE on a linear model it is a quadratic bowl.

With θ = [w..., b] and A = [X, 1], the training loss is L(θ) = θᵀGθ - 2cᵀθ + s (G = AᵀA/n,
c = Aᵀy/n, s = yᵀy/n), so around the optimum θ*:  L(θ* + Δ) = L* + ΔᵀGΔ.  Holding every other
parameter at its optimum, the loss over parameters i and j is L* + [Δi Δj] M [Δi Δj]ᵀ with M the
2×2 block of G: every level curve is an ellipse, drawn from M's eigenvectors, no grid needed.

numpy only: the app draws this in its own process, which never imports torch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray


@dataclass(frozen=True)
class LossSlice:
    """The loss over parameters `i` and `j` (indices into [w..., b]), the others at their optimum."""

    i: int
    j: int
    center: tuple[float, float]  # (θ*_i, θ*_j)
    block: np.ndarray  # 2×2 block of G
    floor: float  # L*, the lowest loss of the slice

    @classmethod
    def of(cls, gram: ArrayLike, theta_star: Sequence[float] | NDArray[np.float64], optimal_loss: float, i: int, j: int) -> LossSlice:
        g = np.asarray(gram, dtype=np.float64)
        block = g[np.ix_([i, j], [i, j])]
        return cls(i, j, (float(theta_star[i]), float(theta_star[j])), block, float(optimal_loss))

    def loss(self, u: ArrayLike, v: ArrayLike) -> NDArray[np.float64]:
        """The loss at parameter values (u, v) of the two parameters (numbers or arrays alike)."""
        du, dv = np.asarray(u, dtype=np.float64) - self.center[0], np.asarray(v, dtype=np.float64) - self.center[1]
        a, b, c = float(self.block[0, 0]), float(self.block[0, 1]), float(self.block[1, 1])
        return self.floor + a * du * du + 2 * b * du * dv + c * dv * dv

    def level_curve(self, level: float, points: int = 96) -> tuple[np.ndarray, np.ndarray]:
        """The closed curve where the loss equals `level` (empty below the floor, or along a flat
        direction, where the 'curve' is a pair of lines out of sight)."""
        excess = level - self.floor
        values, vectors = np.linalg.eigh(self.block)
        if excess <= 0 or values.min() <= 1e-12 * max(values.max(), 1e-300):
            return np.zeros(0), np.zeros(0)
        t = np.linspace(0, 2 * np.pi, points)
        circle = np.stack([np.cos(t), np.sin(t)])
        delta = vectors @ (np.sqrt(excess / values)[:, None] * circle)
        return self.center[0] + delta[0], self.center[1] + delta[1]

    def levels(self, xs: Sequence[float], ys: Sequence[float], count: int = 7) -> list[float]:
        """Loss levels worth drawing over the box around (xs, ys): from the box's highest loss down
        to a thousandth of that excess, spaced evenly on a log scale."""
        corners_u = [min(xs), max(xs)]
        corners_v = [min(ys), max(ys)]
        top = max(float(self.loss(u, v)) for u in corners_u for v in corners_v) - self.floor
        if top <= 0:
            return []
        return [self.floor + top * 10 ** (-3 * k / (count - 1)) for k in range(count)]
