"""A step written out: the batch, its predictions and residuals, the loss, the gradient by the
chain rule beside the one the optimizer used, and the update rule with the actual numbers.

The hand computations are in float64 from the parameters and optimizer state before the step;
tests hold them to what autograd and the optimizer produced.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from .config import Engine, Rule
from .events import BatchRow, LedgerEntry, ParameterUpdate, UpdateLine

SHOWN_ROWS = 5  # a long batch is summarised: its first rows, and how many more


@dataclass
class Before:
    """What a step starts from."""

    theta: list[float]  # [w..., b]
    state: dict[str, list[float]]  # the optimizer's state by name, flat like θ
    lr: float


def state_flat(stepper) -> dict[str, list[float]]:
    return {name: [v for t in tensors for v in t.detach().reshape(-1).tolist()] for name, tensors in stepper.state().items()}


def capture_before(trainer) -> Before:
    return Before(trainer.stepper.flat_parameters().tolist(), state_flat(trainer.stepper), trainer.stepper.lr)


def entry(trainer, before: Before, step: int, reported_loss: float) -> LedgerEntry:
    """Step `step` (0-based), just taken from `before`, written out."""
    x, y = trainer.batches.batch(step)
    stepper, config = trainer.stepper, trainer.config
    d = trainer.dataset.dims
    where = torch.device("cpu") if x.device.type == "mps" else x.device  # MPS has no float64
    theta = torch.tensor(before.theta, dtype=torch.float64, device=where)
    xs, ys = x.to(where).double(), y.to(where).reshape(-1).double()
    prediction = xs @ theta[:d] + theta[d]
    residual = prediction - ys
    rows = len(ys)
    hand = torch.cat([2 / rows * (xs.t() @ residual), (2 / rows * residual.sum()).reshape(1)]).tolist()
    used = stepper.gradient_used()
    after = stepper.flat_parameters().tolist()
    names = [f"w[{name}]" for name in trainer.dataset.feature_names] + ["b"]
    lines = _rule_lines(config, before, used, step + 1)
    updates = [
        ParameterUpdate(names[i], before.theta[i], hand[i], used[i], lines[i], after[i]) for i in range(d + 1)
    ]
    shown = [
        BatchRow(row, target, p, r)
        for row, target, p, r in zip(
            xs[:SHOWN_ROWS].tolist(), ys[:SHOWN_ROWS].tolist(), prediction[:SHOWN_ROWS].tolist(), residual[:SHOWN_ROWS].tolist()
        )
    ]
    fused = config.engine is Engine.FUSED
    return LedgerEntry(
        step=step + 1,
        epoch=step // trainer.steps_per_epoch + 1,
        algorithm=config.optimizer.algorithm.value,
        rule=config.optimizer.rule.value,
        engine=config.engine.value,
        lr=before.lr,
        batch_size=rows,
        rows=shown,
        loss=float((residual * residual).mean()),
        loss_reported=reported_loss,
        updates=updates,
        gradient_source="closed form (fused)" if fused else ".grad (autograd)",
        experiments=[name for name in type(config.experiments).model_fields if getattr(config.experiments, name)],
    )


def _n(value: float) -> str:
    return f"{value:.4g}"


def _p(value: float) -> str:
    """A number as a factor: negative ones in brackets, so 0.1·(−1.84) reads right."""
    return f"({value:.4g})" if value < 0 else f"{value:.4g}"


def _rule_lines(config, before: Before, grads: list[float], t: int) -> list[list[UpdateLine]]:
    """For each parameter, the rule's lines with the numbers; the last line is the new value."""
    optimizer = config.optimizer
    lr, wd = before.lr, optimizer.weight_decay
    out = []
    for i, (theta, g) in enumerate(zip(before.theta, grads)):
        lines: list[UpdateLine] = []
        if wd:
            g_eff = g + wd * theta
            lines.append(UpdateLine("g", f"g + λθ = {_n(g)} + {_p(wd)}·{_p(theta)}", g_eff))
            g = g_eff
        match optimizer.rule:
            case Rule.PLAIN:
                new = theta - lr * g
                lines.append(UpdateLine("θ", f"θ − lr·g = {_n(theta)} − {_p(lr)}·{_p(g)}", new))
            case Rule.MOMENTUM:
                mu, v = optimizer.momentum, _state(before, "velocity", i)
                v_new = mu * v + g
                new = theta - lr * v_new
                lines += [
                    UpdateLine("v", f"μ·v + g = {_n(mu)}·{_p(v)} + {_p(g)}", v_new),
                    UpdateLine("θ", f"θ − lr·v = {_n(theta)} − {_p(lr)}·{_p(v_new)}", new),
                ]
            case Rule.ADAGRAD:
                s, eps = _state(before, "sum_sq", i), optimizer.eps
                s_new = s + g * g
                new = theta - lr * g / (s_new**0.5 + eps)
                lines += [
                    UpdateLine("s", f"s + g² = {_n(s)} + {_p(g)}²", s_new),
                    UpdateLine("θ", f"θ − lr·g/(√s + ε) = {_n(theta)} − {_p(lr)}·{_p(g)}/({_p(s_new**0.5)} + {eps:g})", new),
                ]
            case Rule.RMSPROP:
                s, alpha, eps = _state(before, "mean_sq", i), optimizer.alpha, optimizer.eps
                s_new = alpha * s + (1 - alpha) * g * g
                new = theta - lr * g / (s_new**0.5 + eps)
                lines += [
                    UpdateLine("s", f"α·s + (1−α)·g² = {_n(alpha)}·{_p(s)} + {_p(1 - alpha)}·{_p(g)}²", s_new),
                    UpdateLine("θ", f"θ − lr·g/(√s + ε) = {_n(theta)} − {_p(lr)}·{_p(g)}/({_p(s_new**0.5)} + {eps:g})", new),
                ]
            case Rule.ADAM:
                b1, b2, eps = optimizer.beta1, optimizer.beta2, optimizer.eps
                m, v = _state(before, "m", i), _state(before, "v", i)
                m_new, v_new = b1 * m + (1 - b1) * g, b2 * v + (1 - b2) * g * g
                lines += [
                    UpdateLine("m", f"β1·m + (1−β1)·g = {_n(b1)}·{_p(m)} + {_p(1 - b1)}·{_p(g)}", m_new),
                    UpdateLine("v", f"β2·v + (1−β2)·g² = {_n(b2)}·{_p(v)} + {_p(1 - b2)}·{_p(g)}²", v_new),
                ]
                if config.experiments.no_bias_correction:
                    m_hat, v_hat = m_new, v_new
                else:
                    m_hat, v_hat = m_new / (1 - b1**t), v_new / (1 - b2**t)
                    lines += [
                        UpdateLine("m̂", f"m/(1−β1^t) = {_n(m_new)}/(1−{_n(b1)}^{t})", m_hat),
                        UpdateLine("v̂", f"v/(1−β2^t) = {_n(v_new)}/(1−{_n(b2)}^{t})", v_hat),
                    ]
                new = theta - lr * m_hat / (v_hat**0.5 + eps)
                lines.append(
                    UpdateLine("θ", f"θ − lr·m̂/(√v̂ + ε) = {_n(theta)} − {_p(lr)}·{_p(m_hat)}/({_p(v_hat**0.5)} + {eps:g})", new)
                )
        out.append(lines)
    return out


def _state(before: Before, name: str, i: int) -> float:
    """The optimizer's state before the step (0 before its first step, as torch.optim starts)."""
    values = before.state.get(name)
    return values[i] if values else 0.0
