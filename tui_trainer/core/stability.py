"""How fast and how big a step gradient descent can take on this data, from the loss's curvature.

The MSE of a linear model is a quadratic bowl whose Hessian is H = 2AᵀA/n (A = [X, 1]) everywhere.
Plain gradient descent multiplies the error along each eigenvector of H by (1 - lr·λ) per step,
so it converges exactly when lr < 2/λmax, and its best constant rate is at lr = 2/(λmax + λmin).
For momentum on a quadratic (Goh, "Why Momentum Really Works", Distill 2017) the best step size
and momentum are lr = (2/(√λmax + √λmin))² and μ = ((√κ - 1)/(√κ + 1))², κ = λmax/λmin.

numpy only: the app computes this from the form's data before any run.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Stability:
    largest: float  # λmax of the Hessian
    smallest: float  # λmin (0 when two features repeat each other)
    condition_number: float | None  # λmax / λmin; None when λmin is 0
    max_stable_lr: float  # plain full-batch gradient descent diverges above this: 2/λmax
    best_gd_lr: float  # its fastest constant rate: 2/(λmax + λmin)
    momentum_lr: float | None  # the quadratic's optimal momentum method (Goh, Distill 2017)
    momentum: float | None


def stability(gram: np.ndarray) -> Stability:
    """From G = AᵀA/n (the Hessian is 2G)."""
    eigenvalues = np.linalg.eigvalsh(2 * np.asarray(gram, dtype=np.float64))
    largest = float(eigenvalues[-1])
    smallest = max(float(eigenvalues[0]), 0.0)
    if smallest <= largest * 1e-12:  # flat along some direction: no finite condition number
        return Stability(largest, 0.0, None, 2 / largest, 2 / largest, None, None)
    kappa = largest / smallest
    root = math.sqrt(kappa)
    return Stability(
        largest=largest,
        smallest=smallest,
        condition_number=kappa,
        max_stable_lr=2 / largest,
        best_gd_lr=2 / (largest + smallest),
        momentum_lr=(2 / (math.sqrt(largest) + math.sqrt(smallest))) ** 2,
        momentum=((root - 1) / (root + 1)) ** 2,
    )
