"""The settings form without the widgets: which fields exist, and turning typed text into a
validated RunConfig (or a message for each field that is wrong). The core's pydantic models do all
the checking, so the form refuses exactly what the CLI refuses."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

from ..core.config import (
    CLASSIFICATION_EPOCHS,
    HYPERPARAMETERS,
    PRESETS,
    SCHEDULE_DEFAULTS,
    SCHEDULE_SETTINGS,
    SYNTHETIC,
    Algorithm,
    DataConfig,
    OptimizerConfig,
    RunConfig,
    Schedule,
)
from ..core.rules import ALGORITHMS as ALGORITHM_SPECS
from ..core.rules import HYPERPARAMETERS as RULE_HYPERPARAMETERS
from ..core.validation import field_errors
from ..names import Engine, Implementation, Init, Loss, names

CSV = "csv"


@dataclass(frozen=True)
class TextField:
    """A typed-in setting: `path` is where it lives in RunConfig (`optimizer.lr`)."""

    path: str
    label: str

    @property
    def name(self) -> str:
        return self.path.rpartition(".")[2]

    @property
    def help(self) -> str:
        section, _, name = self.path.rpartition(".")
        models: dict[str, type[BaseModel]] = {"optimizer": OptimizerConfig, "data": DataConfig, "": RunConfig}
        return models[section].model_fields[name].description or ""


HYPERPARAMETER_FIELDS = {name: TextField(f"optimizer.{name}", h.label) for name, h in RULE_HYPERPARAMETERS.items()}
OPTIMIZER_FIELDS = [
    *HYPERPARAMETER_FIELDS.values(),
    TextField("optimizer.batch_size", "batch size"),
    TextField("optimizer.epochs", "epochs"),
    TextField("max_steps", "max steps"),
    TextField("seed", "seed"),
    TextField("device", "device"),
]
SCHEDULE_FIELDS = {
    name: TextField(f"optimizer.{name}", label)
    # a label is at most 12 characters: the label column is 13 wide, and one more runs into the value
    for name, label in zip(SCHEDULE_SETTINGS, ("epochs/decay", "gamma", "final lr", "warm epochs", "start share"), strict=True)
}
SYNTHETIC_FIELDS = [
    TextField("data.samples", "samples"),
    TextField("data.dims", "features"),
    TextField("data.noise", "noise"),
    TextField("data.true_weights", "true w"),
    TextField("data.true_bias", "true b"),
    TextField("data.classes", "classes"),
    TextField("data.separation", "separation"),
]
REGRESSION_ONLY = {"data.true_weights", "data.true_bias"}  # synthetic regression's line
CLASSIFICATION_ONLY = {"data.classes", "data.separation"}  # synthetic classes' clusters
CSV_FIELDS = [
    TextField("data.source", "CSV path"),
    TextField("data.target", "target"),
    TextField("data.features", "features"),
]
SHARED_DATA_FIELDS = [TextField("data.val_fraction", "val fraction"), TextField("data.seed", "data seed")]
TEXT_FIELDS = [*OPTIMIZER_FIELDS, *SCHEDULE_FIELDS.values(), *SYNTHETIC_FIELDS, *CSV_FIELDS, *SHARED_DATA_FIELDS]

# choices: the non-text settings
ALGORITHMS = list(ALGORITHM_SPECS)
IMPLEMENTATIONS = list(names(Implementation))
ENGINES = list(names(Engine))
SCHEDULES = list(names(Schedule))
INITS = sorted(names(Init), key=lambda name: name != RunConfig.model_fields["init"].default)  # the default first
SOURCES = [SYNTHETIC, CSV]
LOSSES = list(names(Loss))


def format_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list):
        return ",".join(format_value(item) for item in value)
    return str(value)


def values_from_config(config: RunConfig) -> dict[str, Any]:
    """Form values (text, or choices) showing `config`."""
    data = config.data
    values: dict[str, Any] = {
        "optimizer.algorithm": config.optimizer.algorithm.value,
        "optimizer.implementation": config.optimizer.implementation.value,
        "engine": config.engine.value,
        "optimizer.schedule": config.optimizer.schedule.value,
        "init": config.init.value,
        "loss": config.loss.value,
        "data.kind": SYNTHETIC if data.is_synthetic else CSV,
        "data.standardize": data.standardized,
    }
    for field in TEXT_FIELDS:
        section, _, name = field.path.rpartition(".")
        model = {"optimizer": config.optimizer, "data": data, "": config}[section]
        values[field.path] = format_value(getattr(model, name))
    if data.is_synthetic:
        values["data.source"] = ""
    return values


def preset_values(algorithm: str, loss: str = Loss.MSE) -> dict[str, str]:
    """Text for the fields an algorithm change resets: its hyperparameters, batch size, epochs."""
    preset = PRESETS[Algorithm(algorithm)]
    values = {HYPERPARAMETER_FIELDS[name].path: format_value(value) for name, value in preset.defaults.items()}
    values["optimizer.batch_size"] = format_value(preset.batch_size)
    values["optimizer.epochs"] = default_epochs(algorithm, loss)
    return values


def default_epochs(algorithm: str, loss: str) -> str:
    """The epochs a run takes when it does not set them: a classification's are longer (as on the
    command line: softmax's optimum lies further out than the regression bowl's)."""
    epochs = PRESETS[Algorithm(algorithm)].epochs
    return format_value(epochs * CLASSIFICATION_EPOCHS if loss == Loss.CROSS_ENTROPY else epochs)


def schedule_values(schedule: str) -> dict[str, str]:
    """Text for a schedule's own fields: its defaults."""
    return {SCHEDULE_FIELDS[name].path: format_value(value) for name, value in SCHEDULE_DEFAULTS[Schedule(schedule)].items()}


