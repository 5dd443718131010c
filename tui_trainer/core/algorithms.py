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

from .config import Engine, Experiments, Implementation, OptimizerConfig, Rule
from .fused import FusedStepper
from .stepper import STATE_NAMES, Stepper, has_fused_kernels

# torch.optim's names for its state, and the names we show (shared with the scratch rules)
_TORCH_STATE_NAMES = {
    "momentum_buffer": "velocity",
    "sum": "sum_sq",
    "square_avg": "mean_sq",
    "exp_avg": "m",
    "exp_avg_sq": "v",
}


class TorchOptimStepper(Stepper):
    """The update is `optimizer.step()` of a torch.optim optimizer."""

    def __init__(self, model: nn.Linear, config: OptimizerConfig, experiments: Experiments | None = None) -> None:
        super().__init__(model, config, experiments)
        self.optimizer = build_torch_optimizer(self.params, config)

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
        for param in self.params:
            for key, value in self.optimizer.state.get(param, {}).items():
                if key in _TORCH_STATE_NAMES and isinstance(value, torch.Tensor):
                    found.setdefault(_TORCH_STATE_NAMES[key], []).append(value)
        return {name: tensors for name, tensors in found.items() if len(tensors) == len(self.params)}

    def _capture_state(self) -> Any:
        return copy.deepcopy(self.optimizer.state_dict())

    def _restore_state(self, state: Any) -> None:
        # load_state_dict may keep references to what it is given: hand it a copy
        self.optimizer.load_state_dict(copy.deepcopy(state))


def build_torch_optimizer(params: list[torch.Tensor], config: OptimizerConfig) -> torch.optim.Optimizer:
    """torch.optim with its arithmetic pinned: the fused single-kernel Adam and Adagrad where torch
    has them for the device, the single-tensor loop otherwise (what the fused engine matches)."""
    wd, lr = config.weight_decay, config.lr
    fused = {"fused": True} if has_fused_kernels(params[0].device) else {"foreach": False}
    match config.rule:
        case Rule.PLAIN:
            return torch.optim.SGD(params, lr=lr, weight_decay=wd, foreach=False)
        case Rule.MOMENTUM:
            return torch.optim.SGD(params, lr=lr, momentum=config.momentum, weight_decay=wd, foreach=False)
        case Rule.ADAGRAD:
            return torch.optim.Adagrad(params, lr=lr, eps=config.eps, weight_decay=wd, **fused)
        case Rule.RMSPROP:
            return torch.optim.RMSprop(params, lr=lr, alpha=config.alpha, eps=config.eps, weight_decay=wd, foreach=False)
        case Rule.ADAM:
            return torch.optim.Adam(params, lr=lr, betas=(config.beta1, config.beta2), eps=config.eps, weight_decay=wd, **fused)
    raise AssertionError(f"no torch optimizer for {config.rule}")


class ScratchStepper(Stepper):
    """The seed's manual loop: backward fills `.grad`, the rule is written out under no_grad."""

    def __init__(self, model: nn.Linear, config: OptimizerConfig, experiments: Experiments | None = None) -> None:
        super().__init__(model, config, experiments)
        self.t = 0  # steps taken: Adam's bias correction needs it
        self.buffers = {
            name: [torch.zeros_like(p) for p in self.params] for name in STATE_NAMES[config.rule]
        }
        self._update = getattr(self, f"_update_{config.rule.value}")

    def step(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        for param in self.params:  # gradients accumulate in .grad unless zeroed
            if param.grad is not None and not self.experiments.forget_zero_grad:
                param.grad.zero_()
        loss = self.loss_and_gradients(x, y)
        self.t += 1
        with torch.no_grad():
            for index, param in enumerate(self.params):
                grad = param.grad
                if self.config.weight_decay:
                    grad = grad + self.config.weight_decay * param
                self._update(index, param, grad)
        return loss

    # each rule updates one parameter in place; the formulas are the ones the seed's notes show

    def _update_plain(self, i: int, param: torch.Tensor, grad: torch.Tensor) -> None:
        param -= self._lr * grad

    def _update_momentum(self, i: int, param: torch.Tensor, grad: torch.Tensor) -> None:
        velocity = self.buffers["velocity"][i]
        velocity.copy_(self.config.momentum * velocity + grad)
        param -= self._lr * velocity

    def _update_adagrad(self, i: int, param: torch.Tensor, grad: torch.Tensor) -> None:
        sum_sq = self.buffers["sum_sq"][i]
        sum_sq += grad * grad
        param -= self._lr * grad / (sum_sq.sqrt() + self.config.eps)

    def _update_rmsprop(self, i: int, param: torch.Tensor, grad: torch.Tensor) -> None:
        alpha = self.config.alpha
        mean_sq = self.buffers["mean_sq"][i]
        mean_sq.copy_(alpha * mean_sq + (1 - alpha) * grad * grad)
        param -= self._lr * grad / (mean_sq.sqrt() + self.config.eps)

    def _update_adam(self, i: int, param: torch.Tensor, grad: torch.Tensor) -> None:
        beta1, beta2 = self.config.beta1, self.config.beta2
        m, v = self.buffers["m"][i], self.buffers["v"][i]
        m.copy_(beta1 * m + (1 - beta1) * grad)
        v.copy_(beta2 * v + (1 - beta2) * grad * grad)
        if self.experiments.no_bias_correction:  # m and v start at 0 and stay small for a while
            m_hat, v_hat = m, v
        else:
            m_hat = m / (1 - beta1**self.t)
            v_hat = v / (1 - beta2**self.t)
        param -= self._lr * m_hat / (v_hat.sqrt() + self.config.eps)

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
    model: nn.Linear, config: OptimizerConfig, engine: Engine = Engine.AUTOGRAD, experiments: Experiments | None = None
) -> Stepper:
    if engine is Engine.FUSED:
        return FusedStepper(model, config)
    if config.implementation is Implementation.SCRATCH:
        return ScratchStepper(model, config, experiments)
    return TorchOptimStepper(model, config, experiments)
