"""Where the rows come from: synthetic data, or a CSV file checked as its path is typed."""

from __future__ import annotations

from pathlib import Path

from textual import work
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.widgets import Label, Static, Switch

from ..form import CSV_FIELDS, LOSSES, SHARED_DATA_FIELDS, SOURCES, SYNTHETIC_FIELDS
from .optimizer_panel import choice_row
from .setting_field import SettingField


class DataPanel(VerticalScroll):
    DEFAULT_CSS = """
    DataPanel .choice { height: 1; }
    DataPanel .choice .label, DataPanel .switch-row .label { width: 13; color: $text-muted; }
    DataPanel .choice Select { width: 1fr; }
    DataPanel .switch-row { height: 1; }
    DataPanel Switch { height: 1; border: none; padding: 0; }
    DataPanel #csv-status { color: $text-muted; padding-left: 2; }
    DataPanel #csv-status.-problem { color: $error; }
    DataPanel.-synthetic .csv-only, DataPanel.-csv .synthetic-only { display: none; }
    """

    class CsvChecked(Message):
        """The CSV fields were checked: `problem` is None when the file loads."""

        def __init__(self, problem: str | None) -> None:
            super().__init__()
            self.problem = problem

    def __init__(self, values: dict) -> None:
        super().__init__(id="data-panel")
        self.values = values
        self.csv_problem: str | None = None
        self.asked: tuple | None = None  # the (path, target, features, classify) last sent to check_csv

    def compose(self) -> ComposeResult:
        yield choice_row("loss", LOSSES, self.values["loss"], "select-loss")
        yield choice_row("data", SOURCES, self.values["data.kind"], "select-source")
        for field in SYNTHETIC_FIELDS:
            hint = {"true_weights": "3, then seeded draws", "classes": "3", "separation": "1.5"}.get(field.name, "")
            row = SettingField(field, self.values.get(field.path, ""), hint)
            row.add_class("synthetic-only")
            yield row
        for field in CSV_FIELDS:
            hint = {"target": "last column", "features": "all other columns", "source": "data.csv"}[field.name]
            row = SettingField(field, self.values.get(field.path, ""), hint)
            row.add_class("csv-only")
            yield row
        with Horizontal(classes="switch-row"):
            yield Label("standardize", classes="label")
            yield Switch(value=bool(self.values["data.standardize"]), id="switch-standardize")
        yield Static("", id="csv-status", classes="csv-only")
        for field in SHARED_DATA_FIELDS:
            yield SettingField(field, self.values.get(field.path, ""))

    def on_mount(self) -> None:
        self.show_source(self.values["data.kind"])

    def show_source(self, kind: str) -> None:
        self.set_class(kind != "csv", "-synthetic")
        self.set_class(kind == "csv", "-csv")

    @work(thread=True, exclusive=True, group="csv-check", exit_on_error=False)
    def check_csv(self, path: str, target: str | None, features: list[str] | None, classify: bool = False) -> None:
        """Read the file off the UI thread; a big CSV must not freeze the form. With `classify`
        (cross-entropy) the target must hold classes, as the command line checks it."""
        from ...core.data import read_csv
        from ...core.errors import DataError

        problem: str | None
        try:
            table = read_csv(Path(path), target, features, classes=classify)
        except DataError as error:
            problem, status = str(error), str(error)
        except Exception as error:  # whatever else the file system says: shown, never a crash
            problem = status = f"{path}: cannot be read ({error})"
        else:
            problem = None
            names = ", ".join(table.feature_names)
            status = f"{len(table.x)} rows · target {table.target_name!r} · features: {names}"
            if table.classes is not None:
                status += f" · {len(table.classes)} classes: " + ", ".join(table.classes)
        self.app.call_from_thread(self._show_csv_status, problem, status, (path, target, features, classify))

    def _show_csv_status(self, problem: str | None, status: str, checked: tuple) -> None:
        if checked != self.asked:
            return  # the fields changed again while this file was read
        self.csv_problem = problem
        label = self.query_one("#csv-status", Static)
        label.update(status)
        label.set_class(problem is not None, "-problem")
        self.post_message(self.CsvChecked(problem))
