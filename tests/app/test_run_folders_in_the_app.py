"""Run folders in the app: --save keeps one up to date, ctrl+s saves (asking where), --resume
opens a saved run paused with its chart rebuilt. The real trainer process is behind the app."""

import json
from pathlib import Path

import pytest

from tui_trainer.app.app import TrainerApp
from tui_trainer.app.save_screen import SaveScreen, default_folder
from tui_trainer.core import checkpoint
from tui_trainer.core.config import RunConfig
from tui_trainer.core.events import RunState
from tui_trainer.core.run_folder import RunFolder

from .helpers import notified, panels, wait_for, wait_for_state

pytestmark = pytest.mark.timeout(120)

SMALL = {"optimizer": {"algorithm": "mbgd", "epochs": 6, "batch_size": 40}, "data": {"samples": 200}}  # 4 steps an epoch


def steps_in(path: Path) -> list[int]:
    return [json.loads(line)["step"] for line in path.read_text().splitlines()]


async def test_save_keeps_the_folder_and_resume_opens_it_paused_with_its_chart(tmp_path):
    folder = tmp_path / "run"
    config = RunConfig.model_validate({**SMALL, "max_steps": 10})
    app = TrainerApp(config, save=str(folder), checkpoint_every=4)
    async with app.run_test(size=(120, 40)) as pilot:
        await panels(pilot)
        await pilot.press("s")
        await wait_for_state(pilot, app, RunState.DONE)
        summary = folder / "summary.json"
        await wait_for(pilot, lambda: summary.exists() and json.loads(summary.read_text())["state"] == "DONE", what="the final summary")
    assert checkpoint.load(folder / "checkpoint.pt")["step"] == 10
    assert steps_in(folder / "metrics.jsonl") == list(range(1, 11))

    resumed_config = RunFolder.existing(str(folder)).resumed_config({"max_steps": 24}, {})
    app = TrainerApp(resumed_config, resume=str(folder))
    async with app.run_test(size=(120, 40)) as pilot:
        await panels(pilot)
        view = app.controller.view
        await wait_for_state(pilot, app, RunState.PAUSED)
        await wait_for(pilot, lambda: view.step == 10 and len(view.train) == 10, what="the chart rebuilt from the metrics")
        assert view.snapshot.step == 10 and view.started.total_steps == 24
        await pilot.press("space")  # resume: it continues to its new total
        await wait_for_state(pilot, app, RunState.DONE)
        await wait_for(pilot, lambda: checkpoint.load(folder / "checkpoint.pt")["step"] == 24, what="the last checkpoint")
    assert steps_in(folder / "metrics.jsonl") == list(range(1, 25))
    whole = TrainerApp(RunConfig.model_validate({**SMALL, "max_steps": 24}))  # the same run, never stopped
    async with whole.run_test(size=(120, 40)) as pilot:
        await panels(pilot)
        await pilot.press("s")
        await wait_for_state(pilot, whole, RunState.DONE)
        expected = whole.controller.view.summary
    saved = json.loads((folder / "summary.json").read_text())
    assert (saved["weights"], saved["bias"]) == (expected.weights, expected.bias)


async def test_ctrl_s_asks_where_and_saves_a_finished_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    app = TrainerApp(RunConfig.model_validate(SMALL))
    async with app.run_test(size=(120, 40)) as pilot:
        await panels(pilot)
        await pilot.press("ctrl+s")
        assert notified(app, "no run to save yet") == 1
        await pilot.press("s")
        await wait_for_state(pilot, app, RunState.DONE)
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: isinstance(app.screen, SaveScreen), what="the question where")
        field = app.screen.query_one("#save-folder")
        assert field.value.startswith("runs/") and field.value.endswith("-mbgd")
        field.value = "kept/first"
        await pilot.press("enter")
        await wait_for(pilot, lambda: notified(app, "saved in kept/first") == 1, what="the save")
    folder = tmp_path / "kept" / "first"
    assert checkpoint.load(folder / "checkpoint.pt")["step"] == 24
    assert json.loads((folder / "summary.json").read_text())["state"] == "DONE"
    assert RunConfig.model_validate(checkpoint.load(folder / "checkpoint.pt")["config"]) == app.controller.view.config


def test_the_default_folder_sorts_by_time():
    assert default_folder("adam", 0).endswith("-adam") and default_folder("adam", 0).startswith("runs/19")


async def test_ctrl_s_on_a_running_run_keeps_the_folder_up_to_date_and_refuses_another_runs_folder(tmp_path):
    taken = tmp_path / "taken"
    taken.mkdir()
    (taken / "config.toml").write_text("")  # another run's folder
    app = TrainerApp(RunConfig.model_validate({"optimizer": {"algorithm": "sgd", "epochs": 100000}}), checkpoint_every=50)
    async with app.run_test(size=(120, 40)) as pilot:
        await panels(pilot)
        await pilot.press("s")
        await wait_for_state(pilot, app, RunState.RUNNING)
        for folder, answer in ((taken, "already holds a run"), (tmp_path / "mine", "saved in")):
            await pilot.press("ctrl+s")
            await wait_for(pilot, lambda: isinstance(app.screen, SaveScreen), what="the question where")
            app.screen.query_one("#save-folder").value = str(folder)
            await pilot.press("enter")
            await wait_for(pilot, lambda answer=answer: notified(app, answer) == 1, what=answer)
        first = checkpoint.load(tmp_path / "mine" / "checkpoint.pt")["step"]
        await wait_for(pilot, lambda: checkpoint.load(tmp_path / "mine" / "checkpoint.pt")["step"] > first, what="a later checkpoint")
        await pilot.press("r")
    assert (taken / "config.toml").read_text() == ""  # untouched
    lines = steps_in(tmp_path / "mine" / "metrics.jsonl")
    assert lines == list(range(lines[0], lines[-1] + 1)) and lines[0] > 1  # from the save on, every step once
