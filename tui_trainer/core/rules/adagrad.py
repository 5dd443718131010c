"""AdaGrad (Duchi et al., 2011): each parameter's step shrinks with its summed squared gradients.

    s ← s + g²
    θ ← θ − lr·g / (√s + ε)

torch.optim.Adagrad without lr decay; its fused kernel where torch has one for the device.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from ..events import UpdateLine
from .base import AlgorithmSpec, FlatState, StateSlot, UpdateRule, n, p, pinned

if TYPE_CHECKING:
    import torch

    from ..config import OptimizerConfig


class AdaGrad(UpdateRule):
    name = "adagrad"
    formula = "s ← s + g²;   θ ← θ − lr·g / (√s + ε)"
    state = (StateSlot("sum_sq", "Σ g²", "sum"),)

    def torch_optimizer(self, params: list[torch.Tensor], config: OptimizerConfig, kernels: bool) -> torch.optim.Optimizer:
        import torch

        return torch.optim.Adagrad(params, lr=config.lr, eps=config.own("eps"), weight_decay=config.weight_decay, **pinned(kernels))

    def scratch_update(
        self, param: torch.Tensor, grad: torch.Tensor, state: dict[str, torch.Tensor], config: OptimizerConfig, lr: float, t: int,
        correct_bias: bool,
    ) -> None:
        sum_sq = state["sum_sq"]
        sum_sq += grad * grad
        param -= lr * grad / (sum_sq.sqrt() + config.own("eps"))

    def fused_update(self, flat: FlatState, config: OptimizerConfig) -> Callable[[], None]:
        import torch

        theta, grad, sum_sq, count, lr = flat.theta, flat.grad, flat.buffers["sum_sq"], flat.step_count, flat.lr
        eps, wd = config.own("eps"), config.weight_decay
        if flat.kernels:
            kernel = torch._fused_adagrad_

            one = count.new_ones(())  # a Python 1 would be wrapped in a new tensor every step

            def fused_kernel() -> None:
                count.add_(one)  # on the device: a graph replay advances it too
                kernel([theta], [grad], [sum_sq], [count], lr=lr(), lr_decay=0.0, weight_decay=wd, eps=eps, maximize=False)

            return fused_kernel

        def single_tensor() -> None:
            decayed = grad.add(theta, alpha=wd) if wd else grad
            sum_sq.addcmul_(decayed, decayed, value=1)
            theta.addcdiv_(decayed, sum_sq.sqrt().add_(eps), value=-lr())

        return single_tensor

    def ledger_lines(
        self, theta: float, g: float, state: dict[str, float], config: OptimizerConfig, lr: float, t: int, correct_bias: bool
    ) -> list[UpdateLine]:
        s, eps = state["sum_sq"], config.own("eps")
        s_new = s + g * g
        return [
            UpdateLine("s", f"s + g² = {n(s)} + {p(g)}²", s_new),
            UpdateLine(
                "θ", f"θ − lr·g/(√s + ε) = {n(theta)} − {p(lr)}·{p(g)}/({p(s_new**0.5)} + {eps:g})", theta - lr * g / (s_new**0.5 + eps)
            ),
        ]


ALGORITHMS = (
    AlgorithmSpec(
        name="adagrad",
        rule=AdaGrad(),
        summary="AdaGrad: each parameter's step shrinks with its summed squared gradients",
        defaults={"lr": 0.5, "eps": 1e-10, "weight_decay": 0.0},
        batch_size=32,
        epochs=20,
        story={
            "en": "AdaGrad gives every parameter its own learning rate: it divides by the square "
            "root of that parameter's summed squared gradients (s). Parameters with big gradients slow "
            "down, rare or small ones keep moving. But s only grows, so in time every step shrinks to nothing.",
            "zh": "AdaGrad 给每个参数各自的学习率：用该参数历次梯度平方和（s）的平方根去除。"
            "梯度大的参数走得慢，梯度小或少见的参数继续前进。但 s 只增不减，久而久之每一步都会缩到几乎为零。",
        },
    ),
)
