"""AdamW (Loshchilov & Hutter, 2019): Adam with decoupled weight decay.

    θ ← θ·(1 − lr·λ)
    then Adam's step, with g the loss's gradient alone

Adam adds L2 decay to g, so the decay is divided by √v̂ like every gradient and parameters with
big gradients are hardly decayed at all. AdamW shrinks θ directly, the same for every parameter.
torch.optim.AdamW; its fused kernel where torch has one for the device.
"""

from __future__ import annotations

from .adam import Adam
from .base import AlgorithmSpec


class AdamW(Adam):
    name = "adamw"
    formula = "θ ← θ·(1 − lr·λ);   then Adam: m, v, m̂, v̂ from g alone;   θ ← θ − lr·m̂ / (√v̂ + ε)"
    decoupled_weight_decay = True


ALGORITHMS = (
    AlgorithmSpec(
        name="adamw",
        rule=AdamW(),
        summary="AdamW: Adam with the weight decay taken out of the gradient and applied to θ directly",
        defaults={"lr": 0.02, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weight_decay": 0.01},
        batch_size=32,
        epochs=20,
        story={
            "en": "AdamW fixes how Adam decays weights: Adam adds the L2 penalty λθ to the gradient, so it "
            "is divided by √v̂ like everything else, and a parameter with big gradients is hardly decayed. "
            "AdamW takes the decay out of the gradient and shrinks θ by lr·λ directly, the same for every "
            "parameter, so the penalty means what it says.",
            "zh": "AdamW 改正了 Adam 做权重衰减的方式：Adam 把 L2 惩罚 λθ 加进梯度，于是它和其他部分一样被 √v̂ 除掉，"
            "梯度大的参数几乎得不到衰减。AdamW 把衰减从梯度里拿出来，直接把 θ 缩小 lr·λ，对每个参数都一样，"
            "惩罚才名副其实。",
        },
    ),
)
