"""The run's command-line flags: each sets one settings field, and its help is that field's
description, so the CLI, the app's form and config files share one definition. Its own module so
that every command that takes them (`train`, `race`, `serve`, the app) imports it, not each other.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .core.rules import ALGORITHMS, HYPERPARAMETERS
from .names import Engine, Implementation, Init, Loss, Schedule, names

if TYPE_CHECKING:
    from pydantic import BaseModel


@dataclass(frozen=True)
class Flag:
    """A command-line flag that sets one settings field (`path` like `optimizer.lr`)."""

    name: str
    path: str
    metavar: str | None = None
    choices: tuple[str, ...] | None = None
    boolean: bool = False  # --flag / --no-flag
    switch: bool = False  # --flag alone turns it on

    @property
    def dest(self) -> str:
        """Where argparse keeps the value: `--weight-decay` -> `weight_decay`."""
        return self.name.removeprefix("--").replace("-", "_")

    def help(self) -> str:
        from .core.config import DataConfig, Experiments, OptimizerConfig, RunConfig

        section, _, field = self.path.rpartition(".")
        models: dict[str, type[BaseModel]] = {"optimizer": OptimizerConfig, "data": DataConfig, "experiments": Experiments, "": RunConfig}
        model = models[section]
        text = model.model_fields[field].description or ""
        return text.replace("%", "%%")


RUN_FLAGS = (
    Flag("--algorithm", "optimizer.algorithm", choices=tuple(ALGORITHMS)),
    Flag("--implementation", "optimizer.implementation", choices=names(Implementation)),
    *(Flag(h.flag, f"optimizer.{h.name}", h.metavar) for h in HYPERPARAMETERS.values()),
    Flag("--batch-size", "optimizer.batch_size", "N|full"),
    Flag("--epochs", "optimizer.epochs", "N"),
    Flag("--schedule", "optimizer.schedule", choices=names(Schedule)),
    Flag("--step-every", "optimizer.step_every", "EPOCHS"),
    Flag("--gamma", "optimizer.gamma", "G"),
    Flag("--lr-min", "optimizer.lr_min", "LR"),
    Flag("--warmup-epochs", "optimizer.warmup_epochs", "EPOCHS"),
    Flag("--warmup-start", "optimizer.warmup_start", "F"),
    Flag("--loss", "loss", choices=names(Loss)),
    Flag("--seed", "seed", "N"),
    Flag("--init", "init", choices=names(Init)),
    Flag("--device", "device", "auto|cpu|cuda|cuda:N|mps"),
    Flag("--engine", "engine", choices=names(Engine)),
    Flag("--max-steps", "max_steps", "N"),
    Flag("--data", "data.source", "synthetic|PATH.csv"),
    Flag("--target", "data.target", "COLUMN"),
    Flag("--features", "data.features", "a,b,c"),
    Flag("--standardize", "data.standardize", boolean=True),
    Flag("--val-fraction", "data.val_fraction", "F"),
    Flag("--samples", "data.samples", "N"),
    Flag("--dims", "data.dims", "N"),
    Flag("--noise", "data.noise", "STD"),
    Flag("--true-weights", "data.true_weights", "w1,w2"),
    Flag("--true-bias", "data.true_bias", "B"),
    Flag("--data-seed", "data.seed", "N"),
    Flag("--classes", "data.classes", "K"),
    Flag("--separation", "data.separation", "S"),
    Flag("--forget-zero-grad", "experiments.forget_zero_grad", switch=True),
    Flag("--no-bias-correction", "experiments.no_bias_correction", switch=True),
    Flag("--train-in-eval-mode", "experiments.train_in_eval_mode", switch=True),
    Flag("--eval-without-no-grad", "experiments.eval_without_no_grad", switch=True),
)

FLAG_NAMES = {flag.path: flag.name for flag in RUN_FLAGS}


def add_run_flags(parser: argparse.ArgumentParser, shared_only: bool = False) -> None:
    """The run's flags; with `shared_only`, those a race shares (the entries say the rest)."""
    groups = {
        "optimizer": parser.add_argument_group(
            "shared by every entry (an entry's own settings win)" if shared_only
            else "algorithm and hyperparameters (unset ones take the algorithm's defaults)"
        ),
        "": parser.add_argument_group("run"),
        "data": parser.add_argument_group("data"),
    }
    if not shared_only:
        groups["experiments"] = parser.add_argument_group("experiments from the seed notes (autograd engine)")
    for flag in RUN_FLAGS:
        if shared_only and flag.path.startswith("optimizer.") and flag.path not in RACE_SHARED:
            continue
        if shared_only and flag.path.startswith("experiments."):
            continue  # experiments are for a single run: its Learn view and its ledger
        group = groups[flag.path.rpartition(".")[0]]
        # SUPPRESS: an absent flag stays absent, so the settings' own defaults apply
        if flag.boolean:
            group.add_argument(flag.name, action=argparse.BooleanOptionalAction, default=argparse.SUPPRESS, help=flag.help())
        elif flag.switch:
            group.add_argument(flag.name, action="store_true", default=argparse.SUPPRESS, help=flag.help())
        else:
            group.add_argument(flag.name, metavar=flag.metavar, choices=flag.choices, default=argparse.SUPPRESS, help=flag.help())


# what a race shares across its entries: the run and the data, and these optimizer settings
RACE_SHARED = ("optimizer.epochs", "optimizer.batch_size", "optimizer.implementation")
