"""Momentum (heavy ball): steps follow a decaying sum of past gradients.

    v ← μ·v + g
    θ ← θ − lr·v

torch.optim.SGD with `momentum=μ` (and no dampening) keeps v = μv + g, not (1−μ)g: so do we.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from ..events import UpdateLine
from .base import AlgorithmSpec, FlatState, StateSlot, UpdateRule, n, p

if TYPE_CHECKING:
    import torch

    from ..config import OptimizerConfig

VELOCITY = StateSlot("velocity", "velocity", "momentum_buffer")


class Momentum(UpdateRule):
    name = "momentum"
    formula = "v ← μ·v + g;   θ ← θ − lr·v"
    state = (VELOCITY,)
    nesterov = False

    def torch_optimizer(self, params: list[torch.Tensor], config: OptimizerConfig, kernels: bool) -> torch.optim.Optimizer:
        import torch

        return torch.optim.SGD(
            params, lr=config.lr, momentum=config.own("momentum"), nesterov=self.nesterov, weight_decay=config.weight_decay, foreach=False
        )

    def scratch_update(
        self, param: torch.Tensor, grad: torch.Tensor, state: dict[str, torch.Tensor], config: OptimizerConfig, lr: float, t: int,
        correct_bias: bool,
    ) -> None:
        velocity = state["velocity"]
        velocity.copy_(config.own("momentum") * velocity + grad)
        param -= lr * velocity

    def fused_update(self, flat: FlatState, config: OptimizerConfig) -> Callable[[], None]:
        theta, grad, velocity, lr = flat.theta, flat.grad, flat.buffers["velocity"], flat.lr
        mu, wd = config.own("momentum"), config.weight_decay

        def update() -> None:
            velocity.mul_(mu).add_(grad.add(theta, alpha=wd) if wd else grad)
            theta.add_(velocity, alpha=-lr())

        return update

    def ledger_lines(
        self, theta: float, g: float, state: dict[str, float], config: OptimizerConfig, lr: float, t: int, correct_bias: bool
    ) -> list[UpdateLine]:
        mu, v = config.own("momentum"), state["velocity"]
        v_new = mu * v + g
        return [
            UpdateLine("v", f"μ·v + g = {n(mu)}·{p(v)} + {p(g)}", v_new),
            UpdateLine("θ", f"θ − lr·v = {n(theta)} − {p(lr)}·{p(v_new)}", theta - lr * v_new),
        ]


ALGORITHMS = (
    AlgorithmSpec(
        name="momentum",
        rule=Momentum(),
        summary="momentum: steps follow a decaying sum of past gradients",
        defaults={"lr": 0.01, "momentum": 0.9, "weight_decay": 0.0},
        batch_size=32,
        epochs=20,
        story={
            "en": "Momentum smooths the steps: it keeps a running sum of past gradients (v) and "
            "moves along it. Directions that agree from step to step build up speed; directions that "
            "flip sign cancel out. Steep, narrow valleys that make plain steps zig-zag are crossed calmly.",
            "zh": "动量法让步子变得平滑：它累积过去梯度的加权和（v），并沿着它前进。"
            "每一步方向一致的分量越走越快，来回变号的分量互相抵消；原本会让普通步子之字形前进的又陡又窄的山谷，"
            "现在可以平稳地穿过。",
        },
    ),
)
