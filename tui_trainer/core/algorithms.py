"""One training step of each update rule, twice over: through torch.optim, and written out by hand.

Both implementations share the step the seed teaches — zero the gradients, predict, compute the
loss, `loss.backward()`, update — and differ only in who performs the update: torch.optim, or the
rule's own hand-written update (core/rules), which follows torch's formulation exactly (e.g.
momentum keeps `v = μv + g`, not `(1-μ)g`), so the two give the same parameters; tests hold them
to that.
"""

from __future__ import annotations

import copy
from typing import Any

import torch
from torch import nn

from ..names import Engine, Implementation
from . import sufficient
from .config import Experiments, OptimizerConfig
from .fused import FusedStepper
from .objective import Objective
from .stepper import Stepper, filled_grad, has_fused_kernels


class TorchOptimStepper(Stepper):
    """The update is `optimizer.step()` of a torch.optim optimizer."""

    def __init__(
        self, model: nn.Linear, config: OptimizerConfig, experiments: Experiments | None = None, objective: Objective | None = None
    ) -> None:
        super().__init__(model, config, experiments, objective)
        self.optimizer = config.rule.torch_optimizer(self.params, config, has_fused_kernels(self.params[0].device))

    def step(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        if not self.experiments.forget_zero_grad:
            self.optimizer.zero_grad()
        loss = self.loss_and_gradients(x, y)
        self.optimizer.step()
        return loss

    @property
    def lr(self) -> float:
        lr: float = self.optimizer.param_groups[0]["lr"]  # torch.optim types a param group's values Any
        return lr

    @lr.setter
    def lr(self, value: float) -> None:
        for group in self.optimizer.param_groups:
            group["lr"] = value

    def state(self) -> dict[str, list[torch.Tensor]]:
        found: dict[str, list[torch.Tensor]] = {}
        for slot in self.config.rule.state:  # torch.optim creates its state at the first step
            tensors = [self.optimizer.state.get(param, {}).get(slot.torch_key) for param in self.params]
            if all(isinstance(tensor, torch.Tensor) for tensor in tensors):
                found[slot.name] = tensors
        return found

    def _capture_state(self) -> Any:
        return copy.deepcopy(self.optimizer.state_dict())

    def _restore_state(self, state: Any) -> None:
        # load_state_dict may keep references to what it is given: hand it a copy
        self.optimizer.load_state_dict(copy.deepcopy(state))


class ScratchStepper(Stepper):
    """The seed's manual loop: backward fills `.grad`, the rule is written out under no_grad."""

    def __init__(
        self, model: nn.Linear, config: OptimizerConfig, experiments: Experiments | None = None, objective: Objective | None = None
    ) -> None:
        super().__init__(model, config, experiments, objective)
        self._loss = self.objective.scratch_loss()  # the loss written out, where the objective writes it
        self.t = 0  # steps taken: Adam's bias correction needs it
        self.rule = config.rule
        self.buffers = {name: [torch.zeros_like(p) for p in self.params] for name in self.rule.state_names}
        self.correct_bias = not self.experiments.no_bias_correction

    def step(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        for param in self.params:  # gradients accumulate in .grad unless zeroed
            if param.grad is not None and not self.experiments.forget_zero_grad:
                param.grad.zero_()
        loss = self.loss_and_gradients(x, y)
        self.t += 1
        config, wd = self.config, self.config.weight_decay
        coupled = wd and not self.rule.decoupled_weight_decay  # L2: λθ joins the gradient
        with torch.no_grad():
            for index, param in enumerate(self.params):
                grad = filled_grad(param)
                if coupled:
                    grad = grad + wd * param
                state = {name: tensors[index] for name, tensors in self.buffers.items()}
                self.rule.scratch_update(param, grad, state, config, self._lr, self.t, self.correct_bias)
        return loss

    def state(self) -> dict[str, list[torch.Tensor]]:
        return self.buffers

    def _capture_state(self) -> Any:
        buffers = {name: [t.clone() for t in tensors] for name, tensors in self.buffers.items()}
        return buffers, self.t

    def _restore_state(self, state: Any) -> None:
        buffers, self.t = state
        with torch.no_grad():
            for name, tensors in buffers.items():
                for target, value in zip(self.buffers[name], tensors, strict=True):
                    target.copy_(value)


def build_stepper(
    model: nn.Linear, config: OptimizerConfig, engine: Engine = Engine.AUTOGRAD, experiments: Experiments | None = None,
    objective: Objective | None = None, full_batch: bool = False,
) -> Stepper:
    if engine is Engine.FUSED:
        if sufficient.applies(objective, full_batch, model.weight.device):
            return sufficient.SufficientStepper(model, config, objective)
        return FusedStepper(model, config, objective)
    if config.implementation is Implementation.SCRATCH:
        return ScratchStepper(model, config, experiments, objective)
    return TorchOptimStepper(model, config, experiments, objective)
