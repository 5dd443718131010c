"""Full-batch steps from sufficient statistics: after one pass over the data, no step reads it.

For a loss that is a quadratic in θ = [w, b] (mean squared error of a linear model) the loss and
gradient of the whole training set depend on the rows only through, with A = [X, 1],

    G = AᵀA / n      c = Aᵀy / n      s = yᵀy / n
    L(θ) = θᵀGθ − 2cᵀθ + s            dL/dθ = 2(Gθ − c)

so one pass over the rows (in float64, a block at a time) computes G, c and s, and every step
after it costs O(d²) however many rows there are. The sums are float64, so the loss and the
gradient are exact to float32 rounding; the update itself is the fused engine's, unchanged.

The stepper binds to the first batch it steps on (a full batch is the same tensor every step) and
treats any other rows the fused engine's way, so a validation set is still measured on its rows.
Whether a run may take this path is the objective's answer (`sufficient_statistics`), not a
guess from the algorithm's name.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from .config import OptimizerConfig
from .fused import FusedStepper
from .objective import Objective, objective_for
from .stepper import BLOCK_ROWS

BUFFER_BYTES = 32 << 20  # the float64 copy of one block: at most this much, however wide the data


@dataclass(frozen=True)
class SufficientStatistics:
    """G = AᵀA/n, c = Aᵀy/n and s = yᵀy/n of A = [X, 1], float64, on the rows' device."""

    gram: torch.Tensor  # (d + 1, d + 1)
    moment: torch.Tensor  # (d + 1,)
    power: torch.Tensor  # 0-dim
    rows: int


def sufficient_statistics(x: torch.Tensor, y: torch.Tensor, block_rows: int = BLOCK_ROWS) -> SufficientStatistics:
    """One pass over the rows, `block_rows` at a time: each block is copied, widened to float64,
    into [X, 1, y] (column by column), and one product adds all its sums: [X, 1, y]ᵀ[X, 1, y]
    holds AᵀA, Aᵀy and yᵀy."""
    n, d = x.shape
    wide = torch.float64
    block_rows = max(1, min(block_rows, BUFFER_BYTES // ((d + 2) * 8)))  # wide data: fewer rows a block
    sums = torch.zeros((d + 2, d + 2), dtype=wide, device=x.device)
    # column-major, as a big full batch is stored: each column of a block copies in one run
    buffer = torch.empty((d + 2, min(block_rows, max(n, 1))), dtype=wide, device=x.device).t()
    buffer[:, d] = 1
    for start in range(0, n, block_rows):
        rows = min(block_rows, n - start)
        block = buffer[:rows]
        block[:, :d].copy_(x[start : start + rows])
        block[:, d + 1].copy_(y[start : start + rows].reshape(-1))
        sums.addmm_(block.t(), block)
    scale = 1 / max(n, 1)
    sums.mul_(scale)
    return SufficientStatistics(sums[: d + 1, : d + 1], sums[: d + 1, d + 1], sums[d + 1, d + 1], n)


def applies(objective: Objective | None, full_batch: bool, device: torch.device) -> bool:
    """Whether a fused run can step from sufficient statistics: a full batch, an objective that is
    a quadratic of them, and a device with float64 (MPS has none)."""
    objective = objective or objective_for()
    return full_batch and objective.sufficient_statistics and device.type != "mps"


class SufficientStepper(FusedStepper):
    """The fused engine, taking full-batch steps from G, c and s (see the module's docstring)."""

    def __init__(self, model: nn.Linear, config: OptimizerConfig, objective: Objective | None = None) -> None:
        super().__init__(model, config, objective)
        if not self.objective.sufficient_statistics:
            raise ValueError(f"the {self.objective.name} loss is not a function of sufficient statistics")
        self.rows_read = 0  # rows of data read so far: the one pass, then none
        self._bound: tuple[torch.Tensor, torch.Tensor] | None = None
        self._stats: SufficientStatistics | None = None
        self._theta64 = torch.zeros(len(self.theta), dtype=torch.float64, device=self.theta.device)
        self._half_gradient = torch.zeros_like(self._theta64)

    def _statistics_for(self, x: torch.Tensor, y: torch.Tensor) -> SufficientStatistics | None:
        """The statistics when these are the bound rows (binding the first rows stepped on)."""
        if self._bound is None:
            self._bound = (x, y)
            self._stats = sufficient_statistics(x, y)
            self.rows_read += len(x)
        bound_x, bound_y = self._bound
        return self._stats if x is bound_x and y is bound_y else None

    def _quadratic_loss(self, stats: SufficientStatistics) -> torch.Tensor:
        """L(θ), leaving Gθ − c (half the gradient) in self._half_gradient; float64, on the device."""
        theta = self._theta64.copy_(self.theta)
        half = torch.mv(stats.gram, theta, out=self._half_gradient).sub_(stats.moment)
        # θᵀGθ − 2cᵀθ + s = θ·(Gθ − 2c) + s; rounding may take a perfect fit a hair below 0
        return theta.dot(half - stats.moment).add_(stats.power).clamp_(min=0)

    def gradient(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        stats = self._statistics_for(x, y)
        if stats is None:
            return super().gradient(x, y)
        loss = self._quadratic_loss(stats)
        self.grad.copy_(self._half_gradient).mul_(2)  # rounded to float32 once; doubling is exact
        return loss.to(self.theta.dtype)

    def evaluate(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        stats = self._stats if self._bound is not None and x is self._bound[0] and y is self._bound[1] else None
        if stats is None:
            return super().evaluate(x, y)
        return self._quadratic_loss(stats).to(self.theta.dtype)
