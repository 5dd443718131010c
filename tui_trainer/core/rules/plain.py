"""Plain gradient descent, and the seed's three ways to batch it.

    θ ← θ − lr·g

where g is the gradient of the loss over every training row (batch gradient descent), one random
row (stochastic gradient descent) or a small random batch (mini-batch gradient descent).
torch.optim.SGD without momentum.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from ...names import FULL_BATCH
from ..events import UpdateLine
from .base import AlgorithmSpec, FlatState, UpdateRule, n, p

if TYPE_CHECKING:
    import torch

    from ..config import OptimizerConfig


class Plain(UpdateRule):
    name = "plain"
    formula = "θ ← θ − lr·g"

    def torch_optimizer(self, params: list[torch.Tensor], config: OptimizerConfig, kernels: bool) -> torch.optim.Optimizer:
        import torch

        return torch.optim.SGD(params, lr=config.lr, weight_decay=config.weight_decay, foreach=False)

    def scratch_update(
        self, param: torch.Tensor, grad: torch.Tensor, state: dict[str, torch.Tensor], config: OptimizerConfig, lr: float, t: int,
        correct_bias: bool,
    ) -> None:
        param -= lr * grad

    def fused_update(self, flat: FlatState, config: OptimizerConfig) -> Callable[[], None]:
        theta, grad, wd, lr = flat.theta, flat.grad, config.weight_decay, flat.lr

        def update() -> None:
            theta.add_(grad.add(theta, alpha=wd) if wd else grad, alpha=-lr())

        return update

    def ledger_lines(
        self, theta: float, g: float, state: dict[str, float], config: OptimizerConfig, lr: float, t: int, correct_bias: bool
    ) -> list[UpdateLine]:
        return [UpdateLine("θ", f"θ − lr·g = {n(theta)} − {p(lr)}·{p(g)}", theta - lr * g)]


PLAIN = Plain()

ALGORITHMS = (
    AlgorithmSpec(
        name="bgd",
        rule=PLAIN,
        summary="batch gradient descent: every step uses the whole training set",
        defaults={"lr": 0.1, "weight_decay": 0.0},
        batch_size=FULL_BATCH,
        epochs=100,
        formula="θ ← θ − lr·∇L(θ)   with ∇L over every training row",
        story={
            "en": "Batch gradient descent looks at every training row before each step, so every step "
            "points straight down the slope of the whole loss. That is exact but slow: one step costs a "
            "full pass over the data, which hurts when the data is large.",
            "zh": "批量梯度下降每走一步都要看完全部训练样本，所以每一步都沿着整个损失函数的下坡方向前进。"
            "它很准，但很慢：走一步就要把数据完整过一遍，数据一大就吃不消。",
        },
    ),
    AlgorithmSpec(
        name="sgd",
        rule=PLAIN,
        summary="stochastic gradient descent: every step uses one random sample",
        defaults={"lr": 0.01, "weight_decay": 0.0},
        batch_size=1,
        epochs=5,
        formula="θ ← θ − lr·∇Lᵢ(θ)   with ∇Lᵢ from one random row",
        story={
            "en": "Stochastic gradient descent fixes the cost: each step uses one random row, so a "
            "step is cheap and many steps fit in one pass. The price is noise — a single row's gradient "
            "points only roughly downhill, so the loss jitters and never quite settles.",
            "zh": "随机梯度下降解决了代价问题：每一步只用一个随机样本，一步很便宜，过一遍数据就能走很多步。"
            "代价是噪声：单个样本的梯度只是大致指向下坡，损失会抖动，始终停不稳。",
        },
    ),
    AlgorithmSpec(
        name="mbgd",
        rule=PLAIN,
        summary="mini-batch gradient descent: every step uses a small random batch",
        defaults={"lr": 0.05, "weight_decay": 0.0},
        batch_size=32,
        epochs=20,
        formula="θ ← θ − lr·∇L_B(θ)   with ∇L_B from a random batch B",
        story={
            "en": "Mini-batch gradient descent sits between the two: a small random batch per step "
            "averages away much of SGD's noise while staying far cheaper than the whole data. It still "
            "needs one well-chosen learning rate, and near the bottom it keeps wandering.",
            "zh": "小批量梯度下降介于两者之间：每一步用一小批随机样本，既平均掉了随机梯度下降的大部分噪声，"
            "又比用全部数据便宜得多。但它仍需要一个合适的学习率，而且在最低点附近还会来回徘徊。",
        },
    ),
)
