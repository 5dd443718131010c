"""The optimizer and data panels as one form: validated as it is typed, locked while a run goes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Input, Select, Static, Switch, TabbedContent, TabPane

from ...core.config import RunConfig
from ..form import (
    CLASSIFICATION_ONLY,
    CSV,
    HYPERPARAMETER_FIELDS,
    REGRESSION_ONLY,
    SCHEDULE_FIELDS,
    build_config,
    data_config,
    default_epochs,
    preset_values,
    schedule_values,
    visible_text_fields,
)
from ..messages import LearningRateSubmitted
from .data_panel import DataPanel
from .optimizer_panel import OptimizerPanel
from .setting_field import SettingField

LR_PATH = "optimizer.lr"


class SettingsForm(Vertical):
    DEFAULT_CSS = """
    SettingsForm { height: 1fr; }
    SettingsForm TabbedContent { height: 1fr; }
    SettingsForm TabPane { padding: 0 1; }
    SettingsForm #form-problem { color: $error; display: none; padding: 0 1; }
    SettingsForm.-cross-problem #form-problem { display: block; }
    """

    @dataclass
    class Changed(Message):
        """The form was edited: `config` is None while any field is wrong."""

        form: SettingsForm
        config: RunConfig | None

    def __init__(self, values: dict) -> None:
        super().__init__(id="settings")
        self.initial = values
        self.config: RunConfig | None = None
        self.problems: dict[str, str] = {}
        self.warnings: dict[str, str] = {}  # cautions by field path: they do not refuse the value
        self.algorithm = values["optimizer.algorithm"]
        self.schedule = values["optimizer.schedule"]
        self.loss = values["loss"]
        # The standardize switch follows the source's default (on for CSV, as on the command line)
        # until the person sets it: then their choice stays whatever the source.
        self.standardize_default = values["data.kind"] == CSV
        self.standardize_chosen = bool(values["data.standardize"]) != self.standardize_default

    def compose(self) -> ComposeResult:
        with TabbedContent(id="settings-tabs"):
            with TabPane("Optimizer", id="tab-optimizer"):
                yield OptimizerPanel(self.initial)
            with TabPane("Data", id="tab-data"):
                yield DataPanel(self.initial)
        yield Static("", id="form-problem")

    def on_mount(self) -> None:
        self.query_one(OptimizerPanel).show_engine(self.initial["engine"])
        self._show_fields()
        self.validate()

    # --- reading and checking ---

    def fields(self) -> dict[str, SettingField]:
        return {row.field.path: row for row in self.query(SettingField)}

    def values(self) -> dict:
        values: dict[str, Any] = {path: row.value for path, row in self.fields().items()}
        values["optimizer.algorithm"] = self.query_one("#select-algorithm", Select).value
        values["optimizer.implementation"] = self.query_one("#select-implementation", Select).value
        values["engine"] = self.query_one("#select-engine", Select).value
        values["optimizer.schedule"] = self.query_one("#select-schedule", Select).value
        values["init"] = self.query_one("#select-init", Select).value
        values["data.kind"] = self.query_one("#select-source", Select).value
        values["loss"] = self.query_one("#select-loss", Select).value
        values["data.standardize"] = self.query_one("#switch-standardize", Switch).value
        return values

    def validate(self) -> RunConfig | None:
        """Check the whole form, mark each wrong field, and remember the result."""
        self.config, self.problems = build_config(self.values())
        csv_problem = self.query_one(DataPanel).csv_problem
        if self.config is not None and not self.config.data.is_synthetic and csv_problem:
            self.config, self.problems = None, {"data.source": csv_problem}
        shown = dict(self.problems)
        if "data.source" in shown and shown["data.source"] == csv_problem:
            shown["data.source"] = ""  # marked, but said once: in the file's status line below it
        for path, row in self.fields().items():
            row.show_problem(shown.get(path), self.warnings.get(path))
        cross = [message for path, message in self.problems.items() if path not in self.fields()]
        self.query_one("#form-problem", Static).update("\n".join(cross))
        self.set_class(bool(cross), "-cross-problem")
        self.post_message(self.Changed(self, self.config))
        return self.config

    def first_problem(self) -> str | None:
        if not self.problems:
            return None
        path, message = next(iter(self.problems.items()))
        row = self.fields().get(path)
        return f"{row.field.label}: {message}" if row else message

    # --- reacting to edits ---

    @on(Select.Changed, "#select-algorithm")
    def _algorithm_changed(self, event: Select.Changed) -> None:
        if event.value == self.algorithm:
            return  # Select also reports its first value: keep what was preloaded
        self.algorithm = str(event.value)
        fields = self.fields()
        for path, text in preset_values(str(event.value), self.loss).items():
            fields[path].value = text
        self.query_one(OptimizerPanel).show_summary(str(event.value))
        self._show_fields()
        self.validate()

    @on(Select.Changed, "#select-loss")
    def _loss_changed(self, event: Select.Changed) -> None:
        if event.value == self.loss:
            return  # Select also reports its first value
        old, self.loss = self.loss, str(event.value)
        epochs = self.fields()["optimizer.epochs"]
        if epochs.value.strip() == default_epochs(self.algorithm, old):  # the old loss's default: take the new one's
            epochs.value = default_epochs(self.algorithm, self.loss)
        self._show_fields()
        self._check_csv()  # a class column is read differently
        self.validate()

    @on(Select.Changed, "#select-source")
    def _source_changed(self, event: Select.Changed) -> None:
        self.query_one(DataPanel).show_source(str(event.value))
        self.standardize_default = event.value == CSV
        switch = self.query_one("#switch-standardize", Switch)
        if not self.standardize_chosen and switch.value != self.standardize_default:
            switch.value = self.standardize_default  # its Changed matches the default: not a choice
        self._show_fields()
        self._check_csv()
        self.validate()

    @on(Select.Changed, "#select-schedule")
    def _schedule_changed(self, event: Select.Changed) -> None:
        if event.value == self.schedule:
            return  # Select also reports its first value
        self.schedule = str(event.value)
        fields = self.fields()
        for path, text in schedule_values(self.schedule).items():
            fields[path].value = text
        self._show_fields()
        self.validate()

    @on(Select.Changed, "#select-engine")
    def _engine_changed(self, event: Select.Changed) -> None:
        self.query_one(OptimizerPanel).show_engine(str(event.value))
        self.validate()

    @on(Select.Changed, "#select-implementation, #select-init")
    def _choice_changed(self) -> None:
        self.validate()

    @on(Switch.Changed, "#switch-standardize")
    def _standardize_changed(self, event: Switch.Changed) -> None:
        if event.value != self.standardize_default:
            self.standardize_chosen = True  # only a person sets it against the source's default
        self._check_csv()  # the curvature is of the standardized rows
        self.validate()

    @on(Input.Changed)
    def _text_changed(self, event: Input.Changed) -> None:
        if event.input.id and "data--" in event.input.id and self.values()["data.kind"] == CSV:
            self._check_csv()
        self.validate()

    @on(DataPanel.CsvChecked)
    def _csv_checked(self) -> None:
        self.validate()

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        row = self.fields().get(LR_PATH)
        if row is not None and event.input is row.input and LR_PATH not in self.problems and self.config:
            self.post_message(LearningRateSubmitted(self.config.optimizer.lr))

    def _check_csv(self) -> None:
        """Read the CSV (once) for the data settings as they now stand."""
        values = self.values()
        if values["data.kind"] != CSV or not values["data.source"].strip():
            return
        data = data_config(values)
        if data is None:
            return  # a data field is wrong and says so; the file is read once they are right
        panel = self.query_one(DataPanel)
        loss = values["loss"]
        panel.asked = (data, loss)
        panel.check_csv(data, loss)

    def _show_fields(self) -> None:
        visible = {field.path for field in visible_text_fields(self.values())}
        optional = {f.path for f in (*HYPERPARAMETER_FIELDS.values(), *SCHEDULE_FIELDS.values())} | REGRESSION_ONLY | CLASSIFICATION_ONLY
        for path, row in self.fields().items():
            if path in optional:
                row.display = path in visible

    # --- while a run goes ---

    def set_locked(self, locked: bool) -> None:
        """Freeze every setting except the learning rate, which stays live."""
        for widget in self.query("Input, Select, Switch"):
            widget.disabled = locked and widget.id != "field-optimizer--lr"

    def set_lr_text(self, lr: float) -> None:
        if (field := self.fields().get(LR_PATH)) is not None:  # None while the app tears the form down
            field.value = f"{lr:g}"

    def warn(self, path: str, message: str | None) -> None:
        if message is None:
            self.warnings.pop(path, None)
        else:
            self.warnings[path] = message
        if (field := self.fields().get(path)) is not None:  # None while the app tears the form down
            field.show_problem(self.problems.get(path), message)

    def set_values(self, values: dict[str, str]) -> None:
        """Put these into the form (as a person would) and check it. A new algorithm loads its
        preset first, here and now, so the other values given are not overwritten by it later."""
        fields = self.fields()
        algorithm = values.get("optimizer.algorithm")
        if algorithm is not None and algorithm != self.algorithm:
            self.algorithm = algorithm  # the Select's own Changed then finds nothing to do
            self.query_one("#select-algorithm", Select).value = algorithm
            for path, text in preset_values(algorithm, self.loss).items():
                fields[path].value = text
            self.query_one(OptimizerPanel).show_summary(algorithm)
            self._show_fields()
        for path, text in values.items():
            if path == "optimizer.implementation":
                self.query_one("#select-implementation", Select).value = text
            elif path in ("loss", "data.kind"):
                self.query_one("#select-loss" if path == "loss" else "#select-source", Select).value = text
            elif path != "optimizer.algorithm":
                fields[path].value = text
        self.validate()
