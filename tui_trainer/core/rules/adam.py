"""Adam (Kingma & Ba, 2015): momentum and RMSProp together, with bias correction.

    m ← β1·m + (1−β1)·g
    v ← β2·v + (1−β2)·g²
    m̂ = m/(1−β1ᵗ),   v̂ = v/(1−β2ᵗ)
    θ ← θ − lr·m̂ / (√v̂ + ε)

torch.optim.Adam (L2 weight decay added to g), its fused kernel where torch has one for the device.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from ..events import UpdateLine
from .base import AlgorithmSpec, FlatState, StateSlot, UpdateRule, n, p, pinned

if TYPE_CHECKING:
    import torch

    from ..config import OptimizerConfig


class Adam(UpdateRule):
    name = "adam"
    formula = "m ← β1·m + (1−β1)·g;   v ← β2·v + (1−β2)·g²;   m̂ = m/(1−β1ᵗ);   v̂ = v/(1−β2ᵗ);   θ ← θ − lr·m̂ / (√v̂ + ε)"
    state = (StateSlot("m", "m", "exp_avg"), StateSlot("v", "v", "exp_avg_sq"))
    bias_correction = True

    def torch_optimizer(self, params: list[torch.Tensor], config: OptimizerConfig, kernels: bool) -> torch.optim.Optimizer:
        import torch

        optimizer = torch.optim.AdamW if self.decoupled_weight_decay else torch.optim.Adam
        betas = (config.own("beta1"), config.own("beta2"))
        return optimizer(params, lr=config.lr, betas=betas, eps=config.own("eps"), weight_decay=config.weight_decay, **pinned(kernels))

    def scratch_update(
        self, param: torch.Tensor, grad: torch.Tensor, state: dict[str, torch.Tensor], config: OptimizerConfig, lr: float, t: int,
        correct_bias: bool,
    ) -> None:
        beta1, beta2 = config.own("beta1"), config.own("beta2")
        if self.decoupled_weight_decay:
            param *= 1 - lr * config.weight_decay
        m, v = state["m"], state["v"]
        m.copy_(beta1 * m + (1 - beta1) * grad)
        v.copy_(beta2 * v + (1 - beta2) * grad * grad)
        if correct_bias:
            m_hat, v_hat = m / (1 - beta1**t), v / (1 - beta2**t)
        else:  # the experiment: m and v start at 0 and stay small for a while
            m_hat, v_hat = m, v
        param -= lr * m_hat / (v_hat.sqrt() + config.own("eps"))

    def fused_update(self, flat: FlatState, config: OptimizerConfig) -> Callable[[], None]:
        import torch

        theta, grad, m, v, count = flat.theta, flat.grad, flat.buffers["m"], flat.buffers["v"], flat.step_count
        lr, steps = flat.lr, flat.steps
        beta1, beta2, eps, wd = config.own("beta1"), config.own("beta2"), config.own("eps"), config.weight_decay
        decoupled = self.decoupled_weight_decay
        if flat.kernels:
            kernel = torch._fused_adamw_ if decoupled else torch._fused_adam_

            one = count.new_ones(())  # a Python 1 would be wrapped in a new tensor every step

            def fused_kernel() -> None:
                count.add_(one)  # on the device: a graph replay advances it too
                kernel(
                    [theta], [grad], [m], [v], [], [count],
                    lr=lr(), beta1=beta1, beta2=beta2, weight_decay=wd, eps=eps, amsgrad=False, maximize=False,
                )

            return fused_kernel

        def single_tensor() -> None:
            rate, t = lr(), steps()
            if decoupled:
                theta.mul_(1 - rate * wd)
                decayed = grad
            else:
                decayed = grad.add(theta, alpha=wd) if wd else grad
            m.lerp_(decayed, 1 - beta1)
            v.mul_(beta2).addcmul_(decayed, decayed, value=1 - beta2)
            denom = (v.sqrt() / (1 - beta2**t) ** 0.5).add_(eps)
            theta.addcdiv_(m, denom, value=-rate / (1 - beta1**t))

        return single_tensor

    def ledger_lines(
        self, theta: float, g: float, state: dict[str, float], config: OptimizerConfig, lr: float, t: int, correct_bias: bool
    ) -> list[UpdateLine]:
        b1, b2, eps = config.own("beta1"), config.own("beta2"), config.own("eps")
        lines = []
        if self.decoupled_weight_decay and config.weight_decay:
            decayed = theta * (1 - lr * config.weight_decay)
            lines.append(UpdateLine("θ", f"θ·(1 − lr·λ) = {n(theta)}·(1 − {p(lr)}·{p(config.weight_decay)})", decayed))
            theta = decayed
        m, v = state["m"], state["v"]
        m_new, v_new = b1 * m + (1 - b1) * g, b2 * v + (1 - b2) * g * g
        lines += [
            UpdateLine("m", f"β1·m + (1−β1)·g = {n(b1)}·{p(m)} + {p(1 - b1)}·{p(g)}", m_new),
            UpdateLine("v", f"β2·v + (1−β2)·g² = {n(b2)}·{p(v)} + {p(1 - b2)}·{p(g)}²", v_new),
        ]
        m_hat, v_hat = m_new, v_new
        if correct_bias:
            m_hat, v_hat = m_new / (1 - b1**t), v_new / (1 - b2**t)
            lines += [
                UpdateLine("m̂", f"m/(1−β1^t) = {n(m_new)}/(1−{n(b1)}^{t})", m_hat),
                UpdateLine("v̂", f"v/(1−β2^t) = {n(v_new)}/(1−{n(b2)}^{t})", v_hat),
            ]
        new = theta - lr * m_hat / (v_hat**0.5 + eps)
        lines.append(UpdateLine("θ", f"θ − lr·m̂/(√v̂ + ε) = {n(theta)} − {p(lr)}·{p(m_hat)}/({p(v_hat**0.5)} + {eps:g})", new))
        return lines


ALGORITHMS = (
    AlgorithmSpec(
        name="adam",
        rule=Adam(),
        summary="Adam: momentum and RMSProp together, with bias correction",
        defaults={"lr": 0.02, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weight_decay": 0.0},
        batch_size=32,
        epochs=20,
        story={
            "en": "Adam joins momentum and RMSProp: m is a decaying mean of the gradients (the "
            "direction), v a decaying mean of their squares (the scale). Both start at zero, so early on "
            "they are too small; dividing by 1−βᵗ (bias correction) undoes that.",
            "zh": "Adam 把动量法和 RMSProp 结合起来：m 是梯度的衰减平均（方向），v 是梯度平方的衰减平均（尺度）。"
            "两者都从零开始，所以一开始偏小；除以 1−βᵗ（偏差修正）正是为了抵消这一点。",
        },
    ),
)
