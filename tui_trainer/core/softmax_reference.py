"""The reference a classifier is measured against: the minimum of its cross-entropy, found numerically.

Cross-entropy of a linear model has no closed form, but it is convex and smooth, so Newton's method
in float64 finds its minimum to a gradient norm of about 1e-9 in a few dozen steps. The objective is
the training one, weight decay included as torch's optimizers apply it: the gradient gains λθ over
every parameter, bias included, which is the gradient of λ/2·‖θ‖².

Two facts of softmax shape the answer:
- Adding the same vector to every class's row of [W, b] changes no probability: the loss is flat along
  those directions, and gradient descent never moves along them (a gradient's rows sum to zero). So
  the optimum reported is the one whose rows sum to zero, the curvature is that of the other
  directions, and without weight decay the Hessian is inverted in the least-squares sense.
- When the classes are linearly separable (and there is no weight decay) the infimum is 0 and no
  finite θ reaches it: longer and longer θ only shrink the loss. The moment some θ classifies every
  training row right, separability is proven, and the answer says so instead of running off.

θ is laid out as the model flattens it: W row by row (class by class), then the k biases.
numpy only, no torch: nothing here runs on the training path.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .files import check_memory
from .stability import Stability, from_eigenvalues

_ROWS_PER_BLOCK = 1 << 15
GRADIENT_TOLERANCE = 1e-9  # the gradient's norm at which the minimum counts as found
MAX_NEWTON_STEPS = 200


@dataclass(frozen=True)
class ClassifierOptimum:
    """The minimum of the training cross-entropy, or (separable, no weight decay) its infimum 0."""

    classes: int
    separable: bool
    loss: float  # 0 when separable
    theta: np.ndarray | None  # float64 [W row by row, b]; None when separable
    x: np.ndarray  # the training rows it was found on (kept by reference, not copied)
    y: np.ndarray
    weight_decay: float
    eigenvalues: np.ndarray | None  # the Hessian's at the optimum, across the directions that matter
    gradient_norm: float  # what Newton's method reached
    power: float = 1.0  # the loss's natural scale for "within float32's resolution": log k is near 1

    @property
    def weights(self) -> tuple[float, ...] | None:
        if self.theta is None:
            return None
        return tuple(self.theta[: self.classes * self.x.shape[1]].tolist())

    @property
    def bias(self) -> tuple[float, ...] | None:
        if self.theta is None:
            return None
        return tuple(self.theta[self.classes * self.x.shape[1] :].tolist())

    def losses(self, points: np.ndarray) -> np.ndarray:
        """The training objective at each row of `points` (θ as laid out above), in float64."""
        return np.array([objective(self.x, self.y, self.classes, point, self.weight_decay)[0] for point in np.atleast_2d(points)])

    def accuracies(self, points: np.ndarray) -> np.ndarray:
        """The share of training rows each θ classifies right."""
        return np.array([accuracy(self.x, self.y, self.classes, point) for point in np.atleast_2d(points)])

    def stability(self) -> Stability | None:
        if self.eigenvalues is None:
            return None
        return from_eigenvalues(float(self.eigenvalues[-1]), float(self.eigenvalues[0]), resolution=1e-12)


def _split(theta: np.ndarray, classes: int, dims: int) -> tuple[np.ndarray, np.ndarray]:
    return theta[: classes * dims].reshape(classes, dims), theta[classes * dims :]


def _blocks(x: np.ndarray, y: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    return [
        (np.asarray(x[start : start + _ROWS_PER_BLOCK], dtype=np.float64), np.asarray(y[start : start + _ROWS_PER_BLOCK]))
        for start in range(0, len(x), _ROWS_PER_BLOCK)
    ]


def _probabilities(block: np.ndarray, weights: np.ndarray, bias: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Softmax of the logits, each row's log-sum-exp (computed stably), and the logits."""
    logits = block @ weights.T + bias
    top = logits.max(axis=1, keepdims=True)
    exp = np.exp(logits - top)
    total = exp.sum(axis=1, keepdims=True)
    return exp / total, (np.log(total) + top).reshape(-1), logits


def objective(x: np.ndarray, y: np.ndarray, classes: int, theta: np.ndarray, weight_decay: float) -> tuple[float, np.ndarray]:
    """The mean cross-entropy plus λ/2·‖θ‖², and its gradient."""
    n, d = x.shape
    weights, bias = _split(theta, classes, d)
    loss, grad_w, grad_b = 0.0, np.zeros((classes, d)), np.zeros(classes)
    for block, target in _blocks(x, y):
        probabilities, lse, logits = _probabilities(block, weights, bias)
        rows = np.arange(len(block))
        loss += float((lse - logits[rows, target]).sum())
        probabilities[rows, target] -= 1.0
        grad_w += probabilities.T @ block
        grad_b += probabilities.sum(axis=0)
    gradient = np.concatenate([grad_w.reshape(-1), grad_b]) / n + weight_decay * theta
    return loss / n + weight_decay / 2 * float(theta @ theta), gradient


def accuracy(x: np.ndarray, y: np.ndarray, classes: int, theta: np.ndarray) -> float:
    weights, bias = _split(np.asarray(theta, dtype=np.float64), classes, x.shape[1])
    right = sum(int(((block @ weights.T + bias).argmax(axis=1) == target).sum()) for block, target in _blocks(x, y))
    return right / max(len(x), 1)


