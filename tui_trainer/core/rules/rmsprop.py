"""RMSProp (Tieleman & Hinton, 2012): AdaGrad with a decaying mean instead of a sum.

    s ← α·s + (1−α)·g²
    θ ← θ − lr·g / (√s + ε)

torch.optim.RMSprop without momentum or centering.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from ..events import UpdateLine
from .base import AlgorithmSpec, FlatState, StateSlot, UpdateRule, n, p

if TYPE_CHECKING:
    import torch

    from ..config import OptimizerConfig


class RMSProp(UpdateRule):
    name = "rmsprop"
    formula = "s ← α·s + (1−α)·g²;   θ ← θ − lr·g / (√s + ε)"
    state = (StateSlot("mean_sq", "mean g²", "square_avg"),)

    def torch_optimizer(self, params: list[torch.Tensor], config: OptimizerConfig, kernels: bool) -> torch.optim.Optimizer:
        import torch

        return torch.optim.RMSprop(
            params, lr=config.lr, alpha=config.own("alpha"), eps=config.own("eps"), weight_decay=config.weight_decay, foreach=False
        )

    def scratch_update(
        self, param: torch.Tensor, grad: torch.Tensor, state: dict[str, torch.Tensor], config: OptimizerConfig, lr: float, t: int,
        correct_bias: bool,
    ) -> None:
        alpha, mean_sq = config.own("alpha"), state["mean_sq"]
        mean_sq.copy_(alpha * mean_sq + (1 - alpha) * grad * grad)
        param -= lr * grad / (mean_sq.sqrt() + config.own("eps"))

    def fused_update(self, flat: FlatState, config: OptimizerConfig) -> Callable[[], None]:
        theta, grad, mean_sq, lr = flat.theta, flat.grad, flat.buffers["mean_sq"], flat.lr
        alpha, eps, wd = config.own("alpha"), config.own("eps"), config.weight_decay

        def update() -> None:
            decayed = grad.add(theta, alpha=wd) if wd else grad
            mean_sq.mul_(alpha).addcmul_(decayed, decayed, value=1 - alpha)
            theta.addcdiv_(decayed, mean_sq.sqrt().add_(eps), value=-lr())

        return update

    def ledger_lines(
        self, theta: float, g: float, state: dict[str, float], config: OptimizerConfig, lr: float, t: int, correct_bias: bool
    ) -> list[UpdateLine]:
        s, alpha, eps = state["mean_sq"], config.own("alpha"), config.own("eps")
        s_new = alpha * s + (1 - alpha) * g * g
        return [
            UpdateLine("s", f"α·s + (1−α)·g² = {n(alpha)}·{p(s)} + {p(1 - alpha)}·{p(g)}²", s_new),
            UpdateLine(
                "θ", f"θ − lr·g/(√s + ε) = {n(theta)} − {p(lr)}·{p(g)}/({p(s_new**0.5)} + {eps:g})", theta - lr * g / (s_new**0.5 + eps)
            ),
        ]


ALGORITHMS = (
    AlgorithmSpec(
        name="rmsprop",
        rule=RMSProp(),
        summary="RMSProp: like AdaGrad, but squared gradients are averaged, not summed",
        defaults={"lr": 0.01, "alpha": 0.99, "eps": 1e-8, "weight_decay": 0.0},
        batch_size=32,
        epochs=20,
        story={
            "en": "RMSProp fixes AdaGrad's ever-shrinking steps: instead of summing squared "
            "gradients it keeps their decaying average (α weighs the past). The per-parameter scaling "
            "stays, but old gradients are forgotten, so learning never stalls for good.",
            "zh": "RMSProp 解决了 AdaGrad 步长越来越小的问题：它不再累加梯度平方，而是保留其衰减平均（α 表示对过去的权重）。"
            "按参数缩放的好处还在，旧的梯度会被逐渐遗忘，学习不会永远停滞。",
        },
    ),
)
