"""Learning-rate schedules, moved by torch.optim.lr_scheduler once per epoch.

The scheduler drives a one-parameter holder optimizer rather than the run's own, so every
implementation and engine (torch.optim, scratch, fused) follows the very same sequence of
learning rates. A learning rate typed while the run goes ends the schedule (Trainer.advance).
"""

from __future__ import annotations

import copy
from typing import Any

import torch

from .config import OptimizerConfig, Schedule


class LrSchedule:
    def __init__(self, config: OptimizerConfig) -> None:
        self._holder = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=config.lr)
        settings = config.schedule_settings()
        self._scheduler: torch.optim.lr_scheduler.LRScheduler
        match config.schedule:
            case Schedule.STEP:
                self._scheduler = torch.optim.lr_scheduler.StepLR(
                    self._holder, step_size=int(settings["step_every"]), gamma=settings["gamma"]
                )
            case Schedule.EXPONENTIAL:
                self._scheduler = torch.optim.lr_scheduler.ExponentialLR(self._holder, gamma=settings["gamma"])
            case Schedule.COSINE:
                self._scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(self._holder, T_max=config.epochs, eta_min=settings["lr_min"])
            case Schedule.WARMUP:
                self._scheduler = torch.optim.lr_scheduler.LinearLR(
                    self._holder, start_factor=settings["warmup_start"], end_factor=1.0, total_iters=int(settings["warmup_epochs"])
                )
            case _:
                raise ValueError("a constant learning rate needs no schedule")
        self._holder.step()  # a no-op (no gradients) that tells the scheduler the optimizer stepped

    @property
    def lr(self) -> float:
        """The learning rate of the current epoch."""
        return float(self._holder.param_groups[0]["lr"])

    def next_epoch(self) -> float:
        self._scheduler.step()
        return self.lr

    def capture(self) -> Any:
        return copy.deepcopy(self._scheduler.state_dict()), self.lr

    def restore(self, saved: Any) -> None:
        state, lr = saved
        self._scheduler.load_state_dict(copy.deepcopy(state))
        self._holder.param_groups[0]["lr"] = lr


def build_schedule(config: OptimizerConfig) -> LrSchedule | None:
    return None if config.schedule is Schedule.CONSTANT else LrSchedule(config)
