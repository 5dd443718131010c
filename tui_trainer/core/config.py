"""Run settings as pydantic models: the one source of truth for the CLI, the app's forms and files.

This module imports neither torch nor any UI library, so the app can validate a form field the
moment it is typed without waiting for `import torch`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from ..names import FULL_BATCH, LARGEST, SYNTHETIC, Engine, Implementation, Init, Loss, Schedule
from .rules import ALGORITHMS, AlgorithmSpec, UpdateRule
from .rules import HYPERPARAMETERS as _HYPERPARAMETERS

# FULL_BATCH, LARGEST, SYNTHETIC, Engine, Implementation, Init and Schedule are defined in names and
# re-exported for the modules that import them from here.
__all__ = [
    "DEFAULT_ALGORITHM", "FULL_BATCH", "HYPERPARAMETERS", "LARGEST", "PRESETS", "SCHEDULE_DEFAULTS",
    "SCHEDULE_SETTINGS", "SYNTHETIC", "Algorithm", "AtLeastOne", "AtLeastTwo", "Batch", "BatchSize", "DataConfig",
    "Engine", "Experiments", "Finite", "Fraction", "Implementation", "Init", "Loss", "NonNegative", "OptimizerConfig",
    "OwnHyperparameter", "Positive", "Preset", "RunConfig", "Schedule", "Seed", "UnitInterval", "replaced",
    "with_optimizer",
]

# The algorithms' names come from the rule registry, so a new rule module is a new choice here too.
# mypy cannot see members made at run time: write `Algorithm("bgd")`, not `Algorithm.BGD`.
Algorithm = StrEnum("Algorithm", {name.upper(): name for name in ALGORITHMS})  # type: ignore[misc]  # members computed, not literal
Algorithm.__doc__ = "The algorithms of the rule registry (core/rules), by their CLI names."
DEFAULT_ALGORITHM = Algorithm("bgd")  # the seed's first

# each schedule's own settings and their defaults
SCHEDULE_DEFAULTS: dict[Schedule, dict[str, float]] = {
    Schedule.CONSTANT: {},
    Schedule.STEP: {"step_every": 10, "gamma": 0.5},
    Schedule.EXPONENTIAL: {"gamma": 0.95},
    Schedule.COSINE: {"lr_min": 0.0},
    Schedule.WARMUP: {"warmup_epochs": 5, "warmup_start": 0.1},
}
SCHEDULE_SETTINGS = ("step_every", "gamma", "lr_min", "warmup_epochs", "warmup_start")


BatchSize = int | Literal["full"]

# --- value checks with messages a person understands -------------------------------------


def _number(value: Any) -> Any:
    """Accept numbers and numeric strings; refuse anything else in plain words."""
    if isinstance(value, bool):
        raise ValueError(f"must be a number, got {value!r}")
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            raise ValueError(f"must be a number, got {value!r}") from None
    return value


def _whole(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError(f"must be a whole number, got {value!r}")
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            raise ValueError(f"must be a whole number, got {value!r}") from None
    if not isinstance(value, int):
        raise ValueError(f"must be a whole number, got {value!r}")
    return value


def _finite(value: float) -> float:
    if not math.isfinite(value):
        raise ValueError(f"must be a finite number, got {value}")
    return value


def _positive(value: float) -> float:
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"must be a finite number greater than 0, got {value}")
    if value > LARGEST:
        raise ValueError(f"must be at most {LARGEST:g}, got {value:g}")
    return value


def _non_negative(value: float) -> float:
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"must be a finite number >= 0, got {value}")
    if value > LARGEST:
        raise ValueError(f"must be at most {LARGEST:g}, got {value:g}")
    return value


def _fraction(value: float) -> float:
    if not (0 <= value < 1):  # also refuses NaN
        raise ValueError(f"must be in [0, 1) (0 allowed, 1 not), got {value}")
    return value


def _at_least(minimum: int) -> Callable[[int], int]:
    def check(value: int) -> int:
        if value < minimum:
            raise ValueError(f"must be a whole number >= {minimum}, got {value}")
        return value

    return check


def _batch_size(value: Any) -> Any:
    if isinstance(value, str) and value.strip().lower() == FULL_BATCH:
        return FULL_BATCH
    try:
        size = _whole(value)
    except ValueError:
        raise ValueError(f"must be a whole number >= 1 or 'full', got {value!r}") from None
    if size < 1:
        raise ValueError(f"must be a whole number >= 1 or 'full', got {size}")
    return size


def _unit_interval(value: float) -> float:
    if not (0 < value <= 1):
        raise ValueError(f"must be in (0, 1] (1 allowed, 0 not), got {value}")
    return value


Finite = Annotated[float, BeforeValidator(_number), AfterValidator(_finite)]
UnitInterval = Annotated[float, BeforeValidator(_number), AfterValidator(_unit_interval)]
Positive = Annotated[float, BeforeValidator(_number), AfterValidator(_positive)]
NonNegative = Annotated[float, BeforeValidator(_number), AfterValidator(_non_negative)]
Fraction = Annotated[float, BeforeValidator(_number), AfterValidator(_fraction)]


def _seed(value: int) -> int:
    if not 0 <= value < 2**63:  # what torch's generators take
        raise ValueError(f"must be a whole number from 0 to 2^63 - 1, got {value}")
    return value


Seed = Annotated[int, BeforeValidator(_whole), AfterValidator(_seed)]
Batch = Annotated[BatchSize, BeforeValidator(_batch_size)]


# whole numbers from a minimum up
AtLeastOne = Annotated[int, BeforeValidator(_whole), AfterValidator(_at_least(1))]
AtLeastTwo = Annotated[int, BeforeValidator(_whole), AfterValidator(_at_least(2))]

# the hyperparameters only some algorithms take: `float | None`, filled for the algorithm's own
OwnHyperparameter = Literal["momentum", "alpha", "beta1", "beta2", "eps"]


def _from_preset(description: str) -> Any:
    """A field every algorithm has (lr, weight_decay, batch_size, epochs): typed as its value, because
    `_fill_from_preset` always sets it before validation. Its default None is only pydantic's
    marker of "not required" and is never a value; `Any` lets the field keep its true type."""
    return Field(default=None, description=description)


# --- algorithm presets ---------------------------------------------------------------------

HYPERPARAMETERS = tuple(_HYPERPARAMETERS)
Preset = AlgorithmSpec  # what an algorithm is: its update rule, and defaults that converge on the default data
PRESETS: dict[Algorithm, AlgorithmSpec] = {Algorithm(name): spec for name, spec in ALGORITHMS.items()}


class OptimizerConfig(BaseModel):
    """How to descend: the algorithm and its hyperparameters.

    Fields left out take the chosen algorithm's preset; a hyperparameter the algorithm does not use
    is refused rather than silently ignored.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    algorithm: Algorithm = Field(default=DEFAULT_ALGORITHM, description="Which algorithm to run (the seed's seven, nesterov, adamw).")
    implementation: Implementation = Field(
        default=Implementation.TORCH, description="`torch` uses torch.optim; `scratch` writes the update out by hand."
    )
    lr: Positive = _from_preset(_HYPERPARAMETERS["lr"].description)
    momentum: Fraction | None = Field(default=None, description=_HYPERPARAMETERS["momentum"].description)
    alpha: Fraction | None = Field(default=None, description=_HYPERPARAMETERS["alpha"].description)
    beta1: Fraction | None = Field(default=None, description=_HYPERPARAMETERS["beta1"].description)
    beta2: Fraction | None = Field(default=None, description=_HYPERPARAMETERS["beta2"].description)
    eps: Positive | None = Field(default=None, description=_HYPERPARAMETERS["eps"].description)
    weight_decay: NonNegative = _from_preset(_HYPERPARAMETERS["weight_decay"].description)
    batch_size: Batch = _from_preset("samples per step: a whole number or 'full'")
    epochs: AtLeastOne = _from_preset("passes over the training set")
    schedule: Schedule = Field(default=Schedule.CONSTANT, description="how the learning rate changes over the epochs")
    step_every: AtLeastOne | None = Field(default=None, description="step schedule: epochs between decays")
    gamma: UnitInterval | None = Field(default=None, description="step and exponential schedules: factor per decay")
    lr_min: NonNegative | None = Field(default=None, description="cosine schedule: the learning rate at the end")
    warmup_epochs: AtLeastOne | None = Field(default=None, description="warm-up schedule: epochs to reach lr")
    warmup_start: UnitInterval | None = Field(default=None, description="warm-up schedule: the first epoch's share of lr")

    @model_validator(mode="before")
    @classmethod
    def _fill_from_preset(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        data = {key: value for key, value in data.items() if value is not None}
        try:
            algorithm = Algorithm(data.get("algorithm", DEFAULT_ALGORITHM))
        except ValueError:
            return data  # the field validator reports the unknown name
        preset = PRESETS[algorithm]
        for name, value in preset.defaults.items():
            data.setdefault(name, value)
        try:
            schedule = Schedule(data.get("schedule", Schedule.CONSTANT))
        except ValueError:
            schedule = Schedule.CONSTANT  # the field validator reports the unknown name
        for name, value in SCHEDULE_DEFAULTS[schedule].items():
            data.setdefault(name, value)
        data.setdefault("batch_size", preset.batch_size)
        data.setdefault("epochs", preset.epochs)
        return data

    @field_validator(*HYPERPARAMETERS)
    @classmethod
    def _belongs_to_algorithm(cls, value: float | None, info: ValidationInfo) -> float | None:
        algorithm = info.data.get("algorithm")
        if value is None or algorithm is None:
            return value
        preset = PRESETS[algorithm]
        if info.field_name not in preset.defaults:
            used = ", ".join(preset.hyperparameters)
            raise ValueError(f"does not apply to {algorithm.value} (it uses {used})")
        return value

    @field_validator(*SCHEDULE_SETTINGS)
    @classmethod
    def _belongs_to_schedule(cls, value: float | None, info: ValidationInfo) -> float | None:
        schedule = info.data.get("schedule")
        if value is None or schedule is None:
            return value
        if info.field_name not in SCHEDULE_DEFAULTS[schedule]:
            used = ", ".join(SCHEDULE_DEFAULTS[schedule]) or "no settings"
            raise ValueError(f"does not apply to the {schedule.value} schedule (it uses {used})")
        return value

    def schedule_settings(self) -> dict[str, float]:
        return {name: getattr(self, name) for name in SCHEDULE_DEFAULTS[self.schedule]}

    @property
    def preset(self) -> Preset:
        return PRESETS[self.algorithm]

    @property
    def rule(self) -> UpdateRule:
        return self.preset.rule

    def hyperparameters(self) -> dict[str, float]:
        """The hyperparameters this algorithm uses, with their values."""
        return {name: getattr(self, name) for name in self.preset.hyperparameters}

    def own(self, name: OwnHyperparameter) -> float:
        """One of the algorithm's own hyperparameters that not every algorithm takes (momentum,
        alpha, beta1, beta2, eps). Its field is `float | None`, None for the algorithms that do not
        use it; for the algorithm's own ones the preset always fills it."""
        value: float | None = getattr(self, name) if name in self.preset.defaults else None
        if value is None:
            raise ValueError(f"{self.algorithm.value} does not use {name}")
        return value

    def describe(self) -> str:
        """A short human label, e.g. `adam lr=0.02 beta1=0.9 ...`."""
        parts = [f"{name}={value:g}" for name, value in self.hyperparameters().items()]
        if self.schedule is not Schedule.CONSTANT:
            parts.append(f"schedule={self.schedule.value}")
            parts += [f"{name}={value:g}" for name, value in self.schedule_settings().items()]
        return " ".join([self.algorithm.value, *parts, f"batch={self.batch_size}"])


def _features(value: Any) -> Any:
    if isinstance(value, str):
        value = [name.strip() for name in value.split(",")]
    if isinstance(value, list):
        if any(not isinstance(name, str) or not name for name in value):
            raise ValueError("must be column names separated by commas, with none empty")
        duplicates = sorted({name for name in value if value.count(name) > 1})
        if duplicates:
            raise ValueError(f"names a column twice: {', '.join(duplicates)}")
    return value


def _comma_list(value: Any) -> Any:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",")]
    return value


