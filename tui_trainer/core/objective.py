"""The training objective: the loss a run minimises, and what is known about it in closed form.

Every objective gives the forward loss (the `torch.nn.functional` loss, so autograd records its own
node) and its gradient with respect to the model's output in closed form, which the fused engine
and the Learn view's written-out step use. Some objectives also have an exact optimum, a Hessian
(the curvature: stability limits) and exact level curves (the landscape); callers ask with
`has_closed_form` and say so plainly when there is none.

Mean squared error is the seed's regression loss: for a linear model it is a quadratic bowl, so it
has all three. (Cross-entropy, which has no closed-form optimum, is the next objective.)

No torch at module level: the app asks about the curvature in its own process, which never loads
torch. Functions that need torch import it once per run, never per step.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, ClassVar

import numpy as np

from ..names import Loss
from .reference import Optimum, least_squares
from .stability import Stability, stability_from_singular_values

if TYPE_CHECKING:
    import torch

TorchLoss = Callable[..., "torch.Tensor"]  # (prediction, target, reduction="mean"|"sum") -> loss


class Objective:
    """A loss. The closed-form parts return None when the objective has no closed form."""

    name: ClassVar[Loss]
    formula: ClassVar[str]  # the loss of a batch in symbols, for the Learn view
    output_gradient_formula: ClassVar[str]  # dL/dŷ in symbols
    has_closed_form: ClassVar[bool] = False  # an exact optimum, Hessian and level curves
    # the full-batch loss of a linear model is θᵀGθ − 2cᵀθ + s of A = [X, 1]'s sums G, c, s
    # (core/sufficient.py): the fused engine then steps without reading the rows
    sufficient_statistics: ClassVar[bool] = False

    def torch_loss(self) -> TorchLoss:
        """The loss function autograd differentiates (looked up once per run)."""
        raise NotImplementedError

    def fused_loss_and_output_gradient_(self, output: torch.Tensor, target: torch.Tensor, rows: int | None) -> torch.Tensor:
        """For the fused engine: `output` holds ŷ and is overwritten with dL/dŷ, as the loss's own
        backward computes it (divided by `rows`, or left as a sum when `rows` is None); returns
        the summed loss of these rows, on the device."""
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

    def fused_loss_and_output_gradient_(self, output: torch.Tensor, target: torch.Tensor, rows: int | None) -> torch.Tensor:
        residual = output.sub_(target)  # ŷ − y
        flat = residual.view(-1)
        loss = flat.dot(flat)
        residual.mul_(2.0 if rows is None else 2.0 / rows)  # MSELoss's backward: 2(ŷ − y)/n
        return loss

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


OBJECTIVES: dict[Loss, Objective] = {objective.name: objective for objective in (MeanSquaredError(),)}


def objective_for(loss: Loss | str = Loss.MSE) -> Objective:
    return OBJECTIVES[Loss(loss)]
