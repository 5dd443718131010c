"""Nesterov momentum: momentum that looks ahead before it steps.

    v ← μ·v + g
    θ ← θ − lr·(g + μ·v)

This is torch.optim.SGD's `nesterov=True` form (Sutskever et al., 2013, rewritten so the gradient
is taken at θ itself): the step adds the velocity's next move to today's gradient, so it brakes
before it overshoots instead of after.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from ..events import UpdateLine
from .base import AlgorithmSpec, FlatState, n, p
from .momentum import Momentum

if TYPE_CHECKING:
    import torch

    from ..config import OptimizerConfig


class Nesterov(Momentum):
    name = "nesterov"
    formula = "v ← μ·v + g;   θ ← θ − lr·(g + μ·v)"
    nesterov = True

    def scratch_update(
        self, param: torch.Tensor, grad: torch.Tensor, state: dict[str, torch.Tensor], config: OptimizerConfig, lr: float, t: int,
        correct_bias: bool,
    ) -> None:
        velocity, mu = state["velocity"], config.own("momentum")
        velocity.copy_(mu * velocity + grad)
        param -= lr * (grad + mu * velocity)

    def fused_update(self, flat: FlatState, config: OptimizerConfig) -> Callable[[], None]:
        theta, grad, velocity, lr = flat.theta, flat.grad, flat.buffers["velocity"], flat.lr
        mu, wd = config.own("momentum"), config.weight_decay

        def update() -> None:
            decayed = grad.add(theta, alpha=wd) if wd else grad
            velocity.mul_(mu).add_(decayed)
            theta.add_(decayed.add(velocity, alpha=mu), alpha=-lr())

        return update

    def ledger_lines(
        self, theta: float, g: float, state: dict[str, float], config: OptimizerConfig, lr: float, t: int, correct_bias: bool
    ) -> list[UpdateLine]:
        mu, v = config.own("momentum"), state["velocity"]
        v_new = mu * v + g
        look_ahead = g + mu * v_new
        return [
            UpdateLine("v", f"μ·v + g = {n(mu)}·{p(v)} + {p(g)}", v_new),
            UpdateLine("g̃", f"g + μ·v = {n(g)} + {p(mu)}·{p(v_new)}", look_ahead),
            UpdateLine("θ", f"θ − lr·g̃ = {n(theta)} − {p(lr)}·{p(look_ahead)}", theta - lr * look_ahead),
        ]


ALGORITHMS = (
    AlgorithmSpec(
        name="nesterov",
        rule=Nesterov(),
        summary="Nesterov momentum: momentum that looks one step ahead before it moves",
        defaults={"lr": 0.01, "momentum": 0.9, "weight_decay": 0.0},
        batch_size=32,
        epochs=20,
        story={
            "en": "Nesterov momentum fixes momentum's overshoot: plain momentum keeps rushing along v "
            "even when the slope ahead has turned, and only brakes a step late. Nesterov adds the velocity's "
            "next move to today's gradient (g + μ·v), so the step already feels where it is heading and "
            "slows down before it passes the bottom: fewer swings in narrow valleys.",
            "zh": "Nesterov 动量解决了动量法冲过头的问题：普通动量法即使前方的坡已经转向，仍沿着 v 往前冲，"
            "要晚一步才会刹车。Nesterov 把速度下一步的移动加到当前梯度上（g + μ·v），"
            "所以这一步已经预感到要去的方向，在越过谷底之前就减速：在狭窄的山谷里来回摆动更少。",
        },
    ),
)
