"""The seed's lessons as experiments: each changes what it claims to change, and nothing else."""

import math

import pytest
import torch
from pydantic import ValidationError

from tui_trainer.core.config import RunConfig
from tui_trainer.core.events import EpochsEnded
from tui_trainer.core.trainer import Trainer

DATA = {"samples": 200, "dims": 2, "noise": 0.3}


def trainer(algorithm="bgd", experiments=None, steps=None, **optimizer):
    settings = {"optimizer": {"algorithm": algorithm, **optimizer}, "data": DATA, "experiments": experiments or {}}
    if steps:
        settings["max_steps"] = steps
    return Trainer(RunConfig.model_validate(settings))


def gradient_at(t: Trainer, weights, bias) -> list[float]:
    """dL/dθ at these parameters, by the chain rule, in float64."""
    x, y = t.x.double(), t.y.double()
    w = torch.tensor(weights, dtype=torch.float64).reshape(-1, 1)
    residual = x @ w + bias - y
    return [*(2 * (residual * x).mean(dim=0)).tolist(), 2 * residual.mean().item()]


@pytest.mark.parametrize("implementation", ["torch", "scratch"])
def test_forgetting_to_zero_the_gradients_makes_them_accumulate(implementation):
    forgetting = {"forget_zero_grad": True}
    one = trainer(implementation=implementation, experiments=forgetting, steps=1)
    theta0 = one.snapshot()  # before any step
    one.run()
    theta1 = one.snapshot()  # after the first step (the same with or without zeroing)
    g0, g1 = gradient_at(one, theta0.weights, theta0.bias), gradient_at(one, theta1.weights, theta1.bias)

    two = trainer(implementation=implementation, experiments=forgetting, steps=2)
    two.run()
    assert [*two.snapshot().grad_weights, two.snapshot().grad_bias] == pytest.approx([a + b for a, b in zip(g0, g1, strict=True)], rel=1e-4)

    zeroed = trainer(implementation=implementation, steps=2)
    zeroed.run()
    assert [*zeroed.snapshot().grad_weights, zeroed.snapshot().grad_bias] == pytest.approx(g1, rel=1e-4)


def test_forgetting_to_zero_the_gradients_changes_the_training():
    normal = trainer(epochs=100).run()
    forgetting = trainer(epochs=100, experiments={"forget_zero_grad": True}).run()
    assert normal.final_loss == pytest.approx(normal.optimal_loss, rel=1e-4)
    assert forgetting.diverged or forgetting.final_loss > normal.final_loss * 1.5


def test_adam_without_bias_correction_takes_a_bigger_first_step():
    """m = (1-β1)g and v = (1-β2)g² after one step: without correction the step is
    lr·(1-β1)/√(1-β2) = 3.16·lr per parameter instead of lr."""
    settings = {"algorithm": "adam", "implementation": "scratch", "steps": 1, "batch_size": "full", "lr": 0.01}
    initial = trainer(**settings).snapshot()
    corrected, uncorrected = trainer(**settings), trainer(**settings, experiments={"no_bias_correction": True})
    corrected.run()
    uncorrected.run()
    step = lambda t: [abs(a - b) for a, b in zip(t.snapshot().weights, initial.weights, strict=True)]  # noqa: E731
    assert step(corrected) == pytest.approx([0.01, 0.01], rel=1e-4)
    assert step(uncorrected) == pytest.approx([0.01 * 0.1 / math.sqrt(0.001)] * 2, rel=1e-4)


def test_training_in_eval_mode_changes_nothing_for_a_linear_model():
    normal, in_eval = trainer(epochs=20), trainer(epochs=20, experiments={"train_in_eval_mode": True})
    a, b = normal.run(), in_eval.run()
    assert (a.weights, a.bias, a.final_loss) == (b.weights, b.bias, b.final_loss)
    assert normal.snapshot().training and not in_eval.snapshot().training


def test_evaluating_without_no_grad_records_a_graph_but_gives_the_same_numbers():
    normal_events, graph_events = [], []
    normal = trainer(algorithm="mbgd", epochs=3)
    normal.sink = normal_events.append
    graphed = trainer(algorithm="mbgd", epochs=3, experiments={"eval_without_no_grad": True})
    graphed.sink = graph_events.append
    normal.run()
    graphed.run()
    vals = lambda events: [v for e in events if isinstance(e, EpochsEnded) for v in e.val_losses]  # noqa: E731
    assert vals(normal_events) == vals(graph_events) and len(vals(normal_events)) == 3
    assert normal.snapshot().eval_grad_fn is None
    assert graphed.snapshot().eval_grad_fn == "MseLossBackward0"


@pytest.mark.parametrize(
    "settings, message",
    [
        ({"engine": "fused", "experiments": {"forget_zero_grad": True}}, "the experiments need engine autograd"),
        ({"experiments": {"no_bias_correction": True}}, "choose algorithm adam and implementation scratch"),
        ({"optimizer": {"algorithm": "adam"}, "experiments": {"no_bias_correction": True}}, "implementation scratch"),
        ({"experiments": {"forget": True}}, "Extra inputs are not permitted"),
    ],
)
def test_experiments_that_cannot_apply_are_refused(settings, message):
    with pytest.raises(ValidationError, match=message):
        RunConfig.model_validate(settings)
