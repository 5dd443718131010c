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

ILL_CONDITIONED = 1e6  # κ past which gradient descent's progress along λmin is hopelessly slow


@dataclass(frozen=True)
class Stability:
    largest: float  # λmax of the Hessian
    smallest: float  # λmin (0 when two features repeat each other)
    condition_number: float | None  # λmax / λmin; None when λmin is 0
    max_stable_lr: float  # plain full-batch gradient descent diverges above this: 2/λmax
    best_gd_lr: float  # its fastest constant rate: 2/(λmax + λmin)
    momentum_lr: float | None  # the quadratic's optimal momentum method (Goh, Distill 2017)
    momentum: float | None

    @property
    def ill_conditioned(self) -> bool:
        """So stretched a bowl that even at its best lr gradient descent needs millions of steps
        along the flattest direction (and float32 barely resolves it): scale the features."""
        return self.condition_number is None or self.condition_number > ILL_CONDITIONED

    def conditioning(self) -> str:
        return conditioning(self.condition_number)


def conditioning(condition_number: float | None) -> str:
    """The condition number in words, for people: where it is extreme, what to do about it."""
    if condition_number is None:
        return "flat: two features repeat each other (λmin = 0)"
    if condition_number > ILL_CONDITIONED:
        return f"ill-conditioned (κ = {condition_number:.3g}): gradient descent crawls; standardize the features"
    return f"well-conditioned (κ = {condition_number:.3g})"


def stability(gram: np.ndarray) -> Stability:
    """From G = AᵀA/n (the Hessian is 2G). Its eigenvalues are only good to about 1e-16·λmax, so a
    direction 1e12 times flatter than the steepest counts as flat."""
    eigenvalues = np.linalg.eigvalsh(2 * np.asarray(gram, dtype=np.float64))
    return from_eigenvalues(float(eigenvalues[-1]), float(eigenvalues[0]), resolution=1e-12)


def stability_from_singular_values(singular_values: np.ndarray, rows: int) -> Stability:
    """From the singular values σ of A = [X, 1] (the Hessian 2AᵀA/n has eigenvalues 2σ²/n). These
    are good to about 1e-16·σmax, so λ ratios down to ~1e-26 are real: NIST's Longley table, with
    κ ≈ 2e19, is ill-conditioned, not flat."""
    sigma = np.sort(np.asarray(singular_values, dtype=np.float64))
    return from_eigenvalues(2 * float(sigma[-1]) ** 2 / rows, 2 * float(sigma[0]) ** 2 / rows, resolution=1e-26)


def from_eigenvalues(largest: float, smallest: float, resolution: float) -> Stability:
    """From the Hessian's extreme eigenvalues; a λmin within `resolution`·λmax of 0 counts as flat."""
    smallest = max(smallest, 0.0)
    if smallest <= largest * resolution:  # flat along some direction: no finite condition number
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