DEFAULT_CLASSES = 3  # synthetic classification: three clusters, the smallest case softmax needs
DEFAULT_SEPARATION = 1.5  # with the default noise 0.5, centres 3 spreads apart: overlap, so a finite optimum
# The presets' epochs suit the regression bowl; softmax's optimum lies further out along flatter
# directions, so a classification run that does not set its epochs takes this many times more.
CLASSIFICATION_EPOCHS = 10


class DataConfig(BaseModel):
    """Where the training data comes from: seeded synthetic data, or a CSV file."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    source: str = Field(default=SYNTHETIC, min_length=1, description="`synthetic`, or the path of a CSV file with a header row.")
    target: str | None = Field(default=None, description="CSV: the column to predict (default: the last column).")
    features: Annotated[list[str] | None, BeforeValidator(_features)] = Field(
        default=None, description="CSV: the feature columns (default: every column but the target)."
    )
    standardize: bool | None = Field(
        default=None, description="Scale features to zero mean and unit (population) std; default: on for CSV, off for synthetic."
    )
    val_fraction: Fraction = Field(default=0.2, description="Share of the rows held out for validation.")
    samples: AtLeastTwo = Field(default=1000, description="Synthetic: number of rows.")
    dims: AtLeastOne = Field(default=1, description="Synthetic: number of features.")
    noise: NonNegative = Field(default=0.5, description="Synthetic: standard deviation of the Gaussian noise added to y.")
    true_weights: Annotated[list[Finite] | None, BeforeValidator(_comma_list)] = Field(
        default=None, description="Synthetic: the weights of y = Xw + b + noise (default: 3.0, then seeded draws)."
    )
    true_bias: Finite = Field(default=0.8, description="Synthetic: the bias b (default 0.8, the seed's y = 3x + 0.8).")
    seed: Seed = Field(default=0, description="Seed of the synthetic data and of the train/validation split.")
    classes: AtLeastTwo | None = Field(
        default=None, description=f"Synthetic, with --loss cross-entropy: number of classes (default {DEFAULT_CLASSES})."
    )
    separation: Positive | None = Field(
        default=None,
        description=f"Synthetic classes: distance between neighbouring cluster centres (default {DEFAULT_SEPARATION:g}); "
        "each cluster's spread is --noise, so a larger separation means less overlap.",
    )

    @property
    def class_count(self) -> int:
        """Synthetic classification: how many classes to draw."""
        return self.classes if self.classes is not None else DEFAULT_CLASSES

    @property
    def class_separation(self) -> float:
        return self.separation if self.separation is not None else DEFAULT_SEPARATION

    @property
    def is_synthetic(self) -> bool:
        return self.source == SYNTHETIC

    @property
    def standardized(self) -> bool:
        return (not self.is_synthetic) if self.standardize is None else self.standardize

    @model_validator(mode="after")
    def _fields_match_source(self) -> DataConfig:
        if self.is_synthetic:
            wrong = [name for name in ("target", "features") if getattr(self, name) is not None]
            if wrong:
                raise ValueError(f"{wrong[0]} only applies to CSV data, not to synthetic data")
            if self.true_weights is not None and len(self.true_weights) != self.dims:
                raise ValueError(
                    f"true_weights has {len(self.true_weights)} values but dims is {self.dims}"
                )
        else:
            synthetic_only = ("samples", "dims", "noise", "true_weights", "true_bias", "classes", "separation")
            wrong = [n for n in synthetic_only if n in self.model_fields_set]
            if wrong:
                raise ValueError(f"{wrong[0]} only applies to synthetic data, not to a CSV file")
            if self.target is not None and self.features and self.target in self.features:
                raise ValueError(f"the target column {self.target!r} cannot also be a feature")
        return self


_DEVICE = re.compile(r"^(auto|cpu|mps|cuda(:\d+)?)$")


def _device(value: Any) -> Any:
    if isinstance(value, str):
        value = value.strip().lower()
        if not _DEVICE.match(value):
            raise ValueError(f"must be auto, cpu, cuda, cuda:N or mps, got {value!r}")
    return value


class Experiments(BaseModel):
    """The seed's warnings, made into switches: each breaks or changes one thing on purpose."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    forget_zero_grad: bool = Field(default=False, description="never zero .grad: gradients accumulate from step to step")
    no_bias_correction: bool = Field(default=False, description="Adam without bias correction (m̂, v̂): odd first steps")
    train_in_eval_mode: bool = Field(default=False, description="train with model.eval() (nothing changes for a linear model)")
    eval_without_no_grad: bool = Field(
        default=False, description="evaluate without torch.no_grad(): a graph is recorded, numbers are the same"
    )

    @property
    def any(self) -> bool:
        return any(getattr(self, name) for name in type(self).model_fields)


