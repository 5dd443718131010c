"""The closed-form answer gradient descent is chasing: the least-squares optimum of the training data.

For MSE on a linear model the loss is a quadratic bowl, so its minimum has a closed form. We solve
the normal equations in float64 from sufficient statistics (AᵀA and Aᵀy with A = [X, 1]), which
never copies the data, then measure the loss at the optimum directly rather than by expanding the
quadratic (which cancels badly when the loss is small).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

_ROWS_PER_BLOCK = 1 << 16  # bounds the float64 temporaries on big data


@dataclass(frozen=True)
class Optimum:
    weights: tuple[float, ...]
    bias: float
    loss: float  # MSE of the optimum on the data it was fitted to
    # the loss as a quadratic in θ = [w, b]: L(θ) = θᵀGθ - 2cᵀθ + s, with A = [X, 1]
    gram: np.ndarray  # G = AᵀA / n
    moment: np.ndarray  # c = Aᵀy / n
    power: float  # s = yᵀy / n

    @property
    def theta(self) -> np.ndarray:
        return np.array([*self.weights, self.bias])

    def losses(self, points: np.ndarray) -> np.ndarray:
        """MSE on the fitted rows at each row of `points` (θ = [w..., b]), in float64, as
        L* + ΔᵀGΔ with Δ = θ - θ*: never below L*, and free of the cancellation that expanding
        θᵀGθ - 2cᵀθ + s suffers near the optimum."""
        delta = np.asarray(points, dtype=np.float64) - self.theta
        return self.loss + np.einsum("ij,jk,ik->i", delta, self.gram, delta)


def gram(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """AᵀA, Aᵀy and yᵀy for A = [X, 1], accumulated in float64 block by block."""
    d = x.shape[1]
    ata = np.zeros((d + 1, d + 1))
    aty = np.zeros(d + 1)
    yty = 0.0
    for start in range(0, len(x), _ROWS_PER_BLOCK):
        block = np.asarray(x[start : start + _ROWS_PER_BLOCK], dtype=np.float64)
        target = np.asarray(y[start : start + _ROWS_PER_BLOCK], dtype=np.float64).reshape(-1)
        a = np.hstack([block, np.ones((len(block), 1))])
        ata += a.T @ a
        aty += a.T @ target
        yty += float(target @ target)
    return ata, aty, yty


def least_squares(x: np.ndarray, y: np.ndarray) -> Optimum:
    """The weights and bias of least MSE; the minimum-norm one when several tie."""
    ata, aty, yty = gram(x, y)
    theta = np.linalg.lstsq(ata, aty, rcond=None)[0]
    weights, bias = theta[:-1], float(theta[-1])
    n = len(x)
    return Optimum(tuple(weights.tolist()), bias, mse(x, y, weights, bias), ata / n, aty / n, yty / n)


def mse(x: np.ndarray, y: np.ndarray, weights, bias: float) -> float:
    """Mean squared error of y ≈ Xw + b, in float64."""
    w = np.asarray(weights, dtype=np.float64).reshape(-1)
    total = 0.0
    for start in range(0, len(x), _ROWS_PER_BLOCK):
        block = np.asarray(x[start : start + _ROWS_PER_BLOCK], dtype=np.float64)
        target = np.asarray(y[start : start + _ROWS_PER_BLOCK], dtype=np.float64).reshape(-1)
        residual = block @ w + bias - target
        total += float(residual @ residual)
    return total / len(x)
