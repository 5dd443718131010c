"""One training step of each update rule, twice over: through torch.optim, and written out by hand.

Both implementations share the step the seed teaches — zero the gradients, predict, compute the MSE
loss, `loss.backward()`, update — and differ only in who performs the update. The hand-written
rules follow torch's formulation exactly (e.g. momentum keeps `v = μv + g`, not `(1-μ)g`), so the two
give the same parameters; tests hold them to that.
"""

from __future__ import annotations

import copy
from typing import Any

import torch
from torch import nn

from ..names import Engine, Implementation
from .config import Experiments, OptimizerConfig
from .objective import Objective, objective_for

# rows of a big batch processed together, by both engines alike (so their sums agree);
# measured best for autograd, and within a few percent of best for fused
BLOCK_ROWS = 1 << 17

class Stepper:
    """Takes one optimisation step of a linear model on a batch; holds the optimizer's state."""

    def __init__(
        self, model: nn.Linear, config: OptimizerConfig, experiments: Experiments | None = None, objective: Objective | None = None
    ) -> None:
        self.model = model
        self.config = config
        self.experiments = experiments or Experiments()
        self.objective = objective or objective_for()
        self._loss = self.objective.torch_loss()
        self.params = [model.weight, model.bias]
        self._lr = config.lr
        self.last_loss: torch.Tensor | None = None  # kept (with its graph) for the inspector
        self.last_eval: torch.Tensor | None = None  # the last evaluation's loss: a grad_fn without no_grad
        if self.experiments.train_in_eval_mode:
            model.eval()  # for nn.Linear this changes nothing: the experiment shows exactly that

    def prepare(self, x: torch.Tensor, y: torch.Tensor, column_major: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
        """The rows in the layout `step` and `evaluate` take. Column-major storage (each feature
        contiguous) makes the products of a big full batch stream through memory."""
        return (x.t().contiguous().t() if column_major else x), y

    def loss_and_gradients(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Forward, loss, backward: the gradients land in .grad; returns the loss.

        A big batch goes through in blocks of rows, each block's backward adding its share to
        .grad (gradients accumulate, as the seed warns): the same full-batch gradient, but every
        block is still in the cache when backward reads it again.
        """
        rows = len(x)
        if rows <= BLOCK_ROWS:
            loss = self._loss(self.model(x), y)
            loss.backward()
            self.last_loss = loss
            return loss.detach()
        total = None
        for start in range(0, rows, BLOCK_ROWS):
            part = self._loss(self.model(x[start : start + BLOCK_ROWS]), y[start : start + BLOCK_ROWS], reduction="sum")
            part.backward()
            total = part.detach() if total is None else total + part.detach()
        with torch.no_grad():  # the sums become means once, not once per block
            for param in self.params:
                param.grad.mul_(1 / rows)
        self.last_loss = part
        return total / rows

    def step(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """One step; returns the batch loss before the update, detached (no host sync)."""
        raise NotImplementedError

    def evaluate(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """The loss on prepared rows, in eval mode, recording no graph (as the seed evaluates)."""
        training = self.model.training
        self.model.eval()
        if self.experiments.eval_without_no_grad:  # the graph is recorded; the number is the same
            loss = self._loss(self.model(x), y)
        else:
            with torch.no_grad():
                loss = self._loss(self.model(x), y)
        self.model.train(training)
        self.last_eval = loss
        return loss.detach()

    @property
    def lr(self) -> float:
        return self._lr

    @lr.setter
    def lr(self, value: float) -> None:
        self._lr = value

    def state(self) -> dict[str, list[torch.Tensor]]:
        """The optimizer's state by display name, one tensor per parameter (weight, bias)."""
        raise NotImplementedError

    def gradient_used(self) -> list[float]:
        """The gradient the last update used, flat like θ (without weight decay)."""
        return [v for p in self.params for v in p.grad.detach().reshape(-1).tolist()]

    def flat_parameters(self) -> torch.Tensor:
        """A copy of [w..., b], on the device."""
        return torch.cat([p.detach().reshape(-1) for p in self.params])

    def capture(self) -> Any:
        """Everything needed to come back to this exact point: parameters, gradients, state, lr."""
        with torch.no_grad():
            params = [p.detach().clone() for p in self.params]
            grads = [None if p.grad is None else p.grad.clone() for p in self.params]
        return params, grads, self._capture_state(), self.lr

    def restore(self, saved: Any) -> None:
        params, grads, state, lr = saved
        self.lr = lr  # a schedule may have moved it inside the chunk being undone
        with torch.no_grad():
            for param, value, grad in zip(self.params, params, grads):
                param.copy_(value)
                if grad is None:
                    param.grad = None
                elif param.grad is not None:
                    param.grad.copy_(grad)  # in place: a .grad may be a view the stepper writes into
                else:
                    param.grad = grad.clone()
        self._restore_state(state)

    def state_tensors(self) -> list[torch.Tensor]:
        """Every tensor of the optimizer's state (checked for finiteness with the parameters)."""
        return [tensor for tensors in self.state().values() for tensor in tensors]

    def _capture_state(self) -> Any:
        raise NotImplementedError

    def _restore_state(self, state: Any) -> None:
        raise NotImplementedError


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
        return self.optimizer.param_groups[0]["lr"]

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


def has_fused_kernels(device: torch.device) -> bool:
    """torch.optim's fused Adam and Adagrad run on CPU and CUDA float32."""
    return device.type in ("cpu", "cuda")


class ScratchStepper(Stepper):
    """The seed's manual loop: backward fills `.grad`, the rule is written out under no_grad."""

    def __init__(
        self, model: nn.Linear, config: OptimizerConfig, experiments: Experiments | None = None, objective: Objective | None = None
    ) -> None:
        super().__init__(model, config, experiments, objective)
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
                grad = param.grad + wd * param if coupled else param.grad
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
                for target, value in zip(self.buffers[name], tensors):
                    target.copy_(value)


def build_stepper(
    model: nn.Linear, config: OptimizerConfig, engine: Engine = Engine.AUTOGRAD, experiments: Experiments | None = None,
    objective: Objective | None = None,
) -> Stepper:
    if engine is Engine.FUSED:
        from .fused import FusedStepper

        return FusedStepper(model, config, objective)
    if config.implementation is Implementation.SCRATCH:
        return ScratchStepper(model, config, experiments, objective)
    return TorchOptimStepper(model, config, experiments, objective)
