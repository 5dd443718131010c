"""Where the rows come from: synthetic data, or a CSV file checked as its path is typed."""

from __future__ import annotations

import time
from contextlib import suppress
from typing import TYPE_CHECKING

from rich.markup import escape
from textual import work
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.widgets import Label, Static, Switch
from textual.worker import get_current_worker

from ..form import CSV_FIELDS, SHARED_DATA_FIELDS, SOURCES, SYNTHETIC_FIELDS
from .optimizer_panel import choice_row
from .setting_field import SettingField

if TYPE_CHECKING:
    from ...core.config import DataConfig
    from ...core.stability import Stability

PROGRESS_SECONDS = 0.1  # a big file's progress, at most this often


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
        """The CSV was read for `data`: `problem` is None when it loads; `stability` is the
        curvature of its training rows (None when the optimum does not fit in memory)."""

        def __init__(self, problem: str | None, data: DataConfig | None = None, stability: Stability | None = None) -> None:
            super().__init__()
            self.problem, self.data, self.stability = problem, data, stability

    def __init__(self, values: dict) -> None:
        super().__init__(id="data-panel")
        self.values = values
        self.csv_problem: str | None = None
        self.asked: DataConfig | None = None  # the data settings last sent to check_csv
        self.loaded: tuple[DataConfig, Stability | None] | None = None  # the last file read well, and its curvature

    def compose(self) -> ComposeResult:
        yield choice_row("data", SOURCES, self.values["data.kind"], "select-source")
        for field in SYNTHETIC_FIELDS:
            row = SettingField(field, self.values.get(field.path, ""), "3, then seeded draws" if field.name == "true_weights" else "")
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
    def check_csv(self, data: DataConfig) -> None:
        """Read the file once, off the UI thread, with its progress in the status line: the
        summary, the problem and the curvature the Learn view and the lr warning need all come
        from that one read (a big CSV must neither freeze the form nor be parsed twice). A newer
        check cancels this one at its next progress report."""
        from ...core.data import load_dataset
        from ...core.errors import DataError
        from ...core.objective import objective_for

        worker = get_current_worker()
        shown = [time.monotonic()]

        def progress(done: int, total: int) -> None:
            if worker.is_cancelled:
                raise _Superseded
            if done < total and time.monotonic() - shown[0] >= PROGRESS_SECONDS:
                shown[0] = time.monotonic()
                self.app.call_from_thread(self._show_progress, data, done, total)

        stability: Stability | None = None
        problem: str | None
        try:
            dataset = load_dataset(data, progress)
        except _Superseded:
            return
        except DataError as error:
            problem = status = str(error)
        except Exception as error:  # whatever else the file system says: shown, never a crash
            problem = status = f"{data.source}: cannot be read ({error})"
        else:
            problem = None
            names = ", ".join(dataset.feature_names)
            status = f"{dataset.n_train + dataset.n_val} rows · target {dataset.target_name!r} · features: {names}"
            with suppress(DataError):  # the optimum's memory: the run says so when it starts
                stability = objective_for().curvature(dataset.x_train, dataset.y_train)
            del dataset
        if not worker.is_cancelled:
            self.app.call_from_thread(self._show_csv_status, problem, status, data, stability)

    def _show_progress(self, data: DataConfig, done: int, total: int) -> None:
        if data == self.asked:
            self.query_one("#csv-status", Static).update(f"reading {escape(data.source)}: {done / total:.0%} of {total / 1e6:,.0f} MB")

    def _show_csv_status(self, problem: str | None, status: str, data: DataConfig, stability: Stability | None) -> None:
        if data != self.asked:
            return  # the fields changed again while this file was read
        self.csv_problem = problem
        self.loaded = (data, stability) if problem is None else None
        label = self.query_one("#csv-status", Static)
        label.update(escape(status))
        label.set_class(problem is not None, "-problem")
        self.post_message(self.CsvChecked(problem, data, stability))


class _Superseded(Exception):
    """A newer check of the fields replaced this read: stop it at its next progress report."""
