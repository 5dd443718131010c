"""The algorithm, its implementation and the hyperparameters that belong to it."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Label, Select, Static

from ...core.config import PRESETS, Algorithm
from ..form import ALGORITHMS, ENGINES, IMPLEMENTATIONS, INITS, OPTIMIZER_FIELDS, SCHEDULE_FIELDS, SCHEDULES
from .setting_field import SettingField


def choice_row(label: str, choices: list[str], value: str, select_id: str) -> Horizontal:
    return Horizontal(
        Label(label, classes="label"),
        Select([(choice, choice) for choice in choices], value=value, allow_blank=False, compact=True, id=select_id),
        classes="choice",
        id=f"{select_id}-row",
    )


class OptimizerPanel(VerticalScroll):
    DEFAULT_CSS = """
    OptimizerPanel .choice { height: 1; margin-bottom: 0; }
    OptimizerPanel .choice .label { width: 13; color: $text-muted; }
    OptimizerPanel .choice Select { width: 1fr; }
    OptimizerPanel #algorithm-summary { color: $text-muted; margin: 0 0 1 0; }
    """

    def __init__(self, values: dict) -> None:
        super().__init__(id="optimizer-panel")
        self.values = values

    def compose(self) -> ComposeResult:
        algorithm = self.values["optimizer.algorithm"]
        yield choice_row("algorithm", ALGORITHMS, algorithm, "select-algorithm")
        yield Static(PRESETS[Algorithm(algorithm)].summary, id="algorithm-summary")
        yield choice_row("engine", ENGINES, self.values["engine"], "select-engine")
        yield choice_row("update by", IMPLEMENTATIONS, self.values["optimizer.implementation"], "select-implementation")
        for field in OPTIMIZER_FIELDS:
            placeholder = "no limit" if field.path == "max_steps" else ""
            yield SettingField(field, self.values.get(field.path, ""), placeholder)
            if field.name == "epochs":  # the schedule right under the epochs it spans
                yield choice_row("lr schedule", SCHEDULES, self.values["optimizer.schedule"], "select-schedule")
                for schedule_field in SCHEDULE_FIELDS.values():
                    yield SettingField(schedule_field, self.values.get(schedule_field.path, ""))
        yield choice_row("init", INITS, self.values["init"], "select-init")

    def show_engine(self, engine: str) -> None:
        """torch.optim or scratch is a choice of the autograd engine only."""
        self.query_one("#select-implementation-row").display = engine == "autograd"

    def show_summary(self, algorithm: str) -> None:
        self.query_one("#algorithm-summary", Static).update(PRESETS[Algorithm(algorithm)].summary)