class RunConfig(BaseModel):
    """Everything one training run needs."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    optimizer: OptimizerConfig = Field(default_factory=OptimizerConfig)
    data: DataConfig = Field(default_factory=DataConfig)
    seed: Seed = Field(default=0, description="Seed of the initial parameters and of the order batches are drawn in.")
    init: Init = Field(default=Init.NORMAL, description="Initial parameters: all zeros, or seeded draws from N(0, 1).")
    loss: Loss = Field(
        default=Loss.MSE,
        description="mse (nn.MSELoss: regression, one output) or cross-entropy (nn.CrossEntropyLoss: "
        "one output per class; the target holds class labels).",
    )
    device: Annotated[str, BeforeValidator(_device)] = Field(
        default="auto", description="auto (CUDA, then MPS, then CPU), cpu, cuda, cuda:N or mps."
    )
    engine: Engine = Field(
        default=Engine.AUTOGRAD, description="autograd (loss.backward(), as the seed teaches) or fused (closed-form gradients, in place)."
    )
    max_steps: AtLeastOne | None = Field(default=None, description="Stop after this many steps even if epochs remain.")
    log_every: AtLeastOne = Field(default=1, description="Write a metrics line every this many steps.")
    experiments: Experiments = Field(default_factory=Experiments)

    @model_validator(mode="before")
    @classmethod
    def _longer_for_classification(cls, data: Any) -> Any:
        if not isinstance(data, dict) or str(data.get("loss", Loss.MSE)) != Loss.CROSS_ENTROPY:
            return data
        optimizer = data.get("optimizer")
        if isinstance(optimizer, OptimizerConfig) and "epochs" not in optimizer.model_fields_set:
            epochs = optimizer.epochs * CLASSIFICATION_EPOCHS
            return {**data, "optimizer": optimizer.model_copy(update={"epochs": epochs})}
        if isinstance(optimizer, dict) and optimizer.get("epochs") is None:
            try:
                preset = PRESETS[Algorithm(optimizer.get("algorithm", DEFAULT_ALGORITHM))]
            except ValueError:
                return data  # the optimizer's own check names the unknown algorithm
            return {**data, "optimizer": {**optimizer, "epochs": preset.epochs * CLASSIFICATION_EPOCHS}}
        if optimizer is None:
            return {**data, "optimizer": {"epochs": PRESETS[DEFAULT_ALGORITHM].epochs * CLASSIFICATION_EPOCHS}}
        return data

    @model_validator(mode="after")
    def _data_fits_loss(self) -> RunConfig:
        if self.loss is Loss.MSE:
            if self.data.classes is not None or self.data.separation is not None:
                # no bare field names in these messages: a given flag's name replaces them
                raise ValueError(
                    "a number of classes or their separation only applies to classification (cross-entropy), not to regression (mse)"
                )
        elif self.data.is_synthetic and self.data.true_weights is not None:
            raise ValueError("true weights only apply to regression (mse): synthetic classes are drawn as clusters")
        return self

    @property
    def classifies(self) -> bool:
        return self.loss is Loss.CROSS_ENTROPY

    @model_validator(mode="after")
    def _implementation_needs_autograd(self) -> RunConfig:
        chosen = "implementation" in self.optimizer.model_fields_set
        if self.engine is Engine.FUSED and chosen and self.optimizer.implementation is Implementation.SCRATCH:
            raise ValueError("implementation scratch needs engine autograd (fused writes its own updates)")
        experiments = self.experiments
        if experiments.any and self.engine is Engine.FUSED:
            raise ValueError("the experiments need engine autograd (fused builds no graph and zeroes nothing)")
        if experiments.no_bias_correction and (
            not self.optimizer.rule.bias_correction or self.optimizer.implementation is not Implementation.SCRATCH
        ):
            raise ValueError(
                "Adam without bias correction is an experiment on the hand-written rule: "
                "choose algorithm adam and implementation scratch (adamw works too)"
            )
        return self


def replaced(run: RunConfig, **changes: Any) -> RunConfig:
    """The same run with some settings changed, checked again as a whole."""
    settings = {name: getattr(run, name) for name in RunConfig.model_fields}
    return RunConfig(**{**settings, **changes})


def with_optimizer(run: RunConfig, optimizer: OptimizerConfig) -> RunConfig:
    """The same run with another optimizer, checked again as a whole."""
    return replaced(run, optimizer=optimizer)
