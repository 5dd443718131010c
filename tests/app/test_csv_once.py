"""A CSV in the app: read once, off the UI thread, with its progress shown (issue 15)."""

import threading

import pytest
from textual.widgets import Input, Static

import tui_trainer.app.widgets.data_panel as data_panel
import tui_trainer.core.data as data
from tui_trainer.app.app import TrainerApp
from tui_trainer.core.config import RunConfig

from .helpers import panels, wait_for

pytestmark = pytest.mark.timeout(120)


def write_csv(path, rows=400):
    path.write_text("a,b,y\n" + "".join(f"{i % 7},{i % 5 * 0.5},{2 * (i % 7) - (i % 5) + 1}\n" for i in range(rows)))
    return path


async def test_the_file_is_parsed_once_for_its_summary_and_its_curvature(tmp_path, monkeypatch):
    reads = []
    real_read = data._read_rows  # what parses a CSV file, for read_csv and load_dataset alike

    def counted(*args, **kwargs):
        reads.append(args[0])
        return real_read(*args, **kwargs)

    monkeypatch.setattr(data, "_read_rows", counted)
    csv = write_csv(tmp_path / "points.csv")
    app = TrainerApp(RunConfig.model_validate({"data": {"source": str(csv)}}))
    async with app.run_test(size=(120, 40)) as pilot:
        await panels(pilot)
        status = app.query_one("#csv-status", Static)
        await wait_for(pilot, lambda: "400 rows" in str(status.render()), what="the file's summary")
        await wait_for(pilot, lambda: app.screen.stability is not None, what="the curvature")
        assert len(reads) == 1  # before: once for the summary, once more for the curvature
        # a new validation fraction is new training rows: one more read, for both again
        app.query_one("#field-data--val-fraction", Input).value = "0.5"
        await wait_for(pilot, lambda: len(reads) == 2 and app.screen._stability_data[0].val_fraction == 0.5, what="the new split")
        panel = app.query_one(data_panel.DataPanel)
        await wait_for(
            pilot, lambda: app.screen.stability is not None and panel.loaded[0][0].val_fraction == 0.5, what="the new curvature"
        )
        assert len(reads) == 2


async def test_a_big_file_shows_its_progress_and_the_app_answers_meanwhile(tmp_path, monkeypatch):
    """The read is held at 40% (a fake progress report) until the test has seen it on screen
    and the app has answered a key: the UI thread never waits for the file."""
    release = threading.Event()
    real_load = data.load_dataset

    def slow_load(config, progress=None, classify=False):
        progress(40_000_000, 100_000_000)
        assert release.wait(60), "the test never let the read finish"
        return real_load(config, progress, classify)

    monkeypatch.setattr(data, "load_dataset", slow_load)
    monkeypatch.setattr(data_panel, "PROGRESS_SECONDS", 0)
    csv = write_csv(tmp_path / "big.csv")
    app = TrainerApp(RunConfig.model_validate({"data": {"source": str(csv)}}))
    async with app.run_test(size=(120, 40)) as pilot:
        await panels(pilot)
        status = app.query_one("#csv-status", Static)
        try:
            await wait_for(pilot, lambda: "40% of 100 MB" in str(status.render()), what="the progress")
            await pilot.press("v")  # the views cycle while the file is read
            await wait_for(pilot, lambda: app.screen.views.active == "tab-race", what="the key to be handled")
        finally:
            release.set()
        await wait_for(pilot, lambda: "400 rows" in str(status.render()), what="the file's summary")