def visible_text_fields(values: dict[str, Any]) -> list[TextField]:
    """The fields that belong to the chosen algorithm, schedule and data source."""
    used = PRESETS[Algorithm(values["optimizer.algorithm"])].hyperparameters
    fields = [f for f in OPTIMIZER_FIELDS if f.path.rpartition(".")[2] not in HYPERPARAMETERS or f.name in used]
    fields += [SCHEDULE_FIELDS[name] for name in SCHEDULE_DEFAULTS[Schedule(values.get("optimizer.schedule", "constant"))]]
    if values["data.kind"] == SYNTHETIC:
        hidden = REGRESSION_ONLY if values.get("loss", Loss.MSE) == Loss.CROSS_ENTROPY else CLASSIFICATION_ONLY
        fields += [f for f in SYNTHETIC_FIELDS if f.path not in hidden]
    else:
        fields += CSV_FIELDS
    return fields + SHARED_DATA_FIELDS


def build_config(values: dict[str, Any]) -> tuple[RunConfig | None, dict[str, str]]:
    """A RunConfig from form values, or the problems by field path. Blank text means default."""
    settings: dict[str, Any] = {"optimizer": {}, "data": {}}
    settings["optimizer"]["algorithm"] = values["optimizer.algorithm"]
    settings["engine"] = values["engine"]
    settings["optimizer"]["schedule"] = values.get("optimizer.schedule", "constant")
    if values["engine"] == "autograd":  # the fused engine has no implementations to choose from
        settings["optimizer"]["implementation"] = values["optimizer.implementation"]
    settings["init"] = values["init"]
    settings["loss"] = values.get("loss", Loss.MSE)
    csv = values["data.kind"] == CSV
    if csv and not str(values.get("data.source", "")).strip():
        return None, {"data.source": "choose a CSV file (a path)"}
    for field in visible_text_fields(values):
        text = str(values.get(field.path, "")).strip()
        section, _, name = field.path.rpartition(".")
        if text and section != "data":
            (settings[section] if section else settings)[name] = text
    settings["data"] = _data_settings(values)
    try:
        return RunConfig.model_validate(settings), {}
    except ValidationError as error:
        return None, field_errors(error)


def data_config(values: dict[str, Any]) -> DataConfig | None:
    """The data settings alone, or None while one of them is wrong: a CSV is read as soon as
    they are whole, whatever the optimizer's fields say."""
    try:
        return DataConfig.model_validate(_data_settings(values))
    except ValidationError:
        return None


def _data_settings(values: dict[str, Any]) -> dict[str, Any]:
    """The form's data fields as DataConfig settings. Blank text means default."""
    csv = values["data.kind"] == CSV
    settings: dict[str, Any] = {} if csv else {"source": SYNTHETIC}
    if bool(values["data.standardize"]) != csv:  # only what differs from the source's default (on for CSV)
        settings["standardize"] = bool(values["data.standardize"])
    for field in visible_text_fields(values):
        text = str(values.get(field.path, "")).strip()
        section, _, name = field.path.rpartition(".")
        if text and section == "data":
            settings[name] = text
    return settings


def lr_warning(config: RunConfig, found) -> str | None:
    """A warning for a learning rate past what the data's curvature allows (core.stability)."""
    rule = config.optimizer.rule.name
    lr = config.optimizer.lr
    # a classifier's curvature is its optimum's: past the limit it cannot settle there
    outcome = "cannot settle at the optimum" if config.classifies else "diverges here"
    if rule == "plain" and lr > found.max_stable_lr:
        return f"above 2/λmax = {found.max_stable_lr:.4g}: plain full-batch gradient descent {outcome}"
    if rule == "momentum":
        limit = 2 * (1 + (config.optimizer.momentum or 0.0)) / found.largest  # set for every momentum rule
        if lr > limit:
            return f"above 2(1+μ)/λmax = {limit:.4g}: momentum {outcome}"
    return None
