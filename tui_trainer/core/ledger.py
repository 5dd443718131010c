"""A step written out: the batch, its predictions and residuals, the loss, the gradient by the
chain rule beside the one the optimizer used, and the update rule with the actual numbers.

The hand computations are in float64 from the parameters and optimizer state before the step;
tests hold them to what autograd and the optimizer produced.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch

from ..names import Engine
from .events import BatchRow, LedgerEntry, ParameterUpdate, UpdateLine
from .rules.base import n, p

if TYPE_CHECKING:
    from .config import RunConfig
    from .stepper import Stepper
    from .trainer import Trainer

SHOWN_ROWS = 5  # a long batch is summarised: its first rows, and how many more


@dataclass
class Before:
    """What a step starts from."""

    theta: list[float]  # [w..., b]
    state: dict[str, list[float]]  # the optimizer's state by name, flat like θ
    lr: float


def state_flat(stepper: Stepper) -> dict[str, list[float]]:
    return {name: [v for t in tensors for v in t.detach().reshape(-1).tolist()] for name, tensors in stepper.state().items()}


def capture_before(trainer: Trainer) -> Before:
    return Before(trainer.stepper.flat_parameters().tolist(), state_flat(trainer.stepper), trainer.stepper.lr)


def entry(trainer: Trainer, before: Before, step: int, reported_loss: float) -> LedgerEntry:
    """Step `step` (0-based), just taken from `before`, written out."""
    x, y = trainer.batches.batch(step)
    stepper, config = trainer.stepper, trainer.config
    where = torch.device("cpu") if x.device.type == "mps" else x.device  # MPS has no float64
    theta = torch.tensor(before.theta, dtype=torch.float64, device=where)
    xs = x.to(where).double()
    objective = stepper.objective
    write = _classifier_step if objective.classifies else _regression_step
    hand, shown, loss = write(trainer, theta, xs, y.to(where))
    used = stepper.gradient_used()
    after = stepper.flat_parameters().tolist()
    names = parameter_names(trainer.dataset.feature_names, trainer.dataset.classes)
    lines = _rule_lines(config, before, used, step + 1)
    updates = [ParameterUpdate(names[i], before.theta[i], hand[i], used[i], lines[i], after[i]) for i in range(len(hand))]
    fused = config.engine is Engine.FUSED
    return LedgerEntry(
        step=step + 1,
        epoch=step // trainer.steps_per_epoch + 1,
        algorithm=config.optimizer.algorithm.value,
        rule=config.optimizer.rule.name,
        engine=config.engine.value,
        lr=before.lr,
        batch_size=len(xs),
        rows=shown,
        loss=loss,
        loss_reported=reported_loss,
        updates=updates,
        gradient_source="closed form (fused)" if fused else ".grad (autograd)",
        experiments=[name for name in type(config.experiments).model_fields if getattr(config.experiments, name)],
        loss_name=objective.name.value,
        classes=None if trainer.dataset.classes is None else list(trainer.dataset.classes),
    )


def parameter_names(features: list[str] | tuple[str, ...], classes: tuple[str, ...] | None) -> list[str]:
    """[w..., b] as the app names them; a classifier's W row by row: w[class,feature], then b[class]."""
    if classes is None:
        return [f"w[{name}]" for name in features] + ["b"]
    return [f"w[{label},{name}]" for label in classes for name in features] + [f"b[{label}]" for label in classes]


Written = tuple[list[float], list[BatchRow], float]  # the hand gradient (flat like θ), the rows shown, the loss


def _regression_step(trainer: Trainer, theta: torch.Tensor, xs: torch.Tensor, y: torch.Tensor) -> Written:
    d = trainer.dataset.dims
    ys = y.reshape(-1).double()
    prediction = xs @ theta[:d] + theta[d]
    residual = prediction - ys
    # the chain rule by hand: dL/dw = xᵀ·dL/dŷ, dL/db = Σ dL/dŷ, with dL/dŷ in closed form
    objective = trainer.stepper.objective
    output_gradient = objective.output_gradient(prediction, ys)
    hand = torch.cat([xs.t() @ output_gradient, output_gradient.sum().reshape(1)]).tolist()
    shown = [
        BatchRow(row, target, p, r)
        for row, target, p, r in zip(
            xs[:SHOWN_ROWS].tolist(), ys[:SHOWN_ROWS].tolist(), prediction[:SHOWN_ROWS].tolist(), residual[:SHOWN_ROWS].tolist(),
            strict=True,
        )
    ]
    return hand, shown, objective.batch_loss(prediction, ys)


def _classifier_step(trainer: Trainer, theta: torch.Tensor, xs: torch.Tensor, y: torch.Tensor) -> Written:
    """Logits z = Wx + b, softmax, −log p(y); by the chain rule dL/dz = (softmax(z) − onehot(y))/n,
    so dL/dW = (dL/dz)ᵀ·X and dL/db = Σ dL/dz over the rows."""
    d, k = trainer.dataset.dims, trainer.dataset.outputs
    weights, bias = theta[: k * d].reshape(k, d), theta[k * d :]
    labels = y.reshape(-1).long()
    logits = xs @ weights.t() + bias
    objective = trainer.stepper.objective
    output_gradient = objective.output_gradient(logits, labels)
    hand = torch.cat([(output_gradient.t() @ xs).reshape(-1), output_gradient.sum(0)]).tolist()
    probabilities = torch.softmax(logits, dim=1)
    own = probabilities.gather(1, labels.view(-1, 1)).reshape(-1)
    nll = -torch.log_softmax(logits, dim=1).gather(1, labels.view(-1, 1)).reshape(-1)
    top = logits.argmax(1)
    shown = [
        BatchRow(row, float(label), float(best), p - 1.0, z, q, loss)
        for row, label, best, p, z, q, loss in zip(
            xs[:SHOWN_ROWS].tolist(), labels[:SHOWN_ROWS].tolist(), top[:SHOWN_ROWS].tolist(), own[:SHOWN_ROWS].tolist(),
            logits[:SHOWN_ROWS].tolist(), probabilities[:SHOWN_ROWS].tolist(), nll[:SHOWN_ROWS].tolist(),
            strict=True,
        )
    ]
    return hand, shown, objective.batch_loss(logits, labels)


def _rule_lines(config: RunConfig, before: Before, grads: list[float], t: int) -> list[list[UpdateLine]]:
    """For each parameter, the rule's lines with the numbers; the last line is the new value."""
    optimizer = config.optimizer
    rule, lr, wd = optimizer.rule, before.lr, optimizer.weight_decay
    correct_bias = not config.experiments.no_bias_correction
    out = []
    for i, (theta, g) in enumerate(zip(before.theta, grads, strict=True)):
        lines: list[UpdateLine] = []
        if wd and not rule.decoupled_weight_decay:  # L2, as torch.optim adds it: λθ joins the gradient
            g_eff = g + wd * theta
            lines.append(UpdateLine("g", f"g + λθ = {n(g)} + {p(wd)}·{p(theta)}", g_eff))
            g = g_eff
        state = {name: _state(before, name, i) for name in rule.state_names}
        lines += rule.ledger_lines(theta, g, state, optimizer, lr, t, correct_bias)
        out.append(lines)
    return out


def _state(before: Before, name: str, i: int) -> float:
    """The optimizer's state before the step (0 before its first step, as torch.optim starts)."""
    values = before.state.get(name)
    return values[i] if values else 0.0