def _all_right_strictly(x: np.ndarray, y: np.ndarray, classes: int, theta: np.ndarray) -> bool:
    """Every row's own logit above every other: proof that the classes are linearly separable."""
    weights, bias = _split(theta, classes, x.shape[1])
    for block, target in _blocks(x, y):
        logits = block @ weights.T + bias
        rows = np.arange(len(block))
        own = logits[rows, target].copy()
        logits[rows, target] = -np.inf
        if not np.all(own > logits.max(axis=1)):
            return False
    return True


def hessian(x: np.ndarray, y: np.ndarray, classes: int, theta: np.ndarray, weight_decay: float) -> np.ndarray:
    """∂²L/∂θ² of the mean cross-entropy plus λ/2·‖θ‖², in θ's layout."""
    n, d = x.shape
    k, width = classes, d + 1
    weights, bias = _split(theta, classes, d)
    # H = Σᵢ (diag(pᵢ) − pᵢpᵢᵀ) ⊗ aᵢaᵢᵀ: the diagonal blocks Aᵀdiag(p_j)A, less BᵀB, where row i of
    # B is pᵢ ⊗ aᵢ (one matrix product instead of k² of them)
    by_class = np.zeros((k * width, k * width))
    for block, _ in _blocks(x, y):
        probabilities = _probabilities(block, weights, bias)[0]
        a = np.hstack([block, np.ones((len(block), 1))])
        for j in range(k):
            by_class[j * width : (j + 1) * width, j * width : (j + 1) * width] += (a * probabilities[:, j : j + 1]).T @ a
        b = (probabilities[:, :, None] * a[:, None, :]).reshape(len(block), k * width)
        by_class -= b.T @ b
    # from [class, column] order to θ's: the k·d weights first, then the k biases
    order = [j * width + c for j in range(k) for c in range(d)] + [j * width + d for j in range(k)]
    full: np.ndarray = by_class[np.ix_(order, order)] / n
    return full + weight_decay * np.eye(k * width)


def _class_mean_free_basis(classes: int, dims: int) -> np.ndarray:
    """An orthonormal basis of the θ whose rows of [W, b] sum to zero over the classes."""
    centred = np.eye(classes) - 1.0 / classes
    basis = np.linalg.svd(centred)[0][:, : classes - 1]  # the k − 1 directions orthogonal to all-ones
    width = dims + 1
    per_column = np.kron(basis, np.eye(width))  # in [class, column] order
    order = [j * width + c for j in range(classes) for c in range(dims)] + [j * width + dims for j in range(classes)]
    return per_column[order, :]


def _centred(theta: np.ndarray, classes: int, dims: int) -> np.ndarray:
    """θ with its rows made to sum to zero: the same probabilities."""
    weights, bias = _split(theta, classes, dims)
    return np.concatenate([(weights - weights.mean(axis=0)).reshape(-1), bias - bias.mean()])


def minimum(x: np.ndarray, y: np.ndarray, classes: int, weight_decay: float = 0.0) -> ClassifierOptimum:
    """Newton's method with a backtracking line search, from θ = 0."""
    n, d = x.shape
    size = classes * (d + 1)
    needed = 6 * size * size * 8 + 4 * min(n, _ROWS_PER_BLOCK) * max(classes, d + 1) * 8
    check_memory(needed, f"the optimum of {d:,} features × {classes} classes")
    y = np.asarray(y).reshape(-1).astype(np.int64)
    basis = None if weight_decay > 0 else _class_mean_free_basis(classes, d)
    theta = np.zeros(size)
    loss, gradient = objective(x, y, classes, theta, weight_decay)
    for _ in range(MAX_NEWTON_STEPS):
        if weight_decay == 0 and _all_right_strictly(x, y, classes, theta):
            return ClassifierOptimum(classes, True, 0.0, None, x, y, 0.0, None, float(np.linalg.norm(gradient)))
        if np.linalg.norm(gradient) <= GRADIENT_TOLERANCE:
            break
        h = hessian(x, y, classes, theta, weight_decay)
        if basis is None:
            step = np.linalg.solve(h, gradient)
        else:  # solve within the directions that change the loss
            reduced = np.linalg.lstsq(basis.T @ h @ basis, basis.T @ gradient, rcond=None)[0]
            step = basis @ reduced
        scale = 1.0
        while scale > 1e-12:
            candidate = theta - scale * step
            new_loss, new_gradient = objective(x, y, classes, candidate, weight_decay)
            if new_loss <= loss - 1e-4 * scale * float(gradient @ step) or (
                new_loss <= loss and np.linalg.norm(new_gradient) < np.linalg.norm(gradient)
            ):
                break
            scale /= 2
        else:
            break  # no step helps: as close as float64 gets
        theta, loss, gradient = candidate, new_loss, new_gradient
    if weight_decay == 0:
        theta = _centred(theta, classes, d)
    h = hessian(x, y, classes, theta, weight_decay)
    if basis is not None:
        h = basis.T @ h @ basis
    eigenvalues = np.linalg.eigvalsh(h)
    if not math.isfinite(loss):
        raise ArithmeticError("the cross-entropy's minimum could not be found: the data overflows float64")
    # with weight decay the optimum is finite either way; an optimum that gets every row right
    # still proves the classes separable
    separable = weight_decay > 0 and _all_right_strictly(x, y, classes, theta)
    return ClassifierOptimum(classes, separable, loss, theta, x, y, weight_decay, eigenvalues, float(np.linalg.norm(gradient)))
