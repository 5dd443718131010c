"""The training objective: the loss a run minimises, and what is known about it in closed form.

Every objective gives the forward loss (the `torch.nn.functional` loss, so autograd records its own
node) and its gradient with respect to the model's output in closed form, which the fused engine
and the Learn view's written-out step use. Some objectives also have an exact optimum, a Hessian
(the curvature: stability limits) and exact level curves (the landscape); callers ask with
`has_closed_form` and say so plainly when there is none.

Mean squared error is the seed's regression loss: for a linear model it is a quadratic bowl, so it
has all three. Cross-entropy, the seed's classification loss, has none: its reference is found
numerically (core/softmax_reference.py), and `reference` gives either kind.

No torch at module level: the app asks about the curvature in its own process, which never loads
torch. Functions that need torch import it once per run, never per step.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, ClassVar, Protocol

import numpy as np

from ..names import Loss
from .reference import Optimum, least_squares
from .softmax_reference import ClassifierOptimum, minimum
from .stability import Stability, stability_from_singular_values
from .step_constants import StepConstants

if TYPE_CHECKING:
    import torch

TorchLoss = Callable[..., "torch.Tensor"]  # (prediction, target, reduction="mean"|"sum") -> loss
# (ŷ, target, rows) -> (loss, g, scale), dL/dŷ = scale·g: the fused engine's loss (Objective.fused_loss)
FusedLoss = Callable[["torch.Tensor", "torch.Tensor", "int | None"], "tuple[torch.Tensor, torch.Tensor, float]"]


class Reference(Protocol):
    """What every run is measured against: the best loss on the training rows (for a separable
    classification, its infimum 0), where it lies when it is reached, and the loss anywhere."""

    @property
    def loss(self) -> float: ...

    @property
    def power(self) -> float: ...  # the loss's scale, for what float32 can resolve near the optimum

    def losses(self, points: np.ndarray) -> np.ndarray: ...  # the training loss at each θ


class Objective:
    """A loss. The closed-form parts return None when the objective has no closed form."""

    name: ClassVar[Loss]
    formula: ClassVar[str]  # the loss of a batch in symbols, for the Learn view
    output_gradient_formula: ClassVar[str]  # dL/dŷ in symbols
    has_closed_form: ClassVar[bool] = False  # an exact optimum, Hessian and level curves
    classifies: ClassVar[bool] = False  # targets are class indices, one output per class
    # the full-batch loss of a linear model is θᵀGθ − 2cᵀθ + s of A = [X, 1]'s sums G, c, s
    # (core/sufficient.py): the fused engine then steps without reading the rows
    sufficient_statistics: ClassVar[bool] = False

    def torch_loss(self) -> TorchLoss:
        """The loss function autograd differentiates (looked up once per run)."""
        raise NotImplementedError

    def fused_loss(self) -> FusedLoss:
        """For the fused engine, once per run: a function of ŷ, the targets and `rows` giving, on
        the device, the loss of these rows (their mean when `rows` is given, else their sum), and
        its gradient dL/dŷ as `scale` times a tensor: a scale of 1 promises the tensor is exactly
        what the loss's own backward computes; another scale is folded into the weight and bias
        products (one kernel fewer than scaling first). A regression's may overwrite ŷ (the
        gradient may live in it); a classifier's must not, as the step's right rows are counted
        from its logits later (Stepper.count_correct)."""
        raise NotImplementedError

    def output_gradient(self, prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """dL/dŷ of the batch mean, in whatever precision the inputs have (the ledger's float64)."""
        raise NotImplementedError

    def batch_loss(self, prediction: torch.Tensor, target: torch.Tensor) -> float:
        """The batch's mean loss, computed by hand (the ledger's check on the reported loss)."""
        raise NotImplementedError

    def optimum(self, x: np.ndarray, y: np.ndarray) -> Optimum | None:
        """The exact minimiser on these rows, or None."""
        return None

    def curvature(self, x: np.ndarray, y: np.ndarray, optimum: Optimum | None = None) -> Stability | None:
        """The Hessian's extremes and the step-size limits they imply, or None."""
        return None

    def scratch_loss(self) -> TorchLoss:
        """The loss as the hand-written implementation computes it: the seed writes it out."""
        return self.torch_loss()

    def reference(self, x: np.ndarray, y: np.ndarray, outputs: int, weight_decay: float) -> tuple[Reference, Stability | None]:
        """The best loss on these rows and the curvature there (None where it has none)."""
        raise NotImplementedError


class MeanSquaredError(Objective):
    """L = mean((ŷ − y)²), nn.MSELoss: a quadratic bowl in θ = [w, b] for a linear model."""

    name = Loss.MSE
    formula = "mean((ŷ − y)²)"
    output_gradient_formula = "2/n·(ŷ − y)"
    has_closed_form = True
    sufficient_statistics = True

    def torch_loss(self) -> TorchLoss:
        from torch.nn import functional

        return functional.mse_loss

    def fused_loss(self) -> FusedLoss:
        constants = StepConstants()

        def squared_error(output: torch.Tensor, target: torch.Tensor, rows: int | None) -> tuple[torch.Tensor, torch.Tensor, float]:
            residual = output.sub_(target)  # ŷ − y
            flat = residual.view(-1)
            loss = flat.dot(flat)
            if rows is None:
                return loss, residual.mul_(constants.scalar(output, 2.0)), 1.0
            residual.mul_(constants.scalar(output, 2.0 / rows))  # MSELoss's backward: 2(ŷ − y)/n
            return loss.div_(constants.scalar(loss, rows)), residual, 1.0

        return squared_error

    def output_gradient(self, prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return 2 / len(target) * (prediction - target)

    def batch_loss(self, prediction: torch.Tensor, target: torch.Tensor) -> float:
        residual = prediction - target
        return float((residual * residual).mean())

    def optimum(self, x: np.ndarray, y: np.ndarray) -> Optimum:
        return least_squares(x, y)

    def curvature(self, x: np.ndarray, y: np.ndarray, optimum: Optimum | None = None) -> Stability:
        """From the Hessian 2AᵀA/n, the same at every θ (A = [X, 1]), by A's singular values."""
        optimum = optimum or least_squares(x, y)
        return stability_from_singular_values(optimum.singular_values, len(x))

    def reference(self, x: np.ndarray, y: np.ndarray, outputs: int, weight_decay: float) -> tuple[Reference, Stability | None]:
        optimum = self.optimum(x, y)
        return optimum, self.curvature(x, y, optimum)


class CrossEntropy(Objective):
    """L = mean(−log softmax(z)_y), nn.CrossEntropyLoss, for logits z = Wx + b, one per class.

    Convex but not quadratic: no closed-form optimum, a Hessian that changes with θ. Its output
    gradient is softmax(z) − onehot(y), over n.
    """

    name = Loss.CROSS_ENTROPY
    formula = "mean(−log softmax(z)_y)"
    output_gradient_formula = "(softmax(z) − onehot(y))/n"
    has_closed_form = False
    classifies = True

    def torch_loss(self) -> TorchLoss:
        from torch.nn import functional

        return functional.cross_entropy

    def scratch_loss(self) -> TorchLoss:
        return hand_cross_entropy

    def fused_loss(self) -> FusedLoss:
        from torch.nn.functional import nll_loss

        constants = StepConstants()

        # the fewest kernels, as a small batch's step costs what it launches, not its arithmetic:
        # torch's own log-softmax, the loss read off it by nll_loss (the mean: no division after),
        # then exp (the softmax) and one scatter that subtracts the one-hot in place; the 1/n is
        # left to the products
        def cross_entropy(output: torch.Tensor, target: torch.Tensor, rows: int | None) -> tuple[torch.Tensor, torch.Tensor, float]:
            log_probabilities = output.log_softmax(1)
            loss = nll_loss(log_probabilities, target, reduction="sum" if rows is None else "mean")
            gradient = log_probabilities.exp_()
            gradient.scatter_add_(1, target.view(-1, 1), constants.full(output, (target.shape[0], 1), -1.0))
            return loss, gradient, 1.0 if rows is None else 1.0 / rows

        return cross_entropy

    def output_gradient(self, prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        shifted = prediction - prediction.amax(1, keepdim=True)
        probabilities = shifted.exp() / shifted.exp().sum(1, keepdim=True)
        onehot = probabilities.new_zeros(probabilities.shape).scatter_(1, target.view(-1, 1), 1.0)
        return (probabilities - onehot) / len(target)

    def batch_loss(self, prediction: torch.Tensor, target: torch.Tensor) -> float:
        return float(hand_cross_entropy(prediction, target))

    def reference(self, x: np.ndarray, y: np.ndarray, outputs: int, weight_decay: float) -> tuple[Reference, Stability | None]:
        found: ClassifierOptimum = minimum(x, y, outputs, weight_decay)
        return found, found.stability()


def hand_cross_entropy(logits: torch.Tensor, target: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
    """Cross-entropy written out as the seed writes MSE: softmax by hand (shifted by the row's
    largest logit, so exp never overflows), then −log of each row's own class."""
    shifted = logits - logits.amax(1, keepdim=True).detach()  # the shift changes no probability
    log_probabilities = shifted - shifted.exp().sum(1, keepdim=True).log()
    picked = -log_probabilities.gather(1, target.view(-1, 1))
    return picked.sum() if reduction == "sum" else picked.mean()


OBJECTIVES: dict[Loss, Objective] = {objective.name: objective for objective in (MeanSquaredError(), CrossEntropy())}


def objective_for(loss: Loss | str = Loss.MSE) -> Objective:
    return OBJECTIVES[Loss(loss)]


def curvature_of(x: np.ndarray, y: np.ndarray, outputs: int, loss: Loss | str, weight_decay: float = 0.0) -> tuple[Stability | None, bool]:
    """What the settings' curvature is before any run: (the Hessian's extremes, separable). MSE's
    is the same everywhere; cross-entropy's is that at its optimum, found numerically, and separable
    classes have no optimum, so no curvature. Raises DataError when the optimum does not fit in
    memory, ArithmeticError when the data overflows float64."""
    objective = objective_for(loss)
    if objective.has_closed_form:
        return objective.curvature(x, y), False
    reference, found = objective.reference(x, y, outputs, weight_decay)
    return found, bool(getattr(reference, "separable", False))
