"""Learning-rate schedules follow torch.optim.lr_scheduler, in every implementation and engine."""

import pytest
import torch
from pydantic import ValidationError

from tui_trainer.core.config import OptimizerConfig, RunConfig
from tui_trainer.core.events import StepLosses
from tui_trainer.core.trainer import Trainer

SCHEDULES = {
    "step": ({"step_every": 3, "gamma": 0.5}, lambda opt: torch.optim.lr_scheduler.StepLR(opt, step_size=3, gamma=0.5)),
    "exponential": ({"gamma": 0.9}, lambda opt: torch.optim.lr_scheduler.ExponentialLR(opt, gamma=0.9)),
    "cosine": ({"lr_min": 0.001}, lambda opt: torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=12, eta_min=0.001)),
    "warmup": ({"warmup_epochs": 4, "warmup_start": 0.25},
               lambda opt: torch.optim.lr_scheduler.LinearLR(opt, start_factor=0.25, end_factor=1.0, total_iters=4)),
}


def torch_lrs(make, lr: float, epochs: int) -> list[float]:
    """The lr of each epoch, from torch's own scheduler on a real optimizer, stepped per epoch."""
    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=lr)
    scheduler = make(optimizer)
    lrs = []
    for _ in range(epochs):
        lrs.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    return lrs


def epoch_lrs(settings: dict, engine="autograd", implementation="torch") -> list[float]:
    """The lr each epoch of a run used, read from its events."""
    optimizer = settings if engine == "fused" else {**settings, "implementation": implementation}
    config = RunConfig.model_validate({"optimizer": optimizer, "engine": engine, "data": {"samples": 100}})
    events = []
    trainer = Trainer(config, sink=events.append)
    trainer.run()
    per_step = [lr for e in events if isinstance(e, StepLosses) for lr in e.lrs]
    return per_step[:: trainer.steps_per_epoch]


@pytest.mark.parametrize("name", list(SCHEDULES))
@pytest.mark.parametrize("engine, implementation", [("autograd", "torch"), ("autograd", "scratch"), ("fused", "torch")])
@pytest.mark.parametrize("batch_size", ["full", 16])
def test_each_schedule_matches_torch_lr_scheduler(name, engine, implementation, batch_size):
    settings, make = SCHEDULES[name]
    run = {"algorithm": "mbgd", "lr": 0.2, "epochs": 12, "batch_size": batch_size, "schedule": name, **settings}
    assert epoch_lrs(run, engine, implementation) == pytest.approx(torch_lrs(make, 0.2, 12), rel=1e-12)


def test_a_schedule_really_changes_the_training():
    constant = Trainer(RunConfig.model_validate({"optimizer": {"algorithm": "bgd", "epochs": 30}})).run()
    exponential = {"algorithm": "bgd", "epochs": 30, "schedule": "exponential", "gamma": 0.5}
    decayed = Trainer(RunConfig.model_validate({"optimizer": exponential})).run()
    assert decayed.lr == pytest.approx(0.1 * 0.5**30) and constant.lr == 0.1
    assert decayed.final_loss > constant.final_loss  # the steps shrank before reaching the bottom


def test_a_learning_rate_typed_during_a_run_ends_the_schedule():
    """A warm-up would otherwise scale the typed rate up (LinearLR multiplies the current rate)."""
    settings = {"optimizer": {"algorithm": "bgd", "lr": 0.1, "epochs": 40, "schedule": "warmup"}, "data": {"samples": 100}}
    events = []
    trainer = Trainer(RunConfig.model_validate(settings), sink=events.append, chunk_seconds=1e9)
    trainer.begin()
    trainer._chunk = 3
    trainer.advance()  # epochs 1-3 warm up
    trainer.control.set_lr(0.05)
    while trainer.advance():
        pass
    lrs = [lr for e in events if isinstance(e, StepLosses) for lr in e.lrs]
    assert lrs[:3] == pytest.approx([0.01, 0.028, 0.046])
    assert lrs[3:] == [0.05] * 37 and trainer.finish().lr == 0.05


def test_a_diverged_run_keeps_the_lr_of_the_step_it_stopped_at():
    settings = {"optimizer": {"algorithm": "bgd", "lr": 3.0, "epochs": 400, "schedule": "step", "step_every": 2, "gamma": 1.0},
                "data": {"val_fraction": 0}}
    diverged = Trainer(RunConfig.model_validate(settings)).run()
    assert diverged.diverged
    again = Trainer(RunConfig.model_validate({**settings, "max_steps": diverged.steps})).run()
    assert (again.weights, again.bias, again.lr) == (diverged.weights, diverged.bias, diverged.lr)


@pytest.mark.parametrize(
    "settings, expected",
    [
        ({"schedule": "step", "lr_min": 0.1}, "lr_min: does not apply to the step schedule (it uses step_every, gamma)"),
        ({"gamma": 0.5}, "gamma: does not apply to the constant schedule (it uses no settings)"),
        ({"schedule": "exponential", "gamma": 0}, "gamma: must be in (0, 1] (1 allowed, 0 not), got 0.0"),
        ({"schedule": "exponential", "gamma": 1.5}, "gamma: must be in (0, 1] (1 allowed, 0 not), got 1.5"),
        ({"schedule": "step", "step_every": 0}, "step_every: must be a whole number >= 1, got 0"),
        ({"schedule": "warmup", "warmup_start": 0}, "warmup_start: must be in (0, 1] (1 allowed, 0 not), got 0.0"),
        ({"schedule": "cosine", "lr_min": -1}, "lr_min: must be a finite number >= 0, got -1.0"),
    ],
)
def test_schedule_settings_are_checked(settings, expected):
    from tui_trainer.core.validation import explain

    with pytest.raises(ValidationError) as caught:
        OptimizerConfig(**settings)
    assert "; ".join(explain(caught.value, model=OptimizerConfig)) == expected


def test_each_schedule_has_defaults():
    assert OptimizerConfig(schedule="step").schedule_settings() == {"step_every": 10, "gamma": 0.5}
    assert OptimizerConfig(schedule="warmup").schedule_settings() == {"warmup_epochs": 5, "warmup_start": 0.1}
    assert OptimizerConfig().schedule_settings() == {}
