"""The closed-form answer gradient descent is chasing: the least-squares optimum of the training data.

For MSE on a linear model the loss is a quadratic bowl, so its minimum has a closed form. Solving
the normal equations (AᵀA)θ = Aᵀy would square the data's condition number: on NIST's Longley table
(κ(A) ≈ 5e9) that loses every digit and lands at 2.7× the true minimum. So we centre the columns
(which takes the intercept's large share of the ill-conditioning away) and factor the centred data
itself, [X − x̄, y − ȳ] = QR, streamed a block of rows at a time in float64, which never copies the
data. The small triangle R gives the weights (by SVD: the minimum-norm weights when features repeat),
the Gram matrix the landscape needs, and the singular values of A = [X, 1] the curvature needs.
The loss at the optimum is then measured directly rather than by expanding the quadratic (which
cancels badly when the loss is small).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

import numpy as np

from .files import check_memory

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
    # singular values of A = [X, 1], largest first: the Hessian 2G has eigenvalues 2σ²/n, found
    # this way to a relative accuracy that eigenvalues of G itself cannot reach
    singular_values: np.ndarray

    @property
    def theta(self) -> np.ndarray:
        return np.array([*self.weights, self.bias])

    def losses(self, points: np.ndarray) -> np.ndarray:
        """MSE on the fitted rows at each row of `points` (θ = [w..., b]), in float64, as
        L* + ΔᵀGΔ with Δ = θ - θ*: never below L*, and free of the cancellation that expanding
        θᵀGθ - 2cᵀθ + s suffers near the optimum."""
        delta = np.asarray(points, dtype=np.float64) - self.theta
        return np.asarray(self.loss + np.einsum("ij,jk,ik->i", delta, self.gram, delta), dtype=np.float64)


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
    """The weights and bias of least MSE; the minimum-norm weights when several tie."""
    n, d = x.shape
    # the triangle, its copy beside a block, and LAPACK's work: a few (d+1)² float64 matrices
    check_memory(4 * (d + 1) ** 2 * 8 + 2 * min(n, _ROWS_PER_BLOCK) * (d + 1) * 8, f"the exact optimum of {d:,} features")
    x_mean, y_mean = _column_means(x, y)
    r = np.zeros((0, d + 1))
    for start in range(0, n, _ROWS_PER_BLOCK):
        block = np.asarray(x[start : start + _ROWS_PER_BLOCK], dtype=np.float64) - x_mean
        target = np.asarray(y[start : start + _ROWS_PER_BLOCK], dtype=np.float64).reshape(-1, 1) - y_mean
        # numpy's stubs type every mode's result as QRResult; mode "r" returns R alone
        r = cast(np.ndarray, np.linalg.qr(np.vstack([r, np.hstack([block, target])]), mode="r"))
    r = np.vstack([r, np.zeros((d + 1 - len(r), d + 1))])  # fewer rows than columns: pad the triangle
    r_x, r_xy, r_yy = r[:d, :d], r[:d, d], r[d, d]
    weights = np.linalg.lstsq(r_x, r_xy, rcond=None)[0] if d else np.zeros(0)
    bias = float(y_mean - x_mean @ weights)
    # an R factor of the uncentred A = [X, 1]: its Gram matrix RᵀR is AᵀA, its singular values A's
    r_a = np.zeros((d + 1, d + 1))
    r_a[:d, :d] = r_x
    r_a[d, :d] = math.sqrt(n) * x_mean
    r_a[d, d] = math.sqrt(n)
    ata = r_a.T @ r_a
    aty = np.append(r_x.T @ r_xy + n * x_mean * y_mean, n * y_mean)
    yty = float(r_xy @ r_xy + r_yy * r_yy + n * y_mean * y_mean)
    singular_values = np.linalg.svd(r_a, compute_uv=False)
    return Optimum(
        tuple(weights.tolist()), bias, mse(x, y, weights, bias), ata / n, aty / n, yty / n, singular_values
    )


def _column_means(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float]:
    """Means of the features and the target, in float64, a block at a time."""
    x_sum, y_sum = np.zeros(x.shape[1]), 0.0
    for start in range(0, len(x), _ROWS_PER_BLOCK):
        x_sum += np.asarray(x[start : start + _ROWS_PER_BLOCK], dtype=np.float64).sum(axis=0)
        y_sum += float(np.asarray(y[start : start + _ROWS_PER_BLOCK], dtype=np.float64).sum())
    return x_sum / len(x), y_sum / len(x)


def mse(x: np.ndarray, y: np.ndarray, weights: Sequence[float] | np.ndarray, bias: float) -> float:
    """Mean squared error of y ≈ Xw + b, in float64."""
    w = np.asarray(weights, dtype=np.float64).reshape(-1)
    total = 0.0
    for start in range(0, len(x), _ROWS_PER_BLOCK):
        block = np.asarray(x[start : start + _ROWS_PER_BLOCK], dtype=np.float64)
        target = np.asarray(y[start : start + _ROWS_PER_BLOCK], dtype=np.float64).reshape(-1)
        residual = block @ w + bias - target
        total += float(residual @ residual)
    return total / len(x)
