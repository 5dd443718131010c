"""The words scripts rely on, written once: engine, implementation, schedule, init and loss names,
and the bounds every setting shares.

Standard library only, so the CLI's parser and the app's first frame can use them without waiting
for pydantic or torch. The algorithm names are not here: each update rule declares its own, in
`core/rules/` (see `core.rules.ALGORITHMS`).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final


class Implementation(StrEnum):
    TORCH = "torch"  # torch.optim does the update
    SCRATCH = "scratch"  # the update rule written out by hand, as the seed teaches


class Engine(StrEnum):
    AUTOGRAD = "autograd"  # loss.backward() computes the gradients, as the seed teaches
    FUSED = "fused"  # closed-form gradients and in-place updates: no autograd graph, much faster


class Schedule(StrEnum):
    """How the learning rate moves over the epochs (torch.optim.lr_scheduler does the moving)."""

    CONSTANT = "constant"
    STEP = "step"  # StepLR: times gamma every `step_every` epochs
    EXPONENTIAL = "exponential"  # ExponentialLR: times gamma every epoch
    COSINE = "cosine"  # CosineAnnealingLR: down to lr_min along a half cosine over the run
    WARMUP = "warmup"  # LinearLR: from warmup_start × lr up to lr over warmup_epochs


class Init(StrEnum):
    ZEROS = "zeros"
    NORMAL = "normal"


class Loss(StrEnum):
    """The training objective (core/objective.py)."""

    MSE = "mse"  # nn.MSELoss: regression, one output
    CROSS_ENTROPY = "cross-entropy"  # nn.CrossEntropyLoss: classification, one output per class


def names(choices: type[StrEnum]) -> tuple[str, ...]:
    """The values of a choice, in declaration order: what a CLI or a form offers."""
    return tuple(choice.value for choice in choices)


LARGEST = 1e30  # rates and scales past this make no sense, and past ~3.4e38 float32 cannot hold them
FULL_BATCH: Final = "full"  # the batch size that means the whole training set
SYNTHETIC = "synthetic"  # the data source that needs no file
LANGUAGES = ("en", "zh")  # of the Learn view's explanations: English and the seed notes' Chinese
