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

from ..form import CSV_FIELDS, LOSSES, SHARED_DATA_FIELDS, SOURCES, SYNTHETIC_FIELDS
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
        """The CSV was read for `asked` (the data settings and the loss): `problem` is None when it
        loads; `curvature` is (the curvature of its training rows, separable), None when the
        optimum does not fit in memory. A classifier's is at its optimum without weight decay."""

        def __init__(self, problem: str | None, asked: tuple | None = None, curvature: tuple | None = None) -> None:
            super().__init__()
            self.problem, self.asked, self.curvature = problem, asked, curvature

    def __init__(self, values: dict) -> None:
        super().__init__(id="data-panel")
        self.values = values
        self.csv_problem: str | None = None
        self.asked: tuple[DataConfig, str] | None = None  # the data settings and the loss last sent to check_csv
        # the last file read well, and its (curvature, separable): None when there is none to show
        self.loaded: tuple[tuple[DataConfig, str], tuple[Stability | None, bool] | None] | None = None

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
    def check_csv(self, data: DataConfig, loss: str = "mse") -> None:
        """Read the file once, off the UI thread, with its progress in the status line: the
        summary, the problem and the curvature the Learn view and the lr warning need all come
        from that one read (a big CSV must neither freeze the form nor be parsed twice). A newer
        check cancels this one at its next progress report."""
        from ...core.data import load_dataset
        from ...core.errors import DataError
        from ...core.objective import curvature_of, objective_for

        worker = get_current_worker()
        shown = [time.monotonic()]

        def progress(done: int, total: int) -> None:
            if worker.is_cancelled:
                raise _Superseded
            if done < total and time.monotonic() - shown[0] >= PROGRESS_SECONDS:
                shown[0] = time.monotonic()
                self.app.call_from_thread(self._show_progress, data, done, total)

        curvature: tuple[Stability | None, bool] | None = None
        problem: str | None
        try:  # with cross-entropy the target must hold classes, as the command line checks it
            dataset = load_dataset(data, progress, classify=objective_for(loss).classifies)
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
            if dataset.classes is not None:
                status += f" · {len(dataset.classes)} classes: " + ", ".join(dataset.classes)
            with suppress(DataError, ArithmeticError):  # the optimum's memory: the run says so when it starts
                curvature = curvature_of(dataset.x_train, dataset.y_train, dataset.outputs, loss)
            del dataset
        if not worker.is_cancelled:
            self.app.call_from_thread(self._show_csv_status, problem, status, (data, loss), curvature)

    def _show_progress(self, data: DataConfig, done: int, total: int) -> None:
        if self.asked is not None and data == self.asked[0]:
            self.query_one("#csv-status", Static).update(f"reading {escape(data.source)}: {done / total:.0%} of {total / 1e6:,.0f} MB")

    def _show_csv_status(
        self, problem: str | None, status: str, asked: tuple[DataConfig, str], curvature: tuple[Stability | None, bool] | None
    ) -> None:
        if asked != self.asked:
            return  # the fields changed again while this file was read
        self.csv_problem = problem
        self.loaded = (asked, curvature) if problem is None else None
        label = self.query_one("#csv-status", Static)
        label.update(escape(status))
        label.set_class(problem is not None, "-problem")
        self.post_message(self.CsvChecked(problem, asked, curvature))


class _Superseded(Exception):
    """A newer check of the fields replaced this read: stop it at its next progress report."""
